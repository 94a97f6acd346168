"""Record the quality signals of the parity documents and of generated hostile strings, as a test fixture.

    PYTHONPATH=. python benchmarks/parity/record_signals.py [--out tests/fixtures/quality_signals.jsonl]

tests/stages/test_quality_signals.py holds `signals.compute_batch` to these values, bit for bit, so a
change made for speed cannot change a value. The texts are the 300 documents of
tests/fixtures/parity/documents.jsonl (in English) and 300 short strings generated here with a fixed
seed (each with one of a few language codes): punctuation of several scripts, CJK, empty and
whitespace-only texts, ellipses, bullets, citations, case-folding oddities, repeated words and lines.
Run it with the code whose values are the reference on the path.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from pipeline.stages.quality.signals import SIGNALS, compute

REPO = Path(__file__).resolve().parent.parent.parent
PIECES = [
    *"ab _-.!?…。！？\"'”’)][\n\t#•é中5½²{}",
    *("...", " the ", "The ", " und ", "Lorem ipsum ", "JavaScript ", "privacy policy", "uses cookies"),
    *("[1]", "[edit]", "[citation needed]", "Σ", "ΑΣ ", "İ", "\u212a", "\x1c", "\u2028", "\u00a0", "\u3000"),
    *("\u200b", "\u0301", "٣", "__init__", "_", "don't", "e-mail", "U.S.", "it’s", "\n- item", "\n• item"),
    *("\n...", "!!", "?!", "a.b.c", "1,000", "#tag", "🙂", "ǅ", "ﬁ", "Ⅻ", "ß", "\n\n", "\r", "한국어", "。"),
]
WORDS = ["alpha", "beta", "gamma", "the", "of", "and", "to", "a", "is", "you", "Der", "die"]
LANGUAGES = ["en", "de", "fr", None, "xx", "zh-cn"]


def hostile(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = ["", " ", "\n", "\n\n\n", " \t\n ", "...", "…", "•", "-", "_", "a", "x" * 1200]
    # Lines C4 drops or flags only once lower-cased, with the characters whose lower() is not one ASCII
    # letter ("İ", the Kelvin sign, the capital sigma) and with citation markers inside the phrases.
    sentences = [
        "We use coo\u212aies to improve this site, as you know.",
        "Please enable JAVASCRİPT in your browser now.",
        "Read our Privacy[1] Policy before you sign up here.",
        "Java[edit]script is needed to see the comments here.",
        "LOREM IPSUM dolor sit amet, consectetur adipiscing elit.",
        "Lorem İpsum dolor sit amet, consectetur adipiscing elit.",
        "ΟΔΟΣ ΣΑΣ terms OF USE apply to everyone who reads this.",
        "Curly {braces} in a line that C4 keeps, with three words.",
    ]
    out += ["\n".join(sentences[i:] + sentences[:i]) for i in range(len(sentences))]
    out += [f"{sentence} One more sentence here. And a third one!" for sentence in sentences]
    while len(out) < count:
        if rng.random() < 0.5:
            out.append("".join(rng.choice(PIECES) for _ in range(rng.randint(0, 60))))
        else:
            # Repetitive text from a small vocabulary: repeated n-grams, lines and paragraphs.
            parts = []
            for _ in range(rng.randint(1, 120)):
                parts.append(rng.choice(WORDS) if rng.random() < 0.85 else rng.choice(PIECES))
                parts.append(rng.choice([" ", " ", " ", "\n", ". ", ", ", "\n\n", "... "]))
            out.append("".join(parts))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "quality_signals.jsonl")
    args = parser.parse_args()
    documents = REPO / "tests" / "fixtures" / "parity" / "documents.jsonl"
    parity = [json.loads(line)["text"] for line in documents.open(encoding="utf-8")]
    generated = hostile(300)
    rng = random.Random(11)
    texts = parity + generated
    languages = ["en"] * len(parity) + [rng.choice(LANGUAGES) for _ in generated]
    names = [name for name, _, _ in SIGNALS]
    values = [
        [compute(text, language)[name] for name in names] for text, language in zip(texts, languages, strict=True)
    ]
    # One row per line, values in SIGNALS order; the parity documents are referred to by line number.
    lines = [json.dumps({"signals": names, "parity_documents": len(parity)})]
    lines += [json.dumps(row, separators=(",", ":")) for row in values[: len(parity)]]
    lines += [
        json.dumps([text, language, row], ensure_ascii=False, separators=(",", ":"))
        for text, language, row in zip(generated, languages[len(parity) :], values[len(parity) :], strict=True)
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(texts)} texts -> {args.out}")


if __name__ == "__main__":
    main()
