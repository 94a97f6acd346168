"""The dataset card: escaped example rows, plots, sections, citation and version."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

from helpers import SPINE, english_corpus, load_config_model, write, write_enriched_dataset
from markdown_it import MarkdownIt

from pipeline import __version__
from pipeline.publish.card import escape_cell, parse_front_matter
from pipeline.validate import validate_folder

ENGLISH = (
    " The committee explained the new library to everyone in the room, and the old teacher remembered "
    "the weather last winter during the long meeting before the end of the week."
)
HOSTILE = [
    "<script>alert('card')</script> <b>bold</b> &amp; &lt;tag&gt;" + ENGLISH,
    "| a | b |\n|---|---|\n| c | d |\nThe table above is fake." + ENGLISH,
    "```python\nimport os\n```\nand `inline code` and ``` fences" + ENGLISH,
    "Heading\n---\nname: injected\n---\n# Not a heading\n> not a quote\n- not a list" + ENGLISH,
    "[click](javascript:alert(1)) ![x](https://evil.example/x.png) <img src=x onerror=alert(1)> "
    "**strong** _em_ $x^2$ ~~gone~~ \\escaped" + ENGLISH,
]


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def _example_table(card: str) -> list[list[list]]:
    """The example table's body rows, each a list of cells, each cell its list of inline child tokens."""
    body = card.split("### Example rows", 1)[1]
    tokens = _markdown().parse(body)
    rows, row, in_body = [], None, False
    for token in tokens:
        if token.type == "tbody_open":
            in_body = True
        elif token.type == "tbody_close":
            break
        elif in_body and token.type == "tr_open":
            row = []
        elif in_body and token.type == "tr_close":
            rows.append(row)
        elif in_body and token.type == "inline":
            row.append(token.children)
    return rows


def _hostile_dataset(run_pipeline, tmp_path: Path) -> Path:
    lines = [json.dumps({"id": f"hostile-{i}", "text": text}) for i, text in enumerate(HOSTILE)]
    write(tmp_path / "in" / "hostile.jsonl", "\n".join(lines) + "\n")
    result = run_pipeline(tmp_path / "in", SPINE)
    assert result.records_published == len(HOSTILE)
    return result.dataset


def test_hostile_text_cannot_inject_markup_into_the_card(run_pipeline, tmp_path: Path) -> None:
    folder = _hostile_dataset(run_pipeline, tmp_path)
    card = (folder / "README.md").read_text(encoding="utf-8")

    # The front matter is intact and the only '---' lines are its delimiters.
    parse_front_matter(card)
    assert [i for i, line in enumerate(card.splitlines()) if line.strip() == "---"][2:] == []

    html = _markdown().render(card)
    assert "<script" not in html and "<b>" not in html and 'href="javascript' not in html
    # The only images are the card's own plots; the page's <img> and ![x](...) stayed text.
    assert [img.split('"')[0] for img in html.split('<img src="')[1:]] == [
        "images/languages.png",
        "images/length_histogram.png",
    ]
    assert html.count("<img") == 2

    rows = _example_table(card)
    assert len(rows) == len(HOSTILE) and all(len(row) == 4 for row in rows)
    shown = {}
    for row in rows:
        for cell in (row[0], row[2], row[3]):  # id, language, text (the split cell is our own `name`)
            # Every inline token is literal text: no code, link, image, emphasis or raw HTML survived.
            assert {t.type for t in cell} <= {"text", "text_special"}, [t.type for t in cell]
        record_id = "".join(t.content for t in row[0])
        shown[record_id] = "".join(t.content for t in row[3])
    for i, text in enumerate(HOSTILE):
        expected = " ".join(text[:200].replace("\n", " ↵ ").split()) + " …"
        assert shown[f"hostile-{i}"] == expected
    assert validate_folder(folder, load_config_model()).ok


def test_escape_cell_keeps_one_line_and_the_text() -> None:
    assert escape_cell("a|b\n---\n`x`") == r"a\|b ↵ \-\-\- ↵ \`x\`"
    assert escape_cell("<i>&") == "&lt;i&gt;&amp;"
    assert "\n" not in escape_cell("a\r\nb\rc\n\nd")


def _png_chunks(data: bytes) -> list[str]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos + 4 : pos + 8].decode("ascii"))
        pos += 12 + length
    return chunks


def test_plots_are_pngs_linked_from_the_card_and_byte_identical_across_runs(run_pipeline, tmp_path: Path) -> None:
    english_corpus(tmp_path / "in", 60)
    first = run_pipeline(tmp_path / "in", SPINE, output=tmp_path / "a").dataset
    second = run_pipeline(tmp_path / "in", SPINE, output=tmp_path / "b").dataset
    images = sorted(p.name for p in (first / "images").iterdir())
    assert images == ["languages.png", "length_histogram.png"]
    for name in images:
        data = (first / "images" / name).read_bytes()
        assert data == (second / "images" / name).read_bytes(), name
        chunks = _png_chunks(data)
        # No text or time chunks: nothing that records the date or the matplotlib version.
        assert not {"tEXt", "iTXt", "zTXt", "tIME"} & set(chunks), chunks
        assert f"](images/{name})" in (first / "README.md").read_text(encoding="utf-8")
    # The cards differ only in the config digest (the output path is part of the config).
    cards = [re.sub(r"[0-9a-f]{64}", "DIGEST", (d / "README.md").read_text(encoding="utf-8")) for d in (first, second)]
    assert cards[0] == cards[1]


def test_card_sections_funnel_versions_and_citation(run_pipeline, tmp_path: Path) -> None:
    english_corpus(tmp_path / "in", 30)
    write(tmp_path / "in" / "empty.txt", "   \n")
    citation = "@misc{town2026,\n  title = {Town reports ```not a fence```},\n  year = {2026}\n}"
    result = run_pipeline(
        tmp_path / "in", SPINE, f"publish.citation={json.dumps(citation)}", 'publish.version="3.1.4"', name="town"
    )
    card = (result.dataset / "README.md").read_text(encoding="utf-8")
    for heading in (
        "## Dataset summary",
        "### Example rows",
        "### Processing: the stage funnel",
        "## Personal and sensitive information",
        "## Bias, risks and limitations",
        "## Licensing",
        "## Citation",
    ):
        assert heading in card, heading
    assert "| `ingest` | 31 | 30 | empty: 1 |" in card
    assert "No personal-data detection or redaction ran" in card
    assert "near-duplicates were not removed" in card
    assert f"| 3\\.1\\.4 | `pipeline` {__version__} |" in card
    # The digest the card records is the run's config digest.
    assert result.report.joinpath("run.json").read_text().count(card.split("config sha256 `")[1][:64]) == 1
    # The citation sits in a fence longer than any backtick run inside it, so it cannot close early.
    assert f"## Citation\n\n````bibtex\n{citation}\n````\n" in card
    html = MarkdownIt("commonmark").render(card.split("## Citation", 1)[1])
    assert html.count("<pre>") == 1 and "town2026" in html


def test_pii_quality_and_duplicate_columns_are_reported_generically(tmp_path: Path) -> None:
    folder = write_enriched_dataset(tmp_path / "enriched", count=40)
    card = (folder / "README.md").read_text(encoding="utf-8")
    emails, phones = sum(i % 3 for i in range(40)), sum(i % 2 for i in range(40))
    with_any = sum(1 for i in range(40) if i % 3 or i % 2)
    assert f"{with_any:,} of 40 published documents had at least one" in card
    assert f"| email | {emails:,} |" in card and f"| phone | {phones:,} |" in card
    assert f"{sum(i % 4 for i in range(40)):,} removed duplicate copies" in card
    assert "Quality heuristics" in card
    assert "| `pii` | `struct{email: int64, phone: int64}` |" in card
    assert "```bibtex\n@misc{x, title={X}}\n```" in card
    assert validate_folder(folder, load_config_model()).ok
