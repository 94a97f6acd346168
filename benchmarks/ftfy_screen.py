"""normalize's screen in front of ftfy: same output as ftfy.fix_text on real text, and how much faster.

    python benchmarks/ftfy_screen.py --evaldata FOLDER          # or set PIPELINE_EVALDATA

The texts, all from the public evaluation data (its SOURCES.md names every origin):
- every line of lingua-py's test sentences (75 languages, Leipzig web corpora), one text per line;
- every paragraph of DCLM's labelled web sample and of the article-extraction-benchmark bodies;
- every document of those two sources whole;
- every non-blank line of Common Crawl's 2008 ARC sample (HTTP headers and HTML of real pages; bytes
  that are not UTF-8 become U+FFFD, as a careless reader would leave them);
- and, for each of the above, a damaged copy with real mojibake: its UTF-8 bytes decoded as
  Windows-1252 (undecodable bytes kept as their Latin-1 characters) or, for every third text, as
  MacRoman, so ftfy's repair path is exercised as well as its no-change path.
For each text the stage's fixer must return exactly ftfy.fix_text(text, the stage's ftfy options);
the script exits 1 on the first difference. It prints how many texts went to ftfy and the time of
both paths (CPU seconds of this process).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import ftfy
from evaldata import ENV, evaldata_folder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline.stages.normalize import Normalize, NormalizeConfig


def real_texts(root: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted((root / "lingua-sentences").glob("*.txt")):
        texts += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    documents: list[str] = []
    with (root / "dclm-quality-labels" / "majority_data.jsonl").open(encoding="utf-8") as f:
        documents += [json.loads(line)["text"] for line in f]
    truth = json.loads((root / "article-extraction-benchmark" / "ground-truth.json").read_text(encoding="utf-8"))
    documents += [truth[key].get("articleBody") or "" for key in sorted(truth)]
    for document in documents:
        texts.append(document)
        texts += [p for p in re.split(r"\n\s*\n|\n", document) if p.strip()]
    arc = (root / "commoncrawl-2008-arc" / "small-sample-1213893279526_0.arc").read_bytes()
    texts += [line for line in arc.decode("utf-8", errors="replace").split("\n") if line.strip()]
    return texts


def damaged(text: str, number: int) -> str:
    data = text.encode("utf-8")
    if number % 3 == 2:
        return data.decode("mac_roman")
    return "".join(
        chunk.decode("windows-1252", errors="strict") if ok else chunk.decode("latin-1")
        for chunk, ok in _cp1252_chunks(data)
    )


def _cp1252_chunks(data: bytes) -> list[tuple[bytes, bool]]:
    # Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined; those bytes become C1 characters.
    out: list[tuple[bytes, bool]] = []
    start = 0
    for i, byte in enumerate(data):
        if byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D):
            out += [(data[start:i], True), (data[i : i + 1], False)]
            start = i + 1
    out.append((data[start:], True))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evaldata", type=Path, help=f"public evaluation data (default: ${ENV})")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N real texts (0 = all)")
    args = parser.parse_args()
    texts = real_texts(evaldata_folder(args.evaldata))
    if args.limit:
        texts = texts[: args.limit]
    stage = Normalize(NormalizeConfig())
    fixer = stage._fixer
    assert fixer is not None and fixer.screened
    config = fixer._config
    counts = {"texts": 0, "real": len(texts), "real_non_ascii": 0, "non_ascii": 0, "to_ftfy": 0, "changed_by_ftfy": 0}
    screen_seconds = ftfy_seconds = 0.0
    chars = 0
    for number, original in enumerate(texts):
        counts["real_non_ascii"] += not original.isascii()
        for text in (original, damaged(original, number)):
            # ASCII texts too: the stage skips them, but the screen must also agree with ftfy on them.
            counts["texts"] += 1
            counts["non_ascii"] += not text.isascii()
            chars += len(text)
            start = time.process_time()
            expected = ftfy.fix_text(text, config)
            ftfy_seconds += time.process_time() - start
            start = time.process_time()
            got = fixer.fix(text)
            screen_seconds += time.process_time() - start
            counts["to_ftfy"] += fixer.needs_ftfy(text)
            counts["changed_by_ftfy"] += expected != text
            if got != expected:
                print(f"DIFFERENT from ftfy on text {number}: {text[:200]!r}")
                raise SystemExit(1)
    counts["screen_skipped"] = counts["texts"] - counts["to_ftfy"]
    print(json.dumps(counts))
    print(f"ftfy {ftfy.__version__}: all {counts['texts']:,} texts identical ({chars / 1e6:.1f} M chars)")
    print(f"ftfy.fix_text: {ftfy_seconds:.1f} CPU s ({chars / 1e6 / ftfy_seconds:.2f} M chars/s)")
    print(f"screen + ftfy where needed: {screen_seconds:.1f} CPU s ({chars / 1e6 / screen_seconds:.2f} M chars/s)")


if __name__ == "__main__":
    main()
