"""Imported by the worker pool's fork server before it forks workers (the stage's `worker_preload`):
compiles the default rule lists' screen once there (a few hundredths of a CPU second), so each worker
finds the patterns in `re`'s cache instead of compiling them again."""

import contextlib

from pipeline.stages.clean import CleanConfig
from pipeline.stages.clean.boilerplate import load_rules, screen

# A failure must not stop the fork server: the worker then compiles the screen itself and reports it.
with contextlib.suppress(Exception):
    screen(load_rules(tuple(CleanConfig().rule_lists)))
