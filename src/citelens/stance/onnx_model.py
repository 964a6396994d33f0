"""The fine-tuned MiniLM stance classifier, served with onnxruntime + tokenizers (no torch, no network).

The artefact is three files under ``models/``: the int8 ONNX graph (``stance-minilm-v2.onnx``: weights
quantised per tensor, activations per token, so a statement's output does not depend on what it is batched
with; logits for the three classes), the WordPiece tokenizer (``stance-minilm-v2.tokenizer.json``, that of
all-MiniLM-L6-v2) and a small JSON file with the classes, the decision offsets and the softmax temperature,
both fitted on the development splits. They are written by ``scripts/train_stance_minilm.py``; ``encode``
below is shared by training and runtime, so the model sees the same input in both.

Input: ``[CLS] <section>: <citing sentence, target callout as [MASK]> [SEP]`` (optionally followed by
``<next sentence> [SEP]``), the sentence cut to a window around the target when it is long. Evidence is a
phrase of the citing sentence (``citelens.stance.evidence``: its cue phrases, else the words the linear model
weighs towards the label; the network itself is not explained).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from citelens.stance.base import StanceInput, StancePrediction, predict_each_once
from citelens.stance.calibration import calibrated_probabilities
from citelens.stance.evidence import evidence
from citelens.stance.features import section_bucket

# Artefacts by version: ``<prefix>.onnx`` + ``<prefix>.json``; the tokenizer file is named in the JSON (all
# versions share all-MiniLM-L6-v2's WordPiece vocabulary, so it ships once).
V2, V3 = "stance-minilm-v2", "stance-minilm-v3"
MODEL_FILE = f"{V2}.onnx"
TOKENIZER_FILE = f"{V2}.tokenizer.json"
META_FILE = f"{V2}.json"
MAX_LEN = 66  # tokens in all, [CLS]/[SEP] included (the artefact's JSON can override these three)
MAX_SENT = 64  # of which the citing sentence may take at most this many
AFTER = False  # whether the next sentence is read too (costs ~1.6x the time; no dev gain, see the model card)
BATCH = 16  # statements per ONNX call (sorted by length); 16-32 measured fastest on 2 cores, 64 slower
PAD_TOLERANCE = 2  # most tokens of padding a batch may add to its shortest statement (see logits)
CLS_ID, SEP_ID, MASK_ID, PAD_ID = 101, 102, 103, 0

_CITE_SPAN = re.compile(r"<cite>.*?</cite>", re.S)
_CITE_TAG = re.compile(r"</?cite>")


def models_dir() -> Path:
    return Path(str(resources.files("citelens.stance") / "models"))


def model_available(prefix: str = V2) -> bool:
    """True when the artefact ``prefix`` is installed and the runtime libraries import."""
    d = models_dir()
    if not all((d / f).is_file() for f in (f"{prefix}.onnx", TOKENIZER_FILE, f"{prefix}.json")):
        return False
    # find_spec, not import: importing onnxruntime costs ~190 MB RSS, which users of "linear" must not pay.
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers"))


def texts(x: StanceInput) -> tuple[str, str, str]:
    """The segments the model reads: (section + citing sentence with the target as [MASK], previous sentence,
    next sentence)."""
    sent = _CITE_TAG.sub("", _CITE_SPAN.sub(" [MASK] ", x.text, count=1))
    sec = section_bucket(x.section) if x.section else ""
    if sec and sec != "other":
        sent = f"{sec}: {sent}"
    return sent, _CITE_TAG.sub("", x.before or ""), _CITE_TAG.sub("", x.after or "")


def load_tokenizer(path: Path):  # -> tokenizers.Tokenizer
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return tok


def encode(
    tok: Any, inputs: list[StanceInput], max_len: int = MAX_LEN, max_sent: int = MAX_SENT, after: bool = AFTER,
    before_tokens: int = 0, after_tokens: int = 0,
) -> list[np.ndarray]:
    """Token ids of each statement (1-D int64 arrays, unpadded), at most ``max_len`` long.

    ``[CLS] sentence [SEP]``, then, where asked for, the neighbours as a second segment:
    ``<last before_tokens of the previous sentence> [SEP] <first after_tokens of the next sentence> [SEP]``
    (v3). The neighbours carry what the citing sentence leaves implicit ("Our data show…" before a bare
    "This agrees with [3]"). v2's ``after=True`` is the next sentence filling what is left of ``max_len``.
    """
    trips = [texts(x) for x in inputs]
    a_enc = tok.encode_batch([a for a, _, _ in trips], add_special_tokens=False)
    want_b = before_tokens > 0
    want_n = after_tokens > 0 or after
    b_enc = tok.encode_batch([b for _, b, _ in trips], add_special_tokens=False) if want_b else [None] * len(trips)
    n_enc = tok.encode_batch([n for _, _, n in trips], add_special_tokens=False) if want_n else [None] * len(trips)
    out = []
    for ea, eb, en in zip(a_enc, b_enc, n_enc, strict=True):
        a = ea.ids
        if len(a) > max_sent:  # keep a window around the target callout
            m = a.index(MASK_ID) if MASK_ID in a else 0
            start = max(0, min(m - max_sent // 2, len(a) - max_sent))
            a = a[start:start + max_sent]
        ids = [CLS_ID, *a, SEP_ID]
        if before_tokens or after_tokens:
            prev = eb.ids[-before_tokens:] if eb is not None and before_tokens else []
            nxt = en.ids[:after_tokens] if en is not None and after_tokens else []
            if prev or nxt:
                ids += [*prev, SEP_ID, *nxt, SEP_ID]
        elif en is not None:
            b = en.ids[: max_len - 3 - len(a)]
            ids += [*b, SEP_ID] if b else []
        out.append(np.asarray(ids, dtype=np.int64))
    return out


def pad_batch(seqs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """input_ids / attention_mask / token_type_ids for one batch, padded to its longest row."""
    n = max(len(s) for s in seqs)
    ids = np.full((len(seqs), n), PAD_ID, dtype=np.int64)
    mask = np.zeros((len(seqs), n), dtype=np.int64)
    types = np.zeros((len(seqs), n), dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s
        mask[i, : len(s)] = 1
        sep = np.flatnonzero(s == SEP_ID)
        if len(sep) > 1:
            types[i, sep[0] + 1 : len(s)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


class _Artefact:
    def __init__(self, directory: Path, prefix: str = V2, threads: int | None = None) -> None:
        import onnxruntime as ort

        meta = json.loads((directory / f"{prefix}.json").read_text(encoding="utf-8"))
        self.meta: dict[str, Any] = meta
        self.classes: list[str] = list(meta["classes"])
        self.temperature = float(meta["temperature"])
        self.offsets = np.asarray(meta.get("offsets", [0.0] * len(self.classes)), dtype=np.float32)
        opts = ort.SessionOptions()
        # BASIC, not ALL: the graph quantises activations per token (see scripts/train_stance_minilm.py), and
        # the extended MatMulIntegerToFloat fusion assumes one scale per tensor. BASIC is also the faster here.
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        env = os.environ.get("CITELENS_THREADS", "")
        # A thread budget of N (CITELENS_THREADS, set by ingest's worker processes, else ``threads``, else the
        # cores, at most 4) runs N batches side by side, each onnxruntime call on one thread
        # (MiniLMStanceClassifier.logits): the batches are small (≤ 16 statements of ~70 tokens), and splitting
        # one small matrix product over two threads cost more than it gave (the cascade: 1,692 statements/s with
        # one thread, 1,131 with two, 2026-12-03).
        if env.isdigit() and int(env) > 0:
            budget = int(env)
        elif threads:
            budget = threads
        else:
            budget = min(4, os.cpu_count() or 1)  # as ingest's --jobs auto counts the cores
        opts.intra_op_num_threads = 1
        self.parallel_batches = max(1, budget)
        self.session = ort.InferenceSession(str(directory / f"{prefix}.onnx"), opts,
                                            providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer = load_tokenizer(directory / str(meta.get("tokenizer", TOKENIZER_FILE)))
        self.encoding: dict[str, Any] = {"max_len": int(meta.get("max_len", MAX_LEN)), "max_sent": int(meta.get("max_sent", MAX_SENT)),
                         "after": bool(meta.get("after", AFTER)),
                         "before_tokens": int(meta.get("before_tokens", 0)),
                         "after_tokens": int(meta.get("after_tokens", 0))}


@lru_cache(maxsize=4)
def _load_cached(directory: str, prefix: str = V2, threads: int | None = None) -> _Artefact:
    return _Artefact(Path(directory), prefix, threads)


class MiniLMStanceClassifier:
    """A MiniLM fine-tuned on the stance training splits, int8 ONNX, temperature-calibrated.

    ``prefix`` picks the artefact: ``stance-minilm-v3`` (the cascade's second stage: 3 layers, reads the
    neighbouring sentences) or ``stance-minilm-v2`` (the previous default, citing sentence only).
    """

    name = "minilm"

    def __init__(self, directory: Path | None = None, prefix: str = V2, threads: int | None = None) -> None:
        self.directory = directory or models_dir()
        self.prefix = prefix
        self.model = _load_cached(str(self.directory), prefix, threads)

    @property
    def version(self) -> str:
        return str(self.model.meta.get("version", "?"))

    def logits(self, inputs: list[StanceInput]) -> np.ndarray:
        """Raw class scores (before decision offsets and temperature), in input order."""
        m = self.model
        seqs = encode(m.tokenizer, inputs, **m.encoding)
        out = np.zeros((len(seqs), len(m.classes)), dtype=np.float32)
        lengths = [len(s) for s in seqs]
        order = np.argsort(lengths, kind="stable")
        # A batch holds statements within PAD_TOLERANCE tokens of each other's length: padding costs as much as
        # real tokens, and the few statements a cascade sends here from one article are of any length (measured
        # on the stage-2 statements of plos-starter, one call per article: 5.34 ms per statement in batches of
        # 16 sorted by length, 4.50 ms with a tolerance of 2 tokens; the per-call overhead is small).
        groups = []
        i = 0
        while i < len(order):
            j = i + 1
            while j < len(order) and j - i < BATCH and lengths[order[j]] - lengths[order[i]] <= PAD_TOLERANCE:
                j += 1
            groups.append(order[i:j])
            i = j

        def run(idx: np.ndarray) -> None:
            feed = {k: v for k, v in pad_batch([seqs[q] for q in idx]).items() if k in m.input_names}
            out[idx] = m.session.run(None, feed)[0]

        if m.parallel_batches > 1 and len(groups) > 1:
            # onnxruntime releases the GIL in run() and one session may serve several threads; every statement
            # is quantised on its own (per token), so its result does not depend on which batch or thread ran it.
            with ThreadPoolExecutor(max_workers=m.parallel_batches) as pool:
                list(pool.map(run, groups))
        else:
            for idx in groups:
                run(idx)
        return out

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return calibrated_probabilities(logits, self.model.offsets, self.model.temperature)

    def predict(self, inputs: list[StanceInput]) -> list[StancePrediction]:
        return predict_each_once(inputs, self._predict)

    def _predict(self, inputs: list[StanceInput]) -> list[StancePrediction]:
        classes = self.model.classes
        probs = self.probabilities(self.logits(inputs))
        preds = []
        for x, p in zip(inputs, probs, strict=True):
            k = int(np.argmax(p))
            preds.append(
                StancePrediction(
                    stance=classes[k],
                    confidence=float(p[k]),
                    evidence=evidence(x, classes[k]),
                    probabilities={c: round(float(v), 4) for c, v in zip(classes, p, strict=True)},
                )
            )
        return preds
