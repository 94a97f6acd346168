"""The Python API: `pipeline.run(...)` and `pipeline.validate(...)`, the same runs as the command line.

Both raise the exceptions of `pipeline.errors` (`UsageError`, `InputError`, `ValidationFailed`, ...)
where the command line would print one line and exit with their code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import UsageError

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.execution.progress import Mode
    from pipeline.execution.runner import RunResult
    from pipeline.stage import Stage
    from pipeline.validate import Report

Overrides = Sequence[str] | Mapping[str, Any]


def _override_items(overrides: Overrides | None) -> list[tuple[str, str, Any]]:
    """("section", "key", value) triples from `["s.k=V", ...]`, `{"s.k": v}` or `{"s": {"k": v}}`."""
    from pipeline.config import parse_override

    if overrides is None:
        return []
    if isinstance(overrides, str):
        raise UsageError("overrides: expected a list of 'section.key=VALUE' strings or a dict, got one string")
    items: list[tuple[str, str, Any]] = []
    if isinstance(overrides, Mapping):
        for key, value in overrides.items():
            if isinstance(value, Mapping) and "." not in key:
                items += [(key, inner, v) for inner, v in value.items()]
                continue
            parts = key.split(".")
            if len(parts) != 2 or not all(parts):
                raise UsageError(f"overrides: {key!r}: expected 'section.key', e.g. 'language.max_chars'")
            items.append((parts[0], parts[1], value))
        return items
    for assignment in overrides:
        (section, key), value = parse_override(assignment)
        items.append((section, key, value))
    return items


def make_config(
    config: Config | str | Path | None = None,
    *,
    input: str | Path | None = None,
    output: str | Path | None = None,
    name: str | None = None,
    stages: Sequence[str | type[Stage]] | None = None,
    overrides: Overrides | None = None,
) -> Config:
    """The config `run` uses: a file, a `Config` or the defaults, with the keyword arguments applied.

    Paths given as arguments are relative to the current directory; paths inside a config file to
    the file's folder.
    """
    from pipeline.config import Config, load_config

    if config is None:
        base = load_config(None)
    elif isinstance(config, Config):
        base = config
    elif isinstance(config, str | Path):
        base = load_config(Path(config))
    else:
        raise UsageError(f"config: expected a Config, a TOML file path or None, got {type(config).__name__}")
    data = base.as_dict()
    for section, key, value in _override_items(overrides):
        if not isinstance(data.setdefault(section, {}), dict):
            raise UsageError(f"overrides: [{section}] is not a section")
        data[section][key] = value
    from pipeline.storage import is_url

    # URLs (s3://, hf://, ...) as given; local paths relative to the current directory.
    if input is not None:
        data["run"]["input"] = str(input) if is_url(str(input)) else str(Path(input).absolute())
    if output is not None:
        data["run"]["output"] = str(output) if is_url(str(output)) else str(Path(output).resolve())
    if name is not None:
        data["run"]["name"] = name
    if stages is None and data["run"]["stages"] == base.run.stages:
        stages = base.stage_classes()  # keeps classes that were given as objects (e.g. from a notebook)
    return Config.from_dict(data, base_dir=base.base_dir, source="pipeline.run", stages=stages)


def run(
    config: Config | str | Path | None = None,
    *,
    input: str | Path | None = None,
    output: str | Path | None = None,
    name: str | None = None,
    stages: Sequence[str | type[Stage]] | None = None,
    overrides: Overrides | None = None,
    workers: int | None = None,
    fresh: bool = False,
    progress: Mode = "quiet",
    log: Callable[[str], None] | None = None,
) -> RunResult:
    """Run the pipeline and publish the dataset; returns the counts, paths and per-stage tallies.

    `config` is a TOML file, a `Config` or None (the defaults). `stages` replaces `run.stages` and may
    mix built-in names, plugin names, 'package.module:ClassName' strings and stage classes.
    `overrides` sets any key: `["language.max_chars=1000"]` or `{"language": {"max_chars": 1000}}`.
    `progress` is "quiet", "log" (a line every 10 s through `log`, default print) or "bar".

    Works from a script with or without an `if __name__ == "__main__":` guard and from a notebook:
    worker processes never re-run the calling script.
    """
    from pipeline.execution.progress import Progress
    from pipeline.execution.runner import Runner

    resolved = make_config(config, input=input, output=output, name=name, stages=stages, overrides=overrides)
    if log is None:
        log = print if progress != "quiet" else (lambda message: None)
    return Runner(resolved, log=log, workers=workers, fresh=fresh, progress=Progress(progress, log)).run()


def validate(path: str | Path, *, schema: str | Path | None = None, model: str = "PublishedRecord") -> Report:
    """Check a published dataset folder as `python -m pipeline validate` does.

    Returns the report: `.ok`, `.rows`, `.failures` (check -> count), `.problems` (check -> examples),
    and `.to_text()`, `.to_json()`, `.to_junit_xml()`.
    """
    from pipeline.schema_loader import load_model
    from pipeline.validate import validate_folder

    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; pass the published dataset folder, e.g. dist/sample")
    return validate_folder(folder, load_model(None if schema is None else Path(schema), model))
