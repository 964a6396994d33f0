"""Work metadata as JSON lines → :class:`WorkRecord`s that enrich resolution (and place works' authors).

Accepts Crossref REST ``message`` objects (``DOI``, ``title`` list, ``author`` [{family, given, ORCID,
affiliation [{name}]}], ``issued.date-parts``, ``container-title``, ``ISSN`` / ``issn-type``), OpenAlex Work
objects (:mod:`citelens.formats.openalex`) and flat records (``doi``, ``title``, ``authors`` as "Family,
Given" strings or objects, ``year``, ``venue``/``journal``, ``issn``, ``eissn``). The journal's ISSNs are also
read from OpenAlex's ``primary_location.source`` (or ``host_venue``). Authors' affiliations ride along on the
records' authors; the ingest locates and stores them (``Store.save_work_places``).

A Crossref message also carries editorial notices (:func:`metadata_notices`): a notice's own message lists the works
it updates in ``update-to`` ([{DOI, type: retraction | correction | expression_of_concern …, updated: {date-parts}}]),
and an updated work's message lists its notices in ``updated-by`` (where Crossref adds Retraction Watch's).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from citelens.document import Affiliation, Author
from citelens.errors import MalformedInputError
from citelens.formats.notices import CROSSREF_UPDATE_TO, CROSSREF_UPDATED_BY, NoticeRecord, date_from_parts
from citelens.formats.openalex import is_openalex_work, openalex_record
from citelens.references.identifiers import journal_issns, normalise_doi, normalise_pmcid, normalise_pmid
from citelens.references.resolve import WorkRecord
from citelens.rules import notice_kind_of_update


def _first(v: Any) -> str:
    """The text of a field that is a string, a number or a list of them (Crossref's ``title`` is a list); any other
    type (an object, null, true) is no value: a hostile record's field must not reach the index as ``{'a': 1}``."""
    if isinstance(v, list):
        v = next((x for x in v if _text(x)), "")
    return _text(v)


def _text(v: Any) -> str:
    if isinstance(v, str):
        return v.strip()
    return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else ""


def _author_list(v: Any) -> list[Any]:
    """A record's authors: a list of them; one author object or one "Family, Given" string alone is a list of one."""
    if isinstance(v, list):
        return v
    return [v] if isinstance(v, dict | str) else []


def _authors(v: Any) -> list[Author]:
    out = []
    for a in _author_list(v):
        if isinstance(a, dict):
            fam = next((t for t in (_text(a.get(k)) for k in ("family", "last", "name")) if t), "")
            given = next((t for t in (_text(a.get(k)) for k in ("given", "first")) if t), "")
            listed = a.get("affiliation")
            affs = [Affiliation(raw=x["name"].strip()) for x in (listed if isinstance(listed, list) else [])
                    if isinstance(x, dict) and isinstance(x.get("name"), str) and x["name"].strip()]
            orcid = _text(a.get("ORCID")) or _text(a.get("orcid"))
            if fam or given or orcid or affs:  # an object that names nobody is no author
                out.append(Author(family=fam, given=given, orcid=orcid.rsplit("/", 1)[-1], affiliations=affs))
        elif isinstance(a, str) and a.strip():
            fam, _, given = a.partition(",")
            out.append(Author(family=fam.strip(), given=given.strip()))
    return out


_YEAR_TEXT = re.compile(r"\s*(\d{4})(?!\d)")


def _year(rec: dict[str, Any]) -> int | None:
    """The year of ``issued`` (or another Crossref date's) ``date-parts``, else of a flat ``year``: a number, or text
    that starts with four digits ("2019", "2019-05-03"). Anything else is no year: ``123456789`` is not 1234."""
    for key in ("issued", "published", "published-print", "published-online", "created"):
        parts = (rec.get(key) or {}).get("date-parts") if isinstance(rec.get(key), dict) else None
        if parts and isinstance(parts, list) and isinstance(parts[0], list) and parts[0] and parts[0][0]:
            year = _year_value(parts[0][0])
            if year is not None:
                return year
    return _year_value(rec.get("year"))


def _year_value(v: Any) -> int | None:
    if isinstance(v, str):
        m = _YEAR_TEXT.match(v)
        v = int(m.group(1)) if m else None
    elif isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool) and 0 < v < 10_000:  # as OpenAlex's: a larger number is no
        return v                                                            # year (it overflowed the database)
    return None


def metadata_record(rec: dict[str, Any]) -> WorkRecord:
    if "message" in rec and isinstance(rec["message"], dict):
        rec = rec["message"]
    issn, eissn = journal_issns(rec)
    if is_openalex_work(rec):
        return replace(openalex_record(rec), issn=issn, eissn=eissn)
    return WorkRecord(
        doi=normalise_doi(_first(rec.get("DOI")) or _first(rec.get("doi"))),
        pmid=normalise_pmid(_first(rec.get("PMID")) or _first(rec.get("pmid"))),
        pmcid=normalise_pmcid(_first(rec.get("PMCID")) or _first(rec.get("pmcid"))),
        title=_first(rec.get("title")),
        authors=_authors(rec.get("author") or rec.get("authors")),
        year=_year(rec),
        container=_first(rec.get("container-title")) or _first(rec.get("venue")) or _first(rec.get("journal")),
        volume=_text(rec.get("volume")),
        pages=_text(rec.get("page")) or _text(rec.get("pages")),
        kind="metadata",
        work_type=_text(rec.get("type")),
        issn=issn,
        eissn=eissn,
    )


def _update_date(item: dict[str, Any]) -> str:
    parts = (item.get("updated") or {}).get("date-parts") if isinstance(item.get("updated"), dict) else None
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and all(
            isinstance(p, int) and not isinstance(p, bool) for p in parts[0]):
        return date_from_parts(parts[0]) or ""
    return ""


def metadata_notices(rec: dict[str, Any], record: WorkRecord) -> tuple[list[NoticeRecord], list[str]]:
    """The editorial notices a Crossref message states (``update-to``: about the works it updates; ``updated-by``:
    about ``record``, its own work), and a problem text per entry that names no work or a malformed DOI. Update
    types that are no editorial notice (addendum, new_version …) are passed over."""
    if "message" in rec and isinstance(rec["message"], dict):
        rec = rec["message"]
    notices: list[NoticeRecord] = []
    problems: list[str] = []
    for field_name, source in (("update-to", CROSSREF_UPDATE_TO), ("updated-by", CROSSREF_UPDATED_BY)):
        items = rec.get(field_name)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                problems.append(f"{field_name}[{i}] is not an object")
                continue
            kind = notice_kind_of_update(_text(item.get("type")))
            if kind is None:
                continue
            raw = _text(item.get("DOI")) or _text(item.get("doi"))
            doi = normalise_doi(raw)
            if not doi:
                problems.append(f"{field_name}[{i}] DOI {raw[:60]!r} is not a DOI")
                continue
            when = _update_date(item)
            if source == CROSSREF_UPDATE_TO:  # this message is the notice; the DOI is the updated work's
                if not record.doi:
                    problems.append(f"{field_name}[{i}]: the notice's own message has no DOI")
                notices.append(NoticeRecord(target=WorkRecord(doi=doi, kind="reference"), kind=kind,
                                            doi=record.doi, date=when, source=source))
            elif record.doi or record.pmid:  # this message is the updated work; the DOI is the notice's
                notices.append(NoticeRecord(target=record, kind=kind, doi=doi, date=when, source=source,
                                            record_id=_text(item.get("record-id"))))
    return notices, problems


def parse_metadata_lines(data: bytes, source: str) -> tuple[list[WorkRecord], list[str]]:
    """Records from a JSON-lines file, plus one error string per bad line (the rest still count)."""
    records, _notices, errors = parse_metadata_file(data, source)
    return records, errors


def parse_metadata_file(data: bytes, source: str) -> tuple[list[WorkRecord], list[NoticeRecord], list[str]]:
    """Records and the notices they state (:func:`metadata_notices`) from a JSON-lines file, plus one error string
    per bad line or entry (the rest still count)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedInputError(source, f"metadata file is not UTF-8: {exc}") from None
    records: list[WorkRecord] = []
    notices: list[NoticeRecord] = []
    errors: list[str] = []
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
        found, problems = metadata_notices(obj, rec)
        notices += found
        errors += [f"line {n}: {p}" for p in problems]
    if not records and errors:
        raise MalformedInputError(source, f"no usable metadata records ({errors[0]})")
    return records, notices, errors
