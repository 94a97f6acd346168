"""Property-based fuzzing of every reader and of the walk: nothing lost, nothing invented, no crash.

Each test generates hostile input (truncation, huge fields, invalid bytes, deep nesting, wrong types,
mixed encodings, compression damage, bodies that inflate past the limit) whose record count the
generator knows, runs the real ingest on it, and checks that every record is either kept or a
ledger row, that no kept record carries an id the generator did not write, and that nothing raises.
Where damage makes the rest of a file unreadable, the file must be reported as partly read.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import IngestConfig
from pipeline.ingest import ingest, list_inputs
from pipeline.readers.base import PARTIAL_REASONS

LIMIT = 600  # ingest.max_document_bytes for the tests: "huge" stays cheap to generate


def _ingest(root: Path, **config: object) -> tuple[list[str], list[dict[str, object]], set[str]]:
    """Kept ids, ledger rows and partly read files of ingesting `root`."""
    options = IngestConfig(**{"max_document_bytes": LIMIT, **config})
    kept: list[str] = []
    ledger: list[dict[str, object]] = []
    partial: set[str] = set()
    for batch in ingest(list_inputs(root, [], options.follow_symlinks), options, 64):
        kept += batch.kept.column("id").to_pylist()
        ledger += batch.rejected.to_pylist()
        partial |= set(batch.partial)
    return kept, ledger, partial


words = st.text(alphabet=st.sampled_from("abc xyz,\"'\n\r\t;é€😀\\{}[]"), min_size=0, max_size=40)
# Text with every kind of code point, lone surrogates included.
any_text = st.text(min_size=0, max_size=40)


# -- JSON Lines -----------------------------------------------------------------------------------


def _one_record_line(data: bytes) -> bytes:
    """Random bytes as one line that is a record: a whitespace-only line is blank, not a record, by design."""
    line = data.replace(b"\n", b" ").replace(b"\r", b" ")
    return line if line.strip() else b"x"


hostile_jsonl_lines = st.one_of(
    st.binary(min_size=1, max_size=60).map(_one_record_line),
    st.integers(1, 5000).map(lambda n: b'{"text": ' + b"[" * n + b"]" * n + b"}"),
    st.integers(LIMIT, 3 * LIMIT).map(lambda n: json.dumps({"id": "evil", "text": "x" * n}).encode()),
    st.sampled_from([b"[1,2]", b'"str"', b"null", b'{"text": 5}', b'{"id": "evil"}', b'{"text": "\\ud800"}']),
    st.integers(4400, 6000).map(lambda n: b'{"text": "t", "id": ' + b"9" * n + b"}"),
    any_text.map(lambda t: json.dumps({"id": "maybe", "text": t}).encode()),
)


@st.composite
def jsonl_files(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    lines: list[bytes] = []
    valid: dict[str, str] = {}
    for i in range(draw(st.integers(1, 25))):
        if draw(st.booleans()):
            text = draw(words)
            valid[f"g{i}"] = text
            lines.append(json.dumps({"id": f"g{i}", "text": text}, ensure_ascii=draw(st.booleans())).encode())
        else:
            # Each "maybe" line gets its own id: a repeated input id stops ingest by design
            # (ingest.duplicate_ids), which is not what these tests are about.
            lines.append(draw(hostile_jsonl_lines).replace(b'"id": "maybe"', f'"id": "maybe-{i}"'.encode()))
    # A file whose first records all lack the text field stops ingest as a configuration mistake, by
    # design (ingest's early stop), which is not what these tests are about: one record with text goes
    # among the first twenty.
    valid["anchor"] = "anchor text"
    at = draw(st.integers(0, min(len(lines), 19)))
    lines.insert(at, json.dumps({"id": "anchor", "text": "anchor text"}).encode())
    return b"\n".join(lines) + b"\n", valid


@given(jsonl_files())
def test_jsonl_reader_loses_and_invents_nothing(tmp_path_factory, case) -> None:
    data, valid = case
    root = tmp_path_factory.mktemp("jsonl")
    (root / "d.jsonl").write_bytes(data)
    kept, ledger, partial = _ingest(root)
    assert len(kept) + len(ledger) == data.count(b"\n")
    maybe = {k for k in kept if k.startswith("maybe-")}
    assert set(kept) <= set(valid) | maybe
    assert set(kept) - maybe == {k for k, t in valid.items() if t.strip()}
    assert not partial


@given(jsonl_files(), st.data())
def test_damaged_compressed_jsonl_is_reported_partly_read(tmp_path_factory, case, data) -> None:
    raw, valid = case
    packed = bytearray(gzip.compress(raw))
    cut = data.draw(st.integers(10, len(packed)))
    packed = packed[:cut]
    # (A flipped bit inside a deflate stream changes the output before gzip's CRC can notice at the
    # member's end, so only truncation has a count the generator knows.)
    root = tmp_path_factory.mktemp("jsonlgz")
    (root / "d.jsonl.gz").write_bytes(bytes(packed))
    kept, ledger, partial = _ingest(root)
    assert set(kept) <= set(valid) | {k for k in kept if k.startswith("maybe-")}
    total = raw.count(b"\n")
    assert len(kept) + len(ledger) <= total + 1
    if len(kept) + len(ledger) < total:
        assert partial == {"d.jsonl.gz"}


# -- CSV --------------------------------------------------------------------------------------------


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, dict[str, str], int]:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["id", "text"])
    valid: dict[str, str] = {}
    rows = draw(st.integers(0, 20))
    for i in range(rows):
        kind = draw(st.sampled_from(["ok", "ok", "huge", "fields", "quote_inside"]))
        if kind == "ok":
            text = draw(words)
            valid[f"g{i}"] = text
            writer.writerow([f"g{i}", text])
        elif kind == "huge":
            # A quoted field larger than the limit full of lines that look like rows.
            n = draw(st.integers(LIMIT // 8, LIMIT))
            writer.writerow([f"h{i}", "\n".join(f"evil{j},prose {j}" for j in range(n))])
        elif kind == "fields":
            writer.writerow([f"f{i}", "a", "b"][: draw(st.sampled_from([1, 3]))])
        else:
            out.write(f'q{i},5 inch" screen, "x\n')
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    data = text.encode(encoding, "replace")
    if draw(st.booleans()) and encoding == "utf-8":
        data += b"zz,\xff\xfe bad bytes\n"
        rows += 1
    unterminated = draw(st.booleans())
    if unterminated:
        data += 'u,"never closed\nevil9,x\n'.encode(encoding if encoding != "utf-8-sig" else "utf-8")
        rows += 1
    return data, valid, rows


@given(csv_files())
def test_csv_reader_never_resumes_inside_a_field(tmp_path_factory, case) -> None:
    data, _, rows = case
    root = tmp_path_factory.mktemp("csv")
    (root / "d.csv").write_bytes(data)
    kept, ledger, partial = _ingest(root)
    assert len(kept) + len(ledger) == max(rows, 1)
    assert not any(k.startswith("evil") for k in kept)
    assert not partial


# -- Parquet ----------------------------------------------------------------------------------------


@st.composite
def parquet_tables(draw: st.DrawFn) -> tuple[pa.Table, int]:
    n = draw(st.integers(1, 30))
    texts = [
        draw(st.one_of(st.none(), words, st.integers(LIMIT + 1, 3 * LIMIT).map(lambda k: "x" * k))) for _ in range(n)
    ]
    text_kind = draw(st.sampled_from(["string", "large", "dictionary", "int", "list"]))
    if text_kind == "string":
        text = pa.array(texts, pa.string())
    elif text_kind == "large":
        text = pa.array(texts, pa.large_string())
    elif text_kind == "dictionary":
        text = pa.array(texts, pa.string()).dictionary_encode()
    elif text_kind == "int":
        text = pa.array(list(range(n)), pa.int64())
    else:
        text = pa.array([[t] for t in texts], pa.list_(pa.string()))
    id_kind = draw(st.sampled_from(["string", "int", "list", "struct", "none"]))
    columns = {"text": text}
    if id_kind == "string":
        columns["id"] = pa.array([f"g{i}" for i in range(n)])
    elif id_kind == "int":
        columns["id"] = pa.array(list(range(n)))
    elif id_kind == "list":
        columns["id"] = pa.array([[i, i] for i in range(n)])
    elif id_kind == "struct":
        columns["id"] = pa.array([{"a": i} for i in range(n)])
    return pa.table(columns), n


@given(parquet_tables(), st.integers(1, 8))
def test_parquet_reader_costs_a_bad_row_one_row(tmp_path_factory, case, group) -> None:
    table, n = case
    root = tmp_path_factory.mktemp("parquet")
    pq.write_table(table, root / "d.parquet", row_group_size=group)
    kept, ledger, partial = _ingest(root)
    assert len(kept) + len(ledger) == n
    assert not partial


# -- one-document formats -----------------------------------------------------------------------------


@given(st.binary(max_size=3 * LIMIT), st.sampled_from(["d.txt", "d.md", "d.html", "d.txt.gz", "d.bin"]))
def test_single_document_files_are_one_row(tmp_path_factory, data, name) -> None:
    root = tmp_path_factory.mktemp("single")
    (root / name).write_bytes(data if not name.endswith(".gz") else gzip.compress(data)[: max(10, len(data))])
    kept, ledger, _ = _ingest(root)
    assert len(kept) + len(ledger) == 1


# -- WARC -------------------------------------------------------------------------------------------


def _warc_record(i: int, body: bytes, encoding: str | None) -> bytes:
    headers = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    if encoding:
        headers += f"Content-Encoding: {encoding}\r\n"
    block = headers.encode() + b"\r\n" + body
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\n"
        f"WARC-Target-URI: https://example.org/{i}\r\n"
        f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{i:012d}>\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


@st.composite
def warc_files(draw: st.DrawFn) -> tuple[bytes, int]:
    records = []
    n = draw(st.integers(1, 8))
    for i in range(n):
        text = draw(words).encode("utf-8") or b"x"
        kind = draw(st.sampled_from(["plain", "gzip", "bomb", "deflate", "fake_gzip", "binary"]))
        if kind == "plain":
            records.append(_warc_record(i, text, None))
        elif kind == "gzip":
            records.append(_warc_record(i, gzip.compress(text), "gzip"))
        elif kind == "bomb":
            records.append(_warc_record(i, gzip.compress(b"A" * (LIMIT * draw(st.integers(2, 2000)))), "gzip"))
        elif kind == "deflate":
            records.append(_warc_record(i, zlib.compress(b"B" * draw(st.integers(1, 4 * LIMIT))), "deflate"))
        elif kind == "fake_gzip":
            records.append(_warc_record(i, b"\x1f\x8b" + draw(st.binary(max_size=50)), "gzip"))
        else:
            records.append(_warc_record(i, draw(st.binary(max_size=200)), None))
    return b"".join(records), n


@given(warc_files(), st.booleans())
def test_warc_reader_caps_bodies_and_loses_nothing(tmp_path_factory, case, compress) -> None:
    data, n = case
    root = tmp_path_factory.mktemp("warc")
    (root / ("a.warc.gz" if compress else "a.warc")).write_bytes(gzip.compress(data) if compress else data)
    kept, ledger, partial = _ingest(root, max_document_bytes=LIMIT * 4)
    assert len(kept) + len(ledger) == n
    assert not partial


def _starts(raw: bytes) -> list[int]:
    starts, at = [], raw.find(b"WARC/1.0\r\nWARC-Type")
    while at >= 0:
        starts.append(at)
        at = raw.find(b"WARC/1.0\r\nWARC-Type", at + 1)
    return starts


@given(warc_files(), st.data())
def test_truncated_warc_keeps_what_precedes_and_says_so(tmp_path_factory, case, data) -> None:
    raw, _ = case
    cut = data.draw(st.integers(1, len(raw) - 1))
    root = tmp_path_factory.mktemp("warccut")
    (root / "a.warc").write_bytes(raw[:cut])
    kept, ledger, partial = _ingest(root)
    # A cut at a record boundary leaves a valid, shorter archive: count the records that begin before it.
    begun = sum(1 for start in _starts(raw) if start < cut)
    assert len(kept) + len(ledger) <= begun + 1
    if len(kept) + len(ledger) < begun:
        assert partial == {"a.warc"}


# -- the walk -----------------------------------------------------------------------------------------

entries = st.sampled_from(["file", "file", "empty", "fifo", "dangling", "loop", "outside", "dir", "hidden"])


@given(st.lists(entries, min_size=1, max_size=12), st.integers(1, 40))
def test_walk_leaves_one_row_per_entry(tmp_path_factory, kinds, depth) -> None:
    base = tmp_path_factory.mktemp("walk")
    root = base / "in"
    outside = base / "secret.txt"
    outside.write_text("SECRET-CONTENT-xyz")
    deep = root
    for level in range(depth):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    expected = 0
    for i, kind in enumerate(kinds):
        folder = deep if i % 2 else root
        path = folder / f"e{i}.txt"
        if kind == "file":
            path.write_text(f"document {i}")
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "dangling":
            path.symlink_to(base / "missing")
        elif kind == "loop":
            (folder / f"loop{i}").symlink_to(root, target_is_directory=True)
        elif kind == "outside":
            path.symlink_to(outside)
        elif kind == "dir":
            (folder / f"sub{i}").mkdir()
            (folder / f"sub{i}" / "x.txt").write_text("inside")
        elif kind == "hidden":
            (folder / f".h{i}.txt").write_text("hidden")
            continue
        expected += 1
    if not expected:
        return
    kept, ledger, _ = _ingest(root)
    reasons = [row["reason"] for row in ledger]
    assert len(kept) + len(ledger) == expected
    assert "SECRET-CONTENT-xyz" not in str(ledger)
    assert reasons.count("symlink_outside_input") == kinds.count("outside")
    assert reasons.count("not_a_file") == kinds.count("fifo")
    assert not any(row["reason"] in PARTIAL_REASONS for row in ledger)


# -- ARC --------------------------------------------------------------------------------------------

ARC_SAMPLE = Path(__file__).parent.parent / "fixtures" / "web" / "cc-2008-sample.arc"
ARC_DOCUMENTS = 5  # the sample's records after its filedesc


@given(st.data())
def test_damaged_arc_keeps_what_precedes_and_says_so(tmp_path_factory, data) -> None:
    raw = bytearray(ARC_SAMPLE.read_bytes())
    cut = data.draw(st.integers(1, len(raw)))
    raw = raw[:cut]
    flips = data.draw(st.integers(0, 3))
    for _ in range(flips):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    root = tmp_path_factory.mktemp("arc")
    (root / "a.arc").write_bytes(bytes(raw))
    kept, ledger, partial = _ingest(root, max_document_bytes=1 << 20)
    assert len(kept) + len(ledger) <= ARC_DOCUMENTS + 1
    # (A changed digit in a length field can make one record swallow the next, which ARC, having no
    # record markers, cannot tell from a valid file; so only a cut must be reported.)
    if not flips and 0 < len(kept) + len(ledger) < ARC_DOCUMENTS:
        assert partial == {"a.arc"} or any(row["reason"] == "empty" for row in ledger)
