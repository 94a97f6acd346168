"""Every duplicate_of names a published record, whatever the order of the stages (the survivors stage)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import FIXTURES, read_dataset, read_ledger, write

from pipeline.stages.quality import Quality, QualityConfig
from pipeline.stages.quality.signals import compute

# Two real news article bodies (tests/fixtures/SOURCES.md): prose that passes every quality rule.
_BODIES = [
    v["article_body"] for v in json.loads((FIXTURES / "article_extraction" / "first3.json").read_text()).values()
][1:]


def prose(seed: int, sentences: int | None = None) -> list[str]:
    """The non-blank lines of a real article body (seed picks which), the first `sentences` of them."""
    lines = [line for line in _BODIES[seed % 2].split("\n") if line.strip()]
    return lines[:sentences] if sentences else lines


def jsonl(folder: Path, texts: dict[str, str]) -> Path:
    return write(folder / "docs.jsonl", "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in texts.items()))


def check_every_duplicate_of_is_published(result) -> tuple[list[dict], set[str]]:
    ledger = read_ledger(result).to_pylist()
    published = set(read_dataset(result.dataset).column("id").to_pylist())
    pointers = [row["duplicate_of"] for row in ledger if row["duplicate_of"] is not None]
    assert pointers and all(p in published for p in pointers)
    return ledger, published


def test_exact_copy_is_published_when_its_twin_fails_quality(run_pipeline, tmp_path: Path) -> None:
    # The case: the first copy repeats a line (a pull quote), so quality rejects it; its twin,
    # equal after folding whitespace but on one line, passes. Before, the twin was rejected as the
    # duplicate of a record that was then rejected too: the text was lost from both sides.
    lines = prose(1)
    first = "\n".join([*lines[:4], lines[1], *lines[4:]])
    twin = " ".join(first.split())
    jsonl(tmp_path / "in", {"a": first, "b": twin, "c": "\n".join(prose(3))})
    result = run_pipeline(tmp_path / "in", 'run.stages=["normalize", "dedup_exact", "language", "quality"]')
    ledger, published = check_every_duplicate_of_is_published_or_none(result)
    reasons = {row["id"]: (row["stage"], row["reason"]) for row in ledger}
    assert reasons["a"][0] == "quality"
    assert published == {"b", "c"}


def check_every_duplicate_of_is_published_or_none(result) -> tuple[list[dict], set[str]]:
    ledger = read_ledger(result).to_pylist()
    published = set(read_dataset(result.dataset).column("id").to_pylist())
    assert all(row["duplicate_of"] in published for row in ledger if row["duplicate_of"] is not None)
    return ledger, published


def test_exact_copies_point_at_the_published_copy_when_the_first_fails(run_pipeline, tmp_path: Path) -> None:
    lines = prose(1)
    first = "\n".join([*lines[:4], lines[1], *lines[4:]])
    flat = " ".join(first.split())
    jsonl(tmp_path / "in", {"a": first, "b": flat, "c": flat.upper().lower(), "d": "\n".join(prose(3))})
    result = run_pipeline(tmp_path / "in", 'run.stages=["normalize", "dedup_exact", "language", "quality"]')
    ledger, published = check_every_duplicate_of_is_published(result)
    rows = {row["id"]: row for row in ledger}
    assert published == {"b", "d"}
    assert (rows["c"]["stage"], rows["c"]["reason"]) == ("dedup_exact", "exact_duplicate")
    assert rows["c"]["duplicate_of"] == "b"
    assert "a was rejected by a later stage" in rows["c"]["detail"]


def test_near_copies_are_rechosen_among_those_that_pass(run_pipeline, tmp_path: Path) -> None:
    # dedup_near before quality: the longest copy is the first choice, but it repeats a line and
    # quality rejects it; of the two copies left the better one is published, the other points at it.
    lines = prose(0)
    longest = "\n".join([*lines, lines[1], lines[2]])
    second = "\n".join([*lines[:-1], "The teacher wrote it down for the record."])
    third = "\n".join([*lines[:-2], lines[-1], "It was the last of the notes in the book."])
    jsonl(tmp_path / "in", {"x": longest, "y": second, "z": third, "w": "\n".join(prose(1))})
    result = run_pipeline(
        tmp_path / "in",
        'run.stages=["normalize", "language", "dedup_near", "quality"]',
        "dedup_near.bands=32",
        "dedup_near.rows=4",
        "dedup_near.threshold=0.7",
    )
    ledger, published = check_every_duplicate_of_is_published(result)
    rows = {row["id"]: row for row in ledger}
    assert rows["x"]["stage"] == "quality"
    # Re-chosen as dedup_near chooses: the higher quality_score among the copies left.
    table = read_dataset(result.dataset)
    scores = dict(zip(table.column("id").to_pylist(), table.column("quality_score").to_pylist(), strict=True))
    (kept,) = published - {"w"}
    (other,) = {"y", "z"} - {kept}
    assert (rows[other]["reason"], rows[other]["duplicate_of"]) == ("near_duplicate", kept)
    assert "x was rejected by a later stage" in rows[other]["detail"]
    other_score = Quality(QualityConfig()).evaluate(compute(rows[other]["text"], "en"), "en")[0]
    assert scores[kept] >= other_score
    counts = dict(zip(table.column("id").to_pylist(), table.column("duplicate_count").to_pylist(), strict=True))
    assert counts == {kept: 1, "w": 0}


def test_survivor_is_kept_when_it_passes_and_internal_columns_are_not_published(run_pipeline, tmp_path: Path) -> None:
    text = "\n".join(prose(5))
    jsonl(tmp_path / "in", {"p": text, "q": text.upper(), "r": "\n".join(prose(0))})
    result = run_pipeline(tmp_path / "in", 'run.stages=["normalize", "dedup_exact", "language", "quality"]')
    ledger, _ = check_every_duplicate_of_is_published(result)
    assert [(r["id"], r["duplicate_of"]) for r in ledger] == [("q", "p")]
    assert not [c for c in read_dataset(result.dataset).column_names if c.startswith("_")]


def test_copies_point_through_a_copy_rejected_by_a_later_dedup_stage() -> None:
    # dedup_near before dedup_exact: near keeps "a" (the first choice) for "c"; exact then rejects "a"
    # as a copy of "b". "c" must point at "b", which is kept, and b counts c as its near-duplicate.
    import pyarrow as pa

    from pipeline.stages.survivors import Survivors, SurvivorsConfig

    batch = pa.RecordBatch.from_pydict(
        {
            "id": ["b", "a", "c"],
            "text": ["T", "t", "u"],
            "duplicate_count": pa.array([0, 1, 0], pa.int64()),
            # b is not in a's near group (say the candidate search missed the pair).
            "_dedup_near_group": [None, "a", "a"],
            "_dedup_near_detail": [None, None, "Jaccard 0.9 with kept document a"],
            "_dedup_exact_group": ["b", "b", None],
            "_dedup_exact_detail": [None, "same text as b", None],
        }
    )
    batch = batch.append_column("source", pa.array(["s"] * 3)).append_column("file", pa.array(["f"] * 3))
    stage = Survivors(SurvivorsConfig(stages=["dedup_near", "dedup_exact"]))
    stage.collect(batch, None)
    stage.decide()
    result = stage.apply(batch)
    rows = {r["id"]: (r["stage"], r["duplicate_of"]) for r in result.rejected.to_pylist()}
    assert rows == {"a": ("dedup_exact", "b"), "c": ("dedup_near", "b")}
    assert result.kept.column("id").to_pylist() == ["b"]
    assert result.kept.column("duplicate_count").to_pylist() == [1]
    assert not [name for name in result.kept.schema.names if name.startswith("_")]


def test_apply_from_any_shard_after_seek_matches_the_sequential_pass() -> None:
    # survivors' pass 2 runs on the workers: a pickled copy told where its shard starts must decide
    # each record as the sequential pass does.
    import pickle

    import pyarrow as pa

    from pipeline.stages.survivors import Survivors, SurvivorsConfig

    ids = [f"r{i}" for i in range(9)]
    batch = pa.RecordBatch.from_pydict(
        {
            "id": ids,
            "text": ["x"] * 9,
            "source": ["s"] * 9,
            "file": ["f"] * 9,
            "_dedup_exact_group": ["r0", None, "r0", "r3", None, "r3", "r0", None, None],
            "_dedup_exact_detail": [None, None, "same text as r0", None, None, "same text as r3", "same", None, None],
        }
    )
    stage = Survivors(SurvivorsConfig(stages=["dedup_exact"]))
    stage.collect(batch, None)
    stage.decide()
    decided = pickle.dumps(stage)
    whole = stage.apply(batch)
    pieces = []
    for start, length in ((6, 3), (0, 4), (4, 2)):  # shards out of order, as workers finish them
        worker = pickle.loads(decided)
        worker.seek(start)
        pieces.append((start, worker.apply(batch.slice(start, length))))
    pieces.sort(key=lambda piece: piece[0])
    assert [r for _, p in pieces for r in p.kept.column("id").to_pylist()] == whole.kept.column("id").to_pylist()
    assert [r for _, p in pieces for r in p.rejected.to_pylist()] == whole.rejected.to_pylist()
    assert whole.kept.column("id").to_pylist() == ["r0", "r1", "r3", "r4", "r7", "r8"]
