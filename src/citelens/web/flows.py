"""Knowledge flows on the web: the ``/flows`` page (server-side SVG, no script) and ``GET /api/flows``.

Both call :func:`citelens.flows.analysis.analyse_flows` — the function behind ``citelens flows --by`` — and
share its JSON shape. The analysis reads the whole index once (:class:`citelens.flows.scan.FlowScan`), so
the scan and each report are index-wide aggregates (``WebContext.aggregate``): reused while the index is
unchanged, and for at least ``stats_seconds`` while an ingest runs; one request computes while the others
wait for it. A report for another unit or filter reuses the scan.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from citelens.document import SECTIONS, STANCES
from citelens.flows.distance import DISTANCES, LEVELS
from citelens.serialize import FlowReport
from citelens.web.context import WebContext
from citelens.web.errors import BlankIsDefaultRoute, bool_param, choice_param, int_param

DISTANCE_LABELS = {"same_institution": "Same institution", "same_city": "Same city", "same_region": "Same region",
                   "same_country": "Same country", "international": "International"}
MAX_TOP = 50
API_TOP = 20  # unit pairs GET /api/flows lists by default
PAGE_TOP = 12  # bars in each of the page's pair charts by default


def flow_params(params: Any) -> dict[str, Any]:
    """Validated analysis parameters from a query string (BadRequest with a readable message otherwise); the
    page and the API both read theirs here."""
    by = choice_param(params, "by", LEVELS, "institution")
    stance = choice_param(params, "type", STANCES)
    section = choice_param(params, "section", SECTIONS)
    include_self = bool_param(params, "include_self_citations")
    seed = int_param(params, "seed", 0, 2**31 - 1, 1)
    return {"by": by, "stance": stance, "section": section, "include_self_citations": include_self, "seed": seed}


def top_param(params: Any, default: int) -> int:
    """``top=``: how many unit pairs to list (API) or draw (page), 1 to MAX_TOP; BadRequest otherwise."""
    return int_param(params, "top", 1, MAX_TOP, default) or default


def flow_report(ctx: WebContext, p: dict[str, Any]) -> dict[str, Any]:
    """The report for these parameters: kept while the index is unchanged, like the index scan under it
    (one scan serves every unit, type, section and seed; see citelens.flows.scan)."""
    from citelens.flows.analysis import analyse_flows
    from citelens.flows.geo import flow_map
    from citelens.flows.scan import FlowScan

    def compute() -> dict[str, Any]:
        scan = ctx.aggregate("flows-scan", lambda: FlowScan.read(ctx.store()))
        report = analyse_flows(None, scan=scan, **p)
        return {**report.to_dict(top=MAX_TOP), "map": flow_map(report)}

    key = "flows:" + ":".join(str(p[k]) for k in ("by", "stance", "section", "include_self_citations", "seed"))
    return ctx.aggregate(key, compute)


def matrix_svg(r: dict[str, Any], width: int = 720) -> dict[str, Any]:
    """Geometry of the distance × type matrix: one row per distance class; a column per type (shaded by the
    cell's share of that type's ties), then all ties and the matched controls' expectation."""
    left, head, row_h = 150, 34, 40
    cols = [*STANCES, "all", "expected"]
    col_w = (width - left - 8) / len(cols)
    n = r["n_statements"] or 0
    totals = r["observed_totals"]
    col_sum = {s: sum(r["observed"][d][s] for d in DISTANCES) for s in STANCES}
    col_sum["all"] = n
    col_sum["expected"] = sum(r["expected"].values())
    cells = []
    for i, d in enumerate(DISTANCES):
        for j, c in enumerate(cols):
            count = r["expected"][d] if c == "expected" else totals[d] if c == "all" else r["observed"][d][c]
            share = count / col_sum[c] if col_sum[c] else 0.0
            cells.append({"x": round(left + j * col_w + 2, 1), "y": head + i * row_h + 2, "w": round(col_w - 4, 1),
                          "h": row_h - 4, "cls": f"bar-{c}" if c in STANCES else "bar-all",
                          "opacity": round(0.06 + 0.84 * share, 3), "count": count, "share": share,
                          "dark": share > 0.55, "cx": round(left + j * col_w + col_w / 2, 1),
                          "cy": head + i * row_h + row_h / 2 + 4, "title": f"{DISTANCE_LABELS[d]}, {c}: {count}"})
    return {"width": width, "height": head + len(DISTANCES) * row_h + 6, "cells": cells,
            "rows": [{"label": DISTANCE_LABELS[d], "y": head + i * row_h + row_h / 2 + 4}
                     for i, d in enumerate(DISTANCES)],
            "cols": [{"label": c.capitalize() if c in STANCES else "All ties" if c == "all" else "Expected",
                      "x": round(left + j * col_w + col_w / 2, 1)} for j, c in enumerate(cols)],
            "left": left}


def pairs_svg(pairs: list[dict[str, Any]], limit: int = PAGE_TOP, width: int = 720) -> dict[str, Any]:
    """Geometry of horizontal bars, one per (citing unit → cited unit), stacked by type."""
    pairs = pairs[:limit]
    label_w, row_h, top = 330, 24, 4
    peak = max((p["statements"] for p in pairs), default=0) or 1
    plot_w = width - label_w - 60
    bars = []
    for i, p in enumerate(pairs):
        x = float(label_w)
        segs = []
        for s in STANCES:
            w = plot_w * p[s] / peak
            if w > 0:
                segs.append({"stance": s, "x": round(x, 1), "w": round(max(w, 0.5), 1)})
                x += w
        label = f"{p['citing_label']} → {p['cited_label']}"
        # The bar's split by type in words, for the chart's text alternative (the colours say it to sighted readers only).
        said = ", ".join(f"{p[s]:.2f} {s}" for s in STANCES if p[s])
        bars.append({"said": said, "y": top + i * row_h, "h": row_h - 6, "label": label if len(label) <= 52 else label[:51] + "…",
                     "full": label, "segs": segs, "value": p["statements"], "end": round(x + 6, 1),
                     "ty": top + i * row_h + row_h / 2 + 1})
    return {"width": width, "height": top + len(pairs) * row_h + 4, "bars": bars, "label_w": label_w - 8}


# The map: equirectangular, latitudes 84° N to 60° S (no land further south has research organisations to draw).
MAP_NORTH, MAP_SOUTH = 84.0, -60.0
SUPPORTING_RGB, CONTRASTING_RGB, MENTIONING = (0x1A, 0x7F, 0x37), (0xC4, 0x32, 0x0A), "#6e7781"  # style.css


def _project(lat: float, lng: float, width: int, height: int) -> tuple[float, float]:
    lat = min(max(lat, MAP_SOUTH), MAP_NORTH)
    return (round((lng + 180.0) / 360.0 * width, 1), round((MAP_NORTH - lat) / (MAP_NORTH - MAP_SOUTH) * height, 1))


@cache
def _backdrop(width: int, height: int) -> str:
    """One SVG path of the 2° cells that hold research organisations (runs along a row merged): the continents
    as research draws them, from the shipped coordinates; numbers only, nothing from the index."""
    from citelens.places.coordinates import coordinates

    c = coordinates()
    step = c.cell_degrees
    rows: dict[int, list[int]] = {}
    for cell_lat, cell_lng in c.cells:
        if MAP_SOUTH <= cell_lat < MAP_NORTH:
            rows.setdefault(cell_lat, []).append(cell_lng)
    parts = []
    for lat, lngs in sorted(rows.items()):
        lngs.sort()
        start = prev = lngs[0]
        for nxt in [*lngs[1:], None]:
            if nxt is not None and nxt == prev + step:
                prev = nxt
                continue
            x0, y0 = _project(lat + step, start, width, height)
            x1, y1 = _project(lat, prev + step, width, height)
            parts.append(f"M{x0} {y0}H{x1}V{y1}H{x0}Z")
            if nxt is not None:
                start = prev = nxt
    return "".join(parts)


def _stance_colour(supporting: float, contrasting: float) -> str:
    """Supporting ÷ (supporting + contrasting) from orange-red (0) to green (1); grey when neither."""
    if supporting + contrasting <= 0:
        return MENTIONING
    t = supporting / (supporting + contrasting)
    return "#" + "".join(f"{round(c + (s - c) * t):02x}" for s, c in zip(SUPPORTING_RGB, CONTRASTING_RGB, strict=True))


def map_svg(m: dict[str, Any], width: int = 720) -> dict[str, Any]:
    """Geometry of the flow map (``citelens.flows.geo.flow_map``): backdrop, graticule, arcs, points."""
    height = round(width * (MAP_NORTH - MAP_SOUTH) / 360.0)
    at = {p["id"]: _project(p["lat"], p["lng"], width, height) for p in m["points"]}
    peak = max((p["statements"] for p in m["points"]), default=0) or 1
    points = [{"x": at[p["id"]][0], "y": at[p["id"]][1], "r": round(2.5 + 11 * (p["statements"] / peak) ** 0.5, 1),
               "label": p["label"], "title": f"{p['label']}: {p['statements']:,.2f} tie statements".replace(".00 ", " ")}
              for p in m["points"]]
    heaviest = max((a["statements"] for a in m["arcs"]), default=0) or 1
    arcs = []
    for a in reversed(m["arcs"]):  # the heaviest drawn last, on top
        (x0, y0), (x1, y1) = at[a["citing"]], at[a["cited"]]
        # Bend to the right of travel (citing → cited), so the two directions of a tie are two arcs.
        mx, my = (x0 + x1) / 2 - (y1 - y0) * 0.2, (y0 + y1) / 2 + (x1 - x0) * 0.2
        sc = a["supporting"] + a["contrasting"]
        arcs.append({"d": f"M{x0} {y0}Q{round(mx, 1)} {round(my, 1)} {x1} {y1}",
                     "width": round(1 + 6 * a["statements"] / heaviest, 1),
                     "colour": _stance_colour(a["supporting"], a["contrasting"]),
                     "title": f"{a['citing_label']} → {a['cited_label']}: {a['statements']:g} statements"
                              f" ({a['supporting']:g} supporting, {a['contrasting']:g} contrasting,"
                              f" {a['mentioning']:g} mentioning)",
                     "share": a["supporting"] / sc if sc else None})
    graticule = ([{"x1": x, "y1": 0, "x2": x, "y2": height} for x in
                  (_project(0, lng, width, height)[0] for lng in range(-150, 180, 30))]
                 + [{"x1": 0, "y1": y, "x2": width, "y2": y} for y in
                    (_project(lat, 0, width, height)[1] for lat in (60, 30, 0, -30))])
    return {"width": width, "height": height, "backdrop": _backdrop(width, height), "graticule": graticule,
            "points": points, "labels": _labels(points, width), "arcs": arcs}


def _labels(points: list[dict[str, Any]], width: float = 720, most: int = 8) -> list[dict[str, Any]]:
    """Labels for the biggest points, right of each (left of a point near the map's right edge, where the label
    was cut off: "Southwest Medical Universi"), skipping one that would overlap a label already placed (each
    point's title and the table name them all)."""
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for p in points:
        text = p["label"] if len(p["label"]) <= 28 else p["label"][:27] + "…"
        span = 5.6 * len(text)  # about 5.6 px a character at 10 px
        x, y, anchor = p["x"] + p["r"] + 2, p["y"] + 4, "start"
        if x + span > width:
            x, anchor = p["x"] - p["r"] - 2, "end"
        left = x if anchor == "start" else x - span
        box = (left, y - 10, left + span, y + 3)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            continue
        placed.append(box)
        out.append({"x": round(x, 1), "y": round(y, 1), "text": text, "anchor": anchor})
        if len(out) == most:
            break
    return out


def flows_routers(ctx: WebContext) -> tuple[APIRouter, APIRouter]:
    """(the page router, the API router — mounted under /api)."""
    pages = APIRouter(include_in_schema=False)
    api = APIRouter(route_class=BlankIsDefaultRoute)

    @pages.get("/flows", response_class=HTMLResponse)
    def flows_page(request: Request) -> HTMLResponse:
        p = flow_params(request.query_params)
        top = top_param(request.query_params, PAGE_TOP)
        r = flow_report(ctx, p)
        return ctx.page(request, "flows.html", {
            "r": r, "p": p, "LEVELS": LEVELS, "DISTANCES": DISTANCES, "DISTANCE_LABELS": DISTANCE_LABELS,
            "matrix": matrix_svg(r), "pairs": pairs_svg(r["top_pairs"], top), "map": map_svg(r["map"]),
            "country_pairs": pairs_svg(r["top_country_pairs"], top) if p["by"] != "country" else None})

    @api.get("/flows", tags=["flows"],
             summary="Knowledge flows: citation ties by distance × type × section, against a matched-control baseline",
             responses={200: {"model": FlowReport}})
    def flows_api(request: Request,
                  by: str = Query("institution", description="|".join(LEVELS) + ": the unit of the localisation"
                                  " ratio and of the top pairs", examples=["region"]),
                  type: str | None = Query(None, description="|".join(STANCES), examples=["supporting"]),  # noqa: A002 - the API's name
                  section: str | None = Query(None, description="|".join(SECTIONS), examples=["results"]),
                  include_self_citations: bool = Query(False, description="count self-citations too",
                                                       examples=[True]),
                  seed: int = Query(1, description="seed of the control draw and the bootstrap (0 to 2^31-1)",
                                    examples=[1]),
                  top: int = Query(API_TOP, description=f"top unit pairs to list (1 to {MAX_TOP})", examples=[10])
                  ) -> dict[str, Any]:
        p = flow_params(request.query_params)
        n = top_param(request.query_params, API_TOP)
        r = flow_report(ctx, p)
        return {**r, "top_pairs": r["top_pairs"][:n], "top_country_pairs": r["top_country_pairs"][:n]}

    return pages, api
