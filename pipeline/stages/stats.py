"""stats: the length columns every published record carries (always runs, before validation)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.records import described, empty_ledger
from pipeline.stage import MapStage, StageConfig, StageResult


class StatsConfig(StageConfig):
    pass


class Stats(MapStage):
    name = "stats"
    config_class = StatsConfig

    def output_fields(self) -> list[pa.Field]:
        return [
            described("num_chars", pa.int64(), "Length of `text` in Unicode code points."),
            described("num_words", pa.int64(), "Number of whitespace-separated tokens in `text`."),
        ]

    def process(self, batch: pa.RecordBatch) -> StageResult:
        text = batch.column("text")
        chars = pc.cast(pc.utf8_length(text), pa.int64())
        words = pc.cast(pc.list_value_length(pc.utf8_split_whitespace(text)), pa.int64())
        fields = self.output_fields()
        return StageResult(
            kept=batch.append_column(fields[0], chars).append_column(fields[1], words),
            rejected=empty_ledger(),
        )
