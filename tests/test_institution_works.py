"""An institution's works and authors (store, API, page, CLI): the page of works is chosen in SQL for every sort
the per-work totals answer, and in a grouped read otherwise; either way it must be the author page's order
(records.author_work_order) over every work, with the tallies a recount gives, on both backends."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import EXIT_OK, main
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import open_store
from citelens.store.records import AUTHOR_WORK_SORTS, InstitutionWork, author_work_order
from citelens.store.sql import SQLStore
from citelens.web.app import create_app
from citelens.web.settings import Settings
from tally_check import recount_tallies
from test_work_tallies import ROR, HashClassifier, _article


def _ingest(p: Pipeline, n: int = 9) -> None:
    rng = random.Random(11)
    for k in range(n):
        assert not p.ingest([read_bytes_input(f"m{k}.xml", _article(rng, k, 0, list(range(k))))]).failed


@pytest.fixture
def pipeline(store_url: str) -> Iterator[Pipeline]:
    p = Pipeline(open_store(store_url), HashClassifier())
    yield p
    p.store.close()


def test_pages_of_works_are_the_author_order_over_all_works(pipeline: Pipeline,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _ingest(pipeline)
    store = pipeline.store
    assert isinstance(store, SQLStore)
    every = store.institution_profile(ROR, works_limit=None, authors_limit=None)
    assert every is not None and len(every.works_list) == every.works == every.works_total > 5
    by_id = {w.work_id: w for w in every.works_list}
    assert len(by_id) == every.works
    doc_authors = [a for a in store.iter_document_authors() if a.ror == ROR]
    for t in (None, 0.5, 0.695, 0.7):
        full = [InstitutionWork(work_id=w.work_id, doi=w.doi, title=w.title, year=w.year, journal=w.journal,
                                tallies=recount_tallies(store, w.work_id, t, False), authors=w.authors)
                for w in every.works_list]
        for w in full:
            assert w.journal == "Journal of Tallies" and w.authors
            assert {a.author_id for a in w.authors} == {a.author_id for a in doc_authors
                                                        if store.get_work(a.doi).id == w.work_id}
        for sort in AUTHOR_WORK_SORTS:
            expected = sorted(full, key=author_work_order(sort))
            for limit, offset in ((None, 0), (3, 0), (3, 3), (4, 7), (2, 50)):
                got = store.institution_profile(ROR, min_confidence=t, works_sort=sort, works_limit=limit,
                                                works_offset=offset)
                assert got is not None and got.works_sort == sort and got.works_offset == offset
                want = expected[offset:] if limit is None else expected[offset:offset + limit]
                assert [w.work_id for w in got.works_list] == [w.work_id for w in want], (t, sort, limit, offset)
                assert got.works_list == tuple(want), (t, sort, limit, offset)
                with monkeypatch.context() as m:  # an index without the per-work tallies: the same page
                    m.setattr(type(store), "_has_work_tallies", property(lambda self: False))
                    assert store.institution_profile(ROR, min_confidence=t, works_sort=sort, works_limit=limit,
                                                     works_offset=offset) == got
    # The authors: the most works first, then by id; capped where asked.
    works_of: dict[str, set[str]] = {}
    for a in doc_authors:
        works_of.setdefault(a.author_id, set()).add(store.get_work(a.doi).id)
    ranked = sorted(works_of, key=lambda a: (-len(works_of[a]), int(a)))
    assert [(a.author_id, a.works) for a in every.authors_list] == [(a, len(works_of[a])) for a in ranked]
    assert len(ranked) == every.authors
    two = store.institution_profile(ROR, authors_limit=2)
    assert two is not None and two.authors_list == every.authors_list[:2] and two.works_list == ()
    with pytest.raises(ValueError):
        store.institution_profile(ROR, works_sort="random")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("inst") / "i.db"
    p = Pipeline(open_store(db), HashClassifier())
    _ingest(p)
    p.store.close()
    return db


def test_api_pages_the_works_as_the_author_api(built: Path) -> None:
    with TestClient(create_app(built, Settings(secret_key="k"))) as c:
        all_ = c.get(f"/api/institutions/{ROR}").json()
        assert all_["works_total"] == all_["works"] == len(all_["works_list"])
        assert all_["works_page"] == 1 and all_["works_pages"] == 1 and all_["works_next"] is None
        assert len(all_["authors_list"]) == all_["authors"]
        r = c.get(f"/api/institutions/{ROR}?sort=cited&per_page=2&page=2&min_confidence=0.7")
        body = r.json()
        assert body["works_sort"] == "cited" and body["works_per_page"] == 2 and len(body["works_list"]) == 2
        assert body["works_pages"] == -(-body["works_total"] // 2)
        assert body["works_next"] == f"/api/institutions/{ROR}?sort=cited&page=3&per_page=2&min_confidence=0.7"
        assert 'rel="next"' in r.headers["link"]
        cited = c.get(f"/api/institutions/{ROR}?sort=cited&min_confidence=0.7").json()["works_list"]
        assert body["works_list"] == cited[2:4]
        assert c.get(f"/api/institutions/{ROR}?sort=nope").status_code == 400
        assert c.get(f"/api/institutions/{ROR}?per_page=0").status_code == 400


def test_page_lists_works_and_authors(built: Path) -> None:
    settings = Settings(secret_key="k", author_works_per_page=4)
    with TestClient(create_app(built, settings)) as c:
        data = c.get(f"/api/institutions/{ROR}?sort=supporting").json()
        html = c.get(f"/institutions/{ROR}?sort=supporting&page=2&min_confidence=0.7").text
        assert f"Works 5–{min(8, data['works'])} of {data['works']}" in html
        assert '<strong aria-current="true">Most supporting first</strong>' in html
        rows = re.findall(r'<tr><td class="num">(\d*)</td><td class="work-title"><a href="([^"]+)"', html)
        at = c.get(f"/api/institutions/{ROR}?sort=supporting&min_confidence=0.7").json()["works_list"][4:8]
        assert [h for _, h in rows] == [f"/reports/{w['doi']}?min_confidence=0.7" for w in at]
        assert 'rel="prev"' in html and "page=1" in html
        table = html[html.index('id="institution-works"'):html.index("</table>", html.index('id="institution-works"'))]
        assert table.count('class="num"') >= 5 * len(at)
        for a in data["authors_list"]:
            assert f'href="/authors/{a["author_id"]}?min_confidence=0.7"' in html
        assert "Past" not in html
        past = c.get(f"/institutions/{ROR}?page=99").text
        assert "No works on page 99" in past


def test_cli_lists_top_works_and_authors(built: Path) -> None:
    r = CliRunner().invoke(main, ["institution", ROR, "--db", str(built), "--json", "--sort", "oldest",
                                  "--page", "1", "--per-page", "3"])
    assert r.exit_code == EXIT_OK, r.output
    p = json.loads(r.output)["institutions"][0]
    assert len(p["works_list"]) == 3 and p["works_sort"] == "oldest" and p["authors_list"]
    r = CliRunner().invoke(main, ["institution", ROR, "--db", str(built), "--sort", "oldest", "--page", "2",
                                  "--per-page", "3"])
    assert r.exit_code == EXIT_OK, r.output
    assert f"works 4–6 of {p['works']} (oldest)" in r.output and "authors: " in r.output
    assert [w["doi"] for w in p["works_list"]][0] not in r.output
