"""The card and the report share one class of invisible characters: what one catches, the other does too."""

from __future__ import annotations

import pytest

from pipeline.publish.card import escape_cell
from pipeline.report.textsafe import cap

HOSTILE = [
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200b",  # zero-width space
    "\u00ad",  # soft hyphen
    "\u2028",  # line separator
    "\ufeff",  # byte order mark
    "\x1b",  # escape (terminal control)
    "\x85",  # next line (C1)
    "\ufffb",  # interlinear annotation terminator
]


@pytest.mark.parametrize("char", HOSTILE, ids=[f"U+{ord(c):04X}" for c in HOSTILE])
def test_card_strips_and_report_marks_the_same_characters(char: str) -> None:
    value = f"safe{char}text"
    assert escape_cell(value) == "safetext"
    assert cap(value, 100) == f"safe<U+{ord(char):04X}>text"


def test_tab_and_newline_are_not_invisible() -> None:
    assert cap("a\tb\nc", 100) == "a\tb\nc"
