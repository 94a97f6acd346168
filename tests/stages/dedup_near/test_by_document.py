"""The per-document view of the buckets is the exact inverse of the per-bucket view."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pipeline.stages.dedup_near.lsh import buckets, by_document


def reference(members: np.ndarray, starts: np.ndarray, documents: int) -> list[list[int]]:
    """Per document, the numbers of the buckets that hold it, ascending."""
    per_document: list[list[int]] = [[] for _ in range(documents)]
    for bucket in range(len(starts) - 1):
        for doc in members[starts[bucket] : starts[bucket + 1]].tolist():
            per_document[doc].append(bucket)
    return per_document


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(st.integers(1, 60), st.integers(1, 6)).flatmap(
        lambda shape: arrays(np.uint64, shape, elements=st.integers(0, 4).map(np.uint64))
    )
)
def test_by_document_inverts_buckets(keys: np.ndarray) -> None:
    documents = len(keys)
    found = buckets(keys)
    starts, numbers = by_document(found, documents)
    assert starts.dtype == numbers.dtype == found.members.dtype
    got = [numbers[starts[doc] : starts[doc + 1]].tolist() for doc in range(documents)]
    assert got == reference(found.members, found.starts, documents)


def test_documents_in_no_bucket_have_empty_ranges() -> None:
    keys = np.arange(12, dtype=np.uint64).reshape(4, 3)  # every key distinct: no bucket at all
    starts, numbers = by_document(buckets(keys), 4)
    assert starts.tolist() == [0, 0, 0, 0, 0] and len(numbers) == 0
