"""CSV files (optionally compressed) with a header row; text/id/url columns from config."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from pipeline.readers.base import RawRecord, ReaderOptions, reject
from pipeline.readers.compression import open_binary
from pipeline.readers.decode import decode_bytes

_SNIFF_BYTES = 1 << 16


def _encoding_of(path: Path) -> str:
    with open_binary(path) as stream:
        head = stream.read(_SNIFF_BYTES)
    decoded = decode_bytes(head)
    # A cut in the middle of a multi-byte character makes a UTF-8 head look undecodable.
    return decoded.encoding or "utf-8"


def read_csv(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    csv.field_size_limit(min(sys.maxsize, options.max_document_bytes))
    encoding = _encoding_of(path)
    with open_binary(path) as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader)
        except StopIteration:
            return
        if options.text_field not in header:
            yield reject(
                None,
                "missing_text",
                f"no column '{options.text_field}' in the header ({', '.join(header[:10])}); set ingest.text_field",
            )
            return
        text_at = header.index(options.text_field)
        id_at = header.index(options.id_field) if options.id_field in header else None
        url_at = header.index(options.url_field) if options.url_field in header else None
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield reject(number, "malformed_record", f"row {number}: {exc}")
                continue
            number += 1
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
