"""The v3 cascade (default classifier): stage 1 settles clear mentions, stage 2 reads the rest; thresholds."""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")

from citelens.document import STANCES  # noqa: E402
from citelens.stance import (  # noqa: E402
    DEFAULT_CLASSIFIER,
    StanceInput,
    available_classifiers,
    get_classifier,
    recommended_min_confidence,
    resolve_min_confidence,
)
from citelens.stance.cascade import cascade_available, cascade_meta  # noqa: E402
from citelens.stance.onnx_model import encode, load_tokenizer, models_dir  # noqa: E402
from stance_examples import EXAMPLES  # noqa: E402

pytestmark = pytest.mark.skipif(not cascade_available(), reason="v3 cascade artefacts not installed")

BACKGROUND = StanceInput("Nitrogen is an essential macronutrient for plant growth <cite>[1]</cite>.",
                         section="Introduction")
AGREES = StanceInput("This is consistent with <cite>Smith et al. (2001)</cite>, who also found a twofold increase.",
                     before="We observed a twofold increase in expression after treatment.", section="Discussion")


def test_default_and_versions_registered() -> None:
    names = available_classifiers()
    assert DEFAULT_CLASSIFIER == "cascade"
    assert {"cascade", "minilm", "minilm-v2", "linear", "linear-v2", "cues"} <= set(names)
    assert get_classifier("minilm-v2").name == "minilm-v2" and get_classifier("minilm").name == "minilm"


def test_predictions_well_formed_and_stages_used() -> None:
    clf = get_classifier("cascade")
    preds = clf.predict([*EXAMPLES, BACKGROUND, AGREES])
    assert len(preds) == len(EXAMPLES) + 2
    for p in preds:
        assert p.stance in STANCES and 0.0 < p.confidence <= 1.0
        assert p.probabilities is not None and abs(sum(p.probabilities.values()) - 1.0) < 1e-3
        assert abs(p.confidence - max(p.probabilities.values())) < 1e-3
    p_ment = clf.stage1_mentioning([BACKGROUND, AGREES])
    assert p_ment[0] >= clf.threshold > p_ment[1]  # a plain background mention is settled cheaply
    assert preds[-2].stance == "mentioning"
    assert preds[-1].stance == "supporting" and preds[-1].evidence  # a phrase of the statement says why
    assert clf.predict([]) == []


def test_batch_independent() -> None:
    clf = get_classifier("cascade")
    inputs = [StanceInput(EXAMPLES[i % 3].text + " x" * i, before=AGREES.before) for i in range(40)]
    together = clf.predict(inputs)
    alone = [clf.predict([x])[0] for x in inputs]
    assert [p.stance for p in together] == [p.stance for p in alone]


def test_min_confidence_threshold_from_dev() -> None:
    meta = cascade_meta()
    assert 0.5 <= meta["stage1_threshold"] < 1.0
    rec = recommended_min_confidence()
    assert rec is None or 0.0 < rec <= 1.0
    assert resolve_min_confidence("auto") == rec
    assert resolve_min_confidence(None) is None and resolve_min_confidence("0.75") == 0.75
    assert f"{resolve_min_confidence('-0'):g}" == "0"  # not "-0" in "confidence ≥ -0"
    for bad in ("1.5", "-0.1", "sure"):
        with pytest.raises(ValueError):
            resolve_min_confidence(bad)


def test_neighbours_are_read() -> None:
    tok = load_tokenizer(models_dir() / "stance-minilm-v2.tokenizer.json")
    x = StanceInput("It agrees with <cite>[3]</cite>.", before="word " * 50 + "Our data show growth.",
                    after="Next sentence here. " + "word " * 50)
    plain, ctx = encode(tok, [x])[0], encode(tok, [x], before_tokens=16, after_tokens=16)[0]
    assert len(ctx) == len(plain) + 16 + 16 + 2  # the previous sentence's end, the next one's start, two [SEP]
    assert list(ctx[: len(plain)]) == list(plain)


def test_artefacts_fit_the_wheel_budget() -> None:
    total = sum(f.stat().st_size for f in models_dir().iterdir() if f.is_file())
    assert total <= 100_000_000
