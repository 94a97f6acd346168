"""Transparent, streaming decompression chosen by file suffix."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from pathlib import Path
from typing import BinaryIO

COMPRESSION_SUFFIXES = (".gz", ".zst", ".bz2", ".xz")


def strip_compression(name: str) -> tuple[str, str | None]:
    """('dump.jsonl', '.gz') for 'dump.jsonl.gz'; (name, None) when not compressed."""
    lower = name.lower()
    for suffix in COMPRESSION_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, None


def open_binary(path: Path) -> BinaryIO:
    """Open `path` for reading, decompressing on the fly; never loads the whole file."""
    _, suffix = strip_compression(path.name)
    if suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if suffix == ".bz2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    if suffix == ".xz":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    if suffix == ".zst":
        import zstandard

        # zstandard's reader has no readline(); buffering adds it (line-based readers need it).
        return io.BufferedReader(zstandard.open(path, "rb"), buffer_size=1 << 16)  # type: ignore[arg-type]
    return path.open("rb")


# Exceptions a damaged compressed stream raises part-way through.
def corrupt_stream_errors() -> tuple[type[BaseException], ...]:
    import zlib

    errors: list[type[BaseException]] = [EOFError, OSError, zlib.error, lzma.LZMAError]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover - zstandard is a dependency
        pass
    return tuple(errors)
