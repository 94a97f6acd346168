"""Helpers for tests: build configs, read back what a run wrote, write input files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import Config, load_config
from pipeline.execution.runner import RunResult

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


def write_enriched_dataset(folder: Path, count: int = 40, splits: dict[str, float] | None = None) -> Path:
    """A dataset written straight through DatasetWriter with the columns other stages add: a `pii`
    struct of per-kind counts, a `quality` struct and `duplicate_count` (document i has i % 3 emails,
    i % 2 phone numbers and i % 4 duplicates)."""
    from datasets import Features

    from pipeline.config import PublishConfig
    from pipeline.publish.card import StageCount
    from pipeline.publish.dataset import DatasetWriter, RunFacts

    schema = pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("source", pa.string()),
            ("url", pa.string()),
            ("language", pa.string()),
            ("language_score", pa.float64()),
            ("pii", pa.struct([("email", pa.int64()), ("phone", pa.int64())])),
            ("quality", pa.struct([("score", pa.float64()), ("mean_word_length", pa.float64())])),
            ("duplicate_count", pa.int64()),
            ("num_chars", pa.int64()),
            ("num_words", pa.int64()),
        ]
    )
    texts = [f"Document {i} says hello to the reader number {i}." for i in range(count)]
    rows = [
        {
            "id": f"doc-{i:04d}",
            "text": text,
            "source": f"in.jsonl#{i + 1}",
            "url": None if i % 2 else f"https://example.org/{i}",
            "language": "en",
            "language_score": 0.99,
            "pii": {"email": i % 3, "phone": i % 2},
            "quality": {"score": (i % 10) / 10, "mean_word_length": 4.5},
            "duplicate_count": i % 4,
            "num_chars": len(text),
            "num_words": len(text.split()),
        }
        for i, text in enumerate(texts)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    config = PublishConfig(splits=splits or {"train": 1.0}, citation="@misc{x, title={X}}", version="2.0.0")
    descriptions = {"pii": "Personal data items redacted, per kind.", "quality": "Quality signals."}
    writer = DatasetWriter(folder, schema, Features.from_arrow_schema(schema), descriptions, config)
    for start in range(0, count, 16):
        writer.write(pa.RecordBatch.from_pylist(rows[start : start + 16], schema=schema))
    stages = [StageCount("ingest", count, count, {}), StageCount("pii", count, count, {})]
    writer.finish(RunFacts("enriched", stages, [("in.jsonl", "0" * 64, 100)], count, 0, "f" * 64, {}))
    return folder


def load_config_model() -> type:
    """The pandera model the repository's pipeline.toml validates with."""
    from pipeline.schema_loader import load_model

    return load_model(REPO / "schemas" / "published.py", "PublishedRecord")


# The spine's transform stages: tests of ingest, publishing and validation pin them so that the
# boilerplate, PII and quality stages (tested on their own) do not change their expected counts.
SPINE = 'run.stages=["normalize", "dedup_exact", "language"]'
