"""The schema every published record must satisfy.

Copy this file next to your `pipeline.toml`, tighten it, and point `validate.schema` at the copy: the
pipeline and `python -m pipeline validate --schema` load it from the path, no package edit needed.

`id` uniqueness is checked across the whole dataset by the pipeline itself (a per-batch `unique`
check here would reject both copies instead of the second), so it is not declared below.
Columns added by optional stages are allowed (`strict = False`) and typed by the dataset features.
"""

import pandera.pandas as pa
from pandera.typing import Series


class PublishedRecord(pa.DataFrameModel):
    id: Series[str] = pa.Field(str_length={"min_value": 1}, nullable=False)
    text: Series[str] = pa.Field(nullable=False)
    source: Series[str] = pa.Field(str_length={"min_value": 1}, nullable=False)
    url: Series[str] = pa.Field(nullable=True)
    # Provenance struct from ingest (title, date, encoding, content_type, warc_record_id, warc_date);
    # its field types are enforced by the dataset features, so here only its presence is allowed.
    metadata: Series[object] = pa.Field(nullable=True, required=False)
    # langdetect codes: ISO 639-1, plus a region for Chinese ("zh-cn", "zh-tw").
    language: Series[str] = pa.Field(str_matches=r"^[a-z]{2,3}(-[a-z]{2})?$", nullable=False, required=False)
    language_score: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=False, required=False)
    # clean, pii and quality stages (absent when those stages do not run).
    removed_lines: Series[int] = pa.Field(ge=0, nullable=False, required=False)
    pii: Series[object] = pa.Field(nullable=False, required=False)
    quality: Series[object] = pa.Field(nullable=False, required=False)
    quality_score: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=False, required=False)
    # Added by dedup_near: how many removed near-duplicates name this record in duplicate_of.
    duplicate_count: Series[int] = pa.Field(ge=0, nullable=False, required=False)
    num_chars: Series[int] = pa.Field(gt=0, nullable=False)
    num_words: Series[int] = pa.Field(ge=0, nullable=False)

    @pa.check("text", name="text_not_blank")
    def text_not_blank(cls, text: Series[str]) -> Series[bool]:
        return text.str.strip().str.len() > 0

    class Config:
        strict = False
        coerce = False
