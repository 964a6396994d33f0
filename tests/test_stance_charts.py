"""Stance evaluation charts (precision–recall, reliability) and the curves behind them."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from citelens.cli import main
from citelens.stance.base import StancePrediction
from citelens.stance.charts import stance_charts_svg
from citelens.stance.evaluate import (
    class_calibration,
    class_reliability,
    precision_recall_curve,
    ranking_points,
)

SVG = "{http://www.w3.org/2000/svg}"
CLASSES = ("supporting", "contrasting", "mentioning")


def _pred(p_sup: float, p_con: float) -> StancePrediction:
    probs = {"supporting": p_sup, "contrasting": p_con, "mentioning": 1.0 - p_sup - p_con}
    top = max(probs, key=lambda c: probs[c])
    return StancePrediction(top, probs[top], probabilities=probs)


def _sample(n: int = 300, seed: int = 3) -> tuple[list[str], list[StancePrediction]]:
    rng = random.Random(seed)
    gold, preds = [], []
    for _ in range(n):
        g = rng.choices(CLASSES, weights=(2, 1, 7))[0]
        p_sup = min(0.9, max(0.0, (0.6 if g == "supporting" else 0.1) + rng.uniform(-0.1, 0.3)))
        p_con = min(0.95 - p_sup, max(0.0, (0.5 if g == "contrasting" else 0.05) + rng.uniform(-0.05, 0.3)))
        gold.append(g)
        preds.append(_pred(round(p_sup, 2), round(p_con, 2)))
    return gold, preds


def test_precision_recall_curve_ranks_by_the_class_probability() -> None:
    gold = ["supporting", "mentioning", "supporting", "mentioning"]
    preds = [_pred(0.9, 0.0), _pred(0.8, 0.0), _pred(0.8, 0.0), _pred(0.1, 0.0)]
    # 0.9 alone: 1 of 2 found, precision 1; the tie at 0.8 enters together: 2 of 2 at precision 2/3.
    assert precision_recall_curve(gold, preds, "supporting") == [(0.9, 0.5, 1.0), (0.8, 1.0, 2 / 3),
                                                                 (0.1, 1.0, 0.5)]
    assert precision_recall_curve(gold, preds, "contrasting") == []  # no gold contrasting statement


def test_reliability_table_backs_the_class_ece() -> None:
    gold, preds = _sample()
    ece = class_calibration(gold, preds)
    for c in CLASSES:
        bins = class_reliability(gold, preds, c)
        assert sum(b["n"] for b in bins) == len(gold)
        assert all(b["lo"] <= b["probability"] <= b["hi"] and 0 <= b["observed"] <= 1 for b in bins)
        # The ECE is the count-weighted gap of the same table, computed the way it always was.
        assert abs(ece[c] - sum(b["n"] / len(gold) * abs(b["probability"] - b["observed"]) for b in bins)) < 1e-12
    # The ranking points still read the same ranking the curve does.
    rk = ranking_points(gold, preds, "supporting")
    curve = precision_recall_curve(gold, preds, "supporting")
    assert rk["precision_at_recall"] is not None and 0 < rk["precision_at_recall"] <= 1
    assert max(r for _, r, _ in curve) == 1.0


def test_chart_is_svg_with_a_curve_per_classifier_and_class() -> None:
    gold, preds = _sample()
    other = [_pred(p.probabilities["supporting"] * 0.5, p.probabilities["contrasting"]) for p in preds]  # type: ignore[index]
    svg = stance_charts_svg(gold, {"cascade": preds, "linear": other}, title="dev", goal=(0.6, 0.6))
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    lines = root.findall(f".//{SVG}polyline")
    # Two classes x (precision-recall + reliability) x two classifiers.
    assert len(lines) == 8
    for line in lines:
        for pair in line.get("points", "").split():
            x, y = map(float, pair.split(","))
            assert 0 <= x <= float(root.get("width", 0)) and 0 <= y <= float(root.get("height", 0))
    texts = "".join(root.itertext())
    assert "target P ≥ 0.6, R ≥ 0.6" in texts and "cascade" in texts and "linear" in texts


def test_chart_escapes_names_and_title() -> None:
    gold, preds = _sample(60)
    hostile = '<script>alert(1)</script>"&'
    svg = stance_charts_svg(gold, {hostile: preds}, title=hostile)
    root = ET.fromstring(svg)  # still well-formed XML
    assert not root.findall(f".//{SVG}script") and "<script>" not in svg
    assert hostile in "".join(root.itertext())  # shown as text, not run


def test_eval_plot_writes_a_chart(tmp_path: Path) -> None:
    rows = [{"text": "In contrast to <cite>[1]</cite>, we did not find an effect.", "stance": "contrasting"},
            {"text": "Our data confirm <cite>[2]</cite>.", "stance": "supporting"},
            {"text": "X is a kinase <cite>[3]</cite>.", "stance": "mentioning"}] * 4
    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "chart.svg"
    res = CliRunner().invoke(main, ["eval", "--data", str(data), "--classifier", "linear", "--plot", str(out),
                                    "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["plot"] == str(out)
    assert ET.fromstring(out.read_text(encoding="utf-8")).tag == f"{SVG}svg"
    res = CliRunner().invoke(main, ["eval", "--data", str(data), "--classifier", "linear",
                                    "--plot", str(tmp_path / "no-such-dir" / "chart.svg")])
    assert res.exit_code == 2 and "cannot write" in res.output


def test_eval_rejects_a_labelled_row_without_text(tmp_path: Path) -> None:
    data = tmp_path / "gold.jsonl"
    data.write_text(json.dumps({"text": "Our data confirm <cite>[2]</cite>.", "stance": "supporting"}) + "\n"
                    + json.dumps({"id": "x#1", "stance": "contrasting"}) + "\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["eval", "--data", str(data)])
    assert res.exit_code == 2 and "gold.jsonl:2" in res.output and "without a citing sentence" in res.output


def test_confident_labels_counts_what_a_thresholded_tally_keeps() -> None:
    from citelens.stance.evaluate import confident_labels

    gold = ["supporting", "mentioning", "supporting", "contrasting"]
    preds = [_pred(0.9, 0.0), _pred(0.7, 0.1), _pred(0.5, 0.1), _pred(0.1, 0.6)]
    # Labelled supporting at >= 0.6: rows 1 and 2 (row 3's 0.5 is below); one of them is right, of 2 gold.
    assert confident_labels(gold, preds, "supporting", 0.6) == {"kept": 2, "precision": 0.5, "recall": 0.5}
    assert confident_labels(gold, preds, "contrasting", 0.65) == {"kept": 0, "precision": 0.0, "recall": 0.0}
