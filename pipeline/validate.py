"""Validate a published folder without re-running the pipeline: the check users put in CI.

Reads the shards in bounded chunks, so a dataset of any size validates in bounded memory (ids take
8 bytes each for the uniqueness check).
"""

from __future__ import annotations

import json
import re
import sys
import types
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets import Features

from pipeline.fingerprint import sha256_of
from pipeline.parquet_read import open_parquet, read_batches
from pipeline.publish import croissant
from pipeline.publish.card import hub_language, linked_images, parse_front_matter, size_category
from pipeline.schema_loader import load_model, schema_failures
from pipeline.unique_ids import UniqueIds

MAX_PROBLEMS_PER_CHECK = 20
CHUNK_ROWS = 10_000
# pandera checks a pandas frame, several times the Arrow bytes for text: a chunk is also kept to about
# this many uncompressed bytes, so validating long documents costs no more memory than short ones.
# Measured on a published dataset of 400,000 rows: 8 MiB chunks peaked at 346 MB, 2 MiB at 274 MB in
# the same time; 1 MiB saved 14 MB more and took a third longer.
CHUNK_BYTES = 2 << 20

CHECKS = [
    "files",
    "not_empty",
    "card_front_matter",
    "configs_match_files",
    "features_match_parquet",
    "num_examples",
    "download_size",
    "size_categories",
    "language_list",
    "schema",
    "id_unique",
    "croissant",
    "card_images",
]


@dataclass
class Problem:
    check: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def line(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.file,
                f"row {self.row}" if self.row is not None else None,
                f"column {self.column}" if self.column else None,
            )
            if part
        )
        value = f" (value: {self.value})" if self.value is not None else ""
        return f"{where + ': ' if where else ''}{self.message}{value}"


@dataclass
class Report:
    folder: str
    failures: Counter[str] = field(default_factory=Counter)
    problems: dict[str, list[Problem]] = field(default_factory=lambda: defaultdict(list))
    rows: int = 0
    # Checks that do not apply to this folder (e.g. no croissant.json), with the reason.
    skipped: dict[str, str] = field(default_factory=dict)

    def skip(self, check: str, reason: str) -> None:
        self.skipped[check] = reason

    def add(self, problem: Problem) -> None:
        self.failures[problem.check] += 1
        if len(self.problems[problem.check]) < MAX_PROBLEMS_PER_CHECK:
            self.problems[problem.check].append(problem)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_text(self) -> str:
        ran = len(CHECKS) - len(self.skipped)
        not_run = [f"  not checked: {check} ({reason})" for check, reason in self.skipped.items()]
        if self.ok:
            return "\n".join([f"validate {self.folder}: OK ({self.rows:,} rows, {ran} checks passed)", *not_run])
        lines = [f"validate {self.folder}: FAILED ({len(self.failures)} of {ran} checks failed)"]
        for check in CHECKS:
            count = self.failures.get(check, 0)
            if not count:
                continue
            lines.append(f"  {check}: {count} problem(s)")
            lines += [f"    {p.line()}" for p in self.problems[check]]
            if count > len(self.problems[check]):
                lines.append(f"    … and {count - len(self.problems[check])} more")
        return "\n".join(lines + not_run)

    def to_json(self) -> str:
        return json.dumps(
            {
                "folder": self.folder,
                "ok": self.ok,
                "rows": self.rows,
                "checks": [
                    {
                        "name": check,
                        "passed": not self.failures.get(check),
                        "skipped": self.skipped.get(check),
                        "failures": self.failures.get(check, 0),
                        "problems": [asdict(p) for p in self.problems.get(check, [])],
                    }
                    for check in CHECKS
                ],
            },
            indent=2,
        )

    def to_junit_xml(self) -> str:
        """JUnit XML with one test case per check, so CI systems list each check and its problems."""
        failed = sum(1 for check in CHECKS if self.failures.get(check))
        suites = ET.Element("testsuites", name="pipeline validate", tests=str(len(CHECKS)), failures=str(failed))
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"validate {self.folder}",
            tests=str(len(CHECKS)),
            failures=str(failed),
            errors="0",
            skipped=str(len(self.skipped)),
        )
        for check in CHECKS:
            case = ET.SubElement(suite, "testcase", classname="pipeline.validate", name=check)
            if check in self.skipped:
                ET.SubElement(case, "skipped", message=self.skipped[check])
            count = self.failures.get(check, 0)
            if count:
                problems = self.problems[check]
                failure = ET.SubElement(
                    case, "failure", type=check, message=f"{count} problem(s): {problems[0].line()}"
                )
                lines = [p.line() for p in problems]
                if count > len(problems):
                    lines.append(f"… and {count - len(problems)} more")
                failure.text = "\n".join(lines)
        ET.indent(suites)
        return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _split_files(folder: Path, meta: dict[str, Any], report: Report) -> dict[str, list[Path]]:
    splits: dict[str, list[Path]] = {}
    configs = meta.get("configs") or []
    if not configs:
        report.add(Problem("configs_match_files", "the card has no `configs` entry with data_files"))
    for config in configs:
        for entry in config.get("data_files") or []:
            patterns = entry.get("path")
            patterns = [patterns] if isinstance(patterns, str) else list(patterns or [])
            files: list[Path] = []
            for pattern in patterns:
                matched = sorted(p for p in folder.glob(pattern) if p.is_file())
                if not matched:
                    report.add(Problem("configs_match_files", f"pattern {pattern!r} matches no file"))
                files += matched
            splits.setdefault(str(entry.get("split", "train")), []).extend(files)
    listed = {p for files in splits.values() for p in files}
    for orphan in sorted(set(folder.rglob("*.parquet")) - listed):
        report.add(
            Problem(
                "configs_match_files",
                "Parquet file not matched by any `configs` pattern",
                file=orphan.relative_to(folder).as_posix(),
            )
        )
    return splits


def _check_card(folder: Path, meta: dict[str, Any], splits: dict[str, list[Path]], report: Report) -> None:
    info = meta.get("dataset_info") or {}
    try:
        card_features = Features._from_yaml_list(info.get("features") or [])
    except Exception as exc:
        report.add(Problem("features_match_parquet", f"card features do not parse: {exc}"))
        card_features = None
    card_splits = {s.get("name"): s for s in info.get("splits") or []}
    for split, files in splits.items():
        rows = 0
        for path in files:
            rel = path.relative_to(folder).as_posix()
            parquet = _open_parquet(path, rel, report)
            if parquet is None:
                continue
            rows += parquet.metadata.num_rows
            actual = Features.from_arrow_schema(parquet.schema_arrow.remove_metadata())
            if card_features is not None and actual != card_features:
                for difference in feature_differences(actual, card_features)[:MAX_PROBLEMS_PER_CHECK]:
                    report.add(Problem("features_match_parquet", difference, file=rel))
        declared = card_splits.get(split, {}).get("num_examples")
        if not card_splits:
            report.skip("num_examples", "the card has no dataset_info.splits")
        elif declared != rows:
            said = "gives no row count" if declared is None else f"says {declared} rows"
            report.add(Problem("num_examples", f"split '{split}': the card {said}, the files hold {rows}"))
    for split in sorted(set(card_splits) - set(splits), key=str):
        report.add(Problem("num_examples", f"the card lists split '{split}' but `configs` gives it no files"))
    total_rows = sum(
        parquet.metadata.num_rows
        for files in splits.values()
        for p in files
        if (parquet := _open_parquet(p, None, None)) is not None
    )
    size = sum(p.stat().st_size for files in splits.values() for p in files)
    if "download_size" not in info:
        report.skip("download_size", "the card has no dataset_info.download_size")
    elif info.get("download_size") != size:
        report.add(Problem("download_size", f"the card says {info.get('download_size')} bytes, files total {size}"))
    expected = size_category(total_rows)
    if "size_categories" not in meta:
        report.skip("size_categories", "the card has no size_categories")
    elif meta.get("size_categories") != [expected]:
        report.add(
            Problem("size_categories", f"the card says {meta.get('size_categories')}, {total_rows} rows is {expected}")
        )


def feature_differences(actual: Features, card: Features) -> list[str]:
    """One short line per difference between the files' columns and the card's features."""
    lines = [f"extra column `{name}` (not in the card's features)" for name in actual if name not in card]
    lines += [f"missing column `{name}` (the card lists it)" for name in card if name not in actual]
    for name in actual:
        if name in card and actual[name] != card[name]:
            lines.append(f"column `{name}` is {_short(actual[name])} in the files, {_short(card[name])} in the card")
    if not lines and list(actual) != list(card):
        lines.append(f"columns are in another order than the card's: {list(actual)} vs {list(card)}")
    return lines


def _short(feature: Any) -> str:
    text = str(getattr(feature, "dtype", None) or type(feature).__name__)
    return text if len(text) <= 60 else text[:59] + "…"


def _open_parquet(path: Path, rel: str | None, report: Report | None) -> pq.ParquetFile | None:
    """The Parquet file, or None with a `files` problem when it is empty, damaged or not Parquet."""
    try:
        return open_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        if report is not None:
            report.add(Problem("files", f"not a readable Parquet file: {str(exc)[:200]}", file=rel))
        return None


def _check_files(folder: Path, report: Report) -> None:
    """Symlinks and files outside the dataset layout are failures: push would upload them."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_symlink():
            report.add(Problem("files", "is a symbolic link; datasets must hold regular files only", file=rel))
        elif path.is_file() and not in_layout(rel):
            message = "is outside the dataset layout (README.md, croissant.json, data/*.parquet, plots)"
            report.add(Problem("files", message, file=rel))


_LAYOUT = re.compile(r"^(README\.md|croissant\.json|\.gitattributes|data/.+\.parquet|[A-Za-z0-9_./-]+\.(png|svg|jpg))$")


def in_layout(rel: str) -> bool:
    return bool(_LAYOUT.match(rel))


def prepare_validation(model_source: tuple[Path | None, str]) -> None:
    """Load what `validate_published` needs (this module, with `datasets`; pandera and the model) and do
    nothing else: publishing runs it on the worker that will validate (`Executor.standby`), not the one
    drawing the plots, while the dataset is written, so that the validation does not start by
    importing them (about 0.6 s)."""
    load_model(*model_source)


def validate_published(folder: Path, model_source: tuple[Path | None, str], allow_empty: bool) -> Report:
    """`validate_folder` without the image check, with the model loaded from its source here: a task a
    worker process runs while the plots are still being drawn (a model loaded from a file cannot be
    pickled; its source can). `check_images` completes it once they are written."""
    return validate_folder(folder, load_model(*model_source), allow_empty=allow_empty, images=False)


def check_images(folder: Path, report: Report) -> None:
    """The image check `validate_published` leaves out, added to its `report`."""
    _check_images(folder, folder / "README.md", report)


def validate_folder(folder: Path, model: Any, *, allow_empty: bool = False, images: bool = True) -> Report:
    report = Report(folder=str(folder))
    _check_files(folder, report)
    readme = folder / "README.md"
    meta: dict[str, Any] = {}
    splits: dict[str, list[Path]] = {}
    try:
        meta = parse_front_matter(readme.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.add(Problem("card_front_matter", "README.md (the dataset card) is missing"))
    except (ValueError, UnicodeDecodeError) as exc:
        report.add(Problem("card_front_matter", str(exc), file="README.md"))
    if meta:
        splits = _split_files(folder, meta, report)
        _check_card(folder, meta, splits, report)
        files = sorted({p for fs in splits.values() for p in fs})
    else:
        files = sorted(folder.rglob("*.parquet"))
    files = [p for p in files if not p.is_symlink()]
    languages = _check_rows(folder, files, model, report)
    if report.rows == 0 and not allow_empty:
        report.add(Problem("not_empty", "the dataset holds no rows; pass --allow-empty if that is intended"))
    if (folder / croissant.FILE_NAME).exists() or _card_promises_croissant(readme):
        _check_croissant(folder, files, splits, report)
    else:
        report.skip("croissant", "no croissant.json")
    if images:
        _check_images(folder, readme, report)
    if meta and "language" not in meta:
        report.skip("language_list", "the card has no language list")
    elif meta and languages is not None:
        card_languages = sorted(meta.get("language") or [])
        data_languages = sorted(languages)
        if card_languages != data_languages:
            report.add(Problem("language_list", f"the card lists {card_languages}, the data holds {data_languages}"))
    return report


def _check_rows(folder: Path, files: list[Path], model: Any, report: Report) -> set[str] | None:
    """Schema per chunk, id uniqueness across all files; returns the Hub language codes seen."""

    ids = UniqueIds(sum(_row_count(path) for path in files))
    languages: set[str] | None = None
    for path in files:
        rel = path.relative_to(folder).as_posix()
        parquet = _open_parquet(path, rel, report)
        if parquet is None:
            continue
        offset = 0
        for batch in _batches(parquet, rel, report):
            if "language" in batch.schema.names:
                languages = languages or set()
                languages |= {hub_language(c) for c in pc.unique(batch.column("language")).to_pylist() if c}
            if "id" in batch.schema.names:
                ids.add(batch.column("id"))
            for failure in schema_failures(model, batch.to_pandas()):
                column, value = failure.column, failure.value
                if failure.check == "column_in_dataframe":
                    # pandera names the schema as the column and the missing column as the value.
                    column, value = str(value), None
                report.add(
                    Problem(
                        "schema",
                        plain_check(failure.check, column),
                        file=rel,
                        row=None if failure.row is None else offset + failure.row,
                        column=None if failure.check == "column_in_dataframe" else column,
                        value=_shown(value),
                    )
                )
            offset += batch.num_rows
        report.rows += offset
    if ids.repeated():
        for path in files:
            rel = path.relative_to(folder).as_posix()
            try:
                batches = read_batches(open_parquet(path), CHUNK_ROWS, ["id"])
                values = (value for batch in batches for value in batch.column("id").to_pylist())
                for row, value in enumerate(values):
                    first = ids.first_of(value, f"{rel} row {row}")
                    if first is not None:
                        report.add(
                            Problem(
                                "id_unique",
                                f"duplicate id, first at {first}",
                                file=rel,
                                row=row,
                                column="id",
                                value=repr(value),
                            )
                        )
            except (OSError, ValueError, pa.ArrowException):
                continue  # reported by `files`
    return languages


def _row_count(path: Path) -> int:
    """The rows a file's metadata declares, to size the id check; closed again, as shards may be many.
    Never more than the file's bytes, so a damaged footer cannot make it reserve memory it then never
    uses (more rows than that are still checked: the array grows)."""
    parquet = _open_parquet(path, None, None)
    if parquet is None:
        return 0
    with parquet:
        return min(parquet.metadata.num_rows, path.stat().st_size)


def _card_promises_croissant(readme: Path) -> bool:
    """A card this tool wrote says the folder holds croissant.json; another tool's card need not."""
    try:
        return f"`{croissant.FILE_NAME}`" in readme.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _batches(parquet: pq.ParquetFile, rel: str, report: Report) -> Any:
    try:
        meta = parquet.metadata
        row_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) / max(meta.num_rows, 1)
        yield from read_batches(parquet, max(1, min(CHUNK_ROWS, int(CHUNK_BYTES / max(row_bytes, 1)))))
    except (OSError, ValueError, pa.ArrowException) as exc:
        report.add(Problem("files", f"damaged Parquet data: {str(exc)[:200]}", file=rel))


_PLAIN = [
    (re.compile(r"^column_in_dataframe$"), "the column `{column}` is missing"),
    (re.compile(r"^column_in_schema$"), "the column `{column}` is not in the schema"),
    (re.compile(r"^not_nullable$"), "`{column}` is empty (null) where a value is required"),
    (re.compile(r"^dtype\('?(.*?)'?\)$"), "`{column}` must be of type {0}"),
    (re.compile(r"^str_matches\('?(.*?)'?\)$"), "`{column}` does not match the pattern {0}"),
    (re.compile(r"^str_length\((.*)\)$"), "`{column}` has the wrong length ({0})"),
    (re.compile(r"^greater_than_or_equal_to\((.*)\)$"), "`{column}` must be at least {0}"),
    (re.compile(r"^greater_than\((.*)\)$"), "`{column}` must be more than {0}"),
    (re.compile(r"^less_than_or_equal_to\((.*)\)$"), "`{column}` must be at most {0}"),
    (re.compile(r"^in_range\((.*)\)$"), "`{column}` must be in the range {0}"),
    (re.compile(r"^field_uniqueness$"), "`{column}` must be unique"),
]


def plain_check(check: str, column: str | None) -> str:
    """A pandera check name in plain words, naming the column."""
    for pattern, words in _PLAIN:
        match = pattern.match(check)
        if match:
            return words.format(*match.groups(), column=column or "?")
    return f"`{column}` fails the check {check}" if column else f"fails the check {check}"


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return "missing"
    return repr(value)[:200]


def _check_images(folder: Path, readme: Path, report: Report) -> None:
    """Every image the card links to (relative path) is a file inside the folder."""
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # card_front_matter already reports an unreadable card
    root = folder.resolve()
    for target in linked_images(text):
        path = (folder / target.split("#")[0].split("?")[0]).resolve()
        if not path.is_relative_to(root):
            report.add(Problem("card_images", f"image {target!r} points outside the dataset folder", file="README.md"))
        elif not path.is_file():
            report.add(
                Problem("card_images", f"image {target!r} linked from the card does not exist", file="README.md")
            )


def _check_croissant(folder: Path, files: list[Path], splits: dict[str, list[Path]], report: Report) -> None:
    """croissant.json describes these files (sha256, size), these columns and these splits."""
    path = folder / croissant.FILE_NAME
    name = croissant.FILE_NAME

    def problem(message: str, file: str | None = name) -> None:
        report.add(Problem("croissant", message, file=file))

    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problem("croissant.json is missing; re-run the pipeline to write it")
        return
    except (ValueError, UnicodeDecodeError) as exc:
        problem(f"not valid JSON: {exc}")
        return
    if not isinstance(metadata, dict):
        problem("not a JSON-LD object")
        return
    conforms = metadata.get("conformsTo")
    conforms = conforms if isinstance(conforms, list) else [conforms]
    if croissant.CONFORMS_TO not in conforms:
        problem(f"conformsTo is {metadata.get('conformsTo')!r}, expected {croissant.CONFORMS_TO!r}")
    distribution = [d for d in metadata.get("distribution") or [] if isinstance(d, dict)]
    objects = {str(d.get("contentUrl")): d for d in distribution if d.get("@type") == "cr:FileObject"}
    file_sets = [d for d in distribution if d.get("@type") == "cr:FileSet"]
    shard_names = {p.relative_to(folder).as_posix() for p in files}
    for rel in sorted(shard_names - set(objects)):
        problem(f"no FileObject describes the shard {rel}")
    for url, entry in sorted(objects.items()):
        target = folder / url
        if url not in shard_names or not target.is_file():
            problem(f"FileObject {url!r} is not a shard of the dataset")
            continue
        size = target.stat().st_size
        if entry.get("contentSize") != f"{size} B":
            problem(f"contentSize of {url} is {entry.get('contentSize')!r}, the file has {size} B")
        digest = sha256_of(target)
        if entry.get("sha256") != digest:
            problem(f"sha256 of {url} is {entry.get('sha256')!r}, the file's is {digest}")
    if not file_sets:
        problem("no FileSet: the RecordSet has no files to read")
    for file_set in file_sets:
        includes = file_set.get("includes")
        patterns = includes if isinstance(includes, list) else [includes]
        matched = {p.relative_to(folder).as_posix() for pat in patterns if pat for p in folder.glob(str(pat))}
        if matched != shard_names:
            problem(f"FileSet {file_set.get('@id')!r} includes {sorted(matched)}, the shards are {sorted(shard_names)}")
    if files:
        declared = croissant.record_set_columns(metadata)
        actual = croissant.schema_columns(pq.ParquetFile(files[0]).schema_arrow)
        if declared != actual:
            problem(f"the RecordSet declares columns {declared}, the Parquet shards hold {actual}")
    regex = _split_regex(metadata)
    if regex is None:
        problem(f"the RecordSet has no `{croissant.SPLIT_FIELD}` field read from the file names")
        return
    for split, paths in splits.items():
        for shard in paths:
            rel = shard.relative_to(folder).as_posix()
            match = re.match(regex, rel)
            found = match.group(1) if match else None
            if found != split:
                problem(f"the split field gives {found!r} for {rel}, the card puts it in {split!r}")


def _split_regex(metadata: dict[str, Any]) -> str | None:
    for record_set in metadata.get("recordSet") or []:
        for field_ in record_set.get("field") or []:
            if field_.get("name") == croissant.SPLIT_FIELD:
                regex = ((field_.get("source") or {}).get("transform") or {}).get("regex")
                return str(regex) if regex else None
    return None


class _CallableModule(types.ModuleType):
    """`pipeline.validate(path)` is the public API function, but importing this module rebinds the
    name `pipeline.validate` to the module: so the module, when called, is that function."""

    def __call__(self, path: str | Path, **options: Any) -> Report:
        from pipeline.api import validate

        return validate(path, **options)


sys.modules[__name__].__class__ = _CallableModule
