"""Users' own data, as a new user brings it: their fields, their ids, their mistakes.

Every scenario runs the real pipeline and reads the result back with the real libraries; a mistake
must end with a clear error and a documented exit code, never an exit 0 with an empty dataset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from helpers import REPO, SPINE, english_corpus, read_dataset, read_ledger, write

from pipeline.errors import InputError, UsageError

FAST = 'run.stages=["normalize"]'


def _docs(count: int) -> list[str]:
    return [
        f"Report number {i} from the town. The council discussed the price of bread with great care. " * 3
        for i in range(count)
    ]


def _hf_export(path: Path, count: int = 6, start: int = 0) -> Path:
    """What `datasets.Dataset.to_json()` writes: JSON Lines in a .json file, with nested metadata."""
    lines = [
        json.dumps(
            {
                "id": start + i,
                "text": text,
                "timestamp": f"2024-01-{i + 1:02d}T00:00:00Z",
                "meta": {"dump": "CC-MAIN-2024-10", "score": 0.5 + i / 100, "tags": ["news", "town"]},
            }
        )
        for i, text in enumerate(_docs(count))
    ]
    return write(path, "\n".join(lines) + "\n")


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


def test_hf_export_keeps_its_nested_fields_typed(tmp_path, run_pipeline):
    import datasets

    _hf_export(tmp_path / "in" / "export.json")
    result = run_pipeline(tmp_path / "in", FAST)
    loaded = datasets.load_dataset(str(result.dataset), split="train")
    assert loaded.num_rows == 6
    assert loaded.features["meta"]["score"].dtype == "float64"
    assert loaded.features["meta"]["tags"].feature.dtype == "string"
    row = sorted(loaded, key=lambda r: r["id"])[0]
    assert row["id"] == "0"
    assert row["meta"] == {"dump": "CC-MAIN-2024-10", "score": 0.5, "tags": ["news", "town"]}
    assert row["timestamp"] == "2024-01-01T00:00:00Z"
    card = (result.dataset / "README.md").read_text(encoding="utf-8")
    assert "`meta`" in card and "`timestamp`" in card
    croissant = json.loads((result.dataset / "croissant.json").read_text(encoding="utf-8"))
    assert "meta" in json.dumps(croissant["recordSet"])


def test_keep_fields_chooses_and_json_array_is_read(tmp_path, run_pipeline):
    records = [{"id": f"r{i}", "text": t, "title": f"Title {i}", "a": i, "b": "x"} for i, t in enumerate(_docs(3))]
    write(tmp_path / "in" / "array.json", json.dumps(records, indent=2))
    result = run_pipeline(tmp_path / "in", FAST, 'ingest.keep_fields=["a"]')
    table = read_dataset(result.dataset)
    assert "a" in table.column_names and "b" not in table.column_names
    # A column naming a title fills the metadata struct.
    assert sorted(m["title"] for m in table.column("metadata").to_pylist()) == ["Title 0", "Title 1", "Title 2"]


def test_csv_and_parquet_columns_pass_through(tmp_path, run_pipeline):
    docs = _docs(4)
    (tmp_path / "in").mkdir()
    sheet = pa.table({"text": docs[:2], "title": ["A", "B"], "author": ["Ann", "Bob"]})
    pacsv.write_csv(sheet, tmp_path / "in" / "sheet.csv")
    parquet = pa.table({"text": docs[2:], "score": [0.1, 0.2], "lang_hint": ["en", "en"]})
    pq.write_table(parquet, tmp_path / "in" / "p.parquet")
    table = read_dataset(run_pipeline(tmp_path / "in", FAST).dataset)
    rows = {r["source"]: r for r in table.to_pylist()}
    assert rows["sheet.csv#1"]["author"] == "Ann" and rows["sheet.csv#1"]["metadata"]["title"] == "A"
    assert rows["p.parquet#2"]["score"] == 0.2 and rows["p.parquet#1"]["lang_hint"] == "en"
    assert rows["p.parquet#1"]["author"] is None


def test_parquet_timestamps_dates_decimals_and_bytes_keep_their_types(tmp_path, run_pipeline):
    import datetime
    import decimal

    import datasets

    from pipeline import validate

    docs = _docs(3)
    types = {
        "crawled": pa.timestamp("us", tz="UTC"),
        "day": pa.date32(),
        "price": pa.decimal128(10, 2),
        "blob": pa.binary(),
    }
    columns = {
        "crawled": [datetime.datetime(2024, 1, i + 1, 12, 30, 15, 250000, tzinfo=datetime.UTC) for i in range(2)],
        "day": [datetime.date(2024, 2, i + 1) for i in range(2)],
        "price": [decimal.Decimal("12.30"), None],
        "blob": [b"\x00\xff", b""],
    }
    (tmp_path / "in").mkdir()
    table = pa.table({"text": docs[:2], **{k: pa.array(v, types[k]) for k, v in columns.items()}})
    pq.write_table(table, tmp_path / "in" / "typed.parquet")
    # The same field as text in another file publishes as text for both (no early stop).
    write(tmp_path / "in" / "more.jsonl", json.dumps({"text": docs[2], "day": "yesterday"}) + "\n")
    result = run_pipeline(tmp_path / "in", FAST)
    published = read_dataset(result.dataset)
    for name in ("crawled", "price", "blob"):
        assert published.schema.field(name).type == types[name]
    assert published.schema.field("day").type == pa.string()
    rows = {r["source"]: r for r in published.to_pylist()}
    assert rows["typed.parquet#1"]["crawled"] == columns["crawled"][0]
    assert rows["typed.parquet#1"]["price"] == decimal.Decimal("12.30") and rows["typed.parquet#2"]["price"] is None
    assert rows["typed.parquet#1"]["blob"] == b"\x00\xff" and rows["typed.parquet#2"]["blob"] == b""
    assert rows["typed.parquet#2"]["day"] == "2024-02-02" and rows["more.jsonl#1"]["day"] == "yesterday"
    assert rows["more.jsonl#1"]["crawled"] is None
    loaded = datasets.load_dataset(str(result.dataset), split="train")
    assert loaded.num_rows == 3
    assert validate(result.dataset).ok


def test_a_field_of_two_types_stops_early_naming_file_and_field(tmp_path, run_pipeline):
    docs = _docs(2)
    write(tmp_path / "in" / "a.jsonl", json.dumps({"text": docs[0], "score": 1}) + "\n")
    write(tmp_path / "in" / "b.jsonl", json.dumps({"text": docs[1], "score": "high"}) + "\n")
    with pytest.raises(InputError, match=r"a\.jsonl and b\.jsonl: field `score` is an integer .* text"):
        run_pipeline(tmp_path / "in", FAST)


def test_two_shards_with_the_same_ids_fail_fast_or_get_prefixed(tmp_path, run_pipeline):
    _hf_export(tmp_path / "in" / "part-0.jsonl")
    _hf_export(tmp_path / "in" / "part-1.jsonl")
    with pytest.raises(InputError, match=r"id '0' appears twice .*prefix_source"):
        run_pipeline(tmp_path / "in", FAST)
    result = run_pipeline(tmp_path / "in", FAST, "ingest.duplicate_ids='prefix_source'")
    ids = set(read_dataset(result.dataset).column("id").to_pylist())
    assert "part-0.jsonl:0" in ids and "part-1.jsonl:0" in ids


def test_parquet_with_another_text_column_stops_with_the_fix(tmp_path):
    (tmp_path / "in").mkdir()
    pq.write_table(pa.table({"content": _docs(10), "score": [1.0] * 10}), tmp_path / "in" / "data.parquet")
    done = _cli("run", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 3
    assert "data.parquet: no column 'text' (has: content, score); set ingest.text_field" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "in").exists()
    done = _cli(
        "run",
        str(tmp_path / "in"),
        "--output",
        str(tmp_path / "out"),
        "--quiet",
        "--set",
        "ingest.text_field=content",
        "--set",
        FAST,
    )
    assert done.returncode == 0, done.stderr
    assert read_dataset(tmp_path / "out" / "in").num_rows == 10


def test_a_run_that_rejects_everything_exits_4_with_reasons(tmp_path):
    english_corpus(tmp_path / "in", 5)
    done = _cli(
        "run",
        str(tmp_path / "in"),
        "--output",
        str(tmp_path / "out"),
        "--quiet",
        "--set",
        SPINE,
        "--set",
        "language.min_language_score=1",
    )
    assert done.returncode == 4, done.stderr
    assert "published nothing of 5 records read" in done.stderr
    assert "language/language_uncertain: lower language.min_language_score" in done.stderr
    assert not (tmp_path / "out" / "in").exists()
    assert pq.read_table(tmp_path / "out" / "in.report" / "rejected.parquet").num_rows == 5


def test_validate_and_push_refuse_an_empty_dataset(tmp_path):
    from helpers import write_enriched_dataset

    folder = write_enriched_dataset(tmp_path / "ds", count=0)
    done = _cli("validate", str(folder))
    assert done.returncode == 1 and "not_empty" in done.stdout
    assert _cli("validate", str(folder), "--allow-empty").returncode == 0
    done = _cli("push", str(folder), "--repo-id", "me/empty", "--dry-run")
    assert done.returncode == 1 and "no rows" in done.stderr


def test_output_inside_input_is_never_read_back(tmp_path, run_pipeline):
    english_corpus(tmp_path / "in", 4)
    first = run_pipeline(tmp_path / "in", FAST, output=tmp_path / "in" / "dist")
    assert first.records_read == 4
    # Another output folder: the first run's dataset, report and work folder inside the input are skipped.
    second = run_pipeline(tmp_path / "in", FAST, output=tmp_path / "elsewhere")
    assert second.records_read == 4 and second.records_published == 4
    with pytest.raises(UsageError, match="is the input folder"):
        run_pipeline(tmp_path / "in", FAST, output=tmp_path / "in")
    assert not list((tmp_path / "in").glob(".*.work"))


def test_removing_the_language_stage_still_publishes(tmp_path, run_pipeline):
    english_corpus(tmp_path / "in", 5)
    result = run_pipeline(tmp_path / "in", 'run.stages=["normalize", "dedup_exact"]')
    table = read_dataset(result.dataset)
    assert table.num_rows == 5 and "language" not in table.column_names


def test_ledger_rows_carry_the_inputs_own_id(tmp_path, run_pipeline):
    docs = _docs(3)
    lines = [json.dumps({"id": "keep-1", "text": docs[0]}), json.dumps({"id": "null-1", "text": None})]
    lines.append(json.dumps({"id": "keep-2", "text": docs[1]}))
    write(tmp_path / "in" / "a.jsonl", "\n".join(lines) + "\n")
    ledger = read_ledger(run_pipeline(tmp_path / "in", FAST)).to_pylist()
    assert [(r["id"], r["reason"]) for r in ledger] == [("null-1", "empty")]
    assert "'text' is null" in ledger[0]["detail"]
    # Parquet rows rejected before their text is read (too large) keep their id too.
    big = "x" * 5000
    pq.write_table(pa.table({"id": ["p-1", "p-2"], "text": [docs[2], big]}), tmp_path / "in2.parquet")
    ledger = read_ledger(run_pipeline(tmp_path / "in2.parquet", FAST, "ingest.max_document_bytes=4096")).to_pylist()
    assert [(r["id"], r["reason"]) for r in ledger] == [("p-2", "too_large")]


def test_limit_positional_input_glob_and_line_mode(tmp_path):
    write(tmp_path / "in" / "lines.txt", "".join(f"{d}\n" for d in _docs(5)))
    write(tmp_path / "in" / "skip.md", _docs(1)[0])
    done = _cli(
        "run",
        str(tmp_path / "in" / "*.txt"),
        "--output",
        str(tmp_path / "out"),
        "--limit",
        "3",
        "--workers",
        "0",
        "--set",
        FAST,
        "--set",
        'ingest.text_unit="line"',
    )
    assert done.returncode == 0, done.stderr
    # The name comes from the input, not from a config's sample.
    table = read_dataset(tmp_path / "out" / "in")
    assert sorted(table.column("source").to_pylist()) == ["lines.txt#1", "lines.txt#2", "lines.txt#3"]


def test_init_writes_a_config_for_a_new_dataset(tmp_path):
    project = tmp_path / "my-corpus"
    done = _cli("init", str(project))
    assert done.returncode == 0, done.stderr
    text = (project / "pipeline.toml").read_text(encoding="utf-8")
    assert 'name = "my-corpus"' in text and text.count("#") > 10
    assert _cli("init", str(project)).returncode == 2  # never overwrites
    english_corpus(project / "raw", 5)
    done = _cli("run", "--config", str(project / "pipeline.toml"), "--quiet", "--set", FAST)
    assert done.returncode == 0, done.stderr
    assert (project / "dist" / "my-corpus" / "README.md").is_file()


def test_licence_ids_follow_the_hub(tmp_path):
    english_corpus(tmp_path / "in", 2)
    done = _cli("run", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--set", "publish.license=MIT")
    assert done.returncode == 2 and "'mit' (lower case)" in done.stderr
    done = _cli(
        "run",
        str(tmp_path / "in"),
        "--output",
        str(tmp_path / "out"),
        "--quiet",
        "--set",
        FAST,
        "--set",
        "publish.license_name='Town licence'",
        "--set",
        "publish.license_link='https://example.org/licence'",
        "--set",
        "publish.tags=['news']",
    )
    assert done.returncode == 0, done.stderr
    card = (tmp_path / "out" / "in" / "README.md").read_text(encoding="utf-8")
    assert "license_name: Town licence" in card and "license_link: https://example.org/licence" in card
    assert "- news" in card


def test_config_errors_are_reported_at_once_with_did_you_mean(tmp_path):
    done = _cli("run", "--set", "run.workrs=2", "--set", "ingest.limit=-1", cwd=tmp_path)
    assert done.returncode == 2
    assert "did you mean 'run.workers'" in done.stderr and "ingest.limit" in done.stderr


def _small_dataset(tmp_path: Path) -> Path:
    from helpers import write_enriched_dataset

    return write_enriched_dataset(tmp_path / "ds", count=8)


def test_validate_a_dataset_made_by_another_tool(tmp_path):
    folder = tmp_path / "other"
    (folder / "data").mkdir(parents=True)
    table = pa.table({"id": [str(i) for i in range(40)], "text": ["hello"] * 40, "my_label": [1] * 40})
    pq.write_table(table, folder / "data" / "train-00000-of-00001.parquet")
    card = {
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}],
        "dataset_info": {
            "features": [{"name": "id", "dtype": "string"}, {"name": "text", "dtype": "string"}],
            "splits": [{"name": "train", "num_examples": 41}],
        },
    }
    import yaml

    write(folder / "README.md", "---\n" + yaml.safe_dump(card) + "---\n# Other\n")
    done = _cli("validate", str(folder))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any("extra column `my_label`" in line for line in lines)
    assert any("the card says 41 rows, the files hold 40" in line for line in lines)
    assert any("not checked: croissant (no croissant.json)" in line for line in lines)
    assert any("the column `source` is missing" in line for line in lines)
    assert max(len(line) for line in lines) < 400


def test_validate_reports_hostile_files_without_crashing(tmp_path):
    folder = _small_dataset(tmp_path)
    shard = next((folder / "data").glob("*.parquet"))
    (folder / "data" / "train-99999-of-99999.parquet").write_bytes(b"")
    (folder / "notes.txt").write_text("not part of a dataset", encoding="utf-8")
    (folder / "data" / "link.parquet").symlink_to(shard)
    for args in ([], ["--format", "json"], ["--junit-xml", str(tmp_path / "junit.xml")]):
        done = _cli("validate", str(folder), *args)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    text = _cli("validate", str(folder)).stdout
    assert "notes.txt: is outside the dataset layout" in text
    assert "link.parquet: is a symbolic link" in text
    assert "train-99999-of-99999.parquet: not a readable Parquet file" in text
    assert "files" in (tmp_path / "junit.xml").read_text(encoding="utf-8")
    done = _cli("push", str(folder), "--repo-id", "me/x", "--dry-run")
    assert done.returncode == 1 and "refusing to push" in done.stderr


def test_validate_bounds_yaml_alias_expansion(tmp_path):
    folder = _small_dataset(tmp_path)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(20)
    )
    write(folder / "README.md", "---\n" + bomb + "---\n")
    done = _cli("validate", str(folder))
    assert done.returncode == 1 and "aliases" in done.stdout


def test_card_values_are_capped_and_stripped_of_bidi_controls():
    from pipeline.publish.card import MAX_CELL_CHARS, escape_cell

    shown = escape_cell("evil\u202egnp.exe\u200b" + "x" * 1000)
    assert "\u202e" not in shown and "\u200b" not in shown
    assert shown.startswith("evilgnp\\.exe") and len(shown) <= MAX_CELL_CHARS + 10


def test_work_folder_keeps_only_the_ingested_records(tmp_path, run_pipeline):
    english_corpus(tmp_path / "in", 300)
    result = run_pipeline(tmp_path / "in", SPINE)
    work = result.work_dir
    assert work is not None and [p.name.split("-")[1] for p in work.iterdir() if p.is_dir()] == ["ingest"]
    input_bytes = sum(p.stat().st_size for p in (tmp_path / "in").iterdir())
    assert result.work_bytes <= input_bytes
    again = run_pipeline(tmp_path / "in", SPINE)
    steps = json.loads((again.report / "run.json").read_text(encoding="utf-8"))["execution"]["steps"]
    assert steps[0]["step"] == "ingest" and steps[0]["reused"]
    assert (again.dataset / "README.md").read_bytes() == (result.dataset / "README.md").read_bytes()
