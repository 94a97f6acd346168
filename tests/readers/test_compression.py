"""Every text format reads the same through .gz, .zst, .bz2 and .xz as uncompressed."""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path

import pytest
import zstandard
from helpers import FIXTURES, write

from readers.web_helpers import ANY_LANGUAGE, ledger_rows, published_rows

WEB = FIXTURES / "web"
COMPRESSORS = {
    ".gz": gzip.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
}
# name -> uncompressed bytes of one input in each format.
INPUTS = {
    "page.html": (WEB / "die-partei.net.luebeck.html").read_bytes(),
    "crawl.warc": gzip.decompress((WEB / "whirlwind.warc.gz").read_bytes()),
    "crawl.wet": gzip.decompress((WEB / "whirlwind.warc.wet.gz").read_bytes()),
    "crawl.arc": (WEB / "cc-2008-sample.arc").read_bytes(),
    "note.txt": "Ein kurzer Text über Kompression, in UTF-8.\n".encode(),
    "lines.jsonl": b'{"text": "first line document"}\n{"text": "second line document"}\n',
}
NO_DEDUP = 'run.stages=["language"]'


def _texts(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r["source"]: r["text"] for r in published_rows(result)}


@pytest.fixture
def plain(run_pipeline, tmp_path_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("plain")
    for name, data in INPUTS.items():
        write(folder / name, data)
    return _texts(run_pipeline(folder, *ANY_LANGUAGE, NO_DEDUP, name="plain"))


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_compressed_inputs_read_like_plain_ones(run_pipeline, tmp_path: Path, plain, suffix: str) -> None:
    for name, data in INPUTS.items():
        write(tmp_path / "in" / f"{name}{suffix}", COMPRESSORS[suffix](data))
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, NO_DEDUP, name=suffix[1:])
    assert not [r for r in ledger_rows(result) if r["reason"] in ("corrupt_archive", "corrupt_file", "unreadable")]
    renamed = {}
    for source, text in _texts(result).items():
        file, _, number = source.partition("#")
        renamed[file.removesuffix(suffix) + (f"#{number}" if number else "")] = text
    assert renamed == plain
    assert len(plain) >= 6  # html, warc, wet, 2 arc pages, txt, 2 jsonl lines


def test_damaged_xz_archive_keeps_what_came_before(run_pipeline, tmp_path: Path) -> None:
    packed = bytearray(lzma.compress(INPUTS["crawl.arc"]))
    # Damage the tail of the stream: the first records decompress before the decoder notices.
    for i in range(len(packed) - 400, len(packed) - 300):
        packed[i] ^= 0xFF
    write(tmp_path / "in" / "crawl.arc.xz", bytes(packed))
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, NO_DEDUP)
    assert "crawl.arc.xz#2" in _texts(result)
    [corrupt] = [r for r in ledger_rows(result) if r["reason"] == "corrupt_archive"]
    assert "LZMAError" in corrupt["detail"] and "uncompressed bytes" in corrupt["detail"]
