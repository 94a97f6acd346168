"""The whole pipeline on the sample data and on a folder of awkward inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import pyarrow.compute as pc
import pytest
from helpers import FIXTURES, REPO, SPINE, read_dataset, read_ledger

from pipeline.publish.dataset import DatasetWriter
from pipeline.records import METADATA_NAMES
from pipeline.schema_loader import load_model
from pipeline.validate import validate_folder

E2E = FIXTURES / "e2e"


def _ledger_by_source(result) -> dict[str, dict]:
    return {row["source"]: row for row in read_ledger(result).to_pylist()}


def test_sample_data_run(run_pipeline) -> None:
    result = run_pipeline(REPO / "raw")
    assert result.records_read == 5
    assert result.records_published == 5
    assert result.records_rejected == 0
    table = read_dataset(result.dataset)
    assert sorted(table.column("source").to_pylist()) == sorted(p.name for p in (REPO / "raw").glob("*.txt"))
    assert set(table.column("language").to_pylist()) == {"en"}


def test_every_input_record_is_published_or_in_the_ledger(run_pipeline) -> None:
    result = run_pipeline(E2E, SPINE)
    run = json.loads((result.report / "run.json").read_text())
    ledger = read_ledger(result)
    published = read_dataset(result.dataset)
    assert result.records_read == 15  # hidden file skipped
    assert result.records_read == published.num_rows + ledger.num_rows
    # Per file too, counted independently from the outputs themselves.
    for path, counts in run["per_file"].items():
        in_data = pc.sum(pc.equal(published.column("source"), path)).as_py() or 0
        in_data += sum(1 for s in published.column("source").to_pylist() if s.startswith(path + "#"))
        in_ledger = sum(1 for f in ledger.column("file").to_pylist() if f == path)
        assert counts["read"] == in_data + in_ledger == counts["published"] + counts["rejected"], path
    assert ".hidden.txt" not in run["per_file"]


def test_each_rejection_has_its_reason(run_pipeline) -> None:
    result = run_pipeline(E2E, SPINE)
    rows = _ledger_by_source(result)
    assert {s: (r["stage"], r["reason"]) for s, r in rows.items()} == {
        "blank.txt": ("ingest", "empty"),
        "empty.txt": ("ingest", "empty"),
        "image.txt": ("ingest", "binary"),
        "dump.jsonl#3": ("ingest", "malformed_json"),
        "dump2.jsonl.gz#2": ("ingest", "empty"),
        "copies/article-copy.md": ("dedup_exact", "exact_duplicate"),
        "dump.jsonl#4": ("dedup_exact", "exact_duplicate"),
        "german.txt": ("language", "language"),
        "dump.jsonl#5": ("language", "language"),
    }
    published = {r["source"]: r for r in read_dataset(result.dataset).to_pylist()}
    # Duplicates name the kept record, and the kept record is published.
    assert rows["dump.jsonl#4"]["duplicate_of"] == "doc-1" == published["dump.jsonl#1"]["id"]
    assert rows["copies/article-copy.md"]["duplicate_of"] == published["article.txt"]["id"]
    assert all(r["duplicate_of"] is None for s, r in rows.items() if r["reason"] != "exact_duplicate")
    # Every ledger detail names the record it is about.
    assert all(r["detail"] for r in rows.values())
    assert rows["dump.jsonl#3"]["detail"].startswith("dump.jsonl#3: line 3")
    assert "detected de" in rows["german.txt"]["detail"]
    assert rows["dump.jsonl#5"]["text"].startswith("Elle ne peut donc")


def test_encodings_are_decoded(run_pipeline) -> None:
    published = {r["source"]: r for r in read_dataset(run_pipeline(E2E, SPINE).dataset).to_pylist()}
    assert "crème brûlée" in published["latin1.txt"]["text"]
    assert "naïve façade" in published["latin1.txt"]["text"]
    assert published["utf16.txt"]["text"].startswith("This document was saved as UTF-16")
    assert published["dump2.jsonl.gz#1"]["text"].startswith("Compressed dumps")
    assert published["dump.jsonl#1"]["url"] == "https://example.com/one"


def test_load_dataset_restores_the_schema_types(run_pipeline, tmp_path: Path) -> None:
    result = run_pipeline(E2E, SPINE)
    loaded = datasets.load_dataset(str(result.dataset), cache_dir=str(tmp_path / "hf-cache"))
    train = loaded["train"]
    assert train.num_rows == result.records_published
    assert train.features == datasets.Features(
        {
            "id": datasets.Value("string"),
            "text": datasets.Value("string"),
            "source": datasets.Value("string"),
            "url": datasets.Value("string"),
            "metadata": {name: datasets.Value("string") for name in METADATA_NAMES},
            "language": datasets.Value("string"),
            "language_score": datasets.Value("float64"),
            "num_chars": datasets.Value("int64"),
            "num_words": datasets.Value("int64"),
        }
    )
    assert train.to_list() == read_dataset(result.dataset).to_pylist()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_runs_are_byte_identical_whatever_the_batch_size(run_pipeline, tmp_path: Path) -> None:
    first = run_pipeline(E2E, SPINE, output=tmp_path / "a")
    second = run_pipeline(E2E, SPINE, "run.batch_size=2", output=tmp_path / "b")
    assert _files(first.dataset) == _files(second.dataset)
    assert (first.report / "rejected.parquet").read_bytes() == (second.report / "rejected.parquet").read_bytes()


def test_published_folder_holds_only_what_goes_to_the_hub(run_pipeline) -> None:
    result = run_pipeline(E2E, SPINE)
    assert sorted(_files(result.dataset)) == [
        "README.md",
        "croissant.json",
        "data/train-00000-of-00001.parquet",
        "images/languages.png",
        "images/length_histogram.png",
    ]
    assert sorted(p.name for p in result.report.iterdir()) == ["rejected.parquet", "report.html", "run.json"]
    # No temporary folders are left beside the outputs, only the work folder kept for resuming.
    assert sorted(p.name for p in result.dataset.parent.iterdir()) == [".ds.work", "ds", "ds.report"]


def test_run_json_reports_config_versions_fingerprints_and_stage_counts(run_pipeline) -> None:
    result = run_pipeline(E2E, SPINE)
    run = json.loads((result.report / "run.json").read_text())
    assert run["config"]["language"]["languages"] == ["en"]
    assert run["packages"]["langdetect"] == "1.0.9"
    assert {i["path"] for i in run["inputs"]} >= {"article.txt", "dump.jsonl", "image.txt"}
    assert all(len(i["sha256"]) == 64 for i in run["inputs"])
    stages = {s["name"]: s for s in run["stages"]}
    assert list(stages) == ["ingest", "normalize", "dedup_exact", "language", "stats", "validate", "survivors"]
    assert stages["ingest"]["rejected"] == {"binary": 1, "empty": 3, "malformed_json": 1}
    assert stages["dedup_exact"]["records_in"] == 10
    # dedup_exact marks the copies; survivors rejects them once every other stage has decided. The
    # rejections are listed under the stage the ledger rows name (dedup_exact), the counts as they ran.
    assert stages["dedup_exact"]["records_out"] == 10
    assert stages["dedup_exact"]["rejected"] == {"exact_duplicate": 2}
    assert stages["survivors"]["records_in"] - stages["survivors"]["records_out"] == 2
    assert stages["survivors"]["rejected"] == {}
    assert stages["language"]["rejected"] == {"language": 2}
    assert all(s["seconds"] >= 0 for s in run["stages"])


def test_card_reports_the_real_numbers(run_pipeline) -> None:
    result = run_pipeline(E2E, SPINE)
    card = (result.dataset / "README.md").read_text()
    assert "6 documents were published from 15 input records in 10 file(s); 9 records were rejected" in card
    assert "| `dedup_exact` | 10 | 10 | exact_duplicate: 2 |" in card
    assert "| `survivors` | 8 | 6 | - |" in card
    assert "| `ingest` | 15 | 10 | binary: 1, empty: 3, malformed_json: 1 |" in card
    assert "num_examples: 6" in card
    assert "language:\n- en\n" in card


def test_validate_passes_on_the_published_dataset(run_pipeline) -> None:
    result = run_pipeline(E2E, SPINE)
    report = validate_folder(result.dataset, load_model(None))
    assert report.ok, report.to_text()
    assert report.rows == 6


def test_a_failed_run_leaves_the_previous_dataset_intact(run_pipeline, tmp_path, monkeypatch) -> None:
    good = run_pipeline(REPO / "raw")
    before = _files(good.dataset)

    def broken_finish(self, facts, background=None):
        raise OSError("disk full while writing the card")

    monkeypatch.setattr(DatasetWriter, "finish", broken_finish)
    with pytest.raises(OSError, match="disk full"):
        run_pipeline(E2E, SPINE)
    assert _files(good.dataset) == before
    assert sorted(p.name for p in good.dataset.parent.iterdir()) == [".ds.work", "ds", "ds.report"]


def test_ids_are_stable_when_other_inputs_change(run_pipeline, tmp_path: Path) -> None:
    folder = tmp_path / "input"
    shutil.copytree(REPO / "raw", folder)
    ids_before = {
        r["source"]: r["id"] for r in read_dataset(run_pipeline(folder, output=tmp_path / "a").dataset).to_pylist()
    }
    (folder / "000_9bc0f25a4e0874a5.txt").unlink()
    ids_after = {
        r["source"]: r["id"] for r in read_dataset(run_pipeline(folder, output=tmp_path / "b").dataset).to_pylist()
    }
    assert ids_after == {s: i for s, i in ids_before.items() if s != "000_9bc0f25a4e0874a5.txt"}


def test_output_folder_inside_the_input_is_not_read_back(run_pipeline, tmp_path: Path) -> None:
    folder = tmp_path / "input"
    shutil.copytree(REPO / "raw", folder)
    first = run_pipeline(folder, output=folder / "dist")
    second = run_pipeline(folder, output=folder / "dist")
    assert first.records_read == second.records_read == 5


@pytest.mark.parametrize("workers", [0, 2])
def test_a_users_schema_file_rejects_rows_as_schema(run_pipeline, tmp_path: Path, workers: int) -> None:
    # With workers, validate's pass 2 runs there: the model is loaded again from the user's file.
    schema = tmp_path / "strict.py"
    schema.write_text(
        (REPO / "schemas" / "published.py")
        .read_text()
        .replace("num_words: Series[int] = pa.Field(ge=0, nullable=False)", "num_words: Series[int] = pa.Field(ge=30)")
        .replace("class PublishedRecord(", "class StrictRecord(")
    )
    result = run_pipeline(
        E2E, SPINE, f'validate.schema_file="{schema}"', 'validate.model="StrictRecord"', f"run.workers={workers}"
    )
    rows = {r["source"]: r for r in read_ledger(result).to_pylist() if r["stage"] == "validate"}
    assert {s: r["reason"] for s, r in rows.items()} == {"dump.jsonl#2": "schema", "dump2.jsonl.gz#1": "schema"}
    assert rows["dump.jsonl#2"]["detail"] == (
        "schema checks failed: num_words: greater_than_or_equal_to(30) (value '25')"
    )
    assert result.records_published == 4
