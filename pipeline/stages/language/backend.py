"""Which langdetect runs: the pure-Python original, or langdetect-rs (the `fast` extra) when it agrees.

langdetect-rs is a Rust port that claims bit-identical results, 50-100x faster. It is young and has
a single author, so it is trusted only after a self-check at start-up: on the probe texts below it
must give exactly langdetect's own languages and probabilities (same seed, same profiles, same
order). Otherwise the stage falls back to langdetect with a warning. Both backends load langdetect's
profile files sorted by name (langdetect's own os.listdir order differs between file systems).
"""

from __future__ import annotations

import json
import os
import warnings
from functools import cache
from typing import Any

FAST_PACKAGE = "langdetect_rs"

# Probe texts: several scripts, mixed-language and short texts whose probabilities sit near ties,
# so a port that differs in normalisation, n-gram extraction or random sampling fails the check.
PROBES = [
    "The quick brown fox jumps over the lazy dog while the farmer watches from the porch.",
    "Der schnelle braune Fuchs springt über den faulen Hund, während der Bauer zusieht.",
    "Le renard brun rapide saute par-dessus le chien paresseux pendant que le fermier regarde.",
    "El rápido zorro marrón salta sobre el perro perezoso mientras el granjero observa.",
    "Быстрая коричневая лиса прыгает через ленивую собаку, пока фермер наблюдает.",
    "敏捷的棕色狐狸跳过了懒狗，农夫在门廊上看着。",
    "素早い茶色の狐が怠け者の犬を飛び越え、農夫が縁側から見ている。",
    "빠른 갈색 여우가 게으른 개를 뛰어넘고 농부가 현관에서 지켜본다.",
    "الثعلب البني السريع يقفز فوق الكلب الكسول بينما يراقب المزارع من الشرفة.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "Szybki brązowy lis przeskakuje nad leniwym psem, a rolnik patrzy z ganku.",
    "De snelle bruine vos springt over de luie hond terwijl de boer toekijkt.",
    "Hello, bonjour, hola, hallo: ein kurzer gemischter Text with several languages.",
    "ok",
    "Visit https://example.org/page or write to someone@example.org today, thanks!",
    "Det här är en kort mening på svenska om en hund och en räv.",
]


def _profile_files(directory: str) -> list[str]:
    return sorted(n for n in os.listdir(directory) if not n.startswith("."))


def _load_factory(module: str, seed: int) -> Any:
    """A DetectorFactory of `module` (langdetect or langdetect_rs) with langdetect's profiles, sorted."""
    from langdetect.detector_factory import PROFILES_DIRECTORY

    if module == "langdetect":
        from langdetect.detector_factory import DetectorFactory
        from langdetect.utils.lang_profile import LangProfile
    else:
        from langdetect_rs.detector_factory import DetectorFactory  # type: ignore[import-not-found,no-redef]
        from langdetect_rs.utils.lang_profile import LangProfile  # type: ignore[import-not-found,no-redef]
    factory = DetectorFactory()
    factory.set_seed(seed)
    names = _profile_files(PROFILES_DIRECTORY)
    for index, name in enumerate(names):
        with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as f:
            factory.add_profile(LangProfile(**json.load(f)), index, len(names))
    return factory


def _probabilities(factory: Any, text: str) -> list[tuple[str, float]] | None:
    detector = factory.create()
    detector.append(text)
    try:
        return [(p.lang, float(p.prob)) for p in detector.get_probabilities()]
    except Exception:
        return None


# langdetect's own answers on the probes with the default seed, recorded so that the self-check does
# not load langdetect's profiles into its pure-Python detector (a quarter of a second of every run's
# start-up) to learn them again; used only with the langdetect version they were recorded with.
# tests/stages/test_language_backend.py checks them against langdetect itself.
RECORDED_PROBES = "langdetect_probes.json"


def record_probes(seed: int = 0) -> dict[str, Any]:
    """langdetect's answers on the probes, as RECORDED_PROBES holds them."""
    from importlib.metadata import version

    slow = _load_factory("langdetect", seed)
    return {"langdetect": version("langdetect"), "seed": seed, "answers": [_probabilities(slow, t) for t in PROBES]}


def _recorded_answers(seed: int) -> list[list[tuple[str, float]] | None] | None:
    """The recorded answers, when they are langdetect's for this seed and the installed version."""
    from importlib import resources
    from importlib.metadata import PackageNotFoundError, version

    try:
        recorded = json.loads((resources.files("pipeline") / "data" / RECORDED_PROBES).read_text(encoding="utf-8"))
        if recorded["seed"] != seed or recorded["langdetect"] != version("langdetect"):
            return None
    except (OSError, ValueError, KeyError, PackageNotFoundError):
        return None
    return [None if a is None else [(lang, float(prob)) for lang, prob in a] for a in recorded["answers"]]


def self_check(seed: int) -> str | None:
    """None when langdetect-rs gives exactly langdetect's answers on the probes, else what differed."""
    try:
        fast = _load_factory(FAST_PACKAGE, seed)
    except ImportError:
        return "langdetect-rs is not installed (pip install 'pipeline-datasets[fast]')"
    except Exception as exc:
        return f"langdetect-rs failed to load the profiles: {type(exc).__name__}: {exc}"
    answers = _recorded_answers(seed)
    if answers is None or len(answers) != len(PROBES):
        slow = _load_factory("langdetect", seed)
        answers = [_probabilities(slow, text) for text in PROBES]
    for text, expected in zip(PROBES, answers, strict=True):
        got = _probabilities(fast, text)
        if expected != got:
            return f"on the probe {text[:40]!r} langdetect gives {expected}, langdetect-rs {got}"
    return None


@cache
def factory(seed: int, prefer_fast: bool = True) -> tuple[str, Any]:
    """(backend name, DetectorFactory): langdetect-rs if installed and it passes the self-check."""
    if prefer_fast:
        problem = self_check(seed)
        if problem is None:
            return "langdetect-rs", _load_factory(FAST_PACKAGE, seed)
        if "not installed" not in problem:
            warnings.warn(
                f"language: not using langdetect-rs, falling back to langdetect: {problem}",
                RuntimeWarning,
                stacklevel=2,
            )
    return "langdetect", _load_factory("langdetect", seed)
