"""Worker processes that never re-run the user's main script.

Spawn and forkserver children normally re-run the parent's main script (as `__mp_main__`) so that
functions defined there unpickle; a script calling `pipeline.run(...)` without an
`if __name__ == "__main__":` guard would then start the pipeline again in every worker (and fail
with BrokenProcessPool). Pipeline's workers need nothing from the script: the config, with any
stage class defined there, is pickled by value (cloudpickle). So while a worker is launched,
multiprocessing is told that `__main__` is a module named "__main__", which a child never re-imports.
"""

from __future__ import annotations

import importlib.machinery
import multiprocessing.context
import multiprocessing.forkserver
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def _main_left_alone() -> Iterator[None]:
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    spec = getattr(main, "__spec__", None)
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = spec


class _ForkServerProcess(multiprocessing.context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        with _main_left_alone():
            return multiprocessing.context.ForkServerProcess._Popen(process_obj)


class _ForkServerContext(multiprocessing.context.ForkServerContext):
    Process = _ForkServerProcess


def worker_context(preload: list[str] | None = None) -> multiprocessing.context.BaseContext:
    """A forkserver context for process pools: clean workers (no inherited Arrow threads or locks),
    a server reused by later pools, and no re-run of the main script. `preload`: modules the server
    imports once, so each worker starts with them loaded."""
    context = _ForkServerContext()
    if preload:
        context.set_forkserver_preload(preload)
    return context


def worker_preload(stage_classes: list[Any]) -> list[str]:
    """The modules the fork server imports before forking workers: the pool's, and those stages name."""
    return [
        "pipeline.execution.pool",
        *sorted({m for cls in stage_classes for m in getattr(cls, "worker_preload", ())}),
    ]


def start_worker_server(config: Any) -> None:
    """Start the fork server now, when the run will use a local pool of several workers.

    Its imports (the pool, numba, the language profiles: about two seconds) then overlap with the main
    process's own start-up (its imports, the plan, hashing the inputs) instead of delaying the first
    shard. The pool's first worker later finds the server running and is forked from it at once.
    """
    # As the runner counts workers: run.workers, 0 meaning one per core (pool.default_workers).
    if config.run.executor != "local" or (config.run.workers or os.cpu_count() or 1) < 2:
        return
    multiprocessing.forkserver.set_forkserver_preload(worker_preload(config.stage_classes()))
    with _main_left_alone():
        multiprocessing.forkserver.ensure_running()
