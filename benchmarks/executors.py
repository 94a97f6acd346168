"""The Ray executor's cost on one machine: `local` vs `ray`, and a Ray cluster of 1 vs 2 nodes.

    python benchmarks/corpus.py --docs 4000 --out /tmp/bench/4k --formats jsonl   # needs PIPELINE_EVALDATA data
    python benchmarks/executors.py /tmp/bench/4k/jsonl --cpus 2

Runs, each `python -m pipeline run --fresh --quiet` in a subprocess on the same input and config:

1. local executor, `--workers CPUS` (a process pool);
2. ray executor, `ray.address = "local"` (Ray started for the run, CPUS CPUs);
3. a Ray cluster started here (`ray.cluster_utils.Cluster`, every process on 127.0.0.1) with one
   node of CPUS/2 CPUs, then the same cluster with a second node of CPUS/2 CPUs;
4. with `--s3-work` (needs moto[server], s3fs, universal-pathlib): an S3 API served here on
   127.0.0.1 (moto) holds the work folder (`run.work_dir = "s3://..."`), for the local executor and
   for the 2-node cluster, whose tasks then read and write their shards in the bucket.

Reported: wall seconds (driver start to exit, including Ray's connection but not the cluster's
start-up for 3.), and whether the published data files and ledger are byte-identical to run 1's.
No CPU time: neither Ray's workers (children of each node's raylet) nor the local pool's workers
(children of multiprocessing's fork server, which outlives the driver) are reaped by the driver, so
the CPU time of the driver and its children would leave most of the work out.
Two nodes on one machine share its cores: the 1-vs-2-node figure shows the scheduling overhead
and that both nodes take work, not a speed-up. Timings on a shared machine are noisy; nothing here
asserts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _digest(root: Path, name: str) -> str:
    files = [*sorted((root / name / "data").glob("*.parquet")), root / f"{name}.report" / "rejected.parquet"]
    removed = root / f"{name}.report" / "removed_lines.parquet"
    if removed.exists():
        files.append(removed)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _run(corpus: Path, out: Path, extra: list[str], env: dict[str, str]) -> tuple[float, str, dict]:
    command = [
        sys.executable, "-m", "pipeline", "run", "--config", str(REPO / "pipeline.toml"), "--input", str(corpus),
        "--output", str(out), "--name", "bench", "--fresh", "--quiet", *extra,
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env)
    seconds = time.perf_counter() - start
    run = json.loads((out / "bench.report" / "run.json").read_text())
    nodes: dict[str, int] = {}
    for shard_nodes in run["execution"]["shard_nodes"].values():
        for node in shard_nodes:
            if not node.endswith("(driver)"):
                nodes[node[:8]] = nodes.get(node[:8], 0) + 1
    facts = {"records": run["records"]["read"], "tasks_per_node": nodes}
    return seconds, _digest(out, "bench"), facts


def _s3_work_folder() -> tuple[object, str]:
    """An S3 API on a free loopback port (moto), with the standard AWS variables pointing at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server._server.server_port}",
        }
    )
    boto3.client("s3").create_bucket(Bucket="bench-work")
    return server, "s3://bench-work"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="input folder (e.g. the jsonl/ folder benchmarks/corpus.py wrote)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs for each configuration (split in two for 2 nodes)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--s3-work", action="store_true", help="also runs with the work folder in a local S3 (moto)")
    args = parser.parse_args()
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    os.environ["RAY_NODE_IP_ADDRESS"] = "127.0.0.1"
    server, bucket = _s3_work_folder() if args.s3_work else (None, "")
    # After the S3 server: the drivers and the cluster's nodes read its AWS_* variables.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    common = ["--set", f"run.batch_size={args.batch_size}"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-executors-") as tmp:
        out = Path(tmp)
        rows.append(
            (
                f"local, {args.cpus} workers",
                *_run(args.corpus, out / "a", [*common, "--workers", str(args.cpus)], env),
            )
        )
        ray_local = [*common, "--executor", "ray", "--set", 'ray.address="local"', "--workers", str(args.cpus)]
        rows.append((f"ray, local instance, {args.cpus} CPUs", *_run(args.corpus, out / "b", ray_local, env)))

        from ray.cluster_utils import Cluster

        half = max(1, args.cpus // 2)
        node = {"node_ip_address": "127.0.0.1", "num_cpus": half}
        cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
        try:
            on_cluster = [*common, "--executor", "ray", "--set", f'ray.address="{cluster.address}"']
            rows.append((f"ray cluster, 1 node x {half} CPU", *_run(args.corpus, out / "c", on_cluster, env)))
            cluster.add_node(**node)
            cluster.wait_for_nodes()
            rows.append((f"ray cluster, 2 nodes x {half} CPU", *_run(args.corpus, out / "d", on_cluster, env)))
            if args.s3_work:
                in_s3 = ["--set", f'run.work_dir="{bucket}/cluster/bench"']
                rows.append(("  same, work folder in S3", *_run(args.corpus, out / "f", [*on_cluster, *in_s3], env)))
        finally:
            cluster.shutdown()
        if args.s3_work:
            in_s3 = ["--set", f'run.work_dir="{bucket}/local/bench"', "--workers", str(args.cpus)]
            rows.append(
                (f"local, {args.cpus} workers, work in S3", *_run(args.corpus, out / "e", [*common, *in_s3], env))
            )
            server.stop()  # type: ignore[attr-defined]
    reference = rows[0][2]
    header = f"{'configuration':<34} {'records':>8} {'wall s':>7}  same bytes as local  tasks per node"
    print(header)
    for name, seconds, digest, facts in rows:
        same = "yes" if digest == reference else "NO"
        print(f"{name:<34} {facts['records']:>8} {seconds:>7.1f}  {same:<19}  {facts['tasks_per_node'] or '-'}")


if __name__ == "__main__":
    main()
