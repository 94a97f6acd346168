"""The screen in front of ftfy: normalize's mojibake repair equals ftfy.fix_text, ftfy only runs where needed."""

import json
import random
from pathlib import Path
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

import ftfy
import pytest
from ftfy.badness import BADNESS_RE

from pipeline.stages.normalize import Normalize, NormalizeConfig
from pipeline.stages.normalize.mojibake import MojibakeFixer

FTFY_CASES = Path(__file__).parent.parent / "fixtures" / "ftfy"


@pytest.fixture(scope="module")
def fixer() -> MojibakeFixer:
    return Normalize(NormalizeConfig()).mojibake_fixer()


def ftfy_strings() -> list[str]:
    strings = []
    for path in sorted(FTFY_CASES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            strings += [case[key] for key in ("original", "fixed", "fixed-encoding") if key in case]
    return strings


def test_screen_is_proven_against_this_ftfy(fixer: MojibakeFixer) -> None:
    # The screen checks its coverage of BADNESS_RE when built; with this ftfy it must be on.
    assert fixer.screened


def test_ftfy_test_cases_identical(fixer: MojibakeFixer) -> None:
    strings = ftfy_strings()
    assert len(strings) > 300
    changed = 0
    for text in strings:
        # Alone, as one line among clean prose, and repeated over several lines.
        for variant in (text, f"Clean line one.\n{text}\nAnd a clean “quoted” line — done…", text + "\n" + text):
            expected = ftfy.fix_text(variant, fixer._config)
            assert fixer.fix(variant) == expected, variant
            if expected != variant:
                changed += 1
                assert fixer.needs_ftfy(variant), variant
    assert changed > 150  # the cases really exercise ftfy's repairs


def _sample(items: list, rng: random.Random) -> str:
    """A random string matched by a parsed regex sequence (classes, literals, optional repeats)."""
    out = []
    for op, value in items:
        if op == sre.LITERAL:
            out.append(chr(value))
        elif op == sre.IN:
            pool = []
            for kind, member in value:
                if kind == sre.LITERAL:
                    pool.append(member)
                elif kind == sre.RANGE:
                    pool += range(member[0], member[1] + 1)
            out.append(chr(rng.choice(pool)) if pool else rng.choice(" \n.é9"))
        elif op == sre.MAX_REPEAT:
            low, _high, sub = value
            out += [_sample(sub.data, rng) for _ in range(max(low, rng.randint(0, 1)))]
        elif op == sre.ANY:
            out.append(rng.choice("aé €\u00a0"))
        elif op == sre.NOT_LITERAL:
            out.append("a" if value != ord("a") else "b")
    return "".join(out)


def test_every_badness_alternative_is_screened(fixer: MojibakeFixer) -> None:
    # Strings built to match each of ftfy's mojibake patterns, inside clean text: none may be skipped.
    rng = random.Random(0)
    alternatives = _parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags).data[0][1][1]
    matched = 0
    for alternative in alternatives:
        for _ in range(200):
            core = _sample(alternative.data, rng)
            for text in (core, f"Some words “here” {core} and there.", f"first line\n{core}\nlast"):
                if BADNESS_RE.search(text.split("\n")[1] if "\n" in text else text):
                    matched += 1
                    assert fixer.needs_ftfy(text), (alternative, text)
                assert fixer.fix(text) == ftfy.fix_text(text, fixer._config), text
    assert matched > 5000


@pytest.mark.parametrize(
    "text",
    [
        "Plain English with “curly quotes”, an em dash — and an ellipsis… and no mojibake.",
        "Texte français : élève, où, déjà, cœur.\nZweite Zeile: Größe, Straße.",
        "Русский текст без ошибок.\nΕλληνικά επίσης.",
    ],
)
def test_clean_text_skips_ftfy(fixer: MojibakeFixer, text: str) -> None:
    assert ftfy.fix_text(text, fixer._config) == text
    if "cœur" not in text and "Русский" not in text:
        assert not fixer.needs_ftfy(text)
    assert fixer.fix(text) == text


def test_control_characters_go_to_ftfy(fixer: MojibakeFixer) -> None:
    for text in ("a\x1b[31mred\x1b[0m", "x\u2028y", "bom\ufeff", "c1 \x85 here", "del\x7f"):
        assert fixer.needs_ftfy("é " + text)
        assert fixer.fix("é " + text) == ftfy.fix_text("é " + text, fixer._config)


def test_screen_turns_off_when_ftfy_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    # A mojibake pattern the trigger set does not cover: the screen must refuse to skip anything.
    import re

    import ftfy.badness

    widened = re.compile(BADNESS_RE.pattern + "|\n    qq", BADNESS_RE.flags)
    monkeypatch.setattr(ftfy.badness, "BADNESS_RE", widened)
    fixer = Normalize(NormalizeConfig()).mojibake_fixer()
    assert not fixer.screened
    assert fixer.needs_ftfy("plain text")
