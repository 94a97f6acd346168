"""What a reader yields: one `RawRecord` per document it found, or per document it could not read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(slots=True)
class RawRecord:
    # 1-based record number inside a multi-record file; None for one-document files.
    number: int | None
    text: str | None
    id: str | None = None
    url: str | None = None
    # Set when the record is rejected at ingest: a short stable code and one line for a human.
    reason: str | None = None
    detail: str = ""
    # Provenance that goes into the published `metadata` struct (and `encoding` into the ledger).
    title: str | None = None
    date: str | None = None
    encoding: str | None = None
    content_type: str | None = None
    warc_record_id: str | None = None
    warc_date: str | None = None
    # Set for archive records that are not documents (WARC warcinfo/request/metadata...): their type.
    # Ingest counts them and makes no row of them.
    skipped: str | None = None
    # The record's other input fields (JSON-like values), published as the user's own columns.
    fields: dict[str, Any] | None = None
    # Types the input declares for fields JSON cannot hold (a Parquet file's timestamps, dates,
    # decimals, bytes): the published column gets this type back instead of text.
    field_types: dict[str, Any] | None = None


# Ledger reasons that mean "reading stopped here: the rest of the file (or all of it) was not read".
# A file with such a row is reported as partly read in the summary and run.json, because the
# records it still held were never counted. The row's detail says at which byte reading stopped.
PARTIAL_REASONS = frozenset({"corrupt_file", "corrupt_archive", "unreadable", "partly_read"})


class Pending(ABC):
    """A record whose costly part (HTML extraction) is still to do.

    Readers yield it instead of a RawRecord so that ingest can run `finish` in a worker process;
    it must be picklable and `finish` a pure function of it and the options.
    """

    number: int | None

    @abstractmethod
    def finish(self, options: ReaderOptions) -> RawRecord: ...


class ReaderOptions(Protocol):
    text_field: str
    id_field: str
    url_field: str
    max_document_bytes: int
    html_favor: str
    html_include_tables: bool
    html_include_comments: bool
    workers: int
    text_unit: str


class Reader(Protocol):
    def __call__(self, path: Path, options: ReaderOptions) -> Iterator[RawRecord | Pending]: ...


def reject(
    number: int | None,
    reason: str,
    detail: str,
    text: str | None = None,
    encoding: str | None = None,
    record_id: str | None = None,
) -> RawRecord:
    """A ledger row for a record the reader could not use; `record_id`: the input's own id, when known."""
    return RawRecord(number=number, text=text, id=record_id, reason=reason, detail=detail, encoding=encoding)


def read_whole(path: Path, options: ReaderOptions, what: str) -> bytes | RawRecord:
    """The (decompressed) bytes of a one-document file, or a `too_large` rejection when they pass the limit.

    Reads at most one byte past the limit, so a huge file is never held in memory.
    """
    from pipeline.readers.compression import open_binary

    limit = options.max_document_bytes
    with open_binary(path) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        return reject(None, "too_large", f"{what} is larger than ingest.max_document_bytes={limit}; raise the limit")
    return data
