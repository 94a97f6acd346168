"""ingest: walk the input, read every file with its format's reader, emit bounded Arrow batches.

Every record a reader yields becomes either a row of a kept batch or a ledger row; a file that
cannot be read at all, or holds no records, still leaves one ledger row, so nothing is silent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.config import IngestConfig
from pipeline.fingerprint import sha256_of
from pipeline.readers import discover, reader_for
from pipeline.readers.base import Pending, RawRecord
from pipeline.readers.compression import corrupt_stream_errors
from pipeline.readers.finisher import Finisher
from pipeline.records import LEDGER_SCHEMA, METADATA_NAMES, RECORD_SCHEMA, record_id

STAGE = "ingest"


@dataclass
class InputFile:
    path: Path
    relative: str
    size: int
    sha256: str


@dataclass
class IngestBatch:
    kept: pa.RecordBatch
    rejected: pa.RecordBatch
    # Archive records that are not documents (WARC warcinfo/request/metadata, ARC filedesc), by
    # type: counted here, never rows.
    skipped: Counter[str] = field(default_factory=Counter)


def note_skipped(notes: dict[str, Any], skipped: dict[str, int]) -> None:
    """Add skipped-record counts (of a batch or a committed shard) to the ingest tally's notes."""
    if skipped:
        total = notes.setdefault("skipped_non_document_records", {})
        for kind, n in skipped.items():
            total[kind] = total.get(kind, 0) + n
        notes["skipped_non_document_records"] = dict(sorted(total.items()))


def list_inputs(root: Path, exclude: list[Path]) -> list[InputFile]:
    files = []
    for path in discover(root, exclude):
        relative = path.name if root.is_file() else path.relative_to(root).as_posix()
        files.append(InputFile(path, relative, path.stat().st_size, sha256_of(path)))
    return files


@dataclass
class _Columns:
    kept: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in RECORD_SCHEMA.names})
    rejected: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in LEDGER_SCHEMA.names})
    skipped: Counter[str] = field(default_factory=Counter)
    kept_bytes: int = 0

    def __len__(self) -> int:
        return len(self.kept["id"]) + len(self.rejected["id"])

    def add(self, file: str, record: RawRecord) -> None:
        if record.skipped is not None:
            self.skipped[record.skipped] += 1
            return
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
        )
        self.kept = {n: [] for n in RECORD_SCHEMA.names}
        self.rejected = {n: [] for n in LEDGER_SCHEMA.names}
        self.skipped = Counter()
        self.kept_bytes = 0
        return batch


def _records(file: InputFile, config: IngestConfig) -> Iterator[RawRecord | Pending]:
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
            detail=f"could not read past record {last_number}: {type(exc).__name__}: {exc}",
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
