"""The BiLSTM-CRF reference tagger: packaged, offline, numpy-only, robust to any string, deterministic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from citelens.errors import ModelError
from citelens.references import bilstm
from citelens.references import parser as P
from citelens.references.crf_features import featurize, tokenize

VANCOUVER = (
    "Okafor CN, Lindqvist M. Soil moisture controls nitrogen uptake in dryland wheat. "
    "J Agric Sci. 2014;52(3):211-19. doi:10.1017/S0021859613000221"
)


def test_packaged_model_is_the_tagger_and_small() -> None:
    path = P.model_path()
    assert path.name == P.MODEL_NAME and path.suffix == ".npz"
    assert path.stat().st_size < 20e6


def test_loads_and_tags_offline_without_torch_or_crfsuite() -> None:
    # A fresh interpreter with torch and pycrfsuite unimportable and sockets disabled must load and run it.
    code = (
        "import sys, socket\n"
        "sys.modules['torch'] = None; sys.modules['pycrfsuite'] = None\n"
        "def _no(*a, **k): raise OSError('network disabled')\n"
        "socket.socket.connect = _no\n"
        "socket.create_connection = _no\n"
        "from citelens.references.parser import parse_reference_string\n"
        f"print(parse_reference_string({VANCOUVER!r}).year)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2014"


HOSTILE = [
    "",
    " ",
    "\ud800 lone surrogate \udfff Smith J. Title. J Biol. 2001;3:1-2.",
    "x" * 100_000,
    "Smith J. " + "word, " * 20_000 + "2001.",
    "\u202eمحمد علي. عنوان المقال. مجلة العلوم. 2015؛ 12: 33-40\u202c",
    "כהן, י. (2010). כותרת המאמר. כתב עת, 5, 1-10.",
    "\ue000\ue001\U000f0000 private use \uf8ff, 2003",
    "\x00\x01\x1b[31m control \x7f 1999",
    "\ufeff\u200b\u2066 isolates \u2069 and zero-width",
    "👩‍🔬🧪 emoji authors. 2020.",
    "한국농촌의학.지역보건학회지. 2011;36(4):1-9",
    "((((((((((((",
    "10.1000/abc " * 500,
]


def test_hostile_strings_parse_without_error_and_in_bounded_arrays() -> None:
    refs = P.parse_reference_strings(HOSTILE)
    assert len(refs) == len(HOSTILE)
    for ref in refs:
        for value in (ref.raw, ref.title, ref.container, *(a.family for a in ref.authors)):
            value.encode("utf-8")
    assert refs[0].title == "" and refs[0].authors == []
    assert refs[2].year == 2001
    # one at a time gives the same result as in a batch
    for raw, ref in zip(HOSTILE, refs, strict=True):
        single = P.parse_reference_string(raw)
        assert (single.title, single.container, single.year) == (ref.title, ref.container, ref.year)


def test_tag_sequences_batches_and_empty_sequences() -> None:
    texts = [P._prepare(VANCOUVER), "", P._prepare("A. B. Marsh, Phys. Rev. Lett. 108, 191802 (2012).")]
    seqs = [featurize(t, tokenize(t), neighbours=False) if t else [] for t in texts]
    labels = bilstm.tag_sequences(P.model_path(), seqs)
    assert [len(x) for x in labels] == [len(s) for s in seqs]
    assert labels[1] == []
    assert bilstm.tag_sequences(P.model_path(), []) == []
    # each string alone gets the labels it got in the batch, and a second run the same (deterministic)
    assert [bilstm.tag_sequences(P.model_path(), [s])[0] for s in seqs] == labels
    assert bilstm.tag_sequences(P.model_path(), seqs) == labels
    words = [tok.text for tok in tokenize(texts[0])]
    title = [w for w, lab in zip(words, labels[0], strict=True) if lab.endswith("title")]
    assert title[:3] == ["Soil", "moisture", "controls"]


def test_fast_feature_lookup_matches_the_training_names() -> None:
    model = bilstm._load(P.model_path())
    vocab = {str(name): i for i, name in enumerate(np.load(P.model_path())["vocab"], start=1)}
    for raw in (VANCOUVER, HOSTILE[6], HOSTILE[11], 'K. Ng, "Sketches," in Proc. ICDE, 2019, pp. 55-66.'):
        text = P._prepare(raw)
        toks = tokenize(text)
        for with_neighbours, without in zip(
            featurize(text, toks), featurize(text, toks, neighbours=False), strict=True
        ):
            expected = sorted(vocab[n] for n in bilstm.feature_names(with_neighbours) if n in vocab)
            assert sorted(model.token_ids(without)) == expected
            assert sorted(model.token_ids(with_neighbours)) == expected


def test_missing_or_broken_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        bilstm.tag_sequences(tmp_path / "nope.npz", [[{"bias": 1.0}]])
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelError, match="cannot load"):
        bilstm.tag_sequences(broken, [[{"bias": 1.0}]])
    partial = tmp_path / "partial.npz"
    np.savez(partial, labels=np.array(["O"]))
    with pytest.raises(ModelError, match="lacks"):
        bilstm.tag_sequences(partial, [[{"bias": 1.0}]])


def test_trainer_word_dropout_leaves_out_lexical_features_only() -> None:
    # scripts/train_reference_tagger.py --word_dropout: a dropped token keeps its non-lexical features; 0 (the
    # default recipe) draws no random numbers, so models trained before the flag existed are reproduced.
    pytest.importorskip("torch")
    import random

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from train_reference_tagger import make_batch

    seqs = [([[1, 2, 3], [4, 5]], [0, 1], ["smith", "j"])]
    lexical = frozenset({1, 4})
    state = random.getstate()
    assert make_batch(seqs, {}, lexical, 0.0)[0].tolist() == [1, 2, 3, 4, 5]
    assert random.getstate() == state
    assert make_batch(seqs, {}, lexical, 1.0)[0].tolist() == [2, 3, 5]


def test_trainer_average_from_writes_the_mean_of_late_epochs(tmp_path: Path) -> None:
    # scripts/train_reference_tagger.py --average_from: the written model is the mean of the parameters after
    # epochs E..last, and --last-out gets the last epoch's model of the same run (same data, same random draws),
    # so the two differ only by the averaging; both are servable.
    torch = pytest.importorskip("torch")
    import random

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from train_reference_tagger import DEFAULTS, running_mean, train

    from citelens.references.parser_train import Example

    a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor([3])}
    b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor([3])}
    mean = running_mean(running_mean(None, a, 1), b, 2)
    assert mean["w"].tolist() == [2.0, 4.0] and mean["n"].tolist() == [3]
    assert a["w"].tolist() == [1.0, 2.0]  # the snapshots are copies, not the live parameters

    raw = "Smith J, Jones A. A study of things. J Biol. 2003;12:1-9."
    fields = [{"label": "author", "start": 0, "end": 16}, {"label": "title", "start": 18, "end": 36},
              {"label": "title:j", "start": 37, "end": 42}, {"label": "date", "start": 44, "end": 48}]
    items = [(Example("f.xml", raw, fields), 1)] * 4
    hp = {**DEFAULTS, "epochs": 3, "emb": 8, "hidden": 8, "minfreq": 1, "char_channels": 4, "char_minfreq": 1,
          "average_from": 2}
    random.seed(0)
    train(items, tmp_path / "avg.npz", hp, tmp_path / "last.npz")
    averaged, last = np.load(tmp_path / "avg.npz"), np.load(tmp_path / "last.npz")
    assert list(averaged["labels"]) == list(last["labels"])
    assert not np.allclose(averaged["w_hh_f"], last["w_hh_f"])
    for path in (tmp_path / "avg.npz", tmp_path / "last.npz"):
        bilstm._load.cache_clear()
        assert len(bilstm.tag_sequences(path, [[{"bias": 1.0, "w": "smith"}]])[0]) == 1
