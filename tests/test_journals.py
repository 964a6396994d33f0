"""Journals (issue 10): ISSNs parsed from JATS, TEI, Crossref and OpenAlex records; stored by migration 6 on
both backends (older indexes upgraded in place); the journal profile with its index windows; the journal and
institution commands; the journal page and API; report pages linking to the journal."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from citelens.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, main
from citelens.formats.crossref import metadata_record
from citelens.formats.jats import parse_jats
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.references.identifiers import normalise_issn
from citelens.store import open_store
from citelens.store.migrations import latest_version, migrations
from test_people import AFFS, contrib

# The journals migration's number (migrations are numbered in landing order) and the one before it.
JOURNALS_VERSION = next(m.version for m in migrations("sqlite") if m.name == "journals")

JOURNAL_META = """<journal-meta><journal-id journal-id-type="nlm-ta">J Test Biol</journal-id>
<journal-title-group><journal-title>{title}</journal-title></journal-title-group>
<issn pub-type="ppub">1544-9173</issn><issn pub-type="epub">1545-7885</issn></journal-meta>"""

ARTICLE = """<?xml version="1.0"?>
<article><front>{jmeta}<article-meta><article-id pub-id-type="doi">{doi}</article-id>
<title-group><article-title>{doi} title</article-title></title-group><contrib-group>{contribs}</contrib-group>
{affs}<pub-date><year>{year}</year></pub-date></article-meta></front>
<body><sec><title>Discussion</title><p>{text}</p></sec></body>
<back><ref-list>{refs}</ref-list></back></article>"""

REF_DOI = '<ref id="b{n}"><element-citation><pub-id pub-id-type="doi">{doi}</pub-id></element-citation></ref>'
REF_NAME = ('<ref id="b{n}"><element-citation><person-group><name><surname>Rossi</surname><given-names>M'
            '</given-names></name></person-group><article-title>An older finding on growth arrest</article-title>'
            '<source>{source}</source><year>2001</year><volume>3</volume><fpage>17</fpage></element-citation></ref>')


def article(doi: str, year: int, *, title: str = "Journal of Test Biology", text: str = "Nothing cited.",
            refs: str = "") -> bytes:
    return ARTICLE.format(jmeta=JOURNAL_META.format(title=title), doi=doi, year=year, text=text, refs=refs,
                          contribs=contrib("Smith", "Anna", "tor"), affs=AFFS).encode()


def citing(doi: str, year: int, cited_doi: str, source: str = "J Test Biol") -> bytes:
    """An article in another journal citing ``cited_doi`` (supporting) and a name-only reference (mentioning)."""
    text = ('Our results confirm the growth arrest reported earlier [<xref ref-type="bibr" rid="b1">1</xref>]. '
            'Growth arrest was first described by Rossi [<xref ref-type="bibr" rid="b2">2</xref>].')
    doc = ARTICLE.format(jmeta="", doi=doi, year=year, text=text, contribs=contrib("Bello", "Tunde", "lag"),
                         affs=AFFS, refs=REF_DOI.format(n=1, doi=cited_doi) + REF_NAME.format(n=2, source=source))
    return doc.encode()


def ingest(p: Pipeline, name: str, data: bytes) -> None:
    summary = p.ingest([read_bytes_input(name, data)])
    assert summary.failed == [], summary.failed


def build(p: Pipeline) -> None:
    ingest(p, "a.xml", article("10.1234/a", 2019))
    ingest(p, "c1.xml", citing("10.1234/c1", 2023, "10.1234/a"))
    ingest(p, "c2.xml", citing("10.1234/c2", 2016, "10.1234/a"))


# ------------------------------------------------------------------------------------------- parsing

def test_normalise_issn() -> None:
    assert normalise_issn("1544-9173") == normalise_issn("15449173") == normalise_issn("ISSN 1544 9173") == "1544-9173"
    assert normalise_issn("1553-734x") == "1553-734X"
    assert normalise_issn("1544-9174") == ""  # wrong check digit
    assert normalise_issn("2001-2002") == normalise_issn("") == normalise_issn("nope") == ""


def test_jats_issns_and_abbreviation() -> None:
    doc = parse_jats(article("10.1234/a", 2019), "a.xml")
    assert (doc.journal, doc.issn, doc.eissn, doc.journal_abbrev) == (
        "Journal of Test Biology", "1544-9173", "1545-7885", "J Test Biol")
    # JATS 1.1 spelling, and an online-only journal.
    meta = ('<journal-meta><journal-title>X</journal-title><issn publication-format="electronic">1932-6203</issn>'
            '<issn publication-format="print">bogus</issn></journal-meta>')
    doc = parse_jats(ARTICLE.format(jmeta=meta, doi="10.1/x", year=2020, text="", refs="", contribs="",
                                    affs="").encode(), "x.xml")
    assert (doc.issn, doc.eissn) == ("", "1932-6203")


def test_tei_issns() -> None:
    from citelens.formats.tei import parse_tei

    tei = b"""<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title>T</title></titleStmt>
<sourceDesc><biblStruct><analytic><title>T</title></analytic><monogr><title level="j">Journal of Test Biology</title>
<idno type="ISSN">1544-9173</idno><idno type="eISSN">1545-7885</idno><imprint/></monogr></biblStruct></sourceDesc>
</fileDesc></teiHeader><text><body/></text></TEI>"""
    doc = parse_tei(tei, "t.tei.xml")
    assert (doc.journal, doc.issn, doc.eissn) == ("Journal of Test Biology", "1544-9173", "1545-7885")


def test_metadata_issns_crossref_flat_and_openalex() -> None:
    crossref = {"DOI": "10.1234/m", "title": ["M"], "container-title": ["Nature"], "ISSN": ["1476-4687", "0028-0836"],
                "issn-type": [{"value": "0028-0836", "type": "print"}, {"value": "1476-4687", "type": "electronic"}]}
    assert (metadata_record(crossref).issn, metadata_record(crossref).eissn) == ("0028-0836", "1476-4687")
    flat = metadata_record({"doi": "10.1234/m", "title": "M", "issn": "00280836", "eissn": "1476-4687"})
    assert (flat.issn, flat.eissn) == ("0028-0836", "1476-4687")
    openalex = {"doi": "https://doi.org/10.1234/m", "title": "M", "primary_location": {"source": {
        "display_name": "Nature", "issn_l": "0028-0836", "issn": ["1476-4687", "0028-0836"]}}}
    assert (metadata_record(openalex).issn, metadata_record(openalex).eissn) == ("0028-0836", "1476-4687")
    hostile = {"doi": "10.1234/m", "title": "M", "ISSN": 7, "issn-type": "x", "primary_location": {"source": None}}
    assert (metadata_record(hostile).issn, metadata_record(hostile).eissn) == ("", "")


# ------------------------------------------------------------------------------------- store contract

def test_journal_profile_and_index_windows(pipeline: Pipeline) -> None:
    build(pipeline)
    store = pipeline.store
    j = store.journal_profile("1545-7885", this_year=2024)  # the e-ISSN finds the journal too
    assert j is not None
    assert (j.issn, j.eissn, j.name) == ("1544-9173", "1545-7885", "Journal of Test Biology")
    assert set(j.names) == {"Journal of Test Biology", "J Test Biol"}
    # 10.1234/a by ISSN, and the ISSN-less Rossi 2001 work that references name "J Test Biol".
    assert (j.works, j.works_by_name) == (2, 1)
    assert j.tallies.total == 4 and j.tallies.citing_publications == 2
    windows = {w.window: w for w in j.windows}
    assert (windows["2y"].statements, windows["2y"].total, windows["2y"].index) == (1, 2, 1.0)  # 2023 only
    assert (windows["5y"].total, windows["all"].total, windows["all"].statements) == (2, 4, 2)
    assert [w.doi for w in j.most_cited][:1] == ["10.1234/a"] and j.most_cited[0].supporting == 2
    assert store.journal_profile("1234-5679") is None and store.journal_profile("nope") is None
    assert [(h.issn, h.eissn) for h in store.find_journals("15449173")] == [("1544-9173", "1545-7885")]
    assert [h.issn for h in store.find_journals("test biology")] == ["1544-9173"]
    assert [h.issn for h in store.find_journals("j test biol", exact=True)] == ["1544-9173"]
    assert store.find_journals("test biol", exact=True) == [] and store.find_journals("%") == []


def test_find_institutions(pipeline: Pipeline) -> None:
    build(pipeline)
    store = pipeline.store
    assert [h.ror for h in store.find_institutions("https://ror.org/03dbr7087")] == ["03dbr7087"]
    assert [h.name for h in store.find_institutions("univ toronto")] == ["University of Toronto"]
    assert store.find_institutions("0zzzzzz99") == [] and store.find_institutions("%_%") == []


def test_an_index_from_before_the_journals_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "v5.db"
    p = Pipeline(open_store(db), "cues")
    ingest(p, "a.xml", article("10.1234/a", 2019))
    p.store.close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE journal_names")
    for index in ("works_issn", "works_eissn", "works_container_lower"):
        conn.execute(f"DROP INDEX {index}")
    conn.execute("ALTER TABLE works DROP COLUMN issn")
    conn.execute("ALTER TABLE works DROP COLUMN eissn")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(JOURNALS_VERSION - 1),))
    conn.commit()
    conn.close()
    p = Pipeline(open_store(db), "cues")
    assert p.store.schema_version == latest_version("sqlite") and p.store.get_work("10.1234/a") is not None
    assert p.store.journal_profile("1544-9173") is None  # the ISSN was never stored: nothing to show yet
    ingest(p, "a.xml", article("10.1234/a", 2019))  # ingested again, it is
    assert p.store.journal_profile("1544-9173").works == 1  # type: ignore[union-attr]
    p.store.close()


@pytest.mark.postgres
def test_a_postgres_index_from_before_the_journals_schema_is_upgraded_in_place(pg_url: str) -> None:
    import psycopg

    p = Pipeline(open_store(pg_url), "cues")
    ingest(p, "a.xml", article("10.1234/a", 2019))
    p.store.close()
    from citelens.store.postgres import close_pools

    close_pools(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE journal_names")
        conn.execute("DROP INDEX works_container_lower")
        conn.execute("ALTER TABLE works DROP COLUMN issn, DROP COLUMN eissn")
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'",
                     (str(next(m.version for m in migrations("postgres") if m.name == "journals") - 1),))
    p = Pipeline(open_store(pg_url), "cues")
    assert p.store.schema_version == latest_version("postgres") and p.store.journal_profile("1544-9173") is None
    ingest(p, "a.xml", article("10.1234/a", 2019))
    assert p.store.journal_profile("1545-7885").works == 1  # type: ignore[union-attr]
    p.store.close()


# ---------------------------------------------------------------------------------------------- CLI

def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def built_db(tmp_path: Path) -> str:
    db = tmp_path / "i.db"
    p = Pipeline(open_store(db), "cues")
    build(p)
    p.store.close()
    return str(db)


def test_journal_and_institution_commands(tmp_path: Path) -> None:
    db = built_db(tmp_path)
    code, out, _ = run("journal", "J Test Biol", "--db", db, "--json")
    assert code == EXIT_OK
    body = json.loads(out)
    assert [j["issn"] for j in body["journals"]] == ["1544-9173"]
    assert [w["window"] for w in body["journals"][0]["windows"]] == ["2y", "5y", "all"]
    code, out, _ = run("journal", "1545-7885", "--db", db)
    assert code == EXIT_OK and "Journal of Test Biology" in out and "all time" in out and "10.1234/a" in out
    code, out, _ = run("institution", "03dbr7087", "--db", db, "--json")
    assert code == EXIT_OK and json.loads(out)["institutions"][0]["name"] == "University of Toronto"
    code, out, _ = run("institution", "University of Toronto", "--db", db)
    assert code == EXIT_OK and "ROR 03dbr7087" in out and "supporting ÷ (supporting + contrasting)" in out
    for cmd in ("journal", "institution"):
        code, out, err = run(cmd, "nothing like it", "--db", db, "--json")
        assert code == EXIT_NOT_FOUND and json.loads(out)["error"] == "not found"
        assert run(cmd, " ", "--db", db)[0] == EXIT_USAGE
        assert run(cmd, "x", "--db", str(tmp_path / "missing.db"))[0] == EXIT_USAGE
        assert run(cmd, "--help")[0] == EXIT_OK


# ---------------------------------------------------------------------------------------------- web

def test_journal_page_api_and_report_link(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = built_db(tmp_path)
    with TestClient(create_app(db, Settings(secret_key="k"))) as c:
        body = c.get("/api/journals/1544-9173").json()
        assert body["name"] == "Journal of Test Biology" and body["works"] == 2
        assert [w["window"] for w in body["windows"]] == ["2y", "5y", "all"]
        assert c.get("/api/journals?q=test biology").json()["journals"][0]["issn"] == "1544-9173"
        assert c.get("/api/journals/15457885").json()["issn"] == "1544-9173"
        moved = c.get("/journals/1545-7885", follow_redirects=False)
        assert moved.status_code == 301 and moved.headers["location"] == "/journals/1544-9173"
        page = c.get("/journals/1544-9173")
        assert page.status_code == 200 and "all time" in page.text and "J Test Biol" in page.text
        for bad in ("1234-5679", "nope", "<b>", "1" * 30):
            assert c.get(f"/api/journals/{bad}").status_code in (404, 422)
            assert c.get(f"/journals/{bad}").status_code == 404
        report = c.get("/reports/10.1234/a").text
        assert 'href="/journals/1544-9173"' in report
        found = c.get("/search", params={"q": "test biology", "kind": "papers"}).text
        assert 'href="/journals/1544-9173">Journal of Test Biology</a>' in found
        # A work known only from a reference, under a name the journal goes by, links to it too.
        rossi = c.get("/api/journals/1544-9173").json()
        assert rossi["works_by_name"] == 1


def test_statement_page_links_the_citing_journal(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = tmp_path / "i.db"
    p = Pipeline(open_store(db), "cues")
    build(p)
    text = 'As shown before [<xref ref-type="bibr" rid="b1">1</xref>], growth stops.'
    ingest(p, "b.xml", article("10.1234/b", 2022, text=text, refs=REF_DOI.format(n=1, doi="10.1234/c1")))
    p.store.close()
    with TestClient(create_app(db, Settings(secret_key="k"))) as c:
        by_journal = c.get("/api/citations/10.1234/c1").json()["citations"][0]
        assert 'href="/journals/1544-9173"' in c.get(f"/statements/{by_journal['id']}").text
        other = c.get("/api/citations/10.1234/a").json()["citations"][0]  # cited from a journal without ISSN
        assert "journal-link" not in c.get(f"/statements/{other['id']}").text
