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
from pipeline.config import load_config
from pipeline.errors import EnvironmentFailure, InputError
from pipeline.execution.executor import open_executor
from pipeline.execution.plan import build_plan
from pipeline.execution.runner import Runner

from .conftest import BUCKET, config_copy, download, kill_driver_once, published_bytes, upload


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
    # Beside the dataset, only the version prefixes; the manifest names the one version there and
    # lists every published file with its checksum, in the folder and under the version prefix.
    assert sorted(p.name for p in fetched.iterdir() if p.name.startswith(".")) == [
        ".ds.report.versions",
        ".ds.versions",
    ]
    manifest = json.loads((fetched / "ds.manifest.json").read_text())
    assert [p.name for p in (fetched / ".ds.versions").iterdir()] == [manifest["version"]]
    files = sorted(p.relative_to(fetched / "ds").as_posix() for p in (fetched / "ds").rglob("*") if p.is_file())
    assert sorted(manifest["files"]) == files
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((fetched / "ds" / rel).read_bytes()).hexdigest() == digest
        assert hashlib.sha256((fetched / manifest["prefix"] / rel).read_bytes()).hexdigest() == digest

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
    v1 = storage.published_files(url, "ds")
    second = tmp_path / "v2"
    write(second / "data" / "train-00000-of-00001.parquet", b"new")
    write(second / "README.md", "new card")
    storage.publish_tree({"ds": second}, url)

    fetched = download(url, tmp_path / "fetched")
    assert sorted(
        p.relative_to(fetched).as_posix() for p in fetched.rglob("*") if p.is_file() and ".ds.versions" not in p.parts
    ) == [
        "ds.manifest.json",
        "ds/README.md",
        "ds/data/train-00000-of-00001.parquet",
    ]
    assert (fetched / "ds" / "README.md").read_text() == "new card"
    assert sorted(json.loads((fetched / "ds.manifest.json").read_text())["files"]) == [
        "README.md",
        "data/train-00000-of-00001.parquet",
    ]
    # Through the manifest: exactly the new version's files, under a prefix no later upload changes;
    # the previous version stays readable until the next publish, and then goes.
    v2 = storage.published_files(url, "ds")
    assert sorted(v2) == ["README.md", "data/train-00000-of-00001.parquet"]
    fs, _ = storage.open_url(url)
    assert fs.cat_file(v2["README.md"]) == b"new card"
    assert fs.cat_file(v1["README.md"]) == b"old card"
    storage.publish_tree({"ds": second}, url)
    fs.invalidate_cache()
    assert not fs.exists(v1["README.md"]) and fs.cat_file(v2["README.md"]) == b"new card"
    assert len(fs.ls(f"{BUCKET}/replace/.ds.versions")) == 2


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
        "for name in ('ray', 's3fs', 'gcsfs', 'adlfs', 'moto', 'upath'):\n"
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


# -- the work folder at a URL ----------------------------------------------------------------------


def _s3_objects(prefix: str) -> dict[str, tuple[str, str]]:
    """Every object under an s3:// prefix: key -> (ETag, LastModified), as the S3 API lists them."""
    import boto3

    bucket, _, key = prefix[len("s3://") :].partition("/")
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
    return {o["Key"]: (o["ETag"], str(o["LastModified"])) for page in pages for o in page.get("Contents", [])}


def test_a_work_folder_in_the_bucket_gives_the_local_bytes_with_worker_processes(
    s3_server: str, corpus: Path, tmp_path: Path
):
    """Two worker processes read their input shards from the bucket and write their output shards
    there themselves; the driver reads the markers back. Same bytes as a run with a local folder."""
    sets = ["run.batch_size=10"]
    local = Runner(make_config(corpus, tmp_path / "local", "ds", [*sets, "run.workers=1"])).run()
    work = f"s3://{BUCKET}/work-local/ds"
    remote = Runner(make_config(corpus, tmp_path / "out", "ds", [*sets, f'run.work_dir="{work}"']), workers=2).run()
    assert published_bytes(remote.dataset, remote.report) == published_bytes(local.dataset, local.report)
    assert str(remote.work_dir) == work and remote.work_bytes > 0
    keys = _s3_objects(work)
    # Every step's shards and their markers are in the bucket; nothing temporary is left.
    assert any(k.endswith("/000000.kept.arrow") for k in keys) and any(k.endswith("/DONE.json") for k in keys)
    assert not [k for k in keys if ".partial" in k or "decided" in k]
    run = json.loads((remote.report / "run.json").read_text())
    assert run["execution"]["work_folder"] == work


def test_a_driver_killed_mid_run_resumes_from_a_work_folder_in_the_bucket(s3_server: str, corpus: Path, tmp_path: Path):
    work = f"s3://{BUCKET}/work-resume/ds"
    sets = ["run.batch_size=4", f'run.work_dir="{work}"', 'run.keep_work_steps="all"']
    command = [
        *("python", "-m", "pipeline", "run", "--config", str(REPO / "pipeline.toml")),
        *("--input", str(corpus), "--output", str(tmp_path / "out"), "--name", "ds", "--workers", "2", "--quiet"),
        *[arg for s in sets for arg in ("--set", s)],
    ]
    command[0] = sys.executable
    # Killed once the first map step has committed a few shards in the bucket.
    committed = kill_driver_once(
        command,
        tmp_path / "driver.log",
        lambda: {k: v for k, v in _s3_objects(work).items() if "/01-" in k and k.endswith("0.json")},
        cwd=REPO,
    )

    resumed = Runner(make_config(corpus, tmp_path / "out", "ds", sets), workers=2).run()
    local = Runner(make_config(corpus, tmp_path / "local", "ds", ["run.batch_size=4", "run.workers=1"])).run()
    assert published_bytes(resumed.dataset, resumed.report) == published_bytes(local.dataset, local.report)
    # The shards committed before the kill were not redone: their markers are the same objects.
    after = _s3_objects(work)
    assert {k: after[k] for k in committed} == committed


def test_a_memory_url_work_folder_input_and_output_go_through_the_same_code(corpus: Path, tmp_path: Path):
    """fsspec's in-memory filesystem stands in for a store that cannot be reached offline (gs://,
    hf://, az://): URL input staging, a URL work folder and URL publishing, in one process."""
    import fsspec

    sets = ["run.batch_size=10", "run.workers=1"]
    local = Runner(make_config(corpus, tmp_path / "local", "ds", sets)).run()
    upload(corpus, "memory://storage-test/raw")
    config_file = config_copy(tmp_path)  # the dataset is built beside it, not in the repository
    sets = [*sets, 'run.input="memory://storage-test/raw"', 'run.output="memory://storage-test/dist"', 'run.name="ds"']
    config = load_config(config_file, [*sets, 'run.work_dir="memory://storage-test/workdir/ds"'])

    try:
        remote = Runner(config).run()
        assert remote.published_url == "memory://storage-test/dist/ds"
        fetched = download("memory://storage-test/dist", tmp_path / "fetched")
        assert published_bytes(fetched / "ds", fetched / "ds.report") == published_bytes(local.dataset, local.report)
        assert fsspec.filesystem("memory").exists("/storage-test/workdir/ds")
        assert (tmp_path / ".pipeline-work" / "ds" / ".ds.input").is_dir()
    finally:
        fsspec.filesystem("memory").rm("/storage-test", recursive=True)


def test_an_hf_url_offline_is_one_clear_input_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No network here: with the Hub's offline switch, an hf:// input fails with one line, exit 3."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pipeline", "run", "--input", "hf://datasets/someone/absent"),
            *("--output", str(tmp_path / "out"), "--quiet"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 3, done.stderr
    assert "input hf://datasets/someone/absent" in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_store_is_one_clear_input_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """An S3 endpoint where nothing listens (a closed loopback port): the client's own error type
    (botocore's) becomes one line and exit 3, not an 'unexpected error'. In a child process: this
    one's s3fs instances are cached with the test server's endpoint."""
    pytest.importorskip("s3fs")
    for name, value in {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--input", "s3://nowhere/raw", "--output", str(tmp_path), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 3, done.stderr
    assert "input s3://nowhere/raw: cannot list it:" in done.stderr and "check the network" in done.stderr


def test_a_url_work_folder_without_universal_pathlib_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setitem(sys.modules, "upath", None)
    config = make_config(FIXTURES / "e2e", tmp_path / "out", "ds", ['run.work_dir="memory://nowhere/work"'])
    with pytest.raises(
        EnvironmentFailure, match=r"universal-pathlib; install it with: pip install 'pipeline-datasets\[s3\]'"
    ):
        Runner(config)
