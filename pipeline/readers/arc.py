"""ARC archives (`.arc`, `.arc.gz`: Internet Archive format, used by Common Crawl until 2012).

Neither FastWARC (WARC only) nor warcio (fails on the 2008 Common Crawl `filedesc` header) reads the
real 2008 Common Crawl files, so the format is parsed here. It is simple framing: one header line
`URL IP DATE CONTENT-TYPE [... v2 fields] LENGTH`, then LENGTH bytes (the HTTP response), then a
newline. The `filedesc://` record describing the file is not a document: it is counted, not kept.
Records are numbered from 1 in file order, the `filedesc` record included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pipeline.readers.base import Pending, RawRecord, ReaderOptions
from pipeline.readers.compression import open_archive, strip_compression
from pipeline.readers.html import PendingPage
from pipeline.readers.http import BodyTooLarge, decode_body, split_response

_MAX_HEADER_LINE = 1 << 16
_SKIP_CHUNK = 1 << 20


class _Damage(Exception):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset


def _iso_date(stamp: str) -> str | None:
    """'20080509190241' -> '2008-05-09T19:02:41Z'."""
    if len(stamp) < 14 or not stamp[:14].isdigit():
        return None
    s = stamp
    return f"{s[:4]}-{s[4:6]}-{s[6:8]}T{s[8:10]}:{s[10:12]}:{s[12:14]}Z"


def _parse_header(line: bytes, version: int) -> tuple[str, str, str, int] | None:
    """(url, date, content_type, length) from an ARC record header line, or None if it is not one."""
    fields = line.decode("latin-1").split()
    if len(fields) < 5 or not fields[-1].isdigit():
        return None
    length = int(fields[-1])
    if version == 2 and len(fields) >= 10:
        url, date, content_type = " ".join(fields[:-9]), fields[-8], fields[-7]
    else:
        url, date, content_type = " ".join(fields[:-4]), fields[-3], fields[-2]
    return url, date, content_type, length


def _is_version_block(block: bytes) -> bool:
    """Whether a record's block is an ARC version block ("1 0 Origin" then the field-names line)."""
    lines = block.split(b"\n", 2)
    return (
        len(lines) >= 2
        and lines[0].split()[:2] in ([b"1", b"0"], [b"2", b"0"], [b"1", b"1"])
        and (lines[1].startswith(b"URL IP-address Archive-date"))
    )


class _ArcStream:
    """Reads records from a (decompressed) ARC byte stream, tracking the uncompressed offset."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.offset = 0

    def line(self) -> bytes:
        data = self.stream.readline(_MAX_HEADER_LINE)
        self.offset += len(data)
        return data

    def read(self, n: int) -> bytes:
        data = self.stream.read(n)
        self.offset += len(data)
        return data

    def skip(self, n: int) -> int:
        skipped = 0
        while skipped < n and (chunk := self.stream.read(min(_SKIP_CHUNK, n - skipped))):
            skipped += len(chunk)
        self.offset += skipped
        return skipped


def _records(arc: _ArcStream, options: ReaderOptions) -> Iterator[RawRecord | Pending]:
    number = 0
    version = 1
    limit = options.max_document_bytes
    while True:
        start = arc.offset
        line = arc.line()
        if not line:
            return
        if not line.strip():
            continue  # The newline that ends the previous record (some writers add several).
        header = _parse_header(line.rstrip(b"\r\n"), version)
        if header is None or not line.endswith(b"\n"):
            raise _Damage(start, f"expected an ARC record header line, found {line[:80]!r}")
        url, date, content_type, length = header
        number += 1
        if length > limit:
            if arc.skip(length) < length:
                raise _Damage(start, f"record {number} ({url}) is cut short: the archive is truncated")
            yield RawRecord(
                number,
                None,
                reason="too_large",
                detail=f"ARC record of {length:,} bytes exceeds ingest.max_document_bytes={limit}",
                url=url,
                warc_date=_iso_date(date),
            )
            continue
        block = arc.read(length)
        if len(block) < length:
            raise _Damage(start, f"record {number} ({url}) is cut short: {len(block):,} of {length:,} bytes present")
        if url.startswith("filedesc://") or (number == 1 and _is_version_block(block)):
            # The first record is the version block; a damaged URL does not make it a document.
            second = block.split(b"\n", 1)[0].split()
            version = 2 if second[:1] == [b"2"] else 1
            yield RawRecord(number, None, skipped="filedesc")
            continue
        yield _document(number, url, date, content_type, block, limit)


def _document(number: int, url: str, date: str, arc_type: str, block: bytes, limit: int) -> RawRecord | Pending:
    response = split_response(block)
    crawled = _iso_date(date)
    if response.status is not None and not 200 <= response.status < 300:
        return RawRecord(
            number,
            None,
            reason="http_status",
            detail=f"HTTP {response.status} response: an error or redirect page, not a document",
            url=url,
            warc_date=crawled,
            content_type=arc_type,
        )
    try:
        body = decode_body(
            response.body, response.header("Transfer-Encoding"), response.header("Content-Encoding"), limit
        )
    except BodyTooLarge as exc:
        return RawRecord(number, None, reason="too_large", detail=f"ARC record: {exc}", url=url, warc_date=crawled)
    content_type = response.header("Content-Type") or arc_type
    return PendingPage(number, body, content_type, url=url, warc_date=crawled)


def read_arc(path: Path, options: ReaderOptions) -> Iterator[RawRecord | Pending]:
    _, compression = strip_compression(path.name)
    stream, guard = open_archive(path)
    with stream:
        arc = _ArcStream(stream)
        produced = 0
        try:
            for record in _records(arc, options):
                produced = record.number or produced
                yield record
        except _Damage as damage:
            where = "" if compression is None else " of the uncompressed stream"
            what = f"at byte offset {damage.offset}{where} ({damage})"
            yield _arc_damage(produced + 1, guard.damage if guard is not None and guard.damage else what)
            return
    if guard is not None and guard.damage:
        yield _arc_damage(produced + 1, guard.damage)


def _arc_damage(number: int, what: str) -> RawRecord:
    return RawRecord(
        number,
        None,
        reason="corrupt_archive",
        detail=f"archive is damaged: {what}; records before it are kept, the rest of the file is lost",
    )
