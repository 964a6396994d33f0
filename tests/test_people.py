"""Authors as rows: disambiguation rules, storage on both backends, the migration, and export --table authors."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from citelens.cli import main
from citelens.people import (
    MERGE_THRESHOLD,
    AuthorEvidence,
    author_name_key,
    given_names_compatible,
    match_confidence,
    same_author,
    swapped_name_key,
    title_words,
)
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.serialize import AUTHOR_EXPORT_FIELDS
from citelens.store import open_store

ARTICLE = """<?xml version="1.0"?>
<article><front><article-meta><article-id pub-id-type="doi">{doi}</article-id>
<title-group><article-title>Paper {doi}</article-title></title-group><contrib-group>{contribs}</contrib-group>
{affs}<pub-date><year>2021</year></pub-date></article-meta></front><body><p>Nothing cited.</p></body></article>"""


def contrib(family: str, given: str, aff: str, orcid: str = "") -> str:
    oid = f'<contrib-id contrib-id-type="orcid">{orcid}</contrib-id>' if orcid else ""
    return (f'<contrib contrib-type="author">{oid}<name><surname>{family}</surname><given-names>{given}'
            f'</given-names></name><xref ref-type="aff" rid="{aff}"/></contrib>')


AFFS = ('<aff id="tor">Department of Physics, University of Toronto, Toronto, ON M5S 1A7, Canada</aff>'
        '<aff id="lag"><institution>University of Lagos</institution>, Lagos, <country>Nigeria</country></aff>')


def article(doi: str, *contribs: str) -> bytes:
    return ARTICLE.format(doi=doi, contribs="".join(contribs), affs=AFFS).encode()


def test_name_key_and_rules() -> None:
    assert author_name_key("Müller-Lyon", "Hans") == "muller lyon h"
    a = AuthorEvidence(orcid="1", coauthors=frozenset({"x y"}))
    assert not same_author(a, AuthorEvidence(orcid="2", coauthors=frozenset({"x y"})))  # two ORCIDs: two people
    full = frozenset({"Anna"})
    assert same_author(AuthorEvidence(coauthors=frozenset({"x y"}), given_names=full),
                       AuthorEvidence(orcid="2", coauthors=frozenset({"x y"}), given_names=full))
    assert same_author(AuthorEvidence(institutions=frozenset({"ror:1"}), given_names=full),
                       AuthorEvidence(institutions=frozenset({"ror:1"}), given_names=full))
    assert not same_author(AuthorEvidence(), AuthorEvidence())  # a name alone is not evidence
    assert not same_author(AuthorEvidence(given_names=full), AuthorEvidence(given_names=full))


def test_confidence_weighs_the_evidence() -> None:
    anna = frozenset({"Anna"})
    base = AuthorEvidence(given_names=anna)
    inst = AuthorEvidence(given_names=anna, institutions=frozenset({"ror:1"}))
    # Initials only ("A.") say less than a full given name: an institution alone is not enough then.
    assert not same_author(AuthorEvidence(given_names=frozenset({"A."}), institutions=frozenset({"ror:1"})),
                           AuthorEvidence(given_names=frozenset({"A."}), institutions=frozenset({"ror:1"})))
    # Topic: shared cited works, journal and title words add up; a different country takes away.
    topic = AuthorEvidence(given_names=anna, cited_works=frozenset({"1", "2", "3", "4", "5"}),
                           journals=frozenset({"plant cell"}), title_words=frozenset({"rice", "drought", "roots"}))
    assert match_confidence(topic, topic) > MERGE_THRESHOLD > match_confidence(base, topic)
    elsewhere = AuthorEvidence(given_names=anna, institutions=frozenset({"ror:1"}), countries=frozenset({"US"}))
    assert match_confidence(inst, inst) > match_confidence(
        replace(inst, countries=frozenset({"CN"})), elsewhere)
    # Confidence grows with evidence and stays a probability.
    more = replace(inst, coauthors=frozenset({"x y"}), emails=frozenset({"a@x.org"}))
    assert 0.0 < match_confidence(base, base) < match_confidence(inst, inst) < match_confidence(more, more) <= 1.0
    # ORCIDs decide when both have one, whatever else matches; names that do not fit are never merged.
    assert match_confidence(replace(more, orcid="1"), replace(more, orcid="2")) == 0.0
    assert match_confidence(replace(base, orcid="1"), replace(base, orcid="1")) == 1.0
    assert match_confidence(replace(more, given_names=frozenset({"Li"})), replace(more, given_names=frozenset({"Lei"}))) == 0.0


@pytest.mark.parametrize(("a", "b", "fits"), [
    ("Jung-Gu", "J.-G.", True), ("Jung-Gu", "Junggu", True), ("Taylor R.", "Taylor", True), ("Paula M", "Paula", True),
    ("Li", "Lei", False), ("Wei", "Wei Min", False), ("A. B.", "Anna", True), ("Anna", "Maria", False),
])
def test_given_names_fit(a: str, b: str, fits: bool) -> None:
    assert given_names_compatible(a, b) is fits and given_names_compatible(b, a) is fits


def test_swapped_name_key_and_title_words() -> None:
    assert swapped_name_key("Velu", "Govindan") == author_name_key("Govindan", "Velu") == "govindan v"
    assert swapped_name_key("Swamy", "B. P. M.") == ""  # initials are no family name
    assert title_words("The role of OsNAC genes in rice drought tolerance") == {"osnac", "genes", "rice", "drought",
                                                                                "tolerance"}


def ingest(p: Pipeline, name: str, data: bytes) -> None:
    summary = p.ingest([read_bytes_input(name, data)])
    assert summary.failed == [], summary.failed


def rows(p: Pipeline) -> list[dict[str, object]]:
    return [r.to_dict() for r in p.store.iter_document_authors()]


def test_authors_are_stored_located_and_disambiguated(pipeline: Pipeline) -> None:
    smith_tor = contrib("Smith", "Anna", "tor")
    ingest(pipeline, "a.xml", article("10.1234/a", smith_tor, contrib("Okafor", "Ada", "lag", "0000-0001-0000-0001")))
    first = rows(pipeline)
    assert [(r["position"], r["name"], r["country"], r["city"]) for r in first] == [
        (1, "Anna Smith", "CA", "Toronto"), (2, "Ada Okafor", "NG", "Lagos")]
    assert first[0]["institution"] == "University of Toronto" and first[0]["ror"] == "03dbr7087"
    assert first[0]["affiliation"].startswith("Department of Physics") and first[0]["doi"] == "10.1234/a"
    # Same name + same institution: the same Anna Smith. Same ORCID: the same Okafor, whatever the name says.
    ingest(pipeline, "b.xml", article("10.1234/b", smith_tor, contrib("Okafor", "A", "tor", "0000-0001-0000-0001")))
    # Same name, no shared co-author or institution: another A. Smith.
    ingest(pipeline, "c.xml", article("10.1234/c", contrib("Smith", "Alan", "lag"), contrib("Bello", "Tunde", "lag")))
    # A different ORCID is another Okafor, shared co-author or not.
    ingest(pipeline, "d.xml", article("10.1234/d", smith_tor, contrib("Okafor", "Ada", "lag", "0000-0009-0000-0009")))
    ids = {(r["doi"], r["position"]): r["author_id"] for r in rows(pipeline)}
    assert ids[("10.1234/a", 1)] == ids[("10.1234/b", 1)] == ids[("10.1234/d", 1)] != ids[("10.1234/c", 1)]
    assert ids[("10.1234/a", 2)] == ids[("10.1234/b", 2)] != ids[("10.1234/d", 2)]
    # Re-ingesting a document replaces its rows (nothing duplicated) and keeps the ids.
    ingest(pipeline, "a.xml", article("10.1234/a", smith_tor, contrib("Okafor", "Ada", "lag", "0000-0001-0000-0001")))
    again = rows(pipeline)
    assert len(again) == 8 and {(r["doi"], r["position"]): r["author_id"] for r in again} == ids


def test_a_document_ingested_again_keeps_its_authors(pipeline: Pipeline) -> None:
    """Authors known from one document alone keep their ids when it is ingested again (its old rows, their only
    evidence, are gone by then: the demo's 422 author rows became 762); an author the new version leaves out
    goes; an ORCID the new version adds is learnt, unless another author holds it."""
    store = pipeline.store

    def author_ids() -> dict[str, int]:
        return {str(r["name"]): int(r["author_id"]) for r in rows(pipeline)}  # type: ignore[call-overload]

    solo = [contrib("Quist", "Maren", "tor"), contrib("Varga", "Ilona", "lag"), contrib("Osei", "Kofi", "lag")]
    ingest(pipeline, "s.xml", article("10.1234/solo", *solo))
    first = author_ids()
    ingest(pipeline, "s.xml", article("10.1234/solo", *solo))
    assert author_ids() == first
    ingest(pipeline, "s.xml", article("10.1234/solo", solo[1], solo[0]))  # Osei left out, the others reordered
    assert author_ids() == {k: v for k, v in first.items() if k != "Kofi Osei"}
    assert store.find_authors("Kofi Osei") == [] and store.find_authors("Maren Quist")[0][0] == str(first["Maren Quist"])
    ingest(pipeline, "s.xml", article("10.1234/solo", contrib("Quist", "Maren", "tor", "0000-0002-0000-0002"), solo[1]))
    assert author_ids()["Maren Quist"] == first["Maren Quist"]
    assert store.find_authors("0000-0002-0000-0002")[0][0] == str(first["Maren Quist"])
    # An ORCID another author holds goes to that author, not to the name's previous one.
    ingest(pipeline, "o.xml", article("10.1234/other", contrib("Varga", "I", "tor", "0000-0003-0000-0003")))
    holder = author_ids()["I Varga"]
    ingest(pipeline, "s.xml", article("10.1234/solo", contrib("Varga", "Ilona", "lag", "0000-0003-0000-0003")))
    assert author_ids()["Ilona Varga"] == holder != first["Ilona Varga"]
    assert store.find_authors("Maren Quist") == [] and len(author_ids()) == 2


def test_an_index_from_before_schema_5_gets_author_rows(tmp_path: Path, mini_jats: bytes) -> None:
    db = tmp_path / "v4.db"
    p = Pipeline(open_store(db), "cues")
    ingest(p, "mini.xml", mini_jats)
    p.store.close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE document_authors")
    conn.execute("DROP TABLE authors")
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    store = open_store(db)
    got = [(r.position, r.name, r.affiliation, r.institution, r.country, r.author_id) for r in store.iter_document_authors()]
    store.close()
    assert got == [(1, "Ada Okafor", "University of Lagos, Lagos, Nigeria", "University of Lagos", "", ""),
                   (2, "Per Lindqvist", "Uppsala University, Uppsala, Sweden", "Uppsala University", "", "")]


def test_export_table_authors(tmp_path: Path, mini_jats: bytes) -> None:
    (tmp_path / "mini.xml").write_bytes(mini_jats)
    db = str(tmp_path / "i.db")
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(tmp_path / "mini.xml"), "--db", db, "--classifier", "cues"]).exit_code == 0
    out = runner.invoke(main, ["export", "--table", "authors", "--format", "jsonl", "--db", db]).output
    lines = [json.loads(x) for x in out.splitlines()]
    assert [list(r) for r in lines] == [list(AUTHOR_EXPORT_FIELDS)] * 2
    assert AUTHOR_EXPORT_FIELDS == ("citing_source", "doi", "position", "author_id", "name", "orcid", "affiliation",
                                    "institution", "ror", "city", "region", "country")  # the contract of issue 10
    assert lines[1]["name"] == "Per Lindqvist" and lines[1]["country"] == "SE" and lines[1]["position"] == 2
    out = runner.invoke(main, ["export", "--table", "authors", "--format", "csv", "--db", db]).output
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["country"] for r in table] == ["NG", "SE"] and table[0]["city"] == "Lagos"
    assert out.splitlines()[0] == ",".join(AUTHOR_EXPORT_FIELDS)
    bad = runner.invoke(main, ["export", "--table", "authors", "--corrections", "--db", db])
    assert bad.exit_code == 2


CITING = """<?xml version="1.0"?>
<article><front><article-meta><article-id pub-id-type="doi">10.1234/citing</article-id>
<title-group><article-title>A citing paper</article-title></title-group><contrib-group>{contribs}</contrib-group>
{affs}<pub-date><year>2023</year></pub-date></article-meta></front>
<body><sec><title>Discussion</title><p>Our results confirm the growth arrest reported earlier [<xref ref-type="bibr" rid="b1">1</xref>].</p></sec></body>
<back><ref-list><ref id="b1"><element-citation><pub-id pub-id-type="doi">10.1234/a</pub-id></element-citation></ref></ref-list></back></article>"""


def test_author_profile_and_search(pipeline: Pipeline) -> None:
    smith = contrib("Smith", "Anna", "tor", "0000-0001-0000-0002")
    ingest(pipeline, "a.xml", article("10.1234/a", smith, contrib("Okafor", "Ada", "lag")))
    ingest(pipeline, "b.xml", article("10.1234/b", contrib("Okafor", "Ada", "lag"), smith))
    ingest(pipeline, "cite.xml", CITING.format(contribs=contrib("Bello", "Tunde", "lag"), affs=AFFS).encode())
    store = pipeline.store
    (hit,) = store.find_authors("0000-0001-0000-0002")
    assert hit[1:] == ("Anna Smith", "0000-0001-0000-0002", 2)
    # Any author position matches: Smith is second author of b.
    assert [h[0] for h in store.find_authors("Anna Smith")] == [hit[0]] == [h[0] for h in store.find_authors("Smith")]
    assert store.find_authors("Smith, A")[0][0] == hit[0] and store.find_authors(hit[0])[0][0] == hit[0]
    assert store.find_authors("Nobody") == []
    # Digits that name no row ("²" is a digit to str.isdigit; 30 digits overflow SQLite's integers): nothing,
    # not an error (citelens author 999… ended in OverflowError, /api/authors?q=999… in a 500).
    for junk in ("9" * 30, "²", "١٢"):
        assert store.find_authors(junk) == [] and store.author_profile(junk) is None, junk
    assert store.find_authors(f" {hit[0]} ")[0][0] == hit[0]
    profile = store.author_profile(hit[0])
    assert profile is not None
    assert sorted(w.doi for w in profile.works) == ["10.1234/a", "10.1234/b"]
    assert {w.doi: w.position for w in profile.works} == {"10.1234/a": 1, "10.1234/b": 2}
    assert profile.tallies.total == 1 and profile.tallies.citing_publications == 1
    assert profile.self_citation_share == 0.0
    assert [(c.name, c.documents) for c in profile.coauthors] == [("Ada Okafor", 2)]
    (aff,) = profile.affiliations
    assert (aff.institution, aff.country, aff.first_year, aff.documents) == ("University of Toronto", "CA", 2021, 2)
    d = profile.to_dict()
    assert d["works"][0]["tallies"]["total"] in (0, 1) and d["orcid"] == "0000-0001-0000-0002"
    # Each work carries the confidence of its attribution: an ORCID match is certain.
    assert [w["confidence"] for w in d["works"]] == [1.0, 1.0]
    okafor = store.author_profile(store.find_authors("Ada Okafor")[0][0])
    assert okafor is not None and len(okafor.works) == 2  # same name, institution and co-author: merged
    assert sorted(w.confidence or 0 for w in okafor.works)[0] >= 0.9
    assert store.author_profile("999999") is None and store.author_profile("x") is None


def test_author_command(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_bytes(article("10.1234/a", contrib("Smith", "Anna", "tor"), contrib("Okafor", "Ada", "lag")))
    db = str(tmp_path / "i.db")
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(tmp_path / "a.xml"), "--db", db, "--classifier", "cues"]).exit_code == 0
    res = runner.invoke(main, ["author", "Okafor", "--db", db, "--json"])
    assert res.exit_code == 0
    (profile,) = json.loads(res.output)["authors"]
    assert profile["name"] == "Ada Okafor" and profile["works"][0]["doi"] == "10.1234/a"
    assert profile["affiliations"][0]["country"] == "NG" and profile["coauthors"][0]["name"] == "Anna Smith"
    res = runner.invoke(main, ["author", "Anna Smith", "--db", db])
    assert res.exit_code == 0 and "Anna Smith" in res.output and "University of Toronto" in res.output
    res = runner.invoke(main, ["author", "Nobody", "--db", db, "--json"])
    assert res.exit_code == 3 and json.loads(res.output)["error"] == "not found"


def test_author_api(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = tmp_path / "i.db"
    p = Pipeline(open_store(db), "cues")
    ingest(p, "a.xml", article("10.1234/a", contrib("Smith", "Anna", "tor", "0000-0001-0000-0002"),
                               contrib("Okafor", "Ada", "lag")))
    p.store.close()
    with TestClient(create_app(db, Settings(secret_key="k"))) as c:
        found = c.get("/api/authors", params={"q": "0000-0001-0000-0002"}).json()["authors"]
        assert [(a["name"], a["documents"]) for a in found] == [("Anna Smith", 1)]
        okafor = c.get("/api/authors", params={"q": "Okafor"}).json()["authors"][0]  # second author position
        body = c.get(f"/api/authors/{okafor['id']}").json()
        assert body["name"] == "Ada Okafor" and body["works"][0]["doi"] == "10.1234/a"
        assert body["affiliations"][0]["country"] == "NG" and body["coauthors"][0]["name"] == "Anna Smith"
        for bad in ("999999", "abc", "1" * 40, "<script>"):
            r = c.get(f"/api/authors/{bad}")
            assert r.status_code == 404 and "application/json" in r.headers["content-type"]
        assert c.get("/api/authors", params={"q": ""}).status_code == 400


def test_author_page_escapes_names(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = tmp_path / "i.db"
    p = Pipeline(open_store(db), "cues")
    ingest(p, "a.xml", article("10.1234/a", contrib("&lt;img src=x onerror=alert(1)&gt;", "Eve", "tor"),
                               contrib("Okafor", "Ada", "lag")))
    okafor = p.store.find_authors("Okafor")[0][0]
    p.store.close()
    with TestClient(create_app(db, Settings(secret_key="k"))) as c:
        page = c.get(f"/authors/{okafor}")
        assert page.status_code == 200 and "Ada Okafor" in page.text and "University of Lagos" in page.text
        assert "<img src=x" not in page.text and "&lt;img src=x" in page.text
        assert c.get("/authors/999999").status_code == 404


def test_given_names_must_fit() -> None:
    from citelens.people import given_names_compatible

    assert given_names_compatible("Jung-Gu", "J.-G.") and given_names_compatible("Jung-Gu", "Junggu")
    assert given_names_compatible("Anna", "A") and given_names_compatible("", "Anna")
    assert not given_names_compatible("Li", "Lei") and not given_names_compatible("Anna", "Alan")
    known = AuthorEvidence(coauthors=frozenset({"x y"}), given_names=frozenset({"Lei"}))
    assert not same_author(AuthorEvidence(coauthors=frozenset({"x y"}), given_names=frozenset({"Li"})), known)
    # "L." fits "Lei"; with initials only, one shared co-author is not enough, a second clue is.
    assert not same_author(AuthorEvidence(coauthors=frozenset({"x y"}), given_names=frozenset({"L"})), known)
    assert same_author(AuthorEvidence(coauthors=frozenset({"x y", "z w"}), given_names=frozenset({"L"})),
                       replace(known, coauthors=frozenset({"x y", "z w"})))


def test_an_initial_does_not_let_other_given_names_join() -> None:
    """A stored author once printed "X." must not take every given name of that letter: the record has to fit
    one of the author's full given names (pmc-oa: "Xi Liu" had gathered Xinyu, Xuesong, Xu-hui… through one
    "X. Liu")."""
    from citelens.people import given_names_fit_author

    lab = AuthorEvidence(coauthors=frozenset({"wan j", "jiang l", "zhou k"}), institutions=frozenset({"ror:1"}))
    xi = replace(lab, given_names=frozenset({"Xi", "X."}))
    assert match_confidence(replace(lab, given_names=frozenset({"Xinyu"})), xi) == 0.0
    assert same_author(replace(lab, given_names=frozenset({"Xi"})), xi)
    assert same_author(replace(lab, given_names=frozenset({"X."})), xi)
    # Initials only: any name of that letter still fits (the first full name then decides).
    assert same_author(replace(lab, given_names=frozenset({"Xinyu"})), replace(lab, given_names=frozenset({"X."})))
    assert given_names_fit_author({"Geoffrey Peter"}, {"Geoffrey", "Geoffrey P."})
    assert given_names_fit_author({"Anna"}, set()) and given_names_fit_author(set(), {"Anna"})
    assert not given_names_fit_author({"Lin-Lin"}, {"Ling", "L."})


def test_an_initial_in_the_index_does_not_pool_a_lab(pipeline: Pipeline) -> None:
    lab = [contrib("Wan", "Jianmin", "tor"), contrib("Jiang", "Ling", "tor"), contrib("Zhou", "Kunneng", "tor")]
    ingest(pipeline, "a.xml", article("10.1234/a", contrib("Liu", "Xi", "tor"), *lab))
    ingest(pipeline, "b.xml", article("10.1234/b", contrib("Liu", "X.", "tor"), *lab))
    ingest(pipeline, "c.xml", article("10.1234/c", contrib("Liu", "Xinyu", "tor"), *lab))
    ingest(pipeline, "d.xml", article("10.1234/d", contrib("Liu", "Xi", "tor"), *lab))
    ids = {r["doi"]: r["author_id"] for r in rows(pipeline) if r["position"] == 1}
    assert ids["10.1234/a"] == ids["10.1234/b"] == ids["10.1234/d"] != ids["10.1234/c"]


def test_an_orcid_printed_on_two_positions_identifies_neither(pipeline: Pipeline) -> None:
    """pmc-oa prints Lupi's ORCID on Denery-Papini too: one author then held two positions of one paper (both
    names, the paper twice on one page). Two positions are two people, so the ORCID is no one's there."""
    from citelens.people import orcids_on_several_positions

    assert orcids_on_several_positions(["1", "", "2", "1", ""]) == {"1"}
    orcid = "0000-0002-1293-6135"
    ingest(pipeline, "a.xml", article("10.1234/a", contrib("Lupi", "Roberta", "tor", orcid),
                                      contrib("Okafor", "Ada", "lag"), contrib("Denery-Papini", "Sandra", "tor", orcid)))
    got = {r["position"]: r for r in rows(pipeline)}
    assert len({got[1]["author_id"], got[2]["author_id"], got[3]["author_id"]}) == 3
    assert got[1]["orcid"] == got[3]["orcid"] == orcid  # the rows keep what the paper printed
    assert [a[2] for a in pipeline.store.find_authors(orcid)] == []  # but no author holds it
    # A paper that prints it once identifies its holder as before.
    ingest(pipeline, "b.xml", article("10.1234/b", contrib("Lupi", "Roberta", "tor", orcid)))
    assert [a[1] for a in pipeline.store.find_authors(orcid)] == ["Roberta Lupi"]


def test_a_paper_citing_the_authors_own_paper_is_evidence() -> None:
    kevin = AuthorEvidence(given_names=frozenset({"Kevin"}), countries=frozenset({"US"}))
    cited = replace(kevin, works=frozenset({"7"}))
    citing = replace(kevin, cited_works=frozenset({"7", "8"}))
    assert match_confidence(citing, cited) > match_confidence(kevin, cited)
    assert match_confidence(citing, cited) == match_confidence(cited, citing)  # either may be stored first
    assert match_confidence(replace(citing, cited_works=frozenset({"8"})), cited) == match_confidence(kevin, cited)


CITES_OWN = """<?xml version="1.0"?>
<article><front><article-meta><article-id pub-id-type="doi">10.1234/later</article-id>
<title-group><article-title>A later paper</article-title></title-group><contrib-group>{contribs}</contrib-group>
<aff id="mcg">McGill University, Montreal, QC H3A 0G4, Canada</aff><pub-date><year>2023</year></pub-date></article-meta></front>
<body><p>As we found [<xref ref-type="bibr" rid="b1">1</xref>].</p></body>
<back><ref-list><ref id="b1"><element-citation><pub-id pub-id-type="doi">10.1234/a</pub-id></element-citation></ref></ref-list></back></article>"""


def test_an_author_citing_their_own_paper_is_one_author(pipeline: Pipeline) -> None:
    """pmc-oa: Kevin Begcy (Regensburg, then Nebraska) cites his own earlier paper and was two authors; the
    citation now counts as evidence, with the name and the rest of the record."""
    ingest(pipeline, "a.xml", article("10.1234/a", contrib("Begcy", "Kevin", "tor"), contrib("Okafor", "Ada", "lag")))
    ingest(pipeline, "later.xml", CITES_OWN.format(contribs=contrib("Begcy", "Kevin", "mcg")).encode())
    ids = {r["doi"]: r["author_id"] for r in rows(pipeline) if r["name"] == "Kevin Begcy"}
    assert ids["10.1234/a"] == ids["10.1234/later"]


def test_an_author_known_by_initials_takes_a_full_given_name(pipeline: Pipeline) -> None:
    """The name an author is shown by was its first record's for good: "R. K. Varshney" though four of five
    pmc-oa papers print "Rajeev K. Varshney". A joining record that spells out the given name now names it."""
    from citelens.people import fuller_name

    assert fuller_name({"R. K.", "R K"}, "Rajeev K.") and not fuller_name({"R. K.", "Rajeev K."}, "Rajeev Kumar")
    assert not fuller_name({"R. K."}, "R.") and not fuller_name(set(), "")
    lab = [contrib("Okafor", "Ada", "lag"), contrib("Bello", "Tunde", "lag")]
    ingest(pipeline, "a.xml", article("10.1234/a", contrib("Varshney", "R. K.", "tor"), *lab))
    ingest(pipeline, "b.xml", article("10.1234/b", contrib("Varshney", "Rajeev K.", "tor"), *lab))
    ingest(pipeline, "c.xml", article("10.1234/c", contrib("Varshney", "R.K.", "tor"), *lab))
    (hit,) = pipeline.store.find_authors("Varshney")
    assert hit[1] == "Rajeev K. Varshney" and hit[3] == 3


def test_an_abstract_book_gives_no_coauthor_evidence(pipeline: Pipeline) -> None:
    """pmc-oa holds an ICU symposium's abstracts as one paper of 2,441 authors: some of them share a name key with
    a co-author of nearly anyone, so "T. Kim" (Asan, intensive care) became Tae Lim Kim (rice biochemistry)
    and "K. Lee" Kyu Ri Lee. Co-authors of a paper with over 100 authors are no evidence now."""
    from citelens.people import COAUTHOR_EVIDENCE_MAX_AUTHORS, coauthor_keys

    assert coauthor_keys(["kim t", "lee k", "", "kim t"], "kim t") == {"lee k"}
    assert coauthor_keys([f"x{i} a" for i in range(COAUTHOR_EVIDENCE_MAX_AUTHORS + 1)], "x0 a") == frozenset()
    common = [contrib("Lee", "K.", "none"), contrib("Park", "S.", "none")]

    def paper(doi: str, first: str, fillers: int) -> bytes:
        return article(doi, contrib("Kim", first, "none"), *common,
                       *(contrib(f"Filler{i}", "A.", "none") for i in range(fillers)))

    ingest(pipeline, "book.xml", paper("10.1234/book", "T.", 101))  # 104 authors
    ingest(pipeline, "rice.xml", paper("10.1234/rice", "Tae Lim", 0))
    ingest(pipeline, "small.xml", paper("10.1234/small", "T.", 20))  # 23 authors: co-authors count
    ids = {r["doi"]: r["author_id"] for r in rows(pipeline) if r["position"] == 1}
    assert ids["10.1234/book"] != ids["10.1234/rice"] == ids["10.1234/small"]


def test_institution_profile_and_index_windows(pipeline: Pipeline) -> None:
    smith = contrib("Smith", "Anna", "tor")
    ingest(pipeline, "a.xml", article("10.1234/a", smith, contrib("Okafor", "Ada", "lag")))
    ingest(pipeline, "cite.xml", CITING.format(contribs=contrib("Bello", "Tunde", "lag"), affs=AFFS).encode())
    store = pipeline.store
    inst = store.institution_profile("https://ror.org/03dbr7087", this_year=2024)
    assert inst is not None
    assert (inst.name, inst.country, inst.city, inst.works, inst.authors) == ("University of Toronto", "CA", "Toronto", 1, 1)
    assert inst.tallies.total == 1 and inst.tallies.citing_publications == 1
    windows = {w.window: w for w in inst.windows}
    # The one citing statement (2023, supporting) is inside 2023–2024 and every longer window.
    assert (windows["2y"].index, windows["2y"].statements, windows["all"].index) == (1.0, 1, 1.0)
    later = {w.window: w for w in store.institution_profile("03dbr7087", this_year=2030).windows}
    assert later["2y"].index is None and later["2y"].statements == 0 and later["all"].statements == 1
    assert store.institution_profile("0zzzzzz99") is None and store.institution_profile("") is None


def test_institution_api_and_page(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = tmp_path / "i.db"
    p = Pipeline(open_store(db), "cues")
    ingest(p, "a.xml", article("10.1234/a", contrib("Smith", "Anna", "tor"), contrib("Okafor", "Ada", "lag")))
    p.store.close()
    with TestClient(create_app(db, Settings(secret_key="k"))) as c:
        body = c.get("/api/institutions/03dbr7087").json()
        assert body["name"] == "University of Toronto" and [w["window"] for w in body["windows"]] == ["2y", "5y", "all"]
        assert body["windows"][2] == {"window": "all", "index": None, "statements": 0, "total": 0, "supporting": 0,
                                      "contrasting": 0, "mentioning": 0}
        page = c.get("/institutions/03dbr7087")
        assert page.status_code == 200 and "University of Toronto" in page.text and "all time" in page.text
        for bad in ("0zzzzzz99", "nope", "<b>"):
            assert c.get(f"/api/institutions/{bad}").status_code == 404
            assert c.get(f"/institutions/{bad}").status_code == 404
        # ROR ids as people copy them (the address, any case; `citelens institution` takes them) lead to the page,
        # the threshold carried along, as other spellings of an ISSN lead to a journal's page.
        for other in ("https://ror.org/03dbr7087", "ror.org/03DBR7087", "03DBR7087", "http://ror.org/03dbr7087/"):
            moved = c.get(f"/institutions/{other}", params={"min_confidence": "auto"}, follow_redirects=False)
            assert moved.status_code == 301, other
            assert moved.headers["location"] == "/institutions/03dbr7087?min_confidence=auto", other
        assert c.get("/institutions/https://ror.org/0zzzzzz99").status_code == 404
        assert c.get("/institutions/https://example.org/03dbr7087").status_code == 404


def test_institutions_are_found_by_name_from_the_api_the_search_page_and_the_cli(tmp_path: Path) -> None:
    """GET /api/institutions?q= finds institutions by ROR id or address, by their name in the index, or by another
    name the ROR registry lists (only `citelens institution` did, through a helper the web could not call); the
    paper search lists the institutions the query names, linked to their pages."""
    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from citelens.cli import main
    from citelens.institutions import find_institutions
    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = tmp_path / "i.db"
    p = Pipeline(open_store(db), "cues")
    ingest(p, "a.xml", article("10.1234/a", contrib("Smith", "Anna", "tor"), contrib("Okafor", "Ada", "lag")))
    assert [h.ror for h in find_institutions(p.store, "Université de Toronto")] == ["03dbr7087"]  # a ROR other name
    p.store.close()
    with TestClient(create_app(db, Settings(secret_key="k"))) as c:
        for q in ("toronto", "University of Toronto", "https://ror.org/03dbr7087", "03dbr7087"):
            body = c.get("/api/institutions", params={"q": q}).json()
            assert body == {"query": q, "institutions": [{"ror": "03dbr7087", "name": "University of Toronto",
                                                          "country": "CA", "authors": 1}]}, q
        assert c.get("/api/institutions", params={"q": "Atlantis"}).json()["institutions"] == []
        for bad in ({"q": " "}, {"q": "x" * 201}, {"q": "toronto", "limit": 0}, {"q": "toronto", "limit": 51}):
            assert c.get("/api/institutions", params=bad).status_code == 400, bad
        page = c.get("/search", params={"q": "toronto", "kind": "papers"})
        assert page.status_code == 200 and 'href="/institutions/03dbr7087"' in page.text
    out = CliRunner().invoke(main, ["institution", "Université de Toronto", "--db", str(db), "--json"])
    assert out.exit_code == 0 and '"ror": "03dbr7087"' in out.output


def test_search_page_finds_authors_in_any_position(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = tmp_path / "i.db"
    p = Pipeline(open_store(db), "cues")
    ingest(p, "a.xml", article("10.1234/a", contrib("Smith", "Anna", "tor"), contrib("Okafor", "Ada", "lag")))
    okafor = p.store.find_authors("Okafor")[0][0]
    p.store.close()
    with TestClient(create_app(db, Settings(secret_key="k"))) as c:
        page = c.get("/search", params={"q": "Okafor", "kind": "papers"})
        assert page.status_code == 200 and f'href="/authors/{okafor}"' in page.text and "Ada Okafor" in page.text
        assert "author-hits" not in c.get("/search", params={"q": "Nobody", "kind": "papers"}).text
