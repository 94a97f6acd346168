"""The work folder: one run at a time, committed shards survive, --fresh starts over."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.errors import UsageError
from pipeline.execution.workdir import WorkDir, read_kept, read_ledger, shard_facts, write_shard
from pipeline.records import LEDGER_SCHEMA


def test_a_second_run_on_the_same_work_folder_is_refused(tmp_path: Path) -> None:
    first = WorkDir(tmp_path / "work")
    with pytest.raises(UsageError, match="another pipeline run is using"):
        WorkDir(tmp_path / "work")
    first.close()
    WorkDir(tmp_path / "work").close()  # free again once the first run is done


def test_shards_round_trip_and_fresh_removes_them(tmp_path: Path) -> None:
    work = WorkDir(tmp_path / "work")
    folder = tmp_path / "work" / "00-ingest-0123456789abcdef"
    folder.mkdir()
    kept = pa.RecordBatch.from_pydict({"id": ["a", "b"], "text": ["x", "y"]})
    write_shard(folder, 3, kept, [pa.RecordBatch.from_pylist([], schema=LEDGER_SCHEMA)], {}, {"stages": []})
    assert read_kept(folder, 3).equals(kept)
    assert read_ledger(folder, 3) is None  # no rows, no file
    assert shard_facts(folder, 3) == {"stages": [], "rows": 2, "side": []}
    assert shard_facts(folder, 4) is None
    assert not list(folder.glob("*.partial"))
    work.close()
    WorkDir(tmp_path / "work", fresh=True).close()
    assert not folder.exists()
