"""Journal pages and API: ``/journals/{ISSN}``, ``GET /api/journals/{ISSN}``, ``GET /api/journals?q=`` (the
logic is the store's ``journal_profile`` / ``find_journals``, the same the ``citelens journal`` command calls).

A journal is asked for by ISSN or e-ISSN, in any common spelling ("1544-9173", "15449173"); a page asked
for by the other ISSN or another spelling redirects to the canonical address, so each journal has one URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from citelens.references.identifiers import normalise_issn
from citelens.serialize import JournalProfile, JournalsFound
from citelens.web.api import MIN_CONFIDENCE
from citelens.web.context import WebContext, at_threshold
from citelens.web.errors import (
    BlankIsDefaultRoute,
    NotFound,
    check_finder,
    min_confidence_param,
    min_confidence_query,
)
from citelens.web.paths import prefix


def journals_router(ctx: WebContext) -> APIRouter:
    r = APIRouter(route_class=BlankIsDefaultRoute)

    def profile(ident: str, min_confidence: float | None = None) -> dict[str, Any]:
        issn = normalise_issn(ident) if len(ident) <= 20 else ""
        if not issn:
            raise NotFound(f"no journal {ident[:50]} (an ISSN looks like 1544-9173)")
        # Counted over every statement citing the journal's works (tens of thousands for a large journal): an
        # aggregate like the home page's figures, so reused until the index changes and, while it changes,
        # recounted at most every CITELENS_STATS_SECONDS; one entry per threshold.
        found = ctx.counts.get(("journal", at_threshold(issn, min_confidence)), lambda: _as_dict(ctx.store().journal_profile(
            issn, min_confidence=min_confidence)), min_age=ctx.settings.stats_seconds)
        if found is None:
            raise NotFound(f"no journal {issn} in this index")
        return found

    @r.get("/journals/{ident}", response_class=HTMLResponse, include_in_schema=False)
    def journal_page(request: Request, ident: str) -> Response:
        threshold, conf_q = min_confidence_query(request.query_params)
        j = profile(ident, threshold)
        canonical = j["issn"] or j["eissn"]
        if ident != canonical:  # the query (the threshold) goes along
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"{prefix(request.scope)}/journals/{canonical}{query}", status_code=301)
        return ctx.page(request, "journal.html", {"j": j, "threshold": threshold, "conf_q": conf_q})

    @r.get("/api/journals", tags=["journals"], summary="Find journals by ISSN, e-ISSN, title or abbreviation",
           responses={200: {"model": JournalsFound}})
    def find(q: str = Query(..., description="an ISSN or a title (\"PLoS Biology\", \"PLoS Biol\")",
                            examples=["1544-9173"]),
             limit: int = Query(20, description="1 to 50")) -> dict[str, Any]:
        check_finder(q, limit)
        return {"query": q, "journals": [h.to_dict() for h in ctx.store().find_journals(q, limit=limit)]}

    @r.get("/api/journals/{ident}", tags=["journals"],
           summary="A journal by ISSN or e-ISSN: works, tallies, and supporting ÷ (supporting + contrasting) by"
                   " window, most cited works", responses={200: {"model": JournalProfile}})
    def journal(ident: str = Path(..., max_length=20, description="ISSN or e-ISSN", examples=["1544-9173"]),
                min_confidence: str | None = MIN_CONFIDENCE) -> dict[str, Any]:
        # The answer's "min_confidence" says which threshold the counts used (null: every label).
        return profile(ident, min_confidence_param(min_confidence))

    return r


def journal_issn_of(ctx: WebContext, work: dict[str, Any]) -> str:
    """The ISSN a work's journal page lives at: from the work's own ISSN, else from its journal's name when
    that is exactly a name some journal in the index goes by; "" when neither (no link is drawn)."""
    own = work.get("issn") or work.get("eissn")
    if own:
        return str(own)
    key = (work.get("container") or "")[:300]
    if not key:
        return ""

    def lookup() -> str:
        hits = ctx.store().find_journals(key, limit=1, exact=True)
        return (hits[0].issn or hits[0].eissn) if hits else ""

    return ctx.counts.get(("journal-of", key), lookup)


def _as_dict(p: Any) -> dict[str, Any] | None:
    return p.to_dict() if p is not None else None
