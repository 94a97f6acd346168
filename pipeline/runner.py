"""The runner: chains the stages from the config, owns the ledger, the report and the atomic publish."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from datasets import Features

from pipeline import __version__
from pipeline.config import Config
from pipeline.errors import UsageError, ValidationFailed
from pipeline.ingest import InputFile, ingest, list_inputs
from pipeline.ledger import Accounting, Ledger, SideTables, count_by_file
from pipeline.publish.card import StageCount
from pipeline.publish.dataset import DatasetWriter, RunFacts
from pipeline.records import INTERNAL_COLUMNS, RECORD_FIELDS, description_of
from pipeline.schema_loader import load_model
from pipeline.stage import GlobalStage, MapStage, Stage, StageResult
from pipeline.stages import STAGES
from pipeline.stages.stats import Stats, StatsConfig
from pipeline.stages.validate import Validate
from pipeline.validate import validate_folder

_VERSIONED_PACKAGES = ["datasets", "pandera", "pyarrow", "langdetect", "ftfy", "charset-normalizer", "pandas"]
_VERSIONED_PACKAGES += ["trafilatura", "fastwarc"]


@dataclass
class Tally:
    name: str
    records_in: int = 0
    records_out: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    bytes_per_document: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    def count(self, records_in: int, result: StageResult) -> None:
        self.records_in += records_in
        self.records_out += result.kept.num_rows
        if result.rejected.num_rows:
            for item in pc.value_counts(result.rejected.column("reason")).to_pylist():
                self.rejected[item["values"]] += item["counts"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "records_in": self.records_in,
            "records_out": self.records_out,
            "rejected": dict(sorted(self.rejected.items())),
            "seconds": round(self.seconds, 3),
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

    def summary(self) -> str:
        width = max(len(t.name) for t in self.tallies)
        lines = [f"{'stage':<{width}}  {'in':>9}  {'out':>9}  {'seconds':>8}  rejected by reason"]
        for t in self.tallies:
            reasons = ", ".join(f"{r}={n}" for r, n in sorted(t.rejected.items())) or "-"
            lines.append(f"{t.name:<{width}}  {t.records_in:>9,}  {t.records_out:>9,}  {t.seconds:>8.2f}  {reasons}")
        lines.append(
            f"records read {self.records_read:,} = published {self.records_published:,} + rejected "
            f"{self.records_rejected:,}  (holds overall and for every input file)"
        )
        lines.append(f"dataset: {self.dataset}   report: {self.report}   ({self.seconds:.2f} s)")
        return "\n".join(lines)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _timed(tally: Tally, fn: Callable[..., Any], *args: Any) -> Any:
    start = time.perf_counter()
    try:
        return fn(*args)
    finally:
        tally.seconds += time.perf_counter() - start


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
    def __init__(self, config: Config, log: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.log = log or (lambda message: None)
        run = config.run
        self.input_root = config.resolve(run.input)
        self.output_dir = config.resolve(run.output)
        self.name = run.name
        if not self.name or "/" in self.name or "\\" in self.name or self.name.startswith("."):
            raise UsageError(f"run.name {self.name!r} must be a plain folder name (no slashes, no leading dot)")
        if not self.input_root.exists():
            raise UsageError(f"input {self.input_root} does not exist; set run.input or pass --input PATH")
        schema_file = config.resolve(config.validate_.schema_file) if config.validate_.schema_file else None
        self.model = load_model(schema_file, config.validate_.model)
        self.stages: list[Stage] = [STAGES[name](config.stage_config(name)) for name in run.stages]
        self.stages.append(Stats(StatsConfig()))
        published = [f for f in RECORD_FIELDS if f.name not in INTERNAL_COLUMNS]
        for stage in self.stages:
            published += stage.output_fields()
        self.published_fields = published
        self.stages.append(Validate(self.model, [f.name for f in published]))
        self.features = Features.from_arrow_schema(pa.schema([f.remove_metadata() for f in published]))
        self.published_schema = self.features.arrow_schema

    # -- the stream ---------------------------------------------------------------------------

    def _ingest(self, files: list[InputFile], tally: Tally) -> Iterator[pa.RecordBatch]:
        batches = ingest(files, self.config.ingest, self.config.run.batch_size)
        while True:
            start = time.perf_counter()
            batch = next(batches, None)
            tally.seconds += time.perf_counter() - start
            if batch is None:
                return
            self.ledger.write(batch.rejected)
            batch.note(tally.notes)
            self.accounting.read.update(count_by_file(batch.kept))
            self.accounting.read.update(count_by_file(batch.rejected))
            tally.count(batch.kept.num_rows + batch.rejected.num_rows, StageResult(batch.kept, batch.rejected))
            yield batch.kept

    def _map(self, stage: MapStage, tally: Tally, stream: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in stream:
            result: StageResult = _timed(tally, stage.process, batch)
            self._record(tally, batch.num_rows, result)
            if result.kept.num_rows:
                yield result.kept

    def _record(self, tally: Tally, records_in: int, result: StageResult) -> None:
        tally.count(records_in, result)
        self.ledger.write(result.rejected)
        for name, table in result.side.items():
            self.side_tables.write(name, table)

    def _global(self, stage: GlobalStage, tally: Tally, stream: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # Pass 1 consumes the upstream once, spilling it to Arrow IPC so pass 2 re-reads the same
        # batches from disk instead of holding the corpus in memory.
        spill = self.work_dir / f"{stage.name}.arrow"
        writer: pa.ipc.RecordBatchFileWriter | None = None
        for batch in stream:
            if writer is None:
                writer = pa.ipc.new_file(spill, batch.schema)
            writer.write_batch(batch)
            _timed(tally, stage.collect, batch, _timed(tally, stage.prepare, batch))
        if writer is None:
            return
        writer.close()
        _timed(tally, stage.decide)
        tally.bytes_per_document = stage.bytes_per_document()
        with pa.memory_map(str(spill)) as source:
            reader = pa.ipc.open_file(source)
            for index in range(reader.num_record_batches):
                batch = reader.get_batch(index)
                result = _timed(tally, stage.apply, batch)
                self._record(tally, batch.num_rows, result)
                if result.kept.num_rows:
                    yield result.kept
        spill.unlink()

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> RunResult:
        started = time.perf_counter()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        dataset_dir = self.output_dir / self.name
        report_dir = self.output_dir / f"{self.name}.report"
        tmp_root = Path(tempfile.mkdtemp(prefix=f".{self.name}.tmp-", dir=self.output_dir))
        try:
            tmp_dataset = tmp_root / "dataset"
            tmp_report = tmp_root / "report"
            self.work_dir = tmp_root / "work"
            for folder in (tmp_dataset, tmp_report, self.work_dir):
                folder.mkdir()
            result = self._run_into(tmp_dataset, tmp_report, started)
            _replace_dir(tmp_dataset, dataset_dir)
            _replace_dir(tmp_report, report_dir)
            result.dataset, result.report = dataset_dir, report_dir
            return result
        finally:
            shutil.rmtree(tmp_root, ignore_errors=True)

    def _run_into(self, dataset_dir: Path, report_dir: Path, started: float) -> RunResult:
        files = list_inputs(self.input_root, exclude=[self.output_dir])
        if not files:
            raise UsageError(f"input {self.input_root} holds no files (hidden files are skipped)")
        self.log(f"ingest: {len(files)} input file(s) under {self.input_root}")
        self.ledger = Ledger(report_dir / "rejected.parquet")
        self.side_tables = SideTables(report_dir)
        self.accounting = Accounting()

        tallies = [Tally("ingest")]
        stream = self._ingest(files, tallies[0])
        for stage in self.stages:
            tally = Tally(stage.name, notes=stage.card_notes())
            tallies.append(tally)
            if isinstance(stage, MapStage):
                stream = self._map(stage, tally, stream)
            elif isinstance(stage, GlobalStage):
                stream = self._global(stage, tally, stream)

        writer = DatasetWriter(
            dataset_dir,
            self.published_schema,
            self.features,
            {f.name: description_of(f) for f in self.published_fields},
            self.config.publish,
        )
        for batch in stream:
            self.accounting.published.update(count_by_file(batch))
            writer.write(batch)
        self.ledger.close()
        self.side_tables.close()

        mismatches = self.accounting.mismatches(self.ledger.by_file)
        if mismatches:
            raise RuntimeError("accounting does not balance (a pipeline bug): " + "; ".join(mismatches[:5]))

        records_read = sum(self.accounting.read.values())
        shards = writer.finish(
            RunFacts(
                name=self.name,
                stages=[StageCount(t.name, t.records_in, t.records_out, dict(t.rejected), t.notes) for t in tallies],
                inputs=[(f.relative, f.sha256, f.size) for f in files],
                records_read=records_read,
                records_rejected=self.ledger.total,
                config_digest=self.config.digest(),
                library_versions={k: v for k, v in package_versions().items() if k in ("langdetect", "ftfy")},
            )
        )
        published = sum(s.num_rows for s in shards)

        report = validate_folder(dataset_dir, self.model)
        if not report.ok:
            raise ValidationFailed("the dataset failed validation and was not published:\n" + report.to_text())

        result = RunResult(
            dataset=dataset_dir,
            report=report_dir,
            records_read=records_read,
            records_published=published,
            records_rejected=self.ledger.total,
            tallies=tallies,
            seconds=time.perf_counter() - started,
        )
        self._write_report(report_dir, files, tallies, result, shards)
        return result

    def _write_report(
        self, report_dir: Path, files: list[InputFile], tallies: list[Tally], result: RunResult, shards: list[Any]
    ) -> None:
        per_file = {
            f.relative: {
                "read": self.accounting.read[f.relative],
                "published": self.accounting.published[f.relative],
                "rejected": self.ledger.by_file[f.relative],
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
            "input_root": str(self.input_root),
            "inputs": [{"path": f.relative, "bytes": f.size, "sha256": f.sha256} for f in files],
            "records": {
                "read": result.records_read,
                "published": result.records_published,
                "rejected": result.records_rejected,
            },
            "per_file": per_file,
            "stages": [t.as_dict() for t in tallies],
            "shards": [{"path": s.path.name, "rows": s.num_rows} for s in shards],
            "seconds": round(result.seconds, 3),
        }
        (report_dir / "run.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
