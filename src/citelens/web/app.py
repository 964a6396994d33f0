"""The CiteLens web app: server-rendered pages, a JSON API (scite-compatible shapes) and an embeddable badge.

``create_app`` only assembles: middleware (``web.middleware``), error handlers (``web.errors``) and the
routers — API (``web.api``), pages (``web.pages``), sign-in (``web.auth``) and collections
(``web.collections``) — over one shared :class:`~citelens.web.context.WebContext`.

Design notes
- One store connection per worker thread (a store is not shared between threads); FastAPI runs the
  plain ``def`` endpoints in a thread pool.
- No request path ever reaches the filesystem: static assets are read once at start-up into memory;
  uploads are read into memory with a hard size limit.
- Every page is rendered by Jinja2 with autoescape; the Content-Security-Policy forbids inline scripts
  and third-party requests, so even a missed escape could not run script.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from citelens.web.api import api_router, scite_router
from citelens.web.auth import auth_router
from citelens.web.collections import collections_router
from citelens.web.context import WebContext
from citelens.web.errors import BADGE_PATH, JSON_ERROR_RESPONSES, install_error_handlers, is_json_path
from citelens.web.flows import flows_routers
from citelens.web.journals import journals_router
from citelens.web.middleware import BodyLimit, ConditionalGet, HeadAsGet, SecurityHeaders
from citelens.web.pages import badge_error, badge_router, pages_router
from citelens.web.settings import Settings


class CiteLensApp(FastAPI):
    """FastAPI with the security headers outside everything, Starlette's error middleware included: its
    500 responses (and anything else it answers) carry the same headers as every other response. Inside
    them, HEAD is answered as GET without the body, and inside that the API's and the badge's answers get an ETag
    and answer If-None-Match with 304."""

    def openapi(self) -> dict[str, Any]:
        """FastAPI's description with each documented response's schema as just its ``$ref``: the routes return
        ``dict[str, Any]``, so FastAPI put ``"type": "object", "additionalProperties": true`` beside the model's
        ``$ref``, and code generators that read the siblings typed every answer as a free-form map."""
        if self.openapi_schema is None:
            spec = super().openapi()
            for ops in spec.get("paths", {}).values():
                for op in ops.values():
                    for answer in op.get("responses", {}).values():
                        for media in answer.get("content", {}).values():
                            schema = media.get("schema")
                            if isinstance(schema, dict) and "$ref" in schema:
                                media["schema"] = {"$ref": schema["$ref"]}
            self.openapi_schema = spec
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(HeadAsGet(ConditionalGet(super().build_middleware_stack(), is_json_path, BADGE_PATH)))


def create_app(store_path: str | Path, settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app serving the index at ``store_path`` (an existing SQLite file)."""
    settings = settings or Settings.from_env()
    ctx = WebContext(store_path, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.close()

    app = CiteLensApp(title="CiteLens", version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Smart citation index: supporting, contrasting and mentioning citation statements."
                              " Read endpoints are open (and answer CORS preflights); write endpoints need"
                              " `Authorization: Bearer <token>`. The scite-compatible routes (tallies, papers,"
                              " search/match_reference) are also served at the root path.")
    app.state.settings = settings
    app.state.context = ctx
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie="citelens_session",
                       same_site="strict", https_only=settings.secure_cookies, max_age=8 * 3600,
                       path=settings.root_path or "/")
    app.add_middleware(BodyLimit, max_upload_bytes=settings.max_upload_bytes)

    def error_page(request: Request, status: int, message: str) -> Response:
        return ctx.page(request, "error.html", {"status": status, "message": message}, status)

    install_error_handlers(app, error_page, badge_error)
    errors = JSON_ERROR_RESPONSES  # the routes in the OpenAPI description that answer errors in JSON
    app.include_router(scite_router(ctx), prefix="/api", responses=errors)
    app.include_router(api_router(ctx), prefix="/api", responses=errors)
    flows_pages, flows_api = flows_routers(ctx)
    app.include_router(flows_api, prefix="/api", responses=errors)
    app.include_router(flows_pages)
    app.include_router(collections_router(ctx), responses=errors)
    app.include_router(journals_router(ctx), responses=errors)
    app.include_router(badge_router(ctx))
    app.include_router(auth_router(ctx))
    app.include_router(pages_router(ctx, app))
    # Last, so that no page route is shadowed: scite's clients with only the base URL changed.
    app.include_router(scite_router(ctx, in_schema=False))
    return app


def app_from_env() -> FastAPI:
    """Factory for multi-worker uvicorn: the database path comes from ``CITELENS_DB``."""
    import os

    return create_app(os.environ["CITELENS_DB"], Settings.from_env())
