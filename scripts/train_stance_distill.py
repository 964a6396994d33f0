"""Distil stronger stance networks into the cascade's small second stage (round 7: a GPU recipe).

Teachers: three 6-layer all-MiniLM-L6-v2 networks that read far more context than the runtime network (64 tokens
of the citing sentence, 48 of each neighbour), trained by the shipped recipe for 3 epochs (seeds 1-3). Their mean
tempered probabilities (T = 2) label the training rows and ~25,000 unlabelled pmc-oa statements of training
articles that stage 1 would pass on (the "transfer" rows). Students: networks of the runtime's input format and
size (3 or 4 layers) trained on the labels mixed with the teachers' probabilities (alpha 0.5), over the labelled
rows and every transfer row each epoch; the epoch is chosen on the mean dev macro-F1, as in
``train_stance_minilm.py``.

    # 1. here: what travels to the GPU machine (token ids in both input formats, fp16 base weights; ~56 MB)
    .venv/bin/python scripts/train_stance_distill.py prep build/stance-distill/carry
    cp scripts/train_stance_distill.py scripts/stance_network.py build/stance-distill/carry/
    # 2. there (numpy + torch only), in the carried folder; OUT gets results.json, log.txt, devlogits.npz,
    #    soft.npz and each student's weights (<name>-emb.npz, <name>-rest.npz):
    python3 train_stance_distill.py train . OUT                           # base-s13, teachers, kd-s13, kd-s14
    python3 train_stance_distill.py train . OUT --students-only 3,2       # + soft.npz of the first run in "."
    # 3. here: dev trials in the cascade, then the chosen student as the package's stage 2
    .venv/bin/python scripts/train_stance_distill.py cascade-trial OUT teacher-ens      # any run's dev logits
    .venv/bin/python scripts/train_stance_distill.py import OUT kd-l3-s13 --out-dir /tmp/net
    .venv/bin/python scripts/train_stance_cascade.py cascade --dry-run --net /tmp/net
    .venv/bin/python scripts/train_stance_distill.py import OUT kd-l3-s13      # the package's artefact
    .venv/bin/python scripts/train_stance_cascade.py cascade

Transfer rows come from pmc-oa's train-split articles only, and a statement whose citing sentence also occurs in
any dev or test row is dropped: no test article of any set contributes one (one eLife dev article is also a pmc-oa
train article: data/stance/README.md). The GPU side imports nothing from
citelens (the carried folder holds everything it reads); the network is ``stance_network.py``'s, as in
``train_stance_minilm.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # stance_network beside it, here and in the carry folder

from stance_network import base_state, batches, stance_bert  # noqa: E402

SEP_ID, PAD_ID = 102, 0  # as citelens.stance.onnx_model (the GPU side carries no package)
DEV = ["pmc-dev", "biomed-dev", "elife-dev", "multicite-dev"]
TRAIN = "biomed-train,elife-train,multicite-train,pmc-train"
# Input formats: "s" is the runtime network's (stance-minilm-v3.json), "t" the teachers' wider window.
FORMATS = {"s": {"max_len": 100, "max_sent": 48, "before_tokens": 16, "after_tokens": 16},
           "t": {"max_len": 164, "max_sent": 64, "before_tokens": 48, "after_tokens": 48}}
STAGE1_FILTER = 0.9  # as the shipped network: mentioning rows stage 1 would settle anyway are left out


# ----------------------------------------------------------------------------------------- prep (here)
def _repo_imports() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    sys.path.insert(0, str(ROOT / "src"))


def cmd_prep(args: argparse.Namespace) -> int:
    _repo_imports()
    from train_stance import CLASSES, datasets, labelled, to_input
    from train_stance_minilm import base_dir, read_safetensors

    from citelens.stance.base import StanceInput
    from citelens.stance.model import LinearStanceClassifier, newest_model_path
    from citelens.stance.onnx_model import encode, load_tokenizer

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ds = {k: labelled(v) for k, v in datasets().items()}
    lin = LinearStanceClassifier(newest_model_path())
    ment = CLASSES.index("mentioning")
    train = [r for k in TRAIN.split(",") for r in ds.get(k, [])]
    pm = lin.probabilities(lin.scores([to_input(r) for r in train])[0])[:, ment]
    train = [r for r, p in zip(train, pm, strict=True) if r["stance"] != "mentioning" or p < STAGE1_FILTER]
    print(f"train {len(train)} rows {dict(Counter(r['stance'] for r in train))}")

    def norm(s: str | None) -> str:
        return re.sub(r"\W+", " ", re.sub(r"</?cite>", "", s or "")).strip().lower()

    held = {norm(r["text"]) for k, v in ds.items() if not k.endswith("-train") for r in v}
    labelled_ids = {r["id"] for v in ds.values() for r in v if r.get("source") == "pmc"}
    pool = []
    with Path(args.statements).open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r["split"] == "train" and r["id"] not in labelled_ids and norm(r["text"]) not in held:
                pool.append(r)
    inputs = [StanceInput(text=r["text"], before=r.get("before", ""), after=r.get("after", ""),
                          section=r.get("section", "")) for r in pool]
    p = lin.probabilities(lin.scores(inputs)[0])[:, ment]
    keep = [i for i in range(len(pool)) if p[i] < STAGE1_FILTER]
    random.Random(13).shuffle(keep)
    keep = sorted(keep[: args.transfer])
    transfer = [inputs[i] for i in keep]
    print(f"transfer pool {len(pool)} unlabelled statements of train articles; {len(keep)} taken "
          f"(stage 1's P(mentioning) < {STAGE1_FILTER})")
    tok = load_tokenizer(base_dir() / "tokenizer.json")
    arrays: dict[str, np.ndarray] = {}

    def put(name: str, seqs: list[np.ndarray]) -> None:
        arrays[name + "_ids"] = np.concatenate(seqs).astype(np.uint16)  # vocabulary 30,522 < 2**16
        arrays[name + "_len"] = np.array([len(s) for s in seqs], dtype=np.uint16)

    for f, enc in FORMATS.items():
        put(f"train_{f}", encode(tok, [to_input(r) for r in train], **enc))
        put(f"transfer_{f}", encode(tok, transfer, **enc))
        for k in DEV:
            put(f"{k}_{f}", encode(tok, [to_input(r) for r in ds[k]], **enc))
    arrays["train_y"] = np.array([CLASSES.index(r["stance"]) for r in train], dtype=np.int8)
    arrays["train_w"] = np.array([0.5 if r["confidence"] <= 0.55 else 1.0 for r in train], dtype=np.float32)
    for k in DEV:
        arrays[f"{k}_y"] = np.array([CLASSES.index(r["stance"]) for r in ds[k]], dtype=np.int8)
    np.savez_compressed(out / "data.npz", **arrays)
    weights = read_safetensors(base_dir() / "model.safetensors")
    # fp16 halves what travels; the rounding (~5e-4 relative) is far below what fine-tuning moves.
    np.savez(out / "base.npz", **{k: v.astype(np.float16) for k, v in weights.items() if v.dtype == np.float32})
    (out / "prep.json").write_text(json.dumps({
        "train_rows": dict(Counter(r["source"] for r in train)), "transfer_rows": len(transfer),
        "transfer_ids": [pool[i]["id"] for i in keep]}) + "\n", encoding="utf-8")
    for f in sorted(out.iterdir()):
        print(f"{f} {f.stat().st_size / 1e6:.1f} MB")
    return 0


# ---------------------------------------------------------------------------------- train (GPU machine)
def macro_f1(y: np.ndarray, pred: np.ndarray) -> tuple[float, list[float]]:
    f = []
    for c in range(3):
        tp = float(np.sum((pred == c) & (y == c)))
        p, r = tp / max(1, int(np.sum(pred == c))), tp / max(1, int(np.sum(y == c)))
        f.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    return float(np.mean(f)), f


def cmd_train(args: argparse.Namespace) -> int:  # noqa: C901 - one recipe, read top to bottom
    import torch
    from torch import nn

    data_dir, out = Path(args.data), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    t_start = time.time()
    log_file = (out / "log.txt").open("a", encoding="utf-8")

    def log(*parts: Any) -> None:
        s = f"[{time.time() - t_start:6.0f}s] " + " ".join(str(x) for x in parts)
        print(s, flush=True)
        log_file.write(s + "\n")
        log_file.flush()

    data = np.load(data_dir / "data.npz")
    base = np.load(data_dir / "base.npz")

    def seqs(name: str) -> list[np.ndarray]:
        ids, lens = data[name + "_ids"].astype(np.int64), data[name + "_len"].astype(np.int64)
        off = np.concatenate([[0], np.cumsum(lens)])
        return [ids[off[i]:off[i + 1]] for i in range(len(lens))]

    def pad_batch(ss: list[np.ndarray]) -> dict[str, Any]:  # as citelens.stance.onnx_model.pad_batch
        n = max(len(s) for s in ss)
        ids = np.full((len(ss), n), PAD_ID, dtype=np.int64)
        mask = np.zeros((len(ss), n), dtype=np.int64)
        types = np.zeros((len(ss), n), dtype=np.int64)
        for i, s in enumerate(ss):
            ids[i, :len(s)] = s
            mask[i, :len(s)] = 1
            sep = np.flatnonzero(s == SEP_ID)
            if len(sep) > 1:
                types[i, sep[0] + 1:len(s)] = 1
        return {k: torch.from_numpy(v).to(device) for k, v in
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}.items()}

    def build(n_layers: int) -> Any:
        model = stance_bert(n_layers)
        model.load_state_dict(base_state(n_layers, {k: base[k].astype(np.float32) for k in base.files}),
                              strict=False)
        return model.to(device)

    autocast = {"device_type": device.type, "dtype": torch.bfloat16, "enabled": device.type == "cuda"}

    def logits_of(model: Any, ss: list[np.ndarray]) -> np.ndarray:
        model.eval()
        res = np.zeros((len(ss), 3), dtype=np.float32)
        with torch.no_grad(), torch.autocast(**autocast):
            for idx in batches(ss, np.arange(len(ss)), 256):
                res[idx] = model(**pad_batch([ss[j] for j in idx])).float().cpu().numpy()
        return res

    y_all, w_all = data["train_y"].astype(np.int64), data["train_w"].astype(np.float32)
    dev_y = {k: data[f"{k}_y"].astype(np.int64) for k in DEV}
    seq = {f: {"train": seqs(f"train_{f}"), "transfer": seqs(f"transfer_{f}"), **{k: seqs(f"{k}_{f}") for k in DEV}}
           for f in FORMATS}
    if args.smoke:  # a slice of everything: the whole path in minutes on a CPU
        y_all, w_all = y_all[:args.smoke], w_all[:args.smoke]
        dev_y = {k: v[:200] for k, v in dev_y.items()}
        for f in seq:
            seq[f]["train"], seq[f]["transfer"] = seq[f]["train"][:args.smoke], seq[f]["transfer"][:300]
            for k in DEV:
                seq[f][k] = seq[f][k][:200]
    counts = np.bincount(y_all, weights=w_all, minlength=3)
    counts[2] *= 0.5  # half the mentioning rows are seen per epoch
    class_w = ((counts.sum() / (3 * counts)) ** 0.5).astype(np.float32)
    log("device", device, "class weights", [round(float(v), 4) for v in class_w], "train rows", len(y_all))
    results: dict[str, Any] = {"class_weights": [round(float(v), 4) for v in class_w]}
    dev_logits: dict[str, dict[str, np.ndarray]] = {}

    def save() -> None:
        (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        np.savez_compressed(out / "devlogits.npz",
                            **{f"{m}|{k}": v for m, d in dev_logits.items() for k, v in d.items()})

    def dev_eval(model: Any, fmt: str) -> tuple[dict[str, np.ndarray], float, dict[str, Any]]:
        lg = {k: logits_of(model, seq[fmt][k]) for k in DEV}
        per = {k: macro_f1(dev_y[k], lg[k].argmax(1)) for k in DEV}
        return lg, float(np.mean([per[k][0] for k in DEV])), {
            k: {"macro_f1": round(per[k][0], 4), "per_class_f1": [round(x, 3) for x in per[k][1]]} for k in DEV}

    def train(name: str, layers: int, fmt: str, seed: int, epochs: int, batch: int, lr: float,
              soft: np.ndarray | None = None, alpha: float = 0.5, temp: float = 2.0) -> Any:
        """The shipped recipe (AdamW with weight decay 0.01, 6 % warm-up then linear decay, class weights ^ 0.5,
        half the mentioning rows an epoch, gradient clip 1.0, dropout 0.1); with ``soft``, also the teachers'
        tempered probabilities: KL (times T^2) on every row, mixed with the label's weighted cross-entropy at
        ``alpha`` on labelled rows, and every transfer row once an epoch."""
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        model = build(layers)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
        lab_seqs, transfer = seq[fmt]["train"], seq[fmt]["transfer"]
        rows, n_lab = lab_seqs + transfer, len(lab_seqs)
        ment, rest = np.flatnonzero(y_all == 2), np.flatnonzero(y_all != 2)
        per_epoch = len(rest) + int(round(0.5 * len(ment))) + (len(transfer) if soft is not None else 0)
        steps = min(math.ceil(per_epoch / batch), 20 if args.smoke else 10**9)
        total = epochs * steps
        warm = max(1, int(0.06 * total))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
        cw = torch.tensor(class_w, device=device)
        soft_t = torch.tensor(soft, device=device) if soft is not None else None
        # Word-embedding rows no batch touches move only by AdamW's decoupled decay (their Adam moments stay
        # 0): the product of (1 - lr * wd) over the steps rebuilds them on import, so only touched rows travel.
        decay, best, history = 1.0, None, []
        for epoch in range(epochs):
            model.train()
            order = np.concatenate([rest, rng.choice(ment, int(round(0.5 * len(ment))), replace=False)])
            if soft is not None:
                order = np.concatenate([order, n_lab + rng.choice(len(transfer), len(transfer), replace=False)])
            t0 = time.time()
            bl = batches(rows, rng.permutation(order), batch)
            rng.shuffle(bl)
            bl = bl[:steps]
            for idx in bl:
                with torch.autocast(**autocast):
                    lg = model(**pad_batch([rows[j] for j in idx])).float()
                idx_t = torch.from_numpy(idx).to(device)
                lab_idx = np.minimum(idx, n_lab - 1)  # transfer rows: a placeholder label, weight 0
                y = torch.from_numpy(y_all[lab_idx]).to(device)
                row_w = torch.from_numpy(w_all[lab_idx]).to(device) * (idx_t < n_lab)
                ce = nn.functional.cross_entropy(lg, y, reduction="none")
                if soft_t is None:
                    wce = cw[y] * row_w
                    loss = (ce * wce).sum() / wce.sum().clamp(min=1e-6)
                else:
                    pt = soft_t[idx_t]
                    kl = (pt * (pt.clamp(min=1e-8).log() - nn.functional.log_softmax(lg / temp, -1))).sum(-1)
                    wce = (1 - alpha) * cw[y] * row_w
                    loss = ((ce * wce).sum() + alpha * temp ** 2 * kl.sum()) / (wce.sum() + alpha * len(idx))
                opt.zero_grad(set_to_none=False)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                decay *= 1.0 - opt.param_groups[0]["lr"] * 0.01
                opt.step()
                sched.step()
            lgd, score, per = dev_eval(model, fmt)
            history.append({"epoch": epoch, "dev_mean": round(score, 4), "dev": per, "secs": round(time.time() - t0, 1)})
            log(name, "epoch", epoch, f"{len(bl)} steps, {time.time() - t0:.0f}s, dev mean macro-F1 {score:.4f}",
                {k: per[k]["macro_f1"] for k in DEV})
            if best is None or score > best[0]:
                best = (score, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()}, lgd, decay)
        assert best is not None
        model.load_state_dict(best[2])
        results[name] = {"layers": layers, "format": fmt, "seed": seed, "epochs": epochs, "batch": batch, "lr": lr,
                         "distilled": soft is not None, "alpha": alpha, "temperature": temp,
                         "transfer_rows": len(transfer) if soft is not None else 0, "chosen_epoch": best[1],
                         "dev_mean": round(best[0], 4), "history": history, "wd_decay_factor": best[4]}
        dev_logits[name] = best[3]
        save()
        return model

    def save_student(name: str, model: Any, used: np.ndarray) -> None:
        sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
        emb = sd.pop("word.weight")
        np.savez(out / f"{name}-emb.npz", ids=used.astype(np.int32), rows=emb[used].astype(np.float16))
        np.savez(out / f"{name}-rest.npz", **{k: v.astype(np.float16) for k, v in sd.items()})

    used = np.unique(np.concatenate(seq["s"]["train"] + seq["s"]["transfer"]))
    epochs = 1 if args.smoke else 3
    if args.students_only:
        soft = np.load(data_dir / "soft.npz")["soft"].astype(np.float32)
        if args.smoke:
            n_lab = len(data["train_y"])
            soft = np.concatenate([soft[:args.smoke], soft[n_lab:n_lab + 300]])
        for layers in (int(x) for x in args.students_only.split(",")):
            name = f"kd-l{layers}-s13"
            save_student(name, train(name, layers, "s", 13, epochs, 16, 8e-5, soft=soft), used)
        if not args.smoke:  # the same size without distillation, for the record (dev logits only)
            train("base-l3-s13", 3, "s", 13, 2, 16, 8e-5)
        log("done")
        return 0
    # The shipped recipe on today's rows, on this machine: what distillation is compared with.
    train("base-s13", 4, "s", 13, 1 if args.smoke else 2, 16, 8e-5)
    teachers = [train(f"teacher-s{seed}", 6, "t", seed, epochs, 32, 1e-4) for seed in ([1] if args.smoke else [1, 2, 3])]
    ens = {k: np.mean([dev_logits[f"teacher-s{s}"][k] for s in ([1] if args.smoke else [1, 2, 3])], axis=0)
           for k in DEV}
    dev_logits["teacher-ens"] = ens
    per = {k: macro_f1(dev_y[k], ens[k].argmax(1))[0] for k in DEV}
    results["teacher-ens"] = {"dev_mean": round(float(np.mean(list(per.values()))), 4),
                              "dev": {k: round(v, 4) for k, v in per.items()}}
    log("teacher ensemble", results["teacher-ens"])
    save()
    temp = 2.0
    rows_t = seq["t"]["train"] + seq["t"]["transfer"]
    soft = np.mean([torch.softmax(torch.from_numpy(logits_of(m, rows_t)) / temp, -1).numpy() for m in teachers],
                   axis=0)
    np.savez_compressed(out / "soft.npz", soft=soft.astype(np.float16))
    del teachers
    for seed in ([13] if args.smoke else [13, 14]):
        save_student(f"kd-s{seed}", train(f"kd-s{seed}", 4, "s", seed, epochs, 16, 8e-5, soft=soft, temp=temp),
                     used)
    log("done")
    return 0


# ------------------------------------------------------------------------------- back here: import, trials
def cmd_import(args: argparse.Namespace) -> int:
    """Rebuild a student from its run's files, export the int8 ONNX the runtime reads, calibrate it on dev."""
    _repo_imports()
    import torch
    from train_stance import datasets, labelled
    from train_stance_minilm import base_dir, calibrate, export, read_safetensors

    from citelens.stance.onnx_model import TOKENIZER_FILE, V3, load_tokenizer, models_dir

    run, out = Path(args.run), Path(args.out_dir) if args.out_dir else models_dir()
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    res = results[args.name]
    emb, rest = np.load(run / f"{args.name}-emb.npz"), np.load(run / f"{args.name}-rest.npz")
    base = read_safetensors(base_dir() / "model.safetensors")
    word = base["embeddings.word_embeddings.weight"].astype(np.float16).astype(np.float32)
    word *= np.float32(res["wd_decay_factor"])  # rows no step touched (see train)
    word[emb["ids"]] = emb["rows"].astype(np.float32)
    sd = {k: torch.from_numpy(rest[k].astype(np.float32)) for k in rest.files}
    sd["word.weight"] = torch.from_numpy(word)
    model = stance_bert(res["layers"])
    model.load_state_dict(sd)
    export(model, out, Path(args.tmp), V3)
    if not (out / TOKENIZER_FILE).exists():
        load_tokenizer(base_dir() / "tokenizer.json").save(str(out / TOKENIZER_FILE))
    prep = json.loads(Path(args.prep).read_text(encoding="utf-8")) if args.prep else {}
    fmt = FORMATS["s"]
    meta = {"version": V3.replace("stance-", ""), "tokenizer": TOKENIZER_FILE, "activation_quantisation": "per token",
            "classes": ["supporting", "contrasting", "mentioning"], "temperature": 1.0, "seed": res["seed"],
            "base": "sentence-transformers/all-MiniLM-L6-v2", "after": False, **fmt, "layers": res["layers"],
            "epochs": res["epochs"], "chosen_epoch": res["chosen_epoch"], "lr": res["lr"], "batch": res["batch"],
            "mention_frac": 0.5, "class_weight_power": 0.5, "multicite_weight": 1.0,
            "class_weights": results["class_weights"], "sampling": [1.0, 1.0, 0.5],
            "trained": time.strftime("%Y-%m-%d"), "trained_on": args.trained_on, "stage1_filter": STAGE1_FILTER,
            "dev_sets": DEV, "freeze_embeddings": False, "init_state": None,
            "train_rows": prep.get("train_rows"),
            "distillation": {"teachers": "3 x 6-layer all-MiniLM-L6-v2 (seeds 1-3, 3 epochs), 64 tokens of the "
                                         "sentence, 48 of each neighbour; their mean probabilities at T 2",
                             "alpha": res["alpha"], "temperature": res["temperature"],
                             "transfer_rows": res["transfer_rows"]} if res["distilled"] else None}
    (out / f"{V3}.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    calibrate(out, {k: labelled(v) for k, v in datasets().items()}, DEV, V3)
    print(f"wrote {out / (V3 + '.onnx')} ({(out / (V3 + '.onnx')).stat().st_size / 1e6:.1f} MB) and its .json")
    return 0


class _DevLogits:
    """A stage-2 stand-in for ``train_stance_cascade.cmd_cascade``: one run's dev logits, calibrated as
    ``train_stance_minilm.calibrate`` does (offset share and temperature chosen on the same dev rows)."""

    def __init__(self, logits: dict[str, np.ndarray], gold: dict[str, list[str]], class_w: list[float]) -> None:
        _repo_imports()
        from train_stance_minilm import choose_calibration

        share, self.offsets, self.temperature, self.alone = choose_calibration(
            {k: logits[k] for k in DEV}, gold, class_w, [1.0, 1.0, 0.5], verbose=False)
        print(f"alone: dev mean macro-F1 {self.alone:.4f} (offset share {share}, temperature {self.temperature:.2f})")
        self._by_rows = {len(gold[k]): logits[k] for k in DEV}  # the dev splits differ in size

    def logits(self, inputs: list) -> np.ndarray:
        return self._by_rows[len(inputs)]

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        from citelens.stance.calibration import calibrated_probabilities

        return calibrated_probabilities(logits, self.offsets, self.temperature)


def cmd_cascade_trial(args: argparse.Namespace) -> int:
    """The cascade's dev choices (``train_stance_cascade.py cascade --dry-run``) with a run's dev logits as stage
    2: for networks that are not exported (teachers, their ensemble)."""
    _repo_imports()
    import train_stance_cascade as tsc

    run = Path(args.run)
    stored = np.load(run / "devlogits.npz")
    class_w = json.loads((run / "results.json").read_text(encoding="utf-8"))["class_weights"]
    ds = tsc.load()
    gold = {k: [r["stance"] for r in ds[k]] for k in DEV}
    net = _DevLogits({k: stored[f"{args.name}|{k}"] for k in DEV}, gold, class_w)
    return tsc.cmd_cascade(argparse.Namespace(max_drop=args.max_drop, report_test=False, linear=None, net=None,
                                              dry_run=True), nets=[net])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("prep", help="write the carried inputs (here)")
    s.add_argument("out")
    s.add_argument("--statements", default=str(ROOT / "build" / "stance-pmc" / "statements.jsonl"),
                   help="scripts/stance_pmc.py extract's output (all pmc-oa statements)")
    s.add_argument("--transfer", type=int, default=60000, help="at most this many unlabelled transfer rows")
    s = sub.add_parser("train", help="teachers, soft labels and students (on the GPU machine)")
    s.add_argument("data")
    s.add_argument("out")
    s.add_argument("--students-only", default="", help="layer counts of students to train from DATA/soft.npz")
    s.add_argument("--smoke", type=int, default=0, help="check the path on N training rows, 20 steps an epoch")
    s = sub.add_parser("import", help="a student as an int8 ONNX stage 2, calibrated on dev (here)")
    s.add_argument("run")
    s.add_argument("name")
    s.add_argument("--out-dir", help="default: the package's models folder")
    s.add_argument("--tmp", default="/tmp/stance-distill")
    s.add_argument("--trained-on", default="cuda", help="recorded in the artefact's metadata")
    s.add_argument("--prep", help="prep's prep.json (the training rows by source go into the metadata)")
    s = sub.add_parser("cascade-trial", help="a run's dev logits as the cascade's stage 2 (dev only)")
    s.add_argument("run")
    s.add_argument("name")
    s.add_argument("--max-drop", type=float, default=0.005)
    args = ap.parse_args(argv)
    return {"prep": cmd_prep, "train": cmd_train, "import": cmd_import,
            "cascade-trial": cmd_cascade_trial}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
