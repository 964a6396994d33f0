"""A work's tallies read the same on every page: the works tables of the author, institution, journal and collection
pages have the same count columns, in the same order, words, colours and alignment (supporting, contrasting,
mentioning, statements, citing publications; before, a collection had "Citing papers" and no total, the others a
total and no citing publications), each cell the work's API figure; the table says a threshold in force; and the
pages new this session (/top, the statement page) fit a 390 px phone, and the profile tables a 1280 px screen."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chromium import why_no_browser
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings
from live_server import live_server
from test_profile_min_confidence import ISSN
from test_work_tallies import ROR, HashClassifier, _article

HEADS = ["Supporting", "Contrasting", "Mentioning", "Statements", "Citing publications"]
COLOURS = ["c-supporting", "c-contrasting", "c-mentioning", None, None]
TABLES = {"author": "#author-works", "institution": "#institution-works", "journal": "#journal-works",
          "collection": "table.collection"}
XPATHS = {"#author-works": "//table[@id='author-works']", "#institution-works": "//table[@id='institution-works']",
          "#journal-works": "//table[@id='journal-works']", "table.collection": "//table[contains(@class, 'collection')]"}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """An index whose works cite one another, and the paths of a profile page of each kind and a collection."""
    db = tmp_path_factory.mktemp("tables") / "i.db"
    p = Pipeline(open_store(db), HashClassifier())
    rng = random.Random(11)
    for n in range(9):
        assert not p.ingest([read_bytes_input(f"m{n}.xml", _article(rng, n, 0, list(range(n))))]).failed
    store = p.store
    author = Counter(a.author_id for a in store.iter_document_authors() if a.author_id).most_common(1)[0][0]
    dois = [w.doi for w in store.most_cited_works(limit=5) if w.doi]
    c = store.create_collection("Cited", "alice", [(d, None, "") for d in dois])
    store.close()
    return db, {"author": f"/authors/{author}", "institution": f"/institutions/{ROR}", "journal": f"/journals/{ISSN}",
                "collection": f"/collections/{c.id}"}


@pytest.fixture(scope="module")
def client(index: tuple[Path, dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(index[0], Settings(secret_key="k"))) as c:
        yield c


def _table(html: str, selector: str) -> tuple[list[tuple[str, str]], list[list[str]], list[str]]:
    """(each heading's (text, class), each body row's cells' text, each body row's first link)."""
    from lxml import html as lhtml

    found = lhtml.fromstring(html).xpath(XPATHS[selector])
    assert found, selector
    table = found[0]
    heads = [(" ".join(th.text_content().replace("\u00ad", "").replace("▲", "").replace("▼", "").split()),
              th.get("class") or "") for th in table.xpath("./thead//th")]
    rows = [[" ".join(td.text_content().split()) for td in tr.xpath("./td")] for tr in table.xpath("./tbody/tr")]
    links = [(tr.xpath(".//a/@href") or [""])[0] for tr in table.xpath("./tbody/tr")]
    return heads, rows, links


def test_works_tables_show_the_same_count_columns(client: TestClient, index: tuple[Path, dict[str, str]]) -> None:
    seen = {}
    for kind, path in index[1].items():
        heads, rows, links = _table(client.get(path).text, TABLES[kind])
        names = [h for h, _ in heads]
        start = names.index("Supporting")
        seen[kind] = names[start:start + len(HEADS)]
        assert seen[kind] == HEADS, (kind, names)
        for (_, cls), colour in zip(heads[start:start + len(HEADS)], COLOURS, strict=True):
            assert "num" in cls.split() and (colour is None or colour in cls.split()), (kind, cls)
        assert rows, kind
        # each row's counts are the work's own (the API's tallies, citing publications included)
        for row, link in list(zip(rows, links, strict=True))[:3]:
            doi = link.split("/reports/", 1)[1].split("?")[0]
            t = client.get(f"/api/tallies/{doi}").json()
            want = [t["supporting"], t["contradicting"], t["mentioning"], t["total"], t["citingPublications"]]
            assert [int(x) for x in row[start:start + len(HEADS)]] == want, (kind, doi, row)
    assert len({tuple(v) for v in seen.values()}) == 1, seen


def test_journal_api_gives_each_most_cited_works_citing_publications(client: TestClient,
                                                                      index: tuple[Path, dict[str, str]]) -> None:
    works = client.get(f"/api/journals/{ISSN}").json()["most_cited"]
    assert works
    for w in works:
        t = client.get(f"/api/tallies/{w['doi']}").json()
        assert w["citing_publications"] == t["citingPublications"], w


def test_a_works_table_says_the_threshold_in_force(client: TestClient, index: tuple[Path, dict[str, str]]) -> None:
    for kind in ("author", "institution", "journal"):
        path = index[1][kind]
        assert 'class="hint tally-threshold"' not in client.get(path).text, kind
        html = client.get(path, params={"min_confidence": "0.7"}).text
        note = re.search(r'<p class="hint tally-threshold">(.*?)</p>', html, re.S)
        assert note and "≥ 70%" in note.group(1), kind
        # said just above the table, not only in the form at the top of the page
        assert html.index("tally-threshold") < html.index(TABLES[kind].lstrip("#")), kind


@pytest.fixture(scope="module")
def served(index: tuple[Path, dict[str, str]]) -> Iterator[str]:
    if reason := why_no_browser():
        pytest.skip(reason)
    with live_server(create_app(index[0], Settings(secret_key="k")), range(18800, 18820)) as url:
        yield url


@pytest.mark.browser
def test_new_pages_fit_a_phone_and_works_tables_fit_a_wide_screen(served: str, client: TestClient,
                                                                  index: tuple[Path, dict[str, str]],
                                                                  new_page: Callable[..., Any]) -> None:
    stmt = re.search(r'href="(/statements/\d+)"', client.get("/top").text + client.get(
        re.search(r'href="(/reports/[^"?]+)', client.get("/top").text).group(1)).text)
    assert stmt
    page = new_page(viewport={"width": 390, "height": 800})
    for path in ["/top", "/top?by=contrasting&min_confidence=auto", stmt.group(1)]:
        page.goto(served + path)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], (path, width)
        # nothing in the main content reaches past the screen's right edge
        out = page.evaluate("""() => [...document.querySelectorAll('main *')].filter(e =>
            e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName)""")
        assert not out, (path, out)
    page = new_page(viewport={"width": 1280, "height": 800})
    for kind, path in index[1].items():
        page.goto(served + path)
        box = page.evaluate(f"""() => {{ const d = document.querySelector('{TABLES[kind]}').closest('.table-scroll');
            return [d.scrollWidth, d.clientWidth]; }}""")
        assert box[0] <= box[1], (kind, box)
