"""The process pool: per-shard work (map stages, a global stage's `prepare`) on every core.

Workers build their own stages from the config (`build_plan`), read their input shard from the work
folder themselves and write their output shard themselves, so only paths and small counts cross
process boundaries. `Executor.ordered` yields results in submission order whatever order workers
finish in, and keeps at most a few tasks per worker in flight, so memory stays bounded.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cloudpickle
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import Config
from pipeline.execution.plan import Plan, build_plan
from pipeline.execution.processes import worker_context
from pipeline.execution.workdir import read_kept, shard_facts, write_shard
from pipeline.stage import GlobalStage, MapStage

# The plan of the process: set once per worker by the initializer, or to the main plan when inline.
_PLAN: Plan | None = None
# Tasks in flight per worker: enough to keep each busy while the main process handles a result.
IN_FLIGHT_PER_WORKER = 2


def default_workers() -> int:
    return os.cpu_count() or 1


def _init_worker(config_pickle: bytes, main_pid: int) -> None:
    global _PLAN
    # Ctrl-C reaches the whole process group: the main process handles it and shuts the pool down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config: Config = pickle.loads(config_pickle)
    _PLAN = build_plan(config)
    threading.Thread(target=_exit_with, args=(main_pid,), daemon=True).start()


def _exit_with(main_pid: int) -> None:
    """End this worker once the main process is gone (e.g. SIGKILLed): nothing else would wake it."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(main_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def _plan() -> Plan:
    assert _PLAN is not None, "the executor sets the plan before running tasks"
    return _PLAN


def reasons_of(rejected: pa.RecordBatch) -> dict[str, int]:
    if not rejected.num_rows:
        return {}
    return {item["values"]: item["counts"] for item in pc.value_counts(rejected.column("reason")).to_pylist()}


EMPTY_FACTS: dict[str, Any] = {"in": 0, "out": 0, "rejected": {}, "seconds": 0.0, "bytes_in": 0}


def stage_facts(
    records_in: int, records_out: int, rejected: pa.RecordBatch, seconds: float, bytes_in: int
) -> dict[str, Any]:
    """One stage's counts for one shard, as the shard's marker records them."""
    return {
        "in": records_in,
        "out": records_out,
        "rejected": reasons_of(rejected),
        "seconds": seconds,
        "bytes_in": bytes_in,
    }


def text_bytes(batch: pa.RecordBatch | None) -> int:
    if batch is None or not batch.num_rows:
        return 0
    return int(pc.sum(pc.binary_length(batch.column("text"))).as_py() or 0)


def map_shard(stage_indices: tuple[int, ...], source: Path, target: Path, shard: int) -> dict[str, Any]:
    """Run fused map stages on one shard of `source` and commit the result as shard `shard` of `target`."""
    existing = shard_facts(target, shard)
    if existing is not None:
        return existing
    stages = _plan().stages
    batch = read_kept(source, shard)
    in_bytes = text_bytes(batch)
    tallies: list[dict[str, Any]] = []
    ledger: list[pa.RecordBatch] = []
    side: dict[str, list[pa.RecordBatch]] = {}
    for index in stage_indices:
        stage = stages[index]
        assert isinstance(stage, MapStage)
        if batch is None or not batch.num_rows:
            # Stages never see empty batches (as in a single process); the shard records zeros.
            tallies.append(EMPTY_FACTS)
            batch = None
            continue
        start = time.perf_counter()
        result = stage.process(batch)
        seconds = time.perf_counter() - start
        tallies.append(stage_facts(batch.num_rows, result.kept.num_rows, result.rejected, seconds, text_bytes(batch)))
        ledger.append(result.rejected)
        for name, table in result.side.items():
            side.setdefault(name, []).append(table)
        batch = result.kept
    facts = {"stages": tallies, "in_bytes": in_bytes}
    write_shard(target, shard, batch, ledger, side, facts)
    return shard_facts(target, shard) or facts


def prepare_shard(stage_index: int, source: Path, shard: int) -> tuple[Any, int, float]:
    """A global stage's pass-1 per-record work on one shard: (prepared, rows, seconds)."""
    stage = _plan().stages[stage_index]
    assert isinstance(stage, GlobalStage)
    batch = read_kept(source, shard)
    if batch is None or not batch.num_rows:
        return None, 0, 0.0
    start = time.perf_counter()
    prepared = stage.prepare(batch)
    return prepared, batch.num_rows, time.perf_counter() - start


# Decided global stages loaded by this worker, by pickle path and its modification time.
_DECIDED: dict[tuple[str, int], GlobalStage] = {}


def _decided(path: str) -> GlobalStage:
    key = (path, os.stat(path).st_mtime_ns)
    if key not in _DECIDED:
        _DECIDED.clear()  # one global step at a time: drop the previous step's state
        with open(path, "rb") as f:
            _DECIDED[key] = pickle.load(f)
    return _DECIDED[key]


def apply_shard(decided: str, source: Path, target: Path, shard: int, position: int) -> dict[str, Any]:
    """A global stage's pass 2 on one shard, in a worker: the stage pickled after decide() at `decided`."""
    batch = read_kept(source, shard)
    if batch is None or not batch.num_rows:
        facts: dict[str, Any] = {"stages": [EMPTY_FACTS]}
        write_shard(target, shard, None, [], {}, facts)
        return {**facts, "rows": 0, "bytes": 0, "rejected": 0}
    stage = _decided(decided)
    stage.seek(position)
    start = time.perf_counter()
    result = stage.apply(batch)
    seconds = time.perf_counter() - start
    facts = {"stages": [stage_facts(batch.num_rows, result.kept.num_rows, result.rejected, seconds, text_bytes(batch))]}
    side = {name: [table] for name, table in result.side.items()}
    write_shard(target, shard, result.kept, [result.rejected], side, facts)
    return {**facts, "rows": batch.num_rows, "bytes": text_bytes(batch), "rejected": result.rejected.num_rows}


class Executor:
    """Runs tasks inline (one worker) or in a process pool, always yielding results in input order."""

    def __init__(self, config: Config, plan: Plan, workers: int) -> None:
        global _PLAN
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        if self.workers == 1:
            _PLAN = plan
        else:
            context = worker_context(preload=["pipeline.execution.pool"])
            # cloudpickle: stage classes defined in the user's script or notebook (`__main__`) travel by
            # value, since workers never run the script; importable ones travel by reference.
            blob = cloudpickle.dumps(config)
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init_worker, initargs=(blob, os.getpid())
            )

    def ordered(self, task: Callable[..., Any], arguments: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        if self._pool is None:
            for args in arguments:
                yield task(*args)
            return
        pending: deque[Future[Any]] = deque()
        limit = self.workers * IN_FLIGHT_PER_WORKER
        try:
            for args in arguments:
                pending.append(self._pool.submit(task, *args))
                if len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
