"""The boilerplate rule lists shipped in pipeline/data/boilerplate/<lang>.toml, compiled once per process."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    max_words: int


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
            pattern = re.compile("|".join(f"(?:{p})" for p in table["patterns"]))
            rules.append(Rule(str(table.get("rule", name)), pattern, int(table["max_words"])))
    return tuple(rules)


def match(rules: tuple[Rule, ...], folded: str, words: int) -> str | None:
    """The first rule that removes this line (already case-folded and whitespace-collapsed), or None."""
    for rule in rules:
        if words <= rule.max_words and rule.pattern.search(folded):
            return rule.name
    return None
