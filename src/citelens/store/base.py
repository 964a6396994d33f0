"""The store contract: what the pipeline writes and what the CLI, API and pages read.

Split by concern — :class:`DocumentWriter` (resolve and store documents, curate), :class:`CitationReader`
(works, statements, tallies), :class:`StatementSearch` (full text), :class:`Exporter` (every row) — and
returning the typed records of :mod:`citelens.store.records`. :class:`Store` is all four; SQLite
(``citelens.store.sqlite``) and PostgreSQL (``citelens.store.postgres``) implement it, and one contract test
suite (tests/test_store_contract.py) runs against both. Domain rules live in :mod:`citelens.rules`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

# Work ids ("W123") belong to the document model (Reference.work_id); named here too, where stores use them.
from citelens.document import MAX_ROW_ID, Author, Document, format_work_id, parse_work_id  # noqa: F401
from citelens.references.resolve import BlockingKey, WorkCandidate, WorkRecord
from citelens.store.query import SEARCH_WINDOW
from citelens.store.records import (
    AuthorProfile,
    Collection,
    CollectionItem,
    Correction,
    DocumentAuthor,
    DocumentSummary,
    IndexStats,
    InstitutionHit,
    InstitutionProfile,
    JournalHit,
    JournalProfile,
    LocatedWork,
    Notice,
    NoticeEvent,
    ReferenceEntry,
    SaveResult,
    SearchHit,
    SearchResults,
    StanceCounts,
    Statement,
    Tallies,
    Work,
    WorkHit,
    YearCounts,
)

# A database row as a SQL backend gives it (column name → value).
Row = Mapping[str, Any]

SORTS = ("relevance", "newest", "oldest", "confidence")


class DocumentWriter(abc.ABC):
    """Writes: the resolver's work index, documents, metadata, curators' corrections, the ingest manifest."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: everything inside commits together or not at all (nested calls are savepoints)."""

    # --- the resolver's WorkIndex (citelens.references.resolve), used inside a transaction
    @abc.abstractmethod
    def find_work_by_identifier(self, kind: str, value: str) -> str | None: ...

    @abc.abstractmethod
    def find_work_candidates(self, first_author: str, year: int | None, title_key: str) -> list[WorkCandidate]: ...

    @abc.abstractmethod
    def create_work(self, record: WorkRecord) -> str: ...

    @abc.abstractmethod
    def enrich_work(self, work_id: str, record: WorkRecord) -> WorkRecord | None:
        """Merge ``record`` into the work and give the work as it now stands (None: no such work)."""

    def identifier_scope(self, doc: Document) -> AbstractContextManager[None]:
        """Optional: inside a write transaction, let the store look up ``doc``'s identifiers in bulk while
        it is resolved (a backend with costly round trips does; the default does nothing)."""
        return nullcontext()

    def prefetch_candidates(self, keys: Sequence[BlockingKey]) -> None:
        """Optional: the resolver's hint of the candidate look-ups to come (see ``WorkIndex``); the default
        does nothing, and each look-up asks the index itself."""
        return None

    def find_work_by_alias(self, kind: str, value: str) -> str | None:
        """Optional: the work that knows ``value`` as another of its identifiers (see ``WorkIndex``); the
        default keeps none."""
        return None

    def add_work_alias(self, work_id: str, kind: str, value: str) -> None:
        """Optional: remember ``value`` as another identifier of ``work_id`` (see ``WorkIndex``); the default
        keeps nothing."""
        return None

    @abc.abstractmethod
    def save_work_places(self, work_id: str, authors: list[Author], source: str) -> int:
        """Store where imported metadata (``source``: "openalex", "crossref") places ``work_id``'s authors
        (their located affiliations), replacing what that source said before; returns the places stored."""

    @abc.abstractmethod
    def save_document(self, doc: Document) -> SaveResult:
        """Store a resolved, classified document, replacing an earlier copy of the same article."""

    @abc.abstractmethod
    def correct_statement(self, statement_id: int, stance: str, curator: str, note: str = "") -> Statement:
        """A curator's label overrides the model's in tallies; history is kept."""

    # --- the ingest manifest: inputs already stored, so an interrupted batch resumes without redoing them
    @abc.abstractmethod
    def finished_inputs(self) -> dict[str, str]:
        """{input name: fingerprint} of inputs whose documents are stored."""

    @abc.abstractmethod
    def mark_input_finished(self, name: str, fingerprint: str, outcome: str) -> None:
        """Record an input as done (call inside the transaction that stored its document)."""


class CitationReader(abc.ABC):
    @abc.abstractmethod
    def get_work(self, ident: str) -> Work | None:
        """A work by DOI (any case, with or without https://doi.org/), PMID, PMCID or work id ("W12")."""

    def get_works(self, idents: Sequence[str]) -> dict[str, Work]:
        """:meth:`get_work` of each of ``idents``, by the identifier as given (those that name no work left out),
        read together where the backend can (a collection's 200 works, a page of the ranking: a few queries, not
        three per work)."""
        out: dict[str, Work] = {}
        for ident in idents:
            if ident not in out and (work := self.get_work(ident)) is not None:
                out[ident] = work
        return out

    @abc.abstractmethod
    def tallies(self, work_id: str, *, min_confidence: float | None = None, exclude_self: bool = False) -> Tallies:
        """Counts by type. With ``min_confidence``, a supporting/contrasting label below it counts as mentioning
        (a curator's correction always counts as set), so totals do not change. ``exclude_self``: without
        self-citations (citing publications: those with a statement that is not one)."""

    def tallies_of_works(self, work_ids: Sequence[str], *, min_confidence: float | None = None
                         ) -> dict[str, Tallies]:
        """:meth:`tallies` of each of ``work_ids`` (every one of them a key), read together where the backend can
        (a collection's page counts its 200 works in a few queries, not a few per work)."""
        return {w: self.tallies(w, min_confidence=min_confidence) for w in work_ids}

    @abc.abstractmethod
    def section_tallies(self, work_id: str, *, min_confidence: float | None = None) -> dict[str, StanceCounts]:
        """{section: counts} for the five sections (and any other section name stored)."""

    @abc.abstractmethod
    def year_tallies(self, work_id: str, *, min_confidence: float | None = None) -> list[YearCounts]:
        """Counts by the citing paper's year, oldest first (unknown year last); ``min_confidence`` as in
        :meth:`tallies`."""

    @abc.abstractmethod
    def citations(self, work_id: str, *, stance: str | None = None, section: str | None = None,
                  year_from: int | None = None, year_to: int | None = None, exclude_self: bool = False,
                  sort: str = "relevance", limit: int = 20, offset: int = 0,
                  min_confidence: float | None = None) -> tuple[int, list[Statement]]:
        """(total matching, one page of statements) citing ``work_id``. With ``min_confidence``, ``stance``
        selects statements by the label :meth:`tallies` counts them under at that threshold (a model's
        supporting/contrasting label below it is mentioning), and "relevance" puts only the labels that pass
        it first; the statements themselves keep their stored label and confidence."""

    @abc.abstractmethod
    def get_statement(self, statement_id: int) -> Statement | None: ...

    @abc.abstractmethod
    def corrections_of(self, statement_id: int) -> list[Correction]:
        """Every curator correction of this statement, oldest first: the ones saved on it and the ones saved on
        the same statement (article, reference, sentence) before the article was re-ingested."""

    @abc.abstractmethod
    def callout_spans(self, statement_ids: Sequence[int]) -> dict[int, dict[int, list[tuple[int, int]]]]:
        """The in-text citations (start, end offsets) in each statement's sentence (key 0) and in the sentences
        just before (-1) and after (1) it in the same paragraph, by statement id; at most 1,000 statements."""

    # --- home page and a report's "References" tab
    @abc.abstractmethod
    def most_cited_works(self, limit: int = 10) -> list[WorkHit]:
        """Works with the most citing papers (then most statements), each with its tallies."""

    @abc.abstractmethod
    def top_works(self, by: str, *, limit: int, offset: int = 0, min_confidence: float | None = None
                  ) -> tuple[int, list[tuple[str, int]]]:
        """The works of the index ranked by ``by`` (records.TOP_WORKS_BY): how many works have at least one (citing
        publication, supporting or contrasting statement counted at ``min_confidence``), and ``limit`` of them
        from ``offset`` as (work id, that count), most first (ties: more citing publications, then more
        statements, then the older id)."""

    @abc.abstractmethod
    def recent_documents(self, limit: int = 10) -> list[DocumentSummary]:
        """The articles ingested last, newest first."""

    @abc.abstractmethod
    def references_of(self, work_id: str) -> list[ReferenceEntry]:
        """The reference list of the article ingested for ``work_id`` (empty when it was only cited)."""

    @abc.abstractmethod
    def reference_count(self, work_id: str) -> int: ...

    @abc.abstractmethod
    def data_version(self) -> tuple[int, ...]:
        """Changes whenever a document is stored or replaced, a notice arrives or a label is corrected (a
        few index lookups): lets a server reuse counts exactly as long as they are still true."""

    @abc.abstractmethod
    def notices(self, work_id: str) -> list[Notice]:
        """Editorial notices (retraction, correction, expression of concern) about ``work_id``."""

    @abc.abstractmethod
    def record_notice(self, work_id: str, notice: Notice) -> str:
        """Store ``notice`` about ``work_id`` (a notice from no ingested article: Retraction Watch, Crossref
        ``update-to``), unless the work already has it (``rules.same_notice``, whatever its source): "added",
        "updated" (the known one gained a DOI or a fuller date) or "unchanged"."""

    @abc.abstractmethod
    def notices_by_work(self, work_ids: Sequence[str] | None = None) -> dict[str, list[Notice]]:
        """{work id: its notices, oldest first} for the works of ``work_ids`` that have any (every such work when
        None: a whole-index export; the notices table is small). One query, for a page of search results."""

    @abc.abstractmethod
    def stats(self) -> IndexStats: ...


class Collections(abc.ABC):
    """Collections (curators' lists of works) and what is new about their works: the alerts."""

    @abc.abstractmethod
    def create_collection(self, name: str, owner: str, items: list[tuple[str, str | None, str]],
                          description: str = "") -> Collection:
        """Store a collection; ``items`` are (doi, work id or None, label) in order."""

    @abc.abstractmethod
    def list_collections(self) -> list[Collection]: ...

    @abc.abstractmethod
    def get_collection(self, collection_id: int) -> Collection | None: ...

    @abc.abstractmethod
    def collection_items(self, collection_id: int) -> list[CollectionItem]: ...

    @abc.abstractmethod
    def add_collection_items(self, collection_id: int, items: list[tuple[str, str | None, str]]) -> int:
        """Append ``items`` ((doi, work id or None, label), in order) after the collection's last; how many."""

    @abc.abstractmethod
    def remove_collection_items(self, collection_id: int, positions: list[int]) -> int:
        """Remove the items at ``positions`` (the others keep theirs); how many there were."""

    @abc.abstractmethod
    def delete_collection(self, collection_id: int) -> bool:
        """Delete a collection and its items; whether it existed."""

    @abc.abstractmethod
    def statements_since(self, work_ids: list[str], since: str, limit: int = 200, until: str | None = None
                         ) -> list[tuple[str, Statement]]:
        """(ingested_at, statement) citing any of ``work_ids`` from documents ingested at or after ``since``
        and, given ``until``, before it (both ISO date-times in UTC as ``parse_since`` writes them: the window is
        half-open, so consecutive windows neither overlap nor leave a gap), newest first."""

    @abc.abstractmethod
    def notices_since(self, work_ids: list[str], since: str, until: str | None = None) -> list[NoticeEvent]:
        """Editorial notices about any of ``work_ids`` that arrived at or after ``since`` and, given ``until``,
        before it, newest first."""


class StatementSearch(abc.ABC):
    @abc.abstractmethod
    def search_statements(self, query: str, *, stance: str | None = None, section: str | None = None,
                          year_from: int | None = None, year_to: int | None = None, exclude_self: bool = False,
                          limit: int = 20, offset: int = 0,
                          min_confidence: float | None = None) -> tuple[int, list[SearchHit]]:
        """Ranked full-text search over citing sentences (``stance`` with ``min_confidence``: as in
        :meth:`CitationReader.citations`).

        Query syntax (both backends): words (all must appear, stemmed), "quoted phrases", a trailing * for a
        prefix, OR between terms. Anything else is treated as plain words, never as an error.
        """

    @abc.abstractmethod
    def search_statements_page(self, query: str, *, stance: str | None = None, section: str | None = None,
                               year_from: int | None = None, year_to: int | None = None, exclude_self: bool = False,
                               limit: int = 20, offset: int = 0, min_confidence: float | None = None,
                               window: int | None = SEARCH_WINDOW) -> SearchResults:
        """As :meth:`search_statements`, the one search the pages, the API and the CLI run: a query matching more
        than ``window`` statements (None or 0: no bound) is ranked within the ``window`` matches of the most
        recently indexed sentences alone, which are the pages it has, and its total is estimated (see
        :class:`SearchResults`). Otherwise the answer is exactly :meth:`search_statements`'s."""

    @abc.abstractmethod
    def search_works(self, query: str, limit: int = 20) -> list[WorkHit]:
        """Works by DOI, title words (all must appear) or first-author surname; much-cited first."""


class AuthorReader(abc.ABC):
    @abc.abstractmethod
    def find_authors(self, query: str, limit: int = 20) -> list[tuple[str, str, str, int]]:
        """Authors named by an ORCID, an author id or a name: ``(id, name, orcid, documents)``."""

    @abc.abstractmethod
    def author_profile(self, author_id: str, *, works_sort: str = "newest", works_limit: int | None = None,
                       works_offset: int = 0, min_confidence: float | None = None) -> AuthorProfile | None:
        """An author's profile; ``works`` holds ``works_limit`` of the author's works (all when None) from
        ``works_offset`` on, in the order ``works_sort`` (``records.AUTHOR_WORK_SORTS``); every figure is over all
        of them. ``min_confidence`` as in :meth:`CitationReader.tallies`, for every work's tallies and every
        figure built on them (the sorts by type too). None when there is no such author."""

    @abc.abstractmethod
    def institution_profile(self, ror: str, this_year: int | None = None, *,
                            min_confidence: float | None = None, works_sort: str = "newest",
                            works_limit: int | None = 0, works_offset: int = 0,
                            authors_limit: int | None = 0) -> InstitutionProfile | None:
        """An institution by ROR id; windows of citing years end at ``this_year`` (default: today's).
        ``min_confidence`` as in :meth:`CitationReader.tallies`, for the tallies, the windows and the works.
        ``works_list``: ``works_limit`` works (None: all) from ``works_offset`` in the order ``works_sort`` (as
        :meth:`author_profile`'s); ``authors_list``: the ``authors_limit`` (None: all) with the most works. Both
        default to none, so that a caller wanting the figures alone reads no list."""

    @abc.abstractmethod
    def find_institutions(self, query: str, limit: int = 20) -> list[InstitutionHit]:
        """Institutions with authors in the index, by ROR id (bare or as a URL) or by name (words in order,
        any case); most authors first."""

    @abc.abstractmethod
    def find_journals(self, query: str, limit: int = 20, *, exact: bool = False) -> list[JournalHit]:
        """Journals by ISSN or e-ISSN (any common spelling) or by title/abbreviation: names equal to the query
        (any case) first, then names holding its words in order; ``exact``: only the former."""

    @abc.abstractmethod
    def journal_profile(self, issn: str, this_year: int | None = None, *,
                        min_confidence: float | None = None) -> JournalProfile | None:
        """A journal by ISSN or e-ISSN; windows of citing years end at ``this_year`` (default: today's).
        ``min_confidence`` as in :meth:`CitationReader.tallies`, for the tallies, the windows and the most cited
        works' counts."""


class FlowReader(abc.ABC):
    """What knowledge-flow analysis (``citelens.flows``) reads: whole-index scans, in a stable order."""

    @abc.abstractmethod
    def flow_statements(self) -> Iterator[tuple[int, int, int]]:
        """(citing work row id, cited work row id, code) for every statement with a resolved cited work, in no
        particular order; code = section × 8 + type × 2 + self-citation (0/1), the section as an index into
        ``SECTIONS`` (one stored outside them counts as "other"), the type as an index into ``STANCES`` or
        ``len(STANCES)`` when unclassified. Plain integer tuples (row ids, as ``parse_work_id`` gives): a
        whole-index scan makes one per statement."""

    @abc.abstractmethod
    def flow_references(self) -> Iterator[tuple[int, int]]:
        """(citing work row id, cited work row id) for every resolved reference of every ingested article,
        in no particular order (a pair may come more than once)."""

    @abc.abstractmethod
    def located_places(self) -> Iterator[tuple[Any, ...]]:
        """The rows behind ``located_works``, as plain tuples for a whole-index scan: (work row id, year,
        journal, source, institution, ror, city, region, country) for every located affiliation of every
        work, as ``located_works`` counts them (the full text when there is one, else the first metadata
        source), a work's rows together in their order (works in no particular order; a place may repeat)."""

    @abc.abstractmethod
    def located_works(self) -> list[LocatedWork]:
        """Every work with a located affiliation: from its ingested full text when there is one, else from
        imported metadata; in work id order."""


class Exporter(abc.ABC):
    @abc.abstractmethod
    def iter_statements(self) -> Iterator[Statement]:
        """Every statement in id order (``records.export_row`` gives the export shape)."""

    @abc.abstractmethod
    def iter_corrections(self) -> Iterator[Correction]: ...

    @abc.abstractmethod
    def iter_corrections_in_context(self) -> Iterator[tuple[Correction, Statement | None]]:
        """Every correction in id order with the statement it applies to now (found by article identity,
        reference key and sentence, as a re-ingest replays it), or None when the article no longer has it."""

    @abc.abstractmethod
    def iter_document_authors(self) -> Iterator[DocumentAuthor]:
        """One row per (document, author position), in document id then position order."""


class Store(DocumentWriter, CitationReader, StatementSearch, AuthorReader, FlowReader, Exporter, Collections):
    """Everything: what ``open_store`` returns. Safe to call from one thread at a time per instance."""

    backend: str = ""
    # The schema version this open upgraded the index from (None: it was new, up to date, or upgraded by another
    # process meanwhile), so a command can say that it upgraded an index in place.
    upgraded_from: int | None = None

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
