"""Input discovery and the reader for each input format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline.readers.base import RawRecord, Reader, ReaderOptions
from pipeline.readers.compression import strip_compression
from pipeline.readers.csv import read_csv
from pipeline.readers.jsonl import read_jsonl
from pipeline.readers.parquet import read_parquet
from pipeline.readers.text import read_text

READERS: dict[str, Reader] = {
    ".txt": read_text,
    ".md": read_text,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".csv": read_csv,
    ".parquet": read_parquet,
}

__all__ = ["READERS", "RawRecord", "ReaderOptions", "discover", "reader_for"]


def reader_for(path: Path) -> Reader | None:
    base, compression = strip_compression(path.name)
    suffix = Path(base).suffix.lower()
    if suffix == ".parquet" and compression is not None:
        return None  # Parquet compresses internally; a compressed Parquet file cannot be streamed.
    return READERS.get(suffix)


def discover(root: Path, exclude: list[Path]) -> Iterator[Path]:
    """Files under `root` in sorted order (by relative path), skipping hidden entries and `exclude`."""
    if root.is_file():
        yield root
        return
    excluded = {p.resolve() for p in exclude}
    for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        resolved = path.resolve()
        if any(resolved == e or e in resolved.parents for e in excluded):
            continue
        if path.is_file():
            yield path
