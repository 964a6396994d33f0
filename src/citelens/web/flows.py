"""Knowledge flows on the web: the ``/flows`` page (server-side SVG, no script) and ``GET /api/flows``.

Both call :func:`citelens.flows.analysis.analyse_flows` — the function behind ``citelens flows --by`` — and
share its JSON shape. The analysis reads the whole index once (:class:`citelens.flows.scan.FlowScan`), so
the scan and each report are index-wide aggregates (``WebContext.aggregate``): reused while the index is
unchanged, and for at least ``stats_seconds`` while an ingest runs; one request computes while the others
wait for it. A report for another unit or filter reuses the scan.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from citelens.document import SECTIONS, STANCES
from citelens.flows.distance import DISTANCES, LEVELS
from citelens.web.context import WebContext
from citelens.web.errors import BadRequest, int_param

DISTANCE_LABELS = {"same_institution": "Same institution", "same_city": "Same city", "same_region": "Same region",
                   "same_country": "Same country", "international": "International"}
MAX_TOP = 50


def flow_params(params: Any) -> dict[str, Any]:
    """Validated analysis parameters from a query string (BadRequest with a readable message otherwise)."""
    by = (params.get("by") or "institution").strip().lower()
    if by not in LEVELS:
        raise BadRequest(f"by must be one of {', '.join(LEVELS)}")
    stance = (params.get("type") or "").strip().lower() or None
    if stance is not None and stance not in STANCES:
        raise BadRequest(f"type must be one of {', '.join(STANCES)}")
    section = (params.get("section") or "").strip().lower() or None
    if section is not None and section not in SECTIONS:
        raise BadRequest(f"section must be one of {', '.join(SECTIONS)}")
    include_self = (params.get("include_self_citations") or "").strip().lower() in ("1", "true", "on", "yes")
    seed = int_param(params, "seed", 0, 2**31 - 1, 1)
    return {"by": by, "stance": stance, "section": section, "include_self_citations": include_self, "seed": seed}


def flow_report(ctx: WebContext, p: dict[str, Any]) -> dict[str, Any]:
    """The report for these parameters: kept while the index is unchanged, like the index scan under it
    (one scan serves every unit, type, section and seed; see citelens.flows.scan)."""
    from citelens.flows.analysis import analyse_flows
    from citelens.flows.scan import FlowScan

    def compute() -> dict[str, Any]:
        scan = ctx.aggregate("flows-scan", lambda: FlowScan.read(ctx.store()))
        return analyse_flows(None, scan=scan, **p).to_dict(top=MAX_TOP)

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


def pairs_svg(pairs: list[dict[str, Any]], limit: int = 12, width: int = 720) -> dict[str, Any]:
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
        bars.append({"y": top + i * row_h, "h": row_h - 6, "label": label if len(label) <= 52 else label[:51] + "…",
                     "full": label, "segs": segs, "value": p["statements"], "end": round(x + 6, 1),
                     "ty": top + i * row_h + row_h / 2 + 1})
    return {"width": width, "height": top + len(pairs) * row_h + 4, "bars": bars, "label_w": label_w - 8}


def flows_routers(ctx: WebContext) -> tuple[APIRouter, APIRouter]:
    """(the page router, the API router — mounted under /api)."""
    pages = APIRouter(include_in_schema=False)
    api = APIRouter()

    @pages.get("/flows", response_class=HTMLResponse)
    def flows_page(request: Request) -> HTMLResponse:
        p = flow_params(request.query_params)
        r = flow_report(ctx, p)
        return ctx.page(request, "flows.html", {
            "r": r, "p": p, "LEVELS": LEVELS, "DISTANCES": DISTANCES, "DISTANCE_LABELS": DISTANCE_LABELS,
            "matrix": matrix_svg(r), "pairs": pairs_svg(r["top_pairs"]),
            "country_pairs": pairs_svg(r["top_country_pairs"]) if p["by"] != "country" else None})

    @api.get("/flows", tags=["flows"],
             summary="Knowledge flows: citation ties by distance × type × section, against a matched-control baseline")
    def flows_api(request: Request,
                  by: str = Query("institution", description="|".join(LEVELS) + ": the unit of the localisation"
                                  " ratio and of the top pairs", examples=["region"]),
                  type: str | None = Query(None, description="|".join(STANCES), examples=["supporting"]),  # noqa: A002 - the API's name
                  section: str | None = Query(None, description="|".join(SECTIONS), examples=["results"]),
                  include_self_citations: bool = Query(False, description="count self-citations too",
                                                       examples=[True]),
                  seed: int = Query(1, description="seed of the control draw and the bootstrap (0 to 2^31-1)",
                                    examples=[1]),
                  top: int = Query(20, description=f"top unit pairs to list (1 to {MAX_TOP})", examples=[10])
                  ) -> dict[str, Any]:
        p = flow_params(request.query_params)
        n = int_param(request.query_params, "top", 1, MAX_TOP, 20) or 20
        r = flow_report(ctx, p)
        return {**r, "top_pairs": r["top_pairs"][:n], "top_country_pairs": r["top_country_pairs"][:n]}

    return pages, api
