"""A BiLSTM-CRF token tagger for reference strings, served with numpy only.

The linear-chain CRF sees each token through a window of two tokens either side; the errors it is left
with are boundaries that need the whole string (where a title ends and the journal starts when nothing but
the order of the fields says so, Korean and Vancouver strings with no punctuation between them). This
tagger reads the same hand-made token features (:func:`citelens.references.crf_features.featurize`, less
the neighbour-window ones, which the LSTM sees for itself) through a bidirectional LSTM over the whole
string, and decodes with a learned label-transition matrix (Viterbi), like the CRF.

It is trained with torch (``scripts/train_reference_tagger.py``; torch is a training-only extra) and
exported to one ``.npz`` file of arrays: inference here is a few numpy matrix products per token, so
serving needs neither torch nor a download, and gives the same labels on every run. Written here rather
than run through onnxruntime because the per-string work is the feature lookup and the Viterbi pass, both
plain Python/numpy, and a numpy LSTM over a batch of strings is as fast as an onnxruntime call per batch
without an export step that could drift from training.
"""

from __future__ import annotations

import functools
import itertools
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from citelens.errors import ModelError
from citelens.references.journals import Trie, load_trie, trie_from_text

__all__ = ["feature_names", "journal_trie", "reads_journal_names", "tag_sequences"]

# Strings are tagged in batches of similar length (sorted), so padding costs little and each LSTM step is
# one matrix product for the whole batch; a batch holds at most BATCH strings and BATCH_CELLS (strings x
# steps), so a batch of the longest strings (3,000 characters) stays a few MB.
BATCH = 256
BATCH_CELLS = 32_768
# Characters of a token the character CNN reads (the first ones), and how many words' vectors are kept.
MAX_CHARS = 16
WORD_CACHE = 200_000
# featurize() keys that describe the neighbouring tokens ("-1:w", "+2:shape", "-1|0" …): the LSTM sees the
# neighbours themselves, and leaving these out keeps the vocabulary (and the model) small.
_NEIGHBOUR_PREFIXES = tuple("-0123456789")


def feature_names(token_features: Mapping[str, float | str]) -> list[str]:
    """The names of one token's features as the tagger's vocabulary spells them (training builds the
    vocabulary with this function): ``key=value`` for string values, ``key`` for a 1.0 flag,
    ``key=<float>`` for another number (``sp_before=0.0``)."""
    out = []
    for key, value in token_features.items():
        if key.startswith(_NEIGHBOUR_PREFIXES):
            continue
        out.append(key if value == 1.0 and not isinstance(value, str) else f"{key}={value}")
    return out


class _Model:
    """The arrays of one exported model, and the (key, value) → feature id table built from its vocabulary.

    Looking up featurize()'s (key, value) pairs directly, instead of formatting each as a name first, is
    what keeps feature lookup at about a tenth of a millisecond per string."""

    def __init__(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelError(f"cannot load reference tagger model {path}: {exc}") from None
        try:
            self.labels = [str(x) for x in arrays["labels"]]
            vocab = [str(x) for x in arrays["vocab"]]
            self.emb = arrays["emb"].astype(np.float32)
            self.w_f, self.u_f, self.b_f = (arrays[k].astype(np.float32) for k in ("w_ih_f", "w_hh_f", "b_f"))
            self.w_b, self.u_b, self.b_b = (arrays[k].astype(np.float32) for k in ("w_ih_b", "w_hh_b", "b_b"))
            self.out_w, self.out_b = arrays["out_w"].astype(np.float32), arrays["out_b"].astype(np.float32)
            self.trans, self.start, self.end = (arrays[k].astype(np.float32) for k in ("trans", "start", "end"))
            self.char_ids = {str(ch): i for i, ch in enumerate(arrays["chars"], start=2)}
            self.char_emb = arrays["char_emb"].astype(np.float32)
            self.conv_w = arrays["conv_w"].astype(np.float32)
            self.conv_b = arrays["conv_b"].astype(np.float32)
        except KeyError as exc:
            raise ModelError(f"reference tagger model {path} lacks array {exc}") from None
        # Id 0 is the empty feature (a zero row of ``emb``); vocabulary ids start at 1.
        self.ids: dict[tuple[str, float | str], int] = {}
        for i, name in enumerate(vocab, start=1):
            key, eq, value = name.partition("=")
            self.ids[(key, value if eq else 1.0)] = i
            if eq and value == "0.0":  # a numeric 0.0 (sp_before) is named like the string "0.0"
                self.ids[(key, 0.0)] = i

        # A model trained with the journal-name gazetteer (``train_reference_tagger.py --gazetteer``) has its
        # "gz" features in the vocabulary; the parser computes them only for such a model (they cost time).
        self.journal_names = any(key == "gz" for key, _ in self.ids)
        # Round 10's models (``--gazetteer 2``) carry their own list (array "journals": one name a line);
        # round 9's read the packaged one.
        self.journal_list = str(arrays["journals"]) if "journals" in arrays else None
        self._journal_trie: Trie | None = None

        # Character vectors of the words seen so far: words recur across reference lists ("j", "phys",
        # "2003"), so the character CNN runs once per new word, not once per token.
        self.word_cache: dict[str, np.ndarray] = {}

    def token_ids(self, token_features: Mapping[str, float | str]) -> list[int]:
        # One lookup per feature (ids start at 1, so a miss is the only falsy result): this runs for every
        # feature of every token, and looking each up twice ("in", then "[]") cost an eighth of a parse.
        return [i for i in map(self.ids.get, token_features.items()) if i]

    def word_vectors(self, words: list[str]) -> np.ndarray:
        """(len(words), channels) character-CNN vectors of the (lower-case) token texts."""
        cache = self.word_cache
        new = sorted({w for w in words if w not in cache})
        if new:
            if len(cache) + len(new) > WORD_CACHE:
                cache.clear()
            for word, vector in zip(new, self._char_cnn(new), strict=True):
                cache[word] = vector
        return np.stack([cache[w] for w in words]) if words else np.zeros((0, self.conv_b.shape[0]), np.float32)

    def _char_cnn(self, words: list[str]) -> np.ndarray:
        # The first MAX_CHARS characters, each an embedding; one convolution of width 3 over them (zero
        # padding at both ends, as torch's Conv1d(padding=1)), ReLU, maximum over the word's characters.
        n, dim = len(words), self.char_emb.shape[1]
        ids = np.zeros((n, MAX_CHARS), np.int64)
        mask = np.zeros((n, MAX_CHARS, 1), np.float32)
        for row, word in enumerate(words):
            chars = [self.char_ids.get(ch, 1) for ch in word[:MAX_CHARS]]
            ids[row, : len(chars)] = chars
            mask[row, : len(chars)] = 1.0
        x = np.zeros((n, MAX_CHARS + 2, dim), np.float32)
        x[:, 1:-1] = self.char_emb[ids]
        windows = np.concatenate([x[:, k : k + MAX_CHARS] for k in range(3)], -1)
        kernel = self.conv_w.transpose(2, 1, 0).reshape(3 * dim, -1)
        return (np.maximum(windows @ kernel + self.conv_b, 0.0) * mask).max(1)


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> _Model:
    if not path.is_file():
        raise ModelError(f"reference tagger model not found at {path}; run scripts/train_reference_tagger.py")
    return _Model(path)


def reads_journal_names(model_file: Path) -> bool:
    """Whether the model in ``model_file`` was trained with the journal-name gazetteer features."""
    return _load(Path(model_file)).journal_names


def journal_trie(model_file: Path) -> Trie | None:
    """The journal names the model in ``model_file`` reads (its own list, else the packaged one), or None
    for a model trained without them."""
    model = _load(Path(model_file))
    if not model.journal_names:
        return None
    if model.journal_list is None:
        return load_trie()
    if model._journal_trie is None:
        model._journal_trie = trie_from_text(model.journal_list)
    return model._journal_trie


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # tanh form: no overflow warning for large negative x


def _lstm(x: np.ndarray, w: np.ndarray, u: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One LSTM direction over ``x`` (batch, time, input), torch's gate order (i, f, g, o). Sequences are
    left-aligned, so the states at a sequence's real steps never see its padding."""
    batch, steps, _ = x.shape
    hidden = u.shape[1]
    gates_in = x @ w.T + b
    u_t = np.ascontiguousarray(u.T)
    h = np.zeros((batch, hidden), np.float32)
    c = np.zeros((batch, hidden), np.float32)
    out = np.empty((batch, steps, hidden), np.float32)
    for t in range(steps):
        g = gates_in[:, t] + h @ u_t
        i = _sigmoid(g[:, :hidden])
        f = _sigmoid(g[:, hidden : 2 * hidden])
        o = _sigmoid(g[:, 3 * hidden :])
        c = f * c + i * np.tanh(g[:, 2 * hidden : 3 * hidden])
        h = o * np.tanh(c)
        out[:, t] = h
    return out


def _emissions(model: _Model, seqs: list[list[list[int]]], words: list[str]) -> np.ndarray:
    """Label scores (batch, time, labels) for a batch of non-empty sequences of feature-id lists, ``words``
    the tokens' lower-case texts in the same order, flattened."""
    lengths = [len(s) for s in seqs]
    batch, steps = len(seqs), max(lengths)
    flat = [ids for s in seqs for ids in s]
    sizes = np.fromiter((len(ids) for ids in flat), np.int64, len(flat))
    all_ids = np.fromiter(itertools.chain.from_iterable(flat), np.int64, int(sizes.sum()))
    # Each token's vector is the sum of its features' embeddings: a sparse (tokens x vocabulary) 0/1 matrix
    # times the embedding table, several times faster than gathering the rows and summing them in numpy.
    indptr = np.concatenate(([0], np.cumsum(sizes)))
    onehot = csr_matrix((np.ones(len(all_ids), np.float32), all_ids, indptr), shape=(len(flat), model.emb.shape[0]))
    vectors = np.concatenate([np.asarray(onehot @ model.emb, dtype=np.float32), model.word_vectors(words)], 1)
    row = np.repeat(np.arange(batch), lengths)
    col = np.concatenate([np.arange(n) for n in lengths])
    rev = np.concatenate([np.arange(n - 1, -1, -1) for n in lengths])
    x = np.zeros((batch, steps, vectors.shape[1]), np.float32)
    x[row, col] = vectors
    x_rev = np.zeros_like(x)
    x_rev[row, rev] = vectors  # each sequence reversed in place, still left-aligned
    h_f = _lstm(x, model.w_f, model.u_f, model.b_f)
    h_b_rev = _lstm(x_rev, model.w_b, model.u_b, model.b_b)
    h_b = np.zeros_like(h_b_rev)
    h_b[row, col] = h_b_rev[row, rev]
    return np.concatenate([h_f, h_b, x], -1) @ model.out_w.T + model.out_b


def _viterbi(model: _Model, scores: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
    """Best label path of each sequence of the batch under the emission ``scores`` and the transitions."""
    batch, steps, n_labels = scores.shape
    best = model.start + scores[:, 0]
    back = np.zeros((batch, steps, n_labels), np.int16)
    keep = np.arange(n_labels)[None, :]
    for t in range(1, steps):
        cand = best[:, :, None] + model.trans
        arg = cand.argmax(1)
        step = np.take_along_axis(cand, arg[:, None, :], 1)[:, 0] + scores[:, t]
        live = (t < lengths)[:, None]
        best = np.where(live, step, best)
        back[:, t] = np.where(live, arg, keep)
    paths = np.zeros((batch, steps), np.int64)
    cur = (best + model.end).argmax(1)
    paths[:, steps - 1] = cur
    rows = np.arange(batch)
    for t in range(steps - 1, 0, -1):
        cur = back[rows, t, cur]
        paths[:, t - 1] = cur
    # Finished sequences carried their label forward unchanged, so their path ends at column n-1.
    return [paths[b, :n].tolist() for b, n in enumerate(lengths)]


def tag_sequences(model_file: Path, sequences: Sequence[Sequence[Mapping[str, float | str]]]) -> list[list[str]]:
    """Labels for each token of each sequence (``featurize`` output, one dict per token) with the model in
    ``model_file`` (loaded once per process). An empty sequence gets an empty list."""
    model = _load(Path(model_file))
    encoded = [[model.token_ids(tok) for tok in seq] for seq in sequences]
    words = [[str(tok.get("w", "")) for tok in seq] for seq in sequences]
    out: list[list[str]] = [[] for _ in encoded]
    order = sorted((i for i, s in enumerate(encoded) if s), key=lambda i: len(encoded[i]))
    first = 0
    while first < len(order):
        stop = first + 1
        while stop < len(order) and stop - first < BATCH and (stop + 1 - first) * len(encoded[order[stop]]) <= BATCH_CELLS:
            stop += 1
        idx = order[first:stop]
        first = stop
        batch = [encoded[i] for i in idx]
        lengths = np.array([len(s) for s in batch])
        batch_words = [w for i in idx for w in words[i]]
        for i, path in zip(idx, _viterbi(model, _emissions(model, batch, batch_words), lengths), strict=True):
            out[i] = [model.labels[k] for k in path]
    return out
