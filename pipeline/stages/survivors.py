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

import pyarrow as pa

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
class _Member:
    position: int
    id: str
    groups: list[str | None]
    details: list[str | None]
    quality: float


class Survivors(GlobalStage):
    name = "survivors"
    config_class = SurvivorsConfig
    config: SurvivorsConfig
    # apply() reads only the decided rejections by position: it runs in the workers (or Ray nodes).
    apply_in_workers = True

    def __init__(self, config: SurvivorsConfig) -> None:
        super().__init__(config)
        self.marks = [MARKS[name] for name in config.stages]
        self._members: list[_Member] = []
        self._position = 0
        # position -> (marks index, detail, kept id) for every rejected copy
        self._rejected: dict[int, tuple[int, str, str]] = {}
        self._near_counts: dict[int, int] = {}
        self._notes: dict[str, int] = {}
        self._bytes_per_document = 0

    def card_notes(self) -> dict[str, object]:
        return {"dedup_stages": self.config.stages, **self._notes}

    def collect(self, batch: pa.RecordBatch, prepared: object) -> None:
        names = batch.schema.names
        groups = [
            batch.column(m.group_column).to_pylist() if m.group_column in names else [None] * batch.num_rows
            for m in self.marks
        ]
        details = [
            batch.column(m.detail_column).to_pylist() if m.detail_column in names else [None] * batch.num_rows
            for m in self.marks
        ]
        quality = batch.column(QUALITY_COLUMN).to_pylist() if QUALITY_COLUMN in names else [None] * batch.num_rows
        ids = None
        for row in range(batch.num_rows):
            # Only members of a group are held: memory grows with the copies, not with the records.
            row_groups = [g[row] for g in groups]
            if any(g is not None for g in row_groups):
                if ids is None:
                    ids = batch.column("id").to_pylist()
                value = quality[row]
                self._members.append(
                    _Member(
                        self._position + row,
                        ids[row],
                        row_groups,
                        [d[row] for d in details],
                        -math.inf if value is None or math.isnan(value) else float(value),
                    )
                )
        self._position += batch.num_rows

    def decide(self) -> None:
        # Held between the passes: the group members' strings and ~120 bytes of Python objects each.
        held = sum(120 + len(m.id) + sum(len(x or "") for x in (*m.groups, *m.details)) for m in self._members)
        self._bytes_per_document = math.ceil(held / self._position) if self._position else 0
        rejected: dict[int, tuple[int, str, str]] = {}
        counts: dict[int, int] = {}
        rechosen = 0
        for index, marks in enumerate(self.marks):
            groups: dict[str, list[_Member]] = {}
            for member in self._members:
                group = member.groups[index]
                if group is not None and member.position not in rejected:
                    groups.setdefault(group, []).append(member)
            for first_choice, members in groups.items():
                kept = next((m for m in members if m.id == first_choice), None)
                if kept is None:
                    rechosen += 1
                    if marks.prefer == "quality":
                        kept = min(members, key=lambda m: (-m.quality, m.position))
                    else:
                        kept = members[0]
                for member in members:
                    if member is kept:
                        continue
                    detail = member.details[index] or f"a copy of {first_choice}"
                    if kept.id != first_choice:
                        detail += (
                            f"; {first_choice} was rejected by a later stage, so the copy kept is {kept.id}, "
                            f"which the same stage also grouped with {first_choice}"
                        )
                    rejected[member.position] = (index, detail, kept.id)
        # A copy kept by one stage may be rejected by a later one in run order (near before exact): its
        # copies then point at what it points at, which is a copy of it and is kept.
        position_of = {m.id: m.position for m in self._members}
        for position, (index, detail, kept_id) in list(rejected.items()):
            final = kept_id
            while position_of.get(final) in rejected:
                final = rejected[position_of[final]][2]
            if final != kept_id:
                detail += f"; {kept_id} is itself a copy of {final}, which is kept"
                rejected[position] = (index, detail, final)
        for index, _, kept_id in rejected.values():
            if self.marks[index].count_column:
                kept_position = position_of[kept_id]
                counts[kept_position] = counts.get(kept_position, 0) + 1
        self._rejected = rejected
        self._near_counts = counts
        self._members = []
        self._position = 0
        self._notes = {"copies_rejected": len(rejected), "groups_rechosen": rechosen}

    def seek(self, position: int) -> None:
        self._position = position

    def apply(self, batch: pa.RecordBatch) -> StageResult:
        start = self._position
        self._position += batch.num_rows
        mask = [start + row in self._rejected for row in range(batch.num_rows)]
        chosen = [self._rejected[start + row] for row in range(batch.num_rows) if mask[row]]
        rows = rejections(
            batch,
            mask,
            "",
            [self.marks[i].reason for i, _, _ in chosen],
            [detail for _, detail, _ in chosen],
            [kept for _, _, kept in chosen],
        )
        stage_column = pa.array([self.marks[i].stage for i, _, _ in chosen], pa.string())
        rows = pa.RecordBatch.from_arrays(
            [stage_column if name == "stage" else rows.column(name) for name in LEDGER_SCHEMA.names],
            schema=LEDGER_SCHEMA,
        )
        kept = batch.filter(pa.array([not m for m in mask], pa.bool_()))
        for marks in self.marks:
            if marks.count_column and marks.count_column in kept.schema.names:
                positions = [start + row for row in range(batch.num_rows) if not mask[row]]
                values = pa.array([self._near_counts.get(p, 0) for p in positions], pa.int64())
                index = kept.schema.get_field_index(marks.count_column)
                kept = kept.set_column(index, kept.schema.field(index), values)
        kept = kept.drop_columns([name for name in kept.schema.names if name in INTERNAL])
        return StageResult(kept=kept, rejected=rows)

    def bytes_per_document(self) -> int:
        """Averaged over all records, though only the copies are held: it grows with the share of copies."""
        return self._bytes_per_document
