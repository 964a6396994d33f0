"""Callout extraction and linking measured against the ground truth JATS carries.

Ground truth: every ``<xref ref-type="bibr">`` in ``<body>`` (and PMC's ``<floats-group>``), one count per
rid token that names a ``<ref>`` of the reference list — i.e. the (article, reference id) pairs and how often
each is cited. Prediction: the pipeline's statements (parse → segment → link) per (article, reference key),
leaving out references that only range expansion added ("[3]–[6]" → 4, 5: reported separately).

    python benchmarks/eval_extraction.py [--data ../shared/data] [--json] [--sample-sentences 50]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

from lxml import etree

from citelens.formats.jats import parse_jats
from citelens.formats.xmlsafe import parse_xml
from citelens.statements import build_statements

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def ground_truth(data: bytes, source: str) -> Counter[str]:
    root = parse_xml(data, source)
    ids = {r.get("id") for r in root.iter("ref")}
    counts: Counter[str] = Counter()
    for container in [*root.iter("body"), *root.iter("floats-group")]:
        for x in container.iter("xref"):
            if x.get("ref-type") != "bibr":
                continue
            for rid in (x.get("rid") or "").split():
                if rid in ids:
                    counts[rid] += 1
    return counts


def evaluate(files: list[Path]) -> tuple[dict[str, object], list[dict[str, str]]]:
    tp = fp = fn = 0
    pairs_gold = pairs_pred = pairs_both = 0
    inferred = 0
    per_corpus: dict[str, Counter[str]] = {}
    statements = []
    for f in files:
        data = f.read_bytes()
        gold = ground_truth(data, f.name)
        doc = build_statements(parse_jats(data, f.name))
        pred: Counter[str] = Counter()
        for s in doc.statements:
            if s.inferred:
                inferred += 1
            else:
                pred[s.reference_key] += 1
            statements.append({"file": f.name, "sentence": s.sentence, "callout": s.callout_text,
                               "before": s.before, "after": s.after})
        c_tp = sum((gold & pred).values())
        c_fp = sum((pred - gold).values())
        c_fn = sum((gold - pred).values())
        tp, fp, fn = tp + c_tp, fp + c_fp, fn + c_fn
        corpus = per_corpus.setdefault(f.parent.name, Counter())
        corpus.update({"tp": c_tp, "fp": c_fp, "fn": c_fn, "articles": 1})
        pairs_gold += len(gold)
        pairs_pred += len(pred)
        pairs_both += len(set(gold) & set(pred))
    result: dict[str, object] = {
        "articles": len(files),
        "gold_callouts": tp + fn,
        "predicted_statements": tp + fp,
        "precision": round(tp / (tp + fp), 5) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 5) if tp + fn else 0.0,
        "pair_precision": round(pairs_both / pairs_pred, 5) if pairs_pred else 0.0,
        "pair_recall": round(pairs_both / pairs_gold, 5) if pairs_gold else 0.0,
        "range_expanded_statements": inferred,
        "by_corpus": {k: {**v, "precision": round(v["tp"] / max(1, v["tp"] + v["fp"]), 5),
                          "recall": round(v["tp"] / max(1, v["tp"] + v["fn"]), 5)} for k, v in per_corpus.items()},
    }
    return result, statements


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--sample-sentences", type=int, default=0, help="print N random statements for spot checks")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--write", action="store_true", help="write the result into docs/benchmarks.md")
    args = ap.parse_args(argv)
    files = sorted((args.data / "plos-starter").glob("*.xml")) + sorted((args.data / "pmc-samples").glob("*.nxml"))
    if not files:
        print(f"no articles under {args.data}", file=sys.stderr)
        return 2
    result, statements = evaluate(files)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:28} {v}")
    if args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _report import machine, write_section

        bc = result["by_corpus"]
        rows = "\n".join(f"| {k} | {v['articles']} | {v['tp'] + v['fn']:,} | {v['precision']:.4f} | {v['recall']:.4f} |"
                         for k, v in bc.items())  # type: ignore[union-attr]
        write_section("extraction", f"""## Callout extraction and linking (JATS ground truth)

`python benchmarks/eval_extraction.py --write` — gold: every `<xref ref-type="bibr">` in `<body>` (and
`<floats-group>`), one count per `rid` that names a `<ref>`; predicted: the pipeline's statements (parse →
segment → link) per (article, reference id), counted with multiplicity. {machine()}.

| corpus | articles | gold callouts | precision | recall |
|---|---:|---:|---:|---:|
{rows}
| **all** | {result['articles']} | {result['gold_callouts']:,} | {result['precision']:.4f} | {result['recall']:.4f} |

Distinct (article, reference) pairs: precision {result['pair_precision']:.4f}, recall {result['pair_recall']:.4f}.
Numeric ranges written as two callouts ("[3]–[6]") add statements for the references between the endpoints:
{result['range_expanded_statements']:,} such statements, not part of the gold count above (they are not marked up).
""")
    if args.sample_sentences:
        rng = random.Random(args.seed)
        for i, s in enumerate(rng.sample(statements, min(args.sample_sentences, len(statements))), 1):
            print(f"\n[{i}] {s['file']} callout={s['callout']!r}\n  BEFORE: {s['before'][-160:]}\n"
                  f"  SENT:   {s['sentence']}\n  AFTER:  {s['after'][:160]}")
    return 0


if __name__ == "__main__":
    etree.set_default_parser(etree.XMLParser(resolve_entities=False, no_network=True))
    sys.exit(main())
