"""Helpers for tests: build configs, read back what a run wrote, write input files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import Config, load_config
from pipeline.runner import RunResult

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def make_config(input_path: Path, output: Path, name: str = "ds", overrides: list[str] | None = None) -> Config:
    """The repository's default config, pointed at `input_path`, with `--set`-style overrides."""
    sets = [f'run.input="{input_path}"', f'run.output="{output}"', f'run.name="{name}"', *(overrides or [])]
    return load_config(REPO / "pipeline.toml", sets)


def read_dataset(folder: Path) -> pa.Table:
    return pq.read_table(sorted((folder / "data").glob("*.parquet")))


def read_ledger(result: RunResult) -> pa.Table:
    return pq.read_table(result.report / "rejected.parquet")


def write(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode(encoding)
    path.write_bytes(data)
    return path
