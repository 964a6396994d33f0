"""``citelens check FILE``: the reference check of the web app, on the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from citelens.cli import EXIT_OK, EXIT_USAGE, console, main
from citelens.cli.options import INDEX_PATH
from citelens.cli.terminal import clip, safe


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--db", "db", required=True, envvar="CITELENS_DB", type=INDEX_PATH,
              help="The index: a SQLite file built by `citelens ingest` or a postgresql://USER@HOST/DB URL."
                   " Env: CITELENS_DB.")
@click.option("--json", "as_json", is_flag=True, help="Results as one JSON object on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Results as CSV on stdout (one row per reference).")
@click.option("--excel", is_flag=True,
              help="CSV for Excel: starts with a UTF-8 byte-order mark, without which Excel shows names such as"
                   " Müller garbled (implies --csv).")
def check(file: str, db: str, as_json: bool, as_csv: bool, excel: bool) -> None:
    """Check a manuscript's references against the index: tallies, editorial notices, warnings.

    FILE is a manuscript (PDF, Word .docx) or a reference list (BibTeX, RIS, CSL JSON, JATS XML, or plain
    text with one reference per line) in any common encoding; "-" reads stdin. Nothing is added to the
    index. Exit 0 when the file was checked (warnings or not), 2 when it cannot be read.

    Example: citelens check references.bib --db index.db --csv > checked.csv
    """
    from citelens.check import (
        CheckInputError,
        check_references,
        parse_reference_list,
        results_csv,
        results_json,
    )
    from citelens.cli.options import open_index
    from citelens.errors import InputError
    from citelens.pipeline import MAX_FILE_BYTES, read_regular_file
    from citelens.serialize import notice_json
    from citelens.store import is_postgres_url

    as_csv = as_csv or excel
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv" + (" (--excel is CSV)" if excel else ""))
    err = console(True)
    if not is_postgres_url(db) and not Path(db).exists():  # (a postgresql:// URL was "does not exist" here)
        err.print(f"[red]error:[/] database {safe(db)} does not exist (run `citelens ingest` first)")
        sys.exit(EXIT_USAGE)
    name = "stdin" if file == "-" else file
    try:
        # Only a regular file, and never past the limit: a FIFO or /dev/zero is refused, not read forever.
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1) if file == "-" else read_regular_file(file)
        if len(data) > MAX_FILE_BYTES:
            raise InputError(name, f"more than {MAX_FILE_BYTES:,} bytes")
    except InputError as exc:
        err.print(f"[red]error:[/] {safe(str(exc))}")
        sys.exit(EXIT_USAGE)
    try:
        fmt, refs = parse_reference_list(data, Path(file).name if file != "-" else "")
    except CheckInputError as exc:
        msg = str(exc) if file != "-" else str(exc).replace("the pasted text", "stdin", 1)
        # The message names the file as parse_reference_list was given it (its base name): say it once, as given.
        base = f"{Path(file).name}: "
        if file != "-" and msg.startswith(base):
            msg = msg[len(base):]
        err.print(f"[red]error:[/] {safe(msg if name in msg else f'{name}: {msg}')}")
        sys.exit(EXIT_USAGE)
    store = open_index(db, readonly=True)  # a server that cannot be reached: its reason, exit 4
    try:
        results = check_references(refs, store)
    finally:
        store.close()
    n_warn = sum(1 for r in results if r.warnings)
    n_found = sum(1 for r in results if r.work)
    n_notices = sum(1 for r in results if r.work and r.work.get("notices"))
    if as_json:
        click.echo(results_json(results, fmt))
    elif excel:
        from citelens.spreadsheet import for_excel

        # Bytes: the mark says UTF-8, so the file must be UTF-8 whatever the terminal's encoding.
        click.echo(for_excel(results_csv(results), True).encode("utf-8"), nl=False)
    elif as_csv:
        click.echo(results_csv(results), nl=False)
    else:
        out = console()
        out.print(f"[bold]{len(results)}[/] reference{'' if len(results) == 1 else 's'} read from {safe(name)} ({fmt}): {n_found} found in the index,"
                  f" {n_warn} with warnings, {n_notices} with editorial notices")
        for r in results:
            mark = "[red]![/]" if r.warnings else ("[green]✓[/]" if r.work else "·")
            out.print(f"{mark} {r.index:>3}. {safe(clip(r.raw, 160))}")
            if r.work:
                t = r.tallies or {}
                out.print(f"       {safe(r.work.get('doi') or r.work['id'])}: supporting {t.get('supporting', 0)},"
                          f" contrasting {t.get('contrasting', 0)}, mentioning {t.get('mentioning', 0)}")
            for w in r.warnings:
                out.print(f"       [red]warning:[/] {safe(w)}")
            # A correction is no warning, but an editor must see it as the /check page shows it (it was left out).
            for notice in (r.work or {}).get("notices", []):
                n = notice_json(notice)
                parts = [f"{n['status']}: {n['title']}" if n["title"] else n["status"]]
                parts += [f"({n['date']})"] if n["date"] else []
                parts += [f"https://doi.org/{n['doi']}"] if n["doi"] else []
                out.print(f"       notice: {safe(' '.join(parts))}")
    sys.exit(EXIT_OK)
