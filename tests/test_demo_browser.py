"""A new user's first minutes with the demo, in real headless Chromium (Debian /usr/bin/chromium):
home → most cited work → its report → the References tab; search; how labels are made; a reference check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chromium import why_no_browser
from citelens.web.app import create_app
from citelens.web.settings import Settings
from live_server import live_server

pytestmark = pytest.mark.browser
if reason := why_no_browser():
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="module")
def base(demo_db: Path) -> Iterator[str]:
    with live_server(create_app(demo_db, Settings(secret_key="k")), range(18450, 18500)) as url:
        yield url


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


def test_home_to_report_to_references(page: object, base: str) -> None:
    page.goto(base + "/")
    page.click("ol.most-cited li:first-child a")
    assert "/reports/10.1038/nn1525" in page.url
    assert "34" in page.inner_text(".t-pubs")
    # A citing paper's own references, with their tallies.
    page.click(".citing-link >> nth=0")
    page.click("#tab-references")
    assert "tab=references" in page.url
    assert page.locator("ol.refs li").count() > 5
    assert page.locator("ol.refs .tallies").count() > 0
    # A labelled reference shows its label once ("12. Smith …"), not after the list's own number ("12. 12. Smith").
    labelled = page.locator("ol.refs li.labelled").first
    assert labelled.locator(".label").inner_text().strip()
    assert labelled.evaluate("li => getComputedStyle(li).listStyleType") == "none"


def test_search_shows_each_sentence_once(page: object, base: str) -> None:
    page.goto(base + "/search?q=channelrhodopsin")
    sentences = page.locator("article.group blockquote").all_inner_texts()
    assert sentences and len(sentences) == len(set(sentences))
    assert page.locator("article.group .cited-list li").count() >= len(sentences)


def test_labels_explained(page: object, base: str) -> None:
    page.goto(base + "/how-labels-are-made")
    page.click("#model-card-link")
    assert "Model card" in page.inner_text("h1")


def test_reference_check_upload(page: object, base: str, tmp_path: Path) -> None:
    ris = tmp_path / "refs.ris"
    record = ("TY  - JOUR\nAU  - {}\nTI  - Millisecond-timescale, genetically targeted optical control of neural"
              " activity\nPY  - 2005\nDO  - 10.1038/nn1525\nER  -\n")
    ris.write_bytes(record.format("Boyden, E. S.").encode("latin-1"))
    page.goto(base + "/check")
    page.set_input_files("#file", str(ris))
    page.click("button:has-text('Check references')")
    assert "1 reference read (ris): 1 found" in page.inner_text("#res-h")
    # The CSV button's file is for a spreadsheet: a UTF-8 byte-order mark, or Excel shows "MÃ¼ller".
    ris.write_bytes(record.format("Øster-Müller, K.").encode())
    page.set_input_files("#file", str(ris))
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.click("button:has-text('Download results as CSV')")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbfindex,raw,") and "Øster-Müller" in data.decode("utf-8-sig")


def test_collection_page_sorts_and_links_its_feed(page: object, base: str, demo_db: Path) -> None:
    from citelens.store import open_store

    store = open_store(demo_db)
    c = store.create_collection("Opsins", "alice", [("10.1073/pnas.1936192100", None, "ChR2"),
                                                    ("10.1038/nn1525", None, "Boyden"), ("10.5555/none", None, "x")])
    store.close()
    page.goto(f"{base}/collections/{c.id}")
    assert page.locator("table.collection tbody tr").count() == 3
    page.click("th a[href*='sort=citing_publications']")
    first = page.locator("table.collection tbody tr").first.inner_text()
    assert "nn1525" in first  # most citing papers first
    assert page.get_attribute("#feed-link", "href") == f"/collections/{c.id}/feed.atom"
    assert page.get_attribute("#csv-link", "href").startswith(f"/collections/{c.id}.csv")
