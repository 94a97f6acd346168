from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from helpers import write

from pipeline.config import IngestConfig
from pipeline.readers.csv import read_csv
from pipeline.readers.parquet import read_parquet


def test_parquet_columns_from_config(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"content": ["a", None, "c"], "url": ["u1", None, "u3"]}), path)
    records = list(read_parquet(path, IngestConfig(text_field="content")))
    assert [(r.number, r.text, r.url) for r in records] == [(1, "a", "u1"), (2, "", None), (3, "c", "u3")]


def test_parquet_without_the_text_column(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"body": ["a"]}), path)
    (record,) = read_parquet(path, IngestConfig())
    assert record.reason == "missing_text"
    assert "no column 'text' (has: body)" in record.detail


def test_csv_rows_and_malformed_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", 'id,text,url\n1,"hello, world",https://a\n2,short\n3,"multi\nline",\n')
    records = list(read_csv(path, IngestConfig()))
    assert [(r.number, r.id, r.text, r.reason) for r in records] == [
        (1, "1", "hello, world", None),
        (2, None, "2,short", "malformed_record"),
        (3, "3", "multi\nline", None),
    ]
    assert records[2].url is None
