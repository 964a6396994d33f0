"""Pages on a phone-sized screen (375 px, Chromium): wide tables scroll inside their own box, which a keyboard
can reach, instead of making the whole page scroll sideways (the report page's sections table, the author's
works, a collection's table, the journal, institution, flows and API pages did)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings
from live_server import live_server

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CITED = "10.9999/cited.2001.1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """(the server's address, a collection's id)."""
    db = tmp_path_factory.mktemp("narrow") / "index.db"
    store = open_store(db)
    ingest_paths(
        [FIXTURES / "xss-article.xml", FIXTURES / "xss-retraction.xml", FIXTURES / "mini-jats.xml"],
        store,
        classifier="cues",
    )
    c = store.create_collection(
        "Reading list", "alice", [(CITED, None, ""), ("10.1128/jb.187.1.55", None, "")]
    )
    store.close()
    with live_server(create_app(db, Settings(secret_key="k")), range(18760, 18780)) as url:
        yield url, c.id


def test_wide_tables_scroll_in_their_own_box(served: tuple[str, int], new_page: Callable[..., Any]) -> None:
    url, collection = served
    pages = [f"/reports/{CITED}", f"/collections/{collection}", "/docs"]
    page = new_page(viewport={"width": 375, "height": 800})
    for path in pages:
        page.goto(url + path)
        assert page.locator("table").count(), path
        width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width[0] <= width[1], (path, width)
        # every table sits in a box a keyboard can focus (and so scroll), named for screen readers
        boxes = page.evaluate("""[...document.querySelectorAll('main table')].map(t => {
            const box = t.closest('.table-scroll');
            return box ? [box.tabIndex, box.getAttribute('role'), box.getAttribute('aria-label')] : null; })""")
        assert all(b and b[0] == 0 and b[1] == "region" and b[2] for b in boxes), (path, boxes)
