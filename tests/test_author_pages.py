"""An author's works in pages: every sort order is total, the pages together are the whole list, and every
figure above the list (tallies, citing publications, self-citations, most supported / contrasted) is over all
the works whatever the page — on both backends, through the store, the API and the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import AUTHOR_WORK_SORTS, Store, open_store
from citelens.store.records import AuthorProfile, author_work_order

ORCID = "0000-0002-1825-0097"
# (DOI suffix, year or None) of Ada Okafor's works; two share a year, one has none.
WORKS = (("p0", 2018), ("p1", 2021), ("p2", 2016), ("p3", 2021), ("p4", None), ("p5", 2019), ("p6", 2012))
# Citing sentences: (cue, cited works). "confirm" reads as supporting, "in contrast to" as contrasting.
SENTENCES = (("Our results confirm the arrest", ("p1", "p3")), ("In contrast to earlier work we saw growth", ("p3",)),
             ("Colonies were grown as described", ("p0", "p1", "p3", "p5")),
             ("These data confirm the model", ("p5",)), ("In contrast to the model the rate fell", ("p1",)),
             ("Cells were counted as before", ("p6", "p1")))


def _work(doi: str, year: int | None) -> bytes:
    date = f"<pub-date><year>{year}</year></pub-date>" if year else ""
    return (f'<?xml version="1.0"?><article><front><article-meta><article-id pub-id-type="doi">10.1234/{doi}'
            f"</article-id><title-group><article-title>Paper {doi}</article-title></title-group><contrib-group>"
            f'<contrib contrib-type="author"><contrib-id contrib-id-type="orcid">{ORCID}</contrib-id><name>'
            f"<surname>Okafor</surname><given-names>Ada</given-names></name></contrib></contrib-group>{date}"
            "</article-meta></front><body><p>Nothing cited.</p></body></article>").encode()


def _citing(n: int, sentences: tuple[tuple[str, tuple[str, ...]], ...]) -> bytes:
    cited = sorted({d for _, ds in sentences for d in ds})
    def xrefs(ds: tuple[str, ...]) -> str:
        return ",".join(f'<xref ref-type="bibr" rid="{d}">{d}</xref>' for d in ds)

    body = " ".join(f"{cue} [{xrefs(ds)}]." for cue, ds in sentences)
    refs = "".join(f'<ref id="{d}"><element-citation><pub-id pub-id-type="doi">10.1234/{d}</pub-id>'
                   "</element-citation></ref>" for d in cited)
    return (f'<?xml version="1.0"?><article><front><article-meta><article-id pub-id-type="doi">10.1234/c{n}'
            f"</article-id><title-group><article-title>Citing {n}</article-title></title-group>"
            f'<contrib-group><contrib contrib-type="author"><name><surname>Bello</surname><given-names>Tunde'
            "</given-names></name></contrib></contrib-group><pub-date><year>2023</year></pub-date>"
            f'</article-meta></front><body><sec><title>Discussion</title><p>{body}</p></sec></body><back>'
            f"<ref-list>{refs}</ref-list></back></article>").encode()


def build(store: Store) -> str:
    """Ada Okafor's seven works and two citing articles; returns her author id."""
    p = Pipeline(store, "cues")
    inputs = [read_bytes_input(f"{d}.xml", _work(d, y)) for d, y in WORKS]
    inputs += [read_bytes_input("c1.xml", _citing(1, SENTENCES)), read_bytes_input("c2.xml", _citing(2, SENTENCES[:3]))]
    summary = p.ingest(inputs)
    assert summary.failed == [], summary.failed
    (hit,) = store.find_authors(ORCID)
    return hit[0]


@pytest.fixture
def indexed(store_url: str) -> Iterator[tuple[Store, str]]:
    store = open_store(store_url)
    author = build(store)
    yield store, author
    store.close()


def _whole(profile: AuthorProfile) -> dict[str, object]:
    """The figures that must not depend on the page."""
    return {"tallies": profile.tallies, "works_total": profile.works_total, "coauthors": profile.coauthors,
            "affiliations": profile.affiliations, "self": profile.self_citation_share,
            "most_supported": profile.most_supported, "most_contrasted": profile.most_contrasted}


def test_pages_of_works_add_up_to_the_whole_list_in_every_order(indexed: tuple[Store, str]) -> None:
    store, author = indexed
    every = store.author_profile(author)
    assert every is not None and every.works_total == len(every.works) == len(WORKS)
    # Default: newest first, the work without a year last, a year's works in work-id order.
    years = [w.year for w in every.works]
    assert years[-1] is None and years[:-1] == sorted(years[:-1], reverse=True)
    assert [w.doi for w in every.works][:2] == ["10.1234/p1", "10.1234/p3"]  # 2021 twice: stored first, first
    # Aggregates are the sums over the works; citing publications are distinct documents (two cite her).
    assert every.tallies.total == sum(w.tallies.total for w in every.works) == 11 + 7
    assert every.tallies.supporting == sum(w.tallies.supporting for w in every.works) > 0
    assert every.tallies.contrasting == sum(w.tallies.contrasting for w in every.works) > 0
    assert every.tallies.citing_publications == 2
    supported = [w for w in every.works if w.tallies.supporting]
    assert list(every.most_supported) == [w.work_id for w in sorted(
        supported, key=lambda w: (-w.tallies.supporting, w.year is None, -(w.year or 0), int(w.work_id[1:])))][:5]
    assert every.most_contrasted[0] == next(w.work_id for w in every.works if w.doi == "10.1234/p3")  # 2 vs 1
    for sort in AUTHOR_WORK_SORTS:
        whole = store.author_profile(author, works_sort=sort)
        assert whole is not None and list(whole.works) == sorted(every.works, key=author_work_order(sort))
        pages = [store.author_profile(author, works_sort=sort, works_limit=3, works_offset=o) for o in (0, 3, 6, 9)]
        assert all(p is not None and _whole(p) == _whole(every) and p.works_sort == sort for p in pages)
        assert [len(p.works) for p in pages if p] == [3, 3, 1, 0]
        assert [w for p in pages if p for w in p.works] == list(whole.works)
    cited = store.author_profile(author, works_sort="cited")
    assert cited is not None and [w.tallies.total for w in cited.works] == sorted(
        (w.tallies.total for w in every.works), reverse=True)
    assert cited.works[0].doi == "10.1234/p1" and cited.works[-1].tallies.total == 0  # p2: never cited
    oldest = store.author_profile(author, works_sort="oldest", works_limit=2)
    assert oldest is not None and [w.year for w in oldest.works] == [2012, 2016]
    with pytest.raises(ValueError, match="sort must be one of"):
        store.author_profile(author, works_sort="title")
    with pytest.raises(ValueError):
        store.author_profile(author, works_offset=-1)


def test_author_api_pages_and_the_page_links(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = tmp_path / "i.db"
    store = open_store(db)
    author = build(store)
    store.close()
    with TestClient(create_app(db, Settings(secret_key="k", author_works_per_page=3))) as c:
        whole = c.get(f"/api/authors/{author}").json()  # by default every work (up to 1,000 per page)
        assert len(whole["works"]) == whole["works_total"] == 7 and whole["works_next"] is None
        assert (whole["works_page"], whole["works_pages"], whole["works_sort"]) == (1, 1, "newest")
        first = c.get(f"/api/authors/{author}", params={"per_page": 3, "sort": "cited"}).json()
        assert [w["doi"] for w in first["works"]][0] == "10.1234/p1" and first["works_pages"] == 3
        assert {k: first[k] for k in ("tallies", "most_supported", "most_contrasted", "self_citation_share")} == \
            {k: whole[k] for k in ("tallies", "most_supported", "most_contrasted", "self_citation_share")}
        seen = [w["work_id"] for w in first["works"]]
        nxt = first["works_next"]
        while nxt:
            body = c.get(nxt).json()
            seen += [w["work_id"] for w in body["works"]]
            nxt = body["works_next"]
        assert len(seen) == len(set(seen)) == 7 and body["works_page"] == 3
        # The same pages by the RFC 8288 Link header, as /api/citations and /api/search send it: a generic client
        # (httpx's and requests' .links) follows rel="next" to the end; prev, first and last are there too.
        r = c.get(f"/api/authors/{author}", params={"per_page": 3, "sort": "cited", "min_confidence": "auto"})
        links = r.links
        assert links["next"]["url"] == r.json()["works_next"] and "prev" not in links
        assert links["first"]["url"] == f"/api/authors/{author}?sort=cited&page=1&per_page=3&min_confidence=auto"
        assert links["last"]["url"].endswith("page=3&per_page=3&min_confidence=auto")
        followed = []
        while True:
            followed += [w["work_id"] for w in r.json()["works"]]
            if "next" not in r.links:
                break
            assert "prev" in c.get(r.links["next"]["url"]).links
            r = c.get(r.links["next"]["url"])
        assert followed == seen and r.json()["works_page"] == 3
        assert set(c.get(f"/api/authors/{author}").links) == {"first", "last"}  # one page: nowhere else to go
        past = c.get(f"/api/authors/{author}", params={"page": 9, "per_page": 3}).links
        assert "next" not in past and past["prev"]["url"] == past["last"]["url"]  # back to the last page
        by_total = sorted(whole["works"], key=lambda w: -w["tallies"]["total"])
        assert [w["tallies"]["total"] for w in by_total] == [
            w["tallies"]["total"] for w in c.get(f"/api/authors/{author}?sort=cited").json()["works"]]
        for bad in ({"sort": "title"}, {"per_page": 0}, {"per_page": 1001}, {"page": 0}, {"page": 10**19}):
            r = c.get(f"/api/authors/{author}", params=bad)
            assert r.status_code == 400 and "application/json" in r.headers["content-type"], bad
        # The page: three works a page, the range and the total, a next link that keeps the order.
        page = c.get(f"/authors/{author}?sort=cited")
        assert page.status_code == 200 and "Works 1–3 of 7 (most cited first)" in page.text
        assert 'rel="next" href="/authors/' in page.text and "sort=cited&amp;page=2" in page.text
        last = c.get(f"/authors/{author}?sort=cited&page=3").text
        assert "Works 7–7 of 7" in last and 'rel="next"' not in last and 'rel="prev"' in last
        past = c.get(f"/authors/{author}?page=9&sort=cited").text
        assert "No works on page 9: there are 3 pages" in past  # the report and search pages say it alike
        assert f'href="/authors/{author}?sort=cited&amp;page=3">last page</a>' in past
        assert c.get(f"/authors/{author}?sort=bogus").status_code == 400


def test_author_command_pages_and_sorts_the_works(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from citelens.cli import main

    db = tmp_path / "a.db"
    store = open_store(str(db))
    author = build(store)
    every = store.author_profile(author, works_sort="oldest")
    store.close()
    assert every is not None
    runner = CliRunner()
    pages = []
    for page in (1, 2, 3):
        out = runner.invoke(main, ["author", ORCID, "--db", str(db), "--json", "--sort", "oldest",
                                   "--page", str(page), "--per-page", "3"])
        assert out.exit_code == 0, out.output
        data = json.loads(out.output)
        assert (data["sort"], data["page"], data["per_page"]) == ("oldest", page, 3)
        (profile,) = data["authors"]
        assert profile["works_total"] == len(WORKS)  # over all the works whatever the page
        pages.append([w["work_id"] for w in profile["works"]])
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum(pages, []) == [w.work_id for w in every.works]  # the pages in order are the whole sorted list
    text = runner.invoke(main, ["author", ORCID, "--db", str(db), "--page", "2", "--per-page", "3"])
    assert text.exit_code == 0 and "works 4–6 of 7 (newest)" in text.output
    # Past the last page: which page is the last, as the author page says it (it printed "works 12–12 of 7").
    past = runner.invoke(main, ["author", ORCID, "--db", str(db), "--page", "5", "--per-page", "3"])
    assert past.exit_code == 0 and "no works on page 5: there are 3 pages" in past.output
    assert "12–12" not in past.output
    # Without --page the JSON lists every work, as before.
    whole = json.loads(runner.invoke(main, ["author", ORCID, "--db", str(db), "--json"]).output)
    assert len(whole["authors"][0]["works"]) == len(WORKS) and "page" not in whole
    bad = runner.invoke(main, ["author", ORCID, "--db", str(db), "--page", "0"])
    assert bad.exit_code == 2
