"""Bytes of a web document to text: the declared charset first (HTTP header, then <meta>), then detection.

Declared labels are read the way browsers read them (WHATWG Encoding Standard): `iso-8859-1` and
`ascii` mean windows-1252, `gb2312` means GBK, `shift_jis` means windows-31J, because servers label
pages with the narrow name while the bytes use the superset. A declaration the bytes contradict
(strict decoding fails) is ignored and the charset is detected instead.
"""

from __future__ import annotations

import codecs
import re

from pipeline.readers.decode import Decoded, binary_kind, decode_bytes

# Labels whose real-world bytes are a superset encoding; Python would reject the extra characters.
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "iso-8859-11": "cp874",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-user-defined": "cp1252",
    # A page cannot really be UTF-16 once it reached us as an ASCII-compatible <meta>; browsers agree.
    "utf-16": "utf-8",
    "utf-16le": "utf-8",
    "utf-16be": "utf-8",
}

# Single-byte legacy codecs: any byte string decodes, so a wrong label never fails loudly.
_SINGLE_BYTE = re.compile(r"^(cp12\d\d|cp874|cp8\d\d|iso8859-\d+|koi8-\w|mac-\w+|ascii)$")

_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_META = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_HEAD_BYTES = 4096  # The HTML standard's prescan window for <meta charset>.


def codec_for(label: str | None) -> str | None:
    """The Python codec for a charset label as browsers interpret it, or None when unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_of_content_type(content_type: str | None) -> str | None:
    """'text/html; charset=KOI8-R' -> 'KOI8-R'."""
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type.encode("latin-1", "replace"))
    return match.group(1).decode("ascii") if match else None


def meta_charset(data: bytes) -> str | None:
    """The charset a page declares in `<meta charset>` or `<meta http-equiv=Content-Type>` near its top."""
    for tag in _META.finditer(data[:_HEAD_BYTES]):
        match = _CHARSET_PARAM.search(tag.group(0))
        if match:
            return match.group(1).decode("ascii")
    return None


def _is_utf8_text(data: bytes) -> bool:
    """Valid UTF-8 that uses multi-byte sequences: legacy 8-bit text almost never passes this by chance."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_web(data: bytes, http_content_type: str | None = None, html: bool = True) -> Decoded:
    """Decode a page: BOM, HTTP charset, <meta> charset (HTML only), then detection.

    `Decoded.encoding` is the Python codec actually used; `Decoded.detail` says where it came from.
    """
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_bytes(data)  # A byte order mark overrides any declaration, as in browsers.
    kind = binary_kind(data)
    if kind is not None:
        return Decoded(None, None, "binary", f"binary content ({kind}), not text")
    declared = [("HTTP header", charset_of_content_type(http_content_type))]
    if html:
        declared.append(("<meta> tag", meta_charset(data)))
    for origin, label in declared:
        codec = codec_for(label)
        if codec is None:
            continue
        # A legacy 8-bit label on bytes that are valid multi-byte UTF-8 is the classic mislabel.
        if _SINGLE_BYTE.match(codec) and _is_utf8_text(data):
            return Decoded(data.decode("utf-8"), "utf-8", detail=f"valid UTF-8 despite {origin} {label}")
        try:
            return Decoded(data.decode(codec), codec, detail=f"{origin} {label}")
        except UnicodeDecodeError:
            continue  # The declaration is wrong for these bytes: detect instead.
    decoded = decode_bytes(data)
    if decoded.text is None:
        return decoded
    encoding = codec_for(decoded.encoding) or decoded.encoding
    return Decoded(decoded.text, encoding, detail="detected")
