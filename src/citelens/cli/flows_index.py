"""`citelens flows --by …`: knowledge flows over the index (citelens.flows.analysis); printing and files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from citelens.cli import EXIT_USAGE, console
from citelens.cli.options import dump_json, open_index
from citelens.cli.terminal import safe
from citelens.document import STANCES
from citelens.flows.distance import DISTANCES

DISTANCE_LABELS = {"same_institution": "same institution", "same_city": "same city", "same_region": "same region",
                   "same_country": "same country", "international": "international"}


def run_index_flows(db: str | None, *, by: str, stance: str | None, section: str | None, include_self: bool,
                    seed: int, replicates: int, confidence: float = 0.95, top: int, as_json: bool, as_csv: bool, graphml: str | None,
                    edges_csv: str | None) -> None:
    """Analyse, write the network files asked for, then print the report (JSON, CSV or a table)."""
    from citelens.flows.analysis import analyse_flows
    from citelens.flows.export import flow_table_csv, write_edges_csv, write_graphml
    from citelens.flows.geo import flow_map

    if not db:
        raise click.UsageError("give --db INDEX (or CITELENS_DB) for flows over the index, or --orgs and --ties")
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    store = open_index(db, must_exist=True, readonly=True)
    try:
        report = analyse_flows(store, by=by, stance=stance, section=section, include_self_citations=include_self,
                               seed=seed, replicates=replicates, confidence=confidence)
    finally:
        store.close()
    err = console(True)
    for target, write in ((graphml, lambda p: write_graphml(report, p)),
                          (edges_csv, lambda p: _write_text(p, lambda f: write_edges_csv(report, f)))):
        if not target:
            continue
        try:
            write(target)
        except OSError as exc:
            err.print(f"[red]error:[/] cannot write {safe(target)}: {safe(str(exc))}")
            sys.exit(EXIT_USAGE)
        if not (as_json or as_csv):
            err.print(f"wrote {safe(target)} ({len(report.nodes)} nodes, {len(report.edges)} edges)")
    if as_json:
        dump_json({"db": db, **report.to_dict(top=top), "map": flow_map(report)})
    elif as_csv:
        click.echo(flow_table_csv(report), nl=False)
    else:
        print_report(report.to_dict(top=top))


def _write_text(path: str, write: Any) -> None:
    with Path(path).open("w", encoding="utf-8", newline="") as f:
        write(f)


def _n(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def print_report(r: dict[str, Any]) -> None:
    c = console()
    f = r["filters"]
    scope = ", ".join(x for x in (f"type {f['type']}" if f["type"] else "", f"section {f['section']}"
                                  if f["section"] else "") if x) or "all statements"
    c.print(f"[bold]{r['n_statements']:,} tie statements[/] ({scope}; self-citations "
            f"{'included' if f['include_self_citations'] else 'excluded: ' + format(r['n_self_citations_excluded'], ',')};"
            f" {r['n_not_located']:,} not located; {r['n_pairs']:,} citing–cited pairs). Located works: "
            f"{r['located_works']['full_text']:,} from full text, {r['located_works']['metadata']:,} from metadata.")
    loc, b = r["localisation"], r["baseline"]
    # "matched" and "matched share" are the observed side of the comparison with the controls: the statements
    # that have one ("share" is of all tie statements, the unmatched ones included).
    t = Table("distance", *STANCES, "total", "share", "matched", "matched share", "expected", "expected share",
              box=None, pad_edge=False)
    for d in DISTANCES:
        row = r["observed"][d]
        total = sum(row.values())
        share = total / r["n_statements"] if r["n_statements"] else 0.0
        t.add_row(DISTANCE_LABELS[d], *(_n(row[s]) for s in STANCES), _n(total), f"{share:.1%}",
                  _n(b["observed_matched"][d]), f"{r['matched_shares'][d]:.1%}",
                  _n(r["expected"][d]), f"{r['expected_shares'][d]:.1%}")
    c.print(t)
    c.print(f"Baseline: {b['n_matched']:,} statements matched to a control work of the cited work's year and journal"
            f" ({b['n_unmatched']:,} unmatched), seed {b['seed']}.")
    if not b["n_matched"]:
        c.print(f"Localisation ratio at the {loc['level']} level: [dim]none (no statement has a control)[/]")
    elif loc["ratio"] is None:
        c.print(f"Localisation ratio at the {loc['level']} level: [dim]none ({loc['observed_local']:,} matched ties"
                f" are local and none of their controls is: nothing to compare with)[/]")
    else:
        ci = (f" ({loc['confidence']:.0%} CI {loc['ci_low']:.2f}–{loc['ci_high']:.2f}, bootstrap over"
              f" {loc['clusters']:,} citing works)" if loc["ci_low"] is not None else "")
        c.print(f"Localisation ratio at the {loc['level']} level: [bold]{loc['ratio']:.2f}[/]{ci}: "
                f"{loc['observed_share']:.1%} of ties local against {loc['expected_share']:.1%} of controls.")
    chi2 = r["chi2"]
    if chi2["statistic"] is None:
        c.print(f"Chi-square, distance × type: [dim]no test ({chi2.get('reason', '')})[/]")
    else:
        c.print(f"Chi-square, distance × type: {chi2['statistic']:.2f}, dof {chi2['dof']}, p = {chi2['p_value']:.3g},"
                f" Cramér's V {chi2['cramers_v']:.2f}")
    if r["top_pairs"]:
        c.print()
        p = Table(f"citing {r['by']}", f"cited {r['by']}", "statements", *STANCES, box=None, pad_edge=False,
                  title=f"Top {r['by']} pairs", title_justify="left")
        for e in r["top_pairs"]:
            p.add_row(safe(e["citing_label"]), safe(e["cited_label"]), _n(e["statements"]),
                      *(_n(e[s]) for s in STANCES))
        c.print(p)
