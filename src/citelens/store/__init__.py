"""Stores: where documents, works and citation statements live. ``open_store`` picks one by URL."""

from __future__ import annotations

from pathlib import Path

from citelens.errors import StoreError
from citelens.store.base import SaveResult, Store, format_work_id, parse_work_id
from citelens.store.sqlite import SQLiteStore


def open_store(target: str | Path, *, readonly: bool = False, write_wait: float | None = None) -> Store:
    """Open a store: a file path (SQLite, the default) or a ``postgresql://`` URL.

    ``readonly``: for reading commands and the server; never takes or waits for the write lock.
    ``write_wait``: seconds a write waits for another writer before a clear StoreError (default
    ``CITELENS_WRITE_WAIT`` or 600).
    """
    s = str(target)
    if s.startswith(("postgresql://", "postgres://")):
        raise StoreError("the PostgreSQL store is not available in this version; use a SQLite file path")
    if s.startswith("sqlite:///"):
        s = s[len("sqlite:///"):]
    return SQLiteStore(s, readonly=readonly, write_wait=write_wait)


__all__ = ["Store", "SQLiteStore", "SaveResult", "open_store", "format_work_id", "parse_work_id"]
