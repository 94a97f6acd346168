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
from typing import TYPE_CHECKING, Any, TypeVar

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
