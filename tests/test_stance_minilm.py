"""The fine-tuned MiniLM stance classifier (int8 ONNX): loads offline, well-formed predictions (no thresholds)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")

from citelens.document import STANCES  # noqa: E402
from citelens.stance import StanceInput, available_classifiers, get_classifier  # noqa: E402
from citelens.stance.onnx_model import (  # noqa: E402
    BATCH,
    MAX_LEN,
    MODEL_FILE,
    encode,
    model_available,
    models_dir,
    texts,
)
from stance_examples import EXAMPLES as BASE_EXAMPLES  # noqa: E402

pytestmark = pytest.mark.skipif(not model_available(), reason="minilm artefact not installed")

EXAMPLES = [
    *BASE_EXAMPLES,
    StanceInput("word " * 400 + "<cite>[9]</cite> " + "word " * 400, after="next " * 300),
]


def test_registered_and_artefact_small() -> None:
    assert "minilm" in available_classifiers()
    assert (models_dir() / MODEL_FILE).stat().st_size < 25_000_000  # v2; v3 is smaller (3 layers)


def test_predictions_well_formed() -> None:
    clf = get_classifier("minilm")
    preds = clf.predict(EXAMPLES)
    assert len(preds) == len(EXAMPLES)
    for p in preds:
        assert p.stance in STANCES
        assert p.probabilities is not None and set(p.probabilities) == set(STANCES)
        assert abs(sum(p.probabilities.values()) - 1.0) < 1e-3
        assert 0.0 < p.confidence <= 1.0
        assert abs(p.confidence - max(p.probabilities.values())) < 1e-3
        assert isinstance(p.evidence, str)
    assert clf.predict([]) == []
    # Identical inputs (a range callout "[3]-[6]" repeats one sentence) get identical predictions.
    twice = clf.predict([EXAMPLES[0], EXAMPLES[1], EXAMPLES[0]])
    assert twice[0] == twice[2] and twice[0] != twice[1]


def test_batching_keeps_order() -> None:
    # More rows than one batch, of mixed lengths (the runtime sorts by length): same answer as one by one.
    clf = get_classifier("minilm")
    # Distinct rows (identical ones are classified once), more than one batch's worth.
    inputs = [StanceInput(EXAMPLES[i % 3].text + " x" * i, section=EXAMPLES[i % 3].section)
              for i in range(3 * BATCH + 5)]
    inputs[7] = EXAMPLES[5]
    many = clf.predict(inputs)
    assert many[7].stance in STANCES
    for i in (0, 1, 2, 3 * BATCH + 4):
        one = clf.predict([inputs[i]])[0]
        assert one.stance == many[i].stance
        assert abs(one.confidence - many[i].confidence) < 0.05


def test_prediction_does_not_depend_on_batch_company() -> None:
    # Activations are quantised per token, not per batch, so a statement gets the same probabilities
    # whatever it is batched with (per-batch int8 scales flipped ~2 % of dev labels).
    clf = get_classifier("minilm")
    target = EXAMPLES[1]
    alone = clf.predict([target])[0]
    noisy = [StanceInput("word " * 60 + "<cite>[2]</cite> " + "9" * 40), target, EXAMPLES[0], EXAMPLES[2]]
    company = clf.predict(noisy)[1]
    assert company.stance == alone.stance
    assert alone.probabilities is not None and company.probabilities is not None
    for c in STANCES:
        assert abs(alone.probabilities[c] - company.probabilities[c]) < 1e-3


def test_encoding_marks_target_and_respects_budget() -> None:
    clf = get_classifier("minilm")
    a, prev, nxt = texts(StanceInput("As shown by <cite>Lee (2010)</cite>, X rises.", before="Prev.", after="Next.",
                                     section="Results"))
    assert "[MASK]" in a and "Lee" not in a and prev == "Prev." and nxt == "Next."
    seqs = encode(clf.model.tokenizer, EXAMPLES)
    assert all(2 <= len(s) <= MAX_LEN for s in seqs)
    assert 103 in seqs[5]  # the target survives truncation of a very long sentence


def test_loads_offline_without_torch() -> None:
    # A fresh interpreter with torch/transformers unimportable and sockets disabled must load and run it.
    code = (
        "import sys, socket\n"
        "sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
        "def _no(*a, **k): raise OSError('network disabled')\n"
        "socket.socket.connect = _no\n"
        "from citelens.stance import get_classifier, StanceInput\n"
        "p = get_classifier('minilm').predict([StanceInput('We confirm <cite>[1]</cite>.')])[0]\n"
        "print(p.stance)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in STANCES


def test_thread_budget_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ingest's worker processes set CITELENS_THREADS so that N workers do not start N x cores threads.
    from citelens.stance.onnx_model import _Artefact

    monkeypatch.setenv("CITELENS_THREADS", "1")
    art = _Artefact(models_dir())
    assert art.session.get_session_options().intra_op_num_threads == 1


def test_batches_side_by_side_give_the_serial_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each onnxruntime call is single-threaded and, with a budget above one thread (no CITELENS_THREADS: the
    # cores), the batches run side by side; every statement must get exactly what one batch after another gives.
    from citelens.stance.onnx_model import V3, MiniLMStanceClassifier, _Artefact

    monkeypatch.delenv("CITELENS_THREADS", raising=False)
    art = _Artefact(models_dir(), V3)
    assert art.session.get_session_options().intra_op_num_threads == 1
    clf = MiniLMStanceClassifier(prefix=V3)
    monkeypatch.setattr(clf, "model", art)
    inputs = [StanceInput(EXAMPLES[i % 4].text + " y" * (i % 9), before=EXAMPLES[i % 4].before,
                          section=EXAMPLES[i % 4].section) for i in range(4 * BATCH + 3)]
    art.parallel_batches = 1
    serial = clf.logits(inputs)
    art.parallel_batches = 3
    assert (clf.logits(inputs) == serial).all()
    monkeypatch.setenv("CITELENS_THREADS", "1")  # ingest's workers: one core each, one batch after another
    assert _Artefact(models_dir(), V3).parallel_batches == 1


def test_evidence_is_taken_from_the_citing_sentence() -> None:
    from citelens.stance.onnx_model import evidence

    cue = StanceInput("In contrast to <cite>[4]</cite>, we found no effect.")
    assert "in contrast to" in evidence(cue, "contrasting")
    # No lexicon cue: a comparison phrase kept for display, or the linear model's strongest words grown into a
    # phrase, still words of this sentence (tests/test_stance_evidence.py).
    plain = StanceInput("Our measurements match the values reported by <cite>[4]</cite> for the wild type.")
    phrases = evidence(plain, "supporting").split("; ")
    words = set(plain.text.lower().replace(".", " ").split())
    assert phrases != [""] and all(set(p.split()) <= words for p in phrases)
    assert evidence(plain, "mentioning") == ""


def test_evidence_shows_whole_words_not_cue_stems() -> None:
    from citelens.stance.onnx_model import evidence

    # The lexicons hold stems ("corroborat", "differ"): a reader sees the sentence's own word.
    ev = evidence(StanceInput("These data corroborated the model of <cite>[4]</cite>."), "supporting")
    assert "corroborated" in ev.split("; ")
    ev = evidence(StanceInput("Our estimate is different from that of <cite>[4]</cite>."), "contrasting")
    assert all(not p.endswith("differ") for p in ev.split("; "))
    # A callout number glued to the cue's last word is not carried on.
    ev = evidence(StanceInput("This has also been reported17 by <cite>Lee (2010)</cite>."), "supporting")
    assert "also been reported" in ev.split("; ")
