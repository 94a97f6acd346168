"""Row groups gathered as batches arrive hold exactly the rows written, whatever the batching."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.publish.parquet import RowGroupStream

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("text", pa.string()),
        pa.field("n", pa.int64()),
        pa.field("meta", pa.struct([pa.field("a", pa.string()), pa.field("b", pa.float64())])),
        pa.field("flag", pa.bool_()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("when", pa.timestamp("us", tz="UTC")),
    ]
)

rows = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text(max_size=5),
            "text": st.one_of(st.none(), st.text(max_size=40)),
            "n": st.one_of(st.none(), st.integers(-(2**40), 2**40)),
            "meta": st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {
                        "a": st.one_of(st.none(), st.text(max_size=3)),
                        "b": st.one_of(st.none(), st.floats(allow_nan=False)),
                    }
                ),
            ),
            "flag": st.one_of(st.none(), st.booleans()),
            "tags": st.one_of(st.none(), st.lists(st.text(max_size=3), max_size=3)),
            "when": st.one_of(st.none(), st.integers(0, 2**50)),
        }
    ),
    max_size=60,
)


def _gathered(records: list[dict], cuts: list[int], limit: int) -> list[pa.Table]:
    tables: list[pa.Table] = []
    stream = RowGroupStream(SCHEMA, limit, lambda table, _: tables.append(table))
    batch = pa.RecordBatch.from_pylist(records, schema=SCHEMA)
    start = 0
    for cut in [*sorted(c % (len(records) + 1) for c in cuts), len(records)]:
        if cut > start:
            # Slices of a larger batch, as the publisher gets them after a split filter.
            stream.write(batch.slice(start, cut - start))
            start = cut
    stream.flush()
    return tables


@settings(max_examples=150, deadline=None)
@given(rows, st.lists(st.integers(0, 1000), max_size=6), st.integers(1, 400))
def test_row_groups_hold_the_rows_written_in_one_chunk_each(records: list[dict], cuts: list[int], limit: int) -> None:
    tables = _gathered(records, cuts, limit)
    expected = pa.Table.from_batches([pa.RecordBatch.from_pylist(records, schema=SCHEMA)]) if records else None
    gathered = pa.concat_tables(tables) if tables else None
    assert (gathered is None and expected is None) or gathered.equals(expected)
    for table in tables:
        table.validate(full=True)
        assert all(column.num_chunks == 1 for column in table.columns)
    # The same rows in one batch: the same row groups (cut by the data, not by the batching).
    assert [t.num_rows for t in tables] == [t.num_rows for t in _gathered(records, [], limit)]
    assert all(t.equals(u) for t, u in zip(tables, _gathered(records, [], limit), strict=True))


def test_a_row_over_the_limit_grows_the_buffer() -> None:
    records = [
        {"id": "a", "text": "x" * 1000, "n": 1, "meta": None, "flag": True, "tags": None, "when": None},
        {"id": "b", "text": "yy", "n": None, "meta": None, "flag": None, "tags": ["t"], "when": 5},
    ]
    tables = _gathered(records, [1], 16)
    assert [t.num_rows for t in tables] == [1, 1]
    assert [r["id"] for t in tables for r in t.to_pylist()] == ["a", "b"]
