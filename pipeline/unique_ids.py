"""Checking that a dataset's ids are unique with 8 bytes of memory per row, and exactly.

Pass 1 appends a 64-bit hash of each id to one array, sized from the files' row counts; `repeated`
sorts it in place and returns the few hashes seen more than once. Pass 2 reads the ids again and
compares, as strings, only the ids with one of those hashes: two different ids that happen to share
a hash are told apart there, so no duplicate is reported that is not one.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import xxhash


class UniqueIds:
    def __init__(self, expected_rows: int = 0) -> None:
        self._hashes = np.empty(max(expected_rows, 1), dtype=np.uint64)
        self._count = 0
        self._repeated: set[int] = set()
        self._first: dict[str, str] = {}

    def add(self, ids: pa.Array) -> None:
        """Pass 1: the next batch's ids (a null id counts as the empty string)."""
        n = len(ids)
        if self._count + n > len(self._hashes):
            # The files held more rows than their metadata said: grow, without losing what is held.
            self._hashes = np.resize(self._hashes, max(self._count + n, 2 * len(self._hashes)))
        values = (xxhash.xxh3_64_intdigest((value or "").encode("utf-8")) for value in ids.to_pylist())
        self._hashes[self._count : self._count + n] = np.fromiter(values, dtype=np.uint64, count=n)
        self._count += n

    def repeated(self) -> bool:
        """After pass 1: whether any hash was seen twice (then pass 2 finds which ids repeat)."""
        hashes = self._hashes[: self._count]
        hashes.sort()
        same = hashes[1:] == hashes[:-1]
        self._repeated = set(np.unique(hashes[1:][same]).tolist())
        self._hashes = np.empty(0, dtype=np.uint64)
        return bool(self._repeated)

    def first_of(self, value: str | None, label: str) -> str | None:
        """Pass 2, in any order: the label of the first row visited with this id, or None if this is it."""
        value = value or ""
        if xxhash.xxh3_64_intdigest(value.encode("utf-8")) not in self._repeated:
            return None
        first = self._first.get(value)
        if first is None:
            self._first[value] = label
        return first
