import numpy as np
import pyarrow as pa

from pipeline.stages.dedup_near.shingles import Shingler, normalized_tokens


def tokens(text: str, normalize_digits: bool = False) -> list[str]:
    return normalized_tokens(pa.array([text]), normalize_digits).to_pylist()[0]


def test_normalisation_folds_width_case_punctuation_and_whitespace() -> None:
    assert tokens("  Ｈｅｌｌｏ,\tWORLD!!  ﬁne—day ") == ["hello", "world", "fine", "day"]


def test_digits_are_kept_unless_normalised() -> None:
    assert tokens("Call 555-1234") == ["call", "555", "1234"]
    assert tokens("Call 555-1234", normalize_digits=True) == ["call", "000", "0000"]


def test_unspaced_scripts_become_one_token_per_character_and_words_stay_words() -> None:
    assert tokens("東京タワーはTokyo Towerです。") == ["東", "京", "タ", "ワ", "ー", "は", "tokyo", "tower", "で", "す"]
    # A Thai consonant keeps its vowel and tone marks.
    assert tokens("นิด") == ["นิ", "ด"]


def test_every_document_has_at_least_one_shingle() -> None:
    shingled = Shingler(5, 0, False).shingle(pa.array(["", "!!!", "two words", "a b c d e f"]))
    assert np.diff(shingled.offsets).tolist() == [1, 1, 1, 2]
    assert shingled.tokens.tolist() == [0, 0, 2, 6]


def test_shingle_hashes_do_not_depend_on_the_rest_of_the_batch() -> None:
    shingler = Shingler(3, 5, False)
    alone = shingler.shingle(pa.array(["one two three four"]))
    together = shingler.shingle(pa.array(["zero", "one two three four", "four three two one"]))
    assert alone.hashes.tolist() == together.hashes[together.offsets[1] : together.offsets[2]].tolist()
    # Order matters: the reversed text shares no shingle.
    assert not set(alone.hashes.tolist()) & set(together.hashes[together.offsets[2] :].tolist())
