"""Collections pages, CSV export, Atom feed and API (the logic lives in :mod:`citelens.collection`).

Anyone may read a collection; only a signed-in curator (pages, with CSRF token) or an API client with the
token (``POST /api/collections``, ``POST``/``DELETE /api/collections/{id}/items``, ``DELETE
/api/collections/{id}``) may create, change or delete one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from citelens.check import CheckInputError
from citelens.collection import (
    ALERTS_LIMIT,
    ALERTS_LIMIT_MAX,
    MAX_NAME,
    SORT_KEYS,
    AlertsPage,
    add_upload,
    alerts_page,
    atom_feed,
    collection_csv,
    collection_rows,
    create_from_upload,
    parse_window,
    remove_items,
)
from citelens.serialize import (
    CollectionAlerts,
    CollectionCreated,
    CollectionDeleted,
    CollectionItemsAdded,
    CollectionItemsRemoved,
    CollectionList,
    CollectionPage,
    as_dict,
)
from citelens.spreadsheet import for_excel
from citelens.web import render
from citelens.web.auth import check_csrf, token_router
from citelens.web.context import WebContext
from citelens.web.errors import BadRequest, BlankIsDefaultRoute, NotFound, bool_param, choice_param
from citelens.web.pages import read_upload_form
from citelens.web.paths import prefix


def collections_router(ctx: WebContext) -> APIRouter:
    r = APIRouter(route_class=BlankIsDefaultRoute)
    settings = ctx.settings

    def get(collection_id: int) -> dict[str, Any]:
        c = as_dict(ctx.store().get_collection(collection_id)) if 0 < collection_id < 2**62 else None
        if c is None:
            raise NotFound(f"no collection {collection_id}")
        return c

    def create(name: str, owner: str, data: bytes, filename: str) -> dict[str, Any]:
        with ctx.writer() as w:
            return create_from_upload(ctx.store(), name, owner, data, filename, writer=w)

    def add(collection_id: int, data: bytes, filename: str) -> tuple[int, int]:
        with ctx.writer() as w:
            return add_upload(ctx.store(), collection_id, data, filename, writer=w)

    def remove(collection_id: int, dois: list[str], positions: list[int]) -> tuple[int, list[str]]:
        with ctx.writer() as w:
            return remove_items(ctx.store(), collection_id, dois, positions, writer=w)

    async def curator_form(request: Request, max_fields: int = 6, doing: str = "change collections"
                           ) -> tuple[Any, str]:
        """(the form, the signed-in curator) of a page's POST: CSRF checked, a curator required."""
        limit = settings.max_upload_bytes
        try:
            form = await request.form(max_files=1, max_fields=max_fields, max_part_size=limit)
        except Exception:  # noqa: BLE001 - multipart errors (too many parts, oversized field) → clear 4xx
            raise BadRequest(f"the upload could not be read (the limit is {limit // 1024} KiB)") from None
        check_csrf(request, str(form.get("csrf_token") or ""))
        curator = ctx.curator(request)
        if not curator:
            raise StarletteHTTPException(403, f"sign in as a curator to {doing}")
        return form, curator

    def sort_params(request: Request) -> tuple[str, bool]:
        sort = request.query_params.get("sort") or "position"
        if sort not in SORT_KEYS:
            raise BadRequest(f"sort must be one of {', '.join(SORT_KEYS)}")
        return sort, choice_param(request.query_params, "order", ("asc", "desc"), "asc") == "desc"

    # ------------------------------------------------------------------------------------------- pages
    @r.get("/collections", response_class=HTMLResponse, include_in_schema=False)
    def list_page(request: Request) -> HTMLResponse:
        return ctx.page(request, "collections.html", {"collections": as_dict(ctx.store().list_collections()),
                                                      "limits": settings})

    @r.post("/collections", include_in_schema=False, response_model=None)
    async def create_page(request: Request) -> Response:
        limit = settings.max_upload_bytes
        form, curator = await curator_form(request, doing="create collections")
        data, filename, pasted = await read_upload_form(ctx, form)
        name = str(form.get("name") or "")

        def again(message: str, status: int) -> Response:
            # The form again, with what was typed and what went wrong.
            return ctx.page(request, "collections.html", {
                "collections": as_dict(ctx.store().list_collections()), "limits": settings, "error": message,
                "name": name[:MAX_NAME], "text": pasted[:limit]}, status)

        if len(data) > limit:
            return again(f"{filename or 'The list'} is too large: the limit is {limit // 1024} KiB.", 413)
        if not data:
            return again("Choose a file or paste DOIs, one per line.", 400)
        try:
            c = await run_in_threadpool(create, name, curator, data, filename)
        except (CheckInputError, BadRequest) as exc:
            return again(str(exc)[:500], 400)
        return RedirectResponse(f"{prefix(request.scope)}/collections/{c['id']}", status_code=303)

    @r.post("/collections/{collection_id}/items", include_in_schema=False, response_model=None)
    async def add_page(request: Request, collection_id: int) -> Response:
        get(collection_id)
        form, _curator = await curator_form(request)
        limit = settings.max_upload_bytes
        data, filename, _pasted = await read_upload_form(ctx, form)
        if len(data) > limit:
            raise StarletteHTTPException(413, f"{filename or 'the list'} is too large: the limit is {limit // 1024} KiB")
        if not data:
            raise BadRequest("choose a file or paste DOIs, one per line")
        try:
            added, already = await run_in_threadpool(add, collection_id, data, filename)
        except CheckInputError as exc:
            raise BadRequest(str(exc)[:500]) from None
        return RedirectResponse(f"{prefix(request.scope)}/collections/{collection_id}?added={added}&already={already}", status_code=303)

    @r.post("/collections/{collection_id}/items/remove", include_in_schema=False, response_model=None)
    async def remove_page(request: Request, collection_id: int) -> Response:
        get(collection_id)
        form, _curator = await curator_form(request, max_fields=3)
        try:
            position = int(str(form.get("position") or ""))
        except ValueError:
            raise BadRequest("position must be a whole number (the row to remove)") from None
        removed, _missing = await run_in_threadpool(remove, collection_id, [], [position])
        return RedirectResponse(f"{prefix(request.scope)}/collections/{collection_id}?removed={removed}", status_code=303)

    @r.get("/collections/{collection_id}.csv", include_in_schema=False)
    def collection_csv_file(request: Request, collection_id: int) -> Response:
        c = get(collection_id)
        sort, desc = sort_params(request)
        # excel=1 (the page's link asks for it): a byte-order mark, so that Excel reads the names as UTF-8.
        excel = bool_param(request.query_params, "excel")
        body = for_excel(collection_csv(collection_rows(ctx.store(), collection_id, sort, desc)), excel)
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{render.safe_filename(c["name"])}.csv"'})

    def window(collection_id: int, since: str | None, until: str | None, limit: int) -> AlertsPage:
        if not 1 <= limit <= ALERTS_LIMIT_MAX:
            raise BadRequest(f"limit must be between 1 and {ALERTS_LIMIT_MAX}")
        try:
            since_iso, until_iso = parse_window(since, until)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return alerts_page(ctx.store(), collection_id, since_iso, until_iso, limit)

    @r.get("/collections/{collection_id}/feed.atom", tags=["collections"], response_class=Response,
           responses={200: {"content": {"application/atom+xml": {}}, "description": "an Atom feed"}},
           summary="Atom feed of new citation statements and notices about a collection's works",
           description="Entries that arrived at or after `since` and before `until` (when given), newest first."
                       " When more arrived than `limit`, the feed's subtitle says so and a `rel=\"next\"` link"
                       " gives the older ones.")
    def feed(request: Request, collection_id: int, since: str | None = None,
             until: str | None = Query(None, description="a date or date and time ending the window, exclusive"
                                                     " (since ≤ arrival < until); default now"),
             limit: int = Query(ALERTS_LIMIT, description=f"most entries, newest first: 1 to {ALERTS_LIMIT_MAX}")
             ) -> Response:
        c = get(collection_id)
        page = window(collection_id, since, until, limit)
        body = atom_feed(c, page.entries, ctx.origin(request), page.since, page=page)
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @r.get("/collections/{collection_id}", response_class=HTMLResponse, include_in_schema=False)
    def collection_page(request: Request, collection_id: int) -> HTMLResponse:
        c = get(collection_id)
        sort, desc = sort_params(request)
        rows = collection_rows(ctx.store(), collection_id, sort, desc)
        done = {k: int(v) for k in ("added", "already", "removed")
                if (v := request.query_params.get(k, "")).isdigit() and len(v) < 6}
        return ctx.page(request, "collection.html", {"c": c, "rows": rows, "sort": sort, "desc": desc, "done": done,
                                                     "n_warn": sum(1 for x in rows if x["warnings"]),
                                                     "n_found": sum(1 for x in rows if x["found"])})

    # --------------------------------------------------------------------------------------------- API
    @r.get("/api/collections", tags=["collections"], summary="All collections", responses={200: {"model": CollectionList}})
    def api_list() -> dict[str, Any]:
        return {"collections": as_dict(ctx.store().list_collections())}

    @r.get("/api/collections/{collection_id}", tags=["collections"],
           summary="A collection's works with tallies, notices and warnings", responses={200: {"model": CollectionPage}})
    def api_get(request: Request, collection_id: int) -> dict[str, Any]:
        c = get(collection_id)
        sort, desc = sort_params(request)
        return {**c, "items": collection_rows(ctx.store(), collection_id, sort, desc)}

    @r.get("/api/collections/{collection_id}/alerts", tags=["collections"],
           summary="New citation statements and notices about a collection's works in a window of arrival times",
           description="Entries that arrived at or after `since` (default 30 days ago) and before `until` (default"
                       " now), newest first. `truncated` says more arrived than the answer holds; `since` with"
                       " `until=next_until` gives the older ones.", responses={200: {"model": CollectionAlerts}})
    def api_alerts(collection_id: int, since: str | None = None,
                   until: str | None = Query(None, description="a date or date and time ending the window, exclusive"
                                                     " (since ≤ arrival < until); default now"),
                   limit: int = Query(ALERTS_LIMIT, description=f"most entries, newest first: 1 to {ALERTS_LIMIT_MAX}")
                   ) -> dict[str, Any]:
        get(collection_id)
        page = window(collection_id, since, until, limit)
        # A client must not take the newest `limit` entries for everything that arrived in the window: `truncated`
        # says entries were left out and `next_until` where they continue.
        return {"since": page.since, "until": page.until, "limit": page.limit, "truncated": page.truncated,
                "next_until": page.next_until, "alerts": page.entries}

    def body_list(body: dict[str, Any]) -> tuple[bytes, str]:
        """(data, file name) of a JSON body's list: ``dois`` (a list) or ``content`` with a ``format_hint``."""
        dois = body.get("dois")
        content = body.get("content")
        if isinstance(dois, list):
            data = "\n".join(d for d in dois if isinstance(d, str) and d.strip()).encode()
            filename = "dois.txt"
        elif isinstance(content, str):
            data, filename = content.encode("utf-8"), str(body.get("format_hint") or "")[:200]
        else:
            raise BadRequest("give dois (a list) or content (the text of a DOI list, BibTeX, RIS, CSL JSON or CSV)")
        if len(data) > settings.max_upload_bytes:
            raise StarletteHTTPException(413, "the list is too large")
        return data, filename

    # The token is checked before the body is read: a client without it gets 401, not a 422 about the body.
    writes = token_router(ctx)

    @writes.post("/api/collections", tags=["collections"], status_code=201,
                 summary="Create a collection (needs the API token) from DOIs or an uploaded list's text",
                 responses={201: {"model": CollectionCreated}})
    def api_create(body: dict[str, Any] = Body(..., examples=[
            {"name": "Optogenetics reading list", "owner": "alice", "dois": ["10.1038/nn1525"]},
            {"name": "From Zotero", "format_hint": "library.json", "content": "[{\"DOI\": \"10.1038/nn1525\"}]"}])
                   ) -> dict[str, Any]:
        data, filename = body_list(body)
        owner = str(body.get("owner") or "api").strip()[:100] or "api"
        try:
            return create(str(body.get("name") or ""), owner, data, filename)
        except CheckInputError as exc:
            raise BadRequest(str(exc)[:500]) from None

    @writes.post("/api/collections/{collection_id}/items", tags=["collections"],
                 summary="Add works to a collection (needs the API token): works it already holds are left as they are",
                 responses={200: {"model": CollectionItemsAdded}})
    def api_add(collection_id: int, body: dict[str, Any] = Body(..., examples=[
            {"dois": ["10.1038/nn1525", "10.1523/jneurosci.3428-15.2015"]},
            {"format_hint": "refs.bib", "content": "@article{a, doi = {10.1038/nn1525}}"}])) -> dict[str, Any]:
        get(collection_id)
        data, filename = body_list(body)
        try:
            added, already = add(collection_id, data, filename)
        except CheckInputError as exc:
            raise BadRequest(str(exc)[:500]) from None
        return {"added": added, "already_in": already, "collection": get(collection_id)}

    @writes.delete("/api/collections/{collection_id}/items", tags=["collections"],
                   summary="Remove works from a collection (needs the API token), by DOI or position",
                   responses={200: {"model": CollectionItemsRemoved}})
    def api_remove(collection_id: int,
                   doi: list[str] = Query([], description="a DOI of the collection (repeat for several)",
                                          examples=["10.1038/nn1525"]),
                   position: list[int] = Query([], description="an item's position, 0-based in upload order, as"
                                                              " the collection's `items` give it (repeatable)",
                                               examples=[0])) -> dict[str, Any]:
        get(collection_id)
        if not doi and not position:
            raise BadRequest("name what to remove: doi=… or position=… (each may be repeated)")
        removed, missing = remove(collection_id, doi, position)
        # The rest is removed; what matched nothing is named rather than passed over in silence.
        return {"removed": removed, "not_found": missing, "collection": get(collection_id)}

    @writes.delete("/api/collections/{collection_id}", tags=["collections"],
                   summary="Delete a collection and its list (needs the API token); the works stay in the index",
                   responses={200: {"model": CollectionDeleted}})
    def api_delete(collection_id: int) -> dict[str, Any]:
        get(collection_id)
        with ctx.writer() as w:
            w.delete_collection(collection_id)
        return {"deleted": collection_id}

    r.include_router(writes)
    return r
