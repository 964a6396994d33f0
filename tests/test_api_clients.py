"""The JSON API as a program integrating it uses it: a script paging to the end, a client revalidating what it
keeps (ETag / If-None-Match), and a page on another site calling the read routes (CORS by method)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings
from test_web import CITED, FIXTURES

# A SICI DOI: '<', '>', ';' and parentheses, which a link the server writes must carry back intact.
SICI = "10.1002/(sici)1097-4636(199706)35:4<513::aid-jbm12>3.0.co;2-h"
ORIGIN = "https://journal.example.org"
TOKEN = "api-secret"


@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("clients")
    # Two copies of the mini article citing the SICI DOI, so that it has statements on more than one page.
    article = (FIXTURES / "mini-jats.xml").read_text(encoding="utf-8").replace(
        "<pub-id pub-id-type=\"doi\">10.1371/journal.pbio.0000005</pub-id>",
        "<pub-id pub-id-type=\"doi\">10.1002/(SICI)1097-4636(199706)35:4%3C513::AID-JBM12%3E3.0.CO;2-H</pub-id>")
    for n in (2, 3):
        (tmp / f"sici-{n}.xml").write_text(article.replace("10.9999/JTB.2020.001", f"10.9999/JTB.2020.00{n}"),
                                           encoding="utf-8")
    db = tmp / "index.db"
    store = open_store(db)
    summary = ingest_paths([FIXTURES / "xss-article.xml", FIXTURES / "xss-retraction.xml", FIXTURES / "mini-jats.xml",
                            tmp / "sici-2.xml", tmp / "sici-3.xml"], store, classifier="cues")
    store.close()
    assert summary.stored == 5, summary.failed
    return db


@pytest.fixture()
def client(index_db: Path, tmp_path: Path) -> Iterator[TestClient]:
    db = tmp_path / "index.db"
    shutil.copy(index_db, db)
    with TestClient(create_app(db, Settings(api_token=TOKEN, secret_key="k"))) as c:
        yield c


def follow(client: TestClient, url: str) -> tuple[list[dict], list[str]]:
    """Every page from ``url`` on, by ``next``: the pages' bodies and the Link headers' rel="next" targets."""
    pages, links = [], []
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        links.append(r.links.get("next", {}).get("url"))
        url = r.json()["next"]
        assert len(pages) < 50, "next never ends"
    return pages, links


@pytest.mark.parametrize("start,rows", [
    (f"/api/citations/{CITED}?per_page=2&sort=oldest", "citations"),
    (f"/api/citations/{SICI}?per_page=1", "citations"),
    ("/api/search?q=%E2%80%9Ccells%E2%80%9D+OR+reports+OR+caf%C3%A9&per_page=1", "results"),  # Unicode in q
])
def test_a_script_follows_next_to_the_last_page(client: TestClient, start: str, rows: str) -> None:
    pages, links = follow(client, start)
    first, last = pages[0], pages[-1]
    seen = [st["id"] for p in pages for st in p[rows]]
    assert len(pages) == first["pages"] >= 2 and first["total"] == len(seen) == len(set(seen))
    assert [p["page"] for p in pages] == list(range(1, len(pages) + 1))
    assert first["prev"] is None and last["next"] is None and pages[1]["prev"].endswith("page=1")
    # The Link header says what next says (the last page has no rel="next").
    assert [p["next"] for p in pages] == links
    # The request's other parameters go on to every page.
    assert all("per_page=" in p["next"] for p in pages[:-1])
    if rows == "citations":
        assert {p["doi"] for p in pages} == {first["doi"]}


def test_a_page_past_the_end_points_back(client: TestClient) -> None:
    r = client.get(f"/api/citations/{CITED}", params={"per_page": 2, "page": 9})
    body = r.json()
    assert body["citations"] == [] and body["next"] is None and body["prev"].endswith("page=3")
    assert 'rel="last"' in r.headers["link"] and "page=3" in r.links["last"]["url"]


def test_conditional_requests_answer_304_until_the_answer_changes(client: TestClient) -> None:
    url = f"/api/tallies/{CITED}"
    r = client.get(url)
    etag = r.headers["etag"]
    assert r.headers["cache-control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert again.headers["access-control-allow-origin"] == "*"  # a browser revalidating from another site
    assert client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.head(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.head(url).headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    # A curator's correction changes the tallies, so the kept copy no longer holds.
    sid = client.get(f"/api/citations/{CITED}", params={"type": "mentioning"}).json()["citations"][0]["id"]
    fixed = client.post(f"/api/statements/{sid}/correction", json={"type": "supporting"},
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert fixed.status_code == 200 and "etag" not in fixed.headers
    r = client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag and r.json()["supporting"] == 2


def test_errors_are_not_tagged_and_the_badge_keeps_its_max_age(client: TestClient) -> None:
    r = client.get("/api/tallies/10.5555/not-here")
    assert r.status_code == 404 and "etag" not in r.headers and "cache-control" not in r.headers
    badge = client.get("/badge.svg", params={"doi": CITED})
    assert badge.headers["cache-control"] == "public, max-age=3600" and badge.headers["etag"]
    assert client.get("/badge.svg", params={"doi": CITED},
                      headers={"If-None-Match": badge.headers["etag"]}).status_code == 304
    assert "etag" not in client.get("/badge.svg", params={"doi": CITED, "layout": "x"}).headers
    assert "etag" not in client.get("/").headers  # pages are left alone (a form carries its session's CSRF token)


def test_cross_origin_by_method_as_the_preflight_decides(client: TestClient) -> None:
    origin = {"Origin": ORIGIN}
    # A read-only POST that the preflight refuses is not readable from another site either (a text/plain body
    # skips the preflight).
    r = client.post("/api/check", content=b"Smith J. A title. 2001.", headers={**origin, "Content-Type": "text/plain"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    pre = client.options("/api/check", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 405
    # GET /api/collections is a read like GET /api/collections/{id}; creating one is not.
    assert client.get("/api/collections", headers=origin).headers["access-control-allow-origin"] == "*"
    created = client.post("/api/collections", json={"name": "x", "dois": [CITED]},
                          headers={**origin, "Authorization": f"Bearer {TOKEN}"})
    assert created.status_code == 201 and "access-control-allow-origin" not in created.headers
    assert client.get(f"/api/collections/{created.json()['id']}",
                      headers=origin).headers["access-control-allow-origin"] == "*"
    pre = client.options("/api/collections", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 405 and "access-control-allow-origin" not in pre.headers
    pre = client.options("/api/collections", headers={**origin, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 204
    # The batch reads stay open, as scite's clients need.
    assert client.post("/api/tallies", json=[CITED], headers=origin).headers["access-control-allow-origin"] == "*"
