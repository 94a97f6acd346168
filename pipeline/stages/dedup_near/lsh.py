"""LSH banding: choose bands × rows, hash each band of a signature to a bucket key, find buckets."""

from __future__ import annotations

import itertools
import tempfile
from functools import cache
from typing import NamedTuple

import numpy as np

from pipeline.stages.dedup_near.shingles import splitmix64


def _integral(f, lo: float, hi: float, points: int = 1001) -> float:  # type: ignore[no-untyped-def]
    s = np.linspace(lo, hi, points)
    return float(np.trapezoid(f(s), s))


@cache
def optimal_bands(
    threshold: float, num_perm: int, false_positive_weight: float, false_negative_weight: float
) -> tuple[int, int]:
    """(bands, rows) minimising the weighted areas of false positive and false negative probability.

    A pair of Jaccard s shares a bucket with probability 1 − (1 − s^rows)^bands; the false positive area
    is its integral over [0, threshold], the false negative area that of its complement over
    [threshold, 1] (the criterion datasketch uses). Candidates are verified exactly, so a false
    positive only costs a comparison: the default weights favour recall.
    """
    best: tuple[float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = _integral(lambda s, r=rows, b=bands: 1 - (1 - s**r) ** b, 0.0, threshold)
            fn = _integral(lambda s, r=rows, b=bands: (1 - s**r) ** b, threshold, 1.0)
            error = false_positive_weight * fp + false_negative_weight * fn
            if best is None or error < best[0] - 1e-15:
                best = (error, bands, rows)
    assert best is not None
    return best[1], best[2]


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    return 1.0 - (1.0 - similarity**rows) ** bands


class Banding:
    def __init__(self, bands: int, rows: int, seed: int) -> None:
        self.bands = bands
        self.rows = rows
        rng = np.random.default_rng([seed, 0x4C5348])
        self._row_mult = rng.integers(1, 2**63, rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self._band_salt = rng.integers(0, 2**63, bands, dtype=np.uint64)

    def keys(self, signatures: np.ndarray) -> np.ndarray:
        """(documents, bands) uint64 bucket keys. A key collision only adds a candidate, which is verified."""
        n = signatures.shape[0]
        used = signatures[:, : self.bands * self.rows].reshape(n, self.bands, self.rows)
        combined = (used * self._row_mult[None, None, :]).sum(axis=2, dtype=np.uint64) + self._band_salt[None, :]
        return splitmix64(combined)


class KeySpill:
    """Band keys of every document on disk, band-major per batch, so memory does not grow with the corpus.

    Held in memory they are 8 bytes × bands per document (128 at the default 16 bands), the largest part
    of dedup_near's state; `buckets` needs one band at a time, read back here.
    """

    def __init__(self, bands: int) -> None:
        # An anonymous file: it vanishes with the process; close() ends it after decide().
        self._file = tempfile.TemporaryFile(prefix="pipeline-dedup_near-keys-")  # noqa: SIM115
        self.bands = bands
        self._sizes: list[int] = []
        self.documents = 0

    def append(self, keys: np.ndarray) -> None:
        """(documents, bands) uint64 keys of the next batch."""
        self._file.write(np.ascontiguousarray(keys.T, dtype="<u8").tobytes())
        self._sizes.append(len(keys))
        self.documents += len(keys)

    def band(self, band: int) -> np.ndarray:
        column = np.empty(self.documents, dtype=np.uint64)
        position = written = 0
        for size in self._sizes:
            self._file.seek((position + band * size) * 8)
            column[written : written + size] = np.frombuffer(self._file.read(size * 8), dtype="<u8")
            position += size * self.bands
            written += size
        return column

    def close(self) -> None:
        self._file.close()


_COMPARE_SLICE = 1 << 16


class Buckets(NamedTuple):
    """Buckets of ≥ 2 documents over all bands, as CSR: members[starts[i]:starts[i+1]] (positions, ascending).

    Band b's buckets are band_starts[b] to band_starts[b + 1] - 1: a document is in at most one of them."""

    members: np.ndarray
    starts: np.ndarray
    band_starts: np.ndarray


def buckets(keys: np.ndarray | KeySpill) -> Buckets:
    """Every band's buckets, in band order, then by key. `members` is int32 when every position fits
    (`index_type`): it is the largest array of the decision."""
    members: list[np.ndarray] = []
    sizes: list[np.ndarray] = []
    bands = keys.bands if isinstance(keys, KeySpill) else keys.shape[1]
    documents = len(keys) if isinstance(keys, np.ndarray) else keys.documents
    index = index_type(documents)
    band_starts = np.zeros(bands + 1, dtype=np.int64)
    for band in range(bands):
        column = keys.band(band) if isinstance(keys, KeySpill) else keys[:, band]
        order = np.argsort(column, kind="stable")
        # Sorted neighbours share a bucket: compared a slice at a time, as a sorted copy of the column
        # would be 8 more bytes per document at the decision's peak.
        equal = np.empty(max(len(order) - 1, 0), dtype=bool)
        for start in range(0, len(equal), _COMPARE_SLICE):
            ordered = column[order[start : start + _COMPARE_SLICE + 1]]
            equal[start : start + len(ordered) - 1] = ordered[1:] == ordered[:-1]
        del column
        # Only positions in buckets of ≥ 2 are materialised (few), not one entry per document.
        shared = np.zeros(len(order), dtype=bool)
        shared[1:] |= equal
        shared[:-1] |= equal
        positions = np.flatnonzero(shared)
        band_starts[band + 1] = band_starts[band]
        if not len(positions):
            continue
        first = np.ones(len(positions), dtype=bool)
        first[1:] = ~equal[positions[1:] - 1]
        starts = np.flatnonzero(first)
        members.append(order[positions].astype(index))
        sizes.append(np.diff(np.append(starts, len(positions))))
        band_starts[band + 1] += len(starts)
    if not members:
        return Buckets(np.empty(0, dtype=index), np.zeros(1, dtype=np.int64), band_starts)
    all_sizes = np.concatenate(sizes)
    starts = np.zeros(len(all_sizes) + 1, dtype=np.int64)
    np.cumsum(all_sizes, out=starts[1:])
    return Buckets(np.concatenate(members), starts, band_starts)


def by_document(found: Buckets, documents: int) -> tuple[np.ndarray, np.ndarray]:
    """The same memberships per document, as CSR: document d is in buckets[starts[d]:starts[d + 1]],
    ascending.

    A counting scatter, band by band (a document is in at most one bucket per band, and bands hold
    ascending bucket numbers), rather than an argsort of `members`: the argsort's int64 indices were
    the decision's peak at 1 M documents."""
    members, bucket_starts, band_starts = found
    index = index_type(max(documents, len(members), len(bucket_starts)))
    bands = [members[bucket_starts[low] : bucket_starts[high]] for low, high in itertools.pairwise(band_starts)]
    # Counted band by band too, in the index type: bincount's int64 counts were 8 bytes per document.
    starts = np.zeros(documents + 1, dtype=index)
    for docs in bands:
        starts[docs + 1] += 1
    np.cumsum(starts, out=starts)
    numbers = np.empty(len(members), dtype=index)
    cursor = starts[:-1].copy()
    for band, docs in enumerate(bands):
        low, high = int(band_starts[band]), int(band_starts[band + 1])
        sizes = np.diff(bucket_starts[low : high + 1])
        numbers[cursor[docs]] = np.repeat(np.arange(low, high, dtype=index), sizes)
        cursor[docs] += 1
    return starts, numbers


def index_type(count: int) -> type[np.signedinteger]:
    """The narrowest of int32 and int64 that indexes `count` items (and counts them)."""
    return np.int32 if count < 2**31 - 1 else np.int64
