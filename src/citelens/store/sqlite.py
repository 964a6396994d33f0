"""SQLite store (the embedded default): one file, WAL mode, FTS5 over citation statements."""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from citelens.document import SECTIONS, STANCES, Author, Document
from citelens.errors import NotFoundError, StoreError
from citelens.references.identifiers import normalise_doi
from citelens.references.resolve import (
    WorkCandidate,
    WorkRecord,
    author_key,
    first_page,
    fold,
    title_key,
)
from citelens.store.base import SaveResult, Store, format_work_id, parse_work_id

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS works (
    id INTEGER PRIMARY KEY,
    doi TEXT, pmid TEXT, pmcid TEXT,
    title TEXT NOT NULL DEFAULT '', title_norm TEXT NOT NULL DEFAULT '', title_key TEXT NOT NULL DEFAULT '',
    authors_json TEXT NOT NULL DEFAULT '[]', first_author TEXT NOT NULL DEFAULT '',
    year INTEGER, container TEXT NOT NULL DEFAULT '', volume TEXT NOT NULL DEFAULT '',
    pages TEXT NOT NULL DEFAULT '', first_page TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'reference', work_type TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS works_doi ON works(doi) WHERE doi IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS works_pmid ON works(pmid) WHERE pmid IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS works_pmcid ON works(pmcid) WHERE pmcid IS NOT NULL;
CREATE INDEX IF NOT EXISTS works_author_year ON works(first_author, year);
CREATE INDEX IF NOT EXISTS works_title_key ON works(title_key);

CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,          -- 'doi:…' or 'source:…': what makes a re-ingest a replacement
    source TEXT NOT NULL, format TEXT NOT NULL,
    work_id INTEGER NOT NULL REFERENCES works(id),
    doi TEXT, title TEXT NOT NULL DEFAULT '', year INTEGER, journal TEXT NOT NULL DEFAULT '',
    authors_json TEXT NOT NULL DEFAULT '[]', article_type TEXT NOT NULL DEFAULT '',
    n_statements INTEGER NOT NULL DEFAULT 0, n_references INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_work ON documents(work_id);

CREATE TABLE IF NOT EXISTS refs (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    key TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', raw TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '', authors_json TEXT NOT NULL DEFAULT '[]', container TEXT NOT NULL DEFAULT '',
    year INTEGER, volume TEXT NOT NULL DEFAULT '', issue TEXT NOT NULL DEFAULT '', pages TEXT NOT NULL DEFAULT '',
    doi TEXT NOT NULL DEFAULT '', pmid TEXT NOT NULL DEFAULT '', pmcid TEXT NOT NULL DEFAULT '',
    work_id INTEGER REFERENCES works(id), method TEXT NOT NULL DEFAULT '', score REAL
);
CREATE INDEX IF NOT EXISTS refs_document ON refs(document_id);
CREATE INDEX IF NOT EXISTS refs_work ON refs(work_id);

-- One row per citing sentence (with its neighbours): a sentence citing five references is stored once and
-- indexed once; its five statements point at it.
CREATE TABLE IF NOT EXISTS contexts (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    paragraph_index INTEGER NOT NULL DEFAULT 0, sentence_index INTEGER NOT NULL DEFAULT 0,
    section_title TEXT NOT NULL DEFAULT '',
    sentence TEXT NOT NULL, before TEXT NOT NULL DEFAULT '', after TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS contexts_document ON contexts(document_id);

CREATE TABLE IF NOT EXISTS statements (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ref_id INTEGER NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
    cited_work_id INTEGER, citing_work_id INTEGER NOT NULL, citing_year INTEGER,
    context_id INTEGER NOT NULL REFERENCES contexts(id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    callout_start INTEGER NOT NULL, callout_end INTEGER NOT NULL,
    model_stance TEXT, model_confidence REAL, evidence TEXT NOT NULL DEFAULT '',
    stance TEXT, confidence REAL,            -- effective label: a curator's correction, else the model's
    self_citation INTEGER NOT NULL DEFAULT 0,
    corrected_by TEXT, corrected_at TEXT
);
CREATE INDEX IF NOT EXISTS statements_cited ON statements(cited_work_id, stance, document_id);
CREATE INDEX IF NOT EXISTS statements_document ON statements(document_id);
-- Report pages and the API at millions of statements: covering indexes so that a much-cited work's
-- section and year tallies and its first page of statements never read the statement rows themselves.
CREATE INDEX IF NOT EXISTS statements_cited_section ON statements(cited_work_id, section, stance, citing_year DESC, id);
CREATE INDEX IF NOT EXISTS statements_cited_year ON statements(cited_work_id, citing_year, stance);
CREATE INDEX IF NOT EXISTS statements_cited_relevance ON statements(cited_work_id,
    (CASE stance WHEN 'contrasting' THEN 0 WHEN 'supporting' THEN 1 ELSE 2 END), confidence DESC,
    citing_year DESC, id);
CREATE INDEX IF NOT EXISTS statements_cited_newest ON statements(cited_work_id, citing_year DESC, id);

CREATE INDEX IF NOT EXISTS statements_context ON statements(context_id);
-- Search covers the citing sentence (what a user reads as the statement), not its neighbours.
CREATE VIRTUAL TABLE IF NOT EXISTS contexts_fts USING fts5(
    sentence, content='contexts', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS contexts_ai AFTER INSERT ON contexts BEGIN
  INSERT INTO contexts_fts(rowid, sentence) VALUES (new.id, new.sentence);
END;
CREATE TRIGGER IF NOT EXISTS contexts_ad AFTER DELETE ON contexts BEGIN
  INSERT INTO contexts_fts(contexts_fts, rowid, sentence) VALUES ('delete', old.id, old.sentence);
END;

CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY,
    document_id INTEGER REFERENCES documents(id) ON DELETE CASCADE,
    notice_work_id INTEGER, target_work_id INTEGER NOT NULL, kind TEXT NOT NULL, relation TEXT NOT NULL DEFAULT '',
    doi TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '', date TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS notices_target ON notices(target_work_id);

CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY,
    statement_id INTEGER NOT NULL,
    document_identity TEXT NOT NULL, reference_key TEXT NOT NULL, sentence TEXT NOT NULL,
    old_stance TEXT, stance TEXT NOT NULL, curator TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
"""

# Every table, index and trigger the schema script creates: a writable open runs the script only when one
# is missing (a new file, or an index added by a newer version), so opening never waits for the write lock.
_SCHEMA_NAMES = set(re.findall(r"IF NOT EXISTS (\w+)", SCHEMA))
BUSY_TIMEOUT_S = 5.0  # SQLite's own wait for a lock, per attempt


def _env_seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


_NOTICE_KIND = {
    "retracted-article": "retraction", "retraction-forward": "retraction", "retraction": "retraction",
    "corrected-article": "correction", "correction-forward": "correction", "correction": "correction",
    "object-of-concern": "expression-of-concern", "expression-of-concern": "expression-of-concern",
}
_ARTICLE_TYPE_NOTICE = {"retraction": "retraction", "correction": "correction",
                        "expression-of-concern": "expression-of-concern"}
_KIND_RANK = {"reference": 0, "metadata": 1, "article": 2}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _authors_json(authors: list[Author]) -> str:
    return json.dumps([{"family": a.family, "given": a.given} for a in authors], ensure_ascii=False)


class SQLiteStore(Store):
    """The embedded store. ``path`` is a file; ``":memory:"`` works for tests."""

    def __init__(self, path: str | Path, *, readonly: bool = False, write_wait: float | None = None) -> None:
        self.path = str(path)
        self.readonly = readonly
        # How long a writer waits for another writer (another ingest) before giving up with a clear error.
        self.write_wait = write_wait if write_wait is not None else _env_seconds("CITELENS_WRITE_WAIT", 600.0)
        try:
            if readonly:
                # mode=ro: a reader never takes the write lock and never changes the file (WAL readers
                # are not blocked by a writer); query_only guards against a write slipping through.
                uri = f"file:{Path(self.path).resolve()}?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
            else:
                self.conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from None
        self.conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._in_tx = 0
        try:
            self._open_checks()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(f"{self.path} is not a usable CiteLens database: {exc}") from None
        except StoreError:
            self.conn.close()
            raise

    def _open_checks(self) -> None:
        self.conn.execute("PRAGMA foreign_keys=ON")
        if self.readonly:
            self.conn.execute("PRAGMA query_only=1")
        names = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        if "meta" in names:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row and row[0] != str(SCHEMA_VERSION):
                raise StoreError(f"{self.path} was made by another CiteLens version (schema {row[0]}, this one"
                                 f" reads {SCHEMA_VERSION}); re-ingest into a new database file")
        if self.readonly:
            if "meta" not in names:
                raise StoreError(f"{self.path} is not a CiteLens index (no tables); build it with `citelens ingest`")
            return
        self.conn.execute("PRAGMA synchronous=NORMAL")
        if names >= _SCHEMA_NAMES:
            # Complete schema: opening for writing takes no lock, so it never waits for a running ingest.
            return
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self.conn.execute("PRAGMA journal_mode=WAL")
        # executescript commits first, so the script carries its own BEGIN IMMEDIATE … COMMIT.
        self._retry_busy(lambda: self.conn.executescript(
            f"BEGIN IMMEDIATE;{SCHEMA}INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
            "COMMIT;"))

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

    def close(self) -> None:
        self.conn.close()

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
                else:
                    self.conn.execute(f"SAVEPOINT {name}")
                yield
            except BaseException:
                if outer:
                    self.conn.rollback()
                else:
                    self.conn.execute(f"ROLLBACK TO {name}")
                    self.conn.execute(f"RELEASE {name}")
                raise
            else:
                if outer:
                    self.conn.commit()
                else:
                    self.conn.execute(f"RELEASE {name}")
            finally:
                self._in_tx -= 1

    # ------------------------------------------------------------------------------------ WorkIndex
    def _wid(self, work_id: str) -> int:
        n = parse_work_id(work_id)
        if n is None:
            raise NotFoundError(f"not a work id: {work_id!r}")
        return n

    def find_work_by_identifier(self, kind: str, value: str) -> str | None:
        if kind not in ("doi", "pmid", "pmcid") or not value:
            return None
        row = self.conn.execute(f"SELECT id FROM works WHERE {kind} = ?", (value,)).fetchone()
        return format_work_id(row[0]) if row else None

    def find_work_candidates(self, first_author: str, year: int | None, title_key_: str) -> list[WorkCandidate]:
        rows: list[sqlite3.Row] = []
        cols = "id, title_norm, first_author, year, container, volume, first_page, doi"
        if first_author:
            if year is not None:
                rows += self.conn.execute(
                    f"SELECT {cols} FROM works WHERE first_author = ? AND year BETWEEN ? AND ? LIMIT 200",
                    (first_author, year - 1, year + 1)).fetchall()
            else:
                rows += self.conn.execute(f"SELECT {cols} FROM works WHERE first_author = ? LIMIT 200",
                                          (first_author,)).fetchall()
        if title_key_ and len(title_key_) >= 12:
            rows += self.conn.execute(f"SELECT {cols} FROM works WHERE title_key = ? LIMIT 50",
                                      (title_key_,)).fetchall()
        seen: set[int] = set()
        out = []
        for r in rows:
            if r["id"] in seen:
                continue
            seen.add(r["id"])
            out.append(WorkCandidate(work_id=format_work_id(r["id"]), title_norm=r["title_norm"],
                                     first_author=r["first_author"], year=r["year"],
                                     container_norm=fold(r["container"]), volume=r["volume"],
                                     first_page=r["first_page"], doi=r["doi"] or ""))
        return out

    def create_work(self, record: WorkRecord) -> str:
        cur = self.conn.execute(
            "INSERT INTO works (doi, pmid, pmcid, title, title_norm, title_key, authors_json, first_author, year,"
            " container, volume, pages, first_page, kind, work_type) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (self._free_id("doi", record.doi), self._free_id("pmid", record.pmid),
             self._free_id("pmcid", record.pmcid), record.title, fold(record.title), title_key(record.title),
             _authors_json(record.authors), author_key(record.authors), record.year, record.container,
             record.volume, record.pages, first_page(record.pages), record.kind, record.work_type))
        return format_work_id(cur.lastrowid or 0)

    def _free_id(self, kind: str, value: str) -> str | None:
        if not value:
            return None
        row = self.conn.execute(f"SELECT 1 FROM works WHERE {kind} = ?", (value,)).fetchone()
        return None if row else value

    def enrich_work(self, work_id: str, record: WorkRecord) -> None:
        wid = self._wid(work_id)
        row = self.conn.execute("SELECT * FROM works WHERE id = ?", (wid,)).fetchone()
        if row is None:
            return
        authoritative = _KIND_RANK.get(record.kind, 0) > _KIND_RANK.get(row["kind"], 0)
        updates: dict[str, Any] = {}
        for kind in ("doi", "pmid", "pmcid"):
            val = getattr(record, kind)
            if val and not row[kind]:
                free = self._free_id(kind, val)
                if free:
                    updates[kind] = free
        simple = {"title": record.title, "container": record.container, "volume": record.volume,
                  "pages": record.pages, "year": record.year}
        for col, val in simple.items():
            if val and (authoritative or not row[col]):
                updates[col] = val
        if record.authors and (authoritative or row["authors_json"] == "[]"):
            updates["authors_json"] = _authors_json(record.authors)
            updates["first_author"] = author_key(record.authors)
        if "title" in updates:
            updates["title_norm"] = fold(updates["title"])
            updates["title_key"] = title_key(updates["title"])
        if "pages" in updates:
            updates["first_page"] = first_page(updates["pages"])
        if authoritative:
            updates["kind"] = record.kind
            if record.work_type:
                updates["work_type"] = record.work_type
        if updates:
            sets = ", ".join(f"{k} = ?" for k in updates)
            self.conn.execute(f"UPDATE works SET {sets} WHERE id = ?", (*updates.values(), wid))

    # ----------------------------------------------------------------------------------------- writes
    def save_document(self, doc: Document) -> SaveResult:
        if doc.work_id is None:
            raise StoreError(f"{doc.source}: document was not resolved before saving")
        identity = f"doi:{doc.doi}" if doc.doi else f"source:{doc.source}"
        with self.transaction():
            old = self.conn.execute("SELECT id FROM documents WHERE identity = ?", (identity,)).fetchone()
            if old is not None:
                # Cascades remove refs, statements (and their FTS rows via trigger) and notices.
                self.conn.execute("DELETE FROM documents WHERE id = ?", (old[0],))
            work_n = self._wid(doc.work_id)
            cur = self.conn.execute(
                "INSERT INTO documents (identity, source, format, work_id, doi, title, year, journal, authors_json,"
                " article_type, n_statements, n_references, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (identity, doc.source, doc.format, work_n, doc.doi or None, doc.title, doc.year, doc.journal,
                 json.dumps([{"family": a.family, "given": a.given, "orcid": a.orcid,
                              "affiliations": [vars(x) for x in a.affiliations]} for a in doc.authors],
                            ensure_ascii=False),
                 doc.article_type, len(doc.statements), len(doc.references), _now()))
            doc_id = cur.lastrowid or 0
            ref_ids: dict[str, tuple[int, int | None]] = {}
            resolved_existing = 0
            for r in doc.references:
                w = parse_work_id(r.work_id) if r.work_id else None
                if r.resolution_method not in ("new", ""):
                    resolved_existing += 1
                c = self.conn.execute(
                    "INSERT INTO refs (document_id, key, label, raw, title, authors_json, container, year, volume,"
                    " issue, pages, doi, pmid, pmcid, work_id, method, score) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc_id, r.key, r.label, r.raw, r.title, _authors_json(r.authors), r.container, r.year,
                     r.volume, r.issue, r.pages, r.doi, r.pmid, r.pmcid, w, r.resolution_method, r.resolution_score))
                ref_ids[r.key] = (c.lastrowid or 0, w)
            rows = []
            contexts: dict[tuple[int, int], int] = {}
            for s in doc.statements:
                if s.reference_key not in ref_ids:
                    continue
                ref_id, cited = ref_ids[s.reference_key]
                ckey = (s.paragraph_index, s.sentence_index)
                context_id = contexts.get(ckey)
                if context_id is None:
                    c = self.conn.execute(
                        "INSERT INTO contexts (document_id, paragraph_index, sentence_index, section_title, sentence,"
                        " before, after) VALUES (?,?,?,?,?,?,?)",
                        (doc_id, s.paragraph_index, s.sentence_index, s.section_title, s.sentence, s.before, s.after))
                    context_id = contexts[ckey] = c.lastrowid or 0
                rows.append((doc_id, ref_id, cited, work_n, doc.year, context_id, s.section, s.callout_start,
                             s.callout_end, s.stance, s.confidence, s.evidence, s.stance, s.confidence,
                             int(s.self_citation)))
            self.conn.executemany(
                "INSERT INTO statements (document_id, ref_id, cited_work_id, citing_work_id, citing_year, context_id,"
                " section, callout_start, callout_end, model_stance, model_confidence, evidence, stance, confidence,"
                " self_citation) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            self._reapply_corrections(doc_id, identity)
            self._save_notices(doc, doc_id, work_n)
        return SaveResult(document_id=doc_id, work_id=doc.work_id, replaced=old is not None,
                          statements=len(rows), references=len(doc.references), resolved_existing=resolved_existing)

    def _save_notices(self, doc: Document, doc_id: int, work_n: int) -> None:
        for rel in doc.related:
            kind = _NOTICE_KIND.get(rel.relation.lower()) or _ARTICLE_TYPE_NOTICE.get(doc.article_type)
            if not kind:
                continue
            target = None
            if rel.doi:
                target = self.find_work_by_identifier("doi", rel.doi)
            if target is None and rel.pmid:
                target = self.find_work_by_identifier("pmid", rel.pmid)
            if target is None:
                target = self.create_work(WorkRecord(doi=rel.doi, pmid=rel.pmid, title=rel.title, kind="reference"))
            self.conn.execute(
                "INSERT INTO notices (document_id, notice_work_id, target_work_id, kind, relation, doi, title, date)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (doc_id, work_n, self._wid(target), kind, rel.relation, doc.doi, doc.title,
                 str(doc.year or "")))

    def _reapply_corrections(self, doc_id: int, identity: str) -> None:
        # A curator's correction survives re-ingest: matched by (document, reference key, sentence).
        for c in self.conn.execute(
                "SELECT reference_key, sentence, stance, curator, created_at FROM corrections"
                " WHERE document_identity = ? ORDER BY id", (identity,)).fetchall():
            self.conn.execute(
                "UPDATE statements SET stance = ?, confidence = 1.0, corrected_by = ?, corrected_at = ?"
                " WHERE document_id = ? AND context_id IN (SELECT id FROM contexts WHERE document_id = ? AND sentence = ?)"
                " AND ref_id IN (SELECT id FROM refs WHERE document_id = ? AND key = ?)",
                (c["stance"], c["curator"], c["created_at"], doc_id, doc_id, c["sentence"], doc_id,
                                   c["reference_key"]))

    def correct_statement(self, statement_id: int, stance: str, curator: str, note: str = "") -> dict[str, Any]:
        if stance not in STANCES:
            raise ValueError(f"stance must be one of {', '.join(STANCES)}")
        row = self.conn.execute(
            "SELECT s.id, s.stance, c.sentence, d.identity, r.key FROM statements s JOIN documents d ON d.id ="
            " s.document_id JOIN refs r ON r.id = s.ref_id JOIN contexts c ON c.id = s.context_id WHERE s.id = ?", (statement_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no statement {statement_id}")
        now = _now()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO corrections (statement_id, document_identity, reference_key, sentence, old_stance,"
                " stance, curator, note, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (statement_id, row["identity"], row["key"], row["sentence"], row["stance"], stance, curator,
                 note, now))
            self.conn.execute("UPDATE statements SET stance = ?, confidence = 1.0, corrected_by = ?,"
                              " corrected_at = ? WHERE id = ?", (stance, curator, now, statement_id))
        out = self.get_statement(statement_id)
        assert out is not None
        return out

    # ------------------------------------------------------------------------------------------ reads
    def _work_row(self, ident: str) -> sqlite3.Row | None:
        n = parse_work_id(ident)
        if n is not None:
            return self.conn.execute("SELECT * FROM works WHERE id = ?", (n,)).fetchone()
        doi = normalise_doi(ident)
        if doi:
            return self.conn.execute("SELECT * FROM works WHERE doi = ?", (doi,)).fetchone()
        s = ident.strip()
        if s.upper().startswith("PMC"):
            return self.conn.execute("SELECT * FROM works WHERE pmcid = ?", (s.upper(),)).fetchone()
        if s.isdigit():
            return self.conn.execute("SELECT * FROM works WHERE pmid = ?", (s,)).fetchone()
        return None

    def get_work(self, ident: str) -> dict[str, Any] | None:
        row = self._work_row(ident)
        if row is None:
            return None
        wid = format_work_id(row["id"])
        doc = self.conn.execute("SELECT source, journal, article_type FROM documents WHERE work_id = ? LIMIT 1",
                                (row["id"],)).fetchone()
        notices = self.notices(wid)
        return {
            "id": wid, "doi": row["doi"] or "", "pmid": row["pmid"] or "", "pmcid": row["pmcid"] or "",
            "title": row["title"], "authors": json.loads(row["authors_json"]), "year": row["year"],
            "container": row["container"], "volume": row["volume"], "pages": row["pages"],
            "kind": row["kind"], "work_type": row["work_type"], "full_text_source": doc["source"] if doc else None,
            "retracted": any(n["kind"] == "retraction" for n in notices), "notices": notices,
        }

    def tallies(self, work_id: str) -> dict[str, int]:
        wid = self._wid(work_id)
        out = {"supporting": 0, "contrasting": 0, "mentioning": 0, "unclassified": 0}
        for stance, n in self.conn.execute(
                "SELECT stance, COUNT(*) FROM statements WHERE cited_work_id = ? GROUP BY stance", (wid,)):
            out[stance if stance in out else "unclassified"] += n
        out["total"] = sum(out.values())
        out["citing_publications"] = self.conn.execute(
            "SELECT COUNT(DISTINCT document_id) FROM statements WHERE cited_work_id = ?", (wid,)).fetchone()[0]
        return out

    def section_tallies(self, work_id: str) -> dict[str, dict[str, int]]:
        wid = self._wid(work_id)
        out = {s: {"supporting": 0, "contrasting": 0, "mentioning": 0, "total": 0} for s in SECTIONS}
        for section, stance, n in self.conn.execute(
                "SELECT section, stance, COUNT(*) FROM statements WHERE cited_work_id = ? GROUP BY section, stance",
                (wid,)):
            bucket = out.setdefault(section, {"supporting": 0, "contrasting": 0, "mentioning": 0, "total": 0})
            if stance in bucket:
                bucket[stance] += n
            bucket["total"] += n
        return out

    def year_tallies(self, work_id: str) -> list[dict[str, Any]]:
        wid = self._wid(work_id)
        years: dict[int | None, dict[str, Any]] = {}
        for year, stance, n in self.conn.execute(
                "SELECT citing_year, stance, COUNT(*) FROM statements WHERE cited_work_id = ?"
                " GROUP BY citing_year, stance", (wid,)):
            b = years.setdefault(year, {"year": year, "supporting": 0, "contrasting": 0, "mentioning": 0, "total": 0})
            if stance in b:
                b[stance] += n
            b["total"] += n
        return sorted(years.values(), key=lambda b: (b["year"] is None, b["year"] or 0))

    _STATEMENT_COLS = (
        "s.id, s.section, c.section_title, c.sentence, c.before, c.after, s.callout_start, s.callout_end,"
        " s.stance, s.confidence, s.model_stance, s.model_confidence, s.evidence, s.self_citation,"
        " s.corrected_by, s.corrected_at, s.citing_year, s.cited_work_id, s.citing_work_id,"
        " d.doi AS citing_doi, d.title AS citing_title, d.source AS citing_source, d.journal AS citing_journal,"
        " r.key AS reference_key, r.raw AS reference_raw, r.method AS resolution_method,"
        " r.score AS resolution_score, w.doi AS cited_doi, w.title AS cited_title")
    _STATEMENT_FROM = (" FROM statements s JOIN contexts c ON c.id = s.context_id JOIN documents d ON d.id ="
                       " s.document_id JOIN refs r ON r.id = s.ref_id LEFT JOIN works w ON w.id = s.cited_work_id")

    @staticmethod
    def _statement_dict(row: sqlite3.Row) -> dict[str, Any]:
        d = dict(row)
        d["type"] = d.pop("stance")
        d["self_citation"] = bool(d["self_citation"])
        d["corrected"] = d["corrected_by"] is not None
        d["cited_work_id"] = format_work_id(d["cited_work_id"]) if d["cited_work_id"] else None
        d["citing_work_id"] = format_work_id(d["citing_work_id"])
        d["citing_doi"] = d["citing_doi"] or ""
        d["cited_doi"] = d["cited_doi"] or ""
        return d

    @staticmethod
    def _filters(stance: str | None, section: str | None, year_from: int | None, year_to: int | None,
                 exclude_self: bool) -> tuple[str, list[Any]]:
        where, args = [], []
        if stance:
            where.append("s.stance = ?")
            args.append(stance)
        if section:
            where.append("s.section = ?")
            args.append(section)
        if year_from is not None:
            where.append("s.citing_year >= ?")
            args.append(year_from)
        if year_to is not None:
            where.append("s.citing_year <= ?")
            args.append(year_to)
        if exclude_self:
            where.append("s.self_citation = 0")
        return "".join(" AND " + w for w in where), args

    def citations(self, work_id: str, *, stance: str | None = None, section: str | None = None,
                  year_from: int | None = None, year_to: int | None = None, exclude_self: bool = False,
                  sort: str = "relevance", limit: int = 20, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        wid = self._wid(work_id)
        extra, args = self._filters(stance, section, year_from, year_to, exclude_self)
        total = self.conn.execute(f"SELECT COUNT(*) FROM statements s WHERE s.cited_work_id = ?{extra}",
                                  (wid, *args)).fetchone()[0]
        order = {
            # "relevance": evidence first (supporting/contrasting), then confidence, then newest
            "relevance": "CASE s.stance WHEN 'contrasting' THEN 0 WHEN 'supporting' THEN 1 ELSE 2 END,"
                         " s.confidence DESC, s.citing_year DESC, s.id",
            "newest": "s.citing_year DESC, s.id", "oldest": "s.citing_year ASC, s.id",
            "confidence": "s.confidence DESC, s.id",
        }.get(sort)
        if order is None:
            raise ValueError(f"sort must be one of relevance, newest, oldest, confidence (got {sort!r})")
        rows = self.conn.execute(
            f"SELECT {self._STATEMENT_COLS}{self._STATEMENT_FROM} WHERE s.cited_work_id = ?{extra}"
            f" ORDER BY {order} LIMIT ? OFFSET ?", (wid, *args, limit, offset)).fetchall()
        return total, [self._statement_dict(r) for r in rows]

    def search_statements(self, query: str, *, stance: str | None = None, section: str | None = None,
                          year_from: int | None = None, year_to: int | None = None, exclude_self: bool = False,
                          limit: int = 20, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        match = fts_query(query)
        if not match:
            return 0, []
        extra, args = self._filters(stance, section, year_from, year_to, exclude_self)
        total = self.conn.execute(
            f"SELECT COUNT(*) FROM contexts_fts f JOIN statements s ON s.context_id = f.rowid"
            f" WHERE contexts_fts MATCH ?{extra}", (match, *args)).fetchone()[0]
        # Without filters, let FTS5 rank and cut first (its ORDER BY rank LIMIT is cheap); each sentence has
        # at least one statement, so the best offset+limit sentences hold the page we want.
        cap = f" ORDER BY rank LIMIT {int(offset) + int(limit)}" if not extra else ""
        rows = self.conn.execute(
            f"WITH hits AS (SELECT rowid AS context_id, rank, snippet(contexts_fts, 0, char(2), char(3), '…', 24)"
            f" AS snippet FROM contexts_fts WHERE contexts_fts MATCH ?{cap})"
            f" SELECT {self._STATEMENT_COLS}, hits.snippet, hits.rank FROM hits"
            f" JOIN statements s ON s.context_id = hits.context_id JOIN contexts c ON c.id = s.context_id"
            f" JOIN documents d ON d.id = s.document_id JOIN refs r ON r.id = s.ref_id"
            f" LEFT JOIN works w ON w.id = s.cited_work_id"
            f" WHERE 1{extra} ORDER BY hits.rank, s.id LIMIT ? OFFSET ?",
            (match, *args, limit, offset)).fetchall()
        return total, [self._statement_dict(r) for r in rows]

    def search_works(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        q = query.strip()
        if not q:
            return []
        doi = normalise_doi(q)
        if doi:
            row = self.conn.execute("SELECT id FROM works WHERE doi = ?", (doi,)).fetchone()
            ids = [row[0]] if row else []
        else:
            words = fold(q).split()
            if not words:
                return []
            # Title words (all must appear) or first-author surname; works that are cited rank first.
            cond = " AND ".join("(' ' || title_norm || ' ') LIKE ?" for _ in words)
            args = [f"% {w}%" for w in words]
            ids = [r[0] for r in self.conn.execute(
                f"SELECT id FROM works WHERE ({cond}) OR first_author = ? ORDER BY"
                f" (SELECT COUNT(*) FROM statements s WHERE s.cited_work_id = works.id) DESC, id LIMIT ?",
                (*args, fold(q), limit)).fetchall()]
        out = []
        for i in ids:
            w = self.get_work(format_work_id(i))
            if w:
                w["tallies"] = self.tallies(w["id"])
                out.append(w)
        return out

    def get_statement(self, statement_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(f"SELECT {self._STATEMENT_COLS}{self._STATEMENT_FROM} WHERE s.id = ?",
                                (statement_id,)).fetchone()
        return self._statement_dict(row) if row else None

    def most_cited_works(self, limit: int = 10) -> list[dict[str, Any]]:
        """The works with most citing papers (then most statements), with their tallies."""
        rows = self.conn.execute(
            "SELECT cited_work_id, COUNT(DISTINCT document_id) AS papers, COUNT(*) AS n FROM statements"
            " WHERE cited_work_id IS NOT NULL GROUP BY cited_work_id ORDER BY papers DESC, n DESC, cited_work_id"
            " LIMIT ?", (limit,)).fetchall()
        out = []
        for r in rows:
            w = self.get_work(format_work_id(r[0]))
            if w:
                w["tallies"] = self.tallies(w["id"])
                out.append(w)
        return out

    def recent_documents(self, limit: int = 10) -> list[dict[str, Any]]:
        """The articles ingested last: {work_id, doi, title, year, journal, ingested_at, statements, references}."""
        return [{"work_id": format_work_id(r["work_id"]), "doi": r["doi"] or "", "title": r["title"], "year": r["year"],
                 "journal": r["journal"], "ingested_at": r["ingested_at"], "statements": r["n_statements"],
                 "references": r["n_references"]}
                for r in self.conn.execute(
                    "SELECT work_id, doi, title, year, journal, ingested_at, n_statements, n_references"
                    " FROM documents ORDER BY id DESC LIMIT ?", (limit,))]

    def references_of(self, work_id: str) -> list[dict[str, Any]]:
        """The reference list of the article ingested for ``work_id`` (empty when only cited, never ingested).

        Each: {key, label, raw, title, year, doi, work_id, cited_doi, cited_title, method, score}."""
        wid = self._wid(work_id)
        doc = self.conn.execute("SELECT id FROM documents WHERE work_id = ? ORDER BY id DESC LIMIT 1",
                                (wid,)).fetchone()
        if doc is None:
            return []
        return [{"key": r["key"], "label": r["label"], "raw": r["raw"], "title": r["title"], "year": r["year"],
                 "doi": r["doi"], "work_id": format_work_id(r["work_id"]) if r["work_id"] else None,
                 "cited_doi": r["wdoi"] or "", "cited_title": r["wtitle"] or "", "method": r["method"],
                 "score": r["score"]}
                for r in self.conn.execute(
                    "SELECT r.key, r.label, r.raw, r.title, r.year, r.doi, r.work_id, r.method, r.score,"
                    " w.doi AS wdoi, w.title AS wtitle FROM refs r LEFT JOIN works w ON w.id = r.work_id"
                    " WHERE r.document_id = ? ORDER BY r.id", (doc[0],))]

    def reference_count(self, work_id: str) -> int:
        wid = self._wid(work_id)
        row = self.conn.execute("SELECT n_references FROM documents WHERE work_id = ? ORDER BY id DESC LIMIT 1",
                                (wid,)).fetchone()
        return int(row[0]) if row else 0

    def notices(self, work_id: str) -> list[dict[str, Any]]:
        wid = self._wid(work_id)
        return [dict(r) for r in self.conn.execute(
            "SELECT kind, relation, doi, title, date, notice_work_id FROM notices WHERE target_work_id = ?"
            " ORDER BY id", (wid,))]

    def stats(self) -> dict[str, Any]:
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        by_type = {s: 0 for s in STANCES}
        for stance, n in self.conn.execute("SELECT stance, COUNT(*) FROM statements GROUP BY stance"):
            by_type[stance or "unclassified"] = n
        by_section = {s: 0 for s in SECTIONS}
        for section, n in self.conn.execute("SELECT section, COUNT(*) FROM statements GROUP BY section"):
            by_section[section] = n
        methods = {m or "unresolved": n for m, n in self.conn.execute(
            "SELECT method, COUNT(*) FROM refs GROUP BY method")}
        refs = one("SELECT COUNT(*) FROM refs")
        size = None
        if self.path != ":memory:":
            p = Path(self.path)
            size = sum(f.stat().st_size for f in (p, Path(self.path + "-wal")) if f.exists())
        statements = one("SELECT COUNT(*) FROM statements")
        return {
            "documents": one("SELECT COUNT(*) FROM documents"),
            "works": one("SELECT COUNT(*) FROM works"),
            "references": refs,
            "statements": statements,
            "statements_by_type": by_type,
            "statements_by_section": by_section,
            "self_citations": one("SELECT COUNT(*) FROM statements WHERE self_citation = 1"),
            "resolution_methods": methods,
            "references_matched_to_known_work_pct": round(
                100.0 * sum(n for m, n in methods.items() if m not in ("new", "unresolved")) / refs, 2) if refs else 0.0,
            "notices": one("SELECT COUNT(*) FROM notices"),
            "corrections": one("SELECT COUNT(*) FROM corrections"),
            "database_bytes": size,
            "bytes_per_statement": round(size / statements, 1) if size and statements else None,
        }

    def iter_statements(self) -> Iterator[dict[str, Any]]:
        """Every statement as a full statement row (``citelens.serialize.statement_json`` shapes it)."""
        cur = self.conn.execute(f"SELECT {self._STATEMENT_COLS}{self._STATEMENT_FROM} ORDER BY s.id")
        for row in cur:
            yield self._statement_dict(row)

    def iter_corrections(self) -> Iterator[dict[str, Any]]:
        for row in self.conn.execute("SELECT * FROM corrections ORDER BY id"):
            yield dict(row)


_FTS_TOKEN = re.compile(r'"([^"]+)"|(\w[\w\'-]*\*?)', re.UNICODE)


def fts_query(query: str) -> str:
    """Turn what a user types into a safe FTS5 MATCH expression.

    Words become quoted terms (so FTS5 operators and punctuation in the input cannot cause syntax errors),
    "quoted phrases" stay phrases, a trailing * keeps prefix search, and OR between words is honoured.
    """
    parts: list[str] = []
    for m in _FTS_TOKEN.finditer(query or ""):
        phrase, word = m.group(1), m.group(2)
        if phrase:
            words = re.findall(r"\w+", phrase)
            if words:
                parts.append('"' + " ".join(words) + '"')
        elif word:
            if word == "OR" and parts and parts[-1] != "OR":
                parts.append("OR")
                continue
            prefix = word.endswith("*")
            core = re.findall(r"\w+", word)
            if not core:
                continue
            term = '"' + " ".join(core) + '"'
            parts.append(term + ("*" if prefix else ""))
    while parts and parts[-1] == "OR":
        parts.pop()
    if parts and parts[0] == "OR":
        parts.pop(0)
    return " ".join(parts)
