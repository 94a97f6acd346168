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

from pipeline.arrays import concatenate_freeing

BYTES_PER_RECORD = 17  # 16-byte key in pass 1, then a 1-byte flag; the sort needs 2 more, briefly.
# The flag byte: 0 a key seen once, 1 a copy of an earlier record, 2 the first record of a repeated key.
_COPY = 1
_FIRST_WITH_COPIES = 2
_COMPARE_SLICE = 1 << 16
_PART_BITS = 5  # decide() sorts the keys in 2**5 groups


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
        keys = concatenate_freeing(self._chunks, "V16")
        n = len(keys)
        # Each 16-byte key as two big-endian uint64s, so numpy can lexsort them stably.
        halves = keys.view(">u8").reshape(-1, 2) if n else np.empty((0, 2), dtype=">u8")
        # Sorting all N keys at once needs 24 more bytes per record (lexsort's order, its copy of a key
        # and its buffer). Equal keys share their top bits, so the keys are sorted in 2**_PART_BITS groups
        # by their top bits instead: 1 byte per record for the group, and the sort's bytes for one group.
        part = np.empty(n, dtype=np.uint8)
        shift = np.uint64(64 - _PART_BITS)
        for start in range(0, n, _COMPARE_SLICE):
            part[start : start + _COMPARE_SLICE] = halves[start : start + _COMPARE_SLICE, 0] >> shift
        repeat = np.zeros(n, dtype=np.uint8)
        copy_positions: list[np.ndarray] = []
        copy_first: list[np.ndarray] = []
        for group in range(1 << _PART_BITS):
            positions = np.flatnonzero(part == group)  # ascending: input order
            sub = halves[positions]
            order = np.lexsort((sub[:, 1], sub[:, 0]))  # stable: equal keys stay in input order
            ordered = sub[order]
            del sub
            same_as_prev = np.zeros(len(order), dtype=bool)
            same_as_prev[1:] = (ordered[1:, 0] == ordered[:-1, 0]) & (ordered[1:, 1] == ordered[:-1, 1])
            del ordered
            copies = np.flatnonzero(same_as_prev)
            run_starts = np.flatnonzero(~same_as_prev)
            first_sorted = run_starts[np.searchsorted(run_starts, copies, side="right") - 1]
            copy_positions.append(positions[order[copies]])
            copy_first.append(positions[order[first_sorted]])
        del part, keys, halves
        # For visit_next(), which needs no key: per copy, the position of its group's first record
        # (O(repeats) memory), and a mark on each first record that has copies (in the same byte).
        positions = np.concatenate(copy_positions)
        firsts = np.concatenate(copy_first)
        by_position = np.argsort(positions, kind="stable")
        self._copy_positions = positions[by_position]
        self._copy_first = firsts[by_position]
        repeat[self._copy_positions] = _COPY
        repeat[self._copy_first] = _FIRST_WITH_COPIES
        self._repeat = repeat

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
