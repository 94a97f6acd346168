"""dedup_near: remove near-duplicates, verified by exact Jaccard, keeping the best copy.

Pass 1 (`prepare`, per batch, pure): shingle hashes, MinHash signatures and LSH band keys. `collect`
keeps the priority facts in memory and spills the band keys, the shingle hashes and the ids to disk.
`decide` buckets the keys, visits the documents in priority order (quality score, then more tokens,
then input order) and removes a document only when the exact Jaccard similarity of its shingle set to
an already kept document is at least `threshold`; the removed document points at that kept document.
So a chain A~B~C never removes C for its likeness to B when B itself was removed.

Nothing is rejected here: pass 2 marks each group (a kept document and the documents matched to it)
and the `survivors` stage, after every other stage, rejects the copies as `near_duplicate` with
`duplicate_of` naming a published copy, re-choosing among the copies left when a later stage rejected
the kept one. `duplicate_count` is rewritten there to the copies actually rejected.
"""

from __future__ import annotations

import itertools
import math
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from pipeline.arrays import concatenate_freeing
from pipeline.id_spill import IdSpill
from pipeline.records import described, empty_ledger
from pipeline.stage import GlobalStage, StageConfig, StageResult
from pipeline.stages.dedup_near.lsh import (
    Banding,
    KeySpill,
    buckets,
    by_document,
    candidate_probability,
    index_type,
    optimal_bands,
)
from pipeline.stages.dedup_near.minhash import Permutations
from pipeline.stages.dedup_near.shingles import UNSPACED_SCRIPTS, Shingler
from pipeline.stages.dedup_near.verify import ShingleSpill
from pipeline.stages.survivors import NEAR, mark_fields

QUALITY_COLUMN = "quality_score"


class DedupNearConfig(StageConfig):
    """MinHash LSH candidates, each verified with the exact Jaccard similarity."""

    threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    """A document whose shingle set has at least this Jaccard similarity with a kept document is removed."""
    num_perm: int = Field(default=128, ge=2, le=1024)
    """Min-hashes per signature."""
    ngram: int = Field(default=5, ge=1, le=64)
    """Tokens per shingle: words, or characters in scripts written without spaces."""
    bands: int = Field(default=0, ge=0)
    """LSH bands; 0 (with `rows` 0) derives the shape from `threshold`, `num_perm` and the weights."""
    rows: int = Field(default=0, ge=0)
    """Rows per LSH band; set both `bands` and `rows` (`bands × rows ≤ num_perm`) or neither."""
    false_positive_weight: float = Field(default=0.05, ge=0.0)
    """Weight of false candidates when the LSH shape is derived."""
    false_negative_weight: float = Field(default=0.95, ge=0.0)
    """Weight of missed pairs when the LSH shape is derived (recall is favoured: candidates are verified)."""
    normalize_digits: bool = False
    """Map every decimal digit to 0 before shingling, so prices, dates and counts stop telling pages apart."""
    seed: int = Field(default=0, ge=0, lt=2**63)
    """Seeds the token hash, the n-gram combination, the permutations and the band keys."""

    @model_validator(mode="after")
    def _check_bands(self) -> DedupNearConfig:
        if (self.bands == 0) != (self.rows == 0):
            raise ValueError("set both dedup_near.bands and dedup_near.rows, or neither (0 = derive)")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"dedup_near.bands × rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        if self.false_positive_weight + self.false_negative_weight <= 0:
            raise ValueError("dedup_near: false_positive_weight + false_negative_weight must be > 0")
        return self


# The per-record work's temporaries take ~50 bytes per byte of text: work in slices of about this many
# bytes so a batch's peak memory does not grow with the batch size. Results do not depend on the slicing.
SLICE_BYTES = 256 * 1024


def _slices(texts: pa.Array) -> list[tuple[int, int]]:
    """[start, stop) row ranges of about SLICE_BYTES of text each (at least one row each)."""
    sizes = pc.binary_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
    ends = np.cumsum(sizes)
    bounds = [0]
    while bounds[-1] < len(sizes):
        start = bounds[-1]
        base = ends[start - 1] if start else 0
        stop = int(np.searchsorted(ends, base + SLICE_BYTES, side="right"))
        bounds.append(max(stop, start + 1))
    return list(itertools.pairwise(bounds))


@dataclass(frozen=True)
class Prepared:
    keys: np.ndarray  # (documents, bands) uint64 LSH bucket keys
    hashes: np.ndarray  # uint64 shingle hashes, document i's at offsets[i]:offsets[i + 1]
    offsets: np.ndarray  # int64
    tokens: np.ndarray  # int64 tokens per document
    quality: np.ndarray | None  # float64, NaN where missing; None when the batch has no quality column


@dataclass
class _Collected:
    spill: ShingleSpill
    keys: KeySpill
    tokens: list[np.ndarray]
    quality: list[np.ndarray]
    ids: IdSpill


class DedupNear(GlobalStage):
    name = "dedup_near"
    config_class = DedupNearConfig
    config: DedupNearConfig
    # apply() reads the decision at its records' positions: it runs in the workers.
    apply_in_workers = True
    # Modules the local pool's fork server imports before forking workers (see warm.py).
    worker_preload = ("pipeline.stages.dedup_near.warm",)

    def __init__(self, config: DedupNearConfig) -> None:
        super().__init__(config)
        c = config
        if c.bands:
            self.bands, self.rows = c.bands, c.rows
        else:
            self.bands, self.rows = optimal_bands(
                c.threshold, c.num_perm, c.false_positive_weight, c.false_negative_weight
            )
        self._shingler = Shingler(c.ngram, c.seed, c.normalize_digits)
        self._permutations = Permutations(c.num_perm, c.seed)
        self._banding = Banding(self.bands, self.rows, c.seed)
        self._collected: _Collected | None = None
        self._position = 0
        self._documents = 0
        self._duplicate_of: np.ndarray = np.empty(0, dtype=np.int64)
        # The removed documents' positions (ascending) and similarities, for their ledger details.
        self._removed: np.ndarray = np.empty(0, dtype=np.int64)
        self._jaccard: np.ndarray = np.empty(0)
        self._duplicate_count: np.ndarray = np.empty(0, dtype=np.int64)
        # The kept documents that have copies: their positions (ascending) and ids, read back from the spill.
        self._target_positions: np.ndarray = np.empty(0, dtype=np.int64)
        self._target_ids: pa.Array = pa.array([], pa.string())
        self._bytes_per_document = 0
        # The runner records this dict in run.json and the card; decide() adds the run's counts to it.
        self._notes: dict[str, Any] = {
            "threshold": c.threshold,
            "num_perm": c.num_perm,
            "ngram": c.ngram,
            "bands": self.bands,
            "rows": self.rows,
            "seed": c.seed,
            "normalize_digits": c.normalize_digits,
            "candidate_probability_at_threshold": round(candidate_probability(c.threshold, self.bands, self.rows), 4),
            "shingles": f"word {c.ngram}-grams; character {c.ngram}-grams in {UNSPACED_SCRIPTS}",
            "hashes": "xxh3_64 tokens, seeded n-gram combine + splitmix64; minhash (a*x+b) mod 2^61-1",
            "verification": "exact Jaccard of shingle-hash sets for every candidate pair",
            "priority": f"{QUALITY_COLUMN} (if present), then more tokens, then input order",
        }

    def __getstate__(self) -> dict[str, Any]:
        # Workers only need the parameters for prepare(); the central state (an open file) stays here.
        state = self.__dict__.copy()
        state["_collected"] = None
        return state

    def output_fields(self) -> list[pa.Field]:
        return [
            described(
                "duplicate_count",
                pa.int64(),
                "Number of near-duplicate documents removed by dedup_near in favour of this one "
                "(their ledger rows name it in duplicate_of).",
            )
        ]

    def card_notes(self) -> dict[str, Any]:
        return self._notes

    # -- pass 1 ------------------------------------------------------------------------------------

    def prepare(self, batch: pa.RecordBatch) -> Prepared:
        texts = batch.column("text")
        keys, hashes, counts, tokens = [], [], [], []
        for start, stop in _slices(texts):
            shingled = self._shingler.shingle(texts.slice(start, stop - start))
            signatures = self._permutations.signatures(shingled.hashes, shingled.offsets)
            keys.append(self._banding.keys(signatures))
            hashes.append(shingled.hashes)
            counts.append(np.diff(shingled.offsets))
            tokens.append(shingled.tokens)
        offsets = np.zeros(batch.num_rows + 1, dtype=np.int64)
        if counts:
            np.cumsum(np.concatenate(counts), out=offsets[1:])
        quality = None
        if QUALITY_COLUMN in batch.schema.names:
            column = pc.cast(batch.column(QUALITY_COLUMN), pa.float64())
            quality = column.to_numpy(zero_copy_only=False).astype(np.float64)
        return Prepared(
            keys=np.concatenate(keys) if keys else np.empty((0, self.bands), dtype=np.uint64),
            hashes=np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64),
            offsets=offsets,
            tokens=np.concatenate(tokens) if tokens else np.empty(0, dtype=np.int64),
            quality=quality,
        )

    def collect(self, batch: pa.RecordBatch, prepared: Prepared) -> None:
        if self._collected is None:
            self._collected = _Collected(ShingleSpill(), KeySpill(self.bands), [], [], IdSpill())
        c = self._collected
        c.spill.append(prepared.hashes, prepared.offsets)
        c.keys.append(prepared.keys)
        c.tokens.append(prepared.tokens.astype(np.int32))
        quality = prepared.quality
        if quality is None:
            quality = np.full(batch.num_rows, np.nan)
        c.quality.append(quality)
        c.ids.append(batch.column("id"))

    # -- the decision ------------------------------------------------------------------------------

    def decide(self) -> None:
        c = self._collected
        if c is None:
            return
        spill = c.spill
        spill.finish()
        keys = c.keys
        tokens = concatenate_freeing(c.tokens, np.int32)
        quality = concatenate_freeing(c.quality, np.float64)
        documents = len(tokens)
        held = tokens.nbytes + quality.nbytes + spill.memory_bytes

        # The priority first, so that its two arrays are gone before the buckets are sorted. Missing
        # quality sorts last; higher quality, then more tokens, then earlier input first: the keys are
        # negated in place and lexsort is stable, so input order needs no array of its own.
        np.negative(quality, out=quality)
        quality[np.isnan(quality)] = np.inf
        np.negative(tokens, out=tokens)
        order = np.lexsort((tokens, quality))
        del tokens, quality
        rank_array = np.empty(documents, dtype=index_type(documents))
        rank_array[order] = np.arange(documents, dtype=rank_array.dtype)
        del order

        found = buckets(keys)
        keys.close()
        # Per document, the buckets it is in. The memberships are the decision's largest arrays, so
        # they are int32 where that holds them.
        doc_starts, doc_buckets = by_document(found, documents)
        del found
        index = doc_starts.dtype.type
        in_bucket = np.flatnonzero(np.diff(doc_starts) > 0)
        # A flat array, not a list: a Python int per document visited stayed in the heap after decide.
        code = "i" if index == np.int32 else "q"  # C int is 32 bits on every platform we support
        visit: array[int] = array(code)
        # From the arrays' own bytes (a uint8 view): tobytes() would be one more copy of each.
        visit.frombytes(in_bucket[np.argsort(rank_array[in_bucket], kind="stable")].astype(index).view(np.uint8))
        del in_bucket

        # Kept after the decision (with the copy counts) and sent to the workers: int32 when it fits too.
        duplicate_of = np.full(documents, -1, dtype=index)
        # The removed documents and their similarity, in the order they are found: flat arrays, as a
        # dict (a Python int and float per entry) was about 100 bytes per removed document.
        removed_docs: array[int] = array(code)
        removed_similarity: array[float] = array("d")
        # The kept documents of each bucket, as linked lists in flat integer arrays: a dict of Python
        # lists (one per bucket, an object per entry) was most of the main process's growth at 1 M
        # documents. head[bucket] is the bucket's last kept entry; entry e names kept_doc[e] and the
        # bucket's previous entry kept_next[e] (-1 ends the list).
        head = array(code, [-1]) * (int(doc_buckets.max()) + 1 if len(doc_buckets) else 0)
        kept_doc: array[int] = array(code)
        kept_next: array[int] = array(code)
        rank: array[int] = array(code)
        rank.frombytes(rank_array.astype(index, copy=False).view(np.uint8))
        del rank_array
        verified = 0
        threshold = self.config.threshold
        for doc in visit:
            own = doc_buckets[doc_starts[doc] : doc_starts[doc + 1]].tolist()
            neighbours: set[int] = set()
            for bucket in own:
                entry = head[bucket]
                while entry >= 0:
                    neighbours.add(kept_doc[entry])
                    entry = kept_next[entry]
            # Earlier-visited kept documents, best first: the first one verified similar enough wins.
            for other in sorted(neighbours, key=rank.__getitem__):
                similarity = spill.jaccard(doc, other)
                verified += 1
                if similarity >= threshold:
                    duplicate_of[doc] = other
                    removed_docs.append(doc)
                    removed_similarity.append(similarity)
                    break
            if duplicate_of[doc] < 0:
                for bucket in own:
                    kept_doc.append(doc)
                    kept_next.append(head[bucket])
                    head[bucket] = len(kept_doc) - 1
        spill.close()
        documents_in_buckets = len(visit)
        del visit, head, kept_doc, kept_next, rank, doc_buckets, doc_starts

        removed = duplicate_of >= 0
        self._duplicate_of = duplicate_of
        # Only the removed documents' similarities are kept, for their ledger details.
        self._removed = np.flatnonzero(removed)
        # In the order of self._removed (ascending positions): the documents found, sorted.
        found_order = np.argsort(np.frombuffer(removed_docs, dtype=index), kind="stable")
        self._jaccard = np.frombuffer(removed_similarity, dtype=np.float64)[found_order]
        del removed_docs, removed_similarity, found_order
        self._duplicate_count = np.bincount(duplicate_of[removed], minlength=documents).astype(index)
        self._target_positions = np.unique(duplicate_of[removed])
        self._target_ids = c.ids.take(self._target_positions)
        c.ids.close()
        self._collected = None
        self._documents = documents
        self._position = 0
        held += duplicate_of.nbytes + self._removed.nbytes + self._jaccard.nbytes + self._duplicate_count.nbytes
        held += self._target_positions.nbytes + self._target_ids.nbytes
        self._bytes_per_document = math.ceil(held / max(documents, 1))
        self._notes.update(
            {
                "documents_in_buckets": documents_in_buckets,
                "pairs_verified": verified,
                "removed": int(removed.sum()),
                "shingle_sets_read": spill.reads,
            }
        )

    # -- pass 2 ------------------------------------------------------------------------------------

    def seek(self, position: int) -> None:
        self._position = position

    def apply(self, batch: pa.RecordBatch) -> StageResult:
        n = batch.num_rows
        start = self._position
        self._position += n
        targets = self._duplicate_of[start : start + n]
        counts = self._duplicate_count[start : start + n]
        # The similarities of this batch's removed documents, by row.
        low, high = np.searchsorted(self._removed, [start, start + n])
        rows = (self._removed[low:high] - start).tolist()
        similarities: dict[int, float] = dict(zip(rows, self._jaccard[low:high].tolist(), strict=True))
        ids = batch.column("id").to_pylist()
        groups: list[str | None] = []
        details: list[str | None] = []
        for row, target in enumerate(targets.tolist()):
            if target >= 0:
                kept_id = self._target_ids[int(np.searchsorted(self._target_positions, target))].as_py()
                groups.append(kept_id)
                details.append(
                    f"Jaccard {similarities[row]:.4f} >= dedup_near.threshold={self.config.threshold} "
                    f"with kept document {kept_id} ({self.config.ngram}-token shingles)"
                )
            else:
                groups.append(ids[row] if counts[row] > 0 else None)
                details.append(None)
        group_field, detail_field = mark_fields(NEAR)
        annotated = (
            batch.append_column(self.output_fields()[0], pa.array(counts, pa.int64()))
            .append_column(group_field, pa.array(groups, pa.string()))
            .append_column(detail_field, pa.array(details, pa.string()))
        )
        return StageResult(kept=annotated, rejected=empty_ledger())

    def release(self) -> None:
        self._duplicate_of = np.empty(0, dtype=np.int64)
        self._duplicate_count = np.empty(0, dtype=np.int64)
        self._removed = np.empty(0, dtype=np.int64)
        self._jaccard = np.empty(0)
        self._target_positions = np.empty(0, dtype=np.int64)
        self._target_ids = pa.array([], pa.string())

    def bytes_per_document(self) -> int:
        return self._bytes_per_document
