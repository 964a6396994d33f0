"""Scale-out: ingest throughput, CPU cost per statement and peak memory — SQLite vs PostgreSQL, one process
vs Dask ``local[2]`` — over pmc-oa articles, replicated with rewritten identifiers for larger corpora.

Each configuration runs the real command (``citelens ingest CORPUS.tar --db … --json -q [--dask local[2]]``)
in a fresh database and is measured from outside: wall time, CPU seconds of the command and every process it
started (workers included; a PostgreSQL server's own CPU is not included), and the peak of the summed
resident memory of that process tree (sampled every 0.2 s).

    python benchmarks/bench_scale.py --articles 1000 [--copies 1] [--classifier linear]
                                     [--pg postgresql://…] [--configs sqlite,sqlite+dask2,postgres,postgres+dask2]
                                     [--write]

The corpus is the first ``--articles`` members of ../shared/data/pmc-oa/pmc-oa.tar.gz; ``--copies K`` adds
K−1 copies of each with a new DOI and changed author surnames (so each copy is a distinct citing article that
cites the same works). It is written to a temporary plain .tar (never into the repository).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import resource
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from _report import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TAR = ROOT.parent / "shared" / "data" / "pmc-oa" / "pmc-oa.tar.gz"
CITELENS = str(Path(sys.executable).parent / "citelens")

_META = re.compile(rb"<article-meta>.*?</article-meta>", re.S)
_DOI = re.compile(rb'(<article-id pub-id-type="doi">)([^<]+)(</article-id>)')
_OTHER_IDS = re.compile(rb'<article-id pub-id-type="(?:pmcid|pmc|pmid|publisher-id)">[^<]*</article-id>')
_SURNAME = re.compile(rb"(<surname>)([^<]+)(</surname>)")


def rewrite(xml: bytes, copy: int) -> bytes:
    """Copy ``copy`` of an article: a new DOI, no PMID/PMCID, changed author surnames (its references unchanged)."""
    def meta(m: re.Match[bytes]) -> bytes:
        block = _DOI.sub(lambda d: d.group(1) + d.group(2) + b".copy" + str(copy).encode() + d.group(3), m.group(0))
        block = _OTHER_IDS.sub(b"", block)
        return _SURNAME.sub(lambda s: s.group(1) + s.group(2) + b"-c" + str(copy).encode() + s.group(3), block)

    return _META.sub(meta, xml, count=1)


def build_corpus(source: Path, articles: int, copies: int, out: Path) -> int:
    """A plain tar of ``articles`` × ``copies`` members; returns the member count."""
    n = 0
    with tarfile.open(source, "r|gz") as src, tarfile.open(out, "w") as dst:
        originals = []
        for info in src:
            if not info.isfile() or not info.name.endswith(".xml"):
                continue
            fh = src.extractfile(info)
            data = fh.read() if fh else b""
            originals.append((Path(info.name).stem, data))
            if len(originals) >= articles:
                break
        for copy in range(copies):
            for stem, data in originals:
                body = data if copy == 0 else rewrite(data, copy)
                ti = tarfile.TarInfo(f"corpus/{stem}{'' if copy == 0 else f'.c{copy}'}.xml")
                ti.size = len(body)
                dst.addfile(ti, io.BytesIO(body))
                n += 1
    return n


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run(cmd: list[str]) -> dict[str, float | dict]:
    """Run the command; wall seconds, CPU seconds (command + descendants), peak tree RSS, its JSON output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc = psutil.Process(popen.pid)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                peak = max(peak, tree_rss(proc))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = popen.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if popen.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({popen.returncode}): {err.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "peak_rss": peak, "summary": json.loads(out)}


def server_cpu(base: str) -> float:
    """CPU seconds used so far by the PostgreSQL server at ``base``: the postmaster, its live processes and
    the backends it has reaped (a finished run's connections). Needs the server on this machine."""
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    data_dir = str(row[0]) if row else ""
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if data_dir and data_dir in cmd and "-D" in cmd:
            t = p.cpu_times()
            total = t.user + t.system + t.children_user + t.children_system
            for child in p.children():
                with contextlib.suppress(psutil.Error):
                    c = child.cpu_times()
                    total += c.user + c.system
            return total
    return float("nan")


def fresh_pg(base: str) -> str:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def db_size(target: str) -> tuple[int | None, int]:
    from citelens.store import open_store

    if not target.startswith("postgresql://"):
        import sqlite3

        with sqlite3.connect(target) as c:  # fold the WAL in, so the file size is the index size
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store = open_store(target, readonly=True)
    st = store.stats()
    store.close()
    return st.database_bytes, st.statements


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=DEFAULT_TAR)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--classifier", default="linear")
    ap.add_argument("--pg", default=os.environ.get("CITELENS_TEST_PG", ""),
                    help="PostgreSQL URL to make throwaway schemas in (default CITELENS_TEST_PG)")
    ap.add_argument("--configs", default="sqlite,sqlite+dask2,postgres,postgres+dask2")
    ap.add_argument("--write", action="store_true", help="write the table into docs/benchmarks.md")
    ap.add_argument("--note", default="", help="a line added under the table (e.g. machine load)")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="citelens-scale-") as tmp:
        corpus = Path(tmp) / "corpus.tar"
        n = build_corpus(args.source, args.articles, args.copies, corpus)
        print(f"corpus: {n} articles, {corpus.stat().st_size / 1e6:.0f} MB", file=sys.stderr)
        for config in args.configs.split(","):
            backend, _, mode = config.partition("+")
            if backend == "postgres":
                if not args.pg:
                    print("skipping postgres: no --pg / CITELENS_TEST_PG", file=sys.stderr)
                    continue
                db = fresh_pg(args.pg)
            else:
                db = str(Path(tmp) / f"{config}.db")
            cmd = [CITELENS, "ingest", str(corpus), "--db", db, "--classifier", args.classifier, "--json", "-q"]
            workers = 1
            if mode.startswith("dask"):
                workers = int(mode[4:] or 2)
                cmd += ["--dask", f"local[{workers}]", "--batch-size", "64"]
            pg_before = server_cpu(args.pg) if backend == "postgres" else 0.0
            r = run(cmd)
            if backend == "postgres":
                r["server_cpu"] = server_cpu(args.pg) - pg_before
            size, statements = db_size(db)
            s = r["summary"]
            assert isinstance(s, dict)
            row = {"config": config, "workers": workers, "articles": s["stored"], "statements": statements,
                   "failed": len(s["failed"]), "wall": r["wall"], "cpu": r["cpu"], "peak_rss": r["peak_rss"],
                   "bytes": size, "server_cpu": r.get("server_cpu", 0.0)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
            if os.path.exists(db):
                os.remove(db)

    table = ["| configuration | articles | statements | wall s | articles/s | statements/s per worker"
             " | CPU µs per statement (ingest + server) | peak RSS (MB, whole process tree) | bytes per statement |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        sps = r["statements"] / r["wall"]
        per = 1e6 / max(1, r["statements"])
        server = f" + {per * r['server_cpu']:,.0f}" if r["server_cpu"] else ""
        table.append(
            f"| {r['config']} | {r['articles']:,} | {r['statements']:,} | {r['wall']:.1f} | "
            f"{r['articles'] / r['wall']:.1f} | {sps / r['workers']:,.0f} | {per * r['cpu']:,.0f}{server} | "
            f"{r['peak_rss'] / 1e6:,.0f} | {(r['bytes'] or 0) / max(1, r['statements']):,.0f} |")
    text = (f"### {n:,} articles ({args.articles:,} from pmc-oa × {args.copies})\n\n"
            f"`python benchmarks/bench_scale.py --articles {args.articles} --copies {args.copies} --classifier"
            f" {args.classifier}` — {machine()}.\n\n" + "\n".join(table) + "\n")
    if args.note:
        text += f"\n{args.note}\n"
    print(text)
    if args.write:
        write_section(f"scale-{n}", text)


if __name__ == "__main__":
    main()
