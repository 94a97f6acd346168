"""ftfy's repair, run only on text it can change: a necessary-condition screen in front of ftfy.fix_text.

With the stage's options, ftfy.fix_text cuts the text into segments (lines, and pieces of at most
max_decode_length characters) and changes a segment only through

- its encoding fix, which returns the segment unchanged unless ftfy's BADNESS_RE finds a match in it;
- fix_c1_controls, fix_line_breaks, fix_surrogates, remove_terminal_escapes and remove_control_chars,
  each of which changes only text that holds one of their characters (CONTROL below).

Every one of BADNESS_RE's alternatives must match a character of one class that lies inside TRIGGER
(the alternative `[{box}] [{kaomoji}]` needs a box-drawing character, `вЂ` needs Ђ, ...). This is
checked on ftfy's parsed regex when the screen is built, not assumed: if an ftfy release changes
BADNESS_RE so that the check fails, the screen turns itself off and every text goes to ftfy.

So a text with no TRIGGER and no CONTROL character is returned by ftfy unchanged, whatever its
segmentation, and is skipped. Otherwise only the lines holding a TRIGGER character are searched with
BADNESS_RE, the way ftfy searches them (one line at a time, so `^` means the start of the line); the
text goes to ftfy.fix_text as a whole as soon as one line matches or it holds a CONTROL character.
TRIGGER leaves out the characters common in clean text ('’', '“', '”', '—', '…', NBSP): they only
matter next to rarer ones.
"""

from __future__ import annotations

import re
from typing import Any

# Characters one of which every BADNESS_RE match contains (verified by `_covers` against ftfy's
# regex): ftfy's c1, bad, law, currency, numeric, box, upper- and lower-accented classes, plus the
# letters that open its Windows-1251/1253/1252 patterns.
_TRIGGER_CATEGORIES = ("c1", "bad", "law", "currency", "numeric", "box", "upper_accented", "lower_accented")
_TRIGGER_EXTRA = "\u201aЂÙВГРСΒΓΞΟ"
# ftfy's options when the argument above was made (6.x): a release with another fixer turns the screen off.
_KNOWN_FIXES = (
    "unescape_html",
    "remove_terminal_escapes",
    "fix_encoding",
    "restore_byte_a0",
    "replace_lossy_sequences",
    "decode_inconsistent_utf8",
    "fix_c1_controls",
    "fix_latin_ligatures",
    "fix_character_width",
    "uncurl_quotes",
    "fix_line_breaks",
    "fix_surrogates",
    "remove_control_chars",
    "normalization",
    "max_decode_length",
    "explain",
)


def _class_members(items: list[tuple[Any, Any]]) -> set[int] | None:
    """Code points of a parsed character class, or None if it is negated or uses a category (\\w, \\s)."""
    from re import _constants as c  # type: ignore[attr-defined]

    members: set[int] = set()
    for op, value in items:
        if op == c.LITERAL:
            members.add(value)
        elif op == c.RANGE:
            members.update(range(value[0], value[1] + 1))
        else:
            return None
    return members


def _covers(pattern: re.Pattern[str], trigger: set[int]) -> bool:
    """True if every top-level alternative of `pattern` has a mandatory single character in `trigger`."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    parsed = _parser.parse(pattern.pattern, pattern.flags)
    alternatives = parsed.data[0][1][1] if len(parsed.data) == 1 and parsed.data[0][0] == c.BRANCH else [parsed]
    for alternative in alternatives:
        covered = False
        for op, value in alternative.data:
            if op == c.LITERAL:
                members: set[int] | None = {value}
            elif op == c.IN:
                members = _class_members(value)
            else:
                continue  # repeats, anchors, categories: not a mandatory single character
            if members is not None and members <= trigger:
                covered = True
                break
        if not covered:
            return False
    return True


def _longest_match(pattern: re.Pattern[str]) -> int:
    from re import _parser  # type: ignore[attr-defined]

    return int(_parser.parse(pattern.pattern, pattern.flags).getwidth()[1])


def _char_class(code_points: set[int]) -> str:
    return "[" + "".join(re.escape(chr(p)) for p in sorted(code_points)) + "]"


class MojibakeFixer:
    """fix(text) == ftfy.fix_text(text, config) for the stage's config; ftfy runs only on lines that need it."""

    def __init__(self, config: Any) -> None:
        from ftfy import chardata
        from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES

        self._config = config
        self._max_segment = config.max_decode_length
        # Line by line, the way ftfy searches: `^` must also match after a newline inside a window.
        self._badness = re.compile(BADNESS_RE.pattern, BADNESS_RE.flags | re.MULTILINE)
        self._reach = _longest_match(BADNESS_RE) - 1
        trigger: set[int] = set()
        for name in _TRIGGER_CATEGORIES:
            if name in MOJIBAKE_CATEGORIES:  # a category gone from ftfy: the coverage check below fails
                members = _class_members(_parse_class("[" + MOJIBAKE_CATEGORIES[name] + "]"))
                trigger |= members or set()
        trigger |= {ord(ch) for ch in _TRIGGER_EXTRA}
        control = set(chardata.CONTROL_CHARS)  # remove_control_chars
        control |= set(range(0x80, 0xA0))  # fix_c1_controls
        control |= {ord(ch) for ch in "\r\u2028\u2029\x85"}  # fix_line_breaks
        control |= set(range(0xD800, 0xE000))  # fix_surrogates
        control.add(0x1B)  # remove_terminal_escapes
        # The screen is valid only for the ftfy options it was derived for; anything else goes to ftfy.
        self.screened = _covers(BADNESS_RE, trigger) and _screenable(config) and config._fields == _KNOWN_FIXES
        self._trigger = re.compile(_char_class(trigger | control))
        self._control = re.compile(_char_class(control))

    def needs_ftfy(self, text: str) -> bool:
        """False only if ftfy.fix_text would return `text` unchanged (a necessary condition, not a guess)."""
        if not self.screened or len(text) > self._max_segment:
            return True
        found = self._trigger.search(text)
        if found is None:
            return False
        if self._control.search(text, found.start()):
            return True
        # Every BADNESS_RE match lies within `reach` characters of a TRIGGER character it contains:
        # search only those windows, joined by newlines (matches across a join can only add work).
        reach = self._reach
        windows: list[tuple[int, int]] = []
        for hit in self._trigger.finditer(text, found.start()):
            start = max(hit.start() - reach, 0)
            if windows and start <= windows[-1][1]:
                windows[-1] = (windows[-1][0], hit.end() + reach)
            else:
                windows.append((start, hit.end() + reach))
        probe = "\n".join(text[a:b] for a, b in windows)
        return self._badness.search(probe) is not None

    def fix(self, text: str) -> str:
        if not self.needs_ftfy(text):
            return text
        import ftfy

        if not self.screened or len(text) > self._max_segment:
            return ftfy.fix_text(text, self._config)
        # fix_text fixes each line on its own and joins the results: fix only the lines that need it.
        lines = text.split("\n")
        segments = [line + "\n" for line in lines[:-1]]
        if lines[-1]:
            segments.append(lines[-1])
        return "".join(ftfy.fix_text(s, self._config) if self.needs_ftfy(s) else s for s in segments)


def _parse_class(source: str) -> list[tuple[Any, Any]]:
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    parsed = _parser.parse(source, 0)
    op, value = parsed.data[0]
    if op == c.LITERAL:
        return [(op, value)]
    return list(value)


def _screenable(config: Any) -> bool:
    """The options the screen's argument covers: ftfy's encoding fix and its control-character fixers."""
    return (
        not config.unescape_html
        and not config.uncurl_quotes
        and not config.fix_character_width
        and not config.fix_latin_ligatures
        and config.normalization is None
    )
