"""HTML pages: main-content extraction, provenance, charsets, pages without content."""

from __future__ import annotations

import gzip
from pathlib import Path

from helpers import FIXTURES, write

from readers.web_helpers import ANY_LANGUAGE, copy_to, ledger_rows, published_rows

PAGE = FIXTURES / "web" / "die-partei.net.luebeck.html"
RUSSIAN = FIXTURES / "charset" / "sample-russian-2.txt"

NAVIGATION_ONLY = """<!DOCTYPE html><html><head><title>Menu</title></head><body>
<nav><ul>
<li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/shop">Shop</a></li>
<li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li><li><a href="/imprint">Imprint</a></li>
</ul></nav>
<footer><a href="/privacy">Privacy</a> | <a href="/terms">Terms</a> | &copy; 2024 Example</footer>
</body></html>"""


def _russian_page(declare: str | None) -> bytes:
    paragraphs = [p.strip() for p in RUSSIAN.read_text(encoding="utf-8").split("\n") if p.strip()]
    meta = f'<meta charset="{declare}">' if declare else ""
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    html = f"<!DOCTYPE html><html><head>{meta}<title>Статья</title></head><body><article>{body}</article></body></html>"
    return html.encode("cp1251")


def test_page_is_reduced_to_its_main_content_with_provenance(run_pipeline, tmp_path: Path) -> None:
    copy_to(tmp_path / "in", PAGE)
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    [row] = published_rows(result)
    # Snippets from trafilatura's own evaluation data for this page: body in, boilerplate out.
    assert "Die GEMA dreht völlig am Zeiger!" in row["text"]
    assert "Impressum" not in row["text"]
    assert "Steuerdarling" not in row["text"]
    assert row["source"] == "die-partei.net.luebeck.html"
    assert row["url"] == "https://die-partei.net/luebeck/2012/05/31/das-ministerium-fur-club-kultur-informiert/"
    meta = row["metadata"]
    assert meta["title"] == "Das Ministerium für Club-Kultur informiert…"
    assert meta["date"] == "2012-05-31"
    assert meta["encoding"] == "utf-8"
    assert meta["content_type"] == "text/html"
    assert meta["warc_record_id"] is None


def test_windows_1251_page_without_declared_charset_is_detected(run_pipeline, tmp_path: Path) -> None:
    write(tmp_path / "in" / "statya.html", _russian_page(declare=None))
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    [row] = published_rows(result)
    first_sentence = RUSSIAN.read_text(encoding="utf-8").split("\n")[0].strip()[:60]
    assert first_sentence in row["text"]
    assert row["metadata"]["encoding"] == "cp1251"


def test_declared_meta_charset_is_used(run_pipeline, tmp_path: Path) -> None:
    write(tmp_path / "in" / "statya.htm", _russian_page(declare="windows-1251"))
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    [row] = published_rows(result)
    assert row["metadata"]["encoding"] == "cp1251"
    assert row["metadata"]["title"] == "Статья"


def test_navigation_only_page_is_rejected_as_no_content(run_pipeline, tmp_path: Path) -> None:
    write(tmp_path / "in" / "menu.html", NAVIGATION_ONLY)
    copy_to(tmp_path / "in", PAGE)
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    assert [r["source"] for r in published_rows(result)] == ["die-partei.net.luebeck.html"]
    [row] = ledger_rows(result)
    assert (row["source"], row["stage"], row["reason"]) == ("menu.html", "ingest", "no_content")
    assert row["encoding"] == "utf-8"


def test_gzip_compressed_page_and_content_sniffing(run_pipeline, tmp_path: Path) -> None:
    write(tmp_path / "in" / "page.html.gz", gzip.compress(PAGE.read_bytes()))
    # No suffix that names a format: recognised as HTML by its first bytes.
    write(tmp_path / "in" / "saved-page", PAGE.read_bytes())
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE, 'run.stages=["language"]')  # no dedup: same page twice
    rows = published_rows(result)
    assert sorted(r["source"] for r in rows) == ["page.html.gz", "saved-page"]
    assert rows[0]["text"] == rows[1]["text"]


def test_format_override_reads_any_suffix_as_html(run_pipeline, tmp_path: Path) -> None:
    write(tmp_path / "in" / "page.txt", PAGE.read_bytes())
    as_text = published_rows(run_pipeline(tmp_path / "in", *ANY_LANGUAGE, name="t"))
    as_html = published_rows(run_pipeline(tmp_path / "in", *ANY_LANGUAGE, 'ingest.format="html"', name="h"))
    assert "<html" in as_text[0]["text"].lower()
    assert "<html" not in as_html[0]["text"].lower()
    assert as_html[0]["metadata"]["content_type"] == "text/html"


def test_metadata_struct_round_trips_through_load_dataset(run_pipeline, tmp_path: Path) -> None:
    from datasets import load_dataset

    copy_to(tmp_path / "in", PAGE)
    result = run_pipeline(tmp_path / "in", *ANY_LANGUAGE)
    dataset = load_dataset(str(result.dataset), split="train", cache_dir=str(tmp_path / "cache"))
    assert set(dataset.features["metadata"]) == {
        "title",
        "date",
        "encoding",
        "content_type",
        "warc_record_id",
        "warc_date",
    }
    assert dataset[0]["metadata"]["date"] == "2012-05-31"
    assert dataset[0]["metadata"]["warc_date"] is None
    card = (result.dataset / "README.md").read_text(encoding="utf-8")
    assert "`metadata`" in card and "`warc_record_id`" in card
