"""What every router needs: settings, a per-thread store, cached counts, templates and static assets.

One :class:`WebContext` is made by ``create_app`` and handed to each router factory, so routers share
state without globals and a test can build several apps side by side.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from citelens.document import SECTIONS, STANCES
from citelens.rankings import TOP_WORKS_BY, TOP_WORKS_PER_PAGE_MAX, Ranking, ranking, ranking_size, top_works
from citelens.rules import cited_after_retraction, counted_stance
from citelens.serialize import as_dict
from citelens.store import SearchResults, Store, open_store
from citelens.web import render
from citelens.web.connections import ThreadStores, short_lived
from citelens.web.errors import BadRequest, NotFound, int_param
from citelens.web.paths import prefix, route_path, valid_host
from citelens.web.settings import Settings

WEB_DIR = Path(__file__).resolve().parent
# The path prefix of the request whose page is being rendered (web.paths); "" at the root of the host.
_ROOT: ContextVar[str] = ContextVar("citelens_root_path", default="")
SORT_LABELS = {"relevance": "Most relevant", "newest": "Newest first", "oldest": "Oldest first",
               "confidence": "Highest confidence"}
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json"}


@functools.cache
def confident_threshold() -> float | None:
    """The installed stance model's threshold for "only labels the model is sure of" (``min_confidence=auto``);
    None where the model has none. Read once, when a page with the filters is first drawn."""
    from citelens.stance import recommended_min_confidence

    return recommended_min_confidence()


def at_threshold(key: str, min_confidence: float | None) -> str:
    """A counts-cache key for figures counted at ``min_confidence`` (None: every label, the key as it is)."""
    return key if min_confidence is None else f"{key}@{min_confidence}"


class CountsCache:
    """Per-process cache of aggregate counts, so a much-cited work's tallies are not recounted on every
    request.

    Entries are valid while the index is unchanged: for a SQLite file the cache compares the size and
    modification time of the database and its write-ahead log (a few microseconds of ``stat``); for other
    stores it asks ``version_of()`` (the store's ``data_version``: a few index lookups). Either way an
    ingest or correction by any process shows at once. When no version can be had, entries are reused for
    ``seconds``; ``seconds <= 0`` disables per-work caching.

    Index-wide figures (the home page's statistics and most-cited list, which scan every statement) go
    through :meth:`aggregate`: also reused for ``min_age`` seconds after they were computed even when the
    index changed, so a long ingest does not make every home page recount a million rows; one request
    recomputes while the others wait for its result.
    """

    def __init__(self, store_path: str, seconds: float, maxsize: int = 20_000,
                 version_of: Callable[[], Any] | None = None) -> None:
        self.seconds = seconds
        self.maxsize = maxsize
        self._files = [] if "://" in store_path else [store_path, store_path + "-wal"]
        self._version_of = version_of
        self._data: dict[tuple[str, str], tuple[Any, float, Any]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}

    def _version(self) -> Any:
        if not self._files:
            if self._version_of is None:
                return None
            try:
                return self._version_of()
            except Exception:  # noqa: BLE001 - a busy server: fall back to the time bound
                return None
        out: list[tuple[int, int] | None] = []
        for f in self._files:
            try:
                st = os.stat(f)
                out.append((st.st_size, st.st_mtime_ns))
            except OSError:
                out.append(None)
        return tuple(out)

    def _fresh(self, hit: tuple[Any, float, Any] | None, version: Any, now: float, min_age: float) -> bool:
        if hit is None:
            return False
        if now < hit[1] + min_age:
            return True
        if self.seconds <= 0:
            return False
        return hit[0] == version if version is not None else now < hit[1] + self.seconds

    def get(self, key: tuple[str, str], compute: Callable[[], Any], min_age: float = 0.0) -> Any:
        if self.seconds <= 0 and min_age <= 0:
            return compute()
        version = self._version()
        hit = self._data.get(key)
        if self._fresh(hit, version, time.monotonic(), min_age):
            return hit[2]  # type: ignore[index]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one recount per key at a time; the others use its result
            hit = self._data.get(key)
            if self._fresh(hit, version, time.monotonic(), min_age):
                return hit[2]  # type: ignore[index]
            value = compute()
            with self._lock:
                if len(self._data) >= self.maxsize:
                    self._data.clear()  # crude but bounded; a full cache is rebuilt from hot keys quickly
                    self._key_locks = {key: key_lock}
                self._data[key] = (version, time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class WebContext:
    """Shared state of one app. ``store()`` gives this thread's connection (opened on first use)."""

    def __init__(self, store_path: str | Path, settings: Settings) -> None:
        self.store_path = str(store_path)
        self.settings = settings
        self.readers = ThreadStores(lambda: open_store(self.store_path, readonly=True))
        self.counts = CountsCache(self.store_path, settings.cache_seconds,
                                  version_of=lambda: self.store().data_version())
        self.static = self._load_static()
        self.env = Environment(loader=FileSystemLoader(str(WEB_DIR / "templates")),
                               autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(
            # Paths the templates write start with the request's prefix (``root()``): the page is being rendered
            # for ``_ROOT``'s request (set around the render in ``page``), macros imported without context included.
            root=_ROOT.get, report_path=lambda ident: _ROOT.get() + render.report_path(ident),
            STANCES=STANCES, SECTIONS=SECTIONS, SORT_LABELS=SORT_LABELS,
            highlight_callout=render.highlight_callout, neighbour_markup=render.neighbour_markup, highlight_snippet=render.highlight_snippet,
            STANCE_LABELS=render.STANCE_LABELS, resolution_words=render.resolution_words,
            evidence_words=render.evidence_words, sure_percent=render.sure_percent, confident_threshold=confident_threshold,
            counted_stance=counted_stance, cited_after_retraction=cited_after_retraction,
            notice_words=render.notice_words,
            asset=lambda name: _ROOT.get() + (f"/static/{name}?v={self.static[name][2]}" if name in self.static
                                              else f"/static/{name}"))

    # ------------------------------------------------------------------------------------------ store
    def store(self) -> Store:
        """This thread's read-only store (see ``web.connections``)."""
        return self.readers.get()

    def check_index(self) -> None:
        """Raise StoreError unless the index opens now, read-only (a SQLite file still at its path, a PostgreSQL
        server that answers): what ``/api/health`` tells a load balancer."""
        open_store(self.store_path, readonly=True).close()

    def writer(self) -> contextlib.AbstractContextManager[Store]:
        """A short-lived writable store for one write (a correction, a collection)."""
        # A web request should not hang behind a long ingest: wait a little, then answer 503.
        return short_lived(lambda: open_store(self.store_path, write_wait=self.settings.write_wait_seconds))

    def close(self) -> None:
        self.readers.close_all()

    # Reads, as plain dicts (the store may return typed records): the web layer renders and serialises dicts.
    def get_work(self, ident: str) -> dict[str, Any] | None:
        return as_dict(self.store().get_work(ident))

    def tallies_of(self, work_id: str, min_confidence: float | None = None) -> dict[str, int]:
        return self.counts.get(("t", at_threshold(work_id, min_confidence)), lambda: as_dict(self.store().tallies(
            work_id, min_confidence=min_confidence)))

    def sections_of(self, work_id: str, min_confidence: float | None = None) -> dict[str, dict[str, int]]:
        return self.counts.get(("s", at_threshold(work_id, min_confidence)), lambda: {k: as_dict(v) for k, v in self.store().section_tallies(
            work_id, min_confidence=min_confidence).items()})

    def years_of(self, work_id: str, min_confidence: float | None = None) -> list[dict[str, Any]]:
        return self.counts.get(("y", at_threshold(work_id, min_confidence)), lambda: as_dict(self.store().year_tallies(
            work_id, min_confidence=min_confidence)))

    def aggregate(self, name: str, compute: Callable[[], Any]) -> Any:
        """An index-wide figure (scans every statement): see :meth:`CountsCache.get`'s ``min_age``."""
        return self.counts.get(("index", name), lambda: as_dict(compute()), min_age=self.settings.stats_seconds)

    def stats(self) -> dict[str, Any]:
        return self.aggregate("stats", lambda: self.store().stats())

    def citations(self, work_id: str, **kw: Any) -> tuple[int, list[dict[str, Any]]]:
        total, rows = self.store().citations(work_id, **kw)
        return total, as_dict(rows)

    def with_callout_spans(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows`` (statements for cards) each given ``callout_spans``: one query for a page (render.callout_markup)."""
        spans = self.store().callout_spans([r["id"] for r in rows]) if rows else {}
        for r in rows:
            r["callout_spans"] = spans.get(int(r["id"]), {})
        return rows

    def top_works(self, by: str, page: int, per_page: int, min_confidence: float | None) -> dict[str, Any]:
        """A page of citelens.rankings.top_works, reused while the index is unchanged (it reads every cited work)."""
        key = at_threshold(f"top|{by}|{page}|{per_page}", min_confidence)

        def compute() -> dict[str, Any]:
            kept = self.kept_ranking(by, min_confidence, max(page, 1) * per_page) \
                if 1 <= per_page <= TOP_WORKS_PER_PAGE_MAX else None
            return top_works(self.store(), by, page=page, per_page=per_page, min_confidence=min_confidence,
                             kept=kept)

        return self.counts.get(("index", key), compute, min_age=self.settings.stats_seconds)

    def kept_ranking(self, by: str, min_confidence: float | None, works_needed: int) -> Ranking | None:
        """The kept ranking (rankings.Ranking) that reaches ``works_needed`` works, ranked once while the index is
        unchanged, so pages are sliced from it rather than ranked once a page; deeper pages use a longer one
        (rankings.ranking_size). None for an unknown ``by`` (top_works says what is wrong) or past the longest
        ranking kept (the caller ranks itself)."""
        size = ranking_size(works_needed)
        if by not in TOP_WORKS_BY or size is None:
            return None
        return self.counts.get(("index", at_threshold(f"ranking|{by}|{size}", min_confidence)),
                               lambda: ranking(self.store(), by, min_confidence, size),
                               min_age=self.settings.stats_seconds)

    def search_statements(self, q: str, **kw: Any) -> tuple[SearchResults, list[dict[str, Any]]]:
        """The statement search of the page and the API: (what the ranking covered, the page's rows)."""
        found = self.store().search_statements_page(q, window=self.settings.search_window, **kw)
        return found, as_dict(found.hits)

    def cited_notices(self, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """{work id: notices} for the works ``rows`` (statements) cite that have any: one query for a page."""
        ids = sorted({r["cited_work_id"] for r in rows if r.get("cited_work_id")})
        return {k: as_dict(v) for k, v in self.store().notices_by_work(ids).items()} if ids else {}

    def search_works(self, q: str, limit: int) -> list[dict[str, Any]]:
        return as_dict(self.store().search_works(q, limit=limit))

    def get_statement(self, statement_id: int) -> dict[str, Any] | None:
        return as_dict(self.store().get_statement(statement_id))

    def corrections_of(self, statement_id: int) -> list[dict[str, Any]]:
        return as_dict(self.store().corrections_of(statement_id))

    def author_profile(self, author_id: str, sort: str = "newest", limit: int | None = None,
                       offset: int = 0, min_confidence: float | None = None) -> dict[str, Any] | None:
        """An author's figures with one page of works (``limit`` of them from ``offset`` in the order ``sort``;
        all when ``limit`` is None), counted at ``min_confidence`` (None: every label), reused while the index is
        unchanged."""
        key = at_threshold(f"{author_id}|{sort}|{offset}|{limit}", min_confidence)
        return self.counts.get(("author", key), lambda: as_dict(self.store().author_profile(
            author_id, works_sort=sort, works_limit=limit, works_offset=offset, min_confidence=min_confidence)))

    def institution_profile(self, ror: str, min_confidence: float | None = None, sort: str = "newest",
                            limit: int | None = 0, offset: int = 0,
                            authors: int | None = 0) -> dict[str, Any] | None:
        """An institution's figures at ``min_confidence`` with one page of works (``limit`` from ``offset`` in
        the order ``sort``) and its ``authors`` with the most works (None: all); the windows end this year, so
        the key carries today's date."""
        key = at_threshold(f"{ror}@{date.today().isoformat()}|{sort}|{offset}|{limit}|{authors}", min_confidence)
        return self.counts.get(("institution", key), lambda: as_dict(self.store().institution_profile(
            ror, min_confidence=min_confidence, works_sort=sort, works_limit=limit, works_offset=offset,
            authors_limit=authors)))

    def require_work(self, ident: str) -> dict[str, Any]:
        ident = ident.strip()
        if not ident or len(ident) > 300:
            raise BadRequest("give a DOI or a work id such as W12")
        work = self.get_work(ident)
        if work is None:
            raise NotFound(f"{ident} is not in this index")
        return work

    def page_number(self, params: Any) -> int:
        return int_param(params, "page", 1, self.settings.max_page, 1) or 1

    @staticmethod
    def page_count(total: int, size: int) -> int:
        """Pages of ``size`` rows that ``total`` rows fill (at least one, so an empty list still has a page)."""
        return max(1, math.ceil(total / size))

    # ---------------------------------------------------------------------------------------- rendering
    @staticmethod
    def _load_static() -> dict[str, tuple[bytes, str, str]]:
        # Read once, served from memory by name (no request path touches the disk).
        static: dict[str, tuple[bytes, str, str]] = {}
        for p in sorted((WEB_DIR / "static").iterdir()):
            if p.is_file() and p.suffix in STATIC_TYPES:
                data = p.read_bytes()
                static[p.name] = (data, STATIC_TYPES[p.suffix], hashlib.sha256(data).hexdigest()[:16])
        return static

    @staticmethod
    def session_of(request: Request) -> dict[str, Any]:
        # The 500 handler runs outside the session middleware; render without a session there.
        sess = request.scope.get("session")
        return sess if isinstance(sess, dict) else {}

    def session_csrf(self, request: Request) -> str:
        sess = self.session_of(request)
        tok = sess.get("csrf")
        if not tok:
            tok = secrets.token_urlsafe(32)
            sess["csrf"] = tok
        return tok

    def curator_key(self, name: str) -> str:
        """What a session keeps of the token ``name`` signed in with (a keyed hash, never the token): a session
        signed in before the token changed, or the curator was removed, no longer counts."""
        token = self.settings.curators.get(name) or ""
        return hmac.new(self.settings.secret_key.encode(), f"{name}\0{token}".encode(), hashlib.sha256).hexdigest()

    def curator(self, request: Request) -> str | None:
        sess = self.session_of(request)
        name = sess.get("curator")
        if not name or name not in self.settings.curators:
            return None
        return name if hmac.compare_digest(str(sess.get("curator_key") or ""), self.curator_key(name)) else None

    def origin(self, request: Request) -> str:
        """Where absolute links start (prefix included, no trailing slash): the configured public URL, else the
        request's own scheme and Host header. That header is the client's to choose: one that is not a host name
        is refused (400) rather than written into a feed or snippet that readers copy and cache."""
        if self.settings.public_url:
            return self.settings.public_url + prefix(request.scope)
        host = request.headers.get("host")
        if (host is not None and not valid_host(host)) or request.url.scheme not in ("http", "https"):
            raise BadRequest("the request's Host header is not a host name (a server can set its address with"
                             " --public-url)")
        return str(request.base_url).rstrip("/")

    def page(self, request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
        ctx = {**ctx, "request": request, "curator": self.curator(request),
               "csrf_token": self.session_csrf(request), "sign_in_enabled": bool(self.settings.curators),
               # This page's own address, prefix included (the sign-in link comes back to it).
               "here": prefix(request.scope) + route_path(request.scope)
               + (f"?{request.url.query}" if request.url.query else "")}
        token = _ROOT.set(prefix(request.scope))
        try:
            html = self.env.get_template(name).render(ctx)
        finally:
            _ROOT.reset(token)
        return HTMLResponse(html, status_code=status)
