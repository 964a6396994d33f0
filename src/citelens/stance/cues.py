"""Transparent cue-phrase baseline. Every cue lives in the lists below, nowhere else.

A cue counts only when it is near the target callout's sentence; the citing work's own-results words
("we", "our", "here", "this study") make a comparison cue count as evidence rather than background.
"""

from __future__ import annotations

import re

from citelens.stance.base import StanceInput, StancePrediction

SUPPORTING_CUES: tuple[str, ...] = (
    "consistent with", "in agreement with", "in accordance with", "in line with", "agrees with",
    "agree with", "concordant with", "corroborate", "corroborates", "confirm", "confirms", "confirmed",
    "similar to", "similarly", "as previously reported", "as previously described", "as reported",
    "as observed", "replicate", "replicates", "replicated", "support the", "supports the",
    "in keeping with", "comparable to", "also observed", "also found", "also reported", "as expected",
    "previously shown", "matches", "parallels",
)
CONTRASTING_CUES: tuple[str, ...] = (
    "in contrast to", "in contrast with", "contrary to", "unlike", "inconsistent with",
    "in disagreement with", "disagree with", "disagrees with", "contradict", "contradicts", "contradicted",
    "differ from", "differs from", "different from", "did not observe", "did not find", "failed to",
    "fail to", "not consistent with", "not in agreement", "conflict with", "conflicts with",
    "at odds with", "do not support", "does not support", "did not confirm", "not confirm", "whereas",
    "however, we", "discrepancy", "discrepant", "opposite to",
)
OWN_WORK_CUES: tuple[str, ...] = (
    "we ", "our ", "here", "this study", "the present study", "present results", "these results",
    "these data", "these findings", "this work", "in this study",
)

_SUP = re.compile(r"\b(" + "|".join(re.escape(c) for c in SUPPORTING_CUES) + r")\b", re.I)
_CON = re.compile(r"\b(" + "|".join(re.escape(c) for c in CONTRASTING_CUES) + r")\b", re.I)
_OWN = re.compile(r"(\b" + r"|\b".join(re.escape(c) for c in OWN_WORK_CUES) + r")", re.I)
_CITE = re.compile(r"</?cite>")


class CuePhraseClassifier:
    """Rule baseline: a contrasting or supporting cue in the citing sentence, else mentioning."""

    name = "cues"

    def predict(self, inputs: list[StanceInput]) -> list[StancePrediction]:
        return [self._one(x) for x in inputs]

    def _one(self, x: StanceInput) -> StancePrediction:
        text = _CITE.sub("", x.text)
        own = bool(_OWN.search(text))
        con = _CON.search(text)
        sup = _SUP.search(text)
        if con:
            conf = 0.7 if own else 0.55
            return StancePrediction("contrasting", conf, con.group(0), None)
        if sup:
            conf = 0.7 if own else 0.55
            return StancePrediction("supporting", conf, sup.group(0), None)
        return StancePrediction("mentioning", 0.8, "", None)
