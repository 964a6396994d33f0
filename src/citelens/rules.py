"""Domain rules of the index, as pure functions beside the :class:`~citelens.document.Document`.

Every store (SQLite, PostgreSQL) and the in-memory work index of the resolution tests apply these same
rules, so what the tests and evaluations measure is what production stores do:

- :func:`document_identity` / :func:`document_identities` — what makes a re-ingested article a replacement
  of an earlier copy;
- :func:`classify_notice` — which related-article links are editorial notices, and of which kind;
- :func:`is_candidate` / :func:`merge_work` / :func:`free_identifiers` — which works may match a
  reference, and how a matched work absorbs what a new record knows;
- :func:`replay_corrections` — which curator corrections apply to a freshly stored copy of an article;
- :func:`counted_stance` / :func:`add_up_buckets` — how a min_confidence threshold counts a label, from one
  statement or from the per-work tallies' confidence buckets.

No database access and no I/O here: the backends only supply storage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from citelens.document import Document
from citelens.references.resolve import WorkRecord, author_key, title_key

IDENTIFIER_KINDS: tuple[str, ...] = ("doi", "pmid", "pmcid")

# How much a record knows about a work: an ingested article outranks a metadata record, which outranks what
# a reference list says. A higher-ranked record overwrites; a lower-ranked one only fills gaps.
KIND_RANK = {"reference": 0, "metadata": 1, "article": 2}

# JATS related-article-type (and similar) → notice kind.
_NOTICE_KIND = {
    "retracted-article": "retraction", "retraction-forward": "retraction", "retraction": "retraction",
    "corrected-article": "correction", "correction-forward": "correction", "correction": "correction",
    "object-of-concern": "expression-of-concern", "expression-of-concern": "expression-of-concern",
}
# Crossref's ``update-to`` / ``updated-by`` types → notice kind; the other update types (addendum, clarification,
# new_version, new_edition) are not editorial notices an integrity check flags.
_UPDATE_TYPE_NOTICE = {
    "retraction": "retraction", "withdrawal": "withdrawal", "removal": "withdrawal",
    "partial_retraction": "partial-retraction", "correction": "correction", "corrigendum": "correction",
    "erratum": "erratum", "expression_of_concern": "expression-of-concern", "reinstatement": "reinstatement",
}
# The Retraction Watch database's RetractionNature → notice kind.
_NATURE_NOTICE = {"retraction": "retraction", "correction": "correction",
                  "expression of concern": "expression-of-concern", "reinstatement": "reinstatement"}
# A notice article (article-type) whose related-article link has an unrecognised type.
_ARTICLE_TYPE_NOTICE = {"retraction": "retraction", "correction": "correction",
                        "expression-of-concern": "expression-of-concern"}

# Candidate blocking: a title key shorter than this says too little to block on.
MIN_TITLE_KEY = 12


def document_identity(doc: Document) -> str:
    """'doi:…' when the article has a DOI, else 'pmcid:…', else 'pmid:…', else 'source:<file>' (the file's absolute
    path, ``Document.source_key``, where the ingest set it; else the name as given): re-ingesting
    the same identity replaces (see :func:`document_identities` for the copies it also replaces)."""
    return document_identities(doc)[0]


def document_identities(doc: Document) -> tuple[str, ...]:
    """The document's identity, then those under which a stored copy of the same article is replaced by it.

    An identifier names one article: a copy stored under its PMCID or PMID (without a DOI then) is the same article
    whatever its file name, and so is a copy stored under the file name alone before identities took PMCIDs and
    PMIDs. (A DOI-less article with a PMID, ingested again by another path or name, was stored twice and every
    statement counted twice.) A copy stored under another DOI, or a DOI-less one under another name without these
    identifiers, stays another article."""
    ids = [f"doi:{doc.doi}"] if doc.doi else []
    ids += [f"{kind}:{value}" for kind, value in (("pmcid", doc.pmcid), ("pmid", doc.pmid)) if value]
    if not doc.doi:
        # The file named the same from any working directory ("a.xml", "./a.xml" and "/data/a.xml" were three
        # articles), then the name as typed, under which a copy was stored before identities took that form.
        ids += dict.fromkeys(f"source:{name}" for name in (doc.source_key, doc.source) if name)
    return tuple(ids)


def classify_notice(relation: str, article_type: str = "") -> str | None:
    """'retraction' | 'correction' | 'expression-of-concern' for an editorial-notice link, else None."""
    return _NOTICE_KIND.get((relation or "").lower()) or _ARTICLE_TYPE_NOTICE.get(article_type or "")


def notice_kind_of_update(update_type: str) -> str | None:
    """The notice kind of a Crossref ``update-to`` type ("expression_of_concern" → "expression-of-concern"), else None."""
    return _UPDATE_TYPE_NOTICE.get((update_type or "").strip().lower().replace("-", "_").replace(" ", "_"))


def notice_kind_of_nature(nature: str) -> str | None:
    """The notice kind of a Retraction Watch RetractionNature ("Expression of concern" → ...), else None."""
    return _NATURE_NOTICE.get(" ".join((nature or "").lower().split()))


def _notice_field(n: object, name: str) -> str:
    return str((n.get(name) if isinstance(n, dict) else getattr(n, name, "")) or "")


def same_notice(a: object, b: object) -> bool:
    """Whether two notices about one work are the same notice, from any two sources (a JATS notice article, a
    Retraction Watch row, a Crossref ``update-to``): the same kind and, where both give one, the same notice DOI;
    otherwise dates that agree ("2015" agrees with "2015-03-04"). Re-ingesting a source, or a newer version of
    it, then adds nothing twice."""
    if _notice_field(a, "kind") != _notice_field(b, "kind"):
        return False
    doi_a, doi_b = _notice_field(a, "doi"), _notice_field(b, "doi")
    if doi_a and doi_b:
        return doi_a == doi_b
    date_a, date_b = _notice_field(a, "date"), _notice_field(b, "date")
    return date_a.startswith(date_b) or date_b.startswith(date_a) if date_a and date_b else date_a == date_b


def merge_notice(known: dict[str, str], new: object) -> dict[str, str]:
    """``known`` (kind, doi, date) completed by ``new``, the same notice (:func:`same_notice`) from another source or
    a newer version of one: a DOI where it had none, the fuller of two agreeing dates ("2015" → "2015-03-04")."""
    date_new = _notice_field(new, "date")
    return {"kind": known["kind"], "doi": known["doi"] or _notice_field(new, "doi"),
            "date": date_new if len(date_new) > len(known["date"]) else known["date"]}


# Publishers mark a retracted article's own title: "RETRACTED:" (Elsevier), "RETRACTED ARTICLE:" (Springer Nature),
# "Retracted:" (Wiley, Hindawi), "WITHDRAWN:" (Cochrane, Elsevier's withdrawals), "[Retracted]". A notice's title
# ("Retraction: …", "Retraction note to: …") is the notice, not the retracted work, and does not match.
_RETRACTED_TITLE = re.compile(
    r"\s*(?:\[\s*(?:retracted|withdrawn)(?:\s+article)?\s*\]|(?:retracted|withdrawn)(?:\s+article)?\s*[:.]\s)",
    re.IGNORECASE)


def title_says_retracted(title: str | None) -> bool:
    """Whether a work's title carries its publisher's retraction (or withdrawal) mark — what a reference copied
    from the publisher's page shows even where the index holds no notice: "Retracted: Screening of candidate
    genes…", "RETRACTED ARTICLE: …", "[Retracted] …". A title about retractions ("Retracted publications in…")
    does not match."""
    return bool(title) and _RETRACTED_TITLE.match(title or "") is not None


def retraction_in_force(notices: Iterable[object]) -> bool:
    """Whether ``notices`` retract the work: a retraction that no reinstatement of the same date or later lifts.

    A reinstated work is not shown as retracted (badge, ``retracted``, check warnings), but both notices stay
    listed, so a reader sees it was retracted and reinstated. An undated reinstatement lifts only an undated
    retraction: without a date, which came last cannot be told, and a retraction wrongly hidden is the worse error."""
    notices = list(notices)
    retracted = [_notice_field(n, "date") for n in notices if _notice_field(n, "kind") == "retraction"]
    if not retracted:
        return False
    latest = max(retracted)
    return not any(_notice_field(n, "kind") == "reinstatement" and _notice_field(n, "date") >= latest
                   and (_notice_field(n, "date") or not latest) for n in notices)


def is_candidate(work: WorkRecord, first_author: str, year: int | None, title_key_: str) -> bool:
    """May ``work`` be compared with a record (first-author key, year, title key)? The blocking rule.

    Same first author and (no year given, or a year within one of the work's), or the same title key.
    """
    same_author = bool(first_author) and author_key(work.authors) == first_author
    if same_author and (year is None or (work.year is not None and abs(work.year - year) <= 1)):
        return True
    return bool(title_key_) and len(title_key_) >= MIN_TITLE_KEY and title_key(work.title) == title_key_


def free_identifiers(record: WorkRecord, taken: Collection[tuple[str, str]]) -> WorkRecord:
    """``record`` without the identifiers another work already holds (an identifier names one work)."""
    clash = [k for k in IDENTIFIER_KINDS if getattr(record, k) and (k, getattr(record, k)) in taken]
    if not clash:
        return record
    freed = replace(record, authors=list(record.authors))
    for k in clash:
        setattr(freed, k, "")
    return freed


def merge_work(existing: WorkRecord, incoming: WorkRecord,
               taken: Collection[tuple[str, str]] = ()) -> WorkRecord:
    """The work after absorbing ``incoming`` (matched to it): a higher-ranked record overwrites, else fills gaps.

    Identifiers are only ever added, never changed, and not when another work holds them (``taken``).
    """
    authoritative = KIND_RANK.get(incoming.kind, 0) > KIND_RANK.get(existing.kind, 0)
    merged = replace(existing, authors=list(existing.authors))
    for kind in IDENTIFIER_KINDS:
        value = getattr(incoming, kind)
        if value and not getattr(existing, kind) and (kind, value) not in taken:
            setattr(merged, kind, value)
    for attr in ("title", "container", "volume", "pages", "year", "issn", "eissn"):
        value = getattr(incoming, attr)
        if value and (authoritative or not getattr(existing, attr)):
            setattr(merged, attr, value)
    if incoming.authors and (authoritative or not existing.authors):
        merged.authors = list(incoming.authors)
    if authoritative:
        merged.kind = incoming.kind
        if incoming.work_type:
            merged.work_type = incoming.work_type
    return merged


class CorrectionLike(Protocol):
    @property
    def reference_key(self) -> str: ...

    @property
    def sentence(self) -> str: ...


@dataclass(frozen=True)
class StatementKey:
    """What identifies a statement across re-ingests of one article: its reference and its sentence."""

    reference_key: str
    sentence: str


C = TypeVar("C", bound=CorrectionLike)


def replay_corrections(statements: Sequence[StatementKey], corrections: Sequence[C]) -> list[C | None]:
    """For each statement of a freshly stored article, the curator correction that applies (or None).

    ``corrections`` are the article's corrections oldest first; a later one for the same statement wins.
    """
    latest: dict[StatementKey, C] = {}
    for c in corrections:
        latest[StatementKey(c.reference_key, c.sentence)] = c
    return [latest.get(s) for s in statements]


class StoredCorrection(CorrectionLike, Protocol):
    @property
    def id(self) -> int: ...

    @property
    def document_identity(self) -> str: ...


def corrections_in_force(corrections: Iterable[StoredCorrection]) -> set[int]:
    """The ids of the corrections that give a statement its label now: of each statement's corrections (oldest
    first, across articles), the latest, the one :func:`replay_corrections` applies; the others were overruled
    (a curator changing their mind, or a second curator)."""
    latest: dict[tuple[str, StatementKey], int] = {}
    for c in corrections:
        latest[(c.document_identity, StatementKey(c.reference_key, c.sentence))] = c.id
    return set(latest.values())


# ------------------------------------------------------------------------------------ tallies and thresholds
# With a min_confidence threshold a model's supporting/contrasting label below it counts as mentioning; a
# curator's correction, and every other label, counts as set. The per-work tallies keep supporting/contrasting
# statements by confidence bucket (floor(confidence × 100), clamped to 0-100) and the rest in FIXED_BUCKET.
RELABELLED = ("supporting", "contrasting")
CONFIDENCE_BUCKETS = 100
FIXED_BUCKET = -1


def counted_stance(stance: str, confidence: float | None, corrected: bool, min_confidence: float | None) -> str:
    """The label a statement counts under (the rule every tally applies)."""
    if (min_confidence is not None and stance in RELABELLED and not corrected
            and (confidence or 0.0) < min_confidence):
        return "mentioning"
    return stance


def threshold_window(min_confidence: float) -> tuple[int, int]:
    """The confidence buckets (first, last) that may hold statements on both sides of ``min_confidence``.

    Bucket b holds confidences c with floor(c × 100) = b as the database computes it; c × 100 is rounded, so a
    confidence just below b / 100 may land in b. One bucket of margin on each side makes every bucket outside
    the window wholly below or wholly at/above the threshold; those inside are counted from the statements.
    ``min_confidence`` must be finite.
    """
    k = math.floor(min_confidence * CONFIDENCE_BUCKETS)
    return k - 1, k + 1


def add_up_buckets(rows: Iterable[tuple[str, int, int]],
                   window: tuple[int, int] | None) -> tuple[dict[str, int], bool]:
    """Counts by label as counted from per-work tally rows (label, bucket, n) under a threshold's ``window``
    (None: no threshold), and whether rows inside the window were left out (to count from the statements)."""
    out: dict[str, int] = {}
    partial = False
    for stance, bucket, n in rows:
        label = stance
        if window is not None and bucket != FIXED_BUCKET:
            if bucket < window[0]:
                label = "mentioning"
            elif bucket <= window[1]:
                partial = partial or n != 0
                continue
        out[label] = out.get(label, 0) + n
    return out, partial


# ------------------------------------------------------------------------------ citing a retracted work
def retraction_year(notices: Iterable[object]) -> int | None:
    """The year of the earliest retraction notice among ``notices`` (records or dicts with ``kind`` and ``date``,
    the date as the notice gives it: "2007", "2015-03-04"); None when none is dated, or when a reinstatement has
    lifted the retraction (:func:`retraction_in_force`)."""
    notices = list(notices)
    if not retraction_in_force(notices):
        return None
    return notice_year(notices, "retraction")


def notice_year(notices: Iterable[object], kind: str) -> int | None:
    """The year of the earliest notice of ``kind`` ("retraction", "expression-of-concern", ...) among ``notices``,
    as :func:`retraction_year` reads dates (a reinstatement is not looked at here); None when none of that kind is
    dated."""
    years = []
    for n in notices:
        k = n.get("kind") if isinstance(n, dict) else getattr(n, "kind", "")
        date = (n.get("date") if isinstance(n, dict) else getattr(n, "date", "")) or ""
        if k == kind and len(date) >= 4 and date[:4].isdigit():
            years.append(int(date[:4]))
    return min(years) if years else None


def cited_after_retraction(citing_year: int | None, retracted_in: int | None) -> str | None:
    """Whether a paper of ``citing_year`` cited a work retracted in ``retracted_in``: "after" (a later year: the
    red flag a research-integrity team looks for), "same-year" (years alone cannot tell: worth a look), "before",
    or None when either year is unknown."""
    if citing_year is None or retracted_in is None:
        return None
    if citing_year > retracted_in:
        return "after"
    return "same-year" if citing_year == retracted_in else "before"
