"""no_shouting: reject documents written mostly in capitals; add their share of capitals as a column.

A full `MapStage`: it works on whole Arrow batches, declares the column it adds with
`output_fields`, and writes its rejections to the ledger with its own reason, `shouting`.
"""

from __future__ import annotations

import pyarrow as pa
from pydantic import Field

from pipeline import MapStage, StageConfig, StageResult, described, rejections, split


class NoShoutingConfig(StageConfig):
    # Reject when more than this share of the letters are upper case.
    max_upper_ratio: float = Field(default=0.5, ge=0.0, le=1.0)
    # Documents with fewer letters are kept whatever their case (headlines, codes, short notes).
    min_letters: int = Field(default=20, ge=1)


UPPER_RATIO = described("upper_ratio", pa.float64(), "Share of the letters that are upper case (0 to 1).")


def upper_ratio(text: str) -> tuple[float, int]:
    """(share of upper-case letters, number of letters) of a text."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0, 0
    return sum(c.isupper() for c in letters) / len(letters), len(letters)


class NoShouting(MapStage):
    name = "no_shouting"
    config_class = NoShoutingConfig
    config: NoShoutingConfig

    def output_fields(self) -> list[pa.Field]:
        return [UPPER_RATIO]

    def card_notes(self) -> dict[str, float | int]:
        return {"max_upper_ratio": self.config.max_upper_ratio, "min_letters": self.config.min_letters}

    def process(self, batch: pa.RecordBatch) -> StageResult:
        # A pure function of the batch, record by record: the same output for any batch size or worker.
        measured = [upper_ratio(text) for text in batch.column("text").to_pylist()]
        limit = self.config.max_upper_ratio
        mask = [letters >= self.config.min_letters and ratio > limit for ratio, letters in measured]
        details = [f"{ratio:.0%} of {letters} letters are capitals (limit {limit:.0%})" for ratio, letters in measured]
        kept = split(batch, mask)
        ratios = pa.array([round(r, 4) for (r, _), m in zip(measured, mask, strict=True) if not m], pa.float64())
        return StageResult(
            kept=kept.append_column(UPPER_RATIO, ratios),
            rejected=rejections(
                batch, mask, self.name, "shouting", [d for d, m in zip(details, mask, strict=True) if m]
            ),
        )
