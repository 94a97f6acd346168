"""Data text made safe to show: bidi and other control characters made visible, lengths capped, HTML escaped.

The data is hostile (scripts, right-to-left overrides, megabyte lines), and the report and the terminal
show it verbatim otherwise. Controls are replaced by a visible `<U+XXXX>` mark rather than dropped, so a
curator sees that they were there.
"""

from __future__ import annotations

import difflib
import html

from pipeline.invisible import INVISIBLE


def visible(text: str) -> str:
    return INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def cap(text: str | None, limit: int) -> str:
    """At most `limit` characters of `text` (controls made visible), with an ellipsis mark when cut."""
    if text is None:
        return ""
    if len(text) > limit:
        return visible(text[:limit]) + f" […{len(text) - limit:,} more chars]"
    return visible(text)


def one_line(text: str | None, limit: int) -> str:
    """`cap`, with newlines shown as ⏎ so a sample fits on one terminal or table line."""
    return cap(text, limit).replace("\r", "").replace("\n", " ⏎ ").replace("\t", " ")


def esc(text: object) -> str:
    """HTML-escaped, controls made visible (for any value that may come from the data)."""
    return html.escape(visible(str(text)), quote=True)


def word_diff(left: str, right: str, max_words: int) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Word-level diff of two texts: per side a list of (run of words, differs) with at most `max_words` words.

    Words are compared whole; the texts are capped first because difflib is quadratic in the worst case.
    """
    a, b = left.split()[:max_words], right.split()[:max_words]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out_a: list[tuple[str, bool]] = []
    out_b: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        differs = tag != "equal"
        if i2 > i1:
            out_a.append((" ".join(a[i1:i2]), differs))
        if j2 > j1:
            out_b.append((" ".join(b[j1:j2]), differs))
    return out_a, out_b
