"""Work metadata as JSON lines → :class:`WorkRecord`s that enrich resolution (and place works' authors).

Accepts Crossref REST ``message`` objects (``DOI``, ``title`` list, ``author`` [{family, given, ORCID,
affiliation [{name}]}], ``issued.date-parts``, ``container-title``, ``ISSN`` / ``issn-type``), OpenAlex Work
objects (:mod:`citelens.formats.openalex`) and flat records (``doi``, ``title``, ``authors`` as "Family,
Given" strings or objects, ``year``, ``venue``/``journal``, ``issn``, ``eissn``). The journal's ISSNs are also
read from OpenAlex's ``primary_location.source`` (or ``host_venue``). Authors' affiliations ride along on the
records' authors; the ingest locates and stores them (``Store.save_work_places``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from citelens.document import Affiliation, Author
from citelens.errors import MalformedInputError
from citelens.formats.openalex import is_openalex_work, openalex_record
from citelens.references.identifiers import journal_issns, normalise_doi, normalise_pmcid, normalise_pmid
from citelens.references.resolve import WorkRecord


def _first(v: Any) -> str:
    if isinstance(v, list):
        v = v[0] if v else ""
    return str(v or "").strip()


def _authors(v: Any) -> list[Author]:
    out = []
    for a in v or []:
        if isinstance(a, dict):
            fam = a.get("family") or a.get("last") or a.get("name") or ""
            affs = [Affiliation(raw=x["name"].strip()) for x in (a.get("affiliation") or [])
                    if isinstance(a.get("affiliation"), list) and isinstance(x, dict)
                    and isinstance(x.get("name"), str) and x["name"].strip()]
            orcid = a.get("ORCID") or a.get("orcid") or ""
            out.append(Author(family=str(fam), given=str(a.get("given") or a.get("first") or ""),
                              orcid=str(orcid).rsplit("/", 1)[-1], affiliations=affs))
        elif isinstance(a, str):
            fam, _, given = a.partition(",")
            out.append(Author(family=fam.strip(), given=given.strip()))
    return out


def _year(rec: dict[str, Any]) -> int | None:
    for key in ("issued", "published", "published-print", "published-online", "created"):
        parts = (rec.get(key) or {}).get("date-parts") if isinstance(rec.get(key), dict) else None
        if parts and isinstance(parts, list) and isinstance(parts[0], list) and parts[0] and parts[0][0]:
            try:
                year = int(parts[0][0])
            except (TypeError, ValueError, OverflowError):
                continue
            if 0 < year < 10_000:  # as OpenAlex's: a larger number is no year (it overflowed the database)
                return year
    y = rec.get("year")
    try:
        return int(str(y)[:4]) if y else None
    except ValueError:
        return None


def metadata_record(rec: dict[str, Any]) -> WorkRecord:
    if "message" in rec and isinstance(rec["message"], dict):
        rec = rec["message"]
    issn, eissn = journal_issns(rec)
    if is_openalex_work(rec):
        return replace(openalex_record(rec), issn=issn, eissn=eissn)
    return WorkRecord(
        doi=normalise_doi(str(rec.get("DOI") or rec.get("doi") or "")),
        pmid=normalise_pmid(str(rec.get("PMID") or rec.get("pmid") or "")),
        pmcid=normalise_pmcid(str(rec.get("PMCID") or rec.get("pmcid") or "")),
        title=_first(rec.get("title")),
        authors=_authors(rec.get("author") or rec.get("authors")),
        year=_year(rec),
        container=_first(rec.get("container-title") or rec.get("venue") or rec.get("journal")),
        volume=str(rec.get("volume") or ""),
        pages=str(rec.get("page") or rec.get("pages") or ""),
        kind="metadata",
        work_type=str(rec.get("type") or ""),
        issn=issn,
        eissn=eissn,
    )


def parse_metadata_lines(data: bytes, source: str) -> tuple[list[WorkRecord], list[str]]:
    """Records from a JSON-lines file, plus one error string per bad line (the rest still count)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedInputError(source, f"metadata file is not UTF-8: {exc}") from None
    records, errors = [], []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: not JSON ({exc.msg})")
            continue
        except ValueError:  # json refuses an integer of more than 4,300 digits (not a JSONDecodeError)
            errors.append(f"line {n}: a number of more than 4,300 digits")
            continue
        if not isinstance(obj, dict):
            errors.append(f"line {n}: not a JSON object")
            continue
        rec = metadata_record(obj)
        if not (rec.doi or rec.title):
            errors.append(f"line {n}: record has neither DOI nor title")
            continue
        records.append(rec)
    if not records and errors:
        raise MalformedInputError(source, f"no usable metadata records ({errors[0]})")
    return records, errors
