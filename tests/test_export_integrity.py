"""What a meta-scientist or a research-integrity analyst takes into R, pandas or a spreadsheet: statement exports
that date each citation against its cited work's retraction, a corrections export usable as training data (which
correction is in force, the model's label, the context, the cited work), and statement search results that flag a
retracted cited work everywhere (page, API, CLI), as the report page and paper search do."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import main
from citelens.pipeline import ingest_paths
from citelens.serialize import CORRECTION_EXPORT_FIELDS, EXPORT_FIELDS
from citelens.store import open_store
from test_integrity import LATER_DOI, SAME_YEAR_DOI, client  # noqa: F401 - the fixture, on both backends
from test_web import CITED, FIXTURES, XSS_DOI


def export(db: Path | str, *args: str) -> str:
    out = CliRunner().invoke(main, ["export", "--db", str(db), *args], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    return out.output


def test_statement_export_dates_each_citation_against_the_retraction(client: TestClient) -> None:  # noqa: F811
    """The export had the citing paper's year but nothing about the cited work's notices: "was this cited after
    its retraction?" needed a second table and a join. Now each row says whether the cited work is retracted,
    in which year, whether this citation came after, and every notice; JSON lines and CSV agree."""
    db = client.db_path  # type: ignore[attr-defined]
    rows = [json.loads(line) for line in export(db).splitlines()]
    cited = [r for r in rows if r["cited_doi"] == CITED]
    when = {(r["citing_doi"], r["cited_after_retraction"]) for r in cited}
    assert when == {(XSS_DOI, "before"), (SAME_YEAR_DOI, "same-year"), (LATER_DOI, "after")}
    assert all(r["cited_retracted"] is True and r["cited_retraction_year"] == 2022 and r["cited_year"] == 2001
               and r["cited_notices"] == ["Retracted (2022)"] for r in cited)
    other = next(r for r in rows if r["cited_work_id"] and r["cited_doi"] != CITED)
    assert (other["cited_retracted"], other["cited_retraction_year"], other["cited_after_retraction"],
            other["cited_notices"]) == (False, None, None, [])
    table = list(csv.DictReader(io.StringIO(export(db, "--format", "csv"))))
    assert tuple(table[0]) == EXPORT_FIELDS and EXPORT_FIELDS[-5:] == (
        "cited_year", "cited_retracted", "cited_retraction_year", "cited_after_retraction", "cited_notices")
    by_id = {int(r["statement_id"]): r for r in table}
    for r in cited:
        c = by_id[r["id"]]
        assert (c["cited_year"], c["cited_retracted"], c["cited_retraction_year"], c["cited_after_retraction"],
                c["cited_notices"]) == ("2001", "True", "2022", r["cited_after_retraction"], "Retracted (2022)")
    assert (by_id[other["id"]]["cited_after_retraction"], by_id[other["id"]]["cited_notices"]) == ("", "")


def test_corrections_export_is_training_data(client: TestClient, tmp_path: Path) -> None:  # noqa: F811
    """A statement corrected twice gave two rows with nothing saying which label stands, no model label, no
    context, no citation marker position and no cited work. Now `current` marks the one in force (also after a
    re-ingest gives the statement a new id: `current_statement_id`), and the trainer's fields follow."""
    db = client.db_path  # type: ignore[attr-defined]
    store = open_store(db)
    cited = store.get_work(CITED)
    assert cited
    st = next(s for s in store.citations(cited.id, limit=100)[1] if s.citing_doi == XSS_DOI and s.section == "discussion")
    other = next(s for s in store.citations(cited.id, limit=100)[1] if s.citing_doi == LATER_DOI)
    store.correct_statement(st.id, "supporting", "alice", "uses their method")
    store.correct_statement(st.id, "contrasting", "bob", "second thoughts")
    store.correct_statement(other.id, "supporting", "alice", "")
    store.close()
    rows = [json.loads(line) for line in export(db, "--corrections").splitlines()]
    assert [(r["stance"], r["current"]) for r in rows] == [("supporting", False), ("contrasting", True),
                                                          ("supporting", True)]
    first = rows[0]
    assert tuple(first) == CORRECTION_EXPORT_FIELDS
    assert first["current_statement_id"] == st.id == first["statement_id"]
    assert (first["model_type"], first["model_confidence"]) == (st.model_stance, st.model_confidence)
    assert (first["before"], first["after"], first["callout_start"], first["callout_end"], first["section"]) == (
        st.before, st.after, st.callout_start, st.callout_end, st.section)
    assert first["sentence"][first["callout_start"]:first["callout_end"]] == "[1]"
    assert (first["cited_work_id"], first["cited_doi"], first["citing_doi"]) == (cited.id, CITED, XSS_DOI)
    # A new version of the citing article: its statements get new ids; the corrections follow them.
    store = open_store(db)
    v2 = tmp_path / "xss-article-v2.xml"
    v2.write_text((FIXTURES / "xss-article.xml").read_text(encoding="utf-8") + "<!-- v2 -->\n", encoding="utf-8")
    assert ingest_paths([v2], store, classifier="cues").stored == 1
    assert store.get_statement(st.id) is None
    store.close()
    table = list(csv.DictReader(io.StringIO(export(db, "--corrections", "--format", "csv"))))
    assert tuple(table[0]) == CORRECTION_EXPORT_FIELDS
    assert [(r["statement_id"], r["current"]) for r in table] == [
        (str(st.id), "False"), (str(st.id), "True"), (str(other.id), "True")]
    moved = table[1]["current_statement_id"]
    assert moved and int(moved) != st.id
    store = open_store(db)
    now = store.get_statement(int(moved))
    store.close()
    assert now and now.type == "contrasting" and now.corrected_by == "bob" and now.sentence == st.sentence
    assert table[1]["model_type"] == st.model_stance and table[1]["cited_doi"] == CITED


def test_corrections_export_of_a_statement_gone_from_its_article(tmp_path: Path) -> None:
    """A correction whose sentence the re-ingested article no longer has applies to nothing: not current, and
    its statement fields are empty (they were not guessed from another sentence)."""
    from test_web import build_index

    db = tmp_path / "i.db"
    build_index(db)
    store = open_store(db)
    st = next(s for s in store.iter_statements() if s.citing_doi == XSS_DOI and s.section == "methods")
    store.correct_statement(st.id, "supporting", "alice", "")
    v2 = tmp_path / "xss-article-v2.xml"
    v2.write_text((FIXTURES / "xss-article.xml").read_text(encoding="utf-8")
                  .replace("Cells were grown as described previously", "Cells were grown as described before"),
                  encoding="utf-8")
    assert ingest_paths([v2], store, classifier="cues").stored == 1
    store.close()
    (row,) = [json.loads(line) for line in export(db, "--corrections").splitlines()]
    assert row["statement_id"] == st.id and row["current"] is False and row["current_statement_id"] is None
    assert row["model_type"] is None and row["cited_doi"] is None and row["sentence"] == st.sentence


def test_statement_search_flags_a_retracted_cited_work(client: TestClient) -> None:  # noqa: F811
    """Statement search (page, /api/search, `citelens search`) said nothing of a cited work's retraction, while the
    report page and paper search flag it. Now each cited work carries the notice flags and the citation is dated
    against the retraction, in all three."""
    html = client.get("/search", params={"q": "sentinel counts"}).text
    cards = re.findall(r'<article class="card stmt group".*?</article>', html, re.S)
    assert len(cards) == 3, html
    assert all('<span class="flag notice-retraction">Retracted (2022)</span>' in c for c in cards)
    assert sum("cited after the retraction (2022)" in c for c in cards) == 1
    assert sum("cited in the year of the retraction (2022)" in c for c in cards) == 1
    body = client.get("/api/search", params={"q": "sentinel counts"}).json()
    assert {(r["citing_doi"], r["cited_retracted"], r["cited_after_retraction"]) for r in body["results"]} == {
        (XSS_DOI, True, "before"), (SAME_YEAR_DOI, True, "same-year"), (LATER_DOI, True, "after")}
    assert all(r["cited_notices"] == ["Retracted (2022)"] for r in body["results"])
    db = str(client.db_path)  # type: ignore[attr-defined]
    out = CliRunner().invoke(main, ["search", "sentinel counts", "--db", db, "--json"], catch_exceptions=False)
    assert [r["cited_after_retraction"] for r in json.loads(out.output)["results"]] == [
        r["cited_after_retraction"] for r in body["results"]]
    text = CliRunner().invoke(main, ["search", "sentinel counts", "--db", db], catch_exceptions=False).output
    assert text.count("cited work: Retracted (2022)") == 3
    assert text.count("cited after the retraction") == 1 and text.count("cited in the year of the retraction") == 1
    # A work without notices is not flagged.
    html = client.get("/search", params={"q": "soil"}).text
    assert "Retracted" not in html and "cited_retracted" not in html
    assert all(r["cited_notices"] == [] and r["cited_retracted"] is False
               for r in client.get("/api/search", params={"q": "soil"}).json()["results"])


def test_export_to_a_csv_file_writes_csv(client: TestClient, tmp_path: Path) -> None:  # noqa: F811
    """`citelens export -o statements.csv` (no --format) wrote JSON lines into the .csv file: a spreadsheet showed
    one column of JSON. The file's suffix now picks CSV; --format still decides when given, and JSON lines stay
    the default for stdout and other names."""
    db = str(client.db_path)  # type: ignore[attr-defined]
    runner = CliRunner()
    for name, args, first in (("s.csv", [], "statement_id,citing_doi"), ("S.CSV", [], "statement_id,"),
                              ("a.csv", ["--table", "authors"], "citing_source,doi,position"),
                              ("k.csv", ["--corrections"], "id,statement_id,document_identity"),
                              ("j.csv", ["--format", "jsonl"], "{"), ("s.jsonl", [], "{")):
        out = runner.invoke(main, ["export", "--db", db, "-o", str(tmp_path / name), *args], catch_exceptions=False)
        assert out.exit_code == 0, out.output
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(first), name
        assert ("(CSV, with a header line)" in out.stderr) == first[0].isalpha(), out.stderr
    assert export(db).startswith("{")
