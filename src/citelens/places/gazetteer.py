"""The offline gazetteer: country names, regions, cities and ROR organisations, loaded once from the package.

The data file is built by ``scripts/build_gazetteer.py`` from ``../shared/data/geo`` (licences in
LICENSES.txt beside it). Lookups are by :func:`place_key` (case, accents and punctuation folded), so
"Universität Tübingen" and "Universitat Tubingen" meet.

Beside it ships the keys of its ≈ 180,000 names (``gazetteer-keys.txt.gz``, written by the same script with
:func:`key_file_text`): folding them was two thirds of the load time, which every ingest pays at start-up. The
key file names the digest of the data file it was made from; with another data file (or none) the keys are
folded at load as before, so a stale key file can slow loading but never change a lookup.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

DATA_FILE = "gazetteer.tsv.gz"
KEYS_FILE = "gazetteer-keys.txt.gz"
# In the key file: the name's key is the name lower-cased (seven names in ten). place_key never leaves an "="
# (punctuation folds to a space), so the mark cannot be mistaken for a key.
_SAME_AS_LOWER = "="
_KEY_SEP = "\t"
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
        # NFKD leaves ASCII as it is: skipping it makes folding several times faster (lookups fold every candidate
        # name; a gazetteer without its key file folds ≈ 180,000 names at load).
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
    # (city key, alpha-2) → (region, organisations in it, organisations with a region): where the registry's
    # organisations in places of that name are, the prior when several regions share a name (Changsha: Hunan).
    registry_region: dict[tuple[str, str], tuple[str, int, int]] = field(default_factory=dict)
    # (city key, alpha-2) of the cities only the registry names (no GeoNames town of that name in the country):
    # some are a province recorded as a city ("Ontario", "Kanagawa", "Henan").
    registry_only_cities: set[tuple[str, str]] = field(default_factory=set)


@cache
def gazetteer() -> Gazetteer:
    """The shipped gazetteer (read once per process: ≈ 0.4 s of CPU with its key file, 0.65-0.75 s without, 2026-12-04)."""
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
    package = resources.files(__package__)
    raw = package.joinpath(DATA_FILE).read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    shipped = _shipped_keys(package, raw, len(lines))
    if shipped is None:
        shipped = [_KEY_SEP.join(place_key(n) for n in _key_names(*_kind_cols(line))) for line in lines]
    g = Gazetteer()
    same = _SAME_AS_LOWER
    for line, row in zip(lines, shipped, strict=True):
        kind, *cols = line.split("\t")
        if kind == "O":
            ror, cc, region, city, name, variants = cols
            org = Organisation(ror=ror, name=name, country=cc, region=region, city=city)
            g.by_ror[ror] = org
            if row == same:  # one name, its key the name lower-cased (most organisations)
                g.organisations.setdefault(name.lower(), []).append(org)
                continue
            names = _key_names(kind, cols)
            for n, key in zip(names, row.split(_KEY_SEP), strict=True):
                g.organisations.setdefault(n.lower() if key == same else key, []).append(org)
        elif kind == "T":
            cc, region, name = cols
            city_key, region_key = row.split(_KEY_SEP)
            g.cities.setdefault(name.lower() if city_key == same else city_key, []).append((cc, region, name))
            in_region = g.regions.setdefault(region.lower() if region_key == same else region_key, [])
            if (cc, region) not in in_region:
                in_region.append((cc, region))
        elif kind == "K":
            cc, region, name, count, main_region, in_main, with_region = cols
            key = name.lower() if row == same else row
            g.research_weight[(key, cc)] = g.research_weight.get((key, cc), 0) + int(count)
            if main_region:
                g.registry_region[(key, cc)] = (main_region, int(in_main), int(with_region))
            # Registry records that give a country as their city ("Ireland") add no city.
            if key not in g.countries and not any(c[0] == cc for c in g.cities.get(key, [])):
                g.cities.setdefault(key, []).append((cc, region, name))
                g.registry_only_cities.add((key, cc))
        elif kind == "C":
            g.countries.setdefault(cols[1].lower() if row == same else row, cols[0])
            g.country_names.setdefault(cols[0], cols[1])
        elif kind == "R":
            cc, region, variant = cols
            if variant.isupper() and len(variant) <= 3:
                g.region_abbreviations.setdefault(variant, []).append((cc, region))
            else:
                g.regions.setdefault(variant.lower() if row == same else row, []).append((cc, region))
    # Official names win as display names ("United States of America" over "America").
    for cc, name in (("US", "United States"), ("GB", "United Kingdom"), ("KR", "South Korea"), ("CN", "China")):
        g.country_names[cc] = name
    _merge_city_aliases(g)
    return g


_CITY_SUFFIX = " city"


def _merge_city_aliases(g: Gazetteer) -> None:
    """One city, one name: "X City" and "X" in the same country and region, one of them a name only the registry
    uses (GeoNames' "New York City" is ROR's "New York"; ROR's "Chiyoda City" and "Puebla City" are GeoNames'
    "Chiyoda" and "Puebla"), are one city, named as most of the registry's organisations there name it (ties:
    the shorter name). Two GeoNames towns ("Union City" and "Union", New Jersey) stay two."""
    only = g.registry_only_cities
    for key in [k for k in g.cities if k.endswith(_CITY_SUFFIX)]:
        base = key[:-len(_CITY_SUFFIX)]
        long_rows, short_rows = g.cities[key], g.cities.get(base)
        if not short_rows:
            continue
        for i, (cc, region, long_name) in enumerate(long_rows):
            if (key, cc) not in only and (base, cc) not in only:
                continue
            for j, (cc2, region2, short_name) in enumerate(short_rows):
                if cc2 != cc or place_key(region2) != place_key(region):
                    continue
                w_long, w_short = g.research_weight.get((key, cc), 0), g.research_weight.get((base, cc), 0)
                name = long_name if w_long > w_short else short_name
                long_rows[i], short_rows[j] = (cc, region, name), (cc2, region2, name)


def _kind_cols(line: str) -> tuple[str, list[str]]:
    kind, *cols = line.split("\t")
    return kind, cols


def _key_names(kind: str, cols: list[str]) -> list[str]:
    """The names of one data-file line that lookups fold to keys, in the order the loader reads them: a country's
    or region's variant; a city's name, then its region; an organisation's distinct names (official first)."""
    if kind == "C":
        return [cols[1]]
    if kind == "R":
        return [cols[2]]
    if kind == "T":
        return [cols[2], cols[1]]
    if kind == "K":
        return [cols[2]]
    if kind == "O":
        return list(dict.fromkeys([cols[4], *(v for v in cols[5].split("|") if v)]))
    return []


def _header(raw: bytes) -> str:
    """The key file's first line: which data file (by its digest) the keys were made from."""
    return f"# keys of {DATA_FILE} sha256:{hashlib.sha256(raw).hexdigest()}"


def key_file_text(raw: bytes) -> str:
    """The key file for the gzipped data file ``raw``: a header naming its digest, then one line per data line
    with the keys of :func:`_key_names` separated by tabs (``=`` where a key is the name lower-cased)."""
    out = [_header(raw)]
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        keys = ((n, place_key(n)) for n in _key_names(*_kind_cols(line)))
        out.append(_KEY_SEP.join(_SAME_AS_LOWER if k == n.lower() else k for n, k in keys))
    return "\n".join(out) + "\n"


def _shipped_keys(package, raw: bytes, n_lines: int) -> list[str] | None:  # noqa: ANN001 - a Traversable
    """The key file's rows, one per data line (keys separated by tabs); None when the file is missing or was made
    from another data file."""
    try:
        text = gzip.decompress(package.joinpath(KEYS_FILE).read_bytes()).decode("utf-8")
    except (FileNotFoundError, OSError, EOFError, UnicodeDecodeError):
        return None
    header, _, body = text.partition("\n")
    rows = body.split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    if header != _header(raw) or len(rows) != n_lines:
        return None
    return rows
