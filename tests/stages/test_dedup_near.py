"""dedup_near on hand-made cases whose answer is known, and end to end through the runner."""

from __future__ import annotations

import multiprocessing
import re
import unicodedata
from pathlib import Path

import pyarrow as pa
import pytest
from helpers import FIXTURES, read_dataset, read_ledger, write

from pipeline.config import load_config
from pipeline.errors import UsageError
from pipeline.stage import StageResult
from pipeline.stages.dedup_near import DedupNear, DedupNearConfig
from pipeline.stages.survivors import Survivors, SurvivorsConfig

# Synthetic word lists have no punctuation, so the quality stage would reject them: run without it.
NEAR_ONLY = 'run.stages=["normalize", "dedup_exact", "language", "dedup_near"]'

# Bands of 4 rows: a pair at Jaccard 0.65 or more is a candidate with probability > 1 − 1e-9, so
# these tests are about verification and keep order, not about LSH luck.
SURE = {"bands": 32, "rows": 4}


def batch_of(texts: list[str], quality: list[float | None] | None = None, first: int = 0) -> pa.RecordBatch:
    ids = [f"doc{first + i}" for i in range(len(texts))]
    columns = {
        "id": ids,
        "text": texts,
        "source": [f"in.jsonl#{first + i + 1}" for i in range(len(texts))],
        "url": pa.nulls(len(texts), pa.string()),
        "file": ["in.jsonl"] * len(texts),
    }
    if quality is not None:
        columns["quality_score"] = pa.array(quality, pa.float64())
    return pa.RecordBatch.from_pydict(columns)


def run_stage(texts: list[str], batch_size: int = 1000, quality=None, **config) -> list[StageResult]:
    stage = DedupNear(DedupNearConfig(**config))
    batches = [
        batch_of(texts[i : i + batch_size], None if quality is None else quality[i : i + batch_size], i)
        for i in range(0, len(texts), batch_size)
    ]
    for batch in batches:
        stage.collect(batch, stage.prepare(batch))
    stage.decide()
    return resolve(stage, batches)


def resolve(stage: DedupNear, batches: list[pa.RecordBatch]) -> list[StageResult]:
    """The stage marks the copies; the survivors stage (last in a run) rejects them."""
    marked = [stage.apply(batch).kept for batch in batches]
    survivors = Survivors(SurvivorsConfig(stages=["dedup_near"]))
    for batch in marked:
        survivors.collect(batch, None)
    survivors.decide()
    return [survivors.apply(batch) for batch in marked]


def outcome(results: list[StageResult]) -> tuple[dict[str, int], dict[str, tuple[str, str]]]:
    kept: dict[str, int] = {}
    removed: dict[str, tuple[str, str]] = {}
    for r in results:
        kept.update(zip(r.kept.column("id").to_pylist(), r.kept.column("duplicate_count").to_pylist(), strict=True))
        for row in r.rejected.to_pylist():
            assert row["reason"] == "near_duplicate"
            removed[row["id"]] = (row["duplicate_of"], row["detail"])
    return kept, removed


def words(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def replaced(tokens: list[str], positions: range | list[int], tag: str) -> list[str]:
    out = list(tokens)
    for p in positions:
        out[p] = f"{tag}{p}"
    return out


def jaccard(a: list[str], b: list[str], n: int = 5) -> float:
    sa = {tuple(a[i : i + n]) for i in range(len(a) - n + 1)}
    sb = {tuple(b[i : i + n]) for i in range(len(b) - n + 1)}
    return len(sa & sb) / len(sa | sb)


def measured(detail: str) -> float:
    match = re.search(r"Jaccard (\d\.\d+)", detail)
    assert match, detail
    return float(match.group(1))


def test_chain_a_b_c_removes_b_and_keeps_c_which_is_far_from_a() -> None:
    a = words("w", 364)
    b = replaced(a, range(10, 90, 10), "b")  # 8 isolated edits
    c = replaced(b, range(200, 280, 10), "c")  # 8 more, elsewhere
    assert jaccard(a, b) >= 0.8 and jaccard(b, c) >= 0.8 and jaccard(a, c) < 0.7
    kept, removed = outcome(run_stage([" ".join(a), " ".join(b), " ".join(c)], **SURE))
    assert kept == {"doc0": 1, "doc2": 0}
    assert removed["doc1"][0] == "doc0"
    assert measured(removed["doc1"][1]) == pytest.approx(jaccard(a, b), abs=1e-4)


def test_exactly_at_threshold_is_removed_and_just_under_is_kept() -> None:
    # 360 shingles, 8 isolated edits: 320 shared of 400 = 0.8 exactly.
    at_a = words("x", 364)
    at_b = replaced(at_a, range(20, 340, 40), "e")
    # One shingle fewer: 319 of 399 = 0.7995.
    under_a = words("y", 363)
    under_b = replaced(under_a, range(20, 340, 40), "e")
    assert jaccard(at_a, at_b) == 0.8 and 0.799 < jaccard(under_a, under_b) < 0.8
    texts = [" ".join(t) for t in (at_a, at_b, under_a, under_b)]
    kept, removed = outcome(run_stage(texts, threshold=0.8, **SURE))
    assert set(removed) == {"doc1"}
    assert removed["doc1"][0] == "doc0"
    assert "Jaccard 0.8000" in removed["doc1"][1]
    assert kept == {"doc0": 1, "doc2": 0, "doc3": 0}


@pytest.mark.parametrize("language", ["zh", "ja", "th"])
def test_near_duplicates_in_scripts_without_spaces_are_found(language: str) -> None:
    lines = (FIXTURES / "dedup_near" / f"{language}.txt").read_text(encoding="utf-8").splitlines()
    original = "".join(lines[:6])
    # Replace two letters far apart by another letter (same token count, so the original keeps its
    # input-order precedence): a handful of character 5-grams differ, the rest are shared.
    letter = "ก" if language == "th" else "中"
    edited = list(original)
    for start in (40, 200):
        at = next(i for i in range(start, len(original)) if unicodedata.category(original[i]) == "Lo")
        edited[at] = letter if original[at] != letter else "口"
    edited = "".join(edited)
    other = "".join(lines[6:12])
    kept, removed = outcome(run_stage([original, edited, other]))
    assert kept == {"doc0": 1, "doc2": 0}
    assert removed["doc1"][0] == "doc0"
    assert measured(removed["doc1"][1]) > 0.9


def test_short_documents_are_one_shingle_and_still_deduplicated() -> None:
    kept, removed = outcome(run_stage(["Hello world", "hello, WORLD!", "hello there", "ok"]))
    assert removed == {"doc1": ("doc0", removed["doc1"][1])}
    assert "Jaccard 1.0000" in removed["doc1"][1]
    assert kept == {"doc0": 1, "doc2": 0, "doc3": 0}


def test_the_longer_copy_survives_and_the_removed_one_points_at_it() -> None:
    body = words("z", 300)
    longer = [*body, *words("tail", 10)]
    kept, removed = outcome(run_stage([" ".join(body), " ".join(longer)], **SURE))
    assert kept == {"doc1": 1}
    assert removed["doc0"][0] == "doc1"


def test_quality_score_outranks_length_and_missing_quality_ranks_last() -> None:
    body = words("q", 300)
    texts = [" ".join(body), " ".join([*body, "more"]), " ".join([*body, "more", "still"])]
    kept, removed = outcome(run_stage(texts, quality=[0.9, None, 0.2], **SURE))
    assert kept == {"doc0": 2}
    assert {k: v[0] for k, v in removed.items()} == {"doc1": "doc0", "doc2": "doc0"}


def test_unrelated_documents_are_all_kept() -> None:
    texts = [" ".join(words(f"u{d}_", 50)) for d in range(30)]
    kept, removed = outcome(run_stage(texts))
    assert removed == {} and len(kept) == 30


def test_same_decisions_for_every_batch_size() -> None:
    base = words("d", 200)
    texts = []
    for i in range(40):
        variant = replaced(base, range(i % 7, 200, 37 + i), f"v{i}_") if i % 3 else base
        texts.append(" ".join(variant) if i % 5 else " ".join(words(f"o{i}_", 120)))
    reference = outcome(run_stage(texts, batch_size=1000))
    assert reference[1], "the case must remove something"
    for size in (1, 3, 17):
        assert outcome(run_stage(texts, batch_size=size)) == reference


def test_bands_without_rows_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="bands"):
        load_config(None, ["dedup_near.bands=8"], require_file=False)
    with pytest.raises(UsageError, match="exceeds num_perm"):
        load_config(None, ["dedup_near.bands=20", "dedup_near.rows=8"], require_file=False)


def _english(n: int, prefix: str) -> str:
    sentence = (
        "the river ran past the old mill where children played every summer while their parents worked "
        "in the fields and talked about the weather the harvest and the price of bread at the market"
    )
    vocabulary = sentence.split()
    return " ".join(f"{vocabulary[i % len(vocabulary)]}" if i % 4 else f"{prefix}{i}" for i in range(n))


def test_end_to_end_ledger_rows_and_duplicate_count_in_the_published_parquet(run_pipeline, tmp_path: Path) -> None:
    original = _english(400, "alpha")
    tokens = original.split()
    near = " ".join(replaced(tokens, [101, 301], "edit"))
    other = _english(300, "beta")
    lines = [original, near, other]
    write(tmp_path / "in" / "docs.jsonl", "".join(f'{{"id": "r{i}", "text": "{t}"}}\n' for i, t in enumerate(lines)))
    result = run_pipeline(tmp_path / "in", NEAR_ONLY, "dedup_near.bands=32", "dedup_near.rows=4")
    ledger = read_ledger(result).to_pylist()
    assert [(r["id"], r["stage"], r["reason"], r["duplicate_of"]) for r in ledger] == [
        ("r1", "dedup_near", "near_duplicate", "r0")
    ]
    assert measured(ledger[0]["detail"]) == pytest.approx(jaccard(tokens, near.split()), abs=1e-4)
    published = read_dataset(result.dataset)
    assert published.schema.field("duplicate_count").type == pa.int64()
    assert dict(
        zip(published.column("id").to_pylist(), published.column("duplicate_count").to_pylist(), strict=True)
    ) == {
        "r0": 1,
        "r2": 0,
    }


def test_end_to_end_output_is_identical_for_any_batch_size(run_pipeline, tmp_path: Path) -> None:
    base = _english(250, "gamma").split()
    lines = [" ".join(replaced(base, [7 * i + 3], f"e{i}_")) for i in range(12)] + [_english(200, "delta")]
    write(tmp_path / "in" / "docs.jsonl", "".join(f'{{"id": "r{i}", "text": "{t}"}}\n' for i, t in enumerate(lines)))
    results = [
        run_pipeline(
            tmp_path / "in", NEAR_ONLY, f"run.batch_size={size}", name=f"b{size}", output=tmp_path / f"out{size}"
        )
        for size in (1, 5, 1000)
    ]
    ledgers = [read_ledger(r) for r in results]
    datasets = [read_dataset(r.dataset) for r in results]
    assert ledgers[0].num_rows > 0
    for ledger, dataset in zip(ledgers[1:], datasets[1:], strict=True):
        assert ledger.equals(ledgers[0])
        assert dataset.equals(datasets[0])


def test_prepare_in_worker_processes_gives_the_same_decisions() -> None:
    base = words("p", 150)
    texts = [" ".join(replaced(base, [3 * i + 1], f"r{i}_")) for i in range(9)] + [" ".join(words("solo", 80))]
    batches = [batch_of(texts[i : i + 4], first=i) for i in range(0, len(texts), 4)]

    def decided(stage: DedupNear, prepared: list) -> tuple:
        for batch, p in zip(batches, prepared, strict=True):
            stage.collect(batch, p)
        stage.decide()
        return outcome(resolve(stage, batches))

    local = DedupNear(DedupNearConfig())
    reference = decided(local, [local.prepare(b) for b in batches])
    pooled = DedupNear(DedupNearConfig())
    # The stage is pickled into the workers; their prepare() results come back pickled.
    with multiprocessing.get_context("fork").Pool(2) as pool:
        prepared = pool.map(pooled.prepare, batches)
    assert decided(pooled, prepared) == reference
    assert reference[1]
