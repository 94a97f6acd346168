"""pii: replace e-mail addresses, IP addresses, phone numbers, payment cards and secrets with placeholders.

The detectors live in pipeline/stages/pii/patterns.py. Each kind can be switched off in config; a switched-off
kind is not looked for and its count is null (unknown), not 0.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from pipeline.records import described, empty_ledger
from pipeline.stage import MapStage, StageConfig, StageResult
from pipeline.stages.pii.patterns import DETECTORS, find_secrets, redact
from pipeline.stages.pii.screens import has_secret_literal, may_hold

KINDS = ("email", "ip", "phone", "card", "secret")
_DESCRIPTIONS = {
    "email": "e-mail addresses replaced by `<EMAIL>`",
    "ip": "IPv4/IPv6 addresses replaced by `<IP>` (not loopback, 0.0.0.0, netmasks or version numbers)",
    "phone": "phone numbers replaced by `<PHONE>` (international, North American and trunk-0 national formats)",
    "card": "Luhn-valid payment card numbers replaced by `<CARD>`",
    "secret": "API keys, tokens, private key blocks and `key = value` secrets replaced by `<SECRET>`",
}


class PiiConfig(StageConfig):
    """Personal data and secrets replaced by placeholders; a kind switched off is not searched."""

    email: bool = True
    """Replace e-mail addresses with `<EMAIL>`."""
    ip: bool = True
    """Replace IPv4 and IPv6 addresses with `<IP>`."""
    phone: bool = True
    """Replace phone numbers with `<PHONE>`."""
    card: bool = True
    """Replace Luhn-valid payment card numbers with `<CARD>`."""
    secret: bool = True
    """Replace API keys, tokens, private keys and random-looking passwords with `<SECRET>`."""


class Pii(MapStage):
    name = "pii"
    config_class = PiiConfig
    config: PiiConfig

    def __init__(self, config: PiiConfig) -> None:
        super().__init__(config)
        # DETECTORS is ordered (secrets first); keep that order for the enabled kinds.
        self._kinds = [kind for kind in DETECTORS if getattr(config, kind)]

    def output_fields(self) -> list[pa.Field]:
        struct = pa.struct([pa.field(kind, pa.int64()) for kind in KINDS])
        parts = "; ".join(f"`{kind}`: {_DESCRIPTIONS[kind]}" for kind in KINDS)
        return [
            described(
                "pii",
                struct,
                "Personal data and secrets the pii stage replaced, counted per kind "
                f"(null: kind switched off). {parts}.",
            )
        ]

    def card_notes(self) -> dict[str, Any]:
        return {"kinds": self._kinds, "placeholders": {k: DETECTORS[k][0] for k in self._kinds}}

    def scrub(
        self, text: str, ruled_out: frozenset[str] = frozenset(), has_literal: bool = True
    ) -> tuple[str, dict[str, int | None]]:
        """`ruled_out`: kinds the batch screens showed cannot occur in `text` (their count is 0);
        `has_literal`: whether `text` holds one of the secret patterns' literal parts."""
        counts: dict[str, int | None] = dict.fromkeys(KINDS)
        for kind in self._kinds:
            if kind in ruled_out:
                counts[kind] = 0
            elif kind == "secret" and not has_literal:
                text, counts[kind] = redact(text, kind, lambda t: find_secrets(t, has_literal=False))
            else:
                text, counts[kind] = redact(text, kind)
        return text, counts

    def process(self, batch: pa.RecordBatch) -> StageResult:
        column = batch.column("text")
        # Screens run on the text as it enters the stage. A kind's detector sees the text after the
        # kinds before it replaced theirs; a placeholder (`<EMAIL>`, …) holds no digit, colon, plus
        # sign or secret literal, so what the screens rule out stays ruled out.
        may = may_hold(column, self._kinds)
        literal = has_secret_literal(column) if "secret" in self._kinds else [True] * batch.num_rows
        results = [
            self.scrub(text, frozenset(kind for kind, flags in may.items() if not flags[row]), literal[row])
            for row, text in enumerate(column.to_pylist())
        ]
        index = batch.schema.get_field_index("text")
        field = self.output_fields()[0]
        annotated = batch.set_column(
            index, batch.schema.field("text"), pa.array([text for text, _ in results], pa.string())
        ).append_column(field, pa.array([counts for _, counts in results], field.type))
        return StageResult(kept=annotated, rejected=empty_ledger())
