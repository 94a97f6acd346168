"""dedup_near's central memory (collect + decide in the main process) against the number of documents.

    python benchmarks/memory_dedup_near.py --docs 10000 100000 1000000

Feeds the stage synthetic pass-1 results (random band keys and 300 shingle hashes per document, one
document in 20 a copy of an earlier one, so candidates are verified) in batches of 1,000, as the
runner does, and reports tracemalloc's peak of Python and numpy allocations during collect + decide,
per document. Synthetic on purpose: the state does not depend on the text, only on the counts.
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np
import pyarrow as pa

from pipeline.stages.dedup_near import DedupNear, DedupNearConfig, Prepared

SHINGLES = 300
BATCH = 1000


def measure(docs: int) -> tuple[int, int]:
    stage = DedupNear(DedupNearConfig())
    rng = np.random.default_rng(0)
    previous: list[tuple[np.ndarray, np.ndarray]] = []
    tracemalloc.start()
    for start in range(0, docs, BATCH):
        n = min(BATCH, docs - start)
        keys = rng.integers(0, 2**63, size=(n, stage.bands), dtype=np.uint64)
        hashes = rng.integers(0, 2**63, size=(n, SHINGLES), dtype=np.uint64)
        if previous:
            # Every 20th document copies one of the previous batch: same keys, same shingles.
            old_keys, old_hashes = previous[-1]
            keys[::20], hashes[::20] = old_keys[: len(keys[::20])], old_hashes[: len(hashes[::20])]
        previous = [(keys.copy(), hashes.copy())]
        prepared = Prepared(
            keys=keys,
            hashes=hashes.ravel(),
            offsets=np.arange(0, (n + 1) * SHINGLES, SHINGLES, dtype=np.int64),
            tokens=np.full(n, SHINGLES + 4, dtype=np.int64),
            quality=None,
        )
        ids = pa.array([f"doc-{i:08d}" for i in range(start, start + n)])
        batch = pa.record_batch({"id": ids, "text": pa.array([""] * n)})
        stage.collect(batch, prepared)
        del prepared, batch
    stage.decide()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    print("| documents | held after decide (MB) | peak during collect + decide (MB) | peak bytes/document |")
    print("|---:|---:|---:|---:|")
    for docs in args.docs:
        current, peak = measure(docs)
        print(f"| {docs:,} | {current / 1e6:,.1f} | {peak / 1e6:,.1f} | {peak / docs:,.0f} |")


if __name__ == "__main__":
    main()
