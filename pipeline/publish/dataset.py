"""The published folder: shards per split, the plots, croissant.json and the card.

Records are routed to their split by a hash of their id (pipeline/publish/splits.py); each split has
its own ShardWriter, so shard boundaries stay a function of the data alone. The statistics the card
needs are gathered as batches pass (16 bytes per document for exact length percentiles; everything
else is bounded).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from pipeline.arrays import concatenate_freeing
from pipeline.config import PublishConfig
from pipeline.execution.executor import inline
from pipeline.fingerprint import sha256_of
from pipeline.publish import croissant
from pipeline.publish.card import CardContext, Example, SplitInfo, StageCount, render
from pipeline.publish.parquet import Shard, ShardWriter
from pipeline.publish.plots import plot_paths, render_plots, write_plots
from pipeline.publish.splits import SplitAssigner

EXAMPLE_ROWS = 5
EXAMPLE_CHARS = 200
# Examples are the records with the smallest hash of their id under this seed: a fixed, order- and
# batch-independent choice that is not correlated with the split assignment's hash.
_EXAMPLE_SEED = 0xE8A3


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
        self.assigner = SplitAssigner(dict(config.splits))
        self._writers = [
            ShardWriter(
                folder / "data",
                split,
                schema,
                max_shard_bytes=config.max_shard_bytes,
                max_row_group_bytes=config.max_row_group_bytes,
                compression=config.compression,
            )
            for split in self.assigner.names
        ]
        self.languages: Counter[str] = Counter()
        self._drawn: Callable[[], dict[str, bytes]] | None = None
        self._early: tuple[bytes, Callable[[], dict[str, bytes]]] | None = None
        self._chars: list[np.ndarray] = []
        self._words: list[np.ndarray] = []
        # Sums of integer-valued struct children (e.g. pii counts per kind) and of duplicate_count.
        self.struct_sums: dict[str, Counter[str]] = {}
        self.struct_docs: Counter[str] = Counter()  # documents with any non-zero child, per struct column
        self.duplicate_copies = 0
        # The EXAMPLE_ROWS records with the smallest (id hash, id) seen so far.
        self._examples: list[tuple[int, str, Example]] = []

    def write(self, batch: pa.RecordBatch) -> None:
        batch = batch.select(self.schema.names)
        if not batch.num_rows:
            return
        ids = batch.column("id").to_pylist()
        assignment = self.assigner.assign(ids)
        for index, writer in enumerate(self._writers):
            chosen = assignment == index
            # Filtering copies the batch: not when every record goes to this split (the usual one split).
            part = batch if chosen.all() else batch.filter(pa.array(chosen))
            if part.num_rows:
                writer.write(part)
        self._gather(batch, ids, assignment)

    def _gather(self, batch: pa.RecordBatch, ids: list[str], assignment: np.ndarray) -> None:
        names = self.schema.names
        lengths, languages = plotted_columns(batch)
        # 32-bit while held (a string column's offsets are 32-bit: no count is larger); 64 at finish.
        self._chars.append(lengths.astype(np.int32))
        self.languages.update(languages)
        # A copy (astype's), as in plotted_columns.
        self._words.append(batch.column("num_words").to_numpy().astype(np.int32))
        if "duplicate_count" in names and pa.types.is_integer(batch.schema.field("duplicate_count").type):
            self.duplicate_copies += int(pc.sum(batch.column("duplicate_count")).as_py() or 0)
        for column_field in batch.schema:
            if not pa.types.is_struct(column_field.type):
                continue
            children = [c for c in column_field.type if pa.types.is_integer(c.type)]
            if not children:
                continue
            column = batch.column(column_field.name)
            sums = self.struct_sums.setdefault(column_field.name, Counter())
            any_nonzero = np.zeros(batch.num_rows, dtype=bool)
            for child in children:
                values = pc.fill_null(pc.struct_field(column, child.name), 0).to_numpy(zero_copy_only=False)
                sums[child.name] += int(values.sum())
                any_nonzero |= values != 0
            self.struct_docs[column_field.name] += int(any_nonzero.sum())
        # Candidates from this batch (at most EXAMPLE_ROWS), merged with the kept ones by (hash, id).
        keys = [xxhash.xxh3_64_intdigest(i.encode("utf-8"), seed=_EXAMPLE_SEED) for i in ids]
        rows = sorted(range(len(ids)), key=lambda r: (keys[r], ids[r]))[:EXAMPLE_ROWS]
        languages = batch.column("language") if "language" in names else None
        for row in rows:
            text = batch.column("text")[row].as_py()
            example = Example(
                id=ids[row],
                split=self.assigner.names[int(assignment[row])],
                language=None if languages is None else languages[row].as_py(),
                text=text[:EXAMPLE_CHARS],
                truncated=len(text) > EXAMPLE_CHARS,
            )
            self._examples.append((keys[row], ids[row], example))
        self._examples = sorted(self._examples, key=lambda item: (item[0], item[1]))[:EXAMPLE_ROWS]

    def expect_plots(self, inputs: bytes, drawn: Callable[[], dict[str, bytes]]) -> None:
        """Plots being drawn elsewhere (`render_plots`, waited for by `drawn`) from what the caller expects
        the written records to hold (`plots_digest` of it), started before they are written. `finish`
        uses them only if the records written hold exactly that, and draws again otherwise: the plots
        are those of the data."""
        self._early = (inputs, drawn)

    def finish(self, facts: RunFacts, background: Background | None = None) -> list[Shard]:
        """Close every split's shards, then write the plots, croissant.json and the card. Returns all shards.

        With `background` (an executor's: it starts a task elsewhere and returns the call that waits for
        its result) the plots are drawn there meanwhile, and written by `write_plots()`, which the caller
        calls when it needs them (the card links them already).
        """
        by_split = [(writer.split, writer.close()) for writer in self._writers]
        shards = [shard for _, split_shards in by_split for shard in split_shards]
        # Widened to 64 bits as they are joined, each chunk released once copied (the lists are emptied).
        num_chars = concatenate_freeing(self._chars, np.int64)
        num_words = concatenate_freeing(self._words, np.int64)
        images = plot_paths(num_chars, self.languages)
        early = self._early
        if early is not None and early[0] == plots_digest(num_chars, self.languages):
            self._drawn = early[1]
        else:
            self._drawn = (background or inline)(render_plots, num_chars, self.languages)
        self._early = None
        files = [
            croissant.ShardFile(
                shard.path.relative_to(self.folder).as_posix(),
                split,
                sha256_of(shard.path),
                shard.path.stat().st_size,
            )
            for split, split_shards in by_split
            for shard in split_shards
        ]
        metadata = croissant.build(
            name=facts.name,
            description=self.config.description or self.config.pretty_name or facts.name,
            license=self.config.license,
            version=self.config.version,
            citation=self.config.citation,
            schema=self.schema,
            descriptions=self.field_descriptions,
            splits=self.assigner.names,
            shards=files,
        )
        (self.folder / croissant.FILE_NAME).write_text(croissant.dumps(metadata), encoding="utf-8")
        examples = [example for _, _, example in self._examples]
        context = CardContext(
            name=facts.name,
            pretty_name=self.config.pretty_name,
            description=self.config.description,
            license=self.config.license,
            task_categories=self.config.task_categories,
            features=self.features,  # type: ignore[arg-type]
            field_descriptions=self.field_descriptions,
            splits=[
                SplitInfo(
                    split,
                    f"data/{split}-*",
                    sum(s.num_rows for s in split_shards),
                    sum(s.num_bytes for s in split_shards),
                )
                for split, split_shards in by_split
            ],
            split_shares=dict(self.config.splits),
            download_size=sum(s.path.stat().st_size for s in shards),
            languages=self.languages,
            num_chars=num_chars,
            num_words=num_words,
            stages=facts.stages,
            inputs=facts.inputs,
            records_read=facts.records_read,
            records_rejected=facts.records_rejected,
            config_digest=facts.config_digest,
            library_versions=facts.library_versions,
            version=self.config.version,
            citation=self.config.citation,
            license_name=self.config.license_name,
            license_link=self.config.license_link,
            tags=list(self.config.tags),
            homepage=self.config.homepage,
            images=images,
            examples=examples,
            struct_sums={k: dict(v) for k, v in self.struct_sums.items()},
            struct_docs=dict(self.struct_docs),
            duplicate_copies=self.duplicate_copies if "duplicate_count" in self.schema.names else None,
        )
        (self.folder / "README.md").write_text(render(context), encoding="utf-8")
        if background is None:
            self.write_plots()
        return shards

    def write_plots(self) -> None:
        """Wait for the plots `finish` started and write them under images/ (once)."""
        if self._drawn is not None:
            write_plots(self.folder, self._drawn())
            self._drawn = None


Background = Callable[..., Callable[[], Any]]


def plots_digest(num_chars: np.ndarray, languages: Counter[str]) -> bytes:
    """What the plots are drawn from, in 16 bytes: what `expect_plots` compares, so that the counts are
    not held twice while the dataset is written."""
    digest = xxhash.xxh3_128()
    digest.update(np.ascontiguousarray(num_chars, dtype=np.int64).tobytes())
    digest.update(repr(sorted(languages.items(), key=str)).encode("utf-8"))
    return digest.digest()


def plotted_columns(batch: pa.RecordBatch) -> tuple[np.ndarray, list[str | None]]:
    """What the card's plots count in a batch of published records: each record's `num_chars`, and its
    `language` (none when the run has no language stage).

    `num_chars` is copied: a zero-copy view would keep the whole batch it was read with (its text too)
    alive while the counts are kept, i.e. the whole dataset in memory (1.3 GB at 1 M records)."""
    languages = batch.column("language").to_pylist() if "language" in batch.schema.names else []
    return batch.column("num_chars").to_numpy().copy(), languages
