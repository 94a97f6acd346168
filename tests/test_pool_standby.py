"""Executor.standby: a task that runs where its preparation ran, told to go (or not) by the main process."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import make_config

from pipeline.execution.plan import build_plan
from pipeline.execution.pool import LocalExecutor

_PREPARED: list[str] = []  # in each worker process, what _prepare was given there


def _prepare(tag: str) -> None:
    _PREPARED.append(tag)


def _where(extra: int) -> tuple[list[str], int, int]:
    return list(_PREPARED), os.getpid(), extra


def _executor(tmp_path: Path, workers: int) -> LocalExecutor:
    config = make_config(tmp_path / "in", tmp_path / "out")
    return LocalExecutor(config, build_plan(config), workers)


def test_the_task_runs_in_the_worker_that_prepared(tmp_path: Path) -> None:
    with _executor(tmp_path, 2) as executor:
        standby = executor.standby(_prepare, ("loaded",), _where, 7)
        # Meanwhile the other worker runs what is submitted: the standby holds its own.
        other = [executor.background(_where, i)() for i in range(3)]
        standby.go()
        prepared, pid, extra = standby.result()
        standby.cancel()  # after result(): harmless
    assert (prepared, extra) == (["loaded"], 7)
    assert pid != os.getpid()
    assert {p for _, p, _ in other} != {pid} and all(not seen for seen, _, _ in other)


def test_a_cancelled_standby_frees_its_worker(tmp_path: Path) -> None:
    with _executor(tmp_path, 2) as executor:
        standby = executor.standby(_prepare, ("never used",), _where, 1)
        standby.cancel()
        # Both workers take tasks again, and the pool closes without waiting for a word.
        results = [executor.background(_where, i) for i in range(4)]
        assert [extra for _, _, extra in (r() for r in results)] == [0, 1, 2, 3]


def test_without_workers_the_task_runs_here_at_go(tmp_path: Path) -> None:
    with _executor(tmp_path, 1) as executor:
        standby = executor.standby(_prepare, ("ignored",), _where, 3)
        standby.go()
        _, pid, extra = standby.result()
        standby.cancel()
    assert (pid, extra) == (os.getpid(), 3)


def test_closing_the_executor_releases_a_standby_never_told(tmp_path: Path) -> None:
    # A caller that fails before it can say go or cancel must not leave the pool's shutdown waiting.
    executor = _executor(tmp_path, 2)
    standby = executor.standby(_prepare, ("x",), _where, 1)
    executor.close()
    assert standby.result() is None
