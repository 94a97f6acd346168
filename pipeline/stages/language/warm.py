"""Imported by the worker pool's fork server before it forks workers (the stage's `worker_preload`):
loads the default detector factory once there (langdetect-rs with langdetect's profiles, after its
self-check against langdetect's recorded answers: about 0.2 CPU s), so each worker starts with it
cached."""

import contextlib

from pipeline.stages.language.backend import factory

# A failure must not stop the fork server: the worker then loads the factory itself and reports it.
with contextlib.suppress(Exception):
    factory(0, prefer_fast=True)  # the default seed and backend; others load in the worker as before
