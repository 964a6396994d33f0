"""Build the compact offline gazetteer CiteLens ships (src/citelens/places/gazetteer.tsv.gz).

Reads ../shared/data/geo (ROR records, GeoNames cities over 15,000 inhabitants, ISO 3166 country codes; see
PROVENANCE.txt there) and writes one gzipped TSV with four kinds of line:

    C  <alpha-2>  <name variant>                     country names, official and common
    R  <alpha-2>  <region>  <variant>                regions (states, provinces) and their abbreviations
    T  <alpha-2>  <region>  <city>                   GeoNames cities (one line per city and region)
    O  <ror id>   <alpha-2>  <region>  <city>  <name>  <variant>|<variant>…   ROR organisations
    K  <alpha-2>  <region>  <city>  <count>  <main region>  <in it>  <with a region>
                                                     cities of ROR organisations and how many are there
                                                     (places too small for GeoNames' list, e.g. Los Baños,
                                                     and a prior for names several countries share); the
                                                     region most of them that have one are in, how many are
                                                     there and how many have a region (a prior for names
                                                     several regions share: Changsha is in Hunan)

It also writes the names' lookup keys beside it (``gazetteer-keys.txt.gz``, see ``citelens.places.gazetteer``), so
that loading need not fold them; ``--keys-only`` rewrites just that file from the shipped data file (after a change
to ``place_key``; a test says when).

Run: ``python scripts/build_gazetteer.py [../shared/data/geo]``. Only Latin-script names are kept (the
affiliations we parse are written in Latin script); that keeps the file under 2 MB.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "citelens" / "places" / "gazetteer.tsv.gz"

# Common ways affiliations write countries that the ISO names do not cover.
COUNTRY_ALIASES = {
    "US": ["USA", "U.S.A.", "U.S.A", "U.S.", "United States", "United States of America", "America"],
    "GB": ["UK", "U.K.", "United Kingdom", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland"],
    "CN": ["P.R. China", "PR China", "P. R. China", "People's Republic of China", "Peoples Republic of China",
           "P.R.China", "PRC", "Mainland China"],
    "KR": ["Korea", "South Korea", "Republic of Korea", "Korea, Republic of", "Rep. of Korea", "Korea (South)"],
    "KP": ["North Korea"],
    "TW": ["Taiwan, ROC", "Taiwan, R.O.C.", "R.O.C.", "Republic of China (Taiwan)", "Taiwan (ROC)"],
    "IR": ["Iran", "Islamic Republic of Iran", "I.R. Iran", "IR Iran"],
    "RU": ["Russia", "Russian Federation"],
    "NL": ["The Netherlands", "Holland"],
    "CZ": ["Czech Republic", "Czechia"],
    "VN": ["Vietnam", "Viet Nam"],
    "TR": ["Turkey", "Türkiye", "Turkiye"],
    "CI": ["Ivory Coast", "Côte d'Ivoire", "Cote d'Ivoire", "Côte d’Ivoire"],
    "HK": ["Hong Kong", "Hong Kong SAR", "Hong Kong SAR, China", "Hong Kong, China"],
    "MO": ["Macau", "Macao", "Macao SAR"],
    "PS": ["Palestine"],
    "SY": ["Syria"],
    "LA": ["Laos"],
    "TZ": ["Tanzania"],
    "BO": ["Bolivia"],
    "VE": ["Venezuela"],
    "MD": ["Moldova"],
    "CD": ["DR Congo", "Democratic Republic of the Congo", "DRC", "Congo (Kinshasa)"],
    "CG": ["Republic of the Congo", "Congo (Brazzaville)"],
    "MK": ["Macedonia", "North Macedonia"],
    "BN": ["Brunei"],
    "SZ": ["Swaziland", "Eswatini"],
    "CV": ["Cape Verde"],
    "FM": ["Micronesia"],
    "AE": ["UAE", "U.A.E."],
    "SA": ["KSA", "Kingdom of Saudi Arabia"],
    "DE": ["Deutschland"],
    "BR": ["Brasil"],
    "ES": ["España"],
    "IT": ["Italia"],
    "MX": ["México"],
}

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico",
}
CA_PROVINCES = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "ON": "Ontario", "PE": "Prince Edward Island",
    "QC": "Quebec", "SK": "Saskatchewan", "NT": "Northwest Territories", "NU": "Nunavut", "YT": "Yukon",
}
AU_STATES = {
    "NSW": "New South Wales", "VIC": "Victoria", "QLD": "Queensland", "WA": "Western Australia",
    "SA": "South Australia", "TAS": "Tasmania", "ACT": "Australian Capital Territory", "NT": "Northern Territory",
}

_LATIN = re.compile(r"^[\x20-\x7e\u00a0-\u024f\u1e00-\u1eff’‘–-]+$")


def latin(s: str) -> bool:
    return bool(s) and bool(_LATIN.match(s))


def clean(s: str) -> str:
    return " ".join(str(s).replace("\t", " ").split())


def _read(path: Path) -> io.StringIO:
    return io.StringIO(path.read_text(encoding="utf-8"))


def main(geo: Path) -> None:
    lines: list[str] = []
    for row in csv.DictReader(_read(geo / "country-codes.csv")):
        a2 = row["ISO3166-1-Alpha-2"].strip()
        if len(a2) != 2:
            continue
        # Not the alpha-3 codes: lower-cased, "AND", "PER", "COL" are words too.
        names = {row["official_name_en"], row["CLDR display name"], row["UNTERM English Short"],
                 *COUNTRY_ALIASES.get(a2, [])}
        for n in sorted(names):
            n = clean(re.sub(r"\s*\(the\)\s*\*?$", "", n or ""))
            if n and latin(n):
                lines.append(f"C\t{a2}\t{n}")
    for cc, table in (("US", US_STATES), ("CA", CA_PROVINCES), ("AU", AU_STATES)):
        for abbr, name in table.items():
            lines.append(f"R\t{cc}\t{name}\t{abbr}")
            lines.append(f"R\t{cc}\t{name}\t{name}")
    codes = {r["ISO3166-1-Alpha-2"]: r["CLDR display name"]
             for r in csv.DictReader(_read(geo / "country-codes.csv"))}
    by_name = {clean(v).lower(): k for k, v in codes.items() if v}
    by_name.update({"united states": "US", "united kingdom": "GB", "south korea": "KR", "north korea": "KP",
                    "russia": "RU", "czech republic": "CZ", "vietnam": "VN", "iran": "IR", "taiwan": "TW",
                    "turkey": "TR", "syria": "SY", "laos": "LA", "macedonia": "MK", "moldova": "MD",
                    "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "ivory coast": "CI",
                    "democratic republic of the congo": "CD", "republic of the congo": "CG", "palestine": "PS",
                    "swaziland": "SZ", "cape verde": "CV", "brunei": "BN", "hong kong": "HK", "macao": "MO",
                    "micronesia": "FM", "myanmar": "MM", "east timor": "TL", "vatican city": "VA",
                    "bosnia and herzegovina": "BA", "st kitts and nevis": "KN"})
    by_name.update({ln.split("\t")[2].lower(): ln.split("\t")[1] for ln in lines if ln.startswith("C\t")})
    by_name.update({"saint kitts and nevis": "KN", "trinidad and tobago": "TT", "antigua and barbuda": "AG",
                    "saint lucia": "LC", "saint vincent and the grenadines": "VC", "congo": "CG",
                    "sao tome and principe": "ST", "holy see (vatican city state)": "VA",
                    "falkland islands (malvinas)": "FK", "virgin islands, british": "VG",
                    "virgin islands, u.s.": "VI", "saint barthélemy": "BL", "saint martin (french part)": "MF",
                    "sint maarten (dutch part)": "SX", "bonaire, sint eustatius and saba": "BQ",
                    "cocos (keeling) islands": "CC", "turks and caicos islands": "TC", "wallis and futuna": "WF",
                    "saint pierre and miquelon": "PM", "svalbard and jan mayen": "SJ",
                    "saint helena, ascension and tristan da cunha": "SH",
                    "south georgia and the south sandwich islands": "GS", "no country found for alpha-2 code: xk": "XK"})
    unknown = set()
    for row in csv.DictReader(_read(geo / "world-cities.csv")):
        name = clean(row["country"]).lower()
        cc = by_name.get(name) or by_name.get(name.split(",")[0])
        if cc is None:
            unknown.add(row["country"])
            continue
        if latin(row["name"]):
            lines.append(f"T\t{cc}\t{clean(row['subcountry'])}\t{clean(row['name'])}")
    if unknown:
        print("cities of unknown countries left out:", sorted(unknown), file=sys.stderr)
    ror_cities: Counter[tuple[str, str]] = Counter()
    ror_regions: dict[tuple[str, str], Counter[str]] = {}
    with gzip.open(geo / "ror_records_latest.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r.get("status") not in ("active", None) or not r.get("country_code"):
                continue
            city = clean(r.get("city") or "")
            if city and latin(city):
                ror_cities[(r["country_code"], city)] += 1
                ror_regions.setdefault((r["country_code"], city), Counter())[clean(r.get("subdivision") or "")] += 1
            variants = [v for v in [*(r.get("aliases") or []), *(r.get("labels") or [])]
                        if latin(v) and v != r["name"] and len(v) > 3]
            lines.append("\t".join(["O", r["ror_id"].rsplit("/", 1)[-1], r["country_code"],
                                    clean(r.get("subdivision") or ""), clean(r.get("city") or ""),
                                    clean(r["name"]), "|".join(clean(v) for v in variants)]))
    for (cc, city), n in sorted(ror_cities.items()):
        regions = ror_regions[(cc, city)]
        region = regions.most_common(1)[0][0]
        named = Counter({r: k for r, k in regions.items() if r})
        main_region, in_main = named.most_common(1)[0] if named else ("", 0)
        lines.append(f"K\t{cc}\t{region}\t{city}\t{n}\t{main_region}\t{in_main}\t{sum(named.values())}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", compresslevel=9, mtime=0) as out:
        out.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{OUT}: {len(lines)} lines, {OUT.stat().st_size} bytes")
    write_keys()


def write_keys() -> None:
    from citelens.places.gazetteer import KEYS_FILE, key_file_text

    keys = OUT.with_name(KEYS_FILE)
    with gzip.GzipFile(keys, "wb", compresslevel=9, mtime=0) as out:
        out.write(key_file_text(OUT.read_bytes()).encode("utf-8"))
    print(f"{keys}: {keys.stat().st_size} bytes")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--keys-only"]
    if "--keys-only" in sys.argv[1:]:
        write_keys()
    else:
        main(Path(args[0] if args else Path(__file__).resolve().parents[2] / "shared/data/geo"))
