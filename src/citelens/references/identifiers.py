"""Normalising persistent identifiers so that equal works compare equal."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|urn:doi:)", re.I)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
# What a publisher's landing-page address adds after the DOI, copied into a reference with it: the view
# ("10.3389/fpls.2017.00052/full", "…/abstract", Wiley's "…/epdf"), a query ("…/16?show=full",
# "…/full?highlightAbstract=…") or a fragment with a key ("10.1056/nejmra064142#t=article"). On pmc-oa 19 of
# 131,054 work DOIs carried one, and 3 of those articles were held twice: once under each form (2026-12-05).
# A bare "#" stays: old Wiley SICI DOIs end in one ("…3.0.co;2-#").
_LANDING_VIEWS = ("/abstract", "/full", "/fulltext", "/pdf", "/epdf", "/pdfdirect", "/html", "/summary")
_QUERY_KEY = re.compile(r"[a-z_]+=", re.I)


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
    return without_landing_tail(m.group(0).rstrip(".,;:)]}>\"'")).lower()


def without_landing_tail(doi: str) -> str:
    """A DOI without what a landing page's address adds to it ("…/full", "…/abstract", "?show=full"), and
    without a stray "?" or quote at its end ("…/jir312'?").

    String scanning, not one regular expression: a hostile "…/full/full/…" of 80,000 characters took a
    pattern with a repeated group 27 s (it retried the repetition from every position); this is linear."""
    prefix, slash, suffix = doi.partition("/")
    for mark in "?#":
        at = suffix.find(mark)
        while at >= 0:
            if _QUERY_KEY.match(suffix, at + 1):
                suffix = suffix[:at]
                break
            at = suffix.find(mark, at + 1)
    lowered, end = suffix.lower(), len(suffix)
    cut = True
    while cut:
        cut = False
        for view in _LANDING_VIEWS:
            if lowered.endswith(view, 0, end):
                end -= len(view)
                cut = True
    bare = suffix[:end].rstrip(".,;:)]}>\"'?")
    return prefix + slash + bare if bare else doi


# How people write a PubMed or PubMed Central id when they look a work up: a label ("PMID: 26635547", "pmcid
# PMC4712345") or the address they copied (PubMed, Europe PMC, PMC's old and new sites).
_PMID_FORMS = re.compile(r"^(?:pmid\s*:?\s*|https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov/"
                         r"|ncbi\.nlm\.nih\.gov/pubmed/|europepmc\.org/(?:abstract|article)/med/))(\d{1,12})/?$",
                         re.I)
_PMCID_FORMS = re.compile(r"^(?:pmcid\s*:?\s*|https?://(?:www\.)?(?:ncbi\.nlm\.nih\.gov/pmc/articles/"
                          r"|pmc\.ncbi\.nlm\.nih\.gov/articles/|europepmc\.org/(?:abstract|article)/pmc/))?"
                          r"(pmc\d{1,12})/?$", re.I)


def work_identifier(text: str) -> tuple[str, str] | None:
    """(kind, value) of an identifier a person gives to look a work up: ("doi", …) for a DOI in any form,
    ("pmid", "26635547") for "26635547", "PMID:26635547" or a PubMed address, ("pmcid", "PMC4712345") for
    "pmc4712345", "PMCID: PMC4712345" or a PMC address; None for anything else."""
    s = (text or "").strip()
    if s.isdigit() and len(s) <= 12:
        return "pmid", s
    if m := _PMID_FORMS.match(s):
        return "pmid", m.group(1)
    if m := _PMCID_FORMS.match(s):
        return "pmcid", m.group(1).upper()
    doi = normalise_doi(s)
    return ("doi", doi) if doi else None


def normalise_pmid(value: str) -> str:
    v = re.sub(r"^(pmid:?\s*)", "", (value or "").strip(), flags=re.I)
    return v if v.isdigit() else ""


def normalise_pmcid(value: str) -> str:
    v = (value or "").strip().upper()
    if v.isdigit():
        return "PMC" + v
    return v if re.fullmatch(r"PMC\d+", v) else ""


_ISSN = re.compile(r"\b(\d{4})[-\u2010-\u2015 ]?(\d{3}[\dXx])\b")


def normalise_issn(value: str) -> str:
    """ "NNNN-NNNC" for an ISSN written any common way ("0028-0836", "00280836", "ISSN 1476-4687"), else "".

    The check digit must hold (mod 11, weights 8…2; X = 10), so a page range or a year pair is not an ISSN.
    """
    m = _ISSN.search(value or "")
    if not m:
        return ""
    digits = (m.group(1) + m.group(2)).upper()
    total = sum(int(d) * w for d, w in zip(digits[:7], range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return f"{digits[:4]}-{digits[4:]}" if digits[7] == ("X" if check == 10 else str(check)) else ""


def assign_identifier(target: Any, kind: str, value: str) -> None:
    """Set ``target.doi`` / ``.pmid`` / ``.pmcid`` from a source's identifier type, keeping the first one seen.

    ``kind`` is the source's own name for the type ("doi", "pmid", "pmc", "PMCID", …; any case).
    """
    k = kind.lower()
    if k == "doi" and not target.doi:
        target.doi = normalise_doi(value)
    elif k == "pmid" and not target.pmid:
        target.pmid = normalise_pmid(value)
    elif k in ("pmc", "pmcid") and not target.pmcid:
        target.pmcid = normalise_pmcid(value)


def journal_issns(rec: dict[str, Any]) -> tuple[str, str]:
    """(print ISSN, electronic ISSN) of a Crossref, flat or OpenAlex work record (a parsed JSON object); ""
    where unknown. Here, not in a format module, so that every metadata reader can use it.

    Crossref's ``issn-type`` says which is which; a bare list (Crossref ``ISSN``, OpenAlex ``source.issn``)
    is taken in order after OpenAlex's ``issn_l``.
    """
    flat = rec.get("issn")
    issn = normalise_issn(flat) if isinstance(flat, str) else ""
    eissn = normalise_issn(str(rec.get("eissn") or rec.get("e-issn") or ""))
    types = rec.get("issn-type")
    for t in types if isinstance(types, list) else []:
        if isinstance(t, dict):
            value = normalise_issn(str(t.get("value") or ""))
            if str(t.get("type")).lower() == "electronic":
                eissn = eissn or value
            else:
                issn = issn or value
    source: Any = (rec.get("primary_location") or {}).get("source") if isinstance(rec.get("primary_location"), dict) \
        else None
    if not isinstance(source, dict):
        source = rec.get("host_venue") if isinstance(rec.get("host_venue"), dict) else {}
    if not issn and isinstance(source.get("issn_l"), str):  # OpenAlex's linking ISSN: usually the print one
        issn = normalise_issn(source["issn_l"])
    for listed in (rec.get("ISSN"), flat if isinstance(flat, list) else None, source.get("issn")):
        for value in (normalise_issn(v) for v in (listed if isinstance(listed, list) else []) if isinstance(v, str)):
            if value and value not in (issn, eissn):
                if not issn:
                    issn = value
                elif not eissn:
                    eissn = value
    return issn, eissn
