"""scite's own clients, pointed at CiteLens by changing only the base URL.

Each test replays the exact requests of one client — method, path, headers, body — against a real
server (uvicorn on 127.0.0.1) and reads the fields that client reads. Requests as sent by:
- the Zotero plugin (scite-zotero-plugin): ``POST {base}/tallies`` with a JSON array of DOIs;
- the badge (scite-badge / scite-extension ``src/badge``): ``POST /tallies``, ``POST /papers``,
  ``POST /tallies/cited-by-sections``, each after a CORS preflight (JSON content type), reading
  ``tallies[doi].{supporting,contradicting,mentioning,total,citingPublications}``,
  ``papers[doi].editorialNotices[].status`` (lower-cased and compared with scite's list) and the
  section counts ``introduction … other``;
- the browser extension: ``GET /tallies/{doi}``, ``GET /papers/{doi}`` and
  ``GET /search/match_reference?title=…&first_author=…`` reading ``matched`` and ``doi``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings
from live_server import live_server
from test_web import CITED, FIXTURES

ORIGIN = "https://journal.example.org"
# The scite badge's notice filter (scite-extension src/badge/scite.js).
SCITE_NOTICE_STATUSES = {"retracted", "has expression of concern", "withdrawn", "has erratum", "has correction"}
SICI = "10.1002/(SICI)1097-4636(199706)35:4<513::AID-JBM12>3.0.CO;2-H"
PORTS = range(18400, 18450)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("scite")
    # An article citing a DOI written percent-encoded, as publishers' links have it.
    article = (FIXTURES / "mini-jats.xml").read_text(encoding="utf-8")
    article = article.replace("10.9999/JTB.2020.001", "10.9999/JTB.2020.002").replace(
        "<pub-id pub-id-type=\"doi\">10.1371/journal.pbio.0000005</pub-id>",
        "<pub-id pub-id-type=\"doi\">10.1002/(SICI)1097-4636(199706)35:4%3C513::AID-JBM12%3E3.0.CO;2-H</pub-id>")
    (tmp / "encoded.xml").write_text(article, encoding="utf-8")
    db = tmp / "index.db"
    store = open_store(db)
    summary = ingest_paths([FIXTURES / "xss-article.xml", FIXTURES / "xss-retraction.xml",
                            FIXTURES / "mini-jats.xml", tmp / "encoded.xml"], store, classifier="cues")
    store.close()
    assert summary.stored == 4, summary.failed
    with live_server(create_app(db, Settings(api_token="t", secret_key="k")), PORTS) as url:
        yield url


@pytest.fixture(params=["/api", ""], ids=["api-prefix", "bare-host"])
def api(request: pytest.FixtureRequest, base_url: str) -> str:
    """Both the /api base and the bare host stand in for https://api.scite.ai."""
    return base_url + request.param


def preflight(client: httpx.Client, url: str, method: str = "POST") -> httpx.Response:
    return client.options(url, headers={"Origin": ORIGIN, "Access-Control-Request-Method": method,
                                        "Access-Control-Request-Headers": "content-type"})


def assert_preflight_ok(r: httpx.Response, method: str) -> None:
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert method in r.headers["access-control-allow-methods"]
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    assert int(r.headers["access-control-max-age"]) > 0


JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json", "Origin": ORIGIN}


def test_zotero_plugin(api: str) -> None:
    with httpx.Client() as c:
        r = c.post(f"{api}/tallies", json=[CITED, "10.5555/not-indexed"],
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    t = r.json()["tallies"][CITED]
    for field in ("supporting", "contradicting", "mentioning", "unclassified", "total", "citingPublications"):
        assert isinstance(t[field], int)
    assert "10.5555/not-indexed" not in r.json()["tallies"]


def test_badge(api: str) -> None:
    dois = [CITED, None, "", "10.5555/not-indexed"]  # what a page's scraping can produce
    with httpx.Client() as c:
        for path in ("/tallies", "/papers", "/tallies/cited-by-sections"):
            assert_preflight_ok(preflight(c, api + path), "POST")
        r = c.post(f"{api}/tallies", json=dois, headers=JSON_HEADERS)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
        assert r.json()["tallies"][CITED]["total"] == 5
        r = c.post(f"{api}/papers", json=dois, headers=JSON_HEADERS)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
        notices = r.json()["papers"][CITED]["editorialNotices"]
        statuses = {n["status"].lower() for n in notices}
        assert statuses == {"retracted"} and statuses <= SCITE_NOTICE_STATUSES
        assert notices[0]["type"] == "retraction"  # our own field stays
        r = c.post(f"{api}/tallies/cited-by-sections", json=dois, headers=JSON_HEADERS)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
        body = r.json()["tallies"]
        assert set(body) == {CITED}
        sec = body[CITED]
        assert sec["doi"] == CITED
        assert [sec[k] for k in ("introduction", "methods", "results", "discussion", "other")] == [1, 1, 2, 1, 0]


def test_browser_extension(api: str) -> None:
    with httpx.Client() as c:
        assert_preflight_ok(preflight(c, f"{api}/tallies/{CITED}", "GET"), "GET")
        r = c.get(f"{api}/tallies/{CITED}", headers={"Origin": ORIGIN})
        assert r.status_code == 200 and r.json()["citingPublications"] >= 1
        assert r.headers["access-control-allow-origin"] == "*"
        r = c.get(f"{api}/papers/{CITED}", headers={"Origin": ORIGIN})
        assert [n["status"] for n in r.json()["editorialNotices"]] == ["Retracted"]
        title = r.json()["title"]
        # A reference without a DOI: title + first author, as the extension's URLSearchParams sends them.
        r = c.get(f"{api}/search/match_reference", params={"title": title, "first_author": "Barnes"})
        assert r.status_code == 200 and r.json()["matched"] is True and r.json()["doi"] == CITED
        r = c.get(f"{api}/search/match_reference", params={"title": "A work nobody wrote", "first_author": "Nobody"})
        assert r.json() == {"matched": False, "doi": None, "work_id": None, "method": None, "score": None}


def test_match_reference_is_read_only(base_url: str) -> None:
    with httpx.Client() as c:
        before = c.get(f"{base_url}/api/health").json()
        for i in range(3):
            c.get(f"{base_url}/search/match_reference", params={"title": f"Unknown work {i}", "first_author": "X"})
        stats_works = c.get(f"{base_url}/api/health").json()
    assert stats_works == before


def test_percent_encoded_dois(api: str) -> None:
    """A DOI stored from '%3C…%3E' is the real DOI; asked for encoded or not, it is found."""
    with httpx.Client() as c:
        plain = c.get(f"{api}/tallies/{SICI}")
        encoded = c.get(f"{api}/tallies/" + SICI.replace("<", "%253C").replace(">", "%253E"))
        batch = c.post(f"{api}/tallies", json=[SICI, SICI.replace("<", "%3C").replace(">", "%3E")])
    assert plain.status_code == 200 and plain.json()["total"] >= 1
    assert plain.json()["doi"] == SICI.lower()
    assert encoded.status_code == 200 and encoded.json()["total"] == plain.json()["total"]
    assert len(batch.json()["tallies"]) == 2


def test_no_preflight_for_write_routes(base_url: str) -> None:
    with httpx.Client() as c:
        for url in (f"{base_url}/api/statements/1/correction", f"{base_url}/api/collections"):
            r = preflight(c, url)
            assert r.status_code == 405 and "access-control-allow-origin" not in r.headers
        r = c.post(f"{base_url}/api/statements/1/correction", json={"type": "supporting"})
        assert "access-control-allow-origin" not in r.headers
        # A read route does not offer write methods either.
        r = preflight(c, f"{base_url}/api/tallies/{CITED}", "DELETE")
        assert r.status_code == 405
