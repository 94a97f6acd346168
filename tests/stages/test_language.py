import os

import pyarrow as pa
from langdetect.detector_factory import PROFILES_DIRECTORY

from pipeline.records import RECORD_SCHEMA
from pipeline.stages.language import Language, LanguageConfig, _factory, detect


def _batch(texts: list[str]) -> pa.RecordBatch:
    rows = [
        {"id": str(i), "text": t, "source": f"{i}.txt", "url": None, "file": f"{i}.txt"} for i, t in enumerate(texts)
    ]
    return pa.RecordBatch.from_pylist(rows, schema=RECORD_SCHEMA)


def test_profiles_are_loaded_in_sorted_order() -> None:
    names = sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith("."))
    assert _factory(0).get_lang_list() == names


def test_detection_is_repeatable() -> None:
    text = "Ceci est une phrase en français, assez longue pour que la détection soit sûre."
    first = detect(text)
    assert first[0] == "fr"
    assert all(detect(text) == first for _ in range(5))


def test_reasons_for_rejection() -> None:
    stage = Language(LanguageConfig(languages=["en"], min_language_score=0.8))
    result = stage.process(
        _batch(
            [
                "This is an English sentence about data pipelines and the datasets they publish.",
                "Dies ist ein deutscher Satz über Datenpipelines und die Datensätze, die sie veröffentlichen.",
                "1234 5678 -- 90 !!",
            ]
        )
    )
    assert result.kept.column("language").to_pylist() == ["en"]
    assert 0.8 <= result.kept.column("language_score").to_pylist()[0] <= 1.0
    assert result.rejected.column("reason").to_pylist() == ["language", "no_language"]
    assert "detected de" in result.rejected.column("detail").to_pylist()[0]


def test_empty_language_list_keeps_every_language_and_low_scores_are_uncertain() -> None:
    keep_all = Language(LanguageConfig(languages=[], min_language_score=0.0))
    texts = ["Dies ist ein deutscher Satz über Datenpipelines.", "Hello there my friend, how are you today?"]
    assert keep_all.process(_batch(texts)).kept.num_rows == 2
    strict = Language(LanguageConfig(languages=[], min_language_score=1.01))
    assert set(strict.process(_batch(texts)).rejected.column("reason").to_pylist()) == {"language_uncertain"}
