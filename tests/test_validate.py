"""`python -m pipeline validate DIR`: passes on a published folder, fails on tampered ones."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import FIXTURES, SPINE

from pipeline.cli import main


@pytest.fixture
def published(run_pipeline, tmp_path: Path) -> Path:
    return run_pipeline(FIXTURES / "e2e", SPINE).dataset


def _tampered(published: Path, tmp_path: Path, edit) -> Path:
    copy = tmp_path / "tampered"
    shutil.copytree(published, copy)
    shard = next((copy / "data").glob("*.parquet"))
    table = pq.read_table(shard)
    rows = table.to_pylist()
    edit(rows, copy)
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), shard)
    return copy


def _card_edited(published: Path, tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    copy = tmp_path / "tampered"
    shutil.copytree(published, copy)
    card = copy / "README.md"
    text = card.read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    card.write_text(text)
    return copy


def test_validate_passes_with_exit_0(published: Path, capsys) -> None:
    assert main(["validate", str(published)]) == 0
    assert "OK (6 rows" in capsys.readouterr().out


def test_duplicate_id_fails(published: Path, tmp_path: Path, capsys) -> None:
    def edit(rows, folder):
        rows[2]["id"] = rows[0]["id"]

    folder = _tampered(published, tmp_path, edit)
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "id_unique: 1 problem(s)" in out
    assert "data/train-00000-of-00001.parquet, row 2, column id: duplicate id, first at" in out


def test_lying_num_examples_fails(published: Path, tmp_path: Path, capsys) -> None:
    folder = _card_edited(published, tmp_path, ("num_examples: 6", "num_examples: 7"))
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "num_examples: 1 problem(s)" in out
    assert "split 'train': the card says 7 rows, the files hold 6" in out


def test_empty_text_fails(published: Path, tmp_path: Path, capsys) -> None:
    def edit(rows, folder):
        rows[4]["text"] = "   "

    folder = _tampered(published, tmp_path, edit)
    assert main(["validate", str(folder), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    failed = {c["name"]: c for c in report["checks"] if not c["passed"]}
    # The rewritten shard's size changed too, and with it the sha256 croissant.json records.
    assert set(failed) == {"schema", "download_size", "croissant"}
    problem = failed["schema"]["problems"][0]
    assert (problem["row"], problem["column"], problem["message"]) == (
        4,
        "text",
        "`text` fails the check text_not_blank",
    )


def test_card_language_and_features_must_match_the_data(published: Path, tmp_path: Path, capsys) -> None:
    folder = _card_edited(
        published, tmp_path, ("language:\n- en\n", "language:\n- de\n"), ("dtype: float64", "dtype: float32")
    )
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "language_list: 1 problem(s)" in out
    assert "features_match_parquet: 1 problem(s)" in out


def test_unmatched_parquet_file_and_missing_card_fail(published: Path, tmp_path: Path, capsys) -> None:
    folder = _card_edited(published, tmp_path)
    shutil.copy(next((folder / "data").glob("*.parquet")), folder / "extra.parquet")
    assert main(["validate", str(folder)]) == 1
    assert "extra.parquet: Parquet file not matched by any `configs` pattern" in capsys.readouterr().out
    (folder / "README.md").unlink()
    assert main(["validate", str(folder)]) == 1
    assert "README.md (the dataset card) is missing" in capsys.readouterr().out


def test_at_most_20_problems_per_check_then_a_count(published: Path, tmp_path: Path, capsys) -> None:
    def edit(rows, folder):
        template = dict(rows[0])
        rows.clear()
        rows.extend({**template, "text": ""} for _ in range(25))
        card = folder / "README.md"
        card.write_text(card.read_text().replace("num_examples: 6", "num_examples: 25"))

    folder = _tampered(published, tmp_path, edit)
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "id_unique: 24 problem(s)" in out
    assert "… and 4 more" in out
    assert len(re.findall(r"duplicate id, first at", out)) == 20


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate"])
    assert exc.value.code == 2


def test_command_line_entry_point(published: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "validate", str(published)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"validate {published}: OK")
