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
# Words of a tagged "city" that is a unit, not a place ("Virology Division", "UMR 228", "Unidad de …").
_NOT_A_CITY = re.compile(r"\b(department|dept|division|unit|unité|unidad|umr|programme|program)\b", re.I)
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
    """The country a part names, also at its end ("Galway H91 CF50 Ireland", "Beijing 100081 China").

    Not when the name ends a longer place name: "New Mexico", "New South Wales", "Nova Scotia".
    """
    g = gazetteer()
    words = _words_without_codes(part)
    for n in range(min(6, len(words)), 0, -1):
        cc = country_code(" ".join(words[-n:]), allow_code=False)
        if cc:
            longer = place_key(" ".join(words[-n - 1:])) if n < len(words) else ""
            if longer and (longer in g.regions or longer in g.cities) and longer not in g.countries:
                return ""
            return cc
    return ""


def _names_organisation(part: str) -> bool:
    """'University of Georgia', 'Royal College of Surgeons in Ireland': a country inside a name is no address."""
    return bool(_ORG_WORDS.search(part)) and len(_words_without_codes(part)) > 1


def _explicit_country(parts: list[str]) -> str:
    """The country the address writes out, read from its end; territories before 'China' keep their own code.

    Not past a state or province at the end: "St Lucia, QLD" is in Australia, not Saint Lucia.
    """
    g = gazetteer()
    for i in range(len(parts) - 1, -1, -1):
        if _names_organisation(parts[i]):
            continue
        cc = _country_in(parts[i])
        if cc:
            # "Hong Kong, China", "Macau SAR, China": the territory has its own ISO code.
            before = _country_in(parts[i - 1]) if i else ""
            return before if cc == "CN" and before in _CHINESE_TERRITORIES else cc
        words = _words_without_codes(parts[i])
        if len(words) == 1 and words[0].isupper() and words[0] in g.region_abbreviations:
            return ""
    return ""


_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b")
_CA_POSTCODE_ALONE = re.compile(r"\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b")
_GERMAN_SPELLING = (("ue", "u"), ("oe", "o"), ("ae", "a"))
_DOMINANT_SHARE = 0.75  # of the ROR organisations in places of one name, for it to mean one country (or region)


def _place_candidates(key: str, table: dict[str, list[tuple[str, str, str]]]) -> list[tuple[str, str, str]]:
    if set(key.split()) <= _GENERIC_ORG_WORDS:  # "University" (Florida) in "Iwate University"
        return []
    found = table.get(key)
    if not found and any(a in key for a, _ in _GERMAN_SPELLING):  # "Tuebingen" for "Tübingen"
        for a, b in _GERMAN_SPELLING:
            key = key.replace(a, b)
        found = table.get(key)
    if key.startswith(("saint ", "st ")):  # "Saint Louis" for "St. Louis" and back
        other = table.get(("st " if key.startswith("saint ") else "saint ") + key.split(" ", 1)[1])
        found = [*(found or []), *(other or [])]
    return found or []


def likely_country(countries: set[str], key: str) -> str:
    """The one country a place name shared by ``countries`` most likely means, or "" when it is a toss-up.

    The prior is research activity: how many ROR organisations each country has in a place of that name
    (Vienna: Austria 219, United States 4; Cambridge: United Kingdom 94, United States 90 → undecided).
    """
    if len(countries) == 1:
        return next(iter(countries))
    weights = {cc: gazetteer().research_weight.get((key, cc), 0) for cc in countries}
    total = sum(weights.values())
    best = max(weights, key=lambda cc: weights[cc]) if total else ""
    return best if total >= 3 and weights[best] >= _DOMINANT_SHARE * total else ""


def _city_evidence(part: str, hinted: set[str]) -> tuple[str, bool]:
    """The country of the longest city name in a part ("Suwon 16419", "Haidian District Beijing"), and
    whether that name is the whole part (a partial match, "Alpine Skiing", is a weaker clue).

    A name several countries share goes to the country the rest of the address hints at ("Athens, GA",
    "London, ON"), else to the country with most research organisations in a place of that name.
    """
    words = _words_without_codes(part)
    for n in range(min(4, len(words)), 0, -1):
        for start in sorted({len(words) - n, 0}, reverse=True):
            key = place_key(" ".join(words[start:start + n]))
            found = _place_candidates(key, gazetteer().cities)
            if found:
                countries = {c[0] for c in found}
                return likely_country((countries & hinted) or countries, key), n == len(words)
    return "", False


# Generic words of organisation names: a ROR name made only of these ("Institute of Science and Technology",
# "Ministry of Agriculture") is a weak clue, since many countries have one and the registry holds a subset.
_GENERIC_ORG_WORDS = frozenset({
    "a", "and", "de", "del", "der", "des", "di", "du", "for", "in", "of", "on", "the", "y", "academy",
    "agricultural", "agriculture", "biology", "center", "centre", "college", "council", "department", "economics",
    "education", "engineering", "federal", "foundation", "general", "government", "health", "higher", "hospital",
    "institute", "international", "laboratory", "medical", "medicine", "ministry", "national", "public",
    "research", "school", "science", "sciences", "state", "studies", "survey", "technical", "technology",
    "university"})


def infer_country(parts: list[str], raw: str) -> str:
    """The country of an address that does not name one, by weighing what it does name.

    Postcodes with their state or province (3), cities (2.5 for a part that is a city name, 1.5 for one that
    starts or ends with one, 1 inside an organisation's name; a name several countries share goes to the one
    the rest hints at, else to the one with most research organisations there), state abbreviations, other
    postcodes and ROR organisation names (2; 1 for a name of generic words only: the registry we ship holds
    a subset, and international organisations have sites in many countries), regions (1), and a country
    named inside an organisation's name (1, "University of the Philippines"). The highest total wins; a tie
    is no answer (a wrong country is worse than none).
    """
    g = gazetteer()
    score: dict[str, float] = {}

    def add(cc: str, weight: float) -> None:
        if cc:
            score[cc] = score.get(cc, 0.0) + weight

    for pattern in (_US_ZIP, _CA_POSTCODE, _AU_POSTCODE):
        for m in pattern.finditer(raw):
            ccs = {r[0] for r in g.region_abbreviations.get(m.group(1), [])}
            if len(ccs) == 1:
                add(next(iter(ccs)), 3)
    if _CA_POSTCODE_ALONE.search(raw):
        add("CA", 2)
    if _UK_POSTCODE.search(raw):
        add("GB", 2)
    places: list[tuple[str, list[str]]] = []
    for part in parts:
        words = _words_without_codes(part)
        orgs = [] if _UNIT_WORDS.match(part) else (
            g.organisations.get(place_key(part)) or g.organisations.get(place_key(" ".join(words))))
        if orgs and len({o.country for o in orgs}) == 1:
            generic = set(place_key(orgs[0].name).split()) <= _GENERIC_ORG_WORDS
            add(orgs[0].country, 1 if generic else 2)
            continue
        if len(words) == 1 and words[0].isupper() and words[0] in g.region_abbreviations:  # "WA", "QLD"
            ccs = {r[0] for r in g.region_abbreviations[words[0]]}
            for cc in ccs:
                add(cc, 2 / len(ccs))
            continue
        if _names_organisation(part):
            inner = set(_inner_country_names(words))
            add(_country_in(part) or (next(iter(inner)) if len(inner) == 1 else "") or _city_evidence(part, set())[0], 1)
            continue
        places.append((part, words))
    hinted = set(score)
    for part, words in places:
        city_cc, whole = _city_evidence(part, hinted)
        add(city_cc, 2.5 if whole else 1.5)
        regions = {r[0] for r in g.regions.get(place_key(" ".join(words)), [])}
        if len(regions) == 1 and next(iter(regions)) != city_cc:
            add(next(iter(regions)), 1)
    if not score:
        return ""
    ranked = sorted(score.items(), key=lambda kv: -kv[1])
    return ranked[0][0] if len(ranked) == 1 or ranked[0][1] > ranked[1][1] else ""


def _inner_country_names(words: list[str]) -> list[str]:
    """Countries named inside a phrase ('Zambia Agriculture Research Institute' → ['ZM'])."""
    out = []
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            cc = country_code(" ".join(words[i:i + n]), allow_code=False)
            if cc and len(words[i]) > 2:
                out.append(cc)
        if out:
            return out
    return out


def _names_region(name: str, country: str) -> bool:
    """Whether a first-level region of ``country`` is named in ``name`` ("University of California")."""
    regions = gazetteer().regions
    words = place_key(name).split()
    return any(any(cc == country for cc, _ in regions.get(" ".join(words[i:i + n]), []))
               for n in (1, 2, 3) for i in range(len(words) - n + 1))


def _organisation(candidates: list[str], country: str) -> Organisation | None:
    """The registry organisation the first candidate that names one names. A candidate that is a place name
    ("Providence", an alias of Providence College) names the place, not an organisation."""
    g = gazetteer()
    orgs = g.organisations
    for cand in candidates:
        key = place_key(cand)
        found = orgs.get(key)
        if not found or key in g.cities or key in g.regions or key in g.countries:
            continue
        in_country = [o for o in found if not country or o.country == country]
        if len(in_country) == 1 or (in_country and len({o.ror for o in in_country}) == 1):
            return in_country[0]
    return None


def _city(parts: list[str], country: str) -> tuple[str, str, str]:
    """(city, region, country) of the last part that names a city, preferring cities in ``country``.

    A name that is a first-level region of ``country`` and a city only the registry knows ("Ontario",
    "California", "Kanagawa", "Henan": ROR records some organisations' province as their city) or a city
    in another region ("Ibaraki", Osaka, for the prefecture Ibaraki) is the region when a part before it
    names a city in that region ("Toronto, Ontario", "Tsukuba, Ibaraki 305-0006"), and the city only when
    none does — unless the part just before it is a town the gazetteer does not know in that region
    ("Smalltown, Washington" is somewhere in the state of Washington, not in the city of Washington, DC:
    then no city). A region's own town ("Beijing", "Tokyo", "Madrid") stays the city.
    """
    g = gazetteer()
    cities = g.cities
    deferred: tuple[str, str, str] | None = None
    deferred_region = ""
    deferred_at, deferred_name = -1, ""
    deferred_own = False  # the deferred city is the region's own ("Quebec" for Québec City, in Quebec)
    deferred_key = ""
    for at in range(len(parts) - 1, -1, -1):
        part = parts[at]
        words = _words_without_codes(part)
        named = False  # whether the part names a city of the country
        # Within a part that is a region's whole name, a shorter name is a city of that region only: "District
        # of Columbia" is not Columbia, Maryland ("Can Tho City" is Cần Thơ, in Can Tho City).
        whole_region = (_region_named(words, country)[0] if country and len(words) > 1 else "")
        for n in range(min(4, len(words)), 0, -1):
            for start in (len(words) - n, 0):  # "Suwon 16419" / "Haidian District Beijing"
                key = place_key(" ".join(words[start:start + n]))
                found = cities.get(key)
                if not found:
                    continue
                if country:
                    found = [c for c in found if c[0] == country]
                if whole_region and n < len(words):
                    found = [c for c in found if place_key(c[1]) == place_key(whole_region)]
                if deferred_own and (n < len(words) or _WARD.search(part)):
                    # Before the region's own city, only a whole part names another city: not a word of an
                    # organisation or a street ("Universidad Europea de Madrid", "Rua do Matão 277"), nor one of
                    # the city's wards ("Sakyo-ku, Kyoto").
                    found = []
                named = named or bool(found)
                if deferred is not None:  # only a city in the region the address named
                    found = [c for c in found if place_key(c[1]) == deferred_region]
                if found and len({c[0] for c in found}) == 1:
                    regions = {c[1] for c in found}
                    result = found[0][2], (found[0][1] if len(regions) == 1 else ""), found[0][0]
                    region = next((r for cc, r in g.regions.get(key, []) if cc == country), "")
                    own = bool(region) and (key, country) not in g.registry_only_cities and \
                        any(place_key(c[1]) == place_key(region) for c in found)
                    if own and (country, place_key(region)) in _CITY_REGIONS:
                        region = ""  # a city that is its region: "Beijing", "Tokyo", "Berlin"
                    if deferred is None and region:
                        deferred, deferred_region, deferred_at = result, place_key(region), at
                        deferred_name, deferred_own, deferred_key = region, own, key
                        continue
                    if deferred is not None and key in (deferred_key, place_key(deferred[0])):
                        continue  # the deferred name again ("Jilin" for Jilin City, "Beijing, Beijing")
                    return result
        if deferred is not None and at == deferred_at - 1 and not named and not deferred_own and _town_like(part):
            return "", deferred_name, country  # a town in the region, not the region's namesake city elsewhere
    return deferred or ("", "", "")


_WARD = re.compile(r"(?:-|\b)ku\b", re.I)  # a Japanese city's ward: "Sakyo-ku", "Tama ku"

# Regions that are one city (a municipality, a city-state, a metropolis governed as one city; named as the
# gazetteer names them): a town of the
# region written before its name is a district of that city ("Tongzhou, Beijing", "Shinjuku, Tokyo"), whereas in
# other regions it is a city of its own ("Montreal, Quebec" is not Québec City, "Campinas, São Paulo" not São Paulo).
_CITY_REGIONS = frozenset((cc, place_key(name)) for cc, names in {
    "CN": ("Beijing", "Shanghai", "Tianjin", "Chongqing"),
    "JP": ("Tokyo",),
    "KR": ("Seoul", "Busan", "Daegu", "Incheon", "Gwangju", "Daejeon", "Ulsan", "Sejong-si"),
    "DE": ("Berlin", "Hamburg", "Bremen"),
    "AT": ("Vienna",),
    "RU": ("Moscow", "St.-Petersburg"),
    "MX": ("Mexico City",),
    "TW": ("Taipei",),
    "VN": ("Hanoi", "Ho Chi Minh City (HCMC)"),
    "TH": ("Bangkok",),
    "AR": ("Buenos Aires F.D.",),
    "IN": ("Delhi",),
    "MY": ("Kuala Lumpur",),
    "ZW": ("Harare",),
}.items() for name in names)


_NOT_A_TOWN = re.compile(r"\b(lab|labs|dept|street|st|road|rd|avenue|ave|boulevard|blvd|drive|dr|lane|way|"
                         r"box|suite|floor|building|bldg|campus|hall|room|district|county|academia|fundaci[oó]n|"
                         r"instituto|istituto|universidad|universitas|station|associates|pvt|private|limited|"
                         r"facility|team|core|office|group)\b", re.I)


def _town_like(part: str) -> bool:
    """Whether an address part reads as the name of a town: one to three capitalised words, not an
    organisation, unit, street or country ("Pullman", "Walla Walla"; not "Smith Hall", "Mail Stop 3")."""
    words = _words_without_codes(part)
    return (0 < len(words) <= 3 and len(words) == len(part.split()) and all(w[:1].isupper() for w in words)
            and not _ORG_WORDS.search(part) and not _UNIT_WORDS.match(part) and not _NOT_A_CITY.search(part)
            and not _NOT_A_TOWN.search(part) and not any(_acronym(w) for w in re.split(r"[-‐/]", part))
            and not country_code(part, allow_code=False)
            and place_key(part) not in gazetteer().organisations)


_ACRONYM = re.compile(r"[A-Z][A-Z&]{1,9}")


def _acronym(text: str) -> bool:
    """An all-capitals tag that reads as an organisation's acronym ("GDEC", "IRD", "CIMMYT"): one word of two
    to ten capitals."""
    return bool(_ACRONYM.fullmatch(text.strip()))


def _registry_city(org: Organisation) -> str:
    """The organisation's city as the gazetteer names it ("Chiyoda" in ROR is "Chiyoda City", as most of the
    registry's organisations there write it: one city, one name)."""
    key = place_key(org.city)
    rows = [c for c in gazetteer().cities.get(key, []) if c[0] == org.country and place_key(c[1]) == place_key(
        org.region) and place_key(c[2]) != key and place_key(c[2]) in (f"{key} city", key.removesuffix(" city"))]
    return rows[0][2] if rows else org.city


def _region(parts: list[str], raw: str, country: str) -> tuple[str, str]:
    g = gazetteer()
    for pattern in (_US_ZIP, _CA_POSTCODE, _AU_POSTCODE):
        for m in pattern.finditer(raw):
            found = [r for r in g.region_abbreviations.get(m.group(1), []) if not country or r[0] == country]
            if len(found) == 1:
                return found[0][1], found[0][0]
    for part in reversed(parts):
        words = _words_without_codes(part)
        if country and country_code(" ".join(words), allow_code=False) == country:
            continue  # the country, not its namesake region ("Mexico" is also the State of México)
        found_region = _region_named(words, country)
        if not found_region[0] and country and len(words) > 1:
            # "GA USA", "Jilin China": the region, then the country, in one part ("South Australia" is a region).
            words = next((words[:-n] for n in (3, 2, 1) if n < len(words)
                          and country_code(" ".join(words[-n:]), allow_code=False) == country), words)
            found_region = _region_named(words, country)
        if found_region[0]:
            return found_region
    return "", ""


def _region_named(words: list[str], country: str) -> tuple[str, str]:
    """(region, country) of a region name or abbreviation that is the whole of ``words``, else ("", "")."""
    g = gazetteer()
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
    if city and (_ORG_WORDS.search(city) or _UNIT_WORDS.match(city) or _NOT_A_CITY.search(city)
                 or ((_HAS_DIGIT.search(city) or _acronym(city)) and not _city([city], "")[0])):
        # Not a city: a department or an organisation in the city's place (PLOS puts the whole address in one
        # <addr-line>, whose first part the JATS reader offers as the city), or an organisation's acronym
        # ("GDEC", "IRD") that the gazetteer knows as no city. The text says where it is.
        city = ""
    # A tag may hold more than the country ("Barcelona, Spain"): its last part then names it.
    # "Hong Kong SAR, China" in a tag is Hong Kong (HK), as it is in the text.
    cc = (country_code(country) or _explicit_country(_parts(country)) or _country_in(country.split(",")[-1])) \
        if country else ""
    ror = ror.rsplit("/", 1)[-1].strip()
    org = g.by_ror.get(ror) if ror else None
    if not cc:
        cc = _explicit_country(parts) or (org.country if org is not None else "") or infer_country(
            [*parts, *([city] if city and city not in parts else [])], raw)
    tagged = [s.strip(" ,") for s in institution.split(",") if s.strip(" ,")] if institution else []
    # JATS often tags the department and the organisation as two <institution>s: keep the organisation.
    inst = _institution([s.strip(" ,") for s in institution.split(",") if s.strip(" ,")]) if institution \
        else _institution(parts)
    if org is None and inst in parts[:-1] and _names_region(inst, cc) and not _organisation([inst], cc):
        # A state's university system written with its campus as the next part, "University of California,
        # San Diego", "University of Wisconsin, Madison": without the campus every campus was one institution.
        campus = parts[parts.index(inst) + 1]
        org = _organisation([f"{inst} {campus}"], cc)
        if org is not None:
            inst = f"{inst}, {campus}"
    if org is None:
        # The institution the address names first: "University of California Los Angeles, Howard Hughes
        # Medical Institute" is UCLA, not HHMI (whose investigators work at many universities).
        first = [] if _UNIT_WORDS.match(inst) else [inst]  # not "Laboratory of Organic Chemistry" first
        org = _organisation([*first, *reversed(tagged), *reversed(parts)], cc)
    found_city, city_region, city_cc = ("", "", "")
    if city:
        found_city, city_region, city_cc = _city([city], cc)
        found_city = found_city or city.strip()
    if not found_city:
        found_city, city_region, city_cc = _city([p for p in parts if p != inst], cc)
    # A tagged region as the gazetteer names it ("TX", "Tex." → Texas), so that "TX" and "Texas" are one region.
    reg, reg_cc = ((cc and _region([region.strip()], region.strip(), cc)[0]) or region.strip(), cc) if region \
        else _region(parts, raw, cc)
    if not cc and region:
        cc = reg_cc
    if org is not None and org.country != cc:
        org = None
    if org is not None and not found_city and (not city_region or place_key(city_region) == place_key(org.region)):
        # The organisation's seat, unless the address names a town in another region (a campus elsewhere).
        found_city, city_region = _registry_city(org), org.region
    city_out = found_city if (not cc or city_cc in ("", cc)) else ""
    return Location(institution=org.name if org is not None and (not inst or _UNIT_WORDS.match(inst)) else inst,
                    ror=org.ror if org is not None else "",
                    city=city_out,
                    region=_city_region(city_out, reg or city_region or (org.region if org is not None else ""), cc),
                    country=cc)


def _city_region(city: str, region: str, country: str) -> str:
    """The region of a located city as the gazetteer names it, where the address spells it otherwise
    ("Guangdong Province", the registry's "SG.01") or not at all: a region the gazetteer does not know in the
    country is the city's region when the gazetteer knows the city in one region only, or when three quarters
    of the registry's organisations in places of that name (of those with a region) are in one of the city's
    regions (Changsha: Hunan, not Guangdong or Chongqing; Gainesville: Florida; not Lexington, which Kentucky
    and Massachusetts share). So one city is one (region, city) pair, the key of the city network."""
    if not (city and country):
        return region
    g = gazetteer()
    if region and any(cc == country for cc, _ in g.regions.get(place_key(region), [])):
        return region
    key = place_key(city)
    regions = {r for cc, r, _ in g.cities.get(key, []) if cc == country}
    if len(regions) == 1:
        return next(iter(regions))
    main, in_main, with_region = g.registry_region.get((key, country), ("", 0, 0))
    if main and in_main >= _DOMINANT_SHARE * with_region:
        return next((r for r in regions if place_key(r) == place_key(main)), region)
    return region
