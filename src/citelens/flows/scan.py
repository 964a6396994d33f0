"""The index as knowledge-flow analysis reads it: one whole-index scan, held as numpy arrays.

``FlowScan.read(store)`` reads every statement with a resolved cited work (as integer codes), the located
works and their places, once. Everything a report needs that does not depend on its filters is worked
out here, once per scan, and shared by every ``--by`` level, type, section and seed
(:func:`citelens.flows.analysis.analyse_flows`): each citing–cited pair's distance class, each work's
units at every level, the string order of the work ids the seeded draws follow. The web keeps one scan
while the index is unchanged, so a page for another unit or type costs only its own counting.

Why arrays and not a loop over rows: a million-statement index has a million rows and a few hundred
thousand pairs; Python objects per row cost seconds, numpy operations over them milliseconds. Each rule
still lives in one place: :mod:`citelens.flows.distance` says what the classes mean and
:func:`pair_distances` applies exactly those rules to coded places (checked against ``tie_distance`` in
the tests).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from citelens.document import STANCES
from citelens.flows.distance import LEVELS, Place
from citelens.references.resolve import fold

if TYPE_CHECKING:
    from citelens.store.base import FlowReader

# A statement's code (FlowReader.flow_statements): section × 8 + type × 2 + self-citation; the type
# len(STANCES) is "unclassified".
UNCLASSIFIED = len(STANCES)
STATEMENT_ROW = np.dtype([("citing", np.int64), ("cited", np.int64), ("code", np.int16)])


@dataclass(frozen=True)
class LevelUnits:
    """Every located work's units at one level (``Place.unit``), in the order of its places, each once:
    work i's units are ``unit[start[i]:start[i + 1]]`` (indexes into ``keys``); ``label_of`` is the label
    of the place each (work, unit) entry came from."""

    level: str
    keys: list[str]
    start: np.ndarray
    unit: np.ndarray
    place: np.ndarray  # the distinct place (index into FlowScan.places) behind each entry


class FlowScan:
    """One read of the index for knowledge flows (see the module docstring). Build with :meth:`read`."""

    def __init__(self, rows: np.ndarray, place_rows: Iterable[tuple[Any, ...]],
                 references: Iterable[tuple[int, int]]) -> None:
        # ---- located works and their distinct places (place_rows: as FlowReader.located_places)
        index: dict[tuple[str, ...], int] = {}
        first: dict[int, tuple[Any, ...]] = {}  # work → (year, journal, source) of its first row
        work_col, place_col = [], []
        for r in place_rows:
            if r[0] not in first:
                first[r[0]] = r[1:4]
            work_col.append(r[0])
            place_col.append(index.setdefault(r[4:], len(index)))
        self.places: list[Place] = [Place(*fields) for fields in index]
        work_of_row = np.array(work_col, dtype=np.int64)
        self.work_ids, work_index = np.unique(work_of_row, return_inverse=True)
        place_of_row = np.array(place_col, dtype=np.int64)
        # Each work's distinct places in their order: the first row of each (work, place).
        _, at = np.unique(work_index * max(len(index), 1) + place_of_row, return_index=True)
        at = at[np.lexsort((at, work_index[at]))]
        self.work_place = place_of_row[at]
        self.place_start = np.zeros(len(self.work_ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(work_index[at], minlength=len(self.work_ids)), out=self.place_start[1:])
        works = [first[w] for w in self.work_ids.tolist()]
        self.n_full_text = sum(source == "full text" for _, _, source in works)
        self.n_metadata = len(works) - self.n_full_text
        self._code_places()
        # The string order of the work ids ("W12" < "W9"): the order the seeded control draws visit pairs in.
        self.work_rank = _ranks(np.array([str(i) for i in self.work_ids.tolist()]))
        # Each work's stratum for the matched controls (WorkStratum.key: year and folded journal), numbered.
        strata: dict[tuple[int, str], int] = {}
        fields: dict[str, str] = {}
        stratum = []
        for year, journal, _ in works:
            field = fields.get(journal)
            if field is None:
                field = fields[journal] = fold(journal)
            key = (year, field) if year is not None and field else None
            stratum.append(-1 if key is None else strata.setdefault(key, len(strata)))
        self.work_stratum = np.array(stratum, dtype=np.int64)
        # Each stratum's works in work id (string) order: the lists the controls are drawn from.
        self.pools: list[list[int]] = [[] for _ in strata]
        for w in np.argsort(self.work_rank, kind="stable").tolist():
            if stratum[w] >= 0:
                self.pools[stratum[w]].append(w)
        # ---- statements: pair index and code per row; pairs in (citing, cited) id order
        citing, cited, code = rows["citing"], rows["cited"], rows["code"]
        if len(citing):
            span = int(cited.max()) + 1
            if int(citing.max()) < np.iinfo(np.int64).max // span:  # one key: sorting it is ten times faster
                order = np.argsort(citing * span + cited, kind="stable")
            else:
                order = np.lexsort((cited, citing))
            citing, cited, code = citing[order], cited[order], code[order]
            new = np.empty(len(citing), dtype=bool)
            new[0] = True
            new[1:] = (citing[1:] != citing[:-1]) | (cited[1:] != cited[:-1])
            self.row_pair = np.cumsum(new) - 1
            self.pair_citing, self.pair_cited = citing[new], cited[new]
        else:
            self.row_pair = np.zeros(0, dtype=np.int64)
            self.pair_citing = self.pair_cited = np.zeros(0, dtype=np.int64)
        self.row_code = code
        self.pair_ci = self._work_index(self.pair_citing)
        self.pair_di = self._work_index(self.pair_cited)
        located = (self.pair_ci >= 0) & (self.pair_di >= 0)
        self.pair_distance = np.full(len(self.pair_citing), -1, dtype=np.int8)
        self.pair_distance[located] = self.distances(self.pair_ci[located], self.pair_di[located])
        # ---- reference lists (for the controls: a control is a work the citing work did not cite)
        refs = np.fromiter(references, dtype=np.dtype([("citing", np.int64), ("cited", np.int64)]))
        ri, rj = self._work_index(refs["citing"]), self._work_index(refs["cited"])
        keep = (ri >= 0) & (rj >= 0)  # only located works are citing works of ties or controls
        n = len(self.work_ids)
        self.cites = set((ri[keep] * n + rj[keep]).tolist())
        self._units: dict[str, LevelUnits] = {}
        self._lock = threading.Lock()
        self.cache: dict[Any, Any] = {}  # per-filter tables (analysis), while this scan lives

    @classmethod
    def read(cls, store: FlowReader) -> FlowScan:
        rows = np.fromiter(store.flow_statements(), dtype=STATEMENT_ROW)
        return cls(rows, store.located_places(), store.flow_references())

    # ------------------------------------------------------------------------------- places and distances
    def _code_places(self) -> None:
        folded: dict[str, int] = {"": 0}
        raw: dict[str, int] = {"": 0}

        def fid(s: str) -> int:
            return folded.setdefault(fold(s), len(folded))

        def rid(s: str) -> int:
            return raw.setdefault(s, len(raw))

        cols = [(rid(p.country), rid(p.ror), fid(p.institution), fid(p.city), fid(p.region)) for p in self.places]
        codes = np.array(cols, dtype=np.int64).reshape(-1, 5)
        self.p_country, self.p_ror, self.p_inst, self.p_city, self.p_region = codes.T

    def _work_index(self, ids: np.ndarray) -> np.ndarray:
        """Index into the located works of each id; -1 where the work is not located."""
        if len(self.work_ids) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.searchsorted(self.work_ids, ids)
        at[at == len(self.work_ids)] = 0
        return np.where(self.work_ids[at] == ids, at, -1)

    def distances(self, ci: np.ndarray, di: np.ndarray) -> np.ndarray:
        """The distance class (index into DISTANCES) of each (located work ci, located work di) pair: the
        closest over every pair of their places, as ``distance.tie_distance``."""
        a, b, pair = cross_lists(self.place_start, self.work_place, ci, di)
        out = np.full(len(ci), -1, dtype=np.int8)  # a work without places: no class
        if len(pair):
            first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
            out[pair[first]] = np.minimum.reduceat(pair_ranks(self, a, b), first)
        return out

    # ------------------------------------------------------------------------------- units
    def units(self, level: str) -> LevelUnits:
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
        with self._lock:
            found = self._units.get(level)
            if found is None:
                found = self._units[level] = self._level_units(level)
            return found

    def _level_units(self, level: str) -> LevelUnits:
        index: dict[str, int] = {}
        unit_of_place = np.array([index.setdefault(k, len(index)) if k else -1
                                  for k in (p.unit(level) for p in self.places)], dtype=np.int64)
        unit = unit_of_place[self.work_place]
        work = np.repeat(np.arange(len(self.work_ids)), np.diff(self.place_start))
        valid = np.flatnonzero(unit >= 0)
        # Each (work, unit) once, at its first place.
        _, first = np.unique(work[valid] * max(len(index), 1) + unit[valid], return_index=True)
        keep = valid[np.sort(first)]
        start = np.zeros(len(self.work_ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(work[keep], minlength=len(self.work_ids)), out=start[1:])
        return LevelUnits(level, list(index), start, unit[keep], self.work_place[keep])


def pair_ranks(scan: FlowScan, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``distance._rank`` over coded places (both located): 0 same institution … 4 international."""
    ror_a, ror_b = scan.p_ror[a], scan.p_ror[b]
    inst_a, inst_b = scan.p_inst[a], scan.p_inst[b]
    same_inst = np.where((ror_a > 0) & (ror_b > 0), ror_a == ror_b, (inst_a > 0) & (inst_a == inst_b))
    city_a, region_a, region_b = scan.p_city[a], scan.p_region[a], scan.p_region[b]
    rank = np.full(len(a), 3, dtype=np.int8)
    rank[(region_a > 0) & (region_a == region_b)] = 2
    two_regions = (region_a > 0) & (region_b > 0) & (region_a != region_b)  # Rochester MN, Rochester NY
    rank[(city_a > 0) & (city_a == scan.p_city[b]) & ~two_regions] = 1
    rank[same_inst] = 0
    rank[scan.p_country[a] != scan.p_country[b]] = 4
    return rank


def cross_lists(start: np.ndarray, item: np.ndarray, ci: np.ndarray, di: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (item of ci's list, item of dj's list) for each pair (CSR lists ``item[start[i]:start[i+1]]``),
    pair by pair, the citing item outer: (citing items, cited items, pair number)."""
    nc = start[ci + 1] - start[ci]
    nd = start[di + 1] - start[di]
    m = nc * nd
    pair = np.repeat(np.arange(len(ci)), m)
    within = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
    nd_rep = nd[pair]
    a = item[start[ci][pair] + within // np.maximum(nd_rep, 1)]
    b = item[start[di][pair] + within % np.maximum(nd_rep, 1)]
    return a, b, pair


def _ranks(values: np.ndarray) -> np.ndarray:
    """Each value's position in sorted order (numpy compares strings by code point, as Python does)."""
    order = np.argsort(values, kind="stable")
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    return rank
