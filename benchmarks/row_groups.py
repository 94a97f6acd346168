"""What the row-group limit (`publish.max_row_group_bytes`) costs a published dataset. Prints a table.

    python benchmarks/row_groups.py DATASET [--limits 100,32,16,8]

DATASET is a folder published by `python -m pipeline` (for instance the 1 M-document run of
docs/benchmarks/throughput.md's memory section). Its records are written again through the
pipeline's own shard writer with each limit (MB), and for each the table gives the number of row
groups, the size of the files, and the seconds to write them and to read them back whole with pyarrow
(CPU seconds of this process, so other load on the machine does not count).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.parquet_read import open_parquet, read_batches
from pipeline.publish.parquet import ShardWriter

BATCH = 1000


def rewrite(files: list[Path], folder: Path, limit: int) -> tuple[int, int, float, float]:
    schema = pq.read_schema(files[0])
    writer = ShardWriter(folder, "train", schema, max_shard_bytes=500_000_000, max_row_group_bytes=limit)
    start = time.process_time()
    for path in files:
        for batch in read_batches(open_parquet(path), BATCH):
            writer.write(batch)
    shards = writer.close()
    written = time.process_time() - start
    start = time.process_time()
    for shard in shards:
        pq.read_table(shard.path, use_threads=False)
    read = time.process_time() - start
    groups = sum(pq.ParquetFile(s.path).metadata.num_row_groups for s in shards)
    return groups, sum(s.path.stat().st_size for s in shards), written, read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limits", default="100,32,16,8", help="row-group limits to try, in MB")
    args = parser.parse_args()
    files = sorted((args.dataset / "data").glob("*.parquet"))
    if not files:
        raise SystemExit(f"{args.dataset}: no data/*.parquet; give a folder published by `python -m pipeline`")
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    print(f"{rows:,} records from {args.dataset.name}\n")
    print("| row-group limit | row groups | file size (MB) | vs largest limit | write CPU s | read CPU s |")
    print("|---:|---:|---:|---:|---:|---:|")
    first = 0
    for limit_mb in (int(x) for x in args.limits.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            groups, size, written, read = rewrite(files, Path(tmp), limit_mb * 1_000_000)
        first = first or size
        print(
            f"| {limit_mb} MB | {groups} | {size / 1e6:,.1f} | {100 * (size - first) / first:+.1f} % "
            f"| {written:.2f} | {read:.2f} |"
        )


if __name__ == "__main__":
    main()
