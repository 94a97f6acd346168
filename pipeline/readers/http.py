"""HTTP responses stored in crawl archives: status line and headers, then the body as the server sent it.

Crawlers store the body either as transmitted (gzip, chunked) or already decoded while keeping the
original headers, so decoding is attempted only when the bytes really look encoded.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

_STATUS = re.compile(rb"^HTTP/\d(?:\.\d)?\s+(\d{3})")
_CHUNK_SIZE = re.compile(rb"^[0-9A-Fa-f]{1,8}[ \t]*(?:;[^\r\n]*)?\r?\n")


@dataclass
class HttpResponse:
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def split_response(block: bytes) -> HttpResponse:
    """Parse `HTTP/1.x NNN ...` + headers + blank line + body; a block without a status line is all body."""
    match = _STATUS.match(block)
    if match is None:
        return HttpResponse(None, {}, block)
    end = block.find(b"\r\n\r\n")
    sep = 4
    lf_end = block.find(b"\n\n")
    if end < 0 or (0 <= lf_end < end):
        end, sep = lf_end, 2
    if end < 0:
        end, sep = len(block), 0
    headers: dict[str, str] = {}
    for line in block[:end].splitlines()[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return HttpResponse(int(match.group(1)), headers, block[end + sep :])


def _dechunk(body: bytes) -> bytes | None:
    out = bytearray()
    pos = 0
    while True:
        match = _CHUNK_SIZE.match(body, pos)
        if match is None:
            return None
        size = int(match.group(0).split(b";")[0].strip(), 16)
        pos = match.end()
        if size == 0:
            return bytes(out)
        out += body[pos : pos + size]
        pos += size
        if body[pos : pos + 2] == b"\r\n":
            pos += 2
        elif body[pos : pos + 1] == b"\n":
            pos += 1
        if pos >= len(body):
            return bytes(out)


class BodyTooLarge(Exception):
    """The body inflates past the limit: the record is rejected as too_large, the rest is never inflated."""

    def __init__(self, coding: str, limit: int) -> None:
        super().__init__(f"its {coding}-encoded body inflates past ingest.max_document_bytes={limit}")


def _inflate(body: bytes, wbits: int, limit: int) -> bytes | None:
    """zlib/gzip members inflated incrementally, never past `limit`; None when not this coding at all."""
    out = bytearray()
    data = body
    while data:
        inflater = zlib.decompressobj(wbits)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error:
            return None if not out else bytes(out)  # not this coding, or a truncated body: keep what inflated
        if len(out) > limit or inflater.unconsumed_tail:
            raise BodyTooLarge("gzip" if wbits == 31 else "deflate", limit)
        # Several gzip members follow each other; anything else after the end is ignored.
        data = inflater.unused_data if wbits == 31 and inflater.unused_data.startswith(b"\x1f\x8b") else b""
    return bytes(out)


def _brotli(body: bytes, limit: int) -> bytes | None:
    try:
        import brotli  # optional: only for archives that kept brotli bodies
    except ImportError:
        return None
    try:
        out = brotli.Decompressor().process(body, output_buffer_limit=limit + 1)
    except Exception:  # brotli.error: not brotli after all
        return None
    if len(out) > limit:
        raise BodyTooLarge("br", limit)
    return out


def _zstd(body: bytes, limit: int) -> bytes | None:
    import io

    import zstandard

    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body), read_across_frames=True) as reader:
            out = reader.read(limit + 1)
    except zstandard.ZstdError:
        return None
    if len(out) > limit:
        raise BodyTooLarge("zstd", limit)
    return out


def decode_body(
    body: bytes, transfer_encoding: str | None, content_encoding: str | None, limit: int = 1 << 62
) -> bytes:
    """Undo chunking and gzip/deflate/brotli/zstd when the stored bytes are still encoded; else return them.

    Inflation is incremental and stops past `limit` (raising BodyTooLarge): a 1 MB body can inflate
    to gigabytes.
    """
    if transfer_encoding and "chunked" in transfer_encoding.lower():
        dechunked = _dechunk(body)
        if dechunked is not None:
            body = dechunked
    coding = (content_encoding or "").strip().lower()
    decoded: bytes | None = None
    if body.startswith(b"\x1f\x8b"):
        decoded = _inflate(body, 31, limit)
    elif coding == "deflate":
        decoded = _inflate(body, 15, limit)
        if decoded is None:
            decoded = _inflate(body, -15, limit)
    elif coding == "br":
        decoded = _brotli(body, limit)
    elif coding == "zstd" or body.startswith(b"\x28\xb5\x2f\xfd"):
        decoded = _zstd(body, limit)
    return body if decoded is None else decoded
