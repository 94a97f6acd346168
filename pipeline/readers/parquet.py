"""Parquet files: streamed by small row batches, text/id/url columns from config.

Sizes are checked in Arrow before any value becomes a Python object: a row group whose text column
holds, uncompressed, more than `ingest.max_document_bytes` per row on average must hold a too-large
row and is not decoded (a few-KB file can inflate to gigabytes); other row groups are read in
batches of about `_BATCH_BYTES`, and a too-large cell is rejected without being converted. A column
of the wrong type costs its rows a ledger row each, never the rest of the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import extra_fields
from pipeline.parquet_read import open_parquet, read_batches
from pipeline.readers.base import RawRecord, ReaderOptions, reject

# Text bytes per batch: bounds the Arrow memory of one batch (plus one Parquet page).
_BATCH_BYTES = 32 << 20
_MAX_BATCH_ROWS = 1024


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _decoded(column: pa.Array) -> pa.Array:
    """Dictionary-encoded columns (pandas `category`) as their values."""
    if pa.types.is_dictionary(column.type):
        return column.dictionary_decode()
    return column


def _as_strings(column: pa.Array | None, n: int) -> list[str | None]:
    """Ids and urls as strings: scalars cast, lists and structs as JSON (as the JSON Lines reader does)."""
    if column is None:
        return [None] * n
    column = _decoded(column)
    if _is_text(column.type):
        return column.to_pylist()
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        return [v.decode("utf-8", "replace") if v is not None else None for v in column.to_pylist()]
    if pa.types.is_nested(column.type):
        return [_json(v) for v in column.to_pylist()]
    try:
        return column.cast(pa.string()).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return [_json(v) for v in column.to_pylist()]


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def read_parquet(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    limit = options.max_document_bytes
    parquet = open_parquet(path)
    names = parquet.schema_arrow.names
    if options.text_field not in names:
        yield reject(
            None,
            "missing_text",
            f"no column '{options.text_field}' (has: {', '.join(names[:10])}); set ingest.text_field",
        )
        return
    named = (options.text_field, options.id_field, options.url_field)
    # The file's other columns pass through as the record's own fields (see extra_fields.py).
    wanted = [c for c in named if c in names] + [c for c in names if c not in named]
    metadata = parquet.metadata
    number = 0
    for group in range(metadata.num_row_groups):
        info = metadata.row_group(group)
        rows = info.num_rows
        stored = sum(
            info.column(i).total_uncompressed_size
            for i in range(info.num_columns)
            if info.column(i).path_in_schema.split(".")[0] in wanted
        )
        if rows and stored > limit * rows + (1 << 20):
            detail = (
                f"row group {group} stores {stored / 1e6:,.0f} MB uncompressed for {rows:,} row(s), more than "
                f"ingest.max_document_bytes={limit} per row: it is not decoded; raise the limit to read it"
            )
            for _ in range(rows):
                number += 1
                yield reject(number, "too_large", f"row {number}: {detail}")
            continue
        per_row = max(1, stored // rows) if rows else 1
        batch_rows = max(1, min(_MAX_BATCH_ROWS, _BATCH_BYTES // per_row))
        done = 0
        try:
            for batch in read_batches(parquet, batch_rows, wanted, [group]):
                yield from _batch_records(batch, number + done, options)
                done += batch.num_rows
        except (OSError, pa.ArrowException) as exc:
            # A damaged page: the rest of this row group cannot be decoded, the next one can. Each
            # row not read is a ledger row, so the count still holds.
            offset = info.column(0).data_page_offset if info.num_columns else 0
            detail = (
                f"row group {group} (near byte {offset:,}) is damaged after {done:,} of its {rows:,} rows "
                f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
            )
            for i in range(done, rows):
                yield reject(number + i + 1, "corrupt_file", f"row {number + i + 1} not read: {detail}")
        number += rows


def _batch_records(batch: pa.RecordBatch, before: int, options: ReaderOptions) -> Iterator[RawRecord]:
    limit = options.max_document_bytes
    n = batch.num_rows
    text_col = _decoded(batch.column(options.text_field))
    # Ids first (a small column): a rejected row keeps the input's id in the ledger.
    ids = _as_strings(batch.column(options.id_field) if options.id_field in batch.schema.names else None, n)
    if not _is_text(text_col.type):
        for i in range(n):
            number = before + i + 1
            yield reject(
                number,
                "malformed_record",
                f"row {number}: column '{options.text_field}' is {text_col.type}, not text; convert the column",
                record_id=ids[i],
            )
        return
    # Lengths in Arrow first: an oversized cell is replaced by null before anything is converted.
    too_large = pc.fill_null(pc.greater(pc.binary_length(text_col), limit), False)
    texts = pc.if_else(too_large, pa.scalar(None, text_col.type), text_col).to_pylist()
    over = too_large.to_pylist()
    urls = _as_strings(batch.column(options.url_field) if options.url_field in batch.schema.names else None, n)
    named = (options.text_field, options.id_field, options.url_field)
    others = [c for c in batch.schema.names if c not in named]
    rows = batch.select(others).to_pylist() if others else [None] * n
    declared = {c: t for c in others if extra_fields.restorable(t := batch.schema.field(c).type)}
    for i, (text, rid, url, fields) in enumerate(zip(texts, ids, urls, rows, strict=True)):
        number = before + i + 1
        if over[i]:
            detail = f"row {number} is larger than ingest.max_document_bytes={limit}"
            yield reject(number, "too_large", detail, record_id=rid)
            continue
        yield RawRecord(
            number=number,
            text=text if text is not None else "",
            id=rid,
            url=url,
            fields=fields,
            field_types=declared or None,
        )
