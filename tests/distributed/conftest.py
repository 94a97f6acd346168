"""Servers the distributed tests talk to, started here on 127.0.0.1: an S3 API (moto's server mode)
and a two-node Ray cluster (Ray's own `ray.cluster_utils.Cluster`: a head and a second node, each with
its own CPU). Both are real: s3fs speaks HTTP to moto, the pipeline's driver connects to the GCS.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, REPO, english_corpus, write

BUCKET = "pipeline-data"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """An S3 endpoint on a free loopback port, with the standard AWS variables pointing at it."""
    pytest.importorskip("s3fs")
    boto3 = pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"
    with pytest.MonkeyPatch.context() as patch:
        # Credentials are read from the standard environment, as on a real deployment.
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mixed input: the end-to-end fixture folder (rejections, copies, encodings) plus 150 English
    documents with some exact duplicates, so every ledger reason and dedup path has rows."""
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copytree(FIXTURES / "e2e", folder, dirs_exist_ok=True)
    english_corpus(folder / "english", 150)
    docs = (folder / "english" / "docs.jsonl").read_text().splitlines()
    write(folder / "english" / "again.jsonl", "\n".join(d.replace('"doc-', '"again-') for d in docs[:20]) + "\n")
    return folder


def config_copy(folder: Path) -> Path:
    """The repository's config (and the schema it names) copied into `folder`.

    With the output and the work folder both at URLs, the dataset is built beside the config file
    (`.pipeline-work/NAME`): a copy in a test's folder keeps that out of the repository.
    """
    shutil.copytree(REPO / "schemas", folder / "schemas")
    shutil.copy(REPO / "pipeline.toml", folder / "pipeline.toml")
    return folder / "pipeline.toml"


def upload(folder: Path, url: str) -> None:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            fs.put_file(str(path), f"{root}/{path.relative_to(folder).as_posix()}")


def download(url: str, folder: Path) -> Path:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()
    for path in fs.find(root):
        target = folder / path[len(root) + 1 :]
        target.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(path, str(target))
    return folder


# What must be byte-identical between two runs of the same input and config.
COMPARED = ("rejected.parquet", "removed_lines.parquet")


def published_bytes(dataset: Path, report: Path) -> dict[str, bytes]:
    files = {f"data/{p.name}": p.read_bytes() for p in sorted((dataset / "data").glob("*.parquet"))}
    files.update({name: (report / name).read_bytes() for name in COMPARED if (report / name).exists()})
    return files


class RayCluster:
    """Drives ray_cluster_process.py: the cluster's address, its node ids, and node removal."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        first = self._answer()
        self.address: str = first["address"]
        self.node_ids: list[str] = first["nodes"]

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the Ray cluster process ended; see its output above")
        return json.loads(line)

    def command(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        self.node_ids = self._answer()["nodes"]


@pytest.fixture(scope="session")
def ray_cluster(s3_server: str) -> Iterator[RayCluster]:
    """A head node and a second node, 1 CPU each, every process on 127.0.0.1, in a child process.

    Started after the S3 server: its nodes' workers read the AWS_* variables from their environment,
    as on a real cluster, when tasks read and write a work folder in the bucket."""
    pytest.importorskip("ray")
    with pytest.MonkeyPatch.context() as patch:
        # Ray otherwise advertises (and resolves "127.0.0.1" to) the machine's network address; the
        # pipeline drivers the tests start inherit these too.
        patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        patch.setenv("RAY_NODE_IP_ADDRESS", "127.0.0.1")
        script = Path(__file__).with_name("ray_cluster_process.py")
        process = subprocess.Popen(
            [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            yield RayCluster(process)
        finally:
            if process.poll() is None:
                assert process.stdin is not None
                process.stdin.write("quit\n")
                process.stdin.close()
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    process.kill()


def kill_driver_once(
    command: list[str], log_path: Path, snapshot: Callable[[], dict[str, Any]], cwd: Path | None = None
) -> dict[str, Any]:
    """Run the driver `command`, SIGKILL it (nothing cleans up) as soon as `snapshot()` shows two
    committed shards, and return that snapshot. Output goes to a file, not a pipe: the killed
    driver's workers hold its descriptors for the second they take to notice, and a pipe read would
    wait for them while the driver is not yet reaped."""
    import time

    log = log_path.open("wb")
    driver = subprocess.Popen(command, stdout=log, stderr=log, cwd=cwd)
    seen: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 300
        while driver.poll() is None and time.monotonic() < deadline:
            seen = snapshot()
            if len(seen) >= 2:
                driver.kill()
                break
            time.sleep(0.1)
    finally:
        if driver.poll() is None:
            driver.kill()
        driver.wait()
        log.close()
    assert driver.returncode == -9, "the run ended before it could be killed: " + log_path.read_text()
    return seen
