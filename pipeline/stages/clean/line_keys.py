"""A document's lines in the forms the clean stage compares, made a document at a time.

Whitespace collapsed (the repeat rules), case-folded (the rule lists) and the frequency key's UTF-8
(hashed for the frequent-line rule): the same strings as `fold` and `frequency_key` line by line, in a
few calls per document instead of a few per line. Case folding maps every character on its own,
never to or from whitespace, a newline or a decimal digit, and no decimal digit changes when folded,
so folding the joined lines, or replacing its digits, and then splitting at the newlines gives each
line's result.
"""

from __future__ import annotations

import re

_DIGIT = re.compile(r"\d")
# The first UTF-8 byte of every decimal digit outside ASCII (a test checks the list against the Unicode
# database): text without any of these bytes has ASCII digits alone, which bytes.translate replaces in
# a fraction of the time re.sub takes over the text.
DIGIT_LEAD_BYTES = (0xD9, 0xDB, 0xDF, 0xE0, 0xE1, 0xEA, 0xEF, 0xF0)
_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")


def collapse_lines(text: str, lines: list[str]) -> list[str]:
    """Each line of `text` (`lines`: text.split("\\n")) with its whitespace runs collapsed to one space and
    its ends stripped."""
    if _collapsed(text):
        return lines  # most texts: the normalize stage collapsed them already
    return _collapse(lines)


def _collapse(lines: list[str]) -> list[str]:
    # str.split() and re's \s both split on the characters str.isspace() accepts, so this equals
    # re.sub(r"\s+", " ", line).strip() without a regex pass.
    return list(map(" ".join, map(str.split, lines)))


def _collapsed(text: str) -> bool:
    """Whether every line of the text is its own collapsed form: no whitespace but single spaces between
    other characters. str.isprintable() is False for every whitespace character but the space."""
    return (
        "  " not in text
        and " \n" not in text
        and "\n " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
        and text.replace("\n", " ").isprintable()
    )


def fold_lines(collapsed: list[str]) -> str:
    """The collapsed lines, case-folded, joined by newlines (split them at the newlines for each line's)."""
    return "\n".join(collapsed).casefold()


def fold_text(text: str) -> str:
    """fold_lines(collapse_lines(text, text.split("\\n"))), without splitting a text whose lines are
    collapsed already (joining its lines gives the text back)."""
    if _collapsed(text):
        return text.casefold()
    return fold_lines(_collapse(text.split("\n")))


def key_bytes(folded: str) -> list[bytes]:
    """The UTF-8 of each line's frequency key (its folded form with every decimal digit as 0), from
    `fold_lines`' result; empty for a blank line."""
    data = folded.encode("utf-8")
    if any(map(data.__contains__, DIGIT_LEAD_BYTES)):
        data = _DIGIT.sub("0", folded).encode("utf-8")
    else:
        data = data.translate(_ZERO_DIGITS)
    # A newline's byte never occurs inside another character's UTF-8.
    return data.split(b"\n")
