"""Batch ingest on Dask: the same index as one process, in input order; resumes after kill -9 storing nothing twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from citelens.pipeline import ingest_paths
from citelens.store import export_row, open_store
from tally_check import assert_tallies_match_statements
from test_store import citing

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    from citelens.dask_ingest import connect

    client, close = connect("local[2]")
    yield client
    close()


def corpus(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"c{i:03d}.xml").write_bytes(citing(f"10.5555/c{i}", f"Paper {i} agrees with Barnes", 2000 + i % 20,
                                                     author=f"Author{i % 7}"))
    return folder


def rows(store_target: Path | str) -> list[dict]:
    store = open_store(store_target, readonly=True)
    out = [{k: v for k, v in export_row(r).items()} for r in store.iter_statements()]
    store.close()
    return out


def test_dask_stores_the_same_as_one_process_in_input_order(tmp_path: Path, dask_client: object,
                                                             mini_jats: bytes) -> None:
    from citelens.dask_ingest import ingest_on_dask
    from citelens.pipeline import IngestSummary, iter_inputs

    folder = corpus(tmp_path / "in", 12)
    (folder / "a-mini.xml").write_bytes(mini_jats)
    (folder / "broken.xml").write_bytes(b"<oops")
    (folder / "works.jsonl").write_bytes(b'{"DOI": "10.7777/barnes", "title": "Sentinel behaviour in bacterial'
                                         b' colonies", "author": [{"family": "Barnes"}], "issued": {"date-parts":'
                                         b' [[2001]]}}\n')
    with tarfile.open(tmp_path / "more.tar.gz", "w:gz") as tf:  # archive members travel as bytes
        tf.add(FIXTURES / "xss-article.xml", arcname="x/xss-article.xml")
        tf.add(FIXTURES / "grobid_sample.tei.xml", arcname="x/grobid_sample.tei.xml")
    paths = [folder, tmp_path / "more.tar.gz"]

    one = open_store(tmp_path / "one.db")
    s1 = ingest_paths(paths, one, "cues")
    one.close()
    dask_db = tmp_path / "dask.db"
    store = open_store(dask_db)
    summary = IngestSummary()
    seen: list[str] = []
    s2 = ingest_on_dask(list(iter_inputs(paths, summary.skipped)), store, dask_client, classifier="cues",
                        summary=summary, batch_size=4, on_progress=lambda item, status: seen.append(item.name))
    store.close()
    assert (s2.stored, s2.metadata_records) == (s1.stored, s1.metadata_records) == (15, 1)
    assert [Path(f.source).name for f in s2.failed] == ["broken.xml"] and "XML" in s2.failed[0].problem
    assert seen[0].endswith("works.jsonl") and len(seen) == 17  # metadata first, then every input once
    assert rows(dask_db) == rows(tmp_path / "one.db")
    # A second run skips what the manifest lists; the failed file is tried again.
    store = open_store(dask_db)
    s3 = ingest_on_dask(list(iter_inputs(paths)), store, dask_client, classifier="cues")
    assert s3.already_stored == 16 and s3.stored == 0 and len(s3.failed) == 1
    # The same inputs named from another working directory (the paths as typed differ): still stored.
    from citelens.dask_ingest import manifest_name

    elsewhere = [os.path.relpath(p, tmp_path / "in") for p in paths]
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path / "in")
        moved = list(iter_inputs(elsewhere))
        assert {manifest_name(i) for i in moved} <= set(store.finished_inputs()) | {str(folder / "broken.xml")}
        s3b = ingest_on_dask(moved, store, dask_client, classifier="cues")
    finally:
        os.chdir(cwd)
    assert s3b.already_stored == 16 and s3b.stored == 0 and len(s3b.failed) == 1
    # --redo ingests everything again: replacements, nothing twice
    s4 = ingest_on_dask(list(iter_inputs(paths)), store, dask_client, classifier="cues", redo=True)
    assert s4.stored == 15 and s4.replaced == 15
    store.close()
    assert rows(dask_db)[0].keys() == rows(tmp_path / "one.db")[0].keys()
    assert len(rows(dask_db)) == len(rows(tmp_path / "one.db"))


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_killed_ingest_resumes_and_stores_nothing_twice(tmp_path: Path, backend: str,
                                                        request: pytest.FixtureRequest) -> None:
    n = 300
    folder = corpus(tmp_path / "in", n)
    db = str(tmp_path / "k.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    cmd = [str(Path(sys.executable).parent / "citelens"), "ingest", str(folder), "--db", db, "--dask", "local[1]",
           "--classifier", "cues", "--batch-size", "2", "--quiet", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if _finished(db) >= 6:
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the client and its local cluster, without any cleanup
        proc.wait()
    stored_before = _finished(db)
    assert 6 <= stored_before < n, "the kill should land mid-run"
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    summary = json.loads(out.stdout)
    assert summary["already_stored"] == stored_before and summary["stored"] == n - stored_before
    store = open_store(db, readonly=True)
    st = store.stats()
    assert st.documents == n and st.statements == n  # each article once, each of its statements once
    assert len({r.citing_doi for r in store.iter_statements()}) == n
    assert_tallies_match_statements(store)  # written in the same transactions: the kill left none half-counted
    store.close()


def _finished(db: str) -> int:
    """Inputs the manifest lists (what a crashed run had committed)."""
    try:
        if db.startswith("postgresql://"):
            import psycopg

            with psycopg.connect(db, connect_timeout=3) as conn:
                row = conn.execute("SELECT COUNT(*) FROM ingest_manifest").fetchone()
        else:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                row = conn.execute("SELECT COUNT(*) FROM ingest_manifest").fetchone()
        return int(row[0]) if row else 0
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def test_client_keeps_a_short_message_log(dask_client: object) -> None:
    # The client's stream to the scheduler logs its recent messages whole when under 1 MB; ours carry archive
    # members' bytes, and with Dask's default of 1,000 the client grew ~95 kB per stored article (bench_scale).
    from citelens.dask_ingest import CLIENT_CONFIG

    log = dask_client.scheduler_comm.recent_message_log  # type: ignore[attr-defined]
    assert log.maxlen == CLIENT_CONFIG["distributed.admin.low-level-log-length"] <= 16


def test_cluster_spec_errors(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from citelens.cli import main

    folder = corpus(tmp_path / "in", 1)
    r = CliRunner().invoke(main, ["ingest", str(folder), "--db", str(tmp_path / "x.db"), "--dask", "yarn://x"])
    assert r.exit_code == 2 and "local[N] or tcp://HOST:PORT" in r.output
    r = CliRunner().invoke(main, ["ingest", str(folder), "--db", str(tmp_path / "x.db"), "--dask", "local[2]",
                                  "--jobs", "2"])
    assert r.exit_code == 2 and "--jobs" in r.output


def test_a_scheduler_that_does_not_answer_is_exit_4_like_a_database(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 2 said the command was mistyped; the scheduler is simply not there, as an unreachable database (4)."""
    import distributed
    from click.testing import CliRunner

    from citelens.cli import main
    from citelens.dask_ingest import ClusterSpecError, ClusterUnreachableError, connect

    def refused(*args: object, **kwargs: object) -> None:  # (Dask retries a refused port for its whole timeout)
        raise OSError("Timed out trying to connect to tcp://127.0.0.1:1 after 20 s")

    monkeypatch.setattr(distributed, "Client", refused)
    with pytest.raises(ClusterUnreachableError) as caught:
        connect("tcp://127.0.0.1:1")
    assert isinstance(caught.value, ClusterSpecError)  # what callers caught before still catches it
    folder = corpus(tmp_path / "in", 1)
    r = CliRunner().invoke(main, ["ingest", str(folder), "--db", str(tmp_path / "x.db"), "--dask",
                                  "tcp://127.0.0.1:1", "--json"])
    assert r.exit_code == 4, r.output
    summary = json.loads(r.stdout)
    assert summary["exit_code"] == 4 and "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in summary["error"]
    assert not (tmp_path / "x.db").exists()  # refused before the index is opened


def test_a_killed_worker_loses_nothing(tmp_path: Path) -> None:
    import psutil

    n = 300
    folder = corpus(tmp_path / "in", n)
    db = str(tmp_path / "w.db")
    cmd = [str(Path(sys.executable).parent / "citelens"), "ingest", str(folder), "--db", db, "--dask", "local[2]",
           "--classifier", "cues", "--batch-size", "4", "--quiet", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed = False
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not killed:
        if _finished(db) >= 6:
            workers = [p for p in psutil.Process(proc.pid).children(recursive=True)
                       if "spawn_main" in " ".join(p.cmdline())]
            if workers:
                workers[0].kill()  # SIGKILL one worker process mid-run
                killed = True
        time.sleep(0.02)
    out, _err = proc.communicate(timeout=300)
    assert killed, "the worker should be killed mid-run"
    summary = json.loads(out)
    assert summary["stored"] == n and summary["failed"] == []  # its tasks ran again on the other worker
    store = open_store(db, readonly=True)
    assert store.stats().documents == n and store.stats().statements == n
    store.close()


class _FakeFuture:
    def __init__(self, fn: object, args: tuple) -> None:
        self.fn, self.args, self.key = fn, args, id(self)
        self.released = False

    def result(self, timeout: float | None = None) -> object:
        descs = self.args[0]
        if len(descs) > 1 and any("poison" in d.name for d in descs):
            raise RuntimeError("KilledWorker: the worker died on this task")  # as Dask says after retries
        if any("poison" in d.name for d in descs):
            raise RuntimeError("KilledWorker")
        return [f"done:{d.name}" for d in descs]

    def release(self) -> None:
        self.released = True


class _FakeClient:
    def __init__(self) -> None:
        self.tasks: list[_FakeFuture] = []

    def submit(self, fn: object, *args: object, pure: bool = True) -> _FakeFuture:
        self.tasks.append(_FakeFuture(fn, args))
        return self.tasks[-1]


def test_inputs_travel_several_per_task_in_order_and_a_poisonous_one_fails_alone(tmp_path: Path) -> None:
    from citelens.dask_ingest import _results_in_order, fingerprint
    from citelens.pipeline import Failure, InputFile

    names = [f"a{i}.xml" for i in range(7)] + ["poison.xml", "b.jsonl"] + [f"c{i}.xml" for i in range(5)]
    items = []
    for n in names:
        (tmp_path / n).write_bytes(b"{}" if n.endswith(".jsonl") else b"<article/>")
        items.append(InputFile(n, (tmp_path / n).read_bytes, 10, str(tmp_path / n)))
    done = {"a1.xml": fingerprint(items[1])}  # finished by an earlier run
    client = _FakeClient()
    out = list(_results_in_order(items, done, client, "cues", window=2, task_size=3))
    assert [i.name for i, _p, _o in out] == names  # input order, whatever the grouping
    outcomes = {i.name: o for i, _p, o in out}
    assert outcomes["a1.xml"] is None and outcomes["b.jsonl"] == b"{}"
    assert outcomes["a0.xml"] == "done:a0.xml" and outcomes["c4.xml"] == "done:c4.xml"
    poisoned = outcomes["poison.xml"]
    assert isinstance(poisoned, Failure) and "failed on the cluster" in poisoned.problem
    assert all(outcomes[n] == f"done:{n}" for n in names if n.endswith(".xml") and n not in ("a1.xml", "poison.xml"))
    sizes = [len(t.args[0]) for t in client.tasks]
    assert max(sizes) == 3 and sum(sizes) > len(names) - 2  # grouped; the poisoned task's inputs re-sent alone
    assert all(t.released for t in client.tasks)


class _LosingFuture:
    def __init__(self, client: _LosingClient, fn: object, args: tuple) -> None:
        self.client, self.fn, self.args = client, fn, args

    def result(self, timeout: float | None = None) -> object:
        from concurrent.futures import CancelledError

        self.client.results += 1
        if self.client.results > self.client.lose_after:
            # What distributed does when the scheduler goes away: every future cancelled, then (after trying to
            # reconnect) the client closed, or running again when the scheduler came back.
            self.client.status = self.client.then
            self.client.lose_after = 10**9
            raise CancelledError("cancelled for reason: scheduler-connection-lost.")
        return self.fn(*self.args)  # type: ignore[operator]

    def release(self) -> None:
        if self.client.status == "closed":
            raise RuntimeError("IOLoop is closed")  # as a closed client's loop can


class _LosingClient:
    """Runs tasks here, in order; the scheduler is lost at the result after ``lose_after``."""

    def __init__(self, lose_after: int, then: str) -> None:
        self.lose_after, self.then = lose_after, then
        self.status, self.results, self.submitted = "running", 0, 0

    def submit(self, fn: object, *args: object, pure: bool = True) -> _LosingFuture:
        if self.status == "closed":
            raise RuntimeError("Client is closed. Can't send update-graph message.")
        self.submitted += 1
        return _LosingFuture(self, fn, args)

    def scheduler_info(self) -> dict:
        return {"workers": {"w1": {}}}


def test_a_lost_scheduler_stops_the_ingest_keeping_what_was_in_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    store_url: str) -> None:
    # Before: the lost task's inputs were re-sent one by one to the closed client, whose futures never finish,
    # and `citelens ingest --dask tcp://…` hung for good after "Failed to reconnect to scheduler".
    from click.testing import CliRunner

    import citelens.dask_ingest as dask_ingest
    from citelens.cli import main
    from citelens.dask_ingest import ClusterLostError, ingest_paths_on_dask

    monkeypatch.setattr(dask_ingest, "RECONNECT_WAIT_S", 0.5)
    folder = corpus(tmp_path / "in", 12)
    lost = _LosingClient(lose_after=3, then="closed")
    monkeypatch.setattr(dask_ingest, "connect", lambda spec: (lost, lambda: None))
    args = ["ingest", str(folder), "--db", store_url, "--dask", "tcp://127.0.0.1:1", "--classifier", "cues",
            "--batch-size", "4", "--task-size", "2", "--json"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 4, r.output
    summary = json.loads(r.stdout)
    assert summary["exit_code"] == 4 and "lost the connection to the Dask scheduler" in summary["error"]
    assert summary["stored"] == 6 and summary["failed"] == []  # the three tasks that came back, all stored
    store = open_store(store_url, readonly=True)
    assert store.stats().documents == 6 and len(store.finished_inputs()) == 6
    store.close()
    # The same command once the cluster is back resumes after them.
    monkeypatch.setattr(dask_ingest, "connect", lambda spec: (_LosingClient(10**9, "running"), lambda: None))
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["already_stored"] == 6 and summary["stored"] == 6
    # A scheduler that comes back in time: the cancelled task is sent again whole and nothing is missing.
    back = _LosingClient(lose_after=2, then="running")
    monkeypatch.setattr(dask_ingest, "connect", lambda spec: (back, lambda: None))
    again = ingest_paths_on_dask([folder], open_store(store_url), "tcp://x", classifier="cues", redo=True,
                                 task_size=2)
    assert again.stored == 12 and again.failed == [] and back.submitted == 7
    with pytest.raises(ClusterLostError):
        monkeypatch.setattr(dask_ingest, "connect", lambda spec: (_LosingClient(0, "closed"), lambda: None))
        ingest_paths_on_dask([folder], open_store(store_url), "tcp://x", classifier="cues", redo=True)


def test_files_travel_by_absolute_path_and_one_a_worker_cannot_see_says_so(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A `dask worker` started in another directory read ../corpus/a.xml from there: every input of
    # `citelens ingest ../corpus --dask tcp://…` failed with a bare "no such file".
    from citelens.dask_ingest import FileInput, _describe, process_on_worker
    from citelens.pipeline import Failure, InputFile

    corpus(tmp_path / "in", 1)
    monkeypatch.chdir(tmp_path / "in")
    desc = _describe(InputFile("../in/c000.xml", lambda: b"", 10, "../in/c000.xml"))
    assert isinstance(desc, FileInput) and desc.name == "../in/c000.xml"
    assert desc.path == str(tmp_path / "in" / "c000.xml")
    monkeypatch.chdir(tmp_path)  # the worker's own directory
    out = process_on_worker(desc, "cues")
    assert not isinstance(out, Failure) and out.source == "../in/c000.xml"
    gone = process_on_worker(FileInput("../in/gone.xml", str(tmp_path / "in" / "gone.xml")), "cues")
    assert isinstance(gone, Failure) and gone.source == "../in/gone.xml"
    assert gone.problem.startswith("no such file on the Dask worker") and "same path" in gone.problem


def test_a_local_cluster_serves_http_on_a_free_loopback_port(dask_client: object) -> None:
    # Its scheduler took port 8787, and with 8787 taken (a second ingest, a running `dask scheduler`) every
    # `citelens ingest --dask local[N]` printed a UserWarning "Port 8787 is already in use" with its source line.
    scheduler = dask_client.cluster.scheduler  # type: ignore[attr-defined]
    bound = [s.getsockname() for s in scheduler.http_server._sockets.values()]
    assert bound and all(host == "127.0.0.1" and port != 8787 for host, port, *_ in bound)


class _SlowFuture:
    def __init__(self, client: _WorkerlessClient, args: tuple) -> None:
        self.client, self.args, self.waits = client, args, 0

    def result(self, timeout: float | None = None) -> object:
        self.waits += 1
        if self.client.workers == 0 or self.waits <= 2:
            raise TimeoutError  # as distributed's Future.result(timeout=…) does while the task waits
        return [f"done:{d.name}" for d in self.args[0]]

    def release(self) -> None:
        pass


class _WorkerlessClient:
    status = "running"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def submit(self, fn: object, *args: object, pure: bool = True) -> _SlowFuture:
        return _SlowFuture(self, args)

    def scheduler_info(self) -> dict:
        return {"workers": {f"w{i}": {} for i in range(self.workers)}}


def test_a_cluster_without_workers_stops_the_ingest_instead_of_waiting_for_ever(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With every `dask worker` killed (the scheduler still up), the ingest waited silently for ever.
    import citelens.dask_ingest as dask_ingest
    from citelens.dask_ingest import ClusterLostError, _results_in_order
    from citelens.pipeline import InputFile

    monkeypatch.setattr(dask_ingest, "RESULT_POLL_S", 0.01)
    monkeypatch.setattr(dask_ingest, "NO_WORKERS_WAIT_S", 0.05)
    items = []
    for n in ("a.xml", "b.xml"):
        (tmp_path / n).write_bytes(b"<article/>")
        items.append(InputFile(n, (tmp_path / n).read_bytes, 10, str(tmp_path / n)))
    # Slow results while workers are there: waited for, however long.
    out = list(_results_in_order(items, {}, _WorkerlessClient(workers=1), "cues", window=2, task_size=1))
    assert [o for _i, _p, o in out] == ["done:a.xml", "done:b.xml"]
    with pytest.raises(ClusterLostError, match="no workers"):
        list(_results_in_order(items, {}, _WorkerlessClient(workers=0), "cues", window=2, task_size=1))


class _AlwaysCancelled:
    status = "running"

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: object, *args: object, pure: bool = True) -> _AlwaysCancelled:
        self.submitted += 1
        return self

    def result(self, timeout: float | None = None) -> object:
        from concurrent.futures import CancelledError

        raise CancelledError("cancelled for reason: unknown.")

    def release(self) -> None:
        pass


def test_a_task_cancelled_again_and_again_is_reported_not_resent_for_ever(tmp_path: Path) -> None:
    from citelens.dask_ingest import MAX_RESENDS, _results_in_order
    from citelens.pipeline import Failure, InputFile

    items = []
    for n in ("a.xml", "b.xml"):
        (tmp_path / n).write_bytes(b"<article/>")
        items.append(InputFile(n, (tmp_path / n).read_bytes, 10, str(tmp_path / n)))
    client = _AlwaysCancelled()
    out = [o for _i, _p, o in _results_in_order(items, {}, client, "cues", window=2, task_size=2)]
    assert all(isinstance(o, Failure) and "failed on the cluster" in o.problem for o in out) and len(out) == 2
    assert client.submitted == (1 + MAX_RESENDS) * 3  # the pair, then each alone, each resent MAX_RESENDS times
