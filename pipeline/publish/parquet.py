"""Parquet shards whose row groups and shard boundaries depend on the data only, never on batching.

Row groups are cut where an estimate of their uncompressed size would pass the limit, counting row by
row; shards are cut between row groups. The same records therefore give the same files for any batch
size or worker count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

MAX_ROW_GROUP_ROWS = 100_000
# Per-row overhead beyond the string bytes: offsets, numeric columns, validity bits.
_ROW_OVERHEAD = 64


@dataclass(frozen=True)
class Shard:
    path: Path
    num_rows: int
    num_bytes: int  # Arrow (in-memory, uncompressed) size, as the Hub's `num_bytes` counts it


def row_sizes(batch: pa.RecordBatch) -> np.ndarray:
    sizes = np.full(batch.num_rows, _ROW_OVERHEAD, dtype=np.int64)
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            sizes += pc.fill_null(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
    return sizes


def _array_size(array: pa.Array) -> int:
    """Bytes of `array`'s values, offsets and validity bitmap, computed from its contents.

    `Array.nbytes` would count whatever buffers the array happens to share with the batch it was
    sliced from, which depends on batching; this counts what a fresh copy of the rows holds.
    """
    n = len(array)
    size = (n + 7) // 8 if array.null_count else 0
    kind = array.type
    if pa.types.is_null(kind):
        return 0
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        return size + 4 * (n + 1) + int(pc.sum(pc.binary_length(array)).as_py() or 0)
    if pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        return size + 8 * (n + 1) + int(pc.sum(pc.binary_length(array)).as_py() or 0)
    if pa.types.is_struct(kind):
        return size + sum(_array_size(child) for child in array.flatten())
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        width = 8 if pa.types.is_large_list(kind) else 4
        return size + width * (n + 1) + _array_size(array.flatten())
    if pa.types.is_boolean(kind):
        return size + (n + 7) // 8
    try:
        return size + n * kind.bit_width // 8
    except ValueError:  # not fixed-width (e.g. dictionary): its own count is the best available
        return size + array.nbytes


def arrow_size(table: pa.Table) -> int:
    return sum(_array_size(chunk) for column in table.columns for chunk in column.chunks)


class ShardWriter:
    def __init__(
        self,
        folder: Path,
        split: str,
        schema: pa.Schema,
        *,
        max_shard_bytes: int,
        max_row_group_bytes: int,
        compression: str = "zstd",
    ) -> None:
        self.folder = folder
        self.split = split
        self.schema = schema
        self.max_shard_bytes = max_shard_bytes
        self.max_row_group_bytes = max_row_group_bytes
        self.compression = None if compression == "none" else compression
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self._writer: pq.ParquetWriter | None = None
        self._shard_bytes = 0
        self._shard_rows = 0
        self._shard_nbytes = 0
        self._shards: list[Shard] = []
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.schema != self.schema:
            batch = pa.RecordBatch.from_arrays(batch.columns, schema=self.schema)
        sizes = row_sizes(batch)
        start = 0
        while start < batch.num_rows:
            # Take rows while the pending row group stays within both limits (at least one row).
            room_bytes = self.max_row_group_bytes - self._pending_bytes
            room_rows = MAX_ROW_GROUP_ROWS - self._pending_rows
            cumulative = np.cumsum(sizes[start:])
            fit = int(np.searchsorted(cumulative, room_bytes, side="right"))
            take = min(fit, room_rows, batch.num_rows - start)
            if take == 0 and self._pending_rows == 0:
                take = 1
            if take:
                self._pending.append(batch.slice(start, take))
                self._pending_rows += take
                self._pending_bytes += int(cumulative[take - 1])
                start += take
            if start < batch.num_rows:
                self._flush_row_group()

    def _flush_row_group(self) -> None:
        if not self._pending_rows:
            return
        table = pa.Table.from_batches(self._pending, schema=self.schema).combine_chunks()
        if self._writer is not None and self._shard_bytes + self._pending_bytes > self.max_shard_bytes:
            self._close_shard()
        if self._writer is None:
            path = self.folder / f".{self.split}-{len(self._shards):05d}.parquet.partial"
            self._writer = pq.ParquetWriter(
                path,
                self.schema,
                compression=self.compression,
                write_page_index=True,
                write_statistics=True,
            )
        self._writer.write_table(table, row_group_size=table.num_rows)
        self._shard_bytes += self._pending_bytes
        self._shard_rows += table.num_rows
        self._shard_nbytes += arrow_size(table)
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    def _close_shard(self) -> None:
        assert self._writer is not None
        self._writer.close()
        self._shards.append(Shard(Path(self._writer.where), self._shard_rows, self._shard_nbytes))
        self._writer = None
        self._shard_bytes = self._shard_rows = self._shard_nbytes = 0

    def close(self) -> list[Shard]:
        """Finish the last shard and give every shard its final `<split>-NNNNN-of-NNNNN` name."""
        self._flush_row_group()
        if self._writer is not None:
            self._close_shard()
        if not self._shards:
            # An empty split still gets one valid (empty) shard so the layout and the card agree.
            self._writer = pq.ParquetWriter(
                self.folder / f".{self.split}-00000.parquet.partial", self.schema, compression=self.compression
            )
            self._close_shard()
        total = len(self._shards)
        final = []
        for index, shard in enumerate(self._shards):
            target = self.folder / f"{self.split}-{index:05d}-of-{total:05d}.parquet"
            shard.path.rename(target)
            final.append(Shard(target, shard.num_rows, shard.num_bytes))
        self._shards = final
        return final
