"""Crash safety and concurrency: kill -9 an ingest at random points; two ingests and readers on one file.

    .venv/bin/python benchmarks/bench_crash.py                      # 20 trials on the PLOS starter set
    .venv/bin/python benchmarks/bench_crash.py --trials 60 --synthetic 200

Inputs: ../shared/data/plos-starter when present (real articles), else a synthetic JATS corpus. Results go
into docs/benchmarks.md (section "crash"). Loopback/local only; bounded by --trials.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import machine, write_section  # noqa: E402
from benchmarks.crash_harness import kill_trials, make_corpus, writers_and_readers  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "plos-starter"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--synthetic", type=int, default=0, help="use N synthetic articles instead of the PLOS set")
    ap.add_argument("--classifier", default="cues", help="stance classifier for the ingests (default: cues, fast)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="citelens-crash-"))
    try:
        if args.synthetic or not SHARED.is_dir():
            corpus = work / "corpus"
            make_corpus(corpus, args.synthetic or 100)
            what = f"{args.synthetic or 100} synthetic JATS articles (benchmarks/crash_harness.py)"
        else:
            corpus = SHARED
            what = f"../shared/data/plos-starter ({sum(1 for _ in SHARED.rglob('*.xml'))} files)"
        t0 = time.perf_counter()
        clean_s, trials = kill_trials([corpus], work / "kill", args.trials, seed=args.seed,
                                      classifier=args.classifier)
        kill_s = time.perf_counter() - t0
        bad = [t for t in trials if not t.ok]
        for t in trials:
            print(f"kill at {t.kill_point:<32} stored at kill {t.documents_at_kill:>4}  "
                  f"{'ok: ' + t.recovery_equals if t.ok else 'FAIL ' + '; '.join(t.problems + t.recovery_diff)}")

        # Two writers (the corpus split in halves, each its own `citelens ingest`) and readers together.
        files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".xml", ".nxml"))
        half = len(files) // 2
        t0 = time.perf_counter()
        run = writers_and_readers([files[:half], files[half:]], work / "both.db", readers=2,
                                  classifier=args.classifier)
        conc_s = time.perf_counter() - t0
        print(run)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = "\n".join(f"| {i + 1} | {t.kill_point} | {t.documents_at_kill} | "
                     f"{'no problem; recovery = ' + t.recovery_equals if t.ok else '; '.join(t.problems + t.recovery_diff)} |"
                     for i, t in enumerate(trials))
    same_as_clean = sum(1 for t in trials if t.recovery_equals == "clean ingest")
    same_as_again = sum(1 for t in trials if t.recovery_equals == "clean ingest + full re-ingest")
    failed_files = sum(len(f) for f in run.writer_failed)
    md = f"""## Crash safety and concurrency (`benchmarks/bench_crash.py`)

Command: `.venv/bin/python benchmarks/bench_crash.py --trials {args.trials}{' --synthetic ' + str(args.synthetic) if args.synthetic else ''}`
({machine()}; shared machine, other jobs running). Inputs: {what}; classifier `{args.classifier}`.

**kill -9**: {len(trials)} trials, each a real `citelens ingest` process killed with SIGKILL at a random
point (mostly "after k documents are stored + 0–40 ms" for a random k, one in five during start-up), then
checked — `PRAGMA integrity_check`, `foreign_key_check`, the FTS5 integrity check, no half-stored
document (statement and reference counts match the document row), no duplicate — then the same inputs
ingested again and compared, statement by statement (by content, not row id), with one clean ingest
(clean ingest {clean_s:.1f} s; all trials {kill_s:.0f} s).
**Result: {len(trials) - len(bad)} of {len(trials)} trials without a problem — {sum(1 for t in trials if not t.problems)} with nothing lost,
duplicated or half-stored; after recovery the index equals a clean ingest in {same_as_clean} and equals a clean ingest
followed by a full re-ingest in {same_as_again}.** The second case is not caused by the kill: on the PLOS set a
full re-ingest of an intact index re-resolves one reference of 11,672 statements to a different (similar) work,
because fuzzy resolution sees the works the first pass created — an order dependence in resolution, noted
for whoever owns it.

| trial | killed at | documents stored at kill | result |
|---|---|---|---|
{rows}

**Two writers and readers on one file**: the inputs split in two halves, each ingested by its own
`citelens ingest` at the same time, while 2 reader threads (read-only stores: statement search, paper
search, stats) and a `citelens stats` loop read the file ({conc_s:.1f} s): writer exit codes
{run.writer_exit}, {failed_files} files failed, {run.documents} documents stored;
{run.reads:,} store reads (slowest {run.max_read_s * 1000:.0f} ms) and {run.cli_reads} `citelens stats`
runs (slowest {run.max_cli_read_s:.1f} s, process start-up included), {len(run.read_errors)} read errors.
Before the read-only opens and `BEGIN IMMEDIATE`, the second writer lost 20 of 119 files ("database is
locked") and readers failed after 5 s.
"""
    if not args.no_write:
        print(f"wrote {write_section('crash', md)}")
    else:
        print(md)


if __name__ == "__main__":
    main()
