"""In Chromium, CiteLens behind a reverse proxy at http://library.test/citelens/: `citelens serve --root-path
/citelens`, and a proxy (Playwright's routing) that strips the prefix as nginx's `proxy_pass …/;` does. A reader
clicks through pages and signs in, and a journal's page embeds the badge script, without ever leaving the prefix.
Skipped when /usr/bin/chromium or Playwright is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chromium import why_no_browser
from live_server import citelens_serve
from test_web import CITED, build_index

pytestmark = pytest.mark.browser
if reason := why_no_browser():
    pytest.skip(reason, allow_module_level=True)

PUBLIC = "http://library.test"
ROOT = "/citelens"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = build_index(tmp_path_factory.mktemp("proxy-browser") / "index.db")
    with citelens_serve(db, "--root-path", ROOT, env={"CITELENS_CURATORS": "alice=alice-token"}) as url:
        yield url


@pytest.fixture
def page(new_page: Callable[..., Any], server: str) -> Iterator[object]:
    pg = new_page()
    ctx = pg.context
    ctx.outside = []  # requests to the library's host outside the prefix: links that escaped it
    ctx.failed = []  # answers of 400 and more

    def proxy(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        path = url[len(PUBLIC):]
        if not path.startswith(ROOT + "/"):
            ctx.outside.append(url)
            route.fulfill(status=404, body="another application")  # type: ignore[attr-defined]
            return
        answer = route.fetch(url=server + path[len(ROOT):], max_redirects=0)  # type: ignore[attr-defined]
        if answer.status >= 400:
            ctx.failed.append((answer.status, url))
        route.fulfill(response=answer)  # type: ignore[attr-defined]

    ctx.route(f"{PUBLIC}/**", proxy)
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    assert ctx.outside == [] and ctx.failed == [], (ctx.outside, ctx.failed)


def test_a_reader_clicks_through_and_signs_in_under_the_prefix(page: object) -> None:
    pg = page
    pg.goto(f"{PUBLIC}{ROOT}/")  # type: ignore[attr-defined]
    # The stylesheet came through the proxy (the header bar is laid out by it).
    assert pg.evaluate("getComputedStyle(document.querySelector('header.site .bar')).display") == "flex"  # type: ignore[attr-defined]
    pg.fill("form[role=search] input[name=q]", "Barnes")  # type: ignore[attr-defined]
    pg.press("form[role=search] input[name=q]", "Enter")  # type: ignore[attr-defined]
    pg.wait_for_url(f"{PUBLIC}{ROOT}/search?**")  # type: ignore[attr-defined]
    pg.goto(f"{PUBLIC}{ROOT}/reports/{CITED}")  # type: ignore[attr-defined]
    pg.select_option("#f-type", "contrasting")  # type: ignore[attr-defined]
    pg.click("text=Apply filters")  # type: ignore[attr-defined]
    pg.wait_for_url(f"{PUBLIC}{ROOT}/reports/**type=contrasting**")  # type: ignore[attr-defined]
    pg.locator(".card.stmt a.stmt-link").first.click()  # type: ignore[attr-defined]
    pg.wait_for_url(f"{PUBLIC}{ROOT}/statements/*")  # type: ignore[attr-defined]
    statement = pg.url  # type: ignore[attr-defined]
    pg.click("text=Sign in as a curator")  # type: ignore[attr-defined]
    pg.wait_for_url(f"{PUBLIC}{ROOT}/login?**")  # type: ignore[attr-defined]
    pg.fill("input[name=name]", "alice")  # type: ignore[attr-defined]
    pg.fill("input[name=token]", "alice-token")  # type: ignore[attr-defined]
    pg.click("form.login button[type=submit]")  # type: ignore[attr-defined]
    pg.wait_for_url(statement)  # type: ignore[attr-defined]
    assert "Curator: alice" in pg.inner_text("header.site")  # type: ignore[attr-defined]
    assert pg.errors == []  # type: ignore[attr-defined]


def test_the_badge_script_embedded_elsewhere_asks_under_the_prefix(page: object) -> None:
    pg = page
    site = "http://journal.test/an-article"
    html = (f'<div class="citelens-badge" data-doi="{CITED}"></div>'
            f'<script src="{PUBLIC}{ROOT}/static/badge.js"></script>')
    pg.route(site, lambda route: route.fulfill(body=html, content_type="text/html"))  # type: ignore[attr-defined]
    pg.goto(site)  # type: ignore[attr-defined]
    pg.wait_for_selector("a.clb")  # type: ignore[attr-defined]
    text = pg.inner_text("a.clb")  # type: ignore[attr-defined]
    assert "supporting" in text and "not indexed" not in text and "unavailable" not in text, text
    assert pg.get_attribute("a.clb", "href") == f"{PUBLIC}{ROOT}/reports/{CITED}"  # type: ignore[attr-defined]
    assert pg.errors == []  # type: ignore[attr-defined]
