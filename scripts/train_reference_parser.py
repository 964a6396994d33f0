"""Train the reference-string CRF that ships in ``src/citelens/references/models/``.

    .venv/bin/python scripts/train_reference_parser.py            # train on train+dev, write the packaged model
    .venv/bin/python scripts/train_reference_parser.py --dev      # train on train only, score on dev (feature work)

The split is file-disjoint and seeded (``citelens.references.parser_train.split_examples``); the test part
is never used here: ``citelens references eval`` / ``benchmarks/bench_reference_parser.py`` score it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from citelens.references import parser as P
from citelens.references import parser_train as T

PACKAGED = Path(__file__).resolve().parents[1] / "src" / "citelens" / "references" / "models" / P.MODEL_NAME


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="references.jsonl (default: shared/data beside the repo)")
    ap.add_argument("--dev", action="store_true", help="train on train only and report dev scores; write nothing")
    ap.add_argument("--params", default="{}", help='JSON of crfsuite parameters, e.g. \'{"c1": 0.1}\'')
    ap.add_argument("--out", type=Path, default=PACKAGED)
    args = ap.parse_args(argv)

    examples = T.load_examples(args.data)
    train, dev, test = T.split_examples(examples)
    print(
        f"{len(examples)} strings: train {len(train)}, dev {len(dev)}, test {len(test)} "
        f"({len({e.source_file for e in test})} held-out files, not used here)"
    )
    params = json.loads(args.params)
    if args.dev:
        with tempfile.TemporaryDirectory() as tmp:
            model = Path(tmp) / P.MODEL_NAME
            secs = T.train_model(train, model, params)
            print(f"trained in {secs:.0f} s; model {model.stat().st_size / 1e6:.2f} MB")
            P.use_model(model)
            table, rps = T.evaluate(dev)
            P.use_model(None)
        print(T.format_table(table))
        print(f"{rps:.0f} references/s")
        return 0
    secs = T.train_model(train + dev, args.out, params)
    print(f"trained on {len(train) + len(dev)} strings in {secs:.0f} s; wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
