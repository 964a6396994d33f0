"""Pure ASGI middleware (cheaper than ``@app.middleware``): security headers, CORS, request body limits."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.datastructures import MutableHeaders

from citelens.web.errors import BodyTooLarge
from citelens.web.paths import route_path

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
       " form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

# Read endpoints that other sites call from a browser (scite's badge, extension and Zotero plugin): under
# /api/ and, so that a bare host can stand in for scite's API host, at the root path too.
_BATCH_READS = frozenset(p + s for p in ("/api", "") for s in ("/tallies", "/papers", "/tallies/cited-by-sections"))
_GET_READS = ("/api/", "/tallies/", "/papers/", "/search/match_reference", "/badge", "/static/badge.js",
              "/collections/")
PREFLIGHT_MAX_AGE = "86400"


def cors_methods(path: str) -> tuple[str, ...]:
    """Methods a cross-origin browser may use on ``path``: read routes only, never a write route. A path that takes
    a write as well as a read (``/api/collections``: GET lists, POST creates) allows the read alone."""
    if path in _BATCH_READS:
        return ("POST", "OPTIONS")
    if path.endswith("/correction"):
        return ()
    if path.startswith(_GET_READS):
        return ("GET", "HEAD", "OPTIONS")
    return ()


class SecurityHeaders:
    """CSP and friends on every response; CORS on read routes (answering their preflight with 204)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)  # under a --root-path prefix too
        allowed = cors_methods(path)
        if scope["method"] == "OPTIONS":
            await self._preflight(scope, send, allowed)
            return
        # By method as well as path, as the preflight decides: a POST to a GET route (/api/check, /api/collections)
        # was answered with Access-Control-Allow-Origin, so a page elsewhere could read it whenever its body let
        # the browser skip the preflight (text/plain), though the preflight refuses that very request.
        cross_origin = scope["method"] in allowed

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                if "content-security-policy" not in h:
                    h["Content-Security-Policy"] = CSP
                h["X-Content-Type-Options"] = "nosniff"
                h["Referrer-Policy"] = "no-referrer"
                h["X-Frame-Options"] = "DENY"
                if cross_origin:
                    # Read endpoints and the badge are meant for other sites; no credentials are involved.
                    h["Access-Control-Allow-Origin"] = "*"
                if path.startswith("/badge"):
                    h["Cross-Origin-Resource-Policy"] = "cross-origin"  # embedded with <img> elsewhere
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _preflight(scope: Any, send: Any, allowed: tuple[str, ...]) -> None:
        requested = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                          if k == b"access-control-request-method"), "").upper()
        headers = [(b"x-content-type-options", b"nosniff"), (b"content-length", b"0")]
        if allowed and (not requested or requested in allowed):
            # Browsers send Content-Type: application/json with the batch POSTs, which needs a preflight.
            headers += [(b"access-control-allow-origin", b"*"),
                        (b"access-control-allow-methods", ", ".join(allowed).encode()),
                        (b"access-control-allow-headers", b"Accept, Content-Type"),
                        (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
                        (b"vary", b"Origin")]
            status = 204
        else:
            headers.append((b"allow", b"GET, HEAD, POST"))
            status = 405
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


class HeadAsGet:
    """HEAD answered as GET without the body (RFC 9110 9.3.2): FastAPI's routes take only the methods they
    name, so every page and read endpoint said 405 to HEAD (link checkers, ``curl -I``, uptime monitors),
    though the CORS preflight and the 405 answers list HEAD as allowed. The GET's headers, Content-Length
    included, are sent as they are; the server, which still sees HEAD in its own scope, sends no body."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Any) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # a streamed body's parts are dropped; its last message ends the response
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 13.1.2: ``*`` or any listed tag, compared weakly (``W/"x"`` matches ``"x"``)."""
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


class ConditionalGet:
    """An ETag on every successful GET of the JSON API and the badge, and 304 Not Modified when the request's
    ``If-None-Match`` names it (RFC 9110 13.1.2, 15.4.5), with ``Cache-Control: no-cache`` where the route set
    none: a client (the badge script, a reference manager refreshing its library's tallies, a browser's cache)
    keeps the body and asks again with the tag, and an unchanged answer costs a few bytes. The tag is a hash of
    the body, so it changes exactly when the answer does (an ingest, a correction), on every worker and process
    alike. Runs inside :class:`HeadAsGet`, so HEAD gets the same headers."""

    def __init__(self, app: Any, is_json_path: Any, badge_path: str) -> None:
        self.app = app
        self.is_json_path = is_json_path
        self.badge_path = badge_path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = route_path(scope)
        if scope["type"] != "http" or scope["method"] != "GET" or not (
                self.is_json_path(path) or path == self.badge_path):
            await self.app(scope, receive, send)
            return
        if_none_match = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"if-none-match"), "")
        start: dict[str, Any] | None = None
        parts: list[bytes] = []

        async def buffered(message: Any) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    start = None
                    await send(message)  # errors pass as they are (and are never cached: no tag)
                    return
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(parts)
            headers = MutableHeaders(scope=start)
            if "etag" not in headers:
                headers["ETag"] = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
            if "cache-control" not in headers:
                headers["Cache-Control"] = "no-cache"  # keep it, but ask whether it still holds
            if if_none_match and _etag_matches(if_none_match, headers["etag"]):
                kept = [(k, v) for k, v in start["headers"] if k not in (b"content-length", b"content-type")]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)


# Room for multipart framing and the other form fields around an upload of the maximum size.
UPLOAD_FRAMING_BYTES = 64 * 1024


class BodyLimit:
    """Stop reading a request body after ``max_upload_bytes`` plus ``framing_bytes``.

    Checking Content-Length is not enough (chunked uploads have none) and Starlette's multipart parser
    would otherwise spool any amount of file data to a temporary file. The 413 quotes the configured limit
    alone: the margin is ours, not a size the client can act on.
    """

    def __init__(self, app: Any, max_upload_bytes: int, framing_bytes: int = UPLOAD_FRAMING_BYTES,
                 page_paths: tuple[str, ...] = ("/check", "/collections")) -> None:
        self.app = app
        self.max_bytes = max_upload_bytes + framing_bytes
        self.too_large = f"request body exceeds the maximum size ({max_upload_bytes // 1024} KiB)"
        self.page_paths = page_paths

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > self.max_bytes and route_path(scope) not in self.page_paths:
            # Refuse before reading anything (the upload pages explain the limit themselves).
            body = json.dumps({"error": self.too_large, "status": 413}).encode()
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
                    raise BodyTooLarge(self.too_large)
            return message

        await self.app(scope, limited_receive, send)
