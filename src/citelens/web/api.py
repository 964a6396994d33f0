"""The JSON API: scite-compatible tallies and papers, citation statements, search, curation.

``scite_router`` holds the routes scite's own clients call (Zotero plugin, badge, browser extension); the
app serves it under ``/api`` and at the root path, so pointing a client's base URL at a CiteLens host is
enough. Every response shape comes from :mod:`citelens.serialize`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Body, Path, Query, Request, Response

from citelens import serialize as S
from citelens.document import STANCES, Author
from citelens.errors import NotFoundError
from citelens.institutions import find_institutions
from citelens.rankings import TOP_WORKS_BY, TOP_WORKS_PER_PAGE, TOP_WORKS_PER_PAGE_MAX
from citelens.reference_list import reference_list
from citelens.references.identifiers import normalise_doi
from citelens.references.resolve import WorkRecord, find_matching_work
from citelens.store import AUTHOR_WORK_SORTS
from citelens.store.query import MAX_QUERY_CHARS
from citelens.web.auth import token_router
from citelens.web.context import WebContext
from citelens.web.errors import (
    BadRequest,
    BlankIsDefaultRoute,
    BodyTooLarge,
    NotFound,
    StatementId,
    check_finder,
    choice_param,
    int_param,
    min_confidence_param,
    parse_filters,
)
from citelens.web.paths import prefix

EXAMPLE_DOI = "10.1038/nn1525"
# works[] of GET /api/authors/{id} per page, at most and by default: every work of all but the most prolific.
AUTHOR_WORKS_PER_PAGE_MAX = 1000
AUTHOR_WORKS_MAX_PAGE = 1_000_000
# /api/citations and /api/search: a client pages through every row `total` counts (the pages' own bound, 500,
# is for readers; 10**6 pages of 100 reach 10**8 rows, and an offset that large is still an SQL integer).
API_MAX_PAGE = 1_000_000
# /api/search's orders: the store ranks search results only by how well they match.
SEARCH_SORTS = ("relevance",)
_ROR_ID = re.compile(r"0[a-z0-9]{6}\d{2}")  # ROR ids: "0", six base-32 characters, a two-digit checksum
DOI_LIST = Body(..., examples=[[EXAMPLE_DOI, "10.1073/pnas.1936192100"]],
                description="a JSON array of DOIs; null, empty and non-string entries are skipped")


MIN_CONFIDENCE = Query(
    None, description="count a supporting/contrasting label only when the model's confidence is at least this "
    "(0-1), else as mentioning; 'auto' = the installed model's threshold for precision 0.8 on dev "
    "(docs/model-card.md). Curators' corrections always count.", examples=["auto", "0.8"])
MIN_CONFIDENCE_LIST = Query(
    None, description="with type: list a statement under the label the tallies count it under at this model "
    "confidence (0-1, or 'auto'): a supporting/contrasting label below it is mentioning. The statements keep "
    "their own type and confidence.", examples=["auto", "0.8"])


def _ok(model: type) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model}}


# Characters a DOI keeps as they are in a path this server writes (``next``, ``Link``); the rest is percent-encoded,
# so the link leads back to the same work: ``<>#?%`` and spaces (SICI DOIs, mistyped ones), and ``;`` and ``,``,
# which common Link-header parsers (requests', httpx's) take for the end of the URL.
_DOI_PATH_SAFE = "/:()[]-._~+=@!$&'*"


def doi_path(ident: str) -> str:
    """A DOI or work id as a path segment this server reads back as the same identifier."""
    return quote(ident, safe=_DOI_PATH_SAFE)


def page_links(request: Request, response: Response, path: str, page: int, per_page: int, total: int,
               max_page: int = API_MAX_PAGE) -> dict[str, Any]:
    """``pages``, ``next`` and ``prev`` (paths with the request's other parameters, null at either end) for a page of
    rows, and the same as an RFC 8288 ``Link`` header (next, prev, first, last): a script follows ``next`` to the
    end without computing pages from ``total``, and a generic client follows ``rel="next"``."""
    pages = min(-(-total // per_page) or 1, max_page)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]

    def at(n: int) -> str:
        return f"{prefix(request.scope)}{path}?{urlencode([*kept, ('page', str(n))])}"

    nxt, prev = link_header(response, at, page, pages)
    return {"pages": pages, "next": nxt, "prev": prev}


def link_header(response: Response, at: Callable[[int], str], page: int, pages: int) -> tuple[str | None, str | None]:
    """Set the RFC 8288 ``Link`` header of page ``page`` of ``pages`` (next and prev where there is one, first and
    last always; ``at(n)`` is page n's path) and answer (next, prev). A page past the last has no next, and its prev
    is the last page."""
    nxt = at(page + 1) if page < pages else None
    prev = at(min(page - 1, pages)) if page > 1 else None
    rels = (("next", nxt), ("prev", prev), ("first", at(1)), ("last", at(pages)))
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in rels if url)
    return nxt, prev


def batch_dois(ctx: WebContext, dois: list[Any]) -> list[str]:
    """The usable DOIs of a batch body: strings only, non-empty, at most 300 characters, each once."""
    if len(dois) > ctx.settings.max_batch_dois:
        raise BadRequest(f"at most {ctx.settings.max_batch_dois} DOIs per request")
    seen: dict[str, None] = {}
    for d in dois:
        if isinstance(d, str) and d.strip() and len(d) <= 300:
            seen.setdefault(d, None)
    return list(seen)


def scite_router(ctx: WebContext, *, in_schema: bool = True) -> APIRouter:
    """The routes scite's clients call, with scite's shapes."""
    r = APIRouter(include_in_schema=in_schema, route_class=BlankIsDefaultRoute)

    def threshold(value: str | None) -> float | None:
        # scite's clients never name one: the server's CITELENS_MIN_CONFIDENCE applies unless the request does
        # ("min_confidence=0" counts every label).
        return min_confidence_param(value) if value is not None else ctx.settings.tallies_min_confidence

    @r.get("/tallies/cited-by-sections/{doi:path}", tags=["tallies"], summary="Tallies by section (scite's path)",
           responses=_ok(S.SectionTallies))
    def sections_scite(doi: str, min_confidence: str | None = MIN_CONFIDENCE) -> dict[str, Any]:
        work = ctx.require_work(doi)
        return S.section_tallies_json(ctx.sections_of(work["id"], threshold(min_confidence)),
                                      work["doi"] or work["id"])

    @r.get("/tallies/{doi:path}/sections", tags=["tallies"], summary="Tallies by section of the citing paper",
           responses=_ok(S.SectionTallies))
    def sections(doi: str, min_confidence: str | None = MIN_CONFIDENCE) -> dict[str, Any]:
        work = ctx.require_work(doi)
        out = S.section_tallies_json(ctx.sections_of(work["id"], threshold(min_confidence)))
        return out

    @r.get("/tallies/{doi:path}", tags=["tallies"], summary="Citation tallies for one DOI", responses=_ok(S.Tallies))
    def tally(doi: str, min_confidence: str | None = MIN_CONFIDENCE) -> dict[str, Any]:
        work = ctx.require_work(doi)
        return S.tallies_json(work["doi"] or work["id"],
                              ctx.tallies_of(work["id"], threshold(min_confidence)), retracted=bool(work.get("retracted")))

    @r.post("/tallies", tags=["tallies"], summary="Tallies for many DOIs (at most 500; unknown DOIs are left out)",
            responses=_ok(S.TalliesBatch))
    def tallies_batch(dois: list[Any] = DOI_LIST) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for doi in batch_dois(ctx, dois):
            work = ctx.get_work(doi)
            if work:
                out[doi] = S.tallies_json(work["doi"] or work["id"],
                                          ctx.tallies_of(work["id"], ctx.settings.tallies_min_confidence),
                                          retracted=bool(work.get("retracted")))
        return {"tallies": out}

    @r.post("/tallies/cited-by-sections", tags=["tallies"],
            summary="Tallies by section for many DOIs (at most 500; unknown DOIs are left out)",
            responses=_ok(S.SectionTalliesBatch))
    def sections_batch(dois: list[Any] = DOI_LIST) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for doi in batch_dois(ctx, dois):
            work = ctx.get_work(doi)
            if work:
                out[doi] = S.section_tallies_json(ctx.sections_of(work["id"], ctx.settings.tallies_min_confidence),
                                                  work["doi"] or work["id"])
        return {"tallies": out}

    @r.post("/papers", tags=["papers"], summary="Metadata and editorial notices for many DOIs (at most 500)",
            responses=_ok(S.PapersBatch))
    def papers_batch(dois: list[Any] = DOI_LIST) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for doi in batch_dois(ctx, dois):
            work = ctx.get_work(doi)
            if work:
                out[doi] = S.paper_json(work)
        return {"papers": out}

    @r.get("/papers/{doi:path}", tags=["papers"], summary="Metadata and editorial notices for one DOI",
           responses=_ok(S.Paper))
    def paper(doi: str) -> dict[str, Any]:
        return S.paper_json(ctx.require_work(doi))

    @r.get("/search/match_reference", tags=["papers"], responses=_ok(S.MatchReference),
           summary="Find the work a reference without a DOI stands for (title and first author's surname)")
    def match_reference(title: str = Query("", max_length=1000, examples=["Millisecond-timescale, genetically targeted optical control of neural activity"]),
                        first_author: str = Query("", max_length=200, examples=["Boyden"]),
                        year: int | None = Query(None, ge=1000, le=3000,
                                                 description="publication year (optional; helps the match)")
                        ) -> dict[str, Any]:
        if not title.strip() and not first_author.strip():
            raise BadRequest("give title and/or first_author")
        doi = normalise_doi(title)
        rec = WorkRecord(title=title.strip(), year=year, doi=doi,
                         authors=[Author(family=first_author.strip())] if first_author.strip() else [])
        s = ctx.store()
        # Read-only: find_matching_work only queries the index, it never adds a work.
        wid, method, score = find_matching_work(rec, s)
        return S.match_reference_json(ctx.get_work(wid) if wid else None, method, score)

    return r


def works_page_params(sort: str, page: int, per_page: int) -> str:
    """An author's or institution's works page, as asked: the sort (400 for one it cannot give) after checking
    ``page`` (a page past 10**18 would be an offset no SQL integer holds) and ``per_page``."""
    sort = choice_param({"sort": sort}, "sort", AUTHOR_WORK_SORTS, "newest") or "newest"
    if not 1 <= page <= AUTHOR_WORKS_MAX_PAGE:
        raise BadRequest(f"page must be between 1 and {AUTHOR_WORKS_MAX_PAGE}")
    if not 1 <= per_page <= AUTHOR_WORKS_PER_PAGE_MAX:
        raise BadRequest(f"per_page must be between 1 and {AUTHOR_WORKS_PER_PAGE_MAX}")
    return sort


def works_page_fields(request: Request, response: Response, path: str, sort: str, page: int, per_page: int,
                      min_confidence: str | None, total: int) -> dict[str, Any]:
    """The paging fields of an author's or institution's answer (``works_page``, ``works_per_page``,
    ``works_pages``, ``works_next``: the path of the next page, null on the last), and the ``Link`` header with
    next, prev, first and last, as /api/citations and /api/search give them; ``min_confidence`` as the client
    wrote it, carried on to the other pages."""
    query: dict[str, Any] = {"sort": sort, "page": page, "per_page": per_page}
    if min_confidence is not None:
        query["min_confidence"] = str(min_confidence).strip()
    pages = WebContext.page_count(total, per_page)
    nxt, _prev = link_header(response, lambda n: f"{prefix(request.scope)}{path}?{urlencode({**query, 'page': n})}",
                             page, pages)
    return {"works_page": page, "works_per_page": per_page, "works_pages": pages, "works_next": nxt}


def api_router(ctx: WebContext) -> APIRouter:
    """Everything under /api besides the scite routes."""
    r = APIRouter(route_class=BlankIsDefaultRoute)

    @r.get("/citations/{doi:path}", tags=["statements"], summary="Citation statements citing a DOI",
           responses=_ok(S.CitationsPage))
    def citations(request: Request, response: Response, doi: str, type: str | None = Query(None, description="|".join(STANCES)),
                  section: str | None = Query(None, description="introduction|methods|results|discussion|other"),
                  page: int = Query(1, description=f"1 to {API_MAX_PAGE}"),
                  per_page: int = Query(20, description="1 to 100"),
                  year_from: int | None = None, year_to: int | None = None, exclude_self: bool = False,
                  sort: str = Query("relevance", description="relevance|newest|oldest|confidence"),
                  min_confidence: str | None = MIN_CONFIDENCE_LIST) -> dict[str, Any]:
        work = ctx.require_work(doi)
        filters = parse_filters(request.query_params)
        pg = int_param(request.query_params, "page", 1, API_MAX_PAGE, 1) or 1
        per = int_param(request.query_params, "per_page", 1, 100, 20) or 20
        total, rows = ctx.citations(work["id"], limit=per, offset=(pg - 1) * per, **filters)
        links = page_links(request, response, f"/api/citations/{doi_path(work['doi'] or work['id'])}", pg, per, total)
        return {"doi": work["doi"], "work_id": work["id"], "total": total, "page": pg, "per_page": per, **links,
                "min_confidence": filters["min_confidence"], "citations": [S.statement_json(x) for x in rows]}

    @r.get("/references/{doi:path}", tags=["papers"], responses=_ok(S.ReferenceList),
           summary="A paper's own reference list: each entry's matched work, its notices and tallies",
           description="The report page's References tab: the references of a paper whose full text is in the index,"
                       " in its order, each with the work it resolved to and how, that work's editorial notices (a"
                       " retracted one dated against this paper's year) and its tallies, counted at `min_confidence`"
                       " when given. A paper the index only knows as cited has `full_text: false` and no references.")
    def references(doi: str, min_confidence: str | None = MIN_CONFIDENCE) -> dict[str, Any]:
        work = ctx.require_work(doi)
        threshold = min_confidence_param(min_confidence)
        refs = reference_list(ctx.store(), work["id"], threshold, ctx.tallies_of)
        return S.reference_list_json(work, refs, threshold)

    @r.get("/search", tags=["statements"], summary="Full-text search over citation statements",
           responses=_ok(S.SearchPage))
    def search(request: Request, response: Response, q: str = Query(..., examples=["channelrhodopsin"], description=(
                   'every word must appear; "a phrase", prefix*, OR between alternatives, -word or -"a phrase"'
                   " to leave statements out; 1 to 500 characters")),
               type: str | None = Query(None, description="|".join(STANCES)),
               section: str | None = Query(None, description="introduction|methods|results|discussion|other"),
               page: int = Query(1, description=f"1 to {API_MAX_PAGE}"),
               per_page: int = Query(20, description="1 to 100"), year_from: int | None = None,
               year_to: int | None = None, exclude_self: bool = False,
               sort: str = Query("relevance", description="relevance, the only order of search results"),
               min_confidence: str | None = MIN_CONFIDENCE_LIST) -> dict[str, Any]:
        if not q.strip() or len(q) > MAX_QUERY_CHARS:
            raise BadRequest(f"q must be 1 to {MAX_QUERY_CHARS} characters")
        # Named, so that sort=newest is refused rather than silently answered in relevance order.
        if sort.strip().lower() not in SEARCH_SORTS:
            raise BadRequest(f"sort must be one of {', '.join(SEARCH_SORTS)}: search results are ranked by how well"
                             f" they match q (newest, oldest and confidence order /api/citations/{{doi}})")
        filters = parse_filters(request.query_params, allow_sort=False)
        pg = int_param(request.query_params, "page", 1, API_MAX_PAGE, 1) or 1
        per = int_param(request.query_params, "per_page", 1, 100, 20) or 20
        found, rows = ctx.search_statements(q, limit=per, offset=(pg - 1) * per, **filters)
        notices = ctx.cited_notices(rows)  # cited_retracted, cited_notices…: as the search page flags them
        results = [S.statement_json(x, notices) for x in rows]
        grouped = S.group_by_sentence(results)
        for g in grouped:
            g["snippet"] = g["statements"][0].get("snippet")
        # Pages (and next) reach the ranked statements: every match, but when the query matched more than the
        # ranking window, whose best the pages then hold (S.search_ranking_json says so).
        return {"query": q, "total": found.total, **S.search_ranking_json(found), "page": pg, "per_page": per,
                **page_links(request, response, "/api/search", pg, per, found.ranked),
                "min_confidence": filters["min_confidence"], "results": results, "grouped": grouped}

    @r.get("/works", tags=["papers"], summary="Search papers by title words, first-author surname or DOI",
           responses=_ok(S.WorksPage))
    def works(q: str = Query(..., examples=["optogenetics"]),
              limit: int = Query(20, description="1 to 50")) -> dict[str, Any]:
        if not q.strip() or len(q) > MAX_QUERY_CHARS:
            raise BadRequest(f"q must be 1 to {MAX_QUERY_CHARS} characters")
        if not 1 <= limit <= 50:
            raise BadRequest("limit must be between 1 and 50")
        found = ctx.search_works(q, limit=limit)
        return {"query": q, "works": [{**S.paper_json(w), "id": w["id"],
                                       "tallies": S.tallies_json(w["doi"] or w["id"], w["tallies"],
                                                                 retracted=bool(w.get("retracted")))} for w in found]}

    @r.get("/works/top", tags=["papers"], summary="The index's works ranked: most cited, supported or contrasted",
           responses=_ok(S.TopWorks))
    def works_top(request: Request, response: Response,
                  by: str = Query("cited", examples=["contrasting"],
                                  description="cited (citing publications) | supporting | contrasting"),
                  page: int = Query(1, description=f"1 to {API_MAX_PAGE}"),
                  per_page: int = Query(TOP_WORKS_PER_PAGE, description=f"1 to {TOP_WORKS_PER_PAGE_MAX}"),
                  min_confidence: str | None = MIN_CONFIDENCE) -> dict[str, Any]:
        if by not in TOP_WORKS_BY:
            raise BadRequest(f"by must be one of {', '.join(TOP_WORKS_BY)}")
        pg = int_param(request.query_params, "page", 1, API_MAX_PAGE, 1) or 1
        per = int_param(request.query_params, "per_page", 1, TOP_WORKS_PER_PAGE_MAX, TOP_WORKS_PER_PAGE) \
            or TOP_WORKS_PER_PAGE
        body = ctx.top_works(by, pg, per, min_confidence_param(min_confidence))
        return {**body, **page_links(request, response, "/api/works/top", pg, per, body["total"])}

    @r.get("/authors", tags=["authors"], summary="Find authors by ORCID, author id or name (any author position)",
           responses=_ok(S.AuthorsFound))
    def authors(q: str = Query(..., description="an ORCID, an author id or a name (\"Hillel Adesnik\", \"Adesnik, H\")",
                               examples=["0000-0002-3796-8643"]),
                limit: int = Query(20, description="1 to 50")) -> dict[str, Any]:
        check_finder(q, limit)
        found = ctx.store().find_authors(q, limit=limit)
        return {"query": q, "authors": [{"id": i, "name": n, "orcid": o, "documents": d} for i, n, o, d in found]}

    @r.get("/authors/{author_id}", tags=["authors"],
           summary="An author: works in the index with tallies, aggregate tallies, co-authors, affiliations",
           responses=_ok(S.AuthorProfile))
    def author(request: Request, response: Response,
               author_id: str = Path(..., max_length=40, description="author id (digits)", examples=["109"]),
               sort: str = Query("newest", description="order of works[]: " + ", ".join(AUTHOR_WORK_SORTS)),
               page: int = Query(1, description="page of works[], from 1"),
               per_page: int = Query(AUTHOR_WORKS_PER_PAGE_MAX,
                                     description=f"works per page, 1 to {AUTHOR_WORKS_PER_PAGE_MAX}"),
               min_confidence: str | None = MIN_CONFIDENCE) -> dict[str, Any]:
        sort = works_page_params(sort, page, per_page)
        # Not the server's CITELENS_MIN_CONFIDENCE (that is for scite's clients, which cannot ask): a client of
        # this route names its threshold, and the answer's "min_confidence" says which one counted (null: all).
        threshold = min_confidence_param(min_confidence)
        profile = ctx.author_profile(author_id, sort, per_page, (page - 1) * per_page, threshold) \
            if author_id.isdigit() and len(author_id) < 19 else None
        if profile is None:
            raise NotFound(f"no author {author_id[:50]}")
        # The figures are over all the works; works[] is one page of them (every work of all but the most
        # prolific authors at the default per_page). works_next: the path of the next page, null on the last; the
        # Link header gives it too, with prev, first and last, as /api/citations and /api/search do.
        return {**profile, **works_page_fields(request, response, f"/api/authors/{author_id}", sort, page, per_page,
                                               min_confidence if threshold is not None else None,
                                               profile["works_total"])}

    @r.get("/institutions", tags=["authors"],
           summary="Find institutions by ROR id, name, or another name the ROR registry lists (most authors first)",
           responses=_ok(S.InstitutionsFound))
    def institutions(q: str = Query(..., description="a ROR id or address, or a name (\"Kyoto University\","
                                                     " \"kyoto univ\", \"Instituto Tecnológico de Massachusetts\")",
                                    examples=["Massachusetts Institute of Technology", "Instituto Tecnológico de Massachusetts"]),
                     limit: int = Query(20, description="1 to 50")) -> dict[str, Any]:
        check_finder(q, limit)
        return {"query": q, "institutions": [h.to_dict() for h in find_institutions(ctx.store(), q, limit)]}

    @r.get("/institutions/{ror}", tags=["authors"],
           summary="An institution by ROR id: works, tallies, and supporting ÷ (supporting + contrasting) by window",
           responses=_ok(S.InstitutionProfile))
    def institution(request: Request, response: Response,
                    ror: str = Path(..., max_length=40, description="ROR id without https://ror.org/",
                                    examples=["041kmwe10"]),
                    sort: str = Query("newest", description="order of works_list[]: " + ", ".join(AUTHOR_WORK_SORTS)),
                    page: int = Query(1, description="page of works_list[], from 1"),
                    per_page: int = Query(AUTHOR_WORKS_PER_PAGE_MAX,
                                          description=f"works per page, 1 to {AUTHOR_WORKS_PER_PAGE_MAX}"),
                    min_confidence: str | None = MIN_CONFIDENCE) -> dict[str, Any]:
        # The author route's paging: the same parameters, limits and answer fields (works_list[] stands for
        # the author's works[]: here "works" was the count first).
        sort = works_page_params(sort, page, per_page)
        threshold = min_confidence_param(min_confidence)  # "min_confidence" in the answer: which one counted
        profile = ctx.institution_profile(ror, threshold, sort, per_page, (page - 1) * per_page, None) \
            if _ROR_ID.fullmatch(ror) else None
        if profile is None:
            raise NotFound(f"no institution {ror[:50]}")
        return {**profile, **works_page_fields(request, response, f"/api/institutions/{ror}", sort, page, per_page,
                                               min_confidence if threshold is not None else None, profile["works"])}

    @r.get("/statements/{statement_id}", tags=["statements"], summary="One citation statement",
           responses=_ok(S.Statement))
    def statement(statement_id: StatementId) -> dict[str, Any]:
        st = ctx.get_statement(statement_id)
        if st is None:
            raise NotFound(f"no citation statement {statement_id}")
        return S.statement_json(st)

    @r.get("/statements/{statement_id}/corrections", tags=["curation"],
           summary="Who corrected a statement's type, when, from what to what and why (oldest first)",
           responses=_ok(S.StatementCorrections))
    def corrections(statement_id: StatementId) -> dict[str, Any]:
        if ctx.get_statement(statement_id) is None:
            raise NotFound(f"no citation statement {statement_id}")
        return {"statement_id": statement_id, "corrections": [
            {k: c[k] for k in ("id", "created_at", "curator", "old_stance", "stance", "note")}
            for c in ctx.corrections_of(statement_id)]}

    writes = token_router(ctx)  # the token is checked before the body

    @writes.post("/statements/{statement_id}/correction", tags=["curation"], responses=_ok(S.Statement),
                 summary="Set a statement's type (needs the API token); overrides the model in tallies")
    def correct(statement_id: StatementId,
                body: dict[str, str] = Body(..., examples=[{"type": "supporting", "curator": "alice",
                                                            "note": "explicitly agrees"}])) -> dict[str, Any]:
        stance = body.get("type", "")
        if stance not in STANCES:
            raise BadRequest(f"type must be one of {', '.join(STANCES)}")
        curator = (body.get("curator") or "api").strip()[:100] or "api"
        try:
            with ctx.writer() as w:
                st = w.correct_statement(statement_id, stance, curator, (body.get("note") or "")[:1000])
        except NotFoundError:
            raise NotFound(f"no citation statement {statement_id}") from None
        ctx.counts.clear()
        return S.statement_json(st)

    r.include_router(writes)

    @r.post("/check", tags=["check"], responses=_ok(S.CheckResults),
            summary="Reference check of a manuscript or reference list sent as the request body (read-only)",
            description="The body is the file itself (PDF, .docx, BibTeX, RIS, CSL JSON, JATS XML or text, any"
                        " common encoding), e.g. `curl --data-binary @paper.pdf '…/api/check?filename=paper.pdf'`;"
                        " `filename` helps tell the format. Nothing is stored.")
    async def check(request: Request, filename: str = Query("", max_length=200, examples=["paper.pdf"])
                    ) -> dict[str, Any]:
        from starlette.concurrency import run_in_threadpool

        from citelens.check import CheckInputError, check_references, parse_reference_list
        from citelens.serialize import check_result_json

        data = await request.body()
        if len(data) > ctx.settings.max_upload_bytes:  # 413, as every body over a limit (docs/web.md)
            raise BodyTooLarge(f"the file is too large: the limit is {ctx.settings.max_upload_bytes // 1024} KiB")
        if not data.strip():
            raise BadRequest("the request body is empty: send the file as the body")
        name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        try:
            fmt, refs = await run_in_threadpool(parse_reference_list, data, name)
        except CheckInputError as exc:
            raise BadRequest(str(exc)[:500]) from None
        if len(refs) > ctx.settings.max_check_references:
            raise BadRequest(f"the list has {len(refs)} references; at most {ctx.settings.max_check_references}"
                             " can be checked at once")
        results = await run_in_threadpool(lambda: check_references(refs, ctx.store()))
        return {"format": fmt, "references": [check_result_json(c) for c in results]}

    @r.get("/health", tags=["meta"], summary="Liveness and index size", responses=_ok(S.Health))
    def health() -> dict[str, Any]:
        # Opened afresh, as a new worker thread would: this thread's open connection keeps reading an index file
        # that was moved or deleted, so the answer was 200 while every page a new thread served was 503.
        ctx.check_index()
        st = ctx.stats()
        return {"ok": True, "documents": st["documents"], "statements": st["statements"]}

    return r
