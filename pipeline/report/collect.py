"""What the report shows, gathered from a finished run's folders in bounded memory and time.

Inputs: the report folder (`run.json`, `rejected.parquet`, `removed_lines.parquet`) and the published
dataset folder. Every file is streamed in batches; per group (reason, rule) only a fixed number of sample
records is held, chosen by a hash of the record id so that the same run always shows the same samples,
whatever the worker count or batch size. Counts are exact (tallied over every row); the quality plots
hold one float per quality rejection and a fixed number of bins per rule.

The result is a plain dict (JSON-serialisable): `pipeline inspect --format json` prints it and the HTML
report renders it.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from array import array
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.errors import UsageError
from pipeline.parquet_read import open_parquet, read_batches
from pipeline.report.textsafe import cap, word_diff

BATCH_ROWS = 2048
SAMPLES = 5  # per rejection reason and per line rule
PAIRS = 8  # near-duplicate pairs shown side by side
TEXT_START = 300  # characters of a sample's text shown
LINE_CHARS = 300
DIFF_CHARS = 20_000  # characters of each near-duplicate text kept for the diff
DIFF_WORDS = 1_500
BINS = 40

_QUALITY_VALUE = re.compile(r"^\w+=(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?) ")
_JACCARD = re.compile(r"^Jaccard (\d+(?:\.\d+)?)")


def rank(key: str) -> int:
    """Deterministic sampling order: records with the smallest hash of their id are the samples."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


class Sampler:
    """The `k` items with the smallest rank seen so far (a bounded max-heap)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self._heap: list[tuple[int, str, int, dict[str, Any]]] = []
        self._seen = 0

    def wants(self, key_rank: int) -> bool:
        return len(self._heap) < self.k or -self._heap[0][0] > key_rank

    def add(self, key_rank: int, key: str, item: dict[str, Any]) -> None:
        # The sequence number breaks ties between equal keys (repeated ids) by order of appearance.
        self._seen += 1
        entry = (-key_rank, key, -self._seen, item)
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, entry)
        elif entry > self._heap[0]:
            heapq.heapreplace(self._heap, entry)

    def items(self) -> list[dict[str, Any]]:
        return [item for _, _, _, item in sorted(self._heap, key=lambda e: (-e[0], e[1], -e[2]))]


def locate(folder: Path) -> tuple[Path, Path]:
    """(report folder, dataset folder) for either one of them, e.g. dist/sample or dist/sample.report."""
    folder = Path(folder)
    if (folder / "run.json").is_file():
        report = folder
        dataset = folder.with_name(folder.name.removesuffix(".report"))
    elif folder.is_dir():
        dataset = folder
        report = folder.with_name(f"{folder.name}.report")
    else:
        raise UsageError(
            f"{folder} is not a folder; pass a dataset folder (dist/NAME) or its report (dist/NAME.report)"
        )
    if not (report / "run.json").is_file():
        raise UsageError(
            f"{folder}: no run report found ({report / 'run.json'} is missing); pass a folder written by `pipeline run`"
        )
    return report, dataset


def read_run(report: Path) -> dict[str, Any]:
    try:
        return json.loads((report / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{report / 'run.json'}: cannot read it ({exc}); rerun `pipeline run` to rewrite it") from exc


def iter_batches(path: Path, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    if not path.is_file():
        return
    parquet = open_parquet(path)
    names = parquet.schema_arrow.names
    wanted = None if columns is None else [c for c in columns if c in names]
    yield from read_batches(parquet, BATCH_ROWS, wanted)


def published_files(dataset: Path) -> list[Path]:
    return sorted((dataset / "data").rglob("*.parquet")) if (dataset / "data").is_dir() else []


def iter_published(dataset: Path, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    for path in published_files(dataset):
        yield from iter_batches(path, columns)


def _quality_rules() -> dict[str, Any]:
    from pipeline.stages.quality import RULES

    return {rule.name: rule for rule in RULES}


# -- the ledger --------------------------------------------------------------------------------------


def _scan_ledger(report: Path, stage_order: list[str]) -> dict[str, Any]:
    # The text column is not read here: the samples' texts are fetched afterwards (find_rows).
    counts: Counter[tuple[str, str]] = Counter()
    samplers: dict[tuple[str, str], Sampler] = {}
    quality_values: dict[str, array] = {}
    near = Sampler(PAIRS)
    columns = ["id", "source", "stage", "reason", "detail", "duplicate_of"]
    for batch in iter_batches(report / "rejected.parquet", columns):
        rows = {name: batch.column(name).to_pylist() for name in columns}
        for i, (rid, stage, reason, detail) in enumerate(
            zip(rows["id"], rows["stage"], rows["reason"], rows["detail"], strict=True)
        ):
            group = (stage, reason)
            counts[group] += 1
            if reason.startswith("quality:"):
                match = _QUALITY_VALUE.match(detail)
                if match:
                    quality_values.setdefault(reason.removeprefix("quality:"), array("d")).append(float(match[1]))
            r = rank(rid)
            sampler = samplers.get(group) or samplers.setdefault(group, Sampler(SAMPLES))
            if sampler.wants(r):
                item = {
                    "id": rid,
                    "source": rows["source"][i],
                    "stage": stage,
                    "detail": detail,
                    "duplicate_of": rows["duplicate_of"][i],
                }
                sampler.add(r, rid, item)
            if reason == "near_duplicate" and near.wants(r):
                jaccard = _JACCARD.match(detail)
                item = {
                    "id": rid,
                    "source": rows["source"][i],
                    "stage": stage,
                    "survivor": rows["duplicate_of"][i],
                    "jaccard": float(jaccard[1]) if jaccard else None,
                    "detail": detail,
                }
                near.add(r, rid, item)
    position = {name: i for i, name in enumerate(stage_order)}
    groups = sorted(counts, key=lambda g: (position.get(g[0], len(position)), -counts[g], g[1]))
    rejections = [
        {"stage": s, "reason": r, "count": counts[(s, r)], "samples": samplers[(s, r)].items()} for s, r in groups
    ]
    near_items = near.items()
    sampled = [item for group in rejections for item in group["samples"]] + near_items
    texts = _ledger_texts(report, sampled)
    for group in rejections:
        for item in group["samples"]:
            item["text"] = (texts.get((item["id"], item.pop("stage"))) or "")[:TEXT_START] or None
    for item in near_items:
        item["text"] = texts.get((item["id"], item.pop("stage"))) or ""
    return {"rejections": rejections, "quality_values": quality_values, "near": near_items}


def _ledger_texts(report: Path, items: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """Ledger text (capped) of each sampled (id, stage)."""
    wanted = {(item["id"], item["stage"]) for item in items}
    texts: dict[tuple[str, str], str] = {}
    for hits in find_rows(report / "rejected.parquet", {rid for rid, _ in wanted}, ["stage", "text"]):
        for rid, stage, text in zip(*(hits.column(n).to_pylist() for n in ("id", "stage", "text")), strict=True):
            if (rid, stage) in wanted and (rid, stage) not in texts:
                texts[(rid, stage)] = (text or "")[:DIFF_CHARS]
    return texts


def find_rows(path: Path, ids: set[str], columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The rows of Parquet file `path` whose id is in `ids`.

    Only the `id` column is read everywhere; the other columns only of the row groups holding a match,
    batch by batch, so looking up a few records in a large file costs neither its text nor its memory.
    """
    if not path.is_file() or not ids:
        return
    keys = pa.array(sorted(ids), pa.string())
    parquet = open_parquet(path)
    wanted = None if columns is None else [c for c in ["id", *columns] if c in parquet.schema_arrow.names]
    for group in range(parquet.num_row_groups):
        matches = (
            pc.any(pc.is_in(batch.column("id"), value_set=keys)).as_py()
            for batch in read_batches(parquet, BATCH_ROWS, ["id"], [group])
        )
        if not any(matches):
            continue
        for batch in read_batches(parquet, BATCH_ROWS, wanted, [group]):
            hits = batch.filter(pc.is_in(batch.column("id"), value_set=keys))
            if hits.num_rows:
                yield hits


def _find_texts(report: Path, dataset: Path, wanted: set[str]) -> dict[str, str]:
    """Texts of the records in `wanted`: the published text, else the ledger's (rejected later)."""
    found: dict[str, str] = {}
    for path in [*published_files(dataset), report / "rejected.parquet"]:
        missing = wanted - found.keys()
        if not missing:
            break
        for hits in find_rows(path, missing, ["text"]):
            for rid, text in zip(hits.column("id").to_pylist(), hits.column("text").to_pylist(), strict=True):
                if rid not in found and text is not None:
                    found[rid] = text[:DIFF_CHARS]
    return found


# -- removed lines -----------------------------------------------------------------------------------


def _scan_removed_lines(report: Path) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    documents = 0
    last_id: str | None = None
    samplers: dict[str, Sampler] = {}
    for batch in iter_batches(report / "removed_lines.parquet", ["id", "line_number", "line", "rule"]):
        ids = batch.column("id").to_pylist()
        numbers = batch.column("line_number").to_pylist()
        rules = batch.column("rule").to_pylist()
        lines: list[str] | None = None
        for i, (rid, number, rule) in enumerate(zip(ids, numbers, rules, strict=True)):
            counts[rule] += 1
            if rid != last_id:  # a document's lines are contiguous in the table
                documents += 1
                last_id = rid
            key = f"{rid}\x00{number}"
            r = rank(key)
            sampler = samplers.setdefault(rule, Sampler(SAMPLES))
            if sampler.wants(r):
                if lines is None:
                    lines = pc.utf8_slice_codeunits(batch.column("line"), 0, LINE_CHARS + 1).to_pylist()
                sampler.add(r, key, {"id": rid, "line_number": number, "line": lines[i]})
    rules_out = [
        {"rule": rule, "count": n, "samples": samplers[rule].items()}
        for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return {"total": sum(counts.values()), "documents": documents, "rules": rules_out}


# -- quality distributions ---------------------------------------------------------------------------


def _quality_plots(run: dict[str, Any], dataset: Path, values: dict[str, array]) -> list[dict[str, Any]]:
    quality = next((s for s in run.get("stages", []) if s.get("name") == "quality"), None)
    if quality is None:
        return []
    rules = _quality_rules()
    notes = quality.get("notes", {})
    thresholds = notes.get("thresholds", {})
    disabled = set(notes.get("disabled_rules", []))
    # Every threshold rule, also those that rejected nothing: their plots show how close the data sits.
    plots = [name for name in rules if rules[name].kind != "flag" and name in thresholds and name not in disabled]
    signals = {rules[name].signal for name in plots}
    # Pass 1: the range of each signal over the published (kept) records.
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    kept_counts: Counter[str] = Counter()
    for batch in iter_published(dataset, ["quality"]):
        if "quality" not in batch.schema.names:
            break
        struct = batch.column("quality")
        for signal in signals:
            column = pc.struct_field(struct, signal)
            bounds = pc.min_max(column).as_py()
            if bounds["min"] is None:
                continue
            low[signal] = min(low.get(signal, bounds["min"]), bounds["min"])
            high[signal] = max(high.get(signal, bounds["max"]), bounds["max"])
    edges: dict[str, np.ndarray] = {}
    out: list[dict[str, Any]] = []
    for name in plots:
        rule = rules[name]
        limit = float(thresholds.get(name, 0.0))
        rejected = np.frombuffer(values.get(name, array("d")), dtype=np.float64)
        measured = [limit, low.get(rule.signal, limit), high.get(rule.signal, limit)]
        if rejected.size:
            measured += [float(rejected.min()), float(rejected.max())]
        lo, hi = min(measured), max(measured)
        # Long tails (word counts) would squeeze the threshold's neighbourhood into one bin: values
        # beyond 4x the threshold fall into the last bin, which the plot marks as open-ended.
        overflow = limit > 0 and hi > 4 * limit
        if overflow:
            hi = 4 * limit
        lo = min(lo, 0.0) if lo >= 0 and lo < limit / 2 else lo
        if hi <= lo:
            hi = lo + 1.0
        edges[name] = np.linspace(lo, hi, BINS + 1)
        out.append(
            {
                "rule": name,
                "signal": rule.signal,
                "kind": rule.kind,
                "threshold": limit,
                "rejected_count": int(rejected.size),
                "overflow": overflow,
                "edges": [round(float(e), 6) for e in edges[name]],
                "kept": [0] * BINS,
                "rejected": _histogram(rejected, edges[name]),
            }
        )
    # Pass 2: the published records' histograms.
    by_rule = {plot["rule"]: plot for plot in out}
    for batch in iter_published(dataset, ["quality"]):
        if "quality" not in batch.schema.names:
            break
        struct = batch.column("quality")
        for name in plots:
            column = pc.struct_field(struct, rules[name].signal).drop_null()
            kept_counts[name] += len(column)
            histogram = _histogram(column.to_numpy(zero_copy_only=False).astype(np.float64), edges[name])
            by_rule[name]["kept"] = [a + b for a, b in zip(by_rule[name]["kept"], histogram, strict=True)]
    for plot in out:
        plot["kept_count"] = kept_counts[plot["rule"]]
    return out


def _histogram(data: np.ndarray, edges: np.ndarray) -> list[int]:
    clipped = np.clip(data, edges[0], edges[-1])
    return [int(n) for n in np.histogram(clipped, bins=edges)[0]]


# -- the published data ------------------------------------------------------------------------------


def _published_stats(dataset: Path) -> dict[str, Any]:
    languages: Counter[str] = Counter()
    pii: Counter[str] = Counter()
    pii_documents = records = chars = 0
    shortest: int | None = None
    longest = 0
    for batch in iter_published(dataset, ["id", "language", "num_chars", "pii"]):
        records += batch.num_rows
        names = batch.schema.names
        if "language" in names:
            for item in pc.value_counts(pc.fill_null(batch.column("language"), "(none)")).to_pylist():
                languages[item["values"]] += item["counts"]
        if "num_chars" in names and batch.num_rows:
            column = batch.column("num_chars")
            chars += int(pc.sum(column).as_py() or 0)
            bounds = pc.min_max(column).as_py()
            shortest = bounds["min"] if shortest is None else min(shortest, bounds["min"])
            longest = max(longest, bounds["max"])
        if "pii" in names and batch.num_rows:
            struct = batch.column("pii")
            any_item = None
            for field in struct.type:
                column = pc.fill_null(pc.struct_field(struct, field.name), 0)
                pii[field.name] += int(pc.sum(column).as_py() or 0)
                positive = pc.greater(column, 0)
                any_item = positive if any_item is None else pc.or_(any_item, positive)
            if any_item is not None:
                pii_documents += int(pc.sum(pc.cast(any_item, pa.int64())).as_py() or 0)
    images = {}
    for name in ("length_histogram", "languages"):
        if (dataset / "images" / f"{name}.png").is_file():
            images[name] = f"images/{name}.png"
    return {
        "records": records,
        "languages": dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))),
        "chars": {"total": chars, "shortest": shortest, "longest": longest},
        "pii": dict(pii),
        "pii_documents": pii_documents,
        "images": images,
    }


# -- everything --------------------------------------------------------------------------------------


def summarize(report: Path, dataset: Path) -> dict[str, Any]:
    """The report's content for the run whose report folder is `report` and dataset folder `dataset`."""
    run = read_run(report)
    stages = run.get("stages", [])
    funnel = [
        {
            "name": s["name"],
            "records_in": s["records_in"],
            "records_out": s["records_out"],
            "seconds": s["seconds"],
            "rejected": s["rejected"],
        }
        for s in stages
    ]
    records = run.get("records", {})
    ledger = _scan_ledger(report, [s["name"] for s in stages])

    near = ledger["near"]
    exact = next((g for g in ledger["rejections"] if g["reason"] == "exact_duplicate"), None)
    exact_samples = exact["samples"] if exact else []
    texts = _find_texts(
        report,
        dataset,
        {p["survivor"] for p in near if p["survivor"]}
        | {s["duplicate_of"] for s in exact_samples if s["duplicate_of"]},
    )
    pairs = []
    for pair in near:
        survivor_text = texts.get(pair["survivor"])
        left, right = word_diff(pair["text"], survivor_text or "", DIFF_WORDS)
        pairs.append(
            {
                "id": pair["id"],
                "source": pair["source"],
                "survivor": pair["survivor"],
                "jaccard": pair["jaccard"],
                "detail": pair["detail"],
                "survivor_found": survivor_text is not None,
                "diff": {"rejected": left, "survivor": right},
            }
        )
    exact_out = [
        {**sample, "survivor_text": cap(texts.get(sample["duplicate_of"] or ""), TEXT_START) or None}
        for sample in exact_samples
    ]
    return {
        # The dataset folder may still be the run's temporary one: the name comes from the config.
        "name": run.get("config", {}).get("run", {}).get("name") or Path(dataset).name,
        "records": {
            "read": records.get("read", 0),
            "published": records.get("published", 0),
            "rejected": records.get("rejected", 0),
        },
        "seconds": run.get("seconds"),
        "funnel": funnel,
        "rejections": ledger["rejections"],
        "removed_lines": _scan_removed_lines(report),
        "near_duplicates": {
            "count": sum(g["count"] for g in ledger["rejections"] if g["reason"] == "near_duplicate"),
            "pairs": pairs,
        },
        "exact_duplicates": {"count": exact["count"] if exact else 0, "samples": exact_out},
        "quality": _quality_plots(run, dataset, ledger["quality_values"]),
        "published": _published_stats(dataset),
    }
