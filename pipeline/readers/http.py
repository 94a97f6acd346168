"""HTTP responses stored in crawl archives: status line and headers, then the body as the server sent it.

Crawlers store the body either as transmitted (gzip, chunked) or already decoded while keeping the
original headers, so decoding is attempted only when the bytes really look encoded.
"""

from __future__ import annotations

import gzip
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


def decode_body(body: bytes, transfer_encoding: str | None, content_encoding: str | None) -> bytes:
    """Undo chunking and gzip/deflate/brotli when the stored bytes are still encoded; else return them."""
    if transfer_encoding and "chunked" in transfer_encoding.lower():
        dechunked = _dechunk(body)
        if dechunked is not None:
            body = dechunked
    coding = (content_encoding or "").strip().lower()
    if body.startswith(b"\x1f\x8b"):
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            # A truncated gzip body: keep what inflates.
            return zlib.decompressobj(31).decompress(body)
    if coding == "deflate":
        for wbits in (15, -15):
            try:
                return zlib.decompress(body, wbits)
            except zlib.error:
                continue
    if coding == "br":
        try:
            import brotli  # optional: only for archives that kept brotli bodies

            return brotli.decompress(body)
        except Exception:  # not brotli after all, or brotli not installed
            return body
    return body
