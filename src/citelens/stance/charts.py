"""Charts of a stance evaluation: precision–recall curves and reliability diagrams, as one SVG document.

A reader judging a classifier would rather look at where its curve runs than read ranking points off a table:
how much precision is left at the recall they need, and whether "supporting 0.8" is right 80 % of the time.
``citelens eval --plot FILE`` draws the classifier it scored; ``benchmarks/bench_stance.py --plots`` draws
several side by side for docs/model-card.md.

Written as plain SVG rather than with a plotting library: four panels of lines and points do not justify a
run-time dependency of tens of megabytes for the CLI, and the web layer draws its charts the same way
(``citelens.web.flows``). Every text that comes from outside (model names, the title) is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from citelens.stance.base import StancePrediction
from citelens.stance.evaluate import class_reliability, classification_report, precision_recall_curve

__all__ = ["stance_charts_svg"]

CLASSES = ("supporting", "contrasting")
# Colour-blind-safe (Okabe–Ito), one per classifier, in the order given.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
PANEL_W, PANEL_H = 330, 270
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 46, 14, 30, 40
MAX_POINTS = 400  # points per curve; a curve over 10,000 statements is thinned to this many
MIN_BIN = 5  # reliability bins with fewer statements are left out (their observed share is noise)


def stance_charts_svg(gold: Sequence[str], runs: Mapping[str, Sequence[StancePrediction]], title: str = "",
                      goal: tuple[float, float] | None = None) -> str:
    """An SVG document with four panels for the supporting and contrasting classes: precision against recall
    when statements are ranked by the class's probability (each classifier's own decisions marked as a dot),
    and the reliability diagram of that probability (observed share against mean predicted probability, per
    tenth). ``runs`` maps a classifier's name to its predictions for ``gold``'s statements, in order;
    ``goal`` = (precision, recall) shades the region a target asks the curve to reach."""
    width, height = 2 * PANEL_W, 2 * PANEL_H + 56
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img">',
             f'<title>{escape(title or "Stance evaluation")}</title>',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    if title:
        parts.append(f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>')
    n = len(gold)
    # Each classifier's own decisions (the dots), scored once for every class's panel.
    decided_by_run = {name: classification_report(gold, [p.stance for p in preds])["per_class"]
                      for name, preds in runs.items()}
    for row, c in enumerate(CLASSES):
        support = sum(g == c for g in gold)
        y0 = 22 + row * PANEL_H
        pr = _Panel(0, y0, f"{c}: precision vs recall ({support} of {n})", "recall", "precision")
        rel = _Panel(PANEL_W, y0, f"{c}: reliability", "predicted probability", "observed share")
        parts += pr.frame()
        parts += rel.frame()
        if goal is not None:
            gp, gr = goal
            parts.append(f'<rect x="{pr.x(gr):.1f}" y="{pr.y(1):.1f}" width="{pr.x(1) - pr.x(gr):.1f}" '
                         f'height="{pr.y(gp) - pr.y(1):.1f}" fill="#009E73" fill-opacity="0.12"/>')
            parts.append(f'<text x="{pr.x(1) - 4:.1f}" y="{pr.y(gp) - 4:.1f}" text-anchor="end" fill="#006d4f">'
                         f'target P ≥ {gp:g}, R ≥ {gr:g}</text>')
        parts.append(f'<line x1="{rel.x(0):.1f}" y1="{rel.y(0):.1f}" x2="{rel.x(1):.1f}" y2="{rel.y(1):.1f}" '
                     'stroke="#999" stroke-dasharray="4 3"/>')
        for k, (name, preds) in enumerate(runs.items()):
            colour = PALETTE[k % len(PALETTE)]
            curve = _thin([(r, p) for _, r, p in precision_recall_curve(gold, preds, c)])
            if curve:
                parts.append(_polyline(pr, curve, colour))
                decided = decided_by_run[name][c]
                parts.append(f'<circle cx="{pr.x(decided["recall"]):.1f}" cy="{pr.y(decided["precision"]):.1f}" '
                             f'r="4" fill="{colour}" stroke="white"><title>{escape(name)}: its labels, precision '
                             f'{decided["precision"]:.2f}, recall {decided["recall"]:.2f}</title></circle>')
            bins = [b for b in class_reliability(gold, preds, c) if b["n"] >= MIN_BIN]
            if bins:
                pts = [(b["probability"], b["observed"]) for b in bins]
                parts.append(_polyline(rel, pts, colour))
                parts += [f'<circle cx="{rel.x(x):.1f}" cy="{rel.y(y):.1f}" r="2.5" fill="{colour}">'
                          f'<title>{escape(name)}: {b["n"]} statements, mean P {x:.2f}, observed {y:.2f}</title>'
                          '</circle>' for (x, y), b in zip(pts, bins, strict=True)]
    # Legend: one entry per classifier.
    ly = height - 22
    x = 12.0
    for k, name in enumerate(runs):
        colour = PALETTE[k % len(PALETTE)]
        parts.append(f'<line x1="{x:.0f}" y1="{ly}" x2="{x + 22:.0f}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{x + 27:.0f}" y="{ly + 4}">{escape(name)}</text>')
        x += 40 + 7 * len(name)
    parts.append(f'<text x="{width - 10}" y="{ly + 4}" text-anchor="end" fill="#555">dot: the classifier\'s '
                 f'own labels; reliability bins of ≥ {MIN_BIN} statements</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


class _Panel:
    """One panel's frame, axes (0–1 both ways) and the mapping from data to SVG coordinates."""

    def __init__(self, left: float, top: float, title: str, xlabel: str, ylabel: str) -> None:
        self.left, self.top = left, top
        self.title, self.xlabel, self.ylabel = title, xlabel, ylabel
        self.w = PANEL_W - MARGIN_L - MARGIN_R
        self.h = PANEL_H - MARGIN_T - MARGIN_B

    def x(self, v: float) -> float:
        return self.left + MARGIN_L + v * self.w

    def y(self, v: float) -> float:
        return self.top + MARGIN_T + (1 - v) * self.h

    def frame(self) -> list[str]:
        out = [f'<text x="{self.x(0.5):.1f}" y="{self.top + 18:.1f}" text-anchor="middle" font-weight="bold">'
               f'{escape(self.title)}</text>',
               f'<rect x="{self.x(0):.1f}" y="{self.y(1):.1f}" width="{self.w}" height="{self.h}" fill="none" '
               'stroke="#333"/>']
        for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
            out.append(f'<line x1="{self.x(t):.1f}" y1="{self.y(0):.1f}" x2="{self.x(t):.1f}" '
                       f'y2="{self.y(1):.1f}" stroke="#eee"/>')
            out.append(f'<line x1="{self.x(0):.1f}" y1="{self.y(t):.1f}" x2="{self.x(1):.1f}" '
                       f'y2="{self.y(t):.1f}" stroke="#eee"/>')
            out.append(f'<text x="{self.x(t):.1f}" y="{self.y(0) + 14:.1f}" text-anchor="middle">{t:.1f}</text>')
            out.append(f'<text x="{self.x(0) - 5:.1f}" y="{self.y(t) + 4:.1f}" text-anchor="end">{t:.1f}</text>')
        out.append(f'<text x="{self.x(0.5):.1f}" y="{self.y(0) + 30:.1f}" text-anchor="middle">'
                   f'{escape(self.xlabel)}</text>')
        cx, cy = self.left + 12, self.y(0.5)
        out.append(f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" '
                   f'transform="rotate(-90 {cx:.1f} {cy:.1f})">{escape(self.ylabel)}</text>')
        return out


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_POINTS:
        return points
    step = len(points) / MAX_POINTS
    return [points[int(i * step)] for i in range(MAX_POINTS)] + [points[-1]]


def _polyline(panel: _Panel, points: list[tuple[float, float]], colour: str) -> str:
    xy = " ".join(f"{panel.x(a):.1f},{panel.y(b):.1f}" for a, b in points)
    return f'<polyline points="{xy}" fill="none" stroke="{colour}" stroke-width="1.6"/>'
