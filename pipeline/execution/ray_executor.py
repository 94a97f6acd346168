"""The Ray executor: the same per-shard work as the local pool, as Ray tasks on every node of a cluster.

The driver (the `pipeline run` process, usually on the head node) keeps the work folder and the
global stages' central state, exactly as with the local executor. For each shard it reads the batch
from the work folder and submits a task with it; Ray moves the batch through its object store to
whichever node has a free CPU, the task runs the pure per-batch function (`run_map` or a global
stage's `prepare`), and the result comes back to the driver, which commits it to the work folder in
shard order. A global stage's `collect` and `decide` run in the driver, as locally. Its `apply` runs
as tasks on the nodes again when the stage can start pass 2 at any shard (`apply_in_workers`:
`clean`, `dedup_near`): the decided stage goes into the object store once (`ray.put`), each worker
unpickles it once, and each task is told where its shard starts (`seek`), as in the local pool.
Other stages' `apply` runs in the driver, where the contract lets it see the batches in pass-1
order. So:

- the nodes need no shared filesystem: only the driver reads and writes the work folder;
- a task is a pure function of its arguments, so Ray may rerun it anywhere (a node lost mid-task:
  Ray resubmits it, `ray.max_retries` times) and the committed shard is the same;
- the shards, and hence the published bytes, are the same as the local executor's for any number of
  nodes or workers, because the same functions compute them and the driver commits them in order.

Ray is imported only here, and only when `run.executor = "ray"`: the lean install does not need it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.config import Config
from pipeline.errors import EnvironmentFailure, UsageError
from pipeline.execution.executor import Executor, ShardFacts
from pipeline.execution.plan import Plan, build_plan
from pipeline.execution.pool import (
    EMPTY_FACTS,
    IN_FLIGHT_PER_WORKER,
    ShardOutput,
    apply_in_order,
    commit,
    run_apply,
    run_map,
    run_prepare,
    shard_positions,
)
from pipeline.execution.workdir import is_remote, read_kept, shard_facts
from pipeline.stage import GlobalStage

# Plans built in this Ray worker process, by config: a worker serves many tasks of the same run.
_PLANS: dict[str, Plan] = {}


def _plan_for(config: Config) -> Plan:
    key = json.dumps(config.as_dict(), sort_keys=True) + str(config.base_dir)
    if key not in _PLANS:
        _PLANS.clear()  # one run at a time per worker: keep only the latest plan
        _PLANS[key] = build_plan(config)
    return _PLANS[key]


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


@dataclass(frozen=True)
class _Shard:
    """A shard of a work folder on storage every node sees (a URL): the task reads or commits it
    itself, instead of the driver sending the batch or committing the result."""

    folder: Any
    number: int


def _load(batch: Any) -> pa.RecordBatch | None:
    return read_kept(batch.folder, batch.number) if isinstance(batch, _Shard) else batch


def _deliver(output: ShardOutput, target: _Shard | None) -> tuple[ShardOutput | ShardFacts, str]:
    """The task's result for the driver: the output to commit, or, on shared storage, the facts of the
    shard the task committed (its marker written last, as by the driver)."""
    node = _node_id()
    if target is None:
        return output, node
    return commit(target.folder, target.number, output, node), node


# The task bodies: module-level, so Ray pickles them by reference and workers import this module.


def _map_task(
    config: Config, stage_indices: tuple[int, ...], batch: Any, target: _Shard | None = None
) -> tuple[ShardOutput | ShardFacts, str]:
    return _deliver(run_map(_plan_for(config).stages, stage_indices, _load(batch)), target)


def _prepare_task(config: Config, stage_index: int, batch: Any) -> tuple[Any, int, float, str]:
    stage = _plan_for(config).stages[stage_index]
    assert isinstance(stage, GlobalStage)
    return (*run_prepare(stage, _load(batch)), _node_id())


# The decided global stage this Ray worker has deserialized, by object id: the driver puts it into the
# object store once per step, and each worker unpickles it once, not once per task.
_DECIDED: dict[str, GlobalStage] = {}


def _apply_task(
    decided: list[Any], position: int, batch: Any, target: _Shard | None = None
) -> tuple[ShardOutput | ShardFacts, str]:
    """Pass 2 of a stage whose apply can start at any shard, told where the shard starts (`seek`).

    `decided` holds the stage's object reference inside a list, so Ray passes the reference instead
    of resolving (and unpickling) the object for every task.
    """
    import ray

    batch = _load(batch)
    if batch is None or not batch.num_rows:
        return _deliver(ShardOutput(None, [], {}, {"stages": [EMPTY_FACTS]}), target)
    ref = decided[0]
    if ref.hex() not in _DECIDED:
        _DECIDED.clear()  # one global step at a time: drop the previous step's state
        _DECIDED[ref.hex()] = ray.get(ref)
    stage = _DECIDED[ref.hex()]
    stage.seek(position)
    return _deliver(run_apply(stage, batch), target)


def _cluster_address(address: str) -> str:
    """The GCS address `address` names, checked to answer: Ray itself would retry for minutes."""
    if address.startswith("ray://"):
        return address  # Ray Client: its own connection error is quick and clear
    if address == "auto":
        # Ray's own lookup for "auto": RAY_ADDRESS, else the cluster last started on this machine.
        current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
        address = os.environ.get("RAY_ADDRESS") or (current.read_text().strip() if current.is_file() else "")
        if not address:
            raise UsageError(
                'ray.address = "auto": no Ray cluster on this machine; start one with `ray start --head`, '
                'set RAY_ADDRESS, or set ray.address = "local" to start one for this run'
            )
    host, _, port = address.rpartition(":")
    if host in ("127.0.0.1", "localhost"):
        # A cluster on loopback only (one machine): Ray would otherwise replace 127.0.0.1 with the
        # machine's network address, where such a cluster does not listen. Read when Ray is imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_NODE_IP_ADDRESS", "127.0.0.1")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=5):
            pass
    except (OSError, ValueError):
        raise UsageError(
            f"ray.address: no Ray cluster answers at {address}; start one with `ray start --head` or set "
            'ray.address = "local"'
        ) from None
    return address


_NO_RAY = (
    "run.executor = \"ray\" needs Ray, which is not installed; install it with: pip install 'pipeline-datasets[ray]'"
)


def _require_ray() -> None:
    try:
        found = importlib.util.find_spec("ray") is not None
    except ValueError:  # sys.modules["ray"] is None: blocked
        found = False
    if not found:
        raise EnvironmentFailure(_NO_RAY)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EnvironmentFailure(_NO_RAY) from None
    return ray


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, config: Config, workers: int | None) -> None:
        settings = config.ray
        loaded = sys.modules.get("ray")
        address = settings.address
        if settings.address != "local" and not (loaded is not None and loaded.is_initialized()):
            _require_ray()
            # Checked before Ray is imported: the check may set the environment Ray reads on import.
            address = _cluster_address(settings.address)
        ray = self._ray = _import_ray()
        self._owns_connection = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
            try:
                if settings.address == "local":
                    ray.init(num_cpus=workers, include_dashboard=False, **options)
                else:
                    ray.init(address=address, **options)
            except ConnectionError as exc:
                raise UsageError(
                    f"ray.address {settings.address!r}: no Ray cluster there ({exc}); start one with `ray start "
                    '--head` or set ray.address = "local"'
                ) from None
            self._owns_connection = True
        self.address = settings.address
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.nodes = len([n for n in ray.nodes() if n.get("Alive")])
        self.slots = max(1, min(workers, cpus) if workers else cpus)
        self._config = ray.put(config)
        # SPREAD: tasks go round the nodes rather than filling the driver's node first (Ray's default
        # prefers the local node while it has a free CPU, so short tasks such as apply rarely left it).
        task = ray.remote(num_cpus=1, max_retries=settings.max_retries, scheduling_strategy="SPREAD")
        self._map = task(_map_task)
        self._prepare = task(_prepare_task)
        self._apply = task(_apply_task)
        # Every node that ran a shard, for the log (run.json records them per shard).
        self.nodes_used: set[str] = set()

    def describe(self) -> str:
        return f"Ray cluster ({self.address}): {self.nodes} node(s), {self.slots} task(s) at a time"

    def _ordered(self, jobs: Iterable[tuple[Any, Callable[[Any], Any]]]) -> Iterator[Any]:
        """Submit (ref-or-None, finish) jobs, keeping a bounded number in flight; finish results in order."""
        pending: deque[tuple[Any, Callable[[Any], Any]]] = deque()
        limit = self.slots * IN_FLIGHT_PER_WORKER
        try:
            for job in jobs:
                pending.append(job)
                if len(pending) >= limit:
                    yield self._finish(*pending.popleft())
            while pending:
                yield self._finish(*pending.popleft())
        finally:
            for ref, _ in pending:
                if ref is not None:
                    self._ray.cancel(ref)

    def _finish(self, ref: Any, finish: Callable[[Any], Any]) -> Any:
        return finish(None if ref is None else self._ray.get(ref))

    def _committer(self, target: Any, shard: int) -> Callable[[Any], ShardFacts]:
        def finish(result: tuple[ShardOutput | ShardFacts, str]) -> ShardFacts:
            output, node = result
            self.nodes_used.add(node)
            if isinstance(output, ShardOutput):
                return commit(target, shard, output, node)
            return output  # committed by the task, on shared storage

        return finish

    @staticmethod
    def _shard_args(source: Any, target: Any, shard: int) -> tuple[Any, _Shard | None]:
        """(batch, target) for a task: on a work folder every node sees, where to read and commit;
        else the batch itself, read by the driver, and no target (the driver commits)."""
        if is_remote(source):
            return _Shard(source, shard), _Shard(target, shard)
        return read_kept(source, shard), None

    def map_step(
        self, stage_indices: tuple[int, ...], source: Any, target: Any, shards: Iterable[int]
    ) -> Iterator[ShardFacts]:
        def jobs() -> Iterator[tuple[Any, Callable[[Any], Any]]]:
            for shard in shards:
                existing = shard_facts(target, shard)
                if existing is not None:  # committed before an interruption: not redone
                    yield None, lambda _, facts=existing: facts
                    continue
                batch, where = self._shard_args(source, target, shard)
                ref = self._map.remote(self._config, stage_indices, batch, where)
                yield ref, self._committer(target, shard)

        return self._ordered(jobs())

    def prepare(self, stage_index: int, source: Any, shards: Iterable[int]) -> Iterator[tuple[Any, int, float]]:
        def finish(result: tuple[Any, int, float, str]) -> tuple[Any, int, float]:
            prepared, rows, seconds, node = result
            self.nodes_used.add(node)
            return prepared, rows, seconds

        def jobs() -> Iterator[tuple[Any, Callable[[Any], Any]]]:
            for shard in shards:
                if is_remote(source):
                    if not (shard_facts(source, shard) or {}).get("rows"):
                        yield None, lambda _: (None, 0, 0.0)
                        continue
                    yield self._prepare.remote(self._config, stage_index, _Shard(source, shard)), finish
                    continue
                batch = read_kept(source, shard)
                if batch is None or not batch.num_rows:
                    yield None, lambda _: (None, 0, 0.0)
                    continue
                yield self._prepare.remote(self._config, stage_index, batch), finish

        return self._ordered(jobs())

    def apply(self, stage: GlobalStage, source: Any, target: Any, shards: Iterable[int]) -> Iterator[ShardFacts]:
        if not stage.apply_in_workers:
            # In the driver, as locally: the stage's apply relies on seeing the batches in pass-1 order.
            return apply_in_order(stage, source, target, shards, f"{_node_id()} (driver)")
        return self._apply_on_nodes(stage, source, target, list(shards))

    def _apply_on_nodes(self, stage: GlobalStage, source: Any, target: Any, shards: list[int]) -> Iterator[ShardFacts]:
        """Pass 2 as tasks on every node, as the local pool does it: the decided stage is shipped once
        (`ray.put`), each task is told where its shard starts, the driver commits in shard order."""
        decided = [self._ray.put(stage)]
        driver = f"{_node_id()} (driver)"
        positions = shard_positions(source, shards)

        def jobs() -> Iterator[tuple[Any, Callable[[Any], Any]]]:
            for shard in shards:
                if not (shard_facts(source, shard) or {}).get("rows"):
                    empty = ShardOutput(None, [], {}, {"stages": [EMPTY_FACTS]})
                    yield None, lambda _, shard=shard, empty=empty: commit(target, shard, empty, driver)
                    continue
                batch, where = self._shard_args(source, target, shard)
                yield self._apply.remote(decided, positions[shard], batch, where), self._committer(target, shard)

        # Once this generator ends, no reference to the stage is left and the object store frees it.
        return self._ordered(jobs())

    def close(self) -> None:
        if self._owns_connection and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns_connection = False
