"""A paper's own reference list as the index knows it — each entry with the work it resolved to, how it was matched,
that work's editorial notices (a retracted reference dated against the citing paper's year) and its tallies.

One function for the report page's References tab, ``GET /api/references/{doi}`` and ``citelens report
--references``, so the three read the same list the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from citelens.rules import retraction_year, title_says_retracted
from citelens.serialize import as_dict


def reference_list(store: Any, work_id: str, min_confidence: float | None = None,
                   tallies_of: Callable[[str, float | None], dict[str, int]] | None = None) -> list[dict[str, Any]]:
    """The reference list of the article ingested for ``work_id`` (empty when the index only knows it as cited),
    in the article's order. Each entry is the store's ``ReferenceEntry`` as a dict plus ``tallies`` (of the work
    it resolved to, counted at ``min_confidence``; None when unresolved), ``notices``, ``retracted_in`` (the
    year of the work's earliest retraction notice, or None) and ``title_says_retracted`` (its title or its work's
    carries the publisher's retraction mark). ``tallies_of(work_id, min_confidence)`` lets the
    server reuse its cached counts."""
    def count(wid: str, cut: float | None) -> dict[str, int]:
        return as_dict(store.tallies(wid, min_confidence=cut))

    tally = tallies_of or count
    refs = as_dict(store.references_of(work_id))
    for ref in refs:
        wid = ref.get("work_id")
        ref["tallies"] = tally(wid, min_confidence) if wid else None
        ref["notices"] = as_dict(store.notices(wid)) if wid else []
        ref["retracted_in"] = retraction_year(ref["notices"])
        ref["title_says_retracted"] = title_says_retracted(ref.get("title")) or title_says_retracted(
            ref.get("cited_title"))
    return refs

