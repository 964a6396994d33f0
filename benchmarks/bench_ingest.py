"""Ingest throughput on one core: bare lxml parsing vs. each pipeline stage vs. the whole pipeline.

All measured in the same run over the same files (plos-starter + pmc-samples, read into memory first so
disk speed does not count). The full pipeline writes a fresh SQLite file (WAL, FTS5) per repetition.

    python benchmarks/bench_ingest.py [--data ../shared/data] [--repeat 3] [--classifier NAME]
"""

from __future__ import annotations

import os

# One core: keep BLAS/OpenMP pools (numpy in the classifier) from using the second.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from lxml import etree  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, write_section  # noqa: E402

from citelens.formats.jats import parse_jats  # noqa: E402
from citelens.pipeline import Pipeline, read_bytes_input  # noqa: E402
from citelens.stance import DEFAULT_CLASSIFIER, StancePrediction, classify_statements, get_classifier  # noqa: E402
from citelens.statements import build_statements  # noqa: E402
from citelens.store import open_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def best_and_median(fn, repeat: int) -> tuple[float, float]:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--classifier", default=None, help=f"default: {DEFAULT_CLASSIFIER}")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    ap.add_argument("--jobs", type=int, default=2, help="also time the full pipeline with this many workers")
    args = ap.parse_args(argv)
    files = sorted((args.data / "plos-starter").glob("*.xml")) + sorted((args.data / "pmc-samples").glob("*.nxml"))
    if not files:
        print(f"no articles under {args.data}", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    blobs = [(f.name, f.read_bytes()) for f in files]
    n = len(blobs)
    mb = sum(len(b) for _, b in blobs) / 1e6
    clf_name = args.classifier or DEFAULT_CLASSIFIER
    clf = get_classifier(clf_name)
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)

    def bare() -> None:
        for _, b in blobs:
            etree.fromstring(b, parser)

    def parse_only() -> None:
        for name, b in blobs:
            parse_jats(b, name)

    docs_holder: list = []

    def parse_link() -> None:
        docs_holder.clear()
        for name, b in blobs:
            docs_holder.append(build_statements(parse_jats(b, name)))

    def classify() -> None:
        for d in docs_holder:
            classify_statements(d, clf)

    sizes: list[tuple[int, int]] = []

    class NoClassifier:
        """Leaves statements unclassified: the pipeline's own cost without a model."""

        name = "none"

        def predict(self, inputs: list) -> list:  # noqa: ANN001
            return [StancePrediction("mentioning", 1.0) for _ in inputs]

    def run_full(classifier: object, jobs: int = 1) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            store = open_store(db)
            summary = Pipeline(store, classifier).ingest(  # type: ignore[arg-type]
                [read_bytes_input(name, b) for name, b in blobs], jobs=jobs)
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
            stats = store.stats()
            store.close()
            assert not summary.failed, summary.failed
            sizes.append((stats.database_bytes or 0, stats.statements))

    def full() -> None:
        run_full(clf)

    rows = []
    for label, fn in (("bare lxml parse", bare), ("parse (JATS → Document)", parse_only),
                      ("parse + segment + link", parse_link), (f"classify only ({clf_name})", classify),
                      ("full pipeline → SQLite, no classifier", lambda: run_full(NoClassifier())),
                      (f"full pipeline → SQLite ({clf_name})", full)):
        best, med = best_and_median(fn, args.repeat)
        rows.append((label, best, med))
    parallel = None
    if args.jobs > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        parallel = best_and_median(lambda: run_full(clf_name, args.jobs), args.repeat)
    statements = sum(len(d.statements) for d in docs_holder)
    bare_best = rows[0][1]
    full_best = rows[-1][1]
    db_bytes, db_statements = sizes[-1]
    lines = [
        "## Ingest throughput (one core)",
        "",
        f"`python benchmarks/bench_ingest.py` — {n} articles ({mb:.1f} MB of JATS, {statements:,} statements) from "
        f"plos-starter + pmc-samples, best of {args.repeat} (median in brackets); {machine()}.",
        "",
        "| stage | seconds | articles/s | statements/s |",
        "|---|---:|---:|---:|",
    ]
    for label, best, med in rows:
        lines.append(f"| {label} | {best:.3f} ({med:.3f}) | {n / best:,.0f} | {statements / best:,.0f} |")
    lines += [
        "",
        f"Full pipeline / bare parse: **{full_best / bare_best:.1f}×** the time (goal ≤ 3×); "
        f"**{n / full_best:,.0f} articles/s** end to end (goal ≥ 100).",
        *([f"With `--jobs {args.jobs}` (all {os.cpu_count()} CPUs, worker processes for parse/link/classify): "
           f"{parallel[0]:.3f} s = **{n / parallel[0]:,.0f} articles/s** wall clock, process start-up included."]
          if parallel else []),
        f"Database: {db_bytes / 1e6:.1f} MB for {db_statements:,} statements = **{db_bytes / max(1, db_statements):,.0f} "
        "bytes per statement** (SQLite file + WAL, all tables, indexes and the FTS5 index; references and works included).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("ingest", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
