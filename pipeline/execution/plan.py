"""The plan of a run: the stage objects built from the config, and the steps they are grouped into.

Both the main process and every pool worker build the stages from the (picklable) config with
`build_plan`, so no live stage object ever crosses a process boundary.

A step is the unit the work folder checkpoints: ingest, then each run of consecutive map stages
(fused, so a batch crosses to a worker once for all of them), then each global stage on its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline import __version__
from pipeline.config import Config
from pipeline.records import INTERNAL_COLUMNS, RECORD_FIELDS
from pipeline.schema_loader import load_model
from pipeline.stage import GlobalStage, MapStage, Stage
from pipeline.stages import stage_version
from pipeline.stages.stats import Stats, StatsConfig
from pipeline.stages.survivors import MARKS, Survivors, SurvivorsConfig
from pipeline.stages.validate import Validate


@dataclass
class Plan:
    stages: list[Stage]
    published_fields: list[pa.Field]
    model: Any
    schema_file: Path | None


@dataclass(frozen=True)
class Step:
    """A checkpointed unit: `kind` is "ingest", "map" (stage indices fused) or "global" (one stage)."""

    kind: str
    stage_indices: tuple[int, ...]
    name: str
    key: str


def build_plan(config: Config) -> Plan:
    schema_file = config.resolve(config.validate_.schema_file) if config.validate_.schema_file else None
    model = load_model(schema_file, config.validate_.model)
    stages: list[Stage] = [stage(config.stage_config(stage.name)) for stage in config.stage_classes()]
    stages.append(Stats(StatsConfig()))
    published = [f for f in RECORD_FIELDS if f.name not in INTERNAL_COLUMNS]
    for stage in stages:
        published += stage.output_fields()
    stages.append(Validate(model, [f.name for f in published], (schema_file, config.validate_.model)))
    # Copies are rejected only once every other stage has decided, so duplicate_of names a published record.
    dedup = [name for name in config.run.stages if name in MARKS]
    if dedup:
        stages.append(Survivors(SurvivorsConfig(stages=dedup)))
    return Plan(stages, published, model, schema_file)


def _digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stage_identity(stage: Stage, plan: Plan) -> dict[str, Any]:
    identity: dict[str, Any] = {"name": stage.name, "config": stage.config.model_dump(mode="json")}
    code = stage_version(type(stage)) if not isinstance(stage, Validate) else {}
    if code.get("source") != "built-in":
        # A plugin's code is not covered by pipeline's version: its own version and source hash are.
        identity["code"] = code
    if isinstance(stage, Validate):
        # The schema lives in a file: its content, not its path, decides what validate does.
        source = plan.schema_file or Path(__file__).resolve().parent.parent / "schemas" / "published.py"
        identity["schema"] = hashlib.sha256(source.read_bytes()).hexdigest() if source.is_file() else "package"
        identity["columns"] = stage.published_columns
    return identity


def build_steps(config: Config, plan: Plan, inputs: list[tuple[str, str, int]]) -> list[Step]:
    """The steps in run order, each keyed by everything that decides its output.

    A step's key chains the previous step's key, so a changed input or config invalidates exactly the
    first step it affects and everything after it, while the steps before it are reused.
    """
    key = _digest(
        {
            "pipeline": __version__,
            "inputs": inputs,
            "ingest": config.ingest.model_dump(mode="json"),
            "batch_size": config.run.batch_size,
        }
    )
    steps = [Step("ingest", (), "ingest", key)]
    pending: list[int] = []

    def close_map_run() -> None:
        nonlocal key
        if pending:
            names = "+".join(plan.stages[i].name for i in pending)
            key = _digest({"previous": key, "stages": [_stage_identity(plan.stages[i], plan) for i in pending]})
            steps.append(Step("map", tuple(pending), names, key))
            pending.clear()

    for index, stage in enumerate(plan.stages):
        if isinstance(stage, MapStage):
            pending.append(index)
        elif isinstance(stage, GlobalStage):
            close_map_run()
            key = _digest({"previous": key, "stages": [_stage_identity(stage, plan)]})
            steps.append(Step("global", (index,), stage.name, key))
    close_map_run()
    return steps
