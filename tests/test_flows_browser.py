"""The /flows page in real headless Chromium: the SVG matrix, map and pair charts draw without script, the
form changes the unit, and an affiliation written as markup stays text (in the map too)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chromium import why_no_browser
from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings
from flows_corpus import write_corpus
from live_server import live_server

pytestmark = pytest.mark.browser
if reason := why_no_browser():
    pytest.skip(reason, allow_module_level=True)


def test_flows_page_in_chromium(tmp_path: Path, new_page: Callable[..., Any]) -> None:
    db = tmp_path / "i.db"
    store = open_store(db)
    assert ingest_paths(write_corpus(tmp_path / "corpus"), store, "cues").failed == []
    store.close()
    with sqlite3.connect(db) as conn:  # the laboratory whose name is markup gets a city: the map draws it
        assert conn.execute("UPDATE work_places SET city = 'Paris' WHERE institution LIKE '%onerror%'").rowcount
    with live_server(create_app(db, Settings(secret_key="k")), range(18400, 18440)) as base:
        page = new_page(base_url=base, java_script_enabled=False)
        page.goto("/flows")
        assert "11 tie statements" in page.locator("#flows-summary").inner_text()
        assert page.locator("#flow-matrix rect").count() == 25  # 5 distances x (3 types, all, expected)
        assert page.locator("#flows-table tbody tr").count() == 5
        intl = page.locator("#flows-table tbody tr").nth(4).inner_text()
        assert intl.split("\t")[:5] == ["International", "0", "2", "3", "5"]
        box = page.locator("#flow-matrix").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150  # drawn, not empty
        labels = page.locator("#top-pairs text").all_text_contents()
        assert "Harvard University → Harvard University" in labels
        titles = page.locator("#top-pairs g title").all_text_contents()  # the whole label (the text is cut)
        assert any(t.startswith("University College London → <img src=x onerror=alert(1)> Laboratoire")
                   for t in titles)
        assert page.locator("img").count() == 0 and page.locator("#top-country-pairs rect").count() > 0
        # The map: the eight institutions at their cities, arcs between them, the same figures as tables.
        assert page.locator("#flow-map circle").count() == 8 and page.locator("#flow-map .map-arc path").count() > 0
        assert page.locator("#flow-map").get_attribute("aria-labelledby") == "map-title map-desc"
        box = page.locator("#flow-map").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        assert page.locator("#map-points tbody tr").count() == 8 and page.locator("#map-arcs tbody tr").count() > 0
        titles = page.locator("#flow-map .map-point title").all_text_contents()
        assert any(t.startswith("<img src=x onerror=alert(1)> Laboratoire: ") for t in titles)  # text, not markup
        assert 0 < page.locator("#flow-map text").count() <= 8  # labels that would overlap are left out
        assert any("<img src=x onerror=alert(1)> Laboratoire" in t
                   for t in page.locator("#map-points td").all_text_contents())
        if os.environ.get("CITELENS_SCREENSHOTS"):
            page.screenshot(path=os.path.join(os.environ["CITELENS_SCREENSHOTS"], "flows.png"), full_page=True)
        page.select_option("select[name=by]", "country")
        page.click("#flows-form button[type=submit]")
        page.wait_for_url("**/flows?by=country*")
        assert "at the country level" in page.locator("#localisation").inner_text()
        assert page.locator("#top-country-pairs").count() == 0  # the unit pairs are the country pairs
        assert page.locator("#flow-map circle").count() == 4  # US, GB, CA, FR
        # With script on, nothing injected runs either.
        page2 = new_page(base_url=base)
        dialogs: list[str] = []
        page2.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page2.goto("/flows?by=institution")
        assert page2.evaluate("() => document.querySelectorAll('img').length") == 0 and dialogs == []
