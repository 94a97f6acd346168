"""survivors: the copies the dedup stages found, resolved after every other stage has had its say.

`dedup_exact` and `dedup_near` do not reject anything where they run: they group copies and mark each
record of a group with the group's first choice (an internal column). Rejecting there would let a later
stage (language, quality, validate) reject the copy that was kept, and the ledger would name, as
`duplicate_of`, a record that is not in the dataset: the content lost on both sides of the join.

This stage runs last, after validate, when every whole-document decision is made. For each dedup
stage, in run order, and each of its groups, among the copies still present: the first choice is kept
if it is still there; otherwise the copy that stage would have preferred among those left (exact: the
first in input order; near: the highest `quality_score`, then the first in input order) is kept
instead. The other copies are rejected with that stage's name and reason, and `duplicate_of` names the
kept copy, which is published, whatever the order of the stages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.id_spill import IdSpill
from pipeline.keys import key_of
from pipeline.records import LEDGER_SCHEMA, rejections
from pipeline.stage import GlobalStage, StageConfig, StageResult


@dataclass(frozen=True)
class Marks:
    """The internal columns a dedup stage appends, and how its groups pick a copy when re-choosing."""

    stage: str
    reason: str
    # The id of the group's first choice, on every member of a group of two or more; null otherwise.
    group_column: str
    # Why the member is a copy of the first choice (null on the first choice itself).
    detail_column: str
    # "first": earliest in input order; "quality": highest quality_score, then earliest.
    prefer: str
    # A published column counting the copies removed in favour of the record, rewritten here (or "").
    count_column: str = ""


EXACT = Marks("dedup_exact", "exact_duplicate", "_dedup_exact_group", "_dedup_exact_detail", "first")
NEAR = Marks("dedup_near", "near_duplicate", "_dedup_near_group", "_dedup_near_detail", "quality", "duplicate_count")
MARKS = {m.stage: m for m in (EXACT, NEAR)}
INTERNAL = frozenset(c for m in MARKS.values() for c in (m.group_column, m.detail_column))
QUALITY_COLUMN = "quality_score"


def mark_fields(marks: Marks) -> list[pa.Field]:
    return [pa.field(marks.group_column, pa.string()), pa.field(marks.detail_column, pa.string())]


class SurvivorsConfig(StageConfig):
    # The dedup stages of the run, in run order.
    stages: list[str]


@dataclass
class _Batch:
    """What pass 1 keeps of a batch's group members (rows in a group of any dedup stage): flat arrays."""

    positions: np.ndarray  # int64, the members' positions in the stage's input
    keys: np.ndarray  # (members, stages, 2) uint64: each stage's group id hashed (128 bits), 0 if none
    grouped: np.ndarray  # (members, stages) bool: in a group of that stage
    first: np.ndarray  # (members, stages) bool: the member is that group's first choice
    quality: np.ndarray  # float64, -inf where missing


class Survivors(GlobalStage):
    name = "survivors"
    config_class = SurvivorsConfig
    config: SurvivorsConfig
    # apply() reads only the decided rejections by position: it runs in the workers (or Ray nodes).
    apply_in_workers = True

    def __init__(self, config: SurvivorsConfig) -> None:
        super().__init__(config)
        self.marks = [MARKS[name] for name in config.stages]
        # Pass 1 holds the group members only, in flat arrays (about 50 bytes each), and their ids on
        # disk: Python objects per member were hundreds of bytes each and grew the main process with the
        # copies (most of a run's growth after dedup_near at 1 M documents).
        self._batches: list[_Batch] = []
        self._ids: IdSpill | None = None
        self._position = 0
        # The decision, by position (ascending) of each rejected copy: the stage whose group rejected it,
        # the kept copy (an index into _kept_ids), the copy that stage had kept when a later stage
        # rejected it in turn (an index, -1 if none), and whether its group's first choice was gone.
        self._rejected_positions = np.empty(0, dtype=np.int64)
        self._rejected_stage = np.empty(0, dtype=np.int8)
        self._rejected_kept = np.empty(0, dtype=np.int64)
        self._rejected_via = np.empty(0, dtype=np.int64)
        self._rejected_rechosen = np.empty(0, dtype=bool)
        self._kept_ids: pa.Array = pa.array([], pa.string())
        # Copies rejected in favour of each kept record, for the stages with a count column.
        self._count_positions = np.empty(0, dtype=np.int64)
        self._count_values = np.empty(0, dtype=np.int64)
        self._notes: dict[str, int] = {}
        self._bytes_per_document = 0

    def __getstate__(self) -> dict[str, object]:
        # Workers only apply the decision; the id spill (an open file) stays with the main process.
        state = self.__dict__.copy()
        state["_ids"] = None
        state["_batches"] = []
        return state

    def card_notes(self) -> dict[str, object]:
        return {"dedup_stages": self.config.stages, **self._notes}

    def collect(self, batch: pa.RecordBatch, prepared: object) -> None:
        names = batch.schema.names
        stages = len(self.marks)
        grouped = np.zeros((batch.num_rows, stages), dtype=bool)
        groups: list[list[str | None]] = []
        for index, marks in enumerate(self.marks):
            column = batch.column(marks.group_column) if marks.group_column in names else None
            if column is None:
                groups.append([None] * batch.num_rows)
                continue
            grouped[:, index] = pc.is_valid(column).to_numpy(zero_copy_only=False)
            groups.append(column.to_pylist())
        # Only members of a group are held: memory grows with the copies, not with the records.
        rows = np.flatnonzero(grouped.any(axis=1))
        if not len(rows):
            self._position += batch.num_rows
            return
        ids = batch.column("id").take(pa.array(rows))
        id_values = ids.to_pylist()
        keys = np.zeros((len(rows), stages, 2), dtype=np.uint64)
        first = np.zeros((len(rows), stages), dtype=bool)
        for index in range(stages):
            for member, row in enumerate(rows.tolist()):
                group = groups[index][row]
                if group is not None:
                    keys[member, index] = np.frombuffer(key_of(group), dtype=">u8")
                    first[member, index] = group == id_values[member]
        if QUALITY_COLUMN in names:
            values = pc.cast(batch.column(QUALITY_COLUMN), pa.float64()).take(pa.array(rows))
            quality = values.to_numpy(zero_copy_only=False).astype(np.float64)
            quality[np.isnan(quality)] = -np.inf
        else:
            quality = np.full(len(rows), -np.inf)
        if self._ids is None:
            self._ids = IdSpill()
        self._ids.append(ids)
        self._batches.append(_Batch(self._position + rows, keys, grouped[rows], first, quality))
        self._position += batch.num_rows

    def decide(self) -> None:
        batches, self._batches = self._batches, []
        stages = len(self.marks)
        positions = np.concatenate([b.positions for b in batches]) if batches else np.empty(0, np.int64)
        keys = np.concatenate([b.keys for b in batches]) if batches else np.empty((0, stages, 2), np.uint64)
        grouped = np.concatenate([b.grouped for b in batches]) if batches else np.empty((0, stages), bool)
        first = np.concatenate([b.first for b in batches]) if batches else np.empty((0, stages), bool)
        quality = np.concatenate([b.quality for b in batches]) if batches else np.empty(0)
        del batches
        members = len(positions)
        held = positions.nbytes + keys.nbytes + grouped.nbytes + first.nbytes + quality.nbytes
        self._bytes_per_document = math.ceil(held / self._position) if self._position else 0

        # Per member (an index in position order): the stage that rejected it (-1: none) and the member
        # kept instead, then whether that group's first choice was gone (re-chosen).
        stage_of = np.full(members, -1, dtype=np.int8)
        kept_of = np.full(members, -1, dtype=np.int64)
        rechosen_of = np.zeros(members, dtype=bool)
        rechosen = 0
        for index, marks in enumerate(self.marks):
            candidates = np.flatnonzero(grouped[:, index] & (stage_of < 0))
            if not len(candidates):
                continue
            high, low = keys[candidates, index, 0], keys[candidates, index, 1]
            # The kept member of each group sorts first in it: its first choice if still there, else the
            # stage's preference (highest quality, then earliest; or earliest), position breaking ties.
            preference = -quality[candidates] if marks.prefer == "quality" else np.zeros(len(candidates))
            order = np.lexsort((candidates, preference, ~first[candidates, index], low, high))
            ordered = candidates[order]
            new_group = np.ones(len(ordered), dtype=bool)
            new_group[1:] = (high[order][1:] != high[order][:-1]) | (low[order][1:] != low[order][:-1])
            group_of = np.cumsum(new_group) - 1
            kept = ordered[new_group][group_of]
            without_first = ~first[ordered[new_group], index]
            rechosen += int(np.count_nonzero(without_first))
            copies = ordered != kept
            stage_of[ordered[copies]] = index
            kept_of[ordered[copies]] = kept[copies]
            rechosen_of[ordered[copies]] = without_first[group_of][copies]
        del keys, grouped, first, quality
        rejected = np.flatnonzero(stage_of >= 0)
        # A copy kept by one stage may be rejected by a later one in run order (near before exact): its
        # copies then point at what it points at, which is a copy of it and is kept.
        final = kept_of[rejected]
        while True:
            onward = stage_of[final] >= 0
            if not onward.any():
                break
            final[onward] = kept_of[final[onward]]
        via = np.where(final != kept_of[rejected], kept_of[rejected], -1)
        counted = np.array([bool(m.count_column) for m in self.marks] or [False])[stage_of[rejected]]
        count_positions, count_values = np.unique(final[counted], return_counts=True)
        # The ids of the kept copies and of the copies kept before them, read back from the spill.
        named = np.unique(np.concatenate([final, via[via >= 0]]))
        self._kept_ids = self._ids.take(named) if self._ids is not None else pa.array([], pa.string())
        if self._ids is not None:
            self._ids.close()
            self._ids = None
        self._rejected_positions = positions[rejected]
        self._rejected_stage = stage_of[rejected]
        self._rejected_kept = np.searchsorted(named, final)
        self._rejected_via = np.where(via >= 0, np.searchsorted(named, via), -1)
        self._rejected_rechosen = rechosen_of[rejected]
        self._count_positions = positions[count_positions]
        self._count_values = count_values.astype(np.int64)
        self._position = 0
        self._notes = {"copies_rejected": len(rejected), "groups_rechosen": rechosen}

    def seek(self, position: int) -> None:
        self._position = position

    def apply(self, batch: pa.RecordBatch) -> StageResult:
        start = self._position
        self._position += batch.num_rows
        low, high = np.searchsorted(self._rejected_positions, [start, start + batch.num_rows])
        rows = (self._rejected_positions[low:high] - start).tolist()
        mask = np.zeros(batch.num_rows, dtype=bool)
        mask[rows] = True
        names = batch.schema.names
        columns: dict[str, list[str | None]] = {}
        for marks in self.marks:
            for name in (marks.group_column, marks.detail_column):
                if name in names and name not in columns:
                    columns[name] = batch.column(name).take(pa.array(rows, pa.int64())).to_pylist()
        stages, reasons, details, kept_ids = [], [], [], []
        for i in range(high - low):
            marks = self.marks[int(self._rejected_stage[low + i])]
            first_choice = columns[marks.group_column][i]
            kept_id = self._kept_ids[int(self._rejected_kept[low + i])].as_py()
            detail = columns.get(marks.detail_column, [None] * len(rows))[i] or f"a copy of {first_choice}"
            via = int(self._rejected_via[low + i])
            was_kept = self._kept_ids[via].as_py() if via >= 0 else kept_id
            if self._rejected_rechosen[low + i]:
                detail += (
                    f"; {first_choice} was rejected by a later stage, so the copy kept is {was_kept}, "
                    f"which the same stage also grouped with {first_choice}"
                )
            if via >= 0:
                detail += f"; {was_kept} is itself a copy of {kept_id}, which is kept"
            stages.append(marks.stage)
            reasons.append(marks.reason)
            details.append(detail)
            kept_ids.append(kept_id)
        rows_out = rejections(batch, mask.tolist(), "", reasons, details, kept_ids)
        stage_column = pa.array(stages, pa.string())
        ledger = pa.RecordBatch.from_arrays(
            [stage_column if name == "stage" else rows_out.column(name) for name in LEDGER_SCHEMA.names],
            schema=LEDGER_SCHEMA,
        )
        kept = batch.filter(pa.array(~mask))
        for marks in self.marks:
            if marks.count_column and marks.count_column in kept.schema.names:
                positions = start + np.flatnonzero(~mask)
                where = np.searchsorted(self._count_positions, positions)
                found = where < len(self._count_positions)
                found[found] = self._count_positions[where[found]] == positions[found]
                values = np.zeros(len(positions), dtype=np.int64)
                values[found] = self._count_values[where[found]]
                index = kept.schema.get_field_index(marks.count_column)
                kept = kept.set_column(index, kept.schema.field(index), pa.array(values, pa.int64()))
        kept = kept.drop_columns([name for name in kept.schema.names if name in INTERNAL])
        return StageResult(kept=kept, rejected=ledger)

    def release(self) -> None:
        self._rejected_positions = np.empty(0, dtype=np.int64)
        self._rejected_stage = np.empty(0, dtype=np.int8)
        self._rejected_kept = np.empty(0, dtype=np.int64)
        self._rejected_via = np.empty(0, dtype=np.int64)
        self._rejected_rechosen = np.empty(0, dtype=bool)
        self._kept_ids = pa.array([], pa.string())
        self._count_positions = np.empty(0, dtype=np.int64)
        self._count_values = np.empty(0, dtype=np.int64)

    def bytes_per_document(self) -> int:
        """Averaged over all records, though only the copies are held: it grows with the share of copies."""
        return self._bytes_per_document
