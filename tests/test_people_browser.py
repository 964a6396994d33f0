"""Author pages in real headless Chromium: click from an author to a co-author; a hostile name stays text; the
"sure labels only" filter follows the links."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chromium import why_no_browser
from citelens.pipeline import Pipeline
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings
from live_server import live_server
from test_people import article, contrib, ingest

pytestmark = pytest.mark.browser
if reason := why_no_browser():
    pytest.skip(reason, allow_module_level=True)


def test_author_page_in_chromium(tmp_path: Path, new_page: Callable[..., Any]) -> None:
    db = tmp_path / "i.db"
    p = Pipeline(open_store(db), "cues")
    hostile = "&lt;img src=x onerror=alert(1)&gt;"
    ingest(p, "a.xml", article("10.1234/a", contrib("Okafor", "Ada", "lag"), contrib("Smith", "Anna", "tor"),
                               contrib(hostile, "Eve", "tor")))
    okafor = p.store.find_authors("Okafor")[0][0]
    p.store.close()
    with live_server(create_app(db, Settings(secret_key="k")), range(18660, 18700)) as base:
        page = new_page(base_url=base)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"/authors/{okafor}")
        assert page.locator("#author-name").inner_text() == "Ada Okafor"
        assert "University of Lagos" in page.locator("#author-affiliations").inner_text()
        assert page.locator("#author-works tbody tr").count() == 1
        page.click("#author-coauthors >> text=Anna Smith")
        page.wait_for_url("**/authors/*")
        assert page.locator("#author-name").inner_text() == "Anna Smith"
        assert "(CA)" in page.locator("#author-affiliations").inner_text()
        page.click("#author-affiliations >> text=University of Toronto")
        page.wait_for_url("**/institutions/03dbr7087")
        assert page.locator("#institution-name").inner_text() == "University of Toronto"
        assert page.locator("#institution-index tbody tr").count() == 3
        page.goto(f"/authors/{okafor}")
        assert "<img src=x onerror=alert(1)>" in page.locator("#author-coauthors").inner_text()
        assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0 and dialogs == []
        # "Only labels the model is sure of", ticked here, holds on the pages the links lead to.
        assert not page.locator("#sure-only-conf").is_checked() and page.locator(".sure-note").count() == 0
        page.check("#sure-only-conf")
        page.click("#sure-only >> text=Apply")
        page.wait_for_url("**min_confidence=auto**")
        assert page.locator("#sure-only-conf").is_checked() and page.locator(".sure-note").is_visible()
        page.click("#author-coauthors >> text=Anna Smith")
        page.wait_for_url("**/authors/*min_confidence=auto**")
        assert page.locator("#author-name").inner_text() == "Anna Smith"
        assert page.locator("#sure-only-conf").is_checked()
        page.click("#author-affiliations >> text=University of Toronto")
        page.wait_for_url("**/institutions/03dbr7087?min_confidence=auto")
        assert page.locator("#sure-only-conf").is_checked() and page.locator(".sure-note").is_visible()


def test_author_works_in_pages_in_chromium(tmp_path: Path, new_page: Callable[..., Any]) -> None:
    from test_author_pages import build

    db = tmp_path / "i.db"
    store = open_store(db)
    author = build(store)  # seven works, cited 0 to 7 times
    store.close()
    with live_server(create_app(db, Settings(secret_key="k", author_works_per_page=3)), range(18660, 18700)) as base:
        page = new_page(base_url=base)
        page.goto(f"/authors/{author}")
        tallies = page.locator("#author-tallies").inner_text()
        assert page.locator("#works-range").inner_text() == "Works 1–3 of 7 (newest first)"
        assert page.locator("#author-works tbody tr").count() == 3
        page.click(".sort-links >> text=Most cited first")
        page.wait_for_url("**sort=cited")
        totals = [int(x) for x in page.locator("#author-works tbody tr td:last-child").all_inner_texts()]
        assert totals == sorted(totals, reverse=True) and page.locator("#author-works tbody tr").count() == 3
        seen = page.locator("#author-works tbody tr td:nth-child(2)").all_inner_texts()
        # The paging and sorting links are readable: not the site header's white (they are <nav>s as well).
        for link in (".pager a[rel=next]", ".sort-links a"):
            color = page.locator(link).first.evaluate("a => getComputedStyle(a).color")
            assert color != "rgb(255, 255, 255)", (link, color)
        for expected in ("Works 4–6 of 7 (most cited first)", "Works 7–7 of 7 (most cited first)"):
            page.click(".pager >> text=Next →")
            page.wait_for_load_state()
            assert page.locator("#works-range").inner_text() == expected
            more = [int(x) for x in page.locator("#author-works tbody tr td:last-child").all_inner_texts()]
            assert max(more) <= min(totals)  # the order carries on across pages
            totals = more
            seen += page.locator("#author-works tbody tr td:nth-child(2)").all_inner_texts()
            assert page.locator("#author-tallies").inner_text() == tallies  # figures over all works on every page
        assert len(seen) == len(set(seen)) == 7 and page.locator(".pager >> text=Next →").count() == 0
        page.click(".pager >> text=← Previous")
        page.wait_for_url("**sort=cited&page=2")
        assert page.locator("#works-range").inner_text() == "Works 4–6 of 7 (most cited first)"
