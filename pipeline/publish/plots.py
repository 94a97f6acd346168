"""The card's PNG plots, drawn headless and byte-for-byte reproducible.

matplotlib is used through its object API with the Agg canvas (no pyplot, no display, no global
state). PNG metadata would carry matplotlib's version ("Software"), so it is stripped; the font,
dpi and sizes are fixed here rather than taken from the user's matplotlibrc so that the same data
gives the same bytes on any machine with the same matplotlib.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np

# Fixed, not inherited from a user's matplotlibrc: any of these changes the pixels.
_RC = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib, so always present
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "path.simplify": True,
    "svg.hashsalt": "pipeline",
    "axes.prop_cycle": "cycler(color=['#3b6ea5'])",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_SIZE = (6.4, 3.2)
_COLOR = "#3b6ea5"
MAX_LANGUAGES_PLOTTED = 20


def _png(draw) -> bytes:  # type: ignore[no-untyped-def]
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=_SIZE, layout="constrained")
        FigureCanvasAgg(figure)
        draw(figure.add_subplot())
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _integer_ticks():  # type: ignore[no-untyped-def]
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def length_histogram(num_chars: np.ndarray) -> bytes:
    """Documents per length bucket: log-spaced bins when lengths span more than a decade (web text
    usually does), linear bins otherwise."""

    def draw(ax) -> None:  # type: ignore[no-untyped-def]
        from matplotlib.ticker import FuncFormatter, NullFormatter

        values = np.asarray(num_chars, dtype=np.float64)
        values = values[values > 0]
        log_scale = bool(len(values)) and values.max() / values.min() > 10
        if len(values):
            if log_scale:
                edges = np.logspace(np.log10(values.min()), np.log10(values.max()), 41)
            else:
                edges = np.linspace(values.min(), max(values.max(), values.min() + 1), 41)
            ax.hist(values, bins=edges, color=_COLOR)
            if log_scale:
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
            ax.axvline(float(np.median(values)), color="#c0392b", linewidth=1, label="median")
            ax.legend(frameon=False)
        ax.yaxis.set_major_locator(_integer_ticks())
        ax.set_title("Document length")
        ax.set_xlabel("characters per document" + (" (log scale)" if log_scale else ""))
        ax.set_ylabel("documents")

    return _png(draw)


def language_bars(languages: Counter[str]) -> bytes:
    """Documents per language, most frequent first; the tail beyond the top 20 is one 'other' bar."""

    def draw(ax) -> None:  # type: ignore[no-untyped-def]
        ranked = sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ranked[:MAX_LANGUAGES_PLOTTED]
        rest = sum(n for _, n in ranked[MAX_LANGUAGES_PLOTTED:])
        if rest:
            shown.append(("other", rest))
        labels = [code for code, _ in shown]
        ax.bar(range(len(shown)), [n for _, n in shown], color=_COLOR)
        ax.set_xticks(range(len(shown)), labels, rotation=45 if len(shown) > 8 else 0)
        ax.yaxis.set_major_locator(_integer_ticks())
        ax.set_title("Language")
        ax.set_ylabel("documents")

    return _png(draw)


def plot_paths(num_chars: np.ndarray, languages: Counter[str]) -> dict[str, str]:
    """{plot name: path relative to the dataset folder} of the plots that have data."""
    names = (["length_histogram"] if len(num_chars) else []) + (["languages"] if languages else [])
    return {name: f"images/{name}.png" for name in names}


def render_plots(num_chars: np.ndarray, languages: Counter[str]) -> dict[str, bytes]:
    """{plot name: PNG bytes} of the plots that have data (a pure function: it may run in a worker)."""
    drawn = {"length_histogram": lambda: length_histogram(num_chars), "languages": lambda: language_bars(languages)}
    return {name: drawn[name]() for name in plot_paths(num_chars, languages)}


def write_plots(folder: Path, rendered: dict[str, bytes]) -> None:
    """Write rendered plots under `folder/images/`, at the paths `plot_paths` names."""
    for name, data in rendered.items():
        (folder / "images").mkdir(exist_ok=True)
        (folder / "images" / f"{name}.png").write_bytes(data)
