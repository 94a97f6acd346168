"""The user's own fields: every input field other than text/id/url, passed through to the published data.

Ingest stores a record's other fields as one JSON object in the internal `fields` column, so every
stage carries them untouched whatever they hold. Ingest also infers their Arrow type per file and
merges the types across files (int and float give float, null gives way to anything, structs merge
by key); a field that is a number in one file and text in another stops the run early, naming both.
At publish the JSON objects become typed columns of the dataset, next to the pipeline's own.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from pipeline.errors import InputError

# A published column named like one of the pipeline's gets this prefix (e.g. an input `language`).
RENAME_PREFIX = "input_"


class FieldTypeConflict(Exception):
    def __init__(self, path: str, first: pa.DataType, second: pa.DataType) -> None:
        super().__init__(f"field `{path}` is {_kind(first)} in one place and {_kind(second)} in another")
        self.path = path


def _kind(type_: pa.DataType) -> str:
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "text"
    if pa.types.is_integer(type_):
        return "an integer"
    if pa.types.is_floating(type_):
        return "a number"
    if pa.types.is_boolean(type_):
        return "true/false"
    if pa.types.is_struct(type_):
        return "an object"
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return "a list"
    return str(type_)


def _plain(value: Any) -> Any:
    """A JSON-able copy: non-finite floats become null; bytes become base64 (other values JSON cannot
    hold, such as dates and decimals, become their `str` in `to_json`)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value


def restorable(type_: pa.DataType) -> bool:
    """Types JSON cannot hold but whose text form (`str` of the value; base64 for bytes) converts back
    exactly, so a Parquet input's column of this type is published with its type, not as text."""
    return (
        pa.types.is_timestamp(type_)
        or pa.types.is_date(type_)
        or pa.types.is_decimal(type_)
        or pa.types.is_binary(type_)
        or pa.types.is_large_binary(type_)
    )


def declare(inferred: pa.StructType, declared: dict[str, pa.DataType]) -> pa.StructType:
    """`inferred` (from the JSON text) with the reader's declared type for each field it names."""
    if not declared:
        return inferred
    return pa.struct([pa.field(f.name, declared.get(f.name, f.type)) for f in inferred])


def to_json(fields: dict[str, Any] | None) -> str | None:
    if not fields:
        return None
    return json.dumps({k: _plain(v) for k, v in fields.items()}, ensure_ascii=False, default=str, sort_keys=True)


def merge(first: pa.DataType, second: pa.DataType, path: str) -> pa.DataType:
    """The type that holds values of both, or FieldTypeConflict naming the field."""
    if first == second or pa.types.is_null(second):
        return first
    if pa.types.is_null(first):
        return second
    if (restorable(first) or restorable(second)) and (_text_form(first) and _text_form(second)):
        # A timestamp in one file and text (or another unit or precision) in another: both are text.
        return pa.string()
    if _numeric(first) and _numeric(second):
        if pa.types.is_floating(first) or pa.types.is_floating(second):
            return pa.float64()
        return pa.int64()
    if pa.types.is_struct(first) and pa.types.is_struct(second):
        children = {f.name: f.type for f in first}
        for child in second:
            where = f"{path}.{child.name}" if path else child.name
            children[child.name] = merge(children.get(child.name, pa.null()), child.type, where)
        return pa.struct([pa.field(name, type_) for name, type_ in children.items()])
    if _list(first) and _list(second):
        return pa.list_(merge(first.value_type, second.value_type, f"{path}[]"))
    raise FieldTypeConflict(path, first, second)


def _text_form(type_: pa.DataType) -> bool:
    return restorable(type_) or pa.types.is_string(type_) or pa.types.is_large_string(type_)


def _numeric(type_: pa.DataType) -> bool:
    return (pa.types.is_integer(type_) or pa.types.is_floating(type_)) and not pa.types.is_boolean(type_)


def _list(type_: pa.DataType) -> bool:
    return pa.types.is_list(type_) or pa.types.is_large_list(type_)


def infer(values: Iterable[str | None]) -> pa.StructType:
    """The struct type of a list of JSON objects (fields in first-seen order)."""
    objects = [json.loads(v) for v in values if v is not None]
    if not objects:
        return pa.struct([])
    try:
        type_ = pa.array(objects).type
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed types inside one file: merge record by record to name the field.
        type_ = pa.struct([])
        for obj in objects:
            type_ = merge(type_, pa.array([obj]).type, "")
    return type_


def merge_file_types(known: pa.StructType, new: pa.StructType, file: str, first_file: dict[str, str]) -> pa.StructType:
    """Merge `new` (the types seen in `file`) into `known`; a conflict is an InputError naming both files."""
    merged = known
    for child in new:
        try:
            previous = merged.field(child.name).type if merged.get_field_index(child.name) >= 0 else pa.null()
            type_ = merge(previous, child.type, child.name)
        except FieldTypeConflict as exc:
            earlier = first_file.get(child.name, file)
            where = f"{earlier} and {file}" if earlier != file else file
            raise InputError(
                f"{where}: {exc}; make the field one type in every file, or leave it out with "
                f"ingest.keep_fields (a list of the fields to keep)"
            ) from None
        first_file.setdefault(child.name, file)
        fields = [f if f.name != child.name else pa.field(child.name, type_) for f in merged]
        if merged.get_field_index(child.name) < 0:
            fields.append(pa.field(child.name, type_))
        merged = pa.struct(fields)
    return merged


def dump_type(type_: pa.StructType) -> str:
    return base64.b64encode(pa.schema(list(type_)).serialize().to_pybytes()).decode()


def load_type(text: str) -> pa.StructType:
    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))
    return pa.struct(list(schema))


def _publishable(type_: pa.DataType) -> pa.DataType:
    """Null-only fields are published as text (datasets has no all-null feature worth showing)."""
    if pa.types.is_null(type_):
        return pa.string()
    if pa.types.is_struct(type_):
        if type_.num_fields == 0:
            return pa.string()
        return pa.struct([pa.field(f.name, _publishable(f.type)) for f in type_])
    if _list(type_):
        return pa.list_(_publishable(type_.value_type))
    return type_


def published_fields(type_: pa.StructType, reserved: set[str]) -> list[tuple[str, pa.Field]]:
    """(input name, published field) per extra field, renamed where it collides with a pipeline column."""
    out = []
    for child in type_:
        name = child.name if child.name not in reserved else RENAME_PREFIX + child.name
        description = "From the input." if name == child.name else f"The input's own `{child.name}` field."
        out.append((child.name, pa.field(name, _publishable(child.type), metadata={"description": description})))
    return out


def expand(batch: pa.RecordBatch, fields: list[tuple[str, pa.Field]]) -> pa.RecordBatch:
    """`batch` with one typed column per extra field, decoded from its `fields` JSON column."""
    if not fields or "fields" not in batch.schema.names:
        return batch
    objects = [json.loads(v) if v is not None else {} for v in batch.column("fields").to_pylist()]
    for input_name, field in fields:
        values = [obj.get(input_name) for obj in objects]
        batch = batch.append_column(field, _typed(values, field.type))
    return batch


def _typed(values: list[Any], type_: pa.DataType) -> pa.Array:
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_):
        return pa.array([None if v is None else base64.b64decode(v) for v in values], type_)
    if restorable(type_):
        # The text form Python's `str` gave at ingest parses back exactly (Arrow's ISO-8601 and
        # decimal parsers).
        return pa.array(values, pa.string()).cast(type_)
    return pa.array(values, type_)
