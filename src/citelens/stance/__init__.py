"""Classify citation statements as supporting / contrasting / mentioning.

``get_classifier(name)`` returns a classifier by name ("cues" is the transparent baseline;
learned models register here too), ``classify_statements(doc, clf)`` is the pipeline stage.
"""

from __future__ import annotations

from collections.abc import Callable

from citelens.document import Document
from citelens.stance.base import StanceClassifier, StanceInput, StancePrediction
from citelens.stance.cues import CuePhraseClassifier
from citelens.stance.model import LinearStanceClassifier, model_available
from citelens.stance.onnx_model import MiniLMStanceClassifier
from citelens.stance.onnx_model import model_available as minilm_available

_REGISTRY: dict[str, Callable[[], StanceClassifier]] = {"cues": CuePhraseClassifier}
if model_available():
    _REGISTRY["linear"] = LinearStanceClassifier
# The fine-tuned MiniLM (int8 ONNX) registers when its artefact is installed (it ships in the wheel) and
# onnxruntime + tokenizers import (both are dependencies).
if minilm_available():
    _REGISTRY["minilm"] = MiniLMStanceClassifier
# The default is the best model on the development splits that is installed: MiniLM, then the linear
# model (15x faster, a little less accurate; see docs/model-card.md), then the transparent cue baseline
# (a source checkout without artefacts).
DEFAULT_CLASSIFIER = next(n for n in ("minilm", "linear", "cues") if n in _REGISTRY)


def register_classifier(name: str, factory: Callable[[], StanceClassifier]) -> None:
    _REGISTRY[name] = factory


def available_classifiers() -> list[str]:
    return sorted(_REGISTRY)


def get_classifier(name: str | None = None) -> StanceClassifier:
    name = name or DEFAULT_CLASSIFIER
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown classifier {name!r}; available: {', '.join(available_classifiers())}") from None
    return factory()


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
    "MiniLMStanceClassifier",
    "get_classifier",
    "register_classifier", "available_classifiers", "classify_statements", "DEFAULT_CLASSIFIER",
]
