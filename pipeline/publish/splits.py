"""Split assignment by a hash of the record id.

Each id maps to a point in [0, 1) through a keyed hash; the splits own consecutive intervals of that
range in the order the config lists them. A record's split therefore depends on its id and the
shares only: adding or removing other records never moves it, and the same id always lands in the
same split across runs and machines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import xxhash

# Hub split names: word characters, optionally dotted (datasets' split name rule).
SPLIT_NAME = re.compile(r"^\w+(\.\w+)*$", re.ASCII)
# Changing the seed would reshuffle every dataset's splits, so it is fixed here, not configurable.
_SEED = 0x5EED_5917
_SCALE = float(2**64)


def check_shares(shares: dict[str, float]) -> None:
    """Raise ValueError with one clear line unless `shares` is a usable split table."""
    if not shares:
        raise ValueError("give at least one split, e.g. { train = 1.0 }")
    for name, share in shares.items():
        if not SPLIT_NAME.match(name):
            raise ValueError(f"split name {name!r} must be letters, digits and '_' (e.g. train, validation)")
        if not (share > 0 and math.isfinite(share)):
            raise ValueError(f"split {name!r} has share {share}; every share must be > 0")
    total = sum(shares.values())
    if not math.isclose(total, 1.0, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"split shares must add up to 1.0, they add up to {total:g}")


def id_points(ids: Iterable[str]) -> np.ndarray:
    """Each id's position in [0, 1), uniform over ids."""
    values = np.fromiter(
        (xxhash.xxh3_64_intdigest(i.encode("utf-8"), seed=_SEED) for i in ids),
        dtype=np.uint64,
    )
    return values.astype(np.float64) / _SCALE


class SplitAssigner:
    def __init__(self, shares: dict[str, float]) -> None:
        check_shares(shares)
        self.names = list(shares)
        # Upper bounds of each split's interval; the last is forced to 1 so rounding loses no record.
        bounds = np.cumsum([shares[n] for n in self.names])
        bounds[-1] = 1.0
        self.bounds = bounds

    def assign(self, ids: pa.Array | Iterable[str]) -> np.ndarray:
        """The index into `names` of each id's split."""
        if isinstance(ids, pa.Array | pa.ChunkedArray):
            ids = ids.to_pylist()
        points = id_points(ids)
        return np.searchsorted(self.bounds, points, side="right").clip(max=len(self.names) - 1)

    def names_of(self, ids: pa.Array | Iterable[str]) -> list[str]:
        return [self.names[i] for i in self.assign(ids)]
