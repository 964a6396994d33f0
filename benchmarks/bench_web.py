"""Web benchmark: report page and tallies API latency under concurrent load on a ≥1 M-statement index.

One command::

    .venv/bin/python benchmarks/bench_web.py            # builds /tmp/citelens-bench-web/bench.db once

1. Generates a synthetic SQLite index with direct SQL inserts (not the pipeline): works with DOIs, citing
   documents, references and citation statements whose cited work follows a heavy-tailed distribution,
   so a few works have thousands of statements (the expensive report pages) and most have a handful.
2. Starts ``citelens serve`` on a free loopback port in a subprocess.
3. Runs a load generator in a second process (asyncio, raw HTTP/1.1 keep-alive connections, bounded by
   request count and time) against each scenario and records every request's latency.
4. Writes a table to docs/benchmarks.md (section "web") via benchmarks/_report.py.

Goals: tallies API p99 < 50 ms, report page p99 < 200 ms, author and institution pages p99 < 200 ms.

``--people-only`` runs the author and institution scenarios alone (section "web-people"): the synthetic
index then also gets authors (see ``add_people``), added once to an existing index.

``--journals-only`` runs the journal scenarios alone (section "web-journals"): the synthetic index's works
then get journals (see ``add_journals``), once; goal: journal page p99 < 200 ms.

``--pages-only`` runs the pages that had no scenario (section "web-pages"): one statement, search with a common
word and with ``-word``, a collection of 200 works (page, API, Atom feed, alerts) and deep pages of the most cited
work's statements; the index then gets notices, corrections, recent arrivals and the collection (see
``add_integrity``), once. Goal: p99 < 200 ms.
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
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

_VOCAB = ("gene expression protein cell model data analysis results method study effect response signal pathway"
         " binding receptor mutation sequence structure function network growth rate level increase decrease"
         " observed reported consistent previous similar contrast found showed confirm support agree differ"
         " population species sample tissue brain neuron mouse human patient clinical trial treatment dose"
         " time temperature concentration activity regulation transcription factor domain complex membrane"
         " channel calcium potassium sodium enzyme kinase phosphorylation inhibition expression variant allele"
         " genome transcript assay measurement imaging microscopy fluorescence quantitative statistical"
         " significant correlation estimate parameter simulation theory prediction experiment evidence")
WORDS = tuple(_VOCAB.split())
SECTIONS = ("introduction", "methods", "results", "discussion", "other")
STANCE_W = (("mentioning", 0.86), ("supporting", 0.10), ("contrasting", 0.04))
BENCH_COLLECTION = "Bench reading list"  # add_integrity's collection
BUILT_AT = "2026-01-01T00:00:00+00:00"  # when the synthetic citing articles (and so their statements) arrived


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=n)).capitalize()


def build_index(path: Path, statements: int, seed: int = 7) -> dict[str, int]:
    """Create the synthetic index; returns its sizes. Uses the real schema via open_store, then bulk SQL."""
    from citelens.store import open_store

    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    open_store(path).close()  # creates the schema (tables, indexes, FTS and its triggers)
    rng = random.Random(seed)
    n_docs = max(10, statements // 20)
    n_cited = max(100, statements // 5)
    refs_per_doc = 10
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    t0 = time.perf_counter()
    with conn:
        # Works 1..n_docs are the citing articles; n_docs+1.. are cited works.
        conn.executemany(
            "INSERT INTO works (id, doi, title, title_norm, title_key, authors_json, first_author, year, container,"
            " kind) VALUES (?,?,?,?,?,?,?,?,?,?)",
            ((i, f"10.5555/bench.{i}", t, t.lower(), t.lower().replace(" ", "")[:24],
              json.dumps([{"family": f"Author{i % 5000}", "given": "A"}]), f"author{i % 5000}",
              1990 + i % 35, "Journal of Benchmarks", "article" if i <= n_docs else "reference")
             for i in range(1, n_docs + n_cited + 1) for t in (_sentence(rng, 7),)))
        conn.executemany(
            "INSERT INTO documents (id, identity, source, format, work_id, doi, title, year, journal, ingested_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            ((i, f"doi:10.5555/bench.{i}", f"bench{i}.xml", "jats", i, f"10.5555/bench.{i}", f"Citing paper {i}",
              2000 + i % 25, "Journal of Benchmarks", BUILT_AT) for i in range(1, n_docs + 1)))
        refs = []
        ref_id = 0
        for d in range(1, n_docs + 1):
            for k in range(refs_per_doc):
                ref_id += 1
                # Heavy tail: a few cited works collect thousands of statements.
                cited = n_docs + 1 + int(n_cited * rng.random() ** 3)
                refs.append((ref_id, d, f"r{k}", f"Ref {k}", cited, "doi"))
        conn.executemany("INSERT INTO refs (id, document_id, key, raw, work_id, method) VALUES (?,?,?,?,?,?)", refs)
        # Build FTS in one pass at the end: much faster than the per-row trigger.
        conn.execute("DROP TRIGGER IF EXISTS contexts_ai")
        stances = [s for s, _ in STANCE_W]
        weights = [w for _, w in STANCE_W]
        batch = []
        per_doc = statements // n_docs
        sid = 0
        for d in range(1, n_docs + 1):
            year = 2000 + d % 25
            for j in range(per_doc if d < n_docs else statements - sid):
                sid += 1
                r = refs[(d - 1) * refs_per_doc + j % refs_per_doc]
                sent = _sentence(rng, 14) + " [1]."
                stance = rng.choices(stances, weights)[0]
                conf = round(0.5 + rng.random() / 2, 3)
                # one context (citing sentence) per statement, with the same id
                batch.append((sid, d, r[0], r[4], d, year, rng.choice(SECTIONS), sent, _sentence(rng, 6) + ".",
                              len(sent) - 4, len(sent) - 1, stance, conf, stance, conf, int(rng.random() < 0.05)))
                if len(batch) >= 50_000:
                    _insert_statements(conn, batch)
                    batch = []
        _insert_statements(conn, batch)
    t_rows = time.perf_counter() - t0
    with conn:
        conn.execute("INSERT INTO contexts_fts(contexts_fts) VALUES ('rebuild')")
        conn.execute("CREATE TRIGGER IF NOT EXISTS contexts_ai AFTER INSERT ON contexts BEGIN INSERT INTO"
                     " contexts_fts(rowid, sentence) VALUES (new.id, new.sentence); END")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    _rebuild_tallies(path)
    return {"statements": statements, "documents": n_docs, "works": n_docs + n_cited, "refs": ref_id,
            "seconds_rows": round(t_rows, 1), "seconds_total": round(time.perf_counter() - t0, 1)}


def _rebuild_tallies(db: Path | str) -> float:
    """Open the store (it adds any indexes it makes on open) and recount the per-work tallies that the writer
    keeps, since the rows were loaded around it; returns the seconds the recount took."""
    from citelens.store import open_store
    from citelens.store.sql import SQLStore

    store = open_store(db)
    assert isinstance(store, SQLStore)
    t = time.perf_counter()
    store.rebuild_work_tallies()
    store.close()
    return round(time.perf_counter() - t, 1)


def add_people(path: Path, seed: int = 13) -> dict[str, int]:
    """Give the index authors and institutions, once: documents for the first 20,000 cited works (so the
    heavily cited ones are someone's papers), 3–6 authors each from a pool of 30,000 with a heavy tail
    (the busiest has several hundred works), each affiliated with one of 2,000 institutions (ROR-like ids,
    heavy-tailed too: the largest has over a thousand works, tens of thousands of statements citing them)."""
    conn = sqlite3.connect(path)
    if conn.execute("SELECT COUNT(*) FROM document_authors").fetchone()[0]:
        conn.close()
        return {}
    rng = random.Random(seed)
    n_docs = conn.execute("SELECT COUNT(*) FROM documents WHERE source LIKE 'bench%'").fetchone()[0]
    n_works = conn.execute("SELECT MAX(id) FROM works").fetchone()[0]
    n_new = min(20_000, n_works - n_docs)
    n_authors, n_insts = 30_000, 2_000
    countries = ("US", "CN", "GB", "DE", "JP", "FR", "IN", "BR", "ES", "IT")
    with conn:
        conn.executemany("INSERT INTO authors (id, name, name_key, orcid) VALUES (?,?,?,?)",
                         ((i, f"A. Author{i}", f"author{i} a", f"0000-0001-{i // 10000:04d}-{i % 10000:04d}"
                           if i % 3 == 0 else "") for i in range(1, n_authors + 1)))
        conn.executemany(
            "INSERT INTO documents (id, identity, source, format, work_id, doi, title, year, journal, ingested_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            ((n_docs + k, f"doi:10.5555/bench.{n_docs + k}", f"cited{k}.xml", "jats", n_docs + k,
              f"10.5555/bench.{n_docs + k}", f"Cited paper {k}", 1990 + k % 35, "Journal of Benchmarks",
              BUILT_AT) for k in range(1, n_new + 1)))
        rows = []
        for k in range(1, n_new + 1):
            for pos in range(1, rng.randint(3, 6) + 1):
                a = 1 + int(n_authors * rng.random() ** 2)
                inst = 1 + int(n_insts * rng.random() ** 2)
                rows.append((n_docs + k, pos, a, f"Author{a}", "A.", f"author{a} a", f"Institute {inst}, City",
                             f"Institute {inst}", f"0bc{inst:04d}{inst % 97:02d}", f"City{inst % 97}", "",
                             countries[inst % len(countries)]))
        conn.executemany(
            "INSERT OR IGNORE INTO document_authors (document_id, position, author_id, family, given, name_key,"
            " affiliation, institution, ror, city, region, country) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("ANALYZE")
    conn.close()
    return {"documents": n_new, "authors": n_authors, "institutions": n_insts, "author_positions": len(rows)}


def _issn(n: int) -> str:
    """A valid ISSN (check digit mod 11) for the synthetic journal number ``n``."""
    digits = f"{2000000 + n:07d}"
    check = (11 - sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True)) % 11) % 11
    return f"{digits[:4]}-{digits[4:]}{'X' if check == 10 else check}"


def add_journals(path: Path, seed: int = 19) -> dict[str, int]:
    """Give the works journals, once: 1,000 journals with a heavy tail (the largest holds ~4 % of the works
    and of the statements citing them, tens of thousands), half with an e-ISSN as well; 70 % of works carry
    their journal's ISSN, the rest only its name or abbreviation (as works known from references do)."""
    conn = sqlite3.connect(path)
    if conn.execute("SELECT COUNT(*) FROM journal_names").fetchone()[0]:
        conn.close()
        return {}
    rng = random.Random(seed)
    n_journals = 1_000
    n_works = conn.execute("SELECT MAX(id) FROM works").fetchone()[0]
    updates = []
    for wid in range(1, n_works + 1):
        j = 1 + int(n_journals * rng.random() ** 2)
        if rng.random() < 0.7:
            updates.append((_issn(j), _issn(5000 + j) if j % 2 else "", f"Journal of Benchmarks {j}", wid))
        else:
            updates.append(("", "", rng.choice((f"Journal of Benchmarks {j}", f"J Bench {j}")), wid))
    with conn:
        conn.executemany("UPDATE works SET issn = ?, eissn = ?, container = ? WHERE id = ?", updates)
        names = [(issn, name) for j in range(1, n_journals + 1) for issn in (_issn(j), _issn(5000 + j) if j % 2
                 else "") if issn for name in (f"Journal of Benchmarks {j}", f"J Bench {j}")]
        conn.executemany("INSERT OR IGNORE INTO journal_names (issn, name) VALUES (?, ?)", names)
    conn.execute("ANALYZE")
    conn.close()
    return {"journals": n_journals, "works": n_works}


def add_integrity(path: Path, seed: int = 29) -> dict[str, int]:
    """Give the index what the integrity features read, once: editorial notices (retractions, corrections,
    expressions of concern) on 2 of the 20 most cited works and on ~400 others, each from a notice article of
    its own; 2,500 citing articles (50,000 statements) that arrived in November 2026, for the alerts' windows;
    2,200 statements corrected by a curator through the store (200 of them citing the top-20 works, one in ten
    corrected twice: a history); and a collection of 200 works (the top-20, 30 with a notice, 145 others and 5
    DOIs not in the index)."""
    from citelens.store import open_store
    from citelens.store.sql import SQLStore

    conn = sqlite3.connect(path)
    if conn.execute("SELECT COUNT(*) FROM collections WHERE name = ?", (BENCH_COLLECTION,)).fetchone()[0]:
        conn.close()
        return {}
    rng = random.Random(seed)
    n_docs = conn.execute("SELECT COUNT(*) FROM documents WHERE source LIKE 'bench%'").fetchone()[0]
    n_cited = conn.execute("SELECT MAX(id) FROM works").fetchone()[0] - n_docs
    max_work = conn.execute("SELECT MAX(id) FROM works").fetchone()[0]
    # Above the documents add_people gives cited works (ids n_docs + 1 … n_docs + 20,000), whichever runs first.
    doc0 = max(conn.execute("SELECT MAX(id) FROM documents").fetchone()[0], n_docs + 20_000)
    kinds = (("retraction", "retracted-article"), ("correction", "corrected-article"),
             ("expression-of-concern", "object-of-concern"))
    targets = [(n_docs + 3, 0), (n_docs + 11, 2)] + [(n_docs + k, (k // 50) % 3) for k in range(21, 20_001, 50)]
    works, docs, notices = [], [], []
    for i, (target, kind) in enumerate(targets, 1):
        title = f"{kinds[kind][0].capitalize()} notice {i}"
        at = f"2026-{10 + i % 2:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00"
        works.append((max_work + i, f"10.5555/notice.{i}", title, title.lower(), title.lower().replace(" ", "")[:24],
                      "[]", "", 2026, "Journal of Benchmarks", "article"))
        docs.append((doc0 + i, f"doi:10.5555/notice.{i}", f"notice{i}.xml", "jats", max_work + i,
                     f"10.5555/notice.{i}", title, 2026, "Journal of Benchmarks", at))
        notices.append((doc0 + i, max_work + i, target, kinds[kind][0], kinds[kind][1], f"10.5555/notice.{i}", title,
                        "2026"))
    recent = [(f"2026-11-{6 + k * 28 // 2500:02d}T{k % 24:02d}:{k % 60:02d}:00+00:00", d)
              for k, d in enumerate(range(n_docs - 2499, n_docs + 1))]
    with conn:
        conn.executemany("INSERT INTO works (id, doi, title, title_norm, title_key, authors_json, first_author, year,"
                         " container, kind) VALUES (?,?,?,?,?,?,?,?,?,?)", works)
        conn.executemany("INSERT INTO documents (id, identity, source, format, work_id, doi, title, year, journal,"
                         " ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?)", docs)
        conn.executemany("INSERT INTO notices (document_id, notice_work_id, target_work_id, kind, relation, doi,"
                         " title, date) VALUES (?,?,?,?,?,?,?,?)", notices)
        conn.executemany("UPDATE documents SET ingested_at = ? WHERE id = ?", recent)
        # Their statements arrived with them (the writer stores first_seen; schema 14 indexes it).
        conn.executemany("UPDATE statements SET first_seen = ? WHERE document_id = ?", recent)
    hot_ids = [r[0] for r in conn.execute(
        f"SELECT id FROM statements WHERE cited_work_id BETWEEN {n_docs + 1} AND {n_docs + 20}")]
    n_statements = conn.execute("SELECT MAX(id) FROM statements").fetchone()[0]
    conn.close()
    corrected = rng.sample(range(1, n_statements + 1), 2_000) + rng.sample(hot_ids, 200)
    store = open_store(path)
    assert isinstance(store, SQLStore)
    n_corrections = 0
    for sid in corrected:
        for _ in range(2 if rng.random() < 0.1 else 1):
            st = store.get_statement(sid)
            assert st is not None
            new = rng.choice([s for s, _w in STANCE_W if s != st.type])
            store.correct_statement(sid, new, "bench-curator", "label checked by hand")
            n_corrections += 1
    in_index = ([f"10.5555/bench.{n_docs + k}" for k in range(1, 21)]
                + [f"10.5555/bench.{t}" for t, _k in rng.sample(targets[2:], 30)]
                + [f"10.5555/bench.{n_docs + k}" for k in rng.sample(range(21, n_cited + 1), 145)])
    items = [(doi, None, "") for doi in in_index] + [(f"10.5555/missing.{k}", None, "") for k in range(5)]
    rng.shuffle(items)
    store.create_collection(BENCH_COLLECTION, "bench", items)
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE")
    conn.close()
    return {"notices": len(notices), "recent_documents": len(recent), "statements_corrected": len(corrected),
            "corrections": n_corrections, "collection_items": len(items)}


def pages_paths(db: Path, n: int = 400, seed: int = 31) -> dict[str, list[str]]:
    """The pages without a scenario before: one statement (20 % of them corrected), search with a common word
    and with ``-word``, the collection (page, API, Atom feed and alerts) and deep pages of the most cited work's
    statements. Needs :func:`add_integrity`."""
    conn = sqlite3.connect(db)
    n_docs = conn.execute("SELECT COUNT(*) FROM documents WHERE source LIKE 'bench%'").fetchone()[0]
    n_statements = conn.execute("SELECT MAX(id) FROM statements").fetchone()[0]
    corrected = [r[0] for r in conn.execute("SELECT id FROM statements WHERE corrected_by IS NOT NULL ORDER BY id")]
    cid = conn.execute("SELECT id FROM collections WHERE name = ?", (BENCH_COLLECTION,)).fetchone()[0]
    hot_n = conn.execute("SELECT COUNT(*) FROM statements WHERE cited_work_id = ?", (n_docs + 1,)).fetchone()[0]
    conn.close()
    rng = random.Random(seed)
    hot, retracted = f"10.5555/bench.{n_docs + 1}", f"10.5555/bench.{n_docs + 3}"
    ids = [rng.choice(corrected) if rng.random() < 0.2 else rng.randint(1, n_statements) for _ in range(n)]
    words = [w for w in WORDS if len(w) > 5]
    one = [rng.choice(words) for _ in range(n)]
    minus = [f"{rng.choice(words)}+-{rng.choice(words)}" for _ in range(n)]
    # Pages 1/2 … the last of the most cited work's statements, 100 a page (the API's largest page).
    last = -(-hot_n // 100)
    deep = [rng.randint(last // 2, last) for _ in range(n)]
    feed = f"/collections/{cid}/feed.atom"
    return {
        "statement page (mixed: 20% corrected)": [f"/statements/{i}" for i in ids],
        "statement API (mixed: 20% corrected)": [f"/api/statements/{i}" for i in ids],
        "search page, one common word": [f"/search?q={w}" for w in one],
        "search API, one common word": [f"/api/search?q={w}" for w in one],
        "search page, a word and -word": [f"/search?q={q}" for q in minus],
        "search API, a word and -word": [f"/api/search?q={q}" for q in minus],
        "collection page (200 works)": [f"/collections/{cid}"] * n,
        "collection page sorted by total, descending": [f"/collections/{cid}?sort=total&order=desc"] * n,
        "collection API (200 works)": [f"/api/collections/{cid}"] * n,
        "collection Atom feed, November 2026": [f"{feed}?since=2026-11-01&until=2026-12-01"] * n,
        "collection Atom feed, since 2000 (all history)": [f"{feed}?since=2000-01-01"] * n,
        "collection alerts API, one week": [f"/api/collections/{cid}/alerts?since=2026-11-10&until=2026-11-17"] * n,
        "citations API, deep pages of the most cited work (100 a page)": [
            f"/api/citations/{hot}?per_page=100&page={p}" for p in deep],
        "citations API, deep pages, newest first": [
            f"/api/citations/{hot}?per_page=100&page={p}&sort=newest" for p in deep],
        "citations API, deep pages, sure labels only": [
            f"/api/citations/{hot}?per_page=100&page={p}&min_confidence=auto" for p in deep],
        "report page, deep pages of the most cited work, newest first": [
            f"/reports/{hot}?sort=newest&page={rng.randint(250, 500)}" for _ in range(n)],
        "report page of a retracted top-20 work (banner)": [f"/reports/{retracted}"] * n,
    }


def _pages_note(db: Path) -> str:
    """What the index holds for the pages scenarios (see ``add_integrity``)."""
    conn = sqlite3.connect(db)

    def one(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    n = {"notices": one("SELECT COUNT(*) FROM notices"),
         "retractions": one("SELECT COUNT(*) FROM notices WHERE kind = 'retraction'"),
         "corrections": one("SELECT COUNT(*) FROM corrections"),
         "corrected": one("SELECT COUNT(*) FROM statements WHERE corrected_by IS NOT NULL"),
         "items": one(f"SELECT COUNT(*) FROM collection_items i JOIN collections c ON c.id = i.collection_id"
                      f" WHERE c.name = '{BENCH_COLLECTION}'"),
         "november": one("SELECT COUNT(*) FROM documents WHERE source LIKE 'bench%' AND ingested_at >= '2026-11'")}
    conn.close()
    return (f"Integrity data (see `add_integrity`): {n['notices']:,} editorial notices ({n['retractions']:,}"
            f" retractions, one of them on the third most cited work), {n['corrections']:,} curator corrections on"
            f" {n['corrected']:,} statements, {n['november']:,} citing articles that arrived in November 2026, and a"
            f" collection of {n['items']} DOIs (the 20 most cited works among them). \"Deep pages\" are pages from"
            " the middle to the end of the most cited work's statements (offset 8,500–17,100). Search, statement,"
            " collection and citations-API responses are computed on every request in either server"
            " configuration, so they run once (without the cache).")


def journal_paths(db: Path, n: int = 400, seed: int = 23) -> dict[str, list[str]]:
    """Journal pages: the 20 largest journals, and a mix (20 % largest, the rest at random)."""
    conn = sqlite3.connect(db)
    top = [r[0] for r in conn.execute("SELECT issn FROM works WHERE issn <> '' GROUP BY issn ORDER BY COUNT(*)"
                                      " DESC LIMIT 20")]
    every = [r[0] for r in conn.execute("SELECT DISTINCT issn FROM works WHERE issn <> ''")]
    conn.close()
    rng = random.Random(seed)
    mixed = [rng.choice(top) if rng.random() < 0.2 else rng.choice(every) for _ in range(n)]
    return {
        "journal page (mixed: 20% top-20 journals)": [f"/journals/{i}" for i in mixed],
        "journal page (top-20 journals only)": [f"/journals/{i}" for i in top],
        "journal API (top-20 journals only)": [f"/api/journals/{i}" for i in top],
        # Supporting/contrasting labels under the model's threshold counted as mentioning (?min_confidence=auto).
        "journal page with sure labels only (top-20 journals)": [f"/journals/{i}?min_confidence=auto" for i in top],
    }


def _journal_note(db: Path) -> str:
    """What the journal scenarios ask for, and one request at a time for the largest journal (no load)."""
    from citelens.store import open_store

    conn = sqlite3.connect(db)
    top = conn.execute("SELECT issn FROM works WHERE issn <> '' GROUP BY issn ORDER BY COUNT(*) DESC LIMIT 1")
    issn = top.fetchone()[0]
    conn.close()
    store = open_store(db, readonly=True)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        j = store.journal_profile(issn)
        times.append((time.perf_counter() - t) * 1000)
    store.close()
    assert j is not None
    return (f"Journals: 1,000 synthetic ones (see `add_journals`); the largest, {issn}, has {j.works:,} works"
            f" ({j.works_by_name:,} known by name only) and {j.tallies.total:,} statements citing them. One"
            f" request at a time, its profile takes {sorted(times)[2]:.0f} ms (median of 5, in-process, no"
            " HTTP). A journal's profile is an aggregate like the home page's figures: \"no cache\""
            " (CITELENS_CACHE_SECONDS=0) still reuses one counted in the last CITELENS_STATS_SECONDS (10 s), so"
            " there every distinct journal is counted once per scenario; the default server keeps it until the"
            " index changes.")


def people_paths(db: Path, n: int = 400, seed: int = 17) -> dict[str, list[str]]:
    """Author and institution pages: the 20 busiest of each, and a mix (20 % busiest, the rest at random)."""
    conn = sqlite3.connect(db)
    top_a = [r[0] for r in conn.execute("SELECT author_id FROM document_authors GROUP BY author_id"
                                        " ORDER BY COUNT(*) DESC LIMIT 20")]
    top_i = [r[0] for r in conn.execute("SELECT ror FROM document_authors GROUP BY ror ORDER BY COUNT(*) DESC"
                                        " LIMIT 20")]
    all_a = [r[0] for r in conn.execute("SELECT DISTINCT author_id FROM document_authors")]
    all_i = [r[0] for r in conn.execute("SELECT DISTINCT ror FROM document_authors")]
    conn.close()
    rng = random.Random(seed)
    mixed_a = [rng.choice(top_a) if rng.random() < 0.2 else rng.choice(all_a) for _ in range(n)]
    mixed_i = [rng.choice(top_i) if rng.random() < 0.2 else rng.choice(all_i) for _ in range(n)]
    return {
        "author page (mixed: 20% top-20 authors)": [f"/authors/{a}" for a in mixed_a],
        "author page (top-20 authors only)": [f"/authors/{a}" for a in top_a],
        # The works list is paged (50 a page): a later page in another order costs what the first does.
        "author page, works page 2 by most cited (top-20 authors)": [f"/authors/{a}?sort=cited&page=2" for a in top_a],
        "author API (top-20 authors only)": [f"/api/authors/{a}" for a in top_a],
        "institution page (mixed: 20% top-20)": [f"/institutions/{i}" for i in mixed_i],
        "institution page (top-20 institutions only)": [f"/institutions/{i}" for i in top_i],
        "institution API (top-20 institutions only)": [f"/api/institutions/{i}" for i in top_i],
        # Supporting/contrasting labels under the model's threshold counted as mentioning (?min_confidence=auto).
        "author page with sure labels only (top-20 authors)": [f"/authors/{a}?min_confidence=auto" for a in top_a],
        "institution page with sure labels only (top-20 institutions)":
            [f"/institutions/{i}?min_confidence=auto" for i in top_i],
    }


def build_index_pg(url: str, statements: int, seed: float = 0.7) -> dict[str, object]:
    """The same synthetic index on PostgreSQL, generated inside the server (``INSERT … SELECT`` over
    ``generate_series``: no Python row loop, no round trips), with the recipe of :func:`build_index`: as many
    documents, cited works and references, 20 statements per document, the same cubic heavy tail of cited
    works, the same vocabulary, stance mix, sections and self-citation share. Rows are not the same ones as in
    the SQLite file (another random generator); the distributions are. The secondary indexes are dropped for the
    load and rebuilt afterwards (as a restore would), then ANALYZE."""
    import psycopg

    from citelens.store import open_store
    from citelens.store.postgres import close_pools

    open_store(url).close()  # the real schema, by the migrations
    close_pools(url)
    n_docs = max(10, statements // 20)
    n_cited = max(100, statements // 5)
    per_doc = statements // n_docs
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"

    def sentence(n: int, salt: str) -> str:  # n random words (correlated with the row, so drawn per row)
        return (f"(SELECT string_agg(({words})[1 + floor(random() * {len(WORDS)})::int], ' ')"
                f" FROM generate_series(1, {n} + 0 * {salt}))")

    def cap(expr: str) -> str:  # first letter upper case, as str.capitalize() on these lower-case words
        return f"upper(left({expr}, 1)) || substr({expr}, 2)"

    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        # Load as pg_restore --disable-triggers does: no per-row foreign-key checks (the generated rows are
        # consistent by construction); the checks cost more than the inserts themselves.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SELECT setseed(%s)", (seed,))
        tables = ("works", "documents", "refs", "contexts", "statements")
        # Secondary indexes (not those behind a primary key or unique constraint): dropped, rebuilt after.
        secondary = conn.execute(
            "SELECT pg_get_indexdef(i.indexrelid), c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE n.nspname = current_schema() AND t.relname = ANY(%s)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            (list(tables),)).fetchall()
        index_defs = [ddl for ddl, _name in secondary]
        for _ddl, name in secondary:
            conn.execute(f'DROP INDEX "{name}"')
        steps = [
            ("works", f"""INSERT INTO works (id, doi, title, title_norm, title_key, authors_json, first_author, year,
                container, kind)
              SELECT i, '10.5555/bench.' || i, t, lower(t), left(replace(lower(t), ' ', ''), 24),
                     '[{{"family": "Author' || (i % 5000) || '", "given": "A"}}]', 'author' || (i % 5000),
                     1990 + i % 35, 'Journal of Benchmarks', CASE WHEN i <= {n_docs} THEN 'article'
                     ELSE 'reference' END
              FROM (SELECT i, {cap('t0')} AS t FROM (SELECT i, {sentence(7, 'i')} AS t0
                    FROM generate_series(1, {n_docs + n_cited}) i) w0) w"""),
            ("documents", f"""INSERT INTO documents (id, identity, source, format, work_id, doi, title, year, journal,
                ingested_at)
              SELECT i, 'doi:10.5555/bench.' || i, 'bench' || i || '.xml', 'jats', i, '10.5555/bench.' || i,
                     'Citing paper ' || i, 2000 + i % 25, 'Journal of Benchmarks', '{BUILT_AT}'
              FROM generate_series(1, {n_docs}) i"""),
            ("refs", f"""INSERT INTO refs (id, document_id, key, raw, work_id, method)
              SELECT (d - 1) * 10 + k + 1, d, 'r' || k, 'Ref ' || k,
                     {n_docs} + 1 + floor({n_cited} * power(random(), 3))::bigint, 'doi'
              FROM generate_series(1, {n_docs}) d, generate_series(0, 9) k"""),
            ("contexts", f"""INSERT INTO contexts (id, document_id, sentence, after, search_text)
              SELECT sid, (sid - 1) / {per_doc} + 1, s, a, btrim(regexp_replace(s, '[^A-Za-z0-9]+', ' ', 'g'))
              FROM (SELECT sid, {cap('s0')} || ' [1].' AS s, {cap('a0')} || '.' AS a
                    FROM (SELECT sid, {sentence(14, 'sid')} AS s0, {sentence(6, 'sid')} AS a0
                          FROM generate_series(1, {statements}) sid) c0) c"""),
            ("statements", f"""INSERT INTO statements (id, document_id, ref_id, cited_work_id, citing_work_id,
                citing_year, section, context_id, callout_start, callout_end, model_stance, model_confidence,
                stance, confidence, self_citation, first_seen)
              SELECT x.sid, x.d, r.id, r.work_id, x.d, 2000 + x.d % 25,
                     (ARRAY{list(SECTIONS)})[1 + floor(random() * {len(SECTIONS)})::int], x.sid,
                     length(c.sentence) - 4, length(c.sentence) - 1, x.stance, x.conf, x.stance, x.conf,
                     (random() < 0.05)::int, '{BUILT_AT}'
              FROM (SELECT sid, (sid - 1) / {per_doc} + 1 AS d, (sid - 1) % {per_doc} AS j,
                           CASE WHEN u < 0.86 THEN 'mentioning' WHEN u < 0.96 THEN 'supporting'
                                ELSE 'contrasting' END AS stance, round((0.5 + random() / 2)::numeric, 3) AS conf
                    FROM (SELECT sid, random() AS u FROM generate_series(1, {statements}) sid) g) x
              JOIN refs r ON r.id = (x.d - 1) * 10 + x.j % 10 + 1
              JOIN contexts c ON c.id = x.sid"""),
        ]
        timings: dict[str, float] = {}
        for table, sql in steps:
            t = time.perf_counter()
            conn.execute(sql)
            timings[table] = round(time.perf_counter() - t, 1)
            print(f"  {table}: {timings[table]} s", flush=True)
        t = time.perf_counter()
        for table in tables:  # identity columns continue after the generated ids
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        for ddl in index_defs:
            conn.execute(ddl)
        timings["indexes"] = round(time.perf_counter() - t, 1)
        print(f"  indexes: {timings['indexes']} s", flush=True)
        conn.execute("VACUUM ANALYZE")
    close_pools(url)
    timings["tallies"] = _rebuild_tallies(url)
    print(f"  per-work tallies: {timings['tallies']} s", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return {"statements": statements, "documents": n_docs, "works": n_docs + n_cited, "refs": n_docs * 10,
            "seconds": timings, "seconds_total": round(time.perf_counter() - t0, 1)}


def _insert_statements(conn: sqlite3.Connection, batch: list[tuple]) -> None:
    conn.executemany("INSERT INTO contexts (id, document_id, sentence, after) VALUES (?,?,?,?)",
                     ((b[0], b[1], b[7], b[8]) for b in batch))
    conn.executemany(
        "INSERT INTO statements (id, document_id, ref_id, cited_work_id, citing_work_id, citing_year, section,"
        " context_id, callout_start, callout_end, model_stance, model_confidence, stance, confidence,"
        " self_citation, first_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        # first_seen: when the statement arrived, its document's ingested_at, as the store's writer keeps it
        # (schema 14 indexes it for alerts and feeds).
        (b[:7] + (b[0],) + b[9:] + (BUILT_AT,) for b in batch))


# ------------------------------------------------------------------------------------------ load generator

async def _worker(host: str, port: int, paths: list[str], deadline: float, budget: list[int],
                  lat: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = random.randrange(len(paths))
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            path = paths[i % len(paths)]
            i += 1
            t = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\r\n".encode())
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                if k.lower() == "content-length":
                    length = int(v.strip())
            await reader.readexactly(length)
            lat.append(time.perf_counter() - t)
            code = status_line.split(b" ")[1] if status_line else b"?"
            if code != b"200":
                errors.append(f"{code.decode()} {path}")
    finally:
        writer.close()


def loadgen_main(argv: list[str]) -> None:
    """Runs in the second process: prints a JSON result line."""
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int)
    p.add_argument("--paths-file")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--seconds", type=float, default=20.0)
    a = p.parse_args(argv)
    paths = json.loads(Path(a.paths_file).read_text())
    lat: list[float] = []
    errors: list[str] = []

    async def run() -> float:
        budget = [a.requests]
        t0 = time.perf_counter()
        deadline = t0 + a.seconds
        await asyncio.gather(*(_worker("127.0.0.1", a.port, paths, deadline, budget, lat, errors)
                               for _ in range(a.concurrency)))
        return time.perf_counter() - t0

    wall = asyncio.run(run())
    lat.sort()

    def pct(q: float) -> float:
        return round(1000 * lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else float("nan")

    print(json.dumps({"requests": len(lat), "errors": len(errors), "error_sample": errors[:3],
                      "rps": round(len(lat) / wall, 1), "p50_ms": pct(0.50), "p90_ms": pct(0.90),
                      "p99_ms": pct(0.99), "max_ms": round(1000 * lat[-1], 1) if lat else None}))


# ------------------------------------------------------------------------------------------------- driver

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("server exited during start-up") from None
            time.sleep(0.2)
    raise SystemExit("server did not start")


def stop_server(server: subprocess.Popen, timeout: float = 10) -> None:
    server.terminate()
    try:
        server.wait(timeout)
    except subprocess.TimeoutExpired:
        server.kill()


@contextlib.contextmanager
def serving(db: Path | str, port: int, env: dict[str, str] | None = None,
            extra: Sequence[str] = ("--log-level", "error")) -> Iterator[subprocess.Popen]:
    """``citelens serve`` on ``port`` (in this checkout's source), ready to answer; stopped on leaving."""
    server = subprocess.Popen([sys.executable, "-c", "from citelens.cli import main; main()", "serve", "--db",
                               str(db), "--port", str(port), *extra], env=env)
    try:
        _wait_port(port, server)
        yield server
    finally:
        stop_server(server)


def scenario_paths(db: Path | str, n: int = 400, seed: int = 11) -> dict[str, list[str]]:
    if str(db).startswith("postgresql://"):
        import psycopg

        conn = psycopg.connect(str(db), autocommit=True)
        ph = "%s"
    else:
        conn = sqlite3.connect(db)  # type: ignore[assignment]
        ph = "?"
    # The citing articles only: add_people gives some cited works documents too ("cited….xml").
    n_docs = conn.execute("SELECT COUNT(*) FROM documents WHERE source LIKE 'bench%'").fetchone()[0]
    n_works = conn.execute("SELECT MAX(id) FROM works").fetchone()[0]
    n_statements = conn.execute("SELECT MAX(id) FROM statements").fetchone()[0]
    # The 20 most cited works: the heaviest report pages (thousands of statements each).
    hot = [r[0] for r in conn.execute(f"SELECT doi FROM works WHERE id BETWEEN {ph} AND {ph} ORDER BY id",
                                      (n_docs + 1, n_docs + 20))]
    hot_n = conn.execute(f"SELECT COUNT(*) FROM statements WHERE cited_work_id = {ph}", (n_docs + 1,)).fetchone()[0]
    conn.close()
    rng = random.Random(seed)
    rand = [f"10.5555/bench.{rng.randint(n_docs + 1, n_works)}" for _ in range(n)]
    mixed = [rng.choice(hot) if rng.random() < 0.2 else d for d in rand]
    words = [w for w in WORDS if len(w) > 5]
    return {
        "tallies API (mixed: 20% top-20 works)": [f"/api/tallies/{d}" for d in mixed],
        "tallies API (top-20 works only)": [f"/api/tallies/{d}" for d in hot],
        "report page (mixed: 20% top-20 works)": [f"/reports/{d}" for d in mixed],
        "report page (top-20 works only)": [f"/reports/{d}" for d in hot],
        "report page, filtered (type+section, top-20)": [
            f"/reports/{d}?type=supporting&section=results&sort=newest" for d in hot],
        # "Only labels the model is sure of": tallies, sections, chart and list all recounted at the threshold.
        "report page, only labels the model is sure of (top-20)": [f"/reports/{d}?min_confidence=auto" for d in hot],
        "report page, sure contrasting only (top-20)": [
            f"/reports/{d}?type=contrasting&min_confidence=auto" for d in hot],
        "statement search API": [f"/api/search?q={rng.choice(words)}+{rng.choice(words)}" for _ in range(n)],
        "search page (grouped by sentence)": [f"/search?q={rng.choice(words)}+{rng.choice(words)}" for _ in range(n)],
        "home page (most cited, recent, figures)": ["/"] * n,
        "scite tallies at the root path (GET /tallies/{doi})": [f"/tallies/{d}" for d in mixed],
        # Rankings (/top, GET /api/works/top): a ranking page is kept for CITELENS_STATS_SECONDS (10 s) even with
        # the counts cache off, so the first pages are mostly served from memory; the API's pages of 100 (of ~440
        # at a threshold) are spread so that most requests rank afresh: the cost of the first request after an
        # ingest.
        "top works page, most cited (pages 1-5)": [f"/top?by=cited&page={rng.randint(1, 5)}" for _ in range(n)],
        "top works page, most contrasted, sure labels (pages 1-5)": [
            f"/top?by=contrasting&min_confidence=auto&page={rng.randint(1, 5)}" for _ in range(n)],
        "top works API, most supported, sure labels (100 a page, pages 1-400)": [
            f"/api/works/top?by=supporting&min_confidence=auto&per_page=100&page={rng.randint(1, 400)}"
            for _ in range(n)],
        # One statement's page: the card's superscript citations (callout_spans), its sentence's neighbours.
        "statement page (random statements)": [f"/statements/{rng.randint(1, n_statements)}" for _ in range(n)],
        "_hot_statements": [str(hot_n)],
    }


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_scenario(workdir: Path, port: int, paths: list[str], a: argparse.Namespace,
                  server_pid: int | None = None) -> dict[str, object]:
    pf = workdir / "paths.json"
    pf.write_text(json.dumps(paths))
    base = [sys.executable, __file__, "--loadgen", "--port", str(port), "--paths-file", str(pf),
            "--concurrency", str(a.concurrency)]
    # Warm-up: the first hits open per-thread connections and fill the page cache.
    subprocess.run(base + ["--requests", "200", "--seconds", "10"], check=True, capture_output=True)
    cpu0 = process_cpu_seconds(server_pid) if server_pid else 0.0
    out = subprocess.run(base + ["--requests", str(a.requests), "--seconds", str(a.seconds)], check=True,
                         capture_output=True, text=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    # The server's CPU per request: what the page costs, whatever else the shared CPUs were doing (latency
    # tails are not: they wait for the CPU).
    if server_pid and res["requests"]:
        res["server_cpu_ms"] = round(1000 * (process_cpu_seconds(server_pid) - cpu0) / res["requests"], 1)
    return res


def _pg_index(base: str, statements: int, rebuild: bool) -> tuple[str, int]:
    """The URL of schema bench_web_<statements> on the server at ``base`` and how many statements it holds."""
    import psycopg

    schema = f"bench_web_{statements}"
    with psycopg.connect(base, autocommit=True) as conn:
        if rebuild:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        has = conn.execute("SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'statements'",
                           (schema,)).fetchone()
        existing = conn.execute(f"SELECT count(*) FROM {schema}.statements").fetchone()[0] if has else 0
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}", int(existing)


def _pg_schema_bytes(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n"
                           " ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                           ).fetchone()
    return int(row[0] or 0) if row else 0


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--loadgen":
        loadgen_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="/tmp/citelens-bench-web/bench.db")
    ap.add_argument("--statements", type=int, default=1_000_000)
    ap.add_argument("--rebuild", action="store_true", help="regenerate the index even if it exists")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--requests", type=int, default=2000, help="per scenario (also bounded by --seconds)")
    ap.add_argument("--seconds", type=float, default=15.0, help="per scenario")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update docs/benchmarks.md")
    ap.add_argument("--people-only", action="store_true",
                    help="author and institution scenarios only (section web-people)")
    ap.add_argument("--journals-only", action="store_true",
                    help="journal scenarios only (section web-journals), no cache and default cache")
    ap.add_argument("--pages-only", action="store_true",
                    help="statement, search, collection and deep-paging scenarios only (section web-pages); the"
                         " index gets notices, corrections, recent arrivals and a collection (add_integrity), once")
    ap.add_argument("--pg", default="", metavar="URL",
                    help="benchmark PostgreSQL instead: the index is built (once) in schema bench_web_<statements>"
                         " of the server at URL, and served with --db <that schema's URL>")
    ap.add_argument("--only", default="", help="run only the scenarios whose names start with one of these"
                                               " comma-separated prefixes (e.g. 'tallies,report')")
    ap.add_argument("--section", default="web", help="the docs/benchmarks.md section to write")
    ap.add_argument("--build-only", action="store_true", help="build (or check) the index, run no load")
    ap.add_argument("--caches", default="no,default", help="server configurations: no (recount on every"
                                                          " request), default (counts cache), or both")
    a = ap.parse_args()
    gen: dict[str, object] = {}
    existing = 0
    db: Path | str
    if a.pg:
        db, existing = _pg_index(a.pg, a.statements, a.rebuild)
    else:
        db = Path(a.db)
        if db.exists() and not a.rebuild:
            with sqlite3.connect(db) as c:
                existing = c.execute("SELECT COUNT(*) FROM statements").fetchone()[0]
    if existing != a.statements:
        print(f"generating {a.statements:,} statements into {db} …", flush=True)
        gen = build_index_pg(str(db), a.statements) if a.pg else build_index(Path(db), a.statements)
        print(f"  done: {gen}", flush=True)
    else:
        print(f"reusing {db} ({existing:,} statements)", flush=True)
        from citelens.store import open_store

        open_store(db).close()  # apply any indexes added to the store since the file was built
    if a.build_only:
        return
    people = add_people(Path(db)) if a.people_only and not a.pg else {}
    if people:
        print(f"  added people: {people}", flush=True)
    journals = add_journals(Path(db)) if a.journals_only and not a.pg else {}
    if journals:
        print(f"  added journals: {journals}", flush=True)
    integrity = add_integrity(Path(db)) if a.pages_only and not a.pg else {}
    if integrity:
        print(f"  added notices, corrections, arrivals and a collection: {integrity}", flush=True)
    if a.pg:
        size_mb = _pg_schema_bytes(str(db)) / 1e6
        workdir = Path(tempfile.mkdtemp(prefix="citelens-bench-web-"))
    else:
        size_mb = sum(Path(str(db) + s).stat().st_size for s in ("", "-wal") if Path(str(db) + s).exists()) / 1e6
        workdir = Path(db).parent
    load = os.getloadavg()
    scen = scenario_paths(db)
    hot_n = int(scen.pop("_hot_statements")[0])
    if a.people_only:
        scen = people_paths(Path(db))
    if a.journals_only:
        scen = journal_paths(Path(db))
    if a.pages_only:
        scen = pages_paths(Path(db))
    if a.only:
        prefixes = tuple(x.strip() for x in a.only.split(",") if x.strip())
        scen = {k: v for k, v in scen.items() if k.startswith(prefixes)}
    rows = []
    # Each scenario runs against a server that recounts on every request ("no cache") and against the
    # default configuration, which reuses a work's counts while the index files are unchanged.
    caches = [(label, sec) for label, sec in (("no cache", "0"), ("default cache", "60"))
              if label.split()[0] in a.caches.split(",")]
    for cache_label, cache_s in caches:
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CITELENS_CACHE_SECONDS": cache_s}
        with serving(db, port, env) as server:
            for name, paths in scen.items():
                # Search, statements, collections and the citations API read the store on every request: the
                # counts cache does not serve them.
                uncached = name.startswith(("statement search", "search page", "search API", "statement page",
                                            "statement API", "collection", "citations API"))
                if uncached and cache_s != "0":
                    continue  # search does not use the counts cache
                res = _run_scenario(workdir, port, paths, a, server.pid)
                label = name if uncached else f"{name} [{cache_label}]"
                print(f"{label}: {res}", flush=True)
                rows.append((label, res))
    from benchmarks._report import machine, write_section

    goal = {"tallies": 50.0, "scite tallies": 50.0, "report": 200.0, "home page": 200.0, "top works": 200.0,
            "author": 200.0, "institution": 200.0, "journal": 200.0, "statement page": 200.0, "statement API": 200.0,
            "search page,": 200.0, "search API,": 200.0, "collection": 200.0, "citations API": 200.0}
    flag = " --people-only" if a.people_only else " --journals-only" if a.journals_only else \
        " --pages-only" if a.pages_only else ""
    flag += "".join(f" --{k} {v}" for k, v in (("db", a.db), ("pg", a.pg), ("statements", a.statements),
                                                          ("only", a.only), ("caches", a.caches),
                                                          ("seconds", a.seconds), ("requests", a.requests))
                    if v != ap.get_default(k))
    lines = [
        "## Web: " + ("author and institution pages" if a.people_only else "journal pages" if a.journals_only
                      else "statement, search and collection pages, deep citation pages" if a.pages_only
                      else "report page and tallies API") + " under load"
        + (f" ({a.statements:,} statements, {'PostgreSQL' if a.pg else 'SQLite'})" if a.section != "web" else ""),
        "",
        f"Command: `.venv/bin/python benchmarks/bench_web.py{flag}`"
        f" ({machine()}).",
        "",
        f"Synthetic {'PostgreSQL (built in the server by build_index_pg)' if a.pg else 'SQLite'} index:"
        f" {a.statements:,} citation statements, {size_mb:,.0f} MB"
        + (f", generated in {gen['seconds_total']} s" if gen else "") + f"; the most cited work has {hot_n:,}"
        " statements. Server: `citelens serve` (one uvicorn process). Load: a second process"
        " with"
        f" {a.concurrency} keep-alive connections, up to {a.requests:,} requests or {a.seconds:.0f} s per scenario,"
        " after 200 warm-up requests; loopback only. \"No cache\" (CITELENS_CACHE_SECONDS=0) computes every"
        " response afresh: tallies, year and citation counts are read from the per-work tallies the writer keeps"
        " (schema 9), section counts and aggregates' citing publications are counted from the statements;"
        " the default server reuses responses while the database files are unchanged (an ingest shows at once)."
        + (" Author pages list 50 works a page (newest first unless `sort` says otherwise) with the figures over"
           " all of an author's works; the author API returns every work (up to 1,000 a page)." if a.people_only
           else "") +
        " The synthetic search vocabulary is ~90 words, so every search term matches ~15 % of all statements: a worst case, not a typical query."
        " Server CPU: user + system time of the `citelens serve` process per request"
        + (" (the database server's is not in it)" if a.pg else "") + "."
        " Tails (p99, max) move between runs when the CPUs are shared with other work: the 1-minute load average"
        f" was {load[0]:.1f} at the start and {os.getloadavg()[0]:.1f} at the end of this run (2 CPUs).",
        "",
        *([_journal_note(db), ""] if a.journals_only else []),
        *([_pages_note(db), ""] if a.pages_only else []),
        "| scenario | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | server CPU ms/request |"
        " goal (p99) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in rows:
        g = next((v for k, v in goal.items() if name.startswith(k)), None)
        verdict = "" if g is None else (f"< {g:.0f} ms: {'met' if r['p99_ms'] < g else 'NOT met'}")
        lines.append(f"| {name} | {r['requests']} | {r['errors']} | {r['rps']} | {r['p50_ms']} | {r['p90_ms']} |"
                     f" {r['p99_ms']} | {r['max_ms']} | {r.get('server_cpu_ms', '')} | {verdict} |")
    md = "\n".join(lines)
    print(md)
    if not a.no_write:
        section = a.section if a.section != "web" else "web-people" if a.people_only else \
            "web-journals" if a.journals_only else "web-pages" if a.pages_only else "web"
        print(f"wrote {write_section(section, md)}")


if __name__ == "__main__":
    main()
