"""Knowledge flows over an index: every citation statement between two located works is a tie.

``analyse_flows(store, by=…)`` reads the index once (:class:`citelens.flows.scan.FlowScan`: statements as
integer codes, located works, reference lists), classifies each citing–cited pair by distance
(:mod:`citelens.flows.distance`), draws the matched controls (:mod:`citelens.flows.baseline`) and computes
the statistics (:mod:`citelens.flows.stats`). The result's ``to_dict()`` is the JSON contract of
``citelens flows --by … --json`` and ``GET /api/flows`` (docs/flows.md).

``by`` is the geographic unit: it sets the level at which a tie counts as *local* for the localisation
ratio (same unit or closer: at ``region``, same-institution and same-city ties are local too) and the
nodes of the network (institutions, cities, regions or countries). In the network a statement between
works with several units on a side is split evenly over the unit pairs (fractional counting: each
statement adds 1 in all), so edge weights add up to the tie statements that have units at that level.

The counting is numpy over the scan's arrays; the seeded draws (controls: Python's ``random`` in the
work ids' string order; bootstrap: numpy's generator) are the same draws as a loop over pairs would make,
so a seed gives the same report as before the arrays (tests/fixtures/flows-golden.json). What does not
depend on ``by`` — the tie counts, the controls, the bootstrap resamples for all four levels — is computed
once per filter and kept with the scan (``FlowScan.cache``), so another unit costs only its network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from citelens.document import SECTIONS, STANCES
from citelens.flows.baseline import draw_controls
from citelens.flows.distance import DISTANCES, LEVEL_DISTANCE, LEVELS
from citelens.flows.scan import UNCLASSIFIED, FlowScan, LevelUnits, cross_lists
from citelens.flows.stats import chi2_independence, localisation_ratios

if TYPE_CHECKING:
    from citelens.store.base import FlowReader

BASELINE_METHOD = ("matched control (Jaffe, Trajtenberg & Henderson 1993): for each citing-cited pair, a located"
                   " work of the cited work's year and journal that the citing work did not cite, drawn at"
                   " random (seeded)")
CI_METHOD = "percentile bootstrap over citing works (clusters), seeded"
N_STANCES = len(STANCES)


@dataclass(frozen=True)
class FlowNode:
    id: str  # the unit key: "ror:03vek6s52", "US|massachusetts|boston", "US|massachusetts", "US"
    label: str
    country: str
    city: str = ""  # of the place the label comes from (where the map puts the unit); "" above the city level
    region: str = ""  # likewise; "" at the country level


@dataclass
class FlowEdge:
    """Tie statements from the citing unit to the cited unit (fractional counting), by type."""

    source: str
    target: str
    weight: float = 0.0
    by_stance: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STANCES, 0.0))

    def to_dict(self, nodes: dict[str, FlowNode]) -> dict[str, Any]:
        return {"citing": self.source, "cited": self.target, "citing_label": nodes[self.source].label,
                "cited_label": nodes[self.target].label, "statements": round(self.weight, 4),
                **{s: round(v, 4) for s, v in self.by_stance.items()}}


class FlowNetwork:
    """Tie statements between the units of one level: edge i runs from node ``source[i]`` to node
    ``target[i]`` (indexes into ``nodes``) and carries ``values[i]`` = [statements, supporting,
    contrasting, mentioning], fractionally counted. Arrays, because a dense institution network has a
    million edges and a page shows twenty; ``edges`` makes the dict when something wants them all."""

    def __init__(self, level: str, nodes: list[FlowNode], source: np.ndarray, target: np.ndarray,
                 values: np.ndarray, key_rank: np.ndarray) -> None:
        self.level = level
        self.node_list = nodes
        self.source, self.target, self.values = source, target, values
        self._key_rank = key_rank  # each node's position in key order (ties in ``top`` are broken by key)
        self._nodes: dict[str, FlowNode] | None = None

    @classmethod
    def empty(cls, level: str) -> FlowNetwork:
        none = np.zeros(0, dtype=np.int64)
        return cls(level, [], none, none, np.zeros((0, N_STANCES + 1)), none)

    @property
    def nodes(self) -> dict[str, FlowNode]:
        if self._nodes is None:
            self._nodes = {n.id: n for n in self.node_list}
        return self._nodes

    def __len__(self) -> int:
        return len(self.source)

    def edges(self) -> dict[tuple[str, str], list[float]]:
        """(citing unit, cited unit) → [statements, *by type], in the order the edges first occur."""
        ids = [n.id for n in self.node_list]
        return {(ids[a], ids[b]): v for a, b, v in zip(self.source.tolist(), self.target.tolist(),
                                                       self.values.tolist(), strict=True)}

    def flow_edges(self) -> Iterator[FlowEdge]:
        ids = [n.id for n in self.node_list]
        for a, b, v in zip(self.source.tolist(), self.target.tolist(), self.values.tolist(), strict=True):
            yield FlowEdge(ids[a], ids[b], v[0], dict(zip(STANCES, v[1:], strict=True)))

    def top(self, n: int, among: np.ndarray | None = None) -> list[int]:
        """The ``n`` heaviest edges (indexes), heaviest first; equal weights in (citing, cited) key order.
        ``among``: only these edges (indexes)."""
        cand = np.arange(len(self.source)) if among is None else np.asarray(among, dtype=np.int64)
        w = self.values[cand, 0]
        if n <= 0 or len(w) == 0:
            return []
        if len(w) > n:
            keep = w >= np.partition(w, len(w) - n)[len(w) - n]
            cand, w = cand[keep], w[keep]
        order = np.lexsort((self._key_rank[self.target[cand]], self._key_rank[self.source[cand]], -w))
        return cand[order[:n]].tolist()

    def top_pairs(self, n: int) -> list[dict[str, Any]]:
        ids = [x.id for x in self.node_list]
        out = []
        for i in self.top(n):
            v = self.values[i].tolist()
            edge = FlowEdge(ids[self.source[i]], ids[self.target[i]], v[0], dict(zip(STANCES, v[1:], strict=True)))
            out.append(edge.to_dict(self.nodes))
        return out


@dataclass
class FlowReport:
    by: str
    stance: str | None
    section: str | None
    include_self_citations: bool
    seed: int
    n_statements: int = 0
    n_considered: int = 0
    n_self_citations_excluded: int = 0
    n_not_located: int = 0
    n_unclassified: int = 0
    n_pairs: int = 0
    observed: dict[str, dict[str, int]] = field(default_factory=dict)
    by_section: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    observed_matched: dict[str, int] = field(default_factory=dict)
    n_matched: int = 0
    n_unmatched: int = 0
    pairs_matched: int = 0
    pairs_unmatched: int = 0
    localisation: dict[str, Any] = field(default_factory=dict)
    chi2: dict[str, Any] = field(default_factory=dict)
    located_works: dict[str, int] = field(default_factory=dict)
    network: FlowNetwork = field(default_factory=lambda: FlowNetwork.empty("institution"))
    country_network: FlowNetwork = field(default_factory=lambda: FlowNetwork.empty("country"))

    @property
    def nodes(self) -> dict[str, FlowNode]:
        return self.network.nodes

    @property
    def country_nodes(self) -> dict[str, FlowNode]:
        return self.country_network.nodes

    @property
    def edges(self) -> dict[tuple[str, str], list[float]]:
        """(citing unit, cited unit) → [statements, supporting, contrasting, mentioning] at the ``by`` level."""
        return self.network.edges()

    @property
    def country_edges(self) -> dict[tuple[str, str], list[float]]:
        return self.country_network.edges()

    def flow_edges(self, *, countries: bool = False) -> Iterator[FlowEdge]:
        """The network's edges (at the ``by`` level, or between countries), in no particular order."""
        return (self.country_network if countries else self.network).flow_edges()

    def top_pairs(self, n: int = 20, *, countries: bool = False) -> list[dict[str, Any]]:
        return (self.country_network if countries else self.network).top_pairs(n)

    def shares(self) -> dict[str, dict[str, float]]:
        n = self.n_statements
        return {d: {s: round(c / n, 6) if n else 0.0 for s, c in row.items()} for d, row in self.observed.items()}

    def to_dict(self, top: int = 20) -> dict[str, Any]:
        n_exp = sum(self.expected.values())
        totals = {d: sum(row.values()) for d, row in self.observed.items()}
        return {
            "by": self.by,
            "filters": {"type": self.stance, "section": self.section,
                        "include_self_citations": self.include_self_citations},
            "n_statements": self.n_statements,
            "n_considered": self.n_considered,
            "n_self_citations_excluded": self.n_self_citations_excluded,
            "n_not_located": self.n_not_located,
            "n_unclassified": self.n_unclassified,
            "n_pairs": self.n_pairs,
            "distances": list(DISTANCES),
            "stances": list(STANCES),
            "observed": self.observed,
            "observed_totals": totals,
            "shares": self.shares(),
            "by_section": self.by_section,
            "expected": self.expected,
            "expected_shares": {d: round(c / n_exp, 6) if n_exp else 0.0 for d, c in self.expected.items()},
            # The observed side of the same comparison: shares of the matched statements (``shares`` are of all
            # tie statements, unmatched ones included, so they are not what ``expected_shares`` compares with).
            "matched_shares": {d: round(c / self.n_matched, 6) if self.n_matched else 0.0
                               for d, c in self.observed_matched.items()},
            "baseline": {"method": BASELINE_METHOD, "field": "journal", "seed": self.seed,
                         "n_matched": self.n_matched, "n_unmatched": self.n_unmatched,
                         "pairs_matched": self.pairs_matched, "pairs_unmatched": self.pairs_unmatched,
                         "observed_matched": self.observed_matched},
            "localisation": self.localisation,
            "chi2": self.chi2,
            "located_works": self.located_works,
            "top_pairs": self.top_pairs(top),
            "top_country_pairs": self.top_pairs(top, countries=True),
        }


@dataclass
class TieTables:
    """What a report needs that does not depend on ``by``: counts, the tie pairs and their statements by
    type, the baseline, and the localisation ratio at every level (over the same bootstrap resamples)."""

    counts: dict[str, int]
    observed: dict[str, dict[str, int]]
    by_section: dict[str, dict[str, dict[str, int]]]
    pairs: np.ndarray  # tie pairs (indexes into the scan's pairs), in (citing, cited) id order
    pair_counts: np.ndarray  # pairs × STANCES
    baseline: dict[str, Any]
    expected: dict[str, int]
    observed_matched: dict[str, int]
    localisation: dict[str, dict[str, Any]]
    networks: dict[str, FlowNetwork] = field(default_factory=dict)


def analyse_flows(store: FlowReader | None, *, by: str = "institution", stance: str | None = None,
                  section: str | None = None, include_self_citations: bool = False, seed: int = 1,
                  replicates: int = 1000, confidence: float = 0.95, scan: FlowScan | None = None) -> FlowReport:
    """Ties by distance × type × section, the matched-control baseline, the localisation ratio at ``by``
    with its bootstrap interval and the chi-square test of distance × type; see the module docstring.
    ``scan``: a :class:`FlowScan` of the store read before (then ``store`` is not read)."""
    if by not in LEVELS:
        raise ValueError(f"--by must be one of {', '.join(LEVELS)}")
    if stance is not None and stance not in STANCES:
        raise ValueError(f"type must be one of {', '.join(STANCES)}")
    if scan is None:
        if store is None:
            raise ValueError("analyse_flows needs a store or a scan")
        scan = FlowScan.read(store)
    ties = tie_tables(scan, stance, section, include_self_citations, seed, replicates, confidence)
    rep = FlowReport(by=by, stance=stance, section=section, include_self_citations=include_self_citations,
                     seed=seed, observed=ties.observed, by_section=ties.by_section, expected=ties.expected,
                     observed_matched=ties.observed_matched, localisation=ties.localisation[by],
                     located_works={"full_text": scan.n_full_text, "metadata": scan.n_metadata})
    for name, value in (*ties.counts.items(), *ties.baseline.items()):
        setattr(rep, name, value)
    rep.network = _network(scan, ties, by)
    rep.country_network = _network(scan, ties, "country")
    rep.chi2 = chi2_independence(rep.observed, DISTANCES, STANCES)
    return rep


def tie_tables(scan: FlowScan, stance: str | None, section: str | None, include_self: bool, seed: int,
               replicates: int, confidence: float) -> TieTables:
    """The by-independent part of a report, kept with the scan (a few per scan: one per filter seen)."""
    key = (stance, section, include_self, seed, replicates, confidence)
    found = scan.cache.get(key)
    if found is None:
        if len(scan.cache) >= 32:
            scan.cache.clear()
        found = scan.cache[key] = _tie_tables(scan, stance, section, include_self, seed, replicates, confidence)
    return found


def _tie_tables(scan: FlowScan, stance: str | None, section: str | None, include_self: bool, seed: int,
                replicates: int, confidence: float) -> TieTables:
    code = scan.row_code
    row_section, row_stance, row_self = code // 8, (code // 2) % 4, (code % 2).astype(bool)
    keep = np.ones(len(code), dtype=bool)
    if stance is not None:
        keep &= row_stance == STANCES.index(stance)
    if section is not None:
        keep &= row_section == SECTIONS.index(section) if section in SECTIONS else False
    counts = {"n_considered": int(keep.sum()), "n_self_citations_excluded": 0}
    if not include_self:
        counts["n_self_citations_excluded"] = int((keep & row_self).sum())
        keep &= ~row_self
    located = scan.pair_distance[scan.row_pair] >= 0
    counts["n_not_located"] = int((keep & ~located).sum())
    keep &= located
    counts["n_unclassified"] = int((keep & (row_stance == UNCLASSIFIED)).sum())
    keep &= row_stance != UNCLASSIFIED
    counts["n_statements"] = int(keep.sum())
    pair, kind, dist = scan.row_pair[keep], row_stance[keep], scan.pair_distance[scan.row_pair[keep]]
    n_d, n_s = len(DISTANCES), N_STANCES
    cube = np.bincount((row_section[keep] * n_d + dist) * n_s + kind, minlength=len(SECTIONS) * n_d * n_s)
    cube = cube.reshape(len(SECTIONS), n_d, n_s)
    by_section = {s: _table(cube[i].tolist()) for i, s in enumerate(SECTIONS) if section is None or s == section}
    if section is not None and section not in by_section:
        by_section[section] = _table([[0] * n_s] * n_d)
    observed = _table(cube.sum(axis=0).tolist())
    per_pair = np.bincount(pair * n_s + kind, minlength=len(scan.pair_citing) * n_s).reshape(-1, n_s)
    pairs = np.flatnonzero(per_pair.sum(axis=1))
    pair_counts = per_pair[pairs]
    counts["n_pairs"] = len(pairs)
    baseline, expected, observed_matched, localisation = _baseline(scan, pairs, pair_counts.sum(axis=1), seed,
                                                                   replicates, confidence)
    return TieTables(counts, observed, by_section, pairs, pair_counts, baseline, expected, observed_matched,
                     localisation)


def _table(rows: list[list[int]]) -> dict[str, dict[str, int]]:
    return {d: dict(zip(STANCES, row, strict=True)) for d, row in zip(DISTANCES, rows, strict=True)}


def _baseline(scan: FlowScan, pairs: np.ndarray, statements: np.ndarray, seed: int, replicates: int,
              confidence: float) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, dict[str, Any]]]:
    ci, di, dist = scan.pair_ci[pairs], scan.pair_di[pairs], scan.pair_distance[pairs]
    # The draws visit the pairs in the string order of their work ids, as match_controls does.
    order = np.lexsort((scan.work_rank[di], scan.work_rank[ci]))
    n_works = len(scan.work_ids)
    cites = scan.cites
    drawn = draw_controls(list(zip(ci[order].tolist(), di[order].tolist(), strict=True)),
                          scan.work_stratum[di[order]].tolist(), scan.pools,
                          lambda citing, w: citing * n_works + w in cites, seed=seed)
    control = np.full(len(pairs), -1, dtype=np.int64)
    control[order] = [-1 if w is None else w for w in drawn]
    matched = control >= 0
    n = statements[matched]
    control_dist = scan.distances(ci[matched], control[matched]).astype(np.int64)
    obs_dist = dist[matched].astype(np.int64)

    def by_distance(d: np.ndarray) -> dict[str, int]:
        return dict(zip(DISTANCES, np.bincount(d, weights=n, minlength=len(DISTANCES)).astype(np.int64).tolist(),
                        strict=True))

    n_matched = int(n.sum())
    baseline = {"n_matched": n_matched, "n_unmatched": int(statements[~matched].sum()),
                "pairs_matched": int(matched.sum()), "pairs_unmatched": int((~matched).sum())}
    # Clusters: the citing works of matched pairs, in work id (string) order, as the bootstrap resamples them.
    citing = ci[matched]
    works = np.unique(citing)
    works = works[np.argsort(scan.work_rank[works], kind="stable")]
    slot = np.empty(n_works, dtype=np.int64)
    slot[works] = np.arange(len(works))
    cluster = slot[citing]
    obs = np.zeros((len(works), len(LEVELS)))
    ctl = np.zeros((len(works), len(LEVELS)))
    for k, level in enumerate(LEVELS):
        limit = DISTANCES.index(LEVEL_DISTANCE[level])
        obs[:, k] = np.bincount(cluster, weights=n * (obs_dist <= limit), minlength=len(works))
        ctl[:, k] = np.bincount(cluster, weights=n * (control_dist <= limit), minlength=len(works))
    estimates = localisation_ratios(obs, ctl, replicates=replicates, confidence=confidence, seed=seed)
    localisation = {}
    for k, (level, est) in enumerate(zip(LEVELS, estimates, strict=True)):
        o, c = int(obs[:, k].sum()), int(ctl[:, k].sum())
        localisation[level] = {
            "level": level,
            "local_distances": list(DISTANCES[:DISTANCES.index(LEVEL_DISTANCE[level]) + 1]),
            "observed_local": o, "expected_local": c,
            "observed_share": round(o / n_matched, 6) if n_matched else None,
            "expected_share": round(c / n_matched, 6) if n_matched else None,
            **est.to_dict(), "ci_method": CI_METHOD, "clusters": len(works),
        }
    return baseline, by_distance(control_dist), by_distance(obs_dist), localisation


def _network(scan: FlowScan, ties: TieTables, level: str) -> FlowNetwork:
    """The tie pairs' statements between their works' units at ``level``, split evenly over the unit pairs
    (accumulated in pair order, as a loop over the pairs would add them)."""
    found = ties.networks.get(level)
    if found is not None:
        return found
    units = scan.units(level)
    ci, di = scan.pair_ci[ties.pairs], scan.pair_di[ties.pairs]
    a, b, row_pair = cross_lists(units.start, units.unit, ci, di)
    if len(a) == 0:
        net = ties.networks[level] = FlowNetwork.empty(level)
        return net
    sizes = (units.start[ci + 1] - units.start[ci]) * (units.start[di + 1] - units.start[di])
    share = 1.0 / np.maximum(sizes, 1)
    add = np.column_stack([ties.pair_counts.sum(axis=1) * share, ties.pair_counts * share[:, None]])
    edge_key = a * len(units.keys) + b
    keys, first, inverse = np.unique(edge_key, return_index=True, return_inverse=True)
    values = np.column_stack([np.bincount(inverse, weights=add[row_pair, k], minlength=len(keys))
                              for k in range(add.shape[1])])
    in_order = np.argsort(first, kind="stable")  # edges in the order they first occur
    source_unit, target_unit = keys[in_order] // len(units.keys), keys[in_order] % len(units.keys)
    nodes, node_of = _nodes(scan, units, ci, di, np.union1d(source_unit, target_unit))
    net = FlowNetwork(level, nodes, node_of[source_unit], node_of[target_unit], values[in_order],
                      _node_rank([n.id for n in nodes]))
    ties.networks[level] = net
    return net


def _nodes(scan: FlowScan, units: LevelUnits, ci: np.ndarray, di: np.ndarray, used: np.ndarray
           ) -> tuple[list[FlowNode], np.ndarray]:
    """The network's nodes, labelled from the first place that names each unit — works in the order they
    first occur among the tie pairs (citing before cited), places in their order — and ordered so."""
    seq = np.column_stack([ci, di]).ravel()
    works, first = np.unique(seq, return_index=True)
    works = works[np.argsort(first, kind="stable")]
    lengths = units.start[works + 1] - units.start[works]
    entry = np.repeat(units.start[works], lengths) + (np.arange(int(lengths.sum()))
                                                       - np.repeat(np.cumsum(lengths) - lengths, lengths))
    unit_ids, at = np.unique(units.unit[entry], return_index=True)
    is_used = np.isin(unit_ids, used)
    unit_ids, at = unit_ids[is_used], at[is_used]
    order = np.argsort(at, kind="stable")
    node_of = np.full(len(units.keys), -1, dtype=np.int64)
    nodes = []
    for k, (u, e) in enumerate(zip(unit_ids[order].tolist(), entry[at[order]].tolist(), strict=True)):
        node_of[u] = k
        place = scan.places[int(units.place[e])]
        key = units.keys[u]
        level = units.level
        nodes.append(FlowNode(key, place.label(level) or key, place.country,
                              place.city if level in ("city", "institution") else "",
                              place.region if level != "country" else ""))
    return nodes, node_of


def _node_rank(ids: list[str]) -> np.ndarray:
    order = sorted(range(len(ids)), key=ids.__getitem__)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank
