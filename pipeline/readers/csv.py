"""CSV files (optionally compressed) with a header row; text/id/url columns from config.

Rows are split by our own quote-aware scanner before the `csv` module parses them one at a time.
The `csv` module alone, after a field-size error, resumes parsing *inside* the quoted field it gave
up on, so a single huge field could turn its content into thousands of invented rows. The scanner
follows the quoting of the whole file, so a bad row (too large, malformed) costs exactly that row,
and a row is never held beyond `ingest.max_document_bytes`.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pipeline.readers.base import RawRecord, ReaderOptions, reject
from pipeline.readers.compression import corrupt_stream_errors, open_binary
from pipeline.readers.decode import decode_bytes

_SNIFF_BYTES = 1 << 16
_CHUNK = 1 << 20
# The characters that end an unquoted field.
_FIELD_END = re.compile(r"[,\r\n]")
# One whole row in the csv module's default dialect (fast path): a quoted field may hold newlines and
# doubled quotes, and text after its closing quote is kept literally, as the csv module does.
# Possessive quantifiers: a row that does not match fails in linear time.
_QUOTED = r'"[^"]*+(?:""[^"]*+)*+"[^,\r\n]*+'
_FIELD = rf'(?:{_QUOTED}|(?:[^,\r\n"][^,\r\n]*+)?)'
_ROW = re.compile(rf"{_FIELD}(?:,{_FIELD})*+(?:\r\n|\n|\r)")


def _encoding_of(path: Path) -> str:
    with open_binary(path) as stream:
        head = stream.read(_SNIFF_BYTES)
    decoded = decode_bytes(head)
    # A cut in the middle of a multi-byte character makes a UTF-8 head look undecodable.
    return decoded.encoding or "utf-8"


class _Counting(io.RawIOBase):
    """Counts the (decompressed) bytes handed to the decoder, to say where reading stopped."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


class _Rows:
    """Splits a text stream into CSV rows the way the `csv` module's default dialect quotes them.

    Yields (row text or None when the row passed `limit` characters, True when the file ended inside
    a quoted field).
    """

    def __init__(self, stream: io.TextIOBase, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.buffer = ""
        self.pos = 0
        self.eof = False

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def __iter__(self) -> Iterator[tuple[str | None, bool]]:
        while True:
            row = self._row()
            if row is None:
                return
            yield row

    def _row(self) -> tuple[str | None, bool] | None:
        match = _ROW.match(self.buffer, self.pos)
        # A row that ends before the buffer does (a final "\r" may still be followed by "\n").
        if match is not None and match.end() < len(self.buffer) and match.end() - self.pos <= self.limit:
            self.pos = match.end()
            return (match.group(), False)
        return self._slow_row()

    def _slow_row(self) -> tuple[str | None, bool] | None:
        """One row, character class by character class: rows that straddle the buffer or are too large."""
        parts: list[str] = []
        held = 0
        over = False
        start = self.pos
        at_field_start = True
        quoted = False

        def keep(end: int) -> None:
            # Move buffer[start:end] into the row (or drop it once the row is too large).
            nonlocal held, over, start
            if not over:
                piece = self.buffer[start:end]
                held += len(piece)
                if held > self.limit:
                    over = True
                    parts.clear()
                else:
                    parts.append(piece)
            start = end

        while True:
            if self.pos >= len(self.buffer):
                keep(self.pos)
                if not self._more():
                    if held == 0 and not over:
                        return None
                    return (None if over else "".join(parts), quoted)
                start = self.pos
                continue
            if quoted:
                q = self.buffer.find('"', self.pos)
                if q < 0:
                    self.pos = len(self.buffer)
                    continue
                if q + 1 >= len(self.buffer):
                    # Need the next character to tell an escaped quote from a closing one.
                    keep(q)
                    self.pos = q
                    if not self._more():
                        self.pos = len(self.buffer)
                        quoted = False
                        continue
                    start = self.pos
                    continue
                if self.buffer[q + 1] == '"':
                    self.pos = q + 2
                else:
                    quoted = False
                    at_field_start = False
                    self.pos = q + 1
                continue
            if at_field_start and self.buffer[self.pos] == '"':
                quoted = True
                self.pos += 1
                continue
            match = _FIELD_END.search(self.buffer, self.pos)
            if match is None:
                self.pos = len(self.buffer)
                at_field_start = False
                continue
            char = match.group()
            self.pos = match.end()
            if char == ",":
                at_field_start = True
                continue
            if char == "\r":
                if self.pos >= len(self.buffer):
                    keep(self.pos)
                    self._more()
                    start = self.pos
                if self.buffer[self.pos : self.pos + 1] == "\n":
                    self.pos += 1
            keep(self.pos)
            return (None if over else "".join(parts), False)


def _parse(text: str) -> list[str] | None:
    if '"' not in text:
        line = text.rstrip("\r\n")
        return line.split(",") if line else []
    try:
        rows = list(csv.reader((text,)))
    except csv.Error:
        return None
    if len(rows) > 1:
        return None
    return rows[0] if rows else []


def read_csv(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    limit = options.max_document_bytes
    csv.field_size_limit(min(sys.maxsize, limit + 1))
    encoding = _encoding_of(path)
    raw = _Counting(open_binary(path))
    # surrogateescape: an undecodable byte becomes a lone surrogate in its row only, and ingest
    # rejects that row as invalid_unicode instead of the decoder ending the file.
    with io.TextIOWrapper(io.BufferedReader(raw), encoding=encoding, errors="surrogateescape", newline="") as stream:
        rows = iter(_Rows(stream, limit))
        damage = corrupt_stream_errors()
        number = 0
        header: list[str] | None = None
        while True:
            try:
                item = next(rows, None)
            except damage as exc:
                yield RawRecord(
                    number + 1 if header is not None else None,
                    None,
                    reason="corrupt_file",
                    detail=f"the compressed stream is damaged near uncompressed byte {raw.count:,} "
                    f"({type(exc).__name__}: {exc}); rows before it are kept, the rest of the file was not read",
                )
                return
            if item is None:
                return
            text, unterminated = item
            if header is None:
                header = _parse(text) if text is not None else None
                if header is None:
                    yield reject(None, "malformed_record", "the header row cannot be parsed as CSV")
                    return
                if options.text_field not in header:
                    yield reject(
                        None,
                        "missing_text",
                        f"no column '{options.text_field}' in the header ({', '.join(header[:10])}); "
                        "set ingest.text_field",
                    )
                    return
                text_at = header.index(options.text_field)
                id_at = header.index(options.id_field) if options.id_field in header else None
                url_at = header.index(options.url_field) if options.url_field in header else None
                continue
            number += 1
            if text is None:
                yield reject(number, "too_large", f"row {number} is larger than ingest.max_document_bytes={limit}")
                continue
            if unterminated:
                yield reject(
                    number,
                    "malformed_record",
                    f"row {number} opens a quoted field that is never closed; the file ends inside it",
                    text[:2000],
                )
                continue
            row = _parse(text)
            if row is None:
                yield reject(number, "malformed_record", f"row {number} is not valid CSV", text[:2000])
                continue
            if len(row) != len(header):
                yield reject(
                    number,
                    "malformed_record",
                    f"row {number} has {len(row)} fields, the header has {len(header)}",
                    ",".join(row)[:2000],
                )
                continue
            named = {text_at, id_at, url_at}
            yield RawRecord(
                number=number,
                fields={header[i]: value or None for i, value in enumerate(row) if i not in named} or None,
                text=row[text_at],
                id=row[id_at] or None if id_at is not None else None,
                url=row[url_at] or None if url_at is not None else None,
                encoding=encoding,
            )
