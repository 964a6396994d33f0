"""PostgreSQL store (the server backend): psycopg 3, a connection pool per database URL, tsvector/GIN search,
COPY for bulk loading.

``open_store("postgresql://USER@HOST/DB")``. The queries shared with SQLite live in
:mod:`citelens.store.sql`; this module supplies pooled connections, the numbered migrations
(``migrations/postgres``), search in the same syntax as SQLite's (:mod:`citelens.store.query`) and COPY.
Results are the same as SQLite's for the same corpus (tallies, pages, exports; search finds the same
statements, ranked by ``ts_rank`` instead of BM25). NULLs sort as SQLite sorts them.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from citelens.errors import StoreError
from citelens.store.migrations import latest_version, migration_version, migrations
from citelens.store.query import Term, parse_query, search_text
from citelens.store.records import SNIPPET_CLOSE, SNIPPET_OPEN, Snippet
from citelens.store.sql import GLUED_CALLOUTS_SQL, Row, SQLStore, search_sentences

SCHEMA_VERSION = latest_version("postgres")
CONFIG = "citelens"  # the text search configuration made by the first migration
# Connections per database URL and process (the web server's threads share them). Env: CITELENS_PG_POOL_SIZE.
DEFAULT_POOL_SIZE = 10


def pool_size() -> int:
    """``CITELENS_PG_POOL_SIZE``, else 10; a value that is not a whole number ≥ 1 falls back to 10, as the SQLite
    settings do (read at import, ``CITELENS_PG_POOL_SIZE=abc`` was a ValueError traceback from every command that
    opened a PostgreSQL index: stats, export, serve, ingest)."""
    try:
        value = int(os.environ.get("CITELENS_PG_POOL_SIZE", ""))
    except ValueError:
        return DEFAULT_POOL_SIZE
    return value if value >= 1 else DEFAULT_POOL_SIZE


CONNECT_TIMEOUT_S = 10.0
# The writer lock of PostgresStore.transaction: an advisory lock keyed by the schema, so indexes in other schemas
# of one database (the tests', say) do not wait for each other.
_WRITER_LOCK = "SELECT pg_advisory_xact_lock(hashtext('citelens-write:' || coalesce(current_schema(), '')))"

_T = TypeVar("_T")
_pools: dict[str, ConnectionPool] = {}
_pools_lock = threading.Lock()


def redacted(url: str) -> str:
    """The URL for messages: user, host, port and database, never the password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparseable PostgreSQL URL)"
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def pool_for(url: str) -> ConnectionPool:
    """The process's pool for ``url`` (made on first use)."""
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None or pool.closed:
            _probe(url)  # the server's own reason, at once (the pool retried it for 10 s, then hid it)
            pool = ConnectionPool(url, min_size=1, max_size=pool_size(), open=False, name="citelens",
                                  kwargs={"row_factory": dict_row, "autocommit": True}, timeout=30.0)
            try:
                pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
            except (PoolTimeout, psycopg.Error) as exc:
                pool.close()
                raise StoreError(f"cannot connect to PostgreSQL at {redacted(url)}: {exc}") from None
            _pools[url] = pool
        return pool


def _probe(url: str) -> None:
    """One connection, made and closed, before a pool is: StoreError with the server's or libpq's reason.

    A pool retries a failing connection in the background until its open times out: a wrong password, an unknown
    database or role, a refused port or a malformed URL each took 10 s, logged the same warning (with the
    psycopg.pool logger's traceback-free but repeated "error connecting in 'citelens'") about four times, and
    ended in "pool initialization incomplete after 10.0 sec", the reason itself left out. An unreachable host is
    bounded by ``connect_timeout`` (the URL's own, else CONNECT_TIMEOUT_S)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as exc:
        # libpq quotes the whole URL, password included: never shown
        reason = _first_line(exc).replace(f' in URI: "{url}"', "").replace(url, "the URL")
        raise StoreError(f"not a valid PostgreSQL URL: {reason}") from None
    timeout = {} if params.get("connect_timeout") else {"connect_timeout": max(1, int(CONNECT_TIMEOUT_S))}
    try:
        psycopg.connect(url, **timeout).close()  # type: ignore[arg-type]
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to PostgreSQL at {redacted(url)}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    """libpq's message without its hint lines and the "connection failed:" prefix psycopg adds."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    text = " ".join(lines) if lines else type(exc).__name__
    return text.removeprefix("connection failed: ")


def close_pools(url: str | None = None) -> None:
    """Close the pool for ``url`` (or every pool): tests and long-lived tools that switch databases."""
    with _pools_lock:
        for key in [url] if url else list(_pools):
            pool = _pools.pop(key, None) if key else None
            if pool is not None:
                pool.close()


atexit.register(close_pools)


@lru_cache(maxsize=512)
def _pg(sql: str) -> str:
    # The shared queries use "?" placeholders and no literal "%" (patterns are passed as parameters).
    return sql.replace("%", "%%").replace("?", "%s")


def _clean(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL (SQLite can); hostile PDFs do contain it.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


def tsquery_sql(query: str) -> tuple[str, list[str]]:
    """A tsquery SQL expression (with %s parameters) for what a user types; ("", []) when it has no terms.

    Terms go to PostgreSQL only as parameters of plainto/phraseto/to_tsquery, with prefixes built from word
    characters alone, so nothing the user types is parsed as tsquery syntax.
    """
    ors, args = [], []
    for terms in parse_query(query):
        ands = []
        for t in terms:
            t = Term(tuple(w for w in (search_text(w) for w in t.words) if w), t.prefix, t.excluded)
            if not t.words:
                continue
            not_ = "!!" if t.excluded else ""  # tsquery's NOT
            if t.prefix:
                ands.append(f"{not_}to_tsquery('{CONFIG}', %s)")
                args.append(" <-> ".join([*t.words[:-1], t.words[-1] + ":*"]))
            elif len(t.words) > 1:
                ands.append(f"{not_}phraseto_tsquery('{CONFIG}', %s)")
                args.append(" ".join(t.words))
            else:
                ands.append(f"{not_}plainto_tsquery('{CONFIG}', %s)")
                args.append(t.words[0])
        if ands and not all(a.startswith("!!") for a in ands):  # (only exclusions left once cleaned: nothing)
            ors.append("(" + " && ".join(ands) + ")")
    return (" || ".join(ors), args) if ors else ("", [])


class PostgresStore(SQLStore):
    """The server store. Thread-safe to share per thread like SQLite's; connections come from a shared pool."""

    backend = "postgres"
    _DESC = " DESC NULLS LAST"
    _ASC = " ASC NULLS FIRST"
    # floor, not CAST: PostgreSQL's cast to integer rounds (see SQLStore._CONF_BUCKET and migration 0009).
    _CONF_BUCKET = "LEAST(100, GREATEST(0, floor(COALESCE(confidence, 0) * 100)))::integer"

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.url = url
        self.readonly = readonly
        self._pool = pool_for(url)
        self._lock = threading.RLock()
        self._tx: psycopg.Connection[Any] | None = None
        try:
            with self._connection() as conn:
                self._version = self._recorded_version(conn)
            if self._version > SCHEMA_VERSION:
                raise StoreError(f"{redacted(url)} was made by a newer CiteLens (schema {self._version}; this one"
                                 f" reads up to {SCHEMA_VERSION}); upgrade CiteLens to open it")
            if readonly and self._version == 0:
                raise StoreError(f"{redacted(url)} is not a CiteLens index (no tables); build it with"
                                 " `citelens ingest`")
            if not readonly:
                self._migrate()
        except psycopg.Error as exc:
            raise StoreError(f"{redacted(url)} is not a usable CiteLens database: {exc}") from None

    @staticmethod
    def _recorded_version(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT to_regclass('meta') IS NOT NULL AS present").fetchone()
        if not row or not row["present"]:
            return 0
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row["value"]) if row and str(row["value"]).isdigit() else 0

    def _migrate(self) -> None:
        # All pending migrations in one transaction, as on SQLite: a reader never sees a half-upgraded schema.
        pending = [m for m in migrations("postgres") if m.version > self._version]
        if not pending:
            return
        with self._pool.connection() as conn, conn.transaction():
            # One migrating process at a time (several web workers may start together).
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('citelens-migrate'))")
            done = self._recorded_version(conn)
            self.upgraded_from = done if done and done < pending[-1].version else None
            for m in pending:
                if m.version <= done:
                    continue
                conn.execute(m.sql)
                if m.name == "search_sentence":
                    self._fill_search_sentences(conn)
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', %s)"
                             " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (str(m.version),))
        self._version = pending[-1].version

    @staticmethod
    def _fill_search_sentences(conn: psycopg.Connection[Any]) -> None:
        """Schema 15's Python step: search_sentence, and search_text made from it (tsv follows), for the
        sentences stored before whose callouts are glued to a word."""
        with conn.cursor(row_factory=tuple_row) as cur:
            rows = cur.execute(GLUED_CALLOUTS_SQL).fetchall()
            cur.executemany("UPDATE contexts SET search_sentence = %s, search_text = %s WHERE id = %s",
                            [(_clean(text), search_text(text), cid) for cid, text in search_sentences(rows)])

    @property
    def schema_version(self) -> int:
        return self._version

    def close(self) -> None:
        # The pool outlives a store: other stores (threads) of this process share it; closed at exit.
        self._tx = None

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._tx is not None:
            yield self._tx
        else:
            with self._pool.connection() as conn:
                yield conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.readonly:
            raise StoreError(f"{redacted(self.url)} is open read-only")
        with self._lock:
            if self._tx is not None:
                with self._tx.transaction():  # a savepoint
                    yield
                return
            with self._pool.connection() as conn:
                self._tx = conn
                try:
                    with conn.transaction():
                        # One writer at a time per index, as SQLite's BEGIN IMMEDIATE: a document is resolved
                        # against every work other writers have committed, and none of them can commit a work
                        # between this writer's look-up and its insert. Without it, two ingests citing one new
                        # work stored it twice, or one of them failed on the DOI's unique index (tested:
                        # tests/test_concurrent_writers.py). Held until commit or rollback; readers never wait.
                        conn.execute(_WRITER_LOCK)
                        yield
                    if conn.closed:
                        # psycopg leaves a transaction whose connection broke inside it (a statement failed on it
                        # and was caught: a document's savepoint) without a word, neither committed nor an error.
                        # An ingest batch then counted as stored what PostgreSQL never had (after `pg_ctl
                        # restart` mid-ingest: "stored": 255 with 235 documents in the index).
                        raise StoreError(f"the connection to {redacted(self.url)} was lost: the transaction was"
                                         " not committed")
                finally:
                    self._tx = None

    # ---------------------------------------------------------------------------------- SQLStore hooks
    # Candidate look-ups fetched per document (SQLStore.prefetch_candidates): two round trips a reference saved.
    _PREFETCH_CANDIDATES = True

    def _bounded_join(self, values: str, on: str, limit: int) -> str:
        # LATERAL: each key's index scan stops after ``limit`` works, where ROW_NUMBER would read a common
        # surname's whole year window.
        return (f"SELECT k.column1 AS kid, {self._CANDIDATE_COLS} FROM (VALUES {values}) AS k CROSS JOIN LATERAL"
                f" (SELECT {self._CANDIDATE_COLS} FROM works w WHERE {on} ORDER BY w.id LIMIT {int(limit)}) AS w")

    @staticmethod
    def _as_stored(value: str) -> str:
        return _clean(value)  # (what is written is cleaned: the prefetched candidates must hold the same)

    def _read(self, fn: Callable[[psycopg.Connection[Any]], _T]) -> _T:
        """``fn`` on this transaction's connection, else on a pooled one, read again once on a fresh connection
        when the server had closed the pooled one (a restart, an idle timeout, a failover).

        After `pg_ctl restart` every idle connection of the pool was dead, and a web server answered 500 (with
        AdminShutdown's traceback in its log) once per pooled connection until each had failed; now the first
        failure has the pool drop its dead idle connections, and the page is read again."""
        if self._tx is not None:
            return fn(self._tx)
        held: list[psycopg.Connection[Any]] = []
        try:
            with self._pool.connection() as conn:
                held.append(conn)
                return fn(conn)
        except psycopg.OperationalError:
            if not held or not held[0].broken:
                raise
        self._pool.check()
        with self._pool.connection() as conn:
            return fn(conn)

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        values = [_clean(a) for a in args]
        return self._read(lambda conn: conn.execute(_pg(sql), values).fetchall())

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> None:
        with self._connection() as conn:
            conn.execute(_pg(sql), [_clean(a) for a in args])

    def _exec_script(self, script: str) -> None:
        with self._connection() as conn:
            conn.execute(script)  # a migration's text, no parameters

    def _insert_id(self, sql: str, args: Sequence[Any]) -> int:
        with self._connection() as conn:
            row = conn.execute(_pg(sql) + " RETURNING id", [_clean(a) for a in args]).fetchone()
        assert row is not None
        return int(row["id"])

    def _insert_rows(self, table: str, cols: Sequence[str], rows: Sequence[Sequence[Any]], *,
                     want_ids: bool = False) -> list[int]:
        """COPY the rows in; ids, when wanted, are taken from the table's sequence first."""
        if not rows:
            return []
        if table == "contexts":  # searched as SQLite's tokenizer reads it (see query.search_text)
            at, glued = list(cols).index("sentence"), list(cols).index("search_sentence")
            cols = (*cols, "search_text")
            rows = [(*r, search_text(r[glued] or r[at])) for r in rows]
        ids: list[int] = []
        with self._connection() as conn:
            if want_ids:
                ids = sorted(int(r["id"]) for r in conn.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) AS id FROM generate_series(1, %s)",
                    (table, len(rows))).fetchall())
                cols = ("id", *cols)
                rows = [(i, *r) for i, r in zip(ids, rows, strict=True)]
            with conn.cursor().copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row([_clean(v) for v in r])
        return ids

    def _stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Row]:
        # A server-side cursor: an export of millions of rows never sits in memory.
        with self._connection() as conn, conn.transaction(), conn.cursor(name="citelens_stream") as cur:
            cur.itersize = 2000
            cur.execute(_pg(sql), list(args))
            yield from cur

    def _stream_tuples(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        with self._connection() as conn, conn.transaction(), \
                conn.cursor(name="citelens_stream_tuples", row_factory=tuple_row) as cur:
            cur.itersize = 20_000
            cur.execute(_pg(sql), list(args))
            yield from cur

    def _storage_bytes(self) -> int | None:
        # This index's tables with their indexes and TOAST (the database may hold other schemas).
        return int(self._scalar(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'") or 0)

    _MATCHES = ("FROM statements s JOIN contexts c ON c.id = s.context_id CROSS JOIN q"
                " WHERE c.tsv @@ q.query")

    def _rows_pg(self, sql: str, args: Sequence[Any]) -> list[Row]:
        """As ``_rows``, for SQL already written with %s placeholders (a tsquery's, and _pg of the filters')."""
        return self._read(lambda conn: conn.execute(sql, [_clean(a) for a in args]).fetchall())

    def _search_sentences(self, query: str, where: str, args: Sequence[Any], n: int,
                          newest_first: bool = True) -> list[int]:
        tsq, qargs = tsquery_sql(query)
        if not tsq:
            return []
        sql = f"WITH q AS (SELECT {tsq} AS query) SELECT c.id AS id {self._MATCHES}{_pg(where)}"
        if n > 1:
            # Any n first, in no order: the planner may then stop early on either plan (the GIN index for a rare
            # term, the table for a common one). Asked for in id order at once, it misjudged phrases' selectivity
            # and walked the primary key backwards through the whole table ('"calcium channel"', 1,622 matches
            # in 1 M sentences: 530 ms against 160 ms for the count): fewer than n are all of them.
            some = [int(r["id"]) for r in self._rows_pg(f"{sql} LIMIT %s", [*qargs, *args, n])]
            if len(some) < n:
                return sorted(some, reverse=newest_first)
            # In id order, the planner walks the primary key and tests every sentence: cheap where matches are
            # dense, slow where they are sparse ("calcium channel", 2 % of 1 M: 400 ms). There, finding them all
            # through the GIN index and keeping the n last (c.id + 0 hides the key's order) costs what counting
            # them does (~190 ms). Both cost the same at about 3 % (n = 10,000 in 1 M sentences): the density
            # of the n found above (the first ones in the table's order) picks.
            dense = n / (max(some) - min(some) + 1) >= 0.03
        else:
            dense = True
        order = "DESC" if newest_first else "ASC"
        key = "c.id" if dense else "c.id + 0"
        rows = self._rows_pg(f"{sql} ORDER BY {key} {order} LIMIT %s", [*qargs, *args, n])
        return [int(r["id"]) for r in rows]

    def _search_count(self, query: str, where: str, args: Sequence[Any], above: int | None = None) -> int:
        tsq, qargs = tsquery_sql(query)
        if not tsq:
            return 0
        window, wargs = (" AND c.id > %s", [above]) if above is not None else ("", [])
        rows = self._rows_pg(f"WITH q AS (SELECT {tsq} AS query) SELECT COUNT(*) AS n {self._MATCHES}"
                             f"{window}{_pg(where)}", [*qargs, *wargs, *args])
        return int(rows[0]["n"]) if rows else 0

    @property
    def _searched_sentence(self) -> str:
        """The text a snippet is cut from: the one search indexed, so that "stimuli48" highlights "stimuli"
        (schema 15; an older index, read as it is, has the sentence alone)."""
        if self.schema_version >= migration_version(self.backend, "search_sentence"):
            return "COALESCE(c.search_sentence, c.sentence)"
        return "c.sentence"

    def _search_rank(self, query: str, where: str, args: Sequence[Any], limit: int, offset: int,
                     above: int | None = None) -> list[tuple[Row, Snippet]]:
        tsq, qargs = tsquery_sql(query)
        if not tsq:
            return []
        window, wargs = (" AND c.id > %s", [above]) if above is not None else ("", [])
        # Rank and cut first, then make headlines (ts_headline re-parses text) for one page only.
        rows = self._rows_pg(
            f"WITH q AS (SELECT {tsq} AS query),"
            f" page AS (SELECT s.id, ts_rank(c.tsv, q.query) AS rank FROM statements s"
            f"  JOIN contexts c ON c.id = s.context_id CROSS JOIN q WHERE c.tsv @@ q.query{window}{_pg(where)}"
            f"  ORDER BY rank DESC, s.id LIMIT %s OFFSET %s)"
            f" SELECT {self._SELECT_STATEMENT}, ts_headline('{CONFIG}', {self._searched_sentence}, q.query,"
            f" 'StartSel={SNIPPET_OPEN}, StopSel={SNIPPET_CLOSE}, MaxWords=24, MinWords=12, ShortWord=0')"
            f" AS snippet FROM page JOIN statements s ON s.id = page.id{self._STATEMENT_JOINS} CROSS JOIN q"
            f" ORDER BY page.rank DESC, s.id",
            [*qargs, *wargs, *args, limit, offset])
        return [(r, Snippet.from_markers(r["snippet"])) for r in rows]
