"""Collections (filled in by the collections commit)."""

from __future__ import annotations

from fastapi import APIRouter

from citelens.web.context import WebContext


def collections_router(ctx: WebContext) -> APIRouter:
    return APIRouter()
