"""clean: rule lists, the corpus line-frequency pass, edge trimming, the audit table and rejections."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import FIXTURES, REPO, read_dataset, read_ledger, write

from pipeline.errors import UsageError
from pipeline.stages.clean import Clean, CleanConfig, frequency_key
from pipeline.stages.clean.line_counts import DocumentFrequency, line_hash
from pipeline.stages.clean.line_keys import DIGIT_LEAD_BYTES, collapse_lines, fold_lines, fold_text, key_bytes
from pipeline.stages.normalize import Normalize, NormalizeConfig

ARTICLE = (
    "The council met on Tuesday to discuss the new budget for the library and the public pool. "
    "Members agreed that both buildings need repairs before the winter season begins in earnest."
)


def paragraph(topic: str) -> str:
    return (
        f"This paragraph is about {topic} and it is long enough to count as prose in every sense. "
        f"It ends with a full stop, like the other sentences written about {topic} here."
    )


def removed_lines(result) -> pa.Table:
    return pq.read_table(result.report / "removed_lines.parquet")


def run_clean(texts: list[str], **config) -> tuple[list[str | None], list[dict]]:
    """Run the stage on one batch; returns the cleaned texts (None: rejected) and the audit rows."""
    batch = pa.RecordBatch.from_pydict(
        {
            "id": [f"d{i}" for i in range(len(texts))],
            "text": texts,
            "source": [f"s{i}" for i in range(len(texts))],
            "url": [None] * len(texts),
            "file": ["f"] * len(texts),
        }
    )
    stage = Clean(CleanConfig(**config))
    stage.collect(batch, stage.prepare(batch))
    stage.decide()
    result = stage.apply(batch)
    kept = dict(zip(result.kept.column("id").to_pylist(), result.kept.column("text").to_pylist(), strict=True))
    return [kept.get(f"d{i}") for i in range(len(texts))], result.side["removed_lines"].to_pylist()


# -- the seed pages -------------------------------------------------------------------------------


def test_seed_pages_lose_their_furniture_and_keep_their_articles(run_pipeline) -> None:
    result = run_pipeline(REPO / "raw")
    assert result.records_published == 5
    data = read_dataset(result.dataset)
    texts = dict(zip(data.column("source").to_pylist(), data.column("text").to_pylist(), strict=True))
    audit = removed_lines(result).to_pylist()
    removed = {row["line"] for row in audit}

    for furniture in [
        "Leave a Reply",
        "Your email address will not be published. Required fields are marked *",
        "Main Menu",
        "Home / CIO / The CMO & CIO: A Beautiful Friendship",
        "Show More",
        "We use cookies on our website",
        "Register or Login to continue",
        "Sign in",
        "Unsubscribe at any time",
        "TAGS: CIO CMO Executive Education Marketing Mike Moran",
        "About the author",
        "View author's profile",
    ]:
        assert furniture in removed, furniture
        assert all(furniture not in text.split("\n") for text in texts.values()), furniture
    assert any(line.startswith("This website uses cookies") for line in removed)

    # Every seed keeps its article: its first and last real paragraphs survive.
    for source, first, last in [
        ("000_9bc0f25a4e0874a5.txt", "As the customer demand for digital", "needs to blossom into more than"),
        ("001_186b5cfa44f12291.txt", "Many people in the digital field", "will drive authentic, consistent"),
        ("002_6fa8fbbefa0e3860.txt", "A good buddy cop movie", "quite the dynamic duo"),
        ("003_bc2d01779e9329f0.txt", "Today's connected customer", "involve CIOs when planning new"),
        ("004_f3e0b8c3ab097675.txt", "I won’t show you all the studies", "I’d start looking for a place"),
    ]:
        assert first in texts[source] and last in texts[source], source
    # Headings inside an article are content.
    assert "\nDifferent Interests\n" in texts["000_9bc0f25a4e0874a5.txt"]
    # The related-posts teasers after the log-in wall and the comment box are gone with them.
    assert "Top tips to uncovering consumer insights" not in texts["003_bc2d01779e9329f0.txt"]
    assert "Matt Whale" not in texts["003_bc2d01779e9329f0.txt"]

    # The published count equals the audit rows per record.
    per_id = Counter(row["id"] for row in audit)
    for rid, count in zip(data.column("id").to_pylist(), data.column("removed_lines").to_pylist(), strict=True):
        assert per_id[rid] == count


def test_removed_lines_table_names_document_line_and_rule(run_pipeline) -> None:
    result = run_pipeline(REPO / "raw")
    table = removed_lines(result)
    assert table.column_names == ["id", "line_number", "line", "rule"]
    raw = (REPO / "raw" / "002_6fa8fbbefa0e3860.txt").read_text(encoding="utf-8")
    # Line numbers count lines of the text as clean received it, after normalize.
    source = Normalize(NormalizeConfig()).normalize(raw).split("\n")
    data = read_dataset(result.dataset).to_pylist()
    rid = next(r["id"] for r in data if r["source"] == "002_6fa8fbbefa0e3860.txt")
    rows = [r for r in table.to_pylist() if r["id"] == rid]
    assert rows
    for row in rows:
        assert source[row["line_number"] - 1] == row["line"]
    assert {r["line"]: r["rule"] for r in rows}["Leave a Reply"] == "comment_form"


# -- rule lists -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("We use cookies to improve your experience. Accept all cookies", "cookie_notice"),
        ("Sign up", "login_prompt"),
        ("Subscribe to our newsletter", "subscribe_prompt"),
        ("Leave a comment", "comment_form"),
        ("Share on Facebook", "share_links"),
        ("Read more", "read_more"),
        ("© 2024 Example Media. All rights reserved.", "rights"),
        ("Please enable JavaScript to view the comments.", "javascript"),
        ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.", "lorem_ipsum"),
        ("Skip to content", "navigation"),
        ("Diese Website verwendet Cookies.", "cookie_notice"),
        ("Tous droits réservés.", "rights"),
        ("Leer más", "read_more"),
    ],
)
def test_rule_lists_remove_web_furniture(line: str, rule: str) -> None:
    # (Prose after the line keeps it inside the article, so only its rule can remove it.)
    texts, audit = run_clean([f"{ARTICLE}\n\n{line}\n\n{paragraph('the vote')}"])
    assert line not in texts[0]
    assert [(r["line"], r["rule"]) for r in audit] == [(line, rule)]


def test_rules_spare_long_paragraphs_that_mention_furniture_words() -> None:
    prose = (
        "Regulators asked why this website uses cookies at all, and the company replied that it needs them "
        "to remember the language a reader chose, which the court found reasonable after a long hearing "
        "in which both sides read from the privacy policy and the newsletter archive."
    )
    texts, audit = run_clean([f"{ARTICLE}\n\n{prose}\n\n{paragraph('the hearing')}"])
    assert prose in texts[0]
    assert audit == []


def test_unknown_rule_list_is_a_usage_error(tmp_path: Path, run_pipeline) -> None:
    write(tmp_path / "in" / "a.txt", ARTICLE)
    with pytest.raises(UsageError, match=r"unknown rule list 'xx'"):
        run_pipeline(tmp_path / "in", 'clean.rule_lists=["en", "xx"]')


# -- edge trimming --------------------------------------------------------------------------------


def test_short_lines_are_trimmed_at_the_edges_and_kept_inside() -> None:
    text = "\n".join(
        [
            "Products",
            "Pricing",
            "Company blog",
            "",
            paragraph("rivers"),
            "",
            "Why rivers flood",
            "",
            paragraph("floods"),
            "",
            "Posted by Jane",
            "Older entries",
        ]
    )
    texts, audit = run_clean([text])
    assert texts[0].split("\n") == [paragraph("rivers"), "", "Why rivers flood", "", paragraph("floods")]
    assert {(r["line"], r["rule"]) for r in audit} == {
        ("Products", "edge_head"),
        ("Pricing", "edge_head"),
        ("Company blog", "edge_head"),
        ("Posted by Jane", "author_box"),
        ("Older entries", "edge_tail"),
    }


def test_a_long_line_without_any_sentence_mark_is_furniture_at_the_edges() -> None:
    # A tag cloud or keyword list: many words, not one full stop, comma or colon. Long enough to outscore
    # a short article when counted as prose, so it must count as furniture.
    tags = "budget council library pool repairs winter elections mayor bridge river floods housing transport schools"
    tags += " parks taxes weather sport culture events"
    prose = "The mayor said the bridge will reopen in spring, once the repairs to the river bank are finished"
    text = "\n\n".join([ARTICLE, tags, paragraph("the bridge"), prose, "Tags", tags, tags.upper()])
    [cleaned], audit = run_clean([text])
    assert cleaned is not None
    # Inside the article the line stays (edge trimming never cuts inside the kept span); a long line with
    # commas is prose even without a full stop at its end.
    assert cleaned.split("\n\n") == [ARTICLE, tags, paragraph("the bridge"), prose]
    assert [(row["line"], row["rule"]) for row in audit] == [
        ("Tags", "edge_tail"),
        (tags, "edge_tail"),  # outside the kept span: trimmed there, before repeats are decided
        (tags.upper(), "edge_tail"),
    ]


def test_comments_after_a_closing_line_are_trimmed_unless_closing_rules_are_emptied() -> None:
    comments = ["Great post, thanks a lot for sharing this with all of us.", "I agree with every word you wrote here."]
    text = "\n\n".join([paragraph("one"), paragraph("two"), "Leave a Reply", *comments])
    texts, audit = run_clean([text])
    assert texts[0] == f"{paragraph('one')}\n\n{paragraph('two')}"
    assert [r["rule"] for r in audit] == ["comment_form", "edge_tail", "edge_tail"]
    # As a plain removed line, "Leave a Reply" weighs less than the 19 words of prose after it.
    texts, audit = run_clean([text], edge_closing_rules=[])
    assert all(c in texts[0] for c in comments)
    assert [r["rule"] for r in audit] == ["comment_form"]


def test_unknown_closing_rule_is_a_usage_error(tmp_path: Path, run_pipeline) -> None:
    write(tmp_path / "in" / "a.txt", ARTICLE)
    with pytest.raises(UsageError, match=r"clean.edge_closing_rules: .*unknown rule 'comments'"):
        run_pipeline(tmp_path / "in", 'clean.edge_closing_rules=["comments"]')


def test_a_document_of_short_lines_only_is_not_trimmed() -> None:
    poem = "Roses in the rain\nLeaves upon the stone\nEvening comes again\nAnd I walk home alone"
    texts, audit = run_clean([poem])
    assert texts[0] == poem
    assert audit == []


# -- the corpus line-frequency pass ---------------------------------------------------------------


def test_lines_in_many_documents_are_removed_and_rare_ones_kept() -> None:
    banner = "Powered by ExampleCMS — proudly serving independent journalism since 2009, every day."
    shared_by_two = "As the old saying goes, the early bird catches the worm, and so it proved once more."
    texts = [f"{paragraph(t)}\n\n{banner}\n\n{paragraph(t + ' again')}" for t in ("a", "b", "c", "d")]
    texts[0] += f"\n\n{shared_by_two}\n\n{paragraph('end a')}"
    texts[1] += f"\n\n{shared_by_two}\n\n{paragraph('end b')}"
    cleaned, audit = run_clean(texts)
    assert all(banner not in t for t in cleaned)
    assert {r["rule"] for r in audit if r["line"] == banner} == {"frequent_line"}
    # Two of four documents is below the floor of frequent_min_documents = 3.
    assert shared_by_two in cleaned[0] and shared_by_two in cleaned[1]


def test_frequency_threshold_scales_with_the_corpus() -> None:
    stage = Clean(CleanConfig(frequent_min_documents=3, frequent_min_fraction=0.001))
    batch = pa.RecordBatch.from_pydict(
        {
            "id": [str(i) for i in range(5000)],
            "text": [f"doc {i}" for i in range(5000)],
            "source": ["s"] * 5000,
            "url": [None] * 5000,
            "file": ["f"] * 5000,
        }
    )
    stage.collect(batch, stage.prepare(batch))
    stage.decide()
    assert stage.threshold == 5  # ceil(0.001 x 5000)
    small = Clean(CleanConfig(frequent_min_documents=3, frequent_min_fraction=0.001))
    small.collect(batch.slice(0, 5), small.prepare(batch.slice(0, 5)))
    small.decide()
    assert small.threshold == 3


def test_copies_of_one_document_are_left_to_deduplication(tmp_path: Path, run_pipeline) -> None:
    for i in range(3):
        write(tmp_path / "in" / f"{i}.txt", f"{paragraph('copies')}\n\n{paragraph('more copies')}")
    result = run_pipeline(tmp_path / "in", 'run.stages=["normalize", "clean", "dedup_exact", "language"]')
    ledger = read_ledger(result).to_pylist()
    assert result.records_published == 1
    assert sorted(r["reason"] for r in ledger) == ["exact_duplicate", "exact_duplicate"]


def test_document_frequency_counts_distinct_documents_across_flushes(monkeypatch) -> None:
    import pipeline.stages.clean.line_counts as line_counts

    monkeypatch.setattr(line_counts, "_MIN_FLUSH", 4)
    counter = DocumentFrequency()
    keys = [line_hash(frequency_key(f"line {c}")) for c in "abcdef"]
    # Ten documents, added one at a time so the buffer is merged many times.
    documents = [[0, 1], [0, 2], [0], [1, 3], [0, 4], [5], [0, 1], [2], [0], [1]]
    for doc in documents:
        counter.add(np.array(sorted({keys[i] for i in doc}), dtype=np.uint64), 1)
    counter.finish(threshold=1)
    expected = Counter(i for doc in documents for i in set(doc))
    assert counter.counts(np.array(keys, dtype=np.uint64)).tolist() == [expected[i] for i in range(6)]
    assert counter.documents == 10


def test_frequency_key_ignores_case_spacing_and_digits() -> None:
    assert frequency_key("  Copyright   2019 ACME ") == frequency_key("copyright 2024 acme")


def test_line_keys_are_the_frequency_keys_of_the_lines() -> None:
    # A document's keys are made in one pass (line_keys.py); they must be each line's frequency_key,
    # including digits of other scripts, case folding that changes length, and odd whitespace.
    lines = [
        "  Copyright   2019 ACME ",
        "",
        " \t ",
        "Straße ΣΑΣ İstanbul ﬁx",
        "٣ Arabic-Indic ٤",
        "१२ देवनागरी",
        "x\u3000y\x1cz",
    ]
    text = "\n".join(lines)
    keys = key_bytes(fold_lines(collapse_lines(text, lines)))
    assert fold_text(text) == fold_lines(collapse_lines(text, lines))
    assert keys == [frequency_key(line).encode("utf-8") for line in lines]
    assert keys[4] == b"0 arabic-indic 0"
    # A text whose lines are collapsed already is taken as it is; one space too many anywhere is not.
    plain = ["Straße ΣΑΣ", "", "١٢ x"]
    assert collapse_lines("\n".join(plain), plain) is plain
    assert fold_text("\n".join(plain)) == fold_lines(plain)
    for odd in ("a  b", " a", "a ", "a \nb", "a\n b", "a\u00a0b", "a\tb", "a\u2028b"):
        assert collapse_lines(odd, odd.split("\n")) == [" ".join(line.split()) for line in odd.split("\n")]


def test_digit_lead_bytes_cover_every_decimal_digit() -> None:
    # key_bytes replaces ASCII digits with bytes.translate unless the text holds one of these bytes.
    leads = {
        chr(c).encode("utf-8")[0] for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF and chr(c).isdecimal()
    }
    assert leads <= set(DIGIT_LEAD_BYTES)


# -- rejection, audit, determinism ----------------------------------------------------------------


def test_a_page_of_nothing_but_furniture_is_rejected(tmp_path: Path, run_pipeline) -> None:
    write(tmp_path / "in" / "furniture.txt", "Main Menu\nSign in\n\nLeave a Reply\n\nRead more")
    write(tmp_path / "in" / "article.txt", f"{ARTICLE}\n\n{paragraph('x')}\n\n{paragraph('y')}")
    result = run_pipeline(tmp_path / "in", 'run.stages=["normalize", "clean", "language"]')
    (row,) = read_ledger(result).to_pylist()
    assert (row["source"], row["stage"], row["reason"]) == ("furniture.txt", "clean", "empty_after_clean")
    assert row["detail"].startswith("all 4 non-blank lines removed")
    assert row["text"].startswith("Main Menu")  # the ledger keeps the text as it reached clean
    assert len([r for r in removed_lines(result).to_pylist() if r["line"] == "Sign in"]) == 1


def test_output_does_not_depend_on_batch_size(tmp_path: Path, run_pipeline) -> None:
    a = run_pipeline(REPO / "raw", "run.batch_size=1", name="a", output=tmp_path / "a")
    b = run_pipeline(REPO / "raw", "run.batch_size=1000", name="b", output=tmp_path / "b")
    assert read_dataset(a.dataset).equals(read_dataset(b.dataset))
    assert removed_lines(a).equals(removed_lines(b))


# -- real pages from the article-extraction benchmark ---------------------------------------------


def _tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text))


def test_benchmark_pages_keep_the_article_and_lose_navigation() -> None:
    pages = json.loads((FIXTURES / "article_extraction" / "first3.json").read_text(encoding="utf-8"))
    keys = sorted(pages)
    cleaned, _ = run_clean([pages[k]["html_text"] for k in keys])
    for key, text in zip(keys, cleaned, strict=True):
        truth = _tokens(pages[key]["article_body"])
        before, after = _tokens(pages[key]["html_text"]), _tokens(text or "")
        recall = sum((truth & after).values()) / sum(truth.values())
        precision_before = sum((truth & before).values()) / sum(before.values())
        precision_after = sum((truth & after).values()) / sum(after.values())
        assert recall >= 0.95, key
        assert precision_after > precision_before + 0.1, key


# -- repeats inside one document ------------------------------------------------------------------


def test_repeats_inside_a_document_keep_their_first_copy_and_are_audited() -> None:
    quote = "“We will rebuild the bridge before the spring floods,” the mayor said."
    text = "\n\n".join(
        [
            ARTICLE,
            quote,
            paragraph("the bridge"),
            paragraph("the river") + "\n" + paragraph("the floods"),
            quote,
            paragraph("the budget"),
            paragraph("the river") + "\n" + paragraph("the floods"),
            "Yes.",
            paragraph("the vote"),
            "Yes.",
            paragraph("the weather"),
        ]
    )
    [cleaned], audit = run_clean([text])
    assert cleaned is not None
    assert cleaned.count(quote) == 1 and cleaned.count(paragraph("the river")) == 1
    # Lines shorter than repeat_min_chars stay: a short answer may well be given twice.
    assert cleaned.count("Yes.") == 2
    rules = Counter(row["rule"] for row in audit)
    assert rules == {"repeated_line": 1, "repeated_paragraph": 2}
    assert [row["line"] for row in audit if row["rule"] == "repeated_line"] == [quote]


def test_the_copy_that_stays_is_the_first_one_no_other_rule_removed() -> None:
    # The article's heading also labels a link in the menu above it: the menu's copy goes with the menu
    # (edge_head), so the heading inside the article is the copy that stays, not a repeat of a removed line.
    heading = "The budget in numbers"
    menu = ["Home", "News", heading, "Sport", "Contact"]
    text = "\n".join(menu) + "\n\n" + "\n\n".join([ARTICLE, heading, paragraph("the budget")])
    [cleaned], audit = run_clean([text])
    assert cleaned == "\n\n".join([ARTICLE, heading, paragraph("the budget")])
    assert [row["rule"] for row in audit if row["line"] == heading] == ["edge_head"]
    # A second copy inside the article is still a repeat of the first kept one.
    [cleaned], audit = run_clean([text + "\n\n" + heading + "\n\n" + paragraph("the vote")])
    assert cleaned is not None and cleaned.count(heading) == 1
    assert [row["rule"] for row in audit if row["line"] == heading] == ["edge_head", "repeated_line"]


def test_a_long_line_made_of_sentences_the_document_already_holds_is_a_repeat() -> None:
    # A summary box repeating the lede inside the article: two sentences of the first paragraph, one line.
    summary = "Members agreed that both buildings need repairs before the winter season begins in earnest. " + (
        "The council met on Tuesday to discuss the new budget for the library and the public pool."
    )
    text = "\n\n".join([ARTICLE, paragraph("the bridge"), summary, paragraph("the budget")])
    [cleaned], audit = run_clean([text])
    assert cleaned == "\n\n".join([ARTICLE, paragraph("the bridge"), paragraph("the budget")])
    assert [(row["line"], row["rule"]) for row in audit] == [(summary, "repeated_text")]
    # A line with new sentences for most of its text stays (here one sentence of three was seen).
    fresh = (
        "Members agreed that both buildings need repairs before the winter season begins in earnest. "
        "The mayor wants the pool open all year, and the library open on Sundays from next spring on. "
        "Both will need more staff, which the budget for next year does not yet provide for at all."
    )
    [cleaned], audit = run_clean(["\n\n".join([ARTICLE, fresh, paragraph("the budget")])])
    assert cleaned is not None and fresh in cleaned and audit == []
    [cleaned], audit = run_clean([text], repeat_sentence_share=0)
    assert cleaned == text and audit == []


def test_the_whole_article_again_in_one_line_after_it_is_trimmed_with_the_tail() -> None:
    # Page metadata (a description or an article-body field) printed after the page: the article's
    # paragraphs joined into one long line. As prose it would outweigh the furniture around it and keep
    # the span open to it, doubling the article (the quality stage's repetition rules then reject it).
    body = [ARTICLE, paragraph("the bridge"), paragraph("the budget")]
    tail = ["Share", "Tweet", "Email", "Jane Doe", "2019-11-13T23:06:00+01:00", " ".join(body), "Imprint"]
    text = "\n\n".join(body) + "\n\n" + "\n".join(tail)
    [cleaned], _ = run_clean([text])
    assert cleaned == "\n\n".join(body)
    [cleaned], _ = run_clean([text], repeat_sentence_share=0)
    assert cleaned is not None and cleaned.count(ARTICLE) == 2


def test_repeats_are_kept_when_the_rule_is_off() -> None:
    text = "\n\n".join([ARTICLE, paragraph("the bridge"), ARTICLE, paragraph("the river")])
    [cleaned], audit = run_clean([text], repeat_min_chars=0)
    assert cleaned is not None and cleaned.count(ARTICLE) == 2
    [cleaned], audit = run_clean([text])
    assert cleaned is not None and cleaned.count(ARTICLE) == 1
    assert [row["rule"] for row in audit] == ["repeated_line"]


def test_c4_line_filters_remove_lines_at_any_length_and_are_audited() -> None:
    # C4's definitions: any line mentioning javascript or a policy phrase goes, whatever its length.
    javascript = (
        "This long line mentions JavaScript in passing, and C4 removes every line that says javascript, "
        "however long the paragraph is and whatever else it says about the council."
    )
    policy = "By reading on you accept the terms of use that were updated this spring for every reader of the site."
    heading = "The budget in numbers"
    text = "\n\n".join([ARTICLE, javascript, heading, paragraph("the budget"), policy, paragraph("the vote")])
    [default], audit = run_clean([text])
    assert default is not None and javascript in default and policy in default and audit == []
    [cleaned], audit = run_clean([text], c4_line_filters=["c4_long_word", "c4_javascript", "c4_policy"])
    assert cleaned is not None
    assert javascript not in cleaned and policy not in cleaned and heading in cleaned
    assert [(row["line"], row["rule"]) for row in audit] == [(javascript, "c4_javascript"), (policy, "c4_policy")]
    [strict], audit = run_clean([text], c4_line_filters=["c4_no_terminal_punct", "c4_min_words"])
    assert strict is not None and heading not in strict and javascript in strict
    assert [row["rule"] for row in audit] == ["c4_no_terminal_punct"]


def test_lines_with_a_word_over_1000_characters_are_removed_by_default() -> None:
    blob = "Encoded: " + "QUJD" * 300 + " ends here."
    [cleaned], audit = run_clean(["\n\n".join([ARTICLE, blob, paragraph("the budget")])])
    assert cleaned is not None and blob not in cleaned
    assert [row["rule"] for row in audit] == ["c4_long_word"]


# -- lines without letters ------------------------------------------------------------------------


def test_lines_without_a_letter_are_removed_and_audited() -> None:
    # Page furniture with no word in it: a date, a time table row, a rating, a separator, a lone
    # zero-width space (invisible, yet a non-blank line to every line rule).
    furniture = ["20.11.2019", "10:43 | 11:20", "★★★★☆", "— — —", "\u200b"]
    kept = ["3 apples, 2 pears and 1 melon", "東京は晴れ", "Ω"]
    text = "\n\n".join([ARTICLE, *furniture[:3], paragraph("the budget"), *kept, furniture[3], paragraph("the vote")])
    text += "\n" + furniture[4] + "\n" + paragraph("the weather")
    [cleaned], audit = run_clean([text])
    assert cleaned is not None
    assert [(row["line"], row["rule"]) for row in audit] == [(line, "no_letters") for line in furniture]
    assert all(line in cleaned for line in kept)
    [unchanged], audit = run_clean([text], letterless_lines=False)
    assert unchanged is not None and all(line in unchanged for line in furniture) and audit == []


def test_benchmark_pages_lose_page_numbers_and_slide_counters() -> None:
    pages = json.loads((FIXTURES / "article_extraction" / "first3.json").read_text(encoding="utf-8"))
    keys = sorted(pages)
    cleaned, audit = run_clean([pages[k]["html_text"] for k in keys])
    letterless = [row["line"] for row in audit if row["rule"] == "no_letters"]
    assert "1 / 23" in letterless and "16" in letterless
    assert not any(re.search(r"[^\W\d_]", line) for line in letterless)
    for text in cleaned:
        assert text is not None
        assert all(re.search(r"[^\W\d_]", line) for line in text.split("\n") if line.strip())
