"""Knowledge-flows benchmark: the /flows page and GET /api/flows on a 1 M-statement index.

One command::

    .venv/bin/python benchmarks/bench_flows.py      # copies bench_web's index to /tmp/citelens-bench-flows once

1. Copies bench_web's synthetic index (building it first when missing: ``bench_web.build_index``), gives it
   bench_web's authors and institutions for 20,000 cited works (``bench_web.add_people``), regions for those
   institutions, and 1–3 located authors for every citing document (``add_citing_places``), so most
   statements are ties between located works. The copy keeps bench_web's own index untouched.
2. Times the analysis in-process, cold, as ``citelens flows --by LEVEL`` pays it (``analyse_flows`` on a
   fresh store: the whole-index scan, then the report), once per level: wall and CPU seconds (the machine is
   shared; CPU seconds do not depend on what the others run).
3. Serves the copy (``citelens serve``, default settings), requests each distinct page once, one at a time
   (the first pays the scan and its report; the others reuse the scan, as the server does while the index is
   unchanged), then loads /flows and /api/flows with bench_web's load generator (8 keep-alive connections).
4. Writes a table to docs/benchmarks.md (section "flows").

Goal (issue 10): every page p99 < 200 ms on a 1 M-statement index.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from benchmarks import bench_web  # noqa: E402

COUNTRIES = ("US", "CN", "GB", "DE", "JP", "FR", "IN", "BR", "ES", "IT")  # as bench_web.add_people


def add_citing_places(path: Path, seed: int = 23) -> dict[str, int]:
    """Once: regions for bench_web's institutions and 1–3 authors at those institutions for each citing
    document (places follow the same scheme: institution i is in City{i % 97}, Region{i % 13}, country
    COUNTRIES[i % 10])."""
    conn = sqlite3.connect(path)
    if conn.execute("SELECT COUNT(*) FROM document_authors WHERE region <> ''").fetchone()[0]:
        conn.close()
        return {}
    rng = random.Random(seed)
    n_insts = 2_000
    with conn:
        conn.execute("UPDATE document_authors SET region = 'Region' || (CAST(substr(ror, 7) AS INTEGER) % 13)"
                     " WHERE ror LIKE '0bench%'")
        citing = [r[0] for r in conn.execute("SELECT id FROM documents WHERE id NOT IN"
                                             " (SELECT DISTINCT document_id FROM document_authors)")]
        rows = []
        for d in citing:
            for pos in range(1, rng.randint(1, 3) + 1):
                inst = 1 + int(n_insts * rng.random() ** 2)
                rows.append((d, pos, f"Citer{d}", "C.", f"citer{d} c", f"Institute {inst}, City", f"Institute {inst}",
                             f"0bench{inst:04d}", f"City{inst % 97}", f"Region{inst % 13}", COUNTRIES[inst % 10]))
        conn.executemany(
            "INSERT OR IGNORE INTO document_authors (document_id, position, family, given, name_key, affiliation,"
            " institution, ror, city, region, country) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("ANALYZE")
    conn.close()
    return {"citing_documents": len(citing), "author_positions": len(rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="/tmp/citelens-bench-web/bench.db", help="bench_web's index")
    ap.add_argument("--db", default="/tmp/citelens-bench-flows/bench.db")
    ap.add_argument("--statements", type=int, default=1_000_000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    src, db = Path(a.source), Path(a.db)
    if not db.exists():
        if not src.exists():
            print(f"building {src} ({a.statements:,} statements) …", flush=True)
            bench_web.build_index(src, a.statements)
        db.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(src) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy(src, db)
    from citelens.store import open_store

    open_store(db).close()  # migrations (work_places) on the copy
    print("people:", bench_web.add_people(db), "citing places:", add_citing_places(db), flush=True)
    with sqlite3.connect(db) as c:
        n_statements = c.execute("SELECT COUNT(*) FROM statements").fetchone()[0]
    load = os.getloadavg()

    scenarios = {
        "/flows page (by institution)": ["/flows?by=institution"] * 50,
        "/flows page (mixed: by region, by country, supporting only by region)": [
            "/flows?by=region", "/flows?by=country", "/flows?by=region&type=supporting"],
        "GET /api/flows (by country)": ["/api/flows?by=country"] * 50,
    }
    from citelens.flows.analysis import analyse_flows

    in_process = []
    for level in ("institution", "city", "region", "country"):
        store = open_store(db)
        wall, cpu = time.perf_counter(), time.process_time()
        analyse_flows(store, by=level).to_dict(top=50)
        in_process.append((level, time.perf_counter() - wall, time.process_time() - cpu))
        store.close()
        print(f"cold analyse_flows(by={level}): {in_process[-1][1]:.1f} s wall, {in_process[-1][2]:.1f} s CPU",
              flush=True)
    rows = []
    cold: list[tuple[str, float, float]] = []
    port = bench_web._free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with bench_web.serving(db, port, env) as server:
        # Each distinct request once, one at a time: the cold analysis as a client sees it (then cached).
        for path in dict.fromkeys(p for paths in scenarios.values() for p in paths):
            t, cpu = time.perf_counter(), bench_web.process_cpu_seconds(server.pid)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=600) as resp:
                resp.read()
            cold.append((path, time.perf_counter() - t, bench_web.process_cpu_seconds(server.pid) - cpu))
            print(f"cold {path}: {cold[-1][1]:.2f} s, server CPU {cold[-1][2]:.2f} s", flush=True)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/flows?by=institution&top=1", timeout=600) as resp:
            summary = json.loads(resp.read())
        for name, paths in scenarios.items():
            # With the server's pid it adds the server's CPU per measured request (warm-up not counted).
            res = bench_web._run_scenario(db.parent, port, paths, a, server.pid)
            print(f"{name}: {res}", flush=True)
            rows.append((name, res))
    from benchmarks._report import machine, write_section

    lines = [
        "## Knowledge flows: /flows page and API",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_flows.py` ({machine()}).",
        "",
        f"bench_web's synthetic index ({n_statements:,} statements) with located authors for the citing documents"
        f" and 20,000 cited works: {summary['n_statements']:,} tie statements in {summary['n_pairs']:,} citing–cited"
        f" pairs, {summary['located_works']['full_text']:,} located works; localisation ratio by institution"
        f" {summary['localisation']['ratio']:.2f} ({summary['localisation']['ci_low']:.2f}–"
        f"{summary['localisation']['ci_high']:.2f}). The analysis reads the whole index once (a scan shared by"
        " every unit and filter) and counts with numpy. Cold, in-process, a fresh scan each time (what `citelens"
        " flows --by LEVEL` pays; 1,000 bootstrap replicates): "
        + "; ".join(f"by {lv} **{w:.1f} s** ({c:.1f} s CPU)" for lv, w, c in in_process)
        + ". Served, one request at a time after the server started (the first pays the scan; the others reuse"
        " it): " + "; ".join(f"`{p}` took **{t:.2f} s** ({c:.2f} s server CPU)" for p, t, c in cold)
        + " (an API request with the same parameters as a page reuses its result). The server keeps the scan and"
        " each result while the index is unchanged (and at least `CITELENS_STATS_SECONDS` during ingests), so the"
        " scenarios below measure the served, cached page and API. Load: 8 keep-alive connections, up to"
        f" {a.requests:,} requests or {a.seconds:.0f} s per scenario. 1-minute load average {load[0]:.1f} at the"
        f" start, {os.getloadavg()[0]:.1f} at the end (2 CPUs, shared).",
        "",
        "| scenario | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | server CPU ms/request |"
        " goal (p99 < 200 ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in rows:
        lines.append(f"| {name} | {r['requests']} | {r['errors']} | {r['rps']} | {r['p50_ms']} | {r['p90_ms']} |"
                     f" {r['p99_ms']} | {r['max_ms']} | {r.get('server_cpu_ms', '')} | {'met' if r['p99_ms'] < 200 else 'NOT met'} |")
    md = "\n".join(lines)
    print(md)
    if not a.no_write:
        print(f"wrote {write_section('flows', md)}")


if __name__ == "__main__":
    main()
