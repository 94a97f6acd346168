"""The input walk: every entry under the input root becomes a file to read or a reason it is not read.

A walk that raises or silently skips loses records nobody counted, so the walk never does either:
unreadable folders and files, FIFOs and devices, dangling and looping symlinks each come back as an
entry with a ledger reason. It is iterative (a folder 10,000 levels deep cannot overflow the stack)
and never follows a symlink out of the input root unless asked to (`ingest.follow_symlinks`), so an
input folder cannot make the pipeline read `/etc/...` by planting a link.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError


@dataclass(frozen=True)
class Entry:
    path: Path
    relative: str
    # Set when the entry is not read: a ledger reason code and a one-line detail.
    reason: str | None = None
    detail: str = ""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk(root: Path, exclude: list[Path], follow_symlinks: bool = False) -> Iterator[Entry]:
    """Entries under `root` sorted by relative path, hidden names and `exclude` skipped."""
    if not root.is_dir():
        if root.exists() and not root.is_file():
            yield Entry(root, root.name, "not_a_file", "the input is not a regular file (a FIFO, socket or device)")
        else:
            yield Entry(root, root.name)
        return
    real_root = os.path.realpath(root)
    excluded = {os.path.realpath(p) for p in exclude}
    found: list[Entry] = []
    # (folder path, its relative path, the real paths of the folders above it: a link back to one
    # of them is a loop).
    stack: list[tuple[str, str, str, frozenset[str]]] = [(str(root), "", real_root, frozenset({real_root}))]
    while stack:
        folder, rel_folder, real_folder, ancestors = stack.pop()
        try:
            with os.scandir(folder) as listing:
                children = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            if not rel_folder:
                raise InputError(
                    f"input folder {root} cannot be listed ({exc.strerror or exc}); fix its permissions"
                ) from exc
            found.append(
                Entry(
                    Path(folder),
                    rel_folder or ".",
                    "unreadable",
                    f"folder cannot be listed ({exc.strerror or exc}); files in it were not read: "
                    "fix its permissions or move it out of the input",
                )
            )
            continue
        for child in children:
            if child.name.startswith("."):
                continue
            relative = f"{rel_folder}/{child.name}" if rel_folder else child.name
            entry = _classify(child, relative, real_folder, real_root, excluded, ancestors, follow_symlinks)
            if entry is None:
                continue
            if isinstance(entry, tuple):
                stack.append(entry)
            else:
                found.append(entry)
    found.sort(key=lambda e: e.relative)
    yield from found


def _classify(
    child: os.DirEntry[str],
    relative: str,
    real_folder: str,
    real_root: str,
    excluded: set[str],
    ancestors: frozenset[str],
    follow_symlinks: bool,
) -> Entry | tuple[str, str, str, frozenset[str]] | None:
    path = Path(child.path)
    try:
        is_link = child.is_symlink()
        real = os.path.realpath(child.path) if is_link else os.path.join(real_folder, child.name)
        if is_link:
            try:
                info = os.stat(child.path)
            except OSError as exc:
                reason = "symlink_loop" if exc.errno == 40 else "dangling_symlink"  # 40: ELOOP
                return Entry(path, relative, reason, f"symlink to {os.readlink(child.path)!r} cannot be followed")
            if not follow_symlinks and not _inside(real, real_root):
                return Entry(
                    path,
                    relative,
                    "symlink_outside_input",
                    "symlink points outside the input folder and is not followed; "
                    "set ingest.follow_symlinks = true to read it",
                )
        else:
            info = child.stat(follow_symlinks=False)
    except OSError as exc:
        return Entry(path, relative, "unreadable", f"cannot be examined ({exc.strerror or exc})")
    if real in excluded or any(_inside(real, e) for e in excluded):
        return None
    if stat.S_ISDIR(info.st_mode):
        if real in ancestors:
            return Entry(path, relative, "symlink_loop", "symlink to a folder that contains it; not followed")
        return (child.path, relative, real, ancestors | {real})
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "socket"
            if stat.S_ISSOCK(info.st_mode)
            else "device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "special file"
        )
        return Entry(path, relative, "not_a_file", f"a {kind}, not a regular file; not read")
    return Entry(path, relative)
