"""Regenerate tests/fixtures/parity/documents.jsonl: real documents with datatrove's signal values and decisions.

Needs datatrove (0.10.1) and spaCy, which the pipeline itself does not use; install them apart, e.g.

    python -m venv /tmp/dtvenv && /tmp/dtvenv/bin/pip install 'datatrove==0.10.1' spacy
    /tmp/dtvenv/bin/python benchmarks/parity/make_fixture.py --data "$PIPELINE_EVALDATA"

`--data` (or PIPELINE_EVALDATA) is a folder holding the public evaluation sets, as listed in
docs/quality-rules.md: dclm-quality-labels/majority_data.jsonl (mlfoundations/dclm),
clough-stevenson-plagiarism/*.txt (udacity/ML_SageMaker_Studies) and
article-extraction-benchmark/{ground-truth.json,output/html-text.json} (scrapinghub/article-extraction-benchmark).

Each document is first laid out as the normalize stage leaves text (lines stripped of surrounding
spaces, at most one blank line between paragraphs), so both implementations see the same characters.
Per document the fixture records datatrove's decision (pass, or the reason) for its Gopher quality,
Gopher repetition, FineWeb quality and C4 quality filters, and the signal values computed with
datatrove's own helpers (split_into_words, find_duplicates, ...). The parity test compares them with
the quality stage without needing datatrove.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.pipeline.filters.gopher_quality_filter import STOP_WORDS
from datatrove.pipeline.filters.gopher_repetition_filter import (
    find_all_duplicate,
    find_duplicates,
    find_top_duplicate,
    get_n_grams,
)
from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION, split_into_words

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "parity" / "documents.jsonl"
MAX_CHARS = 12_000  # keeps the fixture small; cut at a line boundary


def laid_out(text: str) -> str:
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if len(text) > MAX_CHARS:
        text = text[: text.rfind("\n", 0, MAX_CHARS)].strip()
    return text


def documents(data: Path) -> list[dict]:
    docs = []
    rows = [json.loads(line) for line in (data / "dclm-quality-labels" / "majority_data.jsonl").open(encoding="utf-8")]
    good = [r for r in rows if int(r["label"]) == 1][:75]
    bad = [r for r in rows if int(r["label"]) == 0][:75]
    for index, row in enumerate(good + bad):
        docs.append({"id": f"dclm-{index:03d}", "origin": f"dclm label {row['label']}", "text": row["text"]})
    clough = data / "clough-stevenson-plagiarism"
    with (clough / "file_information.csv").open(encoding="utf-8") as handle:
        names = [row["File"] for row in csv.DictReader(handle)]
    for name in sorted(names)[:50]:
        text = (clough / name).read_bytes().decode("utf-8", errors="replace")
        docs.append({"id": f"clough-{name.removesuffix('.txt')}", "origin": "clough-stevenson", "text": text})
    bench = data / "article-extraction-benchmark"
    truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    pages = json.loads((bench / "output" / "html-text.json").read_text(encoding="utf-8"))["output"]
    keys = sorted(truth)
    for key in keys[:50]:
        docs.append({"id": f"body-{key[:12]}", "origin": "article body", "text": truth[key]["articleBody"]})
    for key in keys[50:100]:
        docs.append({"id": f"page-{key[:12]}", "origin": "html-text full page", "text": pages[key]["articleBody"]})
    for doc in docs:
        doc["text"] = laid_out(doc["text"])
    return [d for d in docs if d["text"]]


def decision(filter_, text: str) -> str:
    result = filter_.filter(Document(text=text, id="x"))
    if result is True:
        return "pass"
    return result[1] if isinstance(result, tuple) else "fail"


def signals(text: str) -> dict:
    words = split_into_words(text)
    non_symbol = [w for w in words if any(ch not in PUNCTUATION_SET for ch in w)]
    lines_nonblank = [line for line in text.split("\n") if line.strip()]
    paragraphs = re.split(r"\n{2,}", text.strip())
    lines = re.split(r"\n+", text)
    para_dups, para_chars = find_duplicates(paragraphs)
    line_dups, line_chars = find_duplicates(lines)
    values = {
        "tokens": len(words),
        "words": len(non_symbol),
        "stop_words": len(set(STOP_WORDS) & set(words)),
        "alpha_words_frac": sum(any(c.isalpha() for c in w) for w in words) / max(len(words), 1),
        "dup_para_frac": para_dups / len(paragraphs),
        "dup_para_char_frac": para_chars / len(text),
        "dup_line_frac": line_dups / len(lines),
        "dup_line_char_frac": line_chars / len(text),
        "line_punct_ratio": sum(line.endswith(tuple(TERMINAL_PUNCTUATION)) for line in lines_nonblank)
        / len(lines_nonblank),
        "short_line_ratio": sum(len(line) <= 30 for line in lines_nonblank) / len(lines_nonblank),
        "char_dup_ratio": find_duplicates(lines_nonblank)[1] / len(text.replace("\n", "")),
        "list_ratio": text.count("\n") / max(len(words), 1),
    }
    for n in (2, 3, 4):
        grams = get_n_grams(words, n)
        values[f"top_{n}gram_char_frac"] = (find_top_duplicate(grams) if grams else 0) / len(text)
    for n in (5, 6, 7, 8, 9, 10):
        values[f"dup_{n}gram_char_frac"] = find_all_duplicate(words, n) / len(text)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("PIPELINE_EVALDATA"), required=False)
    args = parser.parse_args()
    if args.data is None:
        parser.error("pass --data FOLDER or set PIPELINE_EVALDATA")
    filters = {
        "gopher_quality": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "fineweb_quality": FineWebQualityFilter(),
        "c4_quality": C4QualityFilter(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as out:
        for doc in documents(args.data):
            doc["datatrove"] = {name: decision(f, doc["text"]) for name, f in filters.items()}
            doc["datatrove_signals"] = signals(doc["text"])
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
