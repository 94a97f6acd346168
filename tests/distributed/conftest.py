"""Servers the distributed tests talk to, started here on 127.0.0.1: an S3 API (moto's server mode)
and a two-node Ray cluster (Ray's own `ray.cluster_utils.Cluster`: a head and a second node, each with
its own CPU). Both are real: s3fs speaks HTTP to moto, the pipeline's driver connects to the GCS.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, english_corpus, write

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


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """A head node and a second node, 1 CPU each, every process on 127.0.0.1."""
    pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    with pytest.MonkeyPatch.context() as patch:
        # Ray otherwise advertises (and resolves "127.0.0.1" to) the machine's network address.
        patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        patch.setenv("RAY_NODE_IP_ADDRESS", "127.0.0.1")
        loopback = {"node_ip_address": "127.0.0.1", "num_cpus": 1}
        cluster = Cluster(initialize_head=True, head_node_args={**loopback, "include_dashboard": False})
        cluster.add_node(**loopback)
        cluster.wait_for_nodes()
        yield cluster
        cluster.shutdown()
