"""HTML main-content extraction quality, through the same code path ingest uses (charset + trafilatura).

1. article-extraction-benchmark (scrapinghub): 181 pages with hand-labelled article bodies, scored
   like its evaluate.py: per page, token 4-gram shingles of truth vs extraction give TP/FP/FN
   normalised by their sum; precision and recall are averaged over pages, F1 is their harmonic mean.
2. trafilatura's evaluation subset: share of "with" snippets present and "without" snippets absent.

    PYTHONPATH=. python benchmarks/ingest_html.py [--evaldata DIR]  # default: $PIPELINE_EVALDATA
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from evaldata import evaldata_folder

from pipeline.config import IngestConfig
from pipeline.readers.html import web_document

VARIANTS = {
    "precision, no comments (default)": IngestConfig(html_favor="precision", html_include_comments=False),
    "balanced, no comments": IngestConfig(html_favor="balanced", html_include_comments=False),
    "recall, no comments": IngestConfig(html_favor="recall", html_include_comments=False),
    "balanced, with comments": IngestConfig(html_favor="balanced", html_include_comments=True),
    "precision, no tables": IngestConfig(html_favor="precision", html_include_tables=False),
}
_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def tp_fp_fn(truth: str, predicted: str) -> tuple[float, float, float]:
    expected, got = shingles(truth), shingles(predicted)
    tp = sum((expected & got).values())
    fp = sum((got - expected).values())
    fn = sum((expected - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def prf(scores: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    def precision(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)

    def recall(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)

    p = statistics.mean(precision(*s) for s in scores if s[0] + s[1] > 0)
    r = statistics.mean(recall(*s) for s in scores if s[0] + s[2] > 0)
    return p, r, 2 * p * r / (p + r)


def extract(html: bytes, options: IngestConfig) -> str:
    record = web_document(None, html, "text/html", options)
    return record.text or ""


def article_benchmark(root: Path, options: IngestConfig) -> tuple[float, float, float, float]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    scores = []
    start = time.perf_counter()
    for key, item in truth.items():
        html = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes())
        scores.append(tp_fp_fn(item.get("articleBody", ""), extract(html, options)))
    pages_per_second = len(truth) / (time.perf_counter() - start)
    return (*prf(scores), pages_per_second)


def reference_outputs(root: Path) -> dict[str, tuple[float, float, float]]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    results = {}
    for path in sorted((root / "output").glob("*.json")):
        output = json.loads(path.read_text(encoding="utf-8"))["output"]
        scores = [tp_fp_fn(t.get("articleBody", ""), output[k].get("articleBody", "")) for k, t in truth.items()]
        results[path.stem] = prf(scores)
    return results


def snippet_benchmark(root: Path, options: IngestConfig) -> tuple[int, float, float]:
    cases = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    with_found = with_total = without_absent = without_total = pages = 0
    for case in cases.values():
        path = root / "html" / case["file"]
        if not path.exists():
            continue  # evaldata.json lists all 990 pages; the subset holds 54 of them
        pages += 1
        text = extract(path.read_bytes(), options)
        with_total += len(case["with"])
        with_found += sum(s in text for s in case["with"])
        without_total += len(case["without"])
        without_absent += sum(s not in text for s in case["without"])
    return pages, with_found / with_total, without_absent / without_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evaldata", type=Path, help="public evaluation data (default: $PIPELINE_EVALDATA)")
    args = parser.parse_args()
    args.evaldata = evaldata_folder(args.evaldata)
    articles = args.evaldata / "article-extraction-benchmark"
    subset = args.evaldata / "trafilatura-eval-subset"

    print("article-extraction-benchmark (181 pages), 4-gram shingle P/R/F1 as in its evaluate.py\n")
    print("| extractor | precision | recall | F1 | pages/s (1 core) |")
    print("|---|---|---|---|---|")
    for name, options in VARIANTS.items():
        p, r, f1, speed = article_benchmark(articles, options)
        print(f"| trafilatura {name} | {p:.3f} | {r:.3f} | {f1:.3f} | {speed:.0f} |")
    for name, (p, r, f1) in reference_outputs(articles).items():
        print(f"| {name} (output shipped with the benchmark) | {p:.3f} | {r:.3f} | {f1:.3f} | - |")

    print("\ntrafilatura evaluation subset: snippets that must / must not appear\n")
    print("| extractor | pages | 'with' present | 'without' absent |")
    print("|---|---|---|---|")
    for name, options in VARIANTS.items():
        pages, present, absent = snippet_benchmark(subset, options)
        print(f"| trafilatura {name} | {pages} | {present:.3f} | {absent:.3f} |")


if __name__ == "__main__":
    main()
