"""language: langdetect with a fixed seed and its profiles loaded in sorted order.

langdetect loads its profiles in `os.listdir` order, and the order changes the detector's
probabilities (a different dataset per file system). We load them ourselves, sorted by name.
"""

from __future__ import annotations

import json
import os
from functools import cache

import pyarrow as pa

from pipeline.records import described, rejections, split
from pipeline.stage import MapStage, StageConfig, StageResult

UNDETERMINED = "und"


class LanguageConfig(StageConfig):
    # Languages to keep (langdetect codes, e.g. "en", "de", "zh-cn"); an empty list keeps every language.
    languages: list[str] = ["en"]
    min_language_score: float = 0.80
    # Detect on at most this many leading characters: langdetect's cost grows with length.
    max_chars: int = 2000
    seed: int = 0


@cache
def _factory(seed: int):  # type: ignore[no-untyped-def]
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    from langdetect.utils.lang_profile import LangProfile

    factory = DetectorFactory()
    factory.set_seed(seed)
    names = sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith("."))
    for index, name in enumerate(names):
        with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as f:
            factory.add_profile(LangProfile(**json.load(f)), index, len(names))
    return factory


def detect(text: str, seed: int = 0) -> tuple[str, float]:
    """(language code, probability); ('und', 0.0) for text without letters or features."""
    from langdetect.lang_detect_exception import LangDetectException

    if not any(c.isalpha() for c in text):
        return UNDETERMINED, 0.0
    detector = _factory(seed).create()
    detector.append(text)
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return UNDETERMINED, 0.0
    return best.lang, float(best.prob)


def supported_languages() -> list[str]:
    return _factory(0).get_lang_list()


class Language(MapStage):
    name = "language"
    config_class = LanguageConfig
    config: LanguageConfig

    def output_fields(self) -> list[pa.Field]:
        return [
            described("language", pa.string(), "Language code detected by langdetect (ISO 639-1; zh-cn, zh-tw)."),
            described("language_score", pa.float64(), "langdetect's probability for `language`, in [0, 1]."),
        ]

    def card_notes(self) -> dict[str, object]:
        return {"backend": "langdetect", "seed": self.config.seed, "profiles": "sorted by name"}

    def process(self, batch: pa.RecordBatch) -> StageResult:
        keep = set(self.config.languages)
        results = [detect(t[: self.config.max_chars], self.config.seed) for t in batch.column("text").to_pylist()]
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
