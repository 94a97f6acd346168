"""Killed with SIGKILL at any point, a rerun finishes the job and publishes the very same bytes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import REPO, make_config, read_dataset
from test_runner_parallel import build_corpus, files_of

from pipeline.execution.runner import Runner

NAME = "ds"
# Small batches make many shards, so each step lasts long enough to be caught in the middle.
SETTINGS = ["run.batch_size=4", 'run.stages=["normalize", "dedup_exact"]']


def step_folder(output: Path, prefix: str) -> Path | None:
    found = sorted((output / f".{NAME}.work").glob(f"{prefix}-*"))
    return found[0] if found else None


def shards_committed(output: Path, prefix: str) -> int:
    folder = step_folder(output, prefix)
    return len(list(folder.glob("*.json"))) if folder else 0


# Kill points: a condition on the output folder that holds only while that part of the run is going on.
POINTS = {
    "ingest": lambda out: shards_committed(out, "00-ingest") >= 5,
    "map_stage": lambda out: shards_committed(out, "01-normalize") >= 5,
    "global_pass_1": lambda out: step_folder(out, "02-dedup_exact") is not None,
    "global_pass_2": lambda out: shards_committed(out, "02-dedup_exact") >= 5,
    "publish": lambda out: any(out.glob(f".{NAME}.tmp-*/dataset/data/*")),
}


def in_progress(point: str, output: Path) -> bool:
    """Whether the killed run really stopped inside `point` (and not after it finished)."""
    if point == "publish":
        return not (output / NAME).exists()
    prefix = {"ingest": "00-ingest", "map_stage": "01-normalize"}.get(point, "02-dedup_exact")
    folder = step_folder(output, prefix)
    return folder is not None and not (folder / "DONE.json").exists()


def kill_at(point: str, corpus: Path, output: Path) -> None:
    command = [sys.executable, "-m", "pipeline", "run", "--config", str(REPO / "pipeline.toml"), "--quiet"]
    for setting in [f'run.input="{corpus}"', f'run.output="{output}"', f'run.name="{NAME}"', *SETTINGS]:
        command += ["--set", setting]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([*command, "--workers", "2"], env=env)
    try:
        deadline = time.monotonic() + 120
        while not POINTS[point](output):
            assert process.poll() is None, f"the run ended before reaching {point}"
            assert time.monotonic() < deadline, f"the run never reached {point}"
            time.sleep(0.001)
        helpers = descendants(process.pid)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert in_progress(point, output), f"the run had already finished {point} when it was killed"
    # The pool's workers (and the fork server) notice and exit instead of lingering forever.
    deadline = time.monotonic() + 20
    while any(Path(f"/proc/{pid}").exists() and not zombie(pid) for pid in helpers):
        assert time.monotonic() < deadline, f"processes left behind: {helpers}"
        time.sleep(0.1)


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, bytes]]:
    """The corpus, the output folder every run uses, and the files of an uninterrupted run."""
    root = tmp_path_factory.mktemp("resume")
    corpus = build_corpus(root / "corpus")
    output = root / "out"
    result = Runner(make_config(corpus, output, NAME, SETTINGS), workers=1).run()
    expected = {**files_of(result.dataset), "rejected.parquet": (result.report / "rejected.parquet").read_bytes()}
    shutil.rmtree(output)
    return corpus, output, expected


def finish_and_check(corpus: Path, output: Path, expected: dict[str, bytes]) -> None:
    result = Runner(make_config(corpus, output, NAME, SETTINGS), workers=2).run()
    ledger = pq.read_table(result.report / "rejected.parquet")
    published = read_dataset(result.dataset)
    ids = ledger.column("id").to_pylist() + published.column("id").to_pylist()
    # No duplicates, no gaps: every record read is in exactly one of the two.
    assert len(ids) == len(set(ids)) == result.records_read
    got = {**files_of(result.dataset), "rejected.parquet": (result.report / "rejected.parquet").read_bytes()}
    assert got.keys() == expected.keys()
    assert got == expected
    assert not list(output.glob(f".{NAME}.tmp-*"))
    shutil.rmtree(output)


@pytest.mark.parametrize("point", list(POINTS))
def test_sigkill_then_rerun_publishes_the_same_bytes(point: str, setup: tuple[Path, Path, dict[str, bytes]]) -> None:
    corpus, output, expected = setup
    kill_at(point, corpus, output)
    finish_and_check(corpus, output, expected)


def test_killed_again_and_again_still_the_same(setup: tuple[Path, Path, dict[str, bytes]]) -> None:
    corpus, output, expected = setup
    for point in ("ingest", "global_pass_2", "publish"):
        kill_at(point, corpus, output)
    finish_and_check(corpus, output, expected)
