"""Who may write: curators signed in on the pages (session + CSRF token) and API clients with the token."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import os
import secrets
import sqlite3
import stat
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from citelens.serialize import Error
from citelens.store import is_postgres_url
from citelens.web.context import WebContext
from citelens.web.errors import BadRequest, BlankIsDefaultRoute
from citelens.web.paths import prefix

log = logging.getLogger("citelens.web")


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
    guessing was otherwise as fast as the server answers. In memory, for one process: what
    :class:`SharedFailedSignIns` falls back to when its file cannot be used. The table is bounded, dropping the
    address seen longest ago, so a flood of addresses cannot grow it."""

    def __init__(self, limit: int = 10, window: float = 900.0, addresses: int = 10_000) -> None:
        self.limit, self.window, self.addresses = limit, window, addresses
        self._seen: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.RLock()  # reentrant: attempt() holds it across wait() and failed()

    def wait(self, client: str) -> int:
        """Seconds ``client`` must wait before trying again (0: it may try now)."""
        now = time.monotonic()
        with self._lock:
            times = [t for t in self._seen.get(client, ()) if now - t < self.window]
            if not times:
                self._seen.pop(client, None)
                return 0
            self._seen[client] = times
            return max(1, math.ceil(times[-self.limit] + self.window - now)) if len(times) >= self.limit else 0

    def failed(self, client: str) -> None:
        with self._lock:
            self._seen.setdefault(client, []).append(time.monotonic())
            self._seen.move_to_end(client)
            while len(self._seen) > self.addresses:
                self._seen.popitem(last=False)

    def attempt(self, client: str) -> int:
        """Count an attempt as failed before the token is compared (:meth:`forget` undoes it on success); the
        seconds to wait instead when ``client`` has had its ``limit``. One step, so that parallel requests cannot
        all pass the check first."""
        with self._lock:
            wait = self.wait(client)
            if not wait:
                self.failed(client)
            return wait

    def forget(self, client: str) -> None:
        with self._lock:
            self._seen.pop(client, None)


class SharedFailedSignIns:
    """:class:`FailedSignIns` shared by every server process that uses the same file: the workers of
    ``serve --workers N`` each counted alone, so an address had N times 10 guesses in 15 minutes.

    Where the count lives, and why there: not in the index. The server opens the index read-only (``mode=ro``, no
    write lock: a read-only file, a replica or a snapshot must serve), a table in it would be a schema change on
    both backends, and a write there would wait behind a running ingest's write lock (up to 15 s, then 503) — a
    sign-in must not. So a small SQLite file of its own, which every worker on the machine can open: in
    ``CITELENS_STATE_DIR`` when set, else in a private folder of the temporary directory named after the index
    (:func:`sign_in_state_file`), so that processes serving the same index — a SQLite file by its real path, a
    PostgreSQL database by its URL — share it without any setting. Servers on several machines behind one
    proxy do not share it (each machine counts alone).

    Times are wall-clock (``time.time()``): monotonic clocks are per process. Every attempt is recorded before
    the token is compared, in one ``BEGIN IMMEDIATE`` with the check, so requests racing on several workers
    cannot all pass the check first; a right token then forgets the address everywhere. Rows older than the
    window are dropped as new ones come, and at most ``rows`` are kept (a flood of addresses cannot grow the
    file). When the file cannot be used (a full disk, a folder removed), the call counts in this process's
    memory instead and the server logs it once: sign-in keeps working, limited per process as before."""

    def __init__(self, path: Path, limit: int = 10, window: float = 900.0, rows: int = 100_000) -> None:
        self.path, self.limit, self.window, self.rows = path, limit, window, rows
        self.local = FailedSignIns(limit, window)
        self._warned = False

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        con.execute("CREATE TABLE IF NOT EXISTS failed_sign_ins (client TEXT NOT NULL, at REAL NOT NULL)")
        con.execute("CREATE INDEX IF NOT EXISTS failed_sign_ins_client ON failed_sign_ins (client, at)")
        return con

    def _fall_back(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            log.warning("failed sign-ins are counted in this process only: %s cannot be used (%s)", self.path, exc)

    def attempt(self, client: str) -> int:
        """As :meth:`FailedSignIns.attempt`, for every process sharing the file."""
        now = time.time()
        try:
            with contextlib.closing(self._connect()) as con:
                con.execute("BEGIN IMMEDIATE")
                try:
                    con.execute("DELETE FROM failed_sign_ins WHERE at <= ?", (now - self.window,))
                    times = [t for (t,) in con.execute(
                        "SELECT at FROM failed_sign_ins WHERE client = ? ORDER BY at", (client,))]
                    if len(times) >= self.limit:
                        wait = max(1, math.ceil(times[-self.limit] + self.window - now))
                    else:
                        wait = 0
                        con.execute("INSERT INTO failed_sign_ins (client, at) VALUES (?, ?)", (client, now))
                        con.execute("DELETE FROM failed_sign_ins WHERE rowid <= (SELECT max(rowid) FROM"
                                    " failed_sign_ins) - ?", (self.rows,))
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            return wait
        except (sqlite3.Error, OSError) as exc:
            self._fall_back(exc)
            return self.local.attempt(client)

    def forget(self, client: str) -> None:
        self.local.forget(client)
        try:
            with contextlib.closing(self._connect()) as con:
                con.execute("DELETE FROM failed_sign_ins WHERE client = ?", (client,))
        except (sqlite3.Error, OSError) as exc:
            self._fall_back(exc)


STATE_FILE = "sign-in-failures.sqlite3"


def sign_in_state_file(store_path: str, state_dir: str | None) -> Path | None:
    """The file :class:`SharedFailedSignIns` keeps its count in: ``STATE_FILE`` in ``state_dir`` when given;
    else one per index in ``<tmp>/citelens-<uid>``, a folder only this user may enter (another local user must
    neither read the addresses nor plant a file or link there). None when that folder is not safe to use."""
    if state_dir:
        return Path(state_dir) / STATE_FILE
    identity = store_path if is_postgres_url(store_path) else os.path.realpath(store_path)
    folder = Path(tempfile.gettempdir()) / f"citelens-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(folder)
    except OSError as exc:
        log.warning("failed sign-ins are counted per process: cannot make %s (%s)", folder, exc)
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        log.warning("failed sign-ins are counted per process: %s is not a private folder of this user"
                    " (set CITELENS_STATE_DIR)", folder)
        return None
    digest = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return folder / f"sign-in-failures-{digest}.sqlite3"


def auth_router(ctx: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    settings = ctx.settings
    state_file = sign_in_state_file(ctx.store_path, settings.state_dir)
    failures: FailedSignIns | SharedFailedSignIns = (FailedSignIns() if state_file is None
                                                     else SharedFailedSignIns(state_file))

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
        # Counted as failed now, before the token is compared, and forgotten below if it was right: workers
        # answering at once could otherwise all pass the check first. (A thread: the file may wait on a lock.)
        wait = await run_in_threadpool(failures.attempt, client)
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
            return ctx.page(request, "login.html", {"next": nxt, "error": "Unknown curator name or wrong token.",
                                                    "name": name}, 401)
        await run_in_threadpool(failures.forget, client)
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
