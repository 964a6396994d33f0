"""CSV that a spreadsheet opens as data: cells never run as a formula, text in the right encoding on request.

Every CSV CiteLens writes (statement and author exports, reference-check results, collections, knowledge-flow
tables) carries text from the files it read: titles, sentences, reference strings, affiliations. A cell that
begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) is run as a formula by
Excel, LibreOffice and Google Sheets when the file is opened: a hostile article could make a reader's
spreadsheet fetch an address or run a command (CSV injection, OWASP). Such a text cell is written with an
apostrophe in front, which those programs take as "this is text" and do not show. Numbers stay numbers: a
negative confidence or count is not text. Written here: the csv module has no such option, and the rule is
one line that every writer must share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet should show it: a text that would start a formula gets a leading apostrophe
    ("=HYPERLINK(…)" → "'=HYPERLINK(…)"); anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A ``csv.DictWriter`` row with every cell made safe (:func:`safe_cell`)."""
    return {k: safe_cell(v) for k, v in row.items()}


def safe_cells(values: Iterable[Any]) -> list[Any]:
    """A ``csv.writer`` row with every cell made safe (:func:`safe_cell`)."""
    return [safe_cell(v) for v in values]


# A UTF-8 byte-order mark: the one sign by which Excel (Windows, and Mac since 2016) reads a double-clicked CSV as
# UTF-8; without it Excel reads the file in the system's code page (cp1252 in Western Europe and the Americas), and
# "Müller, Øster" shows as "MÃ¼ller, Ã˜ster". LibreOffice, Google Sheets and SQLite's .import (3.40) drop the
# mark. But it is not part of UTF-8 text for every reader: Python's csv module reading
# with encoding="utf-8" makes the first column "\ufeffstatement_id" (row["statement_id"] is then a KeyError), as
# do Node's and Go's CSV readers without their BOM options, cut and awk; and a file cut into parts or joined with
# cat has it in the middle. So it is written only where asked for: ``--excel`` on the command line, ``excel=1`` on
# a download address; the pages' download buttons ask for it, the plain addresses (scripts, curl) never get it.
EXCEL_BOM = "\ufeff"


def for_excel(text: str, excel: bool) -> str:
    """CSV ``text`` with the byte-order mark in front when ``excel`` (see :data:`EXCEL_BOM`), else as it is."""
    return EXCEL_BOM + text if excel else text
