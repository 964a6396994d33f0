"""How far a citation travels: the distance class of a tie between a citing and a cited work (pure rules).

A work is *located* when at least one of its author affiliations has a country (ISO 3166-1 alpha-2). A tie
between two located works takes the **closest** class over every pair of their places — the economic
geographer's "any co-located inventor" rule: a paper by authors in Lyon and Boston citing a Boston paper is
a same-city tie. The classes, closest first:

* ``same_institution`` — both places have the same ROR id (or, where either lacks one, the same folded
  institution name in the same country);
* ``same_city`` — same country and same (folded) city name, unless the two places name different regions
  (Rochester, Minnesota and Rochester, New York are two cities);
* ``same_region`` — same country and same (folded) region / state name;
* ``same_country`` — same ISO country code;
* ``international`` — different countries.

A tie is *local at level L* (``institution``, ``city``, ``region`` or ``country``) when its class is L's
class or a closer one: a same-city tie is local at the city, region and country levels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from citelens.references.resolve import fold

DISTANCES: tuple[str, ...] = ("same_institution", "same_city", "same_region", "same_country", "international")
LEVELS: tuple[str, ...] = ("institution", "city", "region", "country")
# The distance class that means "the same unit" at each level.
LEVEL_DISTANCE = dict(zip(LEVELS, DISTANCES[:4], strict=True))


@dataclass(frozen=True)
class Place:
    """Where one author affiliation is: as the places stage located it (``citelens.places``)."""

    institution: str = ""
    ror: str = ""
    city: str = ""
    region: str = ""
    country: str = ""  # ISO alpha-2; "" = not located

    @property
    def located(self) -> bool:
        return bool(self.country)

    def unit(self, level: str) -> str:
        """This place's unit at ``level`` as a stable key ("ror:03vek6s52", "US|massachusetts|boston",
        "US|massachusetts", "US"), or "" when the place does not say (a place without a city has no city unit).

        A city is keyed by country, region and name ("US|minnesota|rochester" and "US|new york|rochester" are
        two cities); the region is empty where the place does not know it ("US||rochester")."""
        if not self.country:
            return ""
        if level == "country":
            return self.country
        if level == "institution":
            if self.ror:
                return f"ror:{self.ror}"
            name = fold(self.institution)
            return f"{self.country}|{name}" if name else ""
        if level == "city":
            city = fold(self.city)
            return f"{self.country}|{fold(self.region)}|{city}" if city else ""
        if level != "region":
            raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
        region = fold(self.region)
        return f"{self.country}|{region}" if region else ""

    def label(self, level: str) -> str:
        """A human label for this place's unit at ``level`` ("Harvard University", "Boston, Massachusetts, US",
        "Massachusetts, US", "US")."""
        if level == "country":
            return self.country
        if level == "institution":
            return self.institution or self.ror
        if level == "city":
            return ", ".join(x for x in (self.city, self.region, self.country) if x) if self.city else ""
        return f"{self.region}, {self.country}" if self.region else ""


PlaceKey = tuple[str, str, str, str, str]


def place_key(p: Place) -> PlaceKey:
    """What the distance rules compare, folded once: (country, ROR id, institution, city, region)."""
    return (p.country, p.ror, fold(p.institution), fold(p.city), fold(p.region))


def _rank(a: PlaceKey, b: PlaceKey) -> int:
    """Index into DISTANCES of two located places' class (both have a country)."""
    if a[0] != b[0]:
        return 4
    if (a[1] == b[1]) if (a[1] and b[1]) else (bool(a[2]) and a[2] == b[2]):
        return 0
    if a[3] and a[3] == b[3] and not (a[4] and b[4] and a[4] != b[4]):  # Rochester MN is not Rochester NY
        return 1
    if a[4] and a[4] == b[4]:
        return 2
    return 3


def place_distance(a: Place, b: Place) -> str | None:
    """The distance class between two places; None when either has no country."""
    if not (a.country and b.country):
        return None
    return DISTANCES[_rank(place_key(a), place_key(b))]


def key_distance(citing: Iterable[PlaceKey], cited: Iterable[PlaceKey]) -> str | None:
    """``tie_distance`` over places already turned into keys (``place_key``): what a whole-index scan calls."""
    cited_keys = [k for k in cited if k[0]]
    best = 5
    for a in citing:
        if not a[0]:
            continue
        for b in cited_keys:
            r = _rank(a, b)
            if r < best:
                best = r
                if r == 0:
                    return DISTANCES[0]
    return DISTANCES[best] if best < 5 else None


def tie_distance(citing: Iterable[Place], cited: Iterable[Place]) -> str | None:
    """The closest distance class over every (citing place, cited place) pair; None when either side has no
    located place (the statement is then not a tie)."""
    return key_distance([place_key(p) for p in citing], [place_key(p) for p in cited])


def is_local(distance: str, level: str) -> bool:
    """Whether a tie of class ``distance`` stays within one unit at ``level`` (same unit or closer)."""
    if level not in LEVEL_DISTANCE:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    return DISTANCES.index(distance) <= DISTANCES.index(LEVEL_DISTANCE[level])
