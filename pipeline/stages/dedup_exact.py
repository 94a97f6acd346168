"""dedup_exact: drop records whose text equals an earlier record's, up to case and whitespace."""

from __future__ import annotations

import pyarrow as pa

from pipeline.keys import BYTES_PER_RECORD, RepeatFinder, key_of
from pipeline.records import rejections, split
from pipeline.stage import GlobalStage, StageConfig, StageResult


class DedupExactConfig(StageConfig):
    """Exact duplicates out: the first record in input order is kept."""

    fold_case: bool = True
    """Compare texts case-insensitively (Unicode casefold)."""
    fold_whitespace: bool = True
    """Compare texts with every whitespace run collapsed."""


class DedupExact(GlobalStage):
    name = "dedup_exact"
    config_class = DedupExactConfig
    config: DedupExactConfig

    def __init__(self, config: DedupExactConfig) -> None:
        super().__init__(config)
        self._finder = RepeatFinder()

    def _key(self, text: str) -> bytes:
        if self.config.fold_whitespace:
            text = " ".join(text.split())
        if self.config.fold_case:
            text = text.casefold()
        return key_of(text)

    def prepare(self, batch: pa.RecordBatch) -> list[bytes]:
        return [self._key(t) for t in batch.column("text").to_pylist()]

    def collect(self, batch: pa.RecordBatch, prepared: list[bytes]) -> None:
        self._finder.collect(prepared)

    def decide(self) -> None:
        self._finder.decide()

    def apply(self, batch: pa.RecordBatch) -> StageResult:
        ids = batch.column("id").to_pylist()
        firsts = [
            self._finder.visit(self._key(text), rid)
            for text, rid in zip(batch.column("text").to_pylist(), ids, strict=True)
        ]
        mask = [first is not None for first in firsts]
        duplicate_of = [first for first in firsts if first is not None]
        return StageResult(
            kept=split(batch, mask),
            rejected=rejections(
                batch,
                mask,
                self.name,
                "exact_duplicate",
                [f"same text as {first} after folding case and whitespace" for first in duplicate_of],
                duplicate_of,
            ),
        )

    def bytes_per_document(self) -> int:
        return BYTES_PER_RECORD
