"""croissant.json: mlcroissant validates it and reads back exactly the Parquet rows, splits included."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlcroissant as mlc
import pyarrow.parquet as pq
from helpers import english_corpus, load_config_model, write_enriched_dataset

from pipeline.publish import croissant
from pipeline.validate import validate_folder

THREE = "publish.splits={ train = 0.8, validation = 0.1, test = 0.1 }"


def _parquet_rows(folder: Path) -> dict[str, dict]:
    rows = {}
    for shard in sorted((folder / "data").glob("*.parquet")):
        for row in pq.read_table(shard).to_pylist():
            rows[row["id"]] = {**row, "split": shard.name.split("-")[0]}
    return rows


def _plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict):
        return {key.rsplit("/", 1)[-1]: _plain(v) for key, v in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


def _croissant_rows(folder: Path) -> dict[str, dict]:
    dataset = mlc.Dataset(jsonld=folder / croissant.FILE_NAME)
    assert not dataset.metadata.issues.errors, dataset.metadata.issues.report()
    rows = {}
    for record in dataset.records(croissant.RECORD_SET_ID):
        row = {key.rsplit("/", 1)[-1]: _plain(value) for key, value in record.items()}
        assert row["id"] not in rows
        rows[row["id"]] = row
    return rows


def test_mlcroissant_validates_and_reads_back_every_row_with_its_split(run_pipeline, tmp_path: Path) -> None:
    english_corpus(tmp_path / "in", 120)
    folder = run_pipeline(tmp_path / "in", THREE).dataset
    metadata = json.loads((folder / croissant.FILE_NAME).read_text(encoding="utf-8"))
    assert metadata["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    objects = [d for d in metadata["distribution"] if d["@type"] == "cr:FileObject"]
    assert sorted(o["contentUrl"] for o in objects) == sorted(
        p.relative_to(folder).as_posix() for p in (folder / "data").glob("*.parquet")
    )
    assert [d["@type"] for d in metadata["distribution"]].count("cr:FileSet") == 1

    expected = _parquet_rows(folder)
    assert {row["split"] for row in expected.values()} == {"train", "validation", "test"}
    assert _croissant_rows(folder) == expected


def test_struct_columns_round_trip_as_sub_fields(tmp_path: Path) -> None:
    folder = write_enriched_dataset(tmp_path / "enriched", count=30, splits={"train": 0.5, "test": 0.5})
    metadata = json.loads((folder / croissant.FILE_NAME).read_text(encoding="utf-8"))
    assert metadata["version"] == "2.0.0" and metadata["citeAs"] == "@misc{x, title={X}}"
    fields = {f["name"]: f for f in metadata["recordSet"][0]["field"]}
    assert [s["name"] for s in fields["pii"]["subField"]] == ["email", "phone"]
    assert _croissant_rows(folder) == _parquet_rows(folder)


def _tampered(folder: Path, tmp_path: Path, edit) -> Path:
    copy = tmp_path / "tampered"
    shutil.copytree(folder, copy)
    path = copy / croissant.FILE_NAME
    metadata = json.loads(path.read_text(encoding="utf-8"))
    edit(metadata)
    path.write_text(json.dumps(metadata), encoding="utf-8")
    return copy


def _croissant_problems(folder: Path) -> list[str]:
    report = validate_folder(folder, load_config_model())
    assert set(report.failures) <= {"croissant"}
    return [p.message for p in report.problems.get("croissant", [])]


def test_validate_catches_a_croissant_file_that_lies_about_the_data(run_pipeline, tmp_path: Path) -> None:
    english_corpus(tmp_path / "in", 40)
    folder = run_pipeline(tmp_path / "in", THREE).dataset
    assert _croissant_problems(folder) == []

    def rename_column(metadata: dict) -> None:
        metadata["recordSet"][0]["field"][1]["source"]["extract"]["column"] = "body"

    problems = _croissant_problems(_tampered(folder, tmp_path / "a", rename_column))
    assert len(problems) == 1 and "the RecordSet declares columns" in problems[0] and "'body'" in problems[0]

    def wrong_hash(metadata: dict) -> None:
        metadata["distribution"][0]["sha256"] = "0" * 64

    problems = _croissant_problems(_tampered(folder, tmp_path / "b", wrong_hash))
    assert len(problems) == 1 and problems[0].startswith("sha256 of data/")

    def drop_split(metadata: dict) -> None:
        metadata["recordSet"][0]["field"] = [f for f in metadata["recordSet"][0]["field"] if f["name"] != "split"]

    problems = _croissant_problems(_tampered(folder, tmp_path / "c", drop_split))
    assert problems == ["the RecordSet has no `split` field read from the file names"]

    copy = _tampered(folder, tmp_path / "d", lambda metadata: None)
    (copy / croissant.FILE_NAME).unlink()
    assert _croissant_problems(copy) == ["croissant.json is missing; re-run the pipeline to write it"]
