"""Train the reference-string CRF (python-crfsuite), the parser's tagger before the BiLSTM-CRF of
``scripts/train_reference_tagger.py`` replaced it; kept as the baseline to compare recipes against.

    .venv/bin/python scripts/train_reference_parser.py            # train on train+dev, write build/reference_crf.crfsuite
    .venv/bin/python scripts/train_reference_parser.py --dev      # train on train only, score on dev (feature work)
    .venv/bin/python scripts/train_reference_parser.py --dev --save   # ... and write that model to --out
    .venv/bin/python scripts/train_reference_parser.py --dev --dev-fold 2   # second dev fold (files of train)

Training data: GROBID's labelled strings (``grobid-references``, split by source file) and, unless
``--jats-n 0``, reference strings rebuilt from the tagged JATS references of ``pmc-oa/pmc-oa.tar.gz``
(``citelens.references.parser_jats``; split by article, 90/5/5; the tar is streamed, never unpacked). Articles
of the PDF benchmark (``pdf-pairs``) are left out. Both test parts are never used here:
``benchmarks/bench_reference_parser.py`` scores them.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
from pathlib import Path

from citelens.references import parser as P
from citelens.references import parser_train as T
from citelens.references.parser_jats import noisy_variant, restyled_variant, sample_tar_examples

# Not in the package (the wheel's size limit holds the BiLSTM-CRF); serve it with parser.use_model(path).
CRF_MODEL_NAME = "reference_crf.crfsuite"
PACKAGED = Path(__file__).resolve().parents[1] / "build" / CRF_MODEL_NAME
# Large enough for the long tail of styles, small enough to train in ~10 minutes on one shared core.
DEFAULT_JATS_N = 20_000
# GROBID's strings are fewer but far more varied (disciplines, languages, styles): counted twice.
DEFAULT_GROBID_REPEAT = 2
# ... except that half of them come from one file (citations.xml); the strings of the other files,
# which are what the held-out files look like, are counted six times (four in round 3: +0.001 to +0.002
# micro-F1 on both dev folds over two; six in round 4: +0.001 fold 1, +0.002 fold 2 over four).
DEFAULT_SMALL_REPEAT = 6
# Of those copies, how many are recombined variants (title and journal of strings from other files).
DEFAULT_RECOMBINE = 0
# Share of the JATS training strings replaced by a noisy variant (no punctuation between fields, upper-case
# authors, title case, line-break hyphens, glued words): what strings from PDFs and other files look like.
DEFAULT_NOISY = 0.3
# Share printed again in a physics / mathematics / IEEE style (title between commas or in quotes).
DEFAULT_RESTYLE = 0.3
NOISE_SEED = 7
RECOMBINE_SEED = 11


def jats_training_strings(
    examples: list[T.Example], noisy: float, seed: int = NOISE_SEED, restyle: float = 0.0
) -> list[T.Example]:
    """The JATS strings to train on: printed references with at most two tagged parts left out (publishers
    that tag only a link or a year leave the title, authors and journal untagged, which teaches the model
    that they are "O"), a seeded share ``restyle`` printed again in a physics / mathematics / IEEE style
    (``parser_jats.restyled_variant``) and a share ``noisy`` swapped for a noisy variant."""
    rng = random.Random(seed)
    kept = [e for e in examples if len({f["label"] for f in e.fields}) > 2]
    out = []
    for e in kept:
        draw = rng.random()
        if draw < restyle:
            out.append(restyled_variant(e, rng) or e)
        elif draw < restyle + noisy:
            out.append(noisy_variant(e, rng) or e)
        else:
            out.append(e)
    return out


def largest_file(grobid: list[T.Example]) -> str:
    """The source file with the most strings (about half of GROBID's corpus; counted fewer times than the
    others by both trainers), the first of them on a tie; "" for no strings."""
    sizes: dict[str, int] = {}
    for ex in grobid:
        sizes[ex.source_file] = sizes.get(ex.source_file, 0) + 1
    return max(sizes, key=lambda f: sizes[f]) if sizes else ""


def weighted(grobid: list[T.Example], args: argparse.Namespace) -> list[T.Example]:
    """GROBID's strings, each counted ``--grobid-repeat`` times, or ``--small-repeat`` times outside the
    largest file; ``--recombine`` of those copies are recombined variants (``parser_train.recombined_variant``:
    title and journal from strings of other files), the same copy when a string has neither."""
    largest = largest_file(grobid)
    if not args.small_repeat:
        parts = [(grobid, args.grobid_repeat)]
    else:
        parts = [([e for e in grobid if e.source_file == largest], args.grobid_repeat),
                 ([e for e in grobid if e.source_file != largest], args.small_repeat)]
    donors = T.recombination_donors(grobid) if args.recombine else {}
    rng = random.Random(RECOMBINE_SEED)
    out: list[T.Example] = []
    for part, copies in parts:
        plain = max(copies - args.recombine, 1)
        out += part * plain
        for _ in range(copies - plain):
            out += [T.recombined_variant(ex, donors, rng) or ex for ex in part]
    return out


def pdf_benchmark_articles(data: Path) -> frozenset[str]:
    manifest = data.parent / "pdf-pairs" / "manifest.tsv"
    if not manifest.is_file():
        return frozenset()
    with open(manifest, encoding="utf-8", newline="") as fh:
        return frozenset(row["id"] for row in csv.DictReader(fh, delimiter="\t"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="references.jsonl (default: shared/data beside the repo)")
    ap.add_argument("--jats", type=Path, default=None, help="JATS tar (default: pmc-oa/pmc-oa.tar.gz beside --data)")
    ap.add_argument("--jats-n", type=int, default=DEFAULT_JATS_N, help="JATS training strings (0: GROBID only)")
    ap.add_argument("--grobid-repeat", type=int, default=DEFAULT_GROBID_REPEAT)
    ap.add_argument("--small-repeat", type=int, default=DEFAULT_SMALL_REPEAT,
                    help="times to count GROBID strings outside the largest file (0: --grobid-repeat)")
    ap.add_argument("--recombine", type=int, default=DEFAULT_RECOMBINE,
                    help="of each GROBID string's copies, how many get the title and journal of other files' strings")
    ap.add_argument("--dev-fold", type=int, default=1,
                    help="with --dev: 2, 3, ... score on another set of train files instead (parser_train.swap_dev_fold)")
    ap.add_argument("--noisy", type=float, default=DEFAULT_NOISY, help="share of JATS strings made noisy")
    ap.add_argument("--restyle", type=float, default=DEFAULT_RESTYLE, help="share of JATS strings restyled")
    # Averaged perceptron: on GROBID dev as good as L-BFGS or better (docs/benchmarks.md) in a tenth of the time.
    ap.add_argument("--algorithm", choices=sorted(T.ALGORITHM_PARAMS), default="ap", help="crfsuite trainer")
    ap.add_argument("--dev", action="store_true", help="train on train only and report dev scores; write nothing")
    ap.add_argument("--save", action="store_true", help="with --dev: also write that model to --out")
    ap.add_argument("--params", default="{}", help='JSON of crfsuite parameters, e.g. \'{"c1": 0.1}\'')
    ap.add_argument("--out", type=Path, default=PACKAGED)
    args = ap.parse_args(argv)

    data = args.data or T.default_data_path()
    examples = T.load_examples(data)
    train, dev, test = T.split_examples(examples)
    if args.dev:
        train, dev = T.swap_dev_fold(train, dev, args.dev_fold)
    print(
        f"GROBID: {len(examples)} strings: train {len(train)}, dev {len(dev)}, test {len(test)} "
        f"({len({e.source_file for e in test})} held-out files, not used here)"
    )
    jats = args.jats or data.parent.parent / "pmc-oa" / "pmc-oa.tar.gz"
    jats_train: list[T.Example] = []
    jats_dev: list[T.Example] = []
    if args.jats_n:
        exclude = pdf_benchmark_articles(data.parent)
        jats_train = jats_training_strings(
            sample_tar_examples(jats, "train", args.jats_n, exclude=exclude), args.noisy, restyle=args.restyle
        )
        if args.dev:
            jats_dev = sample_tar_examples(jats, "dev", 4000, exclude=exclude)
        print(f"JATS ({jats.name}): {len(jats_train)} training strings sampled (article-disjoint from dev/test)")
    params = json.loads(args.params)
    if args.dev:
        with tempfile.TemporaryDirectory() as tmp:
            model = args.out if args.save else Path(tmp) / CRF_MODEL_NAME
            secs = T.train_model(weighted(train, args) + jats_train, model, params, args.algorithm)
            print(f"trained in {secs:.0f} s; model {model.stat().st_size / 1e6:.2f} MB")
            P.use_model(model)
            for name, part in (("GROBID dev", dev), ("JATS dev, printed", [e for e in jats_dev if e.source_file.endswith("#printed")]),
                               ("JATS dev, rendered", [e for e in jats_dev if e.source_file.endswith("#rendered")])):
                if part:
                    table, rps = T.evaluate(part)
                    print(f"\n{name} ({len(part)} strings, {rps:.0f} references/s)")
                    print(T.format_table(table))
            P.use_model(None)
        if args.save:
            print(f"wrote {model} (trained on train only: the dev figures above are this model's)")
        return 0
    secs = T.train_model(weighted(train + dev, args) + jats_train, args.out, params, args.algorithm)
    print(f"trained on {len(train) + len(dev)} GROBID (x{args.grobid_repeat}, other files than the largest "
          f"x{args.small_repeat or args.grobid_repeat}) + {len(jats_train)} JATS strings in "
          f"{secs:.0f} s; wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
