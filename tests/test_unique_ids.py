"""The id check of `validate`: exact duplicates only, first occurrence named, any number of rows."""

from __future__ import annotations

import pyarrow as pa

from pipeline import unique_ids
from pipeline.unique_ids import UniqueIds


def _check(batches: list[list[str | None]], expected_rows: int) -> list[tuple[str, str]]:
    ids = UniqueIds(expected_rows)
    for values in batches:
        ids.add(pa.array(values, pa.string()))
    found: list[tuple[str, str]] = []
    if ids.repeated():
        for b, values in enumerate(batches):
            for row, value in enumerate(values):
                first = ids.first_of(value, f"batch {b} row {row}")
                if first is not None:
                    found.append((f"batch {b} row {row}", first))
    return found


def test_unique_ids_report_nothing() -> None:
    assert _check([["a", "b"], ["c"]], 3) == []


def test_each_copy_names_the_first_row_with_its_id_across_batches() -> None:
    found = _check([["a", "b", "a"], ["b", "a"]], 5)
    assert found == [
        ("batch 0 row 2", "batch 0 row 0"),
        ("batch 1 row 0", "batch 0 row 1"),
        ("batch 1 row 1", "batch 0 row 0"),
    ]


def test_a_null_id_is_the_empty_string() -> None:
    assert _check([[None, ""]], 2) == [("batch 0 row 1", "batch 0 row 0")]


def test_more_rows_than_expected_are_all_checked() -> None:
    # A footer may declare fewer rows than the file holds: the array grows, nothing is skipped.
    batches = [[f"id{i}" for i in range(1000)], ["id7", "id999"]]
    assert _check(batches, 10) == [("batch 1 row 0", "batch 0 row 7"), ("batch 1 row 1", "batch 0 row 999")]


def test_different_ids_sharing_a_hash_are_not_duplicates(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Every id hashes alike: pass 2 compares the ids themselves, so only the real copy is reported.
    monkeypatch.setattr(unique_ids.xxhash, "xxh3_64_intdigest", lambda data: 42)
    assert _check([["a", "b", "c", "b"]], 4) == [("batch 0 row 3", "batch 0 row 1")]
