"""Editorial notices that arrive without a notice article: the Retraction Watch database CSV and Crossref's
``update-to`` / ``updated-by`` in metadata JSON lines. Both become :class:`NoticeRecord`s, which the ingest stores
through one code path (``pipeline.ingest_notices``) as notices about the works they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from citelens.references.resolve import WorkRecord

# Where a notice came from (stored as the notice's ``relation``; JATS notices keep their related-article-type).
RETRACTION_WATCH = "retraction-watch"
CROSSREF_UPDATE_TO = "crossref-update-to"
CROSSREF_UPDATED_BY = "crossref-updated-by"


class RepairedRow(str):
    """A problem with a row whose notice was stored anyway, without the bad value ("RetractionDate 'x' is not a date
    (stored undated)"): a warning, not a failure — the notice is in the index, and a real Retraction Watch file
    with a few such rows would otherwise make every scheduled ingest exit 1 ("some inputs failed")."""


@dataclass
class NoticeRecord:
    """A notice about the work ``target`` names (by DOI, else PMID; its title and journal fill gaps only)."""

    target: WorkRecord
    kind: str  # rules.NOTICE kinds: retraction, correction, expression-of-concern, reinstatement, …
    doi: str = ""  # the notice's own DOI
    date: str = ""  # ISO: "2015-03-04", or "2015" when only the year is known
    source: str = ""  # RETRACTION_WATCH | CROSSREF_UPDATE_TO | CROSSREF_UPDATED_BY
    record_id: str = ""  # the source's own id for the row (Retraction Watch's Record ID)
    reasons: tuple[str, ...] = field(default_factory=tuple)  # Retraction Watch's Reason list, "+" marks dropped


_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_ISO = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ][\d:.+Z-]*)?")


def iso_date(value: str) -> str | None:
    """'3/4/2015 0:00' (Retraction Watch's month/day/year), '2015-03-04', '2015-03' or '2015' → ISO text ('' for an
    empty cell); None when the text is no valid date (so the caller can say so)."""
    v = (value or "").strip()
    if not v:
        return ""
    m = _SLASHED.fullmatch(v)
    if m:
        parts: tuple[int, ...] = (int(m.group(3)), int(m.group(1)), int(m.group(2)))
    else:
        m = _ISO.fullmatch(v)
        if not m:
            return None
        parts = tuple(int(g) for g in m.groups() if g)
    return date_from_parts(parts)


def date_from_parts(parts: tuple[int, ...] | list[int]) -> str | None:
    """Crossref ``date-parts`` ([2015, 3, 4], [2015, 3], [2015]) → ISO text; None when not a real date."""
    if not parts or not 1000 <= parts[0] <= 9999:
        return None
    try:
        if len(parts) >= 3:
            return date(parts[0], parts[1], parts[2]).isoformat()
        if len(parts) == 2:
            return date(parts[0], parts[1], 1).isoformat()[:7]
    except (ValueError, TypeError, OverflowError):
        return None
    return f"{parts[0]:04d}"
