"""Statement search's ranking window: a query matching more statements than the window is ranked within the
matches of the most recently added sentences alone, its total estimated, and the pages, the API and the CLI say
so; a query matching fewer is answered exactly as without a window. On every backend; no timings."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import main
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import SearchResults, Store, open_store
from citelens.store.query import estimated_total
from citelens.web.app import create_app
from citelens.web.settings import Settings
from test_work_tallies import HashClassifier, _article

# Every synthetic sentence holds "v0" (its version mark): the common word. "sentinel" is one of the random words.
COMMON, FILTERS = "v0", ({}, {"stance": "supporting"}, {"section": "results", "year_from": 2020})


def _ingest(url: str, articles: int = 12) -> Store:
    p = Pipeline(open_store(url), HashClassifier())
    rng = random.Random(5)
    stored: list[int] = []
    for n in range(articles):
        assert not p.ingest([read_bytes_input(f"t{n}.xml", _article(rng, n, 0, stored))]).failed
        stored.append(n)
    return p.store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = _ingest(store_url)
    yield s
    s.close()


def _all(store: Store, q: str, **kw: object) -> SearchResults:
    return store.search_statements_page(q, limit=100_000, window=None, **kw)  # type: ignore[arg-type]


def test_a_query_under_the_window_is_answered_as_without_one(store: Store) -> None:
    for q in (COMMON, "sentinel", '"fixed work"', "sentinel -growth", "zzznothing"):
        for f in FILTERS:
            whole = _all(store, q, **f)
            total, hits = store.search_statements(q, limit=100_000, **f)  # type: ignore[arg-type]
            assert (whole.total, whole.hits, whole.total_exact, whole.ranked, whole.window) == (
                total, hits, True, total, None)
            found = store.search_statements_page(q, limit=100_000, window=max(total, 1), **f)  # type: ignore[arg-type]
            assert found == whole, (q, f)


def test_a_query_over_the_window_ranks_the_newest_matches_and_estimates_the_total(store: Store) -> None:
    for f in FILTERS:
        whole = _all(store, COMMON, **f)
        assert whole.total >= 12, f  # enough matches for a window of a third of them
        window = whole.total // 3
        found = store.search_statements_page(COMMON, limit=100_000, window=window, **f)  # type: ignore[arg-type]
        assert found.window == window and not found.total_exact
        assert 0 < found.ranked <= window and len(found.hits) == found.ranked
        assert found.total > window  # more match than were ranked: never estimated below what is known
        # The ranked statements are those of the newest sentences (statement ids follow ingest order) ...
        ids = [h.id for h in found.hits]
        assert sorted(ids) == sorted(h.id for h in whole.hits)[-found.ranked:]
        # ... in the order the full ranking gives them: the best of the window.
        assert ids == [h.id for h in whole.hits if h.id in set(ids)]
        # Pages reach the ranked statements, one by one, and nothing past them.
        paged = [h.id for o in range(0, found.ranked + 3, 2)
                 for h in store.search_statements_page(COMMON, limit=2, offset=o, window=window,  # type: ignore[arg-type]
                                                       **f).hits]
        assert paged == ids


def test_a_sentence_is_never_split_by_the_window(store: Store) -> None:
    """A window smaller than the newest sentence's statements ranks that sentence whole."""
    whole = _all(store, COMMON)
    by_sentence: dict[tuple[object, str], int] = {}
    for h in whole.hits:
        by_sentence[(h.citing_work_id, h.sentence)] = by_sentence.get((h.citing_work_id, h.sentence), 0) + 1
    found = store.search_statements_page(COMMON, limit=100, window=1)
    assert found.ranked >= 1 and len(found.hits) == found.ranked
    sentences = {(h.citing_work_id, h.sentence) for h in found.hits}
    assert sum(by_sentence[s] for s in sentences) == found.ranked


def test_the_estimate_is_rounded_and_never_below_what_is_known() -> None:
    assert estimated_total(10_000, 10_001, 1_000_000, 37_000) == 270_000
    assert estimated_total(10_000, 10_001, 20_000, 20_000) == 10_001  # (10,000 rounded is below the known 10,001)
    assert estimated_total(5, 6, 10, 5) == 10
    assert estimated_total(0, 3, 10, 5) == 3


# ------------------------------------------------------------------------------------- pages, API, CLI

@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("window") / "index.db"
    _ingest(str(path), articles=6).close()
    return path


def _client(db: Path, window: int) -> TestClient:
    return TestClient(create_app(db, Settings(secret_key="k", search_window=window, page_size=2)))


def test_pages_and_api_say_when_the_window_applied(index_db: Path) -> None:
    store = open_store(str(index_db), readonly=True)
    whole = _all(store, COMMON)
    store.close()
    window = whole.total // 2
    with _client(index_db, window) as c:
        j = c.get("/api/search", params={"q": COMMON, "per_page": 2}).json()
        assert j["total_exact"] is False and j["ranking_window"] == window and j["total"] > window
        assert j["ranked"] <= window and j["pages"] == -(-j["ranked"] // 2)
        last = c.get("/api/search", params={"q": COMMON, "per_page": 2, "page": j["pages"]}).json()
        assert last["next"] is None and last["results"]
        html = c.get("/search", params={"q": COMMON}).text
        assert 'id="search-window"' in html and re.search(r"About <span[^>]*>[\d,]+</span>", html)
        assert f"best of the {j['ranked']:,} in the most recently added sentences" in html
        # A rarer word, under the window: no notice, the exact count, the fields saying so.
        j = c.get("/api/search", params={"q": "sentinel"}).json()
        assert (j["total_exact"], j["ranking_window"], j["ranked"]) == (True, None, j["total"])
        html = c.get("/search", params={"q": "sentinel"}).text
        assert 'id="search-window"' not in html and "About" not in html
    with _client(index_db, 0) as c:  # 0: every match ranked, as before the window
        j = c.get("/api/search", params={"q": COMMON}).json()
        assert (j["total"], j["total_exact"], j["ranking_window"]) == (whole.total, True, None)


def test_the_window_is_read_from_the_environment() -> None:
    assert Settings.from_env({"CITELENS_SEARCH_WINDOW": "250"}).search_window == 250
    assert Settings.from_env({}).search_window == 10_000
    with pytest.raises(ValueError, match="CITELENS_SEARCH_WINDOW"):
        Settings.from_env({"CITELENS_SEARCH_WINDOW": "-1"})


def test_cli_search_says_when_the_window_applied(index_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["search", COMMON, "--db", str(index_db), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    j = json.loads(run("--window", "3", "--json"))
    assert j["total_exact"] is False and j["ranking_window"] == 3 and 0 < j["ranked"] <= 3 < j["total"]
    out = run("--window", "3", "--limit", "1")
    assert "about" in out and "most recently added sentences" in out and "--window 0" in out
    monkeypatch.setenv("CITELENS_SEARCH_WINDOW", "3")
    assert json.loads(run("--json"))["ranking_window"] == 3
    j = json.loads(run("--window", "0", "--json"))
    assert j["total_exact"] is True and j["ranking_window"] is None and j["ranked"] == j["total"]
