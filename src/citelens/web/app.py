"""The CiteLens web app: server-rendered pages, a JSON API (scite-compatible shapes) and an embeddable badge.

Design notes
- One read-only SQLite connection per worker thread, closed when the thread ends (see ``connections``);
  FastAPI runs the plain ``def`` endpoints in a thread pool. Corrections open a short-lived writer.
- No request path ever reaches the filesystem: static assets are read once at start-up into memory and
  served from a fixed name → bytes table; uploads are read into memory with a hard size limit.
- Every page is rendered by Jinja2 with autoescape; the Content-Security-Policy forbids inline scripts
  and third-party requests, so even a missed escape could not run script.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import math
import secrets
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from citelens.document import SECTIONS, STANCES
from citelens.errors import NotFoundError, StoreError
from citelens.store import Store, open_store
from citelens.web import render
from citelens.web.connections import ThreadStores, short_lived
from citelens.web.refcheck import CheckInputError, check_references, parse_reference_list
from citelens.web.settings import Settings

log = logging.getLogger("citelens.web")

WEB_DIR = Path(__file__).resolve().parent
SORT_LABELS = {"relevance": "Most relevant", "newest": "Newest first", "oldest": "Oldest first",
               "confidence": "Highest confidence"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
       " form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json"}


class SecurityHeaders:
    """Pure ASGI middleware (cheaper than ``@app.middleware``): CSP and friends on every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                if "content-security-policy" not in h:
                    h["Content-Security-Policy"] = CSP
                h["X-Content-Type-Options"] = "nosniff"
                h["Referrer-Policy"] = "no-referrer"
                h["X-Frame-Options"] = "DENY"
                if path.startswith(("/api/", "/badge")) or path == "/static/badge.js":
                    # Read endpoints and the badge are meant for other sites; no credentials are involved.
                    h["Access-Control-Allow-Origin"] = "*"
                if path.startswith("/badge"):
                    h["Cross-Origin-Resource-Policy"] = "cross-origin"  # embedded with <img> elsewhere
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    """The request body went past the configured limit (raised while the body is being read)."""


class BodyLimit:
    """Pure ASGI middleware: stop reading a request body after ``max_bytes``.

    Checking Content-Length is not enough (chunked uploads have none) and Starlette's multipart parser
    would otherwise spool any amount of file data to a temporary file.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > self.max_bytes and scope["path"] != "/check":
            # Refuse before reading anything (the reference-check page explains the limit itself).
            body = json.dumps({"error": f"request body exceeds the maximum size ({self.max_bytes // 1024} KiB)",
                               "status": 413}).encode()
            await send({"type": "http.response.start", "status": 413,
                        "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(f"request body exceeds the maximum size ({self.max_bytes // 1024} KiB)")
            return message

        await self.app(scope, limited_receive, send)


class TTLCache:
    """Per-process cache of a work's aggregate counts, so a much-cited work's tallies are not recounted on
    every request. Entries expire after ``seconds`` (ingests by other processes show up then) and this
    process's own corrections clear it at once. ``seconds <= 0`` disables caching."""

    def __init__(self, seconds: float, maxsize: int = 20_000) -> None:
        self.seconds = seconds
        self.maxsize = maxsize
        self._data: dict[tuple[str, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], compute: Any) -> Any:
        if self.seconds <= 0:
            return compute()
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        with self._lock:
            if len(self._data) >= self.maxsize:
                self._data.clear()  # crude but bounded; a full cache is rebuilt from hot keys quickly
            self._data[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class BadRequest(Exception):
    """A request parameter is invalid; shown as 400 (JSON for the API, a page otherwise)."""


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)


# --------------------------------------------------------------------------------------- parameters

def _int_param(params: Any, name: str, lo: int, hi: int, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise BadRequest(f"{name} must be a whole number") from None
    if not lo <= value <= hi:
        raise BadRequest(f"{name} must be between {lo} and {hi}")
    return value


def parse_filters(params: Any, *, allow_sort: bool = True) -> dict[str, Any]:
    """Statement filters from a query string, validated (raises BadRequest with a readable message)."""
    stance = (params.get("type") or "").strip().lower() or None
    if stance is not None and stance not in STANCES:
        raise BadRequest(f"type must be one of {', '.join(STANCES)}")
    section = (params.get("section") or "").strip().lower() or None
    if section is not None and section not in SECTIONS:
        raise BadRequest(f"section must be one of {', '.join(SECTIONS)}")
    year_from = _int_param(params, "year_from", 1000, 3000)
    year_to = _int_param(params, "year_to", 1000, 3000)
    if year_from is not None and year_to is not None and year_from > year_to:
        raise BadRequest("year_from must not be after year_to")
    exclude_self = (params.get("exclude_self") or "").lower() in ("1", "true", "on", "yes")
    out = {"stance": stance, "section": section, "year_from": year_from, "year_to": year_to,
           "exclude_self": exclude_self}
    if allow_sort:
        sort = (params.get("sort") or "relevance").strip().lower()
        if sort not in SORT_LABELS:
            raise BadRequest(f"sort must be one of {', '.join(SORT_LABELS)}")
        out["sort"] = sort
    return out


def api_tallies(doi: str, t: dict[str, int]) -> dict[str, Any]:
    """The scite tallies shape (``contradicting`` is scite's name for contrasting)."""
    return {"doi": doi, "total": t["total"], "supporting": t["supporting"], "contradicting": t["contrasting"],
            "mentioning": t["mentioning"], "unclassified": t["unclassified"],
            "citingPublications": t["citing_publications"]}


def api_paper(work: dict[str, Any]) -> dict[str, Any]:
    return {"doi": work["doi"], "title": work["title"],
            "authors": [{"family": a.get("family", ""), "given": a.get("given", "")} for a in work["authors"]],
            "year": work["year"], "journal": work["container"], "retracted": work["retracted"],
            "editorialNotices": [{"type": n["kind"], "doi": n["doi"], "title": n["title"], "date": n["date"]}
                                 for n in work["notices"]]}


def api_statement(st: dict[str, Any]) -> dict[str, Any]:
    out = {k: st.get(k) for k in ("id", "sentence", "before", "after", "callout_start", "callout_end", "type",
                                  "confidence", "model_stance", "model_confidence", "evidence", "section",
                                  "section_title", "self_citation", "corrected", "corrected_by", "citing_doi",
                                  "citing_title", "citing_year", "citing_work_id", "cited_work_id", "cited_doi")}
    if "snippet" in st:
        out["snippet"] = st["snippet"].replace("\x02", "<<").replace("\x03", ">>")
    return out


# ---------------------------------------------------------------------------------------------- app

def create_app(store_path: str | Path, settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app serving the index at ``store_path`` (an existing SQLite file)."""
    settings = settings or Settings.from_env()
    store_path = str(store_path)
    readers = ThreadStores(lambda: open_store(store_path, readonly=True))
    store = readers.get

    def writer() -> contextlib.AbstractContextManager[Store]:
        # A web request should not hang behind a long ingest: wait a little, then answer 503.
        return short_lived(lambda: open_store(store_path, write_wait=settings.write_wait_seconds))

    stats_cache: dict[str, Any] = {}
    counts = TTLCache(settings.cache_seconds)

    def tallies_of(work_id: str) -> dict[str, int]:
        return counts.get(("t", work_id), lambda: store().tallies(work_id))

    def sections_of(work_id: str) -> dict[str, dict[str, int]]:
        return counts.get(("s", work_id), lambda: store().section_tallies(work_id))

    def years_of(work_id: str) -> list[dict[str, Any]]:
        return counts.get(("y", work_id), lambda: store().year_tallies(work_id))

    # Static assets: read once, served from memory by name (no request path touches the disk).
    static: dict[str, tuple[bytes, str, str]] = {}
    for p in sorted((WEB_DIR / "static").iterdir()):
        if p.is_file() and p.suffix in STATIC_TYPES:
            data = p.read_bytes()
            static[p.name] = (data, STATIC_TYPES[p.suffix], hashlib.sha256(data).hexdigest()[:16])

    env = Environment(loader=FileSystemLoader(str(WEB_DIR / "templates")), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(STANCES=STANCES, SECTIONS=SECTIONS, SORT_LABELS=SORT_LABELS, report_path=render.report_path,
                       highlight_callout=render.highlight_callout, highlight_snippet=render.highlight_snippet,
                       STANCE_LABELS=render.STANCE_LABELS,
                       asset=lambda name: f"/static/{name}?v={static[name][2]}" if name in static else f"/static/{name}")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        readers.close_all()

    app = FastAPI(title="CiteLens", version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Smart citation index: supporting, contrasting and mentioning citation statements."
                              " Read endpoints are open; write endpoints need `Authorization: Bearer <token>`.")
    app.state.settings = settings
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie="citelens_session",
                       same_site="strict", https_only=settings.secure_cookies, max_age=8 * 3600)

    # Room for multipart framing and the other form fields around an upload of the maximum size.
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes + 64 * 1024)
    app.add_middleware(SecurityHeaders)

    # ------------------------------------------------------------------------------ rendering helpers
    def session_of(request: Request) -> dict[str, Any]:
        # The 500 handler runs outside the session middleware; render without a session there.
        sess = request.scope.get("session")
        return sess if isinstance(sess, dict) else {}

    def session_csrf(request: Request) -> str:
        sess = session_of(request)
        tok = sess.get("csrf")
        if not tok:
            tok = secrets.token_urlsafe(32)
            sess["csrf"] = tok
        return tok

    def check_csrf(request: Request, sent: str | None) -> None:
        expected = request.session.get("csrf")
        if not expected or not sent or not hmac.compare_digest(expected, sent):
            raise BadRequest("the form expired or did not come from this site; reload the page and try again")

    def page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
        ctx = {**ctx, "request": request, "curator": session_of(request).get("curator"),
               "csrf_token": session_csrf(request), "sign_in_enabled": bool(settings.curators)}
        html = env.get_template(name).render(ctx)
        return HTMLResponse(html, status_code=status)

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error(request: Request, status: int, message: str) -> Response:
        if is_api(request) or request.url.path.startswith("/badge"):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        return page(request, "error.html", {"status": status, "message": message}, status)

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> Response:
        return error(request, 400, str(exc))

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Response:
        return error(request, 413, str(exc))

    @app.exception_handler(NotFound)
    async def _nf(request: Request, exc: NotFound) -> Response:
        return error(request, 404, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        if is_api(request):
            return JSONResponse({"error": "invalid request", "status": 422, "details": details}, status_code=422)
        return error(request, 400, "invalid request: " + "; ".join(d["msg"] for d in details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        msg = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and msg == "Not Found":
            msg = "There is no page at this address."
        return error(request, exc.status_code, msg)

    @app.exception_handler(StoreError)
    async def _store_busy(request: Request, exc: StoreError) -> Response:
        log.warning("store error on %s: %s", request.url.path, exc)
        return error(request, 503, "the index is busy or unavailable; try again shortly")

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error(request, 500, "internal error; the server log has the details")

    def require_work(ident: str) -> dict[str, Any]:
        ident = ident.strip()
        if not ident or len(ident) > 300:
            raise BadRequest("give a DOI or a work id such as W12")
        work = store().get_work(ident)
        if work is None:
            raise NotFound(f"{ident} is not in this index")
        return work

    def require_api_token(request: Request) -> None:
        if not settings.api_token:
            raise StarletteHTTPException(403, "write endpoints are disabled: set CITELENS_API_TOKEN on the server")
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.api_token.encode()):
            raise StarletteHTTPException(401, "a valid API token is required (Authorization: Bearer <token>)")

    def page_number(params: Any) -> int:
        return _int_param(params, "page", 1, settings.max_page, 1) or 1

    # -------------------------------------------------------------------------------------------- pages
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        # stats() scans whole tables (seconds at millions of statements): cache it briefly per process.
        now = time.monotonic()
        if stats_cache.get("at", -1e9) < now - 300:
            stats_cache.update(at=now, stats=store().stats())
        return page(request, "home.html", {"stats": stats_cache["stats"]})

    @app.get("/reports/{ident:path}", response_class=HTMLResponse, include_in_schema=False)
    def report(request: Request, ident: str) -> HTMLResponse:
        work = require_work(ident)
        filters = parse_filters(request.query_params)
        pg = page_number(request.query_params)
        s = store()
        size = settings.page_size
        total, statements = s.citations(work["id"], limit=size, offset=(pg - 1) * size, **filters)
        tallies = tallies_of(work["id"])
        sections = sections_of(work["id"])
        chart = render.year_chart(years_of(work["id"]))
        pages = max(1, math.ceil(total / size))
        base_q = {k: v for k, v in request.query_params.items() if k != "page" and v}
        return page(request, "report.html", {
            "work": work, "tallies": tallies, "sections": sections, "chart": chart, "statements": statements,
            "total": total, "page": pg, "pages": pages, "filters": filters, "base_q": base_q,
            "filtered": any(v for k, v in filters.items() if k != "sort")})

    @app.get("/statements/{statement_id}", response_class=HTMLResponse, include_in_schema=False)
    def statement_page(request: Request, statement_id: int) -> HTMLResponse:
        st = store().get_statement(statement_id)
        if st is None:
            raise NotFound(f"no citation statement {statement_id}")
        cited = store().get_work(st["cited_work_id"]) if st["cited_work_id"] else None
        return page(request, "statement.html", {"st": st, "cited": cited,
                                                "saved": request.query_params.get("saved") == "1"})

    @app.post("/statements/{statement_id}/correct", include_in_schema=False)
    async def correct_page(request: Request, statement_id: int) -> Response:
        form = await request.form(max_files=0, max_fields=10, max_part_size=8192)
        check_csrf(request, str(form.get("csrf_token") or ""))
        curator = request.session.get("curator")
        if not curator or curator not in settings.curators:
            raise StarletteHTTPException(403, "sign in as a curator to correct statements")
        stance = str(form.get("type") or "")
        if stance not in STANCES:
            raise BadRequest(f"type must be one of {', '.join(STANCES)}")
        note = str(form.get("note") or "")[:1000]
        from starlette.concurrency import run_in_threadpool

        try:
            def correct() -> None:
                with writer() as w:
                    w.correct_statement(statement_id, stance, curator, note)

            await run_in_threadpool(correct)
        except NotFoundError:
            raise NotFound(f"no citation statement {statement_id}") from None
        counts.clear()
        return RedirectResponse(f"/statements/{statement_id}?saved=1", status_code=303)

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request) -> HTMLResponse:
        q = (request.query_params.get("q") or "").strip()[:500]
        kind = request.query_params.get("kind") or "statements"
        if kind not in ("statements", "papers"):
            raise BadRequest("kind must be statements or papers")
        filters = parse_filters(request.query_params, allow_sort=False)
        pg = page_number(request.query_params)
        size = settings.page_size
        total, results, papers = 0, [], []
        if q and kind == "statements":
            total, results = store().search_statements(q, limit=size, offset=(pg - 1) * size, **filters)
        elif q:
            papers = store().search_works(q, limit=50)
            total = len(papers)
        base_q = {k: v for k, v in request.query_params.items() if k != "page" and v}
        return page(request, "search.html", {"q": q, "kind": kind, "filters": filters, "results": results,
                                             "papers": papers, "total": total, "page": pg,
                                             "pages": max(1, math.ceil(total / size)), "base_q": base_q})

    @app.get("/check", response_class=HTMLResponse, include_in_schema=False)
    def check_form(request: Request) -> HTMLResponse:
        return page(request, "check.html", {"limits": settings, "results": None})

    @app.post("/check", response_class=HTMLResponse, include_in_schema=False)
    async def check_submit(request: Request) -> HTMLResponse:
        limit = settings.max_upload_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + 64 * 1024:
            return page(request, "check.html", {"limits": settings, "results": None, "error":
                        f"The upload is too large: the limit is {limit // 1024} KiB."}, 413)
        try:
            form = await request.form(max_files=1, max_fields=5, max_part_size=limit)
        except Exception as exc:  # noqa: BLE001 - multipart errors (too many parts, oversized field) → clear 4xx
            too_big = "maximum size" in str(exc).lower()
            return page(request, "check.html", {"limits": settings, "results": None, "error":
                        f"The reference list is too large: the limit is {limit // 1024} KiB." if too_big else
                        "The form could not be read (too many fields or a malformed upload)."}, 413 if too_big else 400)
        check_csrf(request, str(form.get("csrf_token") or ""))
        upload = form.get("file")
        pasted = str(form.get("text") or "")
        data, filename = b"", ""
        if upload is not None and not isinstance(upload, str) and upload.filename:
            # Read at most limit+1 bytes: enough to know the file is too big without holding all of it.
            data = await upload.read(limit + 1)
            filename = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]  # display/format hint only
        elif pasted.strip():
            data = pasted.encode("utf-8")
        ctx: dict[str, Any] = {"limits": settings, "results": None, "text": pasted[:limit]}
        if not data:
            ctx["error"] = "Choose a file or paste references, one per line."
            return page(request, "check.html", ctx, 400)
        if len(data) > limit:
            ctx["error"] = f"The reference list is too large: the limit is {limit // 1024} KiB."
            return page(request, "check.html", ctx, 413)
        from starlette.concurrency import run_in_threadpool

        try:
            fmt, refs = await run_in_threadpool(parse_reference_list, data, filename)
        except CheckInputError as exc:
            ctx["error"] = str(exc)[:500]
            return page(request, "check.html", ctx, 400)
        if len(refs) > settings.max_check_references:
            ctx["error"] = (f"The list has {len(refs)} references; at most {settings.max_check_references}"
                            " can be checked at once. Split it into parts.")
            return page(request, "check.html", ctx, 413)
        results = await run_in_threadpool(lambda: check_references(refs, store()))
        ctx.update(results=results, fmt=fmt, filename=filename,
                   n_warn=sum(1 for r in results if r.warnings), n_found=sum(1 for r in results if r.work))
        return page(request, "check.html", ctx)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html", {"next": _safe_next(request.query_params.get("next"))})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5, max_part_size=4096)
        check_csrf(request, str(form.get("csrf_token") or ""))
        name = str(form.get("name") or "").strip()
        token = str(form.get("token") or "")
        nxt = _safe_next(str(form.get("next") or ""))
        expected = settings.curators.get(name)
        # Compare even for unknown names so timing does not reveal which curator names exist.
        ok = hmac.compare_digest(token.encode(), (expected or secrets.token_urlsafe(16)).encode()) and expected
        if not ok:
            return page(request, "login.html", {"next": nxt, "error": "Unknown curator name or wrong token.",
                                                "name": name}, 401)
        request.session.clear()  # new session id material on privilege change
        request.session["curator"] = name
        request.session["csrf"] = secrets.token_urlsafe(32)
        return RedirectResponse(nxt, status_code=303)

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5, max_part_size=4096)
        check_csrf(request, str(form.get("csrf_token") or ""))
        request.session.clear()
        return RedirectResponse("/", status_code=303)

    @app.get("/badge", response_class=HTMLResponse, include_in_schema=False)
    def badge_help(request: Request) -> HTMLResponse:
        doi = (request.query_params.get("doi") or "").strip()[:300]
        return page(request, "badge.html", {"doi": doi, "origin": str(request.base_url).rstrip("/")})

    @app.get("/badge.svg", include_in_schema=True, tags=["badge"], summary="SVG badge for a DOI")
    def badge(request: Request, doi: str, layout: str = "horizontal", show_zero: bool = True,
              sections: bool = False) -> Response:
        if layout not in ("horizontal", "vertical"):
            raise BadRequest("layout must be horizontal or vertical")
        if len(doi) > 300:
            raise BadRequest("doi is too long")
        s = store()
        work = s.get_work(doi) if doi.strip() else None
        t = tallies_of(work["id"]) if work else None
        sec = sections_of(work["id"]) if (work and sections) else None
        svg = render.badge_svg(doi, t, sec, vertical=layout == "vertical", show_zero=show_zero)
        return Response(svg, media_type="image/svg+xml", headers={
            "Cache-Control": "public, max-age=3600",
            # An SVG opened directly must not run anything even if it somehow contained script.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(request: Request, name: str) -> Response:
        item = static.get(name)
        if item is None:
            raise StarletteHTTPException(404, "Not Found")
        data, ctype, etag = item
        if request.headers.get("if-none-match") == f'"{etag}"':
            return Response(status_code=304)
        return Response(data, media_type=ctype, headers={"ETag": f'"{etag}"', "Cache-Control": "public, max-age=86400"})

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        spec = app.openapi()
        ops = []
        for path, methods in spec.get("paths", {}).items():
            for method, op in methods.items():
                params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                           "type": p.get("schema", {}).get("type", p.get("schema", {}).get("anyOf", [{}])[0].get("type", "")),
                           "description": p.get("description", "")} for p in op.get("parameters", [])]
                ops.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                            "description": op.get("description", ""), "params": params,
                            "body": "requestBody" in op, "tag": (op.get("tags") or ["api"])[0]})
        return page(request, "docs.html", {"ops": ops, "spec": spec})

    # ---------------------------------------------------------------------------------------------- API
    @app.get("/api/tallies/{doi:path}/sections", tags=["tallies"], summary="Tallies by section of the citing paper")
    def api_sections(doi: str) -> dict[str, int]:
        work = require_work(doi)
        sec = sections_of(work["id"])
        out = {name: sec.get(name, {}).get("total", 0) for name in SECTIONS}
        out["total"] = sum(out.values())
        return out

    @app.get("/api/tallies/{doi:path}", tags=["tallies"], summary="Citation tallies for one DOI")
    def api_tally(doi: str) -> dict[str, Any]:
        work = require_work(doi)
        return api_tallies(work["doi"] or work["id"], tallies_of(work["id"]))

    @app.post("/api/tallies", tags=["tallies"], summary="Tallies for many DOIs (unknown DOIs are left out)")
    def api_tallies_batch(dois: list[str] = Body(..., examples=[["10.1371/journal.pcbi.0030051"]])) -> dict[str, Any]:
        if len(dois) > settings.max_batch_dois:
            raise BadRequest(f"at most {settings.max_batch_dois} DOIs per request")
        s = store()
        out: dict[str, Any] = {}
        for doi in dois:
            if not isinstance(doi, str) or len(doi) > 300:
                continue
            work = s.get_work(doi)
            if work:
                out[doi] = api_tallies(work["doi"] or work["id"], tallies_of(work["id"]))
        return {"tallies": out}

    @app.post("/api/papers", tags=["papers"], summary="Metadata and editorial notices for many DOIs")
    def api_papers(dois: list[str] = Body(..., examples=[["10.1371/journal.pcbi.0030051"]])) -> dict[str, Any]:
        if len(dois) > settings.max_batch_dois:
            raise BadRequest(f"at most {settings.max_batch_dois} DOIs per request")
        s = store()
        out: dict[str, Any] = {}
        for doi in dois:
            if len(doi) > 300:
                continue
            work = s.get_work(doi)
            if work:
                out[doi] = api_paper(work)
        return {"papers": out}

    @app.get("/api/papers/{doi:path}", tags=["papers"], summary="Metadata and editorial notices for one DOI")
    def api_paper_one(doi: str) -> dict[str, Any]:
        return api_paper(require_work(doi))

    @app.get("/api/citations/{doi:path}", tags=["statements"], summary="Citation statements citing a DOI")
    def api_citations(request: Request, doi: str, type: str | None = None, section: str | None = None,
                      page: int = 1, per_page: int = 20, year_from: int | None = None, year_to: int | None = None,
                      exclude_self: bool = False, sort: str = "relevance") -> dict[str, Any]:
        work = require_work(doi)
        filters = parse_filters(request.query_params)
        pg = page_number(request.query_params)
        per = _int_param(request.query_params, "per_page", 1, 100, 20) or 20
        total, rows = store().citations(work["id"], limit=per, offset=(pg - 1) * per, **filters)
        return {"doi": work["doi"], "work_id": work["id"], "total": total, "page": pg, "per_page": per,
                "citations": [api_statement(r) for r in rows]}

    @app.get("/api/search", tags=["statements"], summary="Full-text search over citation statements")
    def api_search(request: Request, q: str, type: str | None = None, section: str | None = None, page: int = 1,
                   per_page: int = 20, year_from: int | None = None, year_to: int | None = None,
                   exclude_self: bool = False) -> dict[str, Any]:
        if not q.strip() or len(q) > 500:
            raise BadRequest("q must be 1 to 500 characters")
        filters = parse_filters(request.query_params, allow_sort=False)
        pg = page_number(request.query_params)
        per = _int_param(request.query_params, "per_page", 1, 100, 20) or 20
        total, rows = store().search_statements(q, limit=per, offset=(pg - 1) * per, **filters)
        return {"query": q, "total": total, "page": pg, "per_page": per,
                "results": [api_statement(r) for r in rows]}

    @app.get("/api/works", tags=["papers"], summary="Search papers by title words, first-author surname or DOI")
    def api_works(q: str, limit: int = 20) -> dict[str, Any]:
        if not q.strip() or len(q) > 500:
            raise BadRequest("q must be 1 to 500 characters")
        if not 1 <= limit <= 50:
            raise BadRequest("limit must be between 1 and 50")
        works = store().search_works(q, limit=limit)
        return {"query": q, "works": [{**api_paper(w), "id": w["id"], "tallies": api_tallies(w["doi"] or w["id"],
                                                                                              w["tallies"])}
                                      for w in works]}

    @app.get("/api/statements/{statement_id}", tags=["statements"], summary="One citation statement")
    def api_statement_one(statement_id: int) -> dict[str, Any]:
        st = store().get_statement(statement_id)
        if st is None:
            raise NotFound(f"no citation statement {statement_id}")
        return api_statement(st)

    @app.post("/api/statements/{statement_id}/correction", tags=["curation"],
              summary="Set a statement's type (needs the API token); overrides the model in tallies")
    def api_correct(request: Request, statement_id: int,
                    body: dict[str, str] = Body(..., examples=[{"type": "supporting", "curator": "alice",
                                                                "note": "explicitly agrees"}])) -> dict[str, Any]:
        require_api_token(request)
        stance = body.get("type", "")
        if stance not in STANCES:
            raise BadRequest(f"type must be one of {', '.join(STANCES)}")
        curator = (body.get("curator") or "api").strip()[:100] or "api"
        try:
            with writer() as w:
                st = w.correct_statement(statement_id, stance, curator, (body.get("note") or "")[:1000])
        except NotFoundError:
            raise NotFound(f"no citation statement {statement_id}") from None
        counts.clear()
        return api_statement(st)

    @app.get("/api/health", tags=["meta"], summary="Liveness and index size")
    def api_health() -> dict[str, Any]:
        st = store().stats()
        return {"ok": True, "documents": st["documents"], "statements": st["statements"]}

    return app


def _safe_next(nxt: str | None) -> str:
    """Only same-site relative paths may be redirect targets (no open redirect via //evil or /\\evil)."""
    if nxt and nxt.startswith("/") and not nxt.startswith(("//", "/\\")) and len(nxt) < 500:
        return nxt
    return "/"


def app_from_env() -> FastAPI:
    """Factory for multi-worker uvicorn: the database path comes from ``CITELENS_DB``."""
    import os

    return create_app(os.environ["CITELENS_DB"], Settings.from_env())
