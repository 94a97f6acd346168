"""Boilerplate removal on the article-extraction-benchmark: html-text output before and after `clean`.

    PYTHONPATH=. python benchmarks/clean.py [--data DIR]  # default: $PIPELINE_EVALDATA/article-extraction-benchmark

Each of the 181 pages' html-text output (the whole page as text, navigation included) goes through
`normalize` and `clean` as one corpus (so the frequent-line rule sees all pages). The output is scored
against the hand-labelled article body with the benchmark's own metric (scrapinghub's evaluate.py:
per-page true/false positive and false negative counts over bags of 4-token shingles, normalised per
page, precision and recall averaged over pages, F1 of the averages), and with the same metric over
single tokens (bag of words). Trafilatura's output, scored the same way, is the reference row.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
from evaldata import evaldata_folder

from pipeline.stages.clean import Clean, CleanConfig
from pipeline.stages.normalize import Normalize, NormalizeConfig

_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    if len(tokens) <= n:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_scores(truth: str, predicted: str, n: int) -> tuple[float, float, float]:
    expected, got = shingles(truth, n), shingles(predicted, n)
    tp = sum((expected & got).values())
    fp = sum(got.values()) - tp
    fn = sum(expected.values()) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def metrics(truth: dict[str, str], predicted: dict[str, str], n: int) -> tuple[float, float, float]:
    precisions, recalls = [], []
    for key, expected in truth.items():
        tp, fp, fn = page_scores(expected, predicted.get(key, ""), n)
        if tp + fp > 0:
            precisions.append(1.0 if fp == fn == 0 else tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(1.0 if fp == fn == 0 else tp / (tp + fn))
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    return p, r, 2 * p * r / (p + r)


def run_clean(pages: dict[str, str], config: CleanConfig) -> tuple[dict[str, str], Clean, float, Counter[str]]:
    keys = sorted(pages)
    batch = pa.RecordBatch.from_pydict(
        {
            "id": keys,
            "text": [pages[k] for k in keys],
            "source": keys,
            "url": [None] * len(keys),
            "file": keys,
        }
    )
    normalized = Normalize(NormalizeConfig()).process(batch).kept
    start = time.perf_counter()
    stage = Clean(config)
    stage.collect(normalized, stage.prepare(normalized))
    stage.decide()
    result = stage.apply(normalized)
    seconds = time.perf_counter() - start
    cleaned = dict(zip(result.kept.column("id").to_pylist(), result.kept.column("text").to_pylist(), strict=True))
    rules = Counter(result.side["removed_lines"].column("rule").to_pylist())
    return cleaned, stage, seconds, rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="default: $PIPELINE_EVALDATA/article-extraction-benchmark")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="clean config override")
    args = parser.parse_args()
    args.data = args.data or evaldata_folder(None) / "article-extraction-benchmark"

    truth = {k: v.get("articleBody", "") for k, v in json.loads((args.data / "ground-truth.json").read_text()).items()}
    html_text = json.loads((args.data / "output" / "html-text.json").read_text())["output"]
    trafilatura = json.loads((args.data / "output" / "trafilatura.json").read_text())
    trafilatura = trafilatura.get("output", trafilatura)
    before = {k: v.get("articleBody", "") for k, v in html_text.items()}
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    after, stage, seconds, rules = run_clean(before, CleanConfig(**overrides))

    rows = [
        ("html-text (before clean)", before),
        ("html-text -> normalize -> clean", after),
        ("trafilatura (reference)", {k: v.get("articleBody", "") for k, v in trafilatura.items()}),
    ]
    lines = sum(text.count("\n") + 1 for text in before.values())
    print(
        f"{len(truth)} pages, {lines:,} lines; clean (both passes) took {seconds:.2f} s "
        f"({lines / seconds:,.0f} lines/s); frequent-line threshold {stage.threshold} documents"
    )
    print(f"{'':34} {'shingles (benchmark metric)':^28}   {'single tokens':^28}")
    print(f"{'extractor':34} {'P':>8} {'R':>9} {'F1':>9}   {'P':>8} {'R':>9} {'F1':>9}")
    for label, predicted in rows:
        p4, r4, f4 = metrics(truth, predicted, 4)
        p1, r1, f1 = metrics(truth, predicted, 1)
        print(f"{label:34} {p4:8.3f} {r4:9.3f} {f4:9.3f}   {p1:8.3f} {r1:9.3f} {f1:9.3f}")
    print(f"pages rejected as empty_after_clean: {len(truth) - len(after)}")
    print("removed lines by rule: " + ", ".join(f"{rule}={n}" for rule, n in rules.most_common()))
    print(f"line-frequency state: {stage.bytes_per_document()} bytes per document at its peak")


if __name__ == "__main__":
    main()
