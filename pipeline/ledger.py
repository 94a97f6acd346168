"""The rejection ledger (`rejected.parquet`) and the per-file accounting that proves nothing was lost."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.publish.parquet import ParquetStream
from pipeline.records import LEDGER_SCHEMA


def count_by_file(batch: pa.RecordBatch) -> Counter[str]:
    counts: Counter[str] = Counter()
    if batch.num_rows:
        for item in pc.value_counts(batch.column("file")).to_pylist():
            counts[item["values"]] += item["counts"]
    return counts


class Ledger:
    """Streams ledger rows to Parquet and counts them per file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = ParquetStream(path, LEDGER_SCHEMA)
        self.by_file: Counter[str] = Counter()
        self.total = 0

    def write(self, rows: pa.RecordBatch) -> None:
        if not rows.num_rows:
            return
        self._writer.write(rows)
        self.total += rows.num_rows
        self.by_file.update(count_by_file(rows))

    def close(self) -> None:
        self._writer.close()


class SideTables:
    """Audit tables stages return beside their results, each streamed to <report>/<name>.parquet."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._writers: dict[str, ParquetStream] = {}

    def write(self, name: str, rows: pa.RecordBatch) -> None:
        writer = self._writers.get(name)
        if writer is None:
            writer = self._writers[name] = ParquetStream(self.folder / f"{name}.parquet", rows.schema)
        writer.write(rows)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()


class Accounting:
    """records read = records published + records rejected, overall and per input file."""

    def __init__(self) -> None:
        self.read: Counter[str] = Counter()
        self.published: Counter[str] = Counter()

    def mismatches(self, rejected: Counter[str]) -> list[str]:
        problems = []
        for file in sorted(set(self.read) | set(self.published) | set(rejected)):
            r, p, x = self.read[file], self.published[file], rejected[file]
            if r != p + x:
                problems.append(f"{file}: read {r} != published {p} + rejected {x}")
        return problems
