"""Command line: `python -m pipeline [run] ...`, `... validate DIR`, `... push DIR` and `... inspect DIR`."""

from __future__ import annotations

import argparse
import errno
import re
import sys
from pathlib import Path

from pipeline import __version__
from pipeline.config import DEFAULT_CONFIG_FILE, toml_string
from pipeline.errors import EnvironmentFailure, InternalError, PipelineError, UsageError

COMMANDS = ("run", "validate", "push", "inspect", "init")
# Modules of the `run` extra (pyproject.toml): the lean install (`validate`, `push`) goes without them.
RUN_EXTRA_MODULES = ("ftfy", "langdetect", "charset_normalizer", "matplotlib", "trafilatura", "fastwarc")


def _require_run_extra() -> None:
    """One clear line instead of an ImportError deep inside a worker when the lean install runs `run`."""
    from importlib.util import find_spec

    missing = [name for name in RUN_EXTRA_MODULES if find_spec(name) is None]
    if missing:
        raise EnvironmentFailure(
            f"running the pipeline needs {', '.join(missing)}; install them with "
            "pip install 'pipeline-datasets[run]' (validate and push work without them)"
        )


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
    parser.add_argument(
        "--debug", action="store_true", help="on an error, print the Python traceback too (any position)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the pipeline and publish the dataset",
        description=(
            "Ingest, clean, deduplicate, check language, validate and publish. "
            "Exit 0 when published, 1 when the data failed validation, 2 on usage errors."
        ),
    )
    run.add_argument(
        "input_path",
        nargs="?",
        metavar="INPUT",
        help="input file, folder or quoted glob like 'data/*.jsonl' (same as --input)",
    )
    run.add_argument("--config", type=Path, help=f"config file (default: ./{DEFAULT_CONFIG_FILE} if present)")
    run.add_argument("--input", help="input file, folder, glob, or a URL such as s3://bucket/raw (overrides run.input)")
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
        help="worker processes for the stages (overrides run.workers; 0 or default: one per CPU core)",
    )
    run.add_argument(
        "--limit", type=int, metavar="N", help="read only the first N records, for a trial run (ingest.limit)"
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
    validate.add_argument("--allow-empty", action="store_true", help="accept a dataset with no rows")
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
    push.add_argument("--allow-empty", action="store_true", help="upload a dataset with no rows")
    _schema_options(push)

    inspect = commands.add_parser(
        "inspect",
        help="show what a run did: funnel, rejections with samples, removed lines, duplicates",
        description=(
            "Summarise a finished run from its dataset folder (dist/NAME) or report folder (dist/NAME.report): "
            "the same content as NAME.report/report.html, in the terminal. Exit 0, or 2 on usage errors."
        ),
    )
    inspect.add_argument("folder", type=Path, help="the dataset folder or its report folder, e.g. dist/sample")
    inspect.add_argument(
        "--reason", help="page through the rejected records of one reason, e.g. quality:gopher_min_words"
    )
    inspect.add_argument("--id", dest="record", metavar="ID", help="show one record's path through the stages")
    inspect.add_argument("--page", type=int, default=1, help="with --reason: the page to show (default 1)")
    inspect.add_argument("--limit", type=int, default=10, metavar="N", help="with --reason: records per page")
    inspect.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    init = commands.add_parser(
        "init",
        help="write a commented pipeline.toml for a new dataset",
        description="Write DIR/pipeline.toml for a new dataset named after DIR (never overwrites a file).",
    )
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), help="the project folder (default: .)")
    init.add_argument("--input", default="raw", help="input folder, relative to DIR (default: raw)")
    init.add_argument("--name", help="dataset name (default: the folder's name)")
    return parser


def _run(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.execution.malloc import fix_mmap_threshold
    from pipeline.execution.processes import start_worker_server
    from pipeline.execution.progress import Progress

    _require_run_extra()
    config_path = args.config if args.config is not None else Path(DEFAULT_CONFIG_FILE)
    overrides = list(args.overrides)
    if args.input_path and args.input and args.input_path != args.input:
        raise UsageError(f"two inputs given ({args.input_path} and --input {args.input}); pass one")
    input_arg = args.input or args.input_path
    # Command-line paths are relative to the cwd, so make them absolute before the config's base applies.
    if input_arg:
        # URLs (s3://...) are passed as given.
        overrides.append(f"run.input={toml_string(_location(input_arg, resolve=False))}")
        if not args.name:
            # The user's data, not the config's sample: name the dataset after the input.
            overrides.append(f"run.name={toml_string(dataset_name(input_arg))}")
            if args.config is None:
                # The implicit ./pipeline.toml describes its own data; its title and prose are not the user's.
                overrides.append(f"publish.pretty_name={toml_string(dataset_name(input_arg))}")
                overrides.append('publish.description=""')
    if args.output:
        overrides.append(f"run.output={toml_string(_location(args.output))}")
    if args.executor:
        overrides.append(f"run.executor={toml_string(args.executor)}")
    if args.name:
        overrides.append(f"run.name={toml_string(args.name)}")
    if args.workers is not None:
        if args.workers < 0:
            raise UsageError(f"--workers {args.workers}: must be 0 (one per CPU core) or more")
        overrides.append(f"run.workers={args.workers}")
    if args.limit is not None:
        if args.limit < 1:
            raise UsageError(f"--limit {args.limit}: must be at least 1")
        overrides.append(f"ingest.limit={args.limit}")
    config = load_config(config_path, overrides, require_file=args.config is not None)
    # Before the runner's imports, so that the workers' start-up overlaps with them.
    start_worker_server(config)
    # After the fork server started, which need not have it: each worker sets it itself (see malloc.py).
    fix_mmap_threshold()
    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    progress = Progress("quiet" if args.quiet else args.progress, log)
    from pipeline.execution.runner import Runner

    runner = Runner(config, log=log, fresh=args.fresh, progress=progress)
    try:
        result = runner.run()
    except BaseException:
        _report_leftovers(runner.work_root)
        raise
    if not args.quiet:
        print(result.summary())
    return 0


def dataset_name(input_arg: str) -> str:
    """A plain folder name from an input path or glob: `data/export.jsonl` -> `export`."""
    from pipeline.ingest import split_glob

    root, pattern = split_glob(Path(input_arg).absolute())
    stem = root.name if pattern is not None or root.is_dir() or not root.suffix else root.name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "dataset"
    return name


def _location(value: str, resolve: bool = True) -> str:
    """A URL as given; a local path made absolute (resolved, or only absolute so a glob stays a glob)."""
    from pipeline.storage import is_url

    if is_url(value):
        return value
    return str(Path(value).resolve() if resolve else Path(value).absolute())


def _report_leftovers(work: Path) -> None:  # or a UPath for a work folder at a URL
    """After a failed run: say what is left on disk, since a full disk is a common cause."""
    from pipeline.execution.workdir import tree_bytes

    try:
        if not work.is_dir():
            return
        size = tree_bytes(work)
    except Exception:  # best effort (a work folder at a URL fails in its client's types): keep the run's error
        return
    print(
        f"pipeline: the previous dataset, if any, is unchanged; the work folder {work} "
        f"({size / 1e6:,.1f} MB) is kept so a rerun resumes; delete it to free the space",
        file=sys.stderr,
    )


# What to do about the OS errors a run can foreseeably meet.
_OS_FIXES = {
    errno.ENOSPC: "the disk is full: free space or choose another --output",
    errno.EDQUOT: "the disk quota is exceeded: free space or choose another --output",
    errno.EACCES: "permission denied: fix the permissions or choose another path",
    errno.EPERM: "operation not permitted: fix the permissions or choose another path",
    errno.EROFS: "the file system is read-only: choose another --output",
    errno.ENAMETOOLONG: "the name is too long for the file system: choose a shorter --name or path",
    errno.EEXIST: "a file is in the way where a folder is needed: move it or choose another path",
    errno.ENOTDIR: "a file is in the way where a folder is needed: move it or choose another path",
    errno.EISDIR: "a folder is where a file is needed: move it or choose another path",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n)",
    errno.ENOMEM: "out of memory: lower run.workers or run.batch_size",
}


def environment_failure(exc: OSError) -> EnvironmentFailure:
    """One line naming the path and the fix, for an OSError the machine raised."""
    fix = _OS_FIXES.get(exc.errno or 0, f"{exc.strerror or exc}")
    where = exc.filename if exc.filename is not None else "(no path)"
    return EnvironmentFailure(f"{where}: {fix} ({type(exc).__name__}: {exc.strerror or exc})")


def _validate(args: argparse.Namespace) -> int:
    from pipeline.schema_loader import load_model
    from pipeline.validate import validate_folder

    if not args.folder.is_dir():
        raise UsageError(f"{args.folder} is not a folder; pass the published dataset folder, e.g. dist/sample")
    model = load_model(args.schema, args.model)
    report = validate_folder(args.folder, model, allow_empty=args.allow_empty)
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
    push(
        args.folder,
        args.repo_id,
        model,
        private=args.private,
        revision=args.revision,
        dry_run=args.dry_run,
        allow_empty=args.allow_empty,
    )
    return 0


def _init(args: argparse.Namespace) -> int:
    from pipeline.init import write_config

    path = write_config(args.folder, args.name, args.input)
    print(f"wrote {path}; put your files in {args.folder / args.input} and run: python -m pipeline --config {path}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from pipeline.report.inspect import inspect

    output = inspect(
        args.folder,
        reason=args.reason,
        record=args.record,
        page=args.page,
        per_page=args.limit,
        as_json=args.format == "json",
    )
    print(output)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "run")
    elif argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "run")  # `python -m pipeline mydata`: the input, positionally
    args = _parser().parse_args(argv)
    try:
        handler = {"run": _run, "validate": _validate, "push": _push, "inspect": _inspect, "init": _init}[args.command]
        return handler(args)
    except (PipelineError, OSError, MemoryError, Exception) as exc:
        error = _as_pipeline_error(exc)
        if debug:
            import traceback

            traceback.print_exception(exc)
        print(f"pipeline: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(
            "pipeline: interrupted; the previous dataset, if any, is unchanged; rerun the same command to resume",
            file=sys.stderr,
        )
        return 130


def _as_pipeline_error(exc: BaseException) -> PipelineError:
    if isinstance(exc, PipelineError):
        return exc
    if isinstance(exc, OSError):
        return environment_failure(exc)
    if isinstance(exc, MemoryError):
        return EnvironmentFailure("out of memory: lower run.workers, run.batch_size or ingest.max_document_bytes")
    return InternalError(
        f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
        "(a pipeline bug: rerun with --debug for the traceback and report it)"
    )
