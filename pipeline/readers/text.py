"""`.txt` and `.md` files (optionally compressed): one document per file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline.readers.base import RawRecord, ReaderOptions, read_whole, reject
from pipeline.readers.decode import decode_bytes


def read_text(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    data = read_whole(path, options, "document")
    if isinstance(data, RawRecord):
        yield data
        return
    decoded = decode_bytes(data)
    if decoded.text is None:
        yield reject(None, decoded.reason or "undecodable", decoded.detail)
        return
    yield RawRecord(number=None, text=decoded.text, encoding=decoded.encoding, content_type="text/plain")
