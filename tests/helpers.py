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


_SUBJECTS = ["The committee", "Our neighbour", "The old teacher", "A young engineer", "The city council", "My sister"]
_VERBS = ["explained", "described", "remembered", "discussed", "questioned", "announced"]
_OBJECTS = ["the new library", "the weather last winter", "their plans for the summer", "the price of bread"]
_TAILS = ["to everyone in the room.", "during the long meeting.", "before the end of the week.", "with great care."]


def english_corpus(folder: Path, count: int, *, skip: frozenset[int] = frozenset(), name: str = "docs.jsonl") -> Path:
    """A JSONL file of `count` distinct English documents with ids doc-00000...; indices in `skip` left out."""
    import json
    import random

    lines = []
    for index in range(count):
        if index in skip:
            continue
        rng = random.Random(index)
        sentences = [
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}"
            for _ in range(3 + index % 5)
        ]
        text = f"Report number {index} from the town. " + " ".join(sentences)
        lines.append(json.dumps({"id": f"doc-{index:05d}", "text": text}))
    return write(folder / name, "\n".join(lines) + "\n")
