"""correct: a curator's label for citation statements from the command line — one statement, or a spreadsheet of
them (:mod:`citelens.curation`), through the store call the statement page and the API use."""

from __future__ import annotations

import getpass
import sys
from dataclasses import replace
from pathlib import Path

import click

from citelens.cli import EXIT_PARTIAL, EXIT_USAGE, TEXT, console, main
from citelens.cli.options import DB_OPTION, JSON_OPTION, dump_json, exit_not_found, open_index
from citelens.cli.terminal import safe
from citelens.curation import (
    LABEL_COLUMN,
    LabelFileError,
    LabelRow,
    apply_labels,
    iter_problems,
    outcome_json,
    parse_type,
    read_label_rows,
)
from citelens.document import STANCES
from citelens.serialize import statement_json
from citelens.store.base import MAX_ROW_ID

MAX_LABEL_FILE = 256 * 1024 * 1024  # a million exported rows with their sentences fit
PROBLEMS_SHOWN = 20


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return "cli"


def _read(source: str) -> tuple[bytes, str]:
    if source == "-":
        return sys.stdin.buffer.read(MAX_LABEL_FILE + 1), "standard input"
    path = Path(source)
    if path.is_dir():
        raise click.BadParameter(f"{source} is a folder: name the labels file in it", param_hint="--from")
    if not path.is_file():
        raise click.BadParameter(f"{source}: no such file", param_hint="--from")
    if path.stat().st_size > MAX_LABEL_FILE:
        raise click.BadParameter(f"{source}: larger than {MAX_LABEL_FILE // 2**20} MiB", param_hint="--from")
    return path.read_bytes(), source


@main.command()
@click.argument("statement_id", required=False, type=click.IntRange(1, MAX_ROW_ID))
@click.argument("stance", required=False, metavar="[TYPE]", type=TEXT)
@click.option("--from", "source", metavar="FILE",
              help=f"A CSV or tab-separated file with statement_id and {LABEL_COLUMN} columns ('-': standard input),"
                   f" e.g. a `citelens export` file with a {LABEL_COLUMN} column filled where the model is wrong;"
                   " optional columns: curator, note, sentence (checked against the index).")
@click.option("--curator", type=TEXT, default=_login, show_default="your login name",
              help="Who sets the labels (kept with each correction; a file's curator column wins).")
@click.option("--note", type=TEXT, default="",
              help="Why (kept in the correction history; a file's note column wins where a row fills it).")
@click.option("--dry-run", is_flag=True, help="Check every row against the index and store nothing.")
@DB_OPTION
@JSON_OPTION
def correct(statement_id: int | None, stance: str | None, source: str | None, curator: str, note: str,
            dry_run: bool, db: str, as_json: bool) -> None:
    """Set citation statements' types as a curator: one statement (STATEMENT_ID TYPE), or a file of them (--from).

    TYPE is supporting, contrasting or mentioning. The label overrides the model in every tally, page, export and
    API answer at once, is kept with who set it, when and why (the statement page's correction history), survives
    re-ingesting the article, and is exported as training data by `citelens export --corrections`. A row that
    repeats the label its curator already set is left as it is, so a file can be applied twice.

    Exit 0 when every labelled row was applied (or already so), 1 when some were refused (each is named by its
    row; the rest are applied), 2 for a file that cannot be read, 3 when STATEMENT_ID is not in the index.

    Example: citelens correct 123 supporting --curator alice --note "replicates their result" --db index.db
    """
    curator = curator.strip()[:100] or "cli"
    if source is not None:
        if statement_id is not None or stance is not None:
            raise click.UsageError("give either STATEMENT_ID TYPE or --from FILE, not both")
        _correct_from_file(source, curator, note.strip()[:1000], dry_run, db, as_json)
        return
    if statement_id is None or stance is None:
        raise click.UsageError("give STATEMENT_ID TYPE (e.g. `citelens correct 123 supporting`) or --from FILE")
    _correct_one(statement_id, stance, curator, note, dry_run, db, as_json)


def _correct_one(statement_id: int, stance: str, curator: str, note: str, dry_run: bool, db: str,
                 as_json: bool) -> None:
    label = parse_type(stance)
    if label is None:
        raise click.BadParameter(f"{stance!r} is not one of {', '.join(STANCES)}", param_hint="TYPE")
    rows = [LabelRow(1, statement_id, label, curator, note.strip()[:1000], None)]
    store = open_index(db, must_exist=True)
    try:
        before = store.get_statement(statement_id)
        if before is None:
            exit_not_found(as_json, {"statement_id": statement_id}, f"no statement {statement_id} in the index")
        outcome = apply_labels(store, rows, dry_run=dry_run)
        after = store.get_statement(statement_id)
    finally:
        store.close()
    if as_json:
        dump_json({**statement_json(after), "dry_run": dry_run})  # the shape of the API's correction answer
        return
    if outcome.unchanged:
        console().print(f"Statement {statement_id} is {label} by {safe(curator)} already; nothing changed.")
        return
    verb = "would be" if dry_run else "is now"
    kept = " (the model's label, now checked)" if label == before.model_stance else ""
    console().print(f"Statement {statement_id} {verb} {label}{kept}, by {safe(curator)}; it was"
                    f" {before.type or 'unclassified'}.")


def _correct_from_file(source: str, curator: str, note: str, dry_run: bool, db: str, as_json: bool) -> None:
    data, name = _read(source)
    try:
        rows, outcome = read_label_rows(data, name, curator)
    except LabelFileError as exc:
        console(True).print(f"[red]error:[/] {safe(str(exc))}")
        sys.exit(EXIT_USAGE)
    # --note was taken and dropped with --from (a batch's "why" never reached the history): it is the note of the
    # rows that leave theirs empty, as --curator is the curator of the rows without one.
    if note:
        rows = [r if r.note else replace(r, note=note) for r in rows]
    store = open_index(db, must_exist=True)
    try:
        apply_labels(store, rows, outcome, dry_run=dry_run)
    finally:
        store.close()
    if as_json:
        dump_json(outcome_json(outcome, dry_run=dry_run))
    else:
        out = console()
        verb = "would be applied" if dry_run else "applied"
        out.print(f"{name}: {len(outcome.applied)} label{'s' * (len(outcome.applied) != 1)} {verb},"
                  f" {len(outcome.unchanged)} already so, {len(outcome.refused)} refused,"
                  f" {outcome.blank} row{'s' * (outcome.blank != 1)} without a {LABEL_COLUMN}.")
        err = console(True)
        problems = list(iter_problems(outcome))
        for line in problems[:PROBLEMS_SHOWN]:
            err.print(f"[yellow]refused:[/] {safe(line)}")
        if len(problems) > PROBLEMS_SHOWN:
            err.print(f"… and {len(problems) - PROBLEMS_SHOWN} more (--json lists them all)")
    if outcome.refused:
        sys.exit(EXIT_PARTIAL)
