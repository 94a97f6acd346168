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
