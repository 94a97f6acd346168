"""No file in the repository names a path of a development machine: docs and benchmarks must work anywhere."""

from __future__ import annotations

import re
import subprocess

from helpers import REPO

# Built from pieces so this file does not match itself.
_PATTERNS = [
    "/" + "work/",
    "/" + "root/",
    "/" + "home/[a-z]",
    "/" + "Users/[A-Za-z]",
    "/" + "tmp/evaldata",
    "venv-" + "bench-",
    r"\.\./" + "shared",
]
MACHINE_PATH = re.compile("|".join(_PATTERNS))


def test_no_tracked_file_names_a_machine_path() -> None:
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    )
    found = []
    for name in filter(None, files):
        path = REPO / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary fixtures
        for number, line in enumerate(text.splitlines(), 1):
            if MACHINE_PATH.search(line):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not found, "machine paths:\n" + "\n".join(found)
