"""The MinHash kernel compiled with numba: the same exact arithmetic as the numpy path, fused.

The numpy path in minhash.py makes about 20 passes over memory per block of shingles × permutations;
here each (shingle, permutation) residue is computed in registers and compared with the running
minimum at once, so the cost is the arithmetic. The arithmetic is the numpy path's, step for step
(32-bit halves, folds with 2^61 ≡ 1 mod p), so the signatures are identical, bit for bit; the tests
check it. numba is optional (the `fast` extra): `kernel()` returns None when it is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

_P = np.uint64((1 << 61) - 1)
_M32 = np.uint64(0xFFFFFFFF)
_M29 = np.uint64((1 << 29) - 1)
_S3 = np.uint64(3)
_S29 = np.uint64(29)
_S32 = np.uint64(32)
_S61 = np.uint64(61)


def _signatures(x, offsets, a, b, out):  # type: ignore[no-untyped-def]
    """out[d, p] = min over document d's residues x of (a[p]·x + b[p]) mod p; out starts at p."""
    num_perm = a.shape[0]
    a_lo = a & _M32
    a_hi = a >> _S32
    a_hi8 = a_hi << _S3  # a_hi·x_hi·2^64 ≡ a_hi·x_hi·8 (mod p)
    for d in range(offsets.shape[0] - 1):
        row = out[d]
        for s in range(offsets[d], offsets[d + 1]):
            v = x[s]
            x_lo = v & _M32
            x_hi = v >> _S32
            for j in range(num_perm):
                lo = a_lo[j] * x_lo
                mid = a_hi[j] * x_lo + a_lo[j] * x_hi
                r = a_hi8[j] * x_hi + (lo & _P) + (lo >> _S61)
                r += ((mid & _M29) << _S32) + (mid >> _S29) + b[j]
                r = (r & _P) + (r >> _S61)
                t = r - _P
                if t < r:
                    r = t
                if r < row[j]:
                    row[j] = r


@cache
def kernel() -> Callable[..., None] | None:
    """The compiled kernel (compiled once per process, cached on disk by numba), or None without numba."""
    try:
        import numba
    except ImportError:
        return None
    # An explicit signature compiles (or loads numba's on-disk cache) now, not at the first batch, so a
    # process that imports this module ahead of its work (the pool's preload) pays it once.
    signature = "void(uint64[::1], int64[::1], uint64[::1], uint64[::1], uint64[:, ::1])"
    return numba.njit(signature, cache=True, nogil=True)(_signatures)
