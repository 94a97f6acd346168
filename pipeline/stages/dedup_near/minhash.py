"""MinHash signatures: min over a document's shingles of (a·x + b) mod (2^61 − 1), exactly.

x is the shingle's 64-bit hash reduced mod p = 2^61 − 1; a ∈ [1, p) and b ∈ [0, p) are drawn from a
seeded generator. numpy has no 128-bit integers, so a·x is computed from 32-bit halves (every partial
product fits in 64 bits) and folded with 2^61 ≡ 1 (mod p). With numba installed (the `fast` extra),
the fused kernel in minhash_jit.py does this arithmetic in registers, about seven times faster;
without it, numpy does it in blocks of shingles × permutations that fit in the CPU cache, reusing
preallocated buffers. Both give the same bits, and neither has a Python loop per shingle.
"""

from __future__ import annotations

import numpy as np

from pipeline.stages.dedup_near.minhash_jit import kernel

MERSENNE_61 = (1 << 61) - 1
_P = np.uint64(MERSENNE_61)
_M32 = np.uint64(0xFFFFFFFF)
_M29 = np.uint64((1 << 29) - 1)
_U = np.uint64

# Shingles and permutations per block: 4096 × 8 × 8 bytes = 256 KiB per buffer (measured fastest here).
_SHINGLE_BLOCK = 4096
_PERM_BLOCK = 8


def reduce_mod_p(x: np.ndarray) -> np.ndarray:
    """x mod (2^61 − 1) for uint64 x."""
    r = (x & _P) + (x >> _U(61))
    # r ≤ p + 7; unsigned wrap-around makes r − p huge when r < p, so the minimum picks the right one.
    return np.minimum(r, r - _P)


class Permutations:
    """The seeded (a, b) pairs; identical for every process that builds them with the same seed."""

    def __init__(self, num_perm: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 0x4D494E48])
        self.a = rng.integers(1, MERSENNE_61, num_perm, dtype=np.uint64)
        self.b = rng.integers(0, MERSENNE_61, num_perm, dtype=np.uint64)
        self.num_perm = num_perm

    def signatures(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(documents, num_perm) uint64 min-hashes; document i owns hashes[offsets[i]:offsets[i+1]] (≥ 1)."""
        fused = kernel()
        if fused is not None:
            sig = np.full((len(offsets) - 1, self.num_perm), MERSENNE_61, dtype=np.uint64)
            fused(reduce_mod_p(hashes), np.ascontiguousarray(offsets, dtype=np.int64), self.a, self.b, sig)
            return sig
        return self.signatures_numpy(hashes, offsets)

    def signatures_numpy(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """signatures() in numpy alone, in cache-sized blocks (the path without numba)."""
        docs = len(offsets) - 1
        sig = np.full((self.num_perm, docs), MERSENNE_61, dtype=np.uint64)
        if docs == 0:
            return sig.T.copy()
        x = reduce_mod_p(hashes)
        a_lo = (self.a & _M32)[:, None]
        a_hi = (self.a >> _U(32))[:, None]
        a_hi8 = a_hi << _U(3)  # a_hi·x_hi·2^64 ≡ a_hi·x_hi·8 (mod p)
        b = self.b[:, None]
        shape = (_PERM_BLOCK, _SHINGLE_BLOCK)
        lo, mid, tmp, res = (np.empty(shape, dtype=np.uint64) for _ in range(4))
        doc_starts = offsets[:-1]
        for s0 in range(0, len(x), _SHINGLE_BLOCK):
            chunk = x[s0 : s0 + _SHINGLE_BLOCK]
            n = len(chunk)
            x_lo = (chunk & _M32)[None, :]
            x_hi = (chunk >> _U(32))[None, :]
            # Documents overlapping this block, and where each one's part of the block starts.
            first = int(np.searchsorted(doc_starts, s0, side="right")) - 1
            last = int(np.searchsorted(doc_starts, s0 + n, side="left"))
            segment_starts = np.maximum(doc_starts[first:last] - s0, 0)
            for p0 in range(0, self.num_perm, _PERM_BLOCK):
                p1 = min(p0 + _PERM_BLOCK, self.num_perm)
                k = p1 - p0
                L, M, T, R = lo[:k, :n], mid[:k, :n], tmp[:k, :n], res[:k, :n]
                np.multiply(a_lo[p0:p1], x_lo, out=L)  # < 2^64
                np.multiply(a_hi[p0:p1], x_lo, out=M)
                np.multiply(a_lo[p0:p1], x_hi, out=T)
                M += T  # < 2^62
                np.multiply(a_hi8[p0:p1], x_hi, out=R)  # < 2^61
                np.bitwise_and(L, _P, out=T)
                R += T
                L >>= _U(61)
                R += L
                np.bitwise_and(M, _M29, out=T)  # M·2^32 = (M >> 29)·2^61 + (M & (2^29−1))·2^32
                T <<= _U(32)
                R += T
                M >>= _U(29)
                R += M
                R += b[p0:p1]  # R < 2^63 + 2^62
                np.right_shift(R, _U(61), out=T)
                R &= _P
                R += T  # R ≤ p + 7
                np.subtract(R, _P, out=T)
                np.minimum(R, T, out=R)  # exact residue in [0, p)
                partial = np.minimum.reduceat(R, segment_starts, axis=1)
                block = sig[p0:p1, first:last]
                np.minimum(block, partial, out=block)
                sig[p0:p1, first:last] = block
        return sig.T.copy()
