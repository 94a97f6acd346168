"""Splits: assignment by a hash of the id, stable under removal, named shards, card and load_dataset agree."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset
from helpers import REPO, SPINE, english_corpus, make_config

from pipeline.errors import UsageError
from pipeline.publish.card import parse_front_matter
from pipeline.publish.splits import SplitAssigner, check_shares

THREE = "publish.splits={ train = 0.8, validation = 0.1, test = 0.1 }"


def _split_of_each_id(folder: Path) -> dict[str, str]:
    assignment = {}
    for shard in sorted((folder / "data").glob("*.parquet")):
        split = shard.name.split("-")[0]
        for record_id in pq.read_table(shard, columns=["id"]).column("id").to_pylist():
            assert record_id not in assignment, f"{record_id} is in two shards"
            assignment[record_id] = split
    return assignment


def test_shares_are_checked() -> None:
    with pytest.raises(ValueError, match=r"add up to 1\.0, they add up to 0\.9"):
        check_shares({"train": 0.8, "test": 0.1})
    with pytest.raises(ValueError, match="every share must be > 0"):
        check_shares({"train": 1.0, "test": 0.0})
    with pytest.raises(ValueError, match="split name 'my split'"):
        check_shares({"my split": 1.0})
    with pytest.raises(ValueError, match="at least one split"):
        check_shares({})


def test_bad_split_config_is_a_usage_error_naming_the_key() -> None:
    with pytest.raises(UsageError, match=r"publish\.splits: .*add up to 1\.0"):
        make_config(REPO / "raw", REPO / "dist", overrides=["publish.splits={ train = 0.5 }"])
    config = make_config(REPO / "raw", REPO / "dist", overrides=["publish.splits={ train = 1 }"])
    assert config.publish.splits == {"train": 1.0}


def test_assignment_follows_the_shares_and_ignores_the_other_records() -> None:
    assigner = SplitAssigner({"train": 0.98, "validation": 0.01, "test": 0.01})
    ids = [f"record-{i}" for i in range(50_000)]
    names = assigner.names_of(ids)
    for split, share in (("train", 0.98), ("validation", 0.01), ("test", 0.01)):
        assert abs(names.count(split) / len(ids) - share) < 0.003, split
    # The split of an id is the same alone, in any order and in any company.
    assert assigner.names_of(ids[::-1]) == names[::-1]
    assert [assigner.names_of([i])[0] for i in ids[:200]] == names[:200]


def test_splits_are_stable_when_10_percent_of_records_are_removed(run_pipeline, tmp_path: Path) -> None:
    english_corpus(tmp_path / "all", 300)
    removed = frozenset(range(0, 300, 10))
    english_corpus(tmp_path / "fewer", 300, skip=removed)
    before = _split_of_each_id(run_pipeline(tmp_path / "all", SPINE, THREE, name="all").dataset)
    after = _split_of_each_id(run_pipeline(tmp_path / "fewer", SPINE, THREE, name="fewer").dataset)
    assert len(before) == 300 and len(after) == 270
    assert set(before.values()) == {"train", "validation", "test"}
    assert after == {record_id: split for record_id, split in before.items() if record_id in after}


def test_each_split_has_its_shards_card_entry_and_exact_row_count_in_load_dataset(run_pipeline, tmp_path: Path) -> None:
    english_corpus(tmp_path / "in", 200)
    result = run_pipeline(
        tmp_path / "in", SPINE, THREE, "publish.max_row_group_bytes=2000", "publish.max_shard_bytes=4000"
    )
    folder = result.dataset
    counts = {}
    for split in ("train", "validation", "test"):
        shards = sorted((folder / "data").glob(f"{split}-*.parquet"))
        assert shards, split
        total = len(shards)
        assert [s.name for s in shards] == [f"{split}-{i:05d}-of-{total:05d}.parquet" for i in range(total)]
        counts[split] = sum(pq.ParquetFile(s).metadata.num_rows for s in shards)
    assert sum(counts.values()) == result.records_published == 200
    assert len(list((folder / "data").glob("train-*.parquet"))) > 1  # the size limits did cut shards

    meta = parse_front_matter((folder / "README.md").read_text(encoding="utf-8"))
    assert meta["configs"] == [
        {
            "config_name": "default",
            "data_files": [{"split": s, "path": f"data/{s}-*"} for s in ("train", "validation", "test")],
        }
    ]
    assert {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]} == counts

    loaded = load_dataset(str(folder), cache_dir=str(tmp_path / "fresh-cache"))
    assert {name: split.num_rows for name, split in loaded.items()} == counts
    ids = {name: set(split["id"]) for name, split in loaded.items()}
    assert not (ids["train"] & ids["validation"]) and not (ids["train"] & ids["test"])


def test_split_output_does_not_depend_on_batch_size(tmp_path: Path) -> None:
    from pipeline.execution.runner import Runner

    english_corpus(tmp_path / "in", 120)
    folders = []
    for batch_size in (7, 1000):
        config = make_config(
            tmp_path / "in", tmp_path / f"out{batch_size}", "ds", [THREE, f"run.batch_size={batch_size}"]
        )
        folders.append(Runner(config).run().dataset)
    files = sorted(p.relative_to(folders[0]) for p in folders[0].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(folders[1]) for p in folders[1].rglob("*") if p.is_file())
    for rel in files:
        first, second = (folders[0] / rel).read_bytes(), (folders[1] / rel).read_bytes()
        if rel.name == "README.md":  # run.batch_size is part of the config digest the card records
            first, second = (re.sub(rb"[0-9a-f]{64}", b"DIGEST", data) for data in (first, second))
        assert first == second, rel
