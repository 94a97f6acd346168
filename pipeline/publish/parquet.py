"""Parquet files whose row groups and shard boundaries depend on the data only, never on batching.

Row groups are cut where an estimate of their uncompressed size would pass the limit, counting row by
row; shards are cut between row groups. The same records therefore give the same files for any batch
size or worker count.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

MAX_ROW_GROUP_ROWS = 100_000
_RESERVE_BYTES = 256 << 20
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


def arrow_bytes(array: pa.Array) -> int:
    """Arrow size of `array` as if freshly built: independent of how it was sliced or chunked."""
    n = len(array)
    size = (n + 7) // 8 if array.null_count else 0
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        size += 4 * (n + 1) + (pc.sum(pc.binary_length(array)).as_py() or 0)
    elif pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        size += 8 * (n + 1) + (pc.sum(pc.binary_length(array)).as_py() or 0)
    elif pa.types.is_struct(kind):
        size += sum(arrow_bytes(child) for child in array.flatten())
    elif pa.types.is_list(kind):
        size += 4 * (n + 1) + arrow_bytes(array.flatten())
    elif pa.types.is_large_list(kind):
        size += 8 * (n + 1) + arrow_bytes(array.flatten())
    elif pa.types.is_boolean(kind):
        size += (n + 7) // 8
    else:
        size += n * kind.bit_width // 8
    return size


class _Bytes:
    """A byte buffer reserved ahead (see `_reserve`), appended to, grown by doubling if ever too small."""

    def __init__(self, capacity: int) -> None:
        self._data = _reserve(capacity)
        self.used = 0

    def append(self, buffer: pa.Buffer, offset: int, size: int) -> None:
        if self.used + size > len(self._data):  # past the reservation (a row over the limit): rarely
            grown = _reserve(max(2 * len(self._data), self.used + size))
            grown[: self.used] = self._data[: self.used]
            self._data = grown
        if size:
            self._data[self.used : self.used + size] = np.frombuffer(buffer, np.uint8, size, offset)
        self.used += size

    def buffer(self) -> pa.Buffer:
        return pa.py_buffer(self._data[: self.used])


class _Validity:
    """The validity of the rows gathered so far: a bitmap for Arrow, or none when no row is null."""

    def __init__(self) -> None:
        self._valid: list[np.ndarray] = []
        self.nulls = 0

    def add(self, array: pa.Array) -> None:
        self.nulls += array.null_count
        if array.null_count:
            self._valid.append(pc.is_valid(array).to_numpy(zero_copy_only=False))
        else:
            self._valid.append(np.ones(len(array), bool))

    def bitmap(self) -> pa.Buffer | None:
        return pa.array(np.concatenate(self._valid), pa.bool_()).buffers()[1] if self.nulls else None


class _StringColumn:
    """A string column of the row group being gathered, copied into one buffer as its rows arrive.

    Keeping the batches' slices until the row group is complete and then concatenating them (so that the
    bytes written do not depend on batching) held a row group about twice, plus the rest of each batch a
    slice kept alive. Copying each slice's bytes into one buffer as it arrives holds it once: the buffer
    is reserved at the row-group limit and only the pages written to are resident.
    """

    def __init__(self, capacity: int) -> None:
        self._data = _Bytes(capacity)
        self._ends: list[np.ndarray] = []
        self._validity = _Validity()

    def add(self, array: pa.Array) -> None:
        _, offsets_buffer, data_buffer = array.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=len(array) + 1, offset=array.offset * 4)
        first, last = int(offsets[0]), int(offsets[-1])
        self._ends.append(offsets[1:].astype(np.int64) - first + self._data.used)
        self._data.append(data_buffer, first, last - first)
        self._validity.add(array)

    def finish(self, kind: pa.DataType) -> pa.Array:
        ends = np.concatenate([np.zeros(1, np.int64), *self._ends])
        if self._data.used >= 2**31 - 1:  # too large for 32-bit offsets: let Arrow say so, as concatenation did
            raise pa.ArrowInvalid(f"a row group's string column holds {self._data.used:,} bytes, over 2 GiB")
        buffers = [self._validity.bitmap(), pa.py_buffer(ends.astype(np.int32)), self._data.buffer()]
        return pa.Array.from_buffers(kind, len(ends) - 1, buffers, self._validity.nulls)


class _FixedColumn:
    """A fixed-width column (numbers, timestamps) of the row group being gathered, copied into one buffer
    reserved for the most rows a row group may hold."""

    def __init__(self, kind: pa.DataType, capacity: int) -> None:
        self._width = kind.bit_width // 8
        self._data = _Bytes(capacity * self._width)
        self._rows = 0
        self._validity = _Validity()

    def add(self, array: pa.Array) -> None:
        _, data_buffer = array.buffers()
        self._data.append(data_buffer, array.offset * self._width, len(array) * self._width)
        self._rows += len(array)
        self._validity.add(array)

    def finish(self, kind: pa.DataType) -> pa.Array:
        buffers = [self._validity.bitmap(), self._data.buffer()]
        return pa.Array.from_buffers(kind, self._rows, buffers, self._validity.nulls)


class _StructColumn:
    """A struct column gathered field by field (each field gathered as its own kind of column)."""

    def __init__(self, kind: pa.StructType, capacity_bytes: int, capacity_rows: int) -> None:
        self._fields = [_gatherer(f.type, capacity_bytes, capacity_rows) for f in kind]
        self._rows = 0
        self._validity = _Validity()

    def add(self, array: pa.Array) -> None:
        for index, gathered in enumerate(self._fields):
            _add(gathered, array.field(index))  # the field as sliced with the struct
        self._rows += len(array)
        self._validity.add(array)

    def finish(self, kind: pa.DataType) -> pa.Array:
        children = [_finish(gathered, f.type) for gathered, f in zip(self._fields, kind, strict=True)]
        return pa.Array.from_buffers(
            kind, self._rows, [self._validity.bitmap()], self._validity.nulls, children=children
        )


_Gathered = _StringColumn | _FixedColumn | _StructColumn | list[pa.Array]


def _gatherer(kind: pa.DataType, capacity_bytes: int, capacity_rows: int) -> _Gathered:
    if pa.types.is_string(kind):
        return _StringColumn(capacity_bytes)
    if pa.types.is_struct(kind):
        return _StructColumn(kind, capacity_bytes, capacity_rows)
    if pa.types.is_primitive(kind) and not pa.types.is_boolean(kind) and kind.bit_width % 8 == 0:
        return _FixedColumn(kind, capacity_rows)
    return []  # other kinds (lists, booleans, ...): compact copies of the slices, concatenated at the end


def _add(gathered: _Gathered, array: pa.Array) -> None:
    if isinstance(gathered, list):
        gathered.append(pa.concat_arrays([array]))  # a copy, not a view of the batch
    else:
        gathered.add(array)


def _finish(gathered: _Gathered, kind: pa.DataType) -> pa.Array:
    if isinstance(gathered, list):
        return pa.concat_arrays(gathered) if gathered else pa.array([], kind)
    return gathered.finish(kind)


def _reserve(size: int) -> np.ndarray:
    """`size` bytes of address space, resident only where written: an anonymous mapping of its own, freed
    when the last array over it is. (numpy asks for transparent huge pages for its large arrays, which
    made every gathered column resident 2 MB at a time: 108 MB of huge pages for 42 MB of text.)"""
    return np.frombuffer(mmap.mmap(-1, max(size, 1)), dtype=np.uint8)


class RowGroupStream:
    """Streams batches into deterministic row groups; calls `emit(table, estimate)` for each one.

    A row group is gathered as it arrives: string, fixed-width and struct columns are copied into one
    buffer each (per struct field), other columns as compact copies of their slices, so no batch is
    kept alive by a slice of it and the row group is not held twice. The table emitted has one chunk
    per column, so its bytes do not depend on batching.
    """

    def __init__(self, schema: pa.Schema, max_row_group_bytes: int, emit: Callable[[pa.Table, int], None]) -> None:
        self.schema = schema
        self.max_row_group_bytes = max_row_group_bytes
        self.emit = emit
        self._columns: list[_Gathered] = self._empty()
        self._rows = 0
        self._bytes = 0

    def _empty(self) -> list[_Gathered]:
        # Reserved, not resident until written; capped so a huge limit does not reserve more than this.
        capacity = min(self.max_row_group_bytes, _RESERVE_BYTES)
        return [_gatherer(f.type, capacity, MAX_ROW_GROUP_ROWS) for f in self.schema]

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.schema != self.schema:
            batch = pa.RecordBatch.from_arrays(batch.columns, schema=self.schema)
        sizes = row_sizes(batch)
        start = 0
        while start < batch.num_rows:
            cumulative = np.cumsum(sizes[start:])
            fit = int(np.searchsorted(cumulative, self.max_row_group_bytes - self._bytes, side="right"))
            take = min(fit, MAX_ROW_GROUP_ROWS - self._rows, batch.num_rows - start)
            if take == 0 and self._rows == 0:
                take = 1  # a single row larger than the limit gets a row group of its own
            if take:
                for column, gathered in zip(batch.slice(start, take).columns, self._columns, strict=True):
                    _add(gathered, column)
                self._rows += take
                self._bytes += int(cumulative[take - 1])
                start += take
            if start < batch.num_rows:
                self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        arrays = [_finish(gathered, f.type) for gathered, f in zip(self._columns, self.schema, strict=True)]
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        estimate = self._bytes
        del arrays
        self._columns, self._rows, self._bytes = self._empty(), 0, 0
        self.emit(table, estimate)
        del table
        # Arrow's allocator (mimalloc) keeps freed pages for reuse; without this the main process would
        # keep the high-water mark of the ledger's row groups through publishing. Once per row group
        # (megabytes of data), so the cost is negligible.
        pa.default_memory_pool().release_unused()


class ParquetStream:
    """One Parquet file written in deterministic row groups (the ledger and the audit tables)."""

    # A row group is held whole until it is written, and encoding it takes about as much again (see
    # RowGroupStream). 8 MiB keeps the ledger's share of the main process's memory small whatever the
    # number of rejected records: merging a 1 M-document run's ledger peaked 8 MB lower than with 16 MiB.
    def __init__(self, path: Path, schema: pa.Schema, *, max_row_group_bytes: int = 8 << 20) -> None:
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._groups = RowGroupStream(schema, max_row_group_bytes, self._emit)

    def _emit(self, table: pa.Table, estimate: int) -> None:
        self._writer.write_table(table, row_group_size=table.num_rows)

    def write(self, batch: pa.RecordBatch) -> None:
        self._groups.write(batch)

    def close(self) -> None:
        self._groups.flush()
        self._writer.close()


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
        self.compression = None if compression == "none" else compression
        self._groups = RowGroupStream(schema, max_row_group_bytes, self._emit)
        self._writer: pq.ParquetWriter | None = None
        self._shard_estimate = 0
        self._shard_rows = 0
        self._shard_bytes = 0
        self._shards: list[Shard] = []
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, batch: pa.RecordBatch) -> None:
        self._groups.write(batch)

    def _open_shard(self) -> pq.ParquetWriter:
        path = self.folder / f".{self.split}-{len(self._shards):05d}.parquet.partial"
        return pq.ParquetWriter(
            path, self.schema, compression=self.compression, write_page_index=True, write_statistics=True
        )

    def _emit(self, table: pa.Table, estimate: int) -> None:
        if self._writer is not None and self._shard_estimate + estimate > self.max_shard_bytes:
            self._close_shard()
        if self._writer is None:
            self._writer = self._open_shard()
        self._writer.write_table(table, row_group_size=table.num_rows)
        self._shard_estimate += estimate
        self._shard_rows += table.num_rows
        # arrow_bytes does not depend on slicing; a combined column (one chunk) is measured in place
        # rather than concatenated into a copy of the whole row group.
        self._shard_bytes += sum(
            arrow_bytes(c.chunk(0) if c.num_chunks == 1 else pa.concat_arrays(c.chunks)) for c in table.columns
        )

    def _close_shard(self) -> None:
        assert self._writer is not None
        self._writer.close()
        self._shards.append(Shard(Path(self._writer.where), self._shard_rows, self._shard_bytes))
        self._writer = None
        self._shard_estimate = self._shard_rows = self._shard_bytes = 0

    def close(self) -> list[Shard]:
        """Finish the last shard and give every shard its final `<split>-NNNNN-of-NNNNN` name."""
        self._groups.flush()
        if self._writer is None and not self._shards:
            # An empty split still gets one valid (empty) shard so the layout and the card agree.
            self._writer = self._open_shard()
        if self._writer is not None:
            self._close_shard()
        total = len(self._shards)
        final = []
        for index, shard in enumerate(self._shards):
            target = self.folder / f"{self.split}-{index:05d}-of-{total:05d}.parquet"
            shard.path.rename(target)
            final.append(Shard(target, shard.num_rows, shard.num_bytes))
        self._shards = final
        return final
