"""Soak and load: many concurrent clients against ``citelens serve --workers 2`` while an ingest writes to the
same index; error rate, latency percentiles, open files and memory per time bucket.

The full run (issue 14's goal: error rate 0, p99 < 500 ms for tallies and report pages, open files and RSS
flat within ±10 % from the first to the last minute):

    .venv/bin/python benchmarks/bench_soak.py --statements 1000000 --clients 100 --minutes 10

A short run (what fits on a shared machine):

    .venv/bin/python benchmarks/bench_soak.py --statements 100000 --clients 100 --minutes 2 --bucket-seconds 30

Loopback only; the server binds 127.0.0.1. Everything is bounded by --minutes. The load generator runs in
its own process (asyncio, one keep-alive connection per client); the ingest beside it re-ingests a
synthetic JATS corpus in a loop (``citelens ingest``, classifier ``cues``) into the served file.
Results go into docs/benchmarks.md (section "soak").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import machine, write_section  # noqa: E402
from benchmarks.bench_web import _wait_port, build_index, stop_server  # noqa: E402
from benchmarks.crash_harness import CITELENS, make_corpus  # noqa: E402

KINDS = ("tallies", "report")


# ------------------------------------------------------------------------------------- load generator

async def _client(port: int, paths: list[tuple[str, str]], t0: float, deadline: float,
                  out: list[tuple[float, str, float, int]], rng: random.Random) -> None:
    """One keep-alive connection issuing requests back to back; reconnects after an error."""
    reader = writer = None
    while time.perf_counter() < deadline:
        kind, path = rng.choice(paths)
        start = time.perf_counter()
        status = 0
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n\r\n".encode())
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), timeout=30)
            status = int(line.split(b" ")[1]) if line else 0
            length = 0
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                if k.lower() == "content-length":
                    length = int(v.strip())
            await reader.readexactly(length)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            status = 0  # connection-level failure: counted as an error
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)
        out.append((start - t0, kind, time.perf_counter() - start, status))
    if writer is not None:
        writer.close()


def loadgen_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int)
    p.add_argument("--paths-file")
    p.add_argument("--clients", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--out")
    a = p.parse_args(argv)
    paths = [tuple(x) for x in json.loads(Path(a.paths_file).read_text())]
    out: list[tuple[float, str, float, int]] = []

    async def run() -> None:
        t0 = time.perf_counter()
        await asyncio.gather(*(_client(a.port, paths, t0, t0 + a.seconds, out, random.Random(i))  # type: ignore[arg-type]
                               for i in range(a.clients)))

    asyncio.run(run())
    Path(a.out).write_text(json.dumps(out))


# ----------------------------------------------------------------------------------------------- driver

def _free_port(preferred: int) -> int:
    for port in [preferred, *range(18200, 18300)]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit("no free port in 18200-18299")


def _tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's worker processes)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            children = []
        todo += [int(c) for c in children]
    return out


def _sample(pid: int) -> tuple[int, int]:
    """(open file descriptors, resident memory in kB) summed over the server's processes."""
    fds = rss = 0
    for p in _tree(pid):
        try:
            fds += len(os.listdir(f"/proc/{p}/fd"))
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return fds, rss


def scenario(db: Path, n: int = 600, seed: int = 5) -> list[tuple[str, str]]:
    """Tallies API and report pages of existing works: 20 % the 20 most cited, the rest at random."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    n_docs = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    hot = [r[0] for r in conn.execute("SELECT doi FROM works WHERE id BETWEEN ? AND ? ORDER BY id",
                                      (n_docs + 1, n_docs + 20))]
    # Cited works of the synthetic index only (an earlier soak's ingest adds other works to the file).
    cited = [r[0] for r in conn.execute("SELECT doi FROM works WHERE id > ? AND doi LIKE '10.5555/bench.%'",
                                        (n_docs,))]
    conn.close()
    rng = random.Random(seed)
    dois = [rng.choice(hot) if rng.random() < 0.2 else rng.choice(cited) for _ in range(n)]
    return [("tallies", f"/api/tallies/{d}") if i % 2 else ("report", f"/reports/{d}") for i, d in enumerate(dois)]


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return 1000 * xs[min(len(xs) - 1, int(q * len(xs)))]


def _ensure_index(db: Path, statements: int, rebuild: bool = False) -> None:
    marker = db.with_suffix(".statements")
    if rebuild or not db.exists() or not marker.exists() or marker.read_text() != str(statements):
        t = time.perf_counter()
        sizes = build_index(db, statements)
        marker.write_text(str(statements))
        print(f"built {db}: {sizes} in {time.perf_counter() - t:.0f} s", flush=True)


def _start_server(db: Path, port: int, workers: int, nofile: int = 0) -> subprocess.Popen:
    def limit() -> None:
        if nofile:
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    server = subprocess.Popen([*CITELENS, "serve", "--db", str(db), "--port", str(port), "--host", "127.0.0.1",
                               "--workers", str(workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=limit)
    _wait_port(port, server, timeout=90)
    return server


def bursts_main(a: argparse.Namespace) -> None:
    """Bursts of load with idle gaps: open files and RSS after each burst, errors per burst."""
    db = Path(a.db)
    _ensure_index(db, a.statements, a.rebuild)
    work = db.parent
    (work / "soak-paths.json").write_text(json.dumps(scenario(db)))
    port = _free_port(a.port)
    server = _start_server(db, port, a.workers, a.nofile)
    rows = []
    try:
        for b in range(a.bursts):
            out = work / f"burst-{b}.json"
            subprocess.run([sys.executable, __file__, "--loadgen", "--port", str(port), "--paths-file",
                            str(work / "soak-paths.json"), "--clients", str(a.clients), "--seconds",
                            str(a.burst_seconds), "--out", str(out)], check=True)
            res = json.loads(out.read_text())
            fds, rss = _sample(server.pid)
            statuses: dict[int, int] = {}
            for r in res:
                if r[3] != 200:
                    statuses[r[3]] = statuses.get(r[3], 0) + 1
            rows.append({"burst": b + 1, "requests": len(res), "errors": sum(statuses.values()),
                         "statuses": statuses, "fds": fds, "rss_mb": round(rss / 1024)})
            print(rows[-1], flush=True)
            if b < a.bursts - 1:
                time.sleep(a.idle_seconds)
        fds, rss = _sample(server.pid)
    finally:
        stop_server(server, timeout=20)
    total = sum(r["requests"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    table = "\n".join(f"| {r['burst']} | {r['requests']:,} | {r['errors']} {json.dumps(r['statuses']) if r['errors'] else ''}"
                      f" | {r['fds']} | {r['rss_mb']} |" for r in rows)
    cmd = (f".venv/bin/python benchmarks/bench_soak.py --bursts {a.bursts} --burst-seconds {a.burst_seconds:g}"
           f" --idle-seconds {a.idle_seconds:g} --clients {a.clients} --statements {a.statements}"
           + (f" --nofile {a.nofile}" if a.nofile else ""))
    md = f"""### Bursts with idle gaps (connection lifecycle)

{a.note or ""}

Command: `{cmd}` ({machine()}). `citelens serve --workers {a.workers}`{f' with `ulimit -n {a.nofile}`' if a.nofile else ''};
{a.bursts} bursts of {a.clients} clients for {a.burst_seconds:g} s, {a.idle_seconds:g} s of quiet between them
(long enough for the thread pool to retire idle threads). Open files and RSS of the server processes after
each burst. Issue 14 measured, before the fix (each thread's connection kept until shutdown), open files
43 → 188 and RSS 140 → 330 MB over four bursts (its load pattern may differ from this one), and with
`ulimit -n 256` 22.7 % of requests failing from the second burst on.

**{total:,} requests, {errors} errors.**

| burst | requests | errors | open files after | RSS MB after |
|---|---|---|---|---|
{table}
"""
    if not a.no_write:
        print(f"wrote {write_section('soak-bursts', md)}")
    else:
        print(md)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--loadgen":
        loadgen_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/citelens-bench-soak/soak.db")
    ap.add_argument("--statements", type=int, default=1_000_000)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--bucket-seconds", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=18210)
    ap.add_argument("--no-ingest", action="store_true", help="load only, no ingest beside it")
    ap.add_argument("--note", default="", help="a line for the report (e.g. what else ran on the machine)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--bursts", type=int, default=0,
                    help="instead of a soak: N bursts of --burst-seconds load separated by --idle-seconds of"
                         " quiet (the thread pool retires idle threads; their connections must close)")
    ap.add_argument("--burst-seconds", type=float, default=10.0)
    ap.add_argument("--idle-seconds", type=float, default=15.0)
    ap.add_argument("--nofile", type=int, default=0, help="the server's open-file limit (ulimit -n), e.g. 256")
    a = ap.parse_args()
    if a.bursts:
        bursts_main(a)
        return

    db = Path(a.db)
    _ensure_index(db, a.statements, a.rebuild)
    paths = scenario(db)
    work = db.parent
    (work / "soak-paths.json").write_text(json.dumps(paths))
    corpus = work / "soak-corpus"
    if not corpus.is_dir():
        make_corpus(corpus, 150, seed=99)
    seconds = a.minutes * 60
    port = _free_port(a.port)

    server = _start_server(db, port, a.workers, a.nofile)
    ingests = 0
    ingest_failed_files = 0
    ingest_exit: list[int] = []
    samples: list[tuple[float, int, int]] = []
    try:
        # Warm-up: connections opened, pages cached (not measured).
        subprocess.run([sys.executable, __file__, "--loadgen", "--port", str(port), "--paths-file",
                        str(work / "soak-paths.json"), "--clients", "20", "--seconds", "10", "--out",
                        str(work / "warmup.json")], check=True)
        t0 = time.monotonic()
        load = subprocess.Popen([sys.executable, __file__, "--loadgen", "--port", str(port), "--paths-file",
                                 str(work / "soak-paths.json"), "--clients", str(a.clients), "--seconds",
                                 str(seconds), "--out", str(work / "soak-results.json")])
        ingest: subprocess.Popen | None = None
        while load.poll() is None:
            now = time.monotonic() - t0
            if not a.no_ingest and (ingest is None or ingest.poll() is not None) and now < seconds - 5:
                if ingest is not None:
                    ingest_exit.append(ingest.returncode)
                    with contextlib.suppress(json.JSONDecodeError):
                        ingest_failed_files += len(json.loads(ingest.stdout.read() or "{}").get("failed", []))  # type: ignore[union-attr]
                ingest = subprocess.Popen([*CITELENS, "ingest", str(corpus), "--db", str(db), "--classifier",
                                           "cues", "-q", "--json"], stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, text=True)
                ingests += 1
            fds, rss = _sample(server.pid)
            samples.append((now, fds, rss))
            time.sleep(2.0)
        if ingest is not None:
            ingest.wait()
            ingest_exit.append(ingest.returncode)
    finally:
        stop_server(server, timeout=20)

    results = json.loads((work / "soak-results.json").read_text())
    buckets: list[dict[str, Any]] = []
    n_buckets = max(1, int(round(seconds / a.bucket_seconds)))
    for b in range(n_buckets):
        lo, hi = b * a.bucket_seconds, (b + 1) * a.bucket_seconds
        rows = [r for r in results if lo <= r[0] < hi]
        snap = [s for s in samples if lo <= s[0] < hi]
        row: dict[str, Any] = {"bucket": b + 1, "requests": len(rows),
                               "errors": sum(1 for r in rows if r[3] != 200),
                               "rps": round(len(rows) / a.bucket_seconds, 1),
                               "fds": snap[-1][1] if snap else None,
                               "rss_mb": round(snap[-1][2] / 1024) if snap else None}
        for kind in KINDS:
            lat = [r[2] for r in rows if r[1] == kind and r[3] == 200]
            row[f"{kind}_p50"] = round(_pct(lat, 0.5))
            row[f"{kind}_p99"] = round(_pct(lat, 0.99))
        buckets.append(row)
    total = len(results)
    errors = sum(1 for r in results if r[3] != 200)
    statuses: dict[str, int] = {}
    for r in results:
        if r[3] != 200:
            statuses[str(r[3])] = statuses.get(str(r[3]), 0) + 1
    overall = {kind: (round(_pct([r[2] for r in results if r[1] == kind and r[3] == 200], 0.5)),
                      round(_pct([r[2] for r in results if r[1] == kind and r[3] == 200], 0.99)))
               for kind in KINDS}
    first, last = buckets[0], buckets[-1]

    def drift(key: str) -> str:
        if not first[key] or last[key] is None:
            return "n/a"
        return f"{100 * (last[key] - first[key]) / first[key]:+.1f} %"

    print(json.dumps({"buckets": buckets, "total": total, "errors": errors, "statuses": statuses,
                      "overall": overall, "ingests": ingests, "ingest_exit": ingest_exit}, indent=1))
    try:
        load_avg = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load_avg = "?"
    unit = "minute" if a.bucket_seconds == 60 else f"{a.bucket_seconds:.0f} s"
    table = "\n".join(
        f"| {b['bucket']} | {b['requests']:,} | {b['errors']} | {b['rps']} | {b['tallies_p50']} / {b['tallies_p99']}"
        f" | {b['report_p50']} / {b['report_p99']} | {b['fds']} | {b['rss_mb']} |" for b in buckets)
    cmd = (f".venv/bin/python benchmarks/bench_soak.py --statements {a.statements} --clients {a.clients}"
           f" --minutes {a.minutes:g} --bucket-seconds {a.bucket_seconds:g}" + (" --no-ingest" if a.no_ingest else ""))
    md = f"""## Soak and load (`benchmarks/bench_soak.py`)

{a.note or ""}

Command: `{cmd}` ({machine()}; load average at the end {load_avg}).
Server: `citelens serve --workers {a.workers}` on 127.0.0.1 over a synthetic {a.statements:,}-statement index
(`bench_web.build_index`); {a.clients} keep-alive clients from one load-generator process on the same
cores, each issuing requests back to back: half `GET /api/tallies/{{doi}}`, half `GET /reports/{{doi}}`,
20 % on the 20 most cited works. {'No ingest.' if a.no_ingest else f'Beside it, {ingests} `citelens ingest` runs (150 synthetic JATS articles each, re-ingested, classifier `cues`) wrote to the same file; ingest exit codes {ingest_exit}, {ingest_failed_files} files failed.'}
Open files and RSS: all server processes (uvicorn parent + workers), sampled every 2 s, last sample of each
{unit}.

**{total:,} requests, {errors} errors ({100 * errors / max(1, total):.3f} %){', by status ' + json.dumps(statuses) if statuses else ''};
tallies p50/p99 {overall['tallies'][0]}/{overall['tallies'][1]} ms, report pages {overall['report'][0]}/{overall['report'][1]} ms.
From the first to the last {unit}: open files {drift('fds')}, RSS {drift('rss_mb')}.**

| {unit} | requests | errors | req/s | tallies p50 / p99 ms | report p50 / p99 ms | open files | RSS MB |
|---|---|---|---|---|---|---|---|
{table}

The goal run (10 minutes, 1 M statements, 100 clients, ingest beside it) is the first command in the
script's docstring: `.venv/bin/python benchmarks/bench_soak.py --statements 1000000 --clients 100 --minutes 10`.
"""
    if not a.no_write:
        print(f"wrote {write_section('soak', md)}")
    else:
        print(md)


if __name__ == "__main__":
    main()
