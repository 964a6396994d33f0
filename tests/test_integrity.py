"""What a research-integrity team and a curator rely on: a retracted work's citations dated against its retraction
(report page, statement page, a citing paper's reference list), the correction history of a statement (page and
API, kept across a re-ingest), and index figures that say what they count."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import main
from citelens.pipeline import ingest_paths
from citelens.rules import cited_after_retraction, retraction_year
from citelens.store import open_store
from citelens.store.records import Notice
from citelens.web.app import create_app
from test_web import CITED, FIXTURES, build_index, csrf, settings, sign_in

LATER_DOI = "10.9999/later.2023.1"  # cites the retracted CITED a year after its retraction (2022)
SAME_YEAR_DOI = "10.9999/same.2022.1"  # cites it in the retraction's year


def citing_article(tmp: Path, doi: str, year: int) -> Path:
    """The fixture article that cites CITED by DOI, published as ``doi`` in ``year``."""
    text = (FIXTURES / "xss-article.xml").read_text(encoding="utf-8")
    text = text.replace("10.9999/xss.2024.1", doi).replace("<year>2021</year>", f"<year>{year}</year>")
    path = tmp / f"{doi.rsplit('/', 1)[1]}.xml"
    path.write_text(text, encoding="utf-8")
    return path


def build(path: Path | str, tmp: Path) -> Path | str:
    build_index(path)
    store = open_store(path)
    summary = ingest_paths([citing_article(tmp, LATER_DOI, 2023), citing_article(tmp, SAME_YEAR_DOI, 2022)], store,
                           classifier="cues")
    store.close()
    assert summary.stored == 2, summary.failed
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    db: Path | str = request.getfixturevalue("pg_url") if request.param == "postgres" else tmp_path / "i.db"
    build(db, tmp_path)
    with TestClient(create_app(db, settings())) as c:
        c.db_path = db  # type: ignore[attr-defined]
        yield c


def test_retraction_rules() -> None:
    assert retraction_year([Notice(kind="correction", date="2001"), Notice(kind="retraction", date="2015-03-04"),
                            {"kind": "retraction", "date": "2016"}]) == 2015
    assert retraction_year([Notice(kind="retraction", date="")]) is None
    assert retraction_year([{"kind": "expression-of-concern", "date": "2020"}]) is None
    assert cited_after_retraction(2016, 2015) == "after"
    assert cited_after_retraction(2015, 2015) == "same-year"
    assert cited_after_retraction(2014, 2015) == "before"
    assert cited_after_retraction(None, 2015) is None and cited_after_retraction(2016, None) is None


def test_report_dates_citations_against_the_retraction(client: TestClient) -> None:
    """The report page of a retracted work showed the notice and the citing statements with no word of which came
    after it: the question a research-integrity team asks first. Now the banner counts them (linked through the
    year filter) and each card of a later paper says "cited after the retraction"."""
    html = client.get(f"/reports/{CITED}").text
    banner = re.search(r'<p class="notice notice-retraction" id="since-retraction">(.*?)</p>', html, re.S)
    assert banner, html
    assert "5 citation statements</a> come from papers published after the retraction (2022)" in banner.group(1)
    assert "year_from=2023" in banner.group(1)
    assert ">5</a> from papers of 2022 itself" in banner.group(1) and "year_to=2022" in banner.group(1)
    assert html.count("cited after the retraction (2022)") >= 1
    later = client.get(f"/reports/{CITED}?year_from=2023").text
    assert later.count('class="card stmt') == 5 and later.count("cited after the retraction (2022)") == 5
    before = client.get(f"/reports/{CITED}?year_to=2021").text
    assert "cited after the retraction" not in before.split('id="stmts-h"')[1]
    assert "cited in the year of the retraction" not in before.split('id="stmts-h"')[1]
    # A work that is not retracted gets neither.
    other = client.get("/reports/10.9999/JTB.2020.001").text
    assert "since-retraction" not in other and "after the retraction" not in other


def test_reference_list_and_statement_page_flag_a_retracted_cited_work(client: TestClient) -> None:
    """A citing paper's References tab listed the retracted work like any other; the statement page named the cited
    work without its notice."""
    refs = client.get(f"/reports/{LATER_DOI}?tab=references").text
    assert "Retracted (2022)" in refs and "cited after the retraction (2022)" in refs
    early = client.get("/reports/10.9999/xss.2024.1?tab=references").text
    assert "Retracted (2022)" in early and "cited after the retraction" not in early
    store = open_store(client.db_path)  # type: ignore[attr-defined]
    work = store.get_work(LATER_DOI)
    cited = store.get_work(CITED)
    assert work and cited
    sid = next(s.id for s in store.citations(cited.id, limit=100)[1] if s.citing_work_id == work.id)
    store.close()
    page = client.get(f"/statements/{sid}").text
    assert "Retracted (2022)" in page and "cited after the retraction (2022)" in page


def test_correction_history_is_shown_and_survives_a_reingest(client: TestClient, tmp_path: Path) -> None:
    """The statement page said only "corrected by alice on …" for the last correction: an earlier label, who set
    it and the notes were nowhere but in the database. Now the page and GET /api/statements/{id}/corrections give
    every correction, oldest first, and still do after the article is re-ingested (the statement's id changes)."""
    store = open_store(client.db_path)  # type: ignore[attr-defined]
    cited = store.get_work(CITED)
    assert cited
    xss = store.get_work("10.9999/xss.2024.1")
    assert xss
    st = next(s for s in store.citations(cited.id, section="methods", limit=100)[1] if s.citing_work_id == xss.id)
    store.close()
    assert "Correction history" not in client.get(f"/statements/{st.id}").text
    assert client.get(f"/api/statements/{st.id}/corrections").json() == {"statement_id": st.id, "corrections": []}
    assert sign_in(client) == 303
    for stance, note in (("supporting", "uses their method"), ("contrasting", "<b>second</b> thoughts")):
        tok = csrf(client.get(f"/statements/{st.id}").text)
        r = client.post(f"/statements/{st.id}/correct", data={"csrf_token": tok, "type": stance, "note": note},
                        follow_redirects=False)
        assert r.status_code == 303
    page = client.get(f"/statements/{st.id}").text
    hist = page.split('id="hist-h"')[1]
    assert hist.index("Mentioning → Supporting") < hist.index("Supporting → Contrasting")
    assert "uses their method" in hist and "&lt;b&gt;second&lt;/b&gt; thoughts" in hist and "<b>second" not in hist
    assert hist.count("<td>alice</td>") == 2
    body = client.get(f"/api/statements/{st.id}/corrections").json()
    assert [(c["old_stance"], c["stance"], c["curator"]) for c in body["corrections"]] == [
        ("mentioning", "supporting", "alice"), ("supporting", "contrasting", "alice")]
    assert all(c["created_at"] for c in body["corrections"])
    assert client.get("/api/statements/999999/corrections").status_code == 404
    # Re-ingest the citing article: its statements get new ids; the correction and its history follow.
    store = open_store(client.db_path)  # type: ignore[attr-defined]
    again_file = tmp_path / "xss-article-v2.xml"  # a new version of the same article (same DOI)
    again_file.write_text((FIXTURES / "xss-article.xml").read_text(encoding="utf-8") + "<!-- v2 -->\n",
                          encoding="utf-8")
    assert ingest_paths([again_file], store, classifier="cues").stored == 1
    new = next(s for s in store.citations(cited.id, section="methods", limit=100)[1] if s.sentence == st.sentence
               and s.citing_work_id == st.citing_work_id)
    store.close()
    assert new.id != st.id and new.type == "contrasting" and new.corrected_by == "alice"
    again = client.get(f"/api/statements/{new.id}/corrections").json()["corrections"]
    assert [c["stance"] for c in again] == ["supporting", "contrasting"]


def test_stats_count_corrected_statements_once(tmp_path: Path) -> None:
    """`citelens stats` (and the home page) gave `corrections` — correction records — as the only figure, so a
    statement corrected twice counted twice. `statements_corrected` counts statements; both are kept."""
    db = tmp_path / "i.db"
    build_index(db)
    store = open_store(db)
    store.correct_statement(1, "supporting", "alice", "")
    store.correct_statement(1, "contrasting", "bob", "")
    store.correct_statement(2, "supporting", "alice", "")
    store.close()
    out = CliRunner().invoke(main, ["stats", "--db", str(db), "--json"], catch_exceptions=False).output
    s = json.loads(out)
    assert s["corrections"] == 3 and s["statements_corrected"] == 2
    with TestClient(create_app(db, settings())) as c:
        home = c.get("/").text
    item = re.search(r'<li id="stat-corrected">(.*?)</li>', home, re.S)
    assert item and re.sub(r"<[^>]+>", "", item.group(1)) == "2 statements corrected by curators (3 corrections in all)"


def test_paper_search_flags_every_notice_and_joins_the_meta_line(client: TestClient, tmp_path: Path) -> None:
    """Paper search results and the home page's most cited works flagged a retraction only: a correction or an
    expression of concern was not shown. A work known only from references had a meta line starting " · "."""
    notice = (FIXTURES / "xss-retraction.xml").read_text(encoding="utf-8")
    notice = (notice.replace('article-type="retraction"', 'article-type="expression-of-concern"')
              .replace("retracted-article", "object-of-concern").replace("10.9999/notice.2022.7", "10.9999/eoc.1")
              .replace("10.9999/cited.2001.1", "10.1128/JB.187.1.55"))
    (tmp_path / "eoc.xml").write_text(notice, encoding="utf-8")
    store = open_store(client.db_path)  # type: ignore[attr-defined]
    assert ingest_paths([tmp_path / "eoc.xml"], store, classifier="cues").stored == 1
    assert [n.kind for n in store.notices(store.get_work("10.1128/JB.187.1.55").id)] == [  # type: ignore[union-attr]
        "expression-of-concern"]
    store.close()
    html = client.get("/search", params={"kind": "papers", "q": "10.1128/JB.187.1.55"}).text
    assert 'class="flag notice-expression-of-concern">Expression of concern (2022)' in html
    html = client.get("/search", params={"kind": "papers", "q": CITED}).text
    assert 'class="flag notice-retraction">Retracted (2022)' in html
    metas = re.findall(r'<p class="meta byline">(.*?)</p>', html, re.S)  # byline: a text line, not flex items
    assert metas and not any(m.strip().startswith("·") for m in metas), metas
    # The hostile journal title of the citing copies stays text in the joined meta line.
    html = client.get("/search", params={"kind": "papers", "q": LATER_DOI}).text
    assert "<em>Journal of &lt;b&gt;Hostile&lt;/b&gt; Input</em>" in html and "<b>Hostile" not in html


def test_a_kept_label_is_checked_and_a_changed_one_names_the_model(client: TestClient) -> None:
    """A curator who read a statement and kept the model's label was shown as "corrected by alice", as if the model
    had been wrong. Now that is "checked by alice"; a changed label says "corrected by alice (model: …)"."""
    store = open_store(client.db_path)  # type: ignore[attr-defined]
    cited = store.get_work(CITED)
    assert cited
    first, second = store.citations(cited.id, limit=2)[1]
    store.close()
    assert sign_in(client) == 303
    for st, stance in ((first, first.model_stance), (second, "contrasting" if second.model_stance != "contrasting"
                                                     else "supporting")):
        tok = csrf(client.get(f"/statements/{st.id}").text)
        r = client.post(f"/statements/{st.id}/correct", data={"csrf_token": tok, "type": stance or "mentioning"},
                        follow_redirects=False)
        assert r.status_code == 303
    kept = re.sub(r"<[^>]+>", "", client.get(f"/statements/{first.id}").text)
    changed = re.sub(r"<[^>]+>", "", client.get(f"/statements/{second.id}").text)
    assert "checked by alice" in kept and "corrected by alice" not in kept
    assert f"corrected by alice (model: {second.model_stance or 'unclassified'})" in changed
    assert "checked by alice" not in changed


@pytest.mark.parametrize(("confidence", "shown"), [(0.9951, ">99%"), (1.0, ">99%"), (0.994, "99%"), (0.654, "65%"),
                                                   (0.0, "0%")])
def test_a_model_is_never_shown_100_percent_sure(confidence: float, shown: str) -> None:
    from citelens.web.render import sure_percent

    assert sure_percent(confidence) == shown


def test_cards_say_who_set_a_curated_label_not_how_sure_the_model_was(client: TestClient) -> None:
    """A third of the demo's cards read "100% sure" (the cascade's clear mentioning ones), and a curator's label
    showed the confidence 1.0 it is stored with as "100% sure", as if the model had said so."""
    store = open_store(client.db_path)  # type: ignore[attr-defined]
    cited = store.get_work(CITED)
    assert cited
    st = store.citations(cited.id, limit=1)[1][0]
    store.close()
    assert "100% sure" not in client.get(f"/reports/{CITED}").text
    assert sign_in(client) == 303
    tok = csrf(client.get(f"/statements/{st.id}").text)
    client.post(f"/statements/{st.id}/correct", data={"csrf_token": tok, "type": "supporting"})
    card = client.get(f"/statements/{st.id}").text.split('<dt>Label</dt>')[1].split("</dd>")[0]
    assert "% sure" not in card and "by alice" in card


def test_a_papers_reference_list_in_the_api_and_the_cli(client: TestClient) -> None:
    """The References tab had no JSON and no command: an editor's system or a script could not ask which works a
    paper cites, how each was matched, and which of them are retracted. GET /api/references/{doi} and
    `citelens report --references` give the tab's list, through the same function, in one shape."""
    body = client.get(f"/api/references/{LATER_DOI}").json()
    assert (body["doi"], body["year"], body["full_text"]) == (LATER_DOI, 2023, True)
    assert body["total"] == len(body["references"]) > 1
    assert [r["position"] for r in body["references"]] == list(range(1, body["total"] + 1))
    retracted = [r for r in body["references"] if r["retracted"]]
    assert [(r["matched_doi"], r["retracted_in"], r["cited_after_retraction"]) for r in retracted] == [
        (CITED, 2022, "after")]
    assert retracted[0]["notices"][0]["status"] == "Retracted" and retracted[0]["total"] >= 1
    same_year = client.get(f"/api/references/{SAME_YEAR_DOI}").json()
    assert [r["cited_after_retraction"] for r in same_year["references"] if r["retracted"]] == ["same-year"]
    cited_only = client.get(f"/api/references/{CITED}").json()
    assert (cited_only["full_text"], cited_only["total"], cited_only["references"]) == (False, 0, [])
    assert client.get("/api/references/10.5555/not-here").status_code == 404
    assert client.get(f"/api/references/{LATER_DOI}?min_confidence=2").status_code == 400
    sure = client.get(f"/api/references/{LATER_DOI}?min_confidence=auto").json()
    assert sure["min_confidence"] is not None and sure["total"] == body["total"]

    result = CliRunner().invoke(main, ["report", LATER_DOI, "--references", "--db", str(client.db_path),  # type: ignore[attr-defined]
                                       "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    result = CliRunner().invoke(main, ["report", LATER_DOI, "--references", "--db", str(client.db_path)])  # type: ignore[attr-defined]
    assert result.exit_code == 0 and "Retracted" in result.stdout and "cited after the retraction" in result.stdout
    # The list ends with what an editor scans it for, counted.
    assert re.search(r"\n\d+ references: \d+ matched to a work, 1 with an editorial notice, 1 retracted \(1 cited"
                     r" after the retraction\)\.\n$", result.stdout), result.stdout[-300:]
    result = CliRunner().invoke(main, ["report", LATER_DOI, "--references", "--type", "supporting",
                                       "--db", str(client.db_path)])  # type: ignore[attr-defined]
    assert result.exit_code == 2 and "do not apply" in result.output


@pytest.mark.parametrize(("title", "says"), [
    ("Retracted: Screening of candidate genes", True), ("RETRACTED ARTICLE: Growth arrest", True),
    ("[Retracted] Colony patterns", True), ("WITHDRAWN: Antibiotics for otitis", True),
    ("Retraction: Colony patterns", False), ("Retraction note to: Colony patterns", False),
    ("Retracted publications in the drug literature", False), ("Withdrawn from market: a review", False),
    ("", False), (None, False)])
def test_a_title_carrying_the_publishers_retraction_mark(title: str | None, says: bool) -> None:
    from citelens.rules import title_says_retracted

    assert title_says_retracted(title) is says


def test_a_reference_whose_title_says_retracted_is_flagged_without_a_notice(tmp_path: Path) -> None:
    """A reference copied from a retracted article's page ("Retracted: …", as PMC6290974 cites 10.1002/ece3.1786)
    passed the reference check and the References tab in silence when the index held no notice for the work."""
    text = (FIXTURES / "mini-jats.xml").read_text(encoding="utf-8").replace(
        "<article-title>Quorum sensing revisited</article-title>",
        "<article-title>Retracted: Quorum sensing revisited</article-title>")
    article = tmp_path / "retracted-ref.xml"
    article.write_text(text, encoding="utf-8")
    db = tmp_path / "i.db"
    store = open_store(db)
    assert ingest_paths([article], store, classifier="cues").stored == 1
    store.close()
    result = CliRunner().invoke(main, ["report", "10.9999/JTB.2020.001", "--references", "--db", str(db), "--json"])
    flagged = [r["position"] for r in json.loads(result.stdout)["references"] if r["title_says_retracted"]]
    assert flagged == [4]
    with TestClient(create_app(db, settings())) as c:
        tab = c.get("/reports/10.9999/JTB.2020.001?tab=references").text
    assert tab.count("Title says “retracted”") == 1
    refs = tmp_path / "refs.txt"
    refs.write_text("Diaz M (2011) Retracted: Quorum sensing revisited. Nature 470: 5.\n"
                    "Chen L (2010) Colony patterns. Cell 140: 20.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(refs), "--db", str(db), "--json"])
    rows = json.loads(result.stdout)["references"]
    warned = "Its title says it was retracted; this index holds no retraction notice for it."
    assert [warned in r["warnings"] for r in rows] == [True, False], rows


def test_export_only_the_citations_of_retracted_work(client: TestClient, tmp_path: Path) -> None:
    """`export --cited-retracted`: an integrity team's file of every statement citing a retracted work, each dated
    against the retraction (cited_after_retraction)."""
    db = str(client.db_path)  # type: ignore[attr-defined]
    out = tmp_path / "retracted.csv"
    result = CliRunner().invoke(main, ["export", "--db", db, "--cited-retracted", "-o", str(out)])
    assert result.exit_code == 0, result.output
    import csv

    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    store = open_store(client.db_path)  # type: ignore[attr-defined]
    cited = store.get_work(CITED)
    assert cited
    total = store.tallies(cited.id).total
    store.close()
    assert len(rows) == total > 0 and {r["cited_doi"] for r in rows} == {CITED}
    assert {r["cited_after_retraction"] for r in rows} >= {"after", "same-year"}
    for bad in (["--corrections"], ["--table", "authors"]):
        assert CliRunner().invoke(main, ["export", "--db", db, "--cited-retracted", *bad]).exit_code == 2
