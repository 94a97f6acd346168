"""`.json` files: JSON Lines (what `datasets.Dataset.to_json()` writes) or one JSON array of objects.

The first non-blank byte decides: `[` is an array, anything else is read as JSON Lines. An array is
parsed object by object from a sliding buffer, so memory is bounded by the largest object.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path

from pipeline.readers.base import RawRecord, ReaderOptions, reject
from pipeline.readers.compression import open_binary
from pipeline.readers.jsonl import read_jsonl, record_of

_CHUNK = 1 << 20
_SNIPPET = 2000


def _first_byte(path: Path) -> bytes:
    with open_binary(path) as stream:
        head = stream.read(4096)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


def read_json(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    if _first_byte(path) != b"[":
        yield from read_jsonl(path, options)
        return
    yield from _read_array(path, options)


def _read_array(path: Path, options: ReaderOptions) -> Iterator[RawRecord]:
    decoder = json.JSONDecoder()
    limit = options.max_document_bytes
    # Incremental, so a chunk boundary inside a multi-byte character is not an error.
    utf8 = codecs.getincrementaldecoder("utf-8-sig")()
    with open_binary(path) as raw:
        buffer = utf8.decode(raw.read(_CHUNK))
        position = buffer.index("[") + 1
        number = 0
        eof = False
        while True:
            # Skip separators; refill when the buffer runs dry.
            while True:
                while position < len(buffer) and buffer[position] in " \t\r\n,":
                    position += 1
                if position < len(buffer) or eof:
                    break
                chunk = raw.read(_CHUNK)
                eof = not chunk
                buffer, position = buffer[position:] + utf8.decode(chunk, final=not chunk), 0
            if position >= len(buffer) or buffer[position] == "]":
                return
            try:
                obj, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError as exc:
                if not eof and len(buffer) - position <= limit:
                    chunk = raw.read(_CHUNK)
                    eof = not chunk
                    buffer, position = buffer[position:] + utf8.decode(chunk, final=not chunk), 0
                    continue
                number += 1
                yield reject(number, "malformed_json", f"element {number}: {exc.msg}; fix the file", buffer[:_SNIPPET])
                return
            number += 1
            position = end
            if not isinstance(obj, dict):
                kind = type(obj).__name__
                yield reject(number, "malformed_record", f"element {number} is a JSON {kind}, not an object")
                continue
            yield record_of(obj, number, options, json.dumps(obj, ensure_ascii=False)[:_SNIPPET])
