"""The pipeline: parse → segment/link → classify → resolve → store, over files, folders and archives.

Stages are plain functions over one :class:`Document` (``parse_document``, ``build_statements``,
``classify_statements``, ``resolve_references``) and a :class:`Pipeline` runs them in order; the
classifier is chosen by name from the stance registry, and ``process_document`` runs the database-free
stages alone.
Resolution and storage happen in one transaction per document: a failure leaves nothing half-stored.
"""

from __future__ import annotations

import os
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from citelens.document import Document
from citelens.errors import CiteLensError, InputError, InputTooLargeError, MalformedInputError
from citelens.formats import ARTICLE_SUFFIXES, METADATA_SUFFIXES, parse_document
from citelens.formats.crossref import parse_metadata_lines
from citelens.references.resolve import find_matching_work, resolve_references
from citelens.stance import StanceClassifier, classify_statements, get_classifier
from citelens.statements import build_statements
from citelens.store.base import Store

MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 100_000
MAX_ARCHIVE_TOTAL_BYTES = 5 * 1024 * 1024 * 1024  # guards against zip bombs

_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
_ACCEPTED = ARTICLE_SUFFIXES + METADATA_SUFFIXES


@dataclass
class InputFile:
    """One input to ingest: a name to report and a way to read its bytes (lazily, one at a time)."""

    name: str
    read: Callable[[], bytes]
    size: int | None = None


@dataclass
class Failure:
    source: str
    problem: str


@dataclass
class IngestSummary:
    stored: int = 0
    replaced: int = 0
    skipped: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    statements: int = 0
    references: int = 0
    references_matched: int = 0  # matched to a work the index already knew (identifier or fuzzy)
    metadata_records: int = 0
    warnings: int = 0
    seconds: float = 0.0

    @property
    def references_resolved_pct(self) -> float:
        return round(100.0 * self.references_matched / self.references, 2) if self.references else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "stored": self.stored, "replaced": self.replaced, "skipped": self.skipped,
            "failed": [{"source": f.source, "problem": f.problem} for f in self.failed],
            "statements": self.statements, "references": self.references,
            "references_matched": self.references_matched,
            "references_resolved_pct": self.references_resolved_pct, "metadata_records": self.metadata_records,
            "warnings": self.warnings, "seconds": round(self.seconds, 3),
            "articles_per_second": round(self.stored / self.seconds, 2) if self.seconds else None,
        }


# ------------------------------------------------------------------------------------------ inputs

def _is_archive(name: str) -> bool:
    return name.lower().endswith(_ARCHIVE_SUFFIXES)


def _accepted(name: str) -> bool:
    return name.lower().endswith(_ACCEPTED)


def iter_inputs(paths: Iterable[str | Path], skipped: list[str] | None = None) -> Iterator[InputFile]:
    """Expand files, folders (recursively, sorted) and .zip/.tar(.gz) archives into input files.

    Files with names we do not ingest are reported in ``skipped`` (not failed).
    """
    skipped = skipped if skipped is not None else []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for f in sorted(files):
                    fp = Path(root) / f
                    if f.startswith("."):
                        continue
                    yield from _file_inputs(fp, skipped)
        else:
            yield from _file_inputs(path, skipped)


def _file_inputs(path: Path, skipped: list[str]) -> Iterator[InputFile]:
    name = str(path)
    if _is_archive(name):
        yield from _archive_inputs(path)
    elif _accepted(name):
        yield InputFile(name=name, read=lambda: _read_file(path), size=_size(path))
    else:
        skipped.append(f"{name}: not an article or metadata file (by name)")


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputTooLargeError(str(path), f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "no such file") from None
    except IsADirectoryError:
        raise InputError(str(path), "is a directory") from None
    except PermissionError:
        raise InputError(str(path), "permission denied") from None


def _archive_inputs(path: Path) -> Iterator[InputFile]:
    name = str(path)
    total = 0
    try:
        if name.lower().endswith(".zip"):
            zf = zipfile.ZipFile(path)
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > MAX_ARCHIVE_MEMBERS:
                raise InputTooLargeError(name, f"archive has {len(infos):,} members; the limit is {MAX_ARCHIVE_MEMBERS:,}")
            for info in sorted(infos, key=lambda i: i.filename):
                member = f"{name}!{info.filename}"
                if not _accepted(info.filename) or "/." in "/" + info.filename:
                    continue
                total += info.file_size
                if info.file_size > MAX_FILE_BYTES or total > MAX_ARCHIVE_TOTAL_BYTES:
                    yield InputFile(member, _raiser(InputTooLargeError(member, "archive member too large (declared "
                                                                       f"{info.file_size:,} bytes)")))
                    continue
                yield InputFile(member, (lambda i=info, m=member: _read_zip_member(zf, i, m)), info.file_size)
        else:
            tf = tarfile.open(path, "r:*")  # noqa: SIM115 - members are read lazily while iterating
            for info in tf:
                if not info.isfile() or not _accepted(info.name):
                    continue
                member = f"{name}!{info.name}"
                total += info.size
                if info.size > MAX_FILE_BYTES or total > MAX_ARCHIVE_TOTAL_BYTES:
                    yield InputFile(member, _raiser(InputTooLargeError(member, "archive member too large")))
                    continue
                data = tf.extractfile(info)
                content = data.read() if data else b""
                yield InputFile(member, (lambda c=content: c), info.size)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        yield InputFile(name, _raiser(MalformedInputError(name, f"unreadable archive: {exc}")))
    except InputError as exc:
        yield InputFile(name, _raiser(exc))


def _read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: str) -> bytes:
    # Read with a cap: the declared size can lie (zip bombs).
    with zf.open(info) as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InputTooLargeError(member, "archive member expands beyond the size limit")
    return data


def _raiser(exc: Exception) -> Callable[[], bytes]:
    def f() -> bytes:
        raise exc

    return f


# ---------------------------------------------------------------------------------------- pipeline

class Pipeline:
    """Runs the named stages over documents and stores them.

    ``Pipeline(store, classifier="cues")`` — the classifier is looked up by name in
    :mod:`citelens.stance`'s registry (or pass an object implementing ``StanceClassifier``).
    """

    def __init__(self, store: Store, classifier: str | StanceClassifier | None = None) -> None:
        self.store = store
        self.classifier = classifier if (classifier is not None and not isinstance(classifier, str)) \
            else get_classifier(classifier)

    def process(self, data: bytes, source: str) -> Document:
        """parse → link → classify (no database access)."""
        return process_document(data, source, self.classifier)

    def store_document(self, doc: Document):  # noqa: ANN201 - SaveResult
        """resolve → store, in one transaction."""
        with self.store.transaction():
            resolve_references(doc, self.store)
            return self.store.save_document(doc)

    def ingest(self, inputs: Iterable[InputFile], summary: IngestSummary | None = None,
               on_progress: Callable[[InputFile, str], None] | None = None, jobs: int = 1) -> IngestSummary:
        """Ingest every input; failures are recorded per file and never stop the batch.

        With ``jobs > 1`` parsing, linking and classification run in that many worker processes while this
        process resolves and stores (SQLite has one writer); documents are still stored in input order.
        Metadata files are always read first, so that references can resolve against them.
        """
        import time

        summary = summary or IngestSummary()
        t0 = time.perf_counter()
        # Metadata files first, so that references resolve against them (inputs are lazy readers: cheap).
        items = sorted(inputs, key=lambda i: not i.name.lower().endswith(METADATA_SUFFIXES))
        for item, outcome in self._processed(items, jobs):
            status = "failed"
            if isinstance(outcome, Failure):
                summary.failed.append(outcome)
            elif isinstance(outcome, bytes):  # a metadata file, handled here
                status = _guarded(lambda o=outcome, i=item: _ingest_metadata(self.store, o, i.name, summary),
                                  item.name, summary)
            else:
                doc = outcome
                stored = _guarded(lambda d=doc: self.store_document(d), item.name, summary)
                if not isinstance(stored, str):
                    summary.stored += 1
                    summary.replaced += int(stored.replaced)
                    summary.statements += stored.statements
                    summary.references += stored.references
                    summary.references_matched += stored.resolved_existing
                    summary.warnings += len(doc.warnings)
                    status = "stored"
            if on_progress:
                on_progress(item, status)
        summary.seconds += time.perf_counter() - t0
        return summary

    def _processed(self, items: Iterable[InputFile], jobs: int) -> Iterator[tuple[InputFile, object]]:
        """(input, Document | Failure | metadata bytes) in input order."""
        if jobs <= 1:
            for item in items:
                yield item, _read_and_process(item, self.classifier)
            return
        import multiprocessing as mp

        name = getattr(self.classifier, "name", None)
        ctx = mp.get_context("spawn")  # no fork: the parent holds an open SQLite connection
        with ctx.Pool(jobs, initializer=_worker_init, initargs=(name, jobs)) as pool:
            batch: list[InputFile] = []
            for item in [*items, None]:
                if item is not None:
                    batch.append(item)
                # Bounded batches: Pool.imap would otherwise read every file into memory up front.
                if len(batch) >= 16 * jobs or (item is None and batch):
                    jobs_in = [(i.name, _read_or_failure(i)) for i in batch]
                    yield from zip(batch, pool.imap(_worker_process, jobs_in, chunksize=2), strict=True)
                    batch = []


def process_document(data: bytes, source: str, classifier: StanceClassifier) -> Document:
    """The database-free stages for one file: parse → segment/link → classify."""
    doc = parse_document(data, source)
    build_statements(doc)
    classify_statements(doc, classifier)
    return doc


def _guarded(fn: Callable[[], object], name: str, summary: IngestSummary | None = None):  # noqa: ANN202
    """Run ``fn``; turn any error into a :class:`Failure` (recorded in ``summary`` when given)."""
    try:
        return fn()
    except InputError as exc:
        failure = Failure(exc.source, exc.problem)
    except CiteLensError as exc:
        failure = Failure(name, str(exc))
    except RecursionError:
        failure = Failure(name, "document nesting too deep")
    except MemoryError:
        failure = Failure(name, "out of memory while reading this file")
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a batch; report it
        failure = Failure(name, f"internal error ({type(exc).__name__}: {exc})")
    if summary is not None:
        summary.failed.append(failure)
        return "failed"
    return failure


def _read_or_failure(item: InputFile) -> bytes | Failure:
    return _guarded(item.read, item.name)  # type: ignore[return-value]


def _read_and_process(item: InputFile, classifier: StanceClassifier) -> object:
    data = _read_or_failure(item)
    if isinstance(data, Failure) or item.name.lower().endswith(METADATA_SUFFIXES):
        return data
    return _guarded(lambda: process_document(data, item.name, classifier), item.name)


_WORKER_CLASSIFIER: StanceClassifier | None = None


def _worker_init(classifier_name: str | None, jobs: int = 1) -> None:
    global _WORKER_CLASSIFIER
    # Share the cores between the workers: an ONNX model would otherwise start one thread per core in
    # every worker (measured: 2 workers x 2 threads on 2 cores was 50 % slower than one process).
    os.environ.setdefault("CITELENS_THREADS", str(max(1, (os.cpu_count() or 1) // jobs)))
    _WORKER_CLASSIFIER = get_classifier(classifier_name)


def _worker_process(job: tuple[str, bytes | Failure]) -> object:
    name, data = job
    if isinstance(data, Failure) or name.lower().endswith(METADATA_SUFFIXES):
        return data
    assert _WORKER_CLASSIFIER is not None
    return _guarded(lambda: process_document(data, name, _WORKER_CLASSIFIER), name)


def _ingest_metadata(store: Store, data: bytes, source: str, summary: IngestSummary) -> str:
    records, errors = parse_metadata_lines(data, source)
    with store.transaction():
        for rec in records:
            wid, _m, _s = find_matching_work(rec, store)
            if wid is None:
                store.create_work(rec)
            else:
                store.enrich_work(wid, rec)
    summary.metadata_records += len(records)
    for e in errors:
        summary.failed.append(Failure(source, e))
    return "stored"


def ingest_paths(paths: Iterable[str | Path], store: Store, classifier: str | StanceClassifier | None = None,
                 on_progress: Callable[[InputFile, str], None] | None = None, jobs: int = 1) -> IngestSummary:
    """Convenience: ingest files/folders/archives into ``store`` and return the summary."""
    summary = IngestSummary()
    pipeline = Pipeline(store, classifier)
    return pipeline.ingest(iter_inputs(paths, summary.skipped), summary, on_progress, jobs=jobs)


def read_bytes_input(name: str, data: bytes) -> InputFile:
    """An in-memory input (uploads)."""
    return InputFile(name=name, read=lambda: data, size=len(data))
