"""The two hot stages in isolation: ftfy skipping and langdetect truncation. Prints tables.

    python benchmarks/hot_stages.py bench/10k [--docs 2000]

ftfy: time of `normalize` with ftfy on every text, with ftfy skipped for ASCII text (what the stage
does), and with ftfy skipped when the text holds none of the non-ASCII characters ftfy's mojibake
detector (`ftfy.badness.BADNESS_RE`) can match (a candidate; it is sound because every alternative of
that regex needs at least one such character), and whether the outputs are identical.

langdetect: agreement of the language code on the first 1,000 and 2,000 characters with the code on
the full text, and documents/s, for langdetect and, when installed, langdetect-rs.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

from corpus import load_texts


def suspicious_characters() -> re.Pattern[str]:
    from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES

    # The categories hold ranges ("À-Ñ"), so test every BMP code point against each class.
    classes = [re.compile(f"[{members}]") for members in MOJIBAKE_CATEGORIES.values()]
    characters = {chr(c) for c in range(0x80, 0x10000) if any(k.match(chr(c)) for k in classes)}
    characters |= {c for c in BADNESS_RE.pattern if ord(c) > 127}
    characters |= {chr(c) for c in range(0x80, 0xA0)}  # C1 controls: fix_c1_controls
    characters |= {"\x1b", "\ufffd"}  # terminal escapes, lossy sequences
    characters -= {chr(c) for c in range(0xD800, 0xE000)}
    return re.compile("[" + "".join(re.escape(c) for c in sorted(characters)) + "\ud800-\udfff]")


def bench_ftfy(texts: list[str]) -> None:
    import ftfy

    from pipeline.stages.normalize import Normalize, NormalizeConfig

    stage = Normalize(NormalizeConfig())
    plain = Normalize(NormalizeConfig(fix_mojibake=False))
    fixer = stage.mojibake_fixer()
    suspicious = suspicious_characters()
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6

    def always(text: str) -> str:
        return plain.normalize(ftfy.fix_text(text, fixer))

    def prefiltered(text: str) -> str:
        if suspicious.search(text) is None:
            return plain.normalize(text)
        return stage.normalize(text)

    variants = [
        ("ftfy on every text", always),
        ("skip ASCII (the stage today)", stage.normalize),
        ("skip without suspicious characters", prefiltered),
        ("no ftfy at all", plain.normalize),
    ]
    reference = None
    print(f"normalize on {len(texts):,} documents, {megabytes:.1f} MB")
    print(
        f"ASCII-only: {sum(t.isascii() for t in texts):,}; without suspicious characters: "
        f"{sum(suspicious.search(t) is None for t in texts):,}"
    )
    print("| variant | seconds | MB/s | docs/s | output identical to ftfy on every text |")
    print("|---|---:|---:|---:|---|")
    for name, function in variants:
        start = time.perf_counter()
        out = [function(t) for t in texts]
        seconds = time.perf_counter() - start
        if reference is None:
            reference = out
        same = sum(a == b for a, b in zip(out, reference, strict=True))
        print(
            f"| {name} | {seconds:.2f} | {megabytes / seconds:.1f} | {len(texts) / seconds:,.0f} | "
            f"{same:,}/{len(texts):,} |"
        )
    print()


def bench_language(texts: list[str]) -> None:
    from pipeline.stages.language import backend as langdetect_backend

    backends = ["langdetect"]
    try:
        import langdetect_rs  # noqa: F401

        backends.append(langdetect_backend.FAST_PACKAGE)
    except ImportError:
        pass
    print(f"language on {len(texts):,} documents (mean {sum(map(len, texts)) / len(texts):,.0f} characters)")
    print("| backend | characters | docs/s | same code as full text |")
    print("|---|---:|---:|---:|")
    for backend in backends:
        factory = langdetect_backend._load_factory(backend, 0)

        def code(text: str, factory=factory) -> str | None:
            found = langdetect_backend._probabilities(factory, text)
            return found[0][0] if found else None

        start = time.perf_counter()
        full = [code(t) for t in texts]
        full_rate = len(texts) / (time.perf_counter() - start)
        print(f"| {backend} | full | {full_rate:,.0f} | - |")
        for limit in (1000, 2000):
            start = time.perf_counter()
            cut = [code(t[:limit]) for t in texts]
            rate = len(texts) / (time.perf_counter() - start)
            agree = sum(a == b for a, b in zip(cut, full, strict=True)) / len(texts)
            print(f"| {backend} | {limit:,} | {rate:,.0f} | {100 * agree:.2f} % |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="a folder made by benchmarks/corpus.py")
    parser.add_argument("--docs", type=int, default=2000, help="documents to measure on")
    args = parser.parse_args()
    texts = load_texts(args.corpus, args.docs)
    print("load average at start: {:.1f} {:.1f} {:.1f} (2 cores shared with other jobs)".format(*os.getloadavg()))
    bench_ftfy(texts)
    bench_language(texts)


if __name__ == "__main__":
    main()
