"""no_placeholder: the one-function shortcut. Reject documents that are template placeholders."""

from __future__ import annotations

from pipeline import NoOptions, filter_stage

MARKERS = ("lorem ipsum", "todo: write", "placeholder text", "insert text here")


@filter_stage(name="no_placeholder", reason="placeholder", config=NoOptions)
def no_placeholder(text: str) -> str | None:
    """None keeps the document; the returned string is the ledger's detail."""
    lowered = text.lower()
    for marker in MARKERS:
        if marker in lowered:
            return f"contains {marker!r}"
    return None
