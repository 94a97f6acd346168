"""Cost of the run report (report.html) for a large run: time, peak memory and page size.

A real run over the report tests' corpus (a few thousand documents where every rejecting stage rejects
something: tests/report/conftest.py, built from the repository's own sample pages) is replicated with
fresh ids until the run read about `--docs` documents: its published shards, its ledger and its
removed-lines table are copied `k` times and run.json's counts multiplied by `k`. The report is then
built in a fresh process, which reports its own peak RSS.

    PYTHONPATH=$PWD python benchmarks/report.py [--docs 1000000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "report")]

_MEASURE = """
import resource, sys, time
from pathlib import Path
from pipeline.report.html import write_report
start = time.perf_counter()
path = write_report(Path(sys.argv[1]), Path(sys.argv[2]))
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, path.stat().st_size)
"""


def base_run(folder: Path) -> tuple[Path, Path]:
    from helpers import make_config
    from report_corpus import busy_corpus, strict_schema  # the report tests' corpus

    from pipeline.execution.runner import Runner

    busy_corpus(folder / "input")
    schema = strict_schema(folder)
    overrides = [f'validate.schema_file="{schema}"', 'validate.model="StrictRecord"', "run.keep_work=false"]
    result = Runner(make_config(folder / "input", folder / "dist", "busy", overrides)).run()
    return result.report, result.dataset


def _suffixed(table: pa.Table, copy: int, columns: tuple[str, ...]) -> pa.Table:
    for name in columns:
        if name in table.column_names:
            index = table.column_names.index(name)
            column = pc.binary_join_element_wise(table.column(name), pa.scalar(f"-r{copy}"), "")
            table = table.set_column(index, table.schema.field(name), column)
    return table


def _replicate(source: Path, target: Path, copies: int, columns: tuple[str, ...]) -> None:
    """`copies` copies of one Parquet file, ids made unique, written row group by row group."""
    table = pq.read_table(source)
    with pq.ParquetWriter(target, table.schema, compression="zstd") as writer:
        for copy in range(copies):
            writer.write_table(_suffixed(table, copy, columns), row_group_size=100_000)


def scale(report: Path, dataset: Path, out: Path, copies: int) -> tuple[Path, Path]:
    big_report, big_dataset = out / "big.report", out / "big"
    shutil.rmtree(out, ignore_errors=True)
    (big_dataset / "data").mkdir(parents=True)
    big_report.mkdir()
    for shard in sorted((dataset / "data").glob("*.parquet")):
        _replicate(shard, big_dataset / "data" / shard.name, copies, ("id",))
    shutil.copytree(dataset / "images", big_dataset / "images")
    _replicate(report / "rejected.parquet", big_report / "rejected.parquet", copies, ("id", "duplicate_of"))
    _replicate(report / "removed_lines.parquet", big_report / "removed_lines.parquet", copies, ("id",))
    run = json.loads((report / "run.json").read_text())
    run["records"] = {key: value * copies for key, value in run["records"].items()}
    for stage in run["stages"]:
        for key in ("records_in", "records_out"):
            stage[key] *= copies
        stage["rejected"] = {reason: n * copies for reason, n in stage["rejected"].items()}
    (big_report / "run.json").write_text(json.dumps(run, indent=2))
    return big_report, big_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents read by the scaled run")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed after)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="report-bench-"))
    try:
        start = time.perf_counter()
        report, dataset = base_run(work / "base")
        read = json.loads((report / "run.json").read_text())["records"]["read"]
        copies = math.ceil(args.docs / read)
        print(f"base run: {read:,} documents read ({time.perf_counter() - start:.1f} s); replicating x{copies}")
        start = time.perf_counter()
        big_report, big_dataset = scale(report, dataset, work / "scaled", copies)
        records = json.loads((big_report / "run.json").read_text())["records"]
        removed = pq.ParquetFile(big_report / "removed_lines.parquet").metadata.num_rows
        size = sum(p.stat().st_size for p in big_dataset.rglob("*.parquet"))
        print(
            f"scaled run: read {records['read']:,}, published {records['published']:,}, rejected "
            f"{records['rejected']:,}, removed lines {removed:,}; {size / 1e6:,.0f} MB of published Parquet "
            f"({time.perf_counter() - start:.1f} s to write)"
        )
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(big_report), str(big_dataset)],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, peak_kb, html_bytes = done.stdout.split()
        print(
            f"report.html: {float(seconds):.1f} s, peak RSS {int(peak_kb) / 1024:,.0f} MB, "
            f"{int(html_bytes) / 1e6:.2f} MB"
        )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
