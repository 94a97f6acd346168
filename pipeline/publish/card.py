"""The dataset card (README.md): Hub YAML metadata plus prose generated from the run's real numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml
from datasets import Features

from pipeline import __version__

_SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (1_000_000_000_000, "100B<n<1T"),
]
_MAX_SOURCES_LISTED = 50


def size_category(rows: int) -> str:
    for bound, label in _SIZE_CATEGORIES:
        if rows < bound:
            return label
    return "n>1T"


def hub_language(code: str) -> str:
    """langdetect's 'zh-cn' is Chinese to the Hub, whose `language` list takes ISO 639 codes."""
    return code.split("-")[0]


@dataclass
class StageCount:
    name: str
    records_in: int
    records_out: int
    rejected: dict[str, int]
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class SplitInfo:
    name: str
    pattern: str
    num_examples: int
    num_bytes: int


@dataclass
class CardContext:
    name: str
    pretty_name: str
    description: str
    license: str
    task_categories: list[str]
    features: Features
    field_descriptions: dict[str, str]
    splits: list[SplitInfo]
    download_size: int
    languages: Counter[str]
    num_chars: np.ndarray
    num_words: np.ndarray
    stages: list[StageCount]
    inputs: list[tuple[str, str, int]]  # (relative path, sha256, bytes)
    records_read: int
    records_rejected: int
    config_digest: str
    library_versions: dict[str, str]


def front_matter(ctx: CardContext) -> dict[str, Any]:
    rows = sum(s.num_examples for s in ctx.splits)
    meta: dict[str, Any] = {
        "pretty_name": ctx.pretty_name or ctx.name,
        "license": ctx.license,
    }
    languages = sorted({hub_language(code) for code in ctx.languages})
    if languages:
        meta["language"] = languages
    meta["size_categories"] = [size_category(rows)]
    meta["task_categories"] = list(ctx.task_categories)
    meta["configs"] = [
        {
            "config_name": "default",
            "data_files": [{"split": s.name, "path": s.pattern} for s in ctx.splits],
        }
    ]
    meta["dataset_info"] = {
        "features": ctx.features._to_yaml_list(),
        "splits": [{"name": s.name, "num_bytes": s.num_bytes, "num_examples": s.num_examples} for s in ctx.splits],
        "download_size": ctx.download_size,
        "dataset_size": sum(s.num_bytes for s in ctx.splits),
    }
    return meta


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _stats_row(label: str, values: np.ndarray) -> list[Any]:
    if not len(values):
        return [label, 0, "-", "-", "-", "-", "-"]
    q = np.percentile(values, [50, 90, 99], method="lower")
    return [label, f"{int(values.sum()):,}", int(values.min()), int(q[0]), int(q[1]), int(q[2]), int(values.max())]


def _dtype(feature: Any) -> str:
    return getattr(feature, "dtype", type(feature).__name__)


def render(ctx: CardContext) -> str:
    meta = yaml.safe_dump(front_matter(ctx), sort_keys=False, allow_unicode=True, width=1000)
    rows = sum(s.num_examples for s in ctx.splits)
    title = ctx.pretty_name or ctx.name
    parts = [f"---\n{meta}---\n", f"# {title}\n"]

    summary = ctx.description.strip() or f"A text dataset of {rows:,} documents built with `pipeline`."
    parts.append(
        "## Dataset summary\n\n"
        f"{summary}\n\n"
        f"{rows:,} documents were published from {ctx.records_read:,} input records in {len(ctx.inputs):,} "
        f"file(s); {ctx.records_rejected:,} records were rejected, each with its stage and reason in the "
        "run's rejection ledger (`rejected.parquet`, kept beside the dataset, not uploaded).\n"
    )
    split_names = ", ".join(f"`{s.name}`" for s in ctx.splits)
    parts.append(
        "## How to load\n\n"
        "```python\nfrom datasets import load_dataset\n\n"
        f'ds = load_dataset("path/to/{ctx.name}")  # or the Hub repo id\n'
        f"print(ds)  # splits: {split_names}\n```\n"
    )
    field_rows = [
        [f"`{name}`", f"`{_dtype(feature)}`", ctx.field_descriptions.get(name, "")]
        for name, feature in ctx.features.items()
    ]
    parts.append("## Fields\n\n" + _table(["field", "type", "description"], field_rows) + "\n")

    stage_rows = []
    for stage in ctx.stages:
        reasons = ", ".join(f"{reason}: {n:,}" for reason, n in sorted(stage.rejected.items())) or "-"
        stage_rows.append([f"`{stage.name}`", f"{stage.records_in:,}", f"{stage.records_out:,}", reasons])
    notes = [
        f"- `{stage.name}`: " + ", ".join(f"{k} = `{v}`" for k, v in sorted(stage.notes.items()))
        for stage in ctx.stages
        if stage.notes
    ]
    parts.append(
        "## How it was made\n\n"
        "The stages ran in this order; every record that did not reach the dataset is in the ledger "
        "with its stage and reason.\n\n"
        + _table(["stage", "records in", "records out", "rejected by reason"], stage_rows)
        + "\n\n"
        + ("\n".join(notes) + "\n\n" if notes else "")
        + f"Made with `pipeline` {__version__} (config sha256 `{ctx.config_digest[:16]}`), "
        + ", ".join(f"{name} {version}" for name, version in sorted(ctx.library_versions.items()))
        + ".\n"
    )
    if ctx.languages:
        lang_rows = [
            [f"`{code}`", f"{n:,}", f"{100 * n / rows:.1f} %"]
            for code, n in sorted(ctx.languages.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        parts.append("## Languages\n\n" + _table(["language", "documents", "share"], lang_rows) + "\n")
    parts.append(
        "## Document lengths\n\n"
        + _table(
            ["measure", "total", "min", "median", "p90", "p99", "max"],
            [_stats_row("characters", ctx.num_chars), _stats_row("words", ctx.num_words)],
        )
        + "\n"
    )
    listed = ctx.inputs[:_MAX_SOURCES_LISTED]
    source_rows = [[f"`{path}`", f"{size:,}", f"`{digest[:16]}`"] for path, digest, size in listed]
    more = len(ctx.inputs) - len(listed)
    parts.append(
        "## Sources\n\n"
        + _table(["input file", "bytes", "sha256 (prefix)"], source_rows)
        + (f"\n\n… and {more:,} more input files (all listed with full hashes in the run report).\n" if more else "\n")
    )
    parts.append(
        "## Limitations\n\n"
        "- Language labels come from `langdetect` on at most the first characters of each document; short "
        "or mixed-language documents can be mislabelled.\n"
        "- Exact duplicates are removed up to case and whitespace only; near-duplicates remain unless a "
        "near-duplicate stage ran (see the stage table).\n"
        "- The text is what the inputs contained after normalisation: no filtering of offensive content, "
        "personal data or boilerplate happened unless the stage table lists a stage that does it.\n"
        "- Licensing of the content follows its sources; the `license` field above is the publisher's "
        "declaration for the collection.\n"
    )
    return "\n".join(parts)


def parse_front_matter(text: str) -> dict[str, Any]:
    """The YAML block between the leading '---' lines. Raises ValueError when absent or invalid."""
    if not text.startswith("---\n"):
        raise ValueError("README.md does not start with a '---' YAML block")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ValueError("README.md's YAML block has no closing '---' line")
    try:
        data = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        raise ValueError(f"README.md's YAML block does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("README.md's YAML block is not a mapping")
    return data
