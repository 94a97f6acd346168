"""The stage contract: records in, (kept, rejected) out.

A `MapStage` looks at one batch at a time and must be a pure function of that batch, so it can run
in any process and in any batch size. A `GlobalStage` needs the whole stream: in pass 1 the runner
computes `prepare(batch)` (the per-record work: hashes, signatures; a pure function, so it may run in
a worker process) and hands it with the batch to `collect`, which keeps the compact state centrally;
it calls `decide` once, then streams the same batches, in the same order, through `apply` (pass 2).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from pipeline.errors import PipelineError, StageFailed


class StageConfig(BaseModel):
    """Base of every stage's typed config: unknown keys and wrong types are errors, not ignored."""

    # A docstring under a field is its description: the configuration reference is generated from it
    # (pipeline/docs_gen.py), so every key is described once, next to its type and default.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True)


@dataclass(frozen=True)
class StageResult:
    kept: pa.RecordBatch
    # Rows of records.LEDGER_SCHEMA.
    rejected: pa.RecordBatch
    # Named audit tables (e.g. "removed_lines"): the runner appends each to <name>.report/<key>.parquet.
    # Each key must always come with the same schema.
    side: dict[str, pa.RecordBatch] = field(default_factory=dict)


class Stage(ABC):
    name: ClassVar[str]
    config_class: ClassVar[type[StageConfig]]

    def __init__(self, config: StageConfig) -> None:
        self.config = config

    def output_fields(self) -> list[pa.Field]:
        """Columns this stage appends to every kept record (published unless internal)."""
        return []

    def card_notes(self) -> dict[str, Any]:
        """Facts about this stage's run worth recording in run.json and the card (parameters)."""
        return {}

    def shard_notes(self) -> dict[str, str]:
        """Facts about how the process that ran a shard ran the stage (which backend it loaded).

        Recorded with each shard's counts and merged into the card notes, so the card says what the
        workers did rather than what the main process would have done (it need not load a backend).
        """
        return {}


@contextmanager
def stage_errors(stage: Stage, step: str) -> Iterator[None]:
    """Name the stage in an unexpected exception it raises, and whose code it is (built in or a plugin).

    A plugin's bug would otherwise read as "a pipeline bug" from a worker process; the traceback stays
    on the exception chain for `--debug`. Errors that already say what to do (PipelineError) and the
    machine's refusals (OSError, MemoryError: exit 5) pass through unchanged.
    """
    try:
        yield
    except (PipelineError, OSError, MemoryError):
        raise
    except Exception as exc:
        module = type(stage).__module__
        plugin = not (module == "pipeline" or module.startswith("pipeline."))
        what = f"stage {stage.name}" + (f" (plugin {module}:{type(stage).__qualname__})" if plugin else "")
        whose = "a bug in the plugin: report it to its authors" if plugin else "a pipeline bug: report it"
        message = " ".join(str(exc).split())[:300]
        raise StageFailed(
            f"{what} raised {type(exc).__name__} in {step}: {message} ({whose}; rerun with --debug for the traceback)"
        ) from exc


class MapStage(Stage):
    @abstractmethod
    def process(self, batch: pa.RecordBatch) -> StageResult: ...


class GlobalStage(Stage):
    # True if apply() is a pure function of the decided state, the batch and its first record's
    # position (see `seek`): pass 2 then runs in the worker processes, from a pickle of the stage.
    apply_in_workers: ClassVar[bool] = False

    def seek(self, position: int) -> None:
        """Pass 2 in a worker: the next apply() gets the batch whose first record is record `position`."""

    def prepare(self, batch: pa.RecordBatch) -> Any:
        """Pass 1, per-record part: a pure, picklable function of the batch (may run in a worker)."""
        return None

    @abstractmethod
    def collect(self, batch: pa.RecordBatch, prepared: Any) -> None:
        """Pass 1, central part: keep only the compact state the decision needs, in input order."""

    @abstractmethod
    def decide(self) -> None:
        """Between the passes: make the global decision from the collected state."""

    @abstractmethod
    def apply(self, batch: pa.RecordBatch) -> StageResult:
        """Pass 2: the same batches in the same order; split each by the decision."""

    def bytes_per_document(self) -> int:
        """Memory this stage holds per document between the passes, for the README and run.json."""
        return 0

    def release(self) -> None:
        """Optional: drop the decision. The runner calls it once pass 2 is over and the stage's notes
        are recorded (the stage is not applied again in the run), so that the states of a run's
        global stages do not add up in the main process."""
