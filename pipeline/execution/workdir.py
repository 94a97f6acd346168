"""The work folder: each step's output as numbered shards, committed atomically, so a run can resume.

Layout under `<output>/.<name>.work/`:

    lock                                  held (flock) by the run using the folder
    NN-<step>-<key16>/                    one folder per step, named by the step's key
        000042.kept.arrow                 records kept by the step (Arrow IPC, lz4)
        000042.ledger.arrow               ledger rows the step wrote for this shard
        000042.side.<table>.arrow         audit tables
        000042.json                       the shard's completion marker and its counts (written last)
        DONE.json                         the step's completion marker (written after every shard)

A file is written under a temporary name and renamed into place, and a shard's marker is renamed in
only after its data files, so after a crash (even SIGKILL) a marker proves its shard is whole. No
fsync: the guarantee covers the process dying, not the machine losing power.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.errors import UsageError
from pipeline.execution.plan import Step

# Steps' shards are uncompressed: LZ4 saved only ~28 % of the space on text but cost ~4.7 ms of CPU
# per MB written and read back, about 6 % of a whole run's CPU across its steps. Ingest's shards, the
# part of the work folder kept after a run (run.keep_work), stay LZ4-compressed so that they stay
# smaller than the input. Readers accept either.
_IPC = pa.ipc.IpcWriteOptions(compression=None)
_IPC_KEPT = pa.ipc.IpcWriteOptions(compression="lz4")
DONE = "DONE.json"


def step_folder(root: Path, index: int, step: Step) -> Path:
    return root / f"{index:02d}-{step.name}-{step.key[:16]}"


def _replace_into(path: Path, write: Any) -> None:
    partial = path.with_name(path.name + ".partial")
    write(partial)
    os.replace(partial, path)


def write_json(path: Path, payload: Any) -> None:
    _replace_into(path, lambda p: p.write_text(json.dumps(payload, sort_keys=True), encoding="utf-8"))


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _write_arrow(path: Path, batch: pa.RecordBatch, options: pa.ipc.IpcWriteOptions = _IPC) -> None:
    def write(partial: Path) -> None:
        with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, batch.schema, options=options) as writer:
            writer.write_batch(batch)

    _replace_into(path, write)


def _read_arrow(path: Path) -> pa.RecordBatch:
    with pa.OSFile(str(path), "rb") as source:
        reader = pa.ipc.open_file(source)
        batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches, schema=reader.schema).combine_chunks().to_batches()[0]


def shard_name(shard: int) -> str:
    return f"{shard:06d}"


def write_shard(
    folder: Path,
    shard: int,
    kept: pa.RecordBatch | None,
    ledger: list[pa.RecordBatch],
    side: dict[str, list[pa.RecordBatch]],
    facts: dict[str, Any],
    compress: bool = False,
) -> None:
    """Commit one shard: data files first, then the marker that says they are complete. `compress`:
    LZ4, for the shards kept after the run."""
    name = shard_name(shard)
    options = _IPC_KEPT if compress else _IPC
    if kept is not None and kept.num_rows:
        _write_arrow(folder / f"{name}.kept.arrow", kept, options)
    rows = [b for b in ledger if b.num_rows]
    if rows:
        _write_arrow(folder / f"{name}.ledger.arrow", _concat(rows), options)
    for table, batches in side.items():
        _write_arrow(folder / f"{name}.side.{table}.arrow", _concat(batches))
    facts = {**facts, "rows": kept.num_rows if kept is not None else 0, "side": sorted(side)}
    write_json(folder / f"{name}.json", facts)


def _concat(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


def shard_facts(folder: Path, shard: int) -> dict[str, Any] | None:
    return read_json(folder / f"{shard_name(shard)}.json")


def read_kept(folder: Path, shard: int) -> pa.RecordBatch | None:
    path = folder / f"{shard_name(shard)}.kept.arrow"
    return _read_arrow(path) if path.exists() else None


def read_ledger(folder: Path, shard: int) -> pa.RecordBatch | None:
    path = folder / f"{shard_name(shard)}.ledger.arrow"
    return _read_arrow(path) if path.exists() else None


def read_side(folder: Path, shard: int, table: str) -> pa.RecordBatch:
    return _read_arrow(folder / f"{shard_name(shard)}.side.{table}.arrow")


class WorkDir:
    """The run's work folder, locked against a second run writing into it at the same time."""

    def __init__(self, root: Path, fresh: bool = False) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._lock = (root / "lock").open("a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise UsageError(
                f"another pipeline run is using {root}; wait for it to finish or give this run another --name"
            ) from None
        if fresh:
            # Only once the lock is ours: a concurrent run's work is never deleted under it.
            for entry in root.iterdir():
                if entry.name != "lock":
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    def step(self, index: int, step: Step) -> Path:
        return step_folder(self.root, index, step)

    def prune(self, keep: list[Path]) -> list[str]:
        """Remove step folders this run does not use (another config's or input's); return their names."""
        wanted = {p.name for p in keep}
        removed = []
        for entry in sorted(self.root.iterdir()):
            if entry.is_dir() and entry.name not in wanted:
                shutil.rmtree(entry)
                removed.append(entry.name)
        return removed

    @staticmethod
    def reset(folder: Path) -> None:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)

    def close(self, remove: bool = False) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
