"""The executor contract: where a step's per-shard work is scheduled.

The runner decides *what* runs (steps, shards, their order and the work folder); an executor decides
*where*: `LocalExecutor` (pool.py) in a process pool on this machine, `RayExecutor`
(ray_executor.py) as Ray tasks on every node of a cluster. Both yield results in shard order and
commit shards through the same functions, so the work folder, and hence the published bytes, are the
same whichever runs. Stages never see an executor: they only implement the stage contract (stage.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.execution.plan import Plan
    from pipeline.stage import GlobalStage

# A committed shard's marker (workdir.shard_facts): per-stage counts, "rows", "side" and "node".
ShardFacts = dict[str, Any]
T = TypeVar("T")


def inline(task: Callable[..., T], *args: Any) -> Callable[[], T]:
    """`task(*args)` run now, in this process, behind the same "wait for the result" call as `background`."""
    result = task(*args)
    return lambda: result


class Standby(Generic[T]):
    """A task set up before its input is ready: `go()` once it is, then `result()`; `cancel()` if it never
    will be (calling it after `go()` or `result()` is harmless, so a `finally` may always call it).
    This one runs the task in this process at `go()`; `Executor.standby` says where others run it."""

    def __init__(self, task: Callable[..., T], *args: Any) -> None:
        self._task, self._args = task, args
        self._result: Callable[[], T] | None = None

    def go(self) -> None:
        self._result = inline(self._task, *self._args)

    def result(self) -> T:
        if self._result is None:
            raise RuntimeError("Standby.result() before go()")
        return self._result()

    def cancel(self) -> None:
        """Nothing was started ahead here: nothing to stop."""


class Executor(ABC):
    name: str

    @abstractmethod
    def describe(self) -> str:
        """One line for the progress log: how many workers, on which nodes."""

    @abstractmethod
    def map_step(
        self, stage_indices: tuple[int, ...], source: Path, target: Path, shards: Iterable[int]
    ) -> Iterator[ShardFacts]:
        """Run fused map stages on each shard of `source`, commit it to `target`; facts in shard order."""

    @abstractmethod
    def prepare(self, stage_index: int, source: Path, shards: Iterable[int]) -> Iterator[tuple[Any, int, float]]:
        """A global stage's per-record pass-1 work on each shard: (prepared, rows, seconds) in shard order."""

    @abstractmethod
    def apply(self, stage: GlobalStage, source: Path, target: Path, shards: Iterable[int]) -> Iterator[ShardFacts]:
        """Pass 2 of a decided global stage on each shard, committed to `target`; facts in shard order."""

    def background(self, task: Callable[..., T], *args: Any) -> Callable[[], T]:
        """Start `task(*args)` (a module-level function, picklable arguments) where it does not hold up
        the main process, if this executor has such a place; returns the call that waits for its result.
        Publishing uses it for work that needs none of the main process's state (plots, validation)."""
        return inline(task, *args)

    def standby(
        self, prepare: Callable[..., Any], prepare_args: tuple[Any, ...], task: Callable[..., T], *args: Any
    ) -> Standby[T]:
        """`task(*args)` on one worker once `go()` is called, that worker having run `prepare(*prepare_args)`
        meanwhile: so the task runs where its preparation did, not on a worker another task left larger.
        Both module-level functions with picklable arguments. Here: no preparation, the task at `go()`."""
        return Standby(task, *args)

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release workers (a pool, a cluster connection)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_executor(config: Config, plan: Plan, workers: int) -> Executor:
    """The executor `run.executor` names; Ray is imported only when asked for."""
    if config.run.executor == "ray":
        from pipeline.execution.ray_executor import RayExecutor

        return RayExecutor(config, workers if config.run.workers else None)
    from pipeline.execution.pool import LocalExecutor

    return LocalExecutor(config, plan, workers)
