"""Band keys spilled to disk give the same buckets as the keys held in memory."""

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
    assert np.array_equal(expected[0], got[0]) and np.array_equal(expected[1], got[1])
