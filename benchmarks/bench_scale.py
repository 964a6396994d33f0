"""Scale-out: ingest throughput, CPU cost per statement and peak memory — SQLite vs PostgreSQL, one process
vs Dask ``local[2]`` — over pmc-oa articles, replicated with rewritten identifiers for larger corpora.

Each configuration runs the real command (``citelens ingest CORPUS.tar --db … --json -q [--dask local[2]]``)
in a fresh database and is measured from outside: wall time, CPU seconds of the command and every process it
started (workers included; a PostgreSQL server's own CPU is not included), and the peak of the summed
resident memory of that process tree (sampled every 0.2 s).

    python benchmarks/bench_scale.py --articles 1000 [--copies 1] [--classifier linear]
                                     [--pg postgresql://…] [--configs sqlite,sqlite+dask2,sqlite+jobs2,postgres,…]
                                     [--sample-seconds 30] [--corpus-dir DIR] [--write]

The corpus is the first ``--articles`` members of ../shared/data/pmc-oa/pmc-oa.tar.gz; ``--copies K`` adds
K−1 copies of each with a new DOI and changed author surnames (so each copy is a distinct citing article that
cites the same works). It is written to temporary plain .tar files of at most ``--shard-articles`` members
each (an archive is capped at 100,000 members and 5 GB), never into the repository. With ``--corpus-dir`` the
tars are kept there and reused by a later run with the same source, ``--articles`` and ``--shard-articles``
(its first shards serve a run with fewer copies): 100 k articles are 11 GB and take minutes to write.

While a configuration runs, every ``--sample-seconds`` the process tree's CPU time and memory and the number of
statements stored so far (the highest statement id) are sampled: the *marginal* CPU per statement in each
tenth of the run shows whether the cost grows with the index, and the RSS samples whether memory does. For
PostgreSQL the server's CPU is sampled too (its processes' counters in /proc), so its marginal cost is known.
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


def build_corpus(source: Path, articles: int, copies: int, out_dir: Path, shard_articles: int = 10_000) -> list[Path]:
    """Plain tars holding ``articles`` × ``copies`` members in all, at most ``shard_articles`` each."""
    with tarfile.open(source, "r|gz") as src:
        originals = []
        for info in src:
            if not info.isfile() or not info.name.endswith(".xml"):
                continue
            fh = src.extractfile(info)
            data = fh.read() if fh else b""
            originals.append((Path(info.name).stem, data))
            if len(originals) >= articles:
                break
    shards: list[Path] = []
    dst: tarfile.TarFile | None = None
    n = 0
    try:
        for copy in range(copies):
            for stem, data in originals:
                if n % shard_articles == 0:
                    if dst is not None:
                        dst.close()
                    shards.append(out_dir / f"corpus-{len(shards):03d}.tar")
                    dst = tarfile.open(shards[-1], "w")  # noqa: SIM115 - closed when the shard is full
                body = data if copy == 0 else rewrite(data, copy)
                ti = tarfile.TarInfo(f"corpus/{stem}{'' if copy == 0 else f'.c{copy}'}.xml")
                ti.size = len(body)
                assert dst is not None
                dst.addfile(ti, io.BytesIO(body))
                n += 1
    finally:
        if dst is not None:
            dst.close()
    return shards


def corpus_shards(source: Path, articles: int, copies: int, out_dir: Path, shard_articles: int) -> list[Path]:
    """The corpus's tars in ``out_dir``: reused when a manifest there says they were built from the same source,
    articles and shard size with at least as many copies (the first copies fill the first shards), else built."""
    manifest = out_dir / "corpus.json"
    key = {"source": str(source.resolve()), "articles": articles, "shard_articles": shard_articles}
    n = articles * copies
    if manifest.exists():
        built = json.loads(manifest.read_text())
        have = built["articles"] * built["copies"]
        if ({k: built.get(k) for k in key} == key and n <= have and (n == have or n % shard_articles == 0)):
            shards = [out_dir / name for name in built["shards"][:-(-n // shard_articles)]]
            if all(s.exists() for s in shards):
                print(f"reusing {len(shards)} corpus .tar from {out_dir}", file=sys.stderr)
                return shards
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest.unlink(missing_ok=True)
    shards = build_corpus(source, articles, copies, out_dir, shard_articles)
    manifest.write_text(json.dumps({**key, "copies": copies, "shards": [s.name for s in shards]}))
    return shards


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def tree_cpu(proc: psutil.Process) -> float:
    """CPU seconds of the process and its live descendants (and the children each has reaped)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


def stored_so_far(db: str) -> tuple[int, int]:
    """(statements, documents) stored so far: the highest ids (cheap on a growing index; ids are never reused)."""
    try:
        if db.startswith("postgresql://"):
            import psycopg

            with psycopg.connect(db, autocommit=True, connect_timeout=5) as conn:
                row = conn.execute("SELECT (SELECT max(id) FROM statements), (SELECT max(id) FROM documents)"
                                   ).fetchone()
        else:
            import sqlite3

            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
                row = conn.execute("SELECT (SELECT max(id) FROM statements), (SELECT max(id) FROM documents)"
                                   ).fetchone()
    except Exception:  # noqa: BLE001 - not created yet, or busy: no sample this time
        return -1, -1
    return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)


def run(cmd: list[str], db: str = "", sample_seconds: float = 0.0,
        server: psutil.Process | None = None) -> dict[str, float | dict | list]:
    """Run the command; wall seconds, CPU seconds (command + descendants), peak tree RSS, its JSON output, and
    (with ``sample_seconds``) samples of (wall s, tree CPU s, RSS bytes, statements, documents, server CPU s)
    along the run (server CPU: ``server_process_cpu(server)``, 0 without a server)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc = psutil.Process(popen.pid)
    peak = 0
    samples: list[tuple[float, float, int, int, int, float]] = []
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        next_sample = time.perf_counter() + sample_seconds
        while not stop.is_set():
            rss = 0
            with contextlib.suppress(psutil.Error):
                rss = tree_rss(proc)
                peak = max(peak, rss)
            if sample_seconds and time.perf_counter() >= next_sample:
                next_sample += sample_seconds
                cpu = tree_cpu(proc)
                statements, documents = stored_so_far(db)
                server_s = server_process_cpu(server) if server is not None else 0.0
                if statements >= 0:
                    samples.append((time.perf_counter() - t0, cpu, rss, statements, documents, server_s))
                    print(f"  {samples[-1][0]:7.0f} s  cpu {cpu:8.1f} s  server {server_s:8.1f} s  "
                          f"rss {rss / 1e6:6.0f} MB  {documents:,} documents  {statements:,} statements  "
                          f"load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
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
    return {"wall": wall, "cpu": cpu, "peak_rss": peak, "summary": json.loads(out), "samples": samples}


def marginal_costs(samples: list, total_cpu: float, total_statements: int, parts: int = 10,
                   total_server_cpu: float | None = None) -> list[dict]:
    """Split the run into ``parts`` spans of stored statements; CPU µs per statement and RSS in each span (and
    the server's CPU µs per statement where the samples carry it and ``total_server_cpu`` is given)."""
    # From the first sample with statements on: start-up (imports, loading the classifier) is not a cost per
    # statement. The server's counter is absolute (since it started): only differences between points count.
    last_server = total_server_cpu if total_server_cpu is not None else float("nan")
    points = [(s[1], s[3], s[2], s[5] if len(s) > 5 else float("nan")) for s in samples if s[3] > 0]
    points.append((total_cpu, total_statements, 0, last_server))
    out = []
    edges = [total_statements * k // parts for k in range(parts + 1)]
    for lo, hi in zip(edges, edges[1:], strict=False):
        a = max((p for p in points if p[1] <= lo), key=lambda p: p[1], default=points[0])
        b = min((p for p in points if p[1] >= hi), key=lambda p: p[1])
        if b[1] > a[1]:
            rss = [p[2] for p in points if lo <= p[1] <= hi and p[2]]
            span = {"from": a[1], "to": b[1], "cpu_us_per_statement": 1e6 * (b[0] - a[0]) / (b[1] - a[1]),
                    "rss_mb": max(rss) / 1e6 if rss else None}
            if total_server_cpu is not None:
                span["server_cpu_us_per_statement"] = 1e6 * (b[3] - a[3]) / (b[1] - a[1])
            out.append(span)
    return out


def server_process(base: str) -> psutil.Process | None:
    """The postmaster of the PostgreSQL server at ``base`` (None unless it runs on this machine)."""
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    data_dir = str(row[0]) if row else ""
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if data_dir and data_dir in cmd and "-D" in cmd:
            return p
    return None


def server_process_cpu(postmaster: psutil.Process | None) -> float:
    """CPU seconds used so far by a PostgreSQL server: the postmaster, its live processes and the backends it has
    reaped (a finished run's connections). A handful of /proc reads: cheap enough to sample every few seconds."""
    if postmaster is None:
        return float("nan")
    try:
        t = postmaster.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        children = postmaster.children()
    except psutil.Error:
        return float("nan")
    for child in children:
        with contextlib.suppress(psutil.Error):
            c = child.cpu_times()
            total += c.user + c.system
    return total


def server_cpu(base: str) -> float:
    """CPU seconds used so far by the PostgreSQL server at ``base`` (see ``server_process_cpu``)."""
    return server_process_cpu(server_process(base))


def fresh_pg(base: str) -> tuple[str, str]:
    """A new, empty schema on the server at ``base``: (its name, a URL whose search path is that schema)."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return schema, f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def drop_pg(base: str, schema: str) -> None:
    """Drop a schema made by ``fresh_pg`` (at 100 k articles it holds ≈ 15 GB)."""
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


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
    ap.add_argument("--shard-articles", type=int, default=10_000, help="articles per corpus .tar")
    ap.add_argument("--sample-seconds", type=float, default=0.0,
                    help="sample CPU, memory and progress this often (0: only the totals)")
    ap.add_argument("--corpus-dir", type=Path, default=None,
                    help="keep the corpus .tar here and reuse them in later runs (default: a temporary folder)")
    ap.add_argument("--nice", type=int, default=0, help="run each ingest under `nice -n N`")
    ap.add_argument("--write", action="store_true", help="write the table into docs/benchmarks.md")
    ap.add_argument("--note", default="", help="a line added under the table (e.g. machine load)")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="citelens-scale-") as tmp:
        if args.corpus_dir:
            shards = corpus_shards(args.source, args.articles, args.copies, args.corpus_dir, args.shard_articles)
        else:
            shards = build_corpus(args.source, args.articles, args.copies, Path(tmp), args.shard_articles)
        n = args.articles * args.copies
        print(f"corpus: {n} articles in {len(shards)} .tar, {sum(s.stat().st_size for s in shards) / 1e6:.0f} MB",
              file=sys.stderr)
        for config in args.configs.split(","):
            backend, _, mode = config.partition("+")
            if backend == "postgres":
                if not args.pg:
                    print("skipping postgres: no --pg / CITELENS_TEST_PG", file=sys.stderr)
                    continue
                schema, db = fresh_pg(args.pg)
            else:
                db = str(Path(tmp) / f"{config}.db")
            cmd = [CITELENS, "ingest", *map(str, shards), "--db", db, "--classifier", args.classifier, "--json", "-q"]
            if args.nice:
                cmd = ["nice", "-n", str(args.nice), *cmd]
            workers = 1
            if mode.startswith("dask"):
                workers = int(mode[4:] or 2)
                cmd += ["--dask", f"local[{workers}]", "--batch-size", "64"]
            elif mode.startswith("jobs"):  # the process pool of one machine (--jobs N), for comparison
                workers = int(mode[4:] or 2)
                cmd += ["--jobs", str(workers)]
            else:
                cmd += ["--jobs", "1"]  # one process (the default, --jobs auto, would start a pool)
            postmaster = server_process(args.pg) if backend == "postgres" else None
            pg_before = server_process_cpu(postmaster) if backend == "postgres" else 0.0
            load_before = os.getloadavg()[0]
            started = time.strftime("%H:%M", time.gmtime())
            r = run(cmd, db, args.sample_seconds, postmaster)
            if backend == "postgres":
                r["server_cpu"] = server_process_cpu(postmaster) - pg_before
            size, statements = db_size(db)
            s = r["summary"]
            assert isinstance(s, dict)
            row = {"config": config, "workers": workers, "articles": s["stored"], "statements": statements,
                   "failed": len(s["failed"]), "wall": r["wall"], "cpu": r["cpu"], "peak_rss": r["peak_rss"],
                   "bytes": size, "server_cpu": r.get("server_cpu", 0.0),
                   "load": (round(load_before, 1), round(os.getloadavg()[0], 1)),
                   "utc": (started, time.strftime("%H:%M", time.gmtime()))}
            if r["samples"]:
                server_total = pg_before + r["server_cpu"] if postmaster is not None else None
                row["marginal"] = marginal_costs(r["samples"], r["cpu"], statements, total_server_cpu=server_total)
                row["samples"] = r["samples"]
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            if backend == "postgres":
                drop_pg(args.pg, schema)
            elif os.path.exists(db):
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
    for r in rows:
        if r.get("marginal"):
            text += (f"\n{r['config']}: marginal CPU µs per statement (the command's process tree, not a PostgreSQL server) and peak RSS MB in each tenth"
                     " of the run: " + ", ".join(
                         f"{m['cpu_us_per_statement']:,.0f}" + (f" ({m['rss_mb']:,.0f} MB)" if m["rss_mb"] else "")
                         for m in r["marginal"]) + f". Load average {r['load'][0]} → {r['load'][1]}.\n")
            if any("server_cpu_us_per_statement" in m for m in r["marginal"]):
                text += (f"\n{r['config']}: the PostgreSQL server's marginal CPU µs per statement in each tenth: "
                         + ", ".join(f"{m['server_cpu_us_per_statement']:,.0f}" for m in r["marginal"]) + ".\n")
    if args.note:
        text += f"\n{args.note}\n"
    print(text)
    if args.write:
        write_section(f"scale-{n}", text)


if __name__ == "__main__":
    main()
