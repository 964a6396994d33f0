"""Normalising persistent identifiers so that equal works compare equal."""

from __future__ import annotations

import re
from urllib.parse import unquote

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|urn:doi:)", re.I)
_DOI = re.compile(r"10\.\d{4,9}/\S+")


def normalise_doi(value: str) -> str:
    """'https://doi.org/10.1371/Journal.PONE.1.' → '10.1371/journal.pone.1' ('' if no DOI inside).

    Percent-encoding is undone ('…%3C513%3E…' → '…<513>…'): publishers write DOIs with '<', '>' or ';'
    encoded in links, and the encoded and the plain form must name the same work.
    """
    v = (value or "").strip()
    if "%" in v:
        v = unquote(v)
    v = _DOI_PREFIX.sub("", v)
    m = _DOI.search(v)
    if not m:
        return ""
    # DOIs are case-insensitive; trailing punctuation comes from the sentence around it.
    return m.group(0).rstrip(".,;:)]}>\"'").lower()


def normalise_pmid(value: str) -> str:
    v = re.sub(r"^(pmid:?\s*)", "", (value or "").strip(), flags=re.I)
    return v if v.isdigit() else ""


def normalise_pmcid(value: str) -> str:
    v = (value or "").strip().upper()
    if v.isdigit():
        return "PMC" + v
    return v if re.fullmatch(r"PMC\d+", v) else ""


def assign_identifier(target: object, kind: str, value: str) -> None:
    """Set ``target.doi`` / ``.pmid`` / ``.pmcid`` from a source's identifier type, keeping the first one seen.

    ``kind`` is the source's own name for the type ("doi", "pmid", "pmc", "PMCID", …; any case).
    """
    k = kind.lower()
    if k == "doi" and not target.doi:
        target.doi = normalise_doi(value)  # type: ignore[attr-defined]
    elif k == "pmid" and not target.pmid:
        target.pmid = normalise_pmid(value)  # type: ignore[attr-defined]
    elif k in ("pmc", "pmcid") and not target.pmcid:
        target.pmcid = normalise_pmcid(value)  # type: ignore[attr-defined]
