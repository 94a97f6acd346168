"""`python -m pipeline push DIR --repo-id user/name`: upload a validated dataset folder to the Hub.

The folder is validated first and never uploaded when any check fails. The token is whatever
huggingface_hub finds on its own (the HF_TOKEN environment variable or `hf auth login`); pipeline
never reads one from a config file or the command line, so it cannot end up in a shell history or a
committed config.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.errors import UsageError, ValidationFailed
from pipeline.validate import in_layout, validate_folder

# The Hub's repo id rule: namespace/name, letters, digits, '-', '_', '.', no '--' or '..'.
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")


@dataclass(frozen=True)
class Upload:
    path: str  # relative to the folder, posix
    size: int


def planned_files(folder: Path) -> list[Upload]:
    """Every file the upload sends: the regular files of the dataset layout validate accepts, no hidden ones."""
    files = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue
        if in_layout(rel.as_posix()):
            files.append(Upload(rel.as_posix(), path.stat().st_size))
    return files


def describe(files: list[Upload]) -> str:
    width = max((len(f"{f.size:,}") for f in files), default=1)
    lines = [f"{f.size:>{width},}  {f.path}" for f in files]
    lines.append(f"{len(files)} file(s), {sum(f.size for f in files):,} bytes")
    return "\n".join(lines)


def check_repo_id(repo_id: str) -> None:
    if not _REPO_ID.match(repo_id) or "--" in repo_id or ".." in repo_id:
        raise UsageError(f"--repo-id {repo_id!r} must be namespace/name, e.g. my-user/my-dataset")


def push(
    folder: Path,
    repo_id: str,
    model: Any,
    *,
    private: bool = False,
    revision: str | None = None,
    dry_run: bool = False,
    allow_empty: bool = False,
    log: Callable[[str], None] = print,
) -> list[Upload]:
    """Validate `folder`, then upload it as the dataset repo `repo_id` (or only list it when dry_run)."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; pass the published dataset folder, e.g. dist/sample")
    check_repo_id(repo_id)
    report = validate_folder(folder, model, allow_empty=allow_empty)
    if not report.ok:
        raise ValidationFailed(f"refusing to push {folder}: it fails validation\n{report.to_text()}")
    files = planned_files(folder)
    target = f"https://huggingface.co/datasets/{repo_id}" + (f" (revision {revision})" if revision else "")
    if dry_run:
        log(f"dry run: would upload to {target}{' as a private repo' if private else ''}:\n{describe(files)}")
        return files

    from huggingface_hub import HfApi, get_token

    token = get_token()
    if not token:
        raise UsageError("no Hugging Face token: set HF_TOKEN or run `hf auth login`, then push again")
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if revision:
        api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
    api.upload_folder(
        repo_id=repo_id,
        folder_path=folder,
        repo_type="dataset",
        revision=revision,
        allow_patterns=[glob.escape(f.path) for f in files],
        commit_message=f"Upload {folder.name} with pipeline {__version__}",
    )
    log(f"pushed to {target}:\n{describe(files)}")
    return files
