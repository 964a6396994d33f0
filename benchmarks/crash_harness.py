"""Crash and concurrency harness: ``kill -9`` an ingest at random points, run writers and readers side by side.

Used by ``benchmarks/bench_crash.py`` (≥ 20 trials, results into docs/benchmarks.md) and by
``tests/test_crash.py`` (a few trials). Every run is a real ``citelens ingest`` process on a real SQLite
file; a trial checks:

- integrity: ``PRAGMA integrity_check`` and ``foreign_key_check``, the FTS5 index's own integrity check;
- no half document: each stored document has exactly the statements and references its row counts;
- no duplicate: one row per document identity, one search entry per context;
- recovery: ingesting the same inputs again gives the same index as one clean ingest (statements compared
  by content, not by row id; documents and works counted).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The installed entry point beside this interpreter (a virtualenv's bin/), else the same command via -c.
_SCRIPT = Path(sys.executable).with_name("citelens")
CITELENS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from citelens.cli import run; run()"]

_TEMPLATE = """<?xml version="1.0"?>
<article><front><article-meta><article-id pub-id-type="doi">10.5555/crash.{i}</article-id>
<title-group><article-title>Crash-test article {i} on {topic}</article-title></title-group>
<contrib-group><contrib contrib-type="author"><name><surname>Author{a}</surname><given-names>Q</given-names></name>
</contrib></contrib-group><pub-date><year>{year}</year></pub-date></article-meta></front>
<body>{sections}</body><back><ref-list>{refs}</ref-list></back></article>
"""
_TOPICS = ["biofilm growth", "protein folding", "sleep in mice", "river sediment", "leaf stomata", "gut microbes"]
_CUES = ["Our results are consistent with", "In contrast to", "We used the method of", "Unlike the findings of",
         "These data confirm", "As described previously by"]
_SECTIONS = ["Introduction", "Methods", "Results", "Discussion"]


def make_corpus(folder: Path, n: int, seed: int = 7) -> list[Path]:
    """``n`` small, valid JATS articles citing a shared pool of 12 works (so resolution has work to do)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        refs, paras = [], []
        cited = rng.sample(range(12), 5)
        for k, w in enumerate(cited):
            refs.append(f'<ref id="r{k}"><element-citation><person-group><name><surname>Pool{w}</surname>'
                        f"<given-names>A</given-names></name></person-group><year>{1990 + w}</year>"
                        f"<article-title>Pooled finding number {w} about {_TOPICS[w % len(_TOPICS)]}</article-title>"
                        f"<source>Journal {w % 3}</source></element-citation></ref>")
        for title in _SECTIONS:
            sentences = []
            for _ in range(3):
                k = rng.randrange(len(cited))
                sentences.append(f'{rng.choice(_CUES)} earlier work [<xref ref-type="bibr" rid="r{k}">{k + 1}</xref>].'
                                 f" This holds for sample {rng.randrange(1000)}.")
            paras.append(f"<sec><title>{title}</title><p>{' '.join(sentences)}</p></sec>")
        xml = _TEMPLATE.format(i=i, topic=_TOPICS[i % len(_TOPICS)], a=i % 7, year=2000 + i % 20,
                               sections="".join(paras), refs="".join(refs))
        p = folder / f"article-{i:04d}.xml"
        p.write_text(xml, encoding="utf-8")
        paths.append(p)
    return paths


def ingest_cmd(inputs: list[Path], db: Path, classifier: str = "cues") -> list[str]:
    return [*CITELENS, "ingest", *map(str, inputs), "--db", str(db), "--classifier", classifier, "-q", "--json"]


def run_ingest(inputs: list[Path], db: Path, classifier: str = "cues", timeout: float = 600) -> dict[str, Any]:
    proc = subprocess.run(ingest_cmd(inputs, db, classifier), capture_output=True, text=True, timeout=timeout)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"ingest failed ({proc.returncode}): {proc.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


# ------------------------------------------------------------------------------------------- checks

def integrity_problems(db: Path) -> list[str]:
    """Everything wrong with the file: SQLite's own checks, FTS, half-stored or duplicated documents."""
    problems: list[str] = []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchall()
        if ok != [("ok",)]:
            problems.append(f"integrity_check: {ok[:5]}")
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append(f"foreign_key_check: {len(fk)} rows, e.g. {fk[:3]}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "documents" not in tables:
            return problems  # killed before the schema was made: an empty file is a consistent state
        half = conn.execute(
            "SELECT d.identity, d.n_statements, (SELECT COUNT(*) FROM statements s WHERE s.document_id = d.id),"
            " d.n_references, (SELECT COUNT(*) FROM refs r WHERE r.document_id = d.id) FROM documents d").fetchall()
        for identity, n_st, st, n_ref, ref in half:
            if st > n_st or n_ref != ref:
                problems.append(f"half-stored document {identity}: {st}/{n_st} statements, {ref}/{n_ref} references")
        dup = conn.execute("SELECT identity, COUNT(*) FROM documents GROUP BY identity HAVING COUNT(*) > 1").fetchall()
        if dup:
            problems.append(f"duplicate documents: {dup[:5]}")
        contexts = conn.execute("SELECT COUNT(*) FROM contexts").fetchone()[0]
        fts = conn.execute("SELECT COUNT(*) FROM contexts_fts").fetchone()[0]
        if contexts != fts:
            problems.append(f"search index has {fts} entries for {contexts} contexts")
    finally:
        conn.close()
    # FTS5's integrity check is issued as an INSERT (it changes nothing); it needs a writable handle.
    rw = sqlite3.connect(db)
    try:
        rw.execute("INSERT INTO contexts_fts(contexts_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as exc:
        problems.append(f"fts integrity-check: {exc}")
    finally:
        rw.close()
    return problems


def fingerprint(db: Path) -> dict[str, Any]:
    """The index's content without row ids: documents, works and every statement by what it says."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        statements = sorted(conn.execute(
            "SELECT d.identity, r.key, c.sentence, s.callout_start, s.callout_end, s.section, s.stance,"
            " round(s.confidence, 6), s.self_citation, coalesce(w.doi, ''), coalesce(w.title, '')"
            " FROM statements s JOIN documents d ON d.id = s.document_id JOIN refs r ON r.id = s.ref_id"
            " JOIN contexts c ON c.id = s.context_id LEFT JOIN works w ON w.id = s.cited_work_id").fetchall())
        works = sorted(conn.execute("SELECT coalesce(doi, ''), title, kind FROM works").fetchall())
        documents = sorted(r[0] for r in conn.execute("SELECT identity FROM documents"))
    finally:
        conn.close()
    return {"documents": documents, "works": works, "statements": statements}


def fingerprint_diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    out = []
    for key in ("documents", "works", "statements"):
        if a[key] != b[key]:
            sa, sb = set(map(tuple, a[key])) if key != "documents" else set(a[key]), \
                set(map(tuple, b[key])) if key != "documents" else set(b[key])
            out.append(f"{key}: {len(a[key])} vs {len(b[key])} ({len(sa - sb)} only in the first,"
                       f" {len(sb - sa)} only in the second)")
    return out


# -------------------------------------------------------------------------------------- kill -9 trials

@dataclass
class Trial:
    kill_point: str
    documents_at_kill: int
    exit_status: int | None
    problems: list[str] = field(default_factory=list)
    recovery_diff: list[str] = field(default_factory=list)  # against one clean ingest
    recovery_equals: str = ""  # "clean ingest", "clean ingest + full re-ingest" or "" (neither)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.recovery_equals)


def count_documents(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return 0


def kill_trial(inputs: list[Path], db: Path, clean: dict[str, Any], rng: random.Random,
               startup_s: float, classifier: str = "cues", reingested: dict[str, Any] | None = None) -> Trial:
    """Start an ingest, SIGKILL it at a random point, check the file, re-ingest, compare with ``clean``.

    The point: usually "after k documents are stored, plus 0-40 ms" for a random k (so most kills land
    inside the storing phase, many inside a document's transaction); one time in five a random moment of
    the start-up (imports, schema creation).
    """
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    n_docs = len(clean["documents"])
    proc = subprocess.Popen(ingest_cmd(inputs, db, classifier), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if rng.random() < 0.2 or n_docs < 2:
        delay = rng.uniform(0.0, startup_s)
        point = f"{delay:.2f} s after start"
        time.sleep(delay)
    else:
        target = rng.randrange(1, n_docs)
        extra = rng.uniform(0.0, 0.04)
        point = f"{target} documents stored + {extra * 1000:.0f} ms"
        while proc.poll() is None and count_documents(db) < target:
            time.sleep(0.002)
        time.sleep(extra)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    status = proc.wait()
    trial = Trial(kill_point=point, documents_at_kill=count_documents(db), exit_status=status)
    if db.exists():
        trial.problems = integrity_problems(db)
    run_ingest(inputs, db, classifier)
    trial.problems += [f"after recovery: {p}" for p in integrity_problems(db)]
    recovered = fingerprint(db)
    trial.recovery_diff = fingerprint_diff(recovered, clean)
    if not trial.recovery_diff:
        trial.recovery_equals = "clean ingest"
    elif reingested is not None and not fingerprint_diff(recovered, reingested):
        # Resolution can depend on what the index already holds, so a full re-ingest of an intact index
        # may differ from a clean ingest too; matching that is what an interrupted run can promise.
        trial.recovery_equals = "clean ingest + full re-ingest"
    return trial


def kill_trials(inputs: list[Path], workdir: Path, n: int, seed: int = 1,
                classifier: str = "cues") -> tuple[float, list[Trial]]:
    """A clean ingest (timed), then ``n`` trials, each killed at a random point (see :func:`kill_trial`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    clean_db = workdir / "clean.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(clean_db) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    run_ingest(inputs, clean_db, classifier)
    clean_s = time.perf_counter() - t0
    clean = fingerprint(clean_db)
    again_db = workdir / "reingested.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(again_db) + suffix).unlink(missing_ok=True)
    shutil.copy(clean_db, again_db)
    run_ingest(inputs, again_db, classifier)
    reingested = fingerprint(again_db)
    rng = random.Random(seed)
    startup_s = _startup_seconds()
    trials = [kill_trial(inputs, workdir / "trial.db", clean, rng, startup_s, classifier, reingested)
              for _ in range(n)]
    return clean_s, trials


def _startup_seconds() -> float:
    t0 = time.perf_counter()
    subprocess.run([*CITELENS, "--version"], capture_output=True, check=True)
    return time.perf_counter() - t0 + 0.2


# ------------------------------------------------------------------------- writers and readers together

@dataclass
class ConcurrentRun:
    writer_exit: list[int]
    writer_failed: list[list[dict[str, str]]]
    reads: int  # read-only store queries (search, paper search, stats) from reader threads
    cli_reads: int  # `citelens stats` runs
    read_errors: list[str]
    max_read_s: float  # slowest store read
    max_cli_read_s: float  # slowest `citelens stats`, process start-up included
    documents: int


def writers_and_readers(corpora: list[list[Path]], db: Path, *, readers: int = 2,
                        classifier: str = "cues") -> ConcurrentRun:
    """Ingest each corpus in its own process into one file while readers query it in a loop: ``readers``
    threads with read-only stores (search, tallies, stats) and one thread running ``citelens stats``."""
    import threading

    from citelens.errors import StoreError
    from citelens.store import open_store

    procs = [subprocess.Popen(ingest_cmd(c, db, classifier), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for c in corpora]
    counts = {"store": 0, "cli": 0}
    slowest = {"store": 0.0, "cli": 0.0}
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def record(took: float, error: str | None, kind: str = "store") -> None:
        with lock:
            counts[kind] += 1
            slowest[kind] = max(slowest[kind], took)
            if error:
                errors.append(error)

    def store_reader() -> None:
        store = None
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                if store is None:
                    store = open_store(db, readonly=True)
                store.search_statements("earlier work", limit=5)
                store.search_works("Pooled finding", limit=5)
                store.stats()
                record(time.perf_counter() - t0, None)
            except StoreError as exc:  # before the first writer has made the schema
                if "no tables" not in str(exc) and "unable to open" not in str(exc):
                    record(time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
                time.sleep(0.05)
            except Exception as exc:  # noqa: BLE001 - any other failure is what this harness looks for
                record(time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
        if store is not None:
            store.close()

    def cli_reader() -> None:
        while not stop.is_set():
            if not db.exists():
                time.sleep(0.05)
                continue
            t0 = time.perf_counter()
            p = subprocess.run([*CITELENS, "stats", "--db", str(db), "--json"], capture_output=True, text=True,
                               timeout=120)
            ok = p.returncode == 0 or "no tables" in p.stderr
            record(time.perf_counter() - t0,
                   None if ok else f"citelens stats exit {p.returncode}: {p.stderr.strip()[-300:]}", "cli")

    threads = [threading.Thread(target=store_reader) for _ in range(readers)] + [threading.Thread(target=cli_reader)]
    for t in threads:
        t.start()
    outs = [p.communicate(timeout=900) for p in procs]
    stop.set()
    for t in threads:
        t.join()
    failed = [json.loads(o)["failed"] if o.strip() else [{"source": "?", "problem": e[-300:]}] for o, e in outs]
    return ConcurrentRun(writer_exit=[p.returncode for p in procs], writer_failed=failed, reads=counts["store"],
                         cli_reads=counts["cli"], read_errors=errors, max_read_s=slowest["store"],
                         max_cli_read_s=slowest["cli"], documents=count_documents(db))
