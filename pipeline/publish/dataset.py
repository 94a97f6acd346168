"""The published folder: shards per split, the statistics the card needs, and the card itself."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipeline.config import PublishConfig
from pipeline.publish.card import CardContext, SplitInfo, StageCount, render
from pipeline.publish.parquet import Shard, ShardWriter

SPLIT = "train"


@dataclass
class RunFacts:
    """What the card reports about the run that made the data."""

    name: str
    stages: list[StageCount]
    inputs: list[tuple[str, str, int]]
    records_read: int
    records_rejected: int
    config_digest: str
    library_versions: dict[str, str]


class DatasetWriter:
    def __init__(
        self,
        folder: Path,
        schema: pa.Schema,
        features: object,
        field_descriptions: dict[str, str],
        config: PublishConfig,
    ) -> None:
        self.folder = folder
        self.schema = schema
        self.features = features
        self.field_descriptions = field_descriptions
        self.config = config
        self._writer = ShardWriter(
            folder / "data",
            SPLIT,
            schema,
            max_shard_bytes=config.max_shard_bytes,
            max_row_group_bytes=config.max_row_group_bytes,
            compression=config.compression,
        )
        self.languages: Counter[str] = Counter()
        # 16 bytes per published document, for the card's exact length percentiles.
        self._chars: list[np.ndarray] = []
        self._words: list[np.ndarray] = []

    def write(self, batch: pa.RecordBatch) -> None:
        batch = batch.select(self.schema.names)
        self._writer.write(batch)
        if "language" in self.schema.names:
            self.languages.update(batch.column("language").to_pylist())
        self._chars.append(batch.column("num_chars").to_numpy())
        self._words.append(batch.column("num_words").to_numpy())

    def finish(self, facts: RunFacts) -> list[Shard]:
        shards = self._writer.close()
        context = CardContext(
            name=facts.name,
            pretty_name=self.config.pretty_name,
            description=self.config.description,
            license=self.config.license,
            task_categories=self.config.task_categories,
            features=self.features,  # type: ignore[arg-type]
            field_descriptions=self.field_descriptions,
            splits=[
                SplitInfo(SPLIT, f"data/{SPLIT}-*", sum(s.num_rows for s in shards), sum(s.num_bytes for s in shards))
            ],
            download_size=sum(s.path.stat().st_size for s in shards),
            languages=self.languages,
            num_chars=np.concatenate(self._chars) if self._chars else np.empty(0, np.int64),
            num_words=np.concatenate(self._words) if self._words else np.empty(0, np.int64),
            stages=facts.stages,
            inputs=facts.inputs,
            records_read=facts.records_read,
            records_rejected=facts.records_rejected,
            config_digest=facts.config_digest,
            library_versions=facts.library_versions,
        )
        (self.folder / "README.md").write_text(render(context), encoding="utf-8")
        return shards
