"""Statistics of knowledge flows: the localisation ratio with a bootstrap interval, and a chi-square test.

Localisation ratio (at a level: institution, city, region or country) = the share of matched statements
whose tie stays within one unit at that level, divided by the same share for their matched controls
(:mod:`citelens.flows.baseline`): 1 means citations are as local as the field and year alone make them; 2
means twice as local. Both shares have the same denominator (the matched statements), so the ratio is
observed local ÷ control local.

Its confidence interval is a **percentile bootstrap over citing works** (the cluster): statements of one
citing article, and the several statements of one citing–cited pair, are not independent draws, so whole
citing works are resampled with replacement (``replicates`` times, seeded), the ratio recomputed, and the
2.5th and 97.5th percentiles reported (for 95 %). Replicates whose control count is 0 have no ratio and are
left out; their number is reported.

The chi-square test of independence of distance class and type of citation is scipy's
``chi2_contingency`` on the distance × stance table of tie statements (rows and columns that are all zero
dropped; no continuity correction beyond scipy's default for 2×2 tables), with Cramér's V as the effect
size. It treats statements as independent, which they are not quite (same caveat as above): read its p
value as indicative on small indexes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RatioEstimate:
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    replicates: int
    replicates_without_ratio: int

    def to_dict(self) -> dict[str, Any]:
        return {"ratio": self.ratio, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "confidence": self.confidence, "replicates": self.replicates,
                "replicates_without_ratio": self.replicates_without_ratio}


def localisation_ratio(observed_local: Sequence[float], control_local: Sequence[float], *,
                       replicates: int = 1000, confidence: float = 0.95, seed: int = 1) -> RatioEstimate:
    """Ratio sum(observed_local) / sum(control_local) and its cluster-bootstrap percentile interval.

    Both sequences have one entry per cluster (citing work): how many of its matched statements are local,
    and how many of their controls are.
    """
    obs = np.asarray(observed_local, dtype=float)
    ctl = np.asarray(control_local, dtype=float)
    if obs.shape != ctl.shape or obs.ndim != 1:
        raise ValueError("observed_local and control_local need one entry per cluster each")
    return localisation_ratios(obs[:, None], ctl[:, None], replicates=replicates, confidence=confidence,
                               seed=seed)[0]


def localisation_ratios(observed_local: np.ndarray, control_local: np.ndarray, *, replicates: int = 1000,
                        confidence: float = 0.95, seed: int = 1) -> list[RatioEstimate]:
    """:func:`localisation_ratio` for several columns at once (one per level), over the same resamples:
    ``observed_local`` and ``control_local`` are clusters × columns. Column k's estimate is exactly what
    ``localisation_ratio`` gives for column k alone with the same seed.

    The resamples are drawn as ``replicates`` rows of cluster indices from one seeded generator (the same
    numbers, replicate by replicate, as drawing them one replicate at a time) and summed as
    (times each cluster was drawn) @ (cluster counts): whole numbers, so the sums are exact whatever the
    order of addition.
    """
    obs = np.asarray(observed_local, dtype=float)
    ctl = np.asarray(control_local, dtype=float)
    if obs.shape != ctl.shape or obs.ndim != 2:
        raise ValueError("observed_local and control_local need one row per cluster each, as many columns")
    n, k = obs.shape
    total_ctl = ctl.sum(axis=0)
    ratios = [float(o) / float(c) if c > 0 else None for o, c in zip(obs.sum(axis=0), total_ctl, strict=True)]
    if n < 2 or replicates <= 0:
        return [RatioEstimate(_round(r), None, None, confidence, 0, 0) for r in ratios]
    rng = np.random.default_rng(seed)
    both = np.concatenate([obs, ctl], axis=1)
    sums = np.empty((replicates, 2 * k))
    chunk = max(1, min(replicates, 4_000_000 // n))  # at most a few million indices in memory at once
    for start in range(0, replicates, chunk):
        rows = min(chunk, replicates - start)
        idx = rng.integers(0, n, size=(rows, n))
        times = np.bincount((idx + (np.arange(rows) * n)[:, None]).ravel(), minlength=rows * n).reshape(rows, n)
        sums[start:start + rows] = times @ both
    out = []
    alpha = (1.0 - confidence) / 2.0
    for col, ratio in enumerate(ratios):
        if ratio is None:
            out.append(RatioEstimate(None, None, None, confidence, 0, 0))
            continue
        o, c = sums[:, col], sums[:, k + col]
        ok = o[c > 0] / c[c > 0]
        if len(ok) == 0:
            out.append(RatioEstimate(_round(ratio), None, None, confidence, replicates, replicates))
            continue
        low, high = np.quantile(ok, [alpha, 1.0 - alpha])
        out.append(RatioEstimate(_round(ratio), _round(float(low)), _round(float(high)), confidence, replicates,
                                 int(replicates - len(ok))))
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def chi2_independence(table: dict[str, dict[str, int]], rows: Sequence[str], cols: Sequence[str]
                      ) -> dict[str, Any]:
    """``{"statistic", "p_value", "dof", "cramers_v", "rows", "columns"}`` for the rows × cols table, or
    statistic/p_value None with a ``reason`` when the table has fewer than two non-empty rows or columns."""
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import association

    used_rows = [r for r in rows if sum(table.get(r, {}).get(c, 0) for c in cols) > 0]
    used_cols = [c for c in cols if sum(table.get(r, {}).get(c, 0) for r in rows) > 0]
    out: dict[str, Any] = {"statistic": None, "p_value": None, "dof": None, "cramers_v": None,
                           "rows": used_rows, "columns": used_cols}
    if len(used_rows) < 2 or len(used_cols) < 2:
        out["reason"] = "needs at least two distance classes and two citation types with statements"
        return out
    observed = np.array([[table[r].get(c, 0) for c in used_cols] for r in used_rows], dtype=np.int64)
    res = chi2_contingency(observed)
    out.update(statistic=round(float(res.statistic), 6), p_value=float(res.pvalue), dof=int(res.dof),
               cramers_v=round(float(association(observed, method="cramer")), 6))
    return out
