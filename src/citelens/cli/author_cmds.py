"""author: an author's works in the index, their tallies, co-authors and affiliations."""

from __future__ import annotations

import sys

import click

from citelens.cli import EXIT_NOT_FOUND, TEXT, main
from citelens.cli.index_cmds import (
    JSON_OPTION,
    PROFILE_MIN_CONFIDENCE_OPTION,
    READ_DB_OPTION,
    _check_query,
    _console,
    _dump,
    _min_confidence,
    _open,
    _threshold_line,
)
from citelens.cli.terminal import safe
from citelens.store import AUTHOR_WORK_SORTS

SHOWN_WORKS = 20  # works printed per author without --page (--json lists them all)


@main.command()
@click.argument("query", type=TEXT)
@READ_DB_OPTION
@JSON_OPTION
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100),
              help="At most this many authors when a name matches several.")
@click.option("--sort", "sort", default="newest", show_default=True, type=click.Choice(AUTHOR_WORK_SORTS),
              help="Order of the works (as the author page's and the API's sort=).")
@click.option("--page", default=None, type=click.IntRange(1, 1_000_000),
              help="Show this page of the works (--per-page each); without it: the first 20, or all with --json.")
@click.option("--per-page", "per_page", default=50, show_default=True, type=click.IntRange(1, 1000),
              help="Works per page with --page.")
@PROFILE_MIN_CONFIDENCE_OPTION
def author(query: str, db: str, as_json: bool, limit: int, sort: str, page: int | None, per_page: int,
           min_confidence: str | None) -> None:
    """An author's works with their tallies, co-authors and affiliations.

    QUERY is an ORCID, an author id (from `export --table authors`) or a name ("Hillel Adesnik", "Adesnik, H",
    "Adesnik"). A name can match several authors (disambiguation keeps people apart without evidence):
    each is shown, most documents first. The figures above the works (tallies, co-authors, affiliations)
    are over all the works whatever page is shown. With --min-confidence they count a supporting or
    contrasting label below it as mentioning, as `report --min-confidence` and the author page do. Exit 3 when no
    author matches.

    Example: citelens author "Hillel Adesnik" --db index.db --sort cited --json
    """
    _check_query(query)
    threshold = _min_confidence(min_confidence)
    store = _open(db, must_exist=True, readonly=True)
    found = store.find_authors(query, limit=limit)
    window = {} if page is None else {"works_limit": per_page, "works_offset": (page - 1) * per_page}
    profiles = [p for p in (store.author_profile(a[0], works_sort=sort, min_confidence=threshold, **window)
                            for a in found)
                if p is not None]
    store.close()
    if not profiles:
        if as_json:
            _dump({"error": "not found", "query": query, "authors": []})
        else:
            _console(True).print(f"[red]not found:[/] no author {safe(query)} in {safe(db)}")
        sys.exit(EXIT_NOT_FOUND)
    if as_json:
        paging = {} if page is None else {"page": page, "per_page": per_page}
        _dump({"query": query, "sort": sort, **paging, "min_confidence": threshold,
               "authors": [p.to_dict() for p in profiles]})
        return
    _threshold_line(threshold)
    c = _console()
    for p in profiles:
        t = p.tallies
        c.print(f"[bold]{safe(p.name)}[/] (author {p.id}{', ORCID ' + safe(p.orcid) if p.orcid else ''})")
        c.print(f"  {p.works_total} work(s) in the index · cited by {t.citing_publications} publication(s) · "
                f"[green]supporting {t.supporting}[/] · [red]contrasting {t.contrasting}[/] · "
                f"mentioning {t.mentioning} · total {t.total}"
                + (f" · self-citations {p.self_citation_share:.0%}" if p.self_citation_share is not None else ""))
        first = 0 if page is None else (page - 1) * per_page
        shown = p.works if page is not None else p.works[:SHOWN_WORKS]
        if page is not None and not shown and p.works_total:  # past the last page: say which is the last
            pages = -(-p.works_total // per_page)
            c.print(f"  no works on page {page}: there {'is' if pages == 1 else 'are'} {pages}"
                    f" page{'' if pages == 1 else 's'} of {per_page}")
        elif page is not None or p.works_total > len(shown):
            c.print(f"  works {first + 1 if shown else first}–{first + len(shown)} of {p.works_total} ({sort})")
        for w in shown:
            c.print(f"  {w.year or '----'}  {safe(w.doi or w.work_id)}  {safe(w.title[:80])}  "
                    f"(+{w.tallies.supporting} −{w.tallies.contrasting} ·{w.tallies.mentioning})")
        for a in p.affiliations[:5]:
            years = f"{a.first_year}–{a.last_year}" if a.first_year != a.last_year else f"{a.first_year or ''}"
            place = ", ".join(x for x in (a.institution, a.city, a.country) if x)
            c.print(f"  affiliation: {safe(place)} {years}")
        if p.coauthors:
            c.print("  co-authors: " + ", ".join(f"{safe(x.name)} ({x.documents})" for x in p.coauthors[:10]))
