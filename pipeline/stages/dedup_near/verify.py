"""Exact Jaccard of shingle sets, read back from a spill file so they are not all held in memory.

Pass 1 appends every document's shingle hashes to an anonymous temporary file (8 bytes per shingle,
on disk) and keeps only its end offset (8 bytes per document, in memory). Verification reads the two
documents of a candidate pair back, as sorted unique arrays, through a cache bounded in bytes: a kept
document that many others duplicate is read once, not once per duplicate.
"""

from __future__ import annotations

import tempfile
from collections import OrderedDict

import numpy as np


class ShingleSpill:
    # Hot kept documents fit in a small cache; a large one filled up with the corpus (about 7 KB per
    # verified document) and was most of the main process's growth from 10 k to 1 M documents. At 1 M
    # documents, 8 MB reads 810,000 shingle sets during decide (+10 % time); 16 MB reads 516,000 but
    # holds 5 MB more at the decision's peak and 9 MB more after it (10 k documents fill a few MB).
    def __init__(self, cache_bytes: int = 8 * 1024 * 1024) -> None:
        # Closed by close() after decide(); an anonymous file also vanishes if the process dies.
        self._file = tempfile.TemporaryFile(prefix="pipeline-dedup_near-")  # noqa: SIM115
        self._ends: list[np.ndarray] = []
        self._written = 0
        self._offsets: np.ndarray | None = None
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached = 0
        self.reads = 0

    def append(self, hashes: np.ndarray, offsets: np.ndarray) -> None:
        """Documents whose shingles are hashes[offsets[i]:offsets[i+1]], in input order."""
        self._file.write(np.ascontiguousarray(hashes, dtype="<u8").tobytes())
        self._ends.append(self._written + offsets[1:].astype(np.int64))
        self._written += len(hashes)

    def finish(self) -> None:
        self._file.flush()
        ends = np.concatenate(self._ends) if self._ends else np.empty(0, dtype=np.int64)
        self._ends = []
        self._offsets = np.concatenate([np.zeros(1, dtype=np.int64), ends])

    @property
    def documents(self) -> int:
        return 0 if self._offsets is None else len(self._offsets) - 1

    @property
    def memory_bytes(self) -> int:
        return 0 if self._offsets is None else self._offsets.nbytes

    def shingles(self, doc: int) -> np.ndarray:
        """The sorted distinct shingle hashes of document `doc` (its position in input order)."""
        cached = self._cache.get(doc)
        if cached is not None:
            self._cache.move_to_end(doc)
            return cached
        assert self._offsets is not None, "finish() before reading"
        start, end = int(self._offsets[doc]), int(self._offsets[doc + 1])
        self._file.seek(start * 8)
        values = np.unique(np.frombuffer(self._file.read((end - start) * 8), dtype="<u8"))
        self.reads += 1
        self._cache[doc] = values
        self._cached += values.nbytes
        while self._cached > self._cache_bytes and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            self._cached -= evicted.nbytes
        return values

    def jaccard(self, a: int, b: int) -> float:
        x, y = self.shingles(a), self.shingles(b)
        if len(x) > len(y):
            x, y = y, x
        where = np.searchsorted(y, x)
        where[where == len(y)] = 0
        common = int(np.count_nonzero(y[where] == x))
        return common / (len(x) + len(y) - common)

    def close(self) -> None:
        self._file.close()
        self._cache.clear()
        self._cached = 0
