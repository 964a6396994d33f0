"""The knowledge-flow map (issue 10, part 3: "a flow matrix or map as server-side SVG"): units placed with the
shipped coordinates, sized by statements, the heaviest ties as arcs coloured by stance share; JSON in the API
and the CLI, geometry for the page (drawn in Chromium by test_flows_browser)."""

from __future__ import annotations

import json

import pytest

from citelens.flows.analysis import analyse_flows
from citelens.flows.geo import flow_map
from citelens.pipeline import ingest_paths
from citelens.places.coordinates import city_position, coordinates
from citelens.store import open_store
from citelens.web.flows import MENTIONING, map_svg
from flows_corpus import write_corpus


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - Store
    folder = tmp_path_factory.mktemp("map")
    store = open_store(folder / "i.db")
    assert ingest_paths(write_corpus(folder / "corpus"), store, "cues").failed == []
    yield store
    store.close()


def test_shipped_coordinates() -> None:
    c = coordinates()
    lat, lng = c.cities[("US", "massachusetts", "cambridge")]
    assert abs(lat - 42.4) < 0.3 and abs(lng + 71.1) < 0.3  # Harvard and MIT's Cambridge, not England's
    # One name in two regions is two cities, each at its own place (before, both Rochesters were one point,
    # in New York state): Mayo Clinic's Rochester is in Minnesota.
    mn, ny = city_position(c, "US", "minnesota", "rochester"), city_position(c, "US", "new york", "rochester")
    assert mn is not None and ny is not None and mn[1] < -90 < -80 < ny[1]
    # A city whose state is not known goes where three quarters of the registry's organisations of that name
    # are (Cambridge: Massachusetts)…
    assert city_position(c, "US", "", "cambridge") == city_position(c, "US", "massachusetts", "cambridge")
    # …but one in a state the registry knows, without that city, is a namesake town there: not drawn.
    assert city_position(c, "US", "washington", "rochester") is None
    # A region spelt otherwise than the registry spells it is that region.
    assert city_position(c, "US", "california", "stanford") == city_position(c, "US", "calif", "stanford")
    assert city_position(c, "AT", "state of vienna", "vienna") == city_position(c, "AT", "vienna", "vienna")
    lat, lng = c.countries["FR"]
    assert 42 < lat < 51 and -5 < lng < 8  # France's research, not pulled towards its overseas departments
    assert ("GB", "england") in c.regions and len(c.cells) > 1000


def test_city_map_by_hand(corpus_store) -> None:  # noqa: ANN001
    m = flow_map(analyse_flows(corpus_store, by="city", replicates=50))
    assert json.loads(json.dumps(m)) == m  # plain JSON
    points = {p["id"]: p for p in m["points"]}
    assert set(points) == {"US|massachusetts|cambridge", "US|massachusetts|boston", "US|california|stanford",
                           "CA|ontario|toronto", "GB|england|london", "GB|england|oxford"}
    # Cambridge takes part in A1's five located ties (two of them within Cambridge, counted once) and in
    # UCL → Harvard and Toronto → MIT.
    assert points["US|massachusetts|cambridge"]["statements"] == 7 and m["units_without_coordinates"] == 0
    assert [p["statements"] for p in m["points"]] == sorted((p["statements"] for p in m["points"]), reverse=True)
    assert m["arcs"] and all(a["citing"] != a["cited"] and {a["citing"], a["cited"]} <= set(points)
                             for a in m["arcs"])
    london_oxford = next(a for a in m["arcs"]
                         if (a["citing"], a["cited"]) == ("GB|england|london", "GB|england|oxford"))
    assert (london_oxford["supporting"], london_oxford["contrasting"], london_oxford["mentioning"]) == (1, 0, 0)


def test_units_without_coordinates_are_counted(corpus_store) -> None:  # noqa: ANN001
    m = flow_map(analyse_flows(corpus_store, by="institution", replicates=50))
    # The French laboratory has no city (and no ROR id): counted, not drawn.
    assert m["units"] == 8 and m["units_without_coordinates"] == 1 and m["statements_without_coordinates"] == 1
    assert not any("onerror" in p["label"] for p in m["points"])
    assert flow_map(analyse_flows(corpus_store, by="country", replicates=50))["units_without_coordinates"] == 0


def test_map_geometry() -> None:
    m = {"points": [{"id": "a", "label": "A", "lat": 0.0, "lng": 0.0, "statements": 4.0},
                    {"id": "b", "label": "B", "lat": 40.0, "lng": 90.0, "statements": 1.0}],
         "arcs": [{"citing": "a", "cited": "b", "citing_label": "A", "cited_label": "B", "statements": 3.0,
                   "supporting": 1.0, "contrasting": 0.0, "mentioning": 2.0},
                  {"citing": "b", "cited": "a", "citing_label": "B", "cited_label": "A", "statements": 1.0,
                   "supporting": 0.0, "contrasting": 0.0, "mentioning": 1.0}]}
    g = map_svg(m, width=720)
    assert g["width"] == 720 and g["height"] == 288
    a, b = g["points"]
    assert (a["x"], a["y"]) == (360.0, 168.0) and a["r"] > b["r"]  # (0°, 0°); 84° N at the top edge
    heavy, light = g["arcs"][1], g["arcs"][0]  # the heaviest is drawn last
    assert heavy["d"].startswith("M360.0 168.0Q") and heavy["colour"] == "#1a7f37" and heavy["width"] > light["width"]
    assert light["colour"] == MENTIONING and light["d"] != heavy["d"]  # the other direction bends the other way
    assert g["backdrop"].startswith("M") and set(g["backdrop"]) <= set("MHVZ0123456789. -")


def test_a_label_near_the_right_edge_is_placed_left_of_its_point() -> None:
    """"Southwest Medical University" (Luzhou, 105° E) was cut off at the map's right edge."""
    m = {"points": [{"id": "w", "label": "Sorbonne Université", "lat": 48.8, "lng": 2.3, "statements": 2.0},
                    {"id": "e", "label": "Southwest Medical University", "lat": 28.9, "lng": 170.0,
                     "statements": 1.0}], "arcs": []}
    g = map_svg(m, width=720)
    west, east = g["labels"]
    assert west["anchor"] == "start" and west["x"] > g["points"][0]["x"]
    assert east["anchor"] == "end" and east["x"] < g["points"][1]["x"]
    assert east["x"] - 5.6 * len(east["text"]) >= 0
