"""Shortcuts for the common plugin: a function of one document turned into a map stage.

    @filter_stage(name="no_shouting", reason="shouting", config=ShoutingConfig)
    def no_shouting(text: str, config: ShoutingConfig) -> str | None:
        ...  # None keeps the document; a string rejects it (the string is the ledger's detail)

    @map_stage(name="word_count", fields=[described("word_count", pa.int64(), "Words in the text.")])
    def word_count(record: dict) -> dict:
        return {**record, "word_count": len(record["text"].split())}

The decorated name becomes the stage class, so `run.stages` can name it as "module:no_shouting" or
through an entry point. The function is kept as the class attribute `function` for unit tests.
Both shortcuts convert batches to Python objects per record: right for a few hundred thousand
documents; a stage that must be fast works on Arrow columns in `MapStage.process` directly.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pyarrow as pa

from pipeline.records import empty_ledger, rejections
from pipeline.stage import MapStage, StageConfig, StageResult

F = TypeVar("F", bound=Callable[..., Any])
# Columns a mapper must hand back unchanged: the ledger and the per-file accounting rely on them.
_IDENTITY_COLUMNS = ("id", "source", "file")


class NoOptions(StageConfig):
    """The config of a stage without options: its section may be absent or empty."""


def _takes_config(function: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return len(parameters) >= 2


def _stage_class(function: Callable[..., Any], name: str | None, config: type[StageConfig] | None, body: dict) -> type:
    stage_name = name or function.__name__
    namespace = {
        "name": stage_name,
        "config_class": config or NoOptions,
        "function": staticmethod(function),
        "__module__": function.__module__,
        "__qualname__": function.__qualname__,
        "__doc__": function.__doc__,
        **body,
    }
    return type(function.__name__, (MapStage,), namespace)


def filter_stage(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    reason: str | None = None,
    config: type[StageConfig] | None = None,
) -> Any:
    """Turn `text -> None | str` (or `(text, config) -> None | str`) into a filtering map stage.

    None or False keeps the document. A string or True rejects it: with `reason` given, the ledger's
    reason is `reason` and the string its detail; without, the string itself is the reason (keep
    reasons few and fixed: they are counted per stage in the card).
    """

    def wrap(func: Callable[..., Any]) -> type:
        stage_name = name or func.__name__
        with_config = _takes_config(func)

        def process(self: MapStage, batch: pa.RecordBatch) -> StageResult:
            texts = batch.column("text").to_pylist()
            verdicts = [func(text, self.config) if with_config else func(text) for text in texts]
            mask: list[bool] = []
            reasons: list[str] = []
            details: list[str] = []
            for verdict in verdicts:
                if verdict is None or verdict is False:
                    mask.append(False)
                    continue
                if verdict is not True and not isinstance(verdict, str):
                    raise TypeError(
                        f"stage {stage_name}: the filter returned {type(verdict).__name__}; "
                        "expected None/False (keep) or a string/True (reject)"
                    )
                mask.append(True)
                text = "" if verdict is True else verdict
                reasons.append(reason if reason is not None else (text or stage_name))
                details.append(text if reason is not None else "")
            if not any(mask):
                return StageResult(batch, empty_ledger())
            return StageResult(_kept(batch, mask), rejections(batch, mask, stage_name, reasons, details))

        return _stage_class(func, name, config, {"process": process})

    return wrap(function) if function is not None else wrap


def _kept(batch: pa.RecordBatch, mask: list[bool]) -> pa.RecordBatch:
    return batch.filter(pa.array([not m for m in mask], pa.bool_()))


def map_stage(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    config: type[StageConfig] | None = None,
    fields: Sequence[pa.Field] = (),
) -> Any:
    """Turn `record -> record` (or `(record, config) -> record`) into a map stage.

    A record is a dict of the batch's columns. The function returns the record with changed values
    and any of the new columns declared in `fields` (build them with `pipeline.described` so the card
    describes them); `id`, `source` and `file` must come back unchanged.
    """
    new_fields = list(fields)

    def wrap(func: Callable[..., Any]) -> type:
        stage_name = name or func.__name__
        with_config = _takes_config(func)

        def process(self: MapStage, batch: pa.RecordBatch) -> StageResult:
            schema = batch.schema
            for field in new_fields:
                if field.name not in schema.names:
                    schema = schema.append(field)
            allowed = set(schema.names)
            rows = []
            for record in batch.to_pylist():
                before = {key: record[key] for key in _IDENTITY_COLUMNS if key in record}
                result = func(dict(record), self.config) if with_config else func(dict(record))
                if not isinstance(result, dict):
                    raise TypeError(f"stage {stage_name}: the mapper returned {type(result).__name__}, not a dict")
                extra = set(result) - allowed
                if extra:
                    raise ValueError(
                        f"stage {stage_name}: the mapper returned undeclared column(s) {sorted(extra)}; "
                        "declare them in map_stage(fields=[...])"
                    )
                if any(result.get(key) != value for key, value in before.items()):
                    raise ValueError(f"stage {stage_name}: the mapper changed id, source or file; they must stay")
                rows.append(result)
            return StageResult(pa.RecordBatch.from_pylist(rows, schema=schema), empty_ledger())

        def output_fields(self: MapStage) -> list[pa.Field]:
            return list(new_fields)

        return _stage_class(func, name, config, {"process": process, "output_fields": output_fields})

    return wrap(function) if function is not None else wrap
