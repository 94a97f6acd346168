"""Small inline SVG plots for the report (no plotting library, no network: the SVG is part of the page)."""

from __future__ import annotations

from typing import Any

from pipeline.report.textsafe import esc

KEPT = "#3b6ea5"
REJECTED = "#c0392b"


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e9:
        return f"{int(value):,}"
    return f"{value:.4g}"


def funnel(stages: list[dict[str, Any]], read: int) -> str:
    """One bar per stage: the records it passed on, as a share of the records read."""
    width, label, row = 640, 130, 22
    height = row * len(stages) + 10
    scale = (width - label - 90) / max(read, 1)
    parts = [f'<svg class="plot" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">']
    parts.append("<title>Records passed on by each stage</title>")
    for i, stage in enumerate(stages):
        y = 5 + i * row
        bar = max(stage["records_out"] * scale, 1)
        removed = (stage["records_in"] - stage["records_out"]) * scale
        parts.append(f'<text x="{label - 6}" y="{y + 15}" text-anchor="end">{esc(stage["name"])}</text>')
        parts.append(f'<rect x="{label}" y="{y + 3}" width="{bar:.1f}" height="{row - 6}" fill="{KEPT}"/>')
        if removed > 0:
            parts.append(
                f'<rect x="{label + bar:.1f}" y="{y + 3}" width="{removed:.1f}" height="{row - 6}" '
                f'fill="{REJECTED}" opacity="0.6"/>'
            )
        parts.append(f'<text x="{label + bar + max(removed, 0) + 6:.1f}" y="{y + 15}">{stage["records_out"]:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _histogram_panel(counts: list[int], y0: float, height: float, x0: float, width: float, color: str) -> list[str]:
    top = max(counts) or 1
    step = width / len(counts)
    parts = []
    for i, n in enumerate(counts):
        if n:
            h = max(n / top * height, 1)
            parts.append(
                f'<rect x="{x0 + i * step:.1f}" y="{y0 + height - h:.1f}" width="{max(step - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{n:,}</title></rect>'
            )
    parts.append(f'<text x="{x0 - 4}" y="{y0 + 10}" text-anchor="end">{top:,}</text>')
    parts.append(f'<line x1="{x0}" x2="{x0 + width}" y1="{y0 + height}" y2="{y0 + height}" stroke="#999"/>')
    return parts


def quality_histogram(plot: dict[str, Any]) -> str:
    """The signal's distribution over published records (top) and the rule's rejections (bottom)."""
    width, height, x0, panel = 560, 200, 70, 70
    plot_width = width - x0 - 20
    edges = plot["edges"]
    lo, hi = edges[0], edges[-1]

    def x(value: float) -> float:
        return x0 + (value - lo) / (hi - lo) * plot_width

    parts = [
        f'<svg class="plot" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{esc(plot['signal'])}: published vs rejected by {esc(plot['rule'])}</title>",
        f'<text x="{x0}" y="12" fill="{KEPT}">published ({plot["kept_count"]:,})</text>',
        f'<text x="{x0}" y="{panel + 30}" fill="{REJECTED}">rejected by this rule ({plot["rejected_count"]:,})</text>',
    ]
    parts += _histogram_panel(plot["kept"], 16, panel - 6, x0, plot_width, KEPT)
    parts += _histogram_panel(plot["rejected"], panel + 34, panel - 6, x0, plot_width, REJECTED)
    threshold = x(plot["threshold"])
    parts.append(
        f'<line class="threshold" x1="{threshold:.1f}" x2="{threshold:.1f}" y1="14" y2="{2 * panel + 30}" '
        'stroke="#000" stroke-dasharray="4 3"/>'
    )
    label = f"threshold {_number(plot['threshold'])}"
    parts.append(f'<text x="{threshold:.1f}" y="{2 * panel + 44}" text-anchor="middle">{label}</text>')
    parts.append(f'<text x="{x0}" y="{height - 4}">{_number(lo)}</text>')
    last = f"≥ {_number(hi)}" if plot["overflow"] else _number(hi)
    parts.append(f'<text x="{x0 + plot_width}" y="{height - 4}" text-anchor="end">{esc(last)}</text>')
    parts.append("</svg>")
    return "".join(parts)
