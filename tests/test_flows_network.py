"""citelens flows --orgs --ties: reading a network the user brings, the distance classes, the statistics
(checked against values computed by hand), the CLI's exit codes and JSON contract, and the documented example."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from citelens.cli import EXIT_OK, EXIT_USAGE, main
from citelens.flows.network import (
    DISTANCES,
    INTER_REGIONAL,
    INTERNATIONAL,
    INTRA_REGIONAL,
    NetworkInputError,
    Organisation,
    analyse_network,
    decode,
    independence_test,
    parse_organisations,
    read_network,
    share_interval,
    tie_distance,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "electronics-cluster"
WALKTHROUGH = ROOT / "docs" / "flows-network.md"

ORGS = """id,name,city,region,country,ownership,size
a,Alpha,Dresden,,DE,domestic,small
b,Beta,Chemnitz,,DE,foreign,large
c,Gamma,Munich,,DE,domestic,small
d,Delta,Eindhoven,,NL,,
"""
TIES = """source,target,type
a,b,supplier
a,c,customer
b,d,knowledge source
b,a,supplier
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, orgs: str | bytes = ORGS, ties: str | bytes = TIES) -> tuple[str, str]:
    o, t = tmp_path / "orgs.csv", tmp_path / "ties.csv"
    o.write_bytes(orgs.encode() if isinstance(orgs, str) else orgs)
    t.write_bytes(ties.encode() if isinstance(ties, str) else ties)
    return str(o), str(t)


def problems_of(tmp_path: Path, orgs: str | bytes = ORGS, ties: str | bytes = TIES) -> list[str]:
    o, t = write(tmp_path, orgs, ties)
    with pytest.raises(NetworkInputError) as exc:
        read_network(o, t)
    return [str(p) for p in exc.value.problems]


# ------------------------------------------------------------------------------------------- places

def test_places_are_resolved_through_the_gazetteer() -> None:
    orgs, attributes, warnings = parse_organisations(ORGS, "orgs.csv")
    assert attributes == ["ownership", "size"] and not warnings
    assert (orgs["a"].city, orgs["a"].region, orgs["a"].country) == ("Dresden", "Saxony", "DE")
    assert (orgs["c"].region, orgs["d"].region, orgs["d"].country) == ("Bavaria", "North Brabant", "NL")
    assert tie_distance(orgs["a"], orgs["b"]) == INTRA_REGIONAL
    assert tie_distance(orgs["a"], orgs["c"]) == INTER_REGIONAL
    assert tie_distance(orgs["b"], orgs["d"]) == INTERNATIONAL


def test_country_names_region_only_and_villages_with_their_region() -> None:
    text = ("id,city,region,country\n"
            "x,,Saxony,Germany\n"  # region only, country by name
            "y,Ottendorf-Okrilla,Saxony,DE\n"  # not in the gazetteer: taken as given, with a warning
            "z,Austin,Texas,us\n")  # ambiguous in the US without its region
    orgs, _, warnings = parse_organisations(text, "o.csv")
    assert orgs["x"].region == "Saxony" and orgs["x"].country == "DE"
    assert orgs["y"].city == "Ottendorf-Okrilla" and orgs["y"].region == "Saxony"
    assert [w.row for w in warnings] == [3]
    assert orgs["z"].region == "Texas"


@pytest.mark.parametrize(("row", "message"), [
    ("q,Atlantis,,DE", "unknown city 'Atlantis' in DE"),
    ("q,Austin,,US", "ambiguous in US (Minnesota, Texas): give its region"),
    ("q,Dresden,Bavaria,DE", "city 'Dresden' is in Saxony, not in 'Bavaria'"),
    ("q,,Saxonia,DE", "unknown region 'Saxonia' in DE (did you mean 'Saxony'?)"),
    ("q,Dresden,,Freedonia", "unknown country 'Freedonia'"),
    ("q,Dresden,,", "no country"),
    ("q,,,DE", "no region and no city"),
    ("a,Leipzig,,DE", "duplicate id 'a' (first on row 2)"),
    (",Leipzig,,DE", "empty id"),
    ("q,Leipzig,DE", "3 cells where the header has 4"),
])
def test_bad_organisation_rows_are_named_by_row(tmp_path: Path, row: str, message: str) -> None:
    orgs = "id,city,region,country\na,Dresden,,DE\nb,Munich,,DE\n" + row + "\n"
    problems = problems_of(tmp_path, orgs, "source,target,type\na,b,customer\n")
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path / 'orgs.csv'}: row 4: ") and message in problems[0], problems


@pytest.mark.parametrize(("row", "message"), [
    ("a,zz,customer", "target 'zz' is not in the organisations file"),
    ("a,a,customer", "a tie from 'a' to itself"),
    ("a,b,", "type is empty"),
    ("a,b,supplier", "duplicate tie 'a' → 'b' (supplier) (first on row 2)"),
])
def test_bad_tie_rows_are_named_by_row(tmp_path: Path, row: str, message: str) -> None:
    problems = problems_of(tmp_path, ties="source,target,type\na,b,supplier\n" + row + "\n")
    assert problems == [f"{tmp_path / 'ties.csv'}: row 3: {message}"]


def test_own_regions_are_taken_as_written(tmp_path: Path) -> None:
    orgs = "id,region,country\na,DED21,DE\nb,DED21,Germany\nc,DE212,DE\nd,,DE\n"
    o, t = write(tmp_path, orgs, "source,target,type\na,b,supplier\na,c,customer\n")
    with pytest.raises(NetworkInputError, match="row 5: organisation 'd': no region"):
        read_network(o, t, own_regions=True)
    o, t = write(tmp_path, orgs.replace("d,,DE\n", "d,X1,Atlantis\n"), "source,target,type\na,b,supplier\n")
    with pytest.raises(NetworkInputError, match="unknown country 'Atlantis'"):
        read_network(o, t, own_regions=True)
    o, t = write(tmp_path, orgs.replace("d,,DE\n", ""), "source,target,type\na,b,supplier\na,c,customer\n")
    assert run("flows", "--orgs", o, "--ties", t)[0] == EXIT_USAGE  # NUTS codes are no gazetteer regions
    code, out, _ = run("flows", "--orgs", o, "--ties", t, "--own-regions", "--json")
    r = json.loads(out)
    assert code == EXIT_OK and r["own_regions"] is True
    assert r["overall"]["counts"] == {INTRA_REGIONAL: 1, INTER_REGIONAL: 1, INTERNATIONAL: 0}


def test_blank_rows_keep_the_row_numbers_a_spreadsheet_shows(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, ties="source,target,type\n\na,b,supplier\n,,\na,zz,customer\n")
    assert problems == [f"{tmp_path / 'ties.csv'}: row 5: target 'zz' is not in the organisations file"]


def test_every_problem_in_both_files_is_listed(tmp_path: Path) -> None:
    orgs = ORGS + "e,E,Atlantis,,DE,,\nb,B2,Leipzig,,DE,,\n"
    ties = TIES + "e,a,customer\nx,a,customer\n"
    problems = problems_of(tmp_path, orgs, ties)
    # The bad organisation 'e' is known (its row is reported), so its tie is not reported a second time.
    assert [p.split(": ", 1)[1] for p in problems] == [
        "row 6: organisation 'e': unknown city 'Atlantis' in DE: give its region as well (then any city name is "
        "accepted)",
        "row 7: duplicate id 'b' (first on row 3)",
        "row 7: source 'x' is not in the organisations file"]


@pytest.mark.parametrize(("orgs", "message"), [
    ("", "orgs.csv: empty file"),
    ("\n\n  \n", "orgs.csv: empty file"),
    ("id,city,country\n", "orgs.csv: no organisations (only a header)"),
    ("id,name,country\na,A,DE\n", "orgs.csv: row 1: missing column(s): region or city"),
    ("name,city\nA,Dresden\n", "orgs.csv: row 1: missing column(s): id, country"),
    ("id,city,city,country\n", "orgs.csv: row 1: column 'city' appears 2 times"),
    # An organisation attribute "type" (firm, university…) was counted into the tie-type breakdown, every tie
    # twice, and had no breakdown of its own.
    ("id,city,country,Type\na,Dresden,DE,firm\n", "orgs.csv: row 1: column 'type': that is the breakdown by tie type;"
                                                   " rename this column (e.g. org_type)"),
    (b"id,city,country\na,Dresden,DE\nb,G\xf6rlitz,DE\n", "orgs.csv: row 3: bytes not valid utf-8 at byte 32"),
    ("id,city,country\na,Dresden,DE\r\nb,\"Gör\nlitz,DE\n", "not valid CSV"),
    ("id,city,country\na,Dresden,DE\n".encode("utf-16"), "orgs.csv: "),
])
def test_bad_files(tmp_path: Path, orgs: str | bytes, message: str) -> None:
    problems = problems_of(tmp_path, orgs)
    assert any(message in p for p in problems), problems


def test_encodings_delimiters_and_bom(tmp_path: Path) -> None:
    orgs = "\ufeffID;Name;City;Country;Ownership\na;Görlitz Elektronik;Görlitz;DE;domestic\nb;B;Munich;DE;foreign\n"
    o, t = write(tmp_path, orgs, "source\ttarget\ttype\na\tb\tcustomer\n")
    net = read_network(o, t)
    assert net.organisations["a"].city == "Görlitz" and net.attributes == ["ownership"]
    (tmp_path / "latin.csv").write_bytes(orgs.replace("\ufeff", "").encode("cp1252"))
    with pytest.raises(NetworkInputError):
        read_network(tmp_path / "latin.csv", t)
    assert read_network(tmp_path / "latin.csv", t, encoding="cp1252").organisations["a"].name == "Görlitz Elektronik"
    with pytest.raises(NetworkInputError, match="unknown encoding"):
        decode(b"x", "f.csv", "no-such-codec")


# --------------------------------------------------------------------------------------- statistics

def test_wilson_interval_by_hand() -> None:
    # Wilson score interval for 3 of 10 at 95 %: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
    z, n, p = 1.959963984540054, 10, 0.3
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = share_interval(3, 10)
    assert low == pytest.approx((centre - half) / (1 + z * z / n), abs=1e-9)
    assert high == pytest.approx((centre + half) / (1 + z * z / n), abs=1e-9)
    assert share_interval(0, 0) == (0.0, 1.0)


def test_chi_square_by_hand() -> None:
    # 2 × 3: rows 10+20+30 = 60 and 30+20+10 = 60; columns 40, 40, 40; every expected count is 20.
    res = independence_test([[10, 20, 30], [30, 20, 10]])
    assert res["statistic"] == pytest.approx(4 * 100 / 20)  # (10-20)² ×4 /20 + 0 ×2
    assert res["dof"] == 2
    assert res["p_value"] == pytest.approx(math.exp(-20 / 2))  # chi-square survival with 2 dof: e^(-x/2)
    assert res["cramers_v"] == pytest.approx(math.sqrt(20 / 120))
    assert res["cochran_ok"] is True and res["p_value_permutation"] is None


def test_small_tables_get_a_permutation_p_value_and_degenerate_ones_no_test() -> None:
    import numpy as np
    from scipy.stats import PermutationMethod, chi2_contingency

    res = independence_test([[3, 0, 1], [0, 4, 0]])
    assert res["cochran_ok"] is False and 0 < res["p_value_permutation"] <= 1
    # Tables drawn with fixed margins = scipy's permutation of the ties (within Monte Carlo error).
    table = [[6, 1, 2], [1, 5, 1], [2, 1, 4]]
    scipy_p = chi2_contingency(np.array(table), correction=False, method=PermutationMethod(
        n_resamples=9999, rng=np.random.default_rng(5))).pvalue
    assert independence_test(table)["p_value_permutation"] == pytest.approx(scipy_p, abs=0.015)
    assert res == independence_test([[3, 0, 1], [0, 4, 0]])  # seeded: the same input, the same p-value
    # An all-zero distance column is dropped; one group left is nothing to test.
    assert independence_test([[5, 0, 5], [5, 0, 5]])["dof"] == 1
    assert independence_test([[5, 2, 1], [0, 0, 0]])["statistic"] is None


def test_analysis_counts_and_groups(tmp_path: Path) -> None:
    result = analyse_network(read_network(*write(tmp_path)))
    assert result["n_ties"] == 4 and result["overall"]["counts"] == {
        INTRA_REGIONAL: 2, INTER_REGIONAL: 1, INTERNATIONAL: 1}
    assert result["overall"]["shares"][INTRA_REGIONAL]["share"] == 0.5
    own = result["by"]["ownership"]["groups"]
    assert own["domestic"]["counts"] == {INTRA_REGIONAL: 1, INTER_REGIONAL: 1, INTERNATIONAL: 0}  # source a
    assert own["foreign"]["counts"] == {INTRA_REGIONAL: 1, INTER_REGIONAL: 0, INTERNATIONAL: 1}  # source b
    assert list(result["by"]) == ["ownership", "size", "type"]
    assert result["by"]["type"]["groups"]["supplier"]["n"] == 2


def test_distance_ignores_case_and_accents_of_regions() -> None:
    a = Organisation("a", "A", "", "Baden-Württemberg", "DE")
    b = Organisation("b", "B", "", "baden wurttemberg", "DE")
    assert tie_distance(a, b) == INTRA_REGIONAL


# ---------------------------------------------------------------------------------------------- CLI

JSON_KEYS = {"orgs_file", "ties_file", "n_organisations", "n_ties", "confidence", "distances", "attributes_of",
             "regions", "overall", "by", "warnings", "own_regions"}
CHI2_KEYS = {"statistic", "dof", "p_value", "cramers_v", "min_expected", "share_expected_below_5", "cochran_ok",
             "p_value_permutation"}


def test_cli_json_contract(tmp_path: Path) -> None:
    o, t = write(tmp_path)
    code, out, _ = run("flows", "--orgs", o, "--ties", t, "--json")
    assert code == EXIT_OK
    r = json.loads(out)
    assert set(r) >= JSON_KEYS and r["distances"] == list(DISTANCES)
    assert set(r["overall"]) == {"n", "counts", "shares"}
    assert set(r["overall"]["shares"][INTERNATIONAL]) == {"share", "low", "high"}
    for b in r["by"].values():
        assert set(b) == {"groups", "chi2"} and set(b["chi2"]) >= CHI2_KEYS


def test_cli_bad_input_exits_2_and_prints_no_result(tmp_path: Path) -> None:
    o, t = write(tmp_path, ties=TIES + "a,nobody,customer\n")
    code, out, err = run("flows", "--orgs", o, "--ties", t)
    assert code == EXIT_USAGE and out == ""
    assert f"{t}: row 6: target 'nobody' is not in the organisations file" in err
    assert "nothing was computed" in err
    code, out, err = run("flows", "--orgs", o, "--ties", t, "--json")
    assert code == EXIT_USAGE
    r = json.loads(out)
    assert r["error"] == "invalid input" and "overall" not in r
    assert r["problems"] == [{"file": t, "row": 6, "message": "target 'nobody' is not in the organisations file"}]


def test_cli_usage_errors(tmp_path: Path) -> None:
    o, _ = write(tmp_path)
    assert run("flows", "--orgs", o)[0] == EXIT_USAGE
    code, _, err = run("flows", "--orgs", o, "--ties", str(tmp_path / "missing.csv"))
    assert code == EXIT_USAGE and "missing.csv: not a regular file" in err
    code, out, _ = run("flows", "--help")
    assert code == 0 and "--orgs" in out and "--ties" in out


def test_hostile_names_are_shown_not_obeyed(tmp_path: Path) -> None:
    orgs = ORGS.replace("domestic,small\nb", "[bold]\x1b]2;pwned\x07[/bold],small\nb")
    o, t = write(tmp_path, orgs)
    code, out, _ = run("flows", "--orgs", o, "--ties", t)
    assert code == EXIT_OK and "\x1b" not in out and "\\x1b]2;pwned\\x07" in out and "[bold]" in out


# -------------------------------------------------------------------------------- documented example

def test_documented_example_runs_as_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/flows-network.md shows commands with their output: run each from the repository root and compare
    (human output verbatim; the JSON shown, abridged, must be a part of the JSON printed)."""
    monkeypatch.chdir(ROOT)
    doc = WALKTHROUGH.read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n\$ (citelens flows [^\n]+)\n(.*?)```", doc, re.S)
    assert len(blocks) >= 3
    for command, shown in blocks:
        code, out, err = run(*command.split()[1:])
        shown_out, _, shown_err = shown.partition("(on stderr)\n")
        if "--json" in command:
            assert code == EXIT_OK
            _assert_part_of(json.loads(_unabridge(shown_out)), json.loads(out))
        else:
            assert _normal(out) == _normal(shown_out), command
            assert _normal(err) == _normal(shown_err), command
            assert code == (EXIT_USAGE if "error:" in shown_err else EXIT_OK)


def _unabridge(text: str) -> str:
    # "…" marks what the page leaves out: drop it with the comma before it.
    return re.sub(r",\s*…", "", text)


def _assert_part_of(shown: object, actual: object) -> None:
    if isinstance(shown, dict):
        assert isinstance(actual, dict)
        for k, v in shown.items():
            assert k in actual, k
            _assert_part_of(v, actual[k])
    elif isinstance(shown, list):  # the page may show the first items only
        assert isinstance(actual, list) and len(shown) <= len(actual)
        for a, b in zip(shown, actual, strict=False):
            _assert_part_of(a, b)
    elif isinstance(shown, float):
        assert actual == pytest.approx(shown, abs=5.1e-5)  # the page rounds to 4 decimals
    else:
        assert shown == actual


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())
