"""langdetect-rs (the `fast` extra) gives exactly langdetect's answers, or is not used."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from helpers import FIXTURES

from pipeline.records import RECORD_SCHEMA
from pipeline.stages.language import Language, LanguageConfig
from pipeline.stages.language import backend as langdetect_backend

pytest.importorskip("langdetect_rs", reason="the `fast` extra is not installed")

DOCS = [json.loads(line) for line in (FIXTURES / "lingua-500" / "docs.jsonl").read_text(encoding="utf-8").splitlines()]


def test_fixture_covers_many_languages() -> None:
    assert len(DOCS) == 500
    assert len({d["lang"] for d in DOCS}) == 21


def test_the_recorded_probe_answers_are_langdetects_own() -> None:
    """The self-check compares langdetect-rs with these instead of loading langdetect at every start."""
    recorded = json.loads(
        (Path(langdetect_backend.__file__).parents[2] / "data" / langdetect_backend.RECORDED_PROBES).read_text()
    )
    live = langdetect_backend.record_probes(0)
    # After a langdetect upgrade: python -c "import json; from pipeline.stages.language.backend import
    # record_probes; print(json.dumps(record_probes(), indent=1, ensure_ascii=False))" > the file.
    assert json.loads(json.dumps(live)) == recorded
    assert langdetect_backend._recorded_answers(0) == live["answers"]


def test_a_wrong_recording_makes_the_self_check_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = langdetect_backend.record_probes(0)["answers"]
    answers[0] = [("en", 0.5)]
    monkeypatch.setattr(langdetect_backend, "_recorded_answers", lambda seed: answers)
    assert "on the probe 'The quick brown fox" in (langdetect_backend.self_check(0) or "")


def test_other_seeds_check_against_langdetect_itself() -> None:
    assert langdetect_backend._recorded_answers(7) is None
    assert langdetect_backend.self_check(7) is None


def test_the_self_check_passes_and_the_fast_backend_is_chosen() -> None:
    assert langdetect_backend.self_check(0) is None
    assert langdetect_backend.factory(0)[0] == "langdetect-rs"
    assert langdetect_backend.factory(0, prefer_fast=False)[0] == "langdetect"


@pytest.mark.parametrize("seed", [0, 7])
def test_same_languages_and_probabilities_on_500_documents(seed: int) -> None:
    fast = langdetect_backend._load_factory(langdetect_backend.FAST_PACKAGE, seed)
    slow = langdetect_backend._load_factory("langdetect", seed)
    for doc in DOCS:
        assert langdetect_backend._probabilities(fast, doc["text"]) == langdetect_backend._probabilities(
            slow, doc["text"]
        ), doc["id"]


def test_the_stage_output_is_identical_with_either_backend() -> None:
    batch = pa.RecordBatch.from_pylist(
        [
            {"id": d["id"], "text": d["text"], "source": f"docs.jsonl#{i + 1}", "url": None, "file": "docs.jsonl"}
            for i, d in enumerate(DOCS)
        ],
        schema=RECORD_SCHEMA,
    )
    fast = Language(LanguageConfig(backend="auto"))
    slow = Language(LanguageConfig(backend="langdetect"))
    assert fast.shard_notes()["backend"] == "langdetect-rs"
    assert slow.shard_notes()["backend"] == "langdetect"
    a, b = fast.process(batch), slow.process(batch)
    assert a.kept.equals(b.kept) and a.rejected.equals(b.rejected)
    assert 250 < a.kept.num_rows < 320  # the English documents, give or take a few uncertain ones
