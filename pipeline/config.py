"""The typed config: TOML file, then `--set section.key=VALUE` overrides, checked before any work.

Unknown sections and keys are errors that list the valid ones; a value of the wrong type is an error
naming the key and the expected type. Nothing is silently ignored.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline.errors import UsageError
from pipeline.publish.licenses import check_license
from pipeline.publish.splits import check_shares
from pipeline.stage import Stage, StageConfig
from pipeline.stages import STAGES, plugin_names, resolve_stage, stage_reference

DEFAULT_CONFIG_FILE = "pipeline.toml"
# Keys that change where and how fast a run goes, never what it produces: left out of the digest so
# the card of the same data is the same wherever and however it was made.
EXECUTION_KEYS = frozenset(
    {"input", "output", "batch_size", "workers", "keep_work", "keep_work_steps", "executor", "work_dir"}
)
# Sections that only say where the work runs; left out of the digest for the same reason.
EXECUTION_SECTIONS = frozenset({"ray"})


class RunConfig(StageConfig):
    """What to read, where to publish, which stages run and how the work is spread."""

    # Paths in a config file are relative to the file's folder; on the command line, to the cwd.
    # input and output may also be URLs (s3://, gs://, hf://, file://; see pipeline/storage.py).
    input: str = "raw"
    """Input file or folder (relative to the config file's folder)."""
    output: str = "dist"
    """Output folder: the dataset goes to `OUTPUT/NAME`, the report to `OUTPUT/NAME.report`."""
    name: str = "dataset"
    """Dataset folder name (no slashes)."""
    stages: list[str] = ["normalize", "clean", "pii", "dedup_exact", "language", "quality", "dedup_near"]
    """Transform stages in the order they run; `ingest` always comes first, `stats` and `validate` last."""
    batch_size: int = Field(default=1000, ge=1)
    """Records per Arrow batch between stages (memory, not results: the output is the same for any value)."""
    workers: int = Field(default=0, ge=0)
    """Worker processes for map stages and the per-record part of global stages; 0 = one per CPU core."""
    keep_work: bool = True
    """Keep the work folder (`OUTPUT/.NAME.work`) after success, so a rerun redoes only what changed."""
    keep_work_steps: Literal["ingest", "all"] = "ingest"
    """What a kept work folder holds after success: `ingest` keeps only the ingested records (a rerun reads
    no input again but redoes the stages; the folder stays about the input's size or less), `all` keeps
    every step so a changed config redoes only the steps it affects."""
    min_published_fraction: float = Field(default=0.01, ge=0.0, le=1.0)
    """A run that publishes less than this share of the records it read ends with exit 4 and a summary of
    the top rejection reasons; 0 accepts any result, even an empty dataset."""
    executor: Literal["local", "ray"] = "local"
    """Where per-shard work runs: `local` (a process pool on this machine) or `ray` (tasks on the cluster
    named by `[ray] address`). The published bytes are the same either way."""
    work_dir: str = ""
    """The work folder; empty means `OUTPUT/.NAME.work`, or, when the output is a URL,
    `.pipeline-work/NAME/.NAME.work` beside the config file. May be a URL (`s3://...`, any fsspec URL)
    that every node sees: Ray tasks then read and write their shards there themselves."""


class RayConfig(StageConfig):
    """The Ray cluster `run.executor = "ray"` uses."""

    address: str = "auto"
    """`auto`: the cluster this machine belongs to (`ray start`, or RAY_ADDRESS); `local`: start a Ray
    instance for this run only; else a cluster address (`host:port` or `ray://...`)."""
    max_retries: int = Field(default=3, ge=0)
    """Times Ray resubmits a task whose worker or node died (tasks are pure, so a rerun is safe)."""


class IngestConfig(StageConfig):
    """How input files are read."""

    text_field: str = "text"
    """JSONL field, or CSV / Parquet column, holding the text."""
    id_field: str = "id"
    """Field holding the record's own id (optional in the data; a hash of `source` otherwise)."""
    url_field: str = "url"
    """Field holding the record's URL (optional in the data)."""
    max_document_bytes: int = Field(default=10_000_000, ge=1)
    """Larger documents or JSONL lines are rejected as `too_large` without being read whole."""
    format: Literal["auto", "text", "jsonl", "json", "csv", "parquet", "html", "warc", "arc"] = "auto"
    """`auto`: by suffix, then by content; a format name reads every input file as that format."""
    html_favor: Literal["precision", "balanced", "recall"] = "precision"
    """trafilatura's trade-off for HTML main-content extraction (`precision` scored the best F1)."""
    html_include_tables: bool = True
    """Keep the text inside `<table>` elements."""
    html_include_comments: bool = False
    """Append a page's comment section to its main text."""
    keep_fields: list[str] | None = None
    """Input fields other than text/id/url that pass through to the published data, typed: unset keeps
    every field, a list keeps only those (an empty list keeps none)."""
    duplicate_ids: Literal["fail", "prefix_source"] = "fail"
    """Input ids seen twice: `fail` stops ingest with examples; `prefix_source` makes every input id
    `<file>:<id>`, so per-file ids (0, 1, 2 in every shard of an export) stay unique."""
    limit: int = Field(default=0, ge=0)
    """Read at most this many records (0: all), for a trial run on a large input (`--limit N`)."""
    text_unit: Literal["document", "line"] = "document"
    """`document`: a .txt/.md file is one document; `line`: every non-blank line is one."""
    workers: int = Field(default=1, ge=1)
    """Processes extracting HTML main content in parallel; the output is the same for any value."""
    follow_symlinks: bool = False
    """Read symlinks that point outside the input folder (otherwise each is a `symlink_outside_input`
    ledger row: an input folder cannot make the pipeline read files it does not hold)."""


class ValidateConfig(StageConfig):
    """The pandera model every published record must satisfy."""

    schema_file: str = ""
    """A Python file defining a pandera `DataFrameModel`; empty means the schema shipped with pipeline."""
    model: str = "PublishedRecord"
    """The model's class name in that file."""


class PublishConfig(StageConfig):
    """The Parquet shards, splits and dataset card."""

    pretty_name: str = ""
    """Card title (defaults to the dataset name)."""
    description: str = ""
    """The card's summary paragraph."""
    license: str = "other"
    """Hub licence id for the card's metadata (checked against the Hub's list; `other` with
    `license_name` and `license_link`)."""
    license_name: str = ""
    """The licence's name, for `license = "other"`."""
    license_link: str = ""
    """A link to the licence text, for `license = "other"`."""
    tags: list[str] = []
    """Free-form Hub tags for the card's metadata."""
    homepage: str = ""
    """The dataset's homepage, in the card."""
    task_categories: list[str] = ["text-generation"]
    """Hub task categories for the card's metadata."""
    max_shard_bytes: int = Field(default=500_000_000, ge=1)
    """Upper bound of a shard's uncompressed size."""
    max_row_group_bytes: int = Field(default=8_000_000, ge=1)
    """Upper bound of a Parquet row group's uncompressed size. A row group is held in memory while it is
    written (and encoding it takes about as much again), so this bounds what publishing adds to the main
    process; `datasets` itself aims at ≤ 100 MB."""
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    """Parquet compression codec."""
    splits: dict[str, float] = {"train": 1.0}
    """Split name → share of records (> 0, adding up to 1), assigned by a hash of the record id."""
    version: str = "1.0.0"
    """Dataset version, in the card and `croissant.json`."""
    citation: str = ""
    """BibTeX for the card's Citation section and Croissant `citeAs` (omitted when empty)."""

    @field_validator("license")
    @classmethod
    def _check_license(cls, value: str) -> str:
        return check_license(value)

    @field_validator("splits")
    @classmethod
    def _check_splits(cls, splits: dict[str, float]) -> dict[str, float]:
        check_shares(splits)
        return splits


class Config(BaseModel):
    """The whole config: the fixed sections, plus one section per stage, each typed by its own class.

    Stage sections are dynamic: every built-in stage has one (defaults when absent), and so does each
    plugin stage `run.stages` names. Build it with `load_config`, `Config.load` or `Config.from_dict`;
    `config.<stage name>` reads a stage's section, e.g. `config.language.languages`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    run: RunConfig = RunConfig()
    ingest: IngestConfig = IngestConfig()
    validate_: ValidateConfig = Field(default=ValidateConfig(), alias="validate")
    publish: PublishConfig = PublishConfig()
    ray: RayConfig = RayConfig()
    # Stage name -> its validated section; SerializeAsAny so each dumps with its own class's fields.
    sections: dict[str, SerializeAsAny[StageConfig]] = Field(default_factory=dict, exclude=True)

    # The folder relative paths in the config file resolve against (not part of the config's hash).
    base_dir: Path = Field(default=Path("."), exclude=True)
    # The stage classes of run.stages, in order (resolved once; shipped to workers with the config).
    _classes: list[type[Stage]] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _complete(self, info: ValidationInfo) -> Config:
        # `Config()` or `Config(run=...)` built directly: resolve the stages and give every stage
        # without a section its defaults, so such a config runs like one from `from_dict`.
        given = (info.context or {}).get("classes")
        self._classes = list(given) if given is not None else [resolve_stage(s) for s in self.run.stages]
        for stage in [*STAGES.values(), *self._classes]:
            self.sections.setdefault(stage.name, stage.config_class())
        return self

    def __getattr__(self, name: str) -> Any:
        sections = self.__dict__.get("sections")
        if sections is not None and name in sections:
            return sections[name]
        return super().__getattr__(name)  # type: ignore[misc]

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        *,
        base_dir: Path | str | None = None,
        source: str = "config",
        stages: Sequence[str | type[Stage]] | None = None,
    ) -> Config:
        """Validate a config given as nested dicts (the shape of the TOML file).

        `stages`, when given, replaces `run.stages` and may hold stage classes as well as names.
        Raises UsageError with one line naming the key.
        """
        data = {section: dict(values) if isinstance(values, dict) else values for section, values in data.items()}
        if stages is not None:
            data.setdefault("run", {})["stages"] = [s if isinstance(s, str) else stage_reference(s) for s in stages]
        # Every mistake at once, so a config is fixed in one round.
        errors: list[str] = []
        run = data.get("run", {})
        if not isinstance(run, dict):
            raise UsageError(f"{source}: [run] must be a table of keys, got {type(run).__name__}")
        run_config: RunConfig | None = None
        try:
            run_config = RunConfig.model_validate(run)
        except ValidationError as exc:
            errors += [_describe(error, source, "run", RunConfig) for error in exc.errors()]
        classes: list[type[Stage]] = []
        if run_config is not None:
            try:
                classes = [
                    resolve_stage(given) if not isinstance(given, str) else resolve_stage(reference)
                    for reference, given in zip(run_config.stages, stages or run_config.stages, strict=True)
                ]
            except UsageError as exc:
                errors.append(f"{source}: {exc}")
            names = [stage.name for stage in classes]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                errors.append(f"{source}: run.stages lists the stage {twice[0]!r} twice: {run_config.stages}")
        models: dict[str, type[StageConfig]] = {name: stage.config_class for name, stage in STAGES.items()}
        models.update({stage.name: stage.config_class for stage in classes})
        valid = ["run", "ingest", *models, "validate", "publish", "ray"]
        for section in data:
            if section not in valid:
                hint = "" if section not in plugin_names() else f" (the plugin stage {section!r} is not in run.stages)"
                close = difflib.get_close_matches(section, valid, n=1)
                guess = f" did you mean [{close[0]}]?" if close else ""
                errors.append(f"{source}: unknown section [{section}]{hint};{guess} valid sections: {', '.join(valid)}")
        for name in ("ingest", "validate", "publish", "ray"):
            values = data.get(name, {})
            if isinstance(values, dict):
                try:
                    _FIXED[name].model_validate(values)
                except ValidationError as exc:
                    errors += [_describe(error, source, name, _FIXED[name]) for error in exc.errors()]
        sections: dict[str, StageConfig] = {}
        for name, model in models.items():
            values = data.pop(name, {})
            if not isinstance(values, dict):
                errors.append(f"{source}: [{name}] must be a table of keys, got {type(values).__name__}")
                continue
            try:
                sections[name] = model.model_validate(values)
            except ValidationError as exc:
                errors += [_describe(error, source, name, model) for error in exc.errors()]
        if errors:
            raise UsageError("\n".join(errors))
        root = Path.cwd() if base_dir is None else Path(base_dir)
        try:
            config = cls.model_validate({**data, "sections": sections, "base_dir": root}, context={"classes": classes})
        except ValidationError as exc:
            error = exc.errors()[0]
            section = str(error["loc"][0]) if error["loc"] else ""
            model = _FIXED.get(section)
            loc = error["loc"][1:] if model is not None else error["loc"]
            raise UsageError(_describe({**error, "loc": loc}, source, section, model)) from exc
        return config

    @classmethod
    def load(cls, path: Path | str | None = None, overrides: Sequence[str] | None = None) -> Config:
        """Read a TOML file (None: the defaults), then apply `section.key=VALUE` overrides."""
        return load_config(None if path is None else Path(path), list(overrides or []), require_file=True)

    def override(self, *assignments: str, **sections: dict[str, Any]) -> Config:
        """A copy with `"section.key=VALUE"` assignments and/or `section={key: value}` keywords applied."""
        data = self.as_dict()
        for section, values in sections.items():
            data.setdefault(section, {}).update(values)
        for assignment in assignments:
            (section, key), value = parse_override(assignment)
            data.setdefault(section, {})[key] = value
        # Unchanged stages keep their classes (one defined in a notebook cannot be found by name).
        classes = self._classes if data["run"]["stages"] == self.run.stages else None
        return Config.from_dict(data, base_dir=self.base_dir, source="override", stages=classes)

    # -- reading --------------------------------------------------------------------------------

    def stage_classes(self) -> list[type[Stage]]:
        """The classes of `run.stages`, in run order."""
        return list(self._classes)

    def stage_config(self, name: str) -> StageConfig:
        return self.sections[name]

    def resolve(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.base_dir / path

    def as_dict(self) -> dict[str, Any]:
        """Every section as plain JSON values, in the order of the TOML file."""
        fixed = self.model_dump(mode="json", by_alias=True)
        data: dict[str, Any] = {"run": fixed["run"], "ingest": fixed["ingest"]}
        for name, section in self.sections.items():
            data[name] = section.model_dump(mode="json")
        data["validate"] = fixed["validate"]
        data["publish"] = fixed["publish"]
        data["ray"] = fixed["ray"]
        return data

    def to_toml(self) -> str:
        """The config as a TOML file that `Config.load` reads back to the same config."""
        return dump_toml(self.as_dict())

    def dump(self, path: Path | str) -> Path:
        target = Path(path)
        target.write_text(self.to_toml(), encoding="utf-8")
        return target

    def digest(self) -> str:
        """sha256 of the resolved config: identifies what produced a dataset.

        Keys that only change how the run executes (batching, workers, the work folder) are left out:
        the data does not depend on them, so neither does its digest.
        """
        config = self.as_dict()
        config["run"] = {k: v for k, v in config["run"].items() if k not in EXECUTION_KEYS}
        for section in EXECUTION_SECTIONS:
            config.pop(section, None)
        canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


_FIXED: dict[str, type[StageConfig]] = {
    "run": RunConfig,
    "ingest": IngestConfig,
    "validate": ValidateConfig,
    "publish": PublishConfig,
    "ray": RayConfig,
}


def _describe(error: dict[str, Any], source: str, section: str, model: type[BaseModel] | None) -> str:
    loc = [str(p) for p in error["loc"]]
    key = ".".join([section, *loc]) if section else ".".join(loc)
    if error["type"] == "extra_forbidden":
        valid = list(model.model_fields) if model else []
        close = difflib.get_close_matches(loc[-1], valid, n=1) if loc else []
        guess = f"did you mean '{section}.{close[0]}'? " if close else ""
        return f"{source}: unknown key '{key}'; {guess}valid keys in [{section}]: {', '.join(valid)}"
    given = error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    return f"{source}: {key}: {message}, got {given!r} ({type(given).__name__})"


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_string(value: str) -> str:
    """`value` as a TOML basic string.

    JSON's string escapes are all valid TOML; DEL is the one control character JSON leaves raw and TOML
    refuses, so it is escaped too (a newline or escape in a path stays part of the path).
    """
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_value(value: Any) -> str:
    """A TOML value: scalars, lists and inline tables (None has no TOML form: callers leave it out)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in value.items() if v is not None)
        return "{" + items + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dump_toml(data: dict[str, dict[str, Any]]) -> str:
    """Sections of scalar, list and inline-table values as TOML (None values are left out: TOML has no null)."""
    lines: list[str] = []
    for section, values in data.items():
        lines.append(f"[{_toml_key(section)}]")
        lines += [f"{_toml_key(key)} = {toml_value(value)}" for key, value in values.items() if value is not None]
        lines.append("")
    return "\n".join(lines)


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """'language.languages=["en","de"]' -> (['language', 'languages'], ['en', 'de'])."""
    if "=" not in assignment:
        raise UsageError(f"--set {assignment!r}: expected section.key=VALUE")
    key, raw = assignment.split("=", 1)
    path = key.strip().split(".")
    if len(path) != 2 or not all(path):
        raise UsageError(f"--set {assignment!r}: the key must be section.key, e.g. language.max_chars")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # A bare word is a string: --set run.name=mydata
    return path, value


def load_config(
    path: Path | None,
    overrides: list[str] | None = None,
    *,
    require_file: bool = True,
) -> Config:
    """Read, override and check the config. Raises UsageError with one clear line."""
    data: dict[str, Any] = {}
    base_dir = Path.cwd()
    source = "defaults"
    if path is not None:
        if not path.is_file():
            if require_file:
                raise UsageError(f"config file {path} not found; pass --config FILE or create {path}")
        else:
            source = str(path)
            base_dir = path.resolve().parent
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise UsageError(f"{path}: not valid TOML: {exc}") from exc
    for assignment in overrides or []:
        (section, key), value = parse_override(assignment)
        if not isinstance(data.setdefault(section, {}), dict):
            raise UsageError(f"--set {assignment}: {source} has {section!r} as a value, not a [{section}] section")
        data[section][key] = value
    return Config.from_dict(data, base_dir=base_dir, source=source)
