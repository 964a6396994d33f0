"""Scoring stance predictions against gold labels: per-class P/R/F1, macro-F1, confusion, calibration.

Used by ``citelens eval``, the training script and the benchmark, so every published figure is computed
by the same code.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from citelens.document import STANCES
from citelens.stance.base import StanceClassifier, StanceInput, StancePrediction


def read_eval_rows(path: Path) -> tuple[list[StanceInput], list[str], int]:
    """Rows of an eval JSONL file as inputs + gold labels; rows with a null/absent stance are skipped.

    Returns ``(inputs, gold, skipped)``. Raises ``ValueError`` on a malformed line, an unknown label or a
    labelled row without text.
    """
    inputs: list[StanceInput] = []
    gold: list[str] = []
    skipped = 0
    try:
        for n, raw in enumerate(_lines(path), 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"{path}:{n}: not UTF-8 text (a labelled set is JSON lines in UTF-8, or a .gz of"
                                 " them)") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON ({e.msg})") from None
            stance = row.get("stance")
            if stance is None:
                skipped += 1
                continue
            if stance not in STANCES:
                raise ValueError(f"{path}:{n}: unknown stance {stance!r}")
            if not isinstance(row.get("text"), str) or not row["text"].strip():
                # A labelled row without its sentence would be scored on nothing: every classifier answers
                # its prior there, and the figures would silently mix in rows no one could read.
                raise ValueError(f"{path}:{n}: labelled row without a citing sentence (\"text\")")
            inputs.append(
                StanceInput(
                    text=row.get("text") or "", before=row.get("before") or "",
                    after=row.get("after") or "", section=row.get("section") or "",
                )
            )
            gold.append(stance)
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError; a cut-short .gz an EOFError
        raise ValueError(f"{path}: cannot be read ({e})") from None
    return inputs, gold, skipped


def _lines(path: Path) -> Iterator[bytes]:
    """The file's lines, gunzipped when it is a gzip file (the repository ships ``data/stance/pmc.jsonl.gz``, and
    ``citelens eval`` on it said only "'utf-8' codec can't decode byte 0x8b"). Known by its magic bytes, so a
    gzip file under another name is read too."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gzipped else path.open("rb")) as fh:
        yield from fh


def classification_report(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    labels = list(STANCES)
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    per_class: dict[str, dict[str, float]] = {}
    for c in labels:
        tp = confusion[c][c]
        n_pred = sum(confusion[g][c] for g in labels)
        n_gold = sum(confusion[c].values())
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": precision, "recall": recall, "f1": f1, "support": n_gold}
    macro = sum(per_class[c]["f1"] for c in labels) / len(labels)
    accuracy = sum(confusion[c][c] for c in labels) / len(gold) if gold else 0.0
    return {"macro_f1": macro, "accuracy": accuracy, "per_class": per_class, "confusion": confusion, "n": len(gold)}


def calibration(gold: Sequence[str], preds: Iterable[StancePrediction], bins: int = 10) -> dict[str, Any]:
    """Expected calibration error of the top-class confidence, with the reliability table behind it."""
    table = [{"lo": i / bins, "hi": (i + 1) / bins, "n": 0, "confidence": 0.0, "accuracy": 0.0} for i in range(bins)]
    total = 0
    for g, p in zip(gold, preds, strict=True):
        b = min(int(p.confidence * bins), bins - 1)
        table[b]["n"] += 1
        table[b]["confidence"] += p.confidence
        table[b]["accuracy"] += float(g == p.stance)
        total += 1
    ece = 0.0
    for row in table:
        if row["n"]:
            row["confidence"] /= row["n"]
            row["accuracy"] /= row["n"]
            ece += row["n"] / max(total, 1) * abs(row["confidence"] - row["accuracy"])
    return {"ece": ece, "reliability": [r for r in table if r["n"]]}


def class_reliability(gold: Sequence[str], preds: Sequence[StancePrediction], c: str,
                      bins: int = 10) -> list[dict[str, float]]:
    """The reliability table of class ``c``'s own probability (one against the rest): for each non-empty bin of
    P(``c``), its bounds, the statements in it, their mean P(``c``) and the share whose gold label is ``c``."""
    sums = [[0, 0.0, 0.0] for _ in range(bins)]  # n, sum of probability, sum of outcomes
    for g, p in zip(gold, preds, strict=True):
        q = _prob(p, c)
        b = sums[min(int(q * bins), bins - 1)]
        b[0] += 1
        b[1] += q
        b[2] += float(g == c)
    return [{"lo": i / bins, "hi": (i + 1) / bins, "n": n, "probability": sp / n, "observed": so / n}
            for i, (n, sp, so) in enumerate(sums) if n]


def class_calibration(gold: Sequence[str], preds: Sequence[StancePrediction], bins: int = 10) -> dict[str, float]:
    """ECE of each class's own probability (one against the rest): is "supporting 0.8" right 80 % of the time?

    Predictions without ``probabilities`` (the cue baseline) count their top-class confidence for the predicted
    class and the remainder spread evenly over the others.
    """
    n = max(len(gold), 1)
    return {c: sum(b["n"] / n * abs(b["probability"] - b["observed"]) for b in class_reliability(gold, preds, c, bins))
            for c in STANCES}


def _prob(p: StancePrediction, c: str) -> float:
    if p.probabilities and c in p.probabilities:
        return float(p.probabilities[c])
    return float(p.confidence) if p.stance == c else (1.0 - float(p.confidence)) / (len(STANCES) - 1)


def _ranked(gold: Sequence[str], preds: Sequence[StancePrediction], c: str) -> list[tuple[float, bool]]:
    """(P(``c``), is gold ``c``) per statement, highest probability first; ties keep the statements' order."""
    return sorted(((_prob(p, c), g == c) for g, p in zip(gold, preds, strict=True)), key=lambda t: -t[0])


def precision_recall_curve(gold: Sequence[str], preds: Sequence[StancePrediction],
                           c: str) -> list[tuple[float, float, float]]:
    """Statements ranked by P(``c``), highest first: ``(threshold, recall, precision)`` after each distinct
    probability (ties enter together). Empty when ``c`` has no gold statement."""
    pos = sum(g == c for g in gold)
    if not pos:
        return []
    ranked = _ranked(gold, preds, c)
    out: list[tuple[float, float, float]] = []
    tp = 0
    for i, (q, hit) in enumerate(ranked, 1):
        tp += hit
        if i == len(ranked) or ranked[i][0] != q:
            out.append((q, tp / pos, tp / i))
    return out


def confident_labels(gold: Sequence[str], preds: Sequence[StancePrediction], c: str,
                     min_confidence: float) -> dict[str, float | int]:
    """What a tally that counts only confident labels (``--min-confidence``) gets for class ``c``: how many
    statements it labels ``c`` with confidence ≥ ``min_confidence`` (``kept``), the precision of those, and the
    share of the gold ``c`` statements among them (recall)."""
    kept = [g == c for g, p in zip(gold, preds, strict=True) if p.stance == c and p.confidence >= min_confidence]
    pos = sum(g == c for g in gold)
    return {"kept": len(kept), "precision": sum(kept) / len(kept) if kept else 0.0,
            "recall": sum(kept) / pos if pos else 0.0}


def ranking_points(gold: Sequence[str], preds: Sequence[StancePrediction], c: str,
                   at_recall: float = 0.5, at_precision: float = 0.8) -> dict[str, float | None]:
    """Rank statements by P(``c``): precision at the first cut reaching ``at_recall`` recall, and the best
    recall whose cut keeps precision ≥ ``at_precision`` (None when no cut does, or the class is absent)."""
    pos = sum(g == c for g in gold)
    if not pos:
        return {"precision_at_recall": None, "recall_at_precision": None}
    ranked = _ranked(gold, preds, c)
    tp = 0
    p_at_r: float | None = None
    r_at_p: float | None = None
    for i, (_, hit) in enumerate(ranked, 1):
        tp += hit
        prec, rec = tp / i, tp / pos
        if p_at_r is None and rec >= at_recall:
            p_at_r = prec
        if prec >= at_precision and i >= 5:
            r_at_p = rec if r_at_p is None else max(r_at_p, rec)
    return {"precision_at_recall": p_at_r, "recall_at_precision": r_at_p}


def evaluate(classifier: StanceClassifier, inputs: list[StanceInput], gold: list[str],
             predictions: list[StancePrediction] | None = None) -> dict[str, Any]:
    """Classify ``inputs`` and score them; throughput is end to end (features + model + evidence). The
    predictions are appended to ``predictions`` when a list is given (for charts)."""
    t0 = time.perf_counter()
    preds = classifier.predict(inputs)
    elapsed = time.perf_counter() - t0
    if predictions is not None:
        predictions.extend(preds)
    report = classification_report(gold, [p.stance for p in preds])
    report["calibration"] = calibration(gold, preds)
    report["seconds"] = elapsed
    report["statements_per_second"] = len(inputs) / elapsed if elapsed > 0 else float("inf")
    report["classifier"] = classifier.name
    return report


def format_report(report: dict[str, Any]) -> str:
    labels = list(STANCES)
    lines = [f"{'class':<12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for c in labels:
        m = report["per_class"][c]
        lines.append(f"{c:<12} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} {m['support']:>8d}")
    lines.append(f"{'macro-F1':<12} {report['macro_f1']:>31.3f}")
    lines.append("")
    lines.append("confusion (rows gold, columns predicted)")
    # Whole names, right-aligned over columns wide enough to keep them apart (cut to 10, "contrasting" read
    # "contrastin").
    lines.append(" " * 12 + "".join(f"{c:>13}" for c in labels))
    for g in labels:
        lines.append(f"{g:<12}" + "".join(f"{report['confusion'][g][p]:>13d}" for p in labels))
    lines.append("")
    if "calibration" in report:
        lines.append(f"ECE (10 bins): {report['calibration']['ece']:.3f}")
    lines.append(
        f"n={report['n']}  throughput: {report['statements_per_second']:.0f} statements/s "
        f"({report['classifier']})"
    )
    return "\n".join(lines)
