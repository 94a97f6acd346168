"""Object storage: input, output and publishing through a real S3 API (moto's server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, REPO, make_config, write

from pipeline import storage
from pipeline.errors import EnvironmentFailure, InputError
from pipeline.execution.executor import open_executor
from pipeline.execution.plan import build_plan
from pipeline.execution.runner import Runner

from .conftest import BUCKET, download, published_bytes, upload


def test_s3_input_and_output_publish_the_same_bytes_as_a_local_run(s3_server: str, corpus: Path, tmp_path: Path):
    sets = ["run.batch_size=10", "run.workers=1"]
    local = Runner(make_config(corpus, tmp_path / "local", "ds", sets)).run()

    base = f"s3://{BUCKET}/same-bytes"
    upload(corpus, f"{base}/raw")
    config = make_config(f"{base}/raw", f"{base}/dist", "ds", [*sets, f'run.work_dir="{tmp_path / "work"}"'])
    remote = Runner(config).run()
    assert remote.published_url == f"{base}/dist/ds"
    assert remote.records_read == local.records_read and remote.records_rejected == local.records_rejected > 0

    fetched = download(f"{base}/dist", tmp_path / "fetched")
    expected = published_bytes(local.dataset, local.report)
    assert set(expected) >= {"rejected.parquet", "removed_lines.parquet"}
    assert published_bytes(fetched / "ds", fetched / "ds.report") == expected
    # The card names the inputs by their path under the input root, wherever that root is.
    assert (fetched / "ds" / "README.md").read_bytes() == (local.dataset / "README.md").read_bytes()
    run = json.loads((fetched / "ds.report" / "run.json").read_text())
    assert run["input_root"] == f"{base}/raw"
    # Nothing temporary is left, and the manifest lists every published file with its checksum.
    assert not [p for p in fetched.iterdir() if p.name.startswith(".")]
    manifest = json.loads((fetched / "ds.manifest.json").read_text())
    files = sorted(p.relative_to(fetched / "ds").as_posix() for p in (fetched / "ds").rglob("*") if p.is_file())
    assert sorted(manifest["files"]) == files
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((fetched / "ds" / rel).read_bytes()).hexdigest() == digest

    # A rerun reuses the copied input and every step, and publishes the same bytes again.
    again = Runner(config).run()
    assert again.records_published == remote.records_published
    refetched = download(f"{base}/dist", tmp_path / "refetched")
    assert published_bytes(refetched / "ds", refetched / "ds.report") == expected


def test_publishing_again_replaces_the_previous_version_file_for_file(s3_server: str, tmp_path: Path):
    url = f"s3://{BUCKET}/replace"
    first = tmp_path / "v1"
    write(first / "data" / "train-00000-of-00002.parquet", b"old 0")
    write(first / "data" / "train-00001-of-00002.parquet", b"old 1")
    write(first / "README.md", "old card")
    storage.publish_tree({"ds": first}, url)
    second = tmp_path / "v2"
    write(second / "data" / "train-00000-of-00001.parquet", b"new")
    write(second / "README.md", "new card")
    storage.publish_tree({"ds": second}, url)

    fetched = download(url, tmp_path / "fetched")
    assert sorted(p.relative_to(fetched).as_posix() for p in fetched.rglob("*") if p.is_file()) == [
        "ds.manifest.json",
        "ds/README.md",
        "ds/data/train-00000-of-00001.parquet",
    ]
    assert (fetched / "ds" / "README.md").read_text() == "new card"
    assert sorted(json.loads((fetched / "ds.manifest.json").read_text())["files"]) == [
        "README.md",
        "data/train-00000-of-00001.parquet",
    ]


def test_a_missing_input_url_is_one_clear_input_error(s3_server: str, tmp_path: Path):
    config = make_config(f"s3://{BUCKET}/no-such-folder", tmp_path / "out", "ds")
    with pytest.raises(InputError, match=r"s3://pipeline-data/no-such-folder does not exist"):
        Runner(config).run()


def test_a_protocol_without_its_filesystem_package_names_the_extra():
    pytest.importorskip("fsspec")
    try:
        import gcsfs  # noqa: F401

        pytest.skip("gcsfs is installed")
    except ImportError:
        pass
    with pytest.raises(EnvironmentFailure, match=r"pipeline-datasets\[gcs\]"):
        storage.open_url("gs://bucket/raw")


def test_local_paths_and_file_urls_stay_local():
    assert storage.local_path("raw") == Path("raw")
    assert storage.local_path("file:///data/raw") == Path("/data/raw")
    assert storage.local_path("s3://bucket/raw") is None
    assert not storage.is_url("C:/data") and storage.is_url("hf://datasets/user/name")


def test_the_lean_install_runs_without_ray_or_cloud_filesystems(tmp_path: Path):
    """Ray and the cloud filesystems are extras: a local run must not import them."""
    script = (
        "import sys\n"
        "for name in ('ray', 's3fs', 'gcsfs', 'adlfs', 'moto'):\n"
        "    sys.modules[name] = None  # importing it now raises ImportError\n"
        "from pipeline.cli import main\n"
        f"sys.exit(main(['run', '--input', {str(FIXTURES / 'e2e')!r}, '--output', {str(tmp_path)!r}, '--quiet']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    # With --input and no --name, the dataset is named after the input folder.
    assert list((tmp_path / "e2e" / "data").glob("*.parquet"))


def test_asking_for_ray_without_it_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "ray", None)
    config = make_config(tmp_path, tmp_path / "out", "ds", ['run.executor="ray"'])
    with pytest.raises(EnvironmentFailure, match=r"pip install 'pipeline-datasets\[ray\]'"):
        open_executor(config, build_plan(config), 1)
