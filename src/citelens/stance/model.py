"""The learned stance classifier: a linear model over sparse string features, run with numpy alone.

The artefact (``models/stance-linear-v*.npz``) holds the feature vocabulary, a weight matrix, per-class
biases, the decision offsets chosen on the development split, and a softmax temperature fitted on that
split so that ``confidence`` is calibrated. It is written by ``scripts/train_stance.py``; nothing here
imports scikit-learn, so the runtime install stays light (see docs/model-card.md).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from citelens.stance.base import StanceInput, StancePrediction, predict_each_once
from citelens.stance.calibration import calibrated_probabilities
from citelens.stance.evidence import evidence
from citelens.stance.features import FEATURE_VERSION, SUPPORTED_FEATURE_VERSIONS, FeatureIndexer

MODEL_FILE = "stance-linear-v2.npz"
# Statements whose weight rows are summed together (LinearArtefact.row_sums): the padded matrices stay ~10 MB
# even with a sentence of 2,000 features among them.
ROW_SUM_BATCH = 256


def default_model_path() -> Path:
    return Path(str(resources.files("citelens.stance") / "models" / MODEL_FILE))


def model_available() -> bool:
    return default_model_path().is_file()


V3_FILE = "stance-linear-v3.npz"  # the cascade's first stage, trained on the Europe PMC set too


def newest_model_path() -> Path:
    """linear-v3 where installed, else the default (v2) artefact."""
    v3 = default_model_path().with_name(V3_FILE)
    return v3 if v3.is_file() else default_model_path()


@dataclass
class LinearArtefact:
    vocab: dict[str, int]
    features: list[str]
    weights: np.ndarray  # (n_features, n_classes) float32
    bias: np.ndarray  # (n_classes,)
    offsets: np.ndarray  # (n_classes,) added to the scores before calibration: the decision thresholds
    temperature: float
    classes: list[str]
    meta: dict[str, Any]
    _indexer: FeatureIndexer | None = field(default=None, init=False, repr=False, compare=False)
    _padded: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)  # weights + a -0.0 row

    def indexer(self) -> FeatureIndexer:
        """The runtime's feature ids (``vectorise(extract(x))`` without the strings), made on first use."""
        if self._indexer is None:
            self._indexer = FeatureIndexer(self.vocab, int(self.meta["feature_version"]))
        return self._indexer

    def row_sums(self, idx: list[np.ndarray]) -> np.ndarray:
        """``[weights[ix].sum(axis=0) for ix in idx]`` bit for bit, in a few numpy calls a batch.

        A float32 sum depends on its order, and ``sum(axis=0)`` adds the rows one after another. Here a batch's
        index lists stand side by side as the columns of a matrix, the short ones padded with a row of -0.0
        (x + -0.0 == x for every float, -0.0 included), and the gathered weights are summed along the first axis,
        which numpy also does one slab after another: each statement's rows are added in the same order
        (tests/test_stance_indexer.py). On plos-starter's statements, a batch an article, the loop over statements
        took ~13 µs a statement with the arrays of indices, this ~9.
        """
        if self._padded is None:
            self._padded = np.concatenate([self.weights, np.full((1, self.weights.shape[1]), -0.0, np.float32)])
        out = np.empty((len(idx), self.weights.shape[1]), dtype=np.float32)
        for lo in range(0, len(idx), ROW_SUM_BATCH):
            part = idx[lo:lo + ROW_SUM_BATCH]
            counts = np.fromiter(map(len, part), dtype=np.int64, count=len(part))
            cols = np.full((int(counts.max()), len(part)), len(self.weights), dtype=np.int64)  # the -0.0 row
            cols.T[np.arange(cols.shape[0]) < counts[:, None]] = np.concatenate(part)
            out[lo:lo + len(part)] = np.add.reduce(self._padded[cols], axis=0)
        return out

    @classmethod
    def load(cls, path: Path) -> LinearArtefact:
        with np.load(path, allow_pickle=False) as z:
            features = bytes(z["vocab"]).decode("utf-8").split("\n")
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            weights = z["W"].astype(np.float32)
            bias = z["b"].astype(np.float32)
        if meta.get("feature_version") not in SUPPORTED_FEATURE_VERSIONS:
            raise ValueError(
                f"{path.name} was trained with feature version {meta.get('feature_version')}, "
                f"this code extracts versions {SUPPORTED_FEATURE_VERSIONS}: retrain with scripts/train_stance.py"
            )
        return cls(
            vocab={f: i for i, f in enumerate(features)},
            features=features,
            weights=weights,
            bias=bias,
            offsets=np.asarray(meta["offsets"], dtype=np.float32),
            temperature=float(meta["temperature"]),
            classes=list(meta["classes"]),
            meta=meta,
        )

    def save(self, path: Path) -> None:
        meta = dict(self.meta)
        meta.update(
            classes=self.classes, offsets=[float(v) for v in self.offsets], temperature=self.temperature,
            feature_version=meta.get("feature_version", FEATURE_VERSION),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            vocab=np.frombuffer("\n".join(self.features).encode("utf-8"), dtype=np.uint8),
            W=self.weights.astype(np.float16),  # half precision: halves the wheel, no measurable loss
            b=self.bias.astype(np.float32),
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        )


def vectorise(feats: list[str], vocab: dict[str, int]) -> np.ndarray:
    """Indices of the known features of one statement (binary bag; the score divides by sqrt(len)).

    The reference for ``FeatureIndexer.indices``, which the runtime uses instead: same indices, same order."""
    # One dict lookup per feature, not two (``f in vocab`` then ``vocab[f]``): hashing ~150 fresh strings per
    # statement is most of this function's time.
    ids = set(map(vocab.get, feats))
    ids.discard(None)
    return np.fromiter(ids, dtype=np.int64, count=len(ids))


class LinearStanceClassifier:
    """Multinomial logistic regression over word, context, character and cue features."""

    name = "linear"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_model_path()
        self.model = _load_cached(str(self.path))

    @property
    def version(self) -> str:
        return str(self.model.meta.get("version", "?"))

    def scores(self, inputs: list[StanceInput]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Raw (uncalibrated, un-offset) class scores and the feature indices behind each row."""
        m = self.model
        sets = list(map(m.indexer().indices, inputs))  # what ``vectorise(extract(x))`` gives, as sets
        counts = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
        flat = np.fromiter(itertools.chain.from_iterable(sets), dtype=np.int64, count=int(counts.sum()))
        idx = [flat[end - n:end] for n, end in zip(counts.tolist(), np.cumsum(counts).tolist(), strict=True)]
        # Rows are L2-normalised binary vectors, exactly as in training.
        out = np.zeros((len(inputs), len(m.classes)), dtype=np.float32)
        full = counts > 0
        out[full] = m.row_sums(idx)[full] / np.sqrt(counts[full])[:, None]
        out += m.bias
        return out, idx

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        return calibrated_probabilities(scores, self.model.offsets, self.model.temperature)

    def predict(self, inputs: list[StanceInput]) -> list[StancePrediction]:
        return predict_each_once(inputs, self._predict)

    def _predict(self, inputs: list[StanceInput]) -> list[StancePrediction]:
        m = self.model
        raw, idx = self.scores(inputs)
        probs = self.probabilities(raw)
        preds = []
        for r, ix in enumerate(idx):
            k = int(np.argmax(probs[r]))
            # The evidence every classifier shows (citelens.stance.evidence): cue phrases of the sentence, else a
            # phrase of its words built from this model's own drivers, else nothing; none for mentioning.
            preds.append(
                StancePrediction(
                    stance=m.classes[k],
                    confidence=float(probs[r, k]),
                    evidence=evidence(inputs[r], m.classes[k], partial(self.drivers, ix, m.classes[k])),
                    probabilities={c: round(float(p), 4) for c, p in zip(m.classes, probs[r], strict=True)},
                )
            )
        return preds

    def explain_drivers(self, x: StanceInput, stance: str) -> list[tuple[str, float]]:
        """:meth:`drivers` of ``x``, its features extracted here."""
        _, idx = self.scores([x])
        return self.drivers(idx[0], stance)

    def drivers(self, features: np.ndarray, stance: str) -> list[tuple[str, float]]:
        """Every feature of a statement (indices from :meth:`scores`) with its margin for ``stance``: its weight
        for ``stance`` minus its largest weight for another class (features are binary, so this is how much
        it pushes the statement towards ``stance`` against the runner-up), largest first. What
        :func:`citelens.stance.evidence.stand_ins` builds a phrase of the sentence from."""
        m = self.model
        if not len(features):
            return []
        k = m.classes.index(stance)
        w = m.weights[features]
        margin = w[:, k] - np.delete(w, k, axis=1).max(axis=1)
        order = np.argsort(-margin, kind="stable")
        return [(m.features[features[j]], float(margin[j])) for j in order]


@lru_cache(maxsize=4)
def _load_cached(path: str) -> LinearArtefact:
    # Loading parses ~100k vocabulary strings; share one copy between classifier instances.
    return LinearArtefact.load(Path(path))
