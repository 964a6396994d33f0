"""The Retraction Watch database CSV (distributed openly by Crossref) → :class:`NoticeRecord`s, streamed.

Columns (Crossref's published list): Record ID, Title, Subject, Institution, Journal, Publisher, Country, Author,
URLS, ArticleType, RetractionDate, RetractionDOI, RetractionPubMedID, OriginalPaperDate, OriginalPaperDOI,
OriginalPaperPubMedID, RetractionNature, Reason, Paywalled, Notes. Column names are matched without case, spaces
or underscores. Needed: RetractionNature and OriginalPaperDOI or OriginalPaperPubMedID; the rest is optional.

The file has been published in UTF-8 (with or without a byte-order mark) and in Latin-1/Windows-1252, and has
held lines of each in one file: every line is read as UTF-8, else as Windows-1252. A row that cannot be used is
reported by its row number and Record ID and the rest are read; memory stays bounded by the longest row.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import IO

from citelens.errors import MalformedInputError
from citelens.formats.notices import RETRACTION_WATCH, NoticeRecord, RepairedRow, iso_date
from citelens.references.identifiers import normalise_doi, normalise_pmid
from citelens.references.resolve import WorkRecord
from citelens.rules import notice_kind_of_nature

COLUMNS = ("Record ID", "Title", "Subject", "Institution", "Journal", "Publisher", "Country", "Author", "URLS",
           "ArticleType", "RetractionDate", "RetractionDOI", "RetractionPubMedID", "OriginalPaperDate",
           "OriginalPaperDOI", "OriginalPaperPubMedID", "RetractionNature", "Reason", "Paywalled", "Notes")
MAX_LINE_BYTES = 1 << 20  # a real row is a few kB; a longer line is refused, not held
# Cells Retraction Watch writes where it has no identifier.
_NONE = {"", "unavailable", "not available", "n/a", "na", "none", "0", "null"}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_KNOWN = {_key(c): c for c in COLUMNS}


def looks_like_retraction_watch(head: bytes) -> bool:
    """Whether a file's first bytes are a Retraction Watch CSV header: at least three of its column names,
    among them RetractionNature or OriginalPaperDOI (its name alone does not decide)."""
    line = _decode(head.split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf"))[0]
    names = {_key(c) for c in next(csv.reader([line]), [])}
    return len(names & _KNOWN.keys()) >= 3 and bool(names & {"retractionnature", "originalpaperdoi"})


def _decode(raw: bytes) -> tuple[str, bool]:
    """A line's text and whether it was not UTF-8 (read as Windows-1252, every byte of which maps to a character
    but five, which come out as U+FFFD)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), True


class _Lines:
    """A binary file's lines as text (see :func:`_decode`), each at most MAX_LINE_BYTES; longer lines are skipped
    to their end and noted in ``too_long`` (by physical line number)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.line = 0
        self.not_utf8 = 0
        self.too_long: list[int] = []

    def __iter__(self) -> Iterator[str]:
        first = True
        while True:
            raw = self.fh.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            self.line += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                self.too_long.append(self.line)
                while raw and not raw.endswith(b"\n"):
                    raw = self.fh.readline(MAX_LINE_BYTES)
                yield "\n"  # an empty row in its place: the reader's row count stays true
                continue
            if first:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
                first = False
            text, fallback = _decode(raw)
            self.not_utf8 += fallback
            yield text


def read_retraction_watch(fh: IO[bytes], source: str) -> Iterator[NoticeRecord | str]:
    """Each usable row as a :class:`NoticeRecord`, each unusable one as an error text ("row 12 (Record ID 345):
    …"), in file order; a last text notes lines that were not UTF-8. Raises :class:`MalformedInputError` naming
    ``source`` when the header is not a Retraction Watch header or lacks a needed column."""
    lines = _Lines(fh)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise MalformedInputError(source, "empty file") from None
    except csv.Error as exc:
        raise MalformedInputError(source, f"the CSV header cannot be read ({exc})") from None
    cols = {_key(name): i for i, name in enumerate(header) if _key(name)}
    if len(cols.keys() & _KNOWN.keys()) < 3:
        raise MalformedInputError(source, "a CSV file, but not the Retraction Watch database: its header names"
                                          f" none of RetractionNature, OriginalPaperDOI, RetractionDOI … ({len(header)}"
                                          " columns)")
    missing = [n for n in ("RetractionNature",) if _key(n) not in cols]
    if "originalpaperdoi" not in cols and "originalpaperpubmedid" not in cols:
        missing.append("OriginalPaperDOI or OriginalPaperPubMedID")
    if missing:
        raise MalformedInputError(source, f"Retraction Watch CSV without the column {' and '.join(missing)}")
    row_no = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row_no += 1
            yield f"row {row_no} (line {lines.line}): not CSV ({exc}); skipped"
            continue
        row_no += 1
        if lines.too_long and lines.too_long[-1] == lines.line:
            yield f"row {row_no} (line {lines.line}): longer than {MAX_LINE_BYTES:,} bytes; skipped"
            continue
        if not any(c.strip() for c in row):
            continue
        notice, problems = _row_notice(row, cols, row_no)
        if notice is not None:
            yield notice
        yield from problems
    if lines.not_utf8:
        yield (f"{lines.not_utf8:,} line(s) were not UTF-8 and were read as Windows-1252 (Latin-1); check names"
               " with accents")


def _cell(row: list[str], cols: dict[str, int], name: str) -> str:
    i = cols.get(_key(name))
    return row[i].strip() if i is not None and i < len(row) else ""


def _shown(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _row_notice(row: list[str], cols: dict[str, int], row_no: int) -> tuple[NoticeRecord | None, list[str]]:
    """The row's notice (None when it names no work or no kind) and what was wrong with it. A retraction with a
    malformed date or notice DOI is still stored, without them: losing it would hide a retraction."""
    record_id = _cell(row, cols, "Record ID")
    where = f"row {row_no}" + (f" (Record ID {_shown(record_id, 20)})" if record_id else "")
    nature = _cell(row, cols, "RetractionNature")
    kind = notice_kind_of_nature(nature)
    if kind is None:
        return None, [f"{where}: RetractionNature {_shown(nature)} is not Retraction, Correction, Expression of"
                      " concern or Reinstatement; skipped"]
    problems = []
    raw_doi = _cell(row, cols, "OriginalPaperDOI")
    doi = "" if raw_doi.lower() in _NONE else normalise_doi(raw_doi)
    if raw_doi.lower() not in _NONE and not doi:
        problems.append(f"OriginalPaperDOI {_shown(raw_doi)} is not a DOI")
    raw_pmid = _cell(row, cols, "OriginalPaperPubMedID")
    pmid = "" if raw_pmid.lower() in _NONE else normalise_pmid(raw_pmid)
    if raw_pmid.lower() not in _NONE and not pmid:
        problems.append(f"OriginalPaperPubMedID {_shown(raw_pmid)} is not a PubMed id")
    if not (doi or pmid):
        return None, [f"{where}: no usable OriginalPaperDOI or OriginalPaperPubMedID"
                      + (f" ({'; '.join(problems)})" if problems else "") + "; skipped"]
    raw_date = _cell(row, cols, "RetractionDate")
    when = iso_date(raw_date)
    if when is None:
        problems.append(f"RetractionDate {_shown(raw_date)} is not a date (stored undated)")
    raw_notice_doi = _cell(row, cols, "RetractionDOI")
    notice_doi = "" if raw_notice_doi.lower() in _NONE else normalise_doi(raw_notice_doi)
    if raw_notice_doi.lower() not in _NONE and not notice_doi:
        problems.append(f"RetractionDOI {_shown(raw_notice_doi)} is not a DOI (stored without it)")
    original = iso_date(_cell(row, cols, "OriginalPaperDate")) or ""
    notice = NoticeRecord(
        target=WorkRecord(doi=doi, pmid=pmid, title=_cell(row, cols, "Title"), container=_cell(row, cols, "Journal"),
                          year=int(original[:4]) if original else None, kind="reference"),
        kind=kind, doi=notice_doi, date=when or "", source=RETRACTION_WATCH, record_id=record_id,
        reasons=reasons(_cell(row, cols, "Reason")))
    return notice, [RepairedRow(f"{where}: {p}") for p in problems]


def reasons(value: str) -> tuple[str, ...]:
    """'+Falsification/Fabrication of Data;+Investigation by Journal/Publisher;' → the two reasons."""
    return tuple(r for r in (p.strip().lstrip("+").strip() for p in value.split(";")) if r)

