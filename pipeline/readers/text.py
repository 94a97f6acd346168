"""`.txt` and `.md` files (optionally compressed): one document per file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline.readers.base import RawRecord, ReaderOptions, reject
from pipeline.readers.compression import open_binary
from pipeline.readers.decode import decode_bytes


def read_text(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    limit = options.max_document_bytes
    with open_binary(path) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        yield reject(
            None,
            "too_large",
            f"document is larger than ingest.max_document_bytes={limit}; split it or raise the limit",
        )
        return
    decoded = decode_bytes(data)
    if decoded.text is None:
        yield reject(None, decoded.reason or "undecodable", decoded.detail)
        return
    yield RawRecord(number=None, text=decoded.text, encoding=decoded.encoding, content_type="text/plain")
