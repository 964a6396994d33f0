"""author, institution, journal: the profile pages (/authors/{id}, /institutions/{ROR}, /journals/{ISSN}) on the command
line: works, how they are cited, co-authors and affiliations, and the supporting ÷ (supporting + contrasting) windows."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
from rich.table import Table

from citelens.cli import EXIT_NOT_FOUND, TEXT, console, main
from citelens.cli.options import (
    JSON_OPTION,
    PROFILE_MIN_CONFIDENCE_OPTION,
    READ_DB_OPTION,
    check_query,
    dump_json,
    open_index,
    parse_min_confidence,
    threshold_line,
)
from citelens.cli.terminal import clip, safe
from citelens.institutions import find_institutions
from citelens.store import AUTHOR_WORK_SORTS

_WINDOW_NAMES = {"2y": "this year and last", "5y": "last 5 years", "all": "all time"}
LIMIT_OPTION = click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100),
                            help="At most this many when a name matches several.")


def _windows_table(windows: list[dict[str, Any]]) -> Table:
    t = Table("citing years", "supporting ÷ (supporting + contrasting)", "statements behind it",
              "all statements", box=None, pad_edge=False)
    for w in windows:
        t.add_row(_WINDOW_NAMES.get(w["window"], w["window"]), f"{w['index']:.2f}" if w["index"] is not None else "—",
                  str(w["statements"]), str(w["total"]))
    return t


def _tallies_line(t: dict[str, Any]) -> str:
    return (f"  [green]supporting {t['supporting']}[/] · [red]contrasting {t['contrasting']}[/] · mentioning "
            f"{t['mentioning']} · total {t['total']} · {t['citing_publications']} citing publication(s)")


SHOWN_NOTICED = 10  # citations of retracted works printed per profile (--json lists them all)
_TIMING_WORDS = {"after": "after", "same-year": "same year", "before": "before", None: "year unknown"}


def _cites_retracted_lines(d: dict[str, Any], whose: str) -> list[str]:
    """What the profile's papers cite that was retracted (or is under an expression of concern), dated against
    the notice: nothing when they cite no such work."""
    cr = d["cites_retracted"]
    lines = []
    for key, what, notice in (("retraction", "retracted work", "the retraction"),
                              ("expression_of_concern", "work under an expression of concern (not retracted)",
                               "the concern")):
        t = cr[key]
        if not t["citations"]:
            continue
        worst = (f", [bold red]{t['supporting_after']} with supporting statements[/]" if t["supporting_after"]
                 else "")
        lines.append(f"  {whose} cite {what}: {t['citations']} citation(s) of {t['works']} work(s) by"
                     f" {t['citing_papers']} paper(s) · {t['after']} after {notice}{worst} · {t['same_year']} in its"
                     f" year · {t['before']} before" + (f" · {t['undated']} undated" if t["undated"] else ""))
    for c in cr["citations"][:SHOWN_NOTICED]:
        kind = "retracted" if c["notice"] == "retraction" else "concern"
        flag = "[bold red]![/] " if c["supporting_after_retraction"] else "  "
        lines.append(f"  {flag}{c['citing_year'] or '----'}  {safe(c['citing_doi'] or c['citing_work_id'])} → "
                     f"{safe(c['cited_doi'] or c['cited_work_id'])} ({kind} {c['notice_year'] or '?'}):"
                     f" {_TIMING_WORDS[c['timing']]} · {c['statements']} statement(s) (+{c['supporting']}"
                     f" −{c['contrasting']} ·{c['mentioning']})")
    if len(cr["citations"]) > SHOWN_NOTICED:
        lines.append(f"  … {len(cr['citations']) - SHOWN_NOTICED} more (--json lists them all)")
    return lines


def _not_found(kind: str, query: str, db: str, as_json: bool) -> None:
    if as_json:
        dump_json({"error": "not found", "query": query, kind + "s": []})
    else:
        console(True).print(f"[red]not found:[/] no {kind} {safe(query)} in {safe(db)}")
    sys.exit(EXIT_NOT_FOUND)


def _found_profiles(kind: str, query: str, db: str, min_confidence: str | None, as_json: bool,
                    fetch: Callable[[Any, float | None], Iterable[Any]], **json_fields: Any) -> list[Any] | None:
    """The profiles of the ``kind`` (author, institution, journal) QUERY finds, ``fetch(store, threshold)``; exit 3
    when none. With --json they are printed here (the command has nothing left to do: None); else the threshold
    line is printed and the profiles returned for the command to print."""
    check_query(query)
    threshold = parse_min_confidence(min_confidence)
    store = open_index(db, must_exist=True, readonly=True)
    try:
        profiles = [p for p in fetch(store, threshold) if p is not None]
    finally:
        store.close()
    if not profiles:
        _not_found(kind, query, db, as_json)
    if as_json:
        dump_json({"query": query, **json_fields, "min_confidence": threshold,
                   kind + "s": [p.to_dict() for p in profiles]})
        return None
    threshold_line(threshold)
    return profiles


SHOWN_WORKS = 20  # works printed per author or institution without --page (--json lists them all)
SHOWN_AUTHORS = 10  # an institution's authors printed (--json lists them all)

# The works' order and paging, the same for an author and an institution (and as their pages' sort= and page=).
WORKS_SORT_OPTION = click.option(
    "--sort", "sort", default="newest", show_default=True, type=click.Choice(AUTHOR_WORK_SORTS),
    help="Order of the works (as the profile page's and the API's sort=).")
WORKS_PAGE_OPTION = click.option(
    "--page", default=None, type=click.IntRange(1, 1_000_000),
    help="Show this page of the works (--per-page each); without it: the first 20, or all with --json.")
WORKS_PER_PAGE_OPTION = click.option("--per-page", "per_page", default=50, show_default=True,
                                     type=click.IntRange(1, 1000), help="Works per page with --page.")


def _works_window(page: int | None, per_page: int) -> dict[str, int | None]:
    """The store's works_limit/works_offset for --page (none: every work, for --json; the text shows 20)."""
    return {"works_limit": None, "works_offset": 0} if page is None else {
        "works_limit": per_page, "works_offset": (page - 1) * per_page}


def _print_works(c: Any, works: Sequence[Any], total: int, sort: str, page: int | None, per_page: int) -> None:
    """A profile's page of works (author or institution): which ones of how many, then one line each."""
    first = 0 if page is None else (page - 1) * per_page
    shown = works if page is not None else works[:SHOWN_WORKS]
    if page is not None and not shown and total:  # past the last page: say which is the last
        pages = -(-total // per_page)
        c.print(f"  no works on page {page}: there {'is' if pages == 1 else 'are'} {pages}"
                f" page{'' if pages == 1 else 's'} of {per_page}")
    elif page is not None or total > len(shown):
        c.print(f"  works {first + 1 if shown else first}–{first + len(shown)} of {total} ({sort})")
    for w in shown:
        c.print(f"  {w.year or '----'}  {safe(w.doi or w.work_id)}  {safe(clip(w.title, 80))}  "
                f"(+{w.tallies.supporting} −{w.tallies.contrasting} ·{w.tallies.mentioning})")


@main.command()
@click.argument("query", type=TEXT)
@READ_DB_OPTION
@JSON_OPTION
@LIMIT_OPTION
@WORKS_SORT_OPTION
@WORKS_PAGE_OPTION
@WORKS_PER_PAGE_OPTION
@PROFILE_MIN_CONFIDENCE_OPTION
def institution(query: str, db: str, as_json: bool, limit: int, sort: str, page: int | None, per_page: int,
                min_confidence: str | None) -> None:
    """An institution's works in the index, how they are cited, and the supporting ÷ (supporting +
    contrasting) index over 2-year, 5-year and all-time windows of citing years, with the statements
    behind each.

    QUERY is a ROR id ("042nb2s44" or "https://ror.org/042nb2s44") or a name ("Kyoto University", "kyoto
    univ", or another name the ROR registry lists for it).
    A name can match several institutions: each is shown, most authors first. Exit 3 when none matches.
    With --min-confidence the tallies and windows count a supporting or contrasting label below it as
    mentioning, as the institution page's "only labels the model is sure of" does.

    Its works are listed with their tallies and the institution's authors on each, in the order --sort
    (--page: one page of them), and its authors with the most works first: as on the institution page.

    Example: citelens institution 041kmwe10 --db index.db --min-confidence 0.8 --json
    """
    window = _works_window(page, per_page)
    if page is None and not as_json:  # the text shows the first works only: read no more
        window["works_limit"] = SHOWN_WORKS
    paging = {} if page is None else {"page": page, "per_page": per_page}
    profiles = _found_profiles(
        "institution", query, db, min_confidence, as_json,
        lambda store, threshold: (store.institution_profile(r, min_confidence=threshold, works_sort=sort,
                                                            authors_limit=None if as_json else SHOWN_AUTHORS,
                                                            **window)
                                  for r in (h.ror for h in find_institutions(store, query, limit))),
        sort=sort, **paging)
    if profiles is None:
        return
    c = console()
    for p in profiles:
        d = p.to_dict()
        place = ", ".join(x for x in (d["city"], d["region"], d["country"]) if x)
        c.print(f"[bold]{safe(d['name'] or d['ror'])}[/] (ROR {safe(d['ror'])}{', ' + safe(place) if place else ''})")
        c.print(f"  {d['works']} work(s) and {d['authors']} author(s) in the index · https://ror.org/{safe(d['ror'])}")
        c.print(_tallies_line(d["tallies"]))
        c.print(_windows_table(d["windows"]))
        _print_works(c, p.works_list, p.works, sort, page, per_page)
        if p.authors_list:
            c.print("  authors: " + ", ".join(f"{safe(a.name)} ({a.works})" for a in p.authors_list)
                    + (f" … of {p.authors}" if p.authors > len(p.authors_list) else ""))
        for line in _cites_retracted_lines(d, "its authors' papers"):
            c.print(line)


@main.command()
@click.argument("query", type=TEXT)
@READ_DB_OPTION
@JSON_OPTION
@LIMIT_OPTION
@PROFILE_MIN_CONFIDENCE_OPTION
def journal(query: str, db: str, as_json: bool, limit: int, min_confidence: str | None) -> None:
    """A journal's works in the index, how they are cited, and the supporting ÷ (supporting + contrasting)
    index over 2-year, 5-year and all-time windows of citing years, with the statements behind each.

    QUERY is an ISSN or e-ISSN ("1544-9173", "15449173") or a title or abbreviation ("PLoS Biology",
    "PLoS Biol"). A journal's works are those carrying one of its ISSNs and those without an ISSN (known
    from a reference) under one of its names. Exit 3 when none matches. With --min-confidence the tallies,
    windows and most cited works count a supporting or contrasting label below it as mentioning, as the
    journal page's "only labels the model is sure of" does.

    Example: citelens journal "PLoS Biology" --db index.db --min-confidence auto
    """
    profiles = _found_profiles(
        "journal", query, db, min_confidence, as_json,
        lambda store, threshold: (store.journal_profile(h.issn or h.eissn, min_confidence=threshold)
                                  for h in store.find_journals(query, limit=limit)))
    if profiles is None:
        return
    c = console()
    for p in profiles:
        d = p.to_dict()
        ids = " · ".join(f"{k} {v}" for k, v in (("ISSN", d["issn"]), ("e-ISSN", d["eissn"])) if v)
        c.print(f"[bold]{safe(d['name'] or d['issn'])}[/] ({safe(ids)})")
        others = [safe(n) for n in d["names"] if n != d["name"]]
        c.print(f"  {d['works']} work(s) in the index ({d['works_by_name']} known by name only)"
                + (" · also written: " + ", ".join(others) if others else ""))
        c.print(_tallies_line(d["tallies"]))
        c.print(_windows_table(d["windows"]))
        if d["most_cited"]:
            c.print("  most cited:")
            for w in d["most_cited"][:10]:
                c.print(f"  {w['year'] or '----'}  {safe(w['doi'] or w['work_id'])}  {safe(clip(w['title'], 80))}  "
                        f"(+{w['supporting']} −{w['contrasting']} ·{w['mentioning']})")
        for line in _cites_retracted_lines(d, "its papers"):
            c.print(line)




@main.command()
@click.argument("query", type=TEXT)
@READ_DB_OPTION
@JSON_OPTION
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100),
              help="At most this many authors when a name matches several.")
@WORKS_SORT_OPTION
@WORKS_PAGE_OPTION
@WORKS_PER_PAGE_OPTION
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
    window = _works_window(page, per_page)
    paging = {} if page is None else {"page": page, "per_page": per_page}
    profiles = _found_profiles(
        "author", query, db, min_confidence, as_json,
        lambda store, threshold: (store.author_profile(a[0], works_sort=sort, min_confidence=threshold, **window)
                                  for a in store.find_authors(query, limit=limit)),
        sort=sort, **paging)
    if profiles is None:
        return
    c = console()
    for p in profiles:
        t = p.tallies
        c.print(f"[bold]{safe(p.name)}[/] (author {p.id}{', ORCID ' + safe(p.orcid) if p.orcid else ''})")
        c.print(f"  {p.works_total} work(s) in the index · cited by {t.citing_publications} publication(s) · "
                f"[green]supporting {t.supporting}[/] · [red]contrasting {t.contrasting}[/] · "
                f"mentioning {t.mentioning} · total {t.total}"
                + (f" · self-citations {p.self_citation_share:.0%}" if p.self_citation_share is not None else ""))
        _print_works(c, p.works, p.works_total, sort, page, per_page)
        for a in p.affiliations[:5]:
            years = f"{a.first_year}–{a.last_year}" if a.first_year != a.last_year else f"{a.first_year or ''}"
            place = ", ".join(x for x in (a.institution, a.city, a.country) if x)
            c.print(f"  affiliation: {safe(place)} {years}")
        if p.coauthors:
            c.print("  co-authors: " + ", ".join(f"{safe(x.name)} ({x.documents})" for x in p.coauthors[:10]))
        for line in _cites_retracted_lines(p.to_dict(), "their papers"):
            c.print(line)
