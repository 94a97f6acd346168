"""Unit tests of the example stages with pipeline's testing helpers (no pipeline run needed)."""

from __future__ import annotations

import pytest
from pipeline_example_plugin import NoShouting, NoShoutingConfig, no_placeholder

from pipeline.testing import make_batch, run_stage

CALM = "A calm sentence about the weather in the valley this spring."
LOUD = "THIS IS A VERY LOUD ANNOUNCEMENT ABOUT THE WEATHER IN THE VALLEY."


def test_shouting_is_rejected_with_its_reason_and_kept_records_get_the_column() -> None:
    outcome = run_stage(NoShouting(NoShoutingConfig()), make_batch([CALM, LOUD, "OK THEN"]))
    assert outcome.rejected.column("reason").to_pylist() == ["shouting"]
    assert outcome.rejected.column("stage").to_pylist() == ["no_shouting"]
    assert outcome.kept.column("text").to_pylist() == [CALM, "OK THEN"]  # too few letters to judge
    assert outcome.kept.column("upper_ratio").to_pylist()[0] == pytest.approx(1 / 48, abs=1e-3)


def test_the_threshold_is_configurable() -> None:
    outcome = run_stage(NoShouting(NoShoutingConfig(max_upper_ratio=1.0)), make_batch([CALM, LOUD]))
    assert outcome.rejected.num_rows == 0


def test_the_shortcut_stage_rejects_placeholders_with_a_detail() -> None:
    outcome = run_stage(no_placeholder(no_placeholder.config_class()), make_batch([CALM, "Lorem ipsum dolor sit"]))
    assert outcome.rejected.column("reason").to_pylist() == ["placeholder"]
    assert outcome.rejected.column("detail").to_pylist() == ["contains 'lorem ipsum'"]
    assert no_placeholder.function("nothing to see") is None
