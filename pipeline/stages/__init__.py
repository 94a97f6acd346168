"""The configurable stages, by the name the config's `run.stages` list uses."""

from __future__ import annotations

from pipeline.stage import Stage
from pipeline.stages.clean import Clean
from pipeline.stages.dedup_exact import DedupExact
from pipeline.stages.dedup_near import DedupNear
from pipeline.stages.language import Language
from pipeline.stages.normalize import Normalize
from pipeline.stages.pii import Pii
from pipeline.stages.quality import Quality

STAGES: dict[str, type[Stage]] = {
    stage.name: stage for stage in (Normalize, DedupExact, Language, Clean, Quality, Pii, DedupNear)
}
