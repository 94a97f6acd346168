"""datatrove 0.10.1's four filters on DCLM's 499 labelled texts: the reference row of docs/quality-rules.md.

    /tmp/dtvenv/bin/python benchmarks/parity/dclm_datatrove.py --data "$PIPELINE_EVALDATA"

Needs datatrove and spaCy (see make_fixture.py). Each filter sees the original text, as the quality
stage's rules do; a text passes when all four pass. Also printed: the filters chained, where C4's line
removals change the text the FineWeb filter sees.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)


def rates(passed: list[bool], labels: list[int]) -> str:
    good = sum(p for p, label in zip(passed, labels, strict=True) if label) / sum(labels)
    bad = sum(p for p, label in zip(passed, labels, strict=True) if not label) / (len(labels) - sum(labels))
    return f"good passed {good:.1%}, bad passed {bad:.1%}, balanced accuracy {(good + 1 - bad) / 2:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("PIPELINE_EVALDATA"))
    args = parser.parse_args()
    if args.data is None:
        parser.error("pass --data FOLDER or set PIPELINE_EVALDATA")
    path = args.data / "dclm-quality-labels" / "majority_data.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    labels = [int(row["label"]) for row in rows]
    filters = [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(), FineWebQualityFilter()]
    independent = [all(f.filter(Document(text=r["text"], id="x")) is True for f in filters) for r in rows]
    chained = []
    for row in rows:
        doc = Document(text=row["text"], id="x")
        chained.append(all(f.filter(doc) is True for f in filters))
    print(f"{len(rows)} texts; each filter on the original text: {rates(independent, labels)}")
    print(f"filters chained (C4 edits the text first seen by FineWeb): {rates(chained, labels)}")


if __name__ == "__main__":
    main()
