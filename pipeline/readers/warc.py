"""WARC and WET archives (`.warc`, `.warc.gz`, `.wet.gz`, ...) read with FastWARC (resiliparse).

`response` and `resource` records carry pages: HTML goes through the main-content extractor, plain
text is kept as is, anything else is rejected as `unsupported_content_type`. `conversion` records
(WET) are text already. `warcinfo`, `request`, `metadata`, `revisit` and `continuation` records are
not documents: they are counted (RawRecord.skipped), not ledger rows. Records are numbered from 1
in file order, skipped ones included, so `file#N` always points at the N-th record of the archive.

Damage (a corrupt gzip member, a truncated file, an unreadable record) ends the file: every record
before it has been yielded, the damage becomes one `corrupt_archive` row with its byte offset (in
the .gz file for a corrupt gzip member, else in the uncompressed archive), and the run goes on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pipeline.readers.base import Pending, RawRecord, ReaderOptions
from pipeline.readers.compression import corrupt_stream_errors, open_archive, strip_compression
from pipeline.readers.html import PendingPage
from pipeline.readers.http import BodyTooLarge, decode_body

_MAX_HEADER = 1 << 16
_LOST = "records before it are kept, the rest of the file is lost"
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)", re.IGNORECASE | re.MULTILINE)
NOT_DOCUMENTS = ("warcinfo", "request", "metadata", "revisit", "continuation", "unknown")


def _type_name(record: object) -> str:
    return str(record.record_type).rsplit(".", 1)[-1]  # type: ignore[attr-defined]


def _corrupt(number: int, detail: str) -> RawRecord:
    return RawRecord(number, None, reason="corrupt_archive", detail=detail)


def _record_document(record: object, number: int, options: ReaderOptions) -> RawRecord | Pending:
    rec = record  # fastwarc.warc.WarcRecord; untyped extension module
    kind = _type_name(rec)
    headers = rec.headers  # type: ignore[attr-defined]
    url = headers.get("WARC-Target-URI")
    provenance = {
        "url": url,
        "warc_record_id": rec.record_id,  # type: ignore[attr-defined]
        "warc_date": headers.get("WARC-Date"),
    }
    limit = options.max_document_bytes
    payload = rec.reader.read(limit + 1)  # type: ignore[attr-defined]
    if len(payload) > limit:
        return RawRecord(
            number,
            None,
            reason="too_large",
            detail=f"{kind} record payload exceeds ingest.max_document_bytes={limit}",
            **provenance,
        )
    if len(payload) < rec.content_length:  # type: ignore[attr-defined]
        return _corrupt(
            number,
            f"{kind} record at byte {rec.stream_pos} is truncated: "  # type: ignore[attr-defined]
            f"{len(payload):,} of {rec.content_length:,} bytes present; the archive is cut short",  # type: ignore[attr-defined]
        )
    if kind == "response" and rec.is_http:  # type: ignore[attr-defined]
        http = rec.http_headers  # type: ignore[attr-defined]
        status = http.status_code
        content_type = http.get("Content-Type")
        if status is not None and not 200 <= status < 300:
            return RawRecord(
                number,
                None,
                reason="http_status",
                detail=f"HTTP {status} response: an error or redirect page, not a document",
                content_type=content_type,
                **provenance,
            )
        try:
            payload = decode_body(payload, http.get("Transfer-Encoding"), http.get("Content-Encoding"), limit)
        except BodyTooLarge as exc:
            return RawRecord(number, None, reason="too_large", detail=f"{kind} record: {exc}", **provenance)
    else:
        content_type = headers.get("Content-Type")
        if kind == "conversion" and not content_type:
            content_type = "text/plain"
    return PendingPage(number, payload, content_type, **provenance)


def read_warc(path: Path, options: ReaderOptions) -> Iterator[RawRecord | Pending]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    # FastWARC is fed our decompressed stream for every compression (gzip too, although it could
    # inflate gzip itself): its record offsets are then positions in the uncompressed archive even
    # for a .gz of one member, and a damaged gzip member ends the stream after the intact records
    # instead of raising while they sit in FastWARC's read-ahead buffer. Reading stays ~40x faster
    # than extraction, so this costs nothing measurable.
    number = 0
    last_start: int | None = None
    stream, guard = open_archive(path)
    with stream:
        records = iter(
            ArchiveIterator(stream, record_types=WarcRecordType.any_type, parse_http=True, auto_decode="none")
        )
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except Exception as exc:  # any reader error is damage at this point of the file
                what = guard.damage if guard is not None and guard.damage else f"{type(exc).__name__}: {exc}"
                yield _damage(path, number + 1, last_start, what)
                return
            number += 1
            last_start = record.stream_pos
            kind = _type_name(record)
            if kind in NOT_DOCUMENTS:
                # Not a document, but read through it: a cut record is damage, not a record.
                complete = record.headers.get("Content-Length") is not None
                if not complete or record.reader.consume() < record.content_length:
                    yield _truncated(path, number, kind, record.stream_pos, guard)
                    return
                yield RawRecord(number, None, skipped=kind)
                continue
            if record.headers.get("Content-Length") is None:
                yield _truncated(path, number, kind, record.stream_pos, guard)
                return
            document = _record_document(record, number, options)
            if isinstance(document, RawRecord) and document.reason == "corrupt_archive":
                if guard is not None and guard.damage:
                    document.detail = f"archive is damaged: {guard.damage}; {_LOST}"
                yield document
                return
            yield document
    if guard is not None and guard.damage:
        yield _corrupt(number + 1, f"archive is damaged: {guard.damage}; {_LOST}")
        return
    # FastWARC ends quietly when the file is cut inside a record header: check nothing is left.
    if _first_byte_after(path, last_start) is not None:
        yield _damage(path, number + 1, last_start, "the file continues with an incomplete or unreadable record")


def _skip(stream: BinaryIO, n: int) -> int:
    done = 0
    while done < n and (chunk := stream.read(min(1 << 20, n - done))):
        done += len(chunk)
    return done


def _first_byte_after(path: Path, record_start: int | None) -> int | None:
    """Uncompressed offset of the first non-blank byte after the record at `record_start` (or from the
    start of the file when None), or None when only blank lines follow. Stops where decompression fails.
    """
    offset = 0
    stream, _ = open_archive(path)
    with stream:
        try:
            if record_start is not None:
                offset = _skip(stream, record_start)
                head = stream.read(_MAX_HEADER)
                end = head.find(b"\r\n\r\n")
                length = _CONTENT_LENGTH.search(head, 0, max(end, 0))
                if end < 0 or length is None:
                    return offset
                stream_at = offset + len(head)
                offset += end + 4 + int(length.group(1))
                if offset < stream_at:
                    rest = head[offset - (stream_at - len(head)) :]
                else:
                    _skip(stream, offset - stream_at)
                    rest = b""
            else:
                rest = b""
            while True:
                stripped = rest.lstrip(b"\r\n \t")
                if stripped:
                    return offset + len(rest) - len(stripped)
                offset += len(rest)
                rest = stream.read(1 << 16)
                if not rest:
                    return None
        except corrupt_stream_errors():
            return offset


def _truncated(path: Path, number: int, kind: str, start: int, guard: object) -> RawRecord:
    damage = getattr(guard, "damage", None)
    if damage:
        return _corrupt(number, f"archive is damaged: {damage}; {_LOST}")
    _, compression = strip_compression(path.name)
    where = "" if compression is None else " of the uncompressed stream"
    return _corrupt(number, f"{kind} record at byte {start}{where} is truncated: the archive is cut short; {_LOST}")


def _damage(path: Path, number: int, last_start: int | None, what: str) -> RawRecord:
    _, compression = strip_compression(path.name)
    at = _first_byte_after(path, last_start)
    if at is None:
        at = last_start or 0
    where = "" if compression is None else " of the uncompressed stream"
    return _corrupt(number, f"archive is damaged at byte {at}{where} ({what}); {_LOST}")
