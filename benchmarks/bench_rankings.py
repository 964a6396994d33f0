"""Rankings and card citations at 1 M statements: CPU per call of the store functions behind /top, GET /api/works/top,
`citelens top` (``Store.top_works``) and the statement cards' superscript citations (``Store.callout_spans``).

One command (on the synthetic index benchmarks/bench_web.py builds, once)::

    .venv/bin/python benchmarks/bench_rankings.py [--db /tmp/citelens-bench-web/bench.db]

CPU time of this process (SQLite runs in it), median and best of 5 (20 for callout_spans), so that the 2 shared
cores' load does not decide the figures; the pages cache a ranking while the index is unchanged
(``CITELENS_STATS_SECONDS``), so the first request after a change pays it. Prints a table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from citelens.store import open_store


def cpu_ms(f: Callable[[], Any], n: int) -> tuple[float, float]:
    out = []
    for _ in range(n):
        t = time.process_time()
        f()
        out.append((time.process_time() - t) * 1000)
    return statistics.median(out), min(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/citelens-bench-web/bench.db"))
    args = ap.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db}: no index (run benchmarks/bench_web.py first)")
    store = open_store(str(args.db), readonly=True)
    stats = store.stats()
    print(f"{args.db}: {stats.statements:,} statements, {stats.works:,} works\n")
    print("| call | median ms CPU | best |\n|---|---|---|")
    for by in ("cited", "supporting", "contrasting"):
        for t in (None, 0.65):
            med, lo = cpu_ms(lambda by=by, t=t: store.top_works(by, limit=20, min_confidence=t), 5)
            print(f"| top_works(by={by}, min_confidence={t}), first page of 20 | {med:.0f} | {lo:.0f} |")
    busiest = store.top_works("cited", limit=1)[1][0][0]
    ids = [s.id for s in store.citations(busiest, limit=20)[1]]
    med, lo = cpu_ms(lambda: store.callout_spans(ids), 20)
    print(f"| callout_spans, a 20-card page of the most cited work ({busiest}) | {med:.1f} | {lo:.1f} |")


if __name__ == "__main__":
    main()
