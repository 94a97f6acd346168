"""Helpers to test a stage without running the pipeline: build batches, run a stage, check determinism.

    from pipeline.testing import make_batch, run_stage

    result = run_stage(MyStage(MyStage.config_class()), make_batch(["one text", "another text"]))
    assert result.rejected.column("reason").to_pylist() == ["too_short"]

`run_stage` runs the stage the way the runner does (a `MapStage` batch by batch, a `GlobalStage`
through prepare/collect, decide, apply) at several batch sizes and raises `AssertionError` when
the outcome differs between them: a stage's output must not depend on where batches split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from pipeline.records import LEDGER_SCHEMA, RECORD_SCHEMA, record_id
from pipeline.stage import GlobalStage, MapStage, Stage, StageResult


def make_batch(records: Iterable[str | Mapping[str, Any]], *, file: str = "test.jsonl") -> pa.RecordBatch:
    """A batch of the records ingest produces: from texts, or dicts with `text` and optional fields.

    Missing ids, sources and files are filled the way ingest fills them (`file#N`, a hash of it).
    Extra keys of the dicts become extra columns, typed by Arrow from the values.
    """
    rows = []
    extra: dict[str, None] = {}
    for number, record in enumerate(records, start=1):
        row = {"text": record} if isinstance(record, str) else dict(record)
        source = row.setdefault("source", f"{file}#{number}")
        row.setdefault("id", record_id(source))
        row.setdefault("file", file)
        row.setdefault("url", None)
        row.setdefault("metadata", None)
        row.setdefault("fields", None)  # the input's other fields, as ingest carries them (JSON or null)
        extra.update(dict.fromkeys(k for k in row if k not in RECORD_SCHEMA.names))
        rows.append(row)
    table = pa.Table.from_pylist(rows)
    columns = [pa.array([r[f.name] for r in rows], f.type) for f in RECORD_SCHEMA]
    columns += [table.column(name).combine_chunks() for name in extra]
    fields = [*RECORD_SCHEMA, *(table.schema.field(name) for name in extra)]
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields))


@dataclass
class Outcome:
    """A stage's output over all batches: the kept records and the ledger rows, in input order."""

    kept: pa.Table
    rejected: pa.Table
    side: dict[str, pa.Table]


def _slices(batch: pa.RecordBatch, size: int) -> list[pa.RecordBatch]:
    return [batch.slice(start, size) for start in range(0, batch.num_rows, size)] or [batch]


def _run_once(make_stage: Callable[[], Stage], batch: pa.RecordBatch, size: int) -> Outcome:
    stage = make_stage()
    batches = [b for b in _slices(batch, size) if b.num_rows]
    results: list[StageResult] = []
    if isinstance(stage, MapStage):
        results = [stage.process(b) for b in batches]
    elif isinstance(stage, GlobalStage):
        for b in batches:
            stage.collect(b, stage.prepare(b))
        stage.decide()
        results = [stage.apply(b) for b in batches]
    else:
        raise TypeError(f"{type(stage).__name__} is neither a MapStage nor a GlobalStage")
    kept_schema = results[0].kept.schema if results else batch.schema
    side_names = sorted({name for r in results for name in r.side})
    return Outcome(
        kept=pa.Table.from_batches([r.kept for r in results], schema=kept_schema),
        rejected=pa.Table.from_batches([r.rejected for r in results], schema=LEDGER_SCHEMA),
        side={n: pa.Table.from_batches([r.side[n] for r in results if n in r.side]) for n in side_names},
    )


def run_stage(
    stage: Stage | Callable[[], Stage],
    batch: pa.RecordBatch,
    *,
    batch_sizes: Sequence[int] = (1, 3, 1000),
) -> Outcome:
    """Run a stage over `batch` split at each of `batch_sizes`; check every split gives the same outcome.

    Pass a factory (e.g. `lambda: MyStage(MyConfig())`) for a `GlobalStage`, which keeps state
    between batches; a `MapStage` instance is reused as is. Each kept batch must keep the input's
    columns first and add exactly the stage's `output_fields`; each ledger batch must have the
    ledger's schema.
    """
    make_stage: Callable[[], Stage] = (lambda: stage) if isinstance(stage, Stage) else stage
    if isinstance(stage, GlobalStage):
        raise TypeError("run_stage: pass a factory (lambda: MyStage(config)) for a GlobalStage, which keeps state")
    outcomes = [_run_once(make_stage, batch, size) for size in batch_sizes]
    first = outcomes[0]
    expected = [*batch.schema.names, *(f.name for f in make_stage().output_fields())]
    if first.kept.num_rows and first.kept.schema.names != expected:
        raise AssertionError(f"kept columns {first.kept.schema.names} != input columns + output_fields {expected}")
    for size, outcome in zip(batch_sizes[1:], outcomes[1:], strict=True):
        for part in ("kept", "rejected"):
            if not getattr(outcome, part).equals(getattr(first, part)):
                raise AssertionError(
                    f"{part} records differ between batch size {batch_sizes[0]} and {size}: "
                    "the stage must give the same output however the records are batched"
                )
    if first.kept.num_rows + first.rejected.num_rows != batch.num_rows:
        raise AssertionError(
            f"{batch.num_rows} records in, {first.kept.num_rows} kept + {first.rejected.num_rows} rejected out: "
            "every record must be kept or rejected, once"
        )
    return first
