"""Keep glibc's malloc from holding on to the memory of large arrays the main process has freed.

glibc serves a large block (128 KiB and up) with its own mmap and gives it back when it is freed, but
each time such a block is freed it raises that threshold to the block's size (up to 32 MiB). After the
first few batches, arrays of a few MB (a row group's buffers, a step's decision) are carved from the
heap instead, and a heap keeps the pages of the blocks freed in its middle. The main process's resident
memory then grew with every published row group although nothing was kept: writing 16 MB row groups
from 120,000 records, about 20 MB per row group, 159 MB above the start at the end against 84 MB with
the threshold fixed. Fixing it (which also ends the adjustment) keeps every large block an mmap of its
own, returned to the system when freed. It changes the allocator of the whole process, which a library
must not do to its caller: so the `pipeline` command does it in its main process, and the local pool
in each worker it starts (processes of its own). In a worker, reading back a 1 M-document dataset's
16 MB row groups peaked at 97 MB with the dynamic threshold and 84 MB with it fixed, and validating
that dataset 221 MB against 201. Elsewhere than glibc it does nothing.

Arrow's own allocator (mimalloc in the pyarrow wheels) likewise keeps the pages of freed buffers for
reuse. The `pipeline` command (`pipeline/__main__.py`) therefore has Arrow allocate through malloc
(`ARROW_DEFAULT_MEMORY_POOL=system`, which Arrow reads when pyarrow is imported) in every process of a
run: the workers inherit it. On 20,000 web documents it took no more CPU (32.5 against 34.8 s) and
the largest process held about 30 MB less; at 1 M documents the main process held about 40 MB less
at each published row group, and the worker validating the written dataset 40 MB less. A value the
user set is kept.

`trim` hands the free pages inside glibc's heap back (`malloc_trim`): the runner calls it when a global
stage's decision is dropped and before publishing, and a worker before publishing's tasks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h
_THRESHOLD_BYTES = 128 * 1024  # glibc's own initial value


def fix_mmap_threshold() -> bool:
    """True if glibc took the setting."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    return bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD_BYTES)) if mallopt else False


def arrow_uses_malloc() -> None:
    """Have Arrow allocate through malloc in this process and the ones it starts; before pyarrow is imported."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def trim() -> bool:
    """Give the free pages of glibc's heap back to the system (`malloc_trim`); True if any were."""
    malloc_trim = getattr(_libc(), "malloc_trim", None)
    return bool(malloc_trim(0)) if malloc_trim else False


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, looked up once (`find_library` runs a subprocess); None if it cannot be loaded."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None
