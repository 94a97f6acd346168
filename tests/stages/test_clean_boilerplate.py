from __future__ import annotations

import pytest

from pipeline.stages.clean.boilerplate import load_rules, match, required_literal, screen

LISTS = ("en", "de", "fr", "es")


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"\ball rights reserved\b", "all rights reserved"),
        (r"\bcomments? (are|is) closed\b", "comment"),  # the 's' may be absent
        (r"\bsave my name,? email\b", "save my name"),
        (r"\bcookie-?(richtlinie|einstellungen)\b", "cookie"),
        (r"\bs.abonner\b", "abonner"),
        (r"abcd{2,3}xy", "abc"),  # the quantifier's digits are not text
        (r"abcd[(]efgh(ij)?klm", "abcd"),
        (r"\b(accept|decline) (all )?cookies\b", "cookies"),
    ],
)
def test_required_literal_is_text_every_match_contains(pattern: str, literal: str) -> None:
    assert required_literal(pattern) == literal


@pytest.mark.parametrize("pattern", [r"abc|def", r"(?i)cookies", r"a{2,3}xy", r"ab+cd", r"(cookies|newsletter)"])
def test_required_literal_gives_up_when_unsure(pattern: str) -> None:
    assert required_literal(pattern) is None


@pytest.mark.parametrize(
    "line",
    [
        "we use cookies to improve your experience",
        "© 2024 acme corp. all rights reserved.",
        "lorem ipsum dolor sit amet, " + "consectetur adipiscing elit " * 30,
        "subscribe to our newsletter",
        "your email address will not be published. required fields are marked *",
        "bitte aktivieren sie javascript",
        "tous droits réservés",
        "política de cookies",
        "menu",
        "share on facebook",
    ],
)
def test_screen_passes_every_line_a_rule_removes(line: str) -> None:
    rules = load_rules(LISTS)
    words = len(line.split())
    assert match(rules, line, words) is not None
    assert screen(rules)(line, words)


def test_screen_rules_out_plain_prose() -> None:
    test = screen(load_rules(LISTS))
    line = "the committee met on tuesday and agreed on the budget for next year."
    assert not test(line, len(line.split()))
