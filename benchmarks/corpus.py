"""A deterministic, realistic benchmark corpus built from real paragraphs of public evaluation data.

    export PIPELINE_EVALDATA=/path/to/evaldata      # or pass --evaldata; see benchmarks/evaldata.py
    python benchmarks/corpus.py --docs 10000 --out /tmp/bench/10k            # JSONL shards and .txt
    python benchmarks/corpus.py --docs 1000000 --out /tmp/bench/1m --formats jsonl

English documents are 1-10 KB (about 5 KB on average) of paragraphs drawn from web text (DCLM's
labelled sample), news articles (article-extraction-benchmark ground truth) and student answers
(Clough & Stevenson). About 10 % are in another language (paragraphs of lingua-py's test
sentences). Planted: exact duplicates (~3 %, some with changed case or spacing), near duplicates
(~3 %: a word in ~5 % of positions replaced, or a paragraph dropped), and bad records (~0.5 %: empty
text, whitespace only, a line that is not JSON, a record without a text field, a
binary-junk document). The same --docs and --seed always give the same bytes.

Output: <out>/jsonl/part-NNNNN.jsonl (10,000 records per shard) and <out>/txt/NNNNN/<id>.txt
(1,000 files per folder; the bad JSONL-only records are skipped there), plus <out>/manifest.json
with what was planted.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter, deque
from pathlib import Path

from evaldata import ENV, evaldata_folder

OTHER_LANGUAGES = [
    "de",
    "fr",
    "es",
    "it",
    "nl",
    "pt",
    "ru",
    "pl",
    "sv",
    "fi",
    "tr",
    "ar",
    "zh",
    "ja",
    "ko",
    "cs",
    "hu",
    "ro",
    "el",
    "uk",
]
RECORDS_PER_SHARD = 10_000
FILES_PER_FOLDER = 1_000
# Control characters only: a "document" of binary junk that normalisation empties.
_CONTROL_CODES = [c for c in range(0x01, 0xA0) if c < 0x09 or 0x0E <= c < 0x20 or c >= 0x7F]
RECENT = 2_000  # Duplicates copy one of the last RECENT documents: memory stays flat at 1 M docs.


def english_paragraphs(root: Path) -> list[str]:
    paragraphs: list[str] = []
    with (root / "dclm-quality-labels" / "majority_data.jsonl").open(encoding="utf-8") as f:
        for line in f:
            paragraphs += re.split(r"\n\s*\n|\n", json.loads(line)["text"])
    truth = json.loads((root / "article-extraction-benchmark" / "ground-truth.json").read_text(encoding="utf-8"))
    for key in sorted(truth):
        paragraphs += re.split(r"\n\s*\n|\n", truth[key].get("articleBody") or "")
    for path in sorted((root / "clough-stevenson-plagiarism").glob("*.txt")):
        paragraphs += re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace"))
    cleaned = [" ".join(p.split()) for p in paragraphs]
    # Keep paragraphs with sentences in them, drop menu lines and one-word headings.
    return sorted({p for p in cleaned if len(p) >= 120 and len(p.split()) >= 20})


def foreign_paragraphs(root: Path) -> dict[str, list[str]]:
    by_language = {}
    for code in OTHER_LANGUAGES:
        sentences = (root / "lingua-sentences" / f"{code}.txt").read_text(encoding="utf-8").splitlines()
        joiner = "" if code in ("zh", "ja") else " "
        by_language[code] = [joiner.join(sentences[i : i + 5]) for i in range(0, len(sentences) - 4, 5)]
    return by_language


class Generator:
    def __init__(self, root: Path, seed: int, scale: float = 1.0) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.english = english_paragraphs(root)
        self.foreign = foreign_paragraphs(root)
        self.recent: deque[str] = deque(maxlen=RECENT)
        self.planted: Counter[str] = Counter()

    def _compose(self, paragraphs: list[str], target: int) -> str:
        chosen: list[str] = []
        size = 0
        while size < target:
            paragraph = self.rng.choice(paragraphs)
            chosen.append(paragraph)
            size += len(paragraph) + 2
        return "\n\n".join(chosen)

    def _near_copy(self, text: str) -> str:
        paragraphs = text.split("\n\n")
        if len(paragraphs) > 3 and self.rng.random() < 0.5:
            del paragraphs[self.rng.randrange(len(paragraphs))]
            return "\n\n".join(paragraphs)
        words = text.split(" ")
        for _ in range(max(1, len(words) // 20)):
            words[self.rng.randrange(len(words))] = self.rng.choice(["the", "a", "new", "data", "report", "local"])
        return " ".join(words)

    def record(self, number: int) -> tuple[str, dict[str, object] | str]:
        """(kind, the JSON record, or the raw line for a line that is not JSON)."""
        rid = f"doc-{number:08d}"
        roll = self.rng.random()
        if roll < 0.005:
            kind = self.rng.choice(["empty", "whitespace", "not_json", "no_text", "junk"])
            self.planted[f"bad_{kind}"] += 1
            if kind == "not_json":
                return kind, '{"id": "' + rid + '", "text": "an unterminated record'
            if kind == "no_text":
                return kind, {"id": rid, "body": "this record has no text field"}
            junk = "".join(chr(self.rng.choice(_CONTROL_CODES)) for _ in range(300))
            text = {"empty": "", "whitespace": " \n\t \n", "junk": junk}[kind]
            return kind, {"id": rid, "text": text}
        if roll < 0.035 and self.recent:
            text = self.rng.choice(self.recent)
            if self.rng.random() < 0.5:
                text = "  " + text.upper() if self.rng.random() < 0.5 else text.replace("\n\n", "\n\n\n")
            self.planted["exact_duplicate"] += 1
            return "exact_duplicate", {"id": rid, "text": text, "url": f"https://example.org/{number}"}
        if roll < 0.065 and self.recent:
            self.planted["near_duplicate"] += 1
            text = self._near_copy(self.rng.choice(self.recent))
            return "near_duplicate", {"id": rid, "text": text, "url": f"https://example.org/{number}"}
        target = int(self.rng.triangular(1_000, 10_000, 4_000) * self.scale)
        if roll < 0.165:
            language = self.rng.choice(OTHER_LANGUAGES)
            text = self._compose(self.foreign[language], target)
            self.planted[f"language_{language}"] += 1
            kind = "foreign"
        else:
            text = self._compose(self.english, target)
            self.planted["english"] += 1
            kind = "english"
        self.recent.append(text)
        return kind, {"id": rid, "text": text, "url": f"https://example.org/{number}"}


def generate(
    out: Path, docs: int, seed: int, formats: list[str], evaldata: Path, scale: float = 1.0
) -> dict[str, object]:
    generator = Generator(evaldata, seed, scale)
    out.mkdir(parents=True, exist_ok=True)
    jsonl_file = None
    total_bytes = 0
    for number in range(docs):
        _kind, record = generator.record(number)
        if "jsonl" in formats:
            if number % RECORDS_PER_SHARD == 0:
                if jsonl_file is not None:
                    jsonl_file.close()
                (out / "jsonl").mkdir(exist_ok=True)
                jsonl_file = (out / "jsonl" / f"part-{number // RECORDS_PER_SHARD:05d}.jsonl").open(
                    "w", encoding="utf-8"
                )
            line = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)
            jsonl_file.write(line + "\n")
            total_bytes += len(line.encode("utf-8")) + 1
        if "txt" in formats and isinstance(record, dict) and "text" in record:
            folder = out / "txt" / f"{number // FILES_PER_FOLDER:05d}"
            if number % FILES_PER_FOLDER == 0:
                folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{record['id']}.txt").write_text(str(record["text"]), encoding="utf-8")
    if jsonl_file is not None:
        jsonl_file.close()
    manifest = {
        "docs": docs,
        "seed": seed,
        "scale": scale,
        "jsonl_bytes": total_bytes,
        "planted": dict(sorted(generator.planted.items())),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def load_texts(corpus: Path, limit: int) -> list[str]:
    """The first `limit` non-empty texts of a generated corpus's JSONL shards (bad lines skipped)."""
    texts: list[str] = []
    for path in sorted((corpus / "jsonl").glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record.get("text"), str) and record["text"].strip():
                    texts.append(record["text"])
                if len(texts) >= limit:
                    return texts
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, required=True, help="number of documents, e.g. 10000, 100000, 1000000")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default="jsonl,txt", help="comma-separated: jsonl, txt")
    parser.add_argument("--evaldata", type=Path, help=f"public evaluation data (default: ${ENV})")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="document size factor (0.1: ~500-byte documents, for memory runs)"
    )
    args = parser.parse_args()
    evaldata = evaldata_folder(args.evaldata)
    manifest = generate(args.out, args.docs, args.seed, args.formats.split(","), evaldata, args.scale)
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
