"""flows: how local are knowledge ties? Over the index's citation statements (--by; docs/flows.md, the code in
cli/flows_index.py) or over a network you bring (--orgs/--ties; docs/flows-network.md)."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.table import Table

from citelens.cli import EXIT_USAGE, console, main
from citelens.cli.options import JSON_OPTION, dump_json
from citelens.cli.terminal import safe
from citelens.document import SECTIONS, STANCES
from citelens.flows.distance import LEVELS

_DISTANCE_LABELS = {"intra_regional": "intra-regional", "inter_regional": "inter-regional",
                    "international": "international"}
_MAX_PROBLEMS_SHOWN = 50


@main.command()
@click.option("--orgs", "orgs_csv", type=click.Path(dir_okay=False), metavar="ORGS.csv",
              help="Organisations: id, country, region and/or city, optional name; other columns are attributes"
                   " (ownership, size, sector…).")
@click.option("--ties", "ties_csv", type=click.Path(dir_okay=False), metavar="TIES.csv",
              help="Ties: source, target (organisation ids), type (knowledge source, customer, supplier…).")
@click.option("--encoding", default="utf-8", show_default=True,
              help="Text encoding of both CSV files (e.g. cp1252 for some spreadsheet exports).")
@click.option("--own-regions", is_flag=True,
              help="The region column is your own classification (NUTS codes, labour-market regions…): taken as"
                   " written, not checked against the gazetteer; every organisation needs one.")
@click.option("--confidence", default=0.95, show_default=True, type=click.FloatRange(0.5, 0.999),
              help="Confidence level of the intervals around each share (and of the localisation ratio).")
@click.option("--by", type=click.Choice(LEVELS), default=None,
              help="Over the index (--db): the unit of the localisation ratio, the top pairs and the network."
                   " Default: institution.")
@click.option("--db", "db", envvar="CITELENS_DB", type=click.Path(dir_okay=False),
              help="The index (SQLite file or postgresql:// URL) for flows over citation statements."
                   " Env: CITELENS_DB.")
@click.option("--type", "stance", type=click.Choice(STANCES), help="Index: only statements of this type.")
@click.option("--section", type=click.Choice(SECTIONS), help="Index: only statements from this section.")
@click.option("--include-self-citations", "include_self", is_flag=True,
              help="Index: count self-citations too (left out by default).")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0, 2**31 - 1),
              help="Index: seed of the matched-control draw and of the bootstrap.")
@click.option("--bootstrap", "replicates", default=1000, show_default=True, type=click.IntRange(0, 100_000),
              help="Index: bootstrap replicates for the localisation ratio's interval (0: none).")
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="Index: unit pairs listed (heaviest first).")
@click.option("--csv", "as_csv", is_flag=True, help="Index: the distance x type x section table as CSV.")
@click.option("--graphml", type=click.Path(dir_okay=False), metavar="FILE",
              help="Index: write the network of --by units (citing -> cited) as GraphML (Gephi, networkx).")
@click.option("--edges-csv", type=click.Path(dir_okay=False), metavar="FILE",
              help="Index: write the same network as an edge list (CSV).")
@JSON_OPTION
def flows(orgs_csv: str | None, ties_csv: str | None, encoding: str, own_regions: bool, confidence: float,
          by: str | None,
          db: str | None, stance: str | None, section: str | None, include_self: bool, seed: int, replicates: int,
          top: int, as_csv: bool, graphml: str | None, edges_csv: str | None, as_json: bool) -> None:
    """How local are knowledge ties: within an institution, city or region, or international?

    With --by institution|city|region|country and --db, over the index: every citation statement whose
    citing and cited works both have located affiliations is a tie, classed same institution, same city,
    same region, same country or international; shares by distance x type x section, observed against
    matched controls (Jaffe, Trajtenberg & Henderson 1993), the localisation ratio with a bootstrap
    interval, and a chi-square test of distance x type (docs/flows.md).

    Example: citelens flows --by country --db index.db --graphml net.graphml

    With --orgs and --ties, over a network of organisations you bring (e.g. the firms of a regional
    cluster and their partners): the shares of intra-regional, inter-regional and international ties
    overall, by each attribute of the tie's source organisation (ownership, size, sector…) and by tie
    type, each with a confidence interval, and a chi-square test of whether the shares differ between
    groups. Places are read through the offline gazetteer. Any problem in either file is listed with its
    row number (the header is row 1) and nothing is computed: exit code 2.

    Example: citelens flows --orgs docs/examples/electronics-cluster/orgs.csv
    --ties docs/examples/electronics-cluster/ties.csv
    """
    if not (orgs_csv or ties_csv):
        if own_regions or encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise click.UsageError("--own-regions and --encoding are for --orgs/--ties (a network you bring);"
                                   " flows over the index (--db) read neither")
        from citelens.cli.flows_index import run_index_flows

        run_index_flows(db, by=by or "institution", stance=stance, section=section, include_self=include_self,
                        seed=seed, replicates=replicates, confidence=confidence, top=top, as_json=as_json,
                        as_csv=as_csv, graphml=graphml, edges_csv=edges_csv)
        return
    if by or stance or section or include_self or as_csv or graphml or edges_csv:
        raise click.UsageError("--orgs/--ties and --by/--type/--section/--csv/--graphml/--edges-csv are two"
                               " analyses: run them separately")
    if not orgs_csv or not ties_csv:
        raise click.UsageError("give both --orgs ORGS.csv and --ties TIES.csv (see docs/flows-network.md)")
    run_network(orgs_csv, ties_csv, encoding=encoding, confidence=confidence, as_json=as_json,
                own_regions=own_regions)


def run_network(orgs_csv: str, ties_csv: str, *, encoding: str, confidence: float, as_json: bool,
                own_regions: bool = False) -> None:
    """`citelens flows --orgs --ties`: read, check, analyse, print (or list the problems and exit 2)."""
    from citelens.flows.network import NetworkInputError, analyse_network, read_network

    try:
        network = read_network(orgs_csv, ties_csv, encoding=encoding, own_regions=own_regions)
    except NetworkInputError as exc:
        _print_problems(exc.problems, as_json)
        sys.exit(EXIT_USAGE)
    result = analyse_network(network, confidence=confidence)
    result = {"orgs_file": orgs_csv, "ties_file": ties_csv, **result, "own_regions": own_regions}
    err = console(True)
    for w in network.warnings:
        err.print(f"[yellow]warning:[/] {safe(str(w))}")
    if as_json:
        dump_json(result)
        return
    _print_result(result)


def _print_problems(problems: list[Any], as_json: bool) -> None:
    if as_json:
        dump_json({"error": "invalid input", "problems": [p.to_dict() for p in problems]})
    err = console(True)
    for p in problems[:_MAX_PROBLEMS_SHOWN]:
        err.print(f"[red]error:[/] {safe(str(p))}")
    if len(problems) > _MAX_PROBLEMS_SHOWN:
        err.print(f"[red]… and {len(problems) - _MAX_PROBLEMS_SHOWN} more problem(s)[/]")
    err.print(f"{len(problems)} problem(s) in the input; nothing was computed.")


def _pct(share: dict[str, Any]) -> str:
    if share["share"] is None:
        return "–"
    return f"{share['share']:.0%} [dim]({share['low']:.0%}–{share['high']:.0%})[/]"


def _shares_table(title: str, rows: dict[str, dict[str, Any]], first: str) -> Table:
    t = Table(first, "ties", *(_DISTANCE_LABELS[d] for d in _DISTANCE_LABELS), title=title, title_justify="left",
              box=None, pad_edge=False)
    for name, s in rows.items():
        t.add_row(safe(name), str(s["n"]), *(_pct(s["shares"][d]) for d in _DISTANCE_LABELS))
    return t


def _test_line(chi2: dict[str, Any]) -> str:
    if chi2["statistic"] is None:
        return "  [dim]no test: " + chi2.get("note", "") + "[/]"
    p = chi2["p_value"]
    line = (f"  chi² = {chi2['statistic']:.2f}, dof {chi2['dof']}, p = {p:.3g} · Cramér's V = "
            f"{chi2['cramers_v']:.2f}")
    if not chi2["cochran_ok"]:
        line += (f" · [yellow]small expected counts (min {chi2['min_expected']:.1f}): permutation p = "
                 f"{chi2['p_value_permutation']:.3g}[/]")
    return line


def _print_result(r: dict[str, Any]) -> None:
    c = console()
    level = f"{r['confidence']:.0%}"
    c.print(f"[bold]{r['n_ties']} ties[/] among {r['n_organisations']} organisations "
            f"({safe(r['orgs_file'])}, {safe(r['ties_file'])}); shares with {level} Wilson intervals.")
    top = ", ".join(f"{safe(x['region'])} ({x['country']}) {x['organisations']}" for x in r["regions"][:3])
    c.print(f"Organisations by region: {top}{' …' if len(r['regions']) > 3 else ''}")
    c.print()
    c.print(_shares_table("All ties", {"all": r["overall"]}, ""))
    for dim, b in r["by"].items():
        c.print()
        title = "By tie type" if dim == "type" else f"By {safe(dim)} of the source organisation"
        c.print(_shares_table(title, b["groups"], dim if dim != "type" else "type"))
        c.print(_test_line(b["chi2"]))
