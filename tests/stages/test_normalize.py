import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.records import RECORD_SCHEMA
from pipeline.stages.normalize import Normalize, NormalizeConfig


@pytest.fixture
def stage() -> Normalize:
    return Normalize(NormalizeConfig())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The cafÃ© is open", "The café is open"),  # UTF-8 read as cp1252
        ("line one\r\nline two\rline three", "line one\nline two\nline three"),
        ("tab\tkept, bell\x07 and escape\x1b removed", "tab\tkept, bell and escape removed"),
        ("trailing   \nspaces\t\n", "trailing\nspaces"),
        ("para one\n\n\n\n\npara two", "para one\n\npara two"),
        ("\n\n  indented start\n\n", "  indented start"),
        ("“curly quotes” and ﬁ ligature stay", "“curly quotes” and ﬁ ligature stay"),
        ("e\u0301", "\u00e9"),  # NFC
    ],
)
def test_normalize(stage: Normalize, raw: str, expected: str) -> None:
    assert stage.normalize(raw) == expected


def test_text_that_normalises_to_nothing_is_rejected(stage: Normalize) -> None:
    batch = pa.RecordBatch.from_pylist(
        [
            {"id": "a", "text": "ok", "source": "a.txt", "url": None, "file": "a.txt"},
            {"id": "b", "text": "\x00\x01\n\x02", "source": "b.txt", "url": None, "file": "b.txt"},
        ],
        schema=RECORD_SCHEMA,
    )
    result = stage.process(batch)
    assert result.kept.column("id").to_pylist() == ["a"]
    assert result.rejected.column("reason").to_pylist() == ["empty"]
    assert result.rejected.column("stage").to_pylist() == ["normalize"]


def _unscreened(stage: Normalize, text: str) -> str:
    """normalize() with every substitution applied unconditionally (the stage screens them)."""
    import re
    import unicodedata

    from pipeline.stages import normalize as module

    if stage.config.fix_mojibake and not text.isascii():
        text = stage.mojibake_fixer().fix(text)
    text = unicodedata.normalize("NFC", text)
    text = module._NEWLINES.sub("\n", text)
    text = module._CONTROL.sub("", text)
    text = module._TRAILING_SPACE.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


# Characters the screens are about, mixed with ordinary ones.
_ALPHABET = "ab é\n\r\t\u00a0\u3000\u2028\u2029\x85\x0b\x0c\x00\x7f\x9f"


@given(st.text(alphabet=_ALPHABET, max_size=40))
@settings(max_examples=3000, deadline=None)
def test_screened_substitutions_give_the_same_text_as_unscreened_ones(text: str) -> None:
    stage = Normalize(NormalizeConfig(fix_mojibake=False))
    assert stage.normalize(text) == _unscreened(stage, text)
