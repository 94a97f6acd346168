"""numpy helpers shared by the global stages' decisions and publishing."""

from __future__ import annotations

from typing import Any

import numpy as np


def concatenate_freeing(chunks: list[np.ndarray], dtype: Any) -> np.ndarray:
    """The chunks in one array, each released once copied, so the whole is never held twice (as
    `np.concatenate` holds it, with every chunk, at its end); `chunks` is left empty."""
    whole = np.empty(sum(len(chunk) for chunk in chunks), dtype=dtype)
    written = 0
    chunks.reverse()  # popped from the end: each pop is O(1)
    while chunks:
        chunk = chunks.pop()
        whole[written : written + len(chunk)] = chunk
        written += len(chunk)
    return whole
