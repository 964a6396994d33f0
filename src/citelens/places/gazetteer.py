"""The offline gazetteer: country names, regions, cities and ROR organisations, loaded once from the package.

The data file is built by ``scripts/build_gazetteer.py`` from ``../shared/data/geo`` (licences in
LICENSES.txt beside it). Lookups are by :func:`place_key` (case, accents and punctuation folded), so
"Universität Tübingen" and "Universitat Tubingen" meet.
"""

from __future__ import annotations

import gc
import gzip
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_NON_WORD = re.compile(r"[^\w]+")
# Combining marks of the Basic Multilingual Plane (accents once NFKD has split them off), for str.translate:
# one C pass instead of a Python generator over every character (loading the gazetteer folds ≈ 200,000
# names). Text with characters beyond the BMP takes the generator, so the result is the same for any text.
# Built on first use, not at import (≈ 5 ms that every process importing the pipeline would pay).
@cache
def _drop_combining() -> dict[int, None]:
    return dict.fromkeys(c for c in range(0x10000) if unicodedata.combining(chr(c)))


def place_key(text: str) -> str:
    """Fold case, accents and punctuation: the key every gazetteer lookup uses."""
    if text.isascii():
        # NFKD leaves ASCII as it is: skipping it makes loading the gazetteer (≈ 400,000 names) several
        # times faster, which every ingest and every worker process pays at start-up.
        folded = text.lower().replace("&", " and ")
    else:
        folded = unicodedata.normalize("NFKD", text)
        if max(folded) <= "\uffff":
            folded = folded.translate(_drop_combining())
        else:
            folded = "".join(c for c in folded if not unicodedata.combining(c))
        folded = folded.lower().replace("&", " and ")
    words = _NON_WORD.sub(" ", folded).replace("_", " ").split()
    return " ".join([w for w in words if w != "the"] if "the" in words else words)


@dataclass(frozen=True)
class Organisation:
    ror: str  # the ROR id without its https://ror.org/ prefix
    name: str
    country: str
    region: str
    city: str


@dataclass
class Gazetteer:
    countries: dict[str, str] = field(default_factory=dict)  # key → alpha-2
    country_names: dict[str, str] = field(default_factory=dict)  # alpha-2 → display name
    regions: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # key → [(alpha-2, region)]
    region_abbreviations: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # "MA" → [(US, …)]
    cities: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # key → [(alpha-2, region, name)]
    organisations: dict[str, list[Organisation]] = field(default_factory=dict)  # key → organisations
    by_ror: dict[str, Organisation] = field(default_factory=dict)
    # (city key, alpha-2) → how many ROR organisations are there: the prior when several countries share a name.
    research_weight: dict[tuple[str, str], int] = field(default_factory=dict)


@cache
def gazetteer() -> Gazetteer:
    """The shipped gazetteer (read once per process, about two thirds of a second)."""
    # The cyclic garbage collector is paused while the ≈ 1 million objects are made: nothing here is garbage,
    # yet each collection would walk everything made so far (a quarter of the load time, measured).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_gazetteer()
    finally:
        if was_enabled:
            gc.enable()


def _read_gazetteer() -> Gazetteer:
    g = Gazetteer()
    region_keys: dict[str, str] = {}
    raw = resources.files(__package__).joinpath("gazetteer.tsv.gz").read_bytes()
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        kind, *cols = line.split("\t")
        if kind == "C":
            g.countries.setdefault(place_key(cols[1]), cols[0])
            g.country_names.setdefault(cols[0], cols[1])
        elif kind == "R":
            cc, region, variant = cols
            if variant.isupper() and len(variant) <= 3:
                g.region_abbreviations.setdefault(variant, []).append((cc, region))
            else:
                g.regions.setdefault(place_key(variant), []).append((cc, region))
        elif kind == "T":
            cc, region, name = cols
            g.cities.setdefault(place_key(name), []).append((cc, region, name))
            # A few thousand regions over 34,000 cities: fold each once.
            region_key = region_keys.get(region)
            if region_key is None:
                region_key = region_keys[region] = place_key(region)
            in_region = g.regions.setdefault(region_key, [])
            if (cc, region) not in in_region:
                in_region.append((cc, region))
        elif kind == "K":
            cc, region, name, count = cols
            key = place_key(name)
            g.research_weight[(key, cc)] = g.research_weight.get((key, cc), 0) + int(count)
            # Registry records that give a country as their city ("Ireland") add no city.
            if key not in g.countries and not any(c[0] == cc for c in g.cities.get(key, [])):
                g.cities.setdefault(key, []).append((cc, region, name))
        elif kind == "O":
            ror, cc, region, city, name, variants = cols
            org = Organisation(ror=ror, name=name, country=cc, region=region, city=city)
            g.by_ror[ror] = org
            for v in {name, *(v for v in variants.split("|") if v)}:
                g.organisations.setdefault(place_key(v), []).append(org)
    # Official names win as display names ("United States of America" over "America").
    for cc, name in (("US", "United States"), ("GB", "United Kingdom"), ("KR", "South Korea"), ("CN", "China")):
        g.country_names[cc] = name
    return g
