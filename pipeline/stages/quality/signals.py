"""The document signals of the Gopher, C4 and FineWeb heuristics, computed without a tokenizer library.

Each signal follows its published definition as datatrove 0.10.1 implements it (the reference the
FineWeb paper's numbers come from); every deliberate difference is listed in docs/quality-rules.md.

Tokens are what a word tokenizer yields: runs of word characters (with inner apostrophes, hyphens and
dots, as in "don't", "e-mail", "U.S") and single punctuation marks ("..." is one token), close to the
spaCy tokenizer datatrove uses. Words are the tokens that are not punctuation. Gopher's word count and
mean word length and alpha-word fraction use words; its symbol ratios and n-gram rules, and FineWeb's
list ratio, use all tokens, as datatrove does (datatrove's alpha-word fraction uses all tokens too: a
documented difference). Line and paragraph signals count non-blank lines only:
the normalize stage keeps a blank line between paragraphs, and counting those as lines would change
every fraction with the paragraph layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pipeline.stages.quality.grams import BatchGrams

# Possessive quantifiers: what follows a run of word characters is never a word character, so giving
# characters back could never make a longer match; the same tokens, without the backtracking bookkeeping
# (40 % faster).
_TOKEN = re.compile(r"\.\.\.|\w++(?:['’.\-]\w++)*+|[^\w\s]")
_PARAGRAPH = re.compile(r"\n\s*\n")
# C4 (tensorflow-datasets c4_utils): a kept line ends in one of these and not in an ellipsis.
C4_TERMINAL = (".", "?", "!", '"', "'")
C4_MIN_WORDS = 3
C4_MAX_WORD_CHARS = 1000
_C4_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
C4_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
# Sentence ends for C4's sentence count: terminal marks (with closing quotes or brackets) before a space.
# A run of marks ("?!", "...") is one end: only its last mark is followed by closers and a space. (The
# same count as matching the whole run, which made the scan four times slower.)
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]]*(?=\s|$)")
_SHORT_LINE_CHARS = 30  # FineWeb's short_line_length
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)

# (name, arrow type name, description) of every signal, in struct order.
SIGNALS: list[tuple[str, str, str]] = [
    ("words", "int64", "Gopher: number of words (whitespace tokens without surrounding punctuation)."),
    ("mean_word_length", "float64", "Gopher: mean word length in characters."),
    ("hash_word_ratio", "float64", "Gopher: number of '#' per word."),
    ("ellipsis_word_ratio", "float64", "Gopher: number of '...' and '…' per word."),
    ("bullet_lines_frac", "float64", "Gopher: fraction of non-blank lines starting with a bullet (• or -)."),
    ("ellipsis_lines_frac", "float64", "Gopher: fraction of non-blank lines ending with an ellipsis."),
    ("alpha_words_frac", "float64", "Gopher: fraction of words (punctuation marks not counted) containing a letter."),
    ("stop_words", "int64", "Gopher: distinct stop words of the language found (null: no list for the language)."),
    ("dup_line_frac", "float64", "Gopher: fraction of non-blank lines that repeat an earlier line."),
    ("dup_para_frac", "float64", "Gopher: fraction of paragraphs that repeat an earlier paragraph."),
    ("dup_line_char_frac", "float64", "Gopher: characters in repeated lines / all characters."),
    ("dup_para_char_frac", "float64", "Gopher: characters in repeated paragraphs / all characters."),
    *[
        (
            f"top_{n}gram_char_frac",
            "float64",
            f"Gopher: characters (spaces included) covered by the most frequent {n}-gram / all characters.",
        )
        for n in TOP_NGRAMS
    ],
    *[
        (
            f"dup_{n}gram_char_frac",
            "float64",
            f"Gopher: characters (spaces excluded) in repeated {n}-grams / all characters.",
        )
        for n in DUP_NGRAMS
    ],
    ("lorem_ipsum", "bool", "C4: a line C4 keeps contains 'lorem ipsum'."),
    ("curly_brace", "bool", "C4: a line C4 keeps contains '{' (code or templates)."),
    ("c4_sentences", "int64", "C4: sentences in the lines C4 keeps (>= 3 words, ending in . ? ! or a quote)."),
    ("terminal_punct_lines_frac", "float64", "C4: fraction of non-blank lines ending in terminal punctuation."),
    ("line_punct_ratio", "float64", "FineWeb: fraction of non-blank lines ending in a Unicode sentence terminal."),
    ("short_line_ratio", "float64", "FineWeb: fraction of non-blank lines of at most 30 characters."),
    ("char_dup_ratio", "float64", "FineWeb: characters in repeated non-blank lines / characters without newlines."),
    ("list_ratio", "float64", "FineWeb: newlines per token."),
]


@cache
def stop_words(language: str) -> frozenset[str] | None:
    """The shipped stop-word list for a langdetect code, or None when there is none."""
    path = resources.files("pipeline") / "data" / "stopwords" / f"{language}.txt"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().casefold() for w in lines if w.strip() and not w.startswith("#"))


@cache
def sentence_terminals() -> tuple[str, ...]:
    """Unicode's Sentence_Terminal characters (FineWeb's line-ending marks), from the shipped list."""
    path = resources.files("pipeline") / "data" / "sentence_terminal.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(chr(int(line[2:], 16)) for line in lines if line.startswith("U+"))


@cache
def _drop_terminals() -> dict[int, None]:
    """A str.translate table deleting the sentence terminals."""
    return dict.fromkeys(map(ord, sentence_terminals()))


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    _tokenize_into(text, tokens)
    return tokens


def _tokenize_into(text: str, tokens: list[str]) -> None:
    """Append the tokens of `text` to `tokens`.

    No token holds whitespace, so the tokens of the text are those of its whitespace-separated chunks
    (str.split and the regex's \\s agree on what is whitespace, as str.isalnum and \\w do on word
    characters but "_"). A chunk of letters and digits alone, most of them, is one token without a
    regex call.
    """
    append, extend, findall = tokens.append, tokens.extend, _TOKEN.findall
    for chunk in text.split():
        if chunk.isalnum():
            append(chunk)
        else:
            extend(findall(chunk))


def is_word(token: str) -> bool:
    """A token made of word characters (the tokenizer yields punctuation marks as tokens of their own)."""
    return token[0].isalnum() or (token[0] == "_" and len(token) > 1)


@dataclass(frozen=True)
class Text:
    text: str
    lines: list[str]
    paragraphs: list[str]

    @classmethod
    def of(cls, text: str) -> Text:
        lines = list(filter(None, map(str.strip, text.split("\n"))))
        paragraphs = list(filter(None, map(str.strip, _PARAGRAPH.split(text))))
        return cls(text, lines, paragraphs)


def c4_kept_lines(lines: list[str], joined: str | None = None) -> list[str]:
    """The lines C4's line filters keep (citations removed), before its page rules look at them.
    `joined`: the lines joined by newlines, when the caller has them."""
    return _c4_kept(lines, "\n".join(lines) if joined is None else joined)[0]


# The only characters outside ASCII whose lower() holds an ASCII character: "İ" ("i̇") and the Kelvin sign.
_LOWER_TO_ASCII = ("\u0130", "\u212a")
# A line C4's javascript and policy filters drop holds one of these ("cookie" is in the four cookie phrases).
_DROPPED_HOLD = ("javascript", "terms of use", "privacy policy", "cookie")
_DROPPED_HOLD_BYTES = tuple(phrase.encode() for phrase in _DROPPED_HOLD)


def _mentions(text: str) -> tuple[bool, bool]:
    """(False when no line of `text` lower-cased can hold javascript or a C4_POLICY phrase, False when none
    can hold "lorem ipsum").

    A phrase (ASCII, without newlines) found in a line lower-cased is found in the whole text
    lower-cased: lower-casing maps every character on its own but the Greek capital sigma, which never
    becomes ASCII. Without "İ" and the Kelvin sign only ASCII letters lower-case to ASCII, so bytes.lower()
    of the UTF-8 (ASCII letters only, a fraction of the cost of str.lower()) finds it too.
    """
    if any(map(text.__contains__, _LOWER_TO_ASCII)):
        lowered = text.lower()
        return any(map(lowered.__contains__, _DROPPED_HOLD)), "lorem ipsum" in lowered
    data = text.encode("utf-8").lower()
    return any(map(data.__contains__, _DROPPED_HOLD_BYTES)), b"lorem ipsum" in data


def _c4_kept(lines: list[str], joined: str) -> tuple[list[str], bool]:
    """(c4_kept_lines, False when no kept line can contain "lorem ipsum")."""
    # A citation marker holds no newline: removing them from the joined lines removes them line by line.
    # Most texts mention none: then no line needs lower-casing and searching.
    screened, lorem = _mentions(_C4_CITATION.sub("", joined) if "[" in joined else joined)
    kept = []
    for line in lines:
        # The cheap tests first; a line is dropped whichever test drops it. A word longer than the
        # limit needs a line longer than it, and a citation marker needs a "[".
        cited = _C4_CITATION.sub("", line) if "[" in line else line
        if not cited.endswith(C4_TERMINAL) or cited.endswith("..."):
            continue
        # At most C4_MIN_WORDS pieces: as many as the words, up to that number.
        if len(line.split(None, C4_MIN_WORDS - 1)) < C4_MIN_WORDS:
            continue
        if len(line) > C4_MAX_WORD_CHARS and any(len(word) > C4_MAX_WORD_CHARS for word in line.split()):
            continue
        if screened:
            folded = cited.lower()
            if "javascript" in folded or any(p in folded for p in C4_POLICY):
                continue
        kept.append(cited)
    return kept, lorem


def _c4_sentences(c4_text: str, c4_lines: list[str]) -> int:
    """C4's sentences: per kept line, its sentence ends (terminal marks, with closing quotes or
    brackets, before a space or the end), at least one per line; one search over the joined lines.

    A sentence end cannot span lines (it holds no whitespace, and a newline ends it as a space
    does), so the matches in the joined text are the lines' matches. A kept line ending in . ? or !
    has a match at its end; only one ending in a quote can have none, and it still counts as one.
    """
    unmatched = sum(1 for line in c4_lines if line.endswith(('"', "'")) and not _SENTENCE_END.search(line))
    return len(_SENTENCE_END.findall(c4_text)) + unmatched


def _duplicates(items: list[str]) -> tuple[int, int]:
    """(number of items equal to an earlier item, their characters): all of them but the first copy of each."""
    distinct = set(items)
    return len(items) - len(distinct), sum(map(len, items)) - sum(map(len, distinct))


def top_ngram_chars(words: list[str], n: int) -> int:
    """Characters covered by the most frequent n-gram (0 when none repeats)."""
    grams = BatchGrams(words, [len(words)])
    grams.advance(n)
    return grams.top_chars()[0]


def duplicate_ngram_chars(words: list[str], n: int) -> int:
    """Characters of n-grams that repeat an earlier n-gram; a repeat skips past itself so no word counts twice."""
    grams = BatchGrams(words, [len(words)])
    grams.advance(n)
    return grams.duplicate_chars()[0]


def compute(text: str, language: str | None) -> dict[str, float | int | bool | None]:
    return compute_batch([text], [language])[0]


# Texts whose tokens are counted together. The token statistics of 1,000 web texts (~600,000 tokens)
# peak at ~80 MB of Python strings and numpy arrays, of 256 at ~20 MB, for 5 % more CPU time; the
# values do not depend on it.
COUNTED_TOGETHER = 256


def compute_batch(texts: list[str], languages: list[str | None]) -> list[dict[str, float | int | bool | None]]:
    """The signals of each text (in the language beside it); the token statistics are counted for up to
    COUNTED_TOGETHER texts at once (see grams.py), the line statistics text by text."""
    if len(texts) > COUNTED_TOGETHER:
        out: list[dict[str, float | int | bool | None]] = []
        for start in range(0, len(texts), COUNTED_TOGETHER):
            end = start + COUNTED_TOGETHER
            out.extend(compute_batch(texts[start:end], languages[start:end]))
        return out
    tokens: list[str] = []
    sizes: list[int] = []
    for text in texts:
        before = len(tokens)
        _tokenize_into(text, tokens)
        sizes.append(len(tokens) - before)
    grams = BatchGrams(tokens, sizes)
    words = grams.word_counts([stop_words(language) if language else None for language in languages])
    top: dict[int, list[int]] = {}
    for n in TOP_NGRAMS:
        grams.advance(n)
        top[n] = grams.top_chars()
    duplicate: dict[int, list[int]] = {}
    for n in DUP_NGRAMS:
        grams.advance(n)
        duplicate[n] = grams.duplicate_chars()
    counts = zip(
        words.count.tolist(), words.characters.tolist(), words.with_letters.tolist(), words.stop_words, strict=True
    )
    return [
        _signals(text, i, n_tokens, word_count, top, duplicate)
        for i, (text, n_tokens, word_count) in enumerate(zip(texts, sizes, counts, strict=True))
    ]


def _signals(
    text: str,
    i: int,
    n_tokens: int,
    word_count: tuple[int, int, int, int | None],
    top: dict[int, list[int]],
    duplicate: dict[int, list[int]],
) -> dict[str, float | int | bool | None]:
    """The signals of the `i`-th text of a batch, with `n_tokens` tokens; `word_count`: its (words, their
    characters, words with a letter, distinct stop words); `top`, `duplicate`: the n-gram characters."""
    t = Text.of(text)
    lines = t.lines
    n_words, word_chars, with_letters, n_stop_words = word_count
    n_lines = max(len(lines), 1)
    n_chars = max(len(text), 1)
    per_word = max(n_words, 1)
    per_token = max(n_tokens, 1)
    line_dups, line_dup_chars = _duplicates(lines)
    para_dups, para_dup_chars = _duplicates(t.paragraphs)
    joined = "\n".join(lines)
    c4_lines, lorem = _c4_kept(lines, joined)
    c4_text = "\n".join(c4_lines)
    # Line starts and ends counted in one string: in `framed` every line (non-blank, stripped, so without
    # a newline) follows a newline and is followed by one, and `lasts` holds each line's last character.
    framed = f"\n{joined}\n"
    lasts = "".join([line[-1] for line in lines])
    dots = framed.count("...\n")

    signals: dict[str, float | int | bool | None] = {
        "words": n_words,
        "mean_word_length": word_chars / per_word,
        "hash_word_ratio": text.count("#") / per_token,
        "ellipsis_word_ratio": (text.count("...") + text.count("…")) / per_token,
        # Gopher (datatrove): a bullet line starts with "•" or "-" after leading spaces.
        "bullet_lines_frac": (framed.count("\n•") + framed.count("\n-")) / n_lines,
        "ellipsis_lines_frac": (dots + lasts.count("…")) / n_lines,
        # Gopher's "80 % of words contain an alphabetic character", over the same words as its word count;
        # datatrove divides by all tokens, so every comma and full stop counts as a word without a letter
        # (docs/quality-rules.md: that rejects 13 % of hand-labelled news article bodies).
        "alpha_words_frac": with_letters / per_word,
        "stop_words": n_stop_words,
        "dup_line_frac": line_dups / n_lines,
        "dup_para_frac": para_dups / max(len(t.paragraphs), 1),
        "dup_line_char_frac": line_dup_chars / n_chars,
        "dup_para_char_frac": para_dup_chars / n_chars,
    }
    for n in TOP_NGRAMS:
        signals[f"top_{n}gram_char_frac"] = top[n][i] / n_chars
    for n in DUP_NGRAMS:
        signals[f"dup_{n}gram_char_frac"] = duplicate[n][i] / n_chars
    # Lines ending in . ? ! " or ', but not in "..." (those end in "." too).
    terminal = (sum(map(lasts.count, C4_TERMINAL)) - dots) / n_lines
    signals.update(
        {
            "lorem_ipsum": lorem and "lorem ipsum" in c4_text.lower(),
            "curly_brace": "{" in c4_text,
            "c4_sentences": _c4_sentences(c4_text, c4_lines),
            "terminal_punct_lines_frac": terminal,
            "line_punct_ratio": (len(lasts) - len(lasts.translate(_drop_terminals()))) / n_lines,
            "short_line_ratio": sum(map(_SHORT_LINE_CHARS.__ge__, map(len, lines))) / n_lines,
            "char_dup_ratio": line_dup_chars / max(len(text) - text.count("\n"), 1),
            "list_ratio": text.count("\n") / per_token,
        }
    )
    return signals
