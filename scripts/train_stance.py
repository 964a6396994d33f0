"""Train the linear stance classifier and write its artefact (reproducible: fixed seed, fixed splits).

    .venv/bin/python scripts/train_stance.py                 # train, pick settings on dev, write artefact
    .venv/bin/python scripts/train_stance.py --export-eval build/stance-eval   # write the eval JSONL files (trains nothing)
    .venv/bin/python scripts/train_stance.py --report-test   # print held-out figures (never used to choose)

Data (read from ``../shared/data`` beside the repository, see data/stance/README.md):
  * stance-silver/statements.jsonl, with the adjudicated corrections/additions of data/stance/annotations.jsonl
    applied, split by article file into train / dev / test (data/stance/splits.json);
  * multicite/train.jsonl (all of it trains) and multicite/dev.jsonl split by paper_id into a tuning half
    (``multicite-dev``) and a held-out half (``multicite-test``) that nothing is tuned on.
MultiCite's own test split is reserved and never read.

Needs scikit-learn (dev extra) for fitting; the written artefact is read with numpy alone.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from citelens.stance.base import StanceInput
from citelens.stance.calibration import fit_temperature
from citelens.stance.evaluate import classification_report
from citelens.stance.features import extract
from citelens.stance.model import LinearArtefact, LinearStanceClassifier, default_model_path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DATA = ROOT / "data" / "stance"
SPLITS = DATA / "splits.json"
ANNOTATIONS = DATA / "annotations.jsonl"
ELIFE = DATA / "elife.jsonl"
PMC = DATA / "pmc.jsonl.gz"
CLASSES = ["supporting", "contrasting", "mentioning"]
SEED = 13


# ----------------------------------------------------------------------------------------------- data
def load_biomed() -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (SHARED / "stance-silver" / "statements.jsonl").open(encoding="utf-8")]
    for r in rows:
        r["source"] = "silver"
    if ANNOTATIONS.exists():
        by_id = {r["id"]: r for r in rows}
        for line in ANNOTATIONS.open(encoding="utf-8"):
            a = json.loads(line)
            if a["id"] in by_id:  # a corrected silver label
                by_id[a["id"]]["stance"] = a["stance"]
                by_id[a["id"]]["confidence"] = 1.0
                by_id[a["id"]]["source"] = "adjudicated"
            else:  # a new statement
                rows.append({**a, "confidence": 1.0, "source": "adjudicated"})
    return rows


def load_elife() -> list[dict[str, Any]]:
    """Cue-selected eLife statements, annotated twice independently and adjudicated (data/stance/README.md)."""
    if not ELIFE.exists():
        return []
    rows = [json.loads(x) for x in ELIFE.open(encoding="utf-8")]
    for r in rows:
        r.update(file=f"elife-{r['elife']}", confidence=1.0, source="elife")
    return rows


def load_pmc() -> list[dict[str, Any]]:
    """The Europe PMC open-access set (data/stance/README.md): statements of 3,806 articles, mined by route and
    labelled blind against the guidelines; the split (by article) is in each row."""
    import gzip

    if not PMC.exists():
        return []
    with gzip.open(PMC, "rt", encoding="utf-8") as fh:
        rows = [json.loads(x) for x in fh if x.strip()]
    for r in rows:
        # Annotator confidence is kept in the file; as a training weight every settled label counts fully.
        r.update(file=f"pmc-{r['article']}", annotator_confidence=r.get("confidence"), confidence=1.0,
                 source="pmc")
    return rows


def load_multicite(split: str) -> list[dict[str, Any]]:
    out = []
    for line in (SHARED / "multicite" / f"{split}.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        text = r["sentence"] or r["gold_context"]
        ctx = r["context"] or ""
        before = after = ""
        pos = ctx.find(text) if text else -1
        if pos >= 0:
            before, after = ctx[:pos].strip(), ctx[pos + len(text):].strip()
        out.append({"id": r["id"], "paper_id": r["paper_id"], "text": text, "before": before, "after": after,
                    "section": "", "stance": r["stance"], "confidence": 1.0, "source": "multicite"})
    return out


def make_splits(bio: list[dict[str, Any]], mc_dev: list[dict[str, Any]]) -> dict[str, Any]:
    """Paper-disjoint splits, balanced so each biomedical split gets its share of the rare contrasting rows."""
    rng = random.Random(SEED)
    files = sorted({r["file"] for r in bio})
    rng.shuffle(files)
    con = Counter(r["file"] for r in bio if r["stance"] == "contrasting")
    sup = Counter(r["file"] for r in bio if r["stance"] == "supporting")
    size = Counter(r["file"] for r in bio)
    target = {"train": 0.6, "dev": 0.2, "test": 0.2}
    tot = {"con": sum(con.values()), "sup": sum(sup.values()), "size": len(bio)}
    got = {s: {"con": 0, "sup": 0, "size": 0} for s in target}
    assign: dict[str, list[str]] = {s: [] for s in target}
    # Files with contrasting rows first, so the rarest class is spread evenly.
    for f in sorted(files, key=lambda f: (-con[f], -sup[f]) if con[f] else (0, 0)):
        key = "con" if con[f] else "sup" if sup[f] else "size"
        s = max(target, key=lambda s: target[s] * tot[key] - got[s][key])
        assign[s].append(f)
        got[s]["con"] += con[f]
        got[s]["sup"] += sup[f]
        got[s]["size"] += size[f]
    papers = sorted({r["paper_id"] for r in mc_dev})
    rng.shuffle(papers)
    half = len(papers) // 2
    return {
        "seed": SEED,
        "biomed": {s: sorted(v) for s, v in assign.items()},
        "multicite_dev_papers": sorted(papers[:half]),
        "multicite_test_papers": sorted(papers[half:]),
    }


def datasets() -> dict[str, list[dict[str, Any]]]:
    bio = load_biomed()
    mc_train, mc_dev = load_multicite("train"), load_multicite("dev")
    if SPLITS.exists():
        splits = json.loads(SPLITS.read_text())
    else:
        splits = make_splits(bio, mc_dev)
        SPLITS.write_text(json.dumps(splits, indent=1) + "\n")
    where = {f: s for s, fs in splits["biomed"].items() for f in fs}
    out: dict[str, list[dict[str, Any]]] = {f"biomed-{s}": [] for s in ("train", "dev", "test")}
    for r in bio:
        out[f"biomed-{where[r['file']]}"].append(r)
    elife = load_elife()
    if elife:
        where_elife = {a: s for s, arts in splits["elife"].items() for a in arts}
        for s in ("train", "dev", "test"):
            out[f"elife-{s}"] = [r for r in elife if where_elife[r["elife"]] == s]
    for r in load_pmc():
        out.setdefault(f"pmc-{r['split']}", []).append(r)
    devp = set(splits["multicite_dev_papers"])
    out["multicite-train"] = mc_train
    out["multicite-dev"] = [r for r in mc_dev if r["paper_id"] in devp]
    out["multicite-test"] = [r for r in mc_dev if r["paper_id"] not in devp]
    return out


def assign_folds(rows: list[dict[str, Any]], k: int) -> np.ndarray:
    """Fold of each row, grouped by article (biomedical) or paper (MultiCite); contrasting-rich groups spread."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r.get("file") or r.get("paper_id") or r["id"], []).append(i)
    names = sorted(groups)
    random.Random(SEED).shuffle(names)
    n_con = {g: sum(rows[i]["stance"] == "contrasting" for i in groups[g]) for g in names}
    fold = np.zeros(len(rows), dtype=np.int64)
    load = [0] * k
    for g in sorted(names, key=lambda g: -n_con[g]):  # stable: ties keep the seeded order
        j = min(range(k), key=lambda j: (load[j], j)) if n_con[g] else names.index(g) % k
        load[j] += n_con[g]
        fold[groups[g]] = j
    return fold


def to_input(r: dict[str, Any]) -> StanceInput:
    return StanceInput(text=r["text"], before=r.get("before") or "", after=r.get("after") or "",
                       section=r.get("section") or "")


def export_eval(ds: dict[str, list[dict[str, Any]]], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in ds.items():
        with (out_dir / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in rows:
                keep = {k: r.get(k) for k in ("id", "text", "before", "after", "section", "stance")}
                fh.write(json.dumps(keep, ensure_ascii=False) + "\n")
        if name.startswith("pmc-"):
            # The plain random sample alone: the natural distribution of running text.
            with (out_dir / f"{name}-random.jsonl").open("w", encoding="utf-8") as fh:
                for r in rows:
                    if r.get("route") == "random":
                        keep = {k: r.get(k) for k in ("id", "text", "before", "after", "section", "stance")}
                        fh.write(json.dumps(keep, ensure_ascii=False) + "\n")
    print(f"wrote eval files to {out_dir}")


# -------------------------------------------------------------------------------------------- fitting
def build_matrix(feats: list[list[str]], vocab: dict[str, int]):  # -> scipy.sparse.csr_matrix
    return index_matrix([sorted({vocab[f] for f in fs if f in vocab}) for fs in feats], len(vocab))


def index_matrix(rows: Sequence[Sequence[int]], n_features: int):  # -> scipy.sparse.csr_matrix
    """The linear models' input: one binary row per statement over its (sorted, distinct) feature indices,
    L2-normalised, as ``LinearStanceClassifier.scores`` computes it."""
    from scipy.sparse import csr_matrix

    indptr = np.cumsum([0, *map(len, rows)])
    indices = np.fromiter((j for r in rows for j in r), dtype=np.int64, count=int(indptr[-1]))
    m = csr_matrix((np.ones(len(indices), dtype=np.float64), indices, indptr), shape=(len(rows), n_features))
    norms = np.sqrt(np.maximum(np.diff(m.indptr), 1))
    return csr_matrix(m.multiply(1.0 / norms[:, None]))


def labelled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["stance"] in CLASSES]


def macro(gold: list[str], scores: np.ndarray, offsets: np.ndarray) -> float:
    pred = [CLASSES[k] for k in np.argmax(scores + offsets, axis=1)]
    return classification_report(gold, pred)["macro_f1"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=default_model_path())
    ap.add_argument("--mc-weight", type=float, default=1.0, help="weight of MultiCite rows")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--oof-out", type=Path, default=None, help="write out-of-fold predictions (JSONL)")
    ap.add_argument("--C", type=float, default=None, help="inverse regularisation (default: tune on dev)")
    ap.add_argument("--min-df", type=int, default=2)
    ap.add_argument("--export-eval", type=Path, default=None)
    ap.add_argument("--report-test", action="store_true", help="print held-out figures (not used to choose)")
    args = ap.parse_args(argv)
    from sklearn.linear_model import LogisticRegression

    t_start = time.time()
    ds = {k: labelled(v) if k != "multicite-train" else v for k, v in datasets().items()}
    if args.export_eval:
        # Export only: training here would also rewrite the shipped linear-v2 artefact from today's data, which
        # a benchmark's "write the eval files" step must never do.
        export_eval(ds, args.export_eval)
        return 0
    ds = {k: labelled(v) for k, v in ds.items()}
    for k, v in ds.items():
        print(f"{k:<16} {len(v):>5}  {dict(Counter(r['stance'] for r in v))}")

    # Everything except the two held-out test splits is the "pool". Settings, decision offsets and the
    # calibration temperature are chosen on out-of-fold predictions over the pool (5 folds grouped by
    # article / paper), because the dev splits alone hold only 13 biomedical contrasting statements; the
    # shipped model is then fitted on the whole pool.
    pool = ds["biomed-train"] + ds["biomed-dev"] + ds["multicite-train"] + ds["multicite-dev"]
    pool += ds.get("elife-train", []) + ds.get("elife-dev", [])
    pool_feats = [extract(to_input(r)) for r in pool]
    y = np.array([CLASSES.index(r["stance"]) for r in pool])
    is_mc = np.array([r["source"] == "multicite" for r in pool])
    # Borderline silver labels (confidence <= 0.55, see the silver README) count half.
    base_w = np.array([0.5 if r["confidence"] <= 0.55 else 1.0 for r in pool])
    folds = assign_folds(pool, args.folds)
    print(f"pool {len(pool)} rows, {args.folds} grouped folds")

    def fit(rows: np.ndarray, vocab: dict[str, int], C: float, cwp: float) -> LogisticRegression:
        X = build_matrix([pool_feats[i] for i in rows], vocab)
        w = base_w[rows] * np.where(is_mc[rows], args.mc_weight, 1.0)
        # Class weights (inverse frequency)**cwp so the minority classes are not drowned by mentioning;
        # cwp < 1 tempers it (full balancing over-predicts the minorities on biomedical text).
        counts = np.bincount(y[rows], weights=w, minlength=3)
        cw = ((counts.sum() / (3 * counts)) ** cwp)[y[rows]]
        clf = LogisticRegression(C=C, max_iter=3000, tol=1e-4)
        clf.fit(X, y[rows], sample_weight=w * cw)
        return clf

    def vocab_of(rows: np.ndarray) -> dict[str, int]:
        df = Counter(f for i in rows for f in set(pool_feats[i]))
        return {f: j for j, f in enumerate(sorted(f for f, c in df.items() if c >= args.min_df))}

    fold_vocab = {k: vocab_of(np.flatnonzero(folds != k)) for k in range(args.folds)}
    gold = [r["stance"] for r in pool]
    is_elife = np.array([r["source"] == "elife" for r in pool])
    # Each domain's macro-F1 counts once: the biomedical silver set (natural distribution), the cue-selected
    # eLife set (where most minority-class rows are) and MultiCite.
    domains = {"biomed": ~is_mc & ~is_elife, "multicite": is_mc}
    if is_elife.any():
        domains["elife"] = is_elife

    def domain_scores(scores: np.ndarray, off: np.ndarray) -> dict[str, float]:
        return {d: macro([gold[i] for i in np.flatnonzero(m)], scores[m], off) for d, m in domains.items()}

    grid_C = [args.C] if args.C else [2.0, 4.0]
    grid_p = [0.5, 1.0]
    best = None
    for C in grid_C:
        for cwp in grid_p:
            t0 = time.time()
            oof = np.zeros((len(pool), 3))
            for k in range(args.folds):
                tr, te = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
                clf = fit(tr, fold_vocab[k], C, cwp)
                oof[te] = clf.decision_function(build_matrix([pool_feats[i] for i in te], fold_vocab[k]))
            per = domain_scores(oof, np.zeros(3))
            score = float(np.mean(list(per.values())))
            print(f"C={C:<4} class_weight_power={cwp:<4} out-of-fold macro-F1 mean={score:.3f} "
                  + " ".join(f"{d}={v:.3f}" for d, v in per.items()) + f"  ({time.time() - t0:.0f}s)")
            if best is None or score > best[0]:
                best = (score, C, cwp, oof)
    assert best is not None
    _, C, cwp, oof = best

    # Decision offsets for the two minority classes: maximise mean out-of-fold macro-F1 of the two domains.
    grid = np.arange(-1.0, 1.51, 0.25)
    best_off, best_s = np.zeros(3), -1.0
    for a in grid:
        for b in grid:
            off = np.array([a, b, 0.0])
            s = float(np.mean(list(domain_scores(oof, off).values())))
            if s > best_s + 1e-9:
                best_off, best_s = off, s
    oof_f1 = domain_scores(oof, best_off)
    print(f"offsets sup={best_off[0]:+.2f} con={best_off[1]:+.2f}: out-of-fold macro-F1 "
          + " ".join(f"{d}={v:.3f}" for d, v in oof_f1.items()))

    # Temperature scaling on the out-of-fold scores: minimise negative log-likelihood of the gold class.
    Z = oof + best_off
    best_t = fit_temperature(Z, y)
    print(f"temperature {best_t:.2f}")

    everything = np.arange(len(pool))
    vocab = vocab_of(everything)
    features = sorted(vocab, key=vocab.__getitem__)
    clf = fit(everything, vocab, C, cwp)
    meta = {
        "version": "linear-v2",
        "trained": time.strftime("%Y-%m-%d"),
        "C": C, "mc_weight": args.mc_weight, "class_weight_power": cwp, "min_df": args.min_df, "seed": SEED,
        "folds": args.folds,
        "train_rows": {k: len(ds[k]) for k in ("biomed-train", "biomed-dev", "multicite-train", "multicite-dev",
                                               "elife-train", "elife-dev") if k in ds},
        "out_of_fold_macro_f1": oof_f1,
    }
    art = LinearArtefact(vocab=vocab, features=features, weights=clf.coef_.T.astype(np.float32),
                         bias=clf.intercept_.astype(np.float32), offsets=best_off.astype(np.float32),
                         temperature=best_t, classes=CLASSES, meta=meta)
    art.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(vocab)} features) "
          f"in {time.time() - t_start:.0f}s")
    if args.oof_out:
        # Out-of-fold predictions with the chosen offsets/temperature: the model card's dev-side figures.
        probs = np.exp((Z - Z.max(axis=1, keepdims=True)) / best_t)
        probs /= probs.sum(axis=1, keepdims=True)
        with args.oof_out.open("w", encoding="utf-8") as fh:
            for r, p in zip(pool, probs, strict=True):
                fh.write(json.dumps({"id": r["id"], "domain": {"multicite": "multicite", "elife": "elife"}.get(
                                     r["source"], "biomed"),
                                     "gold": r["stance"], "probs": [round(float(v), 5) for v in p]}) + "\n")

    # Held-out figures through the numpy runtime (what users get), printed only on request.
    from citelens.stance.model import _load_cached

    _load_cached.cache_clear()
    runtime = LinearStanceClassifier(args.out)
    names = [k for k in ("biomed-test", "elife-test", "multicite-test") if k in ds] if args.report_test else []
    for k in names:
        preds = runtime.predict([to_input(r) for r in ds[k]])
        rep = classification_report([r["stance"] for r in ds[k]], [p.stance for p in preds])
        pc = rep["per_class"]
        print(f"{k:<15} macro-F1 {rep['macro_f1']:.3f}  " + "  ".join(
            f"{c[:3]} P={pc[c]['precision']:.2f} R={pc[c]['recall']:.2f} F1={pc[c]['f1']:.2f}" for c in CLASSES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
