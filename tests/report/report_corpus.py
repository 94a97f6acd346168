"""A corpus where every rejecting stage rejects something (the report tests' and benchmarks/report.py's).

Built from the repository's own sample pages (raw/), so it needs no download.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from helpers import REPO, write

# Words of the repository's sample pages (raw/, public web text): enough real English for the language
# detector, and random sentences of them pass the quality rules.
_WORDS = sorted(
    {w for p in sorted((REPO / "raw").glob("*.txt")) for w in re.findall(r"[a-z]{3,}", p.read_text().lower())}
)
_STOP = ["the", "and", "of", "to", "in", "that", "with", "for", "was", "is"]
_GERMAN = (
    "Der Ausschuss hat am Montag die neuen Pläne für die Bibliothek besprochen und dabei viele Fragen der "
    "Bürger beantwortet, die sich über die Kosten und den Zeitplan Sorgen machen. "
)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) if i % 3 else rng.choice(_STOP) for i in range(rng.randint(9, 16))]
    return " ".join(words).capitalize() + "."


def _document(rng: random.Random, paragraphs: int) -> str:
    return "\n\n".join(" ".join(_sentence(rng) for _ in range(rng.randint(2, 4))) for _ in range(paragraphs))


def busy_corpus(folder: Path, documents: int = 2400) -> Path:
    """`documents` good English documents plus records that each rejecting stage removes."""
    rng = random.Random(17)
    rows: list[dict[str, str]] = []
    good = [_document(rng, rng.randint(3, 7)) for _ in range(documents)]
    rows += [{"id": f"good-{i:05d}", "text": t} for i, t in enumerate(good)]
    # dedup_exact: copies differing only in case and spacing.
    rows += [{"id": f"copy-{i:03d}", "text": "  " + good[i].upper()} for i in range(0, 300, 3)]
    # dedup_near: a few words replaced in a long document.
    for i in range(300, 380):
        words = good[i].split(" ")
        if len(words) < 120:
            words = (good[i] + "\n\n" + good[i + 1000]).split(" ")
            rows[i]["text"] = " ".join(words)
        for position in (len(words) // 3, 2 * len(words) // 3):
            words[position] = "zebra"
        rows.append({"id": f"near-{i:03d}", "text": " ".join(words)})
    rows += [{"id": f"german-{i:02d}", "text": _GERMAN * 3 + f"Nummer {i}."} for i in range(30)]
    rows += [{"id": f"short-{i:02d}", "text": _sentence(rng)} for i in range(40)]
    rows += [{"id": f"lorem-{i:02d}", "text": _document(rng, 4).replace(".", " lorem ipsum.", 1)} for i in range(20)]
    # normalize: nothing but control characters (distinct, so dedup_exact does not take them first).
    rows += [{"id": f"blank-{i:02d}", "text": "\x07" * (i + 1)} for i in range(10)]
    furniture = "Leave a Reply\n\nWe use cookies to improve your experience. Accept all cookies\n\nShare on Facebook"
    rows += [{"id": f"furniture-{i:02d}", "text": furniture} for i in range(10)]
    # validate: the strict schema below caps num_words at 1500.
    rows += [{"id": f"long-{i:02d}", "text": _document(rng, 40)} for i in range(10)]
    # Hostile text: markup, a right-to-left override, a very long line (all must be shown escaped).
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> \u202eevil\u202c '
    rows += [{"id": f"hostile-{i}", "text": hostile + "#" * 60 + " " + _document(rng, 3)} for i in range(5)]
    rows += [{"id": "hugeline", "text": "word " * 20_000}]
    rng.shuffle(rows)
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    lines[7:7] = ['{"text": "this line is cut off', '{"id": 5, "text": ']  # ingest: malformed records
    write(folder / "docs.jsonl", "\n".join(lines) + "\n")
    write(folder / "nothing.txt", "")
    return folder


def strict_schema(folder: Path) -> Path:
    schema = folder / "strict.py"
    schema.write_text(
        (REPO / "schemas" / "published.py")
        .read_text()
        .replace("num_words: Series[int] = pa.Field(ge=0,", "num_words: Series[int] = pa.Field(ge=0, le=1500,")
        .replace("class PublishedRecord(", "class StrictRecord(")
    )
    return schema
