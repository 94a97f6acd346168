"""ingest: walk the input, read every file with its format's reader, emit bounded Arrow batches.

Every record a reader yields becomes either a row of a kept batch or a ledger row; a file that
cannot be read at all, or holds no records, still leaves one ledger row, so nothing is silent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.config import IngestConfig
from pipeline.fingerprint import sha256_of
from pipeline.readers import reader_for
from pipeline.readers.base import PARTIAL_REASONS, Pending, RawRecord
from pipeline.readers.compression import corrupt_stream_errors
from pipeline.readers.finisher import Finisher
from pipeline.readers.walk import walk
from pipeline.records import LEDGER_SCHEMA, METADATA_NAMES, RECORD_SCHEMA, record_id

STAGE = "ingest"


@dataclass
class InputFile:
    path: Path
    relative: str
    size: int
    sha256: str
    # Set when the walk found the entry but it is not read (unreadable, not a file, a symlink out of
    # the input...): one ledger row with this reason stands for it.
    reason: str | None = None
    detail: str = ""


@dataclass
class IngestBatch:
    kept: pa.RecordBatch
    rejected: pa.RecordBatch
    # Archive records that are not documents (WARC warcinfo/request/metadata, ARC filedesc), by
    # type: counted here, never rows.
    skipped: Counter[str] = field(default_factory=Counter)
    # Files whose reading stopped early (damage that cannot be resynchronised), by relative path:
    # the detail of the ledger row that says where.
    partial: dict[str, str] = field(default_factory=dict)


def note_skipped(notes: dict[str, Any], skipped: dict[str, int]) -> None:
    """Add skipped-record counts (of a batch or a committed shard) to the ingest tally's notes."""
    if skipped:
        total = notes.setdefault("skipped_non_document_records", {})
        for kind, n in skipped.items():
            total[kind] = total.get(kind, 0) + n
        notes["skipped_non_document_records"] = dict(sorted(total.items()))


def list_inputs(root: Path, exclude: list[Path], follow_symlinks: bool = False) -> list[InputFile]:
    files = []
    for entry in walk(root, exclude, follow_symlinks):
        if entry.reason is not None:
            files.append(InputFile(entry.path, entry.relative, 0, "", entry.reason, entry.detail))
            continue
        try:
            files.append(InputFile(entry.path, entry.relative, entry.path.stat().st_size, sha256_of(entry.path)))
        except OSError as exc:
            detail = f"cannot be read ({exc.strerror or exc}); fix its permissions or move it out of the input"
            files.append(InputFile(entry.path, entry.relative, 0, "", "unreadable", detail))
    return files


_SURROGATE = re.compile("[\ud800-\udfff]")


def _repaired(value: str | None) -> str | None:
    """`value` with lone surrogates (which Arrow cannot hold) replaced by U+FFFD, or None when it has none."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", value)
    return None


def _guard_unicode(record: RawRecord) -> RawRecord:
    """Lone surrogates (a JSON `"\\ud800"`, bytes read with surrogateescape) cannot be written as UTF-8.

    In the text they make the record an `invalid_unicode` rejection (the repaired text goes to the
    ledger); in the id, url or provenance they are replaced by U+FFFD, since the text is intact.
    """
    for name in ("id", "url", "title", "date", "encoding", "content_type", "warc_record_id", "warc_date", "detail"):
        value = getattr(record, name)
        if isinstance(value, str) and (fixed := _repaired(value)) is not None:
            setattr(record, name, fixed)
    fixed = _repaired(record.text)
    if fixed is not None:
        at = _SURROGATE.search(record.text or "")
        record.text = fixed
        if record.reason is None:
            record.reason = "invalid_unicode"
            record.detail = (
                f"the text holds a lone surrogate (invalid Unicode) at character {at.start() if at else 0}; "
                "fix the source encoding"
            )
    return record


@dataclass
class _Columns:
    kept: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in RECORD_SCHEMA.names})
    rejected: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in LEDGER_SCHEMA.names})
    skipped: Counter[str] = field(default_factory=Counter)
    partial: dict[str, str] = field(default_factory=dict)
    kept_bytes: int = 0

    def __len__(self) -> int:
        return len(self.kept["id"]) + len(self.rejected["id"])

    def add(self, file: str, record: RawRecord) -> None:
        if record.skipped is not None:
            self.skipped[record.skipped] += 1
            return
        record = _guard_unicode(record)
        if record.reason in PARTIAL_REASONS:
            self.partial.setdefault(file, record.detail)
        source = file if record.number is None else f"{file}#{record.number}"
        rid = record.id if record.id else record_id(source)
        text = record.text
        reason, detail = record.reason, record.detail
        if reason is None and (text is None or not text.strip()):
            reason, detail = "empty", "the document has no text (empty or only whitespace)"
        if reason is None:
            row = self.kept
            self.kept_bytes += len(text or "")
            metadata = {name: getattr(record, name) for name in METADATA_NAMES}
            values = {"id": rid, "text": text, "source": source, "url": record.url, "file": file, "metadata": metadata}
        else:
            row = self.rejected
            values = {
                "id": rid,
                "source": source,
                "file": file,
                "stage": STAGE,
                "reason": reason,
                "detail": f"{source}: {detail}",
                "duplicate_of": None,
                "text": text,
                "encoding": record.encoding,
            }
        for name, value in values.items():
            row[name].append(value)

    def flush(self) -> IngestBatch:
        batch = IngestBatch(
            pa.RecordBatch.from_pydict(self.kept, schema=RECORD_SCHEMA),
            pa.RecordBatch.from_pydict(self.rejected, schema=LEDGER_SCHEMA),
            self.skipped,
            self.partial,
        )
        self.partial = {}
        self.kept = {n: [] for n in RECORD_SCHEMA.names}
        self.rejected = {n: [] for n in LEDGER_SCHEMA.names}
        self.skipped = Counter()
        self.kept_bytes = 0
        return batch


def _records(file: InputFile, config: IngestConfig) -> Iterator[RawRecord | Pending]:
    if file.reason is not None:
        yield RawRecord(None, None, reason=file.reason, detail=file.detail)
        return
    reader = reader_for(file.path, config.format)
    if reader is None:
        yield RawRecord(
            None,
            None,
            reason="unsupported_format",
            detail="no reader for this file type (.txt .md .jsonl .csv .parquet .html .htm .warc .wet .arc, "
            "optionally .gz/.zst/.bz2/.xz) and its content is not recognised; convert it, set ingest.format, "
            "or move it out of the input folder",
        )
        return
    if file.size == 0:
        yield RawRecord(None, None, reason="empty", detail="the file is empty")
        return
    count = 0
    skipped: Counter[str] = Counter()
    last_number = 0
    try:
        for record in reader(file.path, config):
            last_number = record.number or last_number
            if isinstance(record, RawRecord) and record.skipped is not None:
                skipped[record.skipped] += 1
            else:
                count += 1
            yield record
    except corrupt_stream_errors() as exc:
        # Everything read before the damage is kept; the damage itself is one ledger row.
        yield RawRecord(
            last_number + 1 if last_number else None,
            None,
            reason="corrupt_file",
            detail=f"file is damaged after record {last_number}: {type(exc).__name__}: {exc}",
        )
        return
    except Exception as exc:
        yield RawRecord(
            last_number + 1 if last_number else None,
            None,
            reason="unreadable",
            detail=f"could not read past record {last_number}: {type(exc).__name__}: {str(exc)[:300]}; "
            "the rest of the file was not read",
        )
        return
    if count == 0:
        only = ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
        detail = f"the file holds no documents, only {only} record(s)" if skipped else "the file holds no records"
        yield RawRecord(None, None, reason="empty", detail=detail)


def ingest(files: list[InputFile], config: IngestConfig, batch_size: int) -> Iterator[IngestBatch]:
    """Batches of at most `batch_size` records (kept + rejected) or ~64 MB of text, in input order."""
    columns = _Columns()
    tagged = ((file.relative, record) for file in files for record in _records(file, config))
    with Finisher[str](config) as finisher:
        for relative, record in finisher.finish(tagged):
            columns.add(relative, record)
            if len(columns) >= batch_size or columns.kept_bytes >= 64 << 20:
                yield columns.flush()
    if len(columns):
        yield columns.flush()
