"""The pipeline: parse → segment/link → classify → resolve → store, over files, folders and archives.

Stages are plain functions over one :class:`Document` (``parse_document``, ``build_statements``,
``classify_statements``, ``resolve_references``) and a :class:`Pipeline` runs them in order; the
classifier is chosen by name from the stance registry, and ``process_document`` runs the database-free
stages alone.
Resolution and storage happen in one transaction per document: a failure leaves nothing half-stored.
"""

from __future__ import annotations

import bz2
import collections
import contextlib
import gc
import gzip
import io
import itertools
import lzma
import multiprocessing.context
import multiprocessing.pool
import os
import re
import signal
import stat
import sys
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, cast

from citelens.document import Document, Reference
from citelens.errors import (
    CiteLensError,
    HostileInputError,
    InputError,
    InputTooLargeError,
    MalformedInputError,
    UnsupportedFormatError,
)
from citelens.formats import ARTICLE_SUFFIXES, METADATA_SUFFIXES, is_metadata_source, parse_document
from citelens.formats.crossref import parse_metadata_file
from citelens.formats.notices import NoticeRecord, RepairedRow
from citelens.formats.retraction_watch import looks_like_retraction_watch, read_retraction_watch
from citelens.places import locate_authors
from citelens.places.stage import locate_author_affiliations
from citelens.references.resolve import find_matching_work, resolve_references
from citelens.stance import StanceClassifier, check_classifier_name, classify_statements, get_classifier
from citelens.statements import build_statements
from citelens.store.base import Store
from citelens.store.records import Notice, SaveResult

MAX_FILE_BYTES = 100 * 1024 * 1024
# A notices CSV is streamed, never held: the Retraction Watch database is ~60 k rows, tens of MB, and growing.
MAX_STREAMED_BYTES = 4 * 1024 * 1024 * 1024
NOTICE_ROWS_PER_TRANSACTION = 2_000
MAX_ARCHIVE_MEMBERS = 100_000
MAX_ARCHIVE_TOTAL_BYTES = 5 * 1024 * 1024 * 1024  # guards against zip bombs
CACHE_INPUTS = 100_000  # inputs InputPaths keeps between passes (~50 MB of descriptors); more are walked again

_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
_ACCEPTED = ARTICLE_SUFFIXES + METADATA_SUFFIXES


@dataclass
class InputFile:
    """One input to ingest: a name to report and a way to read its bytes (lazily, one at a time)."""

    name: str
    read: Callable[[], bytes]
    size: int | None = None
    path: str | None = None  # a plain file's path (another process can read it); None inside archives
    key: str | None = None  # the name of its Document.source_key: the same from any working directory


@dataclass(frozen=True)
class StreamedFile:
    """A plain file read by the writer as it is ingested (a notices CSV), not loaded whole nor sent to workers."""

    path: str


def is_streamed_source(name: str) -> bool:
    return name.lower().endswith(".csv")


FAILURE_KINDS = ("document", "metadata_file", "metadata_record")


@dataclass
class Failure:
    """An input, or one record of a metadata file, that was not stored.

    ``kind`` says which, for the ingest summary's separate counts: an operator asked "how many articles failed?"
    and read ``failed 4`` where one article and three Retraction Watch rows had. ``document``: an article input
    (a file, an archive member, an archive that could not be opened); ``metadata_file``: a JSON-lines or notices
    CSV file not read at all; ``metadata_record``: one row or line of a metadata file, skipped while the rest of
    the file was stored. Left empty, it follows from the source's name (a metadata file's or an article's)."""

    source: str
    problem: str
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.kind:
            self.kind = "metadata_file" if is_metadata_source(self.source) else "document"


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
    notices_added: int = 0  # editorial notices from Retraction Watch rows and Crossref update-to / updated-by
    notices_updated: int = 0  # known ones that gained a DOI or a fuller date
    notices_unchanged: int = 0  # known already (ingested before, or from a notice article)
    notes: list[str] = field(default_factory=list)  # what the user should know that failed nothing
    warnings: int = 0
    seconds: float = 0.0
    already_stored: int = 0  # inputs the ingest manifest lists as stored by an earlier (interrupted) run

    @property
    def references_resolved_pct(self) -> float:
        return round(100.0 * self.references_matched / self.references, 2) if self.references else 0.0

    def failed_count(self, kind: str) -> int:
        """How many failures of one :data:`FAILURE_KINDS` kind."""
        return sum(1 for f in self.failed if f.kind == kind)

    def to_dict(self) -> dict[str, object]:
        return {
            "stored": self.stored, "replaced": self.replaced, "skipped": self.skipped,
            "failed": [{"source": f.source, "problem": f.problem, "kind": f.kind} for f in self.failed],
            # ``failed`` lists documents and metadata rows together (its meaning stays); these say which is which.
            "failed_documents": self.failed_count("document"),
            "failed_metadata_files": self.failed_count("metadata_file"),
            "failed_metadata_records": self.failed_count("metadata_record"),
            "statements": self.statements, "references": self.references,
            "references_matched": self.references_matched,
            "references_resolved_pct": self.references_resolved_pct, "metadata_records": self.metadata_records,
            "notices_added": self.notices_added, "notices_updated": self.notices_updated,
            "notices_unchanged": self.notices_unchanged, "notes": self.notes,
            "warnings": self.warnings, "already_stored": self.already_stored, "seconds": round(self.seconds, 3),
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


class InputPaths:
    """The inputs under some paths, iterable any number of times, never more than CACHE_INPUTS held at once.

    ``citelens ingest`` used to list every input before storing the first (a descriptor of ~0.5 kB each: ~6 GB
    for 12 M files). Now the first pass (:meth:`count`, for the progress bar and ``--jobs auto``) keeps its list
    only while it holds at most CACHE_INPUTS inputs — the usual run, which then reads the folders and archive
    listings once, as before; beyond that every pass walks them again (a .tar.gz listing is one more
    decompression pass: ~15 s per 4,000 articles here, against minutes to ingest them). The pass also notes whether
    any metadata file is there, so :meth:`metadata_first` walks twice only when there is. ``skipped`` is filled
    by the first complete pass only.
    """

    def __init__(self, paths: Iterable[str | Path], skipped: list[str] | None = None) -> None:
        self.paths = tuple(paths)
        self.skipped = skipped if skipped is not None else []
        self._skipped_base = len(self.skipped)
        self._recorded = False
        self._cache: list[InputFile] | None = None
        self._has_metadata: bool | None = None  # unknown until a pass has finished

    def _walk(self) -> Iterator[InputFile]:
        if self._cache is not None:
            yield from self._cache
            return
        record = not self._recorded
        if record:
            del self.skipped[self._skipped_base:]  # an earlier pass stopped half-way: record afresh
        seen_metadata = False
        cache: list[InputFile] | None = []
        for item in iter_inputs(self.paths, self.skipped if record else []):
            seen_metadata = seen_metadata or is_metadata_source(item.name)
            if cache is not None:
                cache.append(item)
                if len(cache) > CACHE_INPUTS:
                    cache = None  # too many to hold: later passes walk the paths again
            yield item
        self._recorded = True
        self._has_metadata = seen_metadata
        self._cache = cache

    def __iter__(self) -> Iterator[InputFile]:
        return self._walk()

    def count(self) -> int:
        """How many inputs there are (one pass)."""
        return sum(1 for _ in self._walk())

    def metadata_first(self) -> Iterator[InputFile]:
        """Metadata files, then articles, each in input order."""
        if self._has_metadata is False:
            yield from self._walk()
            return
        yield from (item for item in self._walk() if is_metadata_source(item.name))
        yield from (item for item in self._walk() if not is_metadata_source(item.name))


def metadata_first(inputs: Iterable[InputFile]) -> Iterable[InputFile]:
    """Metadata files first (references resolve against them), then articles; otherwise in input order."""
    if isinstance(inputs, InputPaths):
        return inputs.metadata_first()
    return sorted(inputs, key=lambda i: not is_metadata_source(i.name))  # stable: input order within each kind


def _file_inputs(path: Path, skipped: list[str]) -> Iterator[InputFile]:
    name = str(path)
    if _is_archive(name):
        yield from _archive_inputs(path, skipped)
    elif _accepted(name):
        yield InputFile(name=name, read=lambda: _read_file(path), size=_size(path), path=name,
                        key=os.path.abspath(name))
    else:
        skipped.append(f"{name}: not an article or metadata file (by name)")


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _read_file(path: Path) -> bytes:
    return read_regular_file(path, MAX_FILE_BYTES)


def open_regular_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> IO[bytes]:
    """A regular file opened for reading, checked as :func:`read_regular_file` checks it, to be streamed."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except IsADirectoryError:
        raise InputError(name, "is a directory") from None
    except PermissionError:
        raise InputError(name, "permission denied") from None
    except OSError as exc:
        raise InputError(name, f"cannot open ({exc.strerror})") from None
    fh = os.fdopen(fd, "rb")
    mode = os.fstat(fh.fileno()).st_mode
    size = os.fstat(fh.fileno()).st_size
    if not stat.S_ISREG(mode) or size > max_bytes:
        fh.close()
        if not stat.S_ISREG(mode):
            kind = next((k for test, k in _FILE_KINDS if test(mode)), "not a regular file")
            raise InputError(name, f"is {kind}, not a regular file; not read")
        raise InputTooLargeError(name, f"file is {size:,} bytes; the limit is {max_bytes:,}")
    return fh


def read_regular_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read a regular file, never more than ``max_bytes`` plus one byte (InputError naming it otherwise).

    The file is opened first (non-blocking, so a FIFO cannot hang the batch) and then checked with
    ``fstat`` on the open descriptor: a symlink to /dev/zero, a FIFO or a device named ``.xml`` is refused
    without reading, and a file that grows while being read is cut at the limit.
    """
    with open_regular_file(path, max_bytes) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputTooLargeError(str(path), f"file grew past the limit of {max_bytes:,} bytes while being read")
    return data


def _unsafe_member_name(name: str) -> bool:
    """An archive member whose name climbs out of the archive (``..``) or is absolute.

    Nothing is ever extracted to disk, so such a name could do no harm here; it is refused and listed
    because an archive built that way is hostile or broken, and a user should see it rather than lose it.
    """
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[0].isalpha() and name[1] == ":")


# An archive inside an archive is not opened (its members would be read into memory, and archives can nest without
# end); it was passed over without a word, so an archive of PMC packages (.tar.gz in a .zip) ingested nothing, exit 0.
NESTED_ARCHIVE = "an archive inside an archive; not read (extract the outer archive and ingest the inner one)"


def _hidden(name: str) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in name.replace("\\", "/").split("/"))


def _archive_inputs(path: Path, skipped: list[str]) -> Iterator[InputFile]:
    name = str(path)
    absolute = os.path.abspath(name)
    for item in _archive_members(path, skipped):
        if item.name.startswith(f"{name}!"):  # "archive!member", the archive named absolutely
            item.key = absolute + item.name[len(name):]
        yield item


def _archive_members(path: Path, skipped: list[str]) -> Iterator[InputFile]:
    name = str(path)
    try:
        if name.lower().endswith(".zip"):
            yield from _zip_inputs(path, skipped)
        else:
            yield from _tar_inputs(path, skipped)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
        yield InputFile(name, _raiser(MalformedInputError(name, f"unreadable archive: {exc}")))
    except InputError as exc:
        yield InputFile(name, _raiser(exc))


def _zip_inputs(path: Path, skipped: list[str]) -> Iterator[InputFile]:
    name = str(path)
    total = 0
    zf = zipfile.ZipFile(path)  # reads the central directory only; members are read one at a time later
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > MAX_ARCHIVE_MEMBERS:
        raise InputTooLargeError(name, f"archive has {len(infos):,} members; the limit is {MAX_ARCHIVE_MEMBERS:,}")
    for info in sorted(infos, key=lambda i: i.filename):
        member = f"{name}!{info.filename}"
        if _unsafe_member_name(info.filename):
            yield InputFile(member, _raiser(HostileInputError(member, "unsafe member name ('..' or an absolute"
                                                                      " path); not read")))
            continue
        if _hidden(info.filename):
            continue
        if _is_archive(info.filename):
            skipped.append(f"{member}: {NESTED_ARCHIVE}")
            continue
        if not _accepted(info.filename):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            skipped.append(f"{member}: a symbolic link, not a regular file; not read")
            continue
        total += info.file_size
        if info.file_size > MAX_FILE_BYTES or total > MAX_ARCHIVE_TOTAL_BYTES:
            yield InputFile(member, _raiser(InputTooLargeError(member, "archive member too large (declared "
                                                               f"{info.file_size:,} bytes)")))
            continue
        yield InputFile(member, partial(_read_zip_member, zf, info, member), info.file_size)


def _read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: str) -> bytes:
    # Read with a cap: the declared size can lie (zip bombs, forged size fields).
    try:
        with zf.open(info) as fh:
            data = _read_capped(fh, MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        # A size or CRC that does not match the data, a truncated stream, an unknown compression or
        # an encrypted member: the archive is broken or forged; say so and go on.
        raise MalformedInputError(member, f"corrupt archive member ({exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputTooLargeError(member, "archive member expands beyond the size limit")
    return data


def _read_capped(fh: IO[bytes], limit: int, chunk: int = 1 << 20) -> bytes:
    """At most ``limit`` bytes, read in chunks into one buffer (one copy of the data in memory, not two)."""
    buf = bytearray()
    while len(buf) < limit:
        part = fh.read(min(chunk, limit - len(buf)))
        if not part:
            break
        buf += part
    return bytes(buf)


def _tar_inputs(path: Path, skipped: list[str]) -> Iterator[InputFile]:
    """List a tar archive in streaming mode; members are read later, one at a time, by :class:`_TarStream`.

    The archive is never read whole (a small .tar.gz can hold gigabytes): the listing pass keeps only names
    and sizes, and each read streams forward to its member.
    """
    name = str(path)
    stream = _TarStream(path)
    total = 0
    listed: list[InputFile] = []
    with _OpenTar(path) as tf:
        position = -1
        while (info := tf.next()) is not None:
            # Streaming mode would otherwise keep every header in memory (``members`` is not in typeshed).
            tf.members = []  # type: ignore[attr-defined]
            position += 1
            if position >= MAX_ARCHIVE_MEMBERS:
                raise InputTooLargeError(name, f"archive has more than {MAX_ARCHIVE_MEMBERS:,} members")
            member = f"{name}!{info.name}"
            if info.isdir():
                continue
            if _unsafe_member_name(info.name):
                listed.append(InputFile(member, _raiser(HostileInputError(
                    member, "unsafe member name ('..' or an absolute path); not read"))))
                continue
            if _hidden(info.name):
                continue
            if _is_archive(info.name) and info.isfile():
                skipped.append(f"{member}: {NESTED_ARCHIVE}")
                continue
            if not _accepted(info.name):
                continue
            if not info.isfile():
                kind = "a symbolic link" if info.issym() else "a hard link" if info.islnk() else "a device or FIFO"
                skipped.append(f"{member}: {kind}, not a regular file; not read")
                continue
            total += info.size
            if info.size > MAX_FILE_BYTES or total > MAX_ARCHIVE_TOTAL_BYTES:
                listed.append(InputFile(member, _raiser(InputTooLargeError(
                    member, f"archive member too large ({info.size:,} bytes)"))))
                continue
            listed.append(InputFile(member, partial(stream.read, position, member), info.size))
            stream.last = position
    yield from listed


class _OpenTar:
    """A forward-only TarFile (mode ``r|``) over a decompressing file object; ``with`` gives the TarFile.

    tarfile's own streaming decompression (``r|gz``) inflates each 10 kB block without an output limit, so
    highly compressible data balloons to ~10 MB per block; gzip/bz2/lzma file objects inflate in bounded
    steps. Closing closes the TarFile and the files under it.
    """

    def __init__(self, path: Path) -> None:
        self._files = contextlib.ExitStack()
        try:
            raw = self._files.enter_context(open(path, "rb"))  # noqa: SIM115 - closed by the ExitStack
            magic = raw.read(6)
            raw.seek(0)
            fh: IO[bytes] = raw
            if magic[:2] == b"\x1f\x8b":
                fh = self._files.enter_context(cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")))
            elif magic[:3] == b"BZh":
                fh = self._files.enter_context(bz2.BZ2File(raw, mode="rb"))
            elif magic == b"\xfd7zXZ\x00":
                fh = self._files.enter_context(lzma.LZMAFile(raw, mode="rb"))  # noqa: SIM115 - closed by the ExitStack
            self.tar = self._files.enter_context(tarfile.open(fileobj=fh, mode="r|"))  # noqa: SIM115 - closed by the ExitStack
        except BaseException:
            self._files.close()
            raise

    def close(self) -> None:
        self._files.close()

    def __enter__(self) -> tarfile.TarFile:
        return self.tar

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _TarStream:
    """Reads tar members by position through one forward-only stream (``tarfile`` mode ``r|*``).

    Reads in archive order cost one pass; a read behind the current position (metadata files are read
    first) reopens the stream. At most one member is in memory at a time.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._open: _OpenTar | None = None
        self._position = -1
        # Position of the last member that will be read: the stream closes after it rather than when garbage
        # collected (one open file per archive left behind, before: a ResourceWarning in the tests).
        self.last = -1

    def read(self, position: int, member: str) -> bytes:
        try:
            if self._open is None or position <= self._position:
                self.close()
                self._open = _OpenTar(self.path)
                self._position = -1
            tf = self._open.tar
            while True:
                info = tf.next()
                tf.members = []  # type: ignore[attr-defined]  # as in _tar_inputs
                if info is None:
                    raise MalformedInputError(member, "archive changed or ended before this member")
                self._position += 1
                if self._position == position:
                    fh = tf.extractfile(info)
                    data = _read_capped(fh, MAX_FILE_BYTES + 1) if fh else b""
                    if position >= self.last:
                        self.close()
                    if len(data) > MAX_FILE_BYTES:
                        raise InputTooLargeError(member, "archive member larger than the size limit")
                    return data
        except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            self.close()
            raise MalformedInputError(member, f"corrupt archive member ({exc})") from None

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None


def _raiser(exc: Exception) -> Callable[[], bytes]:
    def f() -> bytes:
        raise exc

    return f


# ---------------------------------------------------------------------------------------- pipeline

# ``--jobs auto``: worker processes only pay off once their start-up (a Python process and the stance models,
# about a second each) is spread over enough articles; more than four workers wait on the single writer.
AUTO_MIN_INPUTS = 16
AUTO_MAX_JOBS = 4
# Inputs in flight per worker process (see Pipeline._processed). 16, not 4: the workers run ahead while the writer
# loads the gazetteer at start-up (plos-starter with 2 workers: 5.7 s against 6.1 s wall); the same bound on files
# held in memory as the fixed batches of 16 per worker before.
WINDOW_PER_JOB = 16
# Documents stored per transaction by ``Pipeline.ingest`` (see ``Pipeline.store_batch``): at most this many are
# redone after a crash, and a reader sees new articles in steps of this many.
STORE_BATCH = 16


def resolve_jobs(spec: str | int, n_inputs: int, cpus: int | None = None) -> int:
    """Worker processes for ``--jobs``: a number from 1 to 64, or ``auto`` (one per core, at most
    ``AUTO_MAX_JOBS``, when there are at least ``AUTO_MIN_INPUTS`` inputs; else 1). ValueError otherwise."""
    text = str(spec).strip().lower()
    if text == "auto":
        if n_inputs < AUTO_MIN_INPUTS:
            return 1
        return max(1, min(cpus or os.cpu_count() or 1, AUTO_MAX_JOBS))
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise ValueError(f"--jobs must be a number from 1 to 64 or 'auto', not {spec!r}")
    return int(text)


class Pipeline:
    """Runs the named stages over documents and stores them.

    ``Pipeline(store, classifier="cues")`` — the classifier is looked up by name in
    :mod:`citelens.stance`'s registry (or pass an object implementing ``StanceClassifier``).
    """

    def __init__(self, store: Store, classifier: str | StanceClassifier | None = None) -> None:
        self.store = store
        # Looked up now (an unknown name is an error before any input is read), loaded on first use: with
        # worker processes this process only stores, and never needs the models.
        self._classifier: StanceClassifier | None = None
        if classifier is not None and not isinstance(classifier, str):
            self._classifier = classifier
            self.classifier_name = getattr(classifier, "name", None)
        else:
            check_classifier_name(classifier)
            self.classifier_name = classifier

    @property
    def classifier(self) -> StanceClassifier:
        if self._classifier is None:
            self._classifier = get_classifier(self.classifier_name)
        return self._classifier

    def process(self, data: bytes, source: str) -> Document:
        """parse → link → classify (no database access)."""
        return process_document(data, source, self.classifier)

    def store_document(self, doc: Document) -> SaveResult:
        """resolve → store, in one transaction."""
        with self.store.transaction(), self.store.identifier_scope(doc):
            resolve_references(doc, self.store)
            return self.store.save_document(doc)

    def ingest(self, inputs: Iterable[InputFile], summary: IngestSummary | None = None,
               on_progress: Callable[[InputFile, str], None] | None = None, jobs: int = 1,
               workers: WorkerPool | None = None) -> IngestSummary:
        """Ingest every input; failures are recorded per file and never stop the batch.

        With ``jobs > 1`` parsing, linking and classification run in that many worker processes while this
        process resolves and stores (SQLite has one writer); documents are still stored in input order, up to
        ``STORE_BATCH`` per transaction. ``workers`` (from :func:`worker_pool`, started before the index was
        opened) are used instead of starting new ones; ``jobs`` is then theirs. Metadata files are always read
        first, so that references can resolve against them.
        """
        if workers is not None and workers.classifier != self.classifier_name:
            raise ValueError(f"the workers run classifier {workers.classifier!r}, this pipeline {self.classifier_name!r}")
        import time

        summary = summary or IngestSummary()
        t0 = time.perf_counter()
        batch: list[tuple[InputFile, Document | Failure]] = []
        # Metadata files first, so that references resolve against them (streamed when given InputPaths).
        items = metadata_first(inputs)
        for item, outcome in self._processed(items, jobs, workers):
            if isinstance(outcome, bytes | StreamedFile):  # a metadata file: here, after the documents before it
                self.store_batch(batch, summary, on_progress)
                batch.clear()
                status = _guarded(partial(_ingest_metadata, self.store, outcome, item.name, summary),
                                  item.name, summary)
                if on_progress:
                    on_progress(item, status)
                continue
            batch.append((item, outcome))  # type: ignore[arg-type]  # Document | Failure
            if len(batch) >= STORE_BATCH:
                self.store_batch(batch, summary, on_progress)
                batch.clear()
        self.store_batch(batch, summary, on_progress)
        summary.seconds += time.perf_counter() - t0
        return summary

    def store_batch(self, batch: Sequence[tuple[InputFile, Document | Failure]], summary: IngestSummary,
                    on_progress: Callable[[InputFile, str], None] | None = None,
                    on_stored: Callable[[int], None] | None = None) -> None:
        """Store processed documents in one transaction, each in its own savepoint (a document that fails rolls
        back alone and is reported with its file); ``on_stored(i)`` runs inside document ``i``'s savepoint
        (Dask's manifest row). Counted in ``summary`` once the transaction has committed; if the commit itself
        fails, every document of the batch is reported as failed, so the summary never counts what is not
        stored.

        Why batches: one commit per document made SQLite write each touched page (full-text index, the
        statement indexes) to the WAL once per document; 16 documents share those writes (benchmarks/:
        ingest cost, and the growth of bytes written per statement in the 100 k-article run).
        """
        if not batch:
            return
        results: list[object] = []
        try:
            with self.store.transaction():
                for i, (item, outcome) in enumerate(batch):
                    if isinstance(outcome, Failure):
                        results.append(outcome)
                        continue

                    if item.key and not outcome.source_key:
                        outcome.source_key = storable_name(item.key)

                    def save(doc: Document = outcome, i: int = i) -> SaveResult:
                        with self.store.transaction():
                            result = self.store_document(doc)
                            if on_stored is not None:
                                on_stored(i)
                        return result

                    results.append(_guarded(save, item.name))
        except Exception as exc:  # noqa: BLE001 - the commit failed: nothing of the batch is stored
            problem = f"not stored: the transaction failed ({type(exc).__name__}: {exc})"
            results = [o if isinstance(o, Failure) else Failure(item.name, problem)
                       for (item, o) in batch]
        statuses = []
        for (_item, outcome), result in zip(batch, results, strict=True):
            status = "failed"
            if isinstance(result, Failure):
                summary.failed.append(result)
            else:
                saved = cast(SaveResult, result)
                summary.stored += 1
                summary.replaced += int(saved.replaced)
                summary.statements += saved.statements
                summary.references += saved.references
                summary.references_matched += saved.resolved_existing
                summary.warnings += len(cast(Document, outcome).warnings)
                status = "stored"
            statuses.append(status)
        # The whole committed batch is counted before the progress callback runs, which may stop the ingest (the
        # CLI's raises on SIGTERM): the summary then says what the index holds, not part of the batch.
        if on_progress:
            for (item, _outcome), status in zip(batch, statuses, strict=True):
                on_progress(item, status)

    def _processed(self, items: Iterable[InputFile], jobs: int,
                   workers: WorkerPool | None = None) -> Iterator[tuple[InputFile, object]]:
        """(input, Document | Failure | metadata bytes) in input order."""
        if workers is not None:
            jobs = workers.jobs
        elif jobs <= 1:
            for item in items:
                yield item, _read_and_process(item, self.classifier)
            return
        # A sliding window of inputs in flight, read one at a time: the workers always have the next files while
        # this process stores the finished ones, and at most WINDOW_PER_JOB * jobs files sit in memory. (Fixed
        # batches of 16 * jobs, before, left the workers idle while the last documents of each batch were stored
        # and this process idle while the first ones of the next were parsed.)
        window = WINDOW_PER_JOB * jobs
        pending: collections.deque[tuple[InputFile, multiprocessing.pool.AsyncResult[object]]] = collections.deque()
        # The locate stage runs here, not in the workers: its gazetteer takes ≈ 0.4 s to load, which every
        # worker would pay before its first document, while this process loads it once, when the workers have
        # their first window of inputs (or all of them) and work through it meanwhile. (Loading it after the first
        # input, before, left one worker idle and the other with one document for that time.) Locating costs ~1 ms
        # a document here, next to the workers' ~65.
        froze = loaded = False

        def next_done() -> tuple[InputFile, object]:
            nonlocal froze, loaded
            if not loaded:
                _load_gazetteer()
                froze = _freeze_long_lived()
                loaded = True
            done, result = pending.popleft()
            return done, _located(result.get(), done.name)

        try:
            with contextlib.ExitStack() as stack:
                if workers is None:
                    workers = stack.enter_context(worker_pool(self.classifier_name, jobs))
                assert workers is not None
                for item in items:
                    pending.append((item, workers.pool.apply_async(_worker_process,
                                                                   ((item.name, _read_or_failure(item)),))))
                    if len(pending) >= window:
                        yield next_done()
                while pending:
                    yield next_done()
        finally:
            if froze:
                gc.unfreeze()


@dataclass
class WorkerPool:
    """Worker processes that parse, link and classify for :meth:`Pipeline.ingest` (see :func:`worker_pool`)."""

    pool: multiprocessing.pool.Pool
    jobs: int
    classifier: str | None


@contextlib.contextmanager
def worker_pool(classifier: str | None, jobs: int, fork: bool = False) -> Iterator[WorkerPool]:
    """``jobs`` worker processes running the classifier named ``classifier``; stopped when the block ends.

    ``fork=True`` is for a caller that has **not opened any database yet** (``citelens ingest`` starts its workers
    before it opens the index; the default is ``False``): the workers are then forked from this process, which has imported everything
    they need, where the platform forks safely (Linux) and no other thread runs (a fork copies one thread, and
    a lock another held would stay locked in the child). A database connection must never cross a fork, so
    otherwise they come from :func:`_worker_context`. Forking saves the fork server's start-up — it imports
    the pipeline (≈ 0.3 s of CPU) while this process waits — at the start of every parallel ingest."""
    ctx = _worker_context(fork=fork)
    with ctx.Pool(jobs, initializer=_worker_init, initargs=(classifier, jobs)) as pool:
        yield WorkerPool(pool, jobs, classifier)


def _worker_context(fork: bool = False) -> multiprocessing.context.BaseContext:
    """How ingest starts its worker processes: forked (only where ``fork`` is asked for, see :func:`worker_pool`),
    else from a fork server where the platform has one, else spawned.

    A spawned worker starts a new interpreter and imports the command's main module and the pipeline again
    (≈ 0.45 s of CPU each, classifier included); the fork server imports them once (≈ 0.3 s), before the first
    worker, and forks each worker from that clean process, which never opened a database (≈ 0.19 s each, most
    of it the worker loading its classifier in ``_worker_init``)."""
    import multiprocessing as mp

    if fork and sys.platform == "linux" and threading.active_count() == 1:
        return mp.get_context("fork")
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    # Read when the fork server starts (once per process); "__main__" is skipped for ``python -c``.
    ctx.set_forkserver_preload(["__main__", "citelens.pipeline"])
    return ctx


# Python holds a file name's bytes that are not UTF-8 as lone surrogates ("\udcff" for 0xff), which no database can
# store: such an article failed "internal error (UnicodeEncodeError…)".
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_name(name: str) -> str:
    """``name`` as the index keeps it (a document's source): a byte that is not UTF-8 written as ``\\xff``, the
    same every time, so that ingesting the file again still replaces it."""
    def shown(m: re.Match[str]) -> str:
        code = ord(m.group())
        return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"

    return LONE_SURROGATE.sub(shown, name)


def process_document(data: bytes, source: str, classifier: StanceClassifier, locate: bool = True) -> Document:
    """The database-free stages for one file: parse → locate → segment/link → classify.

    ``locate=False`` leaves the locate stage to the caller (the statements do not depend on it): the local worker
    pool runs it in the writer process, see ``Pipeline._processed``."""
    doc = parse_document(data, source)
    doc.source = storable_name(doc.source)  # messages about the file keep naming it as given
    if locate:
        locate_authors(doc)
    build_statements(doc)
    classify_statements(doc, classifier)
    return doc


def _freeze_long_lived() -> bool:
    """Exempt every object alive now (modules, the gazetteer's million, the models) from the cyclic garbage
    collector, which would otherwise walk them on each full collection while documents come and go: measured in
    one process over plos-starter, unpickling, parsing and storing took 5 ms less per article. True when it froze
    (nothing was frozen before: an application's own ``gc.freeze`` is left as it is); ``gc.unfreeze`` undoes it."""
    if gc.get_freeze_count():
        return False
    gc.freeze()
    return True


def _load_gazetteer() -> None:
    from citelens.places.gazetteer import gazetteer

    gazetteer()


def _located(outcome: object, name: str) -> object:
    """A worker's document with the locate stage run (failures and metadata pass through)."""
    if not isinstance(outcome, Document):
        return outcome
    done = _guarded(lambda: locate_authors(outcome), name)
    return done if isinstance(done, Failure) else outcome


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


def _read_or_failure(item: InputFile) -> bytes | StreamedFile | Failure:
    if item.path and is_streamed_source(item.name):
        return StreamedFile(item.path)
    return _guarded(item.read, item.name)


def _read_and_process(item: InputFile, classifier: StanceClassifier) -> object:
    data = _read_or_failure(item)
    if isinstance(data, Failure | StreamedFile) or is_metadata_source(item.name):
        return data
    return _guarded(lambda: process_document(data, item.name, classifier), item.name)


_WORKER_CLASSIFIER: StanceClassifier | None = None


def _worker_init(classifier_name: str | None, jobs: int = 1) -> None:
    global _WORKER_CLASSIFIER
    # Ctrl-C is the writer's to handle: it stops the pool (which ends the workers) and keeps only whole stored
    # batches. A worker that took the interrupt too died wherever it was, printed its own traceback, and could
    # die holding the pool's queue lock, which once left the command waiting forever for a pool that could not
    # stop (one in ~25 interrupted runs of plos-starter, 2026-12-04).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # And SIGTERM, which the pool sends to stop its workers, is not the command's "stop cleanly" (cli.run): a
    # forked worker would otherwise inherit that handler.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Share the cores between the workers: an ONNX model would otherwise start one thread per core in
    # every worker (measured: 2 workers x 2 threads on 2 cores was 50 % slower than one process).
    os.environ.setdefault("CITELENS_THREADS", str(max(1, (os.cpu_count() or 1) // jobs)))
    limit_native_threads()
    _WORKER_CLASSIFIER = get_classifier(classifier_name)
    _freeze_long_lived()  # this process only serves ingest: what is loaded now lives until it ends


def limit_native_threads() -> None:
    """numpy's matrix products (BLAS) kept to the process's thread budget (``CITELENS_THREADS``, set in ingest's
    worker processes and Dask's), as onnxruntime's threads are (stance.onnx_model).

    OpenBLAS starts a thread per core in every process and spins them between products: once the reference
    parser's network ran in each worker (JATS references printed as plain text, 2026-12-04), the two workers'
    four threads on two cores made every stage of a plos-starter article slower, +17 ms of CPU an article in all;
    with one thread each, +5 ms (the parsing itself). Without the budget (a library call, ``citelens references
    parse``), BLAS keeps its own threads."""
    budget = os.environ.get("CITELENS_THREADS", "")
    if not budget.isdigit() or int(budget) < 1:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(budget), user_api="blas")


def _worker_process(job: tuple[str, bytes | StreamedFile | Failure]) -> object:
    name, data = job
    if isinstance(data, Failure | StreamedFile) or is_metadata_source(name):
        return data
    assert _WORKER_CLASSIFIER is not None
    assert isinstance(data, bytes)
    return _guarded(lambda: _for_the_writer(process_document(data, name, _WORKER_CLASSIFIER, locate=False)), name)


def _for_the_writer(doc: Document) -> Document:
    """What a worker sends back: the writer locates, resolves and stores the statements (each carries its
    sentence and neighbours), references and metadata, never the full text, so the paragraphs stay behind (the
    local workers and Dask's). They were 38 % of a plos-starter document's pickle and most of its unpickling in the
    writer: 3.1-3.6 → 1.2-1.3 ms a document, 0.9 → 0.55 ms to pickle it (2026-12-04)."""
    doc.paragraphs = []
    return doc


def _ingest_metadata(store: Store, data: bytes | StreamedFile, source: str, summary: IngestSummary) -> str:
    if is_streamed_source(source):
        return _ingest_notices_csv(store, data, source, summary)
    if isinstance(data, StreamedFile):
        data = read_regular_file(data.path)
    records, notices, errors = parse_metadata_file(data, source)
    with store.transaction():
        for rec in records:
            wid, method, _s = find_matching_work(rec, store)
            if wid is not None and rec.doi and method in ("pmid", "pmcid"):
                # A DOI names one work: a record whose DOI the index does not know is another work than one with
                # another DOI, even when it repeats that one's PMID or PMCID (which stays where it is). It was merged
                # into that work and its own DOI dropped: the work could not be found by it, nor enriched again.
                known = store.get_work(wid)
                if known is not None and known.doi and known.doi != rec.doi:
                    wid = None
            if wid is None:
                wid = store.create_work(rec)
            else:
                store.enrich_work(wid, rec)
            if any(a.affiliations for a in rec.authors):
                # Where the record places its authors: lets knowledge flows locate a work without its full text.
                locate_author_affiliations(rec.authors)
                store.save_work_places(wid, rec.authors, "metadata")
        ingest_notices(store, notices, source, summary)
    summary.metadata_records += len(records)
    for e in errors:
        summary.failed.append(Failure(source, e, "metadata_record"))
    return "stored"


def _ingest_notices_csv(store: Store, data: bytes | StreamedFile, source: str, summary: IngestSummary) -> str:
    """A Retraction Watch CSV, streamed (from its path, or from bytes inside an archive), stored
    NOTICE_ROWS_PER_TRANSACTION rows at a time: an interrupted ingest keeps what it stored, and ingesting the file
    again adds only what is new (``Store.record_notice``)."""
    with contextlib.ExitStack() as stack:
        fh = (stack.enter_context(open_regular_file(data.path, MAX_STREAMED_BYTES)) if isinstance(data, StreamedFile)
              else io.BytesIO(data))
        head = fh.read(65_536)
        if not head.strip():
            raise MalformedInputError(source, "empty file")
        if not looks_like_retraction_watch(head):
            raise UnsupportedFormatError(source, "a CSV file, but not the Retraction Watch database (its header has no"
                                                 " RetractionNature or OriginalPaperDOI column); CiteLens reads no"
                                                 " other CSV")
        fh.seek(0)
        rows = read_retraction_watch(fh, source)
        while True:
            chunk = list(itertools.islice(rows, NOTICE_ROWS_PER_TRANSACTION))
            if not chunk:
                break
            with store.transaction(), store.identifier_scope(_notice_targets(chunk, source)):
                ingest_notices(store, chunk, source, summary)
    return "stored"


def _notice_targets(chunk: list[NoticeRecord | str], source: str) -> Document:
    """The works a chunk of notices names, as references of a stand-in document, for ``Store.identifier_scope``:
    one query finds them all (on PostgreSQL a round trip per look-up made a 60,000-row file take 15 s)."""
    return Document(source=source, references=[Reference(key=str(i), doi=item.target.doi, pmid=item.target.pmid,
                                                         pmcid=item.target.pmcid)
                                               for i, item in enumerate(chunk) if not isinstance(item, str)])


def ingest_notices(store: Store, items: Iterable[NoticeRecord | str], source: str, summary: IngestSummary) -> None:
    """Store each notice about the work it names (by DOI, else PubMed id; a work the index does not know yet is
    created, so later references to it match); a text is a problem with a row, reported against ``source``."""
    for item in items:
        if isinstance(item, RepairedRow):
            # Stored without the bad value: the user should fix the source, but nothing was lost (a warning).
            summary.notes.append(f"{source}: {item}")
            summary.warnings += 1
            continue
        if isinstance(item, str):
            if item.startswith("row ") or item.startswith("line "):
                summary.failed.append(Failure(source, item, "metadata_record"))
            else:
                summary.notes.append(f"{source}: {item}")
            continue
        wid = _notice_target(store, item)
        outcome = store.record_notice(wid, Notice(kind=item.kind, relation=item.source, doi=item.doi,
                                                  date=item.date, reasons=item.reasons, source_id=item.record_id))
        if outcome == "added":
            summary.notices_added += 1
        elif outcome == "updated":
            summary.notices_updated += 1
        else:
            summary.notices_unchanged += 1


def _notice_target(store: Store, item: NoticeRecord) -> str:
    """The work a notice is about, as metadata records find theirs: by DOI, else by PubMed id unless that work has
    another DOI (a DOI names one work); created when the index has none (its title and journal fill gaps only)."""
    rec = item.target
    wid = store.find_work_by_identifier("doi", rec.doi) if rec.doi else None
    if wid is None and rec.pmid:
        wid = store.find_work_by_identifier("pmid", rec.pmid)
        if wid is not None and rec.doi:
            known = store.get_work(wid)
            if known is not None and known.doi and known.doi != rec.doi:
                wid = None
    if wid is None:
        return store.create_work(rec)
    store.enrich_work(wid, rec)
    return wid


def ingest_paths(paths: Iterable[str | Path], store: Store, classifier: str | StanceClassifier | None = None,
                 on_progress: Callable[[InputFile, str], None] | None = None, jobs: int = 1) -> IngestSummary:
    """Convenience: ingest files/folders/archives into ``store`` and return the summary."""
    summary = IngestSummary()
    pipeline = Pipeline(store, classifier)
    inputs = InputPaths(paths, summary.skipped)
    return pipeline.ingest(inputs, summary, on_progress, jobs=jobs)


def read_bytes_input(name: str, data: bytes) -> InputFile:
    """An in-memory input (uploads)."""
    return InputFile(name=name, read=lambda: data, size=len(data))
