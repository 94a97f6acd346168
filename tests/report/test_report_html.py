"""report.html: written by every run, self-contained, escaped, and equal to run.json and the ledger."""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.execution.runner import RunResult
from pipeline.report.collect import summarize
from pipeline.report.html import write_report
from pipeline.stages.quality import RULES


class _Page(HTMLParser):
    """Collects the attributes of every tag, and the text of elements with a data-* role we test."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _page(result: RunResult) -> tuple[str, _Page]:
    html = (result.report / "report.html").read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(html)
    return html, parser


def _run_json(result: RunResult) -> dict:
    return json.loads((result.report / "run.json").read_text(encoding="utf-8"))


def test_every_run_writes_a_self_contained_report(default_run: RunResult) -> None:
    html, page = _page(default_run)
    assert html.startswith("<!DOCTYPE html>")
    # Nothing is fetched: no script, no stylesheet link, images and links are data: or in-page anchors.
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "iframe", "object", "embed")]
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith(("data:", "#")), (tag, name, value)
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    ids = [a["id"] for _, a in page.tags if "id" in a]
    assert len(ids) == len(set(ids))
    # The card's plots are inlined.
    assert sum(1 for t, a in page.tags if t == "img" and (a.get("src") or "").startswith("data:image/png")) == 2


def test_funnel_and_accounting_equal_run_json(busy_run: RunResult) -> None:
    _, page = _page(busy_run)
    run = _run_json(busy_run)
    rows = [a for t, a in page.tags if t == "tr" and a.get("class") == "stage"]
    assert [(r["data-stage"], int(r["data-in"]), int(r["data-out"]), float(r["data-seconds"])) for r in rows] == [
        (s["name"], s["records_in"], s["records_out"], s["seconds"]) for s in run["stages"]
    ]
    accounting = next(a for t, a in page.tags if a.get("id") == "accounting")
    assert (int(accounting["data-read"]), int(accounting["data-published"]), int(accounting["data-rejected"])) == (
        run["records"]["read"],
        run["records"]["published"],
        run["records"]["rejected"],
    )


def test_every_rejection_reason_of_the_ledger_is_shown_with_samples(busy_run: RunResult) -> None:
    html, page = _page(busy_run)
    run = _run_json(busy_run)
    ledger = pq.read_table(busy_run.report / "rejected.parquet", columns=["stage", "reason"]).to_pylist()
    from_ledger = Counter((r["stage"], r["reason"]) for r in ledger)
    from_run = {(s["name"], reason): n for s in run["stages"] for reason, n in s["rejected"].items()}
    shown = {
        (a["data-stage"], a["data-reason"]): int(a["data-count"]) for t, a in page.tags if a.get("class") == "reason"
    }
    assert shown == dict(from_ledger) == from_run
    # The busy corpus makes every stage that can reject do so.
    assert {stage for stage, _ in shown} == {
        "ingest",
        "normalize",
        "clean",
        "dedup_exact",
        "language",
        "quality",
        "dedup_near",
        "validate",
    }
    # Each reason's section holds min(count, 5) sample rows.
    sections = re.findall(r'<section class="reason".*?</section>', html, flags=re.S)
    assert len(sections) == len(shown)
    for section in sections:
        count = int(re.search(r'data-count="(\d+)"', section)[1])
        assert section.count('<tr class="sample">') == min(count, 5)


def test_near_duplicate_pairs_are_shown_with_marked_differences(busy_run: RunResult) -> None:
    html, page = _page(busy_run)
    pairs = [a for t, a in page.tags if a.get("class") == "pair"]
    assert len(pairs) == 8
    ledger = pq.read_table(busy_run.report / "rejected.parquet", columns=["reason", "detail"]).to_pylist()
    measured = {r["detail"].split()[1] for r in ledger if r["reason"] == "near_duplicate"}
    assert {p["data-jaccard"] for p in pairs} <= measured
    # The corpus's near copies differ from their original in a couple of replaced words ("zebra").
    assert "<mark>zebra</mark>" in html


def test_quality_histograms_count_every_published_and_rejected_record(busy_run: RunResult) -> None:
    summary = summarize(busy_run.report, busy_run.dataset)
    ledger = Counter(pq.read_table(busy_run.report / "rejected.parquet", columns=["reason"]).column(0).to_pylist())
    rejecting = {r.removeprefix("quality:") for r in ledger if r.startswith("quality:")}
    assert rejecting <= {p["rule"] for p in summary["quality"]}
    assert {p["rule"] for p in summary["quality"] if p["rejected_count"]} == rejecting
    # Every threshold rule is plotted (the flag rules, lorem ipsum and curly braces, have no distribution).
    assert [p["rule"] for p in summary["quality"]] == [r.name for r in RULES if r.kind != "flag"]
    for plot in summary["quality"]:
        assert sum(plot["kept"]) == plot["kept_count"] == busy_run.records_published
        assert sum(plot["rejected"]) == plot["rejected_count"] == ledger[f"quality:{plot['rule']}"]
        assert plot["edges"][0] <= plot["threshold"] <= plot["edges"][-1]


def test_removed_lines_by_rule_equal_the_side_table(busy_run: RunResult) -> None:
    _, page = _page(busy_run)
    table = pq.read_table(busy_run.report / "removed_lines.parquet", columns=["rule"]).column(0).to_pylist()
    shown = {a["data-rule"]: int(a["data-count"]) for t, a in page.tags if a.get("class") == "rule"}
    assert shown == dict(Counter(table))
    assert shown


def test_data_text_is_escaped_and_bidi_controls_are_neutralised(busy_run: RunResult) -> None:
    html, page = _page(busy_run)
    assert '<script>alert("x")' not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "\u202e" not in html and "&lt;U+202E&gt;evil" in html
    assert not [tag for tag, _ in page.tags if tag in ("script", "iframe")]
    # The 100,000-character line is cut to the sample length.
    assert "word " * 2000 not in html
    assert (busy_run.report / "report.html").stat().st_size < 2_000_000


def test_the_report_is_deterministic(busy_run: RunResult, tmp_path: Path) -> None:
    first = (busy_run.report / "report.html").read_bytes()
    assert write_report(busy_run.report, busy_run.dataset).read_bytes() == first
