"""language: langdetect with a fixed seed and its profiles loaded in sorted order.

langdetect loads its profiles in `os.listdir` order, and the order changes the detector's
probabilities (a different dataset per file system). We load them ourselves, sorted by name.
With the `fast` extra, langdetect-rs gives the same answers much faster (see backend.py beside this module).
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa

from pipeline.records import described, rejections, split
from pipeline.stage import MapStage, StageConfig, StageResult
from pipeline.stages.language import backend as langdetect_backend

UNDETERMINED = "und"


class LanguageConfig(StageConfig):
    """Language identification with langdetect (seeded, profiles loaded in sorted order)."""

    languages: list[str] = ["en"]
    """Languages to keep (langdetect codes: `en`, `de`, `zh-cn`, …); `[]` keeps every language."""
    min_language_score: float = 0.80
    """Below this probability a record is rejected as `language_uncertain`."""
    # langdetect's cost grows with the length of the text.
    max_chars: int = 2000
    """Detect on at most this many leading characters."""
    seed: int = 0
    """langdetect's random seed."""
    backend: Literal["auto", "langdetect"] = "auto"
    """`auto`: langdetect-rs (the `fast` extra) when installed and its self-check passes; else langdetect."""


def _factory(seed: int, backend: str = "auto"):  # type: ignore[no-untyped-def]
    return langdetect_backend.factory(seed, prefer_fast=backend == "auto")[1]


def detect(text: str, seed: int = 0, backend: str = "auto") -> tuple[str, float]:
    """(language code, probability); ('und', 0.0) for text without letters or features."""
    if not any(c.isalpha() for c in text):
        return UNDETERMINED, 0.0
    detector = _factory(seed, backend).create()
    detector.append(text)
    try:
        best = detector.get_probabilities()[0]
    except Exception:  # LangDetectException of either backend, or no probabilities
        return UNDETERMINED, 0.0
    return best.lang, float(best.prob)


def supported_languages() -> list[str]:
    return _factory(0).get_lang_list()


class Language(MapStage):
    name = "language"
    # Modules the local pool's fork server imports before forking workers (see warm.py).
    worker_preload = ("pipeline.stages.language.warm",)
    config_class = LanguageConfig
    config: LanguageConfig

    def output_fields(self) -> list[pa.Field]:
        return [
            described("language", pa.string(), "Language code detected by langdetect (ISO 639-1; zh-cn, zh-tw)."),
            described("language_score", pa.float64(), "langdetect's probability for `language`, in [0, 1]."),
        ]

    def card_notes(self) -> dict[str, object]:
        return {"seed": self.config.seed, "profiles": "sorted by name"}

    def shard_notes(self) -> dict[str, str]:
        # The backend this process detects with (cached: loaded once per process, by the first shard).
        return {"backend": langdetect_backend.factory(self.config.seed, prefer_fast=self.config.backend == "auto")[0]}

    def process(self, batch: pa.RecordBatch) -> StageResult:
        keep = set(self.config.languages)
        limit, seed, backend = self.config.max_chars, self.config.seed, self.config.backend
        results = [detect(t[:limit], seed, backend) for t in batch.column("text").to_pylist()]
        reasons: list[str | None] = []
        for lang, score in results:
            if lang == UNDETERMINED:
                reasons.append("no_language")
            elif score < self.config.min_language_score:
                reasons.append("language_uncertain")
            elif keep and lang not in keep:
                reasons.append("language")
            else:
                reasons.append(None)
        mask = [r is not None for r in reasons]
        wanted = ", ".join(sorted(keep)) or "any"
        details = [
            {
                "no_language": "no letters or no language features in the text",
                "language_uncertain": f"detected {lang} with probability {score:.3f} "
                f"< language.min_language_score={self.config.min_language_score}",
                "language": f"detected {lang} ({score:.3f}); language.languages keeps {wanted}",
            }[reason]
            for reason, (lang, score) in zip(reasons, results, strict=True)
            if reason is not None
        ]
        annotated = batch.append_column(
            self.output_fields()[0], pa.array([lang for lang, _ in results], pa.string())
        ).append_column(self.output_fields()[1], pa.array([score for _, score in results], pa.float64()))
        return StageResult(
            kept=split(annotated, mask),
            rejected=rejections(batch, mask, self.name, [r for r in reasons if r], details),
        )
