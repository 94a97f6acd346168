"""Every pattern family applied to document text runs in linear time on adversarial input.

Each case times a family at two input sizes, 4x apart, and fails when the time grows like the square
(x16) rather than linearly (x4). The bound is a generous x12 on the best of three runs, so machine load
does not make it flaky; absolute times are never asserted.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pyarrow as pa
import pytest

from pipeline.stages.clean import Clean, CleanConfig
from pipeline.stages.pii.patterns import DETECTORS
from pipeline.stages.quality.signals import compute

SMALL = 80_000  # characters
FACTOR = 4
MAX_GROWTH = 12.0


def _best_of(run: Callable[[str], object], text: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(text)
        best = min(best, time.perf_counter() - start)
    return best


def _assert_linear(run: Callable[[str], object], unit: str, size: int = SMALL) -> None:
    small = (unit * (size // len(unit) + 1))[:size]
    large = (unit * (size * FACTOR // len(unit) + 1))[: size * FACTOR]
    run(small)  # warm caches and lazy imports
    ratios = []
    # A linear family can look super-linear once when the machine is busy; a quadratic one always does.
    for _ in range(3):
        # Below a few milliseconds the ratio is scheduler noise; a quadratic family is far slower than that.
        t_small = max(_best_of(run, small), 5e-3)
        t_large = _best_of(run, large)
        ratios.append(t_large / t_small)
        if ratios[-1] < MAX_GROWTH:
            return
    raise AssertionError(f"{unit!r}: time grows x{min(ratios):.1f} for x{FACTOR} input (linear: x{FACTOR})")


def _pii(text: str) -> None:
    for _, find in DETECTORS.values():
        find(text)


PII_UNITS = [
    "-----BEGIN PRIVATE KEY-----\n",
    "-----BEGIN RSA PRIVATE KEY----- ",
    "-----END PRIVATE KEY-----",
    "eyJ-",
    "eyJabcdefghij.",
    "eyJabcdefghij.eyJ",
    "a@",
    "a@b.",
    "a.",
    "a@b.c-",
    "1.2.3.",
    "1:",
    "a::",
    "+1 ",
    "+1 (2) ",
    "0",
    "0 12 ",
    "1 ",
    "1-",
    "415-555-",
    "token ",
    "token=",
    "password: ",
    "api_key='",
    "sk-",
    "sk_live_",
    "ghp_",
    "glpat-",
    "xoxb-",
    "AKIA",
    "AIza",
    "hf_",
]


@pytest.mark.parametrize("unit", PII_UNITS)
def test_pii_detectors_are_linear(unit: str) -> None:
    # Larger sizes for the fast detectors: below ~100 KB the text sits in the CPU cache and the
    # step out of it looks like super-linear growth.
    _assert_linear(_pii, unit, 4 * SMALL)


def _clean(text: str) -> None:
    batch = pa.RecordBatch.from_pydict({"id": ["d"], "text": [text], "source": ["s"], "url": [None], "file": ["f"]})
    stage = Clean(CleanConfig())
    stage.collect(batch, stage.prepare(batch))
    stage.decide()
    stage.apply(batch)


CLEAN_UNITS = [
    "home / ",
    "home >\n",
    "copyright © 2020 ",
    "© 2020 all rights reserved\n",
    "follow @",
    "follow @aaaa\n",
    "tags: ",
    "tags:\n",
    "\n",
    "read more ",
    "a ",
]


@pytest.mark.parametrize("unit", CLEAN_UNITS)
def test_clean_rules_are_linear(unit: str) -> None:
    _assert_linear(_clean, unit)


QUALITY_UNITS = ["\n \n", "\n ", " \t", "word ", "a", "#", "...\n", "lorem ipsum\n", "{", "\u2026 "]


@pytest.mark.parametrize("unit", QUALITY_UNITS)
def test_quality_signals_are_linear(unit: str) -> None:
    _assert_linear(lambda text: compute(text, "en"), unit)
