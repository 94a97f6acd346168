"""RepeatFinder against a dictionary: every copy found, each naming the first record with its key."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.keys import RepeatFinder

# Raw 16-byte keys from a small alphabet of halves, so that keys often share their first 8 bytes (and
# so the group decide() sorts them in) while differing in the last 8, or repeat exactly.
_HALVES = [bytes([b]) * 8 for b in (0, 1, 0x7F, 0x80, 0xFF)] + [bytes(range(8)), bytes(range(8, 16))]
_KEY = st.tuples(st.sampled_from(_HALVES), st.sampled_from(_HALVES)).map(lambda pair: pair[0] + pair[1])


def _expected(keys: list[bytes]) -> list[str | None]:
    first: dict[bytes, str] = {}
    out: list[str | None] = []
    for i, key in enumerate(keys):
        out.append(first.get(key))
        first.setdefault(key, f"#{i}")
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(_KEY, max_size=300), st.lists(st.integers(1, 50), min_size=1, max_size=10))
def test_visit_next_matches_a_dictionary(keys: list[bytes], chunk_sizes: list[int]) -> None:
    finder = RepeatFinder()
    start = 0
    for size in chunk_sizes * (len(keys) // sum(chunk_sizes) + 1):  # collected in uneven chunks
        finder.collect(keys[start : start + size])
        start += size
    finder.decide()
    labels = [f"#{i}" for i in range(len(keys))]
    firsts, repeated = finder.visit_next(labels)
    assert firsts == _expected(keys)
    assert repeated == [keys.count(key) > 1 for key in keys]
    assert finder.repeats == len(keys) - len(set(keys))
    assert finder.copies(0, len(keys)).tolist() == [first is not None for first in firsts]


def test_nothing_collected() -> None:
    finder = RepeatFinder()
    finder.decide()
    assert finder.repeats == 0
    assert finder.visit_next([]) == ([], [])
