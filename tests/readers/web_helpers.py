"""Shared by the web-format reader tests: run settings that keep every language, and ledger/dataset access."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers import SPINE, read_dataset, read_ledger

from pipeline.execution.runner import RunResult

# The language stage is not under test here: keep every page whatever its language.
# Reader tests run the spine's stages only (a later run.stages override still wins), in any language.
ANY_LANGUAGE = (SPINE, "language.languages=[]", "language.min_language_score=0.0")


def published_rows(result: RunResult) -> list[dict[str, Any]]:
    return read_dataset(result.dataset).to_pylist()


def ledger_rows(result: RunResult) -> list[dict[str, Any]]:
    return read_ledger(result).to_pylist()


def ingest_notes(result: RunResult) -> dict[str, Any]:
    run = json.loads((result.report / "run.json").read_text(encoding="utf-8"))
    return next(s for s in run["stages"] if s["name"] == "ingest")["notes"]


def per_file(result: RunResult) -> dict[str, dict[str, int]]:
    return json.loads((result.report / "run.json").read_text(encoding="utf-8"))["per_file"]


def copy_to(folder: Path, source: Path, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or source.name)
    target.write_bytes(source.read_bytes())
    return target
