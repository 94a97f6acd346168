"""The dataset card (README.md): Hub YAML metadata plus prose generated from the run's real numbers."""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml
from datasets import Features

from pipeline import __version__
from pipeline.invisible import INVISIBLE

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
class Example:
    id: str
    split: str
    language: str | None
    text: str  # the first characters only
    truncated: bool


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
    split_shares: dict[str, float] = field(default_factory=dict)
    version: str = ""
    citation: str = ""
    images: dict[str, str] = field(default_factory=dict)  # plot name -> relative path
    examples: list[Example] = field(default_factory=list)
    # Per struct column of integer counts (e.g. `pii`): total per child, and documents with any.
    struct_sums: dict[str, dict[str, int]] = field(default_factory=dict)
    struct_docs: dict[str, int] = field(default_factory=dict)
    duplicate_copies: int | None = None
    license_name: str = ""
    license_link: str = ""
    tags: list[str] = field(default_factory=list)
    homepage: str = ""

    @property
    def rows(self) -> int:
        return sum(s.num_examples for s in self.splits)

    def ran(self, stage: str) -> bool:
        return any(s.name == stage for s in self.stages)


def front_matter(ctx: CardContext) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "pretty_name": _one_line(ctx.pretty_name or ctx.name),
        "license": ctx.license,
    }
    if ctx.license == "other" and ctx.license_name:
        meta["license_name"] = _one_line(ctx.license_name)
    if ctx.license == "other" and ctx.license_link:
        meta["license_link"] = _one_line(ctx.license_link)
    if ctx.tags:
        meta["tags"] = [_one_line(t) for t in ctx.tags]
    languages = sorted({hub_language(code) for code in ctx.languages})
    if languages:
        meta["language"] = languages
    meta["size_categories"] = [size_category(ctx.rows)]
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


# --- escaping: text from the data must never become markup in the card ---------------------------

# Every ASCII punctuation character that can open Markdown (CommonMark, GFM tables, the Hub's
# LaTeX `$`) is backslash-escaped; `&`, `<` and `>` become entities first so no HTML survives.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:=\"'])")
_WHITESPACE = re.compile(r"\s+")


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


# A value shown in the card (id, source, file name, example text) is cut after this many characters.
MAX_CELL_CHARS = 300


def visible(text: str, limit: int = MAX_CELL_CHARS) -> str:
    """`text` without invisible/bidi control characters, cut to `limit` characters with an ellipsis."""
    text = INVISIBLE.sub("", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_cell(text: str) -> str:
    """`text` as inert inline Markdown for one table cell: one line, no HTML, no markup, no `|`."""
    text = visible(text)
    flat = _WHITESPACE.sub(" ", text.replace("\r\n", "\n").replace("\n", " ↵ ")).strip()
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run inside `text`, so the block cannot be closed early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


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
    if isinstance(feature, dict):
        return "struct{" + ", ".join(f"{k}: {_dtype(v)}" for k, v in feature.items()) + "}"
    return str(getattr(feature, "dtype", type(feature).__name__))


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


# --- sections ---------------------------------------------------------------------------------------


def _summary(ctx: CardContext) -> str:
    summary = ctx.description.strip() or f"A text dataset of {ctx.rows:,} documents built with `pipeline`."
    return (
        "## Dataset summary\n\n"
        f"{summary}\n\n"
        f"{ctx.rows:,} documents were published from {ctx.records_read:,} input records in {len(ctx.inputs):,} "
        f"file(s); {ctx.records_rejected:,} records were rejected, each with its stage and reason in the "
        "run's rejection ledger (`rejected.parquet`, kept beside the dataset, not uploaded).\n\n"
        + _table(
            ["version", "made with", "config sha256"],
            [[escape_cell(ctx.version) or "-", f"`pipeline` {__version__}", f"`{ctx.config_digest}`"]],
        )
        + "\n"
    )


def _how_to_load(ctx: CardContext) -> str:
    split_names = ", ".join(f"`{s.name}`" for s in ctx.splits)
    return (
        "## How to load\n\n"
        "```python\nfrom datasets import load_dataset\n\n"
        f'ds = load_dataset("path/to/{ctx.name}")  # or the Hub repo id\n'
        f"print(ds)  # splits: {split_names}\n```\n\n"
        "The folder also holds `croissant.json` ([Croissant](https://mlcommons.org/croissant/) 1.1 metadata with "
        "a sha256 per shard), readable with `mlcroissant`.\n"
    )


def _structure(ctx: CardContext) -> str:
    field_rows = [
        [f"`{name}`", f"`{_dtype(feature)}`", ctx.field_descriptions.get(name, "")]
        for name, feature in ctx.features.items()
    ]
    split_rows = [
        [
            f"`{s.name}`",
            f"{ctx.split_shares[s.name]:g}" if s.name in ctx.split_shares else "-",
            f"{s.num_examples:,}",
            f"{s.num_bytes:,}",
            f"`{s.pattern}`",
        ]
        for s in ctx.splits
    ]
    if ctx.ran("dedup_near"):
        near = (
            "Exact and near-duplicates were removed before the split (stages `dedup_exact`, `dedup_near`), so "
            "no duplicate or near-duplicate pair straddles two splits."
        )
    elif ctx.ran("dedup_exact"):
        near = (
            "Exact duplicates were removed before the split, so no document appears in two splits; "
            "near-duplicates were not removed (no `dedup_near` stage ran) and can straddle splits."
        )
    else:
        near = "No deduplication stage ran: the same document can appear in two splits."
    parts = [
        "## Dataset structure\n",
        "### Fields\n\n" + _table(["field", "type", "description"], field_rows) + "\n",
        "### Splits\n\n"
        "Each record's split is fixed by a hash of its `id` against the configured shares, so it does not "
        "change when other records are added or removed, or when the pipeline is re-run. "
        f"{near}\n\n" + _table(["split", "share", "documents", "bytes (Arrow)", "files"], split_rows) + "\n",
    ]
    if ctx.examples:
        rows = [
            [
                escape_cell(e.id),
                f"`{e.split}`",
                escape_cell(e.language or "-"),
                escape_cell(e.text) + (" …" if e.truncated else ""),
            ]
            for e in ctx.examples
        ]
        parts.append(
            "### Example rows\n\n"
            f"{len(ctx.examples)} records chosen by the smallest hash of their id (the same records on every "
            "run), first 200 characters, line breaks shown as ↵; Markdown and HTML in the text are escaped.\n\n"
            + _table(["id", "split", "language", "text"], rows)
            + "\n"
        )
    return "\n".join(parts)


def _creation(ctx: CardContext) -> str:
    listed = ctx.inputs[:_MAX_SOURCES_LISTED]
    source_rows = [[escape_cell(path), f"{size:,}", f"`{digest[:16]}`"] for path, digest, size in listed]
    more = len(ctx.inputs) - len(listed)
    stage_rows = []
    for stage in ctx.stages:
        # Reasons are short codes from the stages' code, not data; only a `|` could break the row.
        reasons = ", ".join(f"{r.replace('|', '/')}: {n:,}" for r, n in sorted(stage.rejected.items())) or "-"
        stage_rows.append([f"`{stage.name}`", f"{stage.records_in:,}", f"{stage.records_out:,}", reasons])
    notes = [
        f"- `{stage.name}`: " + ", ".join(f"{k} = `{v}`" for k, v in sorted(stage.notes.items()))
        for stage in ctx.stages
        if stage.notes
    ]
    versions = ", ".join(f"{name} {version}" for name, version in sorted(ctx.library_versions.items()))
    return (
        "## Dataset creation\n\n"
        "### Source data\n\n"
        + _table(["input file", "bytes", "sha256 (prefix)"], source_rows)
        + (f"\n\n… and {more:,} more input files (all listed with full hashes in the run report).\n" if more else "\n")
        + "\n### Processing: the stage funnel\n\n"
        "The stages ran in this order; every record that did not reach the dataset is in the ledger with its "
        "stage and reason.\n\n"
        + _table(["stage", "records in", "records out", "rejected by reason"], stage_rows)
        + "\n\n"
        + ("\n".join(notes) + "\n\n" if notes else "")
        + f"Made with `pipeline` {__version__} (config sha256 `{ctx.config_digest}`)"
        + (f", {versions}" if versions else "")
        + ".\n"
    )


def _languages(ctx: CardContext) -> str:
    if not ctx.languages:
        return ""
    rows = [
        [escape_cell(code), f"{n:,}", _percent(n, ctx.rows)]
        for code, n in sorted(ctx.languages.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    image = f"![Documents per language]({ctx.images['languages']})\n\n" if "languages" in ctx.images else ""
    return "## Languages\n\n" + image + _table(["language", "documents", "share"], rows) + "\n"


def _lengths(ctx: CardContext) -> str:
    image = (
        f"![Histogram of document length in characters]({ctx.images['length_histogram']})\n\n"
        if "length_histogram" in ctx.images
        else ""
    )
    return (
        "## Document lengths\n\n"
        + image
        + _table(
            ["measure", "total", "min", "median", "p90", "p99", "max"],
            [_stats_row("characters", ctx.num_chars), _stats_row("words", ctx.num_words)],
        )
        + "\n"
    )


def _personal(ctx: CardContext) -> str:
    counts = ctx.struct_sums.get("pii")
    if counts is not None:
        rows = [[escape_cell(kind), f"{n:,}"] for kind, n in sorted(counts.items())]
        did = (
            f"The `pii` stage looked for personal data and replaced what it found; the `pii` column counts, "
            f"per document, the items of each kind it redacted. {ctx.struct_docs.get('pii', 0):,} of "
            f"{ctx.rows:,} published documents had at least one.\n\n"
            + _table(["kind", "items redacted"], rows)
            + "\n\n"
            "Detection is pattern-based: personal data it has no pattern for (names, postal addresses, "
            "identifiers in unusual formats, data inside images or encoded text) can remain. "
        )
    else:
        did = (
            "No personal-data detection or redaction ran on this dataset (no `pii` stage): the text can "
            "contain names, e-mail addresses, phone numbers and other personal data exactly as the inputs "
            "did. "
        )
    return (
        "## Personal and sensitive information\n\n"
        + did
        + "Nothing was done about sensitive topics (health, religion, politics, sexuality): documents "
        "about them are published as they were found. Users who find personal data should report it to "
        "the publisher so the record can be removed.\n"
    )


def _risks(ctx: CardContext) -> str:
    lines = [
        "## Bias, risks and limitations\n",
        "- What is in the data is what the inputs contained after the stages above; the collection "
        "reflects how its sources were chosen, not the world or any population.",
    ]
    if ctx.ran("language"):
        lines.append(
            "- Language labels come from `langdetect` on the first characters of each document; short or "
            "mixed-language documents can be mislabelled, and documents below the score threshold were "
            "dropped, which removes more of the languages and dialects the detector knows least."
        )
    if ctx.ran("quality") or "quality" in ctx.struct_sums or "quality" in ctx.features:
        lines.append(
            "- Quality heuristics (word counts, symbol ratios, repetition) were applied; they favour "
            "standard edited prose and can under-represent informal, technical or non-English writing."
        )
    else:
        lines.append("- No quality filtering ran: boilerplate, spam and machine-generated text can remain.")
    if ctx.ran("dedup_near"):
        lines.append("- Near-duplicates were removed (`dedup_near`); the kept copy stands for the removed ones.")
    elif ctx.ran("dedup_exact"):
        lines.append(
            "- Only exact duplicates were removed (see `dedup_exact` in the stage table); near-duplicates such "
            "as the same page with a different date or footer remain."
        )
    else:
        lines.append("- No deduplication ran: repeated documents remain and weigh more in training.")
    if ctx.duplicate_copies is not None:
        lines.append(f"- {ctx.duplicate_copies:,} removed duplicate copies are folded into the published records.")
    lines.append(
        "- No filtering of offensive, hateful or explicit content happened unless the stage table lists a "
        "stage that does it; do not use the data unfiltered for systems that talk to the public."
    )
    return "\n".join(lines) + "\n"


def _licensing(ctx: CardContext) -> str:
    declared = (
        "The publisher declared no standard licence (`license: other`): check the sources' terms before use."
        if ctx.license in ("other", "unknown", "")
        else f"The publisher declares the collection under {escape_cell(ctx.license)}."
    )
    if ctx.license == "other" and ctx.license_name:
        declared = f"The publisher declares the collection under {escape_cell(ctx.license_name)}"
        declared += f" ({escape_cell(ctx.license_link)})." if ctx.license_link else "."
    if ctx.homepage:
        declared += f" Homepage: {escape_cell(ctx.homepage)}."
    return (
        "## Licensing\n\n"
        f"{declared} The pipeline did not check or change the licences of the individual documents: each "
        "keeps the terms of its source (see `source` and `url` per record, and the input files above).\n"
    )


def _citation(ctx: CardContext) -> str:
    citation = ctx.citation.strip()
    if not citation:
        return ""
    fence = _fence(citation)
    return f"## Citation\n\n{fence}bibtex\n{citation}\n{fence}\n"


def render(ctx: CardContext) -> str:
    meta = yaml.safe_dump(front_matter(ctx), sort_keys=False, allow_unicode=True, width=1000)
    title = _one_line(ctx.pretty_name or ctx.name)
    sections = [
        f"---\n{meta}---\n",
        f"# {title}\n",
        _summary(ctx),
        _how_to_load(ctx),
        _structure(ctx),
        _creation(ctx),
        _languages(ctx),
        _lengths(ctx),
        _personal(ctx),
        _risks(ctx),
        _licensing(ctx),
        _citation(ctx),
    ]
    return "\n".join(s for s in sections if s)


def linked_images(text: str) -> list[str]:
    """Relative targets of Markdown images and HTML <img> tags in the card."""
    targets = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", text) + re.findall(r"<img[^>]*\ssrc=[\"']([^\"']+)", text)
    return [t for t in targets if "://" not in t and not t.startswith("data:")]


MAX_FRONT_MATTER_BYTES = 1_000_000
MAX_YAML_ALIASES = 100


def parse_front_matter(text: str) -> dict[str, Any]:
    """The YAML block between the leading '---' lines. Raises ValueError when absent or invalid."""
    if not text.startswith("---\n"):
        raise ValueError("README.md does not start with a '---' YAML block")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ValueError("README.md's YAML block has no closing '---' line")
    block = text[4:end]
    if len(block) > MAX_FRONT_MATTER_BYTES:
        raise ValueError(f"README.md's YAML block is larger than {MAX_FRONT_MATTER_BYTES:,} bytes")
    try:
        # Aliases can expand exponentially ("billion laughs"); a card needs few, so count them first.
        aliases = sum(isinstance(token, yaml.AliasToken) for token in yaml.scan(block))
        if aliases > MAX_YAML_ALIASES:
            raise ValueError(f"README.md's YAML block uses {aliases} aliases (at most {MAX_YAML_ALIASES} allowed)")
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise ValueError(f"README.md's YAML block does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("README.md's YAML block is not a mapping")
    return data
