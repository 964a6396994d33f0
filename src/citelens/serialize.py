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
from citelens.rules import cited_after_retraction, retraction_year

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


def resolution_words(method: str | None, score: float | None = None) -> str:
    words = RESOLUTION_WORDS.get(method or "", method or "not matched")
    if method == "fuzzy" and score is not None:
        words += f" ({round(score * 100)}% similar)"
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
    total: int
    page: int
    per_page: int
    pages: int = Field(description="pages of per_page rows that total fills (at least 1; at most 1,000,000)")
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


class CollectionPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    name: str
    owner: str
    description: str
    created_at: str
    size: int
    items: list[CollectionItem]


# --------------------------------------------------------------------------------------- functions

def tallies_json(doi: str, t: Mapping[str, int], *, retracted: bool = False) -> dict[str, Any]:
    """The scite tallies shape (``contradicting`` is scite's name for contrasting), plus ``retracted``: a reader who
    sees only the counts (the script badge) must not take a retracted work's tallies for standing."""
    return {"doi": doi, "total": t["total"], "supporting": t["supporting"], "contradicting": t["contrasting"],
            "mentioning": t["mentioning"], "unclassified": t["unclassified"],
            "citingPublications": t["citing_publications"], "retracted": retracted}


def section_tallies_json(sections: Mapping[str, Mapping[str, int]], doi: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"doi": doi} if doi is not None else {}
    for name in SECTIONS:
        out[name] = sections.get(name, {}).get("total", 0)
    out["total"] = sum(out[name] for name in SECTIONS)
    return out


def notice_json(n: Any) -> dict[str, Any]:
    kind = _get(n, "kind", "")
    return {"status": NOTICE_STATUS.get(kind, kind.replace("-", " ").capitalize()), "type": kind,
            "doi": _get(n, "doi", "") or "", "title": _get(n, "title", "") or "", "date": _get(n, "date", "") or ""}


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
    return {"cited_retracted": any(_get(n, "kind") == "retraction" for n in notices),
            "cited_retraction_year": retracted_in,
            "cited_after_retraction": cited_after_retraction(citing_year, retracted_in),
            "cited_notices": [notice_label(n) for n in notices]}


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
        "resolution": resolution_words(method, _get(st, "resolution_score")),
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
