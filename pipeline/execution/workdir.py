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

The folder may also be on storage every node sees (`run.work_dir = "s3://..."`, any fsspec URL;
storage.work_location): its paths are then `upath.UPath`s, and every function here takes either.
An object store has no rename, but it makes an object visible only whole, once its upload is
complete, so each file is written in place, and the marker is still written after the data files:
a marker still proves its shard is whole. Such a folder cannot be flock'ed: the lock is taken on a
local file named after the URL, which keeps a second run on the same machine out, not one on
another machine (docs/guide/distributed.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
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


def is_remote(path: Any) -> bool:
    """True for a work folder path on fsspec storage (a `UPath`), False for a local `Path`."""
    return not isinstance(path, Path)


def remove_tree(path: Any) -> None:
    """Delete a folder and everything under it, locally or on fsspec storage; missing is fine."""
    if not is_remote(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    with contextlib.suppress(FileNotFoundError):
        path.fs.rm(path.path, recursive=True)


def tree_bytes(path: Any) -> int:
    """The bytes of every file under a folder."""
    if is_remote(path):
        return int(path.fs.du(path.path, total=True)) if path.exists() else 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _replace_into(path: Any, write: Any) -> None:
    if is_remote(path):
        write(path)  # an object becomes visible whole, once its upload completes
        return
    partial = path.with_name(path.name + ".partial")
    write(partial)
    os.replace(partial, path)


def write_json(path: Any, payload: Any) -> None:
    _replace_into(path, lambda p: p.write_text(json.dumps(payload, sort_keys=True), encoding="utf-8"))


def read_json(path: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _write_arrow(path: Any, batch: pa.RecordBatch, options: pa.ipc.IpcWriteOptions = _IPC) -> None:
    def write(partial: Any) -> None:
        if is_remote(partial):
            # One upload of the whole file: a shard is a batch, small enough to hold.
            sink = pa.BufferOutputStream()
            with pa.ipc.new_file(sink, batch.schema, options=options) as writer:
                writer.write_batch(batch)
            partial.write_bytes(sink.getvalue().to_pybytes())
            return
        with pa.OSFile(str(partial), "wb") as sink, pa.ipc.new_file(sink, batch.schema, options=options) as writer:
            writer.write_batch(batch)

    _replace_into(path, write)


def _read_arrow(path: Any) -> pa.RecordBatch:
    if is_remote(path):
        source: Any = pa.BufferReader(path.read_bytes())
    else:
        source = pa.OSFile(str(path), "rb")
    with source:
        reader = pa.ipc.open_file(source)
        batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches, schema=reader.schema).combine_chunks().to_batches()[0]


def _read_arrow_if_any(path: Any) -> pa.RecordBatch | None:
    try:
        return _read_arrow(path)
    except FileNotFoundError:
        return None


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


def read_kept(folder: Any, shard: int) -> pa.RecordBatch | None:
    return _read_arrow_if_any(folder / f"{shard_name(shard)}.kept.arrow")


def read_ledger(folder: Any, shard: int) -> pa.RecordBatch | None:
    return _read_arrow_if_any(folder / f"{shard_name(shard)}.ledger.arrow")


def read_side(folder: Path, shard: int, table: str) -> pa.RecordBatch:
    return _read_arrow(folder / f"{shard_name(shard)}.side.{table}.arrow")


def _lock_file(root: Any) -> Path:
    """The file flock'ed for a work folder: inside it when local, else a local file named by its URL."""
    if not is_remote(root):
        return root / "lock"
    digest = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"pipeline-work-{digest}.lock"


class WorkDir:
    """The run's work folder, locked against a second run writing into it at the same time."""

    def __init__(self, root: Any, fresh: bool = False) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_file(root).open("a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise UsageError(
                f"another pipeline run is using {root}; wait for it to finish or give this run another --name"
            ) from None
        if fresh:
            # Only once the lock is ours: a concurrent run's work is never deleted under it.
            for entry in self._entries():
                if entry.name != "lock":
                    remove_tree(entry) if entry.is_dir() else entry.unlink()

    def _entries(self) -> list[Any]:
        try:
            return sorted(self.root.iterdir(), key=lambda p: p.name)
        except (FileNotFoundError, NotADirectoryError):  # an object store has no empty folders
            return []

    def step(self, index: int, step: Step) -> Any:
        return step_folder(self.root, index, step)

    def prune(self, keep: list[Any]) -> list[str]:
        """Remove step folders this run does not use (another config's or input's); return their names."""
        wanted = {p.name for p in keep}
        removed = []
        for entry in self._entries():
            if entry.is_dir() and entry.name not in wanted:
                remove_tree(entry)
                removed.append(entry.name)
        return removed

    @staticmethod
    def reset(folder: Any) -> None:
        remove_tree(folder)
        folder.mkdir(parents=True, exist_ok=True)

    def close(self, remove: bool = False) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()
        if remove:
            remove_tree(self.root)
