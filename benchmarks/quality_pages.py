"""Whole pipeline on real pages: what the default stages publish, reject and point at.

    PYTHONPATH=. python benchmarks/quality_pages.py --data "$PIPELINE_EVALDATA"

`--data` (or PIPELINE_EVALDATA) is a folder with article-extraction-benchmark/ (ground-truth.json and
output/html-text.json of scrapinghub/article-extraction-benchmark) and clough-stevenson-plagiarism/
(the Clough–Stevenson corpus as in udacity/ML_SageMaker_Studies); docs/quality-rules.md says where to
get them.

1. Article pages: the 181 pages' html-text output (the whole page as text, navigation included) run
   through the default config's stages as one JSONL input. Published text is scored against the
   hand-labelled article body with the benchmark's metric (bags of 4-token shingles, precision and
   recall per page averaged over pages, F1 of the averages). A rejected page scores 0 precision and 0
   recall. Printed: the scores over all pages and over published pages, and the rejections by reason;
   then the same for the hand-labelled bodies themselves run through the same stages (what a perfect
   extractor would score: a ceiling for the full pages, since a body the quality rules reject scores 0).
2. Duplicates: the Clough–Stevenson answers (five originals and 95 answers copied, edited or written
   independently from them), the 181 hand-labelled article bodies and the 181 full pages (the same
   articles again, with their page furniture: near-duplicates of the bodies once `clean` has run),
   through the same stages; every ledger row with a `duplicate_of` must name a published id.
   Printed: the exact and near duplicates and how many name an id that is not published (0 is right).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clean import page_scores

from pipeline.config import load_config
from pipeline.execution.runner import Runner

REPO = Path(__file__).resolve().parent.parent


def run(records: list[dict], folder: Path, sets: list[str]) -> tuple[dict[str, str], list[dict], float]:
    (folder / "in").mkdir(parents=True)
    with (folder / "in" / "pages.jsonl").open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    config = load_config(
        REPO / "pipeline.toml",
        [f'run.input="{folder / "in"}"', f'run.output="{folder / "out"}"', 'run.name="ds"', *sets],
    )
    start = time.perf_counter()
    result = Runner(config).run()
    seconds = time.perf_counter() - start
    published = pq.read_table(sorted((result.dataset / "data").glob("*.parquet")), columns=["id", "text"])
    texts = dict(zip(published.column("id").to_pylist(), published.column("text").to_pylist(), strict=True))
    ledger = pq.read_table(result.report / "rejected.parquet").to_pylist()
    return texts, ledger, seconds


def scores(truth: dict[str, str], predicted: dict[str, str], keys: list[str]) -> tuple[float, float, float]:
    precisions, recalls = [], []
    for key in keys:
        if key not in predicted:
            precisions.append(0.0)
            recalls.append(0.0)
            continue
        tp, fp, fn = page_scores(truth[key], predicted[key], 4)
        precisions.append(1.0 if fp == fn == 0 else tp / (tp + fp) if tp + fp else 0.0)
        recalls.append(1.0 if fp == fn == 0 else tp / (tp + fn) if tp + fn else 0.0)
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("PIPELINE_EVALDATA"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    args = parser.parse_args()
    if args.data is None:
        parser.error("pass --data FOLDER or set PIPELINE_EVALDATA")
    bench = args.data / "article-extraction-benchmark"
    truth = {k: v.get("articleBody", "") for k, v in json.loads((bench / "ground-truth.json").read_text()).items()}
    pages = json.loads((bench / "output" / "html-text.json").read_text())["output"]
    records = [{"id": key, "text": pages[key].get("articleBody", "")} for key in sorted(truth)]

    with tempfile.TemporaryDirectory() as tmp:
        published, ledger, seconds = run(records, Path(tmp) / "pages", args.set)
    keys = sorted(truth)
    p, r, f = scores(truth, published, keys)
    pp, pr, pf = scores(truth, published, [k for k in keys if k in published])
    print(
        f"article pages: {len(keys)} html-text pages, {len(published)} published, {len(keys) - len(published)} rejected"
    )
    print(f"{'':28} {'P':>7} {'R':>7} {'F1':>7}")
    print(f"{'all pages (rejected = 0)':28} {p:7.3f} {r:7.3f} {f:7.3f}")
    print(f"{'published pages':28} {pp:7.3f} {pr:7.3f} {pf:7.3f}")
    reasons = Counter(f"{row['stage']}:{row['reason']}" for row in ledger)
    print("rejected: " + ", ".join(f"{reason}={n}" for reason, n in reasons.most_common()))
    print(f"pipeline seconds: {seconds:.1f}")

    # The ceiling: a perfect extractor's output (the labelled bodies) through the same stages. A body the
    # quality rules reject scores 0 here too, so no clean can take the pages above this recall.
    ceiling = [{"id": key, "text": truth[key]} for key in keys]
    with tempfile.TemporaryDirectory() as tmp:
        published, ledger, _ = run(ceiling, Path(tmp) / "bodies", args.set)
    p, r, f = scores(truth, published, keys)
    print(f"{'labelled bodies (ceiling)':28} {p:7.3f} {r:7.3f} {f:7.3f}")
    reasons = Counter(f"{row['stage']}:{row['reason']}" for row in ledger)
    print(
        f"labelled bodies: {len(published)} published, {len(keys) - len(published)} rejected: "
        + ", ".join(f"{reason}={n}" for reason, n in reasons.most_common())
    )

    clough = args.data / "clough-stevenson-plagiarism"
    answers = [
        {"id": f"clough-{path.stem}", "text": path.read_bytes().decode("utf-8", errors="replace")}
        for path in sorted(clough.glob("*.txt"))
    ]
    bodies = [{"id": f"body-{key}", "text": truth[key]} for key in sorted(truth)]
    with tempfile.TemporaryDirectory() as tmp:
        published, ledger, _ = run(answers + bodies + records, Path(tmp) / "dups", args.set)
    pointers = [row for row in ledger if row["duplicate_of"] is not None]
    dangling = [row for row in pointers if row["duplicate_of"] not in published]
    kinds = Counter(row["reason"] for row in pointers)
    rechosen = sum("rejected by a later stage" in row["detail"] for row in pointers)
    print(
        f"duplicates ({len(answers)} Clough–Stevenson answers + {len(bodies)} article bodies + {len(records)} pages): "
        + ", ".join(f"{k}={n}" for k, n in sorted(kinds.items()))
        + f"; re-chosen after a later stage rejected the first choice: {rechosen}"
        + f"; duplicate_of naming an unpublished id: {len(dangling)}"
    )


if __name__ == "__main__":
    main()
