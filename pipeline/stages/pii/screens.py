"""Batch screens: which texts of a batch can hold an IP address, phone number, card number or one of
the secret patterns' literal parts, decided for the whole batch at once with Arrow's RE2 kernels.

Each detector in patterns.py already opens with a necessary test, but run text by text with Python's
`re` those tests cost about 0.1 ms per document (eight scans of each text), most of them finding
nothing. Here each test is one RE2 pattern over the batch's text column, written to match at least
wherever the `re` test matches (Python's `\\d` on str is Unicode category Nd, so `\\p{Nd}` here, never
RE2's ASCII `\\d`): a text the batch screen rules out would have been ruled out by the detector
itself, so the detectors run unchanged on the texts that pass and the spans found are the same.
tests/stages/test_pii_screens.py checks the implication on generated text.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.stages.pii.patterns import SECRET_LITERALS

# kind -> RE2 patterns, one per `re` screen of that kind's detector (patterns.py), in the same order.
SCREENS: dict[str, tuple[str, ...]] = {
    # _IPV4_SCREEN, _IPV6_SCREEN
    "ip": (r"\p{Nd}\.\p{Nd}{1,3}\.\p{Nd}{1,3}\.\p{Nd}", r":[0-9A-Fa-f]{0,4}:"),
    # _PHONE_PATTERNS' screens
    "phone": (
        r"\+\p{Nd}",
        r"\p{Nd}{3}[ .-]\p{Nd}{4}",
        r"0\p{Nd}{1,4}[ /-]\p{Nd}{3}",
        r"0\p{Nd}[ .]\p{Nd}\p{Nd}[ .]\p{Nd}\p{Nd}[ .]\p{Nd}\p{Nd}[ .]\p{Nd}\p{Nd}",
    ),
    # _CARD_SCREEN
    "card": (r"\p{Nd}(?:[ -]?\p{Nd}){12}",),
}
_LITERALS = "|".join(re.escape(part) for part in SECRET_LITERALS)


def _any(texts: pa.Array, patterns: tuple[str, ...]) -> np.ndarray:
    hit = np.zeros(len(texts), dtype=bool)
    for pattern in patterns:
        hit |= pc.fill_null(pc.match_substring_regex(texts, pattern), False).to_numpy(zero_copy_only=False)
    return hit


def may_hold(texts: pa.Array | pa.ChunkedArray, kinds: list[str]) -> dict[str, list[bool]]:
    """Per screened kind in `kinds`, whether each text can hold one (False: it certainly cannot)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    return {kind: _any(texts, SCREENS[kind]).tolist() for kind in kinds if kind in SCREENS}


def has_secret_literal(texts: pa.Array | pa.ChunkedArray) -> list[bool]:
    """Whether each text contains one of SECRET_LITERALS (exactly: a literal alternation)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    return _any(texts, (_LITERALS,)).tolist()
