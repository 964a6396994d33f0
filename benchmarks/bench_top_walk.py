"""Before/after timing of /api/works/top page walks and a collection's alerts and page, in-process.

Usage: PYTHONPATH=src .venv/bin/python benchmarks/bench_top_walk.py COPY_OF_BENCH.db LABEL (a copy: the index is
upgraded in place). The 1 M-statement index with its collection comes from benchmarks/bench_web.py."""

import hashlib
import statistics
import sys
import time

from fastapi.testclient import TestClient

from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings

db, label = sys.argv[1], sys.argv[2]
open_store(db).close()
digest = hashlib.sha256()
with TestClient(create_app(db, Settings(secret_key="k"))) as c:
    def get(path):
        w0, p0 = time.perf_counter(), time.process_time()
        r = c.get(path)
        w, p = time.perf_counter() - w0, time.process_time() - p0
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        digest.update(path.encode())
        digest.update(r.content)
        return w * 1000, p * 1000
    get("/api/health")
    for by, extra in (("cited", ""), ("supporting", ""), ("contrasting", "&min_confidence=auto")):
        first = get(f"/api/works/top?by={by}&per_page=100&page=1{extra}")
        rest = [get(f"/api/works/top?by={by}&per_page=100&page={p}{extra}") for p in range(2, 41)]
        print(f"{label} top by={by}{extra}: page 1 {first[0]:.0f} ms wall / {first[1]:.0f} ms CPU;"
              f" pages 2-40: median {statistics.median(x[0] for x in rest):.1f} ms wall /"
              f" {statistics.median(x[1] for x in rest):.1f} ms CPU, total {sum(x[0] for x in rest)/1000:.2f} s wall")
    walk = [get(f"/api/works/top?by=supporting&per_page=100&page={p}&min_confidence=0.6") for p in range(1, 401)]
    print(f"{label} walk of 400 pages of 100, by=supporting&min_confidence=0.6: {sum(x[0] for x in walk)/1000:.2f} s"
          f" wall / {sum(x[1] for x in walk)/1000:.2f} s CPU; median page {statistics.median(x[0] for x in walk):.1f} ms,"
          f" slowest {max(x[0] for x in walk):.0f} ms")
    for name, path in (("alerts API, one week", "/api/collections/1/alerts?since=2026-11-10&until=2026-11-17"),
                       ("alerts API, since 2000", "/api/collections/1/alerts?since=2000-01-01"),
                       ("collection API", "/api/collections/1"),
                       ("collection page", "/collections/1")):
        runs = [get(path) for _ in range(15)]
        print(f"{label} {name}: median {statistics.median(x[0] for x in runs):.1f} ms wall /"
              f" {statistics.median(x[1] for x in runs):.1f} ms CPU")
print(label, "answers sha256", digest.hexdigest()[:16])
