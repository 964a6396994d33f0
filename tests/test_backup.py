"""`citelens backup`: a SQLite index copied while it is served and written, as SQLite's online backup makes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import citelens
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import open_store
from tally_check import assert_tallies_match_statements
from test_concurrent_writers import ARTICLE

ARTICLES = 40
STATEMENTS_PER_ARTICLE = 3  # each ARTICLE cites three works in one sentence


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "citelens.cli", *args], capture_output=True, text=True, timeout=300)


def test_a_backup_taken_while_an_ingest_writes_opens_with_consistent_counts(tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    open_store(db).close()
    finished = threading.Event()
    failures: list[BaseException] = []

    def ingest() -> None:
        try:
            writer = Pipeline(open_store(db), "cues")
            for i in range(ARTICLES):  # one transaction per article: many commits for the copies to fall between
                summary = writer.ingest([read_bytes_input(f"a{i}.xml", ARTICLE.format(w=0, n=i).encode())])
                assert not summary.failed, summary.failed
            writer.store.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            finished.set()

    thread = threading.Thread(target=ingest)
    reader = open_store(db, readonly=True)  # as `citelens backup` (and a web server beside it) opens the index
    thread.start()
    copies: list[tuple[Path, dict[str, int]]] = []
    while not finished.is_set():
        dest = tmp_path / f"copy-{len(copies)}.db"
        copies.append((dest, reader.backup(dest)))
    thread.join()
    assert not failures, failures
    last = tmp_path / "copy-last.db"
    copies.append((last, reader.backup(last)))
    reader.close()
    for dest, said in copies:
        copy = open_store(dest, readonly=True)
        stats = copy.stats()
        # Whole articles only: every stored document with all its statements, and tallies that add up.
        assert stats.statements == STATEMENTS_PER_ARTICLE * stats.documents
        assert said == {"schema_version": stats.schema_version, "documents": stats.documents,
                        "statements": stats.statements}
        if stats.statements:  # (a copy taken before the first article has nothing to add up)
            assert_tallies_match_statements(copy)
        copy.close()
        assert not list(tmp_path.glob(f".{dest.name}.partial-*"))
    assert copies[-1][1]["documents"] == ARTICLES
    # A copy is an index of its own: an ingest goes on in it.
    writer = Pipeline(open_store(last), "cues")
    writer.ingest([read_bytes_input("more.xml", ARTICLE.format(w=1, n=0).encode())])
    assert writer.store.stats().documents == ARTICLES + 1
    writer.store.close()


def test_backup_command(tmp_path: Path, mini_jats: bytes) -> None:
    db = tmp_path / "index.db"
    writer = Pipeline(open_store(db), "cues")
    writer.ingest([read_bytes_input("mini.xml", mini_jats)])
    writer.store.close()
    dest = tmp_path / "backup.db"
    r = cli("backup", "--db", str(db), str(dest), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert (summary["documents"], summary["statements"], summary["backup"]) == (1, 12, str(dest))
    assert open_store(dest, readonly=True).stats().statements == 12
    # An existing file is not replaced unless asked; the index itself never.
    again = cli("backup", "--db", str(db), str(dest))
    assert again.returncode == 2 and "--force" in again.stderr
    assert cli("backup", "--db", str(db), str(db)).returncode == 2
    # With --force, a -wal left beside the old file is not read as part of the new copy.
    (tmp_path / "backup.db-wal").write_bytes(b"stale")
    r = cli("backup", "--db", str(db), str(dest), "--force")
    assert r.returncode == 0 and "12 citation statements" in r.stdout, r.stderr
    assert not (tmp_path / "backup.db-wal").exists()
    missing = cli("backup", "--db", str(db), str(tmp_path / "no-such-folder" / "b.db"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    pg = cli("backup", "--db", "postgresql://nobody@127.0.0.1:1/x", str(tmp_path / "pg.db"))
    assert pg.returncode == 2 and "pg_dump" in pg.stderr and "Traceback" not in pg.stderr
    # "-" is standard output elsewhere; a SQLite copy is a file, and it made one named "-" in the working folder.
    src = str(Path(citelens.__file__).resolve().parents[1])  # PYTHONPATH=src is relative to the repository
    dash = subprocess.run([sys.executable, "-m", "citelens.cli", "backup", "--db", str(db), "-"], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": src}, capture_output=True, text=True, timeout=300)
    assert dash.returncode == 2 and "name a file" in dash.stderr and not (tmp_path / "-").exists()
