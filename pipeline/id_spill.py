"""Record ids in input order on disk, read back only at the positions a global stage's decision names.

A global stage names, in pass 2, the record each copy was grouped with (`duplicate_of`). Holding every
record's id in memory until then grew the main process with the corpus (tens of bytes per record); the
decision needs the ids of the kept records that have copies only. Ids are appended here as Arrow IPC
batches to an anonymous temporary file (it vanishes with the process) and `take` reads the file back
once, one batch at a time, keeping the ids asked for.
"""

from __future__ import annotations

import tempfile

import numpy as np
import pyarrow as pa

_SCHEMA = pa.schema([pa.field("id", pa.string())])


class IdSpill:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="pipeline-ids-")  # noqa: SIM115 (closed by close())
        self._writer: pa.ipc.RecordBatchStreamWriter | None = pa.ipc.new_stream(self._file, _SCHEMA)
        self.records = 0

    def append(self, ids: pa.Array | pa.ChunkedArray) -> None:
        """The ids of the next records, in input order."""
        if self._writer is None:
            raise RuntimeError("IdSpill.append after take")
        chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
        for chunk in chunks:
            self._writer.write_batch(pa.record_batch([pa.array(chunk, pa.string())], schema=_SCHEMA))
            self.records += len(chunk)

    def take(self, positions: np.ndarray) -> pa.Array:
        """The ids at `positions` (ascending, distinct), in that order. Ends appending."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._file.seek(0)
        positions = np.asarray(positions, dtype=np.int64)
        parts: list[pa.Array] = []
        start = 0
        for batch in pa.ipc.open_stream(self._file):
            stop = start + batch.num_rows
            low, high = np.searchsorted(positions, [start, stop])
            if high > low:
                # A copy: a taken value must not keep the whole batch it was read in alive.
                parts.append(batch.column(0).take(pa.array(positions[low:high] - start)))
            start = stop
        if not parts:
            return pa.array([], pa.string())
        return pa.concat_arrays(parts)

    def close(self) -> None:
        self._writer = None
        self._file.close()
