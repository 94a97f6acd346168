import pyarrow as pa
import pytest

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
