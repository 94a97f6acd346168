"""SIGKILL while the workers run a global stage's pass 2 (clean, dedup_near): a rerun gives the same bytes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO, make_config
from test_runner_parallel import build_corpus, files_of

from pipeline.execution.runner import Runner

NAME = "ds"
# Small batches make many shards, so pass 2 lasts long enough to be caught in the middle.
STAGES = {"clean": "01-clean", "dedup_near": "02-dedup_near"}
SETTINGS = ["run.batch_size=4", 'run.stages=["clean", "dedup_near"]']


def committed(output: Path, prefix: str) -> tuple[bool, int]:
    """(step finished, shards committed) of the step folder starting with `prefix`."""
    found = sorted((output / f".{NAME}.work").glob(f"{prefix}-*"))
    if not found:
        return False, 0
    return (found[0] / "DONE.json").exists(), len(list(found[0].glob("*.json")))


@pytest.mark.parametrize("stage", list(STAGES))
def test_sigkill_in_worker_pass_2_then_rerun_gives_the_same_bytes(tmp_path: Path, stage: str) -> None:
    corpus = build_corpus(tmp_path / "corpus")
    output = tmp_path / "out"
    result = Runner(make_config(corpus, output, NAME, SETTINGS), workers=1).run()
    expected = {**files_of(result.dataset), "rejected.parquet": (result.report / "rejected.parquet").read_bytes()}
    shutil.rmtree(output)

    command = [sys.executable, "-m", "pipeline", "run", "--config", str(REPO / "pipeline.toml"), "--quiet"]
    for setting in [f'run.input="{corpus}"', f'run.output="{output}"', f'run.name="{NAME}"', *SETTINGS]:
        command += ["--set", setting]
    process = subprocess.Popen([*command, "--workers", "2"], env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 300
        # Pass 2 has begun once its step folder holds committed shards (pass 1 commits none).
        while committed(output, STAGES[stage])[1] < 3:
            assert process.poll() is None, f"the run ended before {stage}'s pass 2"
            assert time.monotonic() < deadline, f"the run never reached {stage}'s pass 2"
            time.sleep(0.001)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    done, _ = committed(output, STAGES[stage])
    assert not done, f"{stage}'s pass 2 had already finished when the run was killed"

    result = Runner(make_config(corpus, output, NAME, SETTINGS), workers=2).run()
    got = {**files_of(result.dataset), "rejected.parquet": (result.report / "rejected.parquet").read_bytes()}
    assert got == expected
