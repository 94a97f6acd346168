"""The Ray executor on a real two-node cluster started on this machine (conftest.ray_cluster)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, make_config

from pipeline.execution.progress import Progress, StepProgress
from pipeline.execution.runner import Runner

from .conftest import BUCKET, download, published_bytes, upload

pytestmark = pytest.mark.slow

# Small batches, so the run has enough shards for both nodes to get some.
SETS = ["run.batch_size=10"]


@pytest.fixture(scope="module")
def local_run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    result = Runner(make_config(corpus, tmp_path_factory.mktemp("local"), "ds", [*SETS, "run.workers=1"])).run()
    return published_bytes(result.dataset, result.report)


def _nodes(run_json: Path) -> set[str]:
    execution = json.loads(run_json.read_text())["execution"]
    assert execution["executor"] == "ray"
    return {node for nodes in execution["shard_nodes"].values() for node in nodes}


def test_ray_run_from_s3_to_s3_publishes_the_local_bytes_with_both_nodes_working(
    ray_cluster: Any, s3_server: str, corpus: Path, local_run: dict[str, bytes], tmp_path: Path
):
    base = f"s3://{BUCKET}/on-ray"
    upload(corpus, f"{base}/raw")
    command = [
        sys.executable,
        "-m",
        "pipeline",
        "run",
        "--config",
        str(REPO / "pipeline.toml"),
        "--input",
        f"{base}/raw",
        "--output",
        f"{base}/dist",
        "--name",
        "ds",
        "--executor",
        "ray",
        "--set",
        f'ray.address="{ray_cluster.address}"',
        "--set",
        f'run.work_dir="{tmp_path / "work"}"',
        "--quiet",
        *[arg for s in SETS for arg in ("--set", s)],
    ]
    # The driver inherits RAY_NODE_IP_ADDRESS=127.0.0.1 and the AWS_* variables from the fixtures.
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    fetched = download(f"{base}/dist", tmp_path / "fetched")
    assert published_bytes(fetched / "ds", fetched / "ds.report") == local_run
    # Map stages and global stages' prepare ran as tasks on both nodes; apply in the driver.
    nodes = _nodes(fetched / "ds.report" / "run.json")
    tasks = {n for n in nodes if not n.endswith(" (driver)")}
    cluster = {node.node_id for node in [ray_cluster.head_node, *ray_cluster.worker_nodes]}
    assert tasks == cluster, (tasks, cluster)


class _KillWorkerNode(Progress):
    """Removes the cluster's second node as soon as the first shard of the first map step is done,
    while the other shards' tasks are in flight on both nodes."""

    def __init__(self, cluster: Any) -> None:
        super().__init__("quiet")
        self.cluster = cluster
        self.killed = False

    def step(self, name: str, total: int | None) -> StepProgress:
        step = super().step(name, total)
        if name == "ingest" or self.killed:
            return step
        update = step.update

        def update_then_kill(records: int, text_bytes: int, rejected: int) -> None:
            update(records, text_bytes, rejected)
            if not self.killed:
                self.killed = True
                (worker,) = self.cluster.worker_nodes
                self.cluster.remove_node(worker, allow_graceful=False)

        step.update = update_then_kill  # type: ignore[method-assign]
        return step


def test_losing_a_worker_node_mid_run_still_publishes_the_same_bytes(
    ray_cluster: Any, corpus: Path, local_run: dict[str, bytes], tmp_path: Path
):
    import ray

    ray.init(address=ray_cluster.address, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        sets = [*SETS, 'run.executor="ray"', f'ray.address="{ray_cluster.address}"']
        progress = _KillWorkerNode(ray_cluster)
        result = Runner(make_config(corpus, tmp_path / "out", "ds", sets), progress=progress).run()
    finally:
        ray.shutdown()
        # Later tests get a two-node cluster again.
        ray_cluster.add_node(node_ip_address="127.0.0.1", num_cpus=1)
    assert progress.killed
    assert published_bytes(result.dataset, result.report) == local_run
