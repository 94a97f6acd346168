"""Where the public evaluation data lives: --evaldata, else $PIPELINE_EVALDATA.

The folder holds verbatim copies of public files (DCLM's labelled sample, lingua-py's test sentences,
ftfy's test cases, Common Crawl samples, ...); its SOURCES.md names each repository, path and commit,
so anyone can rebuild the same folder from the public originals.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "PIPELINE_EVALDATA"


def evaldata_folder(given: Path | None) -> Path:
    """The evaluation-data folder from the argument or the environment; exits with one line if missing."""
    folder = given or (Path(os.environ[ENV]) if os.environ.get(ENV) else None)
    if folder is None:
        raise SystemExit(f"no evaluation data: pass --evaldata FOLDER or set {ENV} (see the folder's SOURCES.md)")
    if not folder.is_dir():
        raise SystemExit(f"{folder}: evaluation-data folder not found; pass --evaldata FOLDER or set {ENV}")
    return folder
