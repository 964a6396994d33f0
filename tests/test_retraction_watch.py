"""Editorial notices without a notice article: the Retraction Watch database CSV and Crossref's update-to /
updated-by. Each reaches the index through one path (pipeline.ingest_notices) and shows where a JATS notice does:
report banner, /api/papers editorialNotices, badge, check warnings, collection alerts — on every backend."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import main
from citelens.formats.retraction_watch import COLUMNS, looks_like_retraction_watch, read_retraction_watch
from citelens.pipeline import ingest_paths
from citelens.rules import retraction_in_force, retraction_year, same_notice
from citelens.store import open_store
from citelens.web.app import create_app
from test_web import CITED, FIXTURES, build_index, settings

RW = FIXTURES / "retraction-watch" / "retraction_watch_sample.csv"
RETRACTED = "10.5555/rw.retracted.1"
REINSTATED = "10.5555/rw.reinstated.3"
CONCERN = "10.5555/rw.concern.2"


def rw_csv(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, columns, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def row(doi: str, nature: str = "Retraction", date: str = "3/4/2015 0:00", notice: str = "", **kw: str
        ) -> dict[str, str]:
    return {"Record ID": kw.pop("rid", "1"), "Title": kw.pop("title", "A synthetic paper"), "OriginalPaperDOI": doi,
            "OriginalPaperPubMedID": kw.pop("pmid", "0"), "RetractionNature": nature, "RetractionDate": date,
            "RetractionDOI": notice, **kw}


# ------------------------------------------------------------------------------------------------ parsing
def test_the_fixture_parses_with_each_bad_row_named() -> None:
    with RW.open("rb") as fh:
        out = list(read_retraction_watch(fh, RW.name))
    notices = [x for x in out if not isinstance(x, str)]
    problems = [x for x in out if isinstance(x, str)]
    assert len(notices) == 8
    assert [n.kind for n in notices[:4]] == ["retraction", "expression-of-concern", "retraction", "reinstatement"]
    first = notices[0]
    assert (first.target.doi, first.target.pmid, first.doi, first.date) == (RETRACTED, "99999901",
                                                                              "10.5555/rw.notice.1", "2015-03-04")
    assert first.reasons == ("Falsification/Fabrication of Data", "Investigation by Journal/Publisher")
    assert notices[1].doi == "" and notices[4].target.doi == "" and notices[4].target.pmid == "99999905"
    assert problems[0].startswith("row 8 (Record ID '900008'): no usable OriginalPaperDOI")
    assert "'Banana' is not Retraction" in problems[1]
    assert problems[2].startswith("row 10") and "stored undated" in problems[2]


def test_recognised_by_header_in_any_published_encoding() -> None:
    text = rw_csv([row("10.5555/enc.1", title="Müller’s café study")])
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"), text.replace("’", "'").encode("latin-1")):
        assert looks_like_retraction_watch(data)
        out = list(read_retraction_watch(io.BytesIO(data), "rw.csv"))
        assert out[0].target.title.startswith("Müller") and out[0].target.doi == "10.5555/enc.1"
    latin = list(read_retraction_watch(io.BytesIO(text.replace("’", "'").encode("latin-1")), "rw.csv"))
    assert "not UTF-8" in latin[-1]  # said once, for the file
    assert not looks_like_retraction_watch(b"name,email\nx,y\n")


def test_rules_same_notice_and_reinstatement() -> None:
    assert same_notice({"kind": "retraction", "doi": "10.1/n", "date": "2015"},
                       {"kind": "retraction", "doi": "10.1/n", "date": "2015-03-04"})
    assert same_notice({"kind": "retraction", "doi": "", "date": "2015"}, {"kind": "retraction", "doi": "10.1/n",
                                                                          "date": "2015-03-04"})
    assert not same_notice({"kind": "retraction", "doi": "10.1/a", "date": "2015"},
                           {"kind": "retraction", "doi": "10.1/b", "date": "2015"})
    retraction = {"kind": "retraction", "date": "2016-01-10"}
    assert retraction_in_force([retraction]) and retraction_year([retraction]) == 2016
    assert not retraction_in_force([retraction, {"kind": "reinstatement", "date": "2018-05-20"}])
    assert retraction_year([retraction, {"kind": "reinstatement", "date": "2018-05-20"}]) is None
    # A reinstatement before a (second) retraction, or undated, does not lift it.
    assert retraction_in_force([retraction, {"kind": "reinstatement", "date": "2015-01-01"}])
    assert retraction_in_force([retraction, {"kind": "reinstatement", "date": ""}])


# ------------------------------------------------------------------------------------------------ the store
def test_ingest_records_notices_idempotently_on_every_backend(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    try:
        build = ingest_paths([FIXTURES / "xss-article.xml", FIXTURES / "xss-retraction.xml"], store,
                             classifier="cues")
        assert build.stored == 2
        summary = ingest_paths([RW], store)
        assert (summary.notices_added, summary.notices_unchanged) == (8, 0)
        assert [f.problem[:6] for f in summary.failed] == ["row 8 ", "row 9 "]
        assert all(f.source == str(RW) for f in summary.failed)
        # Row 10's impossible date: the retraction is stored undated, a warning rather than a failure.
        assert [n for n in summary.notes if "row 10" in n] == [
            f"{RW}: row 10 (Record ID '900010'): RetractionDate '31/31/2015 0:00' is not a date (stored undated)"]
        assert summary.warnings == 1
        work = store.get_work(RETRACTED)
        assert work is not None and work.retracted and work.pmid == "99999901" and work.year == 2012
        assert [(n.kind, n.doi, n.date, n.relation) for n in work.notices] == [
            ("retraction", "10.5555/rw.notice.1", "2015-03-04", "retraction-watch")]
        reinstated = store.get_work(REINSTATED)
        assert reinstated is not None and not reinstated.retracted
        assert [n.kind for n in reinstated.notices] == ["retraction", "reinstatement"]
        by_pmid = store.find_work_by_identifier("pmid", "99999905")
        assert by_pmid is not None and [n.kind for n in store.notices(by_pmid)] == ["correction"]
        # Again, and a newer version of the file that completes a notice: nothing is stored twice.
        again = ingest_paths([RW], store)
        assert (again.notices_added, again.notices_updated, again.notices_unchanged) == (0, 0, 8)
        newer = tmp_path / "rw-newer.csv"
        newer.write_text(rw_csv([row(CONCERN, "Expression of concern", "2020-06-01", "10.5555/rw.notice.2"),
                                 row("10.5555/rw.new.11", rid="900011")]), encoding="utf-8")
        update = ingest_paths([newer], store)
        assert (update.notices_added, update.notices_updated) == (1, 1)
        assert [n.doi for n in store.notices(store.find_work_by_identifier("doi", CONCERN))] == ["10.5555/rw.notice.2"]
        # The JATS notice article (10.9999/notice.2022.7, 2022) and the same notice from Retraction Watch and
        # from Crossref's update-to are one notice, whichever came first.
        cited = store.get_work(CITED)
        assert cited is not None and len(cited.notices) == 1
        same = tmp_path / "same-notice.csv"
        same.write_text(rw_csv([row(CITED, date="2022-03-01", notice="10.9999/notice.2022.7", rid="900077",
                                    Reason="+Duplication of Image;+Lack of IRB/IACUC Approval;")]), encoding="utf-8")
        crossref = tmp_path / "notice.jsonl"
        crossref.write_text(json.dumps({"message": {"DOI": "10.9999/notice.2022.7", "title": ["Retraction"],
                                                    "update-to": [{"DOI": CITED, "type": "retraction",
                                                                   "updated": {"date-parts": [[2022, 3, 1]]}}]}}))
        both = ingest_paths([same, crossref], store)
        assert both.notices_added == 0 and both.notices_updated == 1 and both.notices_unchanged == 1
        assert [(n.doi, n.date) for n in store.notices(cited.id)] == [("10.9999/notice.2022.7", "2022-03-01")]
        # Schema 13: the notice article's notice gained Retraction Watch's reasons and record id.
        why = ("Duplication of Image", "Lack of IRB/IACUC Approval")
        assert [(n.reasons, n.source_id) for n in store.notices(cited.id)] == [(why, "900077")]
        # Re-ingesting the notice article keeps one notice, and its reasons.
        ingest_paths([FIXTURES / "xss-retraction.xml"], store, classifier="cues")
        assert [(n.reasons, n.source_id) for n in store.notices(cited.id)] == [(why, "900077")]
        assert [n.reasons for n in store.notices(store.get_work(RETRACTED).id)] == [  # type: ignore[union-attr]
            ("Falsification/Fabrication of Data", "Investigation by Journal/Publisher")]
    finally:
        store.close()


def test_crossref_update_to_and_updated_by_record_notices(store_url: str, tmp_path: Path) -> None:
    lines = tmp_path / "crossref.jsonl"
    lines.write_text("\n".join(json.dumps(x) for x in [
        # A notice's message: the works it updates; an addendum is no editorial notice.
        {"message": {"DOI": "10.5555/cr.notice.1", "type": "journal-article", "title": ["Expression of concern"],
                     "update-to": [{"DOI": "10.5555/cr.target.1", "type": "expression_of_concern",
                                    "updated": {"date-parts": [[2021, 2, 3]]}},
                                   {"DOI": "10.5555/cr.target.1", "type": "addendum"},
                                   {"DOI": "no doi here", "type": "retraction"}]}},
        # An updated work's own message: its notices (Crossref adds Retraction Watch's here).
        {"DOI": "10.5555/cr.target.2", "title": ["Retracted work"],
         "updated-by": [{"DOI": "10.5555/cr.notice.2", "type": "retraction", "source": "retraction-watch",
                         "updated": {"date-parts": [[2023, 1]]}}]},
    ]), encoding="utf-8")
    store = open_store(store_url)
    try:
        summary = ingest_paths([lines], store)
        assert summary.metadata_records == 2 and summary.notices_added == 2
        assert [f.problem for f in summary.failed] == ["line 1: update-to[2] DOI 'no doi here' is not a DOI"]
        first = store.get_work("10.5555/cr.target.1")
        assert first is not None and [(n.kind, n.doi, n.date) for n in first.notices] == [
            ("expression-of-concern", "10.5555/cr.notice.1", "2021-02-03")]
        second = store.get_work("10.5555/cr.target.2")
        assert second is not None and second.retracted and second.notices[0].date == "2023-01"
        assert ingest_paths([lines], store).notices_added == 0
    finally:
        store.close()


def test_hostile_csvs_name_file_and_row_and_the_batch_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    not_rw = tmp_path / "people.csv"
    not_rw.write_text("name,email\nx,y\n")
    missing = tmp_path / "missing.csv"
    missing.write_text(rw_csv([row("10.5555/m.1")], columns=("Record ID", "Title", "OriginalPaperDOI",
                                                             "RetractionDate")))
    huge = tmp_path / "huge.csv"
    huge.write_bytes(rw_csv([row("10.5555/h.1")]).encode() + b'2,"' + b"x" * 1_100_000 + b'"\n'
                     + rw_csv([row("10.5555/h.3", rid="3")]).split("\n", 1)[1].encode())
    bad = tmp_path / "bad.csv"
    bad.write_text(rw_csv([row("10.5555/b.1", date="yesterday", notice="nope"), row("", pmid="abc")]))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    store = open_store(db)
    try:
        summary = ingest_paths([not_rw, missing, huge, bad, empty], store)
    finally:
        store.close()
    problems = {(Path(f.source).name, f.problem) for f in summary.failed}
    text = "\n".join(f"{s}: {p}" for s, p in sorted(problems))
    repaired = "\n".join(summary.notes)
    assert "people.csv: a CSV file, but not the Retraction Watch database" in text
    assert "missing.csv: Retraction Watch CSV without the column RetractionNature" in text
    assert "huge.csv: row 2 (line 3): longer than 1,048,576 bytes; skipped" in text
    # Stored without the bad values: warnings (notes), not failures.
    assert "bad.csv: row 1 (Record ID '1'): RetractionDate 'yesterday' is not a date (stored undated)" in repaired
    assert "bad.csv: row 1 (Record ID '1'): RetractionDOI 'nope' is not a DOI (stored without it)" in repaired
    assert "stored undated" not in text and summary.warnings == 2
    assert "bad.csv: row 2 (Record ID '1'): no usable OriginalPaperDOI or OriginalPaperPubMedID" in text
    assert "empty.csv: empty file" in text
    assert summary.notices_added == 3  # h.1, h.3 (after the long row), b.1


# ------------------------------------------------------------------------------------------------ where it shows
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201
    db: Path | str = request.getfixturevalue("pg_url") if request.param == "postgres" else tmp_path / "i.db"
    build_index(db)
    with TestClient(create_app(db, settings())) as c:
        c.db_path = db  # type: ignore[attr-defined]
        yield c


def test_notices_show_on_page_api_badge_check_and_alerts(client: TestClient, tmp_path: Path) -> None:
    db = client.db_path  # type: ignore[attr-defined]
    auth = {"Authorization": "Bearer api-secret"}
    made = client.post("/api/collections", headers=auth,
                       json={"name": "Watched", "dois": [RETRACTED, REINSTATED, CONCERN]})
    assert made.status_code in (200, 201), made.text
    cid = made.json()["id"]
    store = open_store(db)
    try:
        assert ingest_paths([RW], store).notices_added == 8
    finally:
        store.close()
    page = client.get(f"/reports/{RETRACTED}").text
    assert 'class="notice notice-retraction"' in page and "Retracted.</strong>" in page and "(2015-03-04)" in page
    reinstated_page = client.get(f"/reports/{REINSTATED}").text
    assert "Reinstated.</strong>" in reinstated_page and "(2018-05-20)" in reinstated_page
    paper = client.get(f"/api/papers/{RETRACTED}").json()
    assert paper["retracted"] is True
    assert paper["editorialNotices"] == [{"status": "Retracted", "type": "retraction", "doi": "10.5555/rw.notice.1",
                                          "title": "", "date": "2015-03-04", "reasons": [
                                              "Falsification/Fabrication of Data",
                                              "Investigation by Journal/Publisher"]}]
    assert ("Reasons given (Retraction Watch record 900001): Falsification/Fabrication of Data; Investigation by"
            " Journal/Publisher.") in page
    lifted = client.get(f"/api/papers/{REINSTATED}").json()
    assert lifted["retracted"] is False and [n["status"] for n in lifted["editorialNotices"]] == ["Retracted",
                                                                                                  "Reinstated"]
    assert "retracted" in client.get("/badge.svg", params={"doi": RETRACTED}).text
    assert "retracted" not in client.get("/badge.svg", params={"doi": REINSTATED}).text
    alerts = client.get(f"/api/collections/{cid}/alerts", params={"since": "2000-01-01"}).json()["alerts"]
    notices = sorted((a["notice"]["type"], a["notice"]["date"]) for a in alerts if a["kind"] == "notice")
    assert notices == [("expression-of-concern", "2020-06-01"), ("reinstatement", "2018-05-20"),
                       ("retraction", "2015-03-04"), ("retraction", "2016-01-10")]
    refs = tmp_path / "refs.txt"
    refs.write_text(f"Example A. Synthetic study. 2012. doi:{RETRACTED}\n"
                    f"Example B. Synthetic paper. 2014. doi:{REINSTATED}\n")
    result = CliRunner().invoke(main, ["check", str(refs), "--db", str(db), "--json"])
    assert result.exit_code in (0, 1), result.output
    checked = json.loads(result.output)
    rows = checked["references"] if isinstance(checked, dict) else checked
    assert rows[0]["retracted"] is True and "This work has been retracted." in rows[0]["warnings"]
    assert rows[1]["retracted"] is False and "This work was retracted and later reinstated." in rows[1]["warnings"]


def test_an_index_from_before_notice_reasons_reads_and_upgrades(tmp_path: Path) -> None:
    """Schema 13 added `reasons` and `source_id` to notices: a schema-12 index opened read-only (serve) still lists
    its notices, without reasons; opened to write, it is upgraded and keeps every notice."""
    import sqlite3

    from citelens.store.migrations import migration_version

    db = tmp_path / "old.db"
    store = open_store(db)
    ingest_paths([FIXTURES / "xss-article.xml", FIXTURES / "xss-retraction.xml"], store, classifier="cues")
    store.close()
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE notices DROP COLUMN reasons")
    conn.execute("ALTER TABLE notices DROP COLUMN source_id")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                 (str(migration_version("sqlite", "notice_reasons") - 1),))
    conn.commit()
    conn.close()
    old = open_store(db, readonly=True)
    cited = old.get_work(CITED)
    assert cited is not None and [(n.kind, n.reasons) for n in old.notices(cited.id)] == [("retraction", ())]
    old.close()
    upgraded = open_store(db)
    assert upgraded.schema_version >= migration_version("sqlite", "notice_reasons")
    assert [n.kind for n in upgraded.notices(cited.id)] == ["retraction"]
    upgraded.close()


def test_rows_naming_one_work_in_one_file_find_it_on_every_backend(store_url: str, tmp_path: Path) -> None:
    """The works a file's rows name are looked up together (one query per chunk of rows): a work an earlier row
    of the same file created is found by a later row, by DOI or by PubMed id, and a PubMed id does not pull in
    a row whose DOI is another work's."""
    csv_path = tmp_path / "rw-same-work.csv"
    csv_path.write_text(rw_csv([
        row("10.5555/rw.twice.1", rid="1", pmid="88880001", notice="10.5555/rw.twice.n1"),
        row("10.5555/rw.twice.1", "Expression of concern", "2014-01-02", rid="2"),
        row("", "Correction", "2016-05-06", rid="3", pmid="88880001"),
        row("10.5555/rw.other.4", rid="4", pmid="88880001"),
    ]), encoding="utf-8")
    store = open_store(store_url)
    try:
        summary = ingest_paths([csv_path], store)
        assert (summary.notices_added, summary.failed) == (4, [])
        first = store.find_work_by_identifier("doi", "10.5555/rw.twice.1")
        assert first is not None and store.find_work_by_identifier("pmid", "88880001") == first
        assert [n.kind for n in store.notices(first)] == ["retraction", "expression-of-concern", "correction"]
        other = store.find_work_by_identifier("doi", "10.5555/rw.other.4")
        assert other is not None and other != first
        assert [n.kind for n in store.notices(other)] == ["retraction"]
        assert (ingest_paths([csv_path], store).notices_unchanged) == 4
    finally:
        store.close()
