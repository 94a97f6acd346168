"""Example stages for pipeline: `no_shouting` (a full MapStage) and `no_placeholder` (a shortcut)."""

from pipeline_example_plugin.placeholder import no_placeholder
from pipeline_example_plugin.shouting import NoShouting, NoShoutingConfig

__all__ = ["NoShouting", "NoShoutingConfig", "no_placeholder"]
