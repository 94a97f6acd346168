"""WARC and WET archives: documents with provenance, skipped records, damage, accounting."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from helpers import FIXTURES, write

from readers.web_helpers import ANY_LANGUAGE, copy_to, ingest_notes, ledger_rows, per_file, published_rows

WEB = FIXTURES / "web"
WHIRLWIND = WEB / "whirlwind.warc.gz"
WET = WEB / "whirlwind.warc.wet.gz"
CC_SAMPLE = WEB / "warcfile.warc.gz"
NO_DEDUP = 'run.stages=["language"]'


def _members(data: bytes) -> list[int]:
    """Start offsets of the gzip members of `data` (one WARC record each in Common Crawl files)."""
    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        inflater = zlib.decompressobj(31)
        inflater.decompress(data[pos:])
        pos = len(data) - len(inflater.unused_data)
    return starts


def _warc_record(kind: str, uri: str, block: bytes, record_id: str) -> bytes:
    head = (
        f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Date: 2024-01-02T03:04:05Z\r\n"
        f"WARC-Record-ID: <urn:uuid:{record_id}>\r\nContent-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(block)}\r\n\r\n"
    ).encode()
    return head + block + b"\r\n\r\n"


def test_response_record_is_extracted_and_other_records_are_counted(run_pipeline, tmp_path: Path) -> None:
    copy_to(tmp_path / "in", WHIRLWIND)
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    [row] = published_rows(result)
    assert row["source"] == "whirlwind.warc.gz#3"  # warcinfo, request, then the response
    assert row["url"] == "https://an.wikipedia.org/wiki/Escopete"
    assert row["metadata"]["warc_record_id"] == "<urn:uuid:2aabeff2-67f5-4608-8466-e87c6296e2b6>"
    assert row["metadata"]["warc_date"] == "2024-05-18T01:58:10Z"
    assert row["metadata"]["content_type"] == "text/html"
    assert row["metadata"]["encoding"] == "utf-8"
    assert "Escopete" in row["text"] and "<div" not in row["text"]
    assert ledger_rows(result) == []
    assert ingest_notes(result)["skipped_non_document_records"] == {"metadata": 1, "request": 1, "warcinfo": 1}
    assert result.records_read == 1


def test_wet_conversion_record_is_kept_as_text(run_pipeline, tmp_path: Path) -> None:
    copy_to(tmp_path / "in", WET)
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    [row] = published_rows(result)
    expected = gzip.decompress(WET.read_bytes()).decode("utf-8")
    body = expected.split("WARC-Payload-Digest: sha1:RDTSR52RUHWDA7QK4BK7OUHU3EXTXYUL\r\n\r\n", 1)[1]
    assert row["text"].startswith("Escopete - Biquipedia, a enciclopedia libre\nIr al contenido")
    assert row["text"].split("\n")[:20] == body.split("\n")[:20]
    assert row["source"] == "whirlwind.warc.wet.gz#2"
    assert row["metadata"]["content_type"] == "text/plain"


def test_legacy_charsets_of_real_pages(run_pipeline, tmp_path: Path) -> None:
    copy_to(tmp_path / "in", CC_SAMPLE)
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, NO_DEDUP)
    rows = {r["url"]: r for r in published_rows(result)}
    russian = rows["http://01spb.ru/company/"]
    assert russian["metadata"]["encoding"] == "cp1251"  # declared in the HTTP header
    assert "Стратегия пожарной безопасности" in russian["text"]
    chinese = rows["http://037426.cn/"]
    assert chinese["metadata"]["encoding"] == "gb18030"  # declared gb2312, read as its superset
    assert "亚洲" in chinese["metadata"]["title"]


def test_corrupt_gzip_member_keeps_earlier_records_and_run_goes_on(run_pipeline, tmp_path: Path) -> None:
    data = CC_SAMPLE.read_bytes()
    starts = _members(data)
    damaged = starts[25]  # the 26th record
    broken = bytearray(data)
    for i in range(damaged + 40, damaged + 80):
        broken[i] ^= 0xFF
    write(tmp_path / "in" / "a-damaged.warc.gz", bytes(broken))
    copy_to(tmp_path / "in", WHIRLWIND)  # the next file is still read
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, NO_DEDUP)

    intact = run_pipeline(_alone(tmp_path / "intact", CC_SAMPLE), *ANY_LANGUAGE, NO_DEDUP, name="intact")
    before = {r["source"].replace("warcfile.warc.gz", "a-damaged.warc.gz") for r in published_rows(intact)}
    before = {s for s in before if int(s.rsplit("#", 1)[1]) < 26}
    kept = {r["source"] for r in published_rows(result)}
    assert before and before <= kept
    assert "whirlwind.warc.gz#3" in kept
    corrupt = [r for r in ledger_rows(result) if r["reason"] == "corrupt_archive"]
    assert len(corrupt) == 1
    assert corrupt[0]["source"] == "a-damaged.warc.gz#26"
    assert f"at byte offset {damaged} " in corrupt[0]["detail"]
    assert not any(int(s.rsplit("#", 1)[1]) > 26 for s in kept if s.startswith("a-damaged"))


def _alone(folder: Path, source: Path) -> Path:
    copy_to(folder, source)
    return folder


def test_truncated_archive_is_one_corrupt_row(run_pipeline, tmp_path: Path) -> None:
    raw = gzip.decompress(WHIRLWIND.read_bytes())
    response_at = raw.index(b"WARC-Type: response")
    write(tmp_path / "in" / "cut.warc", raw[: response_at + 3000])
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, "run.min_published_fraction=0")
    assert published_rows(result) == []
    [row] = ledger_rows(result)
    assert (row["source"], row["reason"]) == ("cut.warc#3", "corrupt_archive")
    assert "truncated" in row["detail"]


def test_pdf_and_error_responses_are_rejected_with_their_type(run_pipeline, tmp_path: Path) -> None:
    pdf = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n\r\n" + b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\n"
    missing = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\n<html><body><h1>Not found</h1></body></html>"
    archive = _warc_record("response", "http://example.org/a.pdf", pdf, "11111111-1111-1111-1111-111111111111")
    archive += _warc_record("response", "http://example.org/gone", missing, "22222222-2222-2222-2222-222222222222")
    write(tmp_path / "in" / "mixed.warc.gz", gzip.compress(archive))
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, "run.min_published_fraction=0")
    rows = {r["source"]: r for r in ledger_rows(result)}
    assert rows["mixed.warc.gz#1"]["reason"] == "unsupported_content_type"
    assert "application/pdf" in rows["mixed.warc.gz#1"]["detail"]
    assert rows["mixed.warc.gz#2"]["reason"] == "http_status"
    assert "404" in rows["mixed.warc.gz#2"]["detail"]


def test_every_record_of_a_whole_archive_is_accounted_for(run_pipeline, tmp_path: Path) -> None:
    copy_to(tmp_path / "in", CC_SAMPLE)
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    raw = gzip.decompress(CC_SAMPLE.read_bytes())
    documents = raw.count(b"\r\nWARC-Type: response\r\n")
    others = {kind: raw.count(f"\r\nWARC-Type: {kind}\r\n".encode()) for kind in ("warcinfo", "request", "metadata")}
    assert documents == 16
    assert result.records_read == documents
    assert result.records_published + result.records_rejected == documents
    assert per_file(result)["warcfile.warc.gz"] == {
        "read": documents,
        "published": result.records_published,
        "rejected": result.records_rejected,
    }
    assert ingest_notes(result)["skipped_non_document_records"] == others
    sources = [r["source"] for r in published_rows(result)] + [r["source"] for r in ledger_rows(result)]
    assert len(set(sources)) == documents


def test_archive_output_is_byte_identical_for_any_batch_size(run_pipeline, tmp_path: Path) -> None:
    copy_to(tmp_path / "in", CC_SAMPLE)
    copy_to(tmp_path / "in", WEB / "cc-2008-sample.arc")
    small = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, "run.batch_size=3", name="small")
    large = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, "run.batch_size=1000", name="large")
    shards = sorted(p.name for p in (small.dataset / "data").glob("*.parquet"))
    assert shards == sorted(p.name for p in (large.dataset / "data").glob("*.parquet"))
    for name in shards:
        assert (small.dataset / "data" / name).read_bytes() == (large.dataset / "data" / name).read_bytes()


def test_parallel_extraction_gives_the_same_dataset(run_pipeline, tmp_path: Path) -> None:
    copy_to(tmp_path / "in", CC_SAMPLE)
    copy_to(tmp_path / "in", WHIRLWIND)
    serial = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, "ingest.workers=1", name="serial")
    parallel = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, "ingest.workers=2", name="parallel")
    assert published_rows(parallel) == published_rows(serial)
    assert ledger_rows(parallel) == ledger_rows(serial)


def test_archive_cut_inside_a_record_header_is_not_silently_short(run_pipeline, tmp_path: Path) -> None:
    raw = gzip.decompress(WHIRLWIND.read_bytes())
    metadata_at = raw.index(b"WARC/1.0\r\nWARC-Type: metadata")
    # Cut 40 bytes into the last record's header: FastWARC alone would just stop.
    write(tmp_path / "in" / "cut.warc.gz", gzip.compress(raw[: metadata_at + 40]))
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    assert [r["source"] for r in published_rows(result)] == ["cut.warc.gz#3"]
    [row] = ledger_rows(result)
    assert (row["source"], row["reason"]) == ("cut.warc.gz#4", "corrupt_archive")
    assert f"record at byte {metadata_at} of the uncompressed stream is truncated" in row["detail"]


def test_unreadable_bytes_between_records_are_one_corrupt_row(run_pipeline, tmp_path: Path) -> None:
    raw = gzip.decompress(WHIRLWIND.read_bytes())
    metadata_at = raw.index(b"WARC/1.0\r\nWARC-Type: metadata")
    write(tmp_path / "in" / "junk.warc", raw[:metadata_at] + b"NOT A WARC HEADER\r\n\r\n" + raw[metadata_at:])
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    assert [r["source"] for r in published_rows(result)] == ["junk.warc#3"]
    [row] = ledger_rows(result)
    assert (row["source"], row["reason"]) == ("junk.warc#4", "corrupt_archive")
    assert f"at byte {metadata_at} " in row["detail"]


def test_gzip_archive_without_gz_suffix(run_pipeline, tmp_path: Path) -> None:
    copy_to(tmp_path / "in", WHIRLWIND, name="crawl.warc")  # gzip bytes, plain suffix
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    assert [r["source"] for r in published_rows(result)] == ["crawl.warc#3"]
    assert ledger_rows(result) == []
