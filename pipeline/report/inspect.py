"""`pipeline inspect DIR`: the report's summary in the terminal, one reason's records page by page, or
one record's path through the stages. Data text is capped and its control characters made visible."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.errors import UsageError
from pipeline.report.collect import (
    LINE_CHARS,
    TEXT_START,
    find_rows,
    iter_batches,
    locate,
    published_files,
    read_run,
    summarize,
)
from pipeline.report.textsafe import one_line, visible

_SHOWN_COLUMNS = ("language", "language_score", "quality_score", "duplicate_count", "removed_lines", "pii")


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def summary_text(summary: dict[str, Any]) -> str:
    records = summary["records"]
    out = [
        f"{visible(summary['name'])}: records read {records['read']:,} = published {records['published']:,} "
        f"+ rejected {records['rejected']:,}",
        "",
    ]
    rows = [["stage", "in", "out", "rejected", "seconds"]]
    rows += [
        [
            s["name"],
            f"{s['records_in']:,}",
            f"{s['records_out']:,}",
            f"{s['records_in'] - s['records_out']:,}",
            f"{s['seconds']:.2f}",
        ]
        for s in summary["funnel"]
    ]
    out += _table(rows, {1, 2, 3, 4})
    out += ["", "rejections by stage and reason (a sample each; --reason R for more):"]
    if not summary["rejections"]:
        out.append("  none")
    for group in summary["rejections"]:
        out.append(f"  {group['stage']} · {visible(group['reason'])}: {group['count']:,}")
        for s in group["samples"][:2]:
            out.append(f"    {visible(s['id'])}  {one_line(s['detail'], 120)}")
            out.append(f"      | {one_line(s['text'], 100)}")
    for plot in (p for p in summary["quality"] if p["rejected_count"]):
        out.append(
            f"  quality:{plot['rule']}: {plot['signal']} threshold {plot['threshold']:g}, "
            f"{plot['rejected_count']:,} rejected, {plot['kept_count']:,} published"
        )
    removed = summary["removed_lines"]
    out += ["", f"lines removed by clean: {removed['total']:,} from {removed['documents']:,} documents"]
    for rule in removed["rules"]:
        sample = rule["samples"][0] if rule["samples"] else None
        example = f"  e.g. {one_line(sample['line'], 80)!s}" if sample else ""
        out.append(f"  {visible(rule['rule'])}: {rule['count']:,}{example}")
    near = summary["near_duplicates"]
    out += ["", f"near duplicates removed: {near['count']:,}"]
    for pair in near["pairs"][:3]:
        jaccard = "?" if pair["jaccard"] is None else f"{pair['jaccard']:.4f}"
        differing = [text for text, differs in pair["diff"]["rejected"] if differs]
        out.append(
            f"  {visible(pair['id'])} ~ {visible(pair['survivor'] or '?')}  Jaccard {jaccard}; differs in: "
            f"{one_line(' | '.join(differing), 100) or '-'}"
        )
    exact = summary["exact_duplicates"]
    out.append(f"exact duplicates removed: {exact['count']:,}")
    published = summary["published"]
    out += ["", f"published: {published['records']:,} records, {published['chars']['total']:,} characters"]
    if published["languages"]:
        out.append("  languages: " + ", ".join(f"{visible(k)}={v:,}" for k, v in published["languages"].items()))
    if published["pii"]:
        out.append(
            "  personal data redacted: "
            + ", ".join(f"{k}={v:,}" for k, v in published["pii"].items())
            + f" (in {published['pii_documents']:,} documents)"
        )
    return "\n".join(out)


# -- one reason --------------------------------------------------------------------------------------


def _ledger_rows(report: Path, reason: str) -> Iterator[dict[str, Any]]:
    for batch in iter_batches(report / "rejected.parquet"):
        hits = batch.filter(pc.equal(batch.column("reason"), reason))
        if not hits.num_rows:
            continue
        starts = pc.utf8_slice_codeunits(hits.column("text"), 0, TEXT_START).to_pylist()
        columns = {name: hits.column(name).to_pylist() for name in ("id", "source", "stage", "detail", "duplicate_of")}
        for i in range(hits.num_rows):
            yield {**{name: values[i] for name, values in columns.items()}, "text": starts[i]}


def reason_page(report: Path, reason: str, page: int, per_page: int) -> dict[str, Any]:
    """Records of one rejection reason in ledger order: page `page` (1-based) of `per_page`."""
    start = (page - 1) * per_page
    records: list[dict[str, Any]] = []
    total = 0
    for row in _ledger_rows(report, reason):
        if start <= total < start + per_page:
            records.append(row)
        total += 1
    if total == 0:
        known = sorted(
            {r for b in iter_batches(report / "rejected.parquet", ["reason"]) for r in b.column("reason").to_pylist()}
        )
        raise UsageError(
            f"--reason {reason!r}: no record was rejected for it; reasons in this run: {', '.join(known) or 'none'}"
        )
    return {"reason": reason, "total": total, "page": page, "per_page": per_page, "records": records}


def reason_text(result: dict[str, Any]) -> str:
    pages = -(-result["total"] // result["per_page"])
    out = [f"{visible(result['reason'])}: {result['total']:,} records, page {result['page']} of {pages}"]
    for r in result["records"]:
        out.append(f"{visible(r['id'])}  ({one_line(r['source'], 100)}, stage {r['stage']})")
        out.append(f"  detail: {one_line(r['detail'], 300)}")
        if r["duplicate_of"]:
            out.append(f"  duplicate of: {visible(r['duplicate_of'])}")
        out.append(f"  text:   {one_line(r['text'], TEXT_START)}")
    if result["page"] < pages:
        out.append(f"(next: --page {result['page'] + 1})")
    return "\n".join(out)


# -- one record --------------------------------------------------------------------------------------


def record_path(report: Path, dataset: Path, record: str) -> dict[str, Any]:
    """Where record `record` went: the stage that rejected it (and why) or its published row, the lines
    clean removed from it, and the records removed as its duplicates."""
    key = pa.scalar(record, pa.string())
    rejected: dict[str, Any] | None = None
    duplicates: list[dict[str, str]] = []
    columns = ["id", "source", "stage", "reason", "detail", "duplicate_of"]
    for batch in iter_batches(report / "rejected.parquet", columns):
        mine = batch.filter(pc.equal(batch.column("id"), key))
        if mine.num_rows and rejected is None:
            rejected = mine.slice(0, 1).to_pylist()[0]
            del rejected["id"]
        copies = batch.filter(pc.fill_null(pc.equal(batch.column("duplicate_of"), key), False))
        duplicates += copies.select(["id", "stage", "reason"]).to_pylist()
    published: dict[str, Any] | None = None
    if rejected is not None:
        rejected["text"] = ""
        for hits in find_rows(report / "rejected.parquet", {record}, ["stage", "text"]):
            stages, texts = hits.column("stage").to_pylist(), hits.column("text").to_pylist()
            rejected["text"] = next((t or "" for s, t in zip(stages, texts, strict=True) if s == rejected["stage"]), "")
            rejected["text"] = rejected["text"][:TEXT_START]
            break
    else:
        for path in published_files(dataset):
            for hits in find_rows(path, {record}):
                row = hits.slice(0, 1).to_pylist()[0]
                published = {k: row[k] for k in ("source", *_SHOWN_COLUMNS) if k in row}
                published["text"] = (row["text"] or "")[:TEXT_START]
                break
            if published is not None:
                break
    removed = []
    for batch in iter_batches(report / "removed_lines.parquet", ["id", "line_number", "line", "rule"]):
        mine = batch.filter(pc.equal(batch.column("id"), key))
        for row in mine.to_pylist():
            removed.append({"line_number": row["line_number"], "rule": row["rule"], "line": row["line"][:LINE_CHARS]})
    if rejected is None and published is None:
        raise UsageError(
            f"--id {record!r}: no such record in {dataset} or its ledger; ids are shown by "
            "`pipeline inspect DIR --reason R`"
        )
    stages = [s["name"] for s in read_run(report).get("stages", [])]
    path = []
    for stage in stages:
        if rejected is not None and stage == rejected["stage"]:
            path.append({"stage": stage, "outcome": "rejected"})
            break
        path.append({"stage": stage, "outcome": "kept"})
    return {
        "id": record,
        "outcome": "rejected" if rejected else "published",
        "path": path,
        "rejected": rejected,
        "published": published,
        "removed_lines": removed,
        "duplicates": duplicates,
    }


def record_text(result: dict[str, Any]) -> str:
    out = [f"{visible(result['id'])}: {result['outcome']}"]
    out.append("  " + " → ".join(f"{p['stage']} {'✓' if p['outcome'] == 'kept' else '✗'}" for p in result["path"]))
    if result["rejected"]:
        r = result["rejected"]
        out.append(f"  rejected by {r['stage']} as {visible(r['reason'])}: {one_line(r['detail'], 300)}")
        if r["duplicate_of"]:
            out.append(
                f"  duplicate of: {visible(r['duplicate_of'])} (pipeline inspect DIR --id {visible(r['duplicate_of'])})"
            )
        out.append(f"  source: {one_line(r['source'], 200)}")
        out.append(f"  text at that stage: {one_line(r['text'], TEXT_START)}")
    if result["published"]:
        p = result["published"]
        out.append(f"  source: {one_line(p['source'], 200)}")
        for name in _SHOWN_COLUMNS:
            if name in p:
                out.append(f"  {name}: {one_line(json.dumps(p[name], ensure_ascii=False), 200)}")
        out.append(f"  published text: {one_line(p['text'], TEXT_START)}")
    if result["removed_lines"]:
        out.append(f"  lines removed by clean ({len(result['removed_lines'])}):")
        for line in result["removed_lines"]:
            out.append(f"    line {line['line_number']} [{line['rule']}]: {one_line(line['line'], 120)}")
    if result["duplicates"]:
        out.append(f"  removed as its duplicates ({len(result['duplicates'])}):")
        for d in result["duplicates"]:
            out.append(f"    {visible(d['id'])} ({d['stage']}: {d['reason']})")
    return "\n".join(out)


def inspect(folder: Path, *, reason: str | None, record: str | None, page: int, per_page: int, as_json: bool) -> str:
    if reason is not None and record is not None:
        raise UsageError("--reason and --id: pass one of them")
    if page < 1 or per_page < 1:
        raise UsageError("--page and --limit must be at least 1")
    report, dataset = locate(folder)
    if reason is not None:
        result = reason_page(report, reason, page, per_page)
        return json.dumps(result, indent=2, ensure_ascii=True) if as_json else reason_text(result)
    if record is not None:
        result = record_path(report, dataset, record)
        return json.dumps(result, indent=2, ensure_ascii=True) if as_json else record_text(result)
    summary = summarize(report, dataset)
    return json.dumps(summary, indent=2, ensure_ascii=True) if as_json else summary_text(summary)
