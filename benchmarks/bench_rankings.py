"""Rankings and card citations at 1 M statements: CPU per call of the store functions behind /top, GET /api/works/top,
`citelens top` (``Store.top_works``) and the statement cards' superscript citations (``Store.callout_spans``).

One command (on the synthetic index benchmarks/bench_web.py builds, once)::

    .venv/bin/python benchmarks/bench_rankings.py [--db /tmp/citelens-bench-web/bench.db]
    .venv/bin/python benchmarks/bench_rankings.py --db 'postgresql://…?options=-csearch_path%3Dbench_web_1000000'

SQLite: CPU time of this process (SQLite runs in it), median and best of 5 (20 for callout_spans), so that the 2
shared cores' load does not decide the figures. PostgreSQL (a postgresql:// URL, e.g. the schema ``bench_web.py
--pg URL --build-only`` builds): the query runs in the server's processes, so this process's CPU plus the server's
(its postmaster and every child, parallel workers included, read from /proc: a server on this machine, with
nothing else running on it), and wall time beside it, which the load does move. The pages cache a ranking while the index is unchanged (``CITELENS_STATS_SECONDS``), so the first
request after a change pays it. Prints a table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from citelens.store import is_postgres_url, open_store


def cpu_ms(f: Callable[[], Any], n: int, clock: Callable[[], float] = time.process_time) -> tuple[float, float]:
    out = []
    for _ in range(n):
        t = clock()
        f()
        out.append((clock() - t) * 1000)
    return statistics.median(out), min(out)


def pg_server_cpu(url: str) -> Callable[[], float] | None:
    """CPU seconds used so far by the PostgreSQL server at ``url`` and its children (exited parallel workers
    included: the postmaster's cutime), or None when the server is not on this machine (or /proc says nothing)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    try:
        postmaster = int(Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()[1])
        Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text()
    except (OSError, ValueError, IndexError):
        return None
    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    def cpu() -> float:
        f = stat(postmaster)
        total = sum(int(x) for x in f[11:15])  # its own user and system time, and its reaped children's
        for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
            with contextlib.suppress(OSError):  # exited meanwhile: counted in cutime from now on
                total += sum(int(x) for x in stat(int(child))[11:13])
        return total / tick

    return cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/citelens-bench-web/bench.db",
                    help="a SQLite file or a postgresql:// URL")
    args = ap.parse_args()
    pg = is_postgres_url(args.db)
    if not pg and not Path(args.db).exists():
        raise SystemExit(f"{args.db}: no index (run benchmarks/bench_web.py first)")
    store = open_store(args.db, readonly=True)
    clocks: list[tuple[str, Callable[[], float]]] = [("ms CPU", time.process_time)]
    if pg:
        # PostgreSQL answers in its own processes: this process's CPU alone would leave the query out.
        server = pg_server_cpu(args.db)
        clocks = ([("ms CPU (this process + the server)", lambda: time.process_time() + server())] if server
                  else []) + [("ms wall", time.perf_counter)]
    stats = store.stats()
    print(f"{args.db}: {stats.statements:,} statements, {stats.works:,} works\n")
    print("| call | " + " | ".join(f"median {unit} | best" for unit, _ in clocks) + " |")
    print("|---|" + "---|---|" * len(clocks))

    def row(label: str, f: Callable[[], Any], n: int, fmt: str) -> None:
        cells = []
        for _unit, clock in clocks:
            med, lo = cpu_ms(f, n, clock)
            cells.append(f"{med:{fmt}} | {lo:{fmt}}")
        print(f"| {label} | " + " | ".join(cells) + " |")

    for by in ("cited", "supporting", "contrasting"):
        for t in (None, 0.65):
            row(f"top_works(by={by}, min_confidence={t}), first page of 20",
                lambda by=by, t=t: store.top_works(by, limit=20, min_confidence=t), 5, ".0f")
    busiest = store.top_works("cited", limit=1)[1][0][0]
    ids = [s.id for s in store.citations(busiest, limit=20)[1]]
    row(f"callout_spans, a 20-card page of the most cited work ({busiest})",
        lambda: store.callout_spans(ids), 20, ".1f")


if __name__ == "__main__":
    main()
