"""normalize: mojibake repair, Unicode normal form, newlines, control characters, blank lines."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

import pyarrow as pa

from pipeline.records import rejections, split
from pipeline.stage import MapStage, StageConfig, StageResult
from pipeline.stages.normalize.mojibake import MojibakeFixer

# C0/C1 control characters other than tab and newline, plus DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0\u3000]+$", re.MULTILINE)
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")
# Necessary conditions for the regexes above to match, checked with str's substring search (several
# times faster than a regex scan that finds nothing, which is the common case): a line break other
# than "\n"; a trailing-space character before a "\n" or at the end.
_BREAKS = ("\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c")
_SPACES = (" ", "\t", "\u00a0", "\u3000")
_SPACE_THEN_NEWLINE = tuple(space + "\n" for space in _SPACES)


class NormalizeConfig(StageConfig):
    """Mojibake repair, Unicode normal form, newlines, control characters and blank lines."""

    fix_mojibake: bool = True
    """Repair encoding damage with ftfy (encoding fixes only)."""
    unicode_form: Literal["NFC", "NFKC", "none"] = "NFC"
    """Unicode normal form of the text."""
    max_blank_lines: int = 1
    """Runs of blank lines are collapsed to at most this many, keeping paragraph breaks."""


class Normalize(MapStage):
    name = "normalize"
    config_class = NormalizeConfig
    config: NormalizeConfig
    # Imported once in the local pool's fork server rather than in every worker.
    worker_preload = ("ftfy",)

    def __init__(self, config: NormalizeConfig) -> None:
        super().__init__(config)
        self._blank_run = re.compile(r"\n{" + str(config.max_blank_lines + 2) + ",}")
        self._blank_keep = "\n" * (config.max_blank_lines + 1)
        self._blank_min = "\n" * (config.max_blank_lines + 2)
        # Built on first use: the main process only pickles the stage for the workers, and importing
        # ftfy and building the fixer there would cost every run's start-up a tenth of a second.
        self._fixer: MojibakeFixer | None = None

    def mojibake_fixer(self) -> MojibakeFixer:
        """The screen in front of ftfy with this stage's settings (built once, on first use)."""
        if self._fixer is None:
            import ftfy

            # Only repair encoding damage: curly quotes, full-width forms and ligatures are content.
            ftfy_config = ftfy.TextFixerConfig(
                unescape_html=False,
                uncurl_quotes=False,
                fix_character_width=False,
                fix_latin_ligatures=False,
                normalization=None,
                explain=False,
            )
            self._fixer = MojibakeFixer(ftfy_config)
        return self._fixer

    def normalize(self, text: str) -> str:
        # ASCII text cannot hold mojibake; other text goes through the screen in front of ftfy.
        if self.config.fix_mojibake and not text.isascii():
            text = self.mojibake_fixer().fix(text)
        if self.config.unicode_form != "none":
            text = unicodedata.normalize(self.config.unicode_form, text)
        # Each substitution runs only where it can match (the screens are exact necessary conditions).
        if any(c in text for c in _BREAKS):
            text = _NEWLINES.sub("\n", text)
        text = _CONTROL.sub("", text)
        if text.endswith(_SPACES) or any(c in text for c in _SPACE_THEN_NEWLINE):
            text = _TRAILING_SPACE.sub("", text)
        if self._blank_min in text:
            text = self._blank_run.sub(self._blank_keep, text)
        return text.strip("\n")

    def process(self, batch: pa.RecordBatch) -> StageResult:
        texts = [self.normalize(t) for t in batch.column("text").to_pylist()]
        empty = [not t.strip() for t in texts]
        index = batch.schema.get_field_index("text")
        batch = batch.set_column(index, batch.schema.field("text"), pa.array(texts, pa.string()))
        return StageResult(
            kept=split(batch, empty),
            rejected=rejections(
                batch, empty, self.name, "empty", "nothing but whitespace and control characters remains"
            ),
        )
