"""quality: Gopher, C4 and FineWeb signals as a `quality` struct, their filters, and a `quality_score`.

Every threshold defaults to the published value (Gopher: Rae et al. 2021, appendix A and table A1;
C4: Raffel et al. 2020; FineWeb: Penedo et al. 2024). Where a paper leaves a detail open the signals
follow datatrove 0.10.1; docs/quality-rules.md lists every deliberate difference, and the parity test
(tests/stages/test_quality_parity.py) holds the stage to it. A document failing a rule is rejected
as `quality:<rule>` with the measured value and the threshold in the detail; rules are checked in the
order of RULES and the first failure names the rejection.

Word-based rules need a language written with spaces between words (`unsegmented_languages` skip
them) and the stop-word rule needs a stop-word list (pipeline/data/stopwords/<lang>.txt); a document
whose language lacks either skips those rules instead of failing them. Without a `language` column
(the language stage did not run) the stop-word rule is skipped for every document.

`quality_score` is the mean over the applicable, enabled rules of a soft pass value: 1 well inside the
limit (at half of a maximum, at twice a minimum), 0.5 exactly at it, 0 at twice a maximum or at zero for
a minimum, linear in between; a flag rule (lorem ipsum, curly braces) is 1 or 0. The mean of a document
that fails a rule is halved. So the score is >= 0.5 exactly when the document passes every rule, and it
ranks documents by how far inside the limits they sit (the near-duplicate stage keeps the best copy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field, field_validator, model_validator

from pipeline.records import described, rejections, split
from pipeline.stage import MapStage, StageConfig, StageResult
from pipeline.stages.quality.signals import DUP_NGRAMS, SIGNALS, TOP_NGRAMS, compute_batch


@dataclass(frozen=True)
class Rule:
    name: str
    signal: str
    # min: reject below; min_or_equal: reject at or below; max: reject above; max_or_equal: reject at or
    # above (FineWeb's comparisons); flag: reject when the signal is true.
    kind: Literal["min", "min_or_equal", "max", "max_or_equal", "flag"]
    needs_words: bool = False


RULES: list[Rule] = [
    Rule("gopher_min_words", "words", "min", True),
    Rule("gopher_max_words", "words", "max", True),
    Rule("gopher_min_mean_word_length", "mean_word_length", "min", True),
    Rule("gopher_max_mean_word_length", "mean_word_length", "max", True),
    # Ratios per token and C4's words per line mean nothing where words are not separated by spaces.
    Rule("gopher_max_hash_ratio", "hash_word_ratio", "max", True),
    Rule("gopher_max_ellipsis_ratio", "ellipsis_word_ratio", "max", True),
    Rule("gopher_max_bullet_lines", "bullet_lines_frac", "max"),
    Rule("gopher_max_ellipsis_lines", "ellipsis_lines_frac", "max"),
    Rule("gopher_min_alpha_words", "alpha_words_frac", "min", True),
    Rule("gopher_min_stop_words", "stop_words", "min", True),
    Rule("gopher_max_dup_line_frac", "dup_line_frac", "max"),
    Rule("gopher_max_dup_para_frac", "dup_para_frac", "max"),
    Rule("gopher_max_dup_line_char_frac", "dup_line_char_frac", "max"),
    Rule("gopher_max_dup_para_char_frac", "dup_para_char_frac", "max"),
    *[Rule(f"gopher_max_top_{n}gram", f"top_{n}gram_char_frac", "max", True) for n in TOP_NGRAMS],
    *[Rule(f"gopher_max_dup_{n}gram", f"dup_{n}gram_char_frac", "max", True) for n in DUP_NGRAMS],
    Rule("c4_lorem_ipsum", "lorem_ipsum", "flag"),
    Rule("c4_curly_brace", "curly_brace", "flag"),
    Rule("c4_min_sentences", "c4_sentences", "min", True),
    Rule("fineweb_min_line_punct", "line_punct_ratio", "min_or_equal"),
    Rule("fineweb_max_short_lines", "short_line_ratio", "max_or_equal"),
    Rule("fineweb_max_char_dup", "char_dup_ratio", "max_or_equal"),
    Rule("fineweb_max_list_ratio", "list_ratio", "max", True),
]
RULE_NAMES = [rule.name for rule in RULES]
_ARROW = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}


class QualityConfig(StageConfig):
    """Gopher, C4 and FineWeb signals; each threshold rejects as `quality:<key>`."""

    filter: bool = True
    """`false`: compute the signals and the score, reject nothing."""
    disabled_rules: list[str] = []
    """Rules (by key, e.g. `c4_curly_brace`) that neither reject nor count in `quality_score`."""
    language_overrides: dict[str, dict[str, float]] = {}
    """Per-language thresholds replacing the defaults, e.g. `de = { gopher_max_mean_word_length = 12 }`."""
    unsegmented_languages: list[str] = ["zh-cn", "zh-tw", "ja", "ko", "th"]
    """Languages written without spaces: word-count rules are skipped for them."""

    gopher_min_words: float = Field(default=50, ge=0)
    """Reject when the document has fewer words (Gopher)."""
    gopher_max_words: float = Field(default=100_000, ge=0)
    """Reject when the document has more words (Gopher)."""
    gopher_min_mean_word_length: float = Field(default=3, ge=0)
    """Reject when the mean word length is below (Gopher)."""
    gopher_max_mean_word_length: float = Field(default=10, ge=0)
    """Reject when the mean word length is above (Gopher)."""
    gopher_max_hash_ratio: float = Field(default=0.1, ge=0)
    """Reject when `#` symbols per word exceed this (Gopher)."""
    gopher_max_ellipsis_ratio: float = Field(default=0.1, ge=0)
    """Reject when ellipses per word exceed this (Gopher)."""
    gopher_max_bullet_lines: float = Field(default=0.9, ge=0)
    """Reject when the fraction of lines starting with a bullet exceeds this (Gopher)."""
    gopher_max_ellipsis_lines: float = Field(default=0.3, ge=0)
    """Reject when the fraction of lines ending in an ellipsis exceeds this (Gopher)."""
    gopher_min_alpha_words: float = Field(default=0.8, ge=0)
    """Reject when the fraction of words containing a letter is below (Gopher)."""
    gopher_min_stop_words: float = Field(default=2, ge=0)
    """Reject when fewer stop words occur (Gopher; languages with a stop-word list only)."""
    gopher_max_dup_line_frac: float = Field(default=0.3, ge=0)
    """Reject when the fraction of repeated lines exceeds this (Gopher repetition)."""
    gopher_max_dup_para_frac: float = Field(default=0.3, ge=0)
    """Reject when the fraction of repeated paragraphs exceeds this (Gopher repetition)."""
    gopher_max_dup_line_char_frac: float = Field(default=0.2, ge=0)
    """Reject when characters in repeated lines exceed this fraction (Gopher repetition)."""
    gopher_max_dup_para_char_frac: float = Field(default=0.2, ge=0)
    """Reject when characters in repeated paragraphs exceed this fraction (Gopher repetition)."""
    gopher_max_top_2gram: float = Field(default=0.20, ge=0)
    """Reject when the most frequent word 2-gram covers more than this fraction of characters."""
    gopher_max_top_3gram: float = Field(default=0.18, ge=0)
    """Reject when the most frequent word 3-gram covers more than this fraction of characters."""
    gopher_max_top_4gram: float = Field(default=0.16, ge=0)
    """Reject when the most frequent word 4-gram covers more than this fraction of characters."""
    gopher_max_dup_5gram: float = Field(default=0.15, ge=0)
    """Reject when repeated word 5-grams cover more than this fraction of characters."""
    gopher_max_dup_6gram: float = Field(default=0.14, ge=0)
    """Reject when repeated word 6-grams cover more than this fraction of characters."""
    gopher_max_dup_7gram: float = Field(default=0.13, ge=0)
    """Reject when repeated word 7-grams cover more than this fraction of characters."""
    gopher_max_dup_8gram: float = Field(default=0.12, ge=0)
    """Reject when repeated word 8-grams cover more than this fraction of characters."""
    gopher_max_dup_9gram: float = Field(default=0.11, ge=0)
    """Reject when repeated word 9-grams cover more than this fraction of characters."""
    gopher_max_dup_10gram: float = Field(default=0.10, ge=0)
    """Reject when repeated word 10-grams cover more than this fraction of characters."""
    c4_lorem_ipsum: bool = True
    """Reject documents containing "lorem ipsum" (C4)."""
    c4_curly_brace: bool = True
    """Reject documents containing a curly brace (C4)."""
    c4_min_sentences: float = Field(default=5, ge=0)
    """Reject when the document has fewer sentences (C4)."""
    fineweb_min_line_punct: float = Field(default=0.12, ge=0)
    """Reject when the fraction of lines ending in punctuation is at or below this (FineWeb)."""
    fineweb_max_short_lines: float = Field(default=0.67, ge=0)
    """Reject when the fraction of short lines is at or above this (FineWeb)."""
    fineweb_max_char_dup: float = Field(default=0.01, ge=0)
    """Reject when characters in duplicated lines are at or above this fraction (FineWeb)."""
    fineweb_max_list_ratio: float = Field(default=0.3, ge=0)
    """Reject when the fraction of list-like lines exceeds this (FineWeb)."""

    @field_validator("disabled_rules")
    @classmethod
    def _known_rules(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in RULE_NAMES]
        if unknown:
            raise ValueError(f"unknown rule {unknown[0]!r}; rules: {', '.join(RULE_NAMES)}")
        return value

    @model_validator(mode="after")
    def _known_overrides(self) -> QualityConfig:
        thresholds = [r.name for r in RULES if r.kind != "flag"]
        for language, values in self.language_overrides.items():
            unknown = [key for key in values if key not in thresholds]
            if unknown:
                raise ValueError(
                    f"language_overrides.{language}: unknown threshold {unknown[0]!r}; "
                    f"thresholds: {', '.join(thresholds)}"
                )
        return self


_RELATION = {"min": "<", "min_or_equal": "<=", "max": ">", "max_or_equal": ">="}


def _fails(kind: str, value: float, limit: float) -> bool:
    if kind == "min":
        return value < limit
    if kind == "min_or_equal":
        return value <= limit
    if kind == "max":
        return value > limit
    return value >= limit


def _soft_pass(kind: str, value: float, limit: float) -> float:
    """1 well inside the limit, 0.5 at it, 0 at twice the limit (max) or at zero (min); linear between."""
    if limit <= 0:
        return 1.0 if kind.startswith("min") or value <= 0 else 0.0
    if kind.startswith("max"):
        return min(1.0, 1.5 - value / limit) if value <= limit else max(0.0, 1.0 - value / (2 * limit))
    return value / (2 * limit) if value <= limit else min(1.0, 0.5 + (value - limit) / (2 * limit))


class Quality(MapStage):
    name = "quality"
    config_class = QualityConfig
    config: QualityConfig

    def output_fields(self) -> list[pa.Field]:
        struct = pa.struct([pa.field(name, _ARROW[kind]) for name, kind, _ in SIGNALS])
        parts = " ".join(f"`{name}`: {text}" for name, _, text in SIGNALS)
        return [
            described("quality", struct, f"Quality signals of the published heuristics. {parts}"),
            described(
                "quality_score",
                pa.float64(),
                "Mean soft pass value over the applicable quality rules, in [0, 1]: per rule 0.5 exactly at "
                "its threshold, 1 well inside it, 0 far outside; halved when any rule fails, so >= 0.5 "
                "means the document passed every filter.",
            ),
        ]

    def card_notes(self) -> dict[str, Any]:
        return {
            "filter": self.config.filter,
            "disabled_rules": self.config.disabled_rules,
            "thresholds": {r.name: getattr(self.config, r.name) for r in RULES},
            "language_overrides": self.config.language_overrides,
        }

    def _limit(self, rule: Rule, language: str | None) -> float:
        override = self.config.language_overrides.get(language or "", {})
        return float(override.get(rule.name, getattr(self.config, rule.name)))

    def __init__(self, config: QualityConfig) -> None:
        super().__init__(config)
        # Per language, the rules that apply and their limits (see _rules_for).
        self._plans: dict[str | None, list[tuple[Rule, Any]]] = {}

    def _rules_for(self, language: str | None) -> list[tuple[Rule, Any]]:
        """The rules that apply to a document in `language`, each with its limit (a flag: enabled)."""
        plan = self._plans.get(language)
        if plan is None:
            segmented = language not in self.config.unsegmented_languages
            plan = [
                (rule, getattr(self.config, rule.name) if rule.kind == "flag" else self._limit(rule, language))
                for rule in RULES
                if not (rule.needs_words and not segmented) and rule.name not in self.config.disabled_rules
            ]
            self._plans[language] = plan
        return plan

    def evaluate(self, signals: dict[str, Any], language: str | None) -> tuple[float, tuple[str, str] | None]:
        """(quality_score, first failure as (rule, detail) or None)."""
        softs: list[float] = []
        failure: tuple[str, str] | None = None
        # The applicable rules and their limits are worked out once per language, not per document.
        for rule, limit in self._rules_for(language):
            value = signals[rule.signal]
            if value is None:
                continue
            if rule.kind == "flag":
                failed = bool(limit and value)
                softs.append(0.0 if failed else 1.0)
                if failed and failure is None:
                    failure = (rule.name, f"{rule.signal} found in the text")
            else:
                failed = _fails(rule.kind, float(value), limit)
                softs.append(_soft_pass(rule.kind, float(value), limit))
                # Only the first failure is reported, so only its detail is worth formatting.
                if failed and failure is None:
                    relation = _RELATION[rule.kind]
                    shown = f"{value}" if isinstance(value, int) else f"{value:.4f}"
                    failure = (rule.name, f"{rule.signal}={shown} {relation} {rule.name}={limit:g}")
        score = sum(softs) / len(softs) if softs else 0.0
        # Halving a failing document's mean puts it below every passing one (those are >= 0.5).
        return (score if failure is None else score / 2), failure

    def process(self, batch: pa.RecordBatch) -> StageResult:
        texts = batch.column("text").to_pylist()
        languages = batch.column("language").to_pylist() if "language" in batch.schema.names else [None] * len(texts)
        signals = compute_batch(texts, languages)
        evaluated = [self.evaluate(s, language) for s, language in zip(signals, languages, strict=True)]
        mask = [self.config.filter and failure is not None for _, failure in evaluated]
        failures = [failure for (_, failure), rejected in zip(evaluated, mask, strict=True) if rejected]
        fields = self.output_fields()
        annotated = batch.append_column(fields[0], pa.array(signals, fields[0].type)).append_column(
            fields[1], pa.array([score for score, _ in evaluated], pa.float64())
        )
        return StageResult(
            kept=split(annotated, mask),
            rejected=rejections(
                batch,
                mask,
                self.name,
                [f"quality:{name}" for name, _ in failures],  # type: ignore[misc]
                [detail for _, detail in failures],  # type: ignore[misc]
            ),
        )
