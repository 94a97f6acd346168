"""`python -m pipeline inspect DIR`: the report's questions answered in the terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.execution.runner import RunResult


def _inspect(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "inspect", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def test_summary_json_equals_run_json_from_either_folder(busy_run: RunResult) -> None:
    run = json.loads((busy_run.report / "run.json").read_text())
    for folder in (busy_run.dataset, busy_run.report):
        done = _inspect(folder, "--format", "json")
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["name"] == "busy"
        assert summary["records"] == run["records"]
        assert [(s["name"], s["records_in"], s["records_out"], s["rejected"]) for s in summary["funnel"]] == [
            (s["name"], s["records_in"], s["records_out"], s["rejected"]) for s in run["stages"]
        ]
        assert {(g["stage"], g["reason"]): g["count"] for g in summary["rejections"]} == {
            (s["name"], r): n for s in run["stages"] for r, n in s["rejected"].items()
        }
        assert summary["published"]["records"] == run["records"]["published"]


def test_summary_text_shows_the_accounting_and_every_reason(busy_run: RunResult) -> None:
    done = _inspect(busy_run.dataset)
    assert done.returncode == 0, done.stderr
    run = json.loads((busy_run.report / "run.json").read_text())
    r = run["records"]
    assert f"records read {r['read']:,} = published {r['published']:,} + rejected {r['rejected']:,}" in done.stdout
    for stage in run["stages"]:
        for reason, count in stage["rejected"].items():
            assert f"{stage['name']} · {reason}: {count:,}" in done.stdout
    near = sum(stage["rejected"].get("near_duplicate", 0) for stage in run["stages"])
    assert near > 0 and f"near duplicates removed: {near:,}" in done.stdout
    # Hostile data cannot reorder or hide terminal text.
    assert "\u202e" not in done.stdout and "\x1b" not in done.stdout


def test_reason_pages_through_the_ledger_in_order(busy_run: RunResult) -> None:
    ledger = pq.read_table(busy_run.report / "rejected.parquet", columns=["id", "reason"]).to_pylist()
    ids = [r["id"] for r in ledger if r["reason"] == "quality:gopher_min_words"]
    done = _inspect(
        busy_run.report, "--reason", "quality:gopher_min_words", "--limit", "7", "--page", "2", "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    page = json.loads(done.stdout)
    assert page["total"] == len(ids)
    assert [r["id"] for r in page["records"]] == ids[7:14]
    assert all("< gopher_min_words=50" in r["detail"] for r in page["records"])
    text = _inspect(busy_run.report, "--reason", "quality:gopher_min_words", "--limit", "7")
    assert f"{len(ids)} records, page 1 of {-(-len(ids) // 7)}" in text.stdout
    assert "(next: --page 2)" in text.stdout


def test_unknown_reason_is_one_line_with_the_known_reasons(busy_run: RunResult) -> None:
    done = _inspect(busy_run.dataset, "--reason", "nonsense")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "quality:gopher_min_words" in done.stderr
    assert "Traceback" not in done.stderr


def test_id_shows_a_near_duplicates_path_and_its_survivor(busy_run: RunResult) -> None:
    ledger = pq.read_table(busy_run.report / "rejected.parquet").to_pylist()
    row = next(r for r in ledger if r["reason"] == "near_duplicate")
    done = _inspect(busy_run.dataset, "--id", row["id"], "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcome"] == "rejected"
    assert result["path"][-1] == {"stage": "dedup_near", "outcome": "rejected"}
    assert all(step["outcome"] == "kept" for step in result["path"][:-1])
    assert result["rejected"]["duplicate_of"] == row["duplicate_of"]
    survivor = json.loads(_inspect(busy_run.dataset, "--id", row["duplicate_of"], "--format", "json").stdout)
    assert {"id": row["id"], "stage": "dedup_near", "reason": "near_duplicate"} in survivor["duplicates"]


def test_id_of_a_published_record_lists_the_lines_clean_removed(busy_run: RunResult) -> None:
    removed = pq.read_table(busy_run.report / "removed_lines.parquet").to_pylist()
    published = {r["id"] for r in pq.read_table(sorted((busy_run.dataset / "data").glob("*.parquet"))).to_pylist()}
    record = next(r["id"] for r in removed if r["id"] in published)
    done = _inspect(busy_run.dataset, "--id", record)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{record}: published")
    assert "validate ✓" in done.stdout
    assert "lines removed by clean" in done.stdout
    assert sum(1 for r in removed if r["id"] == record) == done.stdout.count("    line ")


def test_bad_folder_and_unknown_id_are_usage_errors(busy_run: RunResult, tmp_path: Path) -> None:
    for args in ((tmp_path / "missing",), (tmp_path,), (busy_run.dataset, "--id", "no-such-id")):
        done = _inspect(*args)
        assert done.returncode == 2, done
        assert done.stderr.startswith("pipeline: error: ") and done.stderr.count("\n") == 1
