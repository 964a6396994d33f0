"""Writing knowledge flows out: the network (GraphML for Gephi / networkx, an edge list as CSV) and the
distance × stance × section table as CSV.

The network is directed, citing unit → cited unit, at the level of ``citelens flows --by`` (institutions,
cities, regions or countries). Node attributes: ``label``, ``country``, ``region`` and ``city`` (of the place
the label comes from; empty where the level or the place does not have them), ``level``; edge attributes:
``weight`` (tie statements, fractionally counted — see :mod:`citelens.flows.analysis`), ``supporting``,
``contrasting``, ``mentioning``. GraphML is written by networkx; labels come from affiliation text anyone
can write, so characters XML 1.0 cannot carry (control characters) are dropped first — the rest is escaped
by the XML writer.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING

from citelens.document import SECTIONS, STANCES
from citelens.flows.distance import DISTANCES
from citelens.spreadsheet import safe_cells

if TYPE_CHECKING:
    import networkx as nx

    from citelens.flows.analysis import FlowReport

# citing_region and cited_region were added last (2026-12-05), so that columns read by position keep theirs.
EDGE_FIELDS = ("citing", "cited", "citing_label", "cited_label", "citing_country", "cited_country", "statements",
               *STANCES, "citing_region", "cited_region")
TABLE_FIELDS = ("section", "distance", "stance", "statements", "share", "expected")

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(s: str) -> str:
    return _NOT_XML.sub("", s)


def flow_graph(report: FlowReport) -> nx.DiGraph:
    """The network of ``report`` as a networkx DiGraph (citing unit → cited unit)."""
    import networkx as nx

    g = nx.DiGraph(level=report.by)
    for node in report.nodes.values():
        g.add_node(_xml_text(node.id), label=_xml_text(node.label), country=node.country,
                   region=_xml_text(node.region), city=_xml_text(node.city), level=report.by)
    for e in sorted(report.flow_edges(), key=lambda e: (e.source, e.target)):
        g.add_edge(_xml_text(e.source), _xml_text(e.target), weight=round(e.weight, 6),
                   **{s: round(v, 6) for s, v in e.by_stance.items()})
    return g


def write_graphml(report: FlowReport, path: str | Path) -> None:
    import networkx as nx

    nx.write_graphml(flow_graph(report), str(path), encoding="utf-8")


def write_edges_csv(report: FlowReport, out: IO[str]) -> int:
    """One row per (citing unit, cited unit), heaviest first; returns the rows written."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(EDGE_FIELDS)
    nodes = report.nodes
    edges = sorted(report.flow_edges(), key=lambda e: (-e.weight, e.source, e.target))
    for e in edges:
        w.writerow(safe_cells([e.source, e.target, nodes[e.source].label, nodes[e.target].label,
                               nodes[e.source].country, nodes[e.target].country, round(e.weight, 4),
                               *(round(e.by_stance[s], 4) for s in STANCES), nodes[e.source].region,
                               nodes[e.target].region]))
    return len(edges)


def flow_table_csv(report: FlowReport) -> str:
    """The distance × stance × section table, long form: ``section`` "all" and ``stance`` "all" are the
    margins; ``share`` is of the section's tie statements; ``expected`` (matched controls) fills the
    section=all, stance=all rows."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(TABLE_FIELDS)
    blocks = [("all", report.observed)] + [(s, report.by_section[s]) for s in (*SECTIONS, *sorted(
        set(report.by_section) - set(SECTIONS))) if s in report.by_section]
    for section, table in blocks:
        n = sum(sum(row.values()) for row in table.values())
        for d in DISTANCES:
            row = table.get(d, {})
            for stance in (*STANCES, "all"):
                c = sum(row.values()) if stance == "all" else row.get(stance, 0)
                expected = report.expected.get(d, 0) if section == "all" and stance == "all" else ""
                w.writerow(safe_cells([section, d, stance, c, round(c / n, 6) if n else 0.0, expected]))
    return out.getvalue()
