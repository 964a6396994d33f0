"""The locate stage: place every author affiliation of a Document (runs after parse, before store)."""

from __future__ import annotations

from collections.abc import Iterable

from citelens.document import Author, Document
from citelens.places.locate import locate_affiliation


def locate_authors(doc: Document) -> None:
    """Fill institution, city, region, ROR id and ISO country code of each author affiliation in place."""
    locate_author_affiliations(doc.authors)


def locate_author_affiliations(authors: Iterable[Author]) -> None:
    """``locate_authors`` for any authors (an imported metadata record's, say)."""
    for author in authors:
        for aff in author.affiliations:
            if not (aff.raw or aff.institution or aff.country):
                continue
            loc = locate_affiliation(aff.raw or ", ".join(x for x in (aff.institution, aff.country) if x),
                                     institution=aff.institution, country=aff.country_code or aff.country, city=aff.city,
                                     region=aff.region, ror=aff.ror)
            aff.institution = loc.institution or aff.institution  # the organisation, not its department
            aff.city, aff.region, aff.ror, aff.country_code = loc.city, loc.region, loc.ror, loc.country
