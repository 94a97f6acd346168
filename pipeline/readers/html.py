"""HTML pages: decode with the declared or detected charset, extract the main content with trafilatura.

Used for `.html`/`.htm` files (one document per file) and for the HTML payloads of WARC and ARC
records. A page whose extraction yields no text is rejected as `no_content`, never published empty.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.readers.base import Pending, RawRecord, ReaderOptions, read_whole
from pipeline.readers.charset import decode_web

# trafilatura logs a warning for every page it discards; the ledger already records each one.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml+html", "text/xhtml"})
# Dates after this are implausible for any page; a fixed bound (not "today") keeps runs reproducible.
_LATEST_DATE = "2099-12-31"


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None
    date: str | None
    url: str | None


def extract_main_text(
    html: str, options: ReaderOptions, url: str | None = None, crawled: str | None = None
) -> Extracted:
    """Main text and metadata of a page; `text` is '' when trafilatura finds no main content.

    `crawled` (ISO date of the capture) bounds the publication date htmldate may find.
    """
    from trafilatura import bare_extraction

    document = bare_extraction(
        html,
        url=url,
        favor_precision=options.html_favor == "precision",
        favor_recall=options.html_favor == "recall",
        include_comments=options.html_include_comments,
        include_tables=options.html_include_tables,
        with_metadata=True,
        deduplicate=False,
        date_extraction_params={
            "original_date": True,
            "extensive_search": False,
            "max_date": (crawled or _LATEST_DATE)[:10],
        },
    )
    if document is None:
        return Extracted("", None, None, None)
    text = document.text or ""
    if options.html_include_comments and document.comments:
        text = f"{text}\n\n{document.comments}"
    return Extracted(text.strip(), document.title or None, document.date or None, document.url or None)


def looks_like_html(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<!--", b"<meta", b"<body", b"<title"))


def web_document(
    number: int | None,
    payload: bytes,
    content_type: str | None,
    options: ReaderOptions,
    *,
    url: str | None = None,
    warc_record_id: str | None = None,
    warc_date: str | None = None,
) -> RawRecord:
    """One fetched document (HTML or plain text) as a RawRecord: kept with provenance, or rejected."""
    provenance = {"url": url, "warc_record_id": warc_record_id, "warc_date": warc_date}
    mime = (content_type or "").split(";")[0].strip().lower()
    if not mime:
        mime = "text/html" if looks_like_html(payload) else ""
    if mime not in HTML_TYPES and mime != "text/plain":
        kind = mime or "no Content-Type and not recognisably HTML"
        return RawRecord(
            number,
            None,
            reason="unsupported_content_type",
            detail=f"payload is {kind}; only HTML and plain text are extracted",
            content_type=mime or None,
            **provenance,
        )
    if len(payload) > options.max_document_bytes:
        return RawRecord(
            number,
            None,
            reason="too_large",
            detail=f"payload of {len(payload):,} bytes exceeds ingest.max_document_bytes={options.max_document_bytes}",
            content_type=mime,
            **provenance,
        )
    decoded = decode_web(payload, content_type, html=mime != "text/plain")
    if decoded.text is None:
        return RawRecord(
            number,
            None,
            reason=decoded.reason or "undecodable",
            detail=f"{mime} payload: {decoded.detail}",
            content_type=mime,
            **provenance,
        )
    if mime == "text/plain":
        return RawRecord(number, decoded.text, encoding=decoded.encoding, content_type=mime, **provenance)
    try:
        extracted = extract_main_text(decoded.text, options, url=url, crawled=warc_date)
    except Exception as exc:  # a parser crash on one page must not stop the run
        return RawRecord(
            number,
            None,
            reason="extraction_failed",
            detail=f"trafilatura failed on this page: {type(exc).__name__}: {exc}",
            encoding=decoded.encoding,
            content_type=mime,
            **provenance,
        )
    if not extracted.text:
        return RawRecord(
            number,
            None,
            reason="no_content",
            detail="no main content found (navigation, boilerplate or an empty page)",
            encoding=decoded.encoding,
            content_type=mime,
            title=extracted.title,
            **provenance,
        )
    # An archive's capture URL is authoritative; a page file only knows its canonical URL.
    provenance["url"] = url or extracted.url
    return RawRecord(
        number,
        extracted.text,
        title=extracted.title,
        date=extracted.date,
        encoding=decoded.encoding,
        content_type=mime,
        **provenance,
    )


@dataclass(frozen=True)
class PendingPage(Pending):
    """A fetched page (HTML or plain text) waiting for `web_document`, possibly in a worker process."""

    number: int | None
    payload: bytes
    content_type: str | None
    url: str | None = None
    warc_record_id: str | None = None
    warc_date: str | None = None

    def finish(self, options: ReaderOptions) -> RawRecord:
        return web_document(
            self.number,
            self.payload,
            self.content_type,
            options,
            url=self.url,
            warc_record_id=self.warc_record_id,
            warc_date=self.warc_date,
        )


def read_html(path: Path, options: ReaderOptions) -> Iterator[RawRecord | Pending]:
    data = read_whole(path, options, "page")
    if isinstance(data, RawRecord):
        yield data
        return
    yield PendingPage(None, data, "text/html")
