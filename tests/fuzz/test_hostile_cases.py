"""The hostile inputs and faults each have a test: records neither vanish nor appear, runs end cleanly."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from helpers import read_ledger, write

from pipeline.cli import environment_failure
from pipeline.config import IngestConfig, toml_string
from pipeline.ingest import ingest, list_inputs
from pipeline.readers.http import BodyTooLarge, decode_body

ANY_LANGUAGE = ('run.stages=["normalize"]',)


def _ingest(root: Path, **config: object) -> tuple[list[str], list[dict]]:
    options = IngestConfig(**config)
    kept, ledger = [], []
    for batch in ingest(list_inputs(root, [], options.follow_symlinks), options, 256):
        kept += batch.kept.column("id").to_pylist()
        ledger += batch.rejected.to_pylist()
    return kept, ledger


def test_a_huge_quoted_csv_field_is_one_row_not_thousands(tmp_path: Path) -> None:
    inner = "\n".join(f"evil{i},prose {i}" for i in range(20_000))
    write(tmp_path / "in" / "d.csv", f'id,text\n1,"{inner}"\n2,after\n')
    kept, ledger = _ingest(tmp_path / "in", max_document_bytes=50_000)
    assert kept == ["2"]
    assert [(row["reason"], row["source"]) for row in ledger] == [("too_large", "d.csv#1")]


def test_one_bad_record_costs_one_record(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"g{i}", "text": f"doc {i}"}) for i in range(10)]
    lines[1] = '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines[2] = '{"id": "s", "text": "bad \\ud800 text"}'
    write(tmp_path / "in" / "a.jsonl", "\n".join(lines) + "\n")
    rows = ["id,text"] + [f"c{i},row {i}" for i in range(10_000)]
    data = ("\n".join(rows) + "\n").encode()
    # Past the 64 KB the character set is sniffed from: the file is UTF-8, this row is not.
    data = data.replace(b"row 9000\n", b"row \xff\xfe 9000\n")
    write(tmp_path / "in" / "b.csv", data)
    kept, ledger = _ingest(tmp_path / "in")
    assert len(kept) + len(ledger) == 10 + 10_000
    assert {row["reason"] for row in ledger} == {"malformed_json", "invalid_unicode"}
    assert len(ledger) == 3


def test_a_gzip_bomb_in_a_warc_body_costs_its_record_only() -> None:
    bomb = gzip.compress(b"A" * (50 << 20))
    try:
        decode_body(bomb, None, "gzip", 1 << 20)
    except BodyTooLarge as exc:
        assert "inflates past ingest.max_document_bytes" in str(exc)
    else:
        raise AssertionError("the bomb was inflated")
    assert decode_body(gzip.compress(b"small"), None, "gzip", 1 << 20) == b"small"


def test_parquet_categories_nested_ids_and_inflating_row_groups(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    text = pa.array(["one", "two", "one"]).dictionary_encode()
    pq.write_table(pa.table({"text": text, "id": pa.array([[1], [2], [3]])}), root / "a.parquet")
    huge = "x" * (4 << 20)
    pq.write_table(pa.table({"text": [huge, huge + "y"]}), root / "b.parquet")
    kept, ledger = _ingest(root, max_document_bytes=1 << 20)
    assert kept == ["[1]", "[2]", "[3]"]
    assert [row["reason"] for row in ledger] == ["too_large", "too_large"]


def test_the_walk_never_follows_links_out_of_the_input_and_records_what_it_skips(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    write(root / "a.txt", "a document")
    secret = write(tmp_path / "secret.txt", "SECRET")
    (root / "out.txt").symlink_to(secret)
    (root / "dangling.txt").symlink_to(tmp_path / "missing")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    os.mkfifo(root / "pipe.txt")
    deep = root.joinpath(*[f"d{i}" for i in range(300)])
    deep.mkdir(parents=True)
    write(deep / "deep.txt", "deep down")
    kept, ledger = _ingest(root)
    assert len(kept) == 2
    reasons = sorted(row["reason"] for row in ledger)
    assert reasons == ["dangling_symlink", "not_a_file", "symlink_loop", "symlink_outside_input"]
    assert "SECRET" not in str(ledger)
    kept, ledger = _ingest(root, follow_symlinks=True)
    assert len(kept) == 3


def test_damaged_compressed_file_is_reported_partly_read(run_pipeline, tmp_path: Path) -> None:
    lines = "".join(json.dumps({"text": f"document number {i} " * 20}) + "\n" for i in range(2000))
    packed = gzip.compress(lines.encode())
    write(tmp_path / "in" / "d.jsonl.gz", packed[: len(packed) // 2])
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    assert set(result.partly_read) == {"d.jsonl.gz"}
    assert "partly read" in result.summary()
    run = json.loads((result.report / "run.json").read_text())
    assert run["partly_read"][0]["path"] == "d.jsonl.gz"
    assert "byte" in run["partly_read"][0]["detail"]
    ledger = read_ledger(result).to_pylist()
    assert "corrupt_file" in {row["reason"] for row in ledger}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_foreseeable_failures_are_one_line_with_their_exit_code(tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.jsonl", '{"text": "a document of some words"}\n')
    write(tmp_path / "afile", "not a folder")
    common = ("--quiet", "--set", "language.languages=[]")
    done = _cli("run", "--input", "in", "--output", "afile", *common, cwd=tmp_path)
    assert done.returncode == 5
    assert "Traceback" not in done.stderr
    assert "afile" in done.stderr and "choose another path" in done.stderr
    done = _cli("run", "--input", "in", "--output", "out", "--name", "n" * 250, *common, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    done = _cli("--debug", "run", "--input", "in", "--output", "afile", *common, cwd=tmp_path)
    assert done.returncode == 5 and "Traceback" in done.stderr


def test_control_characters_in_paths_stay_in_the_path() -> None:
    import tomllib

    for value in ["/tmp/out\nx", 'a"b\\c', "tab\there", "del\x7f", "esc\x1b[31m"]:
        assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_os_errors_name_the_path_and_the_fix() -> None:
    import errno

    error = environment_failure(OSError(errno.ENOSPC, "No space left on device", "/data/out/x.parquet"))
    assert error.exit_code == 5
    assert "/data/out/x.parquet" in str(error) and "disk is full" in str(error)
    error = environment_failure(PermissionError(errno.EACCES, "Permission denied", "/ro"))
    assert "permission denied" in str(error)
