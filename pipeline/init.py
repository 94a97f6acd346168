"""`python -m pipeline init [DIR]`: a commented config for a new dataset, so the sample's is never reused."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.config import DEFAULT_CONFIG_FILE, load_config
from pipeline.errors import EnvironmentFailure, UsageError

_TEMPLATE = """\
# pipeline config for the dataset "{name}". Paths are relative to this file.
# Every key not set here takes its default; `python -m pipeline --config {file}` runs it.

[run]
input = {input}              # a file, a folder, or a glob such as "raw/*.jsonl"
output = "dist"              # the dataset goes to dist/{name}/, the report to dist/{name}.report/
name = {name_toml}
# Stages in the order they run; drop the ones you do not want (the schema follows).
stages = ["normalize", "clean", "pii", "dedup_exact", "language", "quality", "dedup_near"]
workers = 0                  # 0: one worker per CPU core
keep_work = false            # true keeps the work folder so a rerun redoes only what changed
# A run publishing less than this share of what it read fails with exit 4 and the top reasons.
min_published_fraction = 0.01

[ingest]
text_field = "text"          # the field (JSONL/JSON) or column (CSV/Parquet) that holds the text
id_field = "id"              # the record's own id, kept as `id` when present
url_field = "url"
# Every other input field is published as a typed column; list fields here to keep only those.
# keep_fields = ["timestamp", "meta"]
duplicate_ids = "fail"       # or "prefix_source": ids become "<file>:<id>" (shards numbered from 0 each)
text_unit = "document"       # "line": every line of a .txt file is a document
limit = 0                    # read only the first N records (0: all), like --limit N

[language]
languages = ["en"]           # langdetect codes to keep, e.g. ["en", "de"]
min_language_score = 0.80

[quality]
filter = true                # false: annotate quality signals but reject nothing

[publish]
pretty_name = {name_toml}
description = ""             # what the data is, where it comes from, what it is for
license = "other"            # a Hub licence id such as "cc-by-4.0", "mit", "apache-2.0"
# license_name = ""          # with license = "other": the licence's name ...
# license_link = ""          # ... and where to read it
tags = []
homepage = ""
citation = ""                # a BibTeX entry
"""


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(folder: Path, name: str | None, input_dir: str) -> Path:
    """Write FOLDER/pipeline.toml (never over an existing file) and check it loads."""
    name = name or re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-.") or "dataset"
    path = folder / DEFAULT_CONFIG_FILE
    if path.exists():
        raise UsageError(f"{path} already exists; edit it, or run init in another folder")
    text = _TEMPLATE.format(name=name, name_toml=_toml(name), input=_toml(input_dir), file=path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / input_dir).mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {path}: {exc.strerror}") from exc
    load_config(path)  # the template must always be a valid config
    return path
