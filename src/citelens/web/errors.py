"""Request errors and their responses: JSON under the API, an SVG badge for the badge, a page elsewhere; never a
traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Coroutine, Iterable
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from citelens.document import SECTIONS, STANCES
from citelens.errors import StoreError
from citelens.serialize import Error
from citelens.store.base import MAX_ROW_ID
from citelens.store.records import CITATION_SORTS
from citelens.web.paths import route_path

log = logging.getLogger("citelens.web")

SORTS = CITATION_SORTS  # the statement orders of /api/citations and the report page
# Paths answered in JSON (the scite-compatible routes are also served at the root path).
JSON_PREFIXES = ("/api/", "/tallies", "/papers", "/search/match_reference", "/collections/api")
# Embedded with <img> on other sites: its errors are badges too (JSON there is a broken image).
BADGE_PATH = "/badge.svg"

# What the OpenAPI description says the JSON routes answer on error: the shape the handlers below send. Without it
# FastAPI documented its own 422 body ({"detail": [...]}, which this server never sends) and no 400 or 404 at all,
# so a client generated from /openapi.json could not read a single error.
JSON_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "a parameter's value is not allowed (`error` names it)"},
    404: {"model": Error, "description": "not in the index"},
    422: {"model": Error, "description": "a malformed body, or a parameter of the wrong type (`details`)"},
}


class BadRequest(Exception):
    """A request parameter is invalid; shown as 400 (JSON for the API, a page otherwise)."""


class NotFound(Exception):
    """The DOI, work or statement asked for is not in the index (404)."""


class BodyTooLarge(StarletteHTTPException):
    """The request body went past the configured limit (raised while the body is being read).

    An HTTPException, because FastAPI re-raises those from its body parsing; any other exception there
    becomes "400 error parsing the body" (a chunked JSON body over the limit got 400, not 413).
    """

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


# A statement id in a path: validated at the edge (422 / 400), never passed on beyond SQLite's range.
StatementId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="statement id")]


def is_json_path(path: str) -> bool:
    return path.startswith(JSON_PREFIXES) or path.endswith((".json", ".atom"))


def check_finder(q: str, limit: int) -> None:
    """The finders' (``/api/authors``, ``/api/institutions``, ``/api/journals``) q and limit, or BadRequest."""
    if not q.strip() or len(q) > 200:
        raise BadRequest("q must be 1 to 200 characters")
    if not 1 <= limit <= 50:
        raise BadRequest("limit must be between 1 and 50")


def int_param(params: Any, name: str, lo: int, hi: int, default: int | None = None) -> int | None:
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


# The spellings FastAPI (pydantic) takes for a declared bool parameter, so that a page reading the same parameter
# by hand takes the same ones as its API route.
_TRUE = frozenset({"1", "true", "on", "yes", "t", "y"})
_FALSE = frozenset({"0", "false", "off", "no", "f", "n"})


def bool_param(params: Any, name: str, default: bool = False) -> bool:
    """A true/false query parameter (``1|true|on|yes|t|y`` or ``0|false|off|no|f|n``, any case); absent or blank:
    ``default``. BadRequest names the parameter otherwise (``maybe`` was read as false)."""
    value = str(params.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in _TRUE | _FALSE:
        raise BadRequest(f"{name} must be true or false")
    return value in _TRUE


def choice_param(params: Any, name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
    """A query parameter that must be one of ``allowed`` (case and edge spaces ignored); absent: ``default``.
    BadRequest names the parameter and the choices otherwise (a blank value is not absent)."""
    choices = tuple(allowed)
    value = (params.get(name) or default or "").strip().lower() or None
    if (value is None and default is not None) or (value is not None and value not in choices):
        raise BadRequest(f"{name} must be one of {', '.join(choices)}")
    return value


def min_confidence_param(value: str | None) -> float | None:
    """``min_confidence=``: a number in 0-1 or ``auto`` (the installed model's dev threshold); absent or blank:
    None (every label counts). BadRequest otherwise."""
    from citelens.stance import resolve_min_confidence

    try:
        return resolve_min_confidence(value)
    except ValueError as e:
        raise BadRequest(str(e)) from None


def min_confidence_query(params: Any) -> tuple[float | None, dict[str, str]]:
    """A page's ``min_confidence=`` (:func:`min_confidence_param`) and the query that carries it on to the pages
    it links to and that its "only labels the model is sure of" checkbox submits: ``{"min_confidence": <as
    given, trimmed>}`` while it is in force ("auto" in any case stays "auto", so it follows the installed model;
    a number stays that number), else ``{}``."""
    raw = params.get("min_confidence")
    threshold = min_confidence_param(raw)
    if threshold is None:
        return None, {}
    given = str(raw).strip()
    return threshold, {"min_confidence": "auto" if given.lower() == "auto" else given}


def parse_filters(params: Any, *, allow_sort: bool = True) -> dict[str, Any]:
    """Statement filters from a query string, validated (raises BadRequest with a readable message)."""
    stance = choice_param(params, "type", STANCES)
    section = choice_param(params, "section", SECTIONS)
    year_from = int_param(params, "year_from", 1000, 3000)
    year_to = int_param(params, "year_to", 1000, 3000)
    if year_from is not None and year_to is not None and year_from > year_to:
        raise BadRequest("year_from must not be after year_to")
    exclude_self = bool_param(params, "exclude_self")
    out = {"stance": stance, "section": section, "year_from": year_from, "year_to": year_to,
           "exclude_self": exclude_self, "min_confidence": min_confidence_param(params.get("min_confidence"))}
    if allow_sort:
        out["sort"] = choice_param(params, "sort", SORTS, "relevance")
    return out


def blank_params_dropped(query_string: bytes, names: Collection[str]) -> bytes:
    """``query_string`` without the parameters among ``names`` that are given blank (``exclude_self=``, ``page=
    ``): an HTML form submits every field, filled or not. The rest is kept byte for byte."""
    if not names or not query_string:
        return query_string
    kept = []
    for part in query_string.split(b"&"):
        name, _, value = (unquote_plus(x.decode("latin-1")) for x in part.partition(b"="))
        if name not in names or value.strip():
            kept.append(part)
    return b"&".join(kept)


class BlankIsDefaultRoute(APIRoute):
    """A route on which an optional query parameter given blank (``?exclude_self=&year_from=``, what a form with
    empty fields sends) takes its default, as if absent, whatever its type: a blank bool or number answered 422
    while a blank text parameter meant "default", and the pages, which read their parameters by hand
    (:func:`int_param`, :func:`bool_param`), already took blank as default. A required parameter given blank is
    left for the route to refuse with its own message (``q must be 1 to 500 characters``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        optional = frozenset(f.alias for f in self.dependant.query_params if not f.field_info.is_required())
        if not optional:
            return handler

        async def blanks_as_default(request: Request) -> Response:
            before = request.scope.get("query_string", b"")
            after = blank_params_dropped(before, optional)
            if after != before:
                # In place, so that a route reading request.query_params by hand sees the same parameters.
                request.scope["query_string"] = after
                request.__dict__.pop("_query_params", None)
            return await handler(request)

        return blanks_as_default


def parameter_problem(error: dict[str, Any]) -> str:
    """One of FastAPI's validation errors in a few words naming the parameter ("show_zero must be true or
    false"), for a badge, which has room for no more."""
    name = str((error.get("loc") or ("", "parameter"))[-1])
    kind = str(error.get("type", ""))
    if kind == "missing":
        return f"{name} is missing"
    if kind.startswith("bool"):
        return f"{name} must be true or false"
    if kind.startswith("int"):
        return f"{name} must be a whole number"
    return f"{name} is not valid"


def allowed_methods(request: Request) -> str:
    """The ``Allow`` header of a 405 (RFC 9110 15.5.6): every method some route serves at this path. FastAPI makes
    one route per method and Starlette's 405 names only the first route that matched the path, so
    ``POST /api/collections/{id}`` answered ``Allow: GET`` though ``DELETE`` is served there too."""
    # Asked method by method through the routes' own matching (included routers nest their routes).
    methods = {method for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
               if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
                      for route in request.app.router.routes)}
    if "GET" in methods:
        methods.add("HEAD")  # HeadAsGet answers HEAD wherever GET is served
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI, render_page: Callable[[Request, int, str], Response],
                           render_badge: Callable[[int, str], Response]) -> None:
    """JSON errors for API paths; ``render_badge(status, message)`` for the badge; ``render_page(request,
    status, message)`` for everything else."""

    def error(request: Request, status: int, message: str) -> Response:
        if route_path(request.scope) == BADGE_PATH:
            return render_badge(status, message if status < 500 else
                                "index busy" if status == 503 else "server error")  # no internals on an image
        if is_json_path(route_path(request.scope)):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        return render_page(request, status, message)

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> Response:
        return error(request, 400, str(exc))

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Response:
        return error(request, 413, exc.detail)  # str() of an HTTPException starts with "413: "

    @app.exception_handler(NotFound)
    async def _nf(request: Request, exc: NotFound) -> Response:
        return error(request, 404, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        if route_path(request.scope) == BADGE_PATH:
            return error(request, 422, "; ".join(parameter_problem(e) for e in exc.errors()))
        if is_json_path(route_path(request.scope)):
            return JSONResponse({"error": "invalid request", "status": 422, "details": details}, status_code=422)
        return error(request, 400, "invalid request: " + "; ".join(d["msg"] for d in details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        msg = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and msg == "Not Found":
            msg = "There is no page at this address."
        resp = error(request, exc.status_code, msg)
        if exc.headers:
            resp.headers.update(exc.headers)
        if exc.status_code == 405:
            resp.headers["Allow"] = allowed_methods(request)
        return resp

    @app.exception_handler(StoreError)
    async def _store_busy(request: Request, exc: StoreError) -> Response:
        log.warning("store error on %s: %s", request.url.path, exc)
        return error(request, 503, "the index is busy or unavailable; try again shortly")

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return error(request, 500, "internal error; the server log has the details")
