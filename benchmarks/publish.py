"""Cost of publishing: split routing + shard writing, the card extras (plots, croissant.json with a
sha256 per shard, example rows) and `validate` (which re-hashes every shard), per split layout.

Documents are built from real sentences (lingua-py's test sentences, 75 languages, see the
evaluation-data folder's SOURCES.md; --evaldata or $PIPELINE_EVALDATA), 8 sentences each, labelled
with their language, and fed straight to DatasetWriter so only publishing is measured.

    PYTHONPATH=$PWD python benchmarks/publish.py [--docs 200000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
from datasets import Features
from evaldata import evaldata_folder

from pipeline.config import PublishConfig
from pipeline.publish.card import StageCount
from pipeline.publish.dataset import DatasetWriter, RunFacts
from pipeline.schema_loader import load_model
from pipeline.validate import validate_folder

SENTENCES = Path()  # set by main() from --evaldata or $PIPELINE_EVALDATA
BATCH = 1000
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("language", pa.string()),
        ("language_score", pa.float64()),
        ("num_chars", pa.int64()),
        ("num_words", pa.int64()),
    ]
)
LAYOUTS = {
    "train only": {"train": 1.0},
    "98/1/1": {"train": 0.98, "validation": 0.01, "test": 0.01},
    "80/10/10": {"train": 0.8, "validation": 0.1, "test": 0.1},
}


def documents(count: int) -> list[pa.RecordBatch]:
    pools = []
    for path in sorted(SENTENCES.glob("*.txt")):
        if path.stem != "LICENSE":
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            pools.append((path.stem, lines))
    batches, rows = [], []
    for i in range(count):
        language, lines = pools[i % len(pools)]
        start = (i // len(pools) * 8) % max(1, len(lines) - 8)
        text = " ".join(lines[start : start + 8]) + f" ({i})"
        rows.append(
            {
                "id": f"doc-{i:08d}",
                "text": text,
                "source": f"bench.jsonl#{i + 1}",
                "url": None,
                "language": language,
                "language_score": 0.99,
                "num_chars": len(text),
                "num_words": len(text.split()),
            }
        )
        if len(rows) == BATCH:
            batches.append(pa.RecordBatch.from_pylist(rows, schema=SCHEMA))
            rows = []
    if rows:
        batches.append(pa.RecordBatch.from_pylist(rows, schema=SCHEMA))
    return batches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--evaldata", type=Path, help="public evaluation data (default: $PIPELINE_EVALDATA)")
    args = parser.parse_args()
    global SENTENCES
    SENTENCES = evaldata_folder(args.evaldata) / "lingua-sentences"
    if not SENTENCES.is_dir():
        print(f"{SENTENCES} not found (see the evaluation-data folder's SOURCES.md)", file=sys.stderr)
        return 2
    batches = documents(args.docs)
    megabytes = sum(pa.Table.from_batches([b]).column("text").nbytes for b in batches) / 1e6
    model = load_model(None)
    print(f"{args.docs:,} documents, {megabytes:,.1f} MB of text, batches of {BATCH}")
    print(f"{'layout':<12} {'write s':>8} {'docs/s':>9} {'finish s':>9} {'validate s':>11} {'shards':>7}")
    for label, shares in LAYOUTS.items():
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "ds"
            folder.mkdir()
            config = PublishConfig(splits=shares, max_shard_bytes=50_000_000)
            writer = DatasetWriter(folder, SCHEMA, Features.from_arrow_schema(SCHEMA), {}, config)
            start = time.perf_counter()
            for batch in batches:
                writer.write(batch)
            wrote = time.perf_counter() - start
            start = time.perf_counter()
            stages = [StageCount("ingest", args.docs, args.docs, {})]
            shards = writer.finish(RunFacts("bench", stages, [], args.docs, 0, "0" * 64, {}))
            finished = time.perf_counter() - start
            start = time.perf_counter()
            report = validate_folder(folder, model)
            validated = time.perf_counter() - start
            assert report.ok, report.to_text()
            print(
                f"{label:<12} {wrote:>8.2f} {args.docs / wrote:>9,.0f} {finished:>9.2f} {validated:>11.2f} "
                f"{len(shards):>7}"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB (includes the {megabytes:,.0f} MB of input batches held for the runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
