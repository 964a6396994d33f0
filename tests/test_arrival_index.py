"""Schema 14: every statement's arrival is stored in ``first_seen`` and indexed by cited work, so alerts and Atom
feeds read a window from the index instead of every statement of the works with its document. The answers are
those of before: an older index read as it is (read-only), upgraded in place (writable), and rows left NULL."""

from __future__ import annotations

from pathlib import Path

import pytest

from citelens.pipeline import ingest_paths
from citelens.store import Store, open_store
from citelens.store.migrations import migration_version
from test_web import FIXTURES

WINDOWS = [("2000-01-01", None, 1000), ("2000-01-01", None, 3), ("2026-01-15", None, 1000),
           ("2000-01-01", "2026-02-01T00:00:00+00:00", 1000), ("2026-02-01T00:00:00+00:00", "2026-03-02", 2),
           ("2026-03-01T00:00:01", None, 1000)]


def sql(store_url: str, *statements: str) -> None:
    """Run ``statements`` on the index behind the store's back (as an older CiteLens left it)."""
    if store_url.startswith("postgresql"):
        import psycopg

        from citelens.store.postgres import close_pools

        close_pools(store_url)
        with psycopg.connect(store_url, autocommit=True) as conn:
            for s in statements:
                conn.execute(s)  # type: ignore[arg-type]
    else:
        import sqlite3

        conn = sqlite3.connect(store_url)
        for s in statements:
            conn.execute(s)
        conn.commit()
        conn.close()


def answers(store: Store, works: list[str]) -> list[object]:
    return [[(at, st.id, st.sentence) for at, st in store.statements_since(works, since, limit, until=until)]
            for since, until, limit in WINDOWS]


def null_arrivals(store_url: str) -> int:
    """Statements whose first_seen is NULL, counted behind the store's back."""
    query = "SELECT COUNT(*) FROM statements WHERE first_seen IS NULL"
    if store_url.startswith("postgresql"):
        import psycopg

        from citelens.store.postgres import close_pools

        close_pools(store_url)
        with psycopg.connect(store_url) as conn:
            row = conn.execute(query).fetchone()
    else:
        import sqlite3

        conn = sqlite3.connect(store_url)
        row = conn.execute(query).fetchone()
        conn.close()
    return int(row[0]) if row else -1


def cited_works(store: Store) -> list[str]:
    return sorted({s.cited_work_id for s in store.iter_statements() if s.cited_work_id})


def three_arrivals(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two articles in January, one again in February (its statements keep January), a new version in March that
    adds one statement: arrivals in first_seen (carried) and with the document (new)."""
    import citelens.store.sql as sqlmod

    store = open_store(store_url)
    article = FIXTURES / "mini-jats.xml"
    for when, paths in (("2026-01-01T00:00:00+00:00", [article, FIXTURES / "xss-article.xml"]),
                        ("2026-02-01T00:00:00+00:00", [article])):
        monkeypatch.setattr(sqlmod, "now", lambda when=when: when)
        ingest_paths(paths, store, classifier="cues")
    monkeypatch.setattr(sqlmod, "now", lambda: "2026-03-01T00:00:00+00:00")
    revised = tmp_path / "mini-jats.xml"
    revised.write_text(article.read_text(encoding="utf-8").replace(
        "Future studies are needed.", 'Future studies are needed, as Barnes also argued [<xref ref-type="bibr"'
        ' rid="r1">1</xref>].'), encoding="utf-8")
    ingest_paths([revised], store, classifier="cues")
    works = cited_works(store)
    store.close()
    return works


def test_the_writer_stores_every_statements_arrival(store_url: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    works = three_arrivals(store_url, tmp_path, monkeypatch)
    assert null_arrivals(store_url) == 0
    store = open_store(store_url)
    try:
        got = answers(store, works)
        assert {at for at, _id, _s in got[0]} == {"2026-01-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"}
        assert [s for _at, _id, s in got[4]] == ["Future studies are needed, as Barnes also argued [1]."]
        assert len(got[1]) == 3 and got[1] == got[0][:3] and got[5] == []
    finally:
        store.close()


def test_an_index_from_before_the_arrival_index_reads_and_upgrades_to_the_same_answers(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Schema 13 left first_seen NULL for a statement that arrived with its document. Read-only (serve) it is read
    as it is; opened to write it is upgraded (first_seen filled in, the index made) and answers the same."""
    works = three_arrivals(store_url, tmp_path, monkeypatch)
    store = open_store(store_url)
    expected = answers(store, works)
    store.close()
    version = migration_version("postgres" if store_url.startswith("postgresql") else "sqlite", "arrival_index")
    sql(store_url, "DROP INDEX statements_arrival",
        # what schema 13's writer stored: NULL for a statement new with its document
        "UPDATE statements SET first_seen = NULL WHERE first_seen ="
        " (SELECT d.ingested_at FROM documents d WHERE d.id = statements.document_id)",
        f"UPDATE meta SET value = '{version - 1}' WHERE key = 'schema_version'")
    old = open_store(store_url, readonly=True)
    try:
        assert old.schema_version == version - 1 and answers(old, works) == expected
    finally:
        old.close()
    upgraded = open_store(store_url)
    try:
        assert upgraded.schema_version >= version and upgraded.upgraded_from == version - 1  # (and any later ones)
        assert answers(upgraded, works) == expected
    finally:
        upgraded.close()
    assert null_arrivals(store_url) == 0


def test_a_statement_left_without_first_seen_still_arrives_with_its_document(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row written by other means than the store (a bulk load, a hand repair) may have no first_seen: it still
    arrived when its document was stored, and alerts still list it."""
    works = three_arrivals(store_url, tmp_path, monkeypatch)
    store = open_store(store_url)
    expected = answers(store, works)
    store.close()
    sql(store_url, "UPDATE statements SET first_seen = NULL WHERE id % 2 = 0 AND first_seen ="
                   " (SELECT d.ingested_at FROM documents d WHERE d.id = statements.document_id)")
    assert null_arrivals(store_url) > 0
    store = open_store(store_url)
    try:
        assert answers(store, works) == expected
    finally:
        store.close()
