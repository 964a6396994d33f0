"""institution, journal: the aggregate pages (/institutions/{ROR}, /journals/{ISSN}) on the command line."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.table import Table

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

_WINDOW_NAMES = {"2y": "this year and last", "5y": "last 5 years", "all": "all time"}
LIMIT_OPTION = click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100),
                            help="At most this many when a name matches several.")


def institution_rors(store: Any, query: str, limit: int) -> list[str]:
    """ROR ids for QUERY: a ROR id or URL, else institutions whose name in the index contains its words in
    order, else the gazetteer's organisations of that name (ROR's other names and translations: "Instituto
    Tecnológico de Massachusetts" finds the Massachusetts Institute of Technology)."""
    hits = [h.ror for h in store.find_institutions(query, limit=limit)]
    if not hits:
        from citelens.places import gazetteer, place_key

        for org in gazetteer().organisations.get(place_key(query), [])[:limit]:
            hits += [h.ror for h in store.find_institutions(org.ror, limit=1)]
    return list(dict.fromkeys(hits))[:limit]


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


def _not_found(kind: str, query: str, db: str, as_json: bool) -> None:
    if as_json:
        _dump({"error": "not found", "query": query, kind + "s": []})
    else:
        _console(True).print(f"[red]not found:[/] no {kind} {safe(query)} in {safe(db)}")
    sys.exit(EXIT_NOT_FOUND)


@main.command()
@click.argument("query", type=TEXT)
@READ_DB_OPTION
@JSON_OPTION
@LIMIT_OPTION
@PROFILE_MIN_CONFIDENCE_OPTION
def institution(query: str, db: str, as_json: bool, limit: int, min_confidence: str | None) -> None:
    """An institution's works in the index, how they are cited, and the supporting ÷ (supporting +
    contrasting) index over 2-year, 5-year and all-time windows of citing years, with the statements
    behind each.

    QUERY is a ROR id ("042nb2s44" or "https://ror.org/042nb2s44") or a name ("Kyoto University", "kyoto
    univ", or another name the ROR registry lists for it).
    A name can match several institutions: each is shown, most authors first. Exit 3 when none matches.
    With --min-confidence the tallies and windows count a supporting or contrasting label below it as
    mentioning, as the institution page's "only labels the model is sure of" does.

    Example: citelens institution 041kmwe10 --db index.db --min-confidence 0.8 --json
    """
    _check_query(query)
    threshold = _min_confidence(min_confidence)
    store = _open(db, must_exist=True, readonly=True)
    profiles = [p for p in (store.institution_profile(r, min_confidence=threshold)
                            for r in institution_rors(store, query, limit)) if p]
    store.close()
    if not profiles:
        _not_found("institution", query, db, as_json)
    if as_json:
        _dump({"query": query, "min_confidence": threshold, "institutions": [p.to_dict() for p in profiles]})
        return
    _threshold_line(threshold)
    c = _console()
    for p in profiles:
        d = p.to_dict()
        place = ", ".join(x for x in (d["city"], d["region"], d["country"]) if x)
        c.print(f"[bold]{safe(d['name'] or d['ror'])}[/] (ROR {safe(d['ror'])}{', ' + safe(place) if place else ''})")
        c.print(f"  {d['works']} work(s) and {d['authors']} author(s) in the index · https://ror.org/{safe(d['ror'])}")
        c.print(_tallies_line(d["tallies"]))
        c.print(_windows_table(d["windows"]))


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
    _check_query(query)
    threshold = _min_confidence(min_confidence)
    store = _open(db, must_exist=True, readonly=True)
    hits = store.find_journals(query, limit=limit)
    profiles = [p for p in (store.journal_profile(h.issn or h.eissn, min_confidence=threshold) for h in hits) if p]
    store.close()
    if not profiles:
        _not_found("journal", query, db, as_json)
    if as_json:
        _dump({"query": query, "min_confidence": threshold, "journals": [p.to_dict() for p in profiles]})
        return
    _threshold_line(threshold)
    c = _console()
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
                c.print(f"  {w['year'] or '----'}  {safe(w['doi'] or w['work_id'])}  {safe(w['title'][:80])}  "
                        f"(+{w['supporting']} −{w['contrasting']} ·{w['mentioning']})")
