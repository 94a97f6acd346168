"""WARC and WET archives (`.warc`, `.warc.gz`, `.wet.gz`, ...) read with FastWARC (resiliparse).

`response` and `resource` records carry pages: HTML goes through the main-content extractor, plain
text is kept as is, anything else is rejected as `unsupported_content_type`. `conversion` records
(WET) are text already. `warcinfo`, `request`, `metadata`, `revisit` and `continuation` records are
not documents: they are counted (RawRecord.skipped), not ledger rows. Records are numbered from 1
in file order, skipped ones included, so `file#N` always points at the N-th record of the archive.

Damage (a corrupt gzip member, a truncated file) ends the file: every record before it has been
yielded, the damage becomes one `corrupt_archive` row with its byte offset, and the run goes on.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

from pipeline.readers.base import Pending, RawRecord, ReaderOptions
from pipeline.readers.compression import open_binary, strip_compression
from pipeline.readers.html import PendingPage
from pipeline.readers.http import decode_body

NOT_DOCUMENTS = ("warcinfo", "request", "metadata", "revisit", "continuation", "unknown")


def _type_name(record: object) -> str:
    return str(record.record_type).rsplit(".", 1)[-1]  # type: ignore[attr-defined]


def gzip_damage_offset(path: Path, start: int) -> int | None:
    """Byte offset of the first gzip member at or after `start` that does not inflate, or None."""
    with path.open("rb") as f:
        f.seek(start)
        offset = start
        pending = b""
        while True:
            if not pending:
                pending = f.read(1 << 16)
                if not pending:
                    return None
            inflater = zlib.decompressobj(31)
            member_start = offset
            try:
                while not inflater.eof:
                    if not pending:
                        pending = f.read(1 << 16)
                        if not pending:
                            return member_start  # The file ends inside this member.
                    consumed = len(pending)
                    inflater.decompress(pending, 1 << 20)
                    while inflater.unconsumed_tail:
                        inflater.decompress(inflater.unconsumed_tail, 1 << 20)
                    pending = inflater.unused_data
                    offset += consumed - len(pending)
            except zlib.error:
                return member_start


def is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"


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
        payload = decode_body(payload, http.get("Transfer-Encoding"), http.get("Content-Encoding"))
    else:
        content_type = headers.get("Content-Type")
        if kind == "conversion" and not content_type:
            content_type = "text/plain"
    return PendingPage(number, payload, content_type, **provenance)


def read_warc(path: Path, options: ReaderOptions) -> Iterator[RawRecord | Pending]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    _, compression = strip_compression(path.name)
    # FastWARC inflates gzip natively (faster, and its offsets are then offsets in the .gz file);
    # the other compressions are streamed through Python's decompressors.
    native = compression in (None, ".gz")
    number = 0
    last_start = 0
    with path.open("rb") if native else open_binary(path) as stream:
        records = iter(
            ArchiveIterator(stream, record_types=WarcRecordType.any_type, parse_http=True, auto_decode="none")
        )
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except Exception as exc:  # any reader error is damage at this point of the file
                yield _damage(path, compression, number + 1, last_start, exc)
                return
            number += 1
            last_start = record.stream_pos
            kind = _type_name(record)
            if kind in NOT_DOCUMENTS:
                yield RawRecord(number, None, skipped=kind)
                continue
            yield _record_document(record, number, options)


def _damage(path: Path, compression: str | None, number: int, last_start: int, exc: Exception) -> RawRecord:
    where = "in the uncompressed stream" if compression not in (None, ".gz") else "in the file"
    offset: int | None = last_start
    if compression == ".gz" or (compression is None and is_gzip(path)):
        offset = gzip_damage_offset(path, last_start)
    if offset is None:
        at = f"after the record starting at byte {last_start} {where}"
    else:
        at = f"at byte offset {offset} {where}"
    return _corrupt(
        number,
        f"archive is damaged {at} ({type(exc).__name__}: {exc}); records before it are kept, the rest is lost",
    )
