"""The classifier interface: any object with ``name`` and ``predict`` can classify citation statements."""

from __future__ import annotations

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
