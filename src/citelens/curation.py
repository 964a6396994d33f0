"""Curators' labels in bulk: a CSV of statement ids and the types a curator gave them (``citelens correct --from``),
read, checked against the index and applied through the store's one correction call, as the statement page and
``POST /api/statements/{id}/correction`` apply one.

The loop it serves: ``citelens export`` → a team reads the statements in a spreadsheet and fills a
``corrected_type`` column → ``citelens correct --from``. Only that column counts (the export's own ``type`` is the
model's label, and importing a file unchanged must change nothing); statement ids change when an article is
re-ingested, so a row that still carries the exported ``sentence`` is refused when the statement under that id now
says something else.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from citelens.document import STANCES
from citelens.errors import CiteLensError
from citelens.store.base import MAX_ROW_ID

LABEL_COLUMN = "corrected_type"
# scite's and everyday names a team may type; the stored names are ours.
TYPE_ALIASES = {"support": "supporting", "supports": "supporting", "contrast": "contrasting",
                "contrasts": "contrasting", "contradicting": "contrasting", "mention": "mentioning",
                "mentions": "mentioning"}
MAX_CURATOR = 100  # as the API and the pages cut them
MAX_NOTE = 1000


class LabelFileError(CiteLensError, ValueError):
    """The file as a whole cannot be read as a labels file (not CSV text, no ``statement_id`` or
    ``corrected_type`` column); the message names the file."""


@dataclass(frozen=True)
class LabelRow:
    """One curator's label from the file: ``row`` is its row as a spreadsheet numbers it (the header is row 1)."""

    row: int
    statement_id: int
    stance: str
    curator: str
    note: str
    sentence: str | None


@dataclass
class LabelOutcome:
    """What became of each labelled row: applied, already so (the same label by the same curator: nothing stored
    twice), or refused with the reason. Rows with an empty ``corrected_type`` are only counted."""

    applied: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    blank: int = 0


def _text(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096]:
        raise LabelFileError(f"{name}: not a CSV file (binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # A spreadsheet saved "CSV" in its local encoding (Excel on Windows); the sentence check below ignores
        # letters outside ASCII, so such a file still matches its statements.
        return data.decode("cp1252", errors="replace")


def parse_type(value: str) -> str | None:
    """A statement type as a curator may write it ("Supporting", "contrast", scite's "contradicting"), or None."""
    v = value.strip().lower()
    v = TYPE_ALIASES.get(v, v)
    return v if v in STANCES else None


def read_label_rows(data: bytes, name: str, curator: str) -> tuple[list[LabelRow], LabelOutcome]:
    """The labelled rows of a CSV (or tab-separated) file, and an outcome holding the rows refused as written
    (a bad id or type, an id given twice) and the count of rows left blank. ``curator`` is used where the file
    has no ``curator`` column or leaves it empty."""
    text = _text(data, name)
    sample = text[:8192]
    dialect: Any = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "statement_id" not in header or LABEL_COLUMN not in header:
        missing = " and ".join(c for c in ("statement_id", LABEL_COLUMN) if c not in header)
        raise LabelFileError(f"{name}: no {missing} column (the header has: {', '.join(header[:12]) or 'nothing'}); "
                             f"add a {LABEL_COLUMN} column to a `citelens export` file and fill it where the model"
                             " is wrong")
    reader.fieldnames = header
    out = LabelOutcome()
    rows: list[LabelRow] = []
    seen: dict[int, int] = {}
    for number, row in enumerate(reader, start=2):
        label = (row.get(LABEL_COLUMN) or "").strip()
        if not label:
            out.blank += 1
            continue
        raw_id = (row.get("statement_id") or "").strip()
        sid = int(raw_id) if raw_id.isdigit() and 0 < int(raw_id) <= MAX_ROW_ID else None
        if sid is None:
            out.refused.append({"row": number, "statement_id": raw_id[:40] or None,
                                "problem": f"statement_id {raw_id[:40]!r} is not a statement id"})
            continue
        stance = parse_type(label)
        if stance is None:
            out.refused.append({"row": number, "statement_id": sid,
                                "problem": f"{LABEL_COLUMN} {label[:40]!r} is not one of {', '.join(STANCES)}"})
            continue
        if sid in seen:
            out.refused.append({"row": number, "statement_id": sid,
                                "problem": f"statement {sid} is labelled on row {seen[sid]} already"})
            continue
        seen[sid] = number
        who = ((row.get("curator") or "").strip() or curator)[:MAX_CURATOR]
        rows.append(LabelRow(number, sid, stance, who, (row.get("note") or "").strip()[:MAX_NOTE],
                             row.get("sentence") if "sentence" in header else None))
    return rows, out


def _letters(text: str) -> str:
    # ASCII letters and digits only: whitespace, quotes and characters a spreadsheet re-encoded do not count.
    return re.sub(r"[^a-z0-9]", "", text.lower())


def apply_labels(store: Any, rows: Iterable[LabelRow], outcome: LabelOutcome | None = None, *,
                 dry_run: bool = False) -> LabelOutcome:
    """Apply each row with ``store.correct_statement`` (one transaction a row: what was applied stays applied if a
    later row fails). A row is refused when its statement is not in the index or, where the file gives the
    sentence, says something else now; a row that repeats the label its curator already set is left as it is.
    ``dry_run`` checks everything and stores nothing."""
    out = outcome or LabelOutcome()
    for row in rows:
        st = store.get_statement(row.statement_id)
        if st is None:
            out.refused.append({"row": row.row, "statement_id": row.statement_id,
                                "problem": f"no statement {row.statement_id} in the index (ids change when an article"
                                           " is re-ingested: export again)"})
            continue
        if row.sentence is not None and _letters(row.sentence) != _letters(st.sentence):
            out.refused.append({"row": row.row, "statement_id": row.statement_id,
                                "problem": f"statement {row.statement_id} is another sentence now (its article was"
                                           " re-ingested since the export, or the sentence was edited): export"
                                           " again"})
            continue
        done = {"row": row.row, "statement_id": row.statement_id, "from": st.type, "type": row.stance,
                "model_type": st.model_stance, "curator": row.curator}
        if st.type == row.stance and st.corrected_by == row.curator:
            out.unchanged.append(done)
            continue
        if not dry_run:
            store.correct_statement(row.statement_id, row.stance, row.curator, row.note)
        out.applied.append(done)
    return out


def outcome_json(out: LabelOutcome, *, dry_run: bool) -> dict[str, Any]:
    """The ``--json`` shape of ``citelens correct --from`` (docs/cli.md)."""
    return {"dry_run": dry_run, "applied": len(out.applied), "unchanged": len(out.unchanged),
            "refused": len(out.refused), "blank": out.blank, "corrections": out.applied, "problems": out.refused}


def iter_problems(out: LabelOutcome) -> Iterator[str]:
    """Each refused row as one line a user can act on: ``row 7: …``."""
    for p in sorted(out.refused, key=lambda p: p["row"]):
        yield f"row {p['row']}: {p['problem']}"
