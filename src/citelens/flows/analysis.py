"""Knowledge flows over an index: every citation statement between two located works is a tie.

``analyse_flows(store, by=…)`` reads three scans from the store (statements counted by citing work, cited
work, section and type; reference lists; located works), classifies each tie by distance
(:mod:`citelens.flows.distance`), draws the matched controls (:mod:`citelens.flows.baseline`) and computes
the statistics (:mod:`citelens.flows.stats`). The result's ``to_dict()`` is the JSON contract of
``citelens flows --by … --json`` and ``GET /api/flows`` (docs/flows.md).

``by`` is the geographic unit: it sets the level at which a tie counts as *local* for the localisation
ratio (same unit or closer: at ``region``, same-institution and same-city ties are local too) and the
nodes of the network (institutions, cities, regions or countries). In the network a statement between
works with several units on a side is split evenly over the unit pairs (fractional counting: each
statement adds 1 in all), so edge weights add up to the tie statements that have units at that level.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from citelens.document import SECTIONS, STANCES
from citelens.flows.baseline import WorkStratum, match_controls
from citelens.flows.distance import DISTANCES, LEVELS, Place, PlaceKey, is_local, key_distance, place_key
from citelens.flows.stats import chi2_independence, localisation_ratio

if TYPE_CHECKING:
    from citelens.store.base import FlowReader

BASELINE_METHOD = ("matched control (Jaffe, Trajtenberg & Henderson 1993): for each citing-cited pair, a located"
                   " work of the cited work's year and journal that the citing work did not cite, drawn at"
                   " random (seeded)")
CI_METHOD = "percentile bootstrap over citing works (clusters), seeded"


@dataclass(frozen=True)
class FlowNode:
    id: str  # the unit key: "ror:03vek6s52", "US|boston", "US"
    label: str
    country: str


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
    nodes: dict[str, FlowNode] = field(default_factory=dict)
    # (citing unit, cited unit) → [statements, supporting, contrasting, mentioning]: plain lists, because a
    # dense network at the institution level has millions of pairs (FlowEdge objects are made on demand).
    edges: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    country_edges: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    country_nodes: dict[str, FlowNode] = field(default_factory=dict)

    def flow_edges(self, *, countries: bool = False) -> Iterator[FlowEdge]:
        """The network's edges (at the ``by`` level, or between countries), in no particular order."""
        for (a, b), v in (self.country_edges if countries else self.edges).items():
            yield FlowEdge(a, b, v[0], dict(zip(STANCES, v[1:], strict=True)))

    def top_pairs(self, n: int = 20, *, countries: bool = False) -> list[dict[str, Any]]:
        edges, nodes = (self.country_edges, self.country_nodes) if countries else (self.edges, self.nodes)
        ranked = heapq.nsmallest(n, edges.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [FlowEdge(a, b, v[0], dict(zip(STANCES, v[1:], strict=True))).to_dict(nodes)
                for (a, b), v in ranked]

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


def _units(places: Iterable[Place], level: str) -> dict[str, Place]:
    out: dict[str, Place] = {}
    for p in places:
        key = p.unit(level)
        if key and key not in out:
            out[key] = p
    return out


def _add_edges(acc: dict[tuple[str, str], list[float]], cu: Iterable[str], du: Iterable[str],
               counts: list[int]) -> None:
    """Add one pair's statements (``counts`` by type, in STANCES order) between its units, split evenly:
    ``acc[(citing unit, cited unit)]`` is [statements, *by type]."""
    cu, du = list(cu), list(du)
    if not cu or not du:
        return
    share = 1.0 / (len(cu) * len(du))
    add = [sum(counts) * share, *(c * share for c in counts)]
    for a in cu:
        for b in du:
            v = acc.get((a, b))
            if v is None:
                acc[(a, b)] = list(add)
            else:
                for i, x in enumerate(add):
                    v[i] += x


def _nodes(acc: dict[tuple[str, str], list[float]], units: Iterable[dict[str, Place]], level: str
           ) -> dict[str, FlowNode]:
    nodes: dict[str, FlowNode] = {}
    used = {k for pair in acc for k in pair}
    for found in units:
        for key, place in found.items():
            if key in used and key not in nodes:
                nodes[key] = FlowNode(key, place.label(level) or key, place.country)
    return nodes


def analyse_flows(store: FlowReader, *, by: str = "institution", stance: str | None = None,
                  section: str | None = None, include_self_citations: bool = False, seed: int = 1,
                  replicates: int = 1000, confidence: float = 0.95) -> FlowReport:
    """Ties by distance × type × section, the matched-control baseline, the localisation ratio at ``by``
    with its bootstrap interval and the chi-square test of distance × type; see the module docstring."""
    if by not in LEVELS:
        raise ValueError(f"--by must be one of {', '.join(LEVELS)}")
    if stance is not None and stance not in STANCES:
        raise ValueError(f"type must be one of {', '.join(STANCES)}")
    rep = FlowReport(by=by, stance=stance, section=section, include_self_citations=include_self_citations,
                     seed=seed)
    rep.observed = {d: dict.fromkeys(STANCES, 0) for d in DISTANCES}
    sections = list(SECTIONS) if section is None else [section]
    rep.by_section = {s: {d: dict.fromkeys(STANCES, 0) for d in DISTANCES} for s in sections}
    works = {w.work_id: w for w in store.located_works()}
    rep.located_works = {"full_text": sum(w.source == "full text" for w in works.values()),
                         "metadata": sum(w.source != "full text" for w in works.values())}
    # A whole-index scan: each work's places are folded once, each pair's distance found once, and the
    # statements are added up per pair before anything is done per pair (edges, controls).
    keys: dict[str, list[PlaceKey]] = {}

    def keys_of(work_id: str) -> list[PlaceKey] | None:
        found = keys.get(work_id)
        if found is None and work_id in works:
            found = keys[work_id] = [place_key(p) for p in works[work_id].places]
        return found

    stance_index = {s: i for i, s in enumerate(STANCES)}
    distance_of: dict[tuple[str, str], str | None] = {}
    pair_counts: dict[tuple[str, str], list[int]] = {}
    for p in store.citation_pairs(stance=stance, section=section):
        rep.n_considered += p.statements
        if p.self_citation and not include_self_citations:
            rep.n_self_citations_excluded += p.statements
            continue
        key = (p.citing_work_id, p.cited_work_id)
        d = distance_of.get(key, "")
        if d == "":
            a, b = keys_of(key[0]), keys_of(key[1])
            d = distance_of[key] = key_distance(a, b) if a is not None and b is not None else None
        if d is None:
            rep.n_not_located += p.statements
            continue
        i = stance_index.get(p.stance)
        if i is None:
            rep.n_unclassified += p.statements
            continue
        rep.n_statements += p.statements
        rep.observed[d][p.stance] += p.statements
        table = rep.by_section.get(p.section)
        if table is None:
            table = rep.by_section[p.section] = {x: dict.fromkeys(STANCES, 0) for x in DISTANCES}
        table[d][p.stance] += p.statements
        counts = pair_counts.get(key)
        if counts is None:
            counts = pair_counts[key] = [0] * len(STANCES)
        counts[i] += p.statements
    rep.n_pairs = len(pair_counts)
    units: dict[tuple[str, str], dict[str, Place]] = {}

    def units_of(work_id: str, level: str) -> dict[str, Place]:
        found = units.get((work_id, level))
        if found is None:
            found = units[(work_id, level)] = _units(works[work_id].places, level)
        return found

    levels = [by] if by == "country" else [by, "country"]
    acc: dict[str, dict[tuple[str, str], list[float]]] = {level: {} for level in levels}
    for (citing, cited), counts in pair_counts.items():
        for level in levels:
            _add_edges(acc[level], units_of(citing, level), units_of(cited, level), counts)
    rep.edges, rep.country_edges = acc[by], acc["country"]
    rep.nodes = _nodes(acc[by], (u for (_, lv), u in units.items() if lv == by), by)
    rep.country_nodes = rep.nodes if by == "country" else _nodes(
        acc["country"], (u for (_, lv), u in units.items() if lv == "country"), "country")
    tie_statements = {k: (distance_of[k] or "", sum(c)) for k, c in pair_counts.items()}
    _baseline(store, rep, works, keys_of, tie_statements, replicates, confidence)
    rep.chi2 = chi2_independence(rep.observed, DISTANCES, STANCES)
    return rep


def _baseline(store: FlowReader, rep: FlowReport, works: dict[str, Any],
              keys_of: Callable[[str], list[PlaceKey] | None],
              tie_statements: dict[tuple[str, str], tuple[str, int]], replicates: int, confidence: float) -> None:
    citing_works = {c for c, _ in tie_statements}
    cited_by: dict[str, set[str]] = defaultdict(set)
    for citing, cited in store.reference_pairs():
        if citing in citing_works:
            cited_by[citing].add(cited)
    strata = {wid: WorkStratum(w.year, w.journal) for wid, w in works.items()}
    controls = match_controls(tie_statements, strata, cited_by, seed=rep.seed)
    rep.expected = dict.fromkeys(DISTANCES, 0)
    rep.observed_matched = dict.fromkeys(DISTANCES, 0)
    obs_local: dict[str, int] = defaultdict(int)
    ctl_local: dict[str, int] = defaultdict(int)
    for (citing, cited), (d, n) in sorted(tie_statements.items()):
        control = controls.get((citing, cited))
        if control is None:
            rep.n_unmatched += n
            rep.pairs_unmatched += 1
            continue
        cd = key_distance(keys_of(citing) or [], keys_of(control) or [])
        assert cd is not None  # controls are located works
        rep.n_matched += n
        rep.pairs_matched += 1
        rep.expected[cd] += n
        rep.observed_matched[d] += n
        obs_local[citing] += n if is_local(d, rep.by) else 0
        ctl_local[citing] += n if is_local(cd, rep.by) else 0
    clusters = sorted(obs_local)
    est = localisation_ratio([obs_local[c] for c in clusters], [ctl_local[c] for c in clusters],
                             replicates=replicates, confidence=confidence, seed=rep.seed)
    n = rep.n_matched
    rep.localisation = {
        "level": rep.by,
        "local_distances": [d for d in DISTANCES if is_local(d, rep.by)],
        "observed_local": sum(obs_local.values()), "expected_local": sum(ctl_local.values()),
        "observed_share": round(sum(obs_local.values()) / n, 6) if n else None,
        "expected_share": round(sum(ctl_local.values()) / n, 6) if n else None,
        **est.to_dict(), "ci_method": CI_METHOD, "clusters": len(clusters),
    }
