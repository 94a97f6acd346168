"""The dataset, card and ledger are byte-identical for any worker count and batch size."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from helpers import FIXTURES, make_config, read_dataset

from pipeline.execution.runner import Runner, RunResult

DOCS = FIXTURES / "lingua-500" / "docs.jsonl"


def build_corpus(root: Path) -> Path:
    """The 500 fixture documents in three JSONL files plus duplicates, bad records and a .txt folder."""
    docs = [json.loads(line) for line in DOCS.read_text(encoding="utf-8").splitlines()]
    for part in range(3):
        lines = [json.dumps(d, ensure_ascii=False) for d in docs[part::3]]
        if part == 1:
            lines.insert(5, '{"id": "broken", "text": ')  # not JSON
            lines.insert(9, '{"id": "blank", "text": "   "}')
        (root / "jsonl").mkdir(parents=True, exist_ok=True)
        (root / "jsonl" / f"part-{part}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Exact duplicates (after case and whitespace folding) of earlier documents, under new ids.
    english = [d for d in docs if d["lang"] == "en"]
    copies = [{"id": f"copy-{i}", "text": "  " + english[i * 7]["text"].upper()} for i in range(25)]
    (root / "jsonl" / "part-3.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in copies), encoding="utf-8"
    )
    for i in range(12):
        (root / "pages" / f"page-{i:02d}.txt").parent.mkdir(parents=True, exist_ok=True)
        (root / "pages" / f"page-{i:02d}.txt").write_text(docs[100 + i]["text"] + "\n\n" + docs[200 + i]["text"])
    (root / "pages" / "empty.txt").write_text("")
    return root


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def run_and_keep(corpus: Path, output: Path, keep: Path, workers: int, batch_size: int, **kwargs) -> RunResult:
    # The fixture's documents are one to three sentences: C4's five-sentence rule would leave too few
    # published rows to compare, so it asks for one here.
    config = make_config(
        corpus,
        output,
        "ds",
        [f"run.batch_size={batch_size}", "run.keep_work_steps='all'", "quality.c4_min_sentences=1"],
    )
    result = Runner(config, workers=workers, **kwargs).run()
    shutil.copytree(result.dataset, keep / "dataset")
    shutil.copy(result.report / "rejected.parquet", keep / "rejected.parquet")
    return result


def test_output_is_identical_for_workers_and_batch_sizes(corpus: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    runs = [(1, 7), (2, 7), (2, 64), (1, 1000)]
    results = []
    for workers, batch_size in runs:
        keep = tmp_path / f"w{workers}-b{batch_size}"
        keep.mkdir()
        results.append(run_and_keep(corpus, output, keep, workers, batch_size, fresh=True))
    first = results[0]
    # The corpus exercises every path: ingest rejects, duplicates, other languages, published rows.
    rejected = {t.name: sum(t.rejected.values()) for t in first.tallies}
    # 25 planted copies, plus pages/page-05.txt and page-10.txt: `clean` trims one of their two
    # documents as edge furniture, leaving an exact copy of the other.
    # dedup_exact only marks them; survivors rejects the copies left once language and quality decided
    # (here quality rejects the short planted copies for their own faults, and both of a pair alike).
    # The tallies list those rejections under dedup_exact, the stage the ledger rows name.
    assert rejected["ingest"] >= 3 and rejected["language"] >= 150
    assert 0 < rejected["dedup_exact"] <= 27 and rejected["survivors"] == 0
    ledger = pq.read_table(first.report / "rejected.parquet", columns=["duplicate_of"]).column(0).to_pylist()
    published = set(read_dataset(first.dataset).column("id").to_pylist())
    assert all(pointer in published for pointer in ledger if pointer is not None)
    # The fixture's documents are short sentences: quality rejects those under 50 words.
    assert rejected["quality"] >= 100
    assert first.records_published > 100
    assert read_dataset(first.dataset).num_rows == first.records_published
    baseline = files_of(tmp_path / "w1-b7")
    assert "dataset/README.md" in baseline and "rejected.parquet" in baseline
    for workers, batch_size in runs[1:]:
        assert files_of(tmp_path / f"w{workers}-b{batch_size}") == baseline, (workers, batch_size)


def test_rerun_reuses_the_work_folder_and_gives_the_same_bytes(corpus: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    run_and_keep(corpus, output, tmp_path / "a", 2, 50)
    result = run_and_keep(corpus, output, tmp_path / "b", 2, 50)
    run = json.loads((result.report / "run.json").read_text())
    assert all(step["reused"] for step in run["execution"]["steps"])
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")


def test_changed_stage_config_redoes_only_that_step_and_later(corpus: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    keep_all = "run.keep_work_steps='all'"
    Runner(make_config(corpus, output, "ds", ["run.batch_size=50", keep_all]), workers=1).run()
    changed = make_config(corpus, output, "ds", ["run.batch_size=50", keep_all, 'language.languages=["en", "de"]'])
    result = Runner(changed, workers=1).run()
    run = json.loads((result.report / "run.json").read_text())
    reused = {step["step"]: step["reused"] for step in run["execution"]["steps"]}
    assert reused == {
        "ingest": True,
        "normalize": True,
        "clean": True,
        "pii": True,
        "dedup_exact": True,
        "language+quality": False,
        "dedup_near": False,
        "stats": False,
        "validate": False,
        "survivors": False,
    }
    assert "de" in set(read_dataset(result.dataset).column("language").to_pylist())
    # And it equals a fresh run of the changed config.
    keep = tmp_path / "fresh"
    keep.mkdir()
    shutil.copytree(result.dataset, tmp_path / "resumed")
    fresh = Runner(changed, workers=1, fresh=True).run()
    assert files_of(fresh.dataset) == files_of(tmp_path / "resumed")
