"""Can threshold changes make the quality filters separate DCLM's good and bad texts? Cross-validated.

    PYTHONPATH=. python benchmarks/quality_thresholds.py [--data FILE] [--folds 5]

(default FILE: $PIPELINE_EVALDATA/dclm-quality-labels/majority_data.jsonl; `--show c4_min_sentences=3`
also prints one setting of the grid, the other rules at their defaults)

The texts go through the default normalize and clean stages (as in benchmarks/quality.py), then the
quality stage's signals. Five thresholds that reject good texts most often are varied over a grid
(every other rule keeps its default): `gopher_min_words`, `c4_min_sentences`,
`gopher_min_stop_words`, `fineweb_min_line_punct`, `gopher_min_alpha_words`. A setting qualifies when
it passes at least `--min-good` of the good texts; among those the one with the highest balanced
accuracy (mean of the good texts' pass rate and the bad texts' rejection rate) is chosen.

Printed: the defaults; the best qualifying setting chosen on all texts (in-sample: an upper bound,
fitted to these labels); and k-fold cross-validation (folds stratified by label, fixed order, no
randomness): each fold's setting is chosen on the other folds and scored on it, which estimates what
a chosen setting does on texts it was not chosen on.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
from evaldata import evaldata_folder
from quality import cleaned

from pipeline.stages.language import detect
from pipeline.stages.quality import Quality, QualityConfig
from pipeline.stages.quality.signals import compute

# rule -> (signal, kind, grid); the first grid value is the default.
GRID: dict[str, tuple[str, str, list[float]]] = {
    "gopher_min_words": ("words", "min", [50, 75, 100, 150, 200]),
    "c4_min_sentences": ("c4_sentences", "min", [5, 0, 3, 7, 10]),
    "gopher_min_stop_words": ("stop_words", "min", [2, 3, 4, 5, 6]),
    "fineweb_min_line_punct": ("line_punct_ratio", "min_or_equal", [0.12, 0.2, 0.3, 0.4]),
    "gopher_min_alpha_words": ("alpha_words_frac", "min", [0.8, 0.85, 0.9]),
}
SETTINGS = list(itertools.product(*(grid for _, _, grid in GRID.values())))


def failures(signals: list[dict], languages: list[str | None], empty: np.ndarray) -> np.ndarray:
    """(settings × texts) booleans: the text is rejected under the setting."""
    others = Quality(QualityConfig(disabled_rules=list(GRID)))
    base = np.array([others.evaluate(s, lang)[1] is not None for s, lang in zip(signals, languages, strict=True)])
    base |= empty
    per_rule = []
    for signal, kind, grid in GRID.values():
        values = np.array([float(s[signal] or 0) for s in signals])
        per_rule.append({t: (values <= t) if kind == "min_or_equal" else (values < t) for t in grid})
    out = np.empty((len(SETTINGS), len(signals)), dtype=bool)
    for row, setting in enumerate(SETTINGS):
        fail = base.copy()
        for table, threshold in zip(per_rule, setting, strict=True):
            fail |= table[threshold]
        out[row] = fail
    return out


def rates(fail: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pass rates of good and bad texts, per setting."""
    return (~fail[:, labels == 1]).mean(axis=1), (~fail[:, labels == 0]).mean(axis=1)


def choose(fail: np.ndarray, labels: np.ndarray, min_good: float) -> int | None:
    good, bad = rates(fail, labels)
    balanced = np.where(good >= min_good, (good + 1 - bad) / 2, -1.0)
    best = int(np.argmax(balanced))  # the first best setting in grid order on ties
    return best if balanced[best] >= 0 else None


def show(name: str, good: float, bad: float) -> None:
    print(f"{name:58} {good:6.1%} {bad:6.1%} {(good + 1 - bad) / 2:6.3f}")


def describe(setting: tuple[float, ...]) -> str:
    return ", ".join(f"{rule}={value:g}" for rule, value in zip(GRID, setting, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="default: $PIPELINE_EVALDATA/dclm-quality-labels/majority_data.jsonl")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--min-good", type=float, default=0.85, help="pass rate of good texts a setting needs")
    parser.add_argument(
        "--show",
        action="append",
        default=[],
        metavar="RULE=VALUE[,RULE=VALUE]",
        help="also print this grid setting (unnamed rules at their defaults), e.g. c4_min_sentences=3",
    )
    args = parser.parse_args()
    args.data = args.data or evaldata_folder(None) / "dclm-quality-labels" / "majority_data.jsonl"
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = np.array([int(r["label"]) for r in rows])
    texts = cleaned([r["text"] for r in rows])
    languages = [detect(r["text"][:2000])[0] for r in rows]
    signals = [compute(text, lang) for text, lang in zip(texts, languages, strict=True)]
    fail = failures(signals, languages, np.array([not t.strip() for t in texts]))
    print(
        f"{len(rows)} texts ({int(labels.sum())} good), {len(SETTINGS)} settings, "
        f"good texts passed >= {args.min_good:.0%}"
    )
    print(f"{'':58} {'good':>6} {'bad':>6} {'bal.acc':>6}")
    good, bad = rates(fail, labels)
    show("defaults", good[0], bad[0])
    for shown in args.show:
        values = dict(item.split("=", 1) for item in shown.split(","))
        unknown = sorted(set(values) - set(GRID))
        if unknown:
            parser.error(f"--show: {unknown[0]} is not one of the grid's rules: {', '.join(GRID)}")
        setting = tuple(float(values[rule]) if rule in values else grid[0] for rule, (_, _, grid) in GRID.items())
        if setting not in SETTINGS:
            parser.error(f"--show {shown}: not a value of the grid ({describe(setting)})")
        row = SETTINGS.index(setting)
        show(shown, good[row], bad[row])
    best = choose(fail, labels, args.min_good)
    if best is None:
        print("no setting passes enough good texts")
        return
    show("best setting on all texts (in-sample, fitted)", good[best], bad[best])
    print(f"  {describe(SETTINGS[best])}")

    # Stratified folds in input order: the i-th text of each label goes to fold i mod k.
    fold = np.empty(len(labels), dtype=int)
    for label in (0, 1):
        members = np.flatnonzero(labels == label)
        fold[members] = np.arange(len(members)) % args.folds
    held_good, held_bad = [], []
    for k in range(args.folds):
        train, test = fold != k, fold == k
        chosen = choose(fail[:, train], labels[train], args.min_good)
        if chosen is None:
            chosen = 0
        g, b = rates(fail[chosen : chosen + 1, test], labels[test])
        held_good.append(g[0])
        held_bad.append(b[0])
        print(f"  fold {k}: chose {describe(SETTINGS[chosen])}; held out: good {g[0]:.1%}, bad {b[0]:.1%}")
    show(f"chosen on {args.folds - 1} folds, scored on the held-out one (mean)", np.mean(held_good), np.mean(held_bad))


if __name__ == "__main__":
    main()
