"""`.json` files: a JSON array read object by object, JSON Lines detected by content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import IngestConfig
from pipeline.readers import json_array
from pipeline.readers.json_array import read_json
from pipeline.seen_ids import SeenIds


def test_array_across_chunk_boundaries_with_multibyte_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_array, "_CHUNK", 7)  # every object and many characters span chunks
    records = [{"id": i, "text": f"Grüße aus Köln, Nummer {i} — ✓", "n": i} for i in range(5)]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    got = list(read_json(path, IngestConfig()))
    assert [r.text for r in got] == [r["text"] for r in records]
    assert [r.id for r in got] == ["0", "1", "2", "3", "4"] and got[4].fields == {"n": 4}


def test_json_lines_in_a_json_file_and_bad_elements(tmp_path: Path) -> None:
    lines = tmp_path / "lines.json"
    lines.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    assert [r.text for r in read_json(lines, IngestConfig())] == ["a", "b"]
    array = tmp_path / "array.json"
    array.write_text('[{"text": "a"}, 3, {"text": "b"}]', encoding="utf-8")
    got = list(read_json(array, IngestConfig()))
    assert [(r.text, r.reason) for r in got] == [("a", None), (None, "malformed_record"), ("b", None)]


def test_seen_ids_finds_repeats_across_and_within_batches() -> None:
    seen = SeenIds()
    for start in range(0, 20_000, 1000):
        assert seen.add([str(i) for i in range(start, start + 1000)], ["a.jsonl"] * 1000) == []
    assert seen.add(["7", "new", "new", "19999"], ["b.jsonl"] * 4) == [(0, "a.jsonl"), (2, "b.jsonl"), (3, "a.jsonl")]
    assert len(seen) == 20_001
