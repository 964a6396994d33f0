"""CSV cells that a spreadsheet opens as data, never as a formula.

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
