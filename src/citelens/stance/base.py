"""The classifier interface: any object with ``name`` and ``predict`` can classify citation statements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class StanceInput:
    """What a classifier sees: the citing sentence with the target callout wrapped in <cite>…</cite>."""

    text: str
    before: str = ""
    after: str = ""
    section: str = ""


@dataclass(frozen=True)
class StancePrediction:
    stance: str  # "supporting" | "contrasting" | "mentioning"
    confidence: float  # probability of ``stance``, calibrated where the classifier says so
    evidence: str = ""  # the cue span / most influential tokens, for showing *why*
    probabilities: dict[str, float] | None = None


@runtime_checkable
class StanceClassifier(Protocol):
    name: str

    def predict(self, inputs: list[StanceInput]) -> list[StancePrediction]:
        """Classify a batch; returns one prediction per input, in order."""
        ...


def predict_each_once(
    inputs: list[StanceInput], predict: Callable[[list[StanceInput]], list[StancePrediction]]
) -> list[StancePrediction]:
    """Run ``predict`` on the distinct inputs only and fan the answers out in input order.

    A callout naming several references ("[3]–[6]") gives identical inputs, ~15 % of a corpus's statements;
    for a classifier whose output for a row does not depend on the other rows this is exact.
    """
    if not inputs:
        return []
    unique: dict[StanceInput, int] = {}
    for x in inputs:
        unique.setdefault(x, len(unique))
    if len(unique) == len(inputs):
        return predict(inputs)
    preds = predict(list(unique))
    return [preds[unique[x]] for x in inputs]
