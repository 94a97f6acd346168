import numpy as np
import pytest

from pipeline.stages.dedup_near.lsh import candidate_probability, optimal_bands
from pipeline.stages.dedup_near.minhash import MERSENNE_61, Permutations


@pytest.mark.parametrize("path", ["signatures", "signatures_numpy"])
def test_signatures_equal_the_modular_formula_computed_with_python_integers(path: str) -> None:
    perms = Permutations(64, seed=3)
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**64 - 1, 9000, dtype=np.uint64, endpoint=True)
    # Documents of 1, 4999 and 4000 shingles: the second crosses the 4096-shingle block boundary.
    offsets = np.array([0, 1, 5000, 9000])
    signatures = getattr(perms, path)(hashes, offsets)
    for doc in range(3):
        xs = [int(h) % MERSENNE_61 for h in hashes[offsets[doc] : offsets[doc + 1]]]
        for j in range(64):
            a, b = int(perms.a[j]), int(perms.b[j])
            assert int(signatures[doc, j]) == min((a * x + b) % MERSENNE_61 for x in xs)


def test_numba_kernel_and_numpy_give_the_same_bits_at_the_edges_of_the_arithmetic() -> None:
    pytest.importorskip("numba")
    perms = Permutations(128, seed=11)
    rng = np.random.default_rng(5)
    edges = np.array(
        [0, 1, MERSENNE_61 - 1, MERSENNE_61, MERSENNE_61 + 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1], dtype=np.uint64
    )
    hashes = np.concatenate([edges, rng.integers(0, 2**64 - 1, 20000, dtype=np.uint64, endpoint=True)])
    offsets = np.concatenate([np.arange(len(edges) + 1), np.sort(rng.integers(len(edges) + 1, len(hashes), 300))])
    offsets = np.unique(np.append(offsets, len(hashes))).astype(np.int64)
    assert np.array_equal(perms.signatures(hashes, offsets), perms.signatures_numpy(hashes, offsets))


def test_same_seed_same_permutations_other_seed_others() -> None:
    assert np.array_equal(Permutations(8, 1).a, Permutations(8, 1).a)
    assert not np.array_equal(Permutations(8, 1).a, Permutations(8, 2).a)


def test_equal_weights_give_datasketchs_choice_and_recall_weighting_gives_more_bands() -> None:
    assert optimal_bands(0.8, 128, 0.5, 0.5) == (9, 13)
    bands, rows = optimal_bands(0.8, 128, 0.05, 0.95)
    assert (bands, rows) == (16, 8)
    assert candidate_probability(0.9, bands, rows) > 0.999
    assert candidate_probability(0.85, bands, rows) > 0.99
