"""Server-rendered pages: home, report, statement (with the correction form), search, reference check,
badge, API docs and the "how labels are made" page. Static assets are served from memory."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from citelens import serialize as S
from citelens.check import CheckInputError, check_references, parse_reference_list
from citelens.document import STANCES
from citelens.errors import NotFoundError
from citelens.rankings import (
    TOP_CSV_WEB_MAX,
    TOP_WORKS_BY,
    TOP_WORKS_PER_PAGE,
    TOP_WORKS_PER_PAGE_MAX,
    top_works_csv,
    top_works_rows,
)
from citelens.reference_list import reference_list
from citelens.rules import cited_after_retraction, retraction_year
from citelens.serialize import as_dict
from citelens.spreadsheet import for_excel
from citelens.store import AUTHOR_WORK_SORTS, SearchResults
from citelens.store.query import MAX_QUERY_CHARS
from citelens.web import render
from citelens.web.auth import check_csrf
from citelens.web.context import WebContext, confident_threshold
from citelens.web.errors import (
    BadRequest,
    BlankIsDefaultRoute,
    NotFound,
    StatementId,
    bool_param,
    choice_param,
    int_param,
    min_confidence_query,
    parse_filters,
)
from citelens.web.journals import journal_issn_of
from citelens.web.middleware import UPLOAD_FRAMING_BYTES
from citelens.web.paths import prefix

# A ROR id ("0", six base-32 characters, a two-digit checksum), bare or as its address (https://ror.org/ID, which
# `citelens institution` also takes), in any case: the id's characters are case-insensitive, the index keeps them
# lower-case. A path may arrive with the address's "//" merged into one.
_ROR_IN_PATH = re.compile(r"(?:(?:https?:/+)?ror\.org/)?(0[a-z0-9]{6}\d{2})/?", re.IGNORECASE)


def bare_ror_id(text: str) -> str:
    """The bare, lower-case ROR id ``text`` names ("03dbr7087" for "https://ror.org/03DBR7087"), or ""."""
    m = _ROR_IN_PATH.fullmatch(text.strip()) if len(text) <= 60 else None
    return m.group(1).lower() if m else ""


async def read_upload_form(ctx: WebContext, form: Any) -> tuple[bytes, str, str]:
    """(data, filename, pasted text) from a form with a ``file`` upload and/or a ``text`` field. A file is read to
    at most one byte over the upload limit: enough to know it is too big without holding all of it."""
    upload = form.get("file")
    pasted = str(form.get("text") or "")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        data = await upload.read(ctx.settings.max_upload_bytes + 1)
        return data, upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200], pasted
    return (pasted.encode("utf-8") if pasted.strip() else b""), "", pasted


# The formats the reference check's results download as (``export=``).
CHECK_EXPORTS = ("csv", "json")
# Statements of a sentence that runs past the end of a page are fetched with it (at most this many more).
GROUP_SPILL = 30
# Paper search shows this many papers, best first (no pages: a reader narrows the query instead).
PAPERS_SHOWN = 50
# An institution page lists this many of its authors, the most works first (/api/institutions/{ror} has them all).
INSTITUTION_AUTHORS_SHOWN = 50


def sentence_groups(ctx: WebContext, q: str, filters: dict[str, Any], offset: int, size: int
                    ) -> tuple[SearchResults, list[dict[str, Any]]]:
    """(what the search found and ranked, the sentences starting in statements offset..offset+size, each with all
    its statements). Paging stays by statement (the store's ranking), but a sentence citing several works is
    never split across two pages: it belongs to the page where its first statement falls."""
    start = max(0, offset - 1)
    found, rows = ctx.search_statements(q, limit=size + GROUP_SPILL + (offset - start), offset=start, **filters)

    def key(r: dict[str, Any]) -> tuple[Any, Any]:
        return (r.get("citing_work_id"), r.get("sentence"))

    if offset > start and rows:
        prev = key(rows[0])
        rows = rows[1:]
        while rows and key(rows[0]) == prev:  # the previous page's last sentence, shown there in full
            rows = rows[1:]
            size -= 1
    page = rows[:max(0, size)]
    rest = rows[max(0, size):]
    while page and rest and key(rest[0]) == key(page[-1]):
        page.append(rest.pop(0))
    # Each cited work's notices, flagged as the report page and paper search flag them, and the citation dated
    # against a retraction (a statement citing a retracted work is what an integrity search looks for).
    notices = ctx.cited_notices(page)
    for st in page:
        st["notices"] = notices.get(st.get("cited_work_id") or "", [])
        st["retracted_in"] = retraction_year(st["notices"])
    return found, S.group_by_sentence(page)


def pages_router(ctx: WebContext, app: FastAPI) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    settings = ctx.settings

    @r.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        s = ctx.store()
        most_cited = ctx.aggregate("most_cited", lambda: s.most_cited_works(limit=10))
        recent = ctx.counts.get(("home", "recent"), lambda: as_dict(s.recent_documents(limit=8)))
        return ctx.page(request, "home.html", {"stats": ctx.stats(), "most_cited": most_cited, "recent": recent})

    @r.get("/top", response_class=HTMLResponse)
    def top(request: Request) -> HTMLResponse:
        by = choice_param(request.query_params, "by", TOP_WORKS_BY, "cited") or "cited"
        pg = ctx.page_number(request.query_params)
        threshold, conf_q = min_confidence_query(request.query_params)
        body = ctx.top_works(by, pg, TOP_WORKS_PER_PAGE, threshold)
        # The API's shape, read by the home page's macros: scite's tally names and notice fields back to ours.
        works = [{**w, "notices": [{"kind": n["type"], "date": n["date"]} for n in w["editorialNotices"]],
                  "tallies": S.tallies_from_json(w["tallies"])}
                 for w in body["works"]]
        return ctx.page(request, "top.html", {"by": by, "body": {**body, "works": works}, "page": pg,
                                              "threshold": threshold, "conf_q": conf_q, "csv_max": TOP_CSV_WEB_MAX,
                                              "base_q": {**({"by": by} if by != "cited" else {}), **conf_q}})

    @r.get("/top.csv")
    def top_csv(request: Request) -> Response:
        """The ranking as a spreadsheet: citelens top --csv's rows (rankings.top_works_rows), the first
        TOP_CSV_WEB_MAX works unless ``page`` is given (then ``per_page``, as the API's)."""
        q = request.query_params
        by = choice_param(q, "by", TOP_WORKS_BY, "cited") or "cited"
        threshold, conf_q = min_confidence_query(q)
        excel = bool_param(q, "excel")  # the page's link asks for the byte-order mark (spreadsheet.EXCEL_BOM)
        if q.get("page"):
            pg: int | None = ctx.page_number(q)
            per = int_param(q, "per_page", 1, TOP_WORKS_PER_PAGE_MAX, TOP_WORKS_PER_PAGE) or TOP_WORKS_PER_PAGE
            kept = ctx.kept_ranking(by, threshold, (pg or 1) * per)
        else:
            pg, per = None, TOP_WORKS_PER_PAGE
            # The first TOP_CSV_WEB_MAX works (rankings.TOP_CSV_WEB_MAX says why), from the kept ranking.
            kept = ctx.kept_ranking(by, threshold, TOP_CSV_WEB_MAX)
        rows = top_works_rows(ctx.store(), by, min_confidence=threshold, page=pg, per_page=per, kept=kept,
                              limit=None if pg else TOP_CSV_WEB_MAX)
        body = "".join(top_works_csv(rows, excel=excel))
        name = "-".join(["top", by, *(["sure-" + str(conf_q["min_confidence"])] if conf_q else []),
                         *([f"page-{pg}"] if pg else [])])
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{render.safe_filename(name)}.csv"'})

    @r.get("/reports/{ident:path}", response_class=HTMLResponse)
    def report(request: Request, ident: str) -> HTMLResponse:
        work = ctx.require_work(ident)
        tab = choice_param(request.query_params, "tab", ("citations", "references"), "citations")
        filters = parse_filters(request.query_params)
        pg = ctx.page_number(request.query_params)
        # "Only labels the model is sure of": the tallies, the chart, the list and the References tab's tallies
        # count by the same rule, and the tab's links carry it on (conf_q). Without it, the supporting and
        # contrasting tallies say how many of them the model is sure of.
        threshold, conf_q = min_confidence_query(request.query_params)
        s = ctx.store()
        size = settings.page_size
        references: list[dict[str, Any]] = []
        total, statements = 0, list[dict[str, Any]]()
        if tab == "references":
            # A reference to a retracted (or corrected, or questioned) work is what an editor or integrity team
            # reads a reference list for; retracted_in dates it against this paper's year.
            references = reference_list(s, work["id"], threshold, ctx.tallies_of)
        else:
            total, statements = ctx.citations(work["id"], limit=size, offset=(pg - 1) * size, **filters)
            ctx.with_callout_spans(statements)
        n_refs = s.reference_count(work["id"])
        # A retracted work: how many statements come from papers of later years (cited after the notice, the red
        # flag) and of the notice's year (years alone cannot tell), linked to them through the year filter.
        retracted_in = retraction_year(work.get("notices") or [])
        since_retraction = {"after": 0, "same-year": 0}
        if retracted_in is not None:
            for y in ctx.years_of(work["id"]):
                when = cited_after_retraction(y.get("year"), retracted_in)
                if when in since_retraction:
                    since_retraction[when] += y["total"]
        base_q = {k: v for k, v in request.query_params.items() if k != "page" and v}
        # A section's row in the tallies table lists that section's statements with the page's other filters and
        # threshold kept ("?section=results" alone dropped "only labels the model is sure of", so the tallies
        # above the list changed under the reader), on the statements tab.
        section_q = {k: v for k, v in base_q.items() if k not in ("section", "tab")}
        cut = confident_threshold() if threshold is None else None
        sure = ctx.tallies_of(work["id"], cut) if cut is not None else None
        return ctx.page(request, "report.html", {
            "work": work, "tallies": ctx.tallies_of(work["id"], threshold),
            "sections": ctx.sections_of(work["id"], threshold),
            "chart": render.year_chart(ctx.years_of(work["id"], threshold)), "statements": statements, "total": total,
            "page": pg, "pages": ctx.page_count(total, size), "filters": filters, "base_q": base_q,
            "filtered": any(v for k, v in filters.items() if k != "sort"), "tab": tab, "references": references,
            "n_refs": n_refs, "journal_issn": journal_issn_of(ctx, work), "sure_tallies": sure,
            "conf_q": conf_q, "section_q": section_q, "retracted_in": retracted_in,
            "since_retraction": since_retraction})

    @r.get("/statements/{statement_id}", response_class=HTMLResponse)
    def statement_page(request: Request, statement_id: StatementId) -> HTMLResponse:
        st = ctx.get_statement(statement_id)
        if st is None:
            raise NotFound(f"no citation statement {statement_id}")
        ctx.with_callout_spans([st])
        cited = ctx.get_work(st["cited_work_id"]) if st["cited_work_id"] else None
        return ctx.page(request, "statement.html", {
            "st": st, "cited": cited, "saved": bool_param(request.query_params, "saved"),
            "history": ctx.corrections_of(statement_id),
            "retracted_in": retraction_year(cited.get("notices") or []) if cited else None,
            "citing_journal_issn": journal_issn_of(ctx, {"container": st.get("citing_journal") or ""})})

    @r.get("/authors/{author_id}", response_class=HTMLResponse)
    def author_page(request: Request, author_id: str) -> HTMLResponse:
        # One page of works (a prolific author has hundreds); the figures above the list are over all of them.
        sort = choice_param(request.query_params, "sort", AUTHOR_WORK_SORTS, "newest") or "newest"
        pg = ctx.page_number(request.query_params)
        # "Only labels the model is sure of", as on the report page: every figure and row counts by it, and the
        # links to reports, institutions, co-authors and other pages of works carry it on (conf_q).
        threshold, conf_q = min_confidence_query(request.query_params)
        size = settings.author_works_per_page
        profile = ctx.author_profile(author_id, sort, size, (pg - 1) * size, threshold) \
            if author_id.isdigit() and len(author_id) < 19 else None
        if profile is None:
            raise NotFound(f"no author {author_id[:50]}")
        return ctx.page(request, "author.html", {
            "p": profile, "sort": sort, "page": pg, "pages": ctx.page_count(profile["works_total"], size),
            "first": (pg - 1) * size + 1, "base_q": {**({"sort": sort} if sort != "newest" else {}), **conf_q},
            "threshold": threshold, "conf_q": conf_q})

    @r.get("/institutions/{ror:path}", response_class=HTMLResponse)
    def institution_page(request: Request, ror: str) -> Response:
        threshold, conf_q = min_confidence_query(request.query_params)
        bare = bare_ror_id(ror)
        if bare and bare != ror:  # the address or another case: one page per institution, the query goes along
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"{prefix(request.scope)}/institutions/{bare}{query}", status_code=301)
        # One page of works, as on the author page (same sort= and page=, same page size); the figures above
        # are over all of them. The authors with the most works: a few, the JSON has them all.
        sort = choice_param(request.query_params, "sort", AUTHOR_WORK_SORTS, "newest") or "newest"
        pg = ctx.page_number(request.query_params)
        size = settings.author_works_per_page
        profile = ctx.institution_profile(ror, threshold, sort, size, (pg - 1) * size,
                                          INSTITUTION_AUTHORS_SHOWN) if bare else None
        if profile is None:
            raise NotFound(f"no institution {ror[:50]}")
        return ctx.page(request, "institution.html", {
            "inst": profile, "threshold": threshold, "conf_q": conf_q, "sort": sort, "page": pg,
            "pages": ctx.page_count(profile["works"], size), "first": (pg - 1) * size + 1,
            "base_q": {**({"sort": sort} if sort != "newest" else {}), **conf_q},
            "authors_shown": INSTITUTION_AUTHORS_SHOWN})

    @r.post("/statements/{statement_id}/correct")
    async def correct_page(request: Request, statement_id: StatementId) -> Response:
        form = await request.form(max_files=0, max_fields=10, max_part_size=8192)
        check_csrf(request, str(form.get("csrf_token") or ""))
        curator = ctx.curator(request)
        if not curator:
            raise StarletteHTTPException(403, "sign in as a curator to correct statements")
        stance = str(form.get("type") or "")
        if stance not in STANCES:
            raise BadRequest(f"type must be one of {', '.join(STANCES)}")
        note = str(form.get("note") or "")[:1000]
        def correct() -> None:
            with ctx.writer() as w:
                w.correct_statement(statement_id, stance, curator, note)

        try:
            await run_in_threadpool(correct)
        except NotFoundError:
            raise NotFound(f"no citation statement {statement_id}") from None
        ctx.counts.clear()
        return RedirectResponse(f"{prefix(request.scope)}/statements/{statement_id}?saved=1", status_code=303)

    @r.get("/search", response_class=HTMLResponse)
    def search_page(request: Request) -> HTMLResponse:
        asked = (request.query_params.get("q") or "").strip()
        # The API refuses a longer q (400); a page searches its start and says so (the box holds 500 anyway).
        q, q_cut = asked[:MAX_QUERY_CHARS].strip(), len(asked) > MAX_QUERY_CHARS
        kind = choice_param(request.query_params, "kind", ("statements", "papers"), "statements")
        filters = parse_filters(request.query_params, allow_sort=False)
        pg = ctx.page_number(request.query_params)
        size = settings.page_size
        total, groups, papers = 0, list[dict[str, Any]](), list[dict[str, Any]]()
        more_papers = False
        found: SearchResults | None = None
        if q and kind == "statements":
            found, groups = sentence_groups(ctx, q, filters, (pg - 1) * size, size)
            total = found.total
        people: list[tuple[str, str, str, int]] = []
        journals: list[dict[str, Any]] = []
        institutions: list[dict[str, Any]] = []
        if q and kind == "papers":
            # One more than are shown, to tell "the first 50 of more" from "50 found".
            papers = ctx.search_works(q, limit=PAPERS_SHOWN + 1)
            more_papers = len(papers) > PAPERS_SHOWN
            papers = papers[:PAPERS_SHOWN]
            if filters["min_confidence"] is not None:
                # "Only labels the model is sure of" counts each paper's tallies as its report page does: they
                # counted every label whatever the box said. One read of the work's per-threshold tallies each
                # (the report page's own, cached), for at most PAPERS_SHOWN papers.
                for w in papers:
                    w["tallies"] = ctx.tallies_of(w["id"], filters["min_confidence"])
            total = len(papers)
            # Authors in any position (paper search matches the first author only).
            finders = len(q) <= 200  # the bound of the API's finders (check_finder)
            people = ctx.store().find_authors(q, limit=10) if finders else []
            journals = [j.to_dict() for j in ctx.store().find_journals(q, limit=5)] if finders else []
            # Institutions by the names their authors' affiliations give (the registry's other names: the API's
            # /api/institutions and `citelens institution`, which load the gazetteer for them).
            institutions = [h.to_dict() for h in ctx.store().find_institutions(q, limit=5)] if finders else []
        base_q = {k: v for k, v in request.query_params.items() if k != "page" and v}
        conf_q = min_confidence_query(request.query_params)[1]
        return ctx.page(request, "search.html", {"q": q, "q_cut": q_cut, "kind": kind, "filters": filters, "conf_q": conf_q,
                                                 "groups": groups,
                                                 "papers": papers, "more_papers": more_papers,
                                                 "people": people, "journals": journals, "institutions": institutions,
                                                 "total": total, "found": found, "page": pg,
                                                 "filters_set": any(filters[k] for k in (
                                                     "stance", "section", "year_from", "year_to", "exclude_self")),
                                                 # Pages reach the ranked statements: all of them but when a
                                                 # query matched more than the ranking window.
                                                 "pages": ctx.page_count(found.ranked if found else total, size),
                                                 "base_q": base_q})

    @r.get("/check", response_class=HTMLResponse)
    def check_form(request: Request) -> HTMLResponse:
        choice_param(request.query_params, "export", CHECK_EXPORTS)  # a format it cannot write is a 400 here too
        return ctx.page(request, "check.html", {"limits": settings, "results": None})

    @r.post("/check", response_model=None)
    async def check_submit(request: Request) -> Response:
        limit = settings.max_upload_bytes
        ctx_: dict[str, Any] = {"limits": settings, "results": None}
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + UPLOAD_FRAMING_BYTES:
            return ctx.page(request, "check.html", {**ctx_, "error":
                            f"The upload is too large: the limit is {limit // 1024} KiB."}, 413)
        try:
            form = await request.form(max_files=1, max_fields=6, max_part_size=limit)
        except Exception as exc:  # noqa: BLE001 - multipart errors (too many parts, oversized field) → clear 4xx
            too_big = "maximum size" in str(exc).lower()
            return ctx.page(request, "check.html", {**ctx_, "error":
                            f"The reference list is too large: the limit is {limit // 1024} KiB." if too_big else
                            "The form could not be read (too many fields or a malformed upload)."}, 413 if too_big else 400)
        check_csrf(request, str(form.get("csrf_token") or ""))
        # The form's buttons send export=csv|json; an address may ask for it too (/check?export=csv). Either one
        # naming a format the check does not write is a 400, not the page as if none had been asked for.
        # (str(): a file sent under that name is a bad value, not an object without .strip().)
        export = choice_param({"export": str(form.get("export") or "")}, "export", CHECK_EXPORTS) \
            or choice_param(request.query_params, "export", CHECK_EXPORTS)
        data, filename, pasted = await read_upload_form(ctx, form)
        ctx_["text"] = pasted[:limit]
        if not data:
            ctx_["error"] = "Choose a file or paste references, one per line."
            return ctx.page(request, "check.html", ctx_, 400)
        if len(data) > limit:
            ctx_["error"] = f"{filename or 'The reference list'} is too large: the limit is {limit // 1024} KiB."
            return ctx.page(request, "check.html", ctx_, 413)
        try:
            fmt, refs = await run_in_threadpool(parse_reference_list, data, filename)
        except CheckInputError as exc:
            ctx_["error"] = str(exc)[:500]
            return ctx.page(request, "check.html", ctx_, 400)
        if len(refs) > settings.max_check_references:
            ctx_["error"] = (f"The list has {len(refs)} references; at most {settings.max_check_references}"
                             " can be checked at once. Split it into parts.")
            return ctx.page(request, "check.html", ctx_, 413)
        results = await run_in_threadpool(lambda: check_references(refs, ctx.store()))
        if export:
            from citelens.check import results_csv, results_json

            stem = (filename.rsplit(".", 1)[0] or "references") if filename else "references"
            # excel=1 (the page's CSV button sends it): a byte-order mark, so that Excel reads the names as UTF-8.
            csv_text = for_excel(results_csv(results), bool_param(request.query_params, "excel"))
            body, media = (csv_text, "text/csv; charset=utf-8") if export == "csv" else \
                (results_json(results, fmt), "application/json")
            return Response(body, media_type=media, headers={
                "Content-Disposition": f'attachment; filename="{render.safe_filename(stem)}-check.{export}"'})
        ctx_.update(results=results, fmt=fmt, filename=filename,
                    n_warn=sum(1 for x in results if x.warnings), n_found=sum(1 for x in results if x.work),
                    n_notices=sum(1 for x in results if x.work and x.work.get("notices")))
        return ctx.page(request, "check.html", ctx_)

    @r.get("/badge", response_class=HTMLResponse)
    def badge_help(request: Request) -> HTMLResponse:
        doi = (request.query_params.get("doi") or "").strip()[:300]
        return ctx.page(request, "badge.html", {"doi": doi, "origin": ctx.origin(request)})

    @r.get("/how-labels-are-made", response_class=HTMLResponse)
    def how_labels(request: Request) -> HTMLResponse:
        return ctx.page(request, "labels.html", {"model": render.model_summary()})

    @r.get("/model-card", response_class=HTMLResponse)
    def model_card(request: Request) -> HTMLResponse:
        model = render.model_summary()
        if not model["card"]:
            raise NotFound("the model card (docs/model-card.md) is not installed with this copy; see the source")
        return ctx.page(request, "model_card.html", {"model": model})

    @r.get("/static/{name}")
    def static_file(request: Request, name: str) -> Response:
        item = ctx.static.get(name)
        if item is None:
            raise StarletteHTTPException(404, "Not Found")
        data, ctype, etag = item
        if request.headers.get("if-none-match") == f'"{etag}"':
            return Response(status_code=304)
        return Response(data, media_type=ctype, headers={"ETag": f'"{etag}"', "Cache-Control": "public, max-age=86400"})

    @r.get("/docs", response_class=HTMLResponse)
    def docs(request: Request) -> HTMLResponse:
        spec = app.openapi()
        return ctx.page(request, "docs.html", {"groups": render.api_operation_groups(render.api_operations(spec)),
                                               "spec": spec})

    return r


# An SVG opened directly must not run anything even if it somehow contained script.
BADGE_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def badge_error(status: int, message: str) -> Response:
    """What /badge.svg answers for a request it cannot serve (web.errors calls it): a badge saying ``message``,
    with the error's status — browsers draw an image's body whatever the status — never cached, since a
    failure may pass."""
    return Response(render.badge_error_svg(message), status_code=status, media_type="image/svg+xml",
                    headers={"Cache-Control": "no-store", "Content-Security-Policy": BADGE_CSP})


def badge_router(ctx: WebContext) -> APIRouter:
    r = APIRouter(route_class=BlankIsDefaultRoute)

    # An SVG whatever the status (web.errors answers the badge's errors with badges too), as the description says.
    svg: dict[str, Any] = {"content": {"image/svg+xml": {}}}
    badge_answers: dict[int | str, dict[str, Any]] = {
        200: {**svg, "description": "the badge (\"not indexed\" for a DOI not in the index)"},
        400: {**svg, "description": "a badge naming the bad parameter"},
        422: {**svg, "description": "a badge naming the missing or malformed parameter"}}

    @r.get("/badge.svg", tags=["badge"], summary="SVG badge for a DOI", response_class=Response,
           responses=badge_answers,
           description="Always an SVG image, for <img>: a DOI not in the index is a \"not indexed\" badge (200); a"
                       " missing or bad parameter a badge naming it, with the status 422 or 400.")
    def badge(doi: str, layout: str = "horizontal", show_zero: bool = True, sections: bool = False) -> Response:
        if layout not in ("horizontal", "vertical"):
            raise BadRequest("layout must be horizontal or vertical")
        if len(doi) > 300:
            raise BadRequest("doi is too long")
        if not doi.strip():
            raise BadRequest("doi is empty")
        # A DOI not in the index is an answer, not an error: "not indexed", 200. It may be indexed later, and an
        # image proxy may drop an error status's body (shields.io answers 200 for its "not found" badges since
        # READMEs on GitHub showed them as broken images: badges/shields#11479).
        work = ctx.get_work(doi)
        t = ctx.tallies_of(work["id"], ctx.settings.tallies_min_confidence) if work else None
        sec = ctx.sections_of(work["id"], ctx.settings.tallies_min_confidence) if (work and sections) else None
        svg = render.badge_svg(doi, t, sec, vertical=layout == "vertical", show_zero=show_zero,
                               retracted=bool(work and work.get("retracted")))
        return Response(svg, media_type="image/svg+xml", headers={
            "Cache-Control": "public, max-age=3600", "Content-Security-Policy": BADGE_CSP})

    return r
