"""Every JSON shape CiteLens emits — API, CLI ``--json`` and exports — defined once, here.

The functions turn store rows into plain dicts; the pydantic models describe the same shapes for the
OpenAPI description (``/openapi.json``, rendered at ``/docs``). ``tests/test_shapes.py`` checks real
responses against that description, so the two cannot drift apart.

Store rows may be dicts or typed records (dataclasses); :func:`_get` reads either.

Field names follow scite where a scite client reads them (``contradicting``, ``citingPublications``,
``editorialNotices[].status``); everything else is snake_case. Old spellings stay as aliases (listed in
``STATEMENT_ALIASES``) because published field names are a contract.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from citelens.document import SECTIONS
from citelens.rules import cited_after_retraction, retraction_in_force, retraction_year

# ------------------------------------------------------------------------------------------ helpers


def _get(row: Any, key: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(key, default)
    return getattr(row, key, default)


def as_dict(obj: Any) -> Any:
    """A store row or typed record as a plain dict (lists element-wise; None and dicts as they are).

    Search snippets keep their \\x02/\\x03 match markers, which pages and shapes turn into markup safely.
    """
    if obj is None or isinstance(obj, dict):
        return obj
    if isinstance(obj, list | tuple):
        return [as_dict(x) for x in obj]
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "to_dict"):
        d = obj.to_dict()
        snippet: Any = getattr(obj, "snippet", None)
        if snippet is not None and hasattr(snippet, "marked"):
            d["snippet"] = snippet.marked("\x02", "\x03")
        return d
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)  # type: ignore[arg-type]
    return obj


# Editorial notice kinds (our names) → scite's ``status`` strings, which scite's clients compare.
NOTICE_STATUS = {
    "retraction": "Retracted",
    "correction": "Has correction",
    "expression-of-concern": "Has expression of concern",
    "withdrawal": "Withdrawn",
    "erratum": "Has erratum",
    "partial-retraction": "Partially retracted",
    "reinstatement": "Reinstated",
}

# Plain words for how a reference was matched to a work (pages and check results show these).
RESOLUTION_WORDS = {
    "doi": "matched by DOI",
    "pmid": "matched by PubMed id",
    "pmcid": "matched by PubMed Central id",
    "fuzzy": "matched by title, first author and year",
    "new": "first seen here (no earlier record of this work)",
    "": "not matched",
}


def resolution_words(method: str | None, score: float | None = None, doi: str | None = None) -> str:
    """How a reference was matched, in plain words. A reference that started a work (``new``) says what identifies
    that work — its ``doi``, where it has one — so a reader knows whether to trust it: "first seen here" alone
    left open whether anything checked it."""
    words = RESOLUTION_WORDS.get(method or "", method or "not matched")
    if method == "fuzzy" and score is not None:
        words += f" ({round(score * 100)}% similar)"
    if method == "new":
        words += (": identified by its DOI" if doi else ": identified by this reference's title, authors and year")
    return words


# ------------------------------------------------------------------------------------------- models

class Tallies(BaseModel):
    """scite's tallies shape: counts of citation statements by type (``contradicting`` = contrasting)."""

    model_config = ConfigDict(extra="forbid")
    doi: str = Field(examples=["10.1038/nn1525"])
    total: int
    supporting: int
    contradicting: int
    mentioning: int
    unclassified: int
    citingPublications: int = Field(description="distinct citing papers (a paper may cite a work many times)")
    retracted: bool = Field(False, description="CiteLens's addition to scite's shape: a retraction notice about the"
                            " work is in the index (the script badge shows it; /api/papers gives the notices)")


class SectionTallies(BaseModel):
    """Citation statements by the section of the citing paper they stand in."""

    model_config = ConfigDict(extra="forbid")
    doi: str | None = Field(default=None, description="present in batch answers")
    introduction: int
    methods: int
    results: int
    discussion: int
    other: int
    total: int


class EditorialNotice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(description="scite's wording: " + ", ".join(NOTICE_STATUS.values()),
                        examples=["Retracted"])
    type: str = Field(description="our kind: " + ", ".join(NOTICE_STATUS), examples=["retraction"])
    doi: str
    title: str
    date: str
    reasons: list[str] = Field(default_factory=list, description="why, as the source words it (Retraction Watch's"
                               " reasons, e.g. \"Falsification/Fabrication of Data\"); empty where it gives none")


class PaperAuthor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    family: str
    given: str


class Paper(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doi: str
    title: str
    authors: list[PaperAuthor]
    year: int | None
    journal: str
    retracted: bool
    editorialNotices: list[EditorialNotice]


class Statement(BaseModel):
    """One citation statement: the citing sentence, where the citation stands in it, its type and why."""

    model_config = ConfigDict(extra="forbid")
    id: int
    sentence: str = Field(description="the citing sentence")
    before: str = Field(description="the sentence before it (same paragraph)")
    after: str = Field(description="the sentence after it")
    callout_start: int = Field(description="character offset of the in-text citation in `sentence`")
    callout_end: int
    type: str | None = Field(description="supporting | contrasting | mentioning (a curator's label when corrected)")
    confidence: float | None
    model_type: str | None = Field(description="the model's label, before any correction")
    model_confidence: float | None
    evidence: str = Field(description="the words the label rests on (may be empty)")
    section: str = Field(description="one of " + ", ".join(SECTIONS))
    section_title: str
    self_citation: bool
    corrected: bool
    corrected_by: str | None
    citing_doi: str
    citing_title: str
    citing_year: int | None
    citing_source: str | None
    citing_work_id: str
    cited_work_id: str | None
    cited_doi: str
    cited_title: str | None
    reference_key: str | None
    reference_raw: str | None
    resolution_method: str | None = Field(description="doi | pmid | pmcid | fuzzy | new (see `resolution`)")
    resolution: str = Field(description="the resolution method in plain words")
    # Aliases kept for clients of earlier versions (same values).
    statement_id: int = Field(description="alias of `id` (export)")
    text: str = Field(description="alias of `sentence` (CLI report)")
    model_stance: str | None = Field(description="alias of `model_type` (API)")
    snippet: str | None = Field(default=None, description="search only: the match, between << and >>")
    cited_year: int | None = Field(default=None, description="the cited work's year, when its record gives one")
    # The cited work's editorial notices: in search results and exports (a report lists one work's statements
    # under its own notices, so they are not repeated there).
    cited_retracted: bool | None = Field(default=None, description="search and export: a retraction notice about "
                                         "the cited work is in the index")
    cited_retraction_year: int | None = Field(default=None, description="search and export: the year of the cited "
                                              "work's (earliest dated) retraction")
    cited_after_retraction: str | None = Field(default=None, description="search and export: after | same-year | "
                                               "before: `citing_year` against `cited_retraction_year` (null when "
                                               "either is unknown)")
    cited_notices: list[str] | None = Field(default=None, description="search and export: the cited work's "
                                            "notices as `Retracted (2015-03-04)`, `Has correction (2014)`, "
                                            "oldest first")


class CitationsPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doi: str
    work_id: str
    total: int
    page: int
    per_page: int
    pages: int = Field(description="pages of per_page rows that total fills (at least 1; at most 1,000,000)")
    next: str | None = Field(description="the path of the next page (the same parameters), null on the last;"
                             " also the response's Link header, rel=\"next\"")
    prev: str | None = Field(description="the path of the previous page, null on the first")
    min_confidence: float | None = Field(None, description="the threshold the type filter counted by, if any")
    citations: list[Statement]


class SearchHit(BaseModel):
    """One citing sentence and every work it cites there (a sentence citing three works is one hit)."""

    model_config = ConfigDict(extra="forbid")
    sentence: str
    snippet: str | None
    citing_doi: str
    citing_title: str
    citing_year: int | None
    statements: list[Statement]


class SearchPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    total: int = Field(description="statements that match: exact, or an estimate rounded to two significant"
                                   " figures when total_exact is false")
    total_exact: bool = Field(description="false when total is an estimate: the query matched more statements"
                                          " than the ranking window")
    ranked: int = Field(description="statements ranked, which the pages reach: total when every match is"
                                    " ranked, else the matches in the most recently indexed sentences")
    ranking_window: int | None = Field(description="null when every match was ranked; else the window (the"
                                                   " server's CITELENS_SEARCH_WINDOW): more statements matched, and"
                                                   " the results are the best of the ranked ones only")
    page: int
    per_page: int
    pages: int = Field(description="pages of per_page rows that ranked fills (at least 1; at most 1,000,000)")
    next: str | None = Field(description="the path of the next page (the same parameters), null on the last;"
                             " also the response's Link header, rel=\"next\"")
    prev: str | None = Field(description="the path of the previous page, null on the first")
    min_confidence: float | None = Field(None, description="the threshold the type filter counted by, if any")
    results: list[Statement]
    grouped: list[SearchHit] = Field(description="the same page grouped by citing sentence")


class MatchReference(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matched: bool
    doi: str | None
    work_id: str | None = None
    method: str | None = None
    score: float | None = None


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ok: bool
    documents: int
    statements: int


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loc: list[str | int] = Field(description="where the problem is: [\"query\", \"page\"], [\"body\", 0], ...")
    msg: str


class Error(BaseModel):
    """Every JSON error, whatever its status (400, 401, 403, 404, 405, 413, 422, 500, 503): what went wrong and the
    status again, so a client that logs only the body still knows it."""

    model_config = ConfigDict(extra="forbid")
    error: str = Field(examples=["per_page must be between 1 and 100"])
    status: int = Field(examples=[400])
    details: list[ErrorDetail] | None = Field(None, description="422 only: each parameter or body problem")


class TalliesBatch(BaseModel):
    """``POST /api/tallies``: the DOIs found, each under the DOI as the request gave it."""

    model_config = ConfigDict(extra="forbid")
    tallies: dict[str, Tallies]


class SectionTalliesBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tallies: dict[str, SectionTallies]


class WorkHit(Paper):
    """One paper of ``GET /api/works``: its metadata, work id and tallies."""

    id: str = Field(examples=["W10"])
    tallies: Tallies


class WorksPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    works: list[WorkHit]


class RankedWork(WorkHit):
    """One work of ``GET /api/works/top`` (and ``citelens top --json``): its place, the count it is ranked by, its
    metadata and its tallies (at the answer's ``min_confidence``)."""

    rank: int = Field(description="1 for the first work of the ranking, across pages")
    count: int = Field(description="what the ranking counts: citing publications (by=cited), or supporting /"
                                   " contrasting statements at min_confidence")


class TopWorks(BaseModel):
    """The index's works ranked by citing publications, supporting or contrasting statements (citelens.rankings)."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(description="cited | supporting | contrasting")
    min_confidence: float | None = Field(description="the threshold the counts and tallies are at, if any")
    total: int = Field(description="works with at least one (citing publication, or statement of that type)")
    page: int
    per_page: int
    pages: int
    next: str | None = Field(None, description="the path of the next page, null on the last; also the Link header")
    prev: str | None = Field(None, description="the path of the previous page, null on the first")
    works: list[RankedWork]


class PapersBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    papers: dict[str, Paper]


class CheckedReference(BaseModel):
    """One entry of a reference check (web, API, ``citelens check --json``)."""

    model_config = ConfigDict(extra="forbid")
    index: int
    raw: str
    title: str
    year: int | None
    doi: str
    found: bool
    work_id: str | None
    matched_doi: str | None
    matched_title: str | None
    resolution_method: str | None
    resolution: str
    supporting: int | None
    contrasting: int | None
    mentioning: int | None
    total: int | None
    retracted: bool
    notices: list[str]
    warnings: list[str]


class CheckResults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str = Field(description="pdf | docx | jats | bibtex | ris | csl-json | lines")
    references: list[CheckedReference]


class ReferenceListEntry(BaseModel):
    """One entry of a paper's own reference list (the report page's References tab, ``GET /api/references/{doi}``,
    ``citelens report --references --json``)."""

    model_config = ConfigDict(extra="forbid")
    position: int = Field(description="1-based, in the article's order")
    key: str = Field(description="the reference's id in the article (JATS `ref/@id`, TEI `xml:id`)")
    label: str = Field(description="the label the article prints (\"12\", \"Smith 2001a\"), if any")
    raw: str = Field(description="the reference as printed")
    title: str
    year: int | None
    doi: str = Field(description="the DOI the reference itself gives, if any")
    found: bool = Field(description="has a work in the index (resolution_method says how; `new`: the work was first"
                                    " recorded from this reference)")
    work_id: str | None
    matched_doi: str | None
    matched_title: str | None
    resolution_method: str | None = Field(description="doi | pmid | pmcid | fuzzy | new")
    resolution: str = Field(description="how it was matched, in plain words")
    supporting: int | None = Field(description="the cited work's tallies over the whole index (at min_confidence)")
    contrasting: int | None
    mentioning: int | None
    total: int | None
    retracted: bool
    retracted_in: int | None = Field(description="the year of the cited work's earliest retraction notice")
    title_says_retracted: bool = Field(description="the reference's title (or its work's) carries the publisher's"
                                                   " retraction mark (\"Retracted: …\"); true also where the"
                                                   " index holds no notice")
    cited_after_retraction: str | None = Field(description="after | same-year | before, against this paper's year;"
                                                           " null when not retracted or a year is unknown")
    notices: list[EditorialNotice]


class ReferenceList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doi: str
    work_id: str
    title: str
    year: int | None
    full_text: bool = Field(description="the index holds this paper's full text; false: it is only cited, and its"
                                        " reference list is unknown (empty)")
    min_confidence: float | None = Field(None, description="the threshold the tallies count by, if any")
    total: int
    references: list[ReferenceListEntry]


def reference_entry_json(position: int, ref: Mapping[str, Any], citing_year: int | None) -> dict[str, Any]:
    """A ``reference_list`` entry (:mod:`citelens.reference_list`) in the ``ReferenceListEntry`` shape."""
    from citelens.rules import cited_after_retraction, retraction_in_force

    t = ref.get("tallies") or {}
    found = bool(ref.get("work_id"))
    notices = ref.get("notices") or []
    return {"position": position, "key": ref.get("key") or "", "label": ref.get("label") or "",
            "raw": ref.get("raw") or "", "title": ref.get("title") or "", "year": ref.get("year"),
            "doi": ref.get("doi") or "", "found": found, "work_id": ref.get("work_id") or None,
            "matched_doi": (ref.get("cited_doi") or None) if found else None,
            "matched_title": (ref.get("cited_title") or None) if found else None,
            "resolution_method": ref.get("method") or None,
            "resolution": resolution_words(ref.get("method"), ref.get("score"), ref.get("cited_doi") or ref.get("doi"))
            if found else "not resolved",
            "supporting": t.get("supporting"), "contrasting": t.get("contrasting"),
            "mentioning": t.get("mentioning"), "total": t.get("total"),
            "retracted": retraction_in_force(notices),
            "retracted_in": ref.get("retracted_in"),
            "title_says_retracted": bool(ref.get("title_says_retracted")),
            "cited_after_retraction": cited_after_retraction(citing_year, ref.get("retracted_in")),
            "notices": [notice_json(n) for n in notices]}


def reference_list_json(work: Mapping[str, Any], refs: list[dict[str, Any]],
                        min_confidence: float | None = None) -> dict[str, Any]:
    """A paper's reference list in the ``ReferenceList`` shape."""
    return {"doi": work.get("doi") or "", "work_id": work["id"], "title": work.get("title") or "",
            "year": work.get("year"), "full_text": bool(work.get("full_text_source")),
            "min_confidence": min_confidence, "total": len(refs),
            "references": [reference_entry_json(i, r, work.get("year")) for i, r in enumerate(refs, start=1)]}


class CollectionItem(BaseModel):
    """One work of a collection (its page, CSV export and ``GET /api/collections/{id}``)."""

    model_config = ConfigDict(extra="forbid")
    position: int
    doi: str
    work_id: str | None
    title: str
    year: int | None
    found: bool
    supporting: int
    contrasting: int
    mentioning: int
    total: int
    citing_publications: int
    retracted: bool
    notices: list[str]
    warnings: list[str]


class Collection(BaseModel):
    """A collection without its works (``GET /api/collections`` lists these)."""

    model_config = ConfigDict(extra="forbid")
    id: int
    name: str
    owner: str
    description: str
    created_at: str = Field(description="ISO 8601, UTC", examples=["2026-03-01T09:30:00+00:00"])
    size: int = Field(description="works in the collection")


class CollectionPage(Collection):
    items: list[CollectionItem]


class CollectionList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    collections: list[Collection] = Field(description="newest first")


class CollectionCreated(Collection):
    """``POST /api/collections``: the new collection and the format its list was read as."""

    format: str = Field(description="how the list was read: doi-list, csv, or a reference list's format (bibtex,"
                        " ris, csl-json, jats, lines)", examples=["doi-list"])


class CollectionItemsAdded(BaseModel):
    model_config = ConfigDict(extra="forbid")
    added: int = Field(description="works added, at the end")
    already_in: int = Field(description="works of the list the collection already held (left where they are)")
    collection: Collection


class CollectionItemsRemoved(BaseModel):
    model_config = ConfigDict(extra="forbid")
    removed: int
    not_found: list[str] = Field(description="each DOI as given, or `position N`, that matched no item")
    collection: Collection


class CollectionDeleted(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deleted: int = Field(description="the id of the collection deleted")


class Alert(BaseModel):
    """One entry of a collection's alerts (and of its Atom feed): a citation statement or an editorial notice."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="statement | notice", examples=["statement"])
    at: str = Field(description="when it arrived (ISO 8601, UTC, whole seconds)")
    id: str = Field(description="the entry's id in the feed", examples=["statement-7133"])
    work_id: str = Field(description="the collection's work it is about")
    title: str
    summary: str
    link_path: str = Field(description="the page to read it on", examples=["/statements/7133"])
    statement: Statement | None = Field(default=None, description="kind statement only")
    notice: EditorialNotice | None = Field(default=None, description="kind notice only")


class CollectionAlerts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: str = Field(description="the window's start as read (inclusive), ISO 8601 UTC")
    until: str | None = Field(description="its end as read (exclusive); null for now")
    limit: int
    truncated: bool = Field(description="more entries arrived in the window than `alerts` holds")
    next_until: str | None = Field(description="with `since`, the `until` of the next (older) page; null when"
                                   " nothing was left out")
    alerts: list[Alert] = Field(description="newest first")


class StatementCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    created_at: str
    curator: str
    old_stance: str | None = Field(description="the type before this correction (null: the statement had none)")
    stance: str = Field(description="the type the curator set")
    note: str


class StatementCorrections(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statement_id: int
    corrections: list[StatementCorrection] = Field(description="oldest first; the last is the one in force")


# ---------------------------------------------------------------------- authors, institutions, journals

class StatementCounts(BaseModel):
    """Statements citing a work (or a set of works) by type, as CiteLens's own profiles count them."""

    model_config = ConfigDict(extra="forbid")
    supporting: int
    contrasting: int
    mentioning: int
    total: int
    unclassified: int
    citing_publications: int = Field(description="distinct citing papers")


class AuthorHit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(examples=["109"])
    name: str
    orcid: str = Field(description="\"\" when none is known")
    documents: int = Field(description="ingested articles with this author in any position")


class AuthorsFound(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    authors: list[AuthorHit] = Field(description="most documents first")


class AuthorWork(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_id: str
    doi: str = Field(description="\"\" when the work has none")
    title: str
    year: int | None
    position: int = Field(description="the author's position on the work, from 0")
    confidence: float | None = Field(description="0-1: how sure disambiguation was that the work is this author's"
                                     " (1.0 for an ORCID match); null before schema 8")
    tallies: StatementCounts


class CoAuthor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    author_id: str
    name: str
    documents: int = Field(description="documents written together")


class AuthorAffiliation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    institution: str
    ror: str = Field(description="ROR id, \"\" when the affiliation matched none")
    city: str
    region: str
    country: str = Field(description="ISO 3166-1 alpha-2, or \"\"")
    first_year: int | None
    last_year: int | None
    documents: int


class NoticeTiming(BaseModel):
    """Citations of works under one kind of notice, dated against it (`rules.cited_after_retraction`)."""

    model_config = ConfigDict(extra="forbid")
    citations: int = Field(description="citing papers × cited works: one per paper citing such a work (in its"
                           " reference list, with or without statements)")
    after: int = Field(description="the paper is of a later year than the notice")
    same_year: int = Field(description="of the notice's year: years alone cannot tell which came first")
    before: int
    undated: int = Field(description="the paper's year or the notice's unknown")
    citing_papers: int
    works: int = Field(description="distinct works cited")
    statements: int = Field(description="the papers' citation statements of those works")
    supporting_after: int = Field(description="citations after the notice with at least one supporting statement")


class NoticedCitation(BaseModel):
    """One paper citing one work with a retraction notice (or an expression of concern and no retraction)."""

    model_config = ConfigDict(extra="forbid")
    citing_work_id: str
    citing_doi: str = Field(description="\"\" when the paper has none")
    citing_title: str
    citing_year: int | None
    cited_work_id: str
    cited_doi: str = Field(description="\"\" when the work has none")
    cited_title: str
    cited_year: int | None
    notice: str = Field(description="retraction | expression-of-concern (a retraction wins when the work has both)")
    notice_year: int | None = Field(description="year of the earliest notice of that kind; null when undated")
    timing: str | None = Field(description="after | same-year | before: the paper's year against `notice_year`"
                               " (null when either is unknown)")
    notice_doi: str = Field(description="that notice's own DOI (\"\" when it has none)")
    statements: int = Field(description="the paper's statements citing the work (0: only in its reference list)")
    supporting: int
    contrasting: int
    mentioning: int
    unclassified: int
    statement_ids: list[int] = Field(description="the first 20 of those statements, in the paper's order"
                                     " (`GET /api/statements/{id}`)")
    supporting_after_retraction: bool = Field(description="a supporting statement of a work after its"
                                              " retraction: the worst case")


class CitesRetracted(BaseModel):
    """What the papers (of an author, institution or journal) cite that has been retracted, and, counted apart,
    what has an expression of concern and no retraction."""

    model_config = ConfigDict(extra="forbid")
    retraction: NoticeTiming
    expression_of_concern: NoticeTiming
    citations: list[NoticedCitation] = Field(description="retractions first, then the worst first: a supporting"
                                             " citation after the notice, after, same year, undated, before")


class AuthorFigures(BaseModel):
    """An author's figures over all their works, and some of the works: each of ``citelens author --json``'s
    ``authors`` (``GET /api/authors/{id}`` adds the page of works it holds: :class:`AuthorProfile`)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    orcid: str
    tallies: StatementCounts = Field(description="over all the works, whatever the page")
    works: list[AuthorWork] = Field(description="this page of the works, in the order `works_sort`")
    most_supported: list[str] = Field(description="work ids: at most 5, most supporting statements first")
    most_contrasted: list[str] = Field(description="work ids: at most 5, most contrasting statements first")
    coauthors: list[CoAuthor]
    affiliations: list[AuthorAffiliation]
    self_citation_share: float | None = Field(description="share of the statements citing the works that are"
                                              " self-citations; null when nothing cites them")
    works_total: int = Field(description="all the works, on every page")
    works_sort: str = Field(description="newest | oldest | cited | supporting | contrasting | mentioning")
    min_confidence: float | None = Field(description="the threshold the figures were counted at (null: every label)")
    cites_retracted: CitesRetracted = Field(description="the author's papers' citations of retracted works")


class WorksPaging(BaseModel):
    """The paging of an author's or institution's works in the API (``web.api.works_page_fields``)."""

    model_config = ConfigDict(extra="forbid")
    works_page: int
    works_per_page: int
    works_pages: int = Field(description="pages of works_per_page works (at least 1)")
    works_next: str | None = Field(description="the path of the next page of works, null on the last; also the"
                                   " response's Link header, rel=\"next\"")


class AuthorProfile(WorksPaging, AuthorFigures):  # the figures' fields first, then the paging
    """``GET /api/authors/{id}``: figures over all the author's works, and one page of the works."""


class InstitutionHit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ror: str = Field(examples=["041kmwe10"])
    name: str
    country: str = Field(description="ISO 3166-1 alpha-2, or \"\"")
    authors: int = Field(description="authors affiliated with it in the index")


class InstitutionsFound(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    institutions: list[InstitutionHit] = Field(description="most authors first")


class IndexWindow(BaseModel):
    """supporting ÷ (supporting + contrasting) over the statements of a window of citing years."""

    model_config = ConfigDict(extra="forbid")
    window: str = Field(description="2y (this year and last) | 5y | all")
    index: float | None = Field(description="null when no statement in the window is supporting or contrasting")
    statements: int = Field(description="supporting + contrasting: the statements behind `index`")
    total: int = Field(description="every statement in the window")
    supporting: int
    contrasting: int
    mentioning: int


class WorkAuthor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    author_id: str
    name: str


class InstitutionWork(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_id: str
    doi: str = Field(description="\"\" when the work has none")
    title: str
    year: int | None
    journal: str = Field(description="\"\" when unknown")
    tallies: StatementCounts
    authors: list[WorkAuthor] = Field(description="the institution's authors on the work, in author order")


class InstitutionAuthor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    author_id: str
    name: str
    works: int = Field(description="works in the index with this author affiliated with the institution")


class InstitutionFigures(BaseModel):
    """An institution's figures over all its works, some of its works and its authors: each of ``citelens
    institution --json``'s ``institutions`` (``GET /api/institutions/{ror}`` adds the paging of the works:
    :class:`InstitutionProfile`)."""

    model_config = ConfigDict(extra="forbid")
    ror: str
    name: str
    city: str
    region: str
    country: str
    works: int = Field(description="works in the index with an author affiliated with it")
    authors: int
    min_confidence: float | None = Field(description="the threshold the figures were counted at (null: every label)")
    tallies: StatementCounts
    windows: list[IndexWindow]
    cites_retracted: CitesRetracted = Field(description="its authors' papers' citations of retracted works")
    works_total: int = Field(description="all the works (= works), on every page")
    works_sort: str = Field(description="newest | oldest | cited | supporting | contrasting | mentioning")
    works_offset: int = Field(description="works before this page's first, in that order")
    works_list: list[InstitutionWork] = Field(description="this page of the works, in the order `works_sort`")
    authors_list: list[InstitutionAuthor] = Field(description="every author affiliated with it, the most works"
                                                  " first")


class InstitutionProfile(WorksPaging, InstitutionFigures):
    """``GET /api/institutions/{ror}``: figures over all the institution's works, one page of the works (the
    author route's paging), and every author."""


class JournalHit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issn: str = Field(description="print ISSN, \"\" when unknown", examples=["1544-9173"])
    eissn: str = Field(description="electronic ISSN, \"\" when unknown")
    name: str


class JournalsFound(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    journals: list[JournalHit]


class JournalWork(BaseModel):
    model_config = ConfigDict(extra="forbid")
    work_id: str
    doi: str = Field(description="\"\" when the work has none")
    title: str
    year: int | None
    supporting: int
    contrasting: int
    mentioning: int
    total: int
    citing_publications: int = Field(description="distinct citing papers")


class JournalProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issn: str
    eissn: str
    name: str
    names: list[str] = Field(description="titles and abbreviations seen with its ISSN")
    works: int
    works_by_name: int = Field(description="of `works`, those counted by journal name (no ISSN of their own)")
    min_confidence: float | None = Field(description="the threshold the figures were counted at (null: every label)")
    tallies: StatementCounts
    windows: list[IndexWindow]
    most_cited: list[JournalWork] = Field(description="the works with the most statements, most first")
    cites_retracted: CitesRetracted = Field(description="the journal's papers' citations of retracted works")


# -------------------------------------------------------------------------------------------- flows
# Maps are keyed by distance class (same_institution, same_city, same_region, same_country, international),
# type (supporting, contrasting, mentioning) or section, as docs/flows.md describes.

class FlowFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str | None
    section: str | None
    include_self_citations: bool


class FlowBaseline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: str
    field: str = Field(description="what a control shares with the cited work besides its year", examples=["journal"])
    seed: int
    n_matched: int
    n_unmatched: int
    pairs_matched: int
    pairs_unmatched: int
    observed_matched: dict[str, int] = Field(description="distance → matched statements")


class FlowLocalisation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: str
    local_distances: list[str] = Field(description="the distance classes that count as local at `level`")
    observed_local: int
    expected_local: int
    observed_share: float | None
    expected_share: float | None
    ratio: float | None = Field(description="observed_share ÷ expected_share; null when it cannot be computed")
    ci_low: float | None
    ci_high: float | None
    confidence: float
    replicates: int
    replicates_without_ratio: int
    ci_method: str
    clusters: int


class FlowChi2(BaseModel):
    """The chi-square test of distance × type (statistic and p-value null with a ``reason`` when there is nothing
    to test)."""

    model_config = ConfigDict(extra="forbid")
    statistic: float | None
    p_value: float | None
    dof: int | None
    cramers_v: float | None
    rows: list[str] = Field(description="the distance classes tested")
    columns: list[str] = Field(description="the types tested")
    reason: str | None = Field(default=None, description="present when nothing could be tested")


class FlowPair(BaseModel):
    """A tie between two units (citing → cited), statements counted fractionally."""

    model_config = ConfigDict(extra="forbid")
    citing: str
    cited: str
    citing_label: str
    cited_label: str
    statements: float
    supporting: float
    contrasting: float
    mentioning: float


class FlowPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    label: str
    country: str
    region: str
    lat: float
    lng: float
    statements: float


class FlowMap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: str
    coordinates: str = Field(description="where a unit's point comes from")
    units: int
    units_without_coordinates: int
    statements_without_coordinates: float
    points: list[FlowPoint]
    arcs: list[FlowPair] = Field(description="the heaviest ties between two points")


class FlowReport(BaseModel):
    """``GET /api/flows``, the object of ``citelens flows --json`` (docs/flows.md)."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(description="institution | city | region | country")
    filters: FlowFilters
    n_statements: int = Field(description="tie statements: located, classified, within the filters")
    n_considered: int
    n_self_citations_excluded: int
    n_not_located: int
    n_unclassified: int
    n_pairs: int
    distances: list[str]
    stances: list[str]
    observed: dict[str, dict[str, int]] = Field(description="distance → type → statements")
    observed_totals: dict[str, int] = Field(description="distance → statements")
    shares: dict[str, dict[str, float]] = Field(description="distance → type → share of n_statements")
    by_section: dict[str, dict[str, dict[str, int]]] = Field(description="section → distance → type → statements"
                                                             " (only the section asked for, when one is)")
    expected: dict[str, int] = Field(description="distance → statements of the matched controls")
    expected_shares: dict[str, float]
    matched_shares: dict[str, float]
    baseline: FlowBaseline
    localisation: FlowLocalisation
    chi2: FlowChi2
    located_works: dict[str, int] = Field(description="full_text, metadata: works with a located affiliation")
    top_pairs: list[FlowPair]
    top_country_pairs: list[FlowPair]
    map: FlowMap


# --------------------------------------------------------------------------------------- functions

def tallies_json(doi: str, t: Mapping[str, int], *, retracted: bool = False) -> dict[str, Any]:
    """The scite tallies shape (``contradicting`` is scite's name for contrasting), plus ``retracted``: a reader who
    sees only the counts (the script badge) must not take a retracted work's tallies for standing."""
    return {"doi": doi, "total": t["total"], "supporting": t["supporting"], "contradicting": t["contrasting"],
            "mentioning": t["mentioning"], "unclassified": t["unclassified"],
            "citingPublications": t["citing_publications"], "retracted": retracted}


def tallies_from_json(t: Mapping[str, Any]) -> dict[str, int]:
    """:func:`tallies_json`'s counts back under CiteLens's own names (``contrasting``, ``citing_publications``): for
    a page or a spreadsheet built from an API answer."""
    return {"supporting": t["supporting"], "contrasting": t["contradicting"], "mentioning": t["mentioning"],
            "unclassified": t["unclassified"], "total": t["total"], "citing_publications": t["citingPublications"]}


def section_tallies_json(sections: Mapping[str, Mapping[str, int]], doi: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"doi": doi} if doi is not None else {}
    for name in SECTIONS:
        out[name] = sections.get(name, {}).get("total", 0)
    out["total"] = sum(out[name] for name in SECTIONS)
    return out


def notice_json(n: Any) -> dict[str, Any]:
    kind = _get(n, "kind", "")
    return {"status": NOTICE_STATUS.get(kind, kind.replace("-", " ").capitalize()), "type": kind,
            "doi": _get(n, "doi", "") or "", "title": _get(n, "title", "") or "", "date": _get(n, "date", "") or "",
            "reasons": list(_get(n, "reasons", ()) or ())}


def paper_json(work: Any) -> dict[str, Any]:
    return {"doi": _get(work, "doi") or "", "title": _get(work, "title") or "",
            "authors": [{"family": _get(a, "family", "") or "", "given": _get(a, "given", "") or ""}
                        for a in _get(work, "authors") or []],
            "year": _get(work, "year"), "journal": _get(work, "container") or "",
            "retracted": bool(_get(work, "retracted")),
            "editorialNotices": [notice_json(n) for n in _get(work, "notices") or []]}


def notice_label(n: Any) -> str:
    """A notice as one short text: its scite status and, when it has one, its date ("Retracted (2015-03-04)")."""
    status = notice_json(n)["status"]
    date = _get(n, "date", "") or ""
    return f"{status} ({date})" if date else status


def cited_notice_fields(citing_year: int | None, notices: Any) -> dict[str, Any]:
    """What a statement's cited work's ``notices`` say to an integrity check: retracted, when, whether this citing
    paper (of ``citing_year``) came after it (``rules.cited_after_retraction``), and every notice in words."""
    notices = list(notices or [])
    retracted_in = retraction_year(notices)
    return {"cited_retracted": retraction_in_force(notices),
            "cited_retraction_year": retracted_in,
            "cited_after_retraction": cited_after_retraction(citing_year, retracted_in),
            "cited_notices": [notice_label(n) for n in notices]}


def search_ranking_json(found: Any) -> dict[str, Any]:
    """What a statement search's ranking covered (a :class:`citelens.store.SearchResults`), as /api/search and
    ``citelens search --json`` give it beside ``total``."""
    return {"total_exact": found.total_exact, "ranked": found.ranked, "ranking_window": found.window}


def statement_json(st: Any, notices: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The one statement shape (API, CLI ``report``/``search --json``, ``export``).

    ``notices`` ({work id: notices}, from ``Store.notices_by_work``) adds the cited work's notices (search
    results, exports); a work missing from it has none."""
    sid = _get(st, "id", _get(st, "statement_id"))
    sentence = _get(st, "sentence", "") or ""
    model_type = _get(st, "model_stance", _get(st, "model_type"))
    method = _get(st, "resolution_method")
    out = {
        "id": sid, "sentence": sentence, "before": _get(st, "before", "") or "", "after": _get(st, "after", "") or "",
        "callout_start": _get(st, "callout_start", 0), "callout_end": _get(st, "callout_end", 0),
        "type": _get(st, "type"), "confidence": _get(st, "confidence"), "model_type": model_type,
        "model_confidence": _get(st, "model_confidence"), "evidence": _get(st, "evidence", "") or "",
        "section": _get(st, "section", "other"), "section_title": _get(st, "section_title", "") or "",
        "self_citation": bool(_get(st, "self_citation")), "corrected": _get(st, "corrected_by") is not None,
        "corrected_by": _get(st, "corrected_by"), "citing_doi": _get(st, "citing_doi", "") or "",
        "citing_title": _get(st, "citing_title", "") or "", "citing_year": _get(st, "citing_year"),
        "citing_source": _get(st, "citing_source"), "citing_work_id": _get(st, "citing_work_id"),
        "cited_work_id": _get(st, "cited_work_id"), "cited_doi": _get(st, "cited_doi", "") or "",
        "cited_title": _get(st, "cited_title"), "reference_key": _get(st, "reference_key"),
        "reference_raw": _get(st, "reference_raw"), "resolution_method": method,
        "resolution": resolution_words(method, _get(st, "resolution_score"), _get(st, "cited_doi")),
        "statement_id": sid, "text": sentence, "model_stance": model_type, "cited_year": _get(st, "cited_year"),
    }
    if notices is not None:
        out.update(cited_notice_fields(out["citing_year"], notices.get(out["cited_work_id"] or "", ())))
    snippet = _get(st, "snippet")
    if hasattr(snippet, "marked"):  # a store record's Snippet
        out["snippet"] = snippet.marked("<<", ">>")
    elif snippet is not None:
        out["snippet"] = snippet.replace("\x02", "<<").replace("\x03", ">>")
    return out


# The columns of ``citelens export --format csv`` (the first 21 are the columns of earlier versions; columns are
# only ever added at the end).
EXPORT_FIELDS = ("statement_id", "citing_doi", "citing_source", "citing_work_id", "reference_key", "reference_raw",
                 "cited_work_id", "cited_doi", "section", "section_title", "sentence", "callout_start",
                 "callout_end", "before", "after", "type", "confidence", "model_type", "evidence",
                 "self_citation", "corrected_by", "citing_title", "citing_year", "cited_title",
                 "model_confidence", "resolution_method", "cited_year", "cited_retracted", "cited_retraction_year",
                 "cited_after_retraction", "cited_notices")


def csv_cells(row: Mapping[str, Any]) -> dict[str, Any]:
    """An export row as CSV cells: a list (``cited_notices``) joined with "; ", as every CSV CiteLens writes does."""
    return {k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()}


# The fields of ``citelens export --corrections``: the correction record's (the columns of earlier versions, in
# their order), then what a trainer needs beside it. Only ever added to at the end.
CORRECTION_EXPORT_FIELDS = ("id", "statement_id", "document_identity", "reference_key", "sentence", "old_stance",
                            "stance", "curator", "note", "created_at", "current", "current_statement_id",
                            "model_type", "model_confidence", "before", "after", "callout_start", "callout_end",
                            "section", "citing_doi", "cited_work_id", "cited_doi", "cited_title")


def correction_export_json(c: Any, st: Any | None, current: bool) -> dict[str, Any]:
    """One row of ``export --corrections``: correction ``c``, whether it is ``current`` (the one in force: see
    ``rules.corrections_in_force``) and the statement ``st`` it applies to now (None: its article, re-ingested, no
    longer has that sentence, and the statement's fields are null)."""
    out = {f: _get(c, f) for f in CORRECTION_EXPORT_FIELDS[:10]}
    sj = statement_json(st) if st is not None else {}
    out.update({"current": current and st is not None, "current_statement_id": sj.get("id"),
                "model_type": sj.get("model_type"), "model_confidence": sj.get("model_confidence"),
                "before": sj.get("before"), "after": sj.get("after"), "callout_start": sj.get("callout_start"),
                "callout_end": sj.get("callout_end"), "section": sj.get("section"), "citing_doi": sj.get("citing_doi"),
                "cited_work_id": sj.get("cited_work_id"), "cited_doi": sj.get("cited_doi"),
                "cited_title": sj.get("cited_title")})
    return out


# The columns of ``citelens export --table authors`` (issue 10's contract: never rename, only add at the end).
AUTHOR_EXPORT_FIELDS = ("citing_source", "doi", "position", "author_id", "name", "orcid", "affiliation",
                        "institution", "ror", "city", "region", "country")


def author_row_json(row: Any) -> dict[str, Any]:
    """One (document, author position) row of ``export --table authors`` (a store ``DocumentAuthor``)."""
    return {f: _get(row, f, "") if f == "position" else (_get(row, f, "") or "") for f in AUTHOR_EXPORT_FIELDS}


def group_by_sentence(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Search hits grouped by citing sentence, keeping rank order (first appearance of each sentence)."""
    groups: dict[Any, dict[str, Any]] = {}
    for st in rows:
        key = (_get(st, "citing_work_id"), _get(st, "sentence"))
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"sentence": _get(st, "sentence") or "",
                               "snippet": st.get("snippet") if isinstance(st, dict) else None,
                               "citing_doi": _get(st, "citing_doi") or "", "citing_title": _get(st, "citing_title") or "",
                               "citing_year": _get(st, "citing_year"), "statements": []}
        g["statements"].append(st)
    return list(groups.values())


def match_reference_json(work: Any | None, method: str = "", score: float | None = None) -> dict[str, Any]:
    if work is None:
        return {"matched": False, "doi": None, "work_id": None, "method": None, "score": None}
    return {"matched": True, "doi": _get(work, "doi") or None, "work_id": _get(work, "id"), "method": method or None,
            "score": score}


CHECK_CSV_FIELDS = ("index", "raw", "title", "year", "doi", "found", "work_id", "matched_doi", "matched_title",
                    "resolution_method", "resolution", "supporting", "contrasting", "mentioning", "total",
                    "retracted", "notices", "warnings")


def check_result_json(c: Any) -> dict[str, Any]:
    """One reference-check result (``citelens.check.CheckedReference``) in the ``CheckedReference`` shape."""
    ref = c.reference
    work = as_dict(c.work)
    t = as_dict(c.tallies) or {}
    notices = [notice_json(n)["status"] for n in (work or {}).get("notices", [])]
    return {"index": c.index, "raw": c.raw, "title": ref.title or "", "year": ref.year, "doi": ref.doi or "",
            "found": work is not None, "work_id": work["id"] if work else None,
            "matched_doi": (work.get("doi") or None) if work else None,
            "matched_title": (work.get("title") or None) if work else None,
            "resolution_method": c.method or None, "resolution": resolution_words(c.method, c.score),
            "supporting": t.get("supporting"), "contrasting": t.get("contrasting"),
            "mentioning": t.get("mentioning"), "total": t.get("total"),
            "retracted": bool(work and work.get("retracted")), "notices": notices, "warnings": list(c.warnings)}
