"""Throughput of the `pii` and `clean` stages in one process (docs/s per core). Prints a table.

    python benchmarks/pii_clean.py bench/10k [--docs 2000] [--repeat 3]

pii: `process` over batches of 500. clean: `prepare` (the part the worker pool runs), `collect` and
`decide`, then `apply` (the part the main process runs), over the same batches. Each figure is the best
of `--repeat` runs, to damp the noise of a shared machine. Run it with another checkout first on
PYTHONPATH to compare versions on the same documents.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pyarrow as pa
from corpus import load_texts


def batches_of(texts: list[str], size: int = 500) -> list[pa.RecordBatch]:
    out = []
    for start in range(0, len(texts), size):
        chunk = texts[start : start + size]
        out.append(
            pa.RecordBatch.from_pydict(
                {
                    "id": [f"doc-{start + i}" for i in range(len(chunk))],
                    "text": chunk,
                    "source": ["bench"] * len(chunk),
                    "url": [""] * len(chunk),
                    "file": ["bench.jsonl"] * len(chunk),
                }
            )
        )
    return out


def time_pii(batches: list[pa.RecordBatch]) -> float:
    from pipeline.stages.pii import Pii, PiiConfig

    stage = Pii(PiiConfig())
    start = time.perf_counter()
    for batch in batches:
        stage.process(batch)
    return time.perf_counter() - start


def time_clean(batches: list[pa.RecordBatch]) -> tuple[float, float, float]:
    from pipeline.stages.clean import Clean, CleanConfig

    stage = Clean(CleanConfig())
    start = time.perf_counter()
    prepared = [stage.prepare(batch) for batch in batches]
    prepare = time.perf_counter() - start
    start = time.perf_counter()
    for batch, item in zip(batches, prepared, strict=True):
        stage.collect(batch, item)
    stage.decide()
    central = time.perf_counter() - start
    start = time.perf_counter()
    for batch in batches:
        stage.apply(batch)
    return prepare, central, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = load_texts(args.corpus, args.docs)
    batches = batches_of(texts)
    n = len(texts)
    pii = min(time_pii(batches) for _ in range(args.repeat))
    runs = [time_clean(batches) for _ in range(args.repeat)]
    prepare, central, apply = (min(run[i] for run in runs) for i in range(3))
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print(f"{n:,} documents, {megabytes:.1f} MB, best of {args.repeat}\n")
    print("| stage | part | s | docs/s per core |")
    print("|---|---|---:|---:|")
    print(f"| pii | process | {pii:.2f} | {n / pii:,.0f} |")
    print(f"| clean | prepare (pool) | {prepare:.2f} | {n / prepare:,.0f} |")
    print(f"| clean | collect + decide (main) | {central:.2f} | {n / max(central, 1e-9):,.0f} |")
    print(f"| clean | apply (main) | {apply:.2f} | {n / apply:,.0f} |")
    total = prepare + central + apply
    print(f"| clean | all | {total:.2f} | {n / total:,.0f} |")


if __name__ == "__main__":
    main()
