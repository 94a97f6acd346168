"""pii's batch screens (RE2 over the batch) rule out only what the detectors' own `re` screens rule out,
so the stage finds the same spans as running every detector on every text."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stages.pii import Pii, PiiConfig
from pipeline.stages.pii import patterns as p
from pipeline.stages.pii.screens import has_secret_literal, may_hold

_RE_SCREENS = {
    "ip": [p._IPV4_SCREEN, p._IPV6_SCREEN],
    "phone": [needed for needed, _ in p._PHONE_PATTERNS],
    "card": [p._CARD_SCREEN],
}
# ASCII, Arabic-Indic, Devanagari and full-width digits (all `\d` for Python's re on str), the
# separators and letters the screens and patterns use, and a few others.
_ALPHABET = "0123456789٣٤५６ .-/+:()aAfFxk@_\n" + "".join(sorted(set("".join(p.SECRET_LITERALS))))


def _texts() -> st.SearchStrategy[list[str]]:
    return st.lists(st.text(alphabet=_ALPHABET, max_size=60), min_size=1, max_size=20)


@given(_texts())
@settings(max_examples=2000, deadline=None)
def test_a_text_the_re_screens_pass_is_never_ruled_out_by_the_batch_screens(texts: list[str]) -> None:
    may = may_hold(pa.array(texts, pa.string()), ["ip", "phone", "card", "email", "secret"])
    assert set(may) == {"ip", "phone", "card"}
    for kind, screens in _RE_SCREENS.items():
        for row, text in enumerate(texts):
            if any(screen.search(text) for screen in screens):
                assert may[kind][row], (kind, text)
    literal = has_secret_literal(pa.array(texts, pa.string()))
    assert literal == [any(part in text for part in p.SECRET_LITERALS) for text in texts]


_SAMPLES = [
    "call +44 20 7946 0958 or 415-555-0132, card 4111 1111 1111 1111, host 192.168.1.20",
    "IPv6 2001:db8:85a3::8a2e:370:7334 and jane.doe@example.com",
    "token ghp_" + "a1" * 18 + " then AKIA" + "ABCDEFGHIJKLMNOP" + " end",
    "api_key = 'x9Yz3kLm02QwErTy'",
    "no personal data here, only words.",
    "٣٤٥-٦٧٨٩ ٠١ ٢٣ ٤٥ ٦٧ ٨٩",
]


@given(st.lists(st.sampled_from(_SAMPLES) | st.text(alphabet=_ALPHABET, max_size=80), min_size=1, max_size=12))
@settings(max_examples=300, deadline=None)
def test_the_stage_gives_what_every_detector_on_every_text_gives(texts: list[str]) -> None:
    stage = Pii(PiiConfig())
    batch = pa.RecordBatch.from_pydict({"id": [str(i) for i in range(len(texts))], "text": texts})
    kept = stage.process(batch).kept
    expected = [stage.scrub(text) for text in texts]
    assert kept.column("text").to_pylist() == [text for text, _ in expected]
    assert kept.column("pii").to_pylist() == [counts for _, counts in expected]
