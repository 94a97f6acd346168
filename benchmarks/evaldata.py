"""Where the benchmark data is: `--evaldata DIR`, else the PIPELINE_EVALDATA environment variable.

The data are public files at fixed commits; `python benchmarks/fetch_data.py evaldata` downloads them
(docs/benchmarks/data.md lists them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV = "PIPELINE_EVALDATA"


def default_root() -> Path | None:
    """The folder PIPELINE_EVALDATA names, or None (argparse default: the script then asks for it)."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def evaldata_root(given: Path | None = None) -> Path:
    """The benchmark data folder, or exit with one line saying how to get it."""
    root = given or default_root()
    if root is None or not root.is_dir():
        where = f"{root} is not a folder" if root else f"no benchmark data: set {ENV} or pass the data option"
        sys.exit(f"{where}; python benchmarks/fetch_data.py evaldata downloads it (see docs/benchmarks/data.md)")
    return root
