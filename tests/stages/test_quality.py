"""quality: the signals, the filters with their published defaults, per-language rules and the score."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REPO, read_dataset, read_ledger, write

from pipeline.errors import UsageError
from pipeline.stages.quality import Quality, QualityConfig
from pipeline.stages.quality.signals import compute, duplicate_ngram_chars, stop_words, top_ngram_chars

PROSE = (
    "The river that runs through the old town has flooded three times in the last decade, and each time "
    "the water reached the steps of the library before it turned back. Engineers from the university have "
    "studied the banks with care and believe that a new wall, built with stone from the quarry to the north, "
    "would protect the houses that stand closest to the bend. The council has agreed to pay for half of the "
    "work, and the rest will come from a fund that residents started with a small fair in the spring. "
    "Building starts in May. The library will stay open while the work goes on."
)


def test_seed_pages_pass_the_filters_with_a_high_score(run_pipeline) -> None:
    result = run_pipeline(REPO / "raw")
    rows = read_dataset(result.dataset).to_pylist()
    assert len(rows) == 5
    for row in rows:
        assert 0.5 <= row["quality_score"] <= 1.0
        assert row["quality"]["words"] >= 50
        assert row["quality"]["stop_words"] >= 2
        assert row["quality"]["lorem_ipsum"] is False


def test_signals_of_a_known_text() -> None:
    text = "alpha beta gamma\n\nalpha beta gamma\n\n#tag ... done"
    s = compute(text, "en")
    assert s["words"] == 8  # '...' is punctuation, not a word
    assert s["dup_line_frac"] == pytest.approx(1 / 3)  # blank lines are not lines
    assert s["dup_para_frac"] == pytest.approx(1 / 3)
    assert s["dup_line_char_frac"] == pytest.approx(len("alpha beta gamma") / len(text))
    # Symbol ratios and the list ratio count tokens, punctuation included ("#" and "..." are tokens).
    assert s["hash_word_ratio"] == pytest.approx(1 / 10)
    assert s["ellipsis_word_ratio"] == pytest.approx(1 / 10)
    # Gopher's alpha-word fraction is over words: "#" and "..." are not words without a letter.
    assert s["alpha_words_frac"] == 1.0
    assert compute("alpha beta 2019 gamma, delta.", "en")["alpha_words_frac"] == pytest.approx(4 / 5)
    assert s["stop_words"] == 0
    assert s["short_line_ratio"] == 1.0
    assert s["list_ratio"] == pytest.approx(4 / 10)


def test_c4_page_rules_look_only_at_the_lines_c4_keeps() -> None:
    # C4 drops lines without terminal punctuation or with fewer than 3 words before its page rules:
    # a code line does not condemn the page, and neither do its sentences count.
    code = PROSE + "\n\nfunction f() { return 1; }\nlorem ipsum"
    s = compute(code, "en")
    assert s["curly_brace"] is False and s["lorem_ipsum"] is False
    assert s["c4_sentences"] == 5
    assert compute("One. Two. Three.\nJust three words.\nNo end here\nToo short.", "en")["c4_sentences"] == 4


def test_ngram_repetition_signals() -> None:
    words = ["a", "b", "c", "a", "b", "c", "a", "b"]
    # most frequent 2-gram: "a b" three times (spaces count, as in datatrove's " ".join)
    assert top_ngram_chars(words, 2) == 3 * len("a b")
    # 3-grams: "a b c", "b c a", "c a b", then "a b c" repeats (counted, skip 3), "a b" too short;
    # repeated n-grams count their words' characters only (datatrove's "".join)
    assert duplicate_ngram_chars(words, 3) == len("abc")
    assert top_ngram_chars(["x", "y", "z"], 2) == 0  # nothing repeats


@pytest.mark.parametrize(
    ("text", "rule", "detail_start"),
    [
        ("A short note that says very little at all.", "gopher_min_words", "words=9 < gopher_min_words=50"),
        (PROSE + "\n\nLorem ipsum dolor sit amet.", "c4_lorem_ipsum", "lorem_ipsum found"),
        (PROSE + "\n\nThe letter starts with {name} and ends with a date.", "c4_curly_brace", "curly_brace found"),
        ((PROSE + "\n\n") * 3, "gopher_max_dup_line_frac", "dup_line_frac=0.6667 > gopher_max_dup_line_frac=0.3"),
        (
            "\n".join(["Home", "News", "Sport", "Weather", "Contact", "Shop", PROSE]),
            "fineweb_max_short_lines",
            "short_line_ratio=0.8571 >= fineweb_max_short_lines=0.67",
        ),
    ],
)
def test_failing_documents_are_rejected_with_rule_and_value(
    tmp_path: Path, run_pipeline, text: str, rule: str, detail_start: str
) -> None:
    write(tmp_path / "in" / "bad.txt", text)
    write(tmp_path / "in" / "good.txt", PROSE)
    result = run_pipeline(tmp_path / "in", 'run.stages=["normalize", "language", "quality"]')
    (row,) = read_ledger(result).to_pylist()
    assert (row["source"], row["stage"], row["reason"]) == ("bad.txt", "quality", f"quality:{rule}")
    assert row["detail"].startswith(detail_start)
    assert result.records_published == 1


def test_disabled_rules_neither_reject_nor_score() -> None:
    text = PROSE + "\n\nLorem ipsum dolor sit amet."
    strict = Quality(QualityConfig()).evaluate(compute(text, "en"), "en")
    relaxed = Quality(QualityConfig(disabled_rules=["c4_lorem_ipsum"])).evaluate(compute(text, "en"), "en")
    assert strict[1] is not None and strict[1][0] == "c4_lorem_ipsum"
    assert relaxed[1] is None
    assert relaxed[0] > strict[0]


def test_filter_false_keeps_everything(tmp_path: Path, run_pipeline) -> None:
    write(tmp_path / "in" / "short.txt", "A short note that says very little at all.")
    result = run_pipeline(tmp_path / "in", "quality.filter=false", 'run.stages=["normalize", "language", "quality"]')
    (row,) = read_dataset(result.dataset).to_pylist()
    assert row["quality_score"] < 0.5


def test_languages_without_a_stop_word_list_skip_that_rule() -> None:
    assert stop_words("en") is not None and stop_words("sw") is None
    quality = Quality(QualityConfig())
    swahili = (
        "Watoto wanacheza mpira uwanjani kila jioni baada ya shule kumalizika. Mwalimu wao mkuu anasema "
        "michezo huwasaidia kujifunza ushirikiano na nidhamu. Wazazi wengi hukusanyika pembeni kuwatazama "
        "huku wakizungumza kuhusu mavuno ya mwaka huu.\n\nMvua za masika zilianza mapema, hivyo wakulima "
        "walipanda mahindi na maharagwe kwa wakati. Soko la kijiji limejaa matunda kama maembe, machungwa "
        "na ndizi. Bei zimeshuka kidogo kwa sababu mazao ni mengi.\n\nSerikali ya wilaya imeahidi kujenga "
        "barabara mpya itakayounganisha kijiji na mji mkubwa ulio karibu. Wananchi wanatumaini kwamba "
        "usafiri utakuwa rahisi na biashara itaongezeka."
    )
    signals = compute(swahili, "sw")
    assert signals["stop_words"] is None
    assert quality.evaluate(signals, "sw")[1] is None
    # The same text claimed as English has no English stop words and fails that rule.
    failure = quality.evaluate(compute(swahili, "en"), "en")[1]
    assert failure is not None and failure[0] == "gopher_min_stop_words"


def test_unsegmented_languages_skip_word_rules() -> None:
    japanese = "。".join(["今日は朝から雨が降っていたので、図書館で本を読んで過ごしました"] * 1)
    text = "\n\n".join(f"{japanese}。第{i}章では新しい考え方を紹介しています。" for i in range(6))
    quality = Quality(QualityConfig())
    assert quality.evaluate(compute(text, "ja"), "ja")[1] is None
    failure = quality.evaluate(compute(text, "xx"), "xx")[1]
    assert failure is not None and failure[0] == "gopher_min_words"


def test_language_overrides_replace_thresholds() -> None:
    short = "Der kurze Text hat nur wenige Worte, aber die sind gut und der Rest ist nicht so wichtig."
    default = Quality(QualityConfig()).evaluate(compute(short, "de"), "de")[1]
    assert default is not None and default[0] == "gopher_min_words"
    relaxed = Quality(QualityConfig(language_overrides={"de": {"gopher_min_words": 10, "c4_min_sentences": 1}}))
    assert relaxed.evaluate(compute(short, "de"), "de")[1] is None


def test_unknown_rule_names_are_usage_errors(tmp_path: Path, run_pipeline) -> None:
    write(tmp_path / "in" / "a.txt", PROSE)
    with pytest.raises(UsageError, match="unknown rule 'no_such_rule'"):
        run_pipeline(tmp_path / "in", 'quality.disabled_rules=["no_such_rule"]')
    with pytest.raises(UsageError, match="unknown threshold 'gopher_min_wrds'"):
        run_pipeline(tmp_path / "in", "quality.language_overrides={de = {gopher_min_wrds = 3}}")


def test_score_orders_documents_by_headroom() -> None:
    quality = Quality(QualityConfig())
    good = quality.evaluate(compute(PROSE, "en"), "en")[0]
    # A teaser line ending in an ellipsis: within the limit, with less headroom.
    listy = quality.evaluate(compute(PROSE.replace(". ", ".\n") + "\nMore on this story soon...", "en"), "en")[0]
    assert 0.5 <= listy < good <= 1.0
