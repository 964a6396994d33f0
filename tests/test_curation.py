"""`citelens correct`: a curator's labels from the command line, one statement or a spreadsheet of them
(`citelens.curation`), through the store call the statement page and the API use."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from citelens.cli import main
from citelens.curation import LabelFileError, apply_labels, parse_type, read_label_rows
from citelens.pipeline import ingest_paths
from citelens.store import open_store
from test_web import FIXTURES


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), input=input)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "index.db")
    store = open_store(path)
    ingest_paths([FIXTURES / "xss-article.xml", FIXTURES / "mini-jats.xml"], store, classifier="cues")
    store.close()
    return path


def exported(db: str, tmp_path: Path) -> list[dict[str, str]]:
    out = tmp_path / "statements.csv"
    code, _, err = run("export", "--db", db, "-o", str(out))
    assert code == 0, err
    return list(csv.DictReader(out.open(encoding="utf-8", newline="")))


def write_labels(path: Path, rows: list[dict[str, str]], **extra: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[*rows[0].keys(), "corrected_type", "note"])
        w.writeheader()
        for r in rows:
            w.writerow({"corrected_type": "", "note": "", **r})
    return path


@pytest.mark.parametrize(("typed", "stored"), [("Supporting", "supporting"), (" contrast ", "contrasting"),
                                               ("contradicting", "contrasting"), ("mention", "mentioning"),
                                               ("maybe", None), ("", None)])
def test_types_as_curators_write_them(typed: str, stored: str | None) -> None:
    assert parse_type(typed) == stored


def test_a_labels_file_is_read_row_by_row_and_bad_rows_are_named() -> None:
    text = ("statement_id\tcorrected_type\tcurator\tnote\n"
            "1\tsupporting\t\tuses their method\n"
            "2\t\t\t\n"
            "x7\tsupporting\t\t\n"
            "3\tperhaps\t\t\n"
            "1\tcontrasting\tbob\t\n"
            "4\tContrast\tbob\tdisagrees\n")
    rows, out = read_label_rows(text.encode(), "labels.tsv", "alice")
    assert [(r.row, r.statement_id, r.stance, r.curator, r.note) for r in rows] == [
        (2, 1, "supporting", "alice", "uses their method"), (7, 4, "contrasting", "bob", "disagrees")]
    assert out.blank == 1
    assert [(p["row"], p["problem"]) for p in out.refused] == [
        (4, "statement_id 'x7' is not a statement id"),
        (5, "corrected_type 'perhaps' is not one of supporting, contrasting, mentioning"),
        (6, "statement 1 is labelled on row 2 already")]


@pytest.mark.parametrize(("data", "problem"), [
    (b"statement_id,type\n1,supporting\n", "no corrected_type column"),
    (b"id,corrected_type\n1,supporting\n", "no statement_id column"),
    (b"", "no statement_id and corrected_type column"),
    (b"\x00\x01PK\x03\x04", "not a CSV file"),
])
def test_a_file_that_is_not_a_labels_file_is_refused_by_name(data: bytes, problem: str) -> None:
    with pytest.raises(LabelFileError, match=f"^labels.csv: {problem}"):
        read_label_rows(data, "labels.csv", "alice")


def test_a_spreadsheet_saved_in_its_local_encoding_still_matches(db: str, tmp_path: Path) -> None:
    """Excel on Windows saves "CSV" in cp1252: the file is read, and the sentence check ignores what the
    re-encoding changed."""
    row = exported(db, tmp_path)[0]
    text = f"statement_id,sentence,corrected_type\n{row['statement_id']},\"{row['sentence']} é\",supporting\n"
    rows, out = read_label_rows(text.encode("cp1252", errors="replace"), "labels.csv", "alice")
    store = open_store(db)
    done = apply_labels(store, rows, out)
    store.close()
    assert len(done.applied) == 1 and not done.refused


@pytest.mark.parametrize("excel", [True, False])
def test_an_export_for_excel_comes_back_with_or_without_its_byte_order_mark(db: str, tmp_path: Path,
                                                                            excel: bool) -> None:
    """`export --excel` starts with a byte-order mark (Excel reads names as UTF-8), which Excel's "CSV UTF-8" keeps
    on saving and other tools drop: `correct --from` reads both (the mark in the first column's name made it "no
    statement_id column")."""
    out = tmp_path / "statements.csv"
    code, _, err = run("export", "--db", db, "--excel", "-o", str(out))
    data = out.read_bytes()
    assert code == 0 and data.startswith(b"\xef\xbb\xbfstatement_id,"), err
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    labels = write_labels(tmp_path / "labels.csv", [{**rows[0], "corrected_type": "contrasting", "note": "Müller"}])
    if excel:
        labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes())
    code, out_, err = run("correct", "--from", str(labels), "--curator", "alice", "--db", db, "--json")
    assert code == 0 and json.loads(out_)["applied"] == 1, err
    store = open_store(db)
    assert [(c.stance, c.note) for c in store.corrections_of(int(rows[0]["statement_id"]))] == [
        ("contrasting", "Müller")]
    store.close()


def test_the_export_loop_applies_once_and_refuses_stale_rows(db: str, tmp_path: Path) -> None:
    """export → fill corrected_type → correct --from: only filled rows count (the export's own `type` is the
    model's); a second run stores nothing twice; a row whose id now names another sentence is refused."""
    rows = exported(db, tmp_path)[:6]
    first, second, third = rows[0], rows[1], rows[2]
    first = {**first, "corrected_type": "contrasting", "note": "they disagree"}
    second = {**second, "corrected_type": second["type"]}  # the model was right: checked
    third = {**third, "corrected_type": "supporting", "sentence": "A sentence the index never held."}
    labels = write_labels(tmp_path / "labels.csv", [first, second, third, *rows[3:]])

    code, out, _ = run("correct", "--from", str(labels), "--curator", "alice", "--db", db, "--dry-run", "--json")
    assert code == 1
    body = json.loads(out)
    assert (body["dry_run"], body["applied"], body["unchanged"], body["refused"], body["blank"]) == (
        True, 2, 0, 1, 3)
    assert "another sentence now" in body["problems"][0]["problem"] and body["problems"][0]["row"] == 4
    store = open_store(db)
    assert store.stats().corrections == 0  # a dry run stores nothing
    store.close()

    code, out, err = run("correct", "--from", str(labels), "--curator", "alice", "--db", db)
    assert code == 1 and "2 labels applied, 0 already so, 1 refused, 3 rows without a corrected_type" in out
    assert "row 4: statement" in err
    code, out, _ = run("correct", "--from", str(labels), "--curator", "alice", "--db", db, "--json")
    assert json.loads(out)["unchanged"] == 2 and json.loads(out)["applied"] == 0
    store = open_store(db)
    st = store.get_statement(int(first["statement_id"]))
    history = store.corrections_of(int(first["statement_id"]))
    assert st and (st.type, st.corrected_by) == ("contrasting", "alice")
    assert [(c.stance, c.curator, c.note) for c in history] == [("contrasting", "alice", "they disagree")]
    assert store.stats().corrections == 2  # each label once, however often the file is applied
    store.close()

    plain = tmp_path / "statements.csv"  # the export as it is: no corrected_type column, nothing changes
    code, _, err = run("correct", "--from", str(plain), "--db", db)
    assert code == 2 and "no corrected_type column" in err


def test_one_statement_from_the_command_line(db: str) -> None:
    code, out, _ = run("correct", "1", "Contrast", "--curator", "alice", "--note", "see Fig. 2", "--db", db, "--json")
    assert code == 0, out
    body = json.loads(out)  # the shape of POST /api/statements/{id}/correction's answer
    assert (body["id"], body["type"], body["corrected_by"], body["confidence"]) == (1, "contrasting", "alice", 1.0)
    code, out, _ = run("correct", "1", "contrasting", "--curator", "alice", "--db", db)
    assert code == 0 and "already; nothing changed" in out
    assert run("correct", "999999", "mentioning", "--db", db)[0] == 3
    assert run("correct", "1", "perhaps", "--db", db)[0] == 2
    assert run("correct", "1", "--db", db)[0] == 2
    assert run("correct", "1", "supporting", "--from", "x.csv", "--db", db)[0] == 2
    code, out, _ = run("correct", "--from", "-", "--curator", "bob", "--db", db, "--json",
                       input="statement_id,corrected_type\n1,supporting\n")
    assert code == 0 and json.loads(out)["corrections"][0] == {
        "row": 2, "statement_id": 1, "from": "contrasting", "type": "supporting",
        "model_type": json.loads(out)["corrections"][0]["model_type"], "curator": "bob"}


def test_standard_input_and_a_missing_file(db: str) -> None:
    code, _, err = run("correct", "--from", "no-such.csv", "--db", db)
    assert code == 2 and "no-such.csv: no such file" in err
    text = io.StringIO()
    w = csv.writer(text)
    w.writerows([["statement_id", "corrected_type"], ["2", "mentioning"]])
    code, out, _ = run("correct", "--from", "-", "--db", db, input=text.getvalue())
    assert code == 0 and out.startswith("standard input: 1 label applied")


def test_a_files_rows_take_the_note_and_a_folder_is_named(db: str, tmp_path: Path) -> None:
    """`correct --from FILE --note "why"` took --note and dropped it: the history said nothing of the batch's
    reason. It is the note of the rows that leave theirs empty (a row's own note wins), as --curator is the
    curator of the rows without one. A folder given to --from was "no such file"; it is named as a folder."""
    labels = tmp_path / "labels.csv"
    labels.write_text("statement_id,corrected_type,note\n1,contrasting,\n2,mentioning,its own reason\n",
                      encoding="utf-8")
    code, _, err = run("correct", "--from", str(labels), "--note", "panel review 2026-12", "--db", db)
    assert code == 0, err
    _, out, _ = run("export", "--corrections", "--db", db)
    notes = {r["statement_id"]: r["note"] for r in map(json.loads, out.splitlines())}
    assert notes == {1: "panel review 2026-12", 2: "its own reason"}
    code, _, err = run("correct", "--from", str(tmp_path), "--db", db)
    assert code == 2 and "is a folder" in err and "no such file" not in err
