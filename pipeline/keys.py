"""Finding repeated keys in a stream with 17 bytes of memory per record.

Pass 1 appends each record's 128-bit key; `decide` sorts them once. Pass 2 visits the same records in
the same order and learns, per record, whether an earlier record had the same key and which one.
Only keys that do repeat are held in a dictionary, so memory is O(N · 17 bytes) + O(repeats).
128-bit xxh3 keys make an accidental collision negligible (~1e-20 at a billion records).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xxhash

BYTES_PER_RECORD = 17  # 16-byte key in pass 1, then a 1-byte flag; the sort needs 8 more, briefly.
# The flag byte: 0 a key seen once, 1 a copy of an earlier record, 2 the first record of a repeated key.
_COPY = 1
_FIRST_WITH_COPIES = 2
_COMPARE_SLICE = 1 << 16


def key_of(value: str) -> bytes:
    return xxhash.xxh3_128_digest(value.encode("utf-8"))


class RepeatFinder:
    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._repeat: np.ndarray | None = None
        self._first: dict[bytes, str] = {}
        self._position = 0
        self._copy_positions = np.empty(0, dtype=np.int64)
        self._copy_first = np.empty(0, dtype=np.int64)
        self._first_label: dict[int, str] = {}

    def collect(self, keys: Iterable[bytes]) -> None:
        buffer = b"".join(keys)
        self._chunks.append(np.frombuffer(buffer, dtype="V16"))

    def decide(self) -> None:
        keys = np.concatenate(self._chunks) if self._chunks else np.empty(0, dtype="V16")
        self._chunks = []
        # Split each 16-byte key in two big-endian uint64s so numpy can lexsort them stably.
        halves = keys.view(">u8").reshape(-1, 2) if len(keys) else np.empty((0, 2), dtype=">u8")
        order = np.lexsort((halves[:, 1], halves[:, 0]))  # stable: equal keys stay in input order
        # Neighbours in sorted order compared a slice at a time: a sorted copy of the keys would be
        # 16 more bytes per record at the peak.
        same_as_prev = np.zeros(len(keys), dtype=bool)
        for start in range(1, len(keys), _COMPARE_SLICE):
            stop = min(start + _COMPARE_SLICE, len(keys))
            here, before = halves[order[start:stop]], halves[order[start - 1 : stop - 1]]
            same_as_prev[start:stop] = (here[:, 0] == before[:, 0]) & (here[:, 1] == before[:, 1])
        del keys, halves
        repeat = np.zeros(len(same_as_prev), dtype=np.uint8)
        repeat[order[same_as_prev]] = _COPY
        self._repeat = repeat
        # For visit_next(), which needs no key: per copy, the position of its group's first record
        # (O(repeats) memory), and a mark on each first record that has copies (in the same byte).
        copies = np.flatnonzero(same_as_prev)
        run_starts = np.flatnonzero(~same_as_prev)
        first_sorted = run_starts[np.searchsorted(run_starts, copies, side="right") - 1]
        by_position = np.argsort(order[copies], kind="stable")
        self._copy_positions = order[copies][by_position]
        self._copy_first = order[first_sorted][by_position]
        repeat[self._copy_first] = _FIRST_WITH_COPIES

    @property
    def repeats(self) -> int:
        return int(np.count_nonzero(self._repeat == _COPY)) if self._repeat is not None else 0

    def copies(self, start: int, count: int) -> np.ndarray:
        """After decide, at any position: whether each of records start..start+count-1 repeats the key
        of an earlier record. Needs no key and no earlier record, so pass 2 may start at any shard."""
        if self._repeat is None:
            raise RuntimeError("RepeatFinder.copies before decide")
        return self._repeat[start : start + count] == _COPY

    def visit(self, key: bytes, label: str) -> str | None:
        """Pass 2, in pass-1 order: the label of the first record with this key, or None if this is it."""
        if self._repeat is None:
            raise RuntimeError("RepeatFinder.visit before decide")
        position = self._position
        self._position += 1
        if self._repeat[position] == _COPY:
            return self._first[key]
        if self._repeat[position] == _FIRST_WITH_COPIES:
            self._first[key] = label
        return None

    def visit_next(self, labels: list[str]) -> tuple[list[str | None], list[bool]]:
        """Pass 2 without the keys, for the next len(labels) records in pass-1 order: per record, the
        label of the first record with its key (None if it is the first), and whether its key repeats.
        Use either this or visit() for a whole pass, not both."""
        if self._repeat is None:
            raise RuntimeError("RepeatFinder.visit_next before decide")
        start = self._position
        self._position += len(labels)
        state = self._repeat[start : self._position]
        firsts: list[str | None] = [None] * len(labels)
        repeated = (state != 0).tolist()
        for row in np.flatnonzero(state).tolist():
            position = start + row
            if state[row] == _FIRST_WITH_COPIES:
                self._first_label[position] = labels[row]
            else:
                index = int(np.searchsorted(self._copy_positions, position))
                firsts[row] = self._first_label[int(self._copy_first[index])]
        return firsts, repeated
