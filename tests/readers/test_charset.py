"""Charset choice for web documents: HTTP header, then <meta>, then detection; labels read as browsers do."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FIXTURES, write

from pipeline.readers.charset import codec_for, decode_web, meta_charset
from readers.web_helpers import ANY_LANGUAGE, published_rows

SAMPLES = FIXTURES / "charset"
# Labels from charset_normalizer's tests/test_full_detection.py for these files.
EXPECTED = {
    "sample-russian-2.txt": "utf_8",
    "sample-arabic-1.txt": "cp1256",
    "sample-french-1.txt": "cp1252",
    "sample-greek.txt": "cp1253",
    "sample-chinese.txt": "big5",
    "sample-korean.txt": "cp949",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_undeclared_samples_decode_to_the_labelled_text(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    decoded = decode_web(data, None, html=False)
    assert decoded.text == data.decode(EXPECTED[name])
    assert decoded.detail == "detected"


def test_http_header_wins_over_meta() -> None:
    page = '<html><head><meta charset="windows-1252"></head><body>Привет, мир</body></html>'.encode("koi8-r")
    decoded = decode_web(page, "text/html; charset=KOI8-R")
    assert decoded.encoding == "koi8-r"
    assert "Привет, мир" in (decoded.text or "")


def test_meta_http_equiv_is_read() -> None:
    page = (
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head>'
        + "<body>日本語のページ</body></html>".encode("cp932")
    )
    assert meta_charset(page) == "Shift_JIS"
    decoded = decode_web(page, "text/html")
    assert decoded.encoding == "cp932"
    assert "日本語のページ" in (decoded.text or "")


def test_latin1_label_means_windows_1252() -> None:
    # 0x93/0x94 are curly quotes in windows-1252 and control characters in real ISO-8859-1.
    page = b"<html><body>\x93quoted\x94 caf\xe9</body></html>"
    decoded = decode_web(page, "text/html; charset=ISO-8859-1")
    assert decoded.encoding == "cp1252"
    assert "\u201cquoted\u201d café" in (decoded.text or "")


def test_utf8_bytes_under_a_legacy_label_are_utf8() -> None:
    page = "<html><body>Grüße aus Köln</body></html>".encode()
    decoded = decode_web(page, "text/html; charset=iso-8859-1")
    assert decoded.encoding == "utf-8"
    assert "Grüße aus Köln" in (decoded.text or "")


def test_a_declaration_the_bytes_contradict_is_ignored() -> None:
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 5
    page = f"<html><body><p>{text}</p></body></html>".encode("cp1251")
    decoded = decode_web(page, "text/html; charset=utf-8")
    assert decoded.detail == "detected"
    assert text in (decoded.text or "")


def test_binary_payload_is_refused() -> None:
    decoded = decode_web(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "text/html")
    assert decoded.text is None and decoded.reason == "binary"


@pytest.mark.parametrize(
    ("label", "codec"),
    [("gb2312", "gb18030"), ("GBK", "gb18030"), ("Shift_JIS", "cp932"), ("euc-kr", "cp949"), ("utf8", "utf-8")],
)
def test_labels_map_to_the_superset_browsers_use(label: str, codec: str) -> None:
    assert codec_for(label) == codec


def test_unknown_label_is_none() -> None:
    assert codec_for("x-no-such-charset") is None


def test_plain_text_files_record_their_encoding(run_pipeline, tmp_path: Path) -> None:

    russian = (SAMPLES / "sample-russian-2.txt").read_text(encoding="utf-8")
    write(tmp_path / "in" / "a.txt", russian, encoding="cp1251")
    write(tmp_path / "in" / "b.jsonl", '{"text": "ein Dokument in UTF-8"}\n')
    rows = {r["source"]: r for r in published_rows(run_pipeline(tmp_path / "in", *ANY_LANGUAGE))}
    assert rows["a.txt"]["metadata"]["encoding"] == "cp1251"
    assert rows["a.txt"]["text"].strip() == russian.strip()
    assert rows["b.jsonl#1"]["metadata"]["encoding"] == "utf-8"
    assert rows["b.jsonl#1"]["metadata"]["title"] is None


def test_byte_order_mark_overrides_the_declaration() -> None:
    page = b"\xef\xbb\xbf" + "<html><body>Grüße</body></html>".encode()
    decoded = decode_web(page, "text/html; charset=windows-1251")
    assert decoded.text == "<html><body>Grüße</body></html>"
