"""Journal pages in real headless Chromium: from a report page to its journal; a hostile journal name stays text."""

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
from test_journals import article, citing, ingest

pytestmark = pytest.mark.browser
if reason := why_no_browser():
    pytest.skip(reason, allow_module_level=True)


def test_journal_page_in_chromium(tmp_path: Path, new_page: Callable[..., Any]) -> None:
    db = tmp_path / "i.db"
    p = Pipeline(open_store(db), "cues")
    hostile = "&lt;img src=x onerror=alert(1)&gt; Letters"
    ingest(p, "a.xml", article("10.1234/a", 2019, title=hostile))
    ingest(p, "c.xml", citing("10.1234/c1", 2023, "10.1234/a"))
    p.store.close()
    with live_server(create_app(db, Settings(secret_key="k")), range(18200, 18240)) as base:
        page = new_page(base_url=base)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto("/reports/10.1234/a")
        page.click("a.journal-link")
        page.wait_for_url("**/journals/1544-9173")
        assert page.locator("#journal-name").inner_text() == "<img src=x onerror=alert(1)> Letters"
        rows = page.locator("#journal-index tbody tr")
        assert rows.count() == 3 and "all time" in rows.nth(2).inner_text()
        assert page.locator("#journal-works tbody tr").count() == 2
        page.click("#journal-works >> text=10.1234/a title")
        page.wait_for_url("**/reports/10.1234/a")
        assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0 and dialogs == []
