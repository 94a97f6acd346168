"""`.txt` and `.md` files (optionally compressed): one document per file, or per line with
`ingest.text_unit = "line"`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from pipeline.readers.base import RawRecord, ReaderOptions, read_whole, reject
from pipeline.readers.decode import decode_bytes


def read_text(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    if getattr(options, "text_unit", "document") == "line":
        yield from _read_lines(path, options)
        return
    data = read_whole(path, options, "document")
    if isinstance(data, RawRecord):
        yield data
        return
    decoded = decode_bytes(data)
    if decoded.text is None:
        yield reject(None, decoded.reason or "undecodable", decoded.detail)
        return
    yield RawRecord(number=None, text=decoded.text, encoding=decoded.encoding, content_type="text/plain")


def _read_lines(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    """Every non-blank line a document, streamed; numbering follows lines so `#N` finds the line."""
    from pipeline.readers.compression import open_binary

    with open_binary(path) as stream:
        head = stream.read(1 << 16)
    encoding = decode_bytes(head).encoding or "utf-8"
    limit = options.max_document_bytes
    with open_binary(path) as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="") as text:
        number = 0
        while line := text.readline(limit + 1):
            number += 1
            if len(line) > limit and not line.endswith("\n"):
                while (rest := text.readline(1 << 20)) and not rest.endswith("\n"):
                    pass
                yield reject(number, "too_large", f"line {number} is larger than ingest.max_document_bytes={limit}")
                continue
            line = line.rstrip("\r\n")
            if line.strip():
                yield RawRecord(number=number, text=line, encoding=encoding, content_type="text/plain")
