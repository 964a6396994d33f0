"""top: the index's works ranked by citing publications, supporting or contrasting statements (the /top page and
GET /api/works/top on the command line; citelens.rankings)."""

from __future__ import annotations

import click

from citelens.cli import main
from citelens.cli.options import (
    JSON_OPTION,
    PROFILE_MIN_CONFIDENCE_OPTION,
    READ_DB_OPTION,
    dump_json,
    open_index,
    parse_min_confidence,
    threshold_line,
)
from citelens.cli.terminal import clip, safe
from citelens.rankings import (
    TOP_WORKS_BY,
    TOP_WORKS_PER_PAGE,
    TOP_WORKS_PER_PAGE_MAX,
    top_works,
    top_works_csv,
    top_works_rows,
)

_COUNTED = {"cited": "citing publications", "supporting": "supporting statements",
            "contrasting": "contrasting statements"}


@main.command()
@click.option("--by", "by", default="cited", show_default=True, type=click.Choice(TOP_WORKS_BY),
              help="Rank by citing publications, or by supporting or contrasting statements.")
@READ_DB_OPTION
@JSON_OPTION
@click.option("--page", type=click.IntRange(1, 1_000_000), help="Which page  [default: 1; with --csv, every work].")
@click.option("--per-page", "per_page", default=TOP_WORKS_PER_PAGE, show_default=True,
              type=click.IntRange(1, TOP_WORKS_PER_PAGE_MAX), help="Works per page.")
@PROFILE_MIN_CONFIDENCE_OPTION
@click.option("--csv", "as_csv", is_flag=True,
              help="The ranking as CSV on stdout, one row a work: every work ranked unless --page is given.")
@click.option("--excel", is_flag=True,
              help="CSV for Excel: starts with a UTF-8 byte-order mark, without which Excel shows names such as"
                   " Müller garbled (implies --csv).")
def top(by: str, db: str, as_json: bool, page: int | None, per_page: int, min_confidence: str | None,
        as_csv: bool, excel: bool) -> None:
    """The index's works ranked: most cited, most supported or most contrasted.

    Each work with its place, the count it is ranked by and its tallies; ties go to the work with more citing
    publications. With --min-confidence only labels the model is sure of count, for the ranking and the tallies
    (about half of all contrasting labels are wrong at the default: docs/model-card.md). The same ranking as the
    /top page and GET /api/works/top.

    Example: citelens top --by contrasting --min-confidence auto --db index.db --excel > contrasted.csv
    """
    as_csv = as_csv or excel
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv" + (" (--excel is CSV)" if excel else ""))
    threshold = parse_min_confidence(min_confidence)
    store = open_index(db, must_exist=True, readonly=True)
    try:
        if as_csv:
            # Every work unless --page: a spreadsheet sorts and filters a whole ranking (150,000 rows open in
            # Excel, LibreOffice and Google Sheets alike); a page of it would be a sample cut at an arbitrary rank.
            rows = top_works_rows(store, by, min_confidence=threshold, page=page, per_page=per_page)
            # Bytes: with --excel the mark says UTF-8, so the file must be UTF-8 whatever the terminal's encoding.
            for piece in top_works_csv(rows, excel=excel):
                click.echo(piece.encode("utf-8"), nl=False)
            return
        page = page or 1
        body = top_works(store, by, page=page, per_page=per_page, min_confidence=threshold)
    finally:
        store.close()
    if as_json:
        dump_json(body)
        return
    from citelens.cli import console

    threshold_line(threshold)
    c = console()
    works = body["works"]
    if not works:
        c.print(f"No works on page {page}: {body['total']} work(s) have {_COUNTED[by]}"
                + (f" ({body['pages']} page(s) of {per_page})" if body["total"] else "") + ".")
        return
    c.print(f"Works {works[0]['rank']}–{works[-1]['rank']} of {body['total']} with {_COUNTED[by]}, most first"
            f" (page {page} of {body['pages']}):")
    for w in works:
        t = w["tallies"]
        flag = " [bold red]RETRACTED[/]" if w["retracted"] else ""
        c.print(f"{w['rank']:>5}. {w['count']:>6}  {safe(clip(w['title'] or '(untitled)', 80))} ({w['year'] or '----'})"
                f"{flag}\n         {safe(w['doi'] or w['id'])}  [green]+{t['supporting']}[/] [red]−{t['contradicting']}[/]"
                f" ·{t['mentioning']}  {t['citingPublications']} citing publication(s)")
