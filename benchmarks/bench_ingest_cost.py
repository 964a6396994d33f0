"""What one more article costs to index with default settings: `citelens ingest` of the PLOS starter set minus a
one-article run (start-up, model loading and the first article), divided by the other articles.

    .venv/bin/python benchmarks/bench_ingest_cost.py [--classifier NAME ...] [--write]

Each classifier is measured with the CLI as a user runs it (a fresh SQLite file, default `--jobs`), wall clock,
best of ``--repeat`` runs for the one-article, the 16-article and the whole-set run. The goal's figure counts
from the one-article run; the 16-article run (the smallest that starts the workers) gives the cost of one more
article once everything has started. ``--write`` puts the table in
docs/benchmarks.md (section "ingest-cost").
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import machine, write_section  # noqa: E402
from citelens.pipeline import AUTO_MIN_INPUTS  # noqa: E402

CLI = [sys.executable, "-c", "from citelens.cli import run; run()"]  # what the `citelens` command runs


def run(paths: list[str], classifier: str | None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the command and every process it started) of one ingest."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [*CLI, "ingest", *paths, "--db", str(Path(tmp) / "i.db"), "--quiet"]
        if classifier:
            cmd += ["--classifier", classifier]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # CPU is sampled for the command and every process under it, not read from RUSAGE_CHILDREN: the workers
        # are forked by multiprocessing's fork server, which the command never waits for, so their CPU never
        # reaches RUSAGE_CHILDREN. Times every 20 ms (the last ≤ 20 ms of each process is missed), the list of
        # processes every 0.5 s (listing them costs ~1 ms; they live for the whole run).
        cpu: dict[int, float] = {}
        top = psutil.Process(proc.pid)
        procs: list[psutil.Process] = [top]
        listed = 0.0
        while proc.poll() is None:
            if time.perf_counter() - listed > 0.5:
                with contextlib.suppress(psutil.Error):
                    procs = [top, *top.children(recursive=True)]
                listed = time.perf_counter()
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    t = p.cpu_times()
                    cpu[p.pid] = t.user + t.system
            time.sleep(0.02)
        _stdout, stderr = proc.communicate()
        wall = time.perf_counter() - t0
        if proc.returncode not in (0, 1):  # 1: some inputs failed, the rest stored (still a valid timing)
            raise SystemExit(f"ingest failed ({proc.returncode}): {stderr.strip()[-500:]}")
        return wall, sum(cpu.values())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "plos-starter")
    ap.add_argument("--classifier", action="append", default=None,
                    help="classifier names (default: the installed default, then minilm-v2)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    files = sorted(str(p) for p in args.data.glob("*.xml"))
    if not files:
        print(f"no articles in {args.data}")
        return 2
    names = args.classifier or ["", "minilm-v2"]
    rows = []
    for name in names:
        # The first AUTO_MIN_INPUTS articles: the smallest run that starts the worker processes, so the difference
        # to the whole set is what an article costs once everything has started (a large ingest's figure).
        # The three runs take turns, so that the machine's drift over the minutes (±10 % seen) meets all three.
        runs: dict[str, list[tuple[float, float]]] = {"one": [], "started": [], "every": []}
        for _ in range(args.repeat):
            runs["one"].append(run(files[:1], name or None))
            runs["started"].append(run(files[:AUTO_MIN_INPUTS], name or None))
            runs["every"].append(run([str(args.data)], name or None))
        one, started, every = (min(runs[k], key=lambda r: r[0]) for k in ("one", "started", "every"))
        per = (every[0] - one[0]) / (len(files) - 1) * 1000
        cpu = (every[1] - one[1]) / (len(files) - 1) * 1000
        steady = (every[0] - started[0]) / (len(files) - AUTO_MIN_INPUTS) * 1000
        label = name or "default"
        rows.append(f"| {label} | {one[0]:.1f} | {every[0]:.1f} | {len(files)} | **{per:.0f}** | {cpu:.0f} "
                    f"| {steady:.0f} |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "## Ingest cost per article (stance model included)",
        "",
        f"`python benchmarks/bench_ingest_cost.py --write` on {machine()}: `citelens ingest` of "
        "`../shared/data/plos-starter` with default settings, minus a one-article run, per further article "
        f"(best of {args.repeat}). Wall clock is what the goal counts; CPU is that of the command and every "
        f"process under it (`--jobs auto` starts one worker per core for {AUTO_MIN_INPUTS} or more inputs), sampled "
        f"every 20 ms, per further article. The last column counts from a {AUTO_MIN_INPUTS}-article run instead, "
        "which has started the "
        "workers and loaded everything: what one more article costs in a large ingest.",
        "",
        "| classifier | one article (s) | whole set (s) | articles | ms per further article (wall) "
        f"| CPU ms per further article | ms per article beyond a {AUTO_MIN_INPUTS}-article run (wall) |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])
    print(text)
    if args.write:
        print(f"wrote {write_section('ingest-cost', text)}")
    return 0


if __name__ == "__main__":
    if shutil.which("citelens") is None and not (ROOT / ".venv").exists():
        print("install the package first (make install)")
    sys.exit(main())
