from collections import Counter

import pyarrow as pa

from pipeline.keys import RepeatFinder, key_of
from pipeline.records import RECORD_SCHEMA
from pipeline.stages.dedup_exact import DedupExact, DedupExactConfig
from pipeline.stages.survivors import Survivors, SurvivorsConfig


def _batch(texts: list[str], start: int = 0) -> pa.RecordBatch:
    rows = [{"id": f"r{start + i}", "text": t, "source": "s", "url": None, "file": "f"} for i, t in enumerate(texts)]
    return pa.RecordBatch.from_pylist(rows, schema=RECORD_SCHEMA)


def _run(stage: DedupExact, batches: list[pa.RecordBatch]):
    """The stage marks the copies; the survivors stage (last in a run) rejects them."""
    for batch in batches:
        stage.collect(batch, stage.prepare(batch))
    stage.decide()
    marked = [stage.apply(batch).kept for batch in batches]
    survivors = Survivors(SurvivorsConfig(stages=["dedup_exact"]))
    for batch in marked:
        survivors.collect(batch, None)
    survivors.decide()
    return [survivors.apply(batch) for batch in marked]


def test_first_in_input_order_is_kept_across_batches() -> None:
    batches = [_batch(["Hello  World", "other"]), _batch(["hello world", "HELLO\nWORLD", "other "], start=2)]
    results = _run(DedupExact(DedupExactConfig()), batches)
    kept = [i for r in results for i in r.kept.column("id").to_pylist()]
    assert kept == ["r0", "r1"]
    rejected = [row for r in results for row in r.rejected.to_pylist()]
    assert [(r["id"], r["duplicate_of"], r["reason"]) for r in rejected] == [
        ("r2", "r0", "exact_duplicate"),
        ("r3", "r0", "exact_duplicate"),
        ("r4", "r1", "exact_duplicate"),
    ]


def test_folding_can_be_turned_off() -> None:
    results = _run(DedupExact(DedupExactConfig(fold_case=False)), [_batch(["Hello", "hello", "Hello"])])
    assert results[0].kept.column("id").to_pylist() == ["r0", "r1"]


def test_repeat_finder_on_many_keys() -> None:
    finder = RepeatFinder()
    values = [str(i % 1000) for i in range(5000)]
    finder.collect(key_of(v) for v in values)
    finder.decide()
    assert finder.repeats == 4000
    firsts = [finder.visit(key_of(v), f"#{i}") for i, v in enumerate(values)]
    assert firsts[:1000] == [None] * 1000
    assert firsts[1000] == "#0" and firsts[4999] == "#999"


def test_visit_next_gives_what_visit_gives_without_the_keys() -> None:
    values = [str(i % 7 if i % 3 else i) for i in range(3000)]
    labels = [f"#{i}" for i in range(len(values))]
    by_key, by_position = RepeatFinder(), RepeatFinder()
    for finder in (by_key, by_position):
        finder.collect(key_of(v) for v in values)
        finder.decide()
    counts = Counter(values)
    expected = [(by_key.visit(key_of(v), label), counts[v] > 1) for v, label in zip(values, labels, strict=True)]
    got: list[tuple[str | None, bool]] = []
    for start in range(0, len(values), 128):  # in batches, as pass 2 sees them
        firsts, repeated = by_position.visit_next(labels[start : start + 128])
        got += list(zip(firsts, repeated, strict=True))
    assert got == expected
    assert by_position.repeats == by_key.repeats


def test_copies_by_position_agree_with_visit_from_any_start() -> None:
    # validate's pass 2 asks by position only, from whatever shard a worker got.
    values = [str(i % 7 if i % 3 else i) for i in range(3000)]
    finder = RepeatFinder()
    finder.collect(key_of(v) for v in values)
    finder.decide()
    sequential = RepeatFinder()
    sequential.collect(key_of(v) for v in values)
    sequential.decide()
    expected = [sequential.visit(key_of(v), str(i)) is not None for i, v in enumerate(values)]
    for start, count in ((2000, 1000), (0, 7), (7, 1993)):
        assert finder.copies(start, count).tolist() == expected[start : start + count]
