import codecs

import pytest

from pipeline.readers.decode import decode_bytes

TEXT = "Grüße aus Köln: naïve café, crème brûlée."


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("utf-32"), "utf-32"),
    ],
)
def test_utf_encodings_with_and_without_bom(data: bytes, encoding: str) -> None:
    decoded = decode_bytes(data)
    assert (decoded.text, decoded.encoding) == (TEXT, encoding)


def test_latin1_is_detected_as_the_common_western_charset() -> None:
    text = "Our naïve façade: the café served crème brûlée and piña colada to every visitor from the street."
    decoded = decode_bytes(text.encode("latin-1"))
    assert decoded.text == text
    assert decoded.encoding == "cp1252"


def test_cyrillic_windows_1251() -> None:
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 3
    assert decode_bytes(text.encode("cp1251")).text == text


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3", "PDF document"),
        (b"some text\x00with a NUL byte", "NUL bytes"),
    ],
)
def test_binary_is_refused(data: bytes, kind: str) -> None:
    decoded = decode_bytes(data)
    assert decoded.text is None
    assert decoded.reason == "binary"
    assert kind in decoded.detail
