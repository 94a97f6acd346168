"""Shingle hashes of a whole batch at once, without a Python loop per token or per shingle.

Normalisation and tokenising run in Arrow's C++ kernels on the batch's text column (NFKC, lower case,
punctuation to spaces, optionally digits to 0). Characters of scripts written without spaces (Han,
kana, Thai, Lao, Khmer, Myanmar, Tibetan) become tokens of their own, so a run of them yields
character n-grams while the words around it still yield word n-grams.

Tokens are hashed once per distinct token of the batch (xxh3-64, seeded); an n-gram's hash is a
seeded multiply-add of its token hashes by position, finalised with the splitmix64 mixer, computed
with numpy over the batch's flat token array. A document with fewer than `ngram` tokens (even none)
is one shingle of all its tokens, so every document has at least one shingle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

# One token per character (with its combining marks) for scripts that do not separate words.
_UNSPACED = r"([\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]\p{M}*)"
UNSPACED_SCRIPTS = "Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Tibetan"

_U = np.uint64


def splitmix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijective 64-bit mixer (wrap-around arithmetic is intended)."""
    z = z.copy()
    z ^= z >> _U(30)
    z *= _U(0xBF58476D1CE4E5B9)
    z ^= z >> _U(27)
    z *= _U(0x94D049BB133111EB)
    z ^= z >> _U(31)
    return z


def normalized_tokens(texts: pa.Array | pa.ChunkedArray, normalize_digits: bool) -> pa.ListArray:
    """The normalised tokens of each text, as an Arrow list array."""
    t = pc.utf8_normalize(texts, form="NFKC")
    t = pc.utf8_lower(t)
    t = pc.replace_substring_regex(t, r"\p{P}+", " ")
    if normalize_digits:
        t = pc.replace_substring_regex(t, r"\p{Nd}", "0")
    t = pc.replace_substring_regex(t, _UNSPACED, r" \1 ")
    t = pc.utf8_trim_whitespace(t)
    tokens = pc.utf8_split_whitespace(t)
    if isinstance(tokens, pa.ChunkedArray):
        tokens = tokens.combine_chunks()
    # An empty text splits into [""]: drop those so it counts as zero tokens.
    return _drop_empty(tokens)


def _drop_empty(tokens: pa.ListArray) -> pa.ListArray:
    lengths = pc.list_value_length(tokens).to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(tokens)
    keep = pc.not_equal(pc.utf8_length(flat), 0)
    if pc.all(keep).as_py() is not False:
        return tokens
    keep_np = keep.to_numpy(zero_copy_only=False)
    doc_of = np.repeat(np.arange(len(lengths)), lengths)
    new_lengths = np.bincount(doc_of[keep_np], minlength=len(lengths))
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(new_lengths, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), flat.filter(keep))


@dataclass(frozen=True)
class Shingled:
    """Shingle hashes of a batch: document i owns hashes[offsets[i]:offsets[i + 1]] (at least one)."""

    hashes: np.ndarray  # uint64, possibly repeated within a document
    offsets: np.ndarray  # int64, len = documents + 1
    tokens: np.ndarray  # int64 tokens per document ("words" for the keep priority)


class Shingler:
    def __init__(self, ngram: int, seed: int, normalize_digits: bool) -> None:
        self.ngram = ngram
        self.seed = seed
        self.normalize_digits = normalize_digits
        rng = np.random.default_rng([seed, 0x5348494E])
        # Odd multipliers per position in the n-gram, and one for its length (short documents).
        self._position = rng.integers(1, 2**63, ngram + 1, dtype=np.uint64) * _U(2) + _U(1)

    def token_hashes(self, tokens: pa.ListArray) -> np.ndarray:
        flat = pc.list_flatten(tokens)
        if len(flat) == 0:
            return np.empty(0, dtype=np.uint64)
        encoded = pc.dictionary_encode(flat)
        # Hash each distinct token once: a batch has far fewer distinct tokens than tokens.
        seed = self.seed & 0xFFFFFFFFFFFFFFFF
        distinct = np.fromiter(
            (xxhash.xxh3_64_intdigest(s, seed) for s in encoded.dictionary.cast(pa.binary()).to_pylist()),
            dtype=np.uint64,
            count=len(encoded.dictionary),
        )
        return distinct[encoded.indices.to_numpy(zero_copy_only=False)]

    def shingle(self, texts: pa.Array | pa.ChunkedArray) -> Shingled:
        tokens = normalized_tokens(texts, self.normalize_digits)
        hashes = self.token_hashes(tokens)
        lengths = pc.list_value_length(tokens).to_numpy(zero_copy_only=False).astype(np.int64)
        n = self.ngram
        starts_of_doc = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts_of_doc[1:])
        counts = np.maximum(lengths - n + 1, 1)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        total = int(offsets[-1])
        # Shingle k of document d starts at token starts_of_doc[d] + k and spans min(n, length) tokens.
        doc = np.repeat(np.arange(len(lengths)), counts)
        start = starts_of_doc[doc] + (np.arange(total, dtype=np.int64) - offsets[doc])
        width = np.minimum(lengths, n)[doc]
        padded = np.concatenate([hashes, np.zeros(n, dtype=np.uint64)])
        acc = width.astype(np.uint64) * self._position[n]
        for j in range(n):
            term = padded[start + j] * self._position[j]
            term[width <= j] = 0
            acc += term
        return Shingled(hashes=splitmix64(acc), offsets=offsets, tokens=lengths)
