"""Stores: where documents, works and citation statements live. ``open_store`` picks one by URL.

The contract is :class:`~citelens.store.base.Store` (split by concern, returning the records of
:mod:`citelens.store.records`); SQLite is the embedded default, PostgreSQL the server backend.
"""

from __future__ import annotations

from pathlib import Path

from citelens.store.base import (
    CitationReader,
    DocumentWriter,
    Exporter,
    StatementSearch,
    Store,
    format_work_id,
    parse_work_id,
)
from citelens.store.records import (
    AUTHOR_WORK_SORTS,
    CITATION_SORTS,
    TOP_WORKS_BY,
    AuthorName,
    Correction,
    DocumentAuthor,
    DocumentSummary,
    IndexStats,
    Notice,
    ReferenceEntry,
    SaveResult,
    SearchHit,
    SearchResults,
    Snippet,
    StanceCounts,
    Statement,
    Tallies,
    Work,
    WorkHit,
    YearCounts,
    export_row,
)
from citelens.store.sqlite import SQLiteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: str | Path) -> bool:
    return str(target).startswith(POSTGRES_SCHEMES)


def open_store(target: str | Path, *, readonly: bool = False, write_wait: float | None = None) -> Store:
    """Open a store: a file path or ``sqlite:///path`` (SQLite), or a ``postgresql://`` URL (PostgreSQL).

    ``readonly``: for reading commands and the server; never takes or waits for the write lock.
    ``write_wait``: seconds a SQLite write waits for another writer before a clear StoreError (default
    ``CITELENS_WRITE_WAIT`` or 600); PostgreSQL writers do not exclude each other.
    """
    s = str(target)
    if is_postgres_url(s):
        from citelens.store.postgres import PostgresStore

        return PostgresStore(s, readonly=readonly)
    if s.startswith("sqlite:///"):
        s = s[len("sqlite:///"):]
    return SQLiteStore(s, readonly=readonly, write_wait=write_wait)


__all__ = [
    "AUTHOR_WORK_SORTS", "CITATION_SORTS", "TOP_WORKS_BY", "AuthorName", "CitationReader", "Correction", "DocumentAuthor", "DocumentSummary", "DocumentWriter", "Exporter", "IndexStats", "Notice",
    "ReferenceEntry", "SQLiteStore", "SaveResult", "SearchHit", "SearchResults", "Snippet", "StanceCounts", "Statement", "StatementSearch", "Store",
    "Tallies", "Work", "WorkHit", "YearCounts", "export_row", "format_work_id", "is_postgres_url", "open_store",
    "parse_work_id",
]
