"""Storage every node sees: inputs and outputs as URLs (s3://, gs://, hf://, file://, ...) via fsspec.

The pipeline's readers, work folder and dataset writer work on local files. Rather than teach every
reader a remote filesystem, a remote input is copied once into the work folder (`stage_input`) and
read from there, and a published dataset is written locally, then uploaded (`publish_tree`):

- input: each remote file is streamed into `<work>/input/<relative path>`; a file already there with
  the size and checksum/mtime the store reports is not fetched again (so a resumed run does not
  download twice). Cost: local disk equal to the input's size on the driver.
- output: files are uploaded under a temporary prefix `<output>/.<name>.tmp-<token>/`, then copied
  to `<output>/<name>/` (data files first, the card `README.md` last), then files of a previous
  version that the new one does not have are deleted, then the temporary prefix, and last a manifest
  `<output>/<name>.manifest.json` listing every file with its sha256 is written. See
  docs/guide/distributed.md for what a reader can observe during the switch.

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


def publish_tree(local: dict[str, Path], url: str) -> dict[str, str]:
    """Upload local folders to `url` as `<url>/<name>/` for each name, replacing earlier versions.

    Returns the published URL of each name. Order: everything under a temporary prefix, then a copy
    into place (data first, card last), then stale files removed, then the manifest per name.
    """
    fs, root = open_url(url)
    token = secrets.token_hex(6)
    published = {}
    try:
        fs.makedirs(root, exist_ok=True)
        for name, folder in local.items():
            # A temporary prefix of this name is a leftover of a killed upload (the work folder's
            # lock keeps a second run of the same dataset out).
            for leftover in fs.glob(posixpath.join(root, f".{name}.tmp-*")):
                fs.rm(leftover, recursive=True)
            files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
            files.sort(key=lambda rel: (rel in _LAST, rel))
            tmp = posixpath.join(root, f".{name}.tmp-{token}")
            final = posixpath.join(root, name)
            for rel in files:
                fs.put_file(str(folder / rel), posixpath.join(tmp, rel))
            previous = set()
            if fs.exists(final):
                previous = {posixpath.relpath(p, final) for p in fs.find(final)}
            for rel in files:
                fs.copy(posixpath.join(tmp, rel), posixpath.join(final, rel))
            stale = sorted(previous - set(files))
            if stale:
                fs.rm([posixpath.join(final, rel) for rel in stale])
            fs.rm(tmp, recursive=True)
            manifest = {"name": name, "files": {rel: _sha256(folder / rel) for rel in files}}
            with fs.open(posixpath.join(root, _MANIFEST.format(name=name)), "w") as f:
                f.write(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            fs.invalidate_cache()
            published[name] = f"{url.rstrip('/')}/{name}"
    except Exception as exc:  # the client's own types, as in stage_input
        raise EnvironmentFailure(
            f"output {url}: cannot write: {_describe(exc)}; check the URL and the credentials in the environment "
            "(the previous version, if any, is unchanged unless the error came during the final copy)"
        ) from None
    return published
