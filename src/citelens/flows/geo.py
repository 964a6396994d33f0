"""Knowledge flows on a map: each unit of the network at its coordinates, the heaviest ties between them.

``flow_map(report)`` places the nodes of a report's network (:mod:`citelens.flows.analysis`) with the
offline coordinates (:mod:`citelens.places.coordinates`): a country at the median position of its research
organisations, a region or city likewise, an institution at its city (on a world map the organisations of
one city are one point). A unit whose place is not in the coordinates is counted, not drawn. Each point
carries the tie statements the unit takes part in, citing or cited (a tie within the unit counts once);
the arcs are the heaviest ties between two different units that both have a point, with their statements
by type. The result is plain JSON (the ``map`` field of ``GET /api/flows`` and ``citelens flows --json``);
the page draws it as server-side SVG (:func:`citelens.web.flows.map_svg`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from citelens.document import STANCES
from citelens.places.coordinates import LatLng, city_position, coordinates
from citelens.references.resolve import fold

if TYPE_CHECKING:
    from citelens.flows.analysis import FlowNode, FlowReport

COORDINATES_METHOD = ("median position of the unit's research organisations in ROR (0.1°); an institution at its"
                      " city")


def node_position(level: str, node: FlowNode) -> LatLng | None:
    """Where a node of a ``level`` network goes on the map, or None when the coordinates do not know."""
    c = coordinates()
    if level == "country":
        return c.countries.get(node.country)
    if level == "region":
        return c.regions.get((node.country, fold(node.region)))
    return city_position(c, node.country, fold(node.region), fold(node.city))  # a city, or an institution at its city


def flow_map(report: FlowReport, *, points: int = 150, arcs: int = 40) -> dict[str, Any]:
    """The map of ``report``'s network: the ``points`` units with most statements that have coordinates,
    and the ``arcs`` heaviest ties between two of them (see the module docstring)."""
    net = report.network
    nodes = net.node_list
    w = net.values[:, 0] if len(net) else np.zeros(0)
    loop = net.source == net.target
    involved = (np.bincount(net.source, weights=w, minlength=len(nodes))
                + np.bincount(net.target, weights=w * ~loop, minlength=len(nodes)))
    where = [node_position(report.by, n) for n in nodes]
    placed = np.array([p is not None for p in where], dtype=bool)
    order = sorted(np.flatnonzero(placed).tolist(), key=lambda i: (-involved[i], nodes[i].id))[:points]
    drawn = np.zeros(len(nodes), dtype=bool)
    drawn[order] = True
    shown = np.flatnonzero(~loop & drawn[net.source] & drawn[net.target]) if len(net) else np.zeros(0, dtype=int)
    top = net.top(arcs, among=shown)
    return {
        "level": report.by,
        "coordinates": COORDINATES_METHOD,
        "units": len(nodes),
        "units_without_coordinates": int((~placed).sum()),
        "statements_without_coordinates": round(float(involved[~placed].sum()), 4),
        "points": [{"id": nodes[i].id, "label": nodes[i].label, "country": nodes[i].country, "region": nodes[i].region,
                    "lat": where[i][0], "lng": where[i][1],  # type: ignore[index]
                    "statements": round(float(involved[i]), 4)} for i in order],
        "arcs": [{"citing": nodes[net.source[e]].id, "cited": nodes[net.target[e]].id,
                  "citing_label": nodes[net.source[e]].label, "cited_label": nodes[net.target[e]].label,
                  "statements": round(float(net.values[e, 0]), 4),
                  **{s: round(float(v), 4) for s, v in zip(STANCES, net.values[e, 1:].tolist(), strict=True)}}
                 for e in top],
    }
