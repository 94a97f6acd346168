"""Input ids seen so far, in bounded memory: 12 bytes per id, checked as ingest reads.

Ids are kept as 64-bit hashes (xxh3) in sorted numpy runs that merge like a log-structured tree, so
a lookup is a binary search in a few runs and memory does not hold the id strings. Two different
ids share a hash with probability about n²/2⁶⁵ (3e-6 for ten million ids).
"""

from __future__ import annotations

import numpy as np
import xxhash


class SeenIds:
    def __init__(self) -> None:
        # Sorted hash runs, each with the index of the file each id came from; sizes decrease.
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._files: list[str] = []
        self._file_index: dict[str, int] = {}

    def __len__(self) -> int:
        return sum(len(hashes) for hashes, _ in self._runs)

    def add(self, keys: list[str], files: list[str]) -> list[tuple[int, str]]:
        """Record a batch of ids with their files; return (position in the batch, earlier file) per repeat."""
        if not keys:
            return []
        hashes = np.fromiter((xxhash.xxh3_64_intdigest(k.encode("utf-8")) for k in keys), np.uint64, len(keys))
        indices = np.fromiter((self._index(f) for f in files), np.uint32, len(files))
        repeats: dict[int, str] = {}
        for hashes_run, files_run in self._runs:
            at = np.minimum(np.searchsorted(hashes_run, hashes), len(hashes_run) - 1)
            for position in np.flatnonzero(hashes_run[at] == hashes):
                repeats.setdefault(int(position), self._files[int(files_run[at[position]])])
        first: dict[int, int] = {}
        fresh = []
        for position, digest in enumerate(hashes.tolist()):
            if position in repeats:
                continue
            earlier = first.setdefault(digest, position)
            if earlier != position:
                repeats[position] = self._files[int(indices[earlier])]
            else:
                fresh.append(position)
        self._push(hashes[fresh], indices[fresh])
        return sorted(repeats.items())

    def _index(self, file: str) -> int:
        index = self._file_index.get(file)
        if index is None:
            index = self._file_index[file] = len(self._files)
            self._files.append(file)
        return index

    def _push(self, hashes: np.ndarray, files: np.ndarray) -> None:
        if not len(hashes):
            return
        order = np.argsort(hashes)
        run = (hashes[order], files[order])
        while self._runs and len(self._runs[-1][0]) <= len(run[0]):
            previous = self._runs.pop()
            merged = np.concatenate([previous[0], run[0]])
            order = np.argsort(merged, kind="stable")
            run = (merged[order], np.concatenate([previous[1], run[1]])[order])
        self._runs.append(run)
