"""The document signals of the Gopher, C4 and FineWeb heuristics, computed without a tokenizer library.

Words are whitespace tokens with leading and trailing punctuation stripped (tokens that are nothing but
punctuation are not words), which is close to the NLTK tokenization the reference implementations use.
Line and paragraph signals count non-blank lines only: the normalize stage keeps a blank line between
paragraphs, and counting those as duplicate lines would fail every well-formed document.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import compress

import numpy as np

_PUNCT = string.punctuation + "“”‘’«»„‚…–—·•¡¿、。，！？：；（）「」『』【】"
_PARAGRAPH = re.compile(r"\n\s*\n")
_BULLETS = ("•", "‣", "●", "◦", "▪", "-", "*", "–", "—")
_TERMINAL = (".", "!", "?", '"', "'", "”", "’", "。", "！", "？")
_SHORT_LINE_CHARS = 30  # FineWeb's short_line_length
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)

# (name, arrow type name, description) of every signal, in struct order.
SIGNALS: list[tuple[str, str, str]] = [
    ("words", "int64", "Gopher: number of words (whitespace tokens without surrounding punctuation)."),
    ("mean_word_length", "float64", "Gopher: mean word length in characters."),
    ("hash_word_ratio", "float64", "Gopher: number of '#' per word."),
    ("ellipsis_word_ratio", "float64", "Gopher: number of '...' and '…' per word."),
    ("bullet_lines_frac", "float64", "Gopher: fraction of non-blank lines starting with a bullet (•, -, * …)."),
    ("ellipsis_lines_frac", "float64", "Gopher: fraction of non-blank lines ending with an ellipsis."),
    ("alpha_words_frac", "float64", "Gopher: fraction of words containing at least one letter."),
    ("stop_words", "int64", "Gopher: occurrences of the language's stop words (null: no list for the language)."),
    ("dup_line_frac", "float64", "Gopher: fraction of non-blank lines that repeat an earlier line."),
    ("dup_para_frac", "float64", "Gopher: fraction of paragraphs that repeat an earlier paragraph."),
    ("dup_line_char_frac", "float64", "Gopher: characters in repeated lines / all characters."),
    ("dup_para_char_frac", "float64", "Gopher: characters in repeated paragraphs / all characters."),
    *[
        (
            f"top_{n}gram_char_frac",
            "float64",
            f"Gopher: characters covered by the most frequent {n}-gram / all characters.",
        )
        for n in TOP_NGRAMS
    ],
    *[
        (f"dup_{n}gram_char_frac", "float64", f"Gopher: characters in repeated {n}-grams / all characters.")
        for n in DUP_NGRAMS
    ],
    ("lorem_ipsum", "bool", "C4: the text contains 'lorem ipsum'."),
    ("curly_brace", "bool", "C4: the text contains '{' (code or templates)."),
    ("terminal_punct_lines_frac", "float64", "C4: fraction of non-blank lines ending in terminal punctuation."),
    ("line_punct_ratio", "float64", "FineWeb: fraction of non-blank lines ending in . ! ? or a quote."),
    ("short_line_ratio", "float64", "FineWeb: fraction of non-blank lines of at most 30 characters."),
    ("char_dup_ratio", "float64", "FineWeb: characters in repeated non-blank lines / characters without newlines."),
    ("list_ratio", "float64", "FineWeb: newlines per word."),
]


@cache
def stop_words(language: str) -> frozenset[str] | None:
    """The shipped stop-word list for a langdetect code, or None when there is none."""
    path = resources.files("pipeline") / "data" / "stopwords" / f"{language}.txt"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().casefold() for w in lines if w.strip() and not w.startswith("#"))


@dataclass(frozen=True)
class Text:
    text: str
    words: list[str]
    lines: list[str]
    paragraphs: list[str]

    @classmethod
    def of(cls, text: str) -> Text:
        words = list(filter(None, [t.strip(_PUNCT) for t in text.split()]))
        lines = list(filter(None, map(str.strip, text.split("\n"))))
        paragraphs = list(filter(None, map(str.strip, _PARAGRAPH.split(text))))
        return cls(text, words, lines, paragraphs)


def _duplicates(items: list[str]) -> tuple[int, int]:
    """(number of items equal to an earlier item, their characters)."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


class WordGrams:
    """The repeated n-grams of a word list as integer ids, for n = 1, 2, 3 … in turn.

    Only positions whose n-gram occurs more than once are kept: an n-gram that occurs once cannot
    start a repeated (n+1)-gram, nor be a repeat itself. Words are whitespace-free and non-empty, so
    two n-grams join to the same string exactly when their words are equal: an n-gram's id is the id
    of its (n-1)-gram prefix paired with the id of its last word, made dense again by np.unique.
    Nothing is hashed, so no two different n-grams can collide.
    """

    def __init__(self, words: list[str]) -> None:
        index: dict[str, int] = dict.fromkeys(words, 0)
        for number, word in enumerate(index):
            index[word] = number
        self.words = len(words)
        self._word_ids = np.fromiter(map(index.__getitem__, words), dtype=np.int64, count=len(words))
        self._vocabulary = max(len(index), 1)
        counts = np.bincount(self._word_ids, minlength=len(index))
        # The distinct words in order of first use, and how often each occurs.
        self.distinct = list(index)
        self.occurrences: list[int] = counts.tolist()
        lengths = np.fromiter(map(len, self.distinct), dtype=np.int64, count=len(self.distinct))[self._word_ids]
        self._cumulative = np.concatenate((np.zeros(1, np.int64), np.cumsum(lengths)))
        self.characters = int(self._cumulative[-1])
        self.n = 1
        # Start positions of the repeated n-grams (ascending), their ids, and each id's count.
        self._positions = np.flatnonzero(counts[self._word_ids] > 1)
        self._ids = self._word_ids[self._positions]
        self._counts = counts
        self._word_counts = counts

    def words_with_letters(self) -> int:
        """Occurrences of words containing at least one letter."""
        letters_only = np.fromiter(map(str.isalpha, self.distinct), dtype=bool, count=len(self.distinct))
        total = int(self._word_counts[letters_only].sum())
        for number in np.flatnonzero(~letters_only).tolist():
            if any(c.isalpha() for c in self.distinct[number]):
                total += self.occurrences[number]
        return total

    def count_in(self, vocabulary: frozenset[str]) -> int:
        """Occurrences of words whose casefolded form is in `vocabulary`."""
        return sum(compress(self.occurrences, map(vocabulary.__contains__, map(str.casefold, self.distinct))))

    def advance(self, n: int) -> bool:
        """Move to n-grams (n at least the current n); False when the words are fewer than n."""
        if n > self.words:
            return False
        while self.n < n:
            if len(self._positions) == 0:
                # No repeated n-gram: no longer n-gram repeats either.
                self.n = n
                break
            self.n += 1
            extends = self._positions <= self.words - self.n
            positions = self._positions[extends]
            key = self._ids[extends] * self._vocabulary + self._word_ids[positions + (self.n - 1)]
            _, ids, counts = np.unique(key, return_inverse=True, return_counts=True)
            repeated = counts[ids] > 1
            self._positions = positions[repeated]
            self._ids = ids[repeated]
            self._counts = counts
        return True

    def _chars(self) -> np.ndarray:
        """Characters of each repeated n-gram (its words and the spaces between)."""
        return self._cumulative[self._positions + self.n] - self._cumulative[self._positions] + (self.n - 1)

    def top_chars(self) -> int:
        if len(self._positions) == 0:
            return 0
        counts = self._counts[self._ids]
        top = int(counts.max())
        # Among the most frequent n-grams the longest decides the characters covered.
        return top * int(self._chars()[counts == top].max())

    def duplicate_chars(self) -> int:
        if len(self._positions) == 0:
            return 0
        chars = self._chars().tolist()
        seen: set[int] = set()
        total = index = 0
        # A scan one position at a time would also visit the n-grams that occur once, but those can
        # never be found in `seen`, so only the repeated ones need walking.
        for position, gram, length in zip(self._positions.tolist(), self._ids.tolist(), chars, strict=True):
            if position < index:
                continue
            if gram in seen:
                total += length
                index = position + self.n
            else:
                seen.add(gram)
                index = position + 1
        return total


def top_ngram_chars(words: list[str], n: int) -> int:
    """Characters covered by the most frequent n-gram (0 when none repeats)."""
    grams = WordGrams(words)
    return grams.top_chars() if grams.advance(n) else 0


def duplicate_ngram_chars(words: list[str], n: int) -> int:
    """Characters of n-grams that repeat an earlier n-gram; a repeat skips past itself so no word counts twice."""
    grams = WordGrams(words)
    return grams.duplicate_chars() if grams.advance(n) else 0


def compute(text: str, language: str | None) -> dict[str, float | int | bool | None]:
    t = Text.of(text)
    n_words = len(t.words)
    n_lines = max(len(t.lines), 1)
    n_chars = max(len(text), 1)
    per_word = max(n_words, 1)
    folded = text.casefold()
    stops = stop_words(language) if language else None
    line_dups, line_dup_chars = _duplicates(t.lines)
    grams = WordGrams(t.words)
    para_dups, para_dup_chars = _duplicates(t.paragraphs)

    signals: dict[str, float | int | bool | None] = {
        "words": n_words,
        "mean_word_length": grams.characters / per_word,
        "hash_word_ratio": text.count("#") / per_word,
        "ellipsis_word_ratio": (text.count("...") + text.count("…")) / per_word,
        "bullet_lines_frac": sum(line.startswith(_BULLETS) for line in t.lines) / n_lines,
        "ellipsis_lines_frac": sum(line.endswith(("...", "…")) for line in t.lines) / n_lines,
        "alpha_words_frac": grams.words_with_letters() / per_word,
        "stop_words": None if stops is None else grams.count_in(stops),
        "dup_line_frac": line_dups / n_lines,
        "dup_para_frac": para_dups / max(len(t.paragraphs), 1),
        "dup_line_char_frac": line_dup_chars / n_chars,
        "dup_para_char_frac": para_dup_chars / n_chars,
    }
    for n in TOP_NGRAMS:
        signals[f"top_{n}gram_char_frac"] = (grams.top_chars() if grams.advance(n) else 0) / n_chars
    for n in DUP_NGRAMS:
        signals[f"dup_{n}gram_char_frac"] = (grams.duplicate_chars() if grams.advance(n) else 0) / n_chars
    terminal = sum(line.endswith(_TERMINAL) and not line.endswith(("...", "…")) for line in t.lines) / n_lines
    signals.update(
        {
            "lorem_ipsum": "lorem ipsum" in folded,
            "curly_brace": "{" in text,
            "terminal_punct_lines_frac": terminal,
            "line_punct_ratio": sum(line.endswith(_TERMINAL) for line in t.lines) / n_lines,
            "short_line_ratio": sum(len(line) <= _SHORT_LINE_CHARS for line in t.lines) / n_lines,
            "char_dup_ratio": line_dup_chars / max(len(text.replace("\n", "")), 1),
            "list_ratio": text.count("\n") / per_word,
        }
    )
    return signals
