"""Input discovery and the reader for each input format."""

from __future__ import annotations

from pathlib import Path

from pipeline.readers.arc import read_arc
from pipeline.readers.base import RawRecord, Reader, ReaderOptions
from pipeline.readers.compression import corrupt_stream_errors, open_binary, strip_compression
from pipeline.readers.csv import read_csv
from pipeline.readers.html import looks_like_html, read_html
from pipeline.readers.json_array import read_json
from pipeline.readers.jsonl import read_jsonl
from pipeline.readers.parquet import read_parquet
from pipeline.readers.text import read_text
from pipeline.readers.warc import read_warc

# Readers by format name (the values `ingest.format` accepts besides "auto").
FORMATS: dict[str, Reader] = {
    "text": read_text,
    "jsonl": read_jsonl,
    "json": read_json,
    "csv": read_csv,
    "parquet": read_parquet,
    "html": read_html,
    "warc": read_warc,
    "arc": read_arc,
}

SUFFIXES: dict[str, str] = {
    ".txt": "text",
    ".md": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".warc": "warc",
    ".wet": "warc",
    ".wat": "warc",
    ".arc": "arc",
}
READERS: dict[str, Reader] = {suffix: FORMATS[name] for suffix, name in SUFFIXES.items()}

__all__ = ["FORMATS", "READERS", "RawRecord", "ReaderOptions", "format_of", "reader_for"]

_SNIFF_BYTES = 1024


def sniff_format(path: Path) -> str | None:
    """The format the first bytes (after decompression) reveal, for files whose name does not tell."""
    try:
        with open_binary(path) as stream:
            head = stream.read(_SNIFF_BYTES)
    except (*corrupt_stream_errors(), ValueError):
        return None
    if head.startswith(b"WARC/"):
        return "warc"
    if head.startswith(b"\x1f\x8b") and b"WARC/" in _gunzip_head(head):
        return "warc"
    if head.startswith(b"filedesc://"):
        return "arc"
    if head.startswith(b"PAR1"):
        return "parquet"
    if looks_like_html(head):
        return "html"
    return None


def _gunzip_head(head: bytes) -> bytes:
    import zlib

    try:
        return zlib.decompressobj(31).decompress(head)[:16]
    except zlib.error:
        return b""


def format_of(path: Path, override: str = "auto") -> str | None:
    """The format to read `path` as: `override` unless "auto", else its suffix, else its content."""
    if override != "auto":
        return override
    base, compression = strip_compression(path.name)
    name = SUFFIXES.get(Path(base).suffix.lower())
    if name is None:
        name = sniff_format(path)
    if name == "parquet" and compression is not None:
        return None  # Parquet compresses internally; a compressed Parquet file cannot be streamed.
    return name


def reader_for(path: Path, override: str = "auto") -> Reader | None:
    name = format_of(path, override)
    return FORMATS[name] if name is not None else None
