"""`croissant.json`: Croissant 1.1 metadata (JSON-LD) describing the published Parquet shards.

One FileObject per shard (with its sha256 and size), one FileSet matching all shards (the source of
the records), and a RecordSet whose fields map the Parquet columns one to one (struct columns become
fields with subFields) plus a `split` field read from each shard's file name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
PARQUET = "application/x-parquet"
FILE_SET_ID = "parquet-files"
RECORD_SET_ID = "default"
SPLIT_FIELD = "split"
FILE_NAME = "croissant.json"

# The Croissant 1.1 JSON-LD context, as the specification publishes it.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "description": {"@container": "@language"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "name": {"@container": "@language"},
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


@dataclass(frozen=True)
class ShardFile:
    path: str  # relative to the dataset folder, posix
    split: str
    sha256: str
    size: int


def data_type(type_: pa.DataType) -> str:
    """The Croissant dataType of a scalar Arrow type.

    Types Croissant has no name for (decimals, nested lists inside structs, …) are declared as
    `sc:Text`, the most general type: a new column type added by a stage must never stop a publish.
    """
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "sc:Text"
    if pa.types.is_boolean(type_):
        return "sc:Boolean"
    if pa.types.is_integer(type_):
        return f"cr:{'UInt' if pa.types.is_unsigned_integer(type_) else 'Int'}{type_.bit_width}"
    if pa.types.is_floating(type_):
        return f"cr:Float{type_.bit_width}"
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_):
        return "sc:Text"
    if pa.types.is_timestamp(type_):
        return "sc:DateTime"
    if pa.types.is_date(type_):
        return "sc:Date"
    return "sc:Text"


def split_regex(splits: list[str]) -> str:
    names = "|".join(re.escape(s) for s in splits)
    return rf"^(?:.*/)?({names})-\d{{5}}-of-\d{{5}}\.parquet$"


def _source(column: str, json_path: str | None = None) -> dict[str, Any]:
    source: dict[str, Any] = {"fileSet": {"@id": FILE_SET_ID}, "extract": {"column": column}}
    if json_path is not None:
        source["transform"] = {"jsonPath": json_path}
    return source


def _field(field: pa.Field, descriptions: dict[str, str]) -> dict[str, Any]:
    field_id = f"{RECORD_SET_ID}/{field.name}"
    entry: dict[str, Any] = {"@type": "cr:Field", "@id": field_id, "name": field.name}
    if descriptions.get(field.name):
        entry["description"] = descriptions[field.name]
    if pa.types.is_struct(field.type):
        entry["subField"] = []
        for child in field.type:
            kind = data_type(child.type)
            entry["subField"].append(
                {
                    "@type": "cr:Field",
                    "@id": f"{field_id}/{child.name}",
                    "name": child.name,
                    "dataType": kind,
                    "source": _source(field.name, child.name),
                }
            )
        return entry
    kind = data_type(field.type)
    if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
        kind = data_type(field.type.value_type)
        entry["isArray"] = True
    entry["dataType"] = kind
    entry["source"] = _source(field.name)
    return entry


def build(
    *,
    name: str,
    description: str,
    license: str,
    version: str,
    citation: str,
    schema: pa.Schema,
    descriptions: dict[str, str],
    splits: list[str],
    shards: list[ShardFile],
) -> dict[str, Any]:
    distribution: list[dict[str, Any]] = [
        {
            "@type": "cr:FileObject",
            "@id": shard.path,
            "name": shard.path,
            "description": f"Parquet shard of the '{shard.split}' split.",
            "contentUrl": shard.path,
            "encodingFormat": PARQUET,
            "contentSize": f"{shard.size} B",
            "sha256": shard.sha256,
        }
        for shard in shards
    ]
    distribution.append(
        {
            "@type": "cr:FileSet",
            "@id": FILE_SET_ID,
            "name": FILE_SET_ID,
            "description": "Every Parquet shard of every split; each file's split is in its name.",
            "encodingFormat": PARQUET,
            "includes": "data/*.parquet",
        }
    )
    fields = [_field(f, descriptions) for f in schema]
    fields.append(
        {
            "@type": "cr:Field",
            "@id": f"{RECORD_SET_ID}/{SPLIT_FIELD}",
            "name": SPLIT_FIELD,
            "description": "The split the record belongs to, taken from its shard's file name.",
            "dataType": "sc:Text",
            "source": {
                "fileSet": {"@id": FILE_SET_ID},
                "extract": {"fileProperty": "fullpath"},
                "transform": {"regex": split_regex(splits)},
            },
        }
    )
    metadata: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": name,
        "description": description,
        "license": license,
        "version": version,
    }
    if citation.strip():
        metadata["citeAs"] = citation.strip()
    metadata["distribution"] = distribution
    metadata["recordSet"] = [
        {
            "@type": "cr:RecordSet",
            "@id": RECORD_SET_ID,
            "name": RECORD_SET_ID,
            "description": "One record per published document.",
            "field": fields,
        }
    ]
    return metadata


def dumps(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, indent=2, ensure_ascii=False) + "\n"


def record_set_columns(metadata: dict[str, Any]) -> dict[str, str | dict[str, str]]:
    """{column: dataType} (or {column: {child: dataType}}) the RecordSet declares, the split field excluded."""
    columns: dict[str, str | dict[str, str]] = {}
    for record_set in metadata.get("recordSet") or []:
        if record_set.get("@id") != RECORD_SET_ID:
            continue
        for field in record_set.get("field") or []:
            column = ((field.get("source") or {}).get("extract") or {}).get("column")
            if field.get("subField"):
                children = {}
                for sub in field["subField"]:
                    children[str((sub.get("source") or {}).get("transform", {}).get("jsonPath"))] = sub.get("dataType")
                columns[str(field.get("name"))] = children
            elif column is not None:
                columns[str(column)] = str(field.get("dataType"))
    return columns


def schema_columns(schema: pa.Schema) -> dict[str, str | dict[str, str]]:
    """The same shape as `record_set_columns`, computed from a Parquet schema."""
    columns: dict[str, str | dict[str, str]] = {}
    for field in schema:
        if pa.types.is_struct(field.type):
            columns[field.name] = {child.name: str(data_type(child.type)) for child in field.type}
        elif pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            columns[field.name] = str(data_type(field.type.value_type))
        else:
            columns[field.name] = str(data_type(field.type))
    return columns
