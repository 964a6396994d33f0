"""'Only labels the model is sure of' on the author, institution and journal pages, their API routes and
commands: the same threshold (``?min_confidence=auto|X``, ``--min-confidence``) and rule as the report page
(rules.counted_stance), echoed as ``min_confidence``; links carry it on; a bad value is the report page's 400.
The counts themselves are checked against the statements in test_work_tallies (both backends)."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import EXIT_OK, EXIT_USAGE, main
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.context import confident_threshold
from citelens.web.settings import Settings
from tally_check import recount_tallies
from test_work_tallies import ROR, HashClassifier, _article

ISSN = "0000-0019"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A SQLite index whose labels' confidences sit on bucket edges (so thresholds change the counts); its
    busiest author's id."""
    db = tmp_path_factory.mktemp("sure") / "i.db"
    p = Pipeline(open_store(db), HashClassifier())
    rng = random.Random(11)
    for n in range(9):
        assert not p.ingest([read_bytes_input(f"m{n}.xml", _article(rng, n, 0, list(range(n))))]).failed
    author = Counter(a.author_id for a in p.store.iter_document_authors() if a.author_id).most_common(1)[0][0]
    p.store.close()
    return db, author


@pytest.fixture
def client(built: tuple[Path, str]) -> Iterator[TestClient]:
    with TestClient(create_app(built[0], Settings(secret_key="k"))) as c:
        yield c


def _numbers(text: str, element_id: str) -> list[int]:
    """The figures of the aggregate line (supporting, contrasting, mentioning, total, citing publications)."""
    m = re.search(rf'<p id="{element_id}">(.*?)</p>', text, re.S)
    assert m, element_id
    return [int(x) for x in re.findall(r"\d+", re.sub(r"<[^>]+>", " ", m.group(1)))][:5]


def _line(t: dict[str, Any]) -> list[int]:
    return [t["supporting"], t["contrasting"], t["mentioning"], t["total"], t["citing_publications"]]


def test_api_routes_take_and_echo_min_confidence(client: TestClient, built: tuple[Path, str]) -> None:
    db, author = built
    store = open_store(db, readonly=True)
    try:
        for path in (f"/api/authors/{author}", f"/api/institutions/{ROR}", f"/api/journals/{ISSN}"):
            every = client.get(path).json()
            assert every["min_confidence"] is None
            sure = client.get(path, params={"min_confidence": "0.7"}).json()
            assert sure["min_confidence"] == 0.7
            t, t_all = sure["tallies"], every["tallies"]
            assert t["total"] == t_all["total"] and t["citing_publications"] == t_all["citing_publications"]
            assert t["supporting"] < t_all["supporting"] and t["mentioning"] > t_all["mentioning"], path
            # every field of the answer without a threshold is still there (public contract)
            assert set(every) == set(sure)
            for bad in ("high", "2", "nan", "<script>"):
                r = client.get(path, params={"min_confidence": bad})
                assert r.status_code == 400 and "min_confidence" in r.json()["error"]
            if (cut := confident_threshold()) is not None:
                assert client.get(path, params={"min_confidence": "auto"}).json()["min_confidence"] == cut
        body = client.get(f"/api/authors/{author}", params={"min_confidence": "0.7"}).json()
        for w in body["works"]:
            assert w["tallies"] == recount_tallies(store, w["work_id"], 0.7, False).to_dict()
        paged = client.get(f"/api/authors/{author}", params={"min_confidence": "0.7", "per_page": 1}).json()
        assert "min_confidence=0.7" in paged["works_next"]
        assert client.get(paged["works_next"]).json()["min_confidence"] == 0.7
        journal = client.get(f"/api/journals/{ISSN}", params={"min_confidence": "0.7"}).json()
        for w in journal["most_cited"]:
            r = recount_tallies(store, w["work_id"], 0.7, False)
            assert (w["supporting"], w["contrasting"], w["mentioning"]) == (r.supporting, r.contrasting, r.mentioning)
    finally:
        store.close()


def test_server_wide_setting_is_for_scite_clients_only(built: tuple[Path, str]) -> None:
    """CITELENS_MIN_CONFIDENCE makes scite's tallies strict; these routes count what the request asks for."""
    db, author = built
    with TestClient(create_app(db, Settings(secret_key="k", tallies_min_confidence=1.0))) as strict, \
            TestClient(create_app(db, Settings(secret_key="k"))) as plain:
        for path in (f"/api/authors/{author}", f"/api/institutions/{ROR}", f"/api/journals/{ISSN}"):
            assert strict.get(path).json() == plain.get(path).json()
            assert strict.get(path).json()["min_confidence"] is None


def test_pages_offer_the_filter_and_count_by_it(client: TestClient, built: tuple[Path, str]) -> None:
    _, author = built
    cut = confident_threshold()
    pages = {f"/authors/{author}": ("author-tallies", f"/api/authors/{author}"),
             f"/institutions/{ROR}": ("institution-tallies", f"/api/institutions/{ROR}"),
             f"/journals/{ISSN}": ("journal-tallies", f"/api/journals/{ISSN}")}
    for path, (figures, api) in pages.items():
        off = client.get(path)
        assert off.status_code == 200
        assert _numbers(off.text, figures) == _line(client.get(api).json()["tallies"])
        assert "min_confidence=" not in off.text.replace('name="min_confidence"', "")  # nothing carried when off
        if cut is not None:
            assert f"Only labels the model is sure of (≥ {cut * 100:.0f}%)" in off.text
            assert 'name="min_confidence" type="checkbox" value="auto" >' in off.text  # unchecked
        on = client.get(path, params={"min_confidence": "0.7"})
        assert on.status_code == 200 and 'value="0.7" checked' in on.text and "counts as mentioning" in on.text
        assert _numbers(on.text, figures) == _line(client.get(api, params={"min_confidence": "0.7"}).json()["tallies"])
        assert _numbers(on.text, figures) != _numbers(off.text, figures)
        for bad in ("high", "-1", '"><script>alert(1)</script>'):
            r = client.get(path, params={"min_confidence": bad})
            assert r.status_code == 400 and "min_confidence" in r.text and "<script>alert" not in r.text
    # Links from the pages carry the threshold as given: reports, sorts, pages, institutions, co-authors.
    on = client.get(f"/authors/{author}", params={"min_confidence": "auto", "sort": "contrasting"}).text
    reports = re.findall(r'href="(/reports/[^"]+)"', on)
    assert reports and all(h.endswith("?min_confidence=auto") for h in reports)
    assert all("min_confidence=auto" in h for h in re.findall(r'href="(\?[^"]*)" data-sort', on))
    assert all(h.endswith("?min_confidence=auto") for h in re.findall(r'href="(/institutions/[^"]+)"', on))
    assert 'name="sort" value="contrasting"' in on  # the form keeps the sort
    journal = client.get(f"/journals/{ISSN}", params={"min_confidence": "0.7"}).text
    assert all(h.endswith("?min_confidence=0.7") for h in re.findall(r'href="(/reports/[^"]+)"', journal))
    # The rows count alike: a report page reached from the author page shows the same tallies as the row.
    api = client.get(f"/api/authors/{author}", params={"min_confidence": "0.7"}).json()
    w = api["works"][0]
    report = client.get(f"/api/tallies/{w['doi']}", params={"min_confidence": "0.7"}).json()
    assert (report["supporting"], report["contradicting"]) == (w["tallies"]["supporting"], w["tallies"]["contrasting"])
    moved = client.get("/journals/00000019?min_confidence=auto", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == f"/journals/{ISSN}?min_confidence=auto"


def _sure_box(html: str) -> tuple[str, bool]:
    """The "only labels the model is sure of" checkbox of a page: (the value it submits, whether it is ticked)."""
    boxes = re.findall(r'<input id="[\w-]*conf" name="min_confidence" type="checkbox" value="([^"]*)" *(checked)?', html)
    assert len(boxes) == 1, boxes
    return boxes[0][0], boxes[0][1] == "checked"


@pytest.mark.parametrize("given", ["auto", "AUTO ", "0.7"])
def test_sure_checkbox_submits_the_same_value_on_every_page(client: TestClient, built: tuple[Path, str],
                                                            given: str) -> None:
    """The report, search, author, institution and journal pages' checkbox keeps the threshold as it was
    given (trimmed; ``auto`` in any case is ``auto``): ``auto`` stays ``auto`` (so it follows the installed model)
    and a number stays that number, as the links of those pages carry it on; unticked, every page offers ``auto``."""
    if confident_threshold() is None and given.strip().lower() == "auto":
        pytest.skip("the installed model has no threshold")
    _, author = built
    paths = ["/reports/10.5555/t1", "/search?q=results", f"/authors/{author}", f"/institutions/{ROR}",
             f"/journals/{ISSN}"]
    for path in paths:
        on = client.get(path, params={"min_confidence": given})
        assert on.status_code == 200, path
        assert _sure_box(on.text) == (given.strip().replace("AUTO", "auto"), True), path
        if confident_threshold() is not None:
            assert _sure_box(client.get(path).text) == ("auto", False), path


def test_report_page_links_its_journal_with_the_threshold(client: TestClient) -> None:
    on = client.get("/reports/10.5555/t1", params={"min_confidence": "0.7"}).text
    assert f'href="/journals/{ISSN}?min_confidence=0.7"' in on
    assert f'href="/journals/{ISSN}"' in client.get("/reports/10.5555/t1").text


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.output


def test_commands_take_min_confidence(built: tuple[Path, str]) -> None:
    db, author = built
    store = open_store(db, readonly=True)
    try:
        expected = {"author": store.author_profile(author, min_confidence=0.7),
                    "institution": store.institution_profile(ROR, min_confidence=0.7),
                    "journal": store.journal_profile(ISSN, min_confidence=0.7)}
    finally:
        store.close()
    for cmd, query, key in (("author", author, "authors"), ("institution", ROR, "institutions"),
                            ("journal", ISSN, "journals")):
        code, out = _run(cmd, query, "--db", str(db), "--json", "--min-confidence", "0.7")
        assert code == EXIT_OK
        body = json.loads(out)
        want = expected[cmd]
        assert want is not None
        assert body["min_confidence"] == 0.7 and body[key][0]["min_confidence"] == 0.7
        assert body[key][0]["tallies"] == want.tallies.to_dict()
        code, out = _run(cmd, query, "--db", str(db), "--json")
        assert code == EXIT_OK and json.loads(out)["min_confidence"] is None
        code, out = _run(cmd, query, "--db", str(db), "--min-confidence", "0.7")
        assert code == EXIT_OK and "Counting only labels the model is sure of (confidence ≥ 0.7)" in out
        assert f"supporting {want.tallies.supporting}" in out
        code, out = _run(cmd, query, "--db", str(db), "--min-confidence", "high")
        assert code == EXIT_USAGE and "--min-confidence" in out
        code, out = _run(cmd, "--help")
        assert code == EXIT_OK and "--min-confidence" in out and "auto" in out
