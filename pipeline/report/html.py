"""`report.html`: one self-contained page (inline CSS and SVG, images as data: URIs, no script).

The page's Content-Security-Policy forbids scripts and every network fetch, so even a piece of data
that slipped past escaping could neither run nor call out. All data text goes through `esc`/`cap`.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from pipeline.report import svg
from pipeline.report.collect import LINE_CHARS, TEXT_START, summarize
from pipeline.report.textsafe import cap, esc

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;
padding:1em 2em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;margin-top:2em}h3{margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.4em 0 1em;width:100%}th,td{border:1px solid #ddd;padding:3px 6px;
vertical-align:top;text-align:left}th{background:#f4f4f4}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.txt,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;white-space:pre-wrap;
overflow-wrap:anywhere;unicode-bidi:isolate;max-height:12em;overflow:auto}
.mono{white-space:normal;max-height:none}.plot{font:11px sans-serif;display:block;margin:.3em 0 1em}
.ok{color:#1e7b34}.bad{color:#c0392b}.pairs{display:grid;grid-template-columns:1fr 1fr;gap:8px}
.pair{border:1px solid #ddd;padding:6px;margin-bottom:1em}.pair .txt{max-height:24em}
mark{background:#ffd9d9}.survivor mark{background:#d4f4d4}details{margin:.3em 0}summary{cursor:pointer}
.muted{color:#777}nav a{margin-right:1em}img{max-width:100%}
"""


def _samples_table(samples: list[dict[str, Any]], *, survivor: bool = False) -> str:
    head = "<tr><th>id</th><th>source</th><th>detail</th><th>text (start)</th></tr>"
    if survivor:
        head = "<tr><th>id</th><th>source</th><th>kept copy (survivor)</th><th>text (start)</th></tr>"
    rows = []
    for s in samples:
        third = s.get("duplicate_of") if survivor else s.get("detail")
        rows.append(
            f'<tr class="sample"><td class="mono">{esc(s["id"])}</td><td class="mono">{esc(cap(s["source"], 200))}</td>'
            f'<td class="mono">{esc(cap(third, 500))}</td><td><div class="txt">{esc(cap(s.get("text"), TEXT_START))}'
            "</div></td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _funnel(summary: dict[str, Any]) -> str:
    rows = []
    for stage in summary["funnel"]:
        reasons = ", ".join(f"{esc(r)}={n:,}" for r, n in sorted(stage["rejected"].items())) or "–"
        rows.append(
            f'<tr class="stage" data-stage="{esc(stage["name"])}" data-in="{stage["records_in"]}" '
            f'data-out="{stage["records_out"]}" data-seconds="{stage["seconds"]}"><td>{esc(stage["name"])}</td>'
            f'<td class="n">{stage["records_in"]:,}</td><td class="n">{stage["records_out"]:,}</td>'
            f'<td class="n">{stage["records_in"] - stage["records_out"]:,}</td>'
            f'<td class="n">{stage["seconds"]:.2f}</td>'
            f"<td>{reasons}</td></tr>"
        )
    table = (
        '<table id="funnel-table"><tr><th>stage</th><th class="n">in</th><th class="n">out</th>'
        f'<th class="n">rejected</th><th class="n">seconds</th><th>rejected by reason</th></tr>{"".join(rows)}</table>'
        '<p class="muted">Seconds are work time summed over worker processes.</p>'
    )
    return svg.funnel(summary["funnel"], summary["records"]["read"]) + table


def _rejections(summary: dict[str, Any]) -> str:
    if not summary["rejections"]:
        return "<p>No record was rejected.</p>"
    plots = {f"quality:{p['rule']}": p for p in summary["quality"]}
    parts = []
    for group in summary["rejections"]:
        anchor = f"r-{esc(group['stage'])}-{esc(group['reason'])}"
        parts.append(
            f'<section class="reason" id="{anchor}" data-stage="{esc(group["stage"])}" '
            f'data-reason="{esc(group["reason"])}" data-count="{group["count"]}">'
            f"<h3>{esc(group['stage'])} · {esc(group['reason'])} — {group['count']:,}</h3>"
        )
        plot = plots.get(group["reason"])
        if plot is not None:
            parts.append(
                f"<p>Signal <code>{esc(plot['signal'])}</code>: the published records above, the records this rule "
                f"rejected below; the dashed line is the threshold (the default; language overrides may differ).</p>"
                + svg.quality_histogram(plot)
            )
        sample_note = f"{len(group['samples'])} of {group['count']:,} records"
        parts.append(f'<p class="muted">{sample_note} (chosen by a hash of the id)</p>')
        parts.append(_samples_table(group["samples"]))
        parts.append("</section>")
    return "".join(parts)


def _quality_signals(summary: dict[str, Any]) -> str:
    plots = summary["quality"]
    if not plots:
        return "<p>The quality stage did not run.</p>"
    parts = [
        "<p>Every quality rule's signal over the published records (top) and the records the rule rejected "
        "(bottom), with the rule's threshold (the default; language overrides may differ). Rules that rejected "
        "something are also shown with their samples under Rejections.</p>"
    ]
    for plot in plots:
        state = f"{plot['rejected_count']:,} rejected" if plot["rejected_count"] else "rejected nothing"
        parts.append(
            f'<details class="signal" data-rule="{esc(plot["rule"])}"><summary>{esc(plot["rule"])} '
            f"({esc(plot['signal'])}, threshold {plot['threshold']:g}) — {state}</summary>"
            f"{svg.quality_histogram(plot)}</details>"
        )
    return "".join(parts)


def _removed_lines(summary: dict[str, Any]) -> str:
    removed = summary["removed_lines"]
    if not removed["total"]:
        return "<p>No line was removed (or the clean stage did not run).</p>"
    parts = [f"<p>{removed['total']:,} lines removed from {removed['documents']:,} documents.</p>"]
    parts.append('<table><tr><th>rule</th><th class="n">lines</th></tr>')
    parts += [
        f'<tr class="rule" data-rule="{esc(r["rule"])}" data-count="{r["count"]}"><td>{esc(r["rule"])}</td>'
        f'<td class="n">{r["count"]:,}</td></tr>'
        for r in removed["rules"]
    ]
    parts.append("</table>")
    for rule in removed["rules"]:
        rows = "".join(
            f'<tr><td class="mono">{esc(s["id"])}</td><td class="n">{s["line_number"]}</td>'
            f'<td><div class="txt">{esc(cap(s["line"], LINE_CHARS))}</div></td></tr>'
            for s in rule["samples"]
        )
        parts.append(
            f"<details><summary>{esc(rule['rule'])} — {rule['count']:,} lines, samples</summary>"
            f'<table><tr><th>id</th><th class="n">line</th><th>removed line</th></tr>{rows}</table></details>'
        )
    return "".join(parts)


def _diff(runs: list[list[Any]]) -> str:
    return " ".join(f"<mark>{esc(text)}</mark>" if differs else esc(text) for text, differs in runs)


def _near_duplicates(summary: dict[str, Any]) -> str:
    near = summary["near_duplicates"]
    if not near["count"]:
        return "<p>No near duplicate was removed (or the dedup_near stage did not run).</p>"
    parts = [
        f"<p>{near['count']:,} records removed as near duplicates; {len(near['pairs'])} pairs below, words that "
        "differ are marked.</p>"
    ]
    for pair in near["pairs"]:
        jaccard = "?" if pair["jaccard"] is None else f"{pair['jaccard']:.4f}"
        survivor = (
            _diff(pair["diff"]["survivor"])
            if pair["survivor_found"]
            else '<span class="muted">(the kept copy\'s text was not found)</span>'
        )
        parts.append(
            f'<div class="pair" data-jaccard="{jaccard}"><p>Jaccard <b>{jaccard}</b> — rejected '
            f"<code>{esc(pair['id'])}</code> ({esc(cap(pair['source'], 200))}), kept "
            f"<code>{esc(pair['survivor'])}</code></p>"
            f'<div class="pairs"><div><b>rejected</b><div class="txt">{_diff(pair["diff"]["rejected"])}</div></div>'
            f'<div class="survivor"><b>kept</b><div class="txt">{survivor}</div></div></div></div>'
        )
    return "".join(parts)


def _exact_duplicates(summary: dict[str, Any]) -> str:
    exact = summary["exact_duplicates"]
    if not exact["count"]:
        return "<p>No exact duplicate was removed (or the dedup_exact stage did not run).</p>"
    rows = "".join(
        f'<tr class="sample"><td class="mono">{esc(s["id"])}</td><td class="mono">{esc(cap(s["source"], 200))}</td>'
        f'<td class="mono">{esc(s["duplicate_of"])}</td><td><div class="txt">{esc(cap(s.get("text"), TEXT_START))}'
        f'</div></td><td><div class="txt">{esc(s.get("survivor_text") or "")}</div></td></tr>'
        for s in exact["samples"]
    )
    return (
        f"<p>{exact['count']:,} records removed as exact duplicates of an earlier record (the survivor).</p>"
        "<table><tr><th>id</th><th>source</th><th>survivor</th><th>text (start)</th><th>survivor's text (start)</th>"
        f"</tr>{rows}</table>"
    )


def _published(summary: dict[str, Any], dataset: Path) -> str:
    published = summary["published"]
    chars = published["chars"]
    parts = [
        f'<p id="published" data-records="{published["records"]}">{published["records"]:,} records published, '
        f"{chars['total']:,} characters"
        + (f" (shortest {chars['shortest']:,}, longest {chars['longest']:,})" if chars["shortest"] is not None else "")
        + ".</p>"
    ]
    for name, caption in (("languages", "Documents per language"), ("length_histogram", "Document length")):
        relative = published["images"].get(name)
        if relative:
            data = base64.b64encode((dataset / relative).read_bytes()).decode("ascii")
            parts.append(
                f'<figure><img alt="{caption}" src="data:image/png;base64,{data}"><figcaption>{caption} '
                "(the dataset card's plot)</figcaption></figure>"
            )
    if published["languages"]:
        rows = "".join(f'<tr><td>{esc(k)}</td><td class="n">{v:,}</td></tr>' for k, v in published["languages"].items())
        parts.append(f'<h3>Languages</h3><table><tr><th>language</th><th class="n">documents</th></tr>{rows}</table>')
    if published["pii"]:
        rows = "".join(f'<tr><td>{esc(k)}</td><td class="n">{v:,}</td></tr>' for k, v in published["pii"].items())
        parts.append(
            f"<h3>Personal data redacted</h3><p>{published['pii_documents']:,} published documents had at least one "
            f'item replaced.</p><table><tr><th>kind</th><th class="n">items</th></tr>{rows}</table>'
        )
    return "".join(parts)


def render(summary: dict[str, Any], dataset: Path) -> str:
    records = summary["records"]
    balanced = records["read"] == records["published"] + records["rejected"]
    accounting = (
        f'<p id="accounting" class="{"ok" if balanced else "bad"}" data-read="{records["read"]}" '
        f'data-published="{records["published"]}" data-rejected="{records["rejected"]}">records read '
        f"{records['read']:,} = published {records['published']:,} + rejected {records['rejected']:,}"
        + ("" if balanced else " — DOES NOT BALANCE")
        + "</p>"
    )
    sections = [
        ("funnel", "Stage funnel", _funnel(summary)),
        ("rejections", "Rejections by stage and reason", _rejections(summary)),
        ("quality-signals", "Quality signals", _quality_signals(summary)),
        ("removed-lines", "Lines removed by clean", _removed_lines(summary)),
        ("near-duplicates", "Near duplicates", _near_duplicates(summary)),
        ("exact-duplicates", "Exact duplicates", _exact_duplicates(summary)),
        ("data", "Published data", _published(summary, dataset)),
    ]
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{title}</h2>{content}</section>' for key, title, content in sections)
    seconds = "" if summary["seconds"] is None else f" in {summary['seconds']:,.1f} s"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(summary['name'])} — pipeline run report</title><style>{_CSS}</style></head><body>"
        f'<h1>{esc(summary["name"])}</h1><p class="muted">pipeline run report{seconds}</p>{accounting}'
        f"<nav>{nav}</nav>{body}</body></html>\n"
    )


def write_report(report: Path, dataset: Path) -> Path:
    """Write `report/report.html` for the run whose report folder is `report`; returns its path."""
    path = report / "report.html"
    path.write_text(render(summarize(report, dataset), dataset), encoding="utf-8")
    return path
