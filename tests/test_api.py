"""JSON API: scite-compatible shapes, errors as JSON (404/400/422, never 500), token-protected writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings
from test_web import CITED, build_index

TALLY_KEYS = {"doi", "total", "supporting", "contradicting", "mentioning", "unclassified", "citingPublications",
              "retracted"}


@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("api") / "index.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, index_db: Path, tmp_path: Path) -> TestClient:
    """The API over each backend: a copy of the SQLite index, or the same corpus in a PostgreSQL schema."""
    if request.param == "postgres":
        db: Path | str = request.getfixturevalue("pg_url")
        build_index(db)
    else:
        db = tmp_path / "api.db"
        shutil.copy(index_db, db)
    with TestClient(create_app(db, Settings(api_token="api-secret", secret_key="k"))) as c:
        c.db_path = db  # type: ignore[attr-defined]
        yield c


def test_tallies_shape(client: TestClient) -> None:
    r = client.get(f"/api/tallies/{CITED}")
    assert r.status_code == 200
    t = r.json()
    assert set(t) == TALLY_KEYS
    assert t == {"doi": CITED, "total": 5, "supporting": 1, "contradicting": 1, "mentioning": 3, "unclassified": 0,
                 "citingPublications": 1, "retracted": True}
    assert r.headers["access-control-allow-origin"] == "*"  # the badge script reads this from other sites
    # DOIs are case-insensitive and may come as a doi.org URL.
    assert client.get(f"/api/tallies/{CITED.upper()}").json()["total"] == 5


def test_tallies_min_confidence(client: TestClient) -> None:
    every = client.get(f"/api/tallies/{CITED}").json()
    strict = client.get(f"/api/tallies/{CITED}", params={"min_confidence": "1"}).json()
    assert strict["supporting"] == strict["contradicting"] == 0
    assert strict["total"] == every["total"] and strict["mentioning"] == every["mentioning"] + 2
    assert client.get(f"/api/tallies/{CITED}", params={"min_confidence": "0"}).json() == every
    assert client.get(f"/api/tallies/{CITED}", params={"min_confidence": "auto"}).status_code == 200
    for bad in ("2", "-1", "high"):
        r = client.get(f"/api/tallies/{CITED}", params={"min_confidence": bad})
        assert r.status_code == 400 and "min_confidence" in r.text
    s = client.get(f"/api/tallies/{CITED}/sections", params={"min_confidence": "1"}).json()
    assert s["total"] == every["total"]


def test_citations_and_search_min_confidence(client: TestClient) -> None:
    """type= with min_confidence= lists what the tallies count at that threshold."""
    every = client.get(f"/api/citations/{CITED}", params={"type": "contrasting"}).json()
    assert every["total"] == 1 and every["min_confidence"] is None
    strict = client.get(f"/api/citations/{CITED}", params={"type": "contrasting", "min_confidence": "1"}).json()
    assert strict["total"] == 0 and strict["citations"] == [] and strict["min_confidence"] == 1.0
    demoted = client.get(f"/api/citations/{CITED}", params={"type": "mentioning", "min_confidence": "1"}).json()
    assert demoted["total"] == 5 and {c["type"] for c in demoted["citations"]} == {"supporting", "contrasting",
                                                                                  "mentioning"}
    auto = client.get(f"/api/citations/{CITED}", params={"min_confidence": "auto"}).json()
    assert auto["total"] == 5 and 0 < auto["min_confidence"] < 1
    hits = client.get("/api/search", params={"q": "contrast", "type": "contrasting", "min_confidence": "1"}).json()
    assert hits["total"] == 0 and hits["min_confidence"] == 1.0
    for path, params in ((f"/api/citations/{CITED}", {}), ("/api/search", {"q": "contrast"})):
        r = client.get(path, params={**params, "min_confidence": "high"})
        assert r.status_code == 400 and "min_confidence" in r.json()["error"]


def test_server_wide_min_confidence_for_scite_clients(index_db: Path, tmp_path: Path) -> None:
    """CITELENS_MIN_CONFIDENCE: the tallies scite's clients and the badge get (they name no threshold) count only
    labels at or above it; a request can still ask for every label (min_confidence=0)."""
    db = tmp_path / "strict.db"
    shutil.copy(index_db, db)
    strict = Settings.from_env({"CITELENS_MIN_CONFIDENCE": "1"})
    with TestClient(create_app(db, strict)) as c:
        t = c.get(f"/api/tallies/{CITED}").json()
        assert t["supporting"] == t["contradicting"] == 0 and t["total"] == 5
        assert c.get(f"/tallies/{CITED}").json() == t  # scite's own path
        assert c.post("/api/tallies", json=[CITED]).json()["tallies"][CITED] == t
        every = c.get(f"/api/tallies/{CITED}", params={"min_confidence": "0"}).json()
        assert every["supporting"] == every["contradicting"] == 1
    assert Settings.from_env({"CITELENS_MIN_CONFIDENCE": "auto"}).tallies_min_confidence is not None
    assert Settings.from_env({}).tallies_min_confidence is None
    with pytest.raises(ValueError, match="CITELENS_MIN_CONFIDENCE"):
        Settings.from_env({"CITELENS_MIN_CONFIDENCE": "high"})


def test_tallies_batch(client: TestClient) -> None:
    r = client.post("/api/tallies", json=[CITED, "10.1128/JB.187.1.55", "10.5555/unknown"])
    body = r.json()
    assert r.status_code == 200 and set(body) == {"tallies"}
    assert set(body["tallies"]) == {CITED, "10.1128/JB.187.1.55"}
    assert set(body["tallies"][CITED]) == TALLY_KEYS


def test_sections(client: TestClient) -> None:
    s = client.get(f"/api/tallies/{CITED}/sections").json()
    assert s == {"introduction": 1, "methods": 1, "results": 2, "discussion": 1, "other": 0, "total": 5}


def test_papers(client: TestClient) -> None:
    body = client.post("/api/papers", json=[CITED, "10.9999/xss.2024.1"]).json()
    p = body["papers"][CITED]
    assert set(p) == {"doi", "title", "authors", "year", "journal", "retracted", "editorialNotices"}
    assert p["retracted"] is True
    assert p["authors"] == [{"family": "Barnes", "given": "T"}]
    assert p["editorialNotices"][0]["type"] == "retraction"
    assert p["editorialNotices"][0]["doi"] == "10.9999/notice.2022.7"
    # Article text is returned as data (JSON-encoded), not sanitised away.
    assert "<script>" in body["papers"]["10.9999/xss.2024.1"]["title"]


def test_citations_filters_and_pages(client: TestClient) -> None:
    body = client.get(f"/api/citations/{CITED}").json()
    assert body["total"] == 5 and len(body["citations"]) == 5
    c0 = body["citations"][0]
    assert {"sentence", "callout_start", "callout_end", "type", "confidence", "section", "citing_doi"} <= set(c0)
    assert client.get(f"/api/citations/{CITED}?type=supporting").json()["total"] == 1
    assert client.get(f"/api/citations/{CITED}?section=results").json()["total"] == 2
    paged = client.get(f"/api/citations/{CITED}?per_page=2&page=3").json()
    assert paged["page"] == 3 and len(paged["citations"]) == 1


def test_api_pages_reach_every_row_whatever_the_pages_bound(index_db: Path, tmp_path: Path) -> None:
    """The pages stop at page 500 (Settings.max_page, for readers); /api/citations and /api/search page through
    every row their `total` counts, however far (at per_page=1, page 501 of a work with 600 statements): here
    with the pages' bound at 2, every statement comes back exactly once on pages 1..total."""
    db = tmp_path / "api.db"
    shutil.copy(index_db, db)
    with TestClient(create_app(db, Settings(secret_key="k", max_page=2))) as c:
        assert c.get(f"/reports/{CITED}?page=3").status_code == 400  # the pages keep their bound
        for path, params, key in ((f"/api/citations/{CITED}", {}, "citations"),
                                  ("/api/search", {"q": "sentinel"}, "results")):
            total = c.get(path, params=params).json()["total"]
            assert total > 2
            ids = []
            for page in range(1, total + 1):
                r = c.get(path, params={**params, "per_page": 1, "page": page})
                assert r.status_code == 200 and r.json()["page"] == page, r.text
                ids += [x["id"] for x in r.json()[key]]
            assert len(ids) == len(set(ids)) == total
            past = c.get(path, params={**params, "per_page": 1, "page": 1_000_000}).json()
            assert past["total"] == total and past[key] == []
            r = c.get(path, params={**params, "page": 1_000_001})
            assert r.status_code == 400 and "page must be between 1 and 1000000" in r.json()["error"]


def test_search(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "sentinel"}).json()
    assert body["total"] >= 3 and "<<" in body["results"][0]["snippet"]
    assert client.get("/api/search", params={"q": "sentinel", "type": "contrasting"}).json()["total"] == 0
    works = client.get("/api/works", params={"q": "sentinel behaviour"}).json()["works"]
    assert any(w["doi"] == CITED and w["retracted"] for w in works)


# Every optional parameter of the route given blank, as an HTML form with empty fields submits it.
BLANK_FILTERS = {k: "" for k in ("type", "section", "year_from", "year_to", "exclude_self", "sort", "page",
                                 "per_page", "min_confidence")}


def test_blank_parameters_mean_the_default(client: TestClient) -> None:
    """A blank optional parameter is the same as none, whatever its type: ``exclude_self=`` answered 422 ("Input
    should be a valid boolean") and ``year_from=``, ``page=``, ``limit=`` 422 too, while a blank ``type=`` meant
    "all types"; a form (the report page's own filters, sent to the API) submits every field."""
    for path, params in ((f"/api/citations/{CITED}", {}), ("/api/search", {"q": "sentinel"})):
        plain = client.get(path, params=params)
        blank = client.get(path, params={**params, **BLANK_FILTERS})
        assert blank.status_code == 200, blank.text
        assert blank.json() == plain.json()
        spaced = client.get(path, params={**params, "exclude_self": " ", "per_page": " "})
        assert spaced.status_code == 200 and spaced.json() == plain.json()
    assert client.get("/api/works", params={"q": "sentinel", "limit": ""}).json() == \
        client.get("/api/works", params={"q": "sentinel"}).json()
    assert client.get("/api/authors", params={"q": "Smith", "limit": ""}).status_code == 200
    badge = client.get("/badge.svg", params={"doi": CITED, "show_zero": "", "sections": ""})
    assert badge.status_code == 200 and "must be" not in badge.text
    # Blank is not a value: a bad one is still refused, and a blank required q keeps its own message.
    assert client.get(f"/api/citations/{CITED}", params={"exclude_self": "maybe"}).status_code == 422
    r = client.get("/api/search", params={"q": "", "exclude_self": ""})
    assert r.status_code == 400 and r.json()["error"].startswith("q must be")
    # The rest of the query is untouched (a parameter after a dropped blank one still counts).
    assert client.get(f"/api/citations/{CITED}?exclude_self=&type=supporting&year_from=").json()["total"] == 1


def test_search_sort_is_checked(client: TestClient) -> None:
    """/api/search ranks by relevance only; sort=newest was silently answered in relevance order, so a client
    took the first page for the newest statements. Now an order it cannot give is a 400 naming the one it can."""
    plain = client.get("/api/search", params={"q": "sentinel"}).json()
    for ok in ("relevance", "Relevance", ""):
        assert client.get("/api/search", params={"q": "sentinel", "sort": ok}).json() == plain
    for bad in ("newest", "bogus"):
        r = client.get("/api/search", params={"q": "sentinel", "sort": bad})
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/json")
        assert r.json() == {"error": r.json()["error"], "status": 400}
        assert r.json()["error"].startswith("sort must be one of relevance")


@pytest.mark.parametrize("url,status", [
    ("/api/tallies/10.5555/unknown", 404), ("/api/tallies/10.5555/unknown/sections", 404),
    ("/api/citations/10.5555/unknown", 404), ("/api/papers/10.5555/unknown", 404), ("/api/statements/999999", 404),
    (f"/api/citations/{CITED}?type=bogus", 400), (f"/api/citations/{CITED}?section=nope", 400),
    (f"/api/citations/{CITED}?page=0", 400), (f"/api/citations/{CITED}?page=abc", 422),
    (f"/api/citations/{CITED}?per_page=1000", 400), (f"/api/citations/{CITED}?year_from=20", 400),
    ("/api/search?q=", 400), ("/api/search", 422), ("/api/nothing-here", 404), ("/api/works?q=x&limit=0", 400),
])
def test_errors_are_json(client: TestClient, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]


@pytest.mark.parametrize("body", [{"doi": CITED}, "not-a-list", None])
def test_bad_batch_bodies(client: TestClient, body: object) -> None:
    r = client.post("/api/tallies", json=body)
    assert r.status_code == 422 and "error" in r.json()


@pytest.mark.parametrize("path", ["/api/tallies", "/api/papers", "/api/tallies/cited-by-sections"])
def test_batch_skips_unusable_entries(client: TestClient, path: str) -> None:
    # One null (or number, or empty string) must not sink the whole batch, as scite's clients send them.
    r = client.post(path, json=[None, 1, "", {"x": 1}, CITED, "10.5555/unknown"])
    assert r.status_code == 200
    body = r.json()
    assert list(body[next(iter(body))]) == [CITED]


def test_batch_limit(client: TestClient) -> None:
    r = client.post("/api/tallies", json=[f"10.1/{i}" for i in range(501)])
    assert r.status_code == 400 and "at most 500" in r.json()["error"]


def test_correction_requires_token(client: TestClient) -> None:
    sid = client.get(f"/api/citations/{CITED}?section=methods").json()["citations"][0]["id"]
    url = f"/api/statements/{sid}/correction"
    assert client.post(url, json={"type": "supporting"}).status_code == 401
    assert client.post(url, json={"type": "supporting"}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    auth = {"Authorization": "Bearer api-secret"}
    assert client.post(url, json={"type": "sideways"}, headers=auth).status_code == 400
    r = client.post(url, json={"type": "supporting", "curator": "bob", "note": "n"}, headers=auth)
    assert r.status_code == 200 and r.json()["type"] == "supporting" and r.json()["corrected_by"] == "bob"
    assert client.get(f"/api/tallies/{CITED}").json()["supporting"] == 2
    assert client.post("/api/statements/999999/correction", json={"type": "supporting"},
                       headers=auth).status_code == 404
    rows = list(open_store(client.db_path).iter_corrections())  # type: ignore[attr-defined]
    assert rows[-1].curator == "bob"


def test_writes_disabled_without_configured_token(index_db: Path) -> None:
    with TestClient(create_app(index_db, Settings(api_token=None, secret_key="k"))) as c:
        r = c.post("/api/statements/1/correction", json={"type": "supporting"},
                   headers={"Authorization": "Bearer "})
        assert r.status_code == 403 and "disabled" in r.json()["error"]
