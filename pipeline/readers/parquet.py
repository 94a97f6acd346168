"""Parquet files: streamed by row batch, text/id/url columns from config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.readers.base import RawRecord, ReaderOptions, reject


def _as_strings(column: pa.Array | None, n: int) -> list[str | None]:
    if column is None:
        return [None] * n
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    return column.to_pylist()


def read_parquet(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    if options.text_field not in names:
        yield reject(
            None,
            "missing_text",
            f"no column '{options.text_field}' (has: {', '.join(names[:10])}); set ingest.text_field",
        )
        return
    named = (options.text_field, options.id_field, options.url_field)
    wanted = [c for c in named if c in names]
    others = [c for c in names if c not in named]
    number = 0
    for batch in parquet.iter_batches(batch_size=1024, columns=wanted + others):
        text_col = batch.column(options.text_field)
        if not (pa.types.is_string(text_col.type) or pa.types.is_large_string(text_col.type)):
            yield reject(None, "malformed_record", f"column '{options.text_field}' is {text_col.type}, not text")
            return
        n = batch.num_rows
        texts = text_col.to_pylist()
        ids = _as_strings(batch.column(options.id_field) if options.id_field in wanted else None, n)
        urls = _as_strings(batch.column(options.url_field) if options.url_field in wanted else None, n)
        rows = batch.select(others).to_pylist() if others else [None] * n
        for text, rid, url, fields in zip(texts, ids, urls, rows, strict=True):
            number += 1
            if text is not None and len(text) > options.max_document_bytes:
                yield reject(number, "too_large", f"row {number} is larger than ingest.max_document_bytes")
                continue
            yield RawRecord(number=number, text=text if text is not None else "", id=rid, url=url, fields=fields)
