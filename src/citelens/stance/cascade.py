"""The default stance classifier (v3): a two-stage cascade, cheap first, careful where it matters.

Most citation statements (≈85–90 % of running biomedical text) plainly *mention* the cited work. Stage 1, the
linear model (``stance-linear-v3``, ≈5,000 statements/s on one core), settles a statement as mentioning when it
is confident of it: its calibrated P(mentioning) is at least ``stage1_threshold``. Everything else (the rows that
could be supporting or contrasting, and the unclear ones) goes to stage 2, a 3-layer MiniLM distilled from
larger networks (``stance-minilm-v3``, int8 ONNX), which reads the citing sentence, the end of the previous
sentence, the start of the next one and the section.

Both stages and the threshold are fitted by ``scripts/train_stance_cascade.py`` on the training splits; the
threshold is chosen on the development splits (the largest share settled cheaply while losing at most a small,
recorded share of the dev supporting/contrasting rows), as is ``min_confidence``: the lowest confidence at
which dev precision reaches 0.8 for both supporting and contrasting labels. Everything is read from
``models/stance-cascade-v3.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from citelens.stance.base import StanceInput, StancePrediction, predict_each_once
from citelens.stance.evidence import evidence
from citelens.stance.model import V3_FILE as LINEAR_V3_FILE
from citelens.stance.model import LinearStanceClassifier
from citelens.stance.onnx_model import V3, MiniLMStanceClassifier, models_dir
from citelens.stance.onnx_model import model_available as minilm_available

CASCADE_FILE = "stance-cascade-v3.json"


def cascade_available() -> bool:
    d = models_dir()
    return (d / CASCADE_FILE).is_file() and (d / LINEAR_V3_FILE).is_file() and minilm_available(V3)


@lru_cache(maxsize=2)
def cascade_meta(directory: str | None = None) -> dict[str, Any]:
    """The cascade's settings and the dev figures they were chosen on (``stance-cascade-v3.json``)."""
    d = Path(directory) if directory else models_dir()
    return dict(json.loads((d / CASCADE_FILE).read_text(encoding="utf-8")))


def recommended_min_confidence() -> float | None:
    """The confidence at or above which supporting/contrasting labels reached precision 0.8 on dev (None
    where no cascade is installed). What ``--min-confidence auto`` and the web's "confident only" use."""
    if not cascade_available():
        return None
    value = cascade_meta().get("min_confidence")
    return float(value) if value is not None else None


def resolve_min_confidence(value: str | float | None) -> float | None:
    """What a user gave as ``--min-confidence`` / ``min_confidence=``: a number in 0–1, ``auto`` (the installed
    model's dev-chosen threshold for precision 0.8), or nothing (count every label). ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() == "auto":
        return recommended_min_confidence()
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"min_confidence must be a number between 0 and 1 or 'auto', not {value!r}") from None
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"min_confidence must be between 0 and 1, not {x}")
    return x + 0.0  # "-0" is 0 (it was shown as "≥ -0")


class CascadeStanceClassifier:
    """Stage 1 (linear-v3) settles the clear "mentioning" statements; stage 2 (MiniLM-v3) reads the rest."""

    name = "cascade"

    def __init__(self, directory: Path | None = None) -> None:
        d = directory or models_dir()
        self.meta = cascade_meta(str(d))
        self.threshold = float(self.meta["stage1_threshold"])
        # Stage 2's answer is the network's probabilities mixed with stage 1's (weight chosen on dev; 1.0 =
        # the network alone): the two models err on different statements.
        self.stage2_weight = float(self.meta.get("stage2_weight", 1.0))
        self.stage1 = LinearStanceClassifier(d / LINEAR_V3_FILE)
        # Stage 2's batches run side by side, one per core, each call on one onnxruntime thread (see
        # onnx_model._Artefact); ingest's worker processes set CITELENS_THREADS=1, so each keeps to its own core.
        self.stage2 = MiniLMStanceClassifier(d, V3)
        self._mentioning = self.stage1.model.classes.index("mentioning")

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "?"))

    def stage1_mentioning(self, inputs: list[StanceInput]) -> np.ndarray:
        """Stage 1's calibrated P(mentioning) for each input."""
        raw, _ = self.stage1.scores(inputs)
        return self.stage1.probabilities(raw)[:, self._mentioning]

    def combine(self, linear: np.ndarray, network: np.ndarray) -> np.ndarray:
        """Stage 2's probabilities: the network's, mixed with stage 1's by ``stage2_weight``."""
        return self.stage2_weight * network + (1.0 - self.stage2_weight) * linear

    def predict(self, inputs: list[StanceInput]) -> list[StancePrediction]:
        return predict_each_once(inputs, self._predict)

    def _predict(self, inputs: list[StanceInput]) -> list[StancePrediction]:
        raw, features = self.stage1.scores(inputs)
        p_lin = self.stage1.probabilities(raw)
        p_ment = p_lin[:, self._mentioning]
        hard = [i for i, p in enumerate(p_ment) if p < self.threshold]
        out: list[StancePrediction | None] = [None] * len(inputs)
        classes = self.stage1.model.classes
        for i, p in enumerate(p_ment):
            if p >= self.threshold:
                rest = (1.0 - float(p)) / (len(classes) - 1)
                out[i] = StancePrediction(
                    stance="mentioning", confidence=float(p), evidence="",
                    probabilities={c: round(float(p) if c == "mentioning" else rest, 4) for c in classes})
        if hard:
            net = self.stage2.probabilities(self.stage2.logits([inputs[i] for i in hard]))
            mixed = self.combine(p_lin[hard], net)
            for j, i in enumerate(hard):
                k = int(np.argmax(mixed[j]))
                out[i] = StancePrediction(
                    stance=classes[k], confidence=float(mixed[j, k]),
                    evidence=evidence(inputs[i], classes[k],
                                      partial(self.stage1.drivers, features[i], classes[k])),
                    probabilities={c: round(float(v), 4) for c, v in zip(classes, mixed[j], strict=True)})
        return [p for p in out if p is not None]
