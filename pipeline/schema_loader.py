"""Loading the pandera model that published records must satisfy, from the package or a user's file."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import UsageError

DEFAULT_MODULE = "pipeline.schemas.published"
# In a source checkout the schema is read from the repository's schemas/ folder, so the copy a user
# edits there is the one that runs; an installed wheel carries it as pipeline.schemas.
_CHECKOUT_SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "published.py"


def load_model(schema_file: Path | None, model: str = "PublishedRecord") -> Any:
    if schema_file is None and _CHECKOUT_SCHEMA.is_file():
        schema_file = _CHECKOUT_SCHEMA
    if schema_file is None:
        module = importlib.import_module(DEFAULT_MODULE)
        where = DEFAULT_MODULE
    else:
        if not schema_file.is_file():
            raise UsageError(f"schema file {schema_file} not found; set validate.schema_file to a .py file")
        spec = importlib.util.spec_from_file_location(f"_pipeline_user_schema_{schema_file.stem}", schema_file)
        if spec is None or spec.loader is None:
            raise UsageError(f"schema file {schema_file} cannot be imported as Python")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise UsageError(f"schema file {schema_file} fails to import: {type(exc).__name__}: {exc}") from exc
        where = str(schema_file)
    found = getattr(module, model, None)
    if found is None or not hasattr(found, "validate"):
        raise UsageError(f"{where} defines no pandera model '{model}'; set validate.model to its class name")
    return found


@dataclass(frozen=True)
class SchemaFailure:
    row: int | None  # None: a column-level failure (missing column, wrong dtype)
    column: str | None
    check: str
    value: Any


def schema_failures(model: Any, frame: Any) -> list[SchemaFailure]:
    """Every failure of `frame` against the pandera `model`, collected lazily (rows are frame positions)."""
    import pandera.errors

    try:
        model.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        failures = []
        for case in exc.failure_cases.itertuples(index=False):
            index = getattr(case, "index", None)
            row = None if index is None or index != index else int(index)
            column = None if case.column is None else str(case.column)
            failures.append(SchemaFailure(row, column, str(case.check), case.failure_case))
        return failures
    return []
