"""The token statistics of a batch of documents at once: Gopher's word counts and its n-gram rules.

The tokens of all documents are held flat, each as the id of its string in one vocabulary for the
batch, so every per-token test runs once per distinct string and every count is a numpy operation over
the whole batch, not a few dozen small ones per document (which cost more than the counting itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

_ASCII_ALNUM = np.array([chr(code).isalnum() for code in range(128)], dtype=bool)
_UNDERSCORE = ord("_")


def word_flags(tokens: list[str], lengths: np.ndarray) -> np.ndarray:
    """Whether each (non-empty) token is a word, i.e. not a punctuation mark, as a boolean array;
    `lengths`: the tokens' lengths. A word starts with a letter or a digit, or is a run of word
    characters starting with "_" (the tokenizer yields a lone "_" like any other mark).

    The first characters are tested as code points against an ASCII table, and only non-ASCII ones one
    by one: most tokens start with an ASCII character.
    """
    firsts = "".join([token[0] for token in tokens])
    codes = np.frombuffer(firsts.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    ascii_ = codes < 128
    flags = np.zeros(len(tokens), dtype=bool)
    flags[ascii_] = _ASCII_ALNUM[codes[ascii_]]
    for i in np.flatnonzero(~ascii_).tolist():
        flags[i] = firsts[i].isalnum()
    underscore = codes == _UNDERSCORE
    flags[underscore] = lengths[underscore] > 1
    return flags


def _group(keys: np.ndarray, order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a dense id per key, equal keys sharing one; how many keys have each id; the distinct keys).

    np.unique's job, with a stable sort: the keys come in runs (one document after the other), which
    the stable sort (timsort) exploits; np.unique's quicksort takes about three times as long here.
    `order`: the keys' stable sorting order, when the caller has a faster way to it.
    """
    if order is None:
        order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    new = np.empty(len(keys), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    ids = np.empty(len(keys), dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(keys)))
    return ids, counts, ordered[starts]


def _vocabulary(tokens: list[str]) -> tuple[list[str], np.ndarray]:
    """(the distinct tokens, each token's index among them).

    Arrow's dictionary encoding, a third faster than a dict; Python strings Arrow cannot hold (lone
    surrogates, never in a dataset's text) take the dict.
    """
    try:
        encoded = pa.array(tokens, pa.string()).dictionary_encode()
    except UnicodeEncodeError:
        index: dict[str, int] = dict.fromkeys(tokens, 0)
        for number, token in enumerate(index):
            index[token] = number
        return list(index), np.fromiter(map(index.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _per_document(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of `values` (one per token) over each document's tokens, as int64."""
    cumulative = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=cumulative[1:])
    return cumulative[offsets[1:]] - cumulative[offsets[:-1]]


@dataclass(frozen=True)
class WordCounts:
    """Gopher's word statistics of each document of a batch (words are the tokens that are not punctuation)."""

    count: np.ndarray  # word occurrences
    characters: np.ndarray  # their characters
    with_letters: np.ndarray  # occurrences of words holding at least one letter
    stop_words: list[int | None]  # distinct stop words present (None: no list for the document's language)


class BatchGrams:
    """The repeated n-grams of the token lists of a batch of documents, as integer ids, for n = 1, 2, 3 … in turn.

    Only positions whose n-gram occurs more than once in its document are kept: an n-gram that occurs
    once cannot start a repeated (n+1)-gram, nor be a repeat itself. Tokens are whitespace-free and
    non-empty, so two n-grams join to the same string exactly when their tokens are equal: a 1-gram's
    id stands for (document, token) and an n-gram's id for its (n-1)-gram prefix's id paired with its
    last token, made dense again at every step. The document is part of every id, so n-grams of
    different documents never share one, and nothing is hashed, so no two different n-grams collide.
    """

    def __init__(self, tokens: list[str], sizes: list[int]) -> None:
        """`tokens`: the tokens of every document, one document after the other; `sizes`: how many each has."""
        self.documents = len(sizes)
        self.offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.offsets[1:])
        # The batch's distinct tokens; `_token_ids` names each position's one.
        self.vocabulary, self._token_ids = _vocabulary(tokens)
        self._lengths = np.fromiter(map(len, self.vocabulary), dtype=np.int64, count=len(self.vocabulary))
        self._size = max(len(self.vocabulary), 1)
        self._document = np.repeat(np.arange(self.documents, dtype=np.int64), sizes)
        self._cumulative = np.zeros(len(tokens) + 1, dtype=np.int64)
        np.cumsum(self._lengths[self._token_ids], out=self._cumulative[1:])
        self.n = 1
        # Start positions of the repeated n-grams (ascending), their ids, and each id's count. A 1-gram is
        # a (token, document) pair. Positions ascend with the document, so sorting them by token alone,
        # stably, sorts the pairs; with fewer than 2^16 distinct tokens numpy does that with a radix sort.
        pairs = self._token_ids * self.documents + self._document
        order = None
        if len(self.vocabulary) <= 1 << 16:
            order = np.argsort(self._token_ids.astype(np.uint16), kind="stable")
        ids, counts, pairs = _group(pairs, order)
        repeated = counts[ids] > 1
        self._positions = np.flatnonzero(repeated)
        self._ids = ids[repeated]
        self._counts = counts
        # The distinct (token, document) pairs, for what counts distinct tokens per document.
        self._pairs = pairs

    def word_counts(self, stops: list[frozenset[str] | None]) -> WordCounts:
        """Gopher's word statistics per document; `stops`: each document's stop-word list (None: none).
        Each distinct token is tested once rather than once per occurrence."""
        is_word = word_flags(self.vocabulary, self._lengths)
        # A word holds a letter when it is all letters (most are), else when any of its characters is one.
        letters = np.fromiter(map(str.isalpha, self.vocabulary), dtype=bool, count=len(self.vocabulary))
        letters &= is_word
        for number in np.flatnonzero(is_word & ~letters).tolist():
            letters[number] = any(c.isalpha() for c in self.vocabulary[number])
        word_at = is_word[self._token_ids]
        stop_counts: list[int | None] = [None] * self.documents
        if any(s is not None for s in stops):
            self._count_stop_words(stops, is_word, stop_counts)
        return WordCounts(
            count=_per_document(word_at.astype(np.int64), self.offsets),
            characters=_per_document(np.where(word_at, self._lengths[self._token_ids], 0), self.offsets),
            with_letters=_per_document(letters[self._token_ids].astype(np.int64), self.offsets),
            stop_words=stop_counts,
        )

    def _count_stop_words(self, stops: list[frozenset[str] | None], is_word: np.ndarray, out: list[int | None]) -> None:
        """Gopher counts the stop words present, not their uses: per document, the distinct case-folded
        words found in its list."""
        token, document = np.divmod(self._pairs, max(self.documents, 1))
        words = np.flatnonzero(is_word).tolist()
        folded = {number: self.vocabulary[number].casefold() for number in words}
        for language_stops in {id(s): s for s in stops if s is not None}.values():
            members = sorted(language_stops)
            number_of = {word: i for i, word in enumerate(members)}
            stop_id = np.full(len(self.vocabulary), -1, dtype=np.int64)
            for number in words:
                stop_id[number] = number_of.get(folded[number], -1)
            uses = np.array([s is language_stops for s in stops], dtype=bool)
            present = uses[document] & (stop_id[token] >= 0)
            distinct = np.unique(document[present] * len(members) + stop_id[token[present]])
            counts = np.bincount(distinct // max(len(members), 1), minlength=self.documents).tolist()
            for d in np.flatnonzero(uses).tolist():
                out[d] = counts[d]

    def advance(self, n: int) -> None:
        """Move to n-grams (n at least the current n)."""
        while self.n < n:
            if len(self._positions) == 0:
                # No repeated n-gram: no longer n-gram repeats either.
                self.n = n
                break
            self.n += 1
            ends = self.offsets[self._document[self._positions] + 1]
            extends = self._positions + self.n <= ends
            positions = self._positions[extends]
            key = self._ids[extends] * self._size + self._token_ids[positions + (self.n - 1)]
            ids, counts, _ = _group(key)
            repeated = counts[ids] > 1
            self._positions = positions[repeated]
            self._ids = ids[repeated]
            self._counts = counts

    def _chars(self, spaces: bool) -> np.ndarray:
        """Characters of each repeated n-gram: its tokens, and the spaces between when `spaces`."""
        chars = self._cumulative[self._positions + self.n] - self._cumulative[self._positions]
        return chars + (self.n - 1) if spaces else chars

    def top_chars(self) -> list[int]:
        """Per document, characters (tokens joined by spaces) of its most frequent n-gram times its count
        (0 when no n-gram repeats).

        Among equally frequent n-grams the one seen first decides, as `Counter.most_common` does.
        """
        out = [0] * self.documents
        if len(self._positions) == 0:
            return out
        counts = self._counts[self._ids]
        document = self._document[self._positions]
        # Positions ascend, so each document's repeated n-grams are one run.
        starts = np.flatnonzero(np.concatenate(([True], document[1:] != document[:-1])))
        top = np.maximum.reduceat(counts, starts)
        at_top = np.flatnonzero(counts == np.repeat(top, np.diff(np.append(starts, len(counts)))))
        firsts = at_top[np.concatenate(([True], document[at_top][1:] != document[at_top][:-1]))]
        chars = self._chars(True)[firsts]
        for d, value in zip(document[starts].tolist(), (top * chars).tolist(), strict=True):
            out[d] = value
        return out

    def duplicate_chars(self) -> list[int]:
        """Per document, characters of the n-grams that repeat an earlier n-gram of it, tokens without the
        spaces between (datatrove joins them with ""); a repeat skips past itself so no token counts twice."""
        out = [0] * self.documents
        if len(self._positions) == 0:
            return out
        chars = self._chars(False).tolist()
        documents = self._document[self._positions].tolist()
        seen: set[int] = set()
        index = 0
        # A scan one position at a time would also visit the n-grams that occur once, but those can
        # never be found in `seen`, so only the repeated ones need walking. Ids differ between documents
        # and a repeat never reaches past its document's end, so one scan serves the whole batch.
        positions, grams = self._positions.tolist(), self._ids.tolist()
        for position, gram, length, d in zip(positions, grams, chars, documents, strict=True):
            if position < index:
                continue
            if gram in seen:
                out[d] += length
                index = position + self.n
            else:
                seen.add(gram)
                index = position + 1
        return out
