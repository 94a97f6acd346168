"""Where the benchmark data is: `--evaldata DIR`, else the PIPELINE_EVALDATA environment variable.

The data are verbatim copies of public files at fixed commits (DCLM's labelled sample, lingua-py's test
sentences, ftfy's test cases, Common Crawl samples, ...); `python benchmarks/fetch_data.py evaldata`
downloads them and docs/benchmarks/data.md lists each repository, path and commit.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "PIPELINE_EVALDATA"
_HOW = "python benchmarks/fetch_data.py evaldata downloads it (see docs/benchmarks/data.md)"


def default_root() -> Path | None:
    """The folder PIPELINE_EVALDATA names, or None (argparse default: the script then asks for it)."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def evaldata_folder(given: Path | None = None) -> Path:
    """The benchmark data folder from the argument or the environment; exits with one line if missing."""
    folder = given or default_root()
    if folder is None:
        raise SystemExit(f"no benchmark data: pass --evaldata FOLDER or set {ENV}; {_HOW}")
    if not folder.is_dir():
        raise SystemExit(f"{folder} is not a folder; pass --evaldata FOLDER or set {ENV}; {_HOW}")
    return folder


# The name the first scripts used.
evaldata_root = evaldata_folder
