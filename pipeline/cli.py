"""Command line: `python -m pipeline [run] ...`, `python -m pipeline validate DIR` and `... push DIR`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline import __version__
from pipeline.config import DEFAULT_CONFIG_FILE
from pipeline.errors import PipelineError, UsageError

COMMANDS = ("run", "validate", "push")


def _schema_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schema", type=Path, help="pandera schema file (default: the one shipped with pipeline)")
    parser.add_argument("--model", default="PublishedRecord", help="model class in the schema file")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline",
        description="Raw text files in, a validated Hugging Face Parquet dataset with a card out. "
        "Without a command, `run` with pipeline.toml.",
    )
    parser.add_argument("--version", action="version", version=f"pipeline {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the pipeline and publish the dataset",
        description=(
            "Ingest, clean, deduplicate, check language, validate and publish. "
            "Exit 0 when published, 1 when the data failed validation, 2 on usage errors."
        ),
    )
    run.add_argument("--config", type=Path, help=f"config file (default: ./{DEFAULT_CONFIG_FILE} if present)")
    run.add_argument("--input", help="input file or folder, or a URL such as s3://bucket/raw (overrides run.input)")
    run.add_argument("--output", help="output folder, or a URL such as s3://bucket/dist (overrides run.output)")
    run.add_argument("--name", help="dataset name: the published folder is OUTPUT/NAME (overrides run.name)")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help='override a config key with a TOML value, e.g. --set \'language.languages=["en","de"]\'',
    )
    run.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes for the stages (overrides run.workers; default: one per CPU core)",
    )
    run.add_argument(
        "--executor",
        choices=["local", "ray"],
        help="where stages run: a local process pool or a Ray cluster (overrides run.executor; see [ray] address)",
    )
    run.add_argument(
        "--fresh",
        action="store_true",
        help="discard the work folder of earlier (interrupted) runs and start over",
    )
    run.add_argument(
        "--progress",
        choices=["auto", "bar", "log"],
        default="auto",
        help="live progress bars (bar), a log line every 10 s (log), or bars only on a terminal (auto)",
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    validate = commands.add_parser(
        "validate",
        help="validate a published dataset folder (for CI)",
        description=(
            "Check a published folder: every shard against the pandera schema, ids unique across shards, "
            "the card's metadata and croissant.json against the data, and the card's images. "
            "Exit 0 when valid, 1 when not, 2 on usage errors."
        ),
    )
    validate.add_argument("folder", type=Path, help="the published dataset folder, e.g. dist/sample")
    _schema_options(validate)
    validate.add_argument("--format", choices=["text", "json"], default="text", help="report format")
    validate.add_argument(
        "--junit-xml", type=Path, metavar="FILE", help="also write the checks as JUnit XML test cases (for CI)"
    )

    push = commands.add_parser(
        "push",
        help="validate a published folder, then upload it to the Hugging Face Hub",
        description=(
            "Upload a published dataset folder as a Hub dataset repo with huggingface_hub. The folder is "
            "validated first and never uploaded when a check fails. The token comes from HF_TOKEN or "
            "`hf auth login`. Exit 0 when pushed (or listed), 1 when the folder fails validation, 2 on usage errors."
        ),
    )
    push.add_argument("folder", type=Path, help="the published dataset folder, e.g. dist/sample")
    push.add_argument("--repo-id", required=True, help="the Hub dataset repo, e.g. my-user/my-dataset")
    push.add_argument("--private", action="store_true", help="create the repo as private (when it does not exist)")
    push.add_argument("--revision", help="branch to push to (created when missing; default: main)")
    push.add_argument("--dry-run", action="store_true", help="list the files and sizes that would be uploaded")
    _schema_options(push)
    return parser


def _run(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.execution.progress import Progress
    from pipeline.execution.runner import Runner

    config_path = args.config if args.config is not None else Path(DEFAULT_CONFIG_FILE)
    overrides = list(args.overrides)
    # Command-line paths are relative to the cwd, so make them absolute before the config's base applies.
    # URLs (s3://...) are passed as given.
    if args.input:
        overrides.append(f"run.input={_toml_string(_location(args.input))}")
    if args.output:
        overrides.append(f"run.output={_toml_string(_location(args.output))}")
    if args.executor:
        overrides.append(f"run.executor={_toml_string(args.executor)}")
    if args.name:
        overrides.append(f"run.name={_toml_string(args.name)}")
    if args.workers is not None:
        if args.workers < 1:
            raise UsageError(f"--workers {args.workers}: must be at least 1")
        overrides.append(f"run.workers={args.workers}")
    config = load_config(config_path, overrides, require_file=args.config is not None)
    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    progress = Progress("quiet" if args.quiet else args.progress, log)
    result = Runner(config, log=log, fresh=args.fresh, progress=progress).run()
    if not args.quiet:
        print(result.summary())
    return 0


def _location(value: str) -> str:
    from pipeline.storage import is_url

    return value if is_url(value) else str(Path(value).resolve())


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _validate(args: argparse.Namespace) -> int:
    from pipeline.schema_loader import load_model
    from pipeline.validate import validate_folder

    if not args.folder.is_dir():
        raise UsageError(f"{args.folder} is not a folder; pass the published dataset folder, e.g. dist/sample")
    model = load_model(args.schema, args.model)
    report = validate_folder(args.folder, model)
    print(report.to_json() if args.format == "json" else report.to_text())
    if args.junit_xml is not None:
        try:
            args.junit_xml.write_text(report.to_junit_xml(), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--junit-xml {args.junit_xml}: cannot write: {exc.strerror}") from exc
    return 0 if report.ok else 1


def _push(args: argparse.Namespace) -> int:
    from pipeline.publish.push import push
    from pipeline.schema_loader import load_model

    model = load_model(args.schema, args.model)
    push(args.folder, args.repo_id, model, private=args.private, revision=args.revision, dry_run=args.dry_run)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "run")
    args = _parser().parse_args(argv)
    try:
        handler = {"run": _run, "validate": _validate, "push": _push}[args.command]
        return handler(args)
    except PipelineError as exc:
        print(f"pipeline: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            "pipeline: interrupted; the previous dataset, if any, is unchanged; rerun the same command to resume",
            file=sys.stderr,
        )
        return 130
