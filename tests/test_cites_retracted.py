"""What a research-integrity officer and a journal editor ask of an author, an institution or a journal: which of
its papers cite work that had been retracted (or put under an expression of concern), and whether they cited it
after the notice — in the store's profiles, the API, the pages and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import main
from citelens.integrity import cites_retracted
from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.store.records import Notice, NoticedCitation
from citelens.web.app import create_app
from test_integrity import LATER_DOI, SAME_YEAR_DOI
from test_web import CITED, FIXTURES, XSS_DOI, build_index, settings

ROR = "048a87296"  # Uppsala University, as mini-jats.xml names it too
ISSN = "1234-5679"
CONCERN_DOI = "10.9999/concern.2010.1"  # the fixture's second reference, given a DOI and an expression of concern


def citing_article(tmp: Path, doi: str, year: int) -> Path:
    """The fixture article citing the retracted CITED (and, by DOI, a work under an expression of concern of
    2024), as ``doi`` of ``year`` in the journal ISSN, its second author affiliated with ROR."""
    text = (FIXTURES / "xss-article.xml").read_text(encoding="utf-8")
    text = text.replace("10.9999/xss.2024.1", doi).replace("<year>2021</year>", f"<year>{year}</year>")
    text = text.replace("</journal-title-group>", f'</journal-title-group><issn pub-type="ppub">{ISSN}</issn>', 1)
    text = text.replace('<surname>Quinn</surname><given-names>Ada</given-names></name></contrib>',
                        '<surname>Quinn</surname><given-names>Ada</given-names></name><xref ref-type="aff" rid="a1"/>'
                        '</contrib>', 1)
    text = text.replace("</contrib-group>", '</contrib-group><aff id="a1"><institution-wrap><institution-id'
                        f' institution-id-type="ror">https://ror.org/{ROR}</institution-id><institution>Uppsala'
                        " University</institution></institution-wrap>, Uppsala, <country>Sweden</country></aff>", 1)
    text = text.replace("<fpage>20</fpage></element-citation>",
                        f'<fpage>20</fpage><pub-id pub-id-type="doi">{CONCERN_DOI}</pub-id></element-citation>', 1)
    path = tmp / f"{doi.rsplit('/', 1)[1]}.xml"
    path.write_text(text, encoding="utf-8")
    return path


def concern_notice(tmp: Path) -> Path:
    text = (FIXTURES / "xss-retraction.xml").read_text(encoding="utf-8")
    text = (text.replace('article-type="retraction"', 'article-type="expression-of-concern"')
            .replace("10.9999/notice.2022.7", "10.9999/concern-notice.2024.1").replace("<year>2022</year>",
                                                                                     "<year>2024</year>")
            .replace('related-article-type="retracted-article"', 'related-article-type="object-of-concern"')
            .replace("10.9999/cited.2001.1", CONCERN_DOI))
    path = tmp / "concern.xml"
    path.write_text(text, encoding="utf-8")
    return path


def build(db: Path | str, tmp: Path) -> Path | str:
    build_index(db)
    store = open_store(db)
    summary = ingest_paths([citing_article(tmp, LATER_DOI, 2023), citing_article(tmp, SAME_YEAR_DOI, 2022),
                            concern_notice(tmp)], store, classifier="cues")
    store.close()
    assert summary.stored == 3, summary.failed
    return db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    target: Path | str = request.getfixturevalue("pg_url") if request.param == "postgres" else tmp_path / "i.db"
    return build(target, tmp_path)


@pytest.fixture
def client(db: Path | str) -> Iterator[TestClient]:
    with TestClient(create_app(db, settings())) as c:
        yield c


def author_id(db: Path | str) -> str:
    store = open_store(db)
    try:
        found = store.find_authors("Quinn")
    finally:
        store.close()
    assert len(found) == 1, found
    return found[0][0]


def test_profiles_date_each_citation_of_a_retracted_work(db: Path | str) -> None:
    """An author's, an institution's and a journal's pages said nothing of retracted work their papers cite. Now
    each profile holds every (citing paper, noticed work) pair, dated against the notice, worst first."""
    store = open_store(db)
    try:
        profiles = [store.author_profile(author_id(db)), store.institution_profile(ROR), store.journal_profile(ISSN)]
    finally:
        store.close()
    # the author's and the journal's (by name) first paper of 2021 came before the retraction; the institution
    # has the two later papers and mini-jats.xml's of 2020, which cites the work under concern
    expected = [(3, 1, 1, 1, 3), (2, 1, 1, 0, 3), (3, 1, 1, 1, 3)]
    for p, (n, after, same, before, concern) in zip(profiles, expected, strict=True):
        assert p is not None
        cr = p.cites_retracted
        assert (cr.retraction.citations, cr.retraction.after, cr.retraction.same_year, cr.retraction.before,
                cr.retraction.undated) == (n, after, same, before, 0), cr.retraction
        assert cr.retraction.citing_papers == n and cr.retraction.works == 1
        assert cr.retraction.statements == 5 * n and cr.retraction.supporting_after == 1
        # the concern counted apart: a 2024 notice every paper came before
        assert (cr.expression_of_concern.citations, cr.expression_of_concern.before) == (concern, concern)
        first = cr.citations[0]
        assert (first.citing_doi, first.cited_doi, first.notice, first.notice_year, first.timing) == (
            LATER_DOI, CITED, "retraction", 2022, "after")
        assert first.supporting_after_retraction and first.supporting >= 1
        assert first.notice_doi == "10.9999/notice.2022.7"
        assert first.statements == 5 == len(first.statement_ids)
        assert first.supporting + first.contrasting + first.mentioning + first.unclassified == 5
        assert [(c.citing_doi, c.timing) for c in cr.citations[1:n]] == [
            (SAME_YEAR_DOI, "same-year"), (XSS_DOI, "before")][:n - 1]
        assert [c.notice for c in cr.citations] == ["retraction"] * n + ["expression-of-concern"] * concern
        assert all(c.notice_year == 2024 and not c.supporting_after_retraction for c in cr.citations[n:])


def test_a_threshold_counts_unsure_labels_as_mentioning(db: Path | str) -> None:
    store = open_store(db)
    try:
        every = store.author_profile(author_id(db))
        sure = store.author_profile(author_id(db), min_confidence=1.0)
    finally:
        store.close()
    assert every is not None and sure is not None
    a, b = every.cites_retracted.citations[0], sure.cites_retracted.citations[0]
    assert b.statements == a.statements and b.supporting == b.contrasting == 0
    assert b.mentioning == a.mentioning + a.supporting + a.contrasting


def test_nothing_to_show_is_empty(tmp_path: Path) -> None:
    """A profile whose papers cite nothing under a notice carries zero counts and no citations."""
    db = build_index(tmp_path / "plain.db")
    store = open_store(db)
    try:
        aid = store.find_authors("Okafor")[0][0]  # mini-jats.xml: cites no work under a notice
        p = store.author_profile(aid)
    finally:
        store.close()
    assert p is not None and p.cites_retracted.citations == ()
    assert p.cites_retracted.retraction.citations == 0 == p.cites_retracted.expression_of_concern.citations


def test_domain_rules_date_and_order() -> None:
    def row(doi: str, year: int | None, notices: tuple[Notice, ...], supporting: int = 0) -> NoticedCitation:
        return NoticedCitation(citing_work_id="W" + doi, citing_doi=doi, citing_title="", citing_year=year,
                               cited_work_id="W9", cited_doi="10.1/x", cited_title="", cited_year=2000,
                               notices=notices, statements=supporting + 1, supporting=supporting, mentioning=1)

    retracted = (Notice(kind="expression-of-concern", date="2010"), Notice(kind="retraction", date="2012-05-01"))
    out = cites_retracted([row("a", 2011, retracted), row("b", 2013, retracted), row("c", 2014, retracted, 2),
                           row("d", None, retracted), row("e", 2015, (Notice(kind="correction", date="2001"),)),
                           row("f", 2015, (Notice(kind="expression-of-concern", date=""),))])
    # a retraction wins over an earlier concern; a correction puts nothing in question
    assert [(c.citing_doi, c.notice, c.notice_year, c.timing) for c in out.citations] == [
        ("c", "retraction", 2012, "after"), ("b", "retraction", 2012, "after"), ("d", "retraction", 2012, None),
        ("a", "retraction", 2012, "before"), ("f", "expression-of-concern", None, None)]
    assert out.retraction.to_dict() == {"citations": 4, "after": 2, "same_year": 0, "before": 1, "undated": 1,
                                        "citing_papers": 4, "works": 1, "statements": 6, "supporting_after": 1}
    assert out.expression_of_concern.undated == 1
    # A retraction lifted by a later reinstatement puts the work in question no more (its concern still counts).
    reinstated = (*retracted, Notice(kind="reinstatement", date="2013-02-01"))
    lifted = cites_retracted([row("g", 2014, reinstated, 1)])
    assert [(c.citing_doi, c.notice, c.notice_year) for c in lifted.citations] == [
        ("g", "expression-of-concern", 2010)]
    assert lifted.retraction.citations == 0


def test_api_answers_carry_it(client: TestClient, db: Path | str) -> None:
    """``/api/authors/{id}``, ``/api/institutions/{ror}`` and ``/api/journals/{issn}`` gain ``cites_retracted``
    (their OpenAPI models say its shape: tests/test_shapes.py)."""
    for url in (f"/api/authors/{author_id(db)}", f"/api/institutions/{ROR}", f"/api/journals/{ISSN}"):
        body = client.get(url).json()["cites_retracted"]
        assert body["retraction"]["after"] == 1 and body["retraction"]["supporting_after"] == 1, url
        first = body["citations"][0]
        assert (first["citing_doi"], first["cited_doi"], first["timing"], first["notice_year"]) == (
            LATER_DOI, CITED, "after", 2022)
        assert first["supporting_after_retraction"] is True and len(first["statement_ids"]) == 5
        assert client.get(f"/api/statements/{first['statement_ids'][0]}").json()["citing_doi"] == LATER_DOI
    sure = client.get(f"/api/authors/{author_id(db)}?min_confidence=1").json()["cites_retracted"]["citations"][0]
    assert sure["supporting"] == 0 and sure["statements"] == 5


def test_cli_text_and_json(tmp_path: Path) -> None:
    db = build(tmp_path / "cli.db", tmp_path)
    runner = CliRunner()
    for args, whose in ((["author", "Quinn"], "their papers"), (["institution", ROR], "its authors' papers"),
                        (["journal", ISSN], "its papers")):
        out = runner.invoke(main, [*args, "--db", str(db)])
        assert out.exit_code == 0, out.output
        assert f"{whose} cite retracted work:" in out.output and "1 after the retraction, 1 with supporting" \
            in out.output
        assert f"! 2023  {LATER_DOI} → {CITED} (retracted 2022): after · 5 statement(s)" in out.output
        assert "work under an expression of concern (not retracted): 3 citation(s)" in out.output
        data = json.loads(runner.invoke(main, [*args, "--db", str(db), "--json"]).output)
        found = next(iter(v for k, v in data.items() if k.endswith("s") and isinstance(v, list)))[0]
        assert found["cites_retracted"]["citations"][0]["timing"] == "after"
    plain = build_index(tmp_path / "plain.db")
    out = runner.invoke(main, ["author", "Okafor", "--db", str(plain)])
    assert out.exit_code == 0 and "retracted" not in out.output and "concern" not in out.output


def test_pages_show_the_panel_only_when_there_is_something(client: TestClient, db: Path | str) -> None:
    """The author, institution and journal pages gain a panel: the counts, then each citing paper → retracted work
    with its statements linked, the supporting citation after the retraction marked and first."""
    import re

    for url in (f"/authors/{author_id(db)}", f"/institutions/{ROR}", f"/journals/{ISSN}"):
        html = client.get(url).text
        panel = re.search(r'<section class="panel" aria-labelledby="cites-retracted-h".*?</section>', html, re.S)
        assert panel, url
        text = panel.group(0)
        assert "<strong>1</strong> published after the retraction" in text
        assert '<strong class="supporting-after">1 with supporting statements</strong>' in text
        rows = re.findall(r"<tr class=\"(noticed-[^\"]+)\">", text)
        assert rows[0] == "noticed-retraction supporting-after-retraction" and rows[-1] == "noticed-expression-of-concern"
        assert "supporting, after the retraction" in text and "tab=references" in text
        assert re.search(r'href="/statements/\d+"', text) and "<script" not in text
    sure = client.get(f"/authors/{author_id(db)}?min_confidence=1").text
    assert "supporting, after the retraction" not in sure and "1 with supporting" not in sure
    store = open_store(db)
    try:
        aid = store.find_authors("Lindqvist")[0][0]  # mini-jats.xml: cites only the work under concern
        plain = store.find_authors("Okafor")[0][0]
    finally:
        store.close()
    assert 'id="cites-concern-summary"' in client.get(f"/authors/{aid}").text
    assert 'id="cites-retracted-summary"' not in client.get(f"/authors/{aid}").text
    assert 'id="cites-concern-summary"' in client.get(f"/authors/{plain}").text  # Okafor is on that paper too


def test_no_panel_when_nothing_is_cited_under_a_notice(tmp_path: Path) -> None:
    db = build_index(tmp_path / "plain.db")
    store = open_store(db)
    try:
        aid = store.find_authors("Okafor")[0][0]
    finally:
        store.close()
    with TestClient(create_app(db, settings())) as c:
        for url in (f"/authors/{aid}", f"/institutions/{ROR}"):
            html = c.get(url).text
            assert 'id="institution-name"' in html or 'id="author-name"' in html
            assert "cites-retracted" not in html, url


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_work_listed_twice_in_a_reference_list_is_one_citation_with_both_entries_statements(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A reference list may name the retracted work twice (two entries, one DOI): the profile shows one citation
    of it, with the statements of both entries."""
    db: Path | str = request.getfixturevalue("pg_url") if backend == "postgres" else tmp_path / "i.db"
    build_index(db)
    article = citing_article(tmp_path, LATER_DOI, 2023)
    text = article.read_text(encoding="utf-8")
    again = ('<ref id="r3"><label>3</label><element-citation publication-type="journal"><person-group'
             ' person-group-type="author"><name><surname>Barnes</surname><given-names>T</given-names></name>'
             '</person-group><year>2001</year><article-title>Sentinel behaviour in bacterial colonies</article-title>'
             '<source>Microbiology</source><pub-id pub-id-type="doi">10.9999/cited.2001.1</pub-id>'
             "</element-citation></ref>")
    text = text.replace("</ref-list>", again + "</ref-list>", 1)
    text = text.replace("Future studies are needed.</p>", 'Future studies are needed.</p><p>The same colonies were'
                        ' recounted later [<xref ref-type="bibr" rid="r3">3</xref>].</p>', 1)
    article.write_text(text, encoding="utf-8")
    store = open_store(db)
    try:
        assert ingest_paths([article], store, classifier="cues").stored == 1
        profile = store.institution_profile(ROR)
    finally:
        store.close()
    assert profile is not None
    mine = [c for c in profile.cites_retracted.citations if c.citing_doi == LATER_DOI]
    assert [(c.cited_doi, c.notice, c.statements) for c in mine] == [(CITED, "retraction", 6)]
    assert len(set(mine[0].statement_ids)) == 6 and list(mine[0].statement_ids) == sorted(mine[0].statement_ids)
