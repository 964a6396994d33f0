"""Stance classifier benchmark: quality on the held-out splits, throughput and memory, beside the cue baseline.

    .venv/bin/python scripts/train_stance.py --export-eval build/stance-eval   # once, writes the eval files
    .venv/bin/python benchmarks/bench_stance.py [--eval-dir build/stance-eval] [--write]

Quality is measured on ``biomed-test`` (natural distribution), ``elife-test`` (cue-selected, double-annotated)
and ``multicite-test`` (all paper-disjoint, never used for training or tuning; see data/stance/README.md). Throughput is end to end through ``classifier.predict`` (features,
model, calibration, evidence; for minilm: tokenise + ONNX inference + evidence) on one process, best of 3 runs
over the whole biomedical test file. RSS is that
of a fresh interpreter after loading the model and classifying one statement. ``--write`` puts the table in
docs/benchmarks.md (section "stance").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import machine, write_section  # noqa: E402
from citelens.stance import available_classifiers, get_classifier  # noqa: E402
from citelens.stance.evaluate import classification_report, read_eval_rows  # noqa: E402

_RSS = (
    "import resource, sys\n"
    "from citelens.stance import get_classifier, StanceInput\n"
    "c = get_classifier(sys.argv[1]); c.predict([StanceInput('We confirm <cite>[1]</cite>.')])\n"
    # VmHWM, not ru_maxrss: the latter survives exec, so it would report the (larger) parent benchmark.
    "hwm = [ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]\n"
    "print(hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
)


def rss_mb(name: str) -> float:
    out = subprocess.run([sys.executable, "-c", _RSS, name], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024  # Linux reports KiB


def throughput(name: str, path: Path, repeats: int = 3) -> float:
    inputs, _, _ = read_eval_rows(path)
    clf = get_classifier(name)
    clf.predict(inputs[:10])  # warm-up: loads the artefact
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        clf.predict(inputs)
        best = min(best, time.perf_counter() - t0)
    return len(inputs) / best


def batch_dependence(path: Path) -> dict[str, float]:
    """MiniLM only: classify every row alone (batch of 1) and in the runtime's batches; count label flips.

    The per-batch int8 activation scales of the first MiniLM moved labels with their batch-mates; the
    shipped graph quantises per token, so this should report 0 flips and a difference near float noise.
    """
    from citelens.stance import onnx_model

    inputs, _, _ = read_eval_rows(path)
    clf = get_classifier("minilm")
    batched = clf.predict(inputs)
    default_batch = onnx_model.BATCH
    onnx_model.BATCH = 1
    try:
        alone = clf.predict(inputs)
    finally:
        onnx_model.BATCH = default_batch
    diff = max(abs(a.probabilities[c] - b.probabilities[c])  # type: ignore[index]
               for a, b in zip(alone, batched, strict=True) for c in a.probabilities or {})
    flips = sum(a.stance != b.stance for a, b in zip(alone, batched, strict=True))
    return {"rows": len(inputs), "label_flips": flips, "max_probability_difference": diff}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", type=Path, default=ROOT / "build" / "stance-eval")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    sets = ["biomed-test", "elife-test", "multicite-test"]
    missing = [s for s in sets if not (args.eval_dir / f"{s}.jsonl").exists()]
    if missing:
        print(f"missing eval files {missing}: run scripts/train_stance.py --export-eval {args.eval_dir}")
        return 2
    rows = []
    results: dict[str, dict] = {}
    # The fine-tuned MiniLM (int8 ONNX) is measured too when its artefact and onnxruntime are installed.
    names = [n for n in ("minilm", "linear", "cues") if n in available_classifiers()]
    for name in names:
        clf = get_classifier(name)
        for s in sets:
            inputs, gold, _ = read_eval_rows(args.eval_dir / f"{s}.jsonl")
            rep = classification_report(gold, [p.stance for p in clf.predict(inputs)])
            pc = rep["per_class"]
            results[f"{name}/{s}"] = rep
            rows.append(
                f"| {name} | {s} | {rep['n']} | {rep['macro_f1']:.3f} | "
                + " | ".join(f"{pc[c]['precision']:.2f} / {pc[c]['recall']:.2f} / {pc[c]['f1']:.2f}"
                             for c in ("supporting", "contrasting", "mentioning"))
                + " |"
            )
        tput = throughput(name, args.eval_dir / "biomed-test.jsonl")
        mem = rss_mb(name)
        results[f"{name}/speed"] = {"statements_per_second": tput, "rss_mb": mem}
    dep = batch_dependence(args.eval_dir / "biomed-test.jsonl") if "minilm" in names else None
    md = [
        "## Stance classification",
        "",
        f"`python benchmarks/bench_stance.py --write` on {machine()}. Held-out, paper-disjoint test splits "
        "(data/stance/README.md); P / R / F1 per class.",
        "",
        "| model | split | n | macro-F1 | supporting | contrasting | mentioning |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "| model | statements/s (1 process, end to end) | RSS after load (MB) |",
        "|---|---|---|",
        *(f"| {n} | {results[f'{n}/speed']['statements_per_second']:.0f} | {results[f'{n}/speed']['rss_mb']:.0f} |"
          for n in names),
    ]
    if dep is not None:
        results["minilm/batch_dependence"] = dep
        md += ["", f"Batch dependence (minilm, biomed-test, each row alone vs. in the runtime's batches): "
                   f"{dep['label_flips']} label flips in {dep['rows']} rows, largest probability difference "
                   f"{dep['max_probability_difference']:.4f}."]
    text = "\n".join(md)
    print(text)
    print(json.dumps({k: v for k, v in results.items() if k.endswith(("speed", "batch_dependence"))}))
    if args.write:
        print(f"wrote {write_section('stance', text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
