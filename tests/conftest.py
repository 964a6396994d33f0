from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

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
