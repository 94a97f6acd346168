"""The digest publishing compares to reuse the plots drawn before the dataset was written."""

from __future__ import annotations

from collections import Counter

import numpy as np

from pipeline.publish.dataset import plots_digest


def test_plots_digest_tells_the_inputs_apart() -> None:
    chars, languages = np.array([3, 5, 8]), Counter({"en": 2, None: 1})
    same = plots_digest(chars.astype(np.int32), Counter({None: 1, "en": 2}))
    assert plots_digest(chars, languages) == same  # dtype and counting order do not matter
    assert plots_digest(np.array([3, 5, 9]), languages) != same
    assert plots_digest(chars, Counter({"en": 3})) != same
