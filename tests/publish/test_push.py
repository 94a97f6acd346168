"""`python -m pipeline push`: the dry run lists what would go up; invalid folders are refused; no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from pipeline.cli import main


@pytest.fixture
def published(run_pipeline) -> Path:
    return run_pipeline(REPO / "raw").dataset


def test_dry_run_lists_every_file_with_its_size(published: Path, capsys) -> None:
    (published / ".cache").mkdir()
    (published / ".cache" / "junk").write_text("not uploaded")
    assert main(["push", str(published), "--repo-id", "someone/sample", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: would upload to https://huggingface.co/datasets/someone/sample:" in out
    files = sorted(p for p in published.rglob("*") if p.is_file() and ".cache" not in p.parts)
    listed = [line.split() for line in out.splitlines()[1:-1]]
    assert [path for _, path in listed] == [p.relative_to(published).as_posix() for p in files]
    assert [int(size.replace(",", "")) for size, _ in listed] == [p.stat().st_size for p in files]
    assert {"README.md", "croissant.json", "images/length_histogram.png"} <= {path for _, path in listed}
    total = sum(p.stat().st_size for p in files)
    assert out.splitlines()[-1] == f"{len(files)} file(s), {total:,} bytes"


def test_a_folder_that_fails_validate_is_refused(published: Path, capsys) -> None:
    card = published / "README.md"
    card.write_text(card.read_text(encoding="utf-8").replace("num_examples: 5", "num_examples: 9"), encoding="utf-8")
    assert main(["push", str(published), "--repo-id", "someone/sample", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert f"refusing to push {published}: it fails validation" in err
    assert "split 'train': the card says 9 rows, the files hold 5" in err


def test_bad_repo_id_and_missing_folder_are_usage_errors(published: Path, tmp_path: Path, capsys) -> None:
    assert main(["push", str(published), "--repo-id", "no-namespace", "--dry-run"]) == 2
    assert "--repo-id 'no-namespace' must be namespace/name" in capsys.readouterr().err
    assert main(["push", str(tmp_path / "missing"), "--repo-id", "a/b"]) == 2


def test_without_a_token_push_stops_before_any_network_call(published: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and k != "HUGGING_FACE_HUB_TOKEN"}
    env.update(HF_HOME=str(tmp_path / "hf-home"), HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "push", str(published), "--repo-id", "someone/sample"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "no Hugging Face token: set HF_TOKEN or run `hf auth login`" in done.stderr
