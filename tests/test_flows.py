"""Knowledge flows (issue 10, part 3): distance rules, matched controls, statistics (checked by hand and
against scipy), OpenAlex metadata import, store scans on both backends, and the analysis end to end."""

from __future__ import annotations

import json
import math
from dataclasses import astuple
from pathlib import Path

import pytest
from scipy.stats import chi2_contingency

from citelens.document import SECTIONS, STANCES
from citelens.flows import DISTANCES, Place, is_local, place_distance, tie_distance
from citelens.flows.analysis import analyse_flows
from citelens.flows.baseline import WorkStratum, match_controls
from citelens.flows.stats import chi2_independence, localisation_ratio
from citelens.formats.crossref import metadata_record, parse_metadata_lines
from citelens.formats.openalex import split_display_name
from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.store.base import format_work_id
from flows_corpus import OBSERVED, OPENALEX, write_corpus

HARVARD = Place("Harvard University", "03vek6s52", "Cambridge", "Massachusetts", "US")
MIT = Place("Massachusetts Institute of Technology", "042nb2s44", "Cambridge", "Massachusetts", "US")
BU = Place("Boston University", "05qwgg493", "Boston", "Massachusetts", "US")
STANFORD = Place("Stanford University", "00f54p054", "Stanford", "California", "US")
TORONTO = Place("University of Toronto", "03dbr7087", "Toronto", "Ontario", "CA")
CAMBRIDGE_UK = Place("University of Cambridge", "013meh722", "Cambridge", "England", "GB")


# ------------------------------------------------------------------------------------------ distance rules

def test_place_distance_classes() -> None:
    assert place_distance(HARVARD, HARVARD) == "same_institution"
    assert place_distance(HARVARD, MIT) == "same_city"
    assert place_distance(HARVARD, BU) == "same_region"
    assert place_distance(HARVARD, STANFORD) == "same_country"
    assert place_distance(HARVARD, TORONTO) == "international"
    # Cambridge, MA and Cambridge, UK share a city name, not a city.
    assert place_distance(HARVARD, CAMBRIDGE_UK) == "international"
    # Without ROR ids, the same folded institution name in the same country is one institution.
    assert place_distance(Place("Institut Pasteur", country="FR"), Place("INSTITUT  PASTEUR", country="FR")) \
        == "same_institution"
    assert place_distance(Place("Institut Pasteur", country="FR"), Place("Institut Pasteur", country="TN")) \
        == "international"
    # Two ROR ids decide even when the names look alike.
    assert place_distance(Place("Univ", "01", country="US"), Place("Univ", "02", country="US")) == "same_country"
    # A place without a country is not located.
    assert place_distance(HARVARD, Place("Somewhere")) is None


def test_one_city_name_in_two_regions_is_two_cities() -> None:
    # Before, Mayo Clinic (Rochester, Minnesota) citing the University of Rochester (Rochester, New York) was a
    # same-city tie; so were Columbia MO and SC, Durham NC and NH, Lexington KY and MA.
    import numpy as np

    from citelens.flows.scan import STATEMENT_ROW, FlowScan

    mayo = Place("Mayo Clinic", "02qp3tb03", "Rochester", "Minnesota", "US")
    urmc = Place("University of Rochester Medical Center", "00trqv719", "Rochester", "New York", "US")
    unknown_region = Place("Rochester Institute", "", "Rochester", "", "US")
    assert place_distance(mayo, urmc) == "same_country"
    assert place_distance(mayo, unknown_region) == "same_city"  # nothing says they are apart
    # The whole-index scan applies the same rule.
    places = [(1, 2020, "J", "full text", *astuple(mayo)), (2, 2020, "J", "full text", *astuple(urmc)),
              (3, 2020, "J", "full text", *astuple(unknown_region))]
    rows = np.array([(1, 2, 0), (1, 3, 0)], dtype=STATEMENT_ROW)
    scan = FlowScan(rows, places, [])
    assert [DISTANCES[d] for d in scan.pair_distance.tolist()] == ["same_country", "same_city"]


def test_one_city_name_in_two_regions_is_two_nodes() -> None:
    # Before, the city unit was keyed country|city: Mayo Clinic (Rochester, Minnesota) and the University of
    # Rochester (Rochester, New York) were one node "US|rochester" of the city network, its tables and map.
    import numpy as np

    from citelens.flows.analysis import analyse_flows
    from citelens.flows.scan import STATEMENT_ROW, FlowScan

    mayo = Place("Mayo Clinic", "02qp3tb03", "Rochester", "Minnesota", "US")
    urmc = Place("University of Rochester Medical Center", "00trqv719", "Rochester", "New York", "US")
    somewhere = Place("Rochester Institute", "", "Rochester", "", "US")
    assert (mayo.unit("city"), urmc.unit("city")) == ("US|minnesota|rochester", "US|new york|rochester")
    assert somewhere.unit("city") == "US||rochester"
    assert (mayo.label("city"), somewhere.label("city")) == ("Rochester, Minnesota, US", "Rochester, US")
    places = [(1, 2020, "J", "full text", *astuple(mayo)), (2, 2020, "J", "full text", *astuple(urmc)),
              (3, 2020, "J", "full text", *astuple(somewhere))]
    rows = np.array([(1, 2, 0), (2, 1, 2), (1, 3, 0)], dtype=STATEMENT_ROW)
    rep = analyse_flows(None, scan=FlowScan(rows, places, []), by="city", replicates=0)
    assert set(rep.edges) == {("US|minnesota|rochester", "US|new york|rochester"),
                              ("US|new york|rochester", "US|minnesota|rochester"),
                              ("US|minnesota|rochester", "US||rochester")}
    assert rep.nodes["US|new york|rochester"].label == "Rochester, New York, US"
    # The vectorised network has the units the plain rule gives each place.
    assert {n.id for n in rep.nodes.values()} == {p.unit("city") for p in (mayo, urmc, somewhere)}


def test_tie_takes_the_closest_pair() -> None:
    assert tie_distance([TORONTO, HARVARD], [BU, CAMBRIDGE_UK]) == "same_region"
    assert tie_distance([TORONTO], [BU, CAMBRIDGE_UK]) == "international"
    assert tie_distance([HARVARD], []) is None
    assert tie_distance([Place("x")], [HARVARD]) is None


def test_local_levels_nest() -> None:
    assert [d for d in DISTANCES if is_local(d, "institution")] == ["same_institution"]
    assert [d for d in DISTANCES if is_local(d, "region")] == ["same_institution", "same_city", "same_region"]
    assert not is_local("international", "country")
    with pytest.raises(ValueError):
        is_local("same_city", "planet")


def test_units_and_labels() -> None:
    assert HARVARD.unit("institution") == "ror:03vek6s52" and HARVARD.unit("city") == "US|massachusetts|cambridge"
    assert HARVARD.unit("region") == "US|massachusetts" and HARVARD.unit("country") == "US"
    assert Place(country="US").unit("city") == "" and HARVARD.label("city") == "Cambridge, Massachusetts, US"
    # A city whose region is not known keeps an empty region in its key.
    assert Place(city="Rochester", country="US").unit("city") == "US||rochester"
    assert Place(city="Rochester", country="US").label("city") == "Rochester, US"


# ------------------------------------------------------------------------------------------ matched controls

def test_controls_share_year_and_journal_and_were_not_cited() -> None:
    strata = {"W1": WorkStratum(2019, "J A"), "W2": WorkStratum(2019, "j  a"), "W3": WorkStratum(2019, "J A"),
              "W4": WorkStratum(2020, "J A"), "W5": WorkStratum(2019, "J B"), "W9": WorkStratum(2021, "J C")}
    cited_by = {"W9": {"W1", "W2"}}
    controls = match_controls([("W9", "W1")], strata, cited_by, seed=3)
    assert controls == {("W9", "W1"): "W3"}  # W2 was cited, W4 is another year, W5 another journal
    # Nothing eligible: unmatched.
    assert match_controls([("W9", "W5")], strata, cited_by) == {("W9", "W5"): None}
    # No year: no stratum.
    assert match_controls([("W9", "W8")], {**strata, "W8": WorkStratum(None, "J A")}, {}) == {("W9", "W8"): None}


def test_controls_are_seeded_and_uniform() -> None:
    strata = {f"W{i}": WorkStratum(2019, "J") for i in range(1, 11)}
    pairs = [(f"C{i}", "W1") for i in range(400)]
    a = match_controls(pairs, strata, {}, seed=7)
    assert a == match_controls(reversed(pairs), strata, {}, seed=7)  # order of the input does not matter
    assert a != match_controls(pairs, strata, {}, seed=8)
    counts = {w: list(a.values()).count(w) for w in strata}
    assert counts["W1"] == 0 and all(20 < counts[w] < 70 for w in strata if w != "W1")  # ~44 each


# ------------------------------------------------------------------------------------------ statistics

def test_chi2_by_hand_and_against_scipy() -> None:
    # Rows sum to 60 and 60, columns to 30, 40, 50 (N = 120): expected 15, 20, 25 in both rows, so
    # chi2 = 2 * (25/15 + 0 + 25/25) = 16/3, 2 degrees of freedom, p = exp(-chi2 / 2).
    table = {"same_city": {"supporting": 10, "contrasting": 20, "mentioning": 30},
             "international": {"supporting": 20, "contrasting": 20, "mentioning": 20},
             "same_region": {"supporting": 0, "contrasting": 0, "mentioning": 0}}
    out = chi2_independence(table, DISTANCES, ("supporting", "contrasting", "mentioning"))
    assert out["rows"] == ["same_city", "international"]  # the empty row is dropped
    assert out["statistic"] == pytest.approx(16 / 3, abs=1e-6) and out["dof"] == 2
    assert out["p_value"] == pytest.approx(math.exp(-8 / 3), rel=1e-9)
    ref = chi2_contingency([[10, 20, 30], [20, 20, 20]])
    assert out["p_value"] == pytest.approx(ref.pvalue) and out["statistic"] == pytest.approx(ref.statistic)
    # Cramér's V = sqrt(chi2 / (N * (min(r, c) - 1))).
    assert out["cramers_v"] == pytest.approx(math.sqrt((16 / 3) / 120), abs=1e-6)


def test_chi2_needs_two_rows_and_columns() -> None:
    out = chi2_independence({"same_city": {"supporting": 4}}, DISTANCES, ("supporting", "mentioning"))
    assert out["statistic"] is None and out["p_value"] is None and "reason" in out


def test_localisation_ratio_and_its_interval() -> None:
    est = localisation_ratio([3, 1, 2, 0], [1, 1, 0, 1], replicates=500, seed=1)
    assert est.ratio == pytest.approx(2.0)  # 6 local ties against 3 local controls
    assert est.ci_low is not None and est.ci_high is not None and est.ci_low <= 2.0 <= est.ci_high
    assert est == localisation_ratio([3, 1, 2, 0], [1, 1, 0, 1], replicates=500, seed=1)  # seeded
    # Every cluster the same: no sampling variation, the interval collapses on the ratio.
    same = localisation_ratio([2] * 30, [1] * 30, replicates=200)
    assert same.ci_low == pytest.approx(2.0) and same.ci_high == pytest.approx(2.0)
    assert localisation_ratio([1, 2], [0, 0]).ratio is None


def test_bootstrap_interval_covers_like_a_normal_approximation() -> None:
    # Many clusters of one statement each: the ratio of two proportions; its bootstrap interval should be
    # close to the delta-method interval (log-ratio standard error) computed by hand.
    obs = [1] * 300 + [0] * 700
    ctl = [1] * 150 + [0] * 850
    est = localisation_ratio(obs, ctl, replicates=2000, seed=5)
    assert est.ratio == pytest.approx(2.0)
    # Paired data, the same clusters: Var(log R) ≈ (1-p1)/(n p1) + (1-p2)/(n p2) - 2 cov term; the pairing
    # here is positive (the first 150 are local on both sides), which narrows it: check the bounds loosely.
    se_unpaired = math.sqrt(0.7 / 300 + 0.85 / 150)
    assert est.ci_low > 2.0 * math.exp(-1.96 * se_unpaired * 1.05)
    assert est.ci_high < 2.0 * math.exp(1.96 * se_unpaired * 1.05)


# ------------------------------------------------------------------------------------------ OpenAlex records

def test_openalex_records_carry_located_authors() -> None:
    records, errors = parse_metadata_lines(OPENALEX.read_bytes(), "openalex-works.jsonl")
    assert errors == [] and len(records) == 14
    first = records[0]
    assert first.doi == "10.5555/cited.c1" and first.year == 2019 and first.container == "Journal of Cited Things"
    assert first.kind == "metadata" and first.pages == "10-19" and first.volume == "7"
    author = first.authors[0]
    assert (author.family, author.given, author.orcid) == ("Park", "Carol Q.", "0000-0002-1825-0097")
    assert author.affiliations[0].ror == "03vek6s52" and author.affiliations[0].country == "US"
    # No institution matched by OpenAlex: the raw affiliation string is kept for the locator.
    assert records[8].authors[0].affiliations[0].raw.startswith("Department of Biology, Stanford")
    assert split_display_name("Ludwig van Beethoven") == ("van Beethoven", "Ludwig")
    # A line with a number json refuses (over 4,300 digits) is one line's error; the other lines still count.
    records, errors = parse_metadata_lines(b'{"DOI": "10.1/x", "volume": ' + b"9" * 5000 + b'}\n'
                                           b'{"DOI": "10.1/y", "title": ["Fine"]}\n', "m.jsonl")
    assert len(records) == 1 and errors == ["line 1: a number of more than 4,300 digits"]
    # A year past any the database holds (it overflowed SQLite's integers: the whole file failed) is no year.
    records, errors = parse_metadata_lines(b'{"DOI": "10.1/z", "title": ["Big"], "issued": {"date-parts": '
                                           b'[[99999999999999999999999]]}}\n', "m.jsonl")
    assert errors == [] and records[0].year is None
    assert split_display_name("Piwowar, Heather") == ("Piwowar", "Heather")


def test_openalex_hostile_fields_are_ignored() -> None:
    rec = metadata_record({"id": "https://openalex.org/W1", "title": ["not", "a", "string"], "display_name": "T",
                           "publication_year": "1999; DROP TABLE", "authorships": [7, {"author": "x"},
                                                                                   {"institutions": "nope"}],
                           "ids": {"pmid": "https://pubmed.ncbi.nlm.nih.gov/29456894", "pmcid": 5}})
    assert rec.title == "T" and rec.year is None and rec.pmid == "29456894" and rec.pmcid == "PMC5"
    assert rec.authors == []  # authorships that name nobody (not objects, no name, no institution) are left out


def test_crossref_author_affiliations_are_read() -> None:
    rec = metadata_record({"message": {"DOI": "10.1/x", "title": ["X"], "author": [
        {"family": "Lee", "given": "Tom", "ORCID": "http://orcid.org/0000-0001-0000-0002",
         "affiliation": [{"name": "University of Toronto, Toronto, Canada"}]}]}})
    assert rec.authors[0].affiliations[0].raw == "University of Toronto, Toronto, Canada"
    assert rec.authors[0].orcid == "0000-0001-0000-0002"


# ------------------------------------------------------------------------------------------ the index

@pytest.fixture
def flows_store(store_url: str, tmp_path: Path):  # noqa: ANN201 - Store
    store = open_store(store_url)
    summary = ingest_paths(write_corpus(tmp_path / "corpus"), store, "cues")
    assert summary.failed == [] and summary.metadata_records == 14
    yield store
    store.close()


def test_store_scans(flows_store) -> None:  # noqa: ANN001
    works = {w.work_id: w for w in flows_store.located_works()}
    by_doi = {flows_store.get_work(f"10.5555/cited.c{n}").id: n for n in range(1, 15)}
    sources = {by_doi.get(w.work_id, "A"): w.source for w in works.values()}
    assert sources == {**{n: "metadata" for n in range(1, 15) if n != 5}, "A": "full text"}  # C5 has no place
    stanford = works[flows_store.get_work("10.5555/cited.c9").id]
    assert stanford.places[0].city == "Stanford" and stanford.places[0].region == "California"
    a1 = works[flows_store.get_work("10.5555/flows.a1").id]
    assert a1.places[0].ror == "03vek6s52" and a1.journal == "Journal of Flows" and a1.year == 2021
    rows = list(flows_store.flow_statements())  # (citing, cited, section × 8 + type × 2 + self-citation)
    assert len(rows) == 13 and sum(code % 2 for _, _, code in rows) == 1
    supporting_results = SECTIONS.index("results") * 8 + STANCES.index("supporting") * 2
    assert sum(code // 2 * 2 == supporting_results for _, _, code in rows) == 3
    assert {(format_work_id(a), format_work_id(b)) for a, b, _ in rows} <= set(
        (format_work_id(a), format_work_id(b)) for a, b in flows_store.flow_references())
    refs = {(format_work_id(a), format_work_id(b)) for a, b in flows_store.flow_references()}
    assert len(refs) == 13 and (a1.work_id, flows_store.get_work("10.5555/cited.c5").id) in refs
    # located_places: the rows behind located_works, one per located affiliation.
    assert {format_work_id(r[0]) for r in flows_store.located_places()} == set(works)
    # Importing the metadata again replaces the places, never duplicates them.
    wid = flows_store.get_work("10.5555/cited.c4").id
    records, _ = parse_metadata_lines(OPENALEX.read_bytes(), "again.jsonl")
    from citelens.places.stage import locate_author_affiliations

    locate_author_affiliations(records[3].authors)
    assert flows_store.save_work_places(wid, records[3].authors, "metadata") == 2
    assert len(next(w for w in flows_store.located_works() if w.work_id == wid).places) == 1  # one place, twice


def test_analysis_end_to_end(flows_store) -> None:  # noqa: ANN001
    rep = analyse_flows(flows_store, by="country", seed=1, replicates=200)
    out = rep.to_dict()
    assert out["n_statements"] == 11 and out["observed"] == OBSERVED
    assert out["n_self_citations_excluded"] == 1 and out["n_not_located"] == 1 and out["n_considered"] == 13
    assert out["by_section"]["results"]["same_region"]["supporting"] == 2
    assert sum(out["expected"].values()) == out["baseline"]["n_matched"] == 11
    assert out["localisation"]["observed_local"] == 6  # every tie but the 5 international ones
    table = [[OBSERVED[d][s] for s in ("supporting", "contrasting", "mentioning")] for d in DISTANCES]
    ref = chi2_contingency(table)
    assert out["chi2"]["statistic"] == pytest.approx(ref.statistic) and out["chi2"]["p_value"] == pytest.approx(ref.pvalue)
    assert json.loads(json.dumps(out)) == out  # plain JSON
    # Seeded: the same controls and interval every time.
    assert analyse_flows(flows_store, by="country", seed=1, replicates=200).to_dict() == out
    # Self-citations switched on: the Toronto self-citation is a same-institution supporting tie.
    with_self = analyse_flows(flows_store, by="institution", include_self_citations=True).to_dict()
    assert with_self["n_statements"] == 12 and with_self["observed"]["same_institution"]["supporting"] == 1
    only = analyse_flows(flows_store, by="city", stance="supporting").to_dict()
    assert only["n_statements"] == 2 and only["chi2"]["statistic"] is None
    assert analyse_flows(flows_store, section="introduction").to_dict()["n_statements"] == 4
    # Network at the institution level: Harvard → Harvard is a loop of one mentioning statement.
    top = {(e["citing_label"], e["cited_label"]): e for e in rep.top_pairs(50)}
    assert top[("US", "US")]["statements"] == 4
    inst = analyse_flows(flows_store, by="institution").top_pairs(50)
    assert any(e["citing_label"] == "Harvard University" and e["cited_label"] == "Harvard University" for e in inst)


# ------------------------------------------------------------------------------------------ web API

def test_api_flows_contract_and_errors(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = tmp_path / "i.db"
    store = open_store(db)
    assert ingest_paths(write_corpus(tmp_path / "corpus"), store, "cues").failed == []
    store.close()
    client = TestClient(create_app(db, Settings(secret_key="k")))
    body = client.get("/api/flows?by=country&top=2").json()
    assert body["n_statements"] == 11 and body["observed"] == OBSERVED and len(body["top_pairs"]) == 2
    assert body["map"]["level"] == "country" and len(body["map"]["points"]) == 4
    assert set(body["expected"]) == set(DISTANCES) and set(body["chi2"]) >= {"statistic", "p_value"}
    assert body == {**client.get("/api/flows?by=country&top=2").json()}  # cached, the same
    assert client.get("/api/flows?include_self_citations=true").json()["n_statements"] == 12
    for bad in ("by=planet", "type=agreeing", "section=abstract", "seed=-1", "top=0", "top=51"):
        r = client.get(f"/api/flows?{bad}")
        assert r.status_code in (400, 422), bad
    page = client.get("/flows?by=region&section=results")
    assert page.status_code == 200 and "<strong>4</strong> tie statements" in page.text and "<svg" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get("/flows").text
    # The city page and its map name each city with its region (the unit is keyed by it).
    city = client.get("/flows?by=city").text
    assert "Cambridge, Massachusetts, US" in city and "Cambridge, US" not in city
    points = client.get("/api/flows?by=city").json()["map"]["points"]
    assert {(p["id"], p["region"]) for p in points} >= {("US|massachusetts|cambridge", "Massachusetts")}


def test_flows_page_validates_as_the_api_does(tmp_path: Path) -> None:
    """The page takes the API's parameters through the same functions: a value the API refuses is a 400 naming
    it (the page quietly took include_self_citations=maybe as false and ignored top), and top= sets how many
    pairs the bar charts show, as it sets how many the API lists."""
    from fastapi.testclient import TestClient

    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    db = tmp_path / "i.db"
    store = open_store(db)
    assert ingest_paths(write_corpus(tmp_path / "corpus"), store, "cues").failed == []
    store.close()
    client = TestClient(create_app(db, Settings(secret_key="k")))
    for bad, name in (("include_self_citations=maybe", "include_self_citations"), ("top=0", "top"),
                      ("top=51", "top"), ("top=x", "top"), ("seed=-1", "seed"), ("by=planet", "by")):
        api, page = client.get(f"/api/flows?{bad}"), client.get(f"/flows?{bad}")
        assert api.status_code in (400, 422) and page.status_code == 400, (bad, api.status_code, page.status_code)
        assert name in page.text, bad
    for yes in ("1", "true", "on", "YES"):  # the checkbox sends 1; the API's spellings work on the page too
        assert "self-citations included" in client.get(f"/flows?include_self_citations={yes}").text, yes
        assert client.get(f"/api/flows?include_self_citations={yes}").json()["n_statements"] == 12, yes
    assert "self-citations excluded" in client.get("/flows?include_self_citations=false").text
    all_pairs = len(client.get("/api/flows?by=country").json()["top_pairs"])
    assert all_pairs > 2
    html = client.get("/flows?by=country&top=2").text
    chart = html.split('id="top-pairs"')[1].split("</svg>")[0]
    assert chart.count("<g><title>") == 2
    # a screen reader hears the chart's numbers by type (the bars' colours say them to sighted readers only)
    pairs = client.get("/api/flows?by=country&top=2").json()["top_pairs"]
    desc = chart.split('<desc id="top-pairs-d">')[1].split("</desc>")[0]
    for pair in pairs:
        split = ", ".join(f"{pair[s]:.2f} {s}" for s in ("supporting", "contrasting", "mentioning") if pair[s])
        assert f"{pair['statements']:.2f} statements ({split})" in desc, (pair, desc)
    chart = client.get("/flows?by=country").text.split('id="top-pairs"')[1].split("</svg>")[0]
    assert chart.count("<g><title>") == min(all_pairs, 12)  # the page's own default, as before


# ------------------------------------------------------------------------------------------ command line

@pytest.fixture
def flows_db(tmp_path: Path) -> str:
    db = tmp_path / "i.db"
    store = open_store(db)
    assert ingest_paths(write_corpus(tmp_path / "corpus"), store, "cues").failed == []
    store.close()
    return str(db)


def test_cli_json_contract(flows_db: str) -> None:
    from click.testing import CliRunner

    from citelens.cli import main

    res = CliRunner().invoke(main, ["flows", "--by", "country", "--db", flows_db, "--json", "--bootstrap", "200"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["n_statements"] == 11 and out["observed"] == OBSERVED and out["by"] == "country"
    assert set(out["expected"]) == set(DISTANCES) and set(out["chi2"]) >= {"statistic", "p_value"}
    assert {p["id"] for p in out["map"]["points"]} == {"US", "GB", "CA", "FR"} and out["map"]["arcs"]
    res = CliRunner().invoke(main, ["flows", "--db", flows_db, "--json", "--include-self-citations", "--type",
                                    "supporting"])
    out = json.loads(res.output)
    assert out["n_statements"] == 3 and out["by"] == "institution" and out["filters"]["type"] == "supporting"


def test_cli_table_csv_and_network_files(flows_db: str, tmp_path: Path) -> None:
    import csv
    import io

    import networkx as nx
    from click.testing import CliRunner

    from citelens.cli import main

    res = CliRunner().invoke(main, ["flows", "--by", "region", "--db", flows_db])
    assert res.exit_code == 0 and "11 tie statements" in res.output and "Localisation ratio" in res.output
    res = CliRunner().invoke(main, ["flows", "--db", flows_db, "--csv", "--section", "results"])
    rows = list(csv.DictReader(io.StringIO(res.output)))
    intl = {(r["section"], r["stance"]): r for r in rows if r["distance"] == "international"}
    assert intl[("all", "contrasting")]["statements"] == "2" and intl[("results", "all")]["statements"] == "2"
    graphml, edges = tmp_path / "n.graphml", tmp_path / "e.csv"
    res = CliRunner().invoke(main, ["flows", "--by", "institution", "--db", flows_db, "--graphml", str(graphml),
                                    "--edges-csv", str(edges)])
    assert res.exit_code == 0, res.output
    g = nx.read_graphml(graphml)
    assert g.is_directed() and g.number_of_edges() == 11
    assert g.nodes["ror:03vek6s52"]["label"] == "Harvard University" and g.nodes["ror:03vek6s52"]["country"] == "US"
    assert g.edges["ror:03vek6s52", "ror:03vek6s52"]["mentioning"] == 1.0  # Harvard cites Harvard
    hostile = [n for n, d in g.nodes(data=True) if "onerror" in d["label"]]
    assert g.nodes[hostile[0]]["label"] == "<img src=x onerror=alert(1)> Laboratoire"  # data, not markup
    assert g.nodes["ror:03vek6s52"]["region"] == "Massachusetts" and g.nodes["ror:03vek6s52"]["city"] == "Cambridge"
    table = list(csv.DictReader(edges.open(encoding="utf-8")))
    assert len(table) == 11 and sum(float(r["statements"]) for r in table) == 11
    assert {"citing", "cited", "citing_label", "cited_label", "statements", "supporting"} <= set(table[0])
    # The city network: a city is keyed and labelled with its region, in the GraphML and the edge list alike.
    res = CliRunner().invoke(main, ["flows", "--by", "city", "--db", flows_db, "--graphml", str(graphml),
                                    "--edges-csv", str(edges)])
    assert res.exit_code == 0, res.output
    g = nx.read_graphml(graphml)
    boston = g.nodes["US|massachusetts|boston"]
    assert (boston["label"], boston["city"], boston["region"], boston["country"]) == (
        "Boston, Massachusetts, US", "Boston", "Massachusetts", "US")
    table = list(csv.DictReader(edges.open(encoding="utf-8")))
    assert list(table[0])[-2:] == ["citing_region", "cited_region"]  # added last: the columns before keep their place
    row = next(r for r in table if r["cited"] == "US|massachusetts|boston")
    assert row["cited_label"] == "Boston, Massachusetts, US" and row["cited_region"] == "Massachusetts"


def test_cli_flows_errors(flows_db: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from citelens.cli import EXIT_USAGE, main

    runner = CliRunner()
    assert runner.invoke(main, ["flows", "--by", "planet", "--db", flows_db]).exit_code == EXIT_USAGE
    assert runner.invoke(main, ["flows", "--db", str(tmp_path / "none.db")]).exit_code == EXIT_USAGE
    assert runner.invoke(main, ["flows", "--db", flows_db, "--json", "--csv"]).exit_code == EXIT_USAGE
    res = runner.invoke(main, ["flows", "--db", flows_db, "--graphml", str(tmp_path / "no" / "dir.graphml")])
    assert res.exit_code == EXIT_USAGE and "cannot write" in res.output
    # The options of the other analysis (a network you bring) were silently ignored over the index.
    for extra in (["--own-regions"], ["--encoding", "cp1252"]):
        res = runner.invoke(main, ["flows", "--db", flows_db, *extra])
        assert res.exit_code == EXIT_USAGE and "--orgs/--ties" in res.output, extra


def test_cli_table_shows_the_matched_share_and_says_when_nothing_is_matched(flows_db: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from citelens.cli import main

    res = CliRunner().invoke(main, ["flows", "--by", "country", "--db", flows_db])
    assert res.exit_code == 0 and "matched share" in res.output.splitlines()[1]
    empty = tmp_path / "empty.db"
    open_store(empty).close()
    res = CliRunner().invoke(main, ["flows", "--db", str(empty)])
    # Before: "none (0 matched ties are local and none of their controls is: nothing to compare with)".
    assert res.exit_code == 0 and "none (no statement has a control)" in res.output


def test_documented_example_runs_as_shown(tmp_path: Path) -> None:
    """docs/flows.md: ingest its example, run each ``console`` command and compare (human output verbatim; the
    JSON shown, abridged with "…", must be part of the JSON printed)."""
    import re

    from click.testing import CliRunner

    from citelens.cli import main
    from test_flows_network import _assert_part_of, _normal, _unabridge

    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "flows.md").read_text(encoding="utf-8")
    db = tmp_path / "flows.db"
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", str(root / "docs" / "examples" / "flows"), "--db", str(db),
                                "--classifier", "cues", "-q"]).exit_code == 0
    blocks = re.findall(r"```console\n\$ (citelens flows [^\n]+)\n(.*?)```", doc, re.S)
    assert len(blocks) >= 2
    for command, shown in blocks:
        args = [str(db) if a == "/tmp/flows.db" else a for a in command.split()[1:]]
        res = runner.invoke(main, args)
        assert res.exit_code == 0, (command, res.output)
        if "--json" in command:
            _assert_part_of(json.loads(_unabridge(shown)), json.loads(res.output))
        else:
            assert _normal(res.output) == _normal(shown), command
