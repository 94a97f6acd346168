"""The runner: plans the steps, runs them through an executor into the work folder, then publishes atomically.

Where a step's per-shard work runs is the executor's business (executor.py: the local process pool
in pool.py, or Ray tasks in ray_executor.py); the runner only decides what runs, in which order, and
what is committed. URL inputs and outputs go through storage.py.

Every step (ingest, each run of map stages, each global stage) reads the previous step's shards from
the work folder and commits its own, shard by shard (see workdir.py). A rerun after a crash skips the
committed work; a changed config or input redoes only the steps whose key changed. The publish step
then streams the last step's shards into the dataset writer and every step's ledger rows into the
ledger, in a fixed order, so the output does not depend on workers, batch size or interruptions.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Features

from pipeline import __version__, extra_fields, storage
from pipeline.config import Config
from pipeline.errors import TooFewPublished, UsageError, ValidationFailed
from pipeline.execution.executor import Executor, Standby, open_executor
from pipeline.execution.malloc import trim
from pipeline.execution.plan import Step, build_plan, build_steps
from pipeline.execution.pool import default_workers, stage_facts, text_bytes
from pipeline.execution.progress import Progress, StepProgress
from pipeline.execution.workdir import (
    DONE,
    WorkDir,
    is_remote,
    read_json,
    read_kept,
    read_ledger,
    read_side,
    remove_tree,
    shard_facts,
    tree_bytes,
    write_json,
    write_shard,
)
from pipeline.ingest import InputFile, ingest, list_inputs, note_skipped, split_glob
from pipeline.ledger import Accounting, Ledger, SideTables, count_by_file
from pipeline.publish.card import StageCount
from pipeline.publish.dataset import DatasetWriter, RunFacts, plots_digest, plotted_columns
from pipeline.publish.plots import render_plots
from pipeline.records import description_of
from pipeline.report.html import write_report as write_html_report
from pipeline.stage import GlobalStage, stage_errors
from pipeline.stages import stage_version
from pipeline.validate import Report, check_images, prepare_validation, validate_published

_VERSIONED_PACKAGES = [
    "datasets",
    "pandera",
    "pyarrow",
    "langdetect",
    "langdetect-rs",
    "ftfy",
    "charset-normalizer",
    "pandas",
    "trafilatura",
    "fastwarc",
]


@dataclass
class Tally:
    name: str
    records_in: int = 0
    records_out: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    # Text bytes of the records the stage was given (for ingest: of the records it kept).
    bytes_in: int = 0
    bytes_per_document: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, facts: dict[str, Any]) -> None:
        self.records_in += facts["in"]
        self.records_out += facts["out"]
        self.rejected.update(facts["rejected"])
        self.seconds += facts["seconds"]
        self.bytes_in += facts.get("bytes_in", 0)
        # A note shards disagree on (one node without the fast backend) lists every value seen.
        for key, value in facts.get("notes", {}).items():
            seen = set(self.notes[key].split(", ")) if key in self.notes else set()
            self.notes[key] = ", ".join(sorted(seen | {value}))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "records_in": self.records_in,
            "records_out": self.records_out,
            "rejected": dict(sorted(self.rejected.items())),
            "seconds": round(self.seconds, 3),
            "bytes_in": self.bytes_in,
            "bytes_per_document": self.bytes_per_document,
            "notes": self.notes,
        }


@dataclass
class RunResult:
    dataset: Path
    report: Path
    records_read: int
    records_published: int
    records_rejected: int
    tallies: list[Tally]
    seconds: float
    # The work folder kept for reruns (None when run.keep_work is false) and its size.
    work_dir: Path | None = None
    work_bytes: int = 0
    # Files whose reading stopped early (relative path -> the ledger detail saying where): the
    # records after that point were never read, so the accounting cannot cover them.
    partly_read: dict[str, str] = field(default_factory=dict)
    # Where the dataset was uploaded when run.output is a URL (`dataset` is then the local copy).
    published_url: str | None = None

    def summary(self) -> str:
        width = max(len(t.name) for t in self.tallies)
        lines = [f"{'stage':<{width}}  {'in':>9}  {'out':>9}  {'seconds':>8}  rejected by reason"]
        for t in self.tallies:
            reasons = ", ".join(f"{r}={n}" for r, n in sorted(t.rejected.items())) or "-"
            lines.append(f"{t.name:<{width}}  {t.records_in:>9,}  {t.records_out:>9,}  {t.seconds:>8.2f}  {reasons}")
        if self.partly_read:
            scope = (
                f"holds for every record read; {len(self.partly_read):,} file(s) only partly read, "
                "see partly_read in run.json"
            )
        else:
            scope = "holds overall and for every input file"
        lines.append(
            f"records read {self.records_read:,} = published {self.records_published:,} + rejected "
            f"{self.records_rejected:,}  ({scope})"
        )
        for path, detail in list(self.partly_read.items())[:5]:
            lines.append(f"partly read: {path}: {detail[:200]}")
        lines.append("(stage seconds are work time summed over worker processes)")
        if self.published_url is not None:
            lines.append(f"published to {self.published_url}   (local copy: {self.dataset})")
        lines.append(f"dataset: {self.dataset}   report: {self.report}   ({self.seconds:.2f} s)")
        if self.work_dir is not None:
            lines.append(
                f"work folder: {self.work_dir} ({self.work_bytes / 1e6:,.1f} MB, kept so a rerun need not read the "
                'input again; run.keep_work_steps = "all" keeps every step, run.keep_work = false nothing)'
            )
        return "\n".join(lines)


# What to try when most records go for one reason (the summary of a run that published too little).
_HINTS = {
    "missing_text": "set ingest.text_field to the field that holds the text",
    "unsupported_format": "set ingest.format, convert the files, or move them out of the input",
    "empty": "the records have no text; check ingest.text_field",
    "language": "the texts are in other languages: add them to language.languages",
    "language_uncertain": "lower language.min_language_score",
    "no_language": "the texts have no letters; drop `language` from run.stages",
    "exact_duplicate": "the input repeats itself",
    "near_duplicate": "the input repeats itself; raise dedup_near.threshold to keep more",
    "empty_after_clean": "clean removed every line; see clean.rule_lists",
    "schema": "the published schema rejects them; see the detail in rejected.parquet",
}


def rejection_hint(reason: str) -> str:
    if reason.startswith("quality:"):
        return f"add {reason.split(':', 1)[1]!r} to quality.disabled_rules, or set quality.filter = false"
    return _HINTS.get(reason, "")


def _attribute_survivors(tallies: list[Tally]) -> list[Tally]:
    """Credit the copies `survivors` removes to the dedup stage that found them, as the ledger does.

    The dedup stages only mark copies; the survivors step rejects them once every other stage has
    decided (so `duplicate_of` always names a published record). The funnel keeps each step's records
    in and out as they ran, and lists each rejection under the stage its ledger rows name.
    """
    from pipeline.stages.survivors import MARKS

    by_name = {t.name: t for t in tallies}
    survivors = by_name.get("survivors")
    if survivors is None or not survivors.rejected:
        return tallies
    moved: dict[str, int] = {}
    for marks in MARKS.values():
        count = survivors.rejected.pop(marks.reason, 0)
        if count and marks.stage in by_name:
            by_name[marks.stage].rejected[marks.reason] += count
            by_name[marks.stage].notes = {**by_name[marks.stage].notes, "copies_removed_by_survivors": count}
            moved[marks.stage] = count
    if moved:
        survivors.notes = {**survivors.notes, "removed_for": moved}
    return tallies


def package_versions() -> dict[str, str]:
    versions = {}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _replace_dir(tmp: Path, final: Path) -> None:
    """Put `tmp` where `final` is; the old folder is only removed once the new one is in place."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old)


class Runner:
    def __init__(
        self,
        config: Config,
        log: Callable[[str], None] | None = None,
        *,
        workers: int | None = None,
        fresh: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.log = log or (lambda message: None)
        self.progress = progress or Progress("quiet", self.log)
        self.fresh = fresh
        run = config.run
        self.workers = workers if workers is not None else (run.workers or default_workers())
        if self.workers < 1:
            raise UsageError(f"--workers {self.workers}: must be at least 1")
        self.name = run.name
        if not self.name or "/" in self.name or "\\" in self.name or self.name.startswith("."):
            raise UsageError(f"run.name {self.name!r} must be a plain folder name (no slashes, no leading dot)")
        if any(ord(c) < 32 or c == "\x7f" for c in self.name) or len(self.name.encode("utf-8", "replace")) > 200:
            raise UsageError(
                f"run.name {self.name!r} must be at most 200 bytes with no control characters "
                "(it names folders and the Hub repo)"
            )
        # A URL input is copied into the work folder once the run holds it (storage.stage_input); a
        # URL output is published locally under the work folder's parent, then uploaded.
        local_input = storage.local_path(run.input)
        local_output = storage.local_path(run.output)
        self.input_url = None if local_input is not None else run.input
        self.output_url = None if local_output is not None else run.output
        self.input_pattern: str | None = None
        if local_input is not None:
            self.input_root, self.input_pattern = split_glob(config.resolve(str(local_input)))
        else:
            self.input_root = Path()
        if local_output is not None:
            self.output_dir = config.resolve(str(local_output))
        elif run.work_dir and storage.local_path(run.work_dir) is not None:
            self.output_dir = config.resolve(str(storage.local_path(run.work_dir))).parent
        else:
            self.output_dir = config.resolve(".pipeline-work") / self.name
        if run.work_dir and storage.local_path(run.work_dir) is None:
            # Checked here, before the run: a missing filesystem package is one line, exit 5.
            self._work_location = storage.work_location(run.work_dir)
        if self.input_url is None and not self.input_root.exists():
            raise UsageError(f"input {self.input_root} does not exist; set run.input or pass --input PATH")
        if self.input_root.is_dir() and self.output_dir.resolve() == self.input_root.resolve():
            raise UsageError(
                f"output {self.output_dir} is the input folder; the published dataset would be read back as "
                "input on the next run: pass --output OTHER_FOLDER (e.g. dist next to the input)"
            )
        self.plan = build_plan(config)
        self.stages = self.plan.stages
        self.model = self.plan.model
        self.published_fields = self.plan.published_fields
        # The pipeline's own columns; the input's own fields join them at publish, once ingest has typed them.
        self.features = Features.from_arrow_schema(pa.schema([f.remove_metadata() for f in self.published_fields]))
        self.published_schema = self.features.arrow_schema

    @property
    def work_root(self) -> Any:
        """A local Path, or a `UPath` when run.work_dir is a URL every node sees (s3://, gs://, ...)."""
        work_dir = self.config.run.work_dir
        if not work_dir:
            return self.output_dir / f".{self.name}.work"
        local = storage.local_path(work_dir)
        if local is not None:
            return self.config.resolve(str(local))
        return self._work_location

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> RunResult:
        started = time.perf_counter()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        work = WorkDir(self.work_root, fresh=self.fresh)
        succeeded = False
        try:
            # Holding the lock, any temporary folder of this dataset is a leftover of a killed run.
            for stale in self.output_dir.glob(f".{self.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            for stale in self.output_dir.glob(f".{self.name}.old-*"):
                shutil.rmtree(stale, ignore_errors=True)
            staged: list[Any] = []
            if self.input_url is not None:
                self.progress.note(f"input: copying {self.input_url} to the driver")
                # The readers read local files: the copy goes into the work folder, or beside the
                # output on the driver when the work folder is itself a URL.
                local_copy = self.output_dir / f".{self.name}.input" if is_remote(work.root) else work.root / "input"
                self.input_root = storage.stage_input(self.input_url, local_copy)
                staged = [local_copy]
            # A staged copy lives in the work folder, under the output: exclude nothing from it.
            files = list_inputs(
                self.input_root,
                exclude=[] if staged else [self.output_dir],
                follow_symlinks=self.config.ingest.follow_symlinks,
                pattern=self.input_pattern,
            )
            if not files:
                what = f"no files match {self.input_pattern!r} under" if self.input_pattern else "no files in"
                raise UsageError(
                    f"{what} input {self.input_url or self.input_root} "
                    "(hidden files and this tool's own outputs are skipped)"
                )
            steps = build_steps(self.config, self.plan, [(f.relative, f.sha256, f.size) for f in files])
            folders = [work.step(index, step) for index, step in enumerate(steps)]
            for name in work.prune(folders + staged):
                self.progress.note(f"work folder: dropped {name} (its config or input changed)")
            self.step_seconds: list[dict[str, Any]] = []
            self._first_shard: dict[int, float] = {}
            self.executor_name = self.config.run.executor
            with open_executor(self.config, self.plan, self.workers) as executor:
                self.progress.note(
                    f"ingest: {len(files)} input file(s) under {self.input_url or self.input_root}; "
                    f"{executor.describe()}; work folder {self.work_root}"
                )
                # Each step consumes the shards of the step before it as they are committed, so a
                # step starts while the previous one finishes (only a global stage's decision waits
                # for all of its input); draining the last step's shards runs the whole chain.
                shards: Iterator[int] = iter(())
                for index, step in enumerate(steps):
                    if step.kind == "ingest":
                        shards = self._ingest_shards(files, folders[0])
                    elif (folders[index] / DONE).exists():
                        shards = self._reused(folders[index], shards)
                    elif step.kind == "map":
                        shards = self._run_map(executor, step, folders[index - 1], folders[index], shards)
                    else:
                        shards = self._run_global(executor, step, folders[index - 1], folders[index], shards)
                    shards = self._timed(index, step, folders[index], shards)
                for _ in shards:
                    pass
                self.step_seconds.sort(key=lambda entry: entry.pop("index"))
                # Inside the executor: publishing hands the plots and the validation to its workers.
                result = self._publish(executor, files, steps, folders, started)
            if self.output_url is not None:
                self.progress.note(f"publish: uploading to {self.output_url}")
                urls = storage.publish_tree(
                    {self.name: result.dataset, f"{self.name}.report": result.report}, self.output_url
                )
                result.published_url = urls[self.name]
            if self.config.run.keep_work:
                if self.config.run.keep_work_steps == "ingest":
                    # The stages' copies are what made the folder several times the input's size.
                    for folder in folders[1:]:
                        remove_tree(folder)
                result.work_dir = self.work_root
                result.work_bytes = tree_bytes(self.work_root)
            succeeded = True
            return result
        finally:
            work.close(remove=succeeded and not self.config.run.keep_work)

    # -- steps ----------------------------------------------------------------------------------

    def _shards(self, folder: Path) -> int:
        done = read_json(folder / DONE)
        assert done is not None, f"{folder} is not complete"
        return int(done["shards"])

    def _rows(self, folder: Path) -> int:
        return sum(shard_facts(folder, i)["rows"] for i in range(self._shards(folder)))

    def _timed(self, index: int, step: Step, folder: Path, shards: Iterator[int]) -> Iterator[int]:
        """`shards`, recording the step's wall seconds: from when the step before it committed its first
        shard (when this one could start; ingest: from the start) until this step's last shard."""
        reused = (folder / DONE).exists()
        start = time.perf_counter()
        for shard in shards:
            self._first_shard.setdefault(index, time.perf_counter())
            yield shard
        start = self._first_shard.get(index - 1, start) if index else start
        self.step_seconds.append(
            {
                "index": index,
                "step": step.name,
                "key": step.key,
                "reused": reused,
                "seconds": round(time.perf_counter() - start, 3),
            }
        )

    def _ingest_shards(self, files: list[InputFile], folder: Path) -> Iterator[int]:
        """Ingest into `folder`, yielding each shard's number once it is committed."""
        if (folder / DONE).exists():
            yield from range(self._shards(folder))
            return
        folder.mkdir(parents=True, exist_ok=True)
        progress = self.progress.step("ingest", None)
        batches = ingest(files, self.config.ingest, self.config.run.batch_size)
        shard = 0
        while True:
            start = time.perf_counter()
            batch = next(batches, None)
            seconds = time.perf_counter() - start
            if batch is None:
                break
            # Reading is repeated on resume (a reader cannot seek to record N), but committed shards
            # are not rewritten.
            if shard_facts(folder, shard) is None:
                read = count_by_file(batch.kept) + count_by_file(batch.rejected)
                records_in = batch.kept.num_rows + batch.rejected.num_rows
                facts = {
                    "stages": [
                        stage_facts(records_in, batch.kept.num_rows, batch.rejected, seconds, text_bytes(batch.kept))
                    ],
                    "in_bytes": text_bytes(batch.kept),
                    "read": dict(read),
                    "skipped": dict(batch.skipped),
                    "fields_type": extra_fields.dump_type(batch.fields_type),
                    "partial": dict(batch.partial),
                }
                write_shard(folder, shard, batch.kept, [batch.rejected], {}, facts, compress=True)
            progress.update(
                batch.kept.num_rows + batch.rejected.num_rows, text_bytes(batch.kept), batch.rejected.num_rows
            )
            yield shard
            shard += 1
        write_json(folder / DONE, {"shards": shard})
        progress.close()

    def _run_map(
        self, executor: Executor, step: Step, source: Path, target: Path, shards: Iterator[int]
    ) -> Iterator[int]:
        """Run a map step over `source`'s shards as the previous step commits them (`shards`), yielding
        each output shard's number once it is committed."""
        target.mkdir(parents=True, exist_ok=True)
        progress: StepProgress | None = None
        count = 0
        for facts in executor.map_step(step.stage_indices, source, target, shards):
            # Opened with the first shard (not when the chain is set up), with the total once known.
            progress = progress or self._step_progress(step.name, source)
            stages = facts["stages"]
            progress.update(stages[0]["in"], facts["in_bytes"], sum(sum(s["rejected"].values()) for s in stages))
            yield count
            count += 1
        write_json(target / DONE, {"shards": count})
        (progress or self._step_progress(step.name, source)).close()

    def _reused(self, target: Path, shards: Iterator[int]) -> Iterator[int]:
        """The shards of a step completed by an earlier run. The steps before it are still run through
        (they are complete too, or an interrupted run left them to be resumed)."""
        for _ in shards:
            pass
        yield from range(self._shards(target))

    def _step_progress(self, name: str, source: Path) -> StepProgress:
        """A step's progress; its total is known once the step before it has finished."""
        return self.progress.step(name, self._rows(source) if (source / DONE).exists() else None)

    def _run_global(
        self, executor: Executor, step: Step, source: Path, target: Path, shards: Iterator[int]
    ) -> Iterator[int]:
        """Pass 1 over `source`'s shards as the previous step commits them, the decision, then pass 2,
        yielding each output shard's number once it is committed."""
        # The collected state lives in memory only, so an interrupted global step starts over.
        WorkDir.reset(target)
        index = step.stage_indices[0]
        stage = self.stages[index]
        assert isinstance(stage, GlobalStage)
        prepare_seconds = collect_seconds = 0.0
        progress: StepProgress | None = None
        count = 0
        # Results come in shard order, whatever order the workers finish in.
        for shard, (prepared, rows, seconds) in enumerate(executor.prepare(index, source, shards)):
            progress = progress or self._step_progress(f"{stage.name} (pass 1)", source)
            count = shard + 1
            prepare_seconds += seconds
            if rows:
                batch = read_kept(source, shard)
                start = time.perf_counter()
                with stage_errors(stage, "collect"):
                    stage.collect(batch, prepared)
                collect_seconds += time.perf_counter() - start
            progress.update(rows, 0, 0)
        (progress or self._step_progress(f"{stage.name} (pass 1)", source)).close()
        start = time.perf_counter()
        with stage_errors(stage, "decide"):
            stage.decide()
        decide_seconds = time.perf_counter() - start
        applying = self.progress.step(f"{stage.name} (pass 2)", self._rows(source))
        for shard, facts in enumerate(executor.apply(stage, source, target, range(count))):
            applied = facts["stages"][0]
            applying.update(applied["in"], applied["bytes_in"], sum(applied["rejected"].values()))
            yield shard
        applying.close()
        write_json(
            target / DONE,
            {
                "shards": count,
                "seconds": prepare_seconds + collect_seconds + decide_seconds,
                "bytes_per_document": stage.bytes_per_document(),
                "notes": stage.card_notes(),
            },
        )
        # The decision is not needed after pass 2: without this the states of every global stage of
        # the run would add up in the main process. The heap's pages it freed go back to the system.
        stage.release()
        trim()

    def _stage_names(self, step: Step) -> list[str]:
        return ["ingest"] if step.kind == "ingest" else [self.stages[i].name for i in step.stage_indices]

    def _tallies(self, steps: list[Step], folders: list[Path]) -> list[Tally]:
        shards = self._shards(folders[0])
        tallies = []
        for step, folder in zip(steps, folders, strict=True):
            names = self._stage_names(step)
            notes: list[dict[str, Any]] = (
                [{}] if step.kind == "ingest" else [self.stages[i].card_notes() for i in step.stage_indices]
            )
            if step.kind == "global":
                done = read_json(folder / DONE)
                # A reused global step did not run decide() in this process: its notes come from disk.
                notes = [done.get("notes", notes[0])]
            step_tallies = [Tally(name, notes=note) for name, note in zip(names, notes, strict=True)]
            for shard in range(shards):
                facts_of_shard = shard_facts(folder, shard)
                for tally, facts in zip(step_tallies, facts_of_shard["stages"], strict=True):
                    tally.add(facts)
                if step.kind == "ingest":
                    note_skipped(step_tallies[0].notes, facts_of_shard.get("skipped", {}))
            if step.kind == "global":
                step_tallies[0].seconds += done["seconds"]
                step_tallies[0].bytes_per_document = done["bytes_per_document"]
            tallies += step_tallies
        return _attribute_survivors(tallies)

    def _shard_nodes(self, steps: list[Step], folders: list[Path]) -> dict[str, list[str]]:
        """The node that ran each shard of each map or global step (ingest runs in the driver)."""
        shards = self._shards(folders[0])
        return {
            step.name: [shard_facts(folder, shard).get("node", "") for shard in range(shards)]
            for step, folder in zip(steps, folders, strict=True)
            if step.kind != "ingest"
        }

    @staticmethod
    def _card_libraries(tallies: list[Tally]) -> set[str]:
        libraries = {"langdetect", "ftfy"}
        if any("langdetect-rs" in str(t.notes.get("backend", "")).split(", ") for t in tallies):
            libraries.add("langdetect-rs")
        return libraries

    # -- publish --------------------------------------------------------------------------------

    def _publish(
        self, executor: Executor, files: list[InputFile], steps: list[Step], folders: list[Path], started: float
    ) -> RunResult:
        tmp_root = self.output_dir / f".{self.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp_root, ignore_errors=True)
        dataset_dir, report_dir = tmp_root / "dataset", tmp_root / "report"
        dataset_dir.mkdir(parents=True)
        report_dir.mkdir()
        # The written dataset is validated by a worker that meanwhile loads what validating needs: the
        # same worker (a standby), not whichever is free then, which may be the one that drew the plots
        # and would load it all on top of them (about 30 MB more at the validation's peak).
        model_source = (self.plan.schema_file, self.config.validate_.model)
        allow_empty = self.config.run.min_published_fraction == 0
        validation = executor.standby(
            prepare_validation, (model_source,), validate_published, dataset_dir, model_source, allow_empty
        )
        try:
            try:
                result = self._publish_into(
                    executor, files, steps, folders, dataset_dir, report_dir, started, validation
                )
            except TooFewPublished:
                # The ledger says why: keep it where the user looks, but publish no dataset.
                _replace_dir(report_dir, self.output_dir / f"{self.name}.report")
                raise
            final_dataset = self.output_dir / self.name
            final_report = self.output_dir / f"{self.name}.report"
            _replace_dir(dataset_dir, final_dataset)
            _replace_dir(report_dir, final_report)
            result.dataset, result.report = final_dataset, final_report
            return result
        finally:
            validation.cancel()
            shutil.rmtree(tmp_root, ignore_errors=True)

    def _publish_into(
        self,
        executor: Executor,
        files: list[InputFile],
        steps: list[Step],
        folders: list[Path],
        dataset_dir: Path,
        report_dir: Path,
        started: float,
        validation: Standby[Report],
    ) -> RunResult:
        shards = self._shards(folders[0])
        accounting = Accounting()
        partly_read: dict[str, str] = {}
        for shard in range(shards):
            facts = shard_facts(folders[0], shard)
            accounting.read.update(facts["read"])
            for path, detail in facts.get("partial", {}).items():
                partly_read.setdefault(path, detail)

        # While this process merges the ledger and writes the dataset, one worker draws the card's plots
        # from the records about to be published (DatasetWriter.finish checks they are the same) and the
        # other, the validation's standby, has loaded what validating the written dataset needs.
        num_chars, languages = self._plot_inputs(folders[-1], shards)
        drawing = executor.background(render_plots, num_chars, languages)
        plots_expected = plots_digest(num_chars, languages)
        del num_chars, languages

        trim()  # what reading the plot inputs freed, before the ledger's row groups are gathered
        # The ledger in step order, then shard order: the same rows in the same order for any run.
        ledger = Ledger(report_dir / "rejected.parquet")
        for step, folder in zip(steps, folders, strict=True):
            # Within a step of several map stages, each stage's rows in shard order, so the order does
            # not depend on where the shard boundaries fall.
            names = self._stage_names(step)
            for name in names:
                for shard in range(shards):
                    rows = read_ledger(folder, shard)
                    if rows is not None and len(names) > 1:
                        rows = rows.filter(pc.equal(rows.column("stage"), name))
                    if rows is not None and rows.num_rows:
                        ledger.write(rows)
        ledger.close()
        # Then the side tables, in the same order: after the ledger is closed, so that only one file's
        # row group is being gathered at a time.
        side_tables = SideTables(report_dir)
        for folder in folders:
            for shard in range(shards):
                for table in shard_facts(folder, shard)["side"]:
                    side_tables.write(table, read_side(folder, shard, table))
        side_tables.close()

        # The user's own fields, typed as ingest merged them, become columns after the pipeline's.
        fields_type = pa.struct([])
        first_seen: dict[str, str] = {}
        for shard in range(shards):
            dumped = shard_facts(folders[0], shard).get("fields_type")
            if dumped:
                fields_type = extra_fields.merge_file_types(
                    fields_type, extra_fields.load_type(dumped), f"shard {shard}", first_seen
                )
        extras = extra_fields.published_fields(fields_type, {f.name for f in self.published_fields})
        published_fields = self.published_fields + [f for _, f in extras]
        features = Features.from_arrow_schema(pa.schema([f.remove_metadata() for f in published_fields]))
        trim()  # what merging the ledger freed, before the dataset's row groups are gathered
        writer = DatasetWriter(
            dataset_dir,
            features.arrow_schema,
            features,
            {f.name: description_of(f) for f in published_fields},
            self.config.publish,
        )
        writer.expect_plots(plots_expected, drawing)
        final = folders[-1]
        progress = self.progress.step("publish", self._rows(final))
        for shard in range(shards):
            batch = read_kept(final, shard)
            if batch is None:
                continue
            accounting.published.update(count_by_file(batch))
            writer.write(extra_fields.expand(batch, extras))
            progress.update(batch.num_rows, text_bytes(batch), 0)
        progress.close()

        mismatches = accounting.mismatches(ledger.by_file)
        if mismatches:
            raise RuntimeError("accounting does not balance (a pipeline bug): " + "; ".join(mismatches[:5]))

        tallies = self._tallies(steps, folders)
        records_read = sum(accounting.read.values())
        self._check_published(records_read, sum(accounting.published.values()), tallies)
        published_shards = writer.finish(
            RunFacts(
                name=self.name,
                stages=[StageCount(t.name, t.records_in, t.records_out, dict(t.rejected), t.notes) for t in tallies],
                inputs=[(f.relative, f.sha256, f.size) for f in files],
                records_read=records_read,
                records_rejected=ledger.total,
                config_digest=self.config.digest(),
                library_versions={k: v for k, v in package_versions().items() if k in self._card_libraries(tallies)},
            ),
            executor.background,
        )
        published = sum(s.num_rows for s in published_shards)

        # The written dataset is validated while this process writes the report; the card's image links
        # are checked once the plots are written.
        validation.go()

        result = RunResult(
            dataset=dataset_dir,
            report=report_dir,
            records_read=records_read,
            records_published=published,
            records_rejected=ledger.total,
            tallies=tallies,
            seconds=time.perf_counter() - started,
            partly_read=partly_read,
        )
        # The report embeds the card's plots: they must be written first.
        writer.write_plots()
        self._write_report(report_dir, files, tallies, result, published_shards, accounting, ledger, steps, folders)
        report = validation.result()
        check_images(dataset_dir, report)
        if not report.ok:
            raise ValidationFailed("the dataset failed validation and was not published:\n" + report.to_text())
        return result

    @staticmethod
    def _plot_inputs(final: Path, shards: int) -> tuple[np.ndarray, Counter[str]]:
        """The lengths and languages of the records the last step kept, as the dataset writer counts them."""
        chars: list[np.ndarray] = []
        languages: Counter[str] = Counter()
        for shard in range(shards):
            batch = read_kept(final, shard)
            if batch is None or not batch.num_rows:
                continue
            lengths, values = plotted_columns(batch)
            chars.append(lengths)
            languages.update(values)
        return (np.concatenate(chars) if chars else np.empty(0, np.int64)), languages

    def _check_published(self, read: int, published: int, tallies: list[Tally]) -> None:
        """Exit 4 with the top rejection reasons when the run published nothing or too little."""
        fraction = self.config.run.min_published_fraction
        if published >= fraction * read and (published or fraction == 0):
            return
        reasons: Counter[tuple[str, str]] = Counter()
        for tally in tallies:
            for reason, n in tally.rejected.items():
                reasons[(tally.name, reason)] += n
        lines = [
            f"  {n:,} x {stage}/{reason}" + (f": {hint}" if (hint := rejection_hint(reason)) else "")
            for (stage, reason), n in reasons.most_common(5)
        ]
        what = "nothing" if not published else f"only {published:,}"
        raise TooFewPublished(
            f"published {what} of {read:,} records read (run.min_published_fraction={fraction}); "
            f"no dataset was written. Top rejection reasons:\n" + "\n".join(lines) + "\n"
            f"  every rejected record, with its detail: {self.output_dir / (self.name + '.report')}/rejected.parquet"
        )

    def _write_report(
        self,
        report_dir: Path,
        files: list[InputFile],
        tallies: list[Tally],
        result: RunResult,
        shards: list[Any],
        accounting: Accounting,
        ledger: Ledger,
        steps: list[Step],
        folders: list[Path],
    ) -> None:
        per_file = {
            f.relative: {
                "read": accounting.read[f.relative],
                "published": accounting.published[f.relative],
                "rejected": ledger.by_file[f.relative],
            }
            for f in files
        }
        run = {
            "pipeline_version": __version__,
            "python": platform.python_version(),
            "platform": sys.platform,
            "packages": package_versions(),
            "config": self.config.as_dict(),
            "config_sha256": self.config.digest(),
            "input_root": self.input_url or str(self.input_root),
            "inputs": [{"path": f.relative, "bytes": f.size, "sha256": f.sha256} for f in files],
            "records": {
                "read": result.records_read,
                "published": result.records_published,
                "rejected": result.records_rejected,
            },
            "per_file": per_file,
            "partly_read": [{"path": p, "detail": d} for p, d in sorted(result.partly_read.items())],
            "stages": [t.as_dict() for t in tallies],
            # Stages from other packages or scripts: what identifies their code (version, source hash).
            "plugins": {
                stage.name: code
                for stage in self.stages
                if (code := stage_version(type(stage))).get("source") != "built-in"
            },
            "execution": {
                "executor": self.config.run.executor,
                "workers": self.workers,
                "work_folder": str(self.work_root),
                "steps": self.step_seconds,
                "shard_nodes": self._shard_nodes(steps, folders),
            },
            "shards": [{"path": s.path.name, "rows": s.num_rows} for s in shards],
            "seconds": round(result.seconds, 3),
        }
        (report_dir / "run.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_html_report(report_dir, result.dataset)
