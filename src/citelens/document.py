"""The one object that flows through every pipeline stage.

parse (``citelens.formats``) fills the metadata, paragraphs and references of a :class:`Document`;
segment/link (``citelens.statements``) turns paragraphs + callouts into :class:`CitationStatement`s;
resolve (``citelens.references``) sets ``Reference.work_id``; classify (``citelens.stance``) sets
``CitationStatement.stance``; the store persists the lot. Plain dataclasses, so every stage stays testable
without a database and a Document round-trips through JSON (``to_dict`` / ``from_dict``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Section = Literal["introduction", "methods", "results", "discussion", "other"]
SECTIONS: tuple[str, ...] = ("introduction", "methods", "results", "discussion", "other")

Stance = Literal["supporting", "contrasting", "mentioning"]
STANCES: tuple[str, ...] = ("supporting", "contrasting", "mentioning")


def format_work_id(n: int) -> str:
    """The id of the work stored as row ``n``: "W12"."""
    return f"W{n}"


MAX_ROW_ID = 2**63 - 1  # the largest SQLite (and PostgreSQL bigint) row id


def parse_work_id(ident: str) -> int | None:
    """``"W12"`` → 12; None for anything else, including ids no database row can have (> 2⁶³ − 1)."""
    s = ident.strip()
    digits = s[1:]
    if s[:1] in ("W", "w") and digits.isascii() and digits.isdigit() and len(digits) <= 19:
        n = int(digits)
        return n if n <= MAX_ROW_ID else None
    return None


@dataclass
class Affiliation:
    """An institution an author belongs to (for knowledge-flow analysis).

    The parser fills what the source tags (``institution``, ``country`` as written, ``city``, ``region``,
    ``ror``) and ``raw``, the whole text; the locate stage (``citelens.places.locate_authors``) fills the
    rest from the text and sets ``country_code`` (ISO 3166-1 alpha-2).
    """

    institution: str = ""
    country: str = ""
    raw: str = ""
    city: str = ""
    region: str = ""
    ror: str = ""
    country_code: str = ""


@dataclass
class Author:
    family: str = ""
    given: str = ""
    orcid: str = ""
    email: str = ""
    affiliations: list[Affiliation] = field(default_factory=list)

    @property
    def display(self) -> str:
        return f"{self.given} {self.family}".strip() if self.given else self.family


@dataclass
class Reference:
    """One entry of the citing document's reference list, as parsed, plus where resolution put it."""

    key: str  # JATS ref/@id, TEI xml:id, or a synthetic "b<n>" for PDFs
    raw: str = ""
    label: str = ""  # printed label: "12", "[12]", "Smith et al., 2003"
    authors: list[Author] = field(default_factory=list)
    title: str = ""
    container: str = ""  # journal or book title
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    publication_type: str = ""
    # Set by the resolve stage.
    work_id: str | None = None
    resolution_method: str = ""  # "doi" | "pmid" | "pmcid" | "fuzzy" | "new"
    resolution_score: float | None = None


@dataclass
class Callout:
    """An in-text citation inside a paragraph: character span in ``Paragraph.text`` and the references it names.

    A callout like "[3]–[6]" is one Callout whose ``reference_keys`` holds 3,4,5,6 after range expansion.
    """

    start: int
    end: int
    reference_keys: list[str]
    text: str = ""
    # Keys not marked up in the source but implied by a numeric range ("[3]–[6]" implies 4 and 5).
    inferred_keys: list[str] = field(default_factory=list)


@dataclass
class Paragraph:
    text: str
    section: str = "other"  # normalised, one of SECTIONS
    section_title: str = ""  # the heading as printed (nearest enclosing titled section)
    kind: str = "body"  # "body" | "caption" | "footnote"
    callouts: list[Callout] = field(default_factory=list)
    # Sentence spans (start, end) in ``text`` when the source already marks sentences (TEI <s>).
    sentence_spans: list[tuple[int, int]] | None = None


@dataclass
class CitationStatement:
    """One (sentence, cited reference) pair: the unit a user reads, searches and we classify."""

    reference_key: str
    sentence: str
    callout_start: int  # offsets of the callout inside ``sentence``
    callout_end: int
    before: str = ""
    after: str = ""
    section: str = "other"
    section_title: str = ""
    paragraph_index: int = 0
    sentence_index: int = 0
    callout_text: str = ""
    inferred: bool = False  # the reference sits inside a numeric range ("[3]–[6]") rather than being named
    # Set by classify / resolve.
    stance: str | None = None
    confidence: float | None = None
    evidence: str = ""  # why: the cue span or most influential tokens
    self_citation: bool = False

    def marked_sentence(self) -> str:
        """The sentence with this statement's callout wrapped in <cite>…</cite> (the classifier input format)."""
        s = self.sentence
        return s[: self.callout_start] + "<cite>" + s[self.callout_start : self.callout_end] + "</cite>" + s[self.callout_end :]


@dataclass
class RelatedArticle:
    """A link to another work, e.g. a retraction notice pointing at the work it retracts."""

    relation: str  # JATS related-article-type: "retracted-article", "corrected-article", "object-of-concern", …
    doi: str = ""
    pmid: str = ""
    title: str = ""


@dataclass
class Document:
    source: str  # input file name (as given by the user, or member name inside an archive)
    format: str = ""  # "jats" | "tei" | "pdf" | "s2orc" | "metadata"
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    title: str = ""
    authors: list[Author] = field(default_factory=list)
    journal: str = ""
    # The journal's print and electronic ISSN ("NNNN-NNNC") and its abbreviated title, where the source says.
    issn: str = ""
    eissn: str = ""
    journal_abbrev: str = ""
    publisher: str = ""
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    article_type: str = ""  # JATS @article-type: research-article, retraction, correction, …
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    related: list[RelatedArticle] = field(default_factory=list)
    statements: list[CitationStatement] = field(default_factory=list)
    # Set by the resolve stage: the work this document *is*.
    work_id: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Where the file was read, named the same from any working directory (an absolute path; an archive member as
    # the archive's absolute path, "!" and the member): what identifies an article without DOI, PMCID or PMID.
    # Set by the ingest before storing; empty: ``source`` serves.
    source_key: str = ""

    def reference(self, key: str) -> Reference | None:
        for ref in self.references:
            if ref.key == key:
                return ref
        return None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        d = dict(data)
        d["authors"] = [_author(a) for a in d.get("authors", [])]
        d["references"] = [
            Reference(**{**r, "authors": [_author(a) for a in r.get("authors", [])]}) for r in d.get("references", [])
        ]
        d["paragraphs"] = [
            Paragraph(
                **{
                    **p,
                    "callouts": [Callout(**c) for c in p.get("callouts", [])],
                    "sentence_spans": [tuple(s) for s in p["sentence_spans"]] if p.get("sentence_spans") else None,
                }
            )
            for p in d.get("paragraphs", [])
        ]
        d["related"] = [RelatedArticle(**r) for r in d.get("related", [])]
        d["statements"] = [CitationStatement(**s) for s in d.get("statements", [])]
        return cls(**d)


def _author(a: dict[str, Any]) -> Author:
    return Author(**{**a, "affiliations": [Affiliation(**x) for x in a.get("affiliations", [])]})
