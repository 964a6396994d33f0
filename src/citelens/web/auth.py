"""Who may write: curators signed in on the pages (session + CSRF token) and API clients with the token."""

from __future__ import annotations

import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from citelens.serialize import Error
from citelens.web.context import WebContext
from citelens.web.errors import BadRequest, BlankIsDefaultRoute
from citelens.web.paths import prefix


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise BadRequest("the form expired or did not come from this site; reload the page and try again")


def has_api_token(ctx: WebContext, request: Request) -> bool:
    token = ctx.settings.api_token
    if not token:
        return False
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


def require_api_token(ctx: WebContext, request: Request) -> None:
    if not ctx.settings.api_token:
        raise StarletteHTTPException(403, "write endpoints are disabled: set CITELENS_API_TOKEN on the server")
    if not has_api_token(ctx, request):
        raise StarletteHTTPException(401, "a valid API token is required (Authorization: Bearer <token>)",
                                     headers={"WWW-Authenticate": 'Bearer realm="citelens"'})  # RFC 9110 11.6.1


def token_route(ctx: WebContext) -> type[APIRoute]:
    """Route class for API writes: the bearer token is checked before the body is read or validated, so a
    client without the token gets 401, never a 422 that describes the body it would need."""

    class TokenCheckedRoute(BlankIsDefaultRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def checked(request: Request) -> Response:
                require_api_token(ctx, request)
                return await handler(request)

            return checked

    return TokenCheckedRoute


# Documents the token for /openapi.json (a security scheme on each write, so generated clients send it); the check
# itself is the route class's, made before the body is read, so this never answers on its own (auto_error=False).
API_TOKEN_SCHEME = HTTPBearer(auto_error=False, scheme_name="apiToken",
                              description="The server's CITELENS_API_TOKEN, sent as `Authorization: Bearer <token>`")
TOKEN_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Error, "description": "no API token, or not the server's (`WWW-Authenticate: Bearer`)"},
    403: {"model": Error, "description": "writes are disabled: the server has no CITELENS_API_TOKEN"},
}


def token_router(ctx: WebContext) -> APIRouter:
    """A router for API writes: the token is checked first, and the OpenAPI description says so."""
    return APIRouter(route_class=token_route(ctx), dependencies=[Depends(API_TOKEN_SCHEME)],
                     responses=TOKEN_ERROR_RESPONSES)


def safe_next(nxt: str | None) -> str:
    """Only same-site relative paths may be redirect targets (no open redirect via //evil or /\\evil)."""
    if nxt and nxt.startswith("/") and not nxt.startswith(("//", "/\\")) and len(nxt) < 500:
        return nxt
    return "/"


class FailedSignIns:
    """Failed curator sign-ins per client address, for the last ``window`` seconds: after ``limit`` of them that
    address waits until the oldest is ``window`` old. Curator tokens are chosen by people ("change-me"), and
    guessing was otherwise as fast as the server answers. In memory, per process; the table is bounded, dropping
    the address seen longest ago, so a flood of addresses cannot grow it."""

    def __init__(self, limit: int = 10, window: float = 900.0, addresses: int = 10_000) -> None:
        self.limit, self.window, self.addresses = limit, window, addresses
        self._seen: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, client: str) -> int:
        """Seconds ``client`` must wait before trying again (0: it may try now)."""
        now = time.monotonic()
        with self._lock:
            times = [t for t in self._seen.get(client, ()) if now - t < self.window]
            if not times:
                self._seen.pop(client, None)
                return 0
            self._seen[client] = times
            return max(1, math.ceil(times[0] + self.window - now)) if len(times) >= self.limit else 0

    def failed(self, client: str) -> None:
        with self._lock:
            self._seen.setdefault(client, []).append(time.monotonic())
            self._seen.move_to_end(client)
            while len(self._seen) > self.addresses:
                self._seen.popitem(last=False)

    def forget(self, client: str) -> None:
        with self._lock:
            self._seen.pop(client, None)


def auth_router(ctx: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    settings = ctx.settings
    failures = FailedSignIns()

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        return ctx.page(request, "login.html", {"next": safe_next(request.query_params.get("next"))})

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5, max_part_size=4096)
        check_csrf(request, str(form.get("csrf_token") or ""))
        name = str(form.get("name") or "").strip()
        token = str(form.get("token") or "")
        nxt = safe_next(str(form.get("next") or ""))
        client = request.client.host if request.client else ""
        wait = failures.wait(client)
        if wait:
            refused = ctx.page(request, "login.html", {
                "next": nxt, "name": name, "error": f"Too many failed sign-ins from this address; try again in"
                f" {-(-wait // 60)} minute{'' if wait <= 60 else 's'}."}, 429)
            refused.headers["Retry-After"] = str(wait)
            return refused
        expected = settings.curators.get(name)
        # Compare even for unknown names so timing does not reveal which curator names exist.
        ok = hmac.compare_digest(token.encode(), (expected or secrets.token_urlsafe(16)).encode()) and expected
        if not ok:
            failures.failed(client)
            return ctx.page(request, "login.html", {"next": nxt, "error": "Unknown curator name or wrong token.",
                                                    "name": name}, 401)
        failures.forget(client)
        request.session.clear()  # new session id material on privilege change
        request.session["curator"] = name
        request.session["curator_key"] = ctx.curator_key(name)
        request.session["csrf"] = secrets.token_urlsafe(32)
        # A next page from our own links carries the prefix already; the default start page does not.
        return RedirectResponse(nxt if nxt != "/" else prefix(request.scope) + "/", status_code=303)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5, max_part_size=4096)
        check_csrf(request, str(form.get("csrf_token") or ""))
        request.session.clear()
        return RedirectResponse(prefix(request.scope) + "/", status_code=303)

    return router
