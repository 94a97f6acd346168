"""validate: every record against the pandera model; ids unique across the whole dataset.

Runs last, so a record that breaks the schema goes to the ledger (reason `schema`, detail the failed
checks) instead of into the published files.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pipeline.keys import BYTES_PER_RECORD, RepeatFinder, key_of
from pipeline.records import rejections, split
from pipeline.schema_loader import load_model, schema_failures
from pipeline.stage import GlobalStage, StageConfig, StageResult


class SchemaStageConfig(StageConfig):
    pass


class Validate(GlobalStage):
    name = "validate"
    config_class = SchemaStageConfig
    # apply() checks the schema per batch and asks the id finder by position only: it runs on the
    # workers (or Ray nodes), from any shard.
    apply_in_workers = True

    def __init__(self, model: Any, published_columns: list[str], model_source: tuple[Path | None, str]) -> None:
        super().__init__(SchemaStageConfig())
        self.model = model
        # (schema file, class name): a pandera model loaded from a file is not picklable, so a copy
        # sent to a worker for pass 2 loads it again from its source (as the worker's own plan does).
        self.model_source = model_source
        self.published_columns = published_columns
        self._ids = RepeatFinder()
        self._position = 0

    def prepare(self, batch: pa.RecordBatch) -> list[bytes]:
        return [key_of(i) for i in batch.column("id").to_pylist()]

    def collect(self, batch: pa.RecordBatch, prepared: list[bytes]) -> None:
        self._ids.collect(prepared)

    def decide(self) -> None:
        self._ids.decide()

    def _schema_failures(self, batch: pa.RecordBatch) -> dict[int, list[str]]:
        failures: dict[int, list[str]] = defaultdict(list)
        for failure in schema_failures(self.model, batch.select(self.published_columns).to_pandas()):
            message = f"{failure.column}: {failure.check}"
            if failure.row is None:
                # A column-level failure (missing column, wrong dtype) condemns every row.
                for row in range(batch.num_rows):
                    failures[row].append(message)
            else:
                failures[failure.row].append(f"{message} (value {str(failure.value)[:80]!r})")
        return failures

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "model": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.model = load_model(*self.model_source)

    def release(self) -> None:
        self._ids = RepeatFinder()

    def seek(self, position: int) -> None:
        self._position = position

    def apply(self, batch: pa.RecordBatch) -> StageResult:
        failures = self._schema_failures(batch)
        copies = self._ids.copies(self._position, batch.num_rows)
        self._position += batch.num_rows
        if copies.any():
            ids = batch.column("id").to_pylist()
            for row in np.flatnonzero(copies).tolist():
                failures[row].append(f"id: unique (id {ids[row]!r} already published)")
        mask = [row in failures for row in range(batch.num_rows)]
        details = ["schema checks failed: " + "; ".join(failures[row]) for row in sorted(failures)]
        return StageResult(
            kept=split(batch, mask),
            rejected=rejections(batch, mask, self.name, "schema", details),
        )

    def bytes_per_document(self) -> int:
        return BYTES_PER_RECORD
