"""report.html in a real browser: headless Chromium (the system's package) opens it offline.

The page must render without console errors or network requests, and what it shows must equal
run.json. A screenshot of each page is kept under test-artifacts/ (or $PIPELINE_TEST_ARTIFACTS).

Chromium comes from the system's packages (CI: `apt-get install chromium`), driven by playwright-python
with `executable_path`, so no browser download is needed. Without a browser the tests skip, unless
PIPELINE_REQUIRE_BROWSER=1 (CI sets it) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import REPO

from pipeline.execution.runner import RunResult

_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    configured = os.environ.get("PIPELINE_CHROMIUM")
    if configured:
        return configured
    return next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        if os.environ.get("PIPELINE_REQUIRE_BROWSER") == "1":
            pytest.fail("PIPELINE_REQUIRE_BROWSER=1 but chromium or playwright is missing (see .ci/run)")
        pytest.skip("no chromium or playwright; install the system's chromium and the `test` extra")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=_FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        yield launched
        launched.close()


def _artifacts() -> Path:
    folder = Path(os.environ.get("PIPELINE_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser, result: RunResult, screenshot: str) -> tuple[object, list[str], list[str]]:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto((result.report / "report.html").as_uri(), wait_until="load")
    page.screenshot(path=str(_artifacts() / screenshot), full_page=False)
    return page, errors, requests


def _check_against_run_json(page, result: RunResult) -> None:  # type: ignore[no-untyped-def]
    run = json.loads((result.report / "run.json").read_text())
    funnel = page.eval_on_selector_all(
        "#funnel-table tr.stage",
        "rows => rows.map(r => [...r.cells].slice(0, 3).map(c => c.textContent))",
    )
    assert funnel == [[s["name"], f"{s['records_in']:,}", f"{s['records_out']:,}"] for s in run["stages"]]
    reasons = page.eval_on_selector_all("section.reason h3", "headings => headings.map(h => h.textContent)")
    expected = [f"{s['name']} · {reason} — {count:,}" for s in run["stages"] for reason, count in s["rejected"].items()]
    assert sorted(reasons) == sorted(expected)
    records = run["records"]
    assert page.text_content("#accounting") == (
        f"records read {records['read']:,} = published {records['published']:,} + rejected {records['rejected']:,}"
    )
    # The page lays out: the funnel plot and table are visible.
    assert page.is_visible("#funnel-table") and page.is_visible("svg.plot")


def test_default_run_report_renders_offline_without_errors(browser, default_run: RunResult) -> None:  # type: ignore[no-untyped-def]
    page, errors, requests = _open(browser, default_run, "report-default.png")
    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    _check_against_run_json(page, default_run)
    assert page.eval_on_selector_all("img", "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
    page.close()


def test_busy_run_report_shows_every_reason_and_marked_near_duplicates(browser, busy_run: RunResult) -> None:  # type: ignore[no-untyped-def]
    page, errors, requests = _open(browser, busy_run, "report-busy.png")
    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    _check_against_run_json(page, busy_run)
    # Every reason section shows sample rows.
    assert page.eval_on_selector_all(
        "section.reason", "sections => sections.every(s => s.querySelectorAll('tr.sample').length > 0)"
    )
    # Near-duplicate pairs side by side, with differences marked on both sides.
    assert page.locator("div.pair").count() == 8
    assert page.locator("div.pair mark").count() >= 16
    # Hostile data is text, not markup: no script element, the markup shows literally.
    assert page.locator("script").count() == 0
    assert page.get_by_text('<script>alert("x")</script>', exact=False).count() > 0
    page.screenshot(path=str(_artifacts() / "report-busy-full.png"), full_page=True)
    page.locator("div.pair").first.screenshot(path=str(_artifacts() / "report-near-duplicate.png"))
    page.locator('section.reason[data-reason="quality:gopher_min_words"]').screenshot(
        path=str(_artifacts() / "report-quality-rule.png")
    )
    page.close()
