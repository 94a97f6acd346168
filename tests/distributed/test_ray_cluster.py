"""The Ray executor on a real two-node cluster started on this machine (conftest.ray_cluster)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, make_config

from pipeline.execution.runner import Runner

from .conftest import BUCKET, config_copy, download, kill_driver_once, published_bytes, upload

pytestmark = pytest.mark.slow

# Small batches, so the run has enough shards for both nodes to get some.
SETS = ["run.batch_size=10"]


@pytest.fixture(scope="module")
def local_run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    result = Runner(make_config(corpus, tmp_path_factory.mktemp("local"), "ds", [*SETS, "run.workers=1"])).run()
    return published_bytes(result.dataset, result.report)


def _command(
    source: Path | str, output: Path | str, address: str, work: Path | str, config: Path = REPO / "pipeline.toml"
) -> list[str]:
    """`python -m pipeline run --executor ray` against the test cluster."""
    return [
        sys.executable,
        "-m",
        "pipeline",
        "run",
        "--config",
        str(config),
        "--input",
        str(source),
        "--output",
        str(output),
        "--name",
        "ds",
        "--executor",
        "ray",
        "--set",
        f'ray.address="{address}"',
        "--set",
        f'run.work_dir="{work}"',
        "--quiet",
        *[arg for s in SETS for arg in ("--set", s)],
    ]


def _nodes(run_json: Path) -> set[str]:
    execution = json.loads(run_json.read_text())["execution"]
    assert execution["executor"] == "ray"
    return {node for nodes in execution["shard_nodes"].values() for node in nodes}


def test_ray_run_from_s3_to_s3_publishes_the_local_bytes_with_both_nodes_working(
    ray_cluster: Any, s3_server: str, corpus: Path, local_run: dict[str, bytes], tmp_path: Path
):
    base = f"s3://{BUCKET}/on-ray"
    upload(corpus, f"{base}/raw")
    command = _command(f"{base}/raw", f"{base}/dist", ray_cluster.address, tmp_path / "work")
    # The driver inherits RAY_NODE_IP_ADDRESS=127.0.0.1 and the AWS_* variables from the fixtures.
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    fetched = download(f"{base}/dist", tmp_path / "fetched")
    assert published_bytes(fetched / "ds", fetched / "ds.report") == local_run
    # Map stages and global stages' prepare ran as tasks on both nodes.
    run_json = fetched / "ds.report" / "run.json"
    nodes = _nodes(run_json)
    tasks = {n for n in nodes if not n.endswith(" (driver)")}
    assert tasks == set(ray_cluster.node_ids), (tasks, ray_cluster.node_ids)
    # clean's and dedup_near's apply (pass 2) ran as tasks on both nodes too, not in the driver.
    shard_nodes = json.loads(run_json.read_text())["execution"]["shard_nodes"]
    for step in ("clean", "dedup_near"):
        # (A shard that came to the step empty is committed by the driver without a task.)
        on_nodes = {n for n in shard_nodes[step] if not n.endswith(" (driver)")}
        assert on_nodes == set(ray_cluster.node_ids), (step, shard_nodes[step])


def test_a_work_folder_in_the_bucket_is_read_and_written_by_the_tasks_on_both_nodes(
    ray_cluster: Any, s3_server: str, corpus: Path, local_run: dict[str, bytes], tmp_path: Path
):
    """The nodes share no disk here but the bucket: each task reads its input shard from the work
    folder in the bucket and commits its output shard there itself; the driver only reads markers."""
    base = f"s3://{BUCKET}/ray-work"
    upload(corpus, f"{base}/raw")
    work = f"{base}/workdir/ds"
    # Every step kept after success, so the test can read the markers the tasks wrote.
    config = config_copy(tmp_path)  # the dataset is built beside it, not in the repository
    command = [
        *_command(f"{base}/raw", f"{base}/dist", ray_cluster.address, work, config),
        *("--set", 'run.keep_work_steps="all"'),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    fetched = download(f"{base}/dist", tmp_path / "fetched")
    assert published_bytes(fetched / "ds", fetched / "ds.report") == local_run
    run = json.loads((fetched / "ds.report" / "run.json").read_text())
    assert run["execution"]["work_folder"] == work
    shard_nodes = run["execution"]["shard_nodes"]
    first_map_step = next(iter(shard_nodes))
    for step in (first_map_step, "clean", "dedup_near"):
        on_nodes = {n for n in shard_nodes[step] if not n.endswith(" (driver)")}
        assert on_nodes == set(ray_cluster.node_ids), (step, shard_nodes[step])
    # The markers in the bucket were written by the tasks, each naming its node.
    import fsspec

    fs, root = fsspec.core.url_to_fs(work)
    fs.invalidate_cache()
    markers = [json.loads(fs.cat(p)) for p in fs.glob(f"{root}/*-clean-*/0000*.json")]
    assert markers and {m["node"] for m in markers if not m["node"].endswith(" (driver)")} == set(ray_cluster.node_ids)


def test_losing_a_worker_node_mid_run_still_publishes_the_same_bytes(
    ray_cluster: Any, corpus: Path, local_run: dict[str, bytes], tmp_path: Path
):
    """The second node is removed (its processes killed) once the first map step has committed a
    shard, while that step's other tasks are in flight on both nodes."""
    work = tmp_path / "work"
    command = [
        *_command(corpus, tmp_path / "out", ray_cluster.address, work),
        # More, smaller shards than the other test's: tasks are still in flight when the node goes.
        "--set",
        "run.batch_size=4",
    ]
    driver = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = False
    try:
        while driver.poll() is None and not killed:
            if any(work.glob("*/000000.json")) and len([p for p in work.glob("*") if p.is_dir()]) > 1:
                ray_cluster.command("remove-worker")
                killed = True
            else:
                time.sleep(0.05)
        _, stderr = driver.communicate(timeout=600)
    finally:
        if driver.poll() is None:
            driver.kill()
        # Later tests get a two-node cluster again.
        ray_cluster.command("add-worker")
    assert driver.returncode == 0, stderr[-3000:]
    assert killed, "the run finished before the node could be removed"
    assert published_bytes(tmp_path / "out" / "ds", tmp_path / "out" / "ds.report") == local_run


def test_a_ray_driver_killed_mid_run_resumes_from_the_work_folder_in_the_bucket(
    ray_cluster: Any, s3_server: str, corpus: Path, local_run: dict[str, bytes], tmp_path: Path
):
    """SIGKILL the driver once the first map step has committed shards in the bucket; the same
    command again resumes: the committed shards are not redone, and the bytes are the local run's."""
    import fsspec

    work = f"s3://{BUCKET}/ray-resume/workdir/ds"
    command = [*_command(corpus, tmp_path / "out", ray_cluster.address, work), "--set", 'run.keep_work_steps="all"']
    fs, root = fsspec.core.url_to_fs(work)

    def committed() -> dict[str, str]:
        fs.invalidate_cache()
        return {p: fs.info(p)["ETag"] for p in fs.glob(f"{root}/01-*/0000*.json")}

    before = kill_driver_once(command, tmp_path / "driver.log", committed)

    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert published_bytes(tmp_path / "out" / "ds", tmp_path / "out" / "ds.report") == local_run
    after = committed()
    assert {p: after[p] for p in before} == before
