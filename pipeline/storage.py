"""Storage every node sees: inputs and outputs as URLs (s3://, gs://, hf://, file://, ...) via fsspec.

The pipeline's readers, work folder and dataset writer work on local files. Rather than teach every
reader a remote filesystem, a remote input is copied once into the work folder (`stage_input`) and
read from there, and a published dataset is written locally, then uploaded (`publish_tree`):

- input: each remote file is streamed into `<work>/input/<relative path>`; a file already there with
  the size and checksum/mtime the store reports is not fetched again (so a resumed run does not
  download twice). Cost: local disk equal to the input's size on the driver.
- output: files are uploaded under a new version prefix `<output>/.<name>.versions/<version>/`,
  then copied to `<output>/<name>/` (data files first, the card `README.md` last), then files of a
  previous version that the new one does not have are deleted there, and last the manifest
  `<output>/<name>.manifest.json` is replaced: it names the version prefix and lists every file with
  its sha256. A reader that goes through the manifest (`published_files`) switches versions in
  one step; a reader of `<output>/<name>/` can see a mix during the copy. See
  docs/guide/distributed.md for exactly what a reader can observe.

Credentials come from each filesystem's standard environment (for S3: AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_PROFILE, ...). The filesystems are extras: fsspec comes
with `datasets`, the protocol packages (s3fs, gcsfs, ...) are installed with `pipeline-datasets[s3]` etc.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import secrets
import time
from pathlib import Path
from typing import Any

from pipeline.errors import EnvironmentFailure, InputError, UsageError

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
# The extra that installs each protocol's filesystem, for the error message when it is missing.
_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure"}
# Files of a dataset written last, so a reader that sees the new card sees the new data.
_LAST = ("README.md",)
_MANIFEST = "{name}.manifest.json"
_CHUNK = 8 * 1024 * 1024


def is_url(value: str) -> bool:
    """True for `scheme://...` (a local path never looks like that)."""
    return bool(_URL.match(value))


def local_path(value: str) -> Path | None:
    """The local path a `file://` URL or plain path names; None for a remote URL."""
    if value.startswith("file://"):
        return Path(value[len("file://") :])
    return None if is_url(value) else Path(value)


def open_url(url: str) -> tuple[Any, str]:
    """(filesystem, path inside it) for `url`; one clear error when the protocol's package is missing."""
    import fsspec

    protocol = url.split("://", 1)[0].lower()
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError:
        extra = _EXTRAS.get(protocol)
        hint = (
            f"pip install 'pipeline-datasets[{extra}]'" if extra else f"install the fsspec filesystem for {protocol}://"
        )
        raise EnvironmentFailure(f"{url}: no filesystem for {protocol}:// is installed; {hint}") from None
    except ValueError as exc:
        raise UsageError(f"{url}: not a URL fsspec can open ({exc})") from None
    return fs, path.rstrip("/")


def work_location(url: str) -> Any:
    """The work folder at a URL, as a `upath.UPath` (a pathlib-like path on fsspec storage).

    universal-pathlib comes with the storage extras; it is imported only for a URL work folder.
    """
    open_url(url)  # the one-line error when the protocol's filesystem is missing or the URL is bad
    try:
        from upath import UPath
    except ImportError:
        raise EnvironmentFailure(
            f"run.work_dir {url}: a work folder at a URL needs universal-pathlib; "
            "install it with: pip install 'pipeline-datasets[s3]' (or [gcs], [azure])"
        ) from None
    return UPath(url.rstrip("/"))


def _describe(exc: BaseException) -> str:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _fingerprint(info: dict[str, Any]) -> str:
    """What the store says identifies a file's content (etag, checksum, mtime), as a string."""
    for key in ("ETag", "etag", "md5Hash", "crc32c", "sha256", "checksum", "mtime", "LastModified", "last_commit"):
        if info.get(key) is not None:
            return f"{key}={info[key]}"
    return ""


def stage_input(url: str, folder: Path) -> Path:
    """Copy the file or folder at `url` into `folder` (kept between runs); return the local root to read.

    Hidden files and folders (a name starting with a dot) are skipped, as for a local input.
    """
    fs, root = open_url(url)
    try:
        if not fs.exists(root):
            raise InputError(f"input {url} does not exist; check the URL and the credentials in the environment")
        single = fs.isfile(root)
        listing = {root: fs.info(root)} if single else fs.find(root, detail=True)
    except InputError:
        raise
    # A remote store fails in its client's own exception types (httpx, botocore, aiohttp, ...).
    except Exception as exc:
        raise InputError(
            f"input {url}: cannot list it: {_describe(exc)}; check the network, the URL and the credentials in "
            "the environment"
        ) from None
    folder.mkdir(parents=True, exist_ok=True)
    index_path = folder.parent / f"{folder.name}.index.json"
    index: dict[str, Any] = json.loads(index_path.read_text()) if index_path.exists() else {}
    wanted = set()
    for path, info in sorted(listing.items()):
        if info.get("type") == "directory":
            continue
        relative = posixpath.basename(path) if single else posixpath.relpath(path, root)
        if any(part.startswith(".") for part in relative.split("/")):
            continue
        wanted.add(relative)
        target = folder / relative
        stamp = {"size": int(info.get("size") or 0), "fingerprint": _fingerprint(info)}
        if target.is_file() and index.get(relative) == stamp and target.stat().st_size == stamp["size"]:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        try:
            with fs.open(path, "rb") as source, partial.open("wb") as sink:
                while chunk := source.read(_CHUNK):
                    sink.write(chunk)
        except Exception as exc:  # the client's own types, as above
            partial.unlink(missing_ok=True)
            raise InputError(f"input {url}: cannot read {relative}: {_describe(exc)}") from None
        partial.replace(target)
        index[relative] = stamp
        index_path.write_text(json.dumps(index, sort_keys=True))
    # A file removed from the bucket is removed from the copy, so the input is exactly the bucket's.
    for local in sorted(folder.rglob("*")):
        if local.is_file() and local.relative_to(folder).as_posix() not in wanted:
            local.unlink()
    index = {k: v for k, v in index.items() if k in wanted}
    index_path.write_text(json.dumps(index, sort_keys=True))
    return folder / posixpath.basename(root) if single else folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _versions(root: str, name: str) -> str:
    return posixpath.join(root, f".{name}.versions")


def published_files(url: str, name: str) -> dict[str, str]:
    """The files of the version `<url>/<name>.manifest.json` names: relative path -> URL.

    The way to read a published dataset without ever seeing two versions mixed: the manifest is
    one object, replaced in one write, and the version prefix it names is never changed after.
    """
    fs, root = open_url(url)
    manifest = json.loads(fs.cat_file(posixpath.join(root, _MANIFEST.format(name=name))))
    base = f"{url.rstrip('/')}/{manifest['prefix']}"
    return {rel: f"{base}/{rel}" for rel in sorted(manifest["files"])}


def publish_tree(local: dict[str, Path], url: str) -> dict[str, str]:
    """Upload local folders to `url` as `<url>/<name>/` for each name, replacing earlier versions.

    Returns the published URL of each name. Order: everything under a new version prefix
    `<url>/.<name>.versions/<version>/`, then a copy into `<url>/<name>/` (data first, card last),
    then stale files removed there, then the manifest `<url>/<name>.manifest.json` naming the new
    version (one write: the switch for readers that go through it), then versions other than the
    new one and the one the previous manifest named are deleted.
    """
    fs, root = open_url(url)
    version = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(4)
    published = {}
    try:
        fs.makedirs(root, exist_ok=True)
        for name, folder in local.items():
            # The layout before version prefixes: a temporary prefix left by a killed upload.
            for leftover in fs.glob(posixpath.join(root, f".{name}.tmp-*")):
                fs.rm(leftover, recursive=True)
            files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
            files.sort(key=lambda rel: (rel in _LAST, rel))
            versions = _versions(root, name)
            prefix = posixpath.join(versions, version)
            final = posixpath.join(root, name)
            manifest_path = posixpath.join(root, _MANIFEST.format(name=name))
            previous_version = ""
            if fs.exists(manifest_path):
                previous_version = posixpath.basename(json.loads(fs.cat_file(manifest_path)).get("prefix", ""))
            for rel in files:
                fs.put_file(str(folder / rel), posixpath.join(prefix, rel))
            previous = set()
            if fs.exists(final):
                previous = {posixpath.relpath(p, final) for p in fs.find(final)}
            for rel in files:
                fs.copy(posixpath.join(prefix, rel), posixpath.join(final, rel))
            stale = sorted(previous - set(files))
            if stale:
                fs.rm([posixpath.join(final, rel) for rel in stale])
            manifest = {
                "name": name,
                "version": version,
                "prefix": f".{name}.versions/{version}",
                "files": {rel: _sha256(folder / rel) for rel in files},
            }
            with fs.open(manifest_path, "w") as f:
                f.write(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            # The previous version stays for readers still reading it; older ones and leftovers of
            # killed uploads go.
            fs.invalidate_cache()
            for old in fs.ls(versions, detail=False):
                if posixpath.basename(old.rstrip("/")) not in (version, previous_version):
                    fs.rm(old, recursive=True)
            fs.invalidate_cache()
            published[name] = f"{url.rstrip('/')}/{name}"
    except Exception as exc:  # the client's own types, as in stage_input
        raise EnvironmentFailure(
            f"output {url}: cannot write: {_describe(exc)}; check the URL and the credentials in the environment "
            "(the previous version, if any, is unchanged unless the error came during the final copy)"
        ) from None
    return published
