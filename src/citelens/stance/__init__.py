"""Classify citation statements as supporting / contrasting / mentioning.

``get_classifier(name)`` returns a classifier by name ("cues" is the transparent baseline;
learned models register here too), ``classify_statements(doc, clf)`` is the pipeline stage.
"""

from __future__ import annotations

from collections.abc import Callable

from citelens.document import Document
from citelens.stance.base import StanceClassifier, StanceInput, StancePrediction
from citelens.stance.cascade import (
    CascadeStanceClassifier,
    cascade_available,
    recommended_min_confidence,
    resolve_min_confidence,
)
from citelens.stance.cues import CuePhraseClassifier
from citelens.stance.model import LinearStanceClassifier, model_available, newest_model_path
from citelens.stance.onnx_model import V2, V3, MiniLMStanceClassifier
from citelens.stance.onnx_model import model_available as minilm_available


def _named(name: str, factory: Callable[[], StanceClassifier]) -> Callable[[], StanceClassifier]:
    def make() -> StanceClassifier:
        clf = factory()
        clf.name = name  # one class serves several registered versions
        return clf

    return make


_REGISTRY: dict[str, Callable[[], StanceClassifier]] = {"cues": CuePhraseClassifier}
if model_available():
    _REGISTRY["linear-v2"] = _named("linear-v2", LinearStanceClassifier)
    _REGISTRY["linear"] = _named("linear", lambda: LinearStanceClassifier(newest_model_path()))
# The fine-tuned MiniLMs (int8 ONNX) register when their artefacts are installed (they ship in the wheel) and
# onnxruntime + tokenizers import (both are dependencies). "minilm" is the newest network on its own;
# "minilm-v2" the previous default, kept so its figures can be reproduced beside v3's.
if minilm_available(V2):
    _REGISTRY["minilm-v2"] = _named("minilm-v2", lambda: MiniLMStanceClassifier(prefix=V2))
if minilm_available(V3):
    _REGISTRY["minilm"] = _named("minilm", lambda: MiniLMStanceClassifier(prefix=V3))
elif "minilm-v2" in _REGISTRY:
    _REGISTRY["minilm"] = _REGISTRY["minilm-v2"]
if cascade_available():
    _REGISTRY["cascade"] = CascadeStanceClassifier
# The default is the best installed model on the development splits: the v3 cascade (linear first stage,
# MiniLM-v3 for the statements it cannot settle; see docs/model-card.md), then MiniLM alone, then the linear
# model, then the transparent cue baseline (a source checkout without artefacts).
DEFAULT_CLASSIFIER = next(n for n in ("cascade", "minilm", "linear", "cues") if n in _REGISTRY)


def register_classifier(name: str, factory: Callable[[], StanceClassifier]) -> None:
    _REGISTRY[name] = factory


def available_classifiers() -> list[str]:
    return sorted(_REGISTRY)


def check_classifier_name(name: str | None) -> None:
    """ValueError when ``name`` is not a registered classifier (None: the default), without loading any model:
    what commands check before they open anything or start workers."""
    if (name or DEFAULT_CLASSIFIER) not in _REGISTRY:
        raise ValueError(f"unknown classifier {name!r}; available: {', '.join(available_classifiers())}")


def get_classifier(name: str | None = None) -> StanceClassifier:
    check_classifier_name(name)
    return _REGISTRY[name or DEFAULT_CLASSIFIER]()


def classify_statements(doc: Document, classifier: StanceClassifier) -> Document:
    """Pipeline stage: set stance, confidence and evidence on every statement of ``doc``."""
    if not doc.statements:
        return doc
    inputs = [
        StanceInput(text=s.marked_sentence(), before=s.before, after=s.after, section=s.section)
        for s in doc.statements
    ]
    for stmt, pred in zip(doc.statements, classifier.predict(inputs), strict=True):
        stmt.stance = pred.stance
        stmt.confidence = round(float(pred.confidence), 4)
        stmt.evidence = pred.evidence
    return doc


__all__ = [
    "StanceClassifier", "StanceInput", "StancePrediction", "CuePhraseClassifier", "LinearStanceClassifier",
    "MiniLMStanceClassifier", "CascadeStanceClassifier", "recommended_min_confidence", "resolve_min_confidence",
    "get_classifier", "check_classifier_name",
    "register_classifier", "available_classifiers", "classify_statements", "DEFAULT_CLASSIFIER",
]
