"""Runs shared by the report tests: the default run, and a busy run where every rejecting stage rejects."""

from __future__ import annotations

import shutil

import pytest
from helpers import REPO, make_config
from report_corpus import busy_corpus, strict_schema

from pipeline.execution.runner import Runner, RunResult


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    folder = tmp_path_factory.mktemp("default")
    shutil.copytree(REPO / "raw", folder / "raw")
    return Runner(make_config(folder / "raw", folder / "dist", "sample-web-pages")).run()


@pytest.fixture(scope="session")
def busy_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    folder = tmp_path_factory.mktemp("busy")
    busy_corpus(folder / "input")
    schema = strict_schema(folder)
    overrides = [f'validate.schema_file="{schema}"', 'validate.model="StrictRecord"', "run.workers=2"]
    return Runner(make_config(folder / "input", folder / "dist", "busy", overrides)).run()
