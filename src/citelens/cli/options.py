"""What the commands share: the --db, --json and filter options, opening the index, JSON on stdout, and the
checks and lines every reading command makes the same way."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from citelens.cli import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_USAGE, console
from citelens.cli.terminal import safe
from citelens.document import SECTIONS, STANCES
from citelens.errors import StoreError
from citelens.pipeline import LONE_SURROGATE
from citelens.store.query import MAX_QUERY_CHARS


class IndexPath(click.Path):
    """The --db value. Missing, click said only "Missing option '--db'.": a user who had read that the index can
    come from the environment (in a script, a service unit) was not told so; the message now says both ways."""

    def get_missing_message(self, param: click.Parameter, ctx: click.Context | None) -> str:
        return ("Give the index with --db FILE (a SQLite file, or a postgresql://USER@HOST/DB URL),"
                " or set the environment variable CITELENS_DB to it.")


INDEX_PATH = IndexPath(dir_okay=False)
DB_OPTION = click.option("--db", "db", required=True, envvar="CITELENS_DB", type=INDEX_PATH,
                         help="SQLite database file (created if missing) or a postgresql://USER@HOST/DB URL."
                              " Env: CITELENS_DB.")
# Bounded as the API's year_from/year_to are; beyond SQLite's 64-bit integers a number was a traceback.
YEARS = click.IntRange(1000, 3000)
YEAR_FROM_OPTION = click.option("--year-from", type=YEARS,
                                help="Only statements from papers published in or after this year.")
YEAR_TO_OPTION = click.option("--year-to", type=YEARS,
                              help="Only statements from papers published in or before this year.")
# The commands that only read the index: a missing file is a usage error (exit 2), never a new empty index.
READ_DB_OPTION = click.option("--db", "db", required=True, envvar="CITELENS_DB", type=INDEX_PATH,
                              help="The index: a SQLite file built by `citelens ingest` (a missing one is exit 2)"
                                   " or a postgresql://USER@HOST/DB URL. Env: CITELENS_DB.")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
TYPE_OPTION = click.option("--type", "stance", type=click.Choice(STANCES), help="Only statements of this type.")
SECTION_OPTION = click.option("--section", type=click.Choice(SECTIONS), help="Only statements from this section.")
EXCLUDE_SELF_OPTION = click.option("--exclude-self", is_flag=True, help="Leave out self-citations.")
MIN_CONFIDENCE_OPTION = click.option(
    "--min-confidence", default=None, metavar="X|auto",
    help="Count a supporting/contrasting label only at this model confidence (0-1) or above, else as "
         "mentioning (tallies, and which statements --type lists); 'auto' = the installed model's dev threshold "
         "for precision 0.8. Default: every label.")
# The author, institution and journal commands: every figure counts by it (as the pages' ?min_confidence=).
PROFILE_MIN_CONFIDENCE_OPTION = click.option(
    "--min-confidence", default=None, metavar="X|auto",
    help="Count a supporting/contrasting label only at this model confidence (0-1) or above, else as "
         "mentioning, in every figure (tallies, works, windows, sorts); 'auto' = the installed model's dev "
         "threshold for precision 0.8. --json then carries min_confidence. Default: every label.")


def parse_min_confidence(value: str | None) -> float | None:
    from citelens.stance import resolve_min_confidence

    try:
        return resolve_min_confidence(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--min-confidence") from None


def check_years(year_from: int | None, year_to: int | None) -> None:
    """--year-from after --year-to is a usage error, as year_from after year_to is a 400 from the API (it matched
    nothing, which read as "no statements in those years")."""
    if year_from is not None and year_to is not None and year_from > year_to:
        raise click.BadParameter(f"{year_from} is after --year-to {year_to}", param_hint="--year-from")


def threshold_line(threshold: float | None) -> None:
    """The line the report, search and profile commands print first when they count only the labels the model is
    sure of."""
    if threshold is not None:
        console().print(f"Counting only labels the model is sure of (confidence ≥ {threshold:g}): a supporting "
                         "or contrasting label below it counts as mentioning.")



def open_index(db: str, *, must_exist: bool = False, readonly: bool = False):  # noqa: ANN202 - Store
    """Open the index; reading commands open it read-only, so they never wait for (or block) an ingest."""
    from citelens.store import is_postgres_url, open_store

    if must_exist and not is_postgres_url(db) and not Path(db).exists():
        console(True).print(f"[red]error:[/] database {safe(db)} does not exist (run `citelens ingest` first)")
        sys.exit(EXIT_USAGE)
    try:
        return open_store(db, readonly=readonly)
    except StoreError as exc:
        console(True).print(f"[red]error:[/] {safe(str(exc))}")
        sys.exit(EXIT_ERROR)


def shown_index(db: str) -> str:
    """The index as a message may name it: a PostgreSQL URL without its password."""
    from citelens.store import is_postgres_url

    if is_postgres_url(db):
        from citelens.store.postgres import redacted

        return redacted(db)
    return db


def json_text(obj: Any) -> str:
    """``obj`` as JSON for stdout: non-ASCII text as it is, lone surrogates escaped (always valid UTF-8)."""
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=str)
    # A file name's bytes that are not UTF-8 (lone surrogates) written raw made the output invalid UTF-8, which jq
    # refuses; as JSON escapes json.loads gives back the name that os.fsencode turns into the file's bytes.
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def check_query(query: str) -> None:
    """A blank or over-long QUERY is a usage error (exit 2), as a bad q is a 400 from the API."""
    if not query.strip() or len(query) > MAX_QUERY_CHARS:
        console(True).print(f"[red]error:[/] QUERY must be 1 to {MAX_QUERY_CHARS} characters")
        sys.exit(EXIT_USAGE)


def dump_json(obj: Any) -> None:
    click.echo(json_text(obj))


def exit_not_found(as_json: bool, body: dict[str, Any], message: str) -> NoReturn:
    """Exit 3 saying what was not found: ``{"error": "not found", **body}`` with --json, else ``message`` on stderr
    (markup-safe already)."""
    if as_json:
        dump_json({"error": "not found", **body})
    else:
        console(True).print(f"[red]not found:[/] {message}")
    sys.exit(EXIT_NOT_FOUND)


def more_rows_line(total: int, offset: int, shown: int, noun: str) -> str | None:
    """What a paged listing says after its rows (report, search): where the rows past the end are, or the
    --offset of the next page; None when it showed the last of them."""
    if total and not shown:
        return f"No {noun} at --offset {offset}: the {total} {noun} are at --offset 0 to {total - 1}."
    if offset + shown < total:
        return f"… showing {offset + 1}–{offset + shown} of {total}: --offset {offset + shown} for the next {noun}"
    return None
