"""quality: the signals are computed a batch at once; every value must equal the recorded reference.

tests/fixtures/quality_signals.jsonl (benchmarks/parity/record_signals.py) holds the signals of the 300
parity documents and of 300 generated hostile strings as the document-at-a-time implementation computed
them. A batch must give each text the values it gets alone: no count may leak between documents.
"""

from __future__ import annotations

import json

import pytest
from helpers import FIXTURES

from pipeline.stages.quality.signals import SIGNALS, compute, compute_batch

# Split at "\n" alone: JSON escapes it inside strings, but not other line breaks (U+2028, \x1c).
LINES = (FIXTURES / "quality_signals.jsonl").read_text(encoding="utf-8").rstrip("\n").split("\n")
HEADER = json.loads(LINES[0])
PARITY = [json.loads(line)["text"] for line in (FIXTURES / "parity" / "documents.jsonl").open(encoding="utf-8")]
TEXTS = PARITY + [json.loads(line)[0] for line in LINES[1 + HEADER["parity_documents"] :]]
LANGUAGES = ["en"] * len(PARITY) + [json.loads(line)[1] for line in LINES[1 + HEADER["parity_documents"] :]]
EXPECTED = [json.loads(line) for line in LINES[1 : 1 + HEADER["parity_documents"]]] + [
    json.loads(line)[2] for line in LINES[1 + HEADER["parity_documents"] :]
]


def strict(values: list) -> list[tuple[str, str]]:
    """Values with their types: 1, 1.0 and True must not pass for one another."""
    return [(type(v).__name__, repr(v)) for v in values]


def test_fixture_matches_the_signal_list() -> None:
    assert HEADER["signals"] == [name for name, _, _ in SIGNALS]
    assert HEADER["parity_documents"] == len(PARITY)
    assert len(TEXTS) == len(EXPECTED) == 600


@pytest.mark.parametrize("batch_size", [600, 97, 1])
def test_batches_give_the_recorded_values(batch_size: int) -> None:
    names = HEADER["signals"]
    for start in range(0, len(TEXTS), batch_size):
        got = compute_batch(TEXTS[start : start + batch_size], LANGUAGES[start : start + batch_size])
        for offset, signals in enumerate(got):
            i = start + offset
            assert list(signals) == names
            assert strict(list(signals.values())) == strict(EXPECTED[i]), (i, TEXTS[i][:80])


def test_a_text_alone_gets_its_values_in_a_batch() -> None:
    # The generated texts in reverse order, so each has other neighbours than in the fixture.
    texts, languages = TEXTS[::-1], LANGUAGES[::-1]
    batch = compute_batch(texts, languages)
    for text, language, signals in zip(texts[:60], languages[:60], batch, strict=False):
        assert strict(list(compute(text, language).values())) == strict(list(signals.values()))
