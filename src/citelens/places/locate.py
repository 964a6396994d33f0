"""Affiliation → institution, city, region, country (ISO 3166-1 alpha-2) and ROR id, offline.

Tags win where the source has them (JATS ``<country>``, ``<institution>``, ``<addr-line>``, an institution id
of type ROR; TEI ``<country key=…>``, ``<settlement>``, ``<region>``); the rest is read from the free text:
the address is split at commas and semicolons and read from the end (affiliations end in the country),
postcodes and e-mail addresses are dropped, and each part is looked up in the gazetteer — country names
first, then US/Canadian/Australian state abbreviations beside a postcode, region names, cities, and ROR
organisation names. No library does this for affiliation strings offline (libpostal needs a 2 GB model
download and knows nothing of ROR), so it is written here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from citelens.places.gazetteer import Organisation, gazetteer, place_key

_EMAIL = re.compile(r"\S+@\S+")
_IDENTIFIER = re.compile(r"https?://\S+|\bgrid\.\d+\.\w+|\b\d{4} \d{4} \d{4} \d{3}[\dX]\b|\be-?mail:?", re.I)
_HAS_DIGIT = re.compile(r"\d")
_ORG_WORDS = re.compile(
    r"universit|institut|college|school|hospital|academy|acad[eé]mie|centre|center|laborator|council|"
    r"ministry|agency|foundation|hochschule|polytechn|klinik|clinic|museum|observatory|survey|service|"
    r"corporation|company|inc\b|ltd\b|gmbh|organi[sz]ation|société|consiglio|csic|cnrs|inra|nih\b", re.I)
_UNIT_WORDS = re.compile(r"^(department|dept|division|faculty|school|laboratory|lab|unit|section|group|"
                         r"program|programme|key laboratory|state key|graduate school|institute of)\b", re.I)
_US_ZIP = re.compile(r"\b([A-Z]{2})\s+\d{5}(?:-\d{4})?\b")
_CA_POSTCODE = re.compile(r"\b([A-Z]{2})\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d\b")
_AU_POSTCODE = re.compile(r"\b(NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+\d{4}\b")


_CHINESE_TERRITORIES = ("HK", "MO", "TW")


@dataclass(frozen=True)
class Location:
    institution: str = ""
    ror: str = ""
    city: str = ""
    region: str = ""
    country: str = ""  # ISO 3166-1 alpha-2, or "" when unknown


def country_code(name: str, *, allow_code: bool = True) -> str:
    """ISO alpha-2 for a country name or code as affiliations write it ("P.R. China", "USA", "DE"), else "".

    ``allow_code=False`` for free text, where "MA 02138" is Massachusetts, not Morocco.
    """
    name = name.strip().rstrip(".")
    if allow_code and len(name) == 2 and name.isalpha() and name.isupper() and name in gazetteer().country_names:
        return name
    return gazetteer().countries.get(place_key(name), "")


def _parts(raw: str) -> list[str]:
    text = _IDENTIFIER.sub(" ", _EMAIL.sub(" ", raw))
    text = re.sub(r"\([^)]*\)", " ", text)  # "(Y.-S.S.)", "(ROC)": initials and asides
    return [p.strip(" .;:") for p in re.split(r"[,;\n]", text) if p.strip(" .;:")]


def _words_without_codes(part: str) -> list[str]:
    return [w for w in part.split() if not _HAS_DIGIT.search(w)]


def _country_in(part: str) -> str:
    """The country a part names, also at its end ("Galway H91 CF50 Ireland", "Beijing 100081 China")."""
    words = _words_without_codes(part)
    for n in range(min(6, len(words)), 0, -1):
        cc = country_code(" ".join(words[-n:]), allow_code=False)
        if cc:
            return cc
    return ""


def _organisation(candidates: list[str], country: str) -> Organisation | None:
    orgs = gazetteer().organisations
    for cand in candidates:
        found = orgs.get(place_key(cand))
        if not found:
            continue
        in_country = [o for o in found if not country or o.country == country]
        if len(in_country) == 1 or (in_country and len({o.ror for o in in_country}) == 1):
            return in_country[0]
    return None


def _city(parts: list[str], country: str) -> tuple[str, str, str]:
    """(city, region, country) of the last part that names a city, preferring cities in ``country``."""
    cities = gazetteer().cities
    for part in reversed(parts):
        words = _words_without_codes(part)
        for n in range(min(4, len(words)), 0, -1):
            for start in (len(words) - n, 0):  # "Suwon 16419" / "Haidian District Beijing"
                found = cities.get(place_key(" ".join(words[start:start + n])))
                if not found:
                    continue
                if country:
                    found = [c for c in found if c[0] == country]
                if found and len({c[0] for c in found}) == 1:
                    regions = {c[1] for c in found}
                    return found[0][2], (found[0][1] if len(regions) == 1 else ""), found[0][0]
    return "", "", ""


def _region(parts: list[str], raw: str, country: str) -> tuple[str, str]:
    g = gazetteer()
    for pattern in (_US_ZIP, _CA_POSTCODE, _AU_POSTCODE):
        for m in pattern.finditer(raw):
            found = [r for r in g.region_abbreviations.get(m.group(1), []) if not country or r[0] == country]
            if len(found) == 1:
                return found[0][1], found[0][0]
    for part in reversed(parts):
        words = _words_without_codes(part)
        if len(words) == 1 and words[0] in g.region_abbreviations and words[0].isupper():
            found = [r for r in g.region_abbreviations[words[0]] if not country or r[0] == country]
            if len(found) == 1:
                return found[0][1], found[0][0]
        found = [r for r in g.regions.get(place_key(" ".join(words)), []) if not country or r[0] == country]
        if len({r[0] for r in found}) == 1 and len(found) == 1:
            return found[0][1], found[0][0]
    return "", ""


def _institution(parts: list[str]) -> str:
    """The organisation part of an address: a university, else the last top-level organisation part."""
    orgs = [p for p in parts if _ORG_WORDS.search(p) and not _HAS_DIGIT.search(p)]
    top = [p for p in orgs if not _UNIT_WORDS.match(p)]
    universities = [p for p in top if re.search(r"universit", p, re.I)]
    return (universities or top[-1:] or orgs[:1] or parts[:1] or [""])[0]


def locate_affiliation(raw: str, *, institution: str = "", country: str = "", city: str = "",
                       region: str = "", ror: str = "") -> Location:
    """Place one affiliation. Keyword arguments are what the source tagged; ``raw`` is the full text."""
    g = gazetteer()
    parts = _parts(raw)
    # A tag may hold more than the country ("Barcelona, Spain"): its last part then names it.
    cc = (country_code(country) or _country_in(country.split(",")[-1])) if country else ""
    if not cc:
        for i in range(len(parts) - 1, -1, -1):
            cc = _country_in(parts[i])
            if cc:
                # "Hong Kong, China", "Macau SAR, China": the territory has its own ISO code.
                before = _country_in(parts[i - 1]) if i else ""
                if cc == "CN" and before in _CHINESE_TERRITORIES:
                    cc = before
                break
    ror = ror.rsplit("/", 1)[-1].strip()
    org = g.by_ror.get(ror) if ror else None
    if org is None:
        tagged = [s.strip(" ,") for s in institution.split(",") if s.strip(" ,")] if institution else []
        org = _organisation([*reversed(tagged), *reversed(parts)], cc)
    # JATS often tags the department and the organisation as two <institution>s: keep the organisation.
    inst = _institution([s.strip(" ,") for s in institution.split(",") if s.strip(" ,")]) if institution \
        else _institution(parts)
    found_city, city_region, city_cc = ("", "", "")
    if city:
        found_city, city_region, city_cc = _city([city], cc)
        found_city = found_city or city.strip()
    if not found_city:
        found_city, city_region, city_cc = _city([p for p in parts if p != inst], cc)
    reg, reg_cc = (region.strip(), cc) if region else _region(parts, raw, cc)
    if not cc:
        cc = reg_cc or city_cc or (org.country if org else "")
    if org is not None and org.country != cc:
        org = None
    if org is not None and not found_city:
        found_city, city_region = org.city, org.region
    return Location(institution=org.name if org is not None and not inst else inst,
                    ror=org.ror if org is not None else "",
                    city=found_city if (not cc or city_cc in ("", cc)) else "",
                    region=reg or city_region or (org.region if org is not None else ""),
                    country=cc)
