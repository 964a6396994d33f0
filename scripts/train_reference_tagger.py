"""Train the reference-string BiLSTM-CRF that ships in ``src/citelens/references/models/`` (needs torch:
``pip install -e '.[train]'``; serving needs only numpy, :mod:`citelens.references.bilstm`).

    .venv/bin/python scripts/train_reference_tagger.py                 # train on train+dev, write the packaged model
    .venv/bin/python scripts/train_reference_tagger.py --dev           # train on train only, score on dev
    .venv/bin/python scripts/train_reference_tagger.py --dev --dev-fold 2   # second dev fold (files of train)

Training data and weighting are the CRF's (``scripts/train_reference_parser.py``): GROBID's labelled strings
(split by source file; those of the largest file counted twice, the others six times) and 20,000 reference
strings rebuilt from pmc-oa's JATS (30 % restyled, 30 % made noisy; PDF-benchmark articles left out). Inputs
are the CRF's own token features (``crf_features.featurize`` without the neighbour window) summed as
embeddings, with a character CNN's vector of each token, read by one bidirectional LSTM layer; a label-transition matrix on top is trained with the
CRF likelihood. One CPU thread, fixed seeds: the same data gives the same model. Both test parts are never
used here: ``benchmarks/bench_reference_parser.py`` scores them.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_reference_parser import (  # noqa: E402
    DEFAULT_GROBID_REPEAT,
    DEFAULT_JATS_N,
    DEFAULT_NOISY,
    DEFAULT_RESTYLE,
    DEFAULT_SMALL_REPEAT,
    jats_training_strings,
    largest_file,
    pdf_benchmark_articles,
)

from citelens.references import parser as P  # noqa: E402
from citelens.references import parser_train as T  # noqa: E402
from citelens.references.bilstm import MAX_CHARS, feature_names  # noqa: E402
from citelens.references.journals import (  # noqa: E402
    GAZETTEER_NAME,
    Trie,
    add_names,
    build_trie,
    load_trie,
    names_by_source,
    names_text,
)
from citelens.references.parser_jats import sample_tar_examples  # noqa: E402

PACKAGED = Path(__file__).resolve().parents[1] / "src" / "citelens" / "references" / "models" / P.MODEL_NAME
SEED = 1
# Chosen on dev folds 1 and 2 (docs/benchmarks.md, reference-parsing-notes, round 6); 6 epochs of the
# weighted data (39 k strings) take about 14 CPU-minutes.
DEFAULTS = {
    "epochs": 6,
    "emb": 64,
    "hidden": 96,
    "minfreq": 3,
    "lr": 2e-3,
    "batch": 32,
    "dropout": 0.2,
    "char_dim": 16,
    "char_channels": 32,
    "char_minfreq": 5,
    "seed": SEED,
    "word_dropout": 0.0,
    "average_from": 0,
    "gazetteer": 0,
}
# --gazetteer 1: each token also gets the journal-name gazetteer features (``citelens.references.journals``:
# its place in a known journal name of pmc-oa's training articles, and the name's length), and the parser
# computes them for such a model. Round 9 tried it against the title <-> journal boundary errors.
# --gazetteer 2 (round 10): the same list plus the journal names (title:j) of the GROBID training files, a
# training string's own file's names left out of its features (journals.journal_spans(leave_out=...)); the
# model carries this list (array "journals"), since the training files differ between dev folds and the
# final model. Not taken either (round 10: micro +0.0015 and containers +0.0086 on four paired dev runs, titles
# -0.0007; docs/benchmarks.md, reference-parsing-notes), so the default stays 0.
# --average_from E: the model written is the mean of the parameters saved after epochs E..last (SWA-style
# weight averaging; 0 = the last epoch's parameters). Round 7 measured seed-to-seed spreads of 0.01 micro-F1
# on a dev fold, and an average of late epochs costs nothing when serving (the same arrays, the same size).
# Round 8 tried it (epochs 4-6) and it did not beat the last epoch on dev under this schedule's linear decay
# (docs/benchmarks.md, reference-parsing-notes), so it stays off by default.
# Features that name the word itself (its lower-case form, prefixes, suffix); --word_dropout leaves them out of
# a token at random in training, so the tagger also learns to read a word it never saw from its shape, its
# characters and its neighbours.
LEXICAL_PREFIXES = ("w=", "p2=", "p3=", "s3=")


def build_net(n_features: int, n_labels: int, n_chars: int, hp: dict):  # noqa: ANN201 - torch module
    import torch
    from torch import nn

    emb, hidden, channels = hp["emb"], hp["hidden"], hp["char_channels"]

    class BiLSTMCRF(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.EmbeddingBag(n_features, emb, mode="sum", padding_idx=0)
            # Character CNN over each token's first MAX_CHARS characters (id 0 padding, 1 unknown).
            self.cemb = nn.Embedding(n_chars, hp["char_dim"], padding_idx=0)
            self.conv = nn.Conv1d(hp["char_dim"], channels, 3, padding=1)
            self.drop = nn.Dropout(hp["dropout"])
            self.lstm = nn.LSTM(emb + channels, hidden, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * hidden + emb + channels, n_labels)
            self.trans = nn.Parameter(torch.zeros(n_labels, n_labels))
            self.start = nn.Parameter(torch.zeros(n_labels))
            self.end = nn.Parameter(torch.zeros(n_labels))

        def emissions(self, ids, offsets, batch, steps, lengths, chars, char_mask, word_index):  # noqa: ANN001, ANN202
            e = self.emb(ids, offsets).view(batch, steps, -1)
            c = self.conv(self.cemb(chars).transpose(1, 2)).transpose(1, 2).relu()
            c = (c * char_mask.unsqueeze(2)).max(1).values  # ReLU output >= 0: masked zeros never win
            e = self.drop(torch.cat([e, c[word_index]], -1))
            packed = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
            h, _ = self.lstm(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=steps)
            return self.out(torch.cat([self.drop(h), e], -1))

        def nll(self, em, tags, mask):  # noqa: ANN001, ANN202 - the CRF's negative log-likelihood, summed
            steps = em.shape[1]
            score = (em.gather(2, tags.unsqueeze(2)).squeeze(2) * mask).sum(1) + self.start[tags[:, 0]]
            if steps > 1:
                score = score + (self.trans[tags[:, :-1], tags[:, 1:]] * mask[:, 1:]).sum(1)
            last = tags.gather(1, (mask.sum(1).long() - 1).unsqueeze(1)).squeeze(1)
            score = score + self.end[last]
            alpha = self.start + em[:, 0]
            for t in range(1, steps):
                step = torch.logsumexp(
                    alpha.unsqueeze(2) + self.trans.unsqueeze(0) + em[:, t].unsqueeze(1), 1
                )
                alpha = torch.where(mask[:, t : t + 1] > 0, step, alpha)
            return (torch.logsumexp(alpha + self.end, 1) - score).sum()

    return BiLSTMCRF()


def make_batch(
    seqs: list[tuple[list[list[int]], list[int], list[str]]],
    char_ids: dict[str, int],
    lexical: frozenset[int] = frozenset(),
    word_dropout: float = 0.0,
):  # noqa: ANN201 - torch tensors
    """Tensors of one batch: feature ids and bag offsets per (string, step), labels, mask, and the
    character ids of the batch's distinct words with each token's index into them. With ``word_dropout``,
    each token loses its ``lexical`` feature ids with that probability (training only)."""
    import torch

    batch, steps = len(seqs), max(len(s[0]) for s in seqs)
    distinct: dict[str, int] = {}
    word_index = torch.zeros(batch, steps, dtype=torch.long)
    for b, (_, _, words) in enumerate(seqs):
        for k, w in enumerate(words):
            word_index[b, k] = distinct.setdefault(w, len(distinct))
    if not distinct:
        distinct[""] = 0
    chars = torch.zeros(len(distinct), MAX_CHARS, dtype=torch.long)
    char_mask = torch.zeros(len(distinct), MAX_CHARS)
    for w, u in distinct.items():
        cs = [char_ids.get(ch, 1) for ch in w[:MAX_CHARS]]
        if cs:
            chars[u, : len(cs)] = torch.tensor(cs)
            char_mask[u, : len(cs)] = 1
    ids: list[int] = []
    offsets: list[int] = []
    for toks, _, _ in seqs:
        for k in range(steps):
            offsets.append(len(ids))
            if k < len(toks):
                if word_dropout and random.random() < word_dropout:
                    ids.extend(i for i in toks[k] if i not in lexical)
                else:
                    ids.extend(toks[k])
    tags = torch.zeros(batch, steps, dtype=torch.long)
    mask = torch.zeros(batch, steps)
    for b, (toks, ys, _) in enumerate(seqs):
        tags[b, : len(ys)] = torch.tensor(ys)
        mask[b, : len(toks)] = 1
    lengths = torch.tensor([len(s[0]) for s in seqs])
    return (
        torch.tensor(ids, dtype=torch.long),
        torch.tensor(offsets, dtype=torch.long),
        batch,
        steps,
        lengths,
        tags,
        mask,
        chars,
        char_mask,
        word_index,
    )


def running_mean(avg: dict | None, state: dict, n: int) -> dict:
    """``avg`` (the mean of ``n - 1`` state dicts, or None for ``n`` = 1) updated with ``state``, as new tensors."""
    if avg is None:
        return {k: v.detach().clone().float() if v.is_floating_point() else v.detach().clone() for k, v in state.items()}
    return {k: a + (state[k].detach().float() - a) / n if a.is_floating_point() else a for k, a in avg.items()}


def training_journals(grobid_train: list[T.Example], packaged: Path | None = None) -> Trie:
    """``--gazetteer 2``'s list: the packaged names (general) and the ``title:j`` names of the GROBID
    training strings' files, each tagged with its files (left out of that file's own strings' features)."""
    path = packaged or PACKAGED.with_name(GAZETTEER_NAME)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        trie = build_trie(tuple(line.split()) for line in fh if line.strip())
    for source, names in sorted(names_by_source(T.labelled_journal_names(grobid_train)).items()):
        add_names(trie, sorted(names), source)
    return trie


def train(
    items: list[tuple[T.Example, int]],
    out: Path,
    hp: dict,
    last_out: Path | None = None,
    grobid_train: list[T.Example] | None = None,
) -> float:
    """Train on (example, times counted) pairs and write the numpy model to ``out``; returns CPU seconds.
    With ``hp["average_from"]``, ``out`` gets the averaged parameters and ``last_out`` (if given) the last
    epoch's, both from the same run (a comparison free of seed noise). ``grobid_train``: the GROBID
    training strings whose journal names ``--gazetteer 2`` adds to the list."""
    import torch

    torch.set_num_threads(1)
    random.seed(hp["seed"])
    torch.manual_seed(hp["seed"])
    c0 = time.process_time()
    converted = []
    journals = None
    carried: str | None = None
    if hp["gazetteer"] == 1:
        journals = load_trie()
    elif hp["gazetteer"] == 2:
        journals = training_journals(grobid_train or [])
        carried = names_text(journals)
        print(f"journal list: {carried.count(chr(10)) + 1} names", flush=True)
    for ex, weight in items:
        xs, ys = ex.token_labels(journals, leave_out_own=hp["gazetteer"] == 2)
        if xs:
            converted.append(([feature_names(f) for f in xs], ys, [str(f["w"]) for f in xs], weight))
    counts = collections.Counter(name for names, _, _, _ in converted for tok in names for name in set(tok))
    vocab = {
        name: i for i, name in enumerate(sorted(n for n, c in counts.items() if c >= hp["minfreq"]), start=1)
    }
    labels = sorted({y for _, ys, _, _ in converted for y in ys})
    label_id = {y: i for i, y in enumerate(labels)}
    char_counts = collections.Counter(
        ch for _, _, words, _ in converted for w in words for ch in w[:MAX_CHARS]
    )
    char_ids = {
        ch: i
        for i, ch in enumerate(sorted(c for c, n in char_counts.items() if n >= hp["char_minfreq"]), start=2)
    }
    lexical = frozenset(i for n, i in vocab.items() if n.startswith(LEXICAL_PREFIXES))
    data = [
        (([[vocab[n] for n in tok if n in vocab] for tok in names], [label_id[y] for y in ys], words), w)
        for names, ys, words, w in converted
    ]
    net = build_net(len(vocab) + 1, len(labels), len(char_ids) + 2, hp)
    opt = torch.optim.Adam(net.parameters(), lr=hp["lr"])
    epoch = [x for x, w in data for _ in range(w)]
    bs = hp["batch"]
    total = hp["epochs"] * ((len(epoch) + bs - 1) // bs)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.05, 1 - s / total))
    print(
        f"{len(data)} strings ({len(epoch)} counted), {len(vocab)} features, {len(char_ids)} characters, "
        f"{len(labels)} labels",
        flush=True,
    )
    avg: dict | None = None
    n_avg = 0
    for ep in range(hp["epochs"]):
        net.train()
        random.shuffle(epoch)
        # Batches of similar length (sorted within windows of 50 batches): less padding, same randomness.
        windows = [
            sorted(epoch[i : i + bs * 50], key=lambda x: len(x[0])) for i in range(0, len(epoch), bs * 50)
        ]
        batches = [w[i : i + bs] for w in windows for i in range(0, len(w), bs)]
        random.shuffle(batches)
        loss_sum = tokens = 0.0
        for bt in batches:
            ids, offsets, batch, steps, lengths, tags, mask, chars, char_mask, word_index = make_batch(
                bt, char_ids, lexical, hp["word_dropout"]
            )
            em = net.emissions(ids, offsets, batch, steps, lengths, chars, char_mask, word_index)
            loss = net.nll(em, tags, mask)
            opt.zero_grad()
            (loss / batch).backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            sched.step()
            loss_sum += loss.item()
            tokens += float(mask.sum())
        print(
            f"epoch {ep + 1}/{hp['epochs']}: loss per token {loss_sum / tokens:.4f}, "
            f"{time.process_time() - c0:.0f} CPU-s",
            flush=True,
        )
        if hp["average_from"] and ep + 1 >= hp["average_from"]:
            n_avg += 1
            avg = running_mean(avg, net.state_dict(), n_avg)
    if avg is not None:
        if last_out is not None:
            export(net, vocab, labels, char_ids, last_out, carried)
            print(f"wrote the last epoch's model to {last_out}", flush=True)
        net.load_state_dict(avg)
        print(f"averaged the parameters of epochs {hp['average_from']}-{hp['epochs']} ({n_avg})", flush=True)
    export(net, vocab, labels, char_ids, out, carried)
    check_export(net, out, [x for x, _ in data[:64]], char_ids)
    return time.process_time() - c0


def check_export(net, out: Path, seqs: list, char_ids: dict[str, int]) -> None:  # noqa: ANN001 - torch module
    """The numpy model's label scores against torch's on a few training strings (float16 embeddings: a few
    thousandths apart at most); a larger gap means the export and ``bilstm`` disagree on the layout."""
    import torch

    from citelens.references import bilstm

    net.eval()
    with torch.no_grad():
        ids, offsets, batch, steps, lengths, _, _, chars, char_mask, word_index = make_batch(seqs, char_ids)
        ref = net.emissions(ids, offsets, batch, steps, lengths, chars, char_mask, word_index).numpy()
    bilstm._load.cache_clear()
    got = bilstm._emissions(bilstm._load(out), [s[0] for s in seqs], [w for s in seqs for w in s[2]])
    gap = max(float(np.abs(got[b, : len(s[0])] - ref[b, : len(s[0])]).max()) for b, s in enumerate(seqs))
    print(f"export check: largest label-score gap numpy vs torch {gap:.4f}", flush=True)
    if gap > 0.05:
        raise SystemExit(f"exported model {out} disagrees with the trained one (gap {gap:.3f})")


def export(  # noqa: ANN001 - torch module
    net, vocab: dict[str, int], labels: list[str], char_ids: dict[str, int], out: Path, journals: str | None = None
) -> None:
    """The arrays :mod:`citelens.references.bilstm` reads; the embedding table (nearly all of the size) as
    float16, which changed no label on dev. ``journals``: the journal list the model reads (one name a
    line), for ``--gazetteer 2``."""
    s = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    arrays = {
        "emb": s["emb.weight"].astype(np.float16),
        "w_ih_f": s["lstm.weight_ih_l0"],
        "w_hh_f": s["lstm.weight_hh_l0"],
        "b_f": s["lstm.bias_ih_l0"] + s["lstm.bias_hh_l0"],
        "w_ih_b": s["lstm.weight_ih_l0_reverse"],
        "w_hh_b": s["lstm.weight_hh_l0_reverse"],
        "b_b": s["lstm.bias_ih_l0_reverse"] + s["lstm.bias_hh_l0_reverse"],
        "out_w": s["out.weight"],
        "out_b": s["out.bias"],
        "trans": s["trans"],
        "start": s["start"],
        "end": s["end"],
        "char_emb": s["cemb.weight"],
        "conv_w": s["conv.weight"],
        "conv_b": s["conv.bias"],
        "chars": np.array(sorted(char_ids, key=char_ids.__getitem__)),
        "vocab": np.array(sorted(vocab, key=vocab.__getitem__)),
        "labels": np.array(labels),
    }
    if journals is not None:
        arrays["journals"] = np.array(journals)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--data", type=Path, default=None, help="references.jsonl (default: shared/data beside the repo)"
    )
    ap.add_argument(
        "--jats", type=Path, default=None, help="JATS tar (default: pmc-oa/pmc-oa.tar.gz beside --data)"
    )
    ap.add_argument(
        "--jats-n", type=int, default=DEFAULT_JATS_N, help="JATS training strings (0: GROBID only)"
    )
    ap.add_argument("--dev", action="store_true", help="train on train only and report dev scores")
    ap.add_argument(
        "--dev-fold", type=int, default=1, help="with --dev: 2, 3, ... another set of train files as dev"
    )
    ap.add_argument("--save", action="store_true", help="with --dev: also write that model to --out")
    ap.add_argument(
        "--grobid-repeat",
        type=int,
        default=DEFAULT_GROBID_REPEAT,
        help="times the largest GROBID file's strings are counted",
    )
    ap.add_argument(
        "--small-repeat",
        type=int,
        default=DEFAULT_SMALL_REPEAT,
        help="times the other GROBID files' strings are counted",
    )
    for name, value in DEFAULTS.items():
        ap.add_argument(f"--{name}", type=type(value), default=value)
    ap.add_argument("--out", type=Path, default=PACKAGED)
    ap.add_argument(
        "--last-out", type=Path, default=None, help="with --average_from: also write the last epoch's model here"
    )
    args = ap.parse_args(argv)
    hp = {name: getattr(args, name) for name in DEFAULTS}

    data = args.data or T.default_data_path()
    examples = T.load_examples(data)
    train_part, dev, test = T.split_examples(examples)
    if args.dev:
        train_part, dev = T.swap_dev_fold(train_part, dev, args.dev_fold)
    else:
        train_part, dev = train_part + dev, []
    print(
        f"GROBID: {len(examples)} strings: train {len(train_part)}, dev {len(dev)}, test {len(test)} (not used here)"
    )
    largest = largest_file(train_part)
    items = [(e, args.grobid_repeat if e.source_file == largest else args.small_repeat) for e in train_part]
    jats = args.jats or data.parent.parent / "pmc-oa" / "pmc-oa.tar.gz"
    jats_dev: list[T.Example] = []
    if args.jats_n:
        exclude = pdf_benchmark_articles(data.parent)
        sampled = sample_tar_examples(jats, "train", args.jats_n, exclude=exclude)
        items += [(e, 1) for e in jats_training_strings(sampled, DEFAULT_NOISY, restyle=DEFAULT_RESTYLE)]
        if args.dev:
            jats_dev = sample_tar_examples(jats, "dev", 4000, exclude=exclude)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.out if (args.save or not args.dev) else Path(tmp) / P.MODEL_NAME
        secs = train(items, model, hp, args.last_out, train_part)
        print(f"trained in {secs:.0f} CPU-s; wrote {model} ({model.stat().st_size / 1e6:.2f} MB)")
        if args.dev:
            P.use_model(model)
            printed = [e for e in jats_dev if e.source_file.endswith("#printed")][:1000]
            rendered = [e for e in jats_dev if e.source_file.endswith("#rendered")][:1000]
            for name, part in (
                (f"GROBID dev fold {args.dev_fold}", dev),
                ("JATS dev, printed", printed),
                ("JATS dev, rendered", rendered),
            ):
                if part:
                    table, rps = T.evaluate(part)
                    print(f"\n{name} ({len(part)} strings, {rps:.0f} references/s)")
                    print(T.format_table(table))
            P.use_model(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
