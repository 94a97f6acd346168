"""ingest: walk the input, read every file with its format's reader, emit bounded Arrow batches.

Every record a reader yields becomes either a row of a kept batch or a ledger row; a file that
cannot be read at all, or holds no records, still leaves one ledger row, so nothing is silent.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline import extra_fields
from pipeline.config import IngestConfig
from pipeline.errors import InputError
from pipeline.fingerprint import sha256_of
from pipeline.readers import reader_for
from pipeline.readers.base import PARTIAL_REASONS, Pending, RawRecord
from pipeline.readers.compression import corrupt_stream_errors
from pipeline.readers.finisher import Finisher
from pipeline.readers.walk import walk
from pipeline.records import LEDGER_SCHEMA, METADATA_NAMES, RECORD_SCHEMA, record_id
from pipeline.seen_ids import SeenIds

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
    # The merged Arrow type of the records' own fields seen so far (see extra_fields.py).
    fields_type: pa.StructType = field(default_factory=lambda: pa.struct([]))


# Reasons that say the config does not fit the file (not that one record is bad): a file whose first
# records all fail this way stops the run at once instead of filling the ledger.
CONFIG_REASONS = frozenset({"missing_text"})
_CONFIG_PROBE = 20


def note_skipped(notes: dict[str, Any], skipped: dict[str, int]) -> None:
    """Add skipped-record counts (of a batch or a committed shard) to the ingest tally's notes."""
    if skipped:
        total = notes.setdefault("skipped_non_document_records", {})
        for kind, n in skipped.items():
            total[kind] = total.get(kind, 0) + n
        notes["skipped_non_document_records"] = dict(sorted(total.items()))


_GLOB_CHARS = frozenset("*?[")


def split_glob(path: Path) -> tuple[Path, str | None]:
    """`data/*/part-*.jsonl` -> (data, "*/part-*.jsonl"): the folder to walk and the pattern to keep."""
    parts = path.parts
    for index, part in enumerate(parts):
        if _GLOB_CHARS & set(part):
            return Path(*parts[:index]), "/".join(parts[index:])
    return path, None


def is_tool_output(folder: Path) -> bool:
    """A folder this tool wrote: a published dataset, a run report, or a work folder."""
    return (
        (folder / "croissant.json").is_file()
        or ((folder / "run.json").is_file() and (folder / "rejected.parquet").is_file())
        or (folder.name.startswith(".") and folder.name.endswith(".work"))
    )


def list_inputs(
    root: Path, exclude: list[Path], follow_symlinks: bool = False, pattern: str | None = None
) -> list[InputFile]:
    """The input files (and the entries the walk could not use, as ledger rows to be), skipping folders
    this tool wrote: an output folder inside the input is never read back."""
    files = []
    outputs: dict[Path, bool] = {}

    def inside_output(path: Path) -> bool:
        for parent in path.relative_to(root).parents:
            folder = root / parent
            if folder != root and outputs.setdefault(folder, is_tool_output(folder)):
                return True
        return False

    for entry in walk(root, exclude, follow_symlinks):
        if not root.is_file() and inside_output(entry.path):
            continue
        if pattern is not None and not fnmatch.fnmatchcase(entry.relative, pattern):
            continue
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
    config: IngestConfig
    kept: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in RECORD_SCHEMA.names})
    rejected: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in LEDGER_SCHEMA.names})
    skipped: Counter[str] = field(default_factory=Counter)
    partial: dict[str, str] = field(default_factory=dict)
    kept_bytes: int = 0
    # Input ids seen so far (12 bytes each), to stop at a repeat.
    seen_ids: SeenIds = field(default_factory=SeenIds)
    pending_ids: list[tuple[str, str, str]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    fields_type: pa.StructType = field(default_factory=lambda: pa.struct([]))
    first_file: dict[str, str] = field(default_factory=dict)
    # Per file, the types its reader declared for fields JSON cannot hold (see extra_fields.restorable).
    declared_types: dict[str, dict[str, pa.DataType]] = field(default_factory=dict)

    def _id(self, file: str, source: str, record: RawRecord) -> str:
        if not record.id:
            return record_id(source)
        rid = record.id if self.config.duplicate_ids == "fail" else f"{file}:{record.id}"
        if record.reason is None:
            self.pending_ids.append((rid, file, source))
        return rid

    def _fields(self, record: RawRecord, metadata: dict[str, Any]) -> str | None:
        fields = dict(record.fields or {})
        # Columns naming a title or date fill the metadata struct rather than a column of their own.
        for name in ("title", "date"):
            if isinstance(fields.get(name), str) and metadata[name] is None:
                metadata[name] = fields.pop(name)
        keep = self.config.keep_fields
        if keep is not None:
            fields = {k: v for k, v in fields.items() if k in keep}
        return extra_fields.to_json(fields)

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
        rid = self._id(file, source, record)
        text = record.text
        reason, detail = record.reason, record.detail
        if reason is None and (text is None or not text.strip()):
            reason, detail = "empty", "the document has no text (empty or only whitespace)"
        if reason is None:
            row = self.kept
            self.kept_bytes += len(text or "")
            metadata = {name: getattr(record, name) for name in METADATA_NAMES}
            fields = self._fields(record, metadata)
            if record.field_types and file not in self.declared_types:
                self.declared_types[file] = record.field_types
            values = {
                "id": rid,
                "text": text,
                "source": source,
                "url": record.url,
                "file": file,
                "metadata": metadata,
                "fields": fields,
            }
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

    def check_ids(self) -> None:
        """Check the ids read since the last call against all earlier ones (one vectorised lookup)."""
        pending, self.pending_ids = self.pending_ids, []
        repeats = self.seen_ids.add([rid for rid, _, _ in pending], [file for _, file, _ in pending])
        for position, earlier in repeats:
            rid, file, source = pending[position]
            where = f"in {file}" if earlier == file else f"in {earlier} and {file}"
            self.duplicates.append(f"id {rid!r} appears twice ({where}; second at {source})")

    def flush(self) -> IngestBatch:
        self.check_ids()
        self._merge_field_types()
        batch = IngestBatch(
            pa.RecordBatch.from_pydict(self.kept, schema=RECORD_SCHEMA),
            pa.RecordBatch.from_pydict(self.rejected, schema=LEDGER_SCHEMA),
            self.skipped,
            fields_type=self.fields_type,
            partial=self.partial,
        )
        self.partial = {}
        self.kept = {n: [] for n in RECORD_SCHEMA.names}
        self.rejected = {n: [] for n in LEDGER_SCHEMA.names}
        self.skipped = Counter()
        self.kept_bytes = 0
        return batch

    def _merge_field_types(self) -> None:
        """Merge the field types of this batch's records, file by file, into the run's."""
        by_file: dict[str, list[str]] = {}
        for file, value in zip(self.kept["file"], self.kept["fields"], strict=True):
            if value is not None:
                by_file.setdefault(file, []).append(value)
        for file, values in by_file.items():
            try:
                type_ = extra_fields.declare(extra_fields.infer(values), self.declared_types.get(file, {}))
            except extra_fields.FieldTypeConflict as exc:
                raise InputError(
                    f"{file}: {exc}; make the field one type, or leave it out with ingest.keep_fields"
                ) from None
            self.fields_type = extra_fields.merge_file_types(self.fields_type, type_, file, self.first_file)


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
            detail="no reader for this file type (.txt .md .jsonl .ndjson .json .csv .parquet .html .htm .warc .wet "
            ".arc, optionally .gz/.zst/.bz2/.xz) and its content is not recognised; convert it, set ingest.format, "
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


class _ConfigProbe:
    """Stops the run when a file's first records all say the config does not fit it (no text field)."""

    def __init__(self) -> None:
        self.file: str | None = None
        self.fitting = 0
        self.misfits = 0
        self.detail = ""

    def see(self, file: str, record: RawRecord) -> None:
        if file != self.file:
            self.close()
            self.file, self.fitting, self.misfits, self.detail = file, 0, 0, ""
        if record.skipped is not None or self.fitting:
            return
        if record.reason in CONFIG_REASONS:
            self.misfits += 1
            self.detail = self.detail or record.detail
            if self.misfits >= _CONFIG_PROBE:
                self.close()
        else:
            self.fitting += 1

    def close(self) -> None:
        if self.file is not None and self.misfits and not self.fitting:
            raise InputError(
                f"{self.file}: {self.detail} (e.g. --set ingest.text_field=NAME); ingest stopped before "
                "any work was done"
            )


def _duplicate_error(config: IngestConfig, duplicates: list[str]) -> InputError:
    examples = "; ".join(duplicates[:3])
    if config.duplicate_ids == "fail":
        fix = (
            'set ingest.duplicate_ids = "prefix_source" to make each id "<file>:<id>", or ingest.id_field = "" '
            "to let the pipeline derive ids from the source"
        )
    else:
        fix = 'ids repeat inside one file; fix the input or set ingest.id_field = "" to derive ids from the source'
    return InputError(f"input ids are not unique: {examples}; {fix}")


def ingest(files: list[InputFile], config: IngestConfig, batch_size: int) -> Iterator[IngestBatch]:
    """Batches of at most `batch_size` records (kept + rejected) or ~64 MB of text, in input order.

    Raises InputError as soon as the config does not fit a file or an input id repeats, so a
    misconfigured run stops within seconds instead of after every stage.
    """
    columns = _Columns(config)
    probe = _ConfigProbe()
    tagged = ((file.relative, record) for file in files for record in _records(file, config))
    records = 0
    with Finisher[str](config) as finisher:
        for relative, record in finisher.finish(tagged):
            probe.see(relative, record)
            columns.add(relative, record)
            if record.skipped is None:
                records += 1
            if len(columns) >= batch_size or columns.kept_bytes >= 64 << 20:
                columns.check_ids()
                if columns.duplicates:
                    raise _duplicate_error(config, columns.duplicates)
                yield columns.flush()
            if config.limit and records >= config.limit:
                break
    probe.close()
    columns.check_ids()
    if columns.duplicates:
        raise _duplicate_error(config, columns.duplicates)
    if len(columns):
        yield columns.flush()
