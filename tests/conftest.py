"""Fixtures shared by all tests: run the real pipeline on a folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import make_config

from pipeline.execution.runner import Runner, RunResult


@pytest.fixture
def run_pipeline(tmp_path: Path) -> Callable[..., RunResult]:
    """run_pipeline(input_folder, *overrides, name="ds", output=None) -> RunResult."""

    def run(input_path: Path, *overrides: str, name: str = "ds", output: Path | None = None) -> RunResult:
        config = make_config(input_path, output or tmp_path / "out", name, list(overrides))
        return Runner(config).run()

    return run
