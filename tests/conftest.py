from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from citelens.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "plos-starter").is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def mini_jats() -> bytes:
    return (FIXTURES / "mini-jats.xml").read_bytes()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "index.db"


# --------------------------------------------------------------------------------------- the demo index
DEMO_CORPUS = ROOT / "data" / "demo-corpus"


@pytest.fixture(scope="session")
def demo_index_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled demo corpus, indexed once per run (one of the slowest set-ups); tests use `demo_db`."""
    from citelens.pipeline import ingest_paths
    from citelens.store import open_store

    db = tmp_path_factory.mktemp("demo-once") / "demo.db"
    store = open_store(db)
    # The fast rule-based model: the tests that use it are about the corpus and the pages, not the labels.
    summary = ingest_paths([DEMO_CORPUS], store, classifier="cues")
    store.close()
    assert summary.stored == 87 and not summary.failed, summary.failed
    return db


@pytest.fixture(scope="module")
def demo_db(demo_index_once: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test module's own copy of the demo index: what one module adds (a collection) another never sees."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(demo_index_once, db)
    return db


# --------------------------------------------------------------------------------------- store backends
# The contract tests run against every backend. PostgreSQL: CITELENS_TEST_PG names a server the tests may
# create schemas in (.ci/run starts one with scripts/pg-test-server); without it those tests skip.
PG_URL = os.environ.get("CITELENS_TEST_PG", "")


def _pg_reachable() -> str:
    if not PG_URL:
        return "CITELENS_TEST_PG is not set (scripts/pg-test-server start prints a URL)"
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return ""
    except Exception as exc:  # noqa: BLE001 - any failure means: skip the PostgreSQL variants
        return f"PostgreSQL at CITELENS_TEST_PG is not reachable: {exc}"


_PG_SKIP: str | None = None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a fresh, empty schema on the test server (dropped afterwards)."""
    global _PG_SKIP
    if _PG_SKIP is None:
        _PG_SKIP = _pg_reachable()
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    yield url
    from citelens.store.postgres import close_pools

    close_pools(url)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh store lives: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "index.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def pipeline(store_url: str) -> Iterator[Pipeline]:
    """A pipeline over a fresh store of each backend, labelling with the rule-based cues (fast, deterministic)."""
    from citelens.pipeline import Pipeline
    from citelens.store import open_store

    p = Pipeline(open_store(store_url), "cues")
    yield p
    p.store.close()


# --------------------------------------------------------------------------------------- the browser
# One headless Chromium for the whole run: starting Playwright's driver and the browser is the slow part of a
# browser test, and a fresh context per page keeps the tests apart (no cookies, storage or routes shared).
#
# While a sync Playwright is open, the main thread looks to asyncio as if it ran an event loop (Playwright marks
# its loop as running between calls), so asyncio.run() or a second sync_playwright() in a later test would fail.
# The modules that use the browser therefore run last (pytest_collection_modifyitems), in their usual order.


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium through Playwright; skips the test when either is missing."""
    if reason := chromium.why_no_browser():
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium.CHROMIUM, args=chromium.CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Opens a page in a context of its own (``new_page(base_url=..., viewport=...)`` takes Browser.new_context's
    options); every context it opened is closed after the test."""
    contexts = []

    def open_page(**options: Any) -> Page:
        context = browser.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules that use the shared browser run after all others (see above); the sort is stable, so each
    module's tests keep their order. A module with a `browser` fixture of its own is left where it is: it starts
    its own Playwright, which it can only do while the shared one is not open yet."""

    def shares_browser(item: pytest.Item) -> bool:
        module = getattr(item, "module", None)
        return "browser" in getattr(item, "fixturenames", ()) and not hasattr(module, "browser")

    sharing = {item.path for item in items if shares_browser(item)}
    items.sort(key=lambda item: item.path in sharing)
