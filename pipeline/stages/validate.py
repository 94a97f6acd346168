"""validate: every record against the pandera model; ids unique across the whole dataset.

Runs last, so a record that breaks the schema goes to the ledger (reason `schema`, detail the failed
checks) instead of into the published files.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyarrow as pa

from pipeline.keys import BYTES_PER_RECORD, RepeatFinder, key_of
from pipeline.records import rejections, split
from pipeline.schema_loader import schema_failures
from pipeline.stage import GlobalStage, StageConfig, StageResult


class SchemaStageConfig(StageConfig):
    pass


class Validate(GlobalStage):
    name = "validate"
    config_class = SchemaStageConfig

    def __init__(self, model: Any, published_columns: list[str]) -> None:
        super().__init__(SchemaStageConfig())
        self.model = model
        self.published_columns = published_columns
        self._ids = RepeatFinder()

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

    def apply(self, batch: pa.RecordBatch) -> StageResult:
        failures = self._schema_failures(batch)
        for row, rid in enumerate(batch.column("id").to_pylist()):
            first = self._ids.visit(key_of(rid), rid)
            if first is not None:
                failures[row].append(f"id: unique (id {rid!r} already published)")
        mask = [row in failures for row in range(batch.num_rows)]
        details = ["schema checks failed: " + "; ".join(failures[row]) for row in sorted(failures)]
        return StageResult(
            kept=split(batch, mask),
            rejected=rejections(batch, mask, self.name, "schema", details),
        )

    def bytes_per_document(self) -> int:
        return BYTES_PER_RECORD
