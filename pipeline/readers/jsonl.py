"""JSON Lines (optionally compressed): one document per line, field names from config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.readers.base import RawRecord, ReaderOptions, reject
from pipeline.readers.compression import corrupt_stream_errors, open_binary

# A rejected line keeps at most this much of its raw text in the ledger.
_LEDGER_SNIPPET = 2000


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def read_jsonl(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    limit = options.max_document_bytes
    damage = corrupt_stream_errors()
    with open_binary(path) as stream:
        number = 0
        offset = 0  # uncompressed bytes read so far
        while True:
            try:
                raw = stream.readline(limit + 1)
                offset += len(raw)
                if len(raw) > limit and not raw.endswith(b"\n"):
                    # Skip the rest of the over-long line without holding it.
                    while (chunk := stream.readline(1 << 20)) and not chunk.endswith(b"\n"):
                        offset += len(chunk)
                    offset += len(chunk)
            except damage as exc:
                # A broken compression stream cannot be resynchronised: say where reading stopped.
                yield reject(
                    number + 1,
                    "corrupt_file",
                    f"the compressed stream is damaged after uncompressed byte {offset:,} "
                    f"({type(exc).__name__}: {exc}); lines before it are kept, the rest of the file was not read",
                )
                return
            if not raw:
                return
            number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                yield reject(
                    number,
                    "too_large",
                    f"line {number} is larger than ingest.max_document_bytes={limit}; raise the limit",
                )
                continue
            if not raw.strip():
                # A blank line is not a record; numbering still follows lines so #N finds the line.
                continue
            try:
                yield _parse_line(raw, number, options)
            except (RecursionError, MemoryError, ValueError) as exc:
                # Nesting deeper than the interpreter's stack, a number too long to convert...: this
                # line only.
                yield reject(
                    number,
                    "malformed_json",
                    f"line {number} cannot be parsed ({type(exc).__name__}: {str(exc)[:200]}); fix or remove the line",
                )


def _parse_line(raw: bytes, number: int, options: ReaderOptions) -> RawRecord:
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        return reject(
            number,
            "undecodable",
            f"line {number} is not UTF-8 ({exc.reason} at byte {exc.start}); JSON Lines must be UTF-8",
        )
    try:
        obj = json.loads(line.strip())
    except json.JSONDecodeError as exc:
        return reject(
            number,
            "malformed_json",
            f"line {number}, column {exc.colno}: {exc.msg}; fix or remove the line",
            line[:_LEDGER_SNIPPET],
        )
    if not isinstance(obj, dict):
        return reject(
            number,
            "malformed_record",
            f"line {number} is a JSON {type(obj).__name__}, not an object",
            line[:_LEDGER_SNIPPET],
        )
    return record_of(obj, number, options, line)


def record_of(obj: dict[str, Any], number: int, options: ReaderOptions, line: str) -> RawRecord:
    """The record of one JSON object; its fields other than text/id/url travel in `fields`."""
    text = obj.get(options.text_field)
    rid = _optional_str(obj.get(options.id_field))
    if text is None:
        if options.text_field in obj:
            detail = f"line {number}: '{options.text_field}' is null"
            return reject(number, "empty", detail, line[:_LEDGER_SNIPPET], record_id=rid)
        keys = ", ".join(sorted(obj)[:10])
        detail = f"line {number} has no '{options.text_field}' field (has: {keys}); set ingest.text_field"
        return reject(number, "missing_text", detail, line[:_LEDGER_SNIPPET], record_id=rid)
    if not isinstance(text, str):
        return reject(
            number,
            "malformed_record",
            f"line {number}: '{options.text_field}' is a JSON {type(text).__name__}, not a string",
            line[:_LEDGER_SNIPPET],
            record_id=rid,
        )
    named = (options.text_field, options.id_field, options.url_field)
    return RawRecord(
        number=number,
        text=text,
        id=rid,
        url=_optional_str(obj.get(options.url_field)),
        encoding="utf-8",
        fields={k: v for k, v in obj.items() if k not in named} or None,
    )
