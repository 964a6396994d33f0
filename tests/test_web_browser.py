"""The pages in real headless Chromium: click-through, search, injected markup never runs, the JS badge.

Skipped when /usr/bin/chromium or Playwright is missing. The server is ``citelens serve`` in a subprocess
on a free loopback port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# CHROMIUM and CHROMIUM_ARGS: for browser test modules that still import them from here.
from chromium import CHROMIUM, CHROMIUM_ARGS, why_no_browser  # noqa: F401
from live_server import citelens_serve
from test_web import CITED, XSS_DOI, build_index

pytestmark = pytest.mark.browser
if reason := why_no_browser():
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(build_index(tmp_path_factory.mktemp("browser") / "index.db"))


@pytest.fixture(scope="module")
def server(index_db: Path) -> Iterator[str]:
    with citelens_serve(index_db, env={"CITELENS_CURATORS": "alice=alice-token", "CITELENS_API_TOKEN": "api-secret"}) as url:
        yield url


@pytest.fixture
def page(new_page: Callable[..., Any], server: str) -> Iterator[object]:
    pg = new_page(base_url=server)
    pg.dialogs = []
    pg.errors = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    # Any request leaving the test server would be a third-party request (or an injected image/script).
    pg.external = []
    pg.on("request", lambda r: None if r.url.startswith((server, "data:")) else pg.external.append(r.url))
    yield pg


def assert_nothing_injected(pg: object) -> None:
    assert pg.evaluate("() => window.__xss === undefined")  # type: ignore[attr-defined]
    assert pg.dialogs == []  # type: ignore[attr-defined]
    assert pg.evaluate("() => document.querySelectorAll('img[src=\"x\"], svg[onload]').length") == 0  # type: ignore[attr-defined]
    assert pg.external == []  # type: ignore[attr-defined]


def test_click_through_report_filter_statement_citing_paper(page: object) -> None:
    pg = page
    pg.goto(f"/reports/{CITED}")  # type: ignore[attr-defined]
    assert pg.locator(".notice-retraction").is_visible()  # type: ignore[attr-defined]
    assert pg.locator(".card.stmt").count() == 5  # type: ignore[attr-defined]
    pg.select_option("#f-type", "contrasting")  # type: ignore[attr-defined]
    pg.click("text=Apply filters")  # type: ignore[attr-defined]
    pg.wait_for_url("**type=contrasting**")  # type: ignore[attr-defined]
    cards = pg.locator(".card.stmt")  # type: ignore[attr-defined]
    assert cards.count() == 1 and "stmt-contrasting" in (cards.first.get_attribute("class") or "")
    assert "In contrast to Barnes" in cards.first.inner_text()
    cards.first.locator("a.stmt-link").click()
    pg.wait_for_url("**/statements/*")  # type: ignore[attr-defined]
    assert pg.locator("h1").inner_text() == "Citation statement"  # type: ignore[attr-defined]
    pg.click("#citing-paper")  # type: ignore[attr-defined]
    pg.wait_for_url(f"**/reports/{XSS_DOI}")  # type: ignore[attr-defined]
    title = pg.locator("#work-title").inner_text()  # type: ignore[attr-defined]
    # The hostile title is shown as text, exactly as the article has it, and did nothing.
    assert "<script>window.__xss=1</script>" in title and 'onerror="window.__xss=2"' in title
    assert "Mallory<script>" in pg.locator(".authors").inner_text()  # type: ignore[attr-defined]
    assert_nothing_injected(pg)


def test_injected_sentence_does_not_run(page: object) -> None:
    pg = page
    pg.goto(f"/reports/{CITED}?section=introduction")  # type: ignore[attr-defined]
    text = pg.locator(".card.stmt").first.inner_text()  # type: ignore[attr-defined]
    assert "Barnes <script>window.__xss=3</script>" in text
    assert pg.locator("mark.callout").count() == 1  # type: ignore[attr-defined]
    assert_nothing_injected(pg)


def test_search_statements_and_papers(page: object) -> None:
    pg = page
    pg.goto("/search")  # type: ignore[attr-defined]
    pg.fill("#q", "sentinel")  # type: ignore[attr-defined]
    pg.click("button:has-text('Search')")  # type: ignore[attr-defined]
    pg.wait_for_url("**q=sentinel**")  # type: ignore[attr-defined]
    assert int(pg.locator("#result-count").inner_text()) >= 3  # type: ignore[attr-defined]
    assert pg.locator(".card.stmt mark").count() >= 1  # type: ignore[attr-defined]
    pg.check("input[name=kind][value=papers]")  # type: ignore[attr-defined]
    pg.fill("#q", "evil title")  # type: ignore[attr-defined]
    pg.click("button:has-text('Search')")  # type: ignore[attr-defined]
    pg.wait_for_url("**kind=papers**")  # type: ignore[attr-defined]
    link = pg.locator("ol.papers a").first  # type: ignore[attr-defined]
    assert "<script>" in link.inner_text()
    link.click()
    pg.wait_for_url(f"**/reports/{XSS_DOI}")  # type: ignore[attr-defined]
    assert_nothing_injected(pg)


@pytest.fixture(scope="module")
def small_window_server(index_db: Path) -> Iterator[str]:
    with citelens_serve(index_db, env={"CITELENS_SEARCH_WINDOW": "2"}) as url:
        yield url


def test_a_search_over_the_ranking_window_says_so(new_page: Callable[..., Any], small_window_server: str) -> None:
    """With CITELENS_SEARCH_WINDOW=2, a word more statements hold is ranked within the newest ones, and the page
    says the total is an estimate and the results the best of the ranked ones; a rarer query is not marked."""
    pg = new_page(base_url=small_window_server)
    pg.goto("/search?q=sentinel")
    assert pg.locator("h2.count-h").inner_text().startswith("About ")
    notice = pg.locator("#search-window")
    assert notice.is_visible() and "most recently added sentences" in notice.inner_text()
    assert 1 <= pg.locator(".card.stmt").count() <= 2  # (a sentence is never split: at most the window's two)
    pg.goto("/search?q=zzznothing")
    assert pg.locator("#search-window").count() == 0 and pg.locator("#no-results").is_visible()


def test_section_rows_keep_the_threshold_and_filters(page: object) -> None:
    """A row of the tallies-by-section table lists that section with the page's threshold and filters kept: it
    linked to ``?section=results`` alone, so a reader counting only the labels the model is sure of saw the
    supporting and contrasting tallies above the list jump back to every label."""
    pg = page
    pg.goto(f"/reports/{CITED}?min_confidence=1&exclude_self=1&tab=references")  # type: ignore[attr-defined]
    strict = pg.locator("ul.tallies").first.inner_text()  # type: ignore[attr-defined]
    pg.click("table.sections a:text-is('Results')")  # type: ignore[attr-defined]
    pg.wait_for_url("**section=results**")  # type: ignore[attr-defined]
    assert "min_confidence=1" in pg.url and "exclude_self=1" in pg.url and "tab=" not in pg.url  # type: ignore[attr-defined]
    assert pg.locator("ul.tallies").first.inner_text() == strict  # type: ignore[attr-defined]
    assert pg.locator("#f-conf").is_checked() and pg.locator("#f-self").is_checked()  # type: ignore[attr-defined]
    assert pg.locator("#f-section").input_value() == "results"  # type: ignore[attr-defined]
    cards = pg.locator(".card.stmt")  # type: ignore[attr-defined]
    assert cards.count() >= 1 and all("in Results" in t for t in cards.all_inner_texts())
    # The statement's own page has no "Statement details" link to itself.
    cards.first.locator("a.stmt-link").click()
    pg.wait_for_url("**/statements/*")  # type: ignore[attr-defined]
    assert pg.locator("a.stmt-link").count() == 0  # type: ignore[attr-defined]
    own = pg.url.rsplit("/", 1)[1]  # type: ignore[attr-defined]
    assert pg.locator(f"a[href='/statements/{own}']").count() == 0  # type: ignore[attr-defined]


def test_curator_corrects_a_statement(page: object) -> None:
    pg = page
    pg.goto(f"/reports/{CITED}?section=discussion")  # type: ignore[attr-defined]
    pg.locator("a.stmt-link").first.click()  # type: ignore[attr-defined]
    pg.click("text=Sign in as a curator")  # type: ignore[attr-defined]
    pg.fill("#name", "alice")  # type: ignore[attr-defined]
    pg.fill("#token", "alice-token")  # type: ignore[attr-defined]
    pg.click("button:has-text('Sign in')")  # type: ignore[attr-defined]
    pg.wait_for_url("**/statements/*")  # type: ignore[attr-defined]
    pg.check("input[name=type][value=contrasting]")  # type: ignore[attr-defined]
    pg.click("button:has-text('Save correction')")  # type: ignore[attr-defined]
    pg.wait_for_url("**saved=1")  # type: ignore[attr-defined]
    assert "corrected by alice" in pg.locator(".card.stmt").inner_text()  # type: ignore[attr-defined]
    pg.goto(f"/reports/{CITED}")  # type: ignore[attr-defined]
    assert "2 contrasting" in pg.locator("ul.tallies").inner_text()  # type: ignore[attr-defined]


def test_image_badge_renders_on_another_site_even_for_errors(page: object, server: str) -> None:
    """Embedded with <img> on a page of another origin, the badge draws for a bad parameter (400), a missing DOI
    (422) and a DOI not in the index as it does for a known one: no broken image (JSON errors were one)."""
    pg = page
    cases = {"ok": f"doi={CITED}", "unknown": "doi=10.9999/not.here", "layout": f"doi={CITED}&layout=foo",
             "show_zero": f"doi={CITED}&show_zero=maybe", "missing": "layout=vertical"}
    site = server.replace("127.0.0.1", "localhost") + "/a-page-elsewhere"  # another origin, served by the browser
    html = "".join(f'<img id="{k}" src="{server}/badge.svg?{q}" alt="broken">' for k, q in cases.items())
    pg.route(site, lambda route: route.fulfill(body=html, content_type="text/html"))  # type: ignore[attr-defined]
    pg.goto(site)  # type: ignore[attr-defined]
    pg.wait_for_function("[...document.images].every(i => i.complete)")  # type: ignore[attr-defined]
    widths = pg.evaluate("Object.fromEntries([...document.images].map(i => [i.id, i.naturalWidth]))")  # type: ignore[attr-defined]
    assert all(widths[k] > 60 for k in cases), widths  # a broken image has naturalWidth 0


def test_js_badge_renders_tallies(page: object, server: str) -> None:
    pg = page
    pg.goto(f"/badge?doi={CITED}")  # type: ignore[attr-defined]
    badge = pg.locator("div.citelens-badge a.clb")  # type: ignore[attr-defined]
    badge.wait_for()
    text = badge.inner_text()
    assert "supporting" in text and "in results" in text
    assert pg.errors == []  # type: ignore[attr-defined]
    assert_nothing_injected(pg)


def test_js_badge_says_retracted_and_tells_unavailable_from_not_indexed(page: object, server: str) -> None:
    """The script badge showed a retracted work's tallies as if they stood (the SVG badge says "retracted"), and
    said "not indexed" for any failure: an index busy with an ingest (503) read as "this paper is not indexed".
    Now it reads /api/tallies' ``retracted`` and says "retracted" first; only a 404 is "not indexed"."""
    pg = page
    busy = "10.9999/busy.1"
    site = server.replace("127.0.0.1", "localhost") + "/an-article-page"  # another origin, as a journal's page
    html = "".join(f'<div class="citelens-badge" id="{k}" data-doi="{d}"></div>'
                   for k, d in (("retracted", CITED), ("unknown", "10.9999/not.here"), ("busy", busy)))
    html += f'<script src="{server}/static/badge.js"></script>'
    pg.route(site, lambda route: route.fulfill(body=html, content_type="text/html"))  # type: ignore[attr-defined]
    # The server answering as it does while an ingest holds the write lock too long.
    pg.route(f"{server}/api/tallies/{busy}", lambda route: route.fulfill(  # type: ignore[attr-defined]
        status=503, body='{"error": "the index is busy", "status": 503}', content_type="application/json",
        headers={"Access-Control-Allow-Origin": "*"}))
    pg.goto(site)  # type: ignore[attr-defined]
    pg.wait_for_function("document.querySelectorAll('a.clb').length === 3")  # type: ignore[attr-defined]
    spans = pg.evaluate("Object.fromEntries([...document.querySelectorAll('div.citelens-badge')].map("  # type: ignore[attr-defined]
                        "d => [d.id, [...d.querySelectorAll('a.clb > span')].map(s => s.textContent)]))")
    # (the counts depend on whether the curator test above ran on this module's server)
    assert spans["retracted"][:2] == ["CiteLens", "retracted"] and spans["retracted"][2].endswith(" supporting")
    assert spans["unknown"] == ["CiteLens", "not indexed"], spans
    assert spans["busy"] == ["CiteLens", "unavailable"], spans
    label = pg.get_attribute("#retracted a.clb", "aria-label")  # type: ignore[attr-defined]
    assert label == f"CiteLens citation statements for {CITED}: {', '.join(spans['retracted'][1:])}", label
    assert pg.errors == []  # type: ignore[attr-defined]
