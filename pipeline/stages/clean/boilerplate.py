"""The boilerplate rule lists shipped in pipeline/data/boilerplate/<lang>.toml, compiled once per process."""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Rule:
    name: str
    # Patterns anchored with '^' are tried at the start of the line only (re.match), the rest anywhere:
    # one alternation mixing both would be scanned at every position, several times slower.
    anchored: re.Pattern[str] | None
    floating: re.Pattern[str] | None
    max_words: int
    # A substring each floating pattern's matches must contain (see `required_literal`); None when one
    # of them has none, or the rule has no floating patterns.
    floating_literals: tuple[str, ...] | None = None

    def matches(self, folded: str) -> bool:
        return bool(
            (self.anchored is not None and self.anchored.match(folded))
            or (self.floating is not None and self.floating.search(folded))
        )


def _alternation(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


_META = frozenset("\\()[]{}.*+?|^$")
_INLINE_FLAGS = re.compile(r"\(\?[aiLmsux-]")


def required_literal(pattern: str) -> str | None:
    """The longest run of plain characters that every match of `pattern` contains, or None when unsure.

    Only runs outside groups count (a group may be optional or one of several alternatives), a character
    followed by `?`, `*` or `{` may be absent, and escapes and classes are not literal; a top-level `|`
    or an inline flag (which could make matching case-insensitive) means no answer.
    """
    if _INLINE_FLAGS.search(pattern):
        return None
    runs, run, depth, i = [], "", 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            runs.append(run)
            run, i = "", i + 2
            continue
        if c == "[":
            runs.append(run)
            run, j = "", i + 1
            j += pattern.startswith("^", j)
            j += pattern.startswith("]", j)  # a ']' first in a class is a member
            while j < len(pattern) and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            continue
        if c == "|" and depth == 0:
            return None
        if c in "?*{" and depth == 0:
            run = run[:-1]  # the character before the quantifier may be absent
        if c in _META:
            runs.append(run)
            run = ""
            depth += {"(": 1, ")": -1}.get(c, 0)
            if c == "{":  # a {m,n} quantifier's digits are not text
                i = pattern.find("}", i) if "}" in pattern[i:] else len(pattern)
        elif depth == 0:
            run += c
        i += 1
    runs.append(run)
    best = max(runs, key=len)
    return best if len(best) >= 3 else None


def _literals(patterns: list[str]) -> tuple[str, ...] | None:
    literals = [required_literal(p) for p in patterns]
    if not literals or any(literal is None for literal in literals):
        return None
    return tuple(sorted({literal for literal in literals if literal is not None}))


def available_lists() -> list[str]:
    folder = resources.files("pipeline") / "data" / "boilerplate"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


@cache
def load_rules(lists: tuple[str, ...]) -> tuple[Rule, ...]:
    """Rules of the named lists, in file order. A table's `rule` key (default: the table's name) is the name
    reported, so one rule can have tables with different `max_words`."""
    folder = resources.files("pipeline") / "data" / "boilerplate"
    rules = []
    for lang in lists:
        data = tomllib.loads((folder / f"{lang}.toml").read_text(encoding="utf-8"))
        for name, table in data.items():
            patterns: list[str] = table["patterns"]
            # A leading '^' anchors the whole pattern: top-level alternatives go in separate patterns.
            anchored = [p[1:] for p in patterns if p.startswith("^")]
            floating = [p for p in patterns if not p.startswith("^")]
            rule = str(table.get("rule", name))
            rules.append(
                Rule(
                    rule,
                    _alternation(anchored),
                    _alternation(floating),
                    int(table["max_words"]),
                    _literals(floating),
                )
            )
    return tuple(rules)


def match(rules: tuple[Rule, ...], folded: str, words: int) -> str | None:
    """The first rule that removes this line (already case-folded and whitespace-collapsed), or None."""
    for rule in rules:
        if words <= rule.max_words and rule.matches(folded):
            return rule.name
    return None


def _minimal(literals: set[str]) -> tuple[str, ...]:
    """The literals that hold no other one: a line holds one of `literals` exactly when it holds one of
    these ("cookie" stands for "cookies", "les cookies" and "we use cookies "), with fewer searches."""
    return tuple(sorted(a for a in literals if not any(b != a and b in a for b in literals)))


def screen(rules: tuple[Rule, ...]) -> Callable[[str, int], bool]:
    """A test that is False only when no rule that applies to a line of `words` words can match it.

    Most lines are prose that no rule matches: two searches over the union of the applicable rules'
    patterns settle them, instead of two per rule; `match` still decides, in rule order, for the lines
    that pass. Long lines are tested against the few rules with a large `max_words` only. Before the
    floating union (a regex tried at every word boundary), substring tests for the literals its patterns
    require rule most lines out.
    """
    limits = sorted({rule.max_words for rule in rules})
    unions = []
    for limit in limits:
        applicable = [rule for rule in rules if rule.max_words >= limit]
        with_floating = [r for r in applicable if r.floating is not None]
        literals: tuple[str, ...] | None = None
        if all(r.floating_literals is not None for r in with_floating):
            literals = _minimal({lit for r in with_floating for lit in r.floating_literals or ()})
        unions.append(
            (
                _alternation([r.anchored.pattern for r in applicable if r.anchored is not None]),
                _alternation([r.floating.pattern for r in with_floating if r.floating is not None]),
                literals,
            )
        )

    def test(folded: str, words: int) -> bool:
        index = bisect_left(limits, words)
        if index == len(limits):
            return False
        anchored, floating, literals = unions[index]
        if anchored is not None and anchored.match(folded):
            return True
        if floating is None or (literals is not None and not any(map(folded.__contains__, literals))):
            return False
        return bool(floating.search(folded))

    return test
