"""OpenAlex work records (one JSON object per line, as the OpenAlex API and snapshot serve them) → WorkRecord.

The fields read follow OpenAlex's published Work object (https://docs.openalex.org/api-entities/works/
work-object): ``id``, ``doi``, ``ids`` (``pmid``, ``pmcid`` as URLs), ``title`` / ``display_name``,
``publication_year``, ``type``, ``primary_location.source.display_name`` (or the older ``host_venue``),
``biblio`` (volume, pages) and ``authorships[]`` — ``author.display_name`` / ``author.orcid``,
``institutions[]`` (``display_name``, ``ror``, ``country_code``), ``countries[]`` and
``raw_affiliation_strings[]``. Authorships become authors with affiliations, which the ingest locates
(``citelens.places``) and stores as the work's places, so knowledge flows can place a cited work whose full
text is not in the index. Every field may be missing or of the wrong type in a hostile file: such a field is
ignored, never an error for the rest of the record.
"""

from __future__ import annotations

from typing import Any

from citelens.document import Affiliation, Author
from citelens.references.identifiers import normalise_doi, normalise_pmcid, normalise_pmid
from citelens.references.resolve import WorkRecord

_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "da", "di", "dos", "du", "la", "le", "ter", "bin"}


def is_openalex_work(rec: dict[str, Any]) -> bool:
    """An OpenAlex Work object: an openalex.org id or an ``authorships`` list."""
    return str(rec.get("id") or "").startswith("https://openalex.org/") or isinstance(rec.get("authorships"), list)


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _text(v: Any) -> str:
    return v.strip() if isinstance(v, str) else str(v) if isinstance(v, int | float) and not isinstance(v, bool) else ""


def split_display_name(name: str) -> tuple[str, str]:
    """(family, given) of a display name: "Heather A. Piwowar" → ("Piwowar", "Heather A."); "Ludwig van
    Beethoven" → ("van Beethoven", "Ludwig"); "Piwowar, Heather" → ("Piwowar", "Heather")."""
    name = " ".join(name.split())
    if "," in name:
        family, _, given = name.partition(",")
        return family.strip(), given.strip()
    words = name.split(" ")
    if len(words) == 1:
        return name, ""
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return " ".join(words[start:]), " ".join(words[:start])


def _affiliations(authorship: dict[str, Any]) -> list[Affiliation]:
    out = []
    for inst in _list(authorship.get("institutions")):
        inst = _dict(inst)
        name, ror, cc = _text(inst.get("display_name")), _text(inst.get("ror")), _text(inst.get("country_code"))
        if name or ror or cc:
            out.append(Affiliation(institution=name, raw=name, ror=ror.rsplit("/", 1)[-1], country=cc.upper()))
    if out:
        return out
    # No institution matched by OpenAlex: the printed affiliation, else the author's countries.
    raw = [s for s in (_text(x) for x in _list(authorship.get("raw_affiliation_strings"))) if s]
    if raw:
        return [Affiliation(raw=s) for s in raw]
    return [Affiliation(country=cc.upper()) for cc in (_text(x) for x in _list(authorship.get("countries"))) if cc]


def _authors(rec: dict[str, Any]) -> list[Author]:
    authors = []
    for authorship in _list(rec.get("authorships")):
        authorship = _dict(authorship)
        person = _dict(authorship.get("author"))
        family, given = split_display_name(_text(person.get("display_name")) or _text(authorship.get("raw_author_name")))
        orcid = _text(person.get("orcid")).rsplit("/", 1)[-1]
        affiliations = _affiliations(authorship)
        if family or given or orcid or affiliations:  # a null or empty authorship names nobody
            authors.append(Author(family=family, given=given, orcid=orcid, affiliations=affiliations))
    return authors


def openalex_record(rec: dict[str, Any]) -> WorkRecord:
    """One OpenAlex Work object as a metadata WorkRecord (authors carry their affiliations)."""
    ids = _dict(rec.get("ids"))
    source = _dict(_dict(rec.get("primary_location")).get("source")) or _dict(rec.get("host_venue"))
    biblio = _dict(rec.get("biblio"))
    first, last = _text(biblio.get("first_page")), _text(biblio.get("last_page"))
    year = rec.get("publication_year")
    return WorkRecord(
        doi=normalise_doi(_text(rec.get("doi")) or _text(ids.get("doi"))),
        pmid=normalise_pmid(_text(ids.get("pmid")).rstrip("/").rsplit("/", 1)[-1]),
        pmcid=normalise_pmcid(_text(ids.get("pmcid")).rstrip("/").rsplit("/", 1)[-1]),
        title=_text(rec.get("title")) or _text(rec.get("display_name")),
        authors=_authors(rec),
        year=year if isinstance(year, int) and not isinstance(year, bool) and 0 < year < 10_000 else None,
        container=_text(source.get("display_name")),
        volume=_text(biblio.get("volume")),
        pages=f"{first}-{last}" if first and last and last != first else first,
        kind="metadata",
        work_type=_text(rec.get("type")),
    )
