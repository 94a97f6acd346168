import numpy as np

from pipeline.stages.dedup_near.lsh import candidate_probability, optimal_bands
from pipeline.stages.dedup_near.minhash import MERSENNE_61, Permutations


def test_signatures_equal_the_modular_formula_computed_with_python_integers() -> None:
    perms = Permutations(64, seed=3)
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**64 - 1, 9000, dtype=np.uint64, endpoint=True)
    # Documents of 1, 4999 and 4000 shingles: the second crosses the 4096-shingle block boundary.
    offsets = np.array([0, 1, 5000, 9000])
    signatures = perms.signatures(hashes, offsets)
    for doc in range(3):
        xs = [int(h) % MERSENNE_61 for h in hashes[offsets[doc] : offsets[doc + 1]]]
        for j in range(64):
            a, b = int(perms.a[j]), int(perms.b[j])
            assert int(signatures[doc, j]) == min((a * x + b) % MERSENNE_61 for x in xs)


def test_same_seed_same_permutations_other_seed_others() -> None:
    assert np.array_equal(Permutations(8, 1).a, Permutations(8, 1).a)
    assert not np.array_equal(Permutations(8, 1).a, Permutations(8, 2).a)


def test_equal_weights_give_datasketchs_choice_and_recall_weighting_gives_more_bands() -> None:
    assert optimal_bands(0.8, 128, 0.5, 0.5) == (9, 13)
    bands, rows = optimal_bands(0.8, 128, 0.05, 0.95)
    assert (bands, rows) == (16, 8)
    assert candidate_probability(0.9, bands, rows) > 0.999
    assert candidate_probability(0.85, bands, rows) > 0.99
