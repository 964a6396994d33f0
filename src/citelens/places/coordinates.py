"""Where places are on a map: the offline coordinates the knowledge-flow map draws with.

Built by ``scripts/build_coordinates.py`` from the ROR records of ``../shared/data/geo`` (CC0; see
LICENSES.txt): a city's, region's or country's point is the median position of its research organisations
(0.1° precision), keyed as a flow unit keys places (country code, folded region and name). The 2° cells that hold
any organisation are the map's backdrop; nothing else (no coastlines, no shapefile) is shipped.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

LatLng = tuple[float, float]


# Of the organisations in places of one name in a country, the share that must be in one region for a city whose
# region is not known to be put there (Cambridge without a state: Massachusetts).
_DOMINANT_SHARE = 0.75


@dataclass
class Coordinates:
    cities: dict[tuple[str, str, str], LatLng] = field(default_factory=dict)  # (alpha-2, folded region, city) →
    # (alpha-2, folded city) → [(folded region, organisations)]: the regions a city name is in
    city_regions: dict[tuple[str, str], list[tuple[str, int]]] = field(default_factory=dict)
    regions: dict[tuple[str, str], LatLng] = field(default_factory=dict)  # (alpha-2, folded region) →
    countries: dict[str, LatLng] = field(default_factory=dict)  # alpha-2 →
    cells: list[tuple[int, int]] = field(default_factory=list)  # south-west corners of occupied cells
    cell_degrees: int = 2


@cache
def coordinates() -> Coordinates:
    """The shipped coordinates (read once per process, a few milliseconds)."""
    out = Coordinates()
    raw = resources.files(__package__).joinpath("coordinates.tsv.gz").read_bytes()
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        kind, *cols = line.split("\t")
        if kind == "T":
            out.cities[(cols[0], cols[1], cols[2])] = (float(cols[3]), float(cols[4]))
            out.city_regions.setdefault((cols[0], cols[2]), []).append((cols[1], int(cols[5])))
        elif kind == "R":
            out.regions[(cols[0], cols[1])] = (float(cols[2]), float(cols[3]))
        elif kind == "C":
            out.countries[cols[0]] = (float(cols[1]), float(cols[2]))
        elif kind == "G":
            out.cells.append((int(cols[0]), int(cols[1])))
    return out


def city_position(c: Coordinates, country: str, region: str, city: str) -> LatLng | None:
    """Where a city (folded region and name) is: its own point. Otherwise, when the region is not known or is
    spelt otherwise than the registry spells it ("state of vienna", "takao", "vaesterbotten"), at the region
    whose name is alike, else at the region that holds three quarters of the registry's organisations of that
    name that have a region (Cambridge, US: Massachusetts); where the registry gives none of them a region,
    at their point. A city in a region the registry knows under that name but not with that city is a namesake
    town there, not drawn (Rochester, Washington is neither Rochester, Minnesota nor Rochester, New York; Halle
    in North Rhine-Westphalia is not Halle in Saxony-Anhalt); nor is a name split between regions."""
    found = c.cities.get((country, region, city)) if region else None
    if found is not None:
        return found
    known = [(r, n) for r, n in c.city_regions.get((country, city), []) if r]
    if not known:  # the registry knows the name's organisations but none of their regions
        return c.cities.get((country, "", city))
    if region:
        alike = [r for r, _ in known if _alike(r, region)]
        if len(alike) == 1:
            return c.cities[(country, alike[0], city)]
        if (country, region) in c.regions:
            return None
    best = max(known, key=lambda r: r[1])
    return c.cities[(country, best[0], city)] if best[1] >= _DOMINANT_SHARE * sum(n for _, n in known) else None


_GENERIC_REGION_WORDS = frozenset({"state", "of", "region", "province", "county", "district", "prefecture", "do",
                                   "city", "governorate", "oblast", "kraj", "the", "autonomous", "community"})


def _alike(a: str, b: str) -> bool:
    """Two folded region names that name one region: "state of vienna" and "vienna", "vaesterbotten" and
    "vasterbotten" (German transliteration), "gyeonggi do" and "gyeonggi"."""
    def words(s: str) -> list[str]:
        for x, y in (("ae", "a"), ("oe", "o"), ("ue", "u")):
            s = s.replace(x, y)
        return [w for w in s.split() if w not in _GENERIC_REGION_WORDS]

    wa, wb = words(a), words(b)
    return bool(wa) and wa == wb
