"""The Arrow shapes records travel in, and the helpers that build them.

Every stage sees `RecordBatch`es whose first columns are `RECORD_FIELDS`; stages append their own
columns (declared by `Stage.output_fields`). Rejected records leave as rows of `LEDGER_SCHEMA`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc


def described(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    """A field whose description travels with it into the dataset card's field table."""
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


def description_of(field: pa.Field) -> str:
    return (field.metadata or {}).get(b"description", b"").decode()


# Provenance of each record; every field is null where the input format does not carry it.
METADATA_FIELDS: list[pa.Field] = [
    described("title", pa.string(), "Page title (HTML, WARC and ARC inputs)."),
    described("date", pa.string(), "Publication date found in the page (YYYY-MM-DD)."),
    described("encoding", pa.string(), "Character set the input bytes were decoded with (a Python codec name)."),
    described("content_type", pa.string(), "MIME type of the payload (HTTP Content-Type, or the format's own)."),
    described("warc_record_id", pa.string(), "WARC-Record-ID of the archive record."),
    described("warc_date", pa.string(), "Capture time: WARC-Date, or the ARC archive date (ISO 8601, UTC)."),
]
METADATA_TYPE = pa.struct(METADATA_FIELDS)
METADATA_NAMES = [f.name for f in METADATA_FIELDS]


def _metadata_description() -> str:
    parts = "; ".join(f"`{f.name}`: {description_of(f).rstrip('.')}" for f in METADATA_FIELDS)
    return f"Provenance from ingest, a struct of nullable strings: {parts}"


RECORD_FIELDS: list[pa.Field] = [
    described("id", pa.string(), "Stable record id: the input's own id if it has one, else a hash of `source`.", False),
    described("text", pa.string(), "The document text after the pipeline's stages.", False),
    described(
        "source",
        pa.string(),
        "Input file relative to the input folder, with `#N` (1-based record number) for multi-record files.",
        False,
    ),
    described("url", pa.string(), "The document's URL when the input gives one, else null."),
    # Input file relative to the input root: per-file accounting needs it, and `source` cannot be
    # parsed back reliably because file names may contain '#'. Not published.
    pa.field("file", pa.string(), nullable=False),
    described("metadata", METADATA_TYPE, _metadata_description()),
    # The input's other fields as one JSON object (null when it has none): they ride through the
    # stages as one opaque column and become typed published columns at publish (see extra_fields.py).
    pa.field("fields", pa.string(), nullable=True),
]
RECORD_SCHEMA = pa.schema(RECORD_FIELDS)
INTERNAL_COLUMNS = frozenset({"file", "fields"})

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("file", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string(), nullable=True),
        pa.field("text", pa.string(), nullable=True),
        # Character set the record's bytes were decoded with; null where unknown or never decoded.
        pa.field("encoding", pa.string(), nullable=True),
    ]
)


def record_id(source: str) -> str:
    """A stable id derived from the record's source (file and position), independent of scheduling."""
    return hashlib.blake2b(source.encode("utf-8"), digest_size=16).hexdigest()


def empty_ledger() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=LEDGER_SCHEMA)


def rejections(
    batch: pa.RecordBatch,
    mask: pa.Array | Sequence[bool],
    stage: str,
    reason: str | Sequence[str],
    detail: str | Sequence[str],
    duplicate_of: Sequence[str | None] | None = None,
) -> pa.RecordBatch:
    """Ledger rows for the records of `batch` where `mask` is true.

    `reason`, `detail` and `duplicate_of` are either one value for all rejected rows or one value per
    rejected row (in batch order).
    """
    mask_arr = mask if isinstance(mask, pa.Array) else pa.array(mask, pa.bool_())
    rejected = batch.filter(mask_arr)
    n = rejected.num_rows

    def column(value: str | Sequence[str | None] | None) -> pa.Array:
        if value is None:
            return pa.nulls(n, pa.string())
        if isinstance(value, str):
            return pa.array([value] * n, pa.string())
        if len(value) != n:
            raise ValueError(f"expected {n} values, got {len(value)}")
        return pa.array(list(value), pa.string())

    if "metadata" in rejected.schema.names:
        encoding = pc.struct_field(rejected.column("metadata"), "encoding")
    else:
        encoding = pa.nulls(n, pa.string())
    return pa.RecordBatch.from_arrays(
        [
            rejected.column("id"),
            rejected.column("source"),
            rejected.column("file"),
            pa.array([stage] * n, pa.string()),
            column(reason),
            column(detail),
            column(duplicate_of),
            rejected.column("text"),
            encoding,
        ],
        schema=LEDGER_SCHEMA,
    )


def split(batch: pa.RecordBatch, reject_mask: pa.Array | Sequence[bool]) -> pa.RecordBatch:
    """The records of `batch` that are not rejected."""
    mask_arr = reject_mask if isinstance(reject_mask, pa.Array) else pa.array(reject_mask, pa.bool_())
    return batch.filter(pc.invert(mask_arr))
