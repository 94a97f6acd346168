"""Transparent, streaming decompression chosen by file suffix."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
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
        # A buffer gives it readline() and reads ahead in big chunks.
        return io.BufferedReader(_ZstdFrames(path.open("rb")), buffer_size=1 << 20)  # type: ignore[arg-type]
    return path.open("rb")


class _ZstdFrames(io.RawIOBase):
    """Zstandard frames, inflated a bounded step at a time, raising EOFError when the file is cut short.

    zstandard's own reader ends quietly at a truncated frame, which would lose the rest of the file
    without a word; gzip, bz2 and lzma raise EOFError there, and so does this.
    """

    # Compressed bytes per step: zstd inflates at most ~32,000x, so one step yields at most ~64 MB.
    _CHUNK = 2048

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        super().__init__()
        self._zstd = zstandard
        self.raw = raw
        self.inflater = zstandard.ZstdDecompressor().decompressobj()
        self.in_frame = False
        self.out = bytearray()
        self.pending = b""
        self.done = False

    def readable(self) -> bool:
        return True

    def _step(self) -> None:
        if not self.pending:
            self.pending = self.raw.read(self._CHUNK)
            if not self.pending:
                self.done = True
                if self.in_frame:
                    raise EOFError("the zstd stream ends inside a frame (the file is truncated)")
                return
        if self.inflater.eof:
            self.inflater = self._zstd.ZstdDecompressor().decompressobj()
        data, self.pending = self.pending, b""
        self.in_frame = True
        self.out += self.inflater.decompress(data)
        if self.inflater.eof:
            self.in_frame = False
            self.pending = self.inflater.unused_data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self.out and not self.done:
            self._step()
        n = min(len(buffer), len(self.out))
        buffer[:n] = self.out[:n]
        del self.out[:n]
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


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


class _DamageAware(io.RawIOBase):
    """A decompressed stream that ends (EOF) at damage instead of raising, and remembers where.

    Archive readers read ahead; an exception from the decompressor would also discard the intact
    records already read. Ending the stream instead lets them hand out every record before the
    damage, and `damage` then says what and where it was.
    """

    def __init__(self) -> None:
        super().__init__()
        self.damage: str | None = None
        self.delivered = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read_some(len(buffer))
        buffer[: len(data)] = data
        self.delivered += len(data)
        return len(data)

    # FastWARC seeks forward to skip record bodies: allow that by reading and discarding.
    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.delivered

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self.delivered + offset if whence == io.SEEK_CUR else -1
        if target < self.delivered:
            raise io.UnsupportedOperation("a decompressed archive stream only seeks forward")
        while self.delivered < target:
            data = self.read_some(min(1 << 20, target - self.delivered))
            if not data:
                break
            self.delivered += len(data)
        return self.delivered

    def read_some(self, n: int) -> bytes:
        raise NotImplementedError


class _GzipMembers(_DamageAware):
    """Multi-member gzip, one member at a time, so a damaged member is located by its byte offset."""

    _CHUNK = 1 << 16
    _MAX_OUT = 1 << 20  # Bounds memory when a small compressed chunk inflates to a lot.

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.pending = b""
        self.position = 0  # compressed bytes consumed
        self.member_start = 0
        self.inflater = zlib.decompressobj(31)
        self.in_member = False
        self.out = bytearray()
        self.finished = False

    def _fill(self) -> None:
        if not self.pending:
            self.pending = self.raw.read(self._CHUNK)
            if not self.pending:
                if self.in_member:
                    self._fail("the file ends inside this gzip member (truncated)")
                self.finished = True
                return
        if not self.in_member:
            self.inflater = zlib.decompressobj(31)
            self.member_start = self.position
            self.in_member = True
        before = len(self.pending)
        try:
            self.out += self.inflater.decompress(self.pending, self._MAX_OUT)
        except zlib.error as exc:
            self._fail(f"zlib: {exc}")
            return
        self.pending = self.inflater.unused_data if self.inflater.eof else self.inflater.unconsumed_tail
        self.position += before - len(self.pending)
        if self.inflater.eof:
            self.in_member = False

    def _fail(self, what: str) -> None:
        self.damage = f"corrupt gzip member at byte offset {self.member_start} of the file ({what})"
        self.finished = True

    def read_some(self, n: int) -> bytes:
        while len(self.out) < n and not self.finished:
            self._fill()
        data = bytes(self.out[:n])
        del self.out[:n]
        return data

    def close(self) -> None:
        self.raw.close()
        super().close()


class _StopAtError(_DamageAware):
    """Any other decompressor: its errors become the end of the stream, at an uncompressed offset."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self.inner = inner
        self.position = 0

    def read_some(self, n: int) -> bytes:
        if self.damage is not None:
            return b""
        try:
            # read1: one decompressor step at a time, so an error loses only that step's bytes.
            data = self.inner.read1(n) if hasattr(self.inner, "read1") else self.inner.read(n)
        except corrupt_stream_errors() as exc:
            self.damage = (
                f"the compressed stream is damaged after {self.position} uncompressed bytes "
                f"({type(exc).__name__}: {exc})"
            )
            return b""
        self.position += len(data)
        return data

    def close(self) -> None:
        self.inner.close()
        super().close()


def open_archive(path: Path) -> tuple[BinaryIO, _DamageAware | None]:
    """A buffered stream of the decompressed archive and the object that reports damage (None when the
    file is not compressed: then there is no decompression damage to report)."""
    _, suffix = strip_compression(path.name)
    raw = path.open("rb")
    if suffix == ".gz" or (suffix is None and raw.peek(2)[:2] == b"\x1f\x8b"):  # type: ignore[attr-defined]
        members = _GzipMembers(raw)
        return io.BufferedReader(members, buffer_size=1 << 16), members  # type: ignore[arg-type]
    if suffix is None:
        return raw, None
    raw.close()
    guarded = _StopAtError(open_binary(path))
    return io.BufferedReader(guarded, buffer_size=1 << 16), guarded  # type: ignore[arg-type]
