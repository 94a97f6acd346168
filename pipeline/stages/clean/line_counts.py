"""Counting, for every distinct line of a corpus, how many documents contain it.

Lines are held as 64-bit xxh3 hashes in sorted numpy arrays with a uint32 count beside each, so the
state is 12 bytes per distinct line (CPython dicts would need ~100). New hashes are buffered and
merged into the sorted table whenever the buffer reaches half the table's size, which keeps the
total merge work O(n log n). After `finish` only the hashes at or above the threshold are kept, so
pass 2 looks lines up in a table of the frequent ones alone.

A 64-bit hash can collide: two distinct lines share one with probability ~n²/2⁶⁵ (about 1e-3 for
200 million distinct lines); the cost of a collision is one line counted in a few extra documents.
"""

from __future__ import annotations

import numpy as np
import xxhash

BYTES_PER_DISTINCT_LINE = 12  # uint64 hash + uint32 count
_MIN_FLUSH = 1 << 18  # hashes buffered before a merge: 2 MB, and a few times that while merging


# The hash of a line's key as UTF-8 (line_keys.key_bytes).
bytes_hash = xxhash.xxh3_64_intdigest


def line_hash(key: str) -> int:
    return bytes_hash(key.encode("utf-8"))


class DocumentFrequency:
    def __init__(self) -> None:
        self._keys = np.empty(0, np.uint64)
        self._counts = np.empty(0, np.uint32)
        self._pending: list[np.ndarray] = []
        self._pending_size = 0
        self.documents = 0
        self.peak_bytes = 0

    def add(self, hashes: np.ndarray, documents: int) -> None:
        """`hashes`: the distinct line hashes of `documents` documents (each document's set, concatenated)."""
        self.documents += documents
        if len(hashes):
            self._pending.append(hashes.astype(np.uint64, copy=False))
            self._pending_size += len(hashes)
        if self._pending_size >= max(_MIN_FLUSH, len(self._keys) // 2):
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        new_keys, new_counts = np.unique(np.concatenate(self._pending), return_counts=True)
        self._pending, self._pending_size = [], 0
        keys = np.concatenate([self._keys, new_keys])
        counts = np.concatenate([self._counts, new_counts.astype(np.uint32)])
        order = np.argsort(keys, kind="stable")
        keys, counts = keys[order], counts[order]
        starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]])) if len(keys) else np.empty(0, int)
        self._keys = keys[starts]
        self._counts = np.add.reduceat(counts, starts).astype(np.uint32) if len(keys) else counts
        self.peak_bytes = max(self.peak_bytes, len(self._keys) * BYTES_PER_DISTINCT_LINE)

    @property
    def distinct(self) -> int:
        return len(self._keys)

    def finish(self, threshold: int) -> None:
        """Merge what is buffered, then forget every line seen in fewer than `threshold` documents."""
        self._flush()
        frequent = self._counts >= threshold
        self._keys, self._counts = self._keys[frequent], self._counts[frequent]

    def counts(self, hashes: np.ndarray) -> np.ndarray:
        """Document counts of `hashes` (0 for hashes not kept by `finish`)."""
        if not len(self._keys) or not len(hashes):
            return np.zeros(len(hashes), np.uint32)
        index = np.minimum(np.searchsorted(self._keys, hashes), len(self._keys) - 1)
        return np.where(self._keys[index] == hashes, self._counts[index], 0).astype(np.uint32)
