"""ARC archives (2008 Common Crawl): documents, the filedesc record, PDFs, damage."""

from __future__ import annotations

import gzip
from pathlib import Path

from helpers import FIXTURES, write

from readers.web_helpers import ANY_LANGUAGE, copy_to, ingest_notes, ledger_rows, published_rows

ARC = FIXTURES / "web" / "cc-2008-sample.arc"


def _records(data: bytes) -> list[bytes]:
    """The fixture split into its records (header line + declared length + trailing newlines)."""
    records, pos = [], 0
    while pos < len(data):
        eol = data.index(b"\n", pos)
        end = eol + 1 + int(data[pos:eol].split()[-1])
        while data[end : end + 1] == b"\n":
            end += 1
        records.append(data[pos:end])
        pos = end
    return records


def test_arc_records_become_documents_or_ledger_rows(run_pipeline, tmp_path: Path) -> None:
    copy_to(tmp_path / "in", ARC)
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    rows = {r["source"]: r for r in published_rows(result)}
    ledger = {r["source"]: r for r in ledger_rows(result)}
    assert set(rows) | set(ledger) == {f"cc-2008-sample.arc#{n}" for n in range(2, 7)}
    spanish = rows["cc-2008-sample.arc#2"]
    assert spanish["url"] == "http://cineciudad.com/pelicula/index/502"
    assert spanish["metadata"]["warc_date"] == "2008-05-09T19:02:41Z"
    assert spanish["metadata"]["encoding"] == "utf-8"
    assert "LEÓNIDAS" in spanish["text"]
    norwegian = rows["cc-2008-sample.arc#6"]
    assert norwegian["metadata"]["encoding"] == "cp1252"  # declared windows-1252
    assert "følgende kriterier for å komme på" in norwegian["text"]
    pdf = ledger["cc-2008-sample.arc#3"]
    assert (pdf["reason"], pdf["stage"]) == ("unsupported_content_type", "ingest")
    assert "application/pdf" in pdf["detail"]
    assert ledger["cc-2008-sample.arc#4"]["reason"] == "http_status"
    assert ingest_notes(result)["skipped_non_document_records"] == {"filedesc": 1}
    assert result.records_read == 5 == result.records_published + result.records_rejected


def test_per_record_gzip_members_read_like_the_plain_file(run_pipeline, tmp_path: Path) -> None:
    members = b"".join(gzip.compress(r) for r in _records(ARC.read_bytes()))
    write(tmp_path / "gz" / "cc-2008-sample.arc.gz", members)
    copy_to(tmp_path / "plain", ARC)
    plain = published_rows(run_pipeline(tmp_path / "plain", *ANY_LANGUAGE, name="plain"))
    packed = published_rows(run_pipeline(tmp_path / "gz", *ANY_LANGUAGE, name="gz"))
    assert [r["text"] for r in packed] == [r["text"] for r in plain]
    assert [r["source"] for r in packed] == [r["source"].replace(".arc", ".arc.gz") for r in plain]


def test_corrupt_member_in_arc_gz_is_one_ledger_row(run_pipeline, tmp_path: Path) -> None:
    packed = [gzip.compress(r) for r in _records(ARC.read_bytes())]
    damaged_at = sum(len(m) for m in packed[:3])
    broken = bytearray(packed[3])
    for i in range(20, min(60, len(broken) - 10)):
        broken[i] ^= 0xFF
    write(tmp_path / "in" / "bad.arc.gz", b"".join([*packed[:3], bytes(broken), *packed[4:]]))
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    kept_or_rejected = {r["source"] for r in published_rows(result)} | {r["source"] for r in ledger_rows(result)}
    assert {"bad.arc.gz#2", "bad.arc.gz#3"} <= kept_or_rejected
    [corrupt] = [r for r in ledger_rows(result) if r["reason"] == "corrupt_archive"]
    assert corrupt["source"] == "bad.arc.gz#4"
    assert f"at byte offset {damaged_at} " in corrupt["detail"]


def test_truncated_arc_keeps_records_before_the_cut(run_pipeline, tmp_path: Path) -> None:
    data = ARC.read_bytes()
    records = _records(data)
    cut_record_at = sum(len(r) for r in records[:5])
    write(tmp_path / "in" / "cut.arc", data[: cut_record_at + 500])
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    assert "cut.arc#2" in {r["source"] for r in published_rows(result)}
    [corrupt] = [r for r in ledger_rows(result) if r["reason"] == "corrupt_archive"]
    assert corrupt["source"] == "cut.arc#6"
    assert f"at byte offset {cut_record_at} " in corrupt["detail"]
    assert result.records_read == 5


def test_version_block_with_a_damaged_url_is_still_the_version_block(run_pipeline, tmp_path: Path) -> None:
    # The first record of an ARC file is its version block; a flipped byte in "filedesc://" must not turn
    # it into a sixth document (found by the long fuzz profile).
    data = bytearray(ARC.read_bytes())
    data[0] = 0
    copy_to(tmp_path / "in", ARC)
    write(tmp_path / "in" / "cc-2008-sample.arc", bytes(data))
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    assert ingest_notes(result)["skipped_non_document_records"] == {"filedesc": 1}
    assert result.records_read == 5 == result.records_published + result.records_rejected
