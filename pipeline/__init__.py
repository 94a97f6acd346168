"""pipeline: raw text in, a validated Hugging Face Parquet dataset with a dataset card out.

The public API (everything a script, a notebook or a stage plugin needs; nothing else is promised):

    import pipeline
    result = pipeline.run("pipeline.toml", input="raw", stages=["normalize", "my_plugin"])
    report = pipeline.validate(result.dataset)

Names are imported on first use, so `import pipeline` (and `python -m pipeline validate`) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# Public name -> the module that defines it.
_EXPORTS = {
    # running and checking
    "run": "pipeline.api",
    # The module pipeline.validate is callable as the API function (see its end): importing it would
    # rebind the name anyway.
    "validate": "pipeline.validate",
    "Config": "pipeline.config",
    "load_config": "pipeline.config",
    "RunResult": "pipeline.execution.runner",
    "Tally": "pipeline.execution.runner",
    "Report": "pipeline.validate",
    # errors (each carries the command line's exit code)
    "PipelineError": "pipeline.errors",
    "UsageError": "pipeline.errors",
    "InputError": "pipeline.errors",
    "ValidationFailed": "pipeline.errors",
    "TooFewPublished": "pipeline.errors",
    "EnvironmentFailure": "pipeline.errors",
    # the stage contract
    "Stage": "pipeline.stage",
    "MapStage": "pipeline.stage",
    "GlobalStage": "pipeline.stage",
    "StageConfig": "pipeline.stage",
    "StageResult": "pipeline.stage",
    # building kept / rejected batches
    "split": "pipeline.records",
    "rejections": "pipeline.records",
    "empty_ledger": "pipeline.records",
    "described": "pipeline.records",
    "RECORD_SCHEMA": "pipeline.records",
    "LEDGER_SCHEMA": "pipeline.records",
    # shortcuts for one-function stages
    "filter_stage": "pipeline.shortcuts",
    "map_stage": "pipeline.shortcuts",
    "NoOptions": "pipeline.shortcuts",
    # the registry
    "resolve_stage": "pipeline.stages",
}

# Literal, so linters and IDEs see the names (a test checks it matches _EXPORTS).
__all__ = [
    "LEDGER_SCHEMA",
    "RECORD_SCHEMA",
    "Config",
    "EnvironmentFailure",
    "GlobalStage",
    "InputError",
    "MapStage",
    "NoOptions",
    "PipelineError",
    "Report",
    "RunResult",
    "Stage",
    "StageConfig",
    "StageResult",
    "Tally",
    "TooFewPublished",
    "UsageError",
    "ValidationFailed",
    "__version__",
    "described",
    "empty_ledger",
    "filter_stage",
    "load_config",
    "map_stage",
    "rejections",
    "resolve_stage",
    "run",
    "split",
    "validate",
]

if TYPE_CHECKING:
    from pipeline.api import run, validate
    from pipeline.config import Config, load_config
    from pipeline.errors import (
        EnvironmentFailure,
        InputError,
        PipelineError,
        TooFewPublished,
        UsageError,
        ValidationFailed,
    )
    from pipeline.execution.runner import RunResult, Tally
    from pipeline.records import LEDGER_SCHEMA, RECORD_SCHEMA, described, empty_ledger, rejections, split
    from pipeline.shortcuts import NoOptions, filter_stage, map_stage
    from pipeline.stage import GlobalStage, MapStage, Stage, StageConfig, StageResult
    from pipeline.stages import resolve_stage
    from pipeline.validate import Report


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    imported = import_module(module)
    value = imported if module == f"pipeline.{name}" else getattr(imported, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
