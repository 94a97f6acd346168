"""clean: remove boilerplate lines (web furniture) and keep every removal auditable.

Six rules decide, in this order (repeats, rule 4, are named last), and the first that fires names the
removal:

1. `<rule>` from the shipped rule lists (pipeline/data/boilerplate/<lang>.toml): cookie notices,
   log-in and subscription prompts, comment forms, share and read-more links, rights lines,
   javascript warnings, lorem ipsum, navigation and author-box labels. A rule only removes lines of at
   most its `max_words` words, so a paragraph that merely mentions cookies stays.
2. `no_letters`: a line without a single letter of any script (`letterless_lines`): page numbers,
   dates and times, prices, scores, separator rows, emoji and zero-width spaces. Such a line is not
   prose in any language, and it drags the whole-document rules (Gopher's alpha-word fraction and
   duplicate-line fraction, FineWeb's line punctuation) towards rejecting the article around it.
3. C4's line filters named in `c4_line_filters` (Raffel et al. 2020, tensorflow-datasets c4_utils):
   `c4_long_word` (a word over 1,000 characters), `c4_javascript` (mentions "javascript"),
   `c4_policy` (terms of use, privacy or cookie policy phrases), `c4_no_terminal_punct` (does not
   end in . ? ! " or ', or ends in ...) and `c4_min_words` (fewer than 3 words), at any length.
4. `repeated_paragraph` / `repeated_line`: a paragraph (lines between blank lines) or a line of at
   least `repeat_min_chars` characters that repeats an earlier one of the same document, compared
   with whitespace runs collapsed. Pull quotes, a headline at the top and the bottom, a share bar
   above and below the article: page furniture repeated inside one page, which would otherwise make
   the page fail the whole-document repetition rules of the quality stage. Later copies weigh as
   removed lines when the edges are trimmed (rule 6), but which copy stays is decided last: the first
   one no other rule removed. A heading of the article that also labels a link in the menu above it
   stays in the article when the menu is trimmed. A copy that another rule removes (a frequent line, a
   line outside the kept span) is named by that rule.
   `repeated_text`: a line of at least `edge_max_words` words whose sentences, by characters, are at
   least `repeat_sentence_share` sentences that earlier lines already hold: a summary box repeating the
   lede, the whole article again in one line (a page's description or article-body metadata printed
   after it). Sentences end at . ! ? … and the CJK full stops, with closing quotes or brackets, before
   a space. Without it such a copy counts as prose, keeps the trimmed span open down to it and makes
   the page fail the quality stage's duplicate n-gram rules.
5. `frequent_line`: a line (case-folded, whitespace collapsed, digits as 0) found in at least
   max(frequent_min_documents, ceil(frequent_min_fraction × documents)) distinct documents. The count
   floor keeps a 5-document corpus from losing a line two pages happen to share; the fraction keeps a
   5-million-document corpus from losing every quotation found on three pages. When frequent lines
   would make up more than `frequent_max_share` of a document's characters, the document is a copy of
   another one, not a page with furniture: the rule is skipped for it and deduplication decides.
6. `edge_head` / `edge_tail`: menus, titles, bylines and teasers at the ends of the document. A line
   is furniture if it has fewer than `edge_min_words` words, fewer than `edge_max_words` words and no
   terminal punctuation, at least `edge_max_words` words and not one sentence or clause mark (a tag
   cloud, a keyword list, a run of menu labels on one line), or ends in an ellipsis (a cut-off teaser).
   The kept body is the contiguous span with the highest score: a prose line scores its word count, a
   furniture line -edge_line_penalty/2, a very short line or one removed by rules 1-5
   -edge_line_penalty, and one removed by an `edge_closing_rules` rule (comment form, log-in wall,
   subscription prompt) -edge_closing_penalty. Everything outside the span is trimmed; inside it,
   short lines stay: there they are headings and list items.
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field, ValidationInfo, field_validator

from pipeline.records import described, rejections, split
from pipeline.stage import GlobalStage, StageConfig, StageResult
from pipeline.stages.clean.boilerplate import Rule, available_lists, load_rules, match, screen
from pipeline.stages.clean.line_counts import DocumentFrequency, bytes_hash
from pipeline.stages.clean.line_keys import collapse_lines, fold_lines, fold_text, key_bytes
from pipeline.stages.quality.signals import C4_MAX_WORD_CHARS, C4_MIN_WORDS, C4_POLICY, C4_TERMINAL

REMOVED_LINES_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("line", pa.string(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
    ]
)

_DIGIT = re.compile(r"\d")
# A letter of any script: a word character that is neither a digit nor the underscore.
# Sentence and clause marks of the common scripts: a long line with none of them is not prose.
_SENTENCE_MARK = re.compile(r"[.!?,;:…。！？，、；：،؛؟।॥]")
_LETTER = re.compile(r"[^\W\d_]")
# A sentence ends at a terminal mark, with any closing quotes or brackets, followed by a space.
_SENTENCE_BREAK = re.compile(r"([.!?…。！？][\"'”’)\]]*) ")
C4LineFilter = Literal["c4_long_word", "c4_javascript", "c4_policy", "c4_no_terminal_punct", "c4_min_words"]
_CLOSERS = "\"'”’»)]*_ "
_TERMINAL = frozenset(".!?。！？")
# Han, kana and hangul: scripts written without spaces between words.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


class CleanConfig(StageConfig):
    """Boilerplate lines out: rule lists, lines frequent across documents, furniture at the edges."""

    # clean runs before language detection, and the patterns of one language rarely match another's prose.
    rule_lists: list[str] = ["en", "de", "fr", "es"]
    """Rule lists (`pipeline/data/boilerplate/<name>.toml`) applied to every document."""
    frequent_min_documents: int = Field(default=3, ge=2)
    """Count floor of the frequent-line threshold: a line must be in at least this many documents."""
    frequent_min_fraction: float = Field(default=1e-5, ge=0.0, le=1.0)
    """Fraction of the corpus's documents a frequent line must reach as well."""
    frequent_max_share: float = Field(default=0.5, ge=0.0, le=1.0)
    """Above this share of a document's characters, frequent lines are left in (the document is a copy)."""
    edge_max_words: int = Field(default=15, ge=0)
    """Furniture: a line with fewer words than this and no terminal punctuation, or with at least this many
    words and no sentence or clause mark at all (a tag cloud, a keyword list)."""
    edge_min_words: int = Field(default=3, ge=0)
    """Furniture: a line with fewer words than this, punctuation or not."""
    edge_line_penalty: float = Field(default=6.0, ge=0.0)
    """Score of a furniture line against a prose line's word count when trimming the edges."""
    # What follows a comment form, log-in wall or subscription prompt is rarely the article.
    edge_closing_rules: list[str] = ["comment_form", "login_prompt", "subscribe_prompt"]
    """Rules whose lines close an article; they weigh `edge_closing_penalty` (must exist in `rule_lists`)."""
    edge_closing_penalty: float = Field(default=30.0, ge=0.0)
    """Score of a line removed by one of `edge_closing_rules`."""
    # By default only the long-word filter: c4_javascript and c4_policy remove prose that merely mentions
    # the words (rule 1 handles the furniture), the last two remove headings, list items and captions.
    c4_line_filters: list[C4LineFilter] = ["c4_long_word"]
    """C4's line filters to apply (C4 itself applies all five; see the stage page)."""
    letterless_lines: bool = True
    """Remove lines without a single letter of any script (rule `no_letters`): numbers, dates, symbols."""
    repeat_min_chars: int = Field(default=10, ge=0)
    """Lines and paragraphs of at least this many characters (whitespace collapsed) that repeat an earlier
    one in the same document are removed; 0 turns the rule off."""
    repeat_sentence_share: float = Field(default=0.5, ge=0.0, le=1.0)
    """A line of at least `edge_max_words` words is removed when at least this share of its characters is
    in sentences that earlier lines of the document already hold (rule `repeated_text`); 0 turns it off."""

    @field_validator("rule_lists")
    @classmethod
    def _known_lists(cls, value: list[str]) -> list[str]:
        known = available_lists()
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown rule list {unknown[0]!r}; shipped lists: {', '.join(known)}")
        return value

    @field_validator("edge_closing_rules")
    @classmethod
    def _known_closing_rules(cls, value: list[str], info: ValidationInfo) -> list[str]:
        lists = info.data.get("rule_lists")
        if lists is None:
            return value  # rule_lists failed its own check, which is the error to report
        known = {rule.name for rule in load_rules(tuple(lists))}
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown rule {unknown[0]!r}; rules of rule_lists: {', '.join(sorted(known))}")
        return value


def word_count(line: str) -> int:
    """Whitespace tokens, with runs of CJK script counted as one word per two characters."""
    words = len(line.split())
    if line.isascii():
        return words  # no CJK to look for
    return words + len(_CJK.findall(line)) // 2


def fold(line: str) -> str:
    """Whitespace runs collapsed to one space, ends stripped, case folded: what the rules look at."""
    # str.split() and re's \s both split on the characters str.isspace() accepts, so this equals
    # re.sub(r"\s+", " ", line).strip() without a regex pass.
    return " ".join(line.split()).casefold()


def split_sentences(collapsed: str) -> list[str]:
    """The sentences of a line whose whitespace runs are collapsed to single spaces."""
    # re.split keeps the captured sentence ends (without their space) between the pieces before them and
    # after them: a sentence is a piece and the end after it.
    parts = _SENTENCE_BREAK.split(collapsed)
    sentences = list(map(operator.add, parts[0:-1:2], parts[1::2]))
    sentences.append(parts[-1])
    return sentences


def frequency_key(line: str) -> str:
    """What counts as 'the same line' across documents: case, spacing and digits do not matter."""
    return _DIGIT.sub("0", fold(line))


def is_truncated(line: str) -> bool:
    stripped = line.rstrip(_CLOSERS)
    return stripped.endswith(("...", "…"))


def has_terminal_punctuation(line: str) -> bool:
    stripped = line.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _TERMINAL and not is_truncated(line)


def _document_hashes(text: str) -> set[int]:
    """The hashes of the frequency keys of the document's non-blank lines."""
    return set(map(bytes_hash, filter(None, key_bytes(fold_text(text)))))


def _best_span(scores: list[float]) -> tuple[int, int]:
    """(first, last) index of the contiguous span with the largest sum; the earliest such span on ties."""
    best, best_span = 0.0, (0, -1)
    total, start = 0.0, 0
    for i, score in enumerate(scores):
        if total <= 0:
            total, start = 0.0, i
        total += score
        if total > best:
            best, best_span = total, (start, i)
    return best_span


class Clean(GlobalStage):
    name = "clean"
    config_class = CleanConfig
    config: CleanConfig
    # apply() only looks lines up in the decided frequency table: it runs in the workers.
    apply_in_workers = True
    # Modules the local pool's fork server imports before forking workers (see warm.py).
    worker_preload = ("pipeline.stages.clean.warm",)

    def __init__(self, config: CleanConfig) -> None:
        super().__init__(config)
        self._rules: tuple[Rule, ...] = load_rules(tuple(config.rule_lists))
        # Compiled on first use: the main process never applies the rules.
        self._screen_fn: Callable[[str, int], bool] | None = None
        self._closing = frozenset(config.edge_closing_rules)
        self._frequency = DocumentFrequency()
        self._threshold = config.frequent_min_documents
        self._distinct = 0

    def __getstate__(self) -> dict[str, Any]:
        # The screen is a closure (not picklable); workers rebuild it from the rules.
        state = self.__dict__.copy()
        state["_screen_fn"] = None
        return state

    @property
    def _screen(self) -> Callable[[str, int], bool]:
        if self._screen_fn is None:
            self._screen_fn = screen(self._rules)
        return self._screen_fn

    def output_fields(self) -> list[pa.Field]:
        return [
            described(
                "removed_lines",
                pa.int64(),
                "Number of non-blank lines the clean stage removed as boilerplate "
                "(each listed with its rule in the report's removed_lines.parquet).",
            )
        ]

    def card_notes(self) -> dict[str, Any]:
        c = self.config
        return {
            "rule_lists": c.rule_lists,
            "frequent_line": f"in >= max({c.frequent_min_documents}, ceil({c.frequent_min_fraction} x documents)) "
            f"documents, unless frequent lines exceed {c.frequent_max_share:.0%} of the document",
            "edge_trim": f"furniture (< {c.edge_max_words} words without terminal punctuation, "
            f"< {c.edge_min_words} words, >= {c.edge_max_words} words without a sentence or clause mark, "
            "or ending in an ellipsis) outside the best-scoring span "
            f"(prose +words, furniture -{c.edge_line_penalty:g}, lines removed by "
            f"{', '.join(c.edge_closing_rules)} -{c.edge_closing_penalty:g})",
            "no_letters": "lines without a letter of any script" if c.letterless_lines else "off",
            "c4_line_filters": c.c4_line_filters,
            "repeated_line": f"later copies in the same document of a line or paragraph of >= {c.repeat_min_chars} "
            "characters (whitespace collapsed)",
            "repeated_text": f"lines of >= {c.edge_max_words} words with >= {c.repeat_sentence_share:.0%} of their "
            "characters in sentences earlier lines already hold"
            if c.repeat_sentence_share
            else "off",
        }

    # -- pass 1 ---------------------------------------------------------------------------------

    def prepare(self, batch: pa.RecordBatch) -> np.ndarray:
        hashes: list[int] = []
        for text in batch.column("text").to_pylist():
            hashes.extend(_document_hashes(text))
        return np.array(hashes, dtype=np.uint64)

    def collect(self, batch: pa.RecordBatch, prepared: np.ndarray) -> None:
        self._frequency.add(prepared, batch.num_rows)

    def decide(self) -> None:
        c = self.config
        documents = self._frequency.documents
        self._threshold = max(c.frequent_min_documents, math.ceil(c.frequent_min_fraction * documents))
        self._frequency.finish(self._threshold)
        self._peak = self._frequency.peak_bytes
        self._documents = documents

    def release(self) -> None:
        self._frequency = DocumentFrequency()

    def bytes_per_document(self) -> int:
        documents = getattr(self, "_documents", 0)
        return math.ceil(getattr(self, "_peak", 0) / documents) if documents else 0

    # -- pass 2 ---------------------------------------------------------------------------------

    def _line_rules(
        self, lines: list[str], collapsed: list[str], folded: list[str], counts: np.ndarray
    ) -> list[str | None]:
        """The rule removing each line (None: kept; blank lines are always None). `collapsed`: the line with
        whitespace runs collapsed and its ends stripped; `folded`: the same, case-folded (fold(line))."""
        c = self.config
        rules: list[str | None] = [None] * len(lines)
        # The folded line is the line's whitespace tokens joined by single spaces (and case folding maps
        # no character to whitespace), so counting its spaces counts the tokens without a second split.
        # (word_count(line) without splitting the line again.)
        words = [
            (key.count(" ") + 1 + (0 if line.isascii() else len(_CJK.findall(line)) // 2)) if key else 0
            for line, key in zip(lines, folded, strict=True)
        ]
        for i, key in enumerate(folded):
            if words[i] and self._screen(key, words[i]):
                rules[i] = match(self._rules, key, words[i])

        if c.letterless_lines:
            for i, key in enumerate(folded):
                if rules[i] is None and words[i] and not _LETTER.search(key):
                    rules[i] = "no_letters"

        if c.c4_line_filters:
            # With the long-word filter alone (the default), a line of at most C4_MAX_WORD_CHARS characters
            # cannot be removed: it is not even looked at.
            long_only = set(c.c4_line_filters) == {"c4_long_word"}
            for i, line in enumerate(lines):
                if rules[i] is None and words[i] and not (long_only and len(line) <= C4_MAX_WORD_CHARS):
                    rules[i] = self._c4_rule(line.strip(), folded[i])

        # Later copies of a line or paragraph, whatever else removes them, weigh as removed lines when the
        # edges are trimmed; which copy stays is decided after the trim (see the end).
        repeats: list[str | None] = [None] * len(lines)
        # The lines' sentences, split when first needed, serve both passes.
        sentences: dict[int, list[str]] = {}
        if c.repeat_min_chars:
            self._mark_repeats(collapsed, words, repeats, sentences)

        frequent = [rules[i] is None and words[i] > 0 and counts[i] >= self._threshold for i in range(len(lines))]
        if any(frequent):
            total = sum(len(line) for line in lines if line.strip())
            share = sum(len(lines[i]) for i in range(len(lines)) if frequent[i]) / max(total, 1)
            if share <= c.frequent_max_share:
                for i in range(len(lines)):
                    if frequent[i]:
                        rules[i] = "frequent_line"

        def furniture(i: int) -> bool:
            n = words[i]
            if n < c.edge_min_words:
                return True
            if is_truncated(lines[i]):
                return True
            if n < c.edge_max_words:
                return not has_terminal_punctuation(lines[i])
            return not _SENTENCE_MARK.search(lines[i])

        # The kept body is the span with the largest score: prose lines add their word count, furniture
        # and lines already removed subtract `edge_line_penalty` (closing lines `edge_closing_penalty`).
        # A block of teasers separated from the article by a wall of furniture is trimmed with it;
        # lines inside the span always stay.
        scores = [0.0] * len(lines)
        prose = False
        for i in range(len(lines)):
            if not words[i]:
                continue
            removed = rules[i] is not None or repeats[i] is not None
            if removed or furniture(i):
                # A line of a list weighs half a navigation label: lists inside articles are common.
                short = removed or words[i] < c.edge_min_words
                scores[i] = -c.edge_line_penalty if short else -c.edge_line_penalty / 2
                if rules[i] in self._closing:
                    scores[i] = -c.edge_closing_penalty
            else:
                scores[i] = float(words[i])
                prose = True

        if prose:  # else nothing but short lines (a list, a poem): not furniture around an article
            start, end = _best_span(scores)
            for i in range(len(lines)):
                if rules[i] is None and words[i] and (i < start or i > end):
                    rules[i] = "edge_head" if i < start else "edge_tail"
        # Repeats are decided last: the copy that stays is the first one no other rule removed, so a
        # line of the article repeated in the menu above it is not lost with the menu.
        # (With fewer lines left there are fewer copies: no repeat before the trim, none after it.)
        if any(repeats):
            self._mark_repeats(collapsed, words, rules, sentences)
        return rules

    def _c4_rule(self, line: str, folded: str) -> str | None:
        """The first of the configured C4 line filters that removes the (stripped) line, or None."""
        for name in self.config.c4_line_filters:
            # (A word longer than the limit needs a line longer than it: most lines skip the split.)
            if (
                name == "c4_long_word"
                and len(line) > C4_MAX_WORD_CHARS
                and any(len(word) > C4_MAX_WORD_CHARS for word in line.split())
            ):
                return name
            if name == "c4_javascript" and "javascript" in folded:
                return name
            if name == "c4_policy" and any(phrase in folded for phrase in C4_POLICY):
                return name
            if name == "c4_no_terminal_punct" and (not line.endswith(C4_TERMINAL) or line.endswith("...")):
                return name
            if name == "c4_min_words" and len(line.split()) < C4_MIN_WORDS:
                return name
        return None

    def _mark_repeats(
        self, collapsed: list[str], words: list[int], rules: list[str | None], sentences: dict[int, list[str]]
    ) -> None:
        """Mark later copies of a paragraph, then of a line, of at least repeat_min_chars characters, then
        long lines made mostly of sentences already seen (`repeat_sentence_share`). `words`: each line's
        word count; `sentences`: each line's sentences, filled as they are needed."""
        minimum = self.config.repeat_min_chars
        paragraphs: list[list[int]] = [[]]
        for i, line in enumerate(collapsed):
            if line:
                paragraphs[-1].append(i)
            elif paragraphs[-1]:
                paragraphs.append([])
        seen_paragraphs: set[str] = set()
        for members in paragraphs:
            if len(members) < 2:
                continue  # a one-line paragraph is a line: the line rule below names it
            key = " ".join(collapsed[i] for i in members)
            if len(key) < minimum:
                continue
            if all(rules[i] is not None for i in members):
                continue  # removed by another rule: not the copy that stays
            if key in seen_paragraphs:
                for i in members:
                    if rules[i] is None:
                        rules[i] = "repeated_paragraph"
            else:
                seen_paragraphs.add(key)
        seen_lines: set[str] = set()
        seen_sentences: set[str] = set()
        share = self.config.repeat_sentence_share
        for i, key in enumerate(collapsed):
            if rules[i] is not None or len(key) < minimum:
                continue  # removed by another rule (not the copy that stays), or too short to count
            if key in seen_lines:
                rules[i] = "repeated_line"
                continue
            seen_lines.add(key)
            if not share:
                continue
            if i not in sentences:
                sentences[i] = split_sentences(key)
            if words[i] >= self.config.edge_max_words:
                parts = sentences[i]
                repeated = sum(map(len, filter(seen_sentences.__contains__, parts)))
                # The sentences are the line but for the one space after each of them but the last.
                if repeated and repeated >= share * (len(key) - len(parts) + 1):
                    rules[i] = "repeated_text"
                    continue
            seen_sentences.update(sentences[i])

    @staticmethod
    def _rebuild(lines: list[str], rules: list[str | None]) -> str:
        # Removing a line between two blank runs must not widen the paragraph break: the longest
        # original run around the removed lines is kept.
        out: list[str] = []
        run = best = 0
        for line, rule in zip(lines, rules, strict=True):
            if not line.strip():
                run += 1
            elif rule is not None:
                best, run = max(best, run), 0
            else:
                if out:
                    out.extend([""] * max(best, run))
                out.append(line)
                run = best = 0
        return "\n".join(out)

    def apply(self, batch: pa.RecordBatch) -> StageResult:
        texts = batch.column("text").to_pylist()
        ids = batch.column("id").to_pylist()
        documents = [text.split("\n") for text in texts]
        # fold(line) is the collapsed line case-folded: one split per line serves both (see line_keys.py).
        collapsed = [collapse_lines(text, lines) for text, lines in zip(texts, documents, strict=True)]
        # (A text whose lines are collapsed already is its collapsed lines joined.)
        folded_texts = [
            text.casefold() if doc is lines else fold_lines(doc)
            for text, lines, doc in zip(texts, documents, collapsed, strict=True)
        ]
        folded = [text.split("\n") for text in folded_texts]
        flat = np.array(
            [bytes_hash(key) if key else 0 for text in folded_texts for key in key_bytes(text)], dtype=np.uint64
        )
        flat_counts = self._frequency.counts(flat)

        cleaned: list[str] = []
        removed_counts: list[int] = []
        empty: list[bool] = []
        details: list[str] = []
        side: dict[str, list[Any]] = {"id": [], "line_number": [], "line": [], "rule": []}
        offset = 0
        for rid, lines, plain, keys in zip(ids, documents, collapsed, folded, strict=True):
            counts = flat_counts[offset : offset + len(lines)]
            offset += len(lines)
            rules = self._line_rules(lines, plain, keys, counts)
            removed = Counter[str]()
            for number, (line, rule) in enumerate(zip(lines, rules, strict=True), start=1):
                if rule is not None:
                    side["id"].append(rid)
                    side["line_number"].append(number)
                    side["line"].append(line)
                    side["rule"].append(rule)
                    removed[rule] += 1
            text = self._rebuild(lines, rules)
            cleaned.append(text)
            removed_counts.append(sum(removed.values()))
            is_empty = not text.strip()
            empty.append(is_empty)
            if is_empty:
                by_rule = ", ".join(f"{rule}×{n}" for rule, n in sorted(removed.items()))
                details.append(f"all {sum(removed.values())} non-blank lines removed ({by_rule})")

        index = batch.schema.get_field_index("text")
        annotated = batch.set_column(index, batch.schema.field("text"), pa.array(cleaned, pa.string()))
        annotated = annotated.append_column(self.output_fields()[0], pa.array(removed_counts, pa.int64()))
        return StageResult(
            kept=split(annotated, empty),
            rejected=rejections(batch, empty, self.name, "empty_after_clean", details),
            side={"removed_lines": pa.RecordBatch.from_pydict(side, schema=REMOVED_LINES_SCHEMA)},
        )

    @property
    def threshold(self) -> int:
        return self._threshold
