"""The typed config: TOML file, then `--set section.key=VALUE` overrides, checked before any work.

Unknown sections and keys are errors that list the valid ones; a value of the wrong type is an error
naming the key and the expected type. Nothing is silently ignored.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import UsageError
from pipeline.publish.splits import check_shares
from pipeline.stage import StageConfig
from pipeline.stages import STAGES
from pipeline.stages.clean import CleanConfig
from pipeline.stages.dedup_exact import DedupExactConfig
from pipeline.stages.dedup_near import DedupNearConfig
from pipeline.stages.language import LanguageConfig
from pipeline.stages.normalize import NormalizeConfig
from pipeline.stages.pii import PiiConfig
from pipeline.stages.quality import QualityConfig

DEFAULT_CONFIG_FILE = "pipeline.toml"
# Keys that change where and how fast a run goes, never what it produces: left out of the digest so
# the card of the same data is the same wherever and however it was made.
EXECUTION_KEYS = frozenset({"input", "output", "batch_size", "workers", "keep_work", "executor", "work_dir"})
# Sections that only say where the work runs; left out of the digest for the same reason.
EXECUTION_SECTIONS = frozenset({"ray"})


class RunConfig(StageConfig):
    # Paths in a config file are relative to the file's folder; on the command line, to the cwd.
    # input and output may also be URLs (s3://, gs://, hf://, file://; see pipeline/storage.py).
    input: str = "raw"
    output: str = "dist"
    name: str = "dataset"
    # Transform stages in the order they run; ingest comes first, stats and validate last, always.
    stages: list[str] = ["normalize", "clean", "pii", "dedup_exact", "language", "quality", "dedup_near"]
    # Records per Arrow batch between stages.
    batch_size: int = Field(default=1000, ge=1)
    # Worker processes for map stages and global stages' per-record work; 0 means one per CPU core.
    workers: int = Field(default=0, ge=0)
    # Keep the work folder (<output>/.<name>.work) after success, so a rerun with a changed config
    # redoes only the affected steps; false removes it once the dataset is published.
    keep_work: bool = True
    # Where per-shard work runs: "local" (a process pool on this machine) or "ray" (tasks on the
    # cluster named by [ray] address). The published bytes are the same either way.
    executor: Literal["local", "ray"] = "local"
    # The work folder; empty means <output>/.<name>.work, or, when the output is a URL,
    # .pipeline-work/<name>/.<name>.work beside the config file. Always a local path of the driver.
    work_dir: str = ""


class RayConfig(StageConfig):
    # "auto": the cluster this machine belongs to (started with `ray start`, or RAY_ADDRESS);
    # "local": start a Ray instance for this run only; else a cluster address (host:port or ray://...).
    address: str = "auto"
    # Times Ray resubmits a task whose worker or node died (tasks are pure, so a rerun is safe).
    max_retries: int = Field(default=3, ge=0)


class IngestConfig(StageConfig):
    text_field: str = "text"
    id_field: str = "id"
    url_field: str = "url"
    # Larger documents (or JSONL lines) are rejected as `too_large` without being read whole.
    max_document_bytes: int = Field(default=10_000_000, ge=1)
    # "auto": by suffix (.txt .md .jsonl .csv .parquet .html .htm .warc .wet .arc, + .gz/.zst/.bz2/.xz),
    # else by content; a format name reads every input file as that format.
    format: Literal["auto", "text", "jsonl", "csv", "parquet", "html", "warc", "arc"] = "auto"
    # trafilatura's trade-off for HTML main-content extraction (precision scored best, see README).
    html_favor: Literal["precision", "balanced", "recall"] = "precision"
    html_include_tables: bool = True
    html_include_comments: bool = False
    # Processes extracting HTML main content in parallel (1: in the ingest process). Output is the
    # same for any value: pages come back in input order.
    workers: int = Field(default=1, ge=1)


class ValidateConfig(StageConfig):
    # A Python file defining a pandera DataFrameModel; empty means the schema shipped with pipeline.
    schema_file: str = ""
    model: str = "PublishedRecord"


class PublishConfig(StageConfig):
    pretty_name: str = ""
    description: str = ""
    license: str = "other"
    task_categories: list[str] = ["text-generation"]
    max_shard_bytes: int = Field(default=500_000_000, ge=1)
    max_row_group_bytes: int = Field(default=100_000_000, ge=1)
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    # Split name -> share of records, assigned by a hash of the record id (see pipeline/publish/splits.py).
    splits: dict[str, float] = {"train": 1.0}
    # Dataset version (card and croissant.json) and a BibTeX entry for the card's citation block.
    version: str = "1.0.0"
    citation: str = ""

    @field_validator("splits")
    @classmethod
    def _check_splits(cls, splits: dict[str, float]) -> dict[str, float]:
        check_shares(splits)
        return splits


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    run: RunConfig = RunConfig()
    ingest: IngestConfig = IngestConfig()
    normalize: NormalizeConfig = NormalizeConfig()
    dedup_exact: DedupExactConfig = DedupExactConfig()
    language: LanguageConfig = LanguageConfig()
    clean: CleanConfig = CleanConfig()
    quality: QualityConfig = QualityConfig()
    pii: PiiConfig = PiiConfig()
    dedup_near: DedupNearConfig = DedupNearConfig()
    validate_: ValidateConfig = Field(default=ValidateConfig(), alias="validate")
    publish: PublishConfig = PublishConfig()
    ray: RayConfig = RayConfig()

    # The folder relative paths in the config file resolve against (not part of the config's hash).
    base_dir: Path = Field(default=Path("."), exclude=True)

    def stage_config(self, name: str) -> StageConfig:
        return getattr(self, name)

    def resolve(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.base_dir / path

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

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


def _section_model(section: str) -> type[BaseModel] | None:
    field = Config.model_fields.get("validate_" if section == "validate" else section)
    if field is None or section == "base_dir":
        return None
    return field.annotation  # type: ignore[return-value]


def _sections() -> list[str]:
    return [f.alias or name for name, f in Config.model_fields.items() if name != "base_dir"]


def _describe(error: dict[str, Any], source: str) -> str:
    loc = [str(p) for p in error["loc"]]
    section = loc[0] if loc else ""
    key = ".".join(loc)
    if error["type"] == "extra_forbidden":
        if len(loc) == 1:
            return f"{source}: unknown section [{section}]; valid sections: {', '.join(_sections())}"
        model = _section_model(section)
        valid = ", ".join(model.model_fields) if model else ""
        return f"{source}: unknown key '{key}'; valid keys in [{section}]: {valid}"
    given = error.get("input")
    return f"{source}: {key}: {error['msg'].lower()}, got {given!r} ({type(given).__name__})"


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
        if _section_model(section) is None:
            raise UsageError(f"--set {assignment}: unknown section [{section}]; valid: {', '.join(_sections())}")
        data.setdefault(section, {})[key] = value
    try:
        config = Config.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise UsageError(_describe(exc.errors()[0], source)) from exc
    unknown = [s for s in config.run.stages if s not in STAGES]
    if unknown:
        raise UsageError(f"{source}: run.stages: unknown stage {unknown[0]!r}; valid stages: {', '.join(STAGES)}")
    if len(set(config.run.stages)) != len(config.run.stages):
        raise UsageError(f"{source}: run.stages lists a stage twice: {config.run.stages}")
    return config
