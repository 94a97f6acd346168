"""The characters that must never reach a reader unmarked: one definition for the card and the report.

Data values shown to people (ids, sources, file names, sample text) come from hostile input. Bidi
embeddings, overrides, isolates and marks can reorder what is shown; zero-width, soft-hyphen, BOM and
other format (Cf) characters can hide text; C0/C1 controls other than tab and newline, and the line and
paragraph separators, can break lines where a table or a terminal does not expect it. The card strips
them (its values are metadata) and the report replaces each with a visible mark (a curator should see
that they were there); both use this one class so that neither lets through what the other catches.
"""

from __future__ import annotations

import re

INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
