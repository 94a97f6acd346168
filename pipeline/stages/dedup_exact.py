"""dedup_exact: group records whose text equals an earlier record's, up to case and whitespace.

The group's first record in input order is its first choice. Nothing is rejected here: the copies are
marked and the `survivors` stage, after every other stage, keeps one published copy per group and
rejects the rest as `exact_duplicate` with `duplicate_of` naming the published one.
"""

from __future__ import annotations

import pyarrow as pa

from pipeline.keys import BYTES_PER_RECORD, RepeatFinder, key_of
from pipeline.records import empty_ledger
from pipeline.stage import GlobalStage, StageConfig, StageResult
from pipeline.stages.survivors import EXACT, mark_fields


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
        # The finder knows each position's group from pass 1: no text is read or hashed again here.
        ids = batch.column("id").to_pylist()
        firsts, repeated = self._finder.visit_next(ids)
        groups: list[str | None] = []
        details: list[str | None] = []
        for rid, first, repeats in zip(ids, firsts, repeated, strict=True):
            if first is not None:
                groups.append(first)
                details.append(f"same text as {first} after folding case and whitespace")
            else:
                groups.append(rid if repeats else None)
                details.append(None)
        group_field, detail_field = mark_fields(EXACT)
        kept = batch.append_column(group_field, pa.array(groups, pa.string())).append_column(
            detail_field, pa.array(details, pa.string())
        )
        return StageResult(kept=kept, rejected=empty_ledger())

    def release(self) -> None:
        self._finder = RepeatFinder()

    def bytes_per_document(self) -> int:
        return BYTES_PER_RECORD
