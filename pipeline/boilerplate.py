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

    def matches(self, folded: str) -> bool:
        return bool(
            (self.anchored is not None and self.anchored.match(folded))
            or (self.floating is not None and self.floating.search(folded))
        )


def _alternation(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


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
            rules.append(Rule(rule, _alternation(anchored), _alternation(floating), int(table["max_words"])))
    return tuple(rules)


def match(rules: tuple[Rule, ...], folded: str, words: int) -> str | None:
    """The first rule that removes this line (already case-folded and whitespace-collapsed), or None."""
    for rule in rules:
        if words <= rule.max_words and rule.matches(folded):
            return rule.name
    return None


def screen(rules: tuple[Rule, ...]) -> Callable[[str, int], bool]:
    """A test that is False only when no rule that applies to a line of `words` words can match it.

    Most lines are prose that no rule matches: two searches over the union of the applicable rules'
    patterns settle them, instead of two per rule; `match` still decides, in rule order, for the lines
    that pass. Long lines are tested against the few rules with a large `max_words` only.
    """
    limits = sorted({rule.max_words for rule in rules})
    unions = []
    for limit in limits:
        applicable = [rule for rule in rules if rule.max_words >= limit]
        floating = [r.floating.pattern for r in applicable if r.floating is not None]
        if len(floating) == 1 and "|" not in floating[0]:
            # One pattern (lorem ipsum, the only rule for long lines): without its leading \b it opens
            # with a literal, which re finds by a fast substring search; dropping an assertion only
            # widens the screen.
            floating = [floating[0].replace("(?:\\b", "(?:", 1)]
        unions.append(
            (
                _alternation([r.anchored.pattern for r in applicable if r.anchored is not None]),
                _alternation(floating),
            )
        )

    def test(folded: str, words: int) -> bool:
        index = bisect_left(limits, words)
        if index == len(limits):
            return False
        anchored, floating = unions[index]
        return bool(
            (anchored is not None and anchored.match(folded)) or (floating is not None and floating.search(folded))
        )

    return test
