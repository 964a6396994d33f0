"""SQLite store (the embedded default): one file, WAL mode, FTS5 over citing sentences.

The queries shared with PostgreSQL live in :mod:`citelens.store.sql`; this module supplies the connection,
the numbered migrations (``migrations/sqlite``), FTS5 search and SQLite's way of inserting rows.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from citelens.errors import StoreError
from citelens.store.migrations import latest_version, migrations
from citelens.store.query import Term, parse_query
from citelens.store.records import Snippet
from citelens.store.sql import GLUED_CALLOUTS_SQL, Row, SQLStore, search_sentences

SCHEMA_VERSION = latest_version("sqlite")
# The first released schema: older numbers were never released, so such a file is not a CiteLens index.
FIRST_SCHEMA_VERSION = 2
_ADD_COLUMN = re.compile(r"\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)", re.I)
BUSY_TIMEOUT_S = 5.0  # SQLite's own wait for a lock, per attempt
# What SQLite says when a WAL reader cannot create its -shm beside the database (the folder is read-only).
_READ_ONLY_PLACE = re.compile(r"attempt to write a readonly database|unable to open database file")
# The page cache of a writable connection, in MiB (``CITELENS_SQLITE_CACHE_MB``; 0: SQLite's own default of
# ≈ 2 MiB). Why: an ingest inserts into a handful of B-tree indexes with random keys (statements by cited work,
# the full-text index, the tally tables); with 2 MiB the interior pages of indexes that reach GBs are evicted
# and read again through a system call, once per statement or more. The cache is a bound, filled only as pages
# are used, so memory stays flat in the index size. Read-only connections (the web server keeps several) keep
# SQLite's default: their queries read few pages each and the OS page cache serves them.
DEFAULT_WRITER_CACHE_MB = 64


def _env_seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def writer_cache_mb() -> int:
    """The writable connection's page cache in MiB: ``CITELENS_SQLITE_CACHE_MB`` (0 = SQLite's default),
    else ``DEFAULT_WRITER_CACHE_MB``; a value that is not a whole number ≥ 0 falls back to the default."""
    raw = os.environ.get("CITELENS_SQLITE_CACHE_MB", "")
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_WRITER_CACHE_MB
    return value if value >= 0 else DEFAULT_WRITER_CACHE_MB


class SQLiteStore(SQLStore):
    """The embedded store. ``path`` is a file; ``":memory:"`` works for tests."""

    backend = "sqlite"
    _RELEVANCE_INDEX_HINT = "INDEXED BY statements_cited_relevance"

    def __init__(self, path: str | Path, *, readonly: bool = False, write_wait: float | None = None) -> None:
        self.path = str(path)
        self.readonly = readonly
        # How long a writer waits for another writer (another ingest) before giving up with a clear error.
        self.write_wait = write_wait if write_wait is not None else _env_seconds("CITELENS_WRITE_WAIT", 600.0)
        try:
            self._connect(immutable=False)
        except sqlite3.Error as exc:
            # SQLite says only "unable to open database file": name the usual cause, a folder that is not there
            # (`citelens ingest … --db results/index.db` before `mkdir results`).
            folder = Path(self.path).parent
            why: object = exc
            if self.path != ":memory:" and not folder.is_dir():
                why = f"{folder} is not a folder" if folder.exists() else f"the folder {folder} does not exist"
            raise StoreError(f"cannot open database {self.path}: {why}") from None
        self._lock = threading.RLock()
        self._in_tx = 0
        self._rolled_back: str | None = None  # why SQLite rolled the open transaction back itself, if it did
        self._version = 0
        try:
            try:
                self._open_checks()
            except sqlite3.OperationalError as exc:
                if not (readonly and _READ_ONLY_PLACE.search(str(exc))):
                    raise
                self._open_immutable(exc)
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(f"{self.path} is not a usable CiteLens database: {exc}") from None
        except StoreError:
            self.conn.close()
            raise

    def _connect(self, *, immutable: bool) -> None:
        if self.readonly:
            # mode=ro: a reader never takes the write lock and never changes the file (WAL readers
            # are not blocked by a writer); query_only guards against a write slipping through.
            # (The path quoted: in a URI "?", "#" and "%" would end or change it; "a?b.db" opened "a".)
            uri = f"file:{quote(str(Path(self.path).resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")
            self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        else:
            self.conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        self.conn.row_factory = sqlite3.Row

    def _open_immutable(self, exc: sqlite3.OperationalError) -> None:
        """Read an index whose folder cannot be written (a read-only mount, a shared folder, a CD): a WAL
        database's reader must create ``-shm`` beside it, so ``mode=ro`` alone fails there with "attempt to write
        a readonly database". Nothing can write such a file, so it is opened as immutable (no locks, no
        ``-shm``), unless a ``-wal`` beside it holds writes the main file lacks: immutable would not read them."""
        if Path(self.path + "-wal").exists():
            raise StoreError(
                f"cannot read {self.path}: its folder is read-only and {self.path}-wal holds writes not yet in"
                f" the database file ({exc}); open it once where it can be written (any `citelens stats` does),"
                " or copy the database with its -wal file to a writable folder") from None
        self.conn.close()
        self._connect(immutable=True)
        self._open_checks()

    def _open_checks(self) -> None:
        self.conn.execute("PRAGMA foreign_keys=ON")
        if self.readonly:
            self.conn.execute("PRAGMA query_only=1")
        self._version = self._recorded_version()
        if self._version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was made by a newer CiteLens (schema {self._version}; this one"
                             f" reads up to {SCHEMA_VERSION}); upgrade CiteLens to open it")
        if self._version != 0 and self._version < FIRST_SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema {self._version}, which no CiteLens release made;"
                             " re-ingest into a new database file")
        if self.readonly:
            if self._version == 0:
                raise StoreError(f"{self.path} is not a CiteLens index (no tables); build it with `citelens ingest`")
            return  # an older index is read as it is; the next writable open upgrades it
        self.conn.execute("PRAGMA synchronous=NORMAL")
        if cache_mb := writer_cache_mb():
            self.conn.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")  # negative: KiB, not pages
        if self._version == SCHEMA_VERSION:
            # Up to date: opening for writing takes no lock, so it never waits for a running ingest.
            return
        def to_wal() -> None:
            if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self.conn.execute("PRAGMA journal_mode=WAL")

        # Retried like a write: two ingests that start together on a new file race here, and SQLite answers the
        # journal-mode change with "database is locked" at once while the other holds its lock (seen in CI:
        # the second writer failed "not a usable CiteLens database: database is locked").
        self._retry_busy(to_wal)
        self._migrate()

    def _recorded_version(self) -> int:
        """The schema version the file records: 0 for a new file, -1 when unreadable."""
        has_meta = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        if not has_meta:
            return 0
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return 0
        return int(row[0]) if str(row[0]).isdigit() else -1

    def _migrate(self) -> None:
        """Apply every migration newer than the file's version, all in one transaction (upgrade in place).

        One transaction, not one per migration: a reader that opens the file between two migrations would
        otherwise read while the schema changes under it, and SQLite then fails its full-text table with
        "vtable constructor failed: contexts_fts" (seen in CI: a reader beside the first ingest into a new file).
        """
        pending = [m for m in migrations("sqlite") if m.version > self._version]
        if not pending:
            return

        def apply() -> None:
            self.conn.execute("BEGIN IMMEDIATE")
            done = self._recorded_version()  # another process may have upgraded it meanwhile
            self.upgraded_from = done if done and done < pending[-1].version else None
            for m in pending:
                if m.version <= done:
                    continue
                for statement in _split_sql(m.sql):
                    if not self._column_exists(statement):
                        self.conn.execute(statement)
                if m.name == "search_sentence":
                    self._fill_search_sentences()
                self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                                  (str(m.version),))
            self.conn.commit()

        try:
            self._retry_busy(apply)
        except BaseException:
            if self.conn.in_transaction:
                self.conn.rollback()
            raise
        self._version = self._recorded_version()

    def _fill_search_sentences(self) -> None:
        """Schema 15's Python step: search_sentence for the sentences stored before (the rule needs their
        callouts and Unicode's letters), then the full-text index, rebuilt from what search now reads."""
        rows = self.conn.execute(GLUED_CALLOUTS_SQL).fetchall()
        self.conn.executemany("UPDATE contexts SET search_sentence = ? WHERE id = ?",
                              [(text, cid) for cid, text in search_sentences(rows)])
        self.conn.execute("INSERT INTO contexts_fts(contexts_fts) VALUES ('rebuild')")

    def _column_exists(self, statement: str) -> bool:
        """Whether ``statement`` is an ``ALTER TABLE t ADD COLUMN c`` whose column is already there. SQLite has
        no ``ADD COLUMN IF NOT EXISTS`` (PostgreSQL's migrations use it): this keeps migrations re-runnable,
        like their ``CREATE … IF NOT EXISTS``, on a file whose recorded version lags its schema."""
        m = _ADD_COLUMN.match(statement)
        if m is None:
            return False
        return any(row[1] == m.group(2) for row in self.conn.execute(f"PRAGMA table_info({m.group(1)})"))

    def _retry_busy(self, step: Callable[[], object]) -> None:
        """Run ``step`` (which takes the write lock), retrying while another writer holds the lock.

        SQLite's busy timeout already waits ``BUSY_TIMEOUT_S`` inside each attempt; the loop bounds the whole
        wait by ``write_wait`` and ends with a message that says what is going on.
        """
        deadline = time.monotonic() + self.write_wait
        while True:
            try:
                step()
                return
            except sqlite3.OperationalError as exc:
                if self.conn.in_transaction:
                    self.conn.rollback()
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{self.path}: the database is locked by another writer (waited {self.write_wait:.0f} s);"
                        " is another `citelens ingest` running into it? Try again when it has finished, or set"
                        " CITELENS_WRITE_WAIT to wait longer") from None
                time.sleep(random.uniform(0.01, 0.1))  # desynchronise competing writers

    @property
    def schema_version(self) -> int:
        return self._version

    def close(self) -> None:
        self.conn.close()

    def backup(self, dest: str | Path) -> dict[str, int]:
        """Copy the index as it stands at one moment to ``dest``, a new file, while servers read it and an ingest
        writes it: SQLite's online backup API in a single step, which copies every page inside one read
        transaction — a snapshot of committed writes only (in WAL mode the writer goes on meanwhile). Copying the
        file with ``cp`` instead can catch pages mid-write and leaves out whatever is still in ``-wal``.

        The copy is written under a temporary name beside ``dest``, checked (``PRAGMA quick_check``) and then
        renamed, so a copy that fails (disk full, a read-only folder, Ctrl-C) never stands at ``dest``. Answers
        what the copy holds: ``schema_version``, ``documents``, ``statements`` (counted in the copy itself)."""
        target = Path(dest)
        partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        try:
            copy = sqlite3.connect(partial)
            try:
                with self._lock:
                    self.conn.backup(copy)  # pages=-1: all in one step, one snapshot
                problem = copy.execute("PRAGMA quick_check").fetchone()[0]
                if problem != "ok":
                    raise StoreError(f"the copy of {self.path} failed its check: {problem}")
                version, documents, statements = copy.execute(
                    "SELECT (SELECT value FROM meta WHERE key = 'schema_version'),"
                    " (SELECT count(*) FROM documents), (SELECT count(*) FROM statements)").fetchone()
            finally:
                copy.close()  # the last connection: folds the copy's -wal into it and removes it
            # A -wal left beside an older file at ``dest`` would be read as part of the new one.
            for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
                stale.unlink(missing_ok=True)
            os.replace(partial, target)
        except sqlite3.Error as exc:
            raise StoreError(f"could not copy {self.path} to {target}: {exc}") from None
        finally:
            for leftover in (partial, partial.with_name(partial.name + "-wal"),
                             partial.with_name(partial.name + "-shm"), partial.with_name(partial.name + "-journal")):
                leftover.unlink(missing_ok=True)
        return {"schema_version": int(version), "documents": documents, "statements": statements}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only")
        with self._lock:
            outer = self._in_tx == 0
            name = f"sp{self._in_tx}"
            self._in_tx += 1
            try:
                if outer:
                    # IMMEDIATE: take the write lock up front, so a second writer waits here (busy timeout
                    # and retry) instead of failing at its first write inside a deferred transaction.
                    self._retry_busy(lambda: self.conn.execute("BEGIN IMMEDIATE"))
                    self._rolled_back = None
                else:
                    self._check_still_in_transaction()
                    self.conn.execute(f"SAVEPOINT {name}")
                yield
            except BaseException as exc:
                if outer:
                    self.conn.rollback()
                elif not self.conn.in_transaction:
                    # SQLite rolled the whole transaction back itself (a full disk, an I/O error): there is no
                    # savepoint to go back to, and a SAVEPOINT now would start a transaction of its own that commits
                    # alone, while the documents before it in this batch are gone and were being counted as stored.
                    self._rolled_back = self._rolled_back or f"{type(exc).__name__}: {exc}"
                else:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            else:
                if outer:
                    self._check_still_in_transaction()
                    self.conn.commit()
                else:
                    self.conn.execute(f"RELEASE {name}")
            finally:
                self._in_tx -= 1

    def _check_still_in_transaction(self) -> None:
        """StoreError when SQLite has rolled back the open transaction under us (see ``transaction``)."""
        if not self.conn.in_transaction:
            why = self._rolled_back or "an error"
            raise StoreError(f"SQLite rolled back the transaction after {why}; nothing of it is stored"
                             f" ({self.path}: is the disk full or the file system read-only?)")

    # ---------------------------------------------------------------------------------- SQLStore hooks
    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, tuple(args)).fetchall()

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, tuple(args))

    def _exec_script(self, script: str) -> None:
        for statement in _split_sql(script):
            self.conn.execute(statement)

    def _insert_id(self, sql: str, args: Sequence[Any]) -> int:
        return int(self.conn.execute(sql, tuple(args)).lastrowid or 0)

    def _insert_rows(self, table: str, cols: Sequence[str], rows: Sequence[Sequence[Any]], *,
                     want_ids: bool = False) -> list[int]:
        if not want_ids:
            self.conn.executemany(_insert_sql(table, cols), rows)
            return []
        if not rows:
            return []
        # The ids SQLite itself would give the rows one at a time (the tables' ``id INTEGER PRIMARY KEY`` has no
        # AUTOINCREMENT: max(id) + 1, + 2, …), given here so that the rows go in with one executemany. Inserting
        # them one by one to read each lastrowid was a fifth of storing a document (the references and citing
        # sentences of plos-starter). Callers hold the write transaction, so no other writer can take these ids.
        start = int(self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]) + 1
        ids = list(range(start, start + len(rows)))
        self.conn.executemany(_insert_sql(table, ("id", *cols)), [(i, *r) for i, r in zip(ids, rows, strict=True)])
        return ids

    def _stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Row]:
        yield from self.conn.execute(sql, tuple(args))

    def _stream_tuples(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        # The cursor itself, not a generator over it: a consumer in C (np.fromiter) then steps it directly.
        cur = self.conn.cursor()
        cur.row_factory = None  # plain tuples: no Row object per row
        return cur.execute(sql, tuple(args))

    def data_version(self) -> tuple[int, ...]:
        # SQLite reuses the largest rowid after a delete, so ids cannot tell a replaced article; its own
        # counters can: data_version moves on other connections' commits, total_changes on this one's.
        return (int(self.conn.execute("PRAGMA data_version").fetchone()[0]), int(self.conn.total_changes))

    def _storage_bytes(self) -> int | None:
        if self.path == ":memory:":
            return None
        p = Path(self.path)
        return sum(f.stat().st_size for f in (p, Path(self.path + "-wal")) if f.exists())

    _MATCHES = "FROM contexts_fts f JOIN statements s ON s.context_id = f.rowid WHERE contexts_fts MATCH ?"

    def _search_sentences(self, query: str, where: str, args: Sequence[Any], n: int,
                          newest_first: bool = True) -> list[int]:
        match = fts_query(query)
        if not match:
            return []
        # FTS5 serves ORDER BY rowid itself (no sort, no bm25), stepping through its list of matches.
        order = "DESC" if newest_first else "ASC"
        return [int(r[0]) for r in self.conn.execute(
            f"SELECT f.rowid {self._MATCHES}{where} ORDER BY f.rowid {order} LIMIT ?", (match, *args, n))]

    def _search_count(self, query: str, where: str, args: Sequence[Any], above: int | None = None) -> int:
        match = fts_query(query)
        if not match:
            return 0
        window, wargs = (" AND f.rowid > ?", [above]) if above is not None else ("", [])
        return int(self.conn.execute(f"SELECT COUNT(*) {self._MATCHES}{window}{where}",
                                     (match, *wargs, *args)).fetchone()[0])

    def _search_rank(self, query: str, where: str, args: Sequence[Any], limit: int, offset: int,
                     above: int | None = None) -> list[tuple[Row, Snippet]]:
        match = fts_query(query)
        if not match:
            return []
        # The window is a rowid range, which FTS5 applies while it walks the matches: only those are scored.
        window, wargs = (" AND rowid > ?", [above]) if above is not None else ("", [])
        # Without filters, let FTS5 rank and cut first (its ORDER BY rank LIMIT is cheap); each sentence has
        # at least one statement, so the best offset+limit sentences hold the page we want.
        cap = f" ORDER BY rank LIMIT {int(offset) + int(limit)}" if not where else ""
        # The page's statements first (the filters tested on the index of statements by sentence), then their
        # rows, joins and snippets for that page alone: joined before the cut, a filter that kept 10,000 of
        # the window's matches read 10,000 statements with their documents and works to show 20 (137-164 ms
        # against 82-106 ms for "expression" type=contrasting at 1 M statements).
        rows = self.conn.execute(
            f"WITH hits AS (SELECT rowid AS context_id, rank FROM contexts_fts WHERE contexts_fts MATCH ?{window}{cap}),"
            f" page AS (SELECT s.id, hits.context_id, hits.rank FROM hits JOIN statements s"
            f"  ON s.context_id = hits.context_id WHERE 1{where} ORDER BY hits.rank, s.id LIMIT ? OFFSET ?)"
            f" SELECT {self._SELECT_STATEMENT}, (SELECT snippet(contexts_fts, 0, char(2), char(3), '…', 24)"
            f"  FROM contexts_fts WHERE contexts_fts MATCH ? AND rowid = page.context_id) AS snippet"
            f" FROM page JOIN statements s ON s.id = page.id{self._STATEMENT_JOINS} ORDER BY page.rank, s.id",
            (match, *wargs, *args, limit, offset, match)).fetchall()
        return [(r, Snippet.from_markers(r["snippet"])) for r in rows]


def _split_sql(script: str) -> list[str]:
    """A migration's statements, split at top-level semicolons (SQLite trigger bodies hold inner ones)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def fts_query(query: str) -> str:
    """What a user types (:mod:`citelens.store.query` syntax) as a safe FTS5 MATCH expression.

    Every word is quoted, so FTS5 operators and punctuation in the input cannot cause syntax errors.
    """
    def phrase(t: Term) -> str:
        return '"' + " ".join(t.words) + '"' + ("*" if t.prefix else "")

    groups = []
    for terms in parse_query(query):
        # FTS5's NOT is binary ("a NOT b"): the terms to find in parentheses, then each one to leave out.
        group = "(" + " ".join(phrase(t) for t in terms if not t.excluded) + ")"
        group += "".join(f" NOT {phrase(t)}" for t in terms if t.excluded)
        groups.append(f"({group})" if len(terms) > 1 else group)
    return " OR ".join(groups)


def _insert_sql(table: str, cols: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})"
