"""The store interface: what the pipeline writes and what the CLI, API and pages read.

SQLite (``citelens.store.sqlite``) is the embedded default; a PostgreSQL store implements the same
abstract methods. Rows come back as plain dicts with documented keys, so front ends need no ORM.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from citelens.document import Document
from citelens.references.resolve import WorkCandidate, WorkRecord

SORTS = ("relevance", "newest", "oldest", "confidence")


@dataclass
class SaveResult:
    document_id: int
    work_id: str
    replaced: bool
    statements: int
    references: int
    resolved_existing: int  # references matched to a work the index already knew


def format_work_id(n: int) -> str:
    return f"W{n}"


def parse_work_id(ident: str) -> int | None:
    s = ident.strip()
    if s[:1] in ("W", "w") and s[1:].isdigit():
        return int(s[1:])
    return None


class Store(abc.ABC):
    """Abstract store. Every method is safe to call from one thread at a time per instance."""

    # --- lifecycle
    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: everything inside commits together or not at all."""

    # --- WorkIndex (used by the resolve stage inside a transaction)
    @abc.abstractmethod
    def find_work_by_identifier(self, kind: str, value: str) -> str | None: ...

    @abc.abstractmethod
    def find_work_candidates(self, first_author: str, year: int | None, title_key: str) -> list[WorkCandidate]: ...

    @abc.abstractmethod
    def create_work(self, record: WorkRecord) -> str: ...

    @abc.abstractmethod
    def enrich_work(self, work_id: str, record: WorkRecord) -> None: ...

    # --- writes
    @abc.abstractmethod
    def save_document(self, doc: Document) -> SaveResult:
        """Store a resolved, classified document, replacing an earlier copy of the same article."""

    @abc.abstractmethod
    def correct_statement(self, statement_id: int, stance: str, curator: str, note: str = "") -> dict[str, Any]:
        """A curator's label overrides the model's in tallies; history is kept."""

    # --- reads
    @abc.abstractmethod
    def get_work(self, ident: str) -> dict[str, Any] | None:
        """A work by DOI (any case, with or without https://doi.org/) or work id ("W12")."""

    @abc.abstractmethod
    def tallies(self, work_id: str) -> dict[str, int]:
        """{supporting, contrasting, mentioning, unclassified, total, citing_publications}."""

    @abc.abstractmethod
    def section_tallies(self, work_id: str) -> dict[str, dict[str, int]]:
        """{section: {supporting, contrasting, mentioning, total}} for the five sections."""

    @abc.abstractmethod
    def year_tallies(self, work_id: str) -> list[dict[str, Any]]:
        """[{year, supporting, contrasting, mentioning, total}] by citing paper's year."""

    @abc.abstractmethod
    def citations(self, work_id: str, *, stance: str | None = None, section: str | None = None,
                  year_from: int | None = None, year_to: int | None = None, exclude_self: bool = False,
                  sort: str = "relevance", limit: int = 20, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """(total matching, one page of statements) citing ``work_id``."""

    @abc.abstractmethod
    def search_statements(self, query: str, *, stance: str | None = None, section: str | None = None,
                          year_from: int | None = None, year_to: int | None = None, exclude_self: bool = False,
                          limit: int = 20, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """Ranked full-text search; each row has ``snippet`` with matches between \\x02 and \\x03."""

    @abc.abstractmethod
    def search_works(self, query: str, limit: int = 20) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def get_statement(self, statement_id: int) -> dict[str, Any] | None: ...

    # --- home page and report "References" tab (read-only)
    def most_cited_works(self, limit: int = 10) -> list[dict[str, Any]]:
        """Works with the most citing papers, each with ``tallies``."""
        raise NotImplementedError

    def recent_documents(self, limit: int = 10) -> list[dict[str, Any]]:
        """The articles ingested last."""
        raise NotImplementedError

    def references_of(self, work_id: str) -> list[dict[str, Any]]:
        """The ingested article's own reference list, each entry with the work it resolved to."""
        raise NotImplementedError

    def reference_count(self, work_id: str) -> int:
        raise NotImplementedError

    @abc.abstractmethod
    def notices(self, work_id: str) -> list[dict[str, Any]]:
        """Editorial notices (retraction, correction, expression of concern) about ``work_id``."""

    @abc.abstractmethod
    def stats(self) -> dict[str, Any]: ...

    @abc.abstractmethod
    def iter_statements(self) -> Iterator[dict[str, Any]]:
        """Every statement as an export row (see docs/cli.md for the fields)."""

    @abc.abstractmethod
    def iter_corrections(self) -> Iterator[dict[str, Any]]: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
