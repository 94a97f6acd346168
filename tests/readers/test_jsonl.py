import gzip
import json
from pathlib import Path

import zstandard
from helpers import write

from pipeline.config import IngestConfig
from pipeline.readers.jsonl import read_jsonl


def _read(path: Path, **options):
    return list(read_jsonl(path, IngestConfig(**options)))


def test_fields_come_from_config(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", json.dumps({"body": "hello", "key": 7, "link": "https://x"}) + "\n")
    (record,) = _read(path, text_field="body", id_field="key", url_field="link")
    assert (record.number, record.text, record.id, record.url) == (1, "hello", "7", "https://x")


def test_bad_lines_are_records_and_the_rest_is_read(tmp_path: Path) -> None:
    lines = [
        '{"text": "one"}',
        "",
        '{"text": "cut',
        "[1, 2]",
        '{"title": "no text"}',
        '{"text": 5}',
        '{"text": "last"}',
    ]
    records = _read(write(tmp_path / "d.jsonl", "\n".join(lines) + "\n"))
    assert [(r.number, r.reason) for r in records] == [
        (1, None),
        (3, "malformed_json"),
        (4, "malformed_record"),
        (5, "missing_text"),
        (6, "malformed_record"),
        (7, None),
    ]
    assert records[-1].text == "last"
    assert "has no 'text' field (has: title); set ingest.text_field" in records[3].detail


def test_undecodable_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", b'{"text": "ok"}\n{"text": "\xff\xfe"}\n')
    assert [r.reason for r in _read(path)] == [None, "undecodable"]


def test_too_large_line_is_skipped_without_reading_it_whole(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", '{"text": "' + "x" * 5000 + '"}\n{"text": "small"}\n')
    records = _read(path, max_document_bytes=100)
    assert [(r.number, r.reason) for r in records] == [(1, "too_large"), (2, None)]


def test_gzip_and_zstd(tmp_path: Path) -> None:
    data = b'{"text": "a"}\n{"text": "b"}\n'
    gz = write(tmp_path / "d.jsonl.gz", gzip.compress(data))
    zst = write(tmp_path / "d.jsonl.zst", zstandard.ZstdCompressor().compress(data))
    assert [r.text for r in _read(gz)] == [r.text for r in _read(zst)] == ["a", "b"]
