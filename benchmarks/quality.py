"""How well `quality_score` ranks human quality labels: DCLM's 499 labelled web texts, ROC AUC.

    PYTHONPATH=. python benchmarks/quality.py [--data FILE]

(default FILE: $PIPELINE_EVALDATA/dclm-quality-labels/majority_data.jsonl)

Each text gets its language from the language stage's detector (so the stop-word rule applies as in a
pipeline run), then the quality stage's signals and score, twice: on the text as labelled (the quality
stage alone, as datatrove's filters are compared) and after the default `normalize` and `clean`
stages (what the quality stage sees in a pipeline run with the default stages; `clean` counts line
frequencies over the 499 texts as one corpus). Printed for each: the ROC AUC of `quality_score`
against the 0/1 labels (the probability that a random label-1 text scores above a random label-0 one,
ties counting half), the AUC of the pass/fail decision alone and of single signals for comparison, the
pass rate per label, the balanced accuracy (mean of the good texts' pass rate and the bad texts'
rejection rate), which rules rejected, and the time per document.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
from evaldata import evaldata_folder

from pipeline.stages.clean import Clean, CleanConfig
from pipeline.stages.language import detect
from pipeline.stages.normalize import Normalize, NormalizeConfig
from pipeline.stages.quality import Quality, QualityConfig
from pipeline.stages.quality.signals import compute


def roc_auc(scores: list[float], labels: list[int]) -> float:
    """Mann-Whitney form of the ROC AUC, with ties counted as one half."""
    ranked = sorted(zip(scores, labels, strict=True), key=lambda pair: pair[0])
    rank_sum, index = 0.0, 0
    while index < len(ranked):
        end = index
        while end < len(ranked) and ranked[end][0] == ranked[index][0]:
            end += 1
        mean_rank = (index + 1 + end) / 2
        rank_sum += mean_rank * sum(label for _, label in ranked[index:end])
        index = end
    positives = sum(labels)
    negatives = len(labels) - positives
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def cleaned(texts: list[str]) -> list[str]:
    """The texts after the default normalize and clean stages ("" for a text either rejects)."""
    ids = [f"t{i}" for i in range(len(texts))]
    batch = pa.RecordBatch.from_pydict(
        {"id": ids, "text": texts, "source": ids, "url": [None] * len(texts), "file": ["dclm"] * len(texts)}
    )
    batch = Normalize(NormalizeConfig()).process(batch).kept
    clean = Clean(CleanConfig())
    clean.collect(batch, clean.prepare(batch))
    clean.decide()
    kept = clean.apply(batch).kept
    out = dict(zip(kept.column("id").to_pylist(), kept.column("text").to_pylist(), strict=True))
    return [out.get(i, "") for i in ids]


def report(title: str, texts: list[str], languages: list[str | None], labels: list[int]) -> None:
    stage = Quality(QualityConfig())
    start = time.perf_counter()
    signals = [compute(text, lang) for text, lang in zip(texts, languages, strict=True)]
    results = [stage.evaluate(s, lang) for s, lang in zip(signals, languages, strict=True)]
    seconds = time.perf_counter() - start
    scores = [score for score, _ in results]
    passed = [failure is None and bool(text.strip()) for text, (_, failure) in zip(texts, results, strict=True)]
    print(f"\n== {title}")
    print(f"{'ranking by':38} {'ROC AUC':>8}")
    print(f"{'quality_score':38} {roc_auc(scores, labels):8.3f}")
    print(f"{'passes every filter (0/1)':38} {roc_auc([float(p) for p in passed], labels):8.3f}")
    for name in ("words", "line_punct_ratio", "stop_words", "alpha_words_frac"):
        values = [float(s[name] or 0) for s in signals]
        print(f"{'signal ' + name:38} {roc_auc(values, labels):8.3f}")
    rates = {}
    for label in (1, 0):
        rates[label] = sum(p for p, lab in zip(passed, labels, strict=True) if lab == label) / labels.count(label)
        print(f"pass rate of label {label}: {rates[label]:.3f}")
    print(f"balanced accuracy: {(rates[1] + 1 - rates[0]) / 2:.3f}")
    for label in (1, 0):
        reasons = Counter(
            failure[0] for (_, failure), lab in zip(results, labels, strict=True) if failure and lab == label
        )
        print(f"rejections of label {label}: " + ", ".join(f"{name}={n}" for name, n in reasons.most_common()))
    print(f"quality stage: {seconds / len(texts) * 1000:.2f} ms/document")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="default: $PIPELINE_EVALDATA/dclm-quality-labels/majority_data.jsonl")
    args = parser.parse_args()
    args.data = args.data or evaldata_folder(None) / "dclm-quality-labels" / "majority_data.jsonl"
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = [int(r["label"]) for r in rows]
    texts = [r["text"] for r in rows]
    print(f"{len(rows)} texts: {sum(labels)} labelled 1 (good), {len(labels) - sum(labels)} labelled 0")
    languages = [detect(text[:2000])[0] for text in texts]
    report("quality stage on the texts as labelled", texts, languages, labels)
    start = time.process_time()
    after_clean = cleaned(texts)
    print(f"\n(normalize + clean: {(time.process_time() - start) / len(texts) * 1000:.2f} ms CPU/document)")
    report("after the default normalize and clean stages", after_clean, languages, labels)


if __name__ == "__main__":
    main()
