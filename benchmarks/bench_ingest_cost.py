"""What one more article costs to index with default settings: `citelens ingest` of the PLOS starter set minus a
one-article run (start-up, model loading and the first article), divided by the other articles.

    .venv/bin/python benchmarks/bench_ingest_cost.py [--classifier NAME ...] [--write]

Each classifier is measured with the CLI as a user runs it (a fresh SQLite file, default `--jobs`), wall clock,
best of ``--repeat`` runs for both the one-article and the whole-set run. ``--write`` puts the table in
docs/benchmarks.md (section "ingest-cost").
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import machine, write_section  # noqa: E402

CLI = [sys.executable, "-c", "from citelens.cli import main; main()"]


def run(paths: list[str], classifier: str | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [*CLI, "ingest", *paths, "--db", str(Path(tmp) / "i.db"), "--quiet"]
        if classifier:
            cmd += ["--classifier", classifier]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True)
        return time.perf_counter() - t0


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
        one = min(run(files[:1], name or None) for _ in range(args.repeat))
        every = min(run([str(args.data)], name or None) for _ in range(args.repeat))
        per = (every - one) / (len(files) - 1) * 1000
        label = name or "default"
        rows.append(f"| {label} | {one:.1f} | {every:.1f} | {len(files)} | **{per:.0f}** |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "## Ingest cost per article (stance model included)",
        "",
        f"`python benchmarks/bench_ingest_cost.py --write` on {machine()}: `citelens ingest` of "
        "`../shared/data/plos-starter` with default settings, minus a one-article run, per further article "
        f"(best of {args.repeat}).",
        "",
        "| classifier | one article (s) | whole set (s) | articles | ms per further article |",
        "|---|---|---|---|---|",
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
