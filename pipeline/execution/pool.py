"""The local executor: per-shard work (map stages, a global stage's `prepare`) in a process pool.

Workers build their own stages from the config (`build_plan`), read their input shard from the work
folder themselves and write their output shard themselves, so only paths and small counts cross
process boundaries. `LocalExecutor.ordered` yields results in submission order whatever order
workers finish in, and keeps at most a few tasks per worker in flight, so memory stays bounded.
`apply` (pass 2 of a global stage) runs in the main process, which holds the decided state, or, for
stages whose apply can start at any shard (`apply_in_workers`, `seek`), on the workers too.

The pure per-batch functions here (`run_map`, `run_apply`) are also what the Ray executor
(ray_executor.py) runs on cluster nodes, so both executors compute the same shards.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import platform
import shutil
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import Config
from pipeline.execution.executor import Executor, ShardFacts, Standby, T, inline
from pipeline.execution.malloc import fix_mmap_threshold, trim
from pipeline.execution.plan import Plan, build_plan
from pipeline.execution.processes import worker_context, worker_preload
from pipeline.execution.workdir import is_remote, read_kept, shard_facts, write_shard
from pipeline.stage import GlobalStage, MapStage, Stage, stage_errors

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
    fix_mmap_threshold()
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


@dataclass
class ShardOutput:
    """What a step computed for one shard, before it is committed to the work folder."""

    kept: pa.RecordBatch | None
    ledger: list[pa.RecordBatch]
    side: dict[str, list[pa.RecordBatch]]
    facts: dict[str, Any]


def run_map(stages: list[Stage], stage_indices: tuple[int, ...], batch: pa.RecordBatch | None) -> ShardOutput:
    """Fused map stages over one shard's batch: a pure function of the batch, run on any executor."""
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
        with stage_errors(stage, "process"):
            result = stage.process(batch)
        seconds = time.perf_counter() - start
        facts = stage_facts(batch.num_rows, result.kept.num_rows, result.rejected, seconds, text_bytes(batch))
        notes = stage.shard_notes()
        tallies.append({**facts, "notes": notes} if notes else facts)
        ledger.append(result.rejected)
        for name, table in result.side.items():
            side.setdefault(name, []).append(table)
        batch = result.kept
    return ShardOutput(batch, ledger, side, {"stages": tallies, "in_bytes": in_bytes})


def run_apply(stage: GlobalStage, batch: pa.RecordBatch | None) -> ShardOutput:
    """Pass 2 of a global stage over one shard's batch, given the decided stage."""
    if batch is None or not batch.num_rows:
        return ShardOutput(None, [], {}, {"stages": [EMPTY_FACTS]})
    start = time.perf_counter()
    with stage_errors(stage, "apply"):
        result = stage.apply(batch)
    seconds = time.perf_counter() - start
    facts = {"stages": [stage_facts(batch.num_rows, result.kept.num_rows, result.rejected, seconds, text_bytes(batch))]}
    side = {name: [table] for name, table in result.side.items()}
    return ShardOutput(result.kept, [result.rejected], side, facts)


def commit(target: Path, shard: int, output: ShardOutput, node: str) -> ShardFacts:
    """Write one computed shard into the work folder; return its facts as a rerun would read them."""
    write_shard(target, shard, output.kept, output.ledger, output.side, {**output.facts, "node": node})
    facts = shard_facts(target, shard)
    assert facts is not None
    return facts


def apply_in_order(
    stage: GlobalStage, source: Path, target: Path, shards: Iterable[int], node: str
) -> Iterator[ShardFacts]:
    """Pass 2 in the process holding the decided state, shard after shard.

    The stage contract lets `apply` rely on seeing the batches in pass-1 order (dedup keeps the
    first occurrence by counting positions), so it is sequential by contract, on every executor.
    """
    for shard in shards:
        yield commit(target, shard, run_apply(stage, read_kept(source, shard)), node)


def node_name() -> str:
    """The node a local worker runs on, as run.json records it."""
    return platform.node() or "local"


def map_shard(stage_indices: tuple[int, ...], source: Path, target: Path, shard: int) -> dict[str, Any]:
    """Run fused map stages on one shard of `source` and commit the result as shard `shard` of `target`."""
    existing = shard_facts(target, shard)
    if existing is not None:
        return existing
    return commit(target, shard, run_map(_plan().stages, stage_indices, read_kept(source, shard)), node_name())


def run_prepare(stage: GlobalStage, batch: pa.RecordBatch | None) -> tuple[Any, int, float]:
    """A global stage's pass-1 per-record work on one shard's batch: (prepared, rows, seconds)."""
    if batch is None or not batch.num_rows:
        return None, 0, 0.0
    start = time.perf_counter()
    with stage_errors(stage, "prepare"):
        prepared = stage.prepare(batch)
    return prepared, batch.num_rows, time.perf_counter() - start


def prepare_shard(stage_index: int, source: Path, shard: int) -> tuple[Any, int, float]:
    """`run_prepare` on one shard of `source`, in a worker."""
    stage = _plan().stages[stage_index]
    assert isinstance(stage, GlobalStage)
    return run_prepare(stage, read_kept(source, shard))


def shard_positions(source: Path, shards: list[int]) -> dict[int, int]:
    """Where each shard's first record stands in the step's input order (what `seek` is told)."""
    positions = {}
    position = 0
    for shard in range(max(shards, default=-1) + 1):
        positions[shard] = position
        position += (shard_facts(source, shard) or {}).get("rows", 0)
    return positions


# Decided global stages loaded by this worker, by pickle path and its modification time.
_DECIDED: dict[tuple[str, int], GlobalStage] = {}


def _decided(path: str) -> GlobalStage:
    key = (path, os.stat(path).st_mtime_ns)
    if key not in _DECIDED:
        _DECIDED.clear()  # one global step at a time: drop the previous step's state
        with open(path, "rb") as f:
            _DECIDED[key] = pickle.load(f)
    return _DECIDED[key]


def apply_shard(decided: str, source: Path, target: Path, shard: int, position: int) -> ShardFacts:
    """A global stage's pass 2 on one shard, in a worker: the stage pickled after decide() at `decided`,
    told where the shard's first record stands in input order (`seek`)."""
    batch = read_kept(source, shard)
    if batch is None or not batch.num_rows:
        return commit(target, shard, ShardOutput(None, [], {}, {"stages": [EMPTY_FACTS]}), node_name())
    stage = _decided(decided)
    stage.seek(position)
    return commit(target, shard, run_apply(stage, batch), node_name())


class LocalExecutor(Executor):
    """Runs tasks inline (one worker) or in a process pool, always yielding results in input order."""

    name = "local"

    def __init__(self, config: Config, plan: Plan, workers: int) -> None:
        global _PLAN
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._standbys: list[_PoolStandby[Any]] = []
        if self.workers == 1:
            _PLAN = plan
        else:
            # Stages may name modules worth importing once in the fork server rather than in every worker.
            context = worker_context(preload=worker_preload([type(stage) for stage in plan.stages]))
            # cloudpickle: stage classes defined in the user's script or notebook (`__main__`) travel by
            # value, since workers never run the script; importable ones travel by reference.
            blob = cloudpickle.dumps(config)
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init_worker, initargs=(blob, os.getpid())
            )

    def describe(self) -> str:
        return f"{self.workers} worker process(es) on this machine"

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

    def map_step(
        self, stage_indices: tuple[int, ...], source: Path, target: Path, shards: Iterable[int]
    ) -> Iterator[ShardFacts]:
        return self.ordered(map_shard, ((stage_indices, source, target, shard) for shard in shards))

    def prepare(self, stage_index: int, source: Path, shards: Iterable[int]) -> Iterator[tuple[Any, int, float]]:
        return self.ordered(prepare_shard, ((stage_index, source, shard) for shard in shards))

    def apply(self, stage: GlobalStage, source: Path, target: Path, shards: Iterable[int]) -> Iterator[ShardFacts]:
        if not (stage.apply_in_workers and self._pool is not None):
            return apply_in_order(stage, source, target, shards, node_name())
        return self._apply_in_workers(stage, source, target, list(shards))

    def _apply_in_workers(
        self, stage: GlobalStage, source: Path, target: Path, shards: list[int]
    ) -> Iterator[ShardFacts]:
        """Pass 2 on the workers, for stages whose apply can start at any shard (`seek`): each worker
        loads the decided stage once from a pickle in the step's folder."""
        # The workers are on this machine: the pickle is a local file, even for a work folder at a URL.
        with tempfile.TemporaryDirectory(prefix="pipeline-decided-", dir=None if is_remote(target) else target) as tmp:
            decided = Path(tmp) / "decided.pickle"
            with decided.open("wb") as f:
                pickle.dump(stage, f, protocol=pickle.HIGHEST_PROTOCOL)
            positions = shard_positions(source, shards)
            tasks = ((str(decided), source, target, shard, positions[shard]) for shard in shards)
            yield from self.ordered(apply_shard, tasks)

    def background(self, task: Callable[..., T], *args: Any) -> Callable[[], T]:
        if self._pool is None:
            return inline(task, *args)
        future = self._pool.submit(_after_the_steps, task, *args)
        return future.result

    def standby(
        self, prepare: Callable[..., Any], prepare_args: tuple[Any, ...], task: Callable[..., T], *args: Any
    ) -> Standby[T]:
        if self._pool is None:
            return super().standby(prepare, prepare_args, task, *args)
        standby = _PoolStandby(self._pool, prepare, prepare_args, task, args)
        self._standbys.append(standby)
        return standby

    def close(self) -> None:
        if self._pool is not None:
            # A standby never told to go or not would keep its worker, and so this shutdown, waiting.
            for standby in self._standbys:
                standby.abandon()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for standby in self._standbys:
            standby.remove()
        self._standbys = []


class _PoolStandby(Standby[T]):
    """A worker runs `_stand_by`: it prepares, then waits for a word in a signal file (a local file: the
    pool's workers are on this machine) and runs the task on "go". The word is written once, atomically."""

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        prepare: Callable[..., Any],
        prepare_args: tuple[Any, ...],
        task: Callable[..., T],
        args: tuple[Any, ...],
    ) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="pipeline-standby-"))
        self._signal = self._folder / "signal"
        self._future: Future[T | None] = pool.submit(_stand_by, str(self._signal), prepare, prepare_args, task, args)
        self._said = False

    def _say(self, word: str) -> None:
        if self._said:
            return
        self._said = True
        draft = self._folder / "draft"
        draft.write_text(word, encoding="utf-8")
        draft.rename(self._signal)

    def go(self) -> None:
        self._say("go")

    def result(self) -> T:
        try:
            return self._future.result()  # type: ignore[return-value]  # None only after cancel()
        finally:
            self.remove()

    def cancel(self) -> None:
        self._say("cancel")
        # The worker stops within a poll; a task already told to go is let finish. Its error is not
        # raised here: a caller that cancels is failing already, with its own error to show.
        with contextlib.suppress(Exception):
            self._future.result()
        self.remove()

    def abandon(self) -> None:
        """Cancel without waiting (the pool is shutting down and waits for its workers anyway)."""
        self._say("cancel")

    def remove(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)


_SIGNAL_POLL_SECONDS = 0.02


def _stand_by(
    signal_file: str,
    prepare: Callable[..., Any],
    prepare_args: tuple[Any, ...],
    task: Callable[..., T],
    args: tuple[Any, ...],
) -> T | None:
    """In a worker: prepare, wait for the main process's word, then run the task (None if cancelled, or
    if the signal's folder is gone: the main process gave up without a word)."""
    _after_the_steps(prepare, *prepare_args)
    # What preparing left is collected while waiting, not once the main process waits for the task.
    gc.collect()
    trim()
    signal_path = Path(signal_file)
    while not signal_path.exists():
        if not signal_path.parent.exists():
            return None
        time.sleep(_SIGNAL_POLL_SECONDS)
    if signal_path.read_text(encoding="utf-8") != "go":
        return None
    return task(*args)


def _after_the_steps(task: Callable[..., T], *args: Any) -> T:
    """A background task (publishing's: the plots, the validation of the written dataset) in a worker
    whose steps are over: first drop the last global stage's decision it loaded, and give the heap's
    free pages back, so that the validation does not start on top of what the steps left behind."""
    _DECIDED.clear()
    gc.collect()
    trim()
    return task(*args)
