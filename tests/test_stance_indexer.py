"""The runtime's fast feature path gives exactly what the string API gives.

``FeatureIndexer.indices`` (feature ids without building most feature strings) must give the same ids in the same
order as ``vectorise(extract(x, version), vocab)``, and ``LinearArtefact.row_sums`` the same float32 sums as the
per-statement ``weights[ix].sum(axis=0)``: the scores of linear-v3 (feature version 5) and linear-v2 (version 4)
stay bit-identical. Training keeps using ``extract``, whose output the speed-ups must not change either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from citelens.stance import StanceInput
from citelens.stance import features as F
from citelens.stance.features import SUPPORTED_FEATURE_VERSIONS, FeatureIndexer, extract
from citelens.stance.model import (
    LinearArtefact,
    LinearStanceClassifier,
    default_model_path,
    model_available,
    newest_model_path,
    vectorise,
)
from stance_examples import EXAMPLES

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

VARIED = [
    *EXAMPLES,
    StanceInput("<cite>[1]</cite> showed that X binds Y.", before="Background.", after="We confirm this."),
    StanceInput("X binds Y, as shown previously <cite>[1]</cite>", section="Results and Discussion"),
    StanceInput("Unlike [2], [3–5] and Jones and Brown, 1999, our data do not support <cite>[4, 6]</cite> at all.",
                before="The effect was 2.5-fold (Smith 2004; Lee et al., 2010).", after="However, see [7].",
                section="DISCUSSION"),
    StanceInput("This is not consistent with <cite>Smith et al. (2003)</cite>, which we could not reproduce.",
                after="It isn't what we found; our results differ.", section="Materials and methods"),
    StanceInput("Größere Zellen (β-Catenin, naïve T-cells) — wie in <cite>[8]</cite> — sind 10 µm groß.",
                before="Émile's café 😀 data.", after="日本語の文 [9].", section="Ergebnisse"),
    StanceInput("a b c d e f g h i j k l <cite>[1]</cite> m n o p q r s t u v w", section="intro"),
    StanceInput("<cite>[1]</cite>", before="<cite>[2]</cite>", after=" "),
    StanceInput("Two target marks <cite>[1]</cite> and <cite>[2]</cite> in one sentence."),
    StanceInput("In contrast, in contrast, however, although, in agreement with our findings [3] <cite>[4]</cite>."),
    StanceInput("We did not find, nor could we confirm, the increase in agreement with <cite>[5]</cite>.",
                before="Our results in this study confirm the model.", after="Our results in this study confirm it."),
    StanceInput("", before="Only a neighbour consistent with our data.", after="And another, in contrast."),
    StanceInput("   ", section="   "),
    StanceInput("The 1999 and 2020 values (n = 12) of Smith 2001 and (Lee, 2002a) versus <cite>[1]</cite> 3.14."),
]


def _full_vocab(inputs: list[StanceInput], version: int) -> dict[str, int]:
    """A vocabulary that knows every feature of ``inputs`` but every third: most ids known, some unknown."""
    feats = dict.fromkeys(f for x in inputs for f in extract(x, version))
    return {f: i for i, f in enumerate(f for k, f in enumerate(feats) if k % 3)}


def _reference(x: StanceInput, vocab: dict[str, int], version: int) -> np.ndarray:
    return vectorise(extract(x, version), vocab)


def _fast(indexer: FeatureIndexer, x: StanceInput) -> np.ndarray:
    ids = indexer.indices(x)
    return np.fromiter(ids, dtype=np.int64, count=len(ids))


@pytest.mark.parametrize("version", SUPPORTED_FEATURE_VERSIONS)
def test_indices_equal_vectorised_strings_in_order(version: int) -> None:
    vocab = _full_vocab(VARIED, version)
    indexer = FeatureIndexer(vocab, version)
    for _ in range(2):  # cold caches, then warm ones
        for x in VARIED:
            # Same ids in the same order: the order numpy sums the weight rows in, hence the float32 scores.
            assert _fast(indexer, x).tolist() == _reference(x, vocab, version).tolist(), x


@pytest.mark.parametrize("version", SUPPORTED_FEATURE_VERSIONS)
def test_small_caches_empty_themselves_and_change_nothing(version: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FeatureIndexer, "TOKEN_CAP", 8)
    monkeypatch.setattr(FeatureIndexer, "NEAR_CAP", 2)
    vocab = _full_vocab(VARIED, version)
    indexer = FeatureIndexer(vocab, version)
    for x in VARIED * 2:
        assert _fast(indexer, x).tolist() == _reference(x, vocab, version).tolist(), x
        assert len(indexer._token) <= 8 and all(len(c) <= 2 for c in indexer._near.values())


def test_unsupported_version_is_refused() -> None:
    with pytest.raises(ValueError):
        FeatureIndexer({}, 99)


def test_row_sums_are_the_per_statement_sums_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    # Weights of very different sizes, so that a different summation order would show in float32.
    weights = (rng.standard_normal((5000, 3)) * rng.choice([1e-4, 1.0, 1e4], size=(5000, 1))).astype(np.float32)
    weights[:3] = -0.0
    art = LinearArtefact(vocab={}, features=[], weights=weights, bias=np.zeros(3, np.float32),
                         offsets=np.zeros(3, np.float32), temperature=1.0, classes=["a", "b", "c"], meta={})
    # 600 statements (more than one batch of ROW_SUM_BATCH), empty ones, one-row ones, long ones, -0.0 rows alone.
    idx = [rng.integers(0, len(weights), int(rng.choice([0, 1, 2, 150, 3000]))) for _ in range(600)]
    idx += [np.array([0]), np.array([0, 1, 2]), np.array([], dtype=np.int64)]
    got = art.row_sums(idx)
    for r, ix in enumerate(idx):
        if len(ix):
            assert got[r].tobytes() == weights[ix].sum(axis=0).tobytes(), r


def _reference_scores(clf: LinearStanceClassifier, inputs: list[StanceInput]) -> tuple[np.ndarray, list]:
    """What ``scores`` computed before the fast path (string features, one weight-row sum a statement)."""
    m = clf.model
    idx = [vectorise(extract(x, int(m.meta["feature_version"])), m.vocab) for x in inputs]
    out = np.empty((len(inputs), len(m.classes)), dtype=np.float32)
    for r, ix in enumerate(idx):
        out[r] = m.weights[ix].sum(axis=0) / np.sqrt(max(len(ix), 1)) if len(ix) else 0.0
    out += m.bias
    return out, idx


def _assert_same_scores(clf: LinearStanceClassifier, inputs: list[StanceInput]) -> None:
    got, got_idx = clf.scores(inputs)
    want, want_idx = _reference_scores(clf, inputs)
    assert got.dtype == want.dtype == np.float32 and got.tobytes() == want.tobytes()
    assert [i.tolist() for i in got_idx] == [i.tolist() for i in want_idx]


@pytest.mark.skipif(not model_available(), reason="stance model artefact not built")
@pytest.mark.parametrize("path", [newest_model_path, default_model_path], ids=["newest", "v2"])
def test_shipped_models_score_bit_identically(path: Callable[[], Path]) -> None:
    clf = LinearStanceClassifier(path())
    _assert_same_scores(clf, VARIED)
    _assert_same_scores(clf, [])
    assert clf.scores([])[0].shape == (0, len(clf.model.classes))


@pytest.mark.skipif(not model_available(), reason="stance model artefact not built")
def test_plos_statements_score_bit_identically(shared_data: Path) -> None:
    from citelens.pipeline import build_statements, parse_document

    inputs = []
    for p in sorted((shared_data / "plos-starter").glob("*.xml"))[:6]:
        doc = parse_document(p.read_bytes(), p.name)
        build_statements(doc)
        inputs.append([StanceInput(text=s.marked_sentence(), before=s.before, after=s.after, section=s.section)
                       for s in doc.statements])
    assert sum(map(len, inputs)) > 300
    for path in (newest_model_path(), default_model_path()):
        clf = LinearStanceClassifier(path)
        for batch in inputs:
            _assert_same_scores(clf, batch)


# ------------------------------------------------------------------ extract() itself is unchanged by its speed-ups
# The feature code as it was before the speed-ups (unconditional substitutions, three cue scans, negation search
# and word split always): extract's output, hence training, must be what it gave.
def _normalise_before(text: str) -> str:
    text = F._CITE_SPAN.sub(" _cite_ ", text)
    text = F._NUM_CALLOUT.sub(" _ocit_ ", text)
    text = F._AY_CALLOUT.sub(" _ocit_ ", text)
    text = F._AY_INLINE.sub(" _ocit_ ", text)
    return text.lower()


def _cue_features_before(prefix: str, plain: str, out: list[str], version: int) -> None:
    own = bool(F._OWN.search(plain))
    neg = bool(F._NEG.search(plain))
    if own:
        out.append(prefix + "own")
    words = plain.split(" ") if version >= 5 else []
    for name, rx in (("sup", F._SUP), ("con", F._CON)):
        if version < 5:
            hits = rx.findall(plain)
            negated: list[str] = []
        else:
            hits, negated = [], []
            for m in rx.finditer(plain):
                (negated if F._negated(words, plain.count(" ", 0, m.start())) else hits).append(m.group(1))
        if hits:
            out += [f"{prefix}{name}", f"{prefix}{name}&own={own}", f"{prefix}{name}&neg={neg}"]
            out.extend(f"{prefix}{name}:{h}" for h in set(hits))
        if negated:
            out += [f"{prefix}{name}~neg", f"{prefix}{name}~neg&own={own}"]
            out.extend(f"{prefix}{name}:{h}~neg" for h in set(negated))


def _texts(shared: Path | None) -> list[str]:
    texts = [t for x in VARIED for t in (x.text, x.before, x.after)]
    texts += [" ".join(p) for p in (F.SUPPORTING_CUES, F.CONTRASTING_CUES, F.OWN_WORK_CUES, F.EXTRA_CONTRASTING)]
    texts += ["Smith, 1999 and Lee et al. 2001 and (Brown 2003) but not 1999 or x 20 y (19z", "no,not  n't"]
    if shared is not None:
        from citelens.pipeline import build_statements, parse_document

        for p in sorted((shared / "plos-starter").glob("*.xml"))[:3]:
            doc = parse_document(p.read_bytes(), p.name)
            build_statements(doc)
            texts += [t for s in doc.statements for t in (s.marked_sentence(), s.before, s.after)]
    return texts


def test_normalise_and_cues_give_what_they_gave() -> None:
    texts = _texts(SHARED if (SHARED / "plos-starter").is_dir() else None)
    assert any(re.search(r"\(?(?:19|20)\d\d", t) for t in texts)
    for text in texts:
        assert F.normalise(text) == _normalise_before(text)
        plain = " ".join(F.tokens(F.normalise(text)))
        for version in SUPPORTED_FEATURE_VERSIONS:
            got: list[str] = []
            want: list[str] = []
            F._cue_features("cue:", plain, got, version)
            _cue_features_before("cue:", plain, want, version)
            assert got == want, (text, version)
