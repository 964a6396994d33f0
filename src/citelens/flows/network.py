"""Bring your own network: how local are the knowledge ties of the organisations in a regional cluster?

The economic geographer's question about firms in an industrial cluster — are their ties intra-regional,
inter-regional or international, and does that vary with ownership, size and the type of tie? — asked of a
network the user brings as two CSV files (``citelens flows --orgs ORGS.csv --ties TIES.csv``; the columns are
documented in docs/flows-network.md):

* organisations: ``id``, ``country`` and ``region`` and/or ``city`` (read through our offline gazetteer, so
  "Dresden, DE" is in Saxony), optional ``name``; every other column is an attribute (``ownership``,
  ``size``, ``sector``…);
* ties: ``source``, ``target`` and ``type`` (knowledge source, customer, supplier, collaborator…). A tie is
  the source's: breakdowns by ownership or size use the source organisation's attributes (in a cluster survey
  the source is the surveyed firm and the target the partner it names).

Reading is all-or-nothing: every problem (missing column, unknown place, duplicate id, tie naming an unknown
organisation, undecodable bytes, empty file…) becomes an :class:`InputProblem` with file and row number (the
header is row 1, as a spreadsheet shows it), and :class:`NetworkInputError` carries them all. Nothing is
analysed until both files read cleanly.

Statistics (scipy): each share has a Wilson score interval (``binomtest(...).proportion_ci``); each breakdown
has Pearson's chi-square test of independence of group and distance (``chi2_contingency`` without Yates'
correction, so the statistic means the same for every table size) with Cramér's V, and, where Cochran's rule
fails (an expected count below 1, or more than 20 % of them below 5), a Monte Carlo p-value as well (tables
drawn with the observed margins).
Ties of one organisation are not independent draws; the tests treat them as if they were (see the docs).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citelens.errors import CiteLensError
from citelens.places.gazetteer import gazetteer, place_key
from citelens.places.locate import country_code

INTRA_REGIONAL = "intra_regional"
INTER_REGIONAL = "inter_regional"
INTERNATIONAL = "international"
DISTANCES = (INTRA_REGIONAL, INTER_REGIONAL, INTERNATIONAL)

NOT_GIVEN = "(not given)"  # the group of organisations whose attribute cell is empty
MAX_FILE_BYTES = 50_000_000
MAX_ROWS = 1_000_000
PERMUTATION_RESAMPLES = 9999
PERMUTATION_SEED = 20261203  # fixed, so the same input gives the same p-value
MONTE_CARLO_MAX_GROUPS = 200  # beyond, drawing the tables takes minutes; such a breakdown needs recoding anyway

ORG_COLUMNS = ("id", "name", "city", "region", "country")
TIE_TYPE = "type"  # the breakdown by tie type in ``by``; no organisation attribute may take its name
TIE_COLUMNS = ("source", "target", "type")
# Other spellings people's spreadsheets use for the same columns.
_ORG_ALIASES = {"org_id": "id", "organisation": "name", "organization": "name", "state": "region",
                "size_class": "size"}
_TIE_ALIASES = {"from": "source", "to": "target", "tie_type": "type", "kind": "type"}
# Breakdowns listed first, in this order; other attribute columns follow in file order.
LEADING_ATTRIBUTES = ("ownership", "size")


@dataclass(frozen=True)
class InputProblem:
    file: str
    row: int | None  # 1 = the header row; None = the file as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.message}" if self.row else f"{self.file}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "message": self.message}


class NetworkInputError(CiteLensError):
    """The organisations or ties file cannot be used; ``problems`` lists every problem found, by row."""

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5])
                         + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    city: str
    region: str
    country: str  # ISO 3166-1 alpha-2
    attributes: dict[str, str] = field(default_factory=dict)
    row: int = 0


@dataclass(frozen=True)
class Tie:
    source: str
    target: str
    type: str
    row: int = 0


@dataclass
class Network:
    organisations: dict[str, Organisation]
    ties: list[Tie]
    attributes: list[str]  # attribute columns, breakdown order
    warnings: list[InputProblem] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------- reading

def decode(data: bytes, file: str, encoding: str = "utf-8") -> str:
    """The text of a CSV file; undecodable bytes are an :class:`InputProblem` naming the row they sit on."""
    if not data.strip():
        raise NetworkInputError([InputProblem(file, None, "empty file")])
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # a spreadsheet's byte-order mark is not part of the first column name
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        row = data[:exc.start].count(b"\n") + 1
        raise NetworkInputError([InputProblem(
            file, row, f"bytes not valid {encoding.removesuffix('-sig')} at byte {exc.start} ({exc.reason}); "
                       "save the file as UTF-8 or name its encoding with --encoding (e.g. cp1252)")]) from None
    except LookupError:
        raise NetworkInputError([InputProblem(file, None, f"unknown encoding {encoding!r}")]) from None
    if "\x00" in text:
        raise NetworkInputError([InputProblem(file, text[:text.index("\x00")].count("\n") + 1,
                                              "NUL byte: not a text CSV file (UTF-16? save it as UTF-8)")])
    return text


def read_file(path: str | Path, encoding: str = "utf-8") -> str:
    """Read and decode one CSV file, refusing what is not a regular file or is too big to be a network."""
    p = Path(path)
    name = str(path)
    try:
        if not p.is_file():
            raise NetworkInputError([InputProblem(name, None, "not a regular file")])
        if p.stat().st_size > MAX_FILE_BYTES:
            raise NetworkInputError([InputProblem(name, None, f"larger than {MAX_FILE_BYTES:,} bytes")])
        with p.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise NetworkInputError([InputProblem(name, None, f"cannot read: {exc.strerror or exc}")]) from None
    return decode(data, name, encoding)


def _rows(text: str, file: str, aliases: dict[str, str]) -> tuple[list[str], list[tuple[int, dict[str, str] | str]]]:
    """Header (lower-cased, aliases applied) and (row number, record or what is wrong with the row) pairs.
    The delimiter is the one the header uses most: comma, semicolon (spreadsheets in many locales) or tab."""
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = []
        for i, rec in enumerate(reader):
            if i > MAX_ROWS:
                raise NetworkInputError([InputProblem(file, None, f"more than {MAX_ROWS:,} rows")])
            records.append(rec)
    except csv.Error as exc:
        raise NetworkInputError([InputProblem(file, reader.line_num, f"not valid CSV: {exc}")]) from None
    # Blank rows are skipped but keep their numbers, as a spreadsheet shows them.
    numbered = [(i, r) for i, r in enumerate(records, start=1) if any(c.strip() for c in r)]
    if not numbered:
        raise NetworkInputError([InputProblem(file, None, "empty file")])
    header_row, raw_header = numbered[0]
    header = [aliases.get(h.strip().lower(), h.strip().lower()) for h in raw_header]
    problems = []
    seen: Counter[str] = Counter(header)
    for name, count in seen.items():
        if not name:
            problems.append(InputProblem(file, header_row, "a column has no name"))
        elif count > 1:
            problems.append(InputProblem(file, header_row, f"column {name!r} appears {count} times"))
    if problems:
        raise NetworkInputError(problems)
    out: list[tuple[int, dict[str, str] | str]] = []
    for number, rec in numbered[1:]:
        if len(rec) != len(header):
            out.append((number, f"{len(rec)} cells where the header has {len(header)}"))
            continue
        out.append((number, {h: c.strip() for h, c in zip(header, rec, strict=True)}))
    return header, out


def _resolve_place(city: str, region: str, country: str, own_regions: bool = False
                   ) -> tuple[tuple[str, str, str] | None, str, str]:
    """((city, region, country) as the gazetteer names them, or None), problem, warning. ``own_regions``:
    the region is the user's own (NUTS code, labour-market region…), taken as written; only the country
    is checked."""
    if not country:
        return None, "no country", ""
    cc = country_code(country)
    if not cc:
        return None, f"unknown country {country!r} (an ISO 3166-1 code such as DE, or a country name)", ""
    if own_regions:
        if not region:
            return None, "no region (--own-regions takes every organisation's region as written)", ""
        return (city, region, cc), "", ""
    g = gazetteer()
    region_name = ""
    if region:
        found = [r for r in g.regions.get(place_key(region), []) if r[0] == cc]
        found += [r for r in g.region_abbreviations.get(region.upper(), []) if r[0] == cc and r not in found]
        if len(found) != 1:
            known = sorted({r for (c, r) in (x for v in g.regions.values() for x in v) if c == cc})
            hint = _closest(region, known)
            if hint:
                hint = f" (did you mean {hint!r}?)"
            elif len(known) <= 40:
                hint = f" (the gazetteer's regions in {cc}: {', '.join(known)})"
            return None, f"unknown region {region!r} in {cc}{hint}", ""
        region_name = found[0][1]
    if not city:
        if not region_name:
            return (None, "no region and no city: give one, so that intra- and inter-regional ties can be told"
                          " apart (a partner abroad needs only its country, but say its region or city anyway)",
                    "")
        return ("", region_name, cc), "", ""
    cities = [c for c in g.cities.get(place_key(city), []) if c[0] == cc]
    if region_name:
        in_region = [c for c in cities if c[1] == region_name]
        if in_region:
            return (in_region[0][2], region_name, cc), "", ""
        if cities:
            where = ", ".join(sorted({c[1] for c in cities}))
            return None, f"city {city!r} is in {where}, not in {region_name!r}", ""
        return ((city, region_name, cc), "",
                f"city {city!r} is not in the gazetteer; taken as given, in {region_name}")
    regions = sorted({c[1] for c in cities})
    if len(regions) == 1:
        return (cities[0][2], regions[0], cc), "", ""
    if len(regions) > 1:
        return None, f"city {city!r} is ambiguous in {cc} ({', '.join(regions)}): give its region", ""
    return None, f"unknown city {city!r} in {cc}: give its region as well (then any city name is accepted)", ""


def _closest(text: str, choices: list[str]) -> str:
    from rapidfuzz import fuzz, process, utils

    best = process.extractOne(text, choices, scorer=fuzz.WRatio, processor=utils.default_process)
    return best[0] if best and best[1] >= 75 else ""


def parse_organisations(text: str, file: str, *, own_regions: bool = False
                        ) -> tuple[dict[str, Organisation], list[str], list[InputProblem]]:
    """Organisations by id, the attribute columns (breakdown order), warnings. Raises NetworkInputError.
    ``own_regions``: regions are the user's own classification, taken as written (see _resolve_place)."""
    orgs, attributes, warnings, problems = _parse_organisations(text, file, own_regions)
    if problems:
        raise NetworkInputError(problems)
    return orgs, attributes, warnings


def _parse_organisations(text: str, file: str, own_regions: bool = False) -> tuple[dict[str, Organisation], list[str], list[InputProblem],
                                                         list[InputProblem]]:
    """As parse_organisations, plus the problems; the organisations include those with a bad row (without a
    place), so that a tie naming one is not reported as naming an unknown organisation as well."""
    header, rows = _rows(text, file, _ORG_ALIASES)
    missing = [c for c in ("id", "country") if c not in header]
    if "city" not in header and "region" not in header:
        missing.append("region or city")
    if missing:
        raise NetworkInputError([InputProblem(file, 1, f"missing column(s): {', '.join(missing)} "
                                                       f"(the header has: {', '.join(header)})")])
    if TIE_TYPE in header:
        # The tie type's breakdown is "type": an organisation attribute of that name was counted into it (a
        # firm's type and a tie's type in one table, each tie twice).
        raise NetworkInputError([InputProblem(file, 1, f"column {TIE_TYPE!r}: that is the breakdown by tie type;"
                                                       " rename this column (e.g. org_type)")])
    if not rows:
        raise NetworkInputError([InputProblem(file, None, "no organisations (only a header)")])
    extra = [h for h in header if h not in ORG_COLUMNS]
    attributes = [a for a in LEADING_ATTRIBUTES if a in extra] + [a for a in extra if a not in LEADING_ATTRIBUTES]
    problems: list[InputProblem] = []
    warnings: list[InputProblem] = []
    orgs: dict[str, Organisation] = {}
    for number, rec in rows:
        if isinstance(rec, str):
            problems.append(InputProblem(file, number, rec))
            continue
        oid = rec["id"]
        if not oid:
            problems.append(InputProblem(file, number, "empty id"))
            continue
        if oid in orgs:
            problems.append(InputProblem(file, number, f"duplicate id {oid!r} (first on row {orgs[oid].row})"))
            continue
        place, problem, warning = _resolve_place(rec.get("city", ""), rec.get("region", ""), rec["country"],
                                                 own_regions)
        if place is None:
            problems.append(InputProblem(file, number, f"organisation {oid!r}: {problem}"))
            orgs[oid] = Organisation(oid, rec.get("name", ""), "", "", "", {}, number)
            continue
        if warning:
            warnings.append(InputProblem(file, number, f"organisation {oid!r}: {warning}"))
        orgs[oid] = Organisation(id=oid, name=rec.get("name", "") or oid, city=place[0], region=place[1],
                                 country=place[2], attributes={a: rec[a] for a in attributes}, row=number)
    return orgs, attributes, warnings, problems


def parse_ties(text: str, file: str, organisations: dict[str, Organisation], *, check_ids: bool = True) -> list[Tie]:
    """The ties, each between two known organisations. Raises NetworkInputError listing every bad row.
    ``check_ids=False`` checks only the file itself (when the organisations could not be read)."""
    header, rows = _rows(text, file, _TIE_ALIASES)
    missing = [c for c in TIE_COLUMNS if c not in header]
    if missing:
        raise NetworkInputError([InputProblem(file, 1, f"missing column(s): {', '.join(missing)} "
                                                       f"(the header has: {', '.join(header)})")])
    if not rows:
        raise NetworkInputError([InputProblem(file, None, "no ties (only a header)")])
    problems: list[InputProblem] = []
    ties: list[Tie] = []
    first_row: dict[tuple[str, str, str], int] = {}
    for number, rec in rows:
        if isinstance(rec, str):
            problems.append(InputProblem(file, number, rec))
            continue
        source, target, kind = rec["source"], rec["target"], rec["type"]
        bad = [f"{col} is empty" for col, v in (("source", source), ("target", target), ("type", kind)) if not v]
        bad += [f"{col} {v!r} is not in the organisations file" for col, v in (("source", source),
                ("target", target)) if check_ids and v and v not in organisations]
        if source and source == target:
            bad.append(f"a tie from {source!r} to itself")
        key = (source, target, kind)
        if not bad and key in first_row:
            bad.append(f"duplicate tie {source!r} → {target!r} ({kind}) (first on row {first_row[key]})")
        if bad:
            problems.append(InputProblem(file, number, "; ".join(bad)))
            continue
        first_row[key] = number
        ties.append(Tie(source, target, kind, number))
    if problems:
        raise NetworkInputError(problems)
    return ties


def read_network(orgs_path: str | Path, ties_path: str | Path, encoding: str = "utf-8", *,
                 own_regions: bool = False) -> Network:
    """Both files, read and checked; problems in both are reported together. ``own_regions``: the region
    column is the user's own classification (NUTS codes…), taken as written; only countries are checked."""
    problems: list[InputProblem] = []
    orgs: dict[str, Organisation] = {}
    attributes: list[str] = []
    warnings: list[InputProblem] = []
    try:
        orgs, attributes, warnings, problems = _parse_organisations(read_file(orgs_path, encoding), str(orgs_path),
                                                                    own_regions)
    except NetworkInputError as exc:
        problems += exc.problems
    ties: list[Tie] = []
    try:
        ties_text = read_file(ties_path, encoding)
        # Without any organisation every tie would name an unknown one: only the ties file's own problems.
        ties = parse_ties(ties_text, str(ties_path), orgs, check_ids=bool(orgs))
    except NetworkInputError as exc:
        problems += exc.problems
    if problems:
        raise NetworkInputError(problems)
    return Network(orgs, ties, attributes, warnings)


# ---------------------------------------------------------------------------------------------- analysis

def tie_distance(a: Organisation, b: Organisation) -> str:
    """intra_regional (same country and region), inter_regional (same country) or international."""
    if a.country != b.country:
        return INTERNATIONAL
    return INTRA_REGIONAL if place_key(a.region) == place_key(b.region) else INTER_REGIONAL


def share_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k of n (scipy); (0, 1) for n = 0."""
    if n == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def _shares(counts: Counter[str], confidence: float) -> dict[str, Any]:
    n = sum(counts[d] for d in DISTANCES)
    shares = {}
    for d in DISTANCES:
        low, high = share_interval(counts[d], n, confidence)
        shares[d] = {"share": counts[d] / n if n else None, "low": low, "high": high}
    return {"n": n, "counts": {d: counts[d] for d in DISTANCES}, "shares": shares}


def independence_test(table: list[list[int]]) -> dict[str, Any]:
    """Pearson's chi-square test of independence (rows = groups, columns = distances) with Cramér's V.

    Rows and columns that are all zero are left out (they carry no information and make expected counts 0).
    Where Cochran's rule fails the asymptotic p-value is doubtful, so a permutation p-value is added.
    With fewer than two groups or two distances left there is nothing to test: the fields are None.
    """
    import numpy as np
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import association

    arr = np.asarray(table, dtype=np.int64)
    arr = arr[arr.sum(axis=1) > 0] if arr.size else arr
    arr = arr[:, arr.sum(axis=0) > 0] if arr.size else arr
    empty: dict[str, Any] = {"statistic": None, "dof": None, "p_value": None, "cramers_v": None,
                             "min_expected": None, "share_expected_below_5": None, "cochran_ok": None,
                             "p_value_permutation": None}
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        return empty | {"note": "fewer than two groups or two distances with ties: nothing to test"}
    res = chi2_contingency(arr, correction=False)
    expected = res.expected_freq
    below_5 = float((expected < 5).mean())
    cochran_ok = bool(expected.min() >= 1 and below_5 <= 0.2)
    out: dict[str, Any] = {"statistic": float(res.statistic), "dof": int(res.dof), "p_value": float(res.pvalue),
           "cramers_v": float(association(arr, method="cramer", correction=False)),
           "min_expected": float(expected.min()), "share_expected_below_5": below_5, "cochran_ok": cochran_ok,
           "p_value_permutation": None}
    if not cochran_ok and arr.shape[0] <= MONTE_CARLO_MAX_GROUPS:
        out["p_value_permutation"] = _monte_carlo_p(arr, expected, float(res.statistic))
    elif not cochran_ok:
        out["note"] = (f"more than {MONTE_CARLO_MAX_GROUPS} groups: no Monte Carlo p-value (merge small groups,"
                       " e.g. by recoding the attribute)")
    return out


def _monte_carlo_p(observed: Any, expected: Any, statistic: float) -> float:
    """P-value of the chi-square statistic over tables drawn with the observed margins (Patefield's
    algorithm, ``scipy.stats.random_table``), as R's ``chisq.test(simulate.p.value = TRUE)`` does; scipy's
    ``chi2_contingency(method=PermutationMethod())`` gives the same answer but permutes every tie and takes
    seconds for a few hundred ties."""
    import numpy as np
    from scipy.stats import random_table

    tables = random_table(observed.sum(axis=1), observed.sum(axis=0), seed=PERMUTATION_SEED).rvs(
        size=PERMUTATION_RESAMPLES)
    simulated = ((tables - expected) ** 2 / expected).sum(axis=(1, 2))
    # A small tolerance, so that tables as extreme as the observed one count despite rounding.
    extreme = int(np.count_nonzero(simulated >= statistic * (1 - 1e-9)))
    return (1 + extreme) / (PERMUTATION_RESAMPLES + 1)


def _breakdown(groups: dict[str, Counter[str]], confidence: float) -> dict[str, Any]:
    ordered = sorted(groups, key=lambda g: (g == NOT_GIVEN, -sum(groups[g].values()), g))
    table = [[groups[g][d] for d in DISTANCES] for g in ordered]
    return {"groups": {g: _shares(groups[g], confidence) for g in ordered}, "chi2": independence_test(table)}


def analyse_network(network: Network, confidence: float = 0.95) -> dict[str, Any]:
    """Shares of intra-regional, inter-regional and international ties overall, by each attribute of the
    source organisation and by tie type, with Wilson intervals and chi-square tests (the ``--json`` shape)."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    orgs = network.organisations
    overall: Counter[str] = Counter()
    by: dict[str, dict[str, Counter[str]]] = {a: {} for a in (*network.attributes, TIE_TYPE)}
    regions: Counter[tuple[str, str]] = Counter()
    for o in orgs.values():
        regions[(o.country, o.region)] += 1
    for tie in network.ties:
        src = orgs[tie.source]
        d = tie_distance(src, orgs[tie.target])
        overall[d] += 1
        for a in network.attributes:
            by[a].setdefault(src.attributes.get(a) or NOT_GIVEN, Counter())[d] += 1
        by[TIE_TYPE].setdefault(tie.type, Counter())[d] += 1
    return {
        "n_organisations": len(orgs),
        "n_ties": len(network.ties),
        "confidence": confidence,
        "distances": list(DISTANCES),
        "attributes_of": "source",
        "regions": [{"country": c, "region": r, "organisations": n}
                    for (c, r), n in sorted(regions.items(), key=lambda x: (-x[1], x[0]))],
        "overall": _shares(overall, confidence),
        "by": {a: _breakdown(groups, confidence) for a, groups in by.items()},
        "warnings": [w.to_dict() for w in network.warnings],
    }
