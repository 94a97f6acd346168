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

import numpy as np

_TOKEN = re.compile(r"\.\.\.|\w+(?:['’.\-]\w+)*|[^\w\s]")
_PARAGRAPH = re.compile(r"\n\s*\n")
# Gopher (datatrove): a bullet line starts with "•" or "-" after leading spaces.
_BULLETS = ("•", "-")
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


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def is_word(token: str) -> bool:
    """A token made of word characters (the tokenizer yields punctuation marks as tokens of their own)."""
    return token[0].isalnum() or (token[0] == "_" and len(token) > 1)


_ASCII_ALNUM = np.array([chr(code).isalnum() for code in range(128)], dtype=bool)
_UNDERSCORE = ord("_")


def word_flags(tokens: list[str], lengths: np.ndarray) -> np.ndarray:
    """`is_word` of each (non-empty) token, as a boolean array; `lengths`: the tokens' lengths.

    The first characters are tested as code points against an ASCII table, and only non-ASCII ones one
    by one: most tokens start with an ASCII character, and this runs for every document.
    """
    firsts = "".join([token[0] for token in tokens])
    codes = np.frombuffer(firsts.encode("utf-32-le"), dtype="<u4")
    ascii_ = codes < 128
    flags = np.zeros(len(tokens), dtype=bool)
    flags[ascii_] = _ASCII_ALNUM[codes[ascii_]]
    for i in np.flatnonzero(~ascii_).tolist():
        flags[i] = firsts[i].isalnum()
    underscore = codes == _UNDERSCORE
    flags[underscore] = lengths[underscore] > 1
    return flags


@dataclass(frozen=True)
class Text:
    text: str
    tokens: list[str]
    lines: list[str]
    paragraphs: list[str]

    @classmethod
    def of(cls, text: str) -> Text:
        tokens = tokenize(text)
        lines = list(filter(None, map(str.strip, text.split("\n"))))
        paragraphs = list(filter(None, map(str.strip, _PARAGRAPH.split(text))))
        return cls(text, tokens, lines, paragraphs)


def c4_kept_lines(lines: list[str]) -> list[str]:
    """The lines C4's line filters keep (citations removed), before its page rules look at them."""
    kept = []
    for line in lines:
        # The cheap tests first; a line is dropped whichever test drops it. A word longer than the
        # limit needs a line longer than it, and a citation marker needs a "[".
        cited = _C4_CITATION.sub("", line) if "[" in line else line
        if not cited.endswith(C4_TERMINAL) or cited.endswith("..."):
            continue
        words = line.split()
        if len(words) < C4_MIN_WORDS:
            continue
        if len(line) > C4_MAX_WORD_CHARS and any(len(word) > C4_MAX_WORD_CHARS for word in words):
            continue
        line = cited
        folded = line.lower()
        if "javascript" in folded or any(p in folded for p in C4_POLICY):
            continue
        kept.append(line)
    return kept


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


@dataclass(frozen=True)
class WordSummary:
    count: int  # word occurrences
    characters: int  # their characters
    with_letters: int  # occurrences of words holding at least one letter
    stop_words: int | None  # distinct stop words present (None: no list for the language)


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
        # The distinct words in order of first use; `_word_counts` says how often each occurs.
        self.distinct = list(index)
        self._distinct_lengths = np.fromiter(map(len, self.distinct), dtype=np.int64, count=len(self.distinct))
        lengths = self._distinct_lengths[self._word_ids]
        self._cumulative = np.concatenate((np.zeros(1, np.int64), np.cumsum(lengths)))
        self.n = 1
        # Start positions of the repeated n-grams (ascending), their ids, and each id's count.
        self._positions = np.flatnonzero(counts[self._word_ids] > 1)
        self._ids = self._word_ids[self._positions]
        self._counts = counts
        self._word_counts = counts

    def word_summary(self, stops: frozenset[str] | None) -> WordSummary:
        """Gopher's word statistics, when the grams are over all tokens: words are the distinct tokens
        that are not punctuation, each tested once rather than once per occurrence."""
        is_word_id = word_flags(self.distinct, self._distinct_lengths)
        words = [w for w, keep in zip(self.distinct, is_word_id.tolist(), strict=True) if keep]
        letters_only = np.fromiter(map(str.isalpha, words), dtype=bool, count=len(words))
        word_counts = self._word_counts[is_word_id]
        with_letters = int(word_counts[letters_only].sum())
        for number in np.flatnonzero(~letters_only).tolist():
            if any(c.isalpha() for c in words[number]):
                with_letters += int(word_counts[number])
        return WordSummary(
            count=int(word_counts.sum()),
            characters=int((self._distinct_lengths[is_word_id] * word_counts).sum()),
            with_letters=with_letters,
            # Gopher counts the stop words present, not their uses.
            stop_words=None if stops is None else len(stops.intersection(map(str.casefold, words))),
        )

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

    def _chars(self, spaces: bool) -> np.ndarray:
        """Characters of each repeated n-gram: its words, and the spaces between when `spaces`."""
        chars = self._cumulative[self._positions + self.n] - self._cumulative[self._positions]
        return chars + (self.n - 1) if spaces else chars

    def top_chars(self) -> int:
        """Characters (words joined by spaces) of the most frequent n-gram times its count.

        Among equally frequent n-grams the one seen first decides, as `Counter.most_common` does.
        """
        if len(self._positions) == 0:
            return 0
        counts = self._counts[self._ids]
        top = int(counts.max())
        first = int(np.flatnonzero(counts == top)[0])
        return top * int(self._chars(True)[first])

    def duplicate_chars(self) -> int:
        if len(self._positions) == 0:
            return 0
        # The repeated n-grams' words without the spaces between (datatrove joins them with "").
        chars = self._chars(False).tolist()
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
    grams = WordGrams(t.tokens)
    stops = stop_words(language) if language else None
    words = grams.word_summary(stops)
    n_words = words.count
    n_lines = max(len(t.lines), 1)
    n_chars = max(len(text), 1)
    per_word = max(n_words, 1)
    per_token = max(len(t.tokens), 1)
    line_dups, line_dup_chars = _duplicates(t.lines)
    para_dups, para_dup_chars = _duplicates(t.paragraphs)
    c4_lines = c4_kept_lines(t.lines)
    c4_text = "\n".join(c4_lines)

    signals: dict[str, float | int | bool | None] = {
        "words": n_words,
        "mean_word_length": words.characters / per_word,
        "hash_word_ratio": text.count("#") / per_token,
        "ellipsis_word_ratio": (text.count("...") + text.count("…")) / per_token,
        "bullet_lines_frac": sum(line.startswith(_BULLETS) for line in t.lines) / n_lines,
        "ellipsis_lines_frac": sum(line.endswith(("...", "…")) for line in t.lines) / n_lines,
        # Gopher's "80 % of words contain an alphabetic character", over the same words as its word count;
        # datatrove divides by all tokens, so every comma and full stop counts as a word without a letter
        # (docs/quality-rules.md: that rejects 13 % of hand-labelled news article bodies).
        "alpha_words_frac": words.with_letters / per_word,
        "stop_words": words.stop_words,
        "dup_line_frac": line_dups / n_lines,
        "dup_para_frac": para_dups / max(len(t.paragraphs), 1),
        "dup_line_char_frac": line_dup_chars / n_chars,
        "dup_para_char_frac": para_dup_chars / n_chars,
    }
    for n in TOP_NGRAMS:
        signals[f"top_{n}gram_char_frac"] = (grams.top_chars() if grams.advance(n) else 0) / n_chars
    for n in DUP_NGRAMS:
        signals[f"dup_{n}gram_char_frac"] = (grams.duplicate_chars() if grams.advance(n) else 0) / n_chars
    terminal = sum(line.endswith(C4_TERMINAL) and not line.endswith("...") for line in t.lines) / n_lines
    signals.update(
        {
            "lorem_ipsum": "lorem ipsum" in c4_text.lower(),
            "curly_brace": "{" in c4_text,
            "c4_sentences": _c4_sentences(c4_text, c4_lines),
            "terminal_punct_lines_frac": terminal,
            "line_punct_ratio": sum(line.endswith(sentence_terminals()) for line in t.lines) / n_lines,
            "short_line_ratio": sum(len(line) <= _SHORT_LINE_CHARS for line in t.lines) / n_lines,
            "char_dup_ratio": line_dup_chars / max(len(text.replace("\n", "")), 1),
            "list_ratio": text.count("\n") / per_token,
        }
    )
    return signals
