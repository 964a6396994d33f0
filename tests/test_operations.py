"""What an operator sees over the years: an index made by an older CiteLens (upgraded in place by an ingest and
said so, served as it is and said so, upgraded once when two writers open it together), one made by a newer
CiteLens (refused with a message and exit 4, never a traceback), and a health check that tells a load balancer
when the index is gone."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import open_store
from citelens.store.migrations import latest_version, migration_version
from citelens.web.app import create_app
from live_server import free_port

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLD = migration_version("sqlite", "work_aliases") - 1  # an index from before work aliases (schema 9)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "citelens.cli", *args], capture_output=True, text=True, timeout=300)


def old_index(path: Path, mini_jats: bytes) -> Path:
    """An index as CiteLens at schema OLD left it: later tables not there, the version it recorded."""
    writer = Pipeline(open_store(path), "cues")
    writer.ingest([read_bytes_input("mini.xml", mini_jats)])
    writer.store.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE work_aliases")
    conn.execute("DROP INDEX IF EXISTS corrections_identity")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(OLD),))
    conn.commit()
    conn.close()
    return path


def schema_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    finally:
        conn.close()


def test_an_ingest_upgrades_an_older_index_in_place_and_says_so_once(tmp_path: Path, mini_jats: bytes) -> None:
    db = old_index(tmp_path / "old.db", mini_jats)
    r = cli("ingest", str(FIXTURES / "mini-jats.xml"), "--db", str(db), "--classifier", "cues", "-q")
    assert r.returncode == 0, r.stderr
    assert f"Upgraded the index {db} in place from schema {OLD} to {latest_version('sqlite')}" in r.stderr
    assert schema_of(db) == latest_version("sqlite")
    again = cli("ingest", str(FIXTURES / "mini-jats.xml"), "--db", str(db), "--classifier", "cues", "-q")
    assert again.returncode == 0 and "Upgraded" not in again.stderr


def test_two_writers_opening_an_older_index_together_upgrade_it_once(tmp_path: Path, mini_jats: bytes) -> None:
    db = old_index(tmp_path / "old.db", mini_jats)
    start = threading.Barrier(3)
    opened: list[object] = []
    failures: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            opened.append(open_store(db))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    upgraded = [s.upgraded_from for s in opened]  # type: ignore[attr-defined]
    assert upgraded.count(OLD) == 1 and upgraded.count(None) == 2
    for s in opened:
        assert s.stats().documents == 1  # type: ignore[attr-defined]
        s.close()  # type: ignore[attr-defined]
    assert schema_of(db) == latest_version("sqlite")


def test_serve_reads_an_older_index_as_it_is_and_says_so(tmp_path: Path, mini_jats: bytes) -> None:
    db = old_index(tmp_path / "old.db", mini_jats)
    port = free_port(range(18620, 18660))
    server = subprocess.Popen([sys.executable, "-m", "citelens.cli", "serve", "--db", str(db), "--port", str(port)],
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        lines = [server.stderr.readline(), server.stderr.readline()]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert f"{db} has schema {OLD}, made by an older CiteLens" in lines[0], lines
    assert "the next `citelens ingest` into it upgrades it" in lines[0]
    assert lines[1].startswith("CiteLens serving")
    assert schema_of(db) == OLD  # a server only reads
    with TestClient(create_app(db)) as client:  # and its pages work on the old schema
        assert client.get("/search?q=cells").status_code == 200
        assert client.get("/api/health").status_code == 200


def test_an_index_from_a_newer_citelens_is_refused_by_every_command(tmp_path: Path, mini_jats: bytes) -> None:
    db = old_index(tmp_path / "new.db", mini_jats)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    for args in (["ingest", str(FIXTURES / "mini-jats.xml"), "--classifier", "cues", "-q"], ["serve"], ["stats"],
                 ["backup", str(tmp_path / "copy.db")]):
        r = cli(*args, "--db", str(db))
        assert r.returncode == 4, (args, r.stderr)
        assert "made by a newer CiteLens (schema 99" in r.stderr and "upgrade CiteLens" in r.stderr, args
        assert "Traceback" not in r.stderr
    assert db.read_bytes() == before and not (tmp_path / "copy.db").exists()


def test_health_says_503_once_the_index_file_is_gone(tmp_path: Path, mini_jats: bytes) -> None:
    """The answering thread's open connection keeps reading a moved or deleted file; new threads cannot open it,
    so the server's pages are 503: the health check says so, for a load balancer to take it out."""
    db = old_index(tmp_path / "index.db", mini_jats)
    with TestClient(create_app(db)) as client:
        assert client.get("/api/health").json()["ok"] is True
        os.rename(db, tmp_path / "moved.db")
        gone = client.get("/api/health")
        assert gone.status_code == 503 and gone.json()["status"] == 503
        os.rename(tmp_path / "moved.db", db)
        assert client.get("/api/health").status_code == 200


def test_a_full_disk_during_an_ingest_is_reported_as_it_is(tmp_path: Path) -> None:
    """SQLite rolls the whole batch's transaction back itself when the disk fills (SQLITE_FULL; here a page limit
    makes the same error). The documents of the batch before the failing one were counted as stored though they
    were gone, and those after it committed one by one outside the batch: the summary said 28 stored of 29 while
    the index had gained 14. Now every document of that batch is reported failed, naming the full disk, and the
    summary counts what the index holds."""
    from test_concurrent_writers import ARTICLE

    store = open_store(tmp_path / "index.db")
    writer = Pipeline(store, "cues")
    writer.ingest([read_bytes_input("a0.xml", ARTICLE.format(w=0, n=0).encode())])
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]  # type: ignore[attr-defined]
    store.conn.execute(f"PRAGMA max_page_count={pages + 3}")  # type: ignore[attr-defined]
    summary = writer.ingest([read_bytes_input(f"a{i}.xml", ARTICLE.format(w=0, n=i).encode()) for i in range(1, 30)])
    stats = store.stats()
    assert summary.failed and summary.stored + len(summary.failed) == 29
    assert stats.documents == 1 + summary.stored and stats.statements == 3 * stats.documents
    assert all("database or disk is full" in f.problem for f in summary.failed), summary.failed[:3]
    store.close()


def test_a_curator_stays_signed_in_across_workers_without_a_secret_key(tmp_path: Path, mini_jats: bytes) -> None:
    """`serve --workers 2` without CITELENS_SECRET_KEY: the workers share one random key for the run."""
    import re
    import time

    import httpx

    db = tmp_path / "index.db"
    writer = Pipeline(open_store(db), "cues")
    writer.ingest([read_bytes_input("mini.xml", mini_jats)])
    writer.store.close()
    port = free_port(range(18660, 18700))
    env = {k: v for k, v in os.environ.items() if k != "CITELENS_SECRET_KEY"}
    env["CITELENS_CURATORS"] = "alice=alice-token"
    server = subprocess.Popen([sys.executable, "-m", "citelens.cli", "serve", "--db", str(db), "--port", str(port),
                               "--workers", "2"], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(300):  # the workers start (a few seconds)
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            form = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token
            r = client.post("/login", data={"csrf_token": token.group(1), "name": "alice", "token": "alice-token"})
            assert r.status_code == 303
            # New connections, so that the kernel hands them to either worker.
            pages = [httpx.get(base + "/search", cookies=client.cookies, timeout=10).text for _ in range(20)]
        assert all("Curator: alice" in page for page in pages)
    finally:
        server.terminate()
        server.wait(timeout=30)
