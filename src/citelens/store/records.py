"""Typed records the stores return: the same shapes from every backend, no SQL rows.

Each record has ``to_dict()`` giving the JSON shape documented in docs/cli.md (field names are a public
contract of the CLI's ``--json`` and the exports).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from citelens.flows.distance import Place
from citelens.rules import retraction_in_force

SNIPPET_OPEN = "\x02"
SNIPPET_CLOSE = "\x03"
# Put in the text that search indexes (never in the stored sentence) between a word and the citation number glued
# to it ("stimuli48" -> "stimuli\x1f48"), so that both engines read two words; see query.search_sentence. A
# control character: both tokenizers split on it (a zero-width space is a letter to PostgreSQL in the C locale),
# and a snippet, cut from that text, drops it.
SEARCH_SEPARATOR = "\x1f"


def _plain(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


@dataclass(frozen=True)
class AuthorName:
    family: str = ""
    given: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"family": self.family, "given": self.given}


@dataclass(frozen=True)
class Notice:
    """An editorial notice (retraction, correction, expression of concern) about a work."""

    kind: str
    relation: str = ""
    doi: str = ""  # the notice's own DOI
    title: str = ""
    date: str = ""
    notice_work_id: str | None = None
    reasons: tuple[str, ...] = ()  # why, as the source words it (Retraction Watch's Reason list); schema 13
    source_id: str = ""  # the source's own id of the notice (Retraction Watch's Record ID)

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Work:
    id: str  # "W12"
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    title: str = ""
    authors: tuple[AuthorName, ...] = ()
    year: int | None = None
    container: str = ""
    volume: str = ""
    pages: str = ""
    kind: str = "reference"  # "article" (full text ingested) | "metadata" | "reference"
    work_type: str = ""
    issn: str = ""  # the journal's print ISSN ("NNNN-NNNC"), where a source said
    eissn: str = ""  # its electronic ISSN
    full_text_source: str | None = None
    notices: tuple[Notice, ...] = ()

    @property
    def retracted(self) -> bool:
        """A retraction that no later reinstatement lifts (``rules.retraction_in_force``)."""
        return retraction_in_force(self.notices)

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out["authors"] = [a.to_dict() for a in self.authors]
        out["retracted"] = self.retracted
        out["notices"] = [n.to_dict() for n in self.notices]
        return out


@dataclass(frozen=True)
class StanceCounts:
    """Statements by effective type (a curator's correction, else the model's label)."""

    supporting: int = 0
    contrasting: int = 0
    mentioning: int = 0
    total: int = 0

    def count(self, stance: str) -> int:
        return int(getattr(self, stance, 0)) if stance in ("supporting", "contrasting", "mentioning") else 0

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Tallies(StanceCounts):
    unclassified: int = 0
    citing_publications: int = 0


@dataclass(frozen=True)
class YearCounts(StanceCounts):
    year: int | None = None


@dataclass(frozen=True)
class WorkHit(Work):
    """A work found by :meth:`~citelens.store.base.StatementSearch.search_works`, with its tallies."""

    tallies: Tallies = field(default_factory=Tallies)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["tallies"] = self.tallies.to_dict()
        return out


@dataclass(frozen=True)
class Snippet:
    """A piece of a matching sentence: (text, is_match) parts, in order. Backends mark matches their own way."""

    parts: tuple[tuple[str, bool], ...] = ()

    @classmethod
    def from_markers(cls, text: str, open_: str = SNIPPET_OPEN, close: str = SNIPPET_CLOSE) -> Snippet:
        parts: list[tuple[str, bool]] = []
        inside = False
        buf = ""
        for ch in text or "":
            if ch == SEARCH_SEPARATOR:
                continue
            if ch in (open_, close):
                if buf:
                    parts.append((buf, inside))
                buf, inside = "", ch == open_
            else:
                buf += ch
        if buf:
            parts.append((buf, inside))
        return cls(tuple(parts))

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.parts)

    def marked(self, open_: str, close: str, escape: Callable[[str], str] = str) -> str:
        """The snippet with each match between ``open_`` and ``close``, every text piece passed through ``escape``."""
        return "".join(f"{open_}{escape(t)}{close}" if hit else escape(t) for t, hit in self.parts)


@dataclass(frozen=True)
class Statement:
    """One citation statement with its citing paper, its reference and the cited work."""

    id: int
    section: str
    section_title: str
    sentence: str
    before: str
    after: str
    callout_start: int
    callout_end: int
    type: str | None  # effective stance: the curator's if corrected, else the model's
    confidence: float | None
    model_stance: str | None
    model_confidence: float | None
    evidence: str
    self_citation: bool
    corrected_by: str | None
    corrected_at: str | None
    citing_year: int | None
    cited_work_id: str | None
    citing_work_id: str
    citing_doi: str
    citing_title: str
    citing_source: str
    citing_journal: str
    reference_key: str
    reference_raw: str
    resolution_method: str
    resolution_score: float | None
    cited_doi: str
    cited_title: str | None
    cited_year: int | None = None  # the cited work's year, as its record gives it (None when unknown)

    @property
    def corrected(self) -> bool:
        return self.corrected_by is not None

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out["corrected"] = self.corrected
        return out


@dataclass(frozen=True)
class SearchHit(Statement):
    """A statement found by full-text search, with the matching part of its sentence."""

    snippet: Snippet = field(default_factory=Snippet)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["snippet"] = self.snippet.marked("<mark>", "</mark>")
        return out


@dataclass(frozen=True)
class SearchResults:
    """A page of a statement search, and what the ranking behind it covered.

    A query that matches more statements than the ranking window (``window``) is ranked within the window alone:
    the ``ranked`` statements of the most recently indexed matching sentences, which pages reach; ``total`` is
    then an estimate (``total_exact`` False) of how many match in all. Otherwise every match is ranked and
    counted: ``ranked == total``, ``total_exact`` True, ``window`` None.
    """

    total: int
    hits: list[SearchHit]
    total_exact: bool = True
    ranked: int = 0
    window: int | None = None

    @property
    def windowed(self) -> bool:
        return self.window is not None


@dataclass(frozen=True)
class DocumentSummary:
    """An ingested article as the home page lists it."""

    work_id: str
    doi: str
    title: str
    year: int | None
    journal: str
    ingested_at: str
    statements: int
    references: int

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class ReferenceEntry:
    """One entry of an ingested article's reference list, with the work it resolved to."""

    key: str
    label: str
    raw: str
    title: str
    year: int | None
    doi: str
    work_id: str | None
    cited_doi: str
    cited_title: str
    method: str
    score: float | None

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


def export_row(st: Statement) -> dict[str, Any]:
    """The export shape of a statement (``citelens export``; fields documented in docs/cli.md)."""
    return {
        "statement_id": st.id, "citing_doi": st.citing_doi, "citing_source": st.citing_source,
        "citing_work_id": st.citing_work_id, "reference_key": st.reference_key, "reference_raw": st.reference_raw,
        "cited_work_id": st.cited_work_id, "cited_doi": st.cited_doi, "section": st.section,
        "section_title": st.section_title, "sentence": st.sentence, "callout_start": st.callout_start,
        "callout_end": st.callout_end, "before": st.before, "after": st.after, "type": st.type,
        "confidence": st.confidence, "model_type": st.model_stance, "evidence": st.evidence,
        "self_citation": st.self_citation, "corrected_by": st.corrected_by,
    }


@dataclass(frozen=True)
class Correction:
    """A curator's label for a statement; kept as history and replayed when the article is re-ingested."""

    id: int
    statement_id: int
    document_identity: str
    reference_key: str
    sentence: str
    old_stance: str | None
    stance: str
    curator: str
    note: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class IndexStats:
    documents: int
    works: int
    references: int
    statements: int
    statements_by_type: dict[str, int]
    statements_by_section: dict[str, int]
    self_citations: int
    resolution_methods: dict[str, int]
    references_matched_to_known_work_pct: float
    notices: int
    corrections: int  # correction records: every save counts, so a statement corrected twice counts twice
    statements_corrected: int  # statements whose current label is a curator's (each once, however often corrected)
    database_bytes: int | None  # what the backend occupies on disk (file + WAL, or the PostgreSQL database)
    bytes_per_statement: float | None
    backend: str = "sqlite"
    schema_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class SaveResult:
    document_id: int
    work_id: str
    replaced: bool
    statements: int
    references: int
    resolved_existing: int  # references matched to a work the index already knew


@dataclass(frozen=True)
class CollectionItem:
    """One entry of a collection: the DOI (or work) it was made from, and a label as uploaded."""

    position: int
    doi: str
    work_id: str | None
    label: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Collection:
    """A named list of works kept by a curator; its page shows their tallies, its feed what is new."""

    id: int
    name: str
    owner: str
    description: str
    created_at: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class NoticeEvent:
    """An editorial notice about ``target_work_id`` that arrived with the document ingested at ``ingested_at``."""

    target_work_id: str
    notice: Notice
    ingested_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"target_work_id": self.target_work_id, "notice": self.notice.to_dict(),
                "ingested_at": self.ingested_at}


@dataclass(frozen=True)
class DocumentAuthor:
    """One author position of one stored document, with the located affiliation (``export --table authors``).

    ``author_id`` is the disambiguated author ("" for rows migrated from an index older than schema 5 and
    not ingested since); ``affiliation`` is the raw text of the first affiliation and the place columns
    locate it (``country``: ISO 3166-1 alpha-2 or "").
    """

    citing_source: str
    doi: str
    position: int
    author_id: str
    name: str
    orcid: str
    affiliation: str
    institution: str
    ror: str
    city: str
    region: str
    country: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class AuthorWork:
    """One work of an author's profile with its tallies (supporting, contrasting, mentioning, total).

    ``confidence``: how sure disambiguation was that this work's author position is this author (1.0 for an
    ORCID match; see ``citelens.people.match_confidence``); None for positions assigned before schema 8.
    """

    work_id: str
    doi: str
    title: str
    year: int | None
    position: int
    tallies: Tallies
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in _plain(self).items() if k != "tallies"}, "tallies": self.tallies.to_dict()}


@dataclass(frozen=True)
class WorkAuthor:
    """An author on a work, by id and name (an institution's authors on each of its works)."""

    author_id: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class InstitutionWork:
    """One work of an institution's profile: its tallies (at the profile's threshold), its journal, and the
    institution's authors on it (in author order)."""

    work_id: str
    doi: str
    title: str
    year: int | None
    journal: str
    tallies: Tallies
    authors: tuple[WorkAuthor, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in _plain(self).items() if k not in ("tallies", "authors")},
                "tallies": self.tallies.to_dict(), "authors": [a.to_dict() for a in self.authors]}


@dataclass(frozen=True)
class InstitutionAuthor:
    """An author affiliated with an institution on ``works`` of the index's works."""

    author_id: str
    name: str
    works: int

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class AuthorAffiliation:
    """An institution an author was affiliated with, and the publication years it was seen in."""

    institution: str
    ror: str
    city: str
    region: str
    country: str
    first_year: int | None
    last_year: int | None
    documents: int

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class CoAuthor:
    author_id: str
    name: str
    documents: int

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


# How a work's citation statements can be listed (the store's ``citations(sort=)``, /api/citations' and the report
# page's sort=, `citelens report --sort`): "relevance" is the evidence first (contrasting, then supporting), then
# confidence, then newest.
CITATION_SORTS = ("relevance", "newest", "oldest", "confidence")

# How an author's works can be listed (pages and API ``sort``): newest first is the default; "cited" is the most
# citation statements first; "supporting" / "contrasting" / "mentioning" the most statements of that type first.
AUTHOR_WORK_SORTS = ("newest", "oldest", "cited", "supporting", "contrasting", "mentioning")

# How the index's works can be ranked (`citelens top`, GET /api/works/top, the /top page): "cited" is the most
# citing publications first (as the home page's most cited works), "supporting" / "contrasting" the most statements
# of that type first (counted at a threshold where one is given).
TOP_WORKS_BY = ("cited", "supporting", "contrasting")


class SortableWork(Protocol):
    """What :func:`author_work_order` reads of a work: an author's or an institution's."""

    @property
    def work_id(self) -> str: ...

    @property
    def year(self) -> int | None: ...

    @property
    def tallies(self) -> Tallies: ...


def author_work_order(sort: str) -> Callable[[SortableWork], tuple[Any, ...]]:
    """The sort key of ``sort`` (one of :data:`AUTHOR_WORK_SORTS`). Unknown years go last either way; ties go
    newest first, then by work id, so every order is total and the same on every backend (SQL engines do not
    agree where NULL years sort)."""
    if sort not in AUTHOR_WORK_SORTS:
        raise ValueError(f"sort must be one of {', '.join(AUTHOR_WORK_SORTS)}")

    def newest(w: SortableWork) -> tuple[Any, ...]:
        return (w.year is None, -(w.year or 0), _work_number(w.work_id))

    if sort == "newest":
        return newest
    if sort == "oldest":
        return lambda w: (w.year is None, w.year or 0, _work_number(w.work_id))
    field = "total" if sort == "cited" else sort
    return lambda w: (-getattr(w.tallies, field), *newest(w))


def _work_number(work_id: str) -> int:
    return int(work_id[1:]) if work_id[1:].isdigit() else 0


@dataclass(frozen=True)
class NoticeTiming:
    """Citations of works under one kind of editorial notice, dated against it (``rules.cited_after_retraction``).

    A citation is one citing paper citing one such work (in its reference list, with or without statements).
    ``after`` + ``same_year`` + ``before`` + ``undated`` = ``citations``; ``undated``: the paper's year or the
    notice's is unknown. ``supporting_after``: citations after the notice with at least one supporting
    statement, the case a research-integrity team looks at first.
    """

    citations: int = 0
    after: int = 0
    same_year: int = 0
    before: int = 0
    undated: int = 0
    citing_papers: int = 0
    works: int = 0
    statements: int = 0
    supporting_after: int = 0

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class NoticedCitation:
    """One citing paper (of an author, institution or journal) citing one work with a retraction notice or an
    expression of concern: the store's row, then dated by ``citelens.integrity``.

    ``notice`` is "retraction" when the work has one (whatever else it has), else "expression-of-concern";
    ``notice_year`` the year of the earliest dated notice of that kind, ``notice_doi`` that notice's DOI (the first
    one's when none is dated); ``timing`` after | same-year | before (None when
    either year is unknown); the counts are the paper's statements citing the work, at the profile's threshold;
    ``statement_ids`` the first of them, in the paper's order, for links.
    """

    citing_work_id: str
    citing_doi: str
    citing_title: str
    citing_year: int | None
    cited_work_id: str
    cited_doi: str
    cited_title: str
    cited_year: int | None
    notices: tuple[Notice, ...] = ()
    statements: int = 0
    supporting: int = 0
    contrasting: int = 0
    mentioning: int = 0
    unclassified: int = 0
    statement_ids: tuple[int, ...] = ()
    notice: str = ""
    notice_year: int | None = None
    notice_doi: str = ""
    timing: str | None = None

    @property
    def supporting_after_retraction(self) -> bool:
        """A supporting citation of a work after its retraction: the worst case."""
        return self.notice == "retraction" and self.timing == "after" and self.supporting > 0

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in _plain(self).items() if k != "notices"}  # the work's page lists them all
        out["statement_ids"] = list(self.statement_ids)
        out["supporting_after_retraction"] = self.supporting_after_retraction
        return out


@dataclass(frozen=True)
class CitesRetracted:
    """What a set of papers (an author's, an institution's, a journal's) cite that has been retracted, and,
    counted apart, what has an expression of concern and no retraction: the counts by timing and every
    citation, the worst first (see ``citelens.integrity.cites_retracted``)."""

    retraction: NoticeTiming = field(default_factory=NoticeTiming)
    expression_of_concern: NoticeTiming = field(default_factory=NoticeTiming)
    citations: tuple[NoticedCitation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"retraction": self.retraction.to_dict(), "expression_of_concern": self.expression_of_concern.to_dict(),
                "citations": [c.to_dict() for c in self.citations]}


@dataclass(frozen=True)
class AuthorProfile:
    """An author page: works in the index with their tallies, aggregate tallies, co-authors, affiliations.

    ``works`` is one page of the author's works in the order ``works_sort`` (all of them unless the caller
    asked for a page: see ``Store.author_profile``); ``works_total`` counts them all, and ``tallies``,
    ``self_citation_share``, ``most_supported`` and ``most_contrasted`` are over all of them, whatever the page.
    ``self_citation_share``: of the statements citing this author's works, the share flagged self-citation
    (None when nothing cites them). ``most_supported`` / ``most_contrasted``: the ids of the (at most 5) works
    with the most supporting / contrasting statements. ``min_confidence``: the threshold the tallies were counted
    at (a model's supporting/contrasting label below it counts as mentioning: ``rules.counted_stance``); None
    counts every label.
    """

    id: str
    name: str
    orcid: str
    works: tuple[AuthorWork, ...]
    tallies: Tallies
    coauthors: tuple[CoAuthor, ...]
    affiliations: tuple[AuthorAffiliation, ...]
    self_citation_share: float | None
    works_total: int = 0
    works_sort: str = "newest"
    works_offset: int = 0
    most_supported: tuple[str, ...] = ()
    most_contrasted: tuple[str, ...] = ()
    min_confidence: float | None = None
    cites_retracted: CitesRetracted = field(default_factory=CitesRetracted)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "orcid": self.orcid, "tallies": self.tallies.to_dict(),
                "works": [w.to_dict() for w in self.works],
                "most_supported": list(self.most_supported),
                "most_contrasted": list(self.most_contrasted),
                "coauthors": [c.to_dict() for c in self.coauthors],
                "affiliations": [a.to_dict() for a in self.affiliations],
                "self_citation_share": self.self_citation_share,
                "works_total": self.works_total, "works_sort": self.works_sort, "min_confidence": self.min_confidence,
                "cites_retracted": self.cites_retracted.to_dict()}


@dataclass(frozen=True)
class IndexWindow:
    """The supporting ÷ (supporting + contrasting) index over the statements of a window of citing years.

    ``index`` is None when no statement in the window is supporting or contrasting; ``statements`` is the
    number behind it (supporting + contrasting), ``total`` every statement in the window.
    """

    window: str  # "2y" (this year and last), "5y", "all"
    index: float | None
    statements: int
    total: int
    supporting: int
    contrasting: int
    mentioning: int

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class InstitutionProfile:
    """An institution (by ROR id): its works in the index and how they are cited, with the index by window;
    ``min_confidence`` as in :class:`AuthorProfile`.

    ``works`` and ``authors`` count them all; ``works_list`` is one page of the works in the order
    ``works_sort`` from ``works_offset`` (as :class:`AuthorProfile`'s ``works``: the name ``works`` was the count
    first), ``authors_list`` the authors with the most works first (all, or as many as the caller asked for).
    """

    ror: str
    name: str
    city: str
    region: str
    country: str
    works: int
    authors: int
    tallies: Tallies
    windows: tuple[IndexWindow, ...]
    min_confidence: float | None = None
    cites_retracted: CitesRetracted = field(default_factory=CitesRetracted)
    works_list: tuple[InstitutionWork, ...] = ()
    works_sort: str = "newest"
    works_offset: int = 0
    authors_list: tuple[InstitutionAuthor, ...] = ()

    @property
    def works_total(self) -> int:
        return self.works

    def to_dict(self) -> dict[str, Any]:
        lists = ("tallies", "windows", "cites_retracted", "works_list", "authors_list")
        return {**{k: v for k, v in _plain(self).items() if k not in lists},
                "tallies": self.tallies.to_dict(), "windows": [w.to_dict() for w in self.windows],
                "cites_retracted": self.cites_retracted.to_dict(), "works_total": self.works,
                "works_list": [w.to_dict() for w in self.works_list],
                "authors_list": [a.to_dict() for a in self.authors_list]}


@dataclass(frozen=True)
class InstitutionHit:
    """An institution found by name or ROR id: ``authors`` affiliated with it in the index."""

    ror: str
    name: str
    country: str
    authors: int

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class JournalHit:
    """A journal found by ISSN or name: its print and electronic ISSN and the name it goes by."""

    issn: str
    eissn: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class JournalWork:
    """One of a journal's works with the statements citing it, by type."""

    work_id: str
    doi: str
    title: str
    year: int | None
    supporting: int
    contrasting: int
    mentioning: int
    total: int
    citing_publications: int = 0

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class JournalProfile:
    """A journal (by ISSN or e-ISSN): its works in the index and how they are cited, with the index by window.

    Its works are those carrying one of its ISSNs, and those with no ISSN whose journal name is one the
    journal goes by (``names``: titles and abbreviations seen with its ISSN), as a reference gives them.
    ``min_confidence`` as in :class:`AuthorProfile` (``most_cited`` are the works with the most statements,
    whatever their labels, counted at it).
    """

    issn: str
    eissn: str
    name: str
    names: tuple[str, ...]
    works: int
    works_by_name: int  # of ``works``, those counted by name (no ISSN of their own)
    tallies: Tallies
    windows: tuple[IndexWindow, ...]
    most_cited: tuple[JournalWork, ...]
    min_confidence: float | None = None
    cites_retracted: CitesRetracted = field(default_factory=CitesRetracted)

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in _plain(self).items()
                   if k not in ("tallies", "windows", "most_cited", "names", "cites_retracted")},
                "names": list(self.names), "tallies": self.tallies.to_dict(),
                "windows": [w.to_dict() for w in self.windows], "most_cited": [w.to_dict() for w in self.most_cited],
                "cites_retracted": self.cites_retracted.to_dict()}


@dataclass(frozen=True)
class LocatedWork:
    """A work with at least one located author affiliation (knowledge flows: ``citelens.flows``).

    ``source`` says where the places come from: "full text" (an ingested article's authors) or the imported
    metadata format ("openalex", "crossref"). ``journal`` is the journal the work appeared in (the "field" of
    the matched-control baseline).
    """

    work_id: str
    year: int | None
    journal: str
    places: tuple[Place, ...]
    source: str
