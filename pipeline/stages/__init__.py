"""The stage registry: a name in `run.stages` -> a stage class.

A name is found, in this order, among the built-in stages, among the entry points of the group
`pipeline.stages` that installed packages declare, or as an import path `package.module:ClassName`.
Whatever the source, the class must follow the same contract (`pipeline.stage`): a `MapStage` or a
`GlobalStage` with a `name` and a `config_class`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import re
import sys
from functools import cache
from importlib import metadata
from typing import Any

from pipeline.errors import UsageError
from pipeline.stage import GlobalStage, MapStage, Stage, StageConfig
from pipeline.stages.clean import Clean
from pipeline.stages.dedup_exact import DedupExact
from pipeline.stages.dedup_near import DedupNear
from pipeline.stages.language import Language
from pipeline.stages.normalize import Normalize
from pipeline.stages.pii import Pii
from pipeline.stages.quality import Quality

ENTRY_POINT_GROUP = "pipeline.stages"

STAGES: dict[str, type[Stage]] = {
    stage.name: stage for stage in (Normalize, DedupExact, Language, Clean, Quality, Pii, DedupNear)
}
# Config sections that are not stages, and the stages every run appends: no plugin may take their name.
RESERVED_NAMES = frozenset({"run", "ingest", "validate", "publish", "stats", "base_dir"})
# A stage name is a config section, a ledger `stage` value and part of file names in the work folder.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@cache
def _entry_points() -> dict[str, metadata.EntryPoint]:
    # Cached: the set of installed packages does not change during a run, and listing it costs ~10 ms.
    found: dict[str, metadata.EntryPoint] = {}
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point)
    return found


def plugin_names() -> list[str]:
    """Stage names declared by installed packages through the `pipeline.stages` entry-point group."""
    return sorted(_entry_points())


def _check_class(obj: Any, where: str) -> type[Stage]:
    if not (inspect.isclass(obj) and issubclass(obj, (MapStage, GlobalStage))):
        raise UsageError(f"{where} is not a stage: expected a subclass of pipeline.MapStage or pipeline.GlobalStage")
    if inspect.isabstract(obj):
        missing = ", ".join(sorted(obj.__abstractmethods__))
        raise UsageError(f"{where}: stage class {obj.__qualname__} does not implement {missing}")
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UsageError(
            f"{where}: stage class {obj.__qualname__} needs a class attribute `name` of lowercase letters, digits "
            f"and underscores (it names the config section and the ledger's stage column), got {name!r}"
        )
    if name in RESERVED_NAMES or (name in STAGES and STAGES[name] is not obj):
        raise UsageError(f"{where}: stage name {name!r} is taken by pipeline itself; choose another `name`")
    config_class = getattr(obj, "config_class", None)
    if not (inspect.isclass(config_class) and issubclass(config_class, StageConfig)):
        raise UsageError(
            f"{where}: stage class {obj.__qualname__} needs a class attribute `config_class`, a subclass of "
            "pipeline.StageConfig (an empty subclass when it has no options)"
        )
    return obj


def _import(reference: str) -> Any:
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"run.stages: {reference!r}: expected 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"run.stages: {reference!r}: cannot import module {module_name!r} ({exc}); install the package "
            "or put its folder on PYTHONPATH"
        ) from exc
    except Exception as exc:  # a plugin's own import-time failure: name it instead of a traceback
        raise UsageError(
            f"run.stages: {reference!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    obj: Any = module
    for part in attribute.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise UsageError(f"run.stages: {reference!r}: module {module_name!r} has no attribute {attribute!r}")
    return obj


def resolve_stage(reference: str | type[Stage]) -> type[Stage]:
    """The stage class a `run.stages` entry names (a built-in, an entry point or 'module:Class')."""
    if not isinstance(reference, str):
        return _check_class(reference, f"stage {getattr(reference, '__qualname__', reference)!r}")
    if reference in STAGES:
        return STAGES[reference]
    if ":" in reference:
        return _check_class(_import(reference), f"run.stages: {reference!r}")
    point = _entry_points().get(reference)
    if point is None:
        raise UsageError(
            f"run.stages: unknown stage {reference!r}; valid stages: {', '.join([*STAGES, *plugin_names()])}; "
            "or name a stage class as 'package.module:ClassName'"
        )
    where = f"run.stages: {reference!r} (entry point {point.value} of package {_distribution_of(point)})"
    try:
        loaded = point.load()
    except Exception as exc:
        raise UsageError(f"{where}: loading failed: {type(exc).__name__}: {exc}") from exc
    stage = _check_class(loaded, where)
    if stage.name != reference:
        raise UsageError(f"{where}: the entry point's name must equal the stage's name {stage.name!r}")
    return stage


def _distribution_of(point: metadata.EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    return dist.name if dist is not None else "?"


def stage_reference(stage: type[Stage]) -> str:
    """What `run.stages` records for a class: its name if that finds it again, else 'module:qualname'."""
    if STAGES.get(stage.name) is stage:
        return stage.name
    point = _entry_points().get(stage.name)
    if point is not None and point.value == f"{stage.__module__}:{stage.__qualname__}":
        return stage.name
    return f"{stage.__module__}:{stage.__qualname__}"


def stage_version(stage: type[Stage]) -> dict[str, str]:
    """What identifies a plugin stage's code, for the work-folder keys and run.json.

    The version of the distribution that ships the module (when installed), and a hash of the
    module's source, so an edited plugin (an editable install, a script) invalidates the work it did.
    """
    if STAGES.get(stage.name) is stage or stage.__module__.startswith("pipeline."):
        return {"source": "built-in"}
    identity: dict[str, str] = {"class": f"{stage.__module__}:{stage.__qualname__}"}
    top = stage.__module__.split(".")[0]
    distributions = metadata.packages_distributions().get(top, [])
    if distributions:
        identity["distribution"] = distributions[0]
        with contextlib.suppress(metadata.PackageNotFoundError):
            identity["version"] = metadata.version(distributions[0])
    identity["source_sha256"] = _source_hash(stage)
    return identity


def _source_hash(stage: type[Stage]) -> str:
    module = sys.modules.get(stage.__module__)
    try:
        path = inspect.getsourcefile(module) if module is not None else None
        if path:
            with open(path, "rb") as handle:
                return hashlib.sha256(handle.read()).hexdigest()
        # A class defined in a notebook cell or pickled by value: hash what is left of its source.
        return hashlib.sha256(inspect.getsource(stage).encode()).hexdigest()
    except (OSError, TypeError):
        return "unknown"
