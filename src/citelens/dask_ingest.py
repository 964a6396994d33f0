"""Batch ingest on a Dask cluster: workers parse, segment and classify; this process is the one writer.

``citelens ingest PATHS --db URL --dask local[N]`` (a local cluster of N worker processes) or
``--dask tcp://HOST:PORT`` (a running ``dask scheduler`` with workers that can read the same paths).

- Inputs travel as small picklable descriptors: a plain file as its path (the worker reads it); an archive
  member as its bytes, read here one member at a time in archive order (tar archives are forward-only
  streams, so one reader streams them once instead of every worker re-reading from the start).
- Several inputs go in one task (``task_size``, default 8): the scheduler, the messages and the result
  gathering are paid per task, and with one article per task they cost this process (where the local
  scheduler runs, beside the writer) more CPU than storing the article. A task whose worker dies is
  retried; if it fails for good, its inputs are tried again one per task, so only the culprit is reported.
- At most ``window`` tasks are in flight, so memory stays flat whatever the corpus size.
- A local cluster (``local[N]``) runs with Dask's per-process housekeeping slowed down (statistical profiler
  off, event-loop tick, memory and system monitors at 1–5 s instead of 10–500 ms; work stealing off since
  tasks are uniform): left at the defaults it costs ≈ 8 % of a core while idle, on cores the workers need.
- Results come back in input order and are stored in batches (``batch_size`` documents per transaction);
  each document is resolved and stored in its own savepoint, so a failing one never takes the batch down.
- The ingest manifest (``ingest_manifest`` table) records each finished input in the transaction that
  stores it. A re-run after a crash — this process killed with ``kill -9``, or a worker killed — skips what is
  already stored and stores nothing twice (a re-stored article would replace itself anyway: one identity).
- A file that fails is reported with its name and the reason; the batch goes on. A task whose worker dies is
  retried by Dask on another worker; one that keeps killing workers is reported as failed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citelens.document import Document
from citelens.errors import CiteLensError, InputError
from citelens.formats import is_metadata_source
from citelens.pipeline import (
    Failure,
    IngestSummary,
    InputFile,
    InputPaths,
    Pipeline,
    _for_the_writer,
    _guarded,
    _ingest_metadata,
    _read_file,
    limit_native_threads,
    metadata_first,
    process_document,
)
from citelens.stance import StanceClassifier, check_classifier_name, get_classifier
from citelens.store.base import Store

_LOCAL = re.compile(r"^local(?:\[(\d+)\])?$")


class ClusterSpecError(CiteLensError, ValueError):
    """``--dask`` names no cluster we can start or reach."""


class ClusterUnreachableError(ClusterSpecError):
    """``--dask tcp://…`` names a scheduler that does not answer: like a database that cannot be opened, not a
    usage error (the CLI exits 4). A ClusterSpecError still, for code that caught that before."""


class ClusterLostError(CiteLensError):
    """The client lost its scheduler mid-run and could not reconnect: what was in hand is stored, the rest is not."""


# How long a lost connection may take to come back before the ingest stops: the client's own reconnect time
# (its timeout, 20 s for tcp://) and a margin.
RECONNECT_WAIT_S = 40.0
# How long the ingest waits for a result while the scheduler has no worker at all (every `dask worker` stopped or
# killed, or none started yet) before it stops; checked every RESULT_POLL_S while a result is late.
NO_WORKERS_WAIT_S = 120.0
RESULT_POLL_S = 5.0
# A task cancelled this many times (the scheduler lost and back again, or cancelled by another client) is handled
# as one that failed: its inputs are tried one per task, then reported.
MAX_RESENDS = 3


@dataclass(frozen=True)
class FileInput:
    """A plain file: the worker reads it (it must see the same path)."""

    name: str
    path: str


@dataclass(frozen=True)
class BytesInput:
    """An archive member (or upload): its bytes travel with it."""

    name: str
    data: bytes


Descriptor = FileInput | BytesInput


def fingerprint(item: InputFile) -> str:
    """What identifies an input's content for the manifest: the file's (or archive's) size and mtime,
    plus the member's size. A changed file is ingested again; an unchanged one is skipped."""
    path = item.path or item.name.split("!", 1)[0]
    try:
        st = os.stat(path)
        base = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        base = "?"
    return f"{base}:{item.size if item.size is not None else '?'}"


# ------------------------------------------------------------------------------------------- workers

_WORKER_CLASSIFIERS: dict[str, StanceClassifier] = {}


def _worker_classifier(name: str | None) -> StanceClassifier:
    key = name or ""
    clf = _WORKER_CLASSIFIERS.get(key)
    if clf is None:
        limit_native_threads()  # first task in this worker: BLAS to the worker's thread budget
        clf = _WORKER_CLASSIFIERS[key] = get_classifier(name)
    return clf


def process_on_worker(desc: Descriptor, classifier_name: str | None) -> Document | Failure:
    """Runs on a Dask worker: read → parse → segment/link → classify. Never raises for a bad input."""
    def run() -> Document:
        data = _read_on_worker(desc) if isinstance(desc, FileInput) else desc.data
        # Without its paragraphs, as from the local workers: the writer never reads the full text.
        return _for_the_writer(process_document(data, desc.name, _worker_classifier(classifier_name)))

    return _guarded(run, desc.name)


def _read_on_worker(desc: FileInput) -> bytes:
    """The file, by its absolute path; one this worker cannot see says so (every input fails that way when the
    workers do not share the client's file system)."""
    try:
        return _read_file(Path(desc.path))
    except InputError as exc:
        problem = exc.problem
        if problem in ("no such file", "permission denied", "is a directory"):
            import socket

            problem += (f" on the Dask worker at {socket.gethostname()} ({desc.path}): the workers must see the"
                        " inputs at the same path as this machine")
        raise InputError(desc.name, problem) from None


def process_many_on_worker(descs: list[Descriptor], classifier_name: str | None) -> list[Document | Failure]:
    """One task, several inputs (in order); each input's failure stays its own."""
    return [process_on_worker(d, classifier_name) for d in descs]


# Dask settings for a local cluster, whose processes share this machine's cores with the workers' real work:
# measured on 2 cores, a LocalCluster with two idle workers used 1.6 s of CPU per 20 s with the defaults and
# 0.26 s with these.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,  # a stack sampler in every worker, every 10 ms
    "distributed.admin.tick.interval": "1s",  # event-loop responsiveness check, every 20 ms in every process
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.scheduler.work-stealing": False,  # tasks are alike and the window is small: nothing to steal
}
# For every client (local or remote cluster). The client's batched stream to the scheduler keeps its last
# ``low-level-log-length`` messages (default 1,000) for debugging, each whole when under 1 MB — and our
# "update-graph" messages carry the archive members' bytes (8 articles ≈ 0.9 MB). With the default the client
# grew ≈ 95 kB per stored article up to ≈ 1 GB (bench_scale at 10 k articles, 1,458 MB peak); 16 keeps ~15 MB.
# (In a local cluster the scheduler runs in this process too, and its transition/event logs share the setting.)
CLIENT_CONFIG: dict[str, Any] = {"distributed.admin.low-level-log-length": 16}


# ---------------------------------------------------------------------------------------------- client

class _SyncCancelNoise(logging.Filter):
    """Drops tornado's report of distributed's own slip on Ctrl-C: ``distributed.utils.sync`` schedules a
    ``cancel`` that reads a future not yet made, and tornado logs that callback's NameError with its traceback
    (seen in a test after "Aborted!"). The interrupt itself is handled; the traceback only alarms the user."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "sync.<locals>.cancel" not in record.getMessage()


def connect(spec: str) -> tuple[Any, Callable[[], None]]:
    """A ``distributed.Client`` for ``local[N]`` or ``tcp://HOST:PORT``, and how to shut it down."""
    import dask
    from distributed import Client, LocalCluster

    tornado_log = logging.getLogger("tornado.application")
    if not any(isinstance(f, _SyncCancelNoise) for f in tornado_log.filters):
        tornado_log.addFilter(_SyncCancelNoise())
    spec = spec.strip()
    m = _LOCAL.match(spec)
    if m:
        n = int(m.group(1) or os.cpu_count() or 1)
        if not 1 <= n <= 256:
            raise ClusterSpecError(f"--dask local[N]: N must be 1 to 256 (got {n})")
        dask.config.set({**LOCAL_CLUSTER_CONFIG, **CLIENT_CONFIG})  # global: the nannies hand it to the workers
        threads = str(max(1, (os.cpu_count() or 1) // n))
        with _sigint_ignored():
            # The workers' own logs only when critical: as the cluster closes (a stop, a SIGTERM) under load, a
            # worker's heartbeat can meet the scheduler already gone and log an ERROR with two tracebacks
            # ("Failed to communicate with scheduler during heartbeat", seen in a test at load 5). What goes wrong
            # in a task reaches this process through its future, and each input's failure is its own (Failure).
            # The scheduler always serves HTTP (health checks); with dashboard_address=None it took port 8787, and
            # when that was taken (a second ingest, any running `dask scheduler`) printed a UserWarning "Port 8787
            # is already in use" with its source line. A free port on loopback, no dashboard.
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                   host="127.0.0.1", env={"CITELENS_THREADS": threads},
                                   silence_logs=logging.CRITICAL,
                                   scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
        # The scheduler, in this process, times every garbage collection with a Python callback. A SIGTERM
        # handled inside it raised where exceptions are ignored: the ingest ran on to its end, printing two
        # "Exception ignored" tracebacks (seen in a test). Its long-GC warnings are not worth that here.
        from distributed.gc import disable_gc_diagnosis

        disable_gc_diagnosis(force=True)
        client = Client(cluster)

        def close() -> None:
            client.close()
            cluster.close()

        return client, close
    if spec.startswith("tcp://"):
        try:
            with dask.config.set(CLIENT_CONFIG):  # read when the client opens its stream to the scheduler
                client = Client(spec, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ClusterUnreachableError(f"cannot reach the Dask scheduler at {spec}: {exc}") from None
        return client, client.close
    raise ClusterSpecError(f"--dask must be local, local[N] or tcp://HOST:PORT (got {spec!r})")


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while a local cluster starts its worker processes, which inherit that (an ignored signal
    stays ignored across fork and exec, and Python leaves it so).

    A terminal's Ctrl-C goes to every process of the command's group: the worker processes died of it at once,
    each printing Dask's tracebacks of the broken connections (about 100 lines in one try), while this process
    was still stopping them. Now only this process handles it ("Aborted!"), and closing the cluster stops the
    workers, as ``citelens ingest --jobs N`` does with its own (2026-12-04). From the main thread only, where
    signal handlers can be set; a Ctrl-C during the second or so the cluster takes to start is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def ingest_on_dask(inputs: Iterable[InputFile], store: Store, client: Any, *, classifier: str | None = None,
                   summary: IngestSummary | None = None, batch_size: int = 64, window: int | None = None,
                   redo: bool = False, on_progress: Callable[[InputFile, str], None] | None = None,
                   task_size: int = 8) -> IngestSummary:
    """Ingest ``inputs`` with the workers of ``client``; this process resolves and stores, in input order.

    ``task_size`` inputs go to a worker in one task; at most ``window`` tasks (default 3 per worker) are in
    flight; ``batch_size`` documents are stored per transaction."""
    from distributed import as_completed  # noqa: F401 - imported to fail early when distributed is missing

    summary = summary or IngestSummary()
    t0 = time.perf_counter()
    pipeline = Pipeline(store, _NoClassifier())  # stores only: classification runs on the workers
    done = {} if redo else store.finished_inputs()
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = window or 3 * n_workers
    items = metadata_first(inputs)  # streamed when given InputPaths
    batch: list[tuple[InputFile, str, Document | Failure]] = []

    def flush() -> None:
        if batch:
            _store_batch(pipeline, batch, summary, on_progress)
            batch.clear()

    results = _results_in_order(items, done, client, classifier, window, max(1, task_size))
    try:
        _store_results(results, store, summary, on_progress, batch, flush, batch_size)
    except ClusterLostError:
        flush()  # the documents in hand are whole: stored, recorded, and skipped by the next run
        summary.seconds += time.perf_counter() - t0
        raise
    flush()
    summary.seconds += time.perf_counter() - t0
    return summary


def _store_results(results: Iterator[tuple[InputFile, str, Document | Failure | bytes | None]], store: Store,
                   summary: IngestSummary, on_progress: Callable[[InputFile, str], None] | None,
                   batch: list[tuple[InputFile, str, Document | Failure]], flush: Callable[[], None],
                   batch_size: int) -> None:
    for item, print_, outcome in results:
        if outcome is None:  # finished in an earlier run
            summary.already_stored += 1
            if on_progress:
                on_progress(item, "skipped")
            continue
        if isinstance(outcome, bytes):  # metadata: resolved against the index here, before the articles
            flush()
            def metadata(o: bytes = outcome, i: InputFile = item, p: str = print_) -> str:
                return _metadata_and_manifest(store, o, i, p, summary)

            status = _guarded(metadata, item.name, summary)
            if on_progress:
                on_progress(item, status if isinstance(status, str) else "stored")
            continue
        batch.append((item, print_, outcome))
        if len(batch) >= batch_size:
            flush()


class _Slot:
    """Input ``index`` of a task that carries several; the task's results are fetched once, then handed out."""

    def __init__(self, task: _Task, index: int) -> None:
        self.task, self.index = task, index


class _Task:
    def __init__(self, future: Any, descs: list[Descriptor]) -> None:
        self.future, self.descs = future, descs
        self.results: list[Any] | None = None
        self.left = len(descs)


def manifest_name(item: InputFile) -> str:
    """The name an input is recorded under in the ingest manifest: its file named the same from any working
    directory (``InputFile.key``: an absolute path, an archive's member under the archive's), so a re-run from
    elsewhere, or with the path typed otherwise, still skips what is stored. Inputs recorded by their name as
    typed (before) are still found by it."""
    return item.key or item.name


def _results_in_order(items: Iterable[InputFile], done: dict[str, str], client: Any, classifier: str | None,
                      window: int, task_size: int = 8,
                      ) -> Iterator[tuple[InputFile, str, Document | Failure | bytes | None]]:
    """(input, fingerprint, outcome) in input order; outcome None for inputs the manifest says are done."""
    pending: deque[tuple[InputFile, str, Any]] = deque()
    chunk: list[tuple[InputFile, str, Descriptor]] = []
    in_flight = 0

    def submit() -> None:
        nonlocal in_flight
        if chunk:
            descs = [d for _i, _p, d in chunk]
            task = _Task(client.submit(process_many_on_worker, descs, classifier, pure=False), descs)
            pending.extend((item, print_, _Slot(task, k)) for k, (item, print_, _d) in enumerate(chunk))
            in_flight += 1
            chunk.clear()

    def pop() -> tuple[InputFile, str, Any]:
        nonlocal in_flight
        item, print_, outcome = pending.popleft()
        if isinstance(outcome, _Slot):
            task = outcome.task
            if task.results is None:
                task.results = _task_results(task, client, classifier)
                in_flight -= 1
            outcome, task.left = task.results[outcome.index], task.left - 1
            if task.left == 0:
                task.results = None
        return item, print_, outcome

    for item in items:
        print_ = fingerprint(item)
        if print_ in (done.get(manifest_name(item)), done.get(item.name)):  # (or as typed: recorded before)
            submit()  # keep input order: what is queued before this entry goes first
            pending.append((item, print_, None))
        else:
            desc = _describe(item)
            if isinstance(desc, Failure):
                submit()
                pending.append((item, print_, desc))
            elif is_metadata_source(item.name):
                submit()
                data = desc.data if isinstance(desc, BytesInput) else _guarded(item.read, item.name)
                pending.append((item, print_, data))
            else:
                chunk.append((item, print_, desc))
                if len(chunk) >= task_size:
                    submit()
        while in_flight > window or (pending and not isinstance(pending[0][2], _Slot)):
            yield pop()
    submit()
    while pending:
        yield pop()


def _task_results(task: _Task, client: Any, classifier: str | None, resent: int = 0) -> list[Any]:
    """A task's outcomes; when the task failed on the cluster (its worker died on it, again and again), its
    inputs are tried again one per task, so that only the input that kills workers is reported.

    A task cancelled because the client lost the scheduler is not the inputs' fault: once the client has
    reconnected it is sent again whole; when it cannot (the scheduler is gone), ClusterLostError. Before, its
    inputs were re-sent one per task to the closed client, whose futures never finish: the ingest hung for good
    after "Failed to reconnect to scheduler" (seen with a `dask scheduler` stopped mid-run)."""
    try:
        return list(_result(task.future, client))
    except ClusterLostError:
        raise
    except Exception as exc:  # noqa: BLE001 - a worker that died on it, or a lost task: report, go on
        if _cancelled(exc) or getattr(client, "status", "running") != "running":
            _wait_for_scheduler(client, exc)  # ClusterLostError when it does not come back
            if resent < MAX_RESENDS:
                again = _Task(client.submit(process_many_on_worker, task.descs, classifier, pure=False), task.descs)
                return _task_results(again, client, classifier, resent + 1)
        if len(task.descs) == 1:
            return [Failure(task.descs[0].name, f"failed on the cluster ({type(exc).__name__}: {exc})")]
        singles = [_Task(client.submit(process_many_on_worker, [d], classifier, pure=False), [d])
                   for d in task.descs]
        return [_task_results(t, client, classifier)[0] for t in singles]
    finally:
        with contextlib.suppress(Exception):  # a closed client's loop may refuse the message; nothing to free
            task.future.release()


def _result(future: Any, client: Any) -> Any:
    """The future's result, waiting as long as it takes while the cluster has workers; ClusterLostError once the
    scheduler has had none for NO_WORKERS_WAIT_S. (Dask keeps a task until a worker comes: with every worker of a
    `dask worker` killed, the ingest waited silently for ever.)"""
    without_workers: float | None = None
    while True:
        try:
            return future.result(timeout=RESULT_POLL_S)
        except TimeoutError:
            pass
        if _worker_count(client) != 0:
            without_workers = None
            continue
        now = time.monotonic()
        without_workers = without_workers if without_workers is not None else now
        if now - without_workers >= NO_WORKERS_WAIT_S:
            address = getattr(getattr(client, "scheduler", None), "address", None) or "SCHEDULER_ADDRESS"
            raise ClusterLostError(f"the Dask scheduler has had no workers for {NO_WORKERS_WAIT_S:.0f} s; start"
                                   f" `dask worker {address}` processes that can read the inputs")


def _worker_count(client: Any) -> int | None:
    """Workers the scheduler knows now; None when it cannot be asked (the client is reconnecting)."""
    if getattr(client, "status", "running") != "running":
        return None
    try:
        return len(client.scheduler_info().get("workers", {}))
    except Exception:  # noqa: BLE001 - the scheduler did not answer: not a count of zero
        return None


def _cancelled(exc: BaseException) -> bool:
    """Dask's cancellation (the scheduler connection was lost, or the client closed), not a failure of the task."""
    from concurrent.futures import CancelledError

    return isinstance(exc, CancelledError)


def _wait_for_scheduler(client: Any, exc: BaseException) -> None:
    """Return once the client is connected again; ClusterLostError when it closes or does not come back."""
    address = getattr(getattr(client, "scheduler", None), "address", None)  # (gone once the client closes)
    deadline = time.monotonic() + RECONNECT_WAIT_S
    while getattr(client, "status", "running") in ("connecting", "newly-created") and time.monotonic() < deadline:
        time.sleep(0.1)
    status = getattr(client, "status", "running")
    if status != "running":
        at = f" at {address}" if address else ""
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ClusterLostError(f"lost the connection to the Dask scheduler{at} and could not reconnect"
                               f" (the client is {status}: {reason})")


def _describe(item: InputFile) -> Descriptor | Failure:
    """A picklable descriptor: a plain file by path, anything else (an archive member) by its bytes."""
    if item.path is not None:
        # Absolute: a worker runs in its own working directory (`dask worker` started elsewhere), where a relative
        # name such as ../corpus/a.xml is another file or none (every input failed with "no such file").
        return FileInput(item.name, os.path.abspath(item.path))
    data = _guarded(item.read, item.name)
    return data if isinstance(data, Failure) else BytesInput(item.name, data)


def _store_batch(pipeline: Pipeline, batch: list[tuple[InputFile, str, Document | Failure]],
                 summary: IngestSummary, on_progress: Callable[[InputFile, str], None] | None) -> None:
    """One transaction for the batch; each document in its own savepoint with its manifest row."""
    store = pipeline.store

    def finished(i: int) -> None:
        item, print_, _ = batch[i]
        store.mark_input_finished(manifest_name(item), print_, "stored")

    pipeline.store_batch([(item, outcome) for item, _p, outcome in batch], summary, on_progress, finished)


def _metadata_and_manifest(store: Store, data: bytes | Failure, item: InputFile, print_: str,
                           summary: IngestSummary) -> str:
    if isinstance(data, Failure):
        summary.failed.append(data)
        return "failed"
    with store.transaction():
        _ingest_metadata(store, data, item.name, summary)
        store.mark_input_finished(manifest_name(item), print_, "metadata")
    return "stored"


class _NoClassifier:
    """The writer's pipeline never classifies (the workers did)."""

    name = "none"

    def predict(self, inputs: list[Any]) -> list[Any]:
        raise AssertionError("the writer does not classify")


def ingest_paths_on_dask(paths: Iterable[str | Path], store: Store, spec: str, classifier: str | None = None,
                         **kw: Any) -> IngestSummary:
    """Convenience: start or reach the cluster named by ``spec``, ingest, shut the local cluster down."""
    summary = IngestSummary()
    inputs = InputPaths(paths, summary.skipped)
    check_classifier_name(classifier)  # fail before any cluster starts
    client, close = connect(spec)
    try:
        return ingest_on_dask(inputs, store, client, classifier=classifier, summary=summary, **kw)
    finally:
        close()
