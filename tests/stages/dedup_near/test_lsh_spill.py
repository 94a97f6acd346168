"""Band keys spilled to disk give the same buckets as the keys held in memory."""

import itertools

import numpy as np

from pipeline.stages.dedup_near.lsh import KeySpill, buckets


def test_key_spill_gives_the_same_buckets() -> None:
    rng = np.random.default_rng(0)
    # Few distinct values so buckets are shared; batches of uneven sizes, one empty.
    keys = rng.integers(0, 40, size=(1000, 6)).astype(np.uint64)
    spill = KeySpill(6)
    for start, stop in [(0, 1), (1, 300), (300, 300), (300, 999), (999, 1000)]:
        spill.append(keys[start:stop])
    for band in range(6):
        assert np.array_equal(spill.band(band), keys[:, band])
    expected, got = buckets(keys), buckets(spill)
    spill.close()
    assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))


def reference_buckets(keys: np.ndarray) -> list[list[int]]:
    """Every bucket of ≥ 2 documents, band by band, buckets by key, members ascending."""
    found = []
    for band in range(keys.shape[1]):
        by_key: dict[int, list[int]] = {}
        for position, key in enumerate(keys[:, band].tolist()):
            by_key.setdefault(key, []).append(position)
        found += [by_key[key] for key in sorted(by_key) if len(by_key[key]) >= 2]
    return found


def test_buckets_match_a_plain_reference() -> None:
    rng = np.random.default_rng(1)
    for documents, distinct in [(1, 5), (2, 1), (500, 30), (2000, 5000), (300, 10**9)]:
        keys = rng.integers(0, distinct, size=(documents, 4)).astype(np.uint64)
        members, starts, band_starts = buckets(keys)
        got = [members[a:b].tolist() for a, b in itertools.pairwise(starts)]
        assert got == reference_buckets(keys)
        # Each band's buckets are where band_starts says: per band, as many as the reference finds.
        per_band = [len(reference_buckets(keys[:, [band]])) for band in range(keys.shape[1])]
        assert np.diff(band_starts).tolist() == per_band
