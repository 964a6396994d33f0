"""The vectorised knowledge-flow analysis gives exactly what the loop over pairs gave.

tests/fixtures/flows-golden.json was written by the analysis as it was before it worked over arrays (a
Python loop over every statement group, pair and place; 2026-12-03), on the seeded random index of
tests/flows_synthetic.py, for every unit and a spread of filters and seeds: the whole JSON report (counts,
tables, matched controls, localisation ratio and its bootstrap interval, chi-square, top pairs) and the
full network at two levels. The controls and the bootstrap are seeded draws, so "the same" means the same
numbers, not close ones.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import numpy as np
import pytest

from citelens.flows import Place, tie_distance
from citelens.flows.analysis import analyse_flows
from citelens.flows.baseline import draw_controls
from citelens.flows.distance import DISTANCES
from citelens.flows.scan import FlowScan
from citelens.references.resolve import fold
from citelens.store import open_store
from flows_synthetic import INSTITUTIONS, build_flow_index

GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "flows-golden.json").read_text())


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - (store, scan)
    db = tmp_path_factory.mktemp("flows") / "synthetic.db"
    build_flow_index(db)
    store = open_store(db)
    yield store, FlowScan.read(store)
    store.close()


def _edges(rep, countries: bool = False) -> list[list]:  # noqa: ANN001
    edges = rep.country_edges if countries else rep.edges
    return sorted([a, b, *[round(x, 9) for x in v]] for (a, b), v in edges.items())


def _pair_order(p: dict) -> tuple:
    return -p["statements"], p["citing"], p["cited"]


def _city_keys_with_regions(case: dict) -> dict:
    """The golden case with city units keyed and labelled as they are now: "GB|north|alpha", "Alpha, North, GB"
    where the loop keyed "GB|alpha" (a city is keyed by its region since 2026-12-05, so that one name in two
    regions is two cities). Each city of the synthetic index is in one region, so the network is the same one
    under new names. Pairs of equal weight are ordered by key, and the keys' order changed: the top pairs of
    the city cases are compared in one order (rounded weight, then keys) on both sides."""
    if case["params"].get("by") != "city":
        return case
    region = {fold(city): r for _, _, city, r in INSTITUTIONS if city}

    def key(k: str) -> str:
        country, city = k.split("|")
        return f"{country}|{fold(region[city])}|{city}"

    def label(text: str) -> str:
        city, country = text.rsplit(", ", 1)
        return ", ".join(x for x in (city, region[fold(city)], country) if x)

    case = copy.deepcopy(case)
    pairs = case["result"]["top_pairs"]
    for p in pairs:
        p["citing"], p["cited"] = key(p["citing"]), key(p["cited"])
        p["citing_label"], p["cited_label"] = label(p["citing_label"]), label(p["cited_label"])
    pairs.sort(key=_pair_order)
    if "edges" in case:
        case["edges"] = sorted([key(a), key(b), *v] for a, b, *v in case["edges"])
        case["nodes"] = sorted([key(i), label(lab), c] for i, lab, c in case["nodes"])
    return case


@pytest.mark.parametrize("case", GOLDEN["configs"], ids=lambda c: ",".join(f"{k}={v}" for k, v in c["params"].items()))
def test_same_report_as_the_loop_over_pairs(synthetic, case: dict) -> None:  # noqa: ANN001
    store, scan = synthetic
    case = _city_keys_with_regions(case)
    rep = analyse_flows(store, replicates=GOLDEN["replicates"], **case["params"])
    assert _as_golden(rep.to_dict(top=GOLDEN["top"]), case["result"]) == case["result"]
    if "edges" in case:
        assert _edges(rep) == case["edges"] and _edges(rep, True) == case["country_edges"]
        assert sorted([n.id, n.label, n.country] for n in rep.nodes.values()) == case["nodes"]
    # A scan read once serves every report the same.
    shared = analyse_flows(None, scan=scan, replicates=GOLDEN["replicates"], **case["params"])
    assert _as_golden(shared.to_dict(top=GOLDEN["top"]), case["result"]) == case["result"]


def _as_golden(report: dict, golden: dict) -> dict:
    """The report's fields the golden file has (the contract is extended, never renamed: fields added since
    the golden was saved, such as matched_shares, are left out of the comparison)."""
    assert set(golden) <= set(report)
    out = {k: report[k] for k in golden}
    if report["by"] == "city":  # see _city_keys_with_regions
        out["top_pairs"] = sorted(out["top_pairs"], key=_pair_order)
    return out


def test_pair_distances_follow_the_rules(synthetic) -> None:  # noqa: ANN001
    _, scan = synthetic
    located = np.flatnonzero(scan.pair_distance >= 0)
    assert len(located) > 500
    places = [scan.places[p] for p in scan.work_place.tolist()]

    def of(work: int) -> list[Place]:
        return places[scan.place_start[work]:scan.place_start[work + 1]]

    for i in located.tolist():
        expected = tie_distance(of(scan.pair_ci[i]), of(scan.pair_di[i]))
        assert DISTANCES[scan.pair_distance[i]] == expected


def test_inlined_draw_is_randrange() -> None:
    # draw_controls inlines Random.randrange(n); the controls must stay the draws match_controls documents.
    pools = [list(range(n)) for n in (1, 2, 3, 5, 8, 100, 1000, 1025)]
    pairs = [(-1, -2)] * 400
    index = [i % len(pools) for i in range(400)]
    got = draw_controls(pairs, index, pools, lambda c, w: False, seed=4, draws=1)
    rng = random.Random(4)
    assert got == [pools[k][rng.randrange(len(pools[k]))] for k in index]


def test_matched_shares_have_the_denominator_of_the_expected_shares(synthetic) -> None:  # noqa: ANN001
    # Some pairs have no control (works without a year or a journal): "shares" are of every tie statement,
    # "expected_shares" of the matched ones only. Before, the table set the two side by side; the observed share
    # to compare with the expectation is that of the matched statements.
    _, scan = synthetic
    out = analyse_flows(None, scan=scan, by="city", replicates=0).to_dict()
    b = out["baseline"]
    assert b["n_unmatched"] > 0 and b["n_matched"] == sum(b["observed_matched"].values())
    for d in DISTANCES:
        assert out["matched_shares"][d] == pytest.approx(b["observed_matched"][d] / b["n_matched"], abs=1e-6)
    assert sum(out["matched_shares"].values()) == pytest.approx(1.0, abs=1e-5)
    assert sum(out["expected_shares"].values()) == pytest.approx(1.0, abs=1e-5)
    assert any(abs(out["matched_shares"][d] - sum(out["shares"][d].values())) > 1e-3 for d in DISTANCES)
