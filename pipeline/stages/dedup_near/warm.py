"""Imported by the worker pool's fork server before it forks workers (the stage's `worker_preload`):
loads numba and the compiled MinHash kernel once there, so each worker starts with them instead of
paying about 0.7 CPU s for it."""

import contextlib

from pipeline.stages.dedup_near.minhash_jit import kernel

# A failure must not stop the fork server: the worker then loads the kernel itself and reports it.
with contextlib.suppress(Exception):
    kernel()
