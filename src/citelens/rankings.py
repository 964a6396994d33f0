"""The index's works ranked: the most cited, the most supported, the most contrasted.

One function for ``citelens top``, ``GET /api/works/top`` and the ``/top`` page, so the three rank and count the
same way. A research-integrity team asks "which works here draw the most contrasting statements?"; a reader of the
demo asks where the supporting and contrasting ones are at all (its most cited works are methods papers, mostly
mentioned). With ``min_confidence`` (``auto``: the model's threshold for precision 0.8 on dev) only labels the model
is sure of count, for the ranking and for every figure shown beside it, as on the report page.
"""

from __future__ import annotations

from typing import Any

from citelens.serialize import as_dict, paper_json, tallies_json
from citelens.store.records import TOP_WORKS_BY

__all__ = ["TOP_WORKS_BY", "top_works"]

# Page sizes: 20 by default, as statement pages; at most 100, as /api/search.
TOP_WORKS_PER_PAGE = 20
TOP_WORKS_PER_PAGE_MAX = 100


def top_works(store: Any, by: str, *, page: int = 1, per_page: int = TOP_WORKS_PER_PAGE,
              min_confidence: float | None = None) -> dict[str, Any]:
    """Page ``page`` of the works ranked by ``by`` (``cited``: citing publications; ``supporting`` /
    ``contrasting``: statements of that type counted at ``min_confidence``), most first.

    ``{"by", "min_confidence", "total" (works with at least one), "page", "per_page", "pages", "works": [{"rank",
    "id", "count" (what the ranking counts), the paper fields (doi, title, authors, year, journal, retracted,
    editorialNotices) and "tallies" (the scite shape, at min_confidence)}]}``. ValueError for an unknown ``by`` or
    a page or page size out of range."""
    if by not in TOP_WORKS_BY:
        raise ValueError(f"by must be one of {', '.join(TOP_WORKS_BY)}, not {by!r}")
    if not 1 <= per_page <= TOP_WORKS_PER_PAGE_MAX:
        raise ValueError(f"per_page must be between 1 and {TOP_WORKS_PER_PAGE_MAX}")
    if page < 1:
        raise ValueError("page must be 1 or more")
    offset = (page - 1) * per_page
    total, ranked = store.top_works(by, limit=per_page, offset=offset, min_confidence=min_confidence)
    tallies = store.tallies_of_works([w for w, _ in ranked], min_confidence=min_confidence) if ranked else {}
    works = []
    for rank, (wid, count) in enumerate(ranked, start=offset + 1):
        work = store.get_work(wid)
        if work is None:  # removed between the two reads
            continue
        works.append({"rank": rank, "id": wid, "count": count, **paper_json(work),
                      "tallies": tallies_json(work.doi or wid, as_dict(tallies[wid]), retracted=bool(work.retracted))})
    return {"by": by, "min_confidence": min_confidence, "total": total, "page": page, "per_page": per_page,
            "pages": max(1, -(-total // per_page)), "works": works}
