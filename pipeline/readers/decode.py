"""Bytes to text: BOMs first, then strict UTF-8, then charset detection; binary is refused."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any

# Magic numbers of common binary formats that may carry a text suffix by mistake.
_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"\x7fELF", "ELF executable"),
    (b"RIFF", "RIFF media"),
    (b"PAR1", "Parquet file"),
]

_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


@dataclass(frozen=True)
class Decoded:
    text: str | None
    encoding: str | None
    # When text is None: 'binary' or 'undecodable', with a human reason.
    reason: str | None = None
    detail: str = ""


def binary_kind(data: bytes) -> str | None:
    """A description of why `data` is binary, or None when it may be text (BOM-less, NUL-free)."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if b"\x00" in data[:65536]:
        return "NUL bytes"
    return None


def decode_bytes(data: bytes) -> Decoded:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                return Decoded(None, encoding, "undecodable", f"starts with a {encoding} BOM but {exc.reason}")
    kind = binary_kind(data)
    if kind is not None:
        return Decoded(None, None, "binary", f"binary content ({kind}), not text")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return Decoded(None, None, "undecodable", "not UTF-8 and no character set fits; re-encode as UTF-8")
    best = _prefer_common(matches)
    return Decoded(str(best), best.encoding)


# When several charsets explain the bytes equally well (short Western text often fits cp1250,
# cp1252 and cp1257 alike), the one the web uses most is the likeliest (WHATWG maps latin-1 to cp1252).
_PREVALENCE = [
    "cp1252",
    "latin_1",
    "iso8859_15",
    "cp1251",
    "cp1250",
    "gb18030",
    "gbk",
    "shift_jis",
    "euc_jp",
    "euc_kr",
    "big5",
    "cp1256",
    "cp1253",
    "cp1254",
    "cp1255",
    "koi8_r",
    "iso8859_2",
]


def _prefer_common(matches: list[Any]) -> Any:
    first = matches[0]
    tied = [m for m in matches if m.chaos == first.chaos and m.coherence == first.coherence]

    def rank(match: Any) -> int:
        names = [match.encoding, *match.could_be_from_charset]
        return min((_PREVALENCE.index(n) for n in names if n in _PREVALENCE), default=len(_PREVALENCE))

    return min(tied, key=rank)
