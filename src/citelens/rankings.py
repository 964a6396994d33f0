"""The index's works ranked: the most cited, the most supported, the most contrasted.

One function for ``citelens top``, ``GET /api/works/top`` and the ``/top`` page, so the three rank and count the
same way. A research-integrity team asks "which works here draw the most contrasting statements?"; a reader of the
demo asks where the supporting and contrasting ones are at all (its most cited works are methods papers, mostly
mentioned). With ``min_confidence`` (``auto``: the model's threshold for precision 0.8 on dev) only labels the model
is sure of count, for the ranking and for every figure shown beside it, as on the report page.
"""

from __future__ import annotations

import csv
import io
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from citelens.document import format_work_id, parse_work_id
from citelens.serialize import as_dict, paper_json, tallies_from_json, tallies_json
from citelens.spreadsheet import for_excel, safe_row
from citelens.store.records import TOP_WORKS_BY

__all__ = ["TOP_WORKS_BY", "TOP_WORKS_CSV_FIELDS", "Ranking", "ranking", "ranking_size", "top_works",
           "top_works_csv", "top_works_rows"]

# Page sizes: 20 by default, as statement pages; at most 100, as /api/search.
TOP_WORKS_PER_PAGE = 20
TOP_WORKS_PER_PAGE_MAX = 100

# A ranking kept for paging (:func:`ranking`): two 8-byte integers a work, so 200,000 works are 3.2 MB; pages past
# that many works are ranked one query each, as without a kept ranking.
RANKING_MAX = 200_000
# The first ranking kept holds 1,000 works (ten pages of 100: a reader of the first page does not pay for reading
# 190,000, 155 -> 628 ms at 1 M statements on SQLite); a page past it reads one twice as long, and so on.
RANKING_FIRST = 1_000
# The web's download of a ranking (/top.csv without a page) holds at most this many works: a server answering
# anyone builds no larger file (the whole ranking of the 1 M-statement benchmark, 151,884 works, took 4.7 s of CPU
# and 22.6 MB a request). `citelens top --csv` writes every work.
TOP_CSV_WEB_MAX = 10_000


def ranking_size(works_needed: int) -> int | None:
    """How many works the kept ranking that reaches ``works_needed`` (a page's offset plus its size) holds: the
    first of 1,000, 2,000, 4,000 ... that does (a client walking 400 pages of 100 ranks 7 times, not 400); None
    past :data:`RANKING_MAX`."""
    size = RANKING_FIRST
    while size < works_needed:
        size *= 2
    return min(size, RANKING_MAX) if works_needed <= RANKING_MAX else None


@dataclass(frozen=True)
class Ranking:
    """The first works (up to :data:`RANKING_MAX`) of one ranking, in order: a server ranks once and slices every
    page from it while the index is unchanged, instead of ranking again for each page (on PostgreSQL at 1 M
    statements 170-250 ms of server CPU a page; a client walking 400 pages paid it 400 times)."""

    by: str
    min_confidence: float | None
    total: int  # works with at least one, as store.top_works counts them
    ids: array  # work row ids ("W12" → 12), most first
    counts: array  # what the ranking counts, beside each id

    def page(self, offset: int, limit: int) -> list[tuple[str, int]] | None:
        """(work id, count) of ``limit`` works from ``offset``; None when the page reaches past the works kept."""
        if offset + limit > len(self.ids) and len(self.ids) < self.total:
            return None
        return [(format_work_id(n), c) for n, c in zip(self.ids[offset:offset + limit],
                                                       self.counts[offset:offset + limit], strict=True)]


def ranking(store: Any, by: str, min_confidence: float | None = None, limit: int = RANKING_MAX) -> Ranking:
    """The first ``limit`` works ranked by ``by`` at ``min_confidence`` (:func:`top_works` pages them)."""
    if by not in TOP_WORKS_BY:
        raise ValueError(f"by must be one of {', '.join(TOP_WORKS_BY)}, not {by!r}")
    total, ranked = store.top_works(by, limit=limit, offset=0, min_confidence=min_confidence)
    ids, counts = array("q"), array("q")
    for wid, count in ranked:
        n = parse_work_id(wid)
        if n is None:  # not a row id: this ranking cannot be kept compactly, so pages are ranked one by one
            return Ranking(by, min_confidence, total, array("q"), array("q"))
        ids.append(n)
        counts.append(count)
    return Ranking(by, min_confidence, total, ids, counts)


def top_works(store: Any, by: str, *, page: int = 1, per_page: int = TOP_WORKS_PER_PAGE,
              min_confidence: float | None = None, kept: Ranking | None = None) -> dict[str, Any]:
    """Page ``page`` of the works ranked by ``by`` (``cited``: citing publications; ``supporting`` /
    ``contrasting``: statements of that type counted at ``min_confidence``), most first.

    ``{"by", "min_confidence", "total" (works with at least one), "page", "per_page", "pages", "works": [{"rank",
    "id", "count" (what the ranking counts), the paper fields (doi, title, authors, year, journal, retracted,
    editorialNotices) and "tallies" (the scite shape, at min_confidence)}]}``. ValueError for an unknown ``by`` or
    a page or page size out of range. ``kept``: the same ranking read before (:func:`ranking`), to slice the page
    from rather than rank again; the page is ranked afresh where it reaches past the works ``kept`` holds."""
    if by not in TOP_WORKS_BY:
        raise ValueError(f"by must be one of {', '.join(TOP_WORKS_BY)}, not {by!r}")
    if not 1 <= per_page <= TOP_WORKS_PER_PAGE_MAX:
        raise ValueError(f"per_page must be between 1 and {TOP_WORKS_PER_PAGE_MAX}")
    if page < 1:
        raise ValueError("page must be 1 or more")
    offset = (page - 1) * per_page
    total, works = _ranked_works(store, by, offset, per_page, min_confidence, kept)
    return {"by": by, "min_confidence": min_confidence, "total": total, "page": page, "per_page": per_page,
            "pages": max(1, -(-total // per_page)), "works": works}


def _ranked_works(store: Any, by: str, offset: int, limit: int, min_confidence: float | None,
                  kept: Ranking | None) -> tuple[int, list[dict[str, Any]]]:
    """(works ranked, the ``limit`` works from ``offset`` as :func:`top_works` gives them): sliced from ``kept``
    where it reaches, else ranked afresh."""
    if kept is not None and (kept.by, kept.min_confidence) != (by, min_confidence):
        raise ValueError("kept is another ranking")
    sliced = kept.page(offset, limit) if kept is not None else None
    if sliced is not None and kept is not None:
        total, ranked = kept.total, sliced
    else:
        total, ranked = store.top_works(by, limit=limit, offset=offset, min_confidence=min_confidence)
    ids = [w for w, _ in ranked]
    tallies = store.tallies_of_works(ids, min_confidence=min_confidence) if ranked else {}
    found = store.get_works(ids) if ranked else {}
    works = []
    for rank, (wid, count) in enumerate(ranked, start=offset + 1):
        work = found.get(wid)
        if work is None:  # removed between the two reads
            continue
        works.append({"rank": rank, "id": wid, "count": count, **paper_json(work),
                      "tallies": tallies_json(work.doi or wid, as_dict(tallies[wid]), retracted=bool(work.retracted))})
    return total, works


# The spreadsheet of a ranking (citelens top --csv, /top.csv): one row a work, the columns the page shows. "count"
# is what the ranking counts (citing publications, or supporting / contrasting statements at min_confidence);
# supporting ... citing_publications are the work's tallies at the same threshold; "total" is every statement
# (unclassified ones too), as the collection CSV's column of that name. The last two say what was ranked and at
# which threshold on every row, so a file sent on, or one sheet among several in a workbook, still says what its
# counts are (min_confidence empty: every label counted).
TOP_WORKS_CSV_FIELDS = ("rank", "work_id", "doi", "title", "year", "journal", "count", "supporting", "contrasting",
                        "mentioning", "total", "citing_publications", "retracted", "notices", "ranked_by",
                        "min_confidence")
# Works read together for a whole ranking: two queries a chunk (tallies, works), as the store reads 500 ids a query.
_CSV_CHUNK = 500


def top_works_rows(store: Any, by: str, *, min_confidence: float | None = None, page: int | None = None,
                   per_page: int = TOP_WORKS_PER_PAGE, kept: Ranking | None = None,
                   limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The rows of the ranking's CSV (:data:`TOP_WORKS_CSV_FIELDS`): page ``page`` of ``per_page`` as
    :func:`top_works` gives it, or, without ``page``, every work of the ranking, most first (read ``_CSV_CHUNK``
    works at a time, so a ranking of 150,000 works is never held whole). ValueError as :func:`top_works`, at
    once (before the first row). ``kept``: the ranking read before, reused where it reaches. ``limit``: without
    ``page``, at most this many works (the first ones)."""
    if page is not None:
        pages: Iterator[list[dict[str, Any]]] = iter(
            [top_works(store, by, page=page, per_page=per_page, min_confidence=min_confidence, kept=kept)["works"]])
    else:
        if by not in TOP_WORKS_BY:
            raise ValueError(f"by must be one of {', '.join(TOP_WORKS_BY)}, not {by!r}")
        def enough(r: Ranking) -> bool:
            return len(r.ids) >= r.total or (limit is not None and len(r.ids) >= limit)

        if kept is None or not enough(kept):
            # The whole ranking (or its first ``limit`` works), ranked once (16 bytes a work), not once a chunk.
            first = kept or ranking(store, by, min_confidence, RANKING_MAX if limit is None else max(limit, 1))
            kept = first if enough(first) else ranking(store, by, min_confidence, first.total)
        pages = _chunks(store, by, min_confidence, kept, limit)
    return (_csv_row(w, by, min_confidence) for works in pages for w in works)


def _chunks(store: Any, by: str, min_confidence: float | None, kept: Ranking,
            limit: int | None = None) -> Iterator[list[dict[str, Any]]]:
    offset = 0
    while True:
        size = _CSV_CHUNK if limit is None else min(_CSV_CHUNK, limit - offset)
        if size <= 0:
            return
        total, works = _ranked_works(store, by, offset, size, min_confidence, kept)
        yield works
        offset += size
        if offset >= total:
            return


def _csv_row(w: dict[str, Any], by: str, min_confidence: float | None) -> dict[str, Any]:
    t = tallies_from_json(w["tallies"])
    notices = [f"{n['status']} ({n['date']})" if n["date"] else n["status"] for n in w["editorialNotices"]]
    return {"rank": w["rank"], "work_id": w["id"], "doi": w["doi"], "title": w["title"], "year": w["year"],
            "journal": w["journal"], "count": w["count"], "supporting": t["supporting"],
            "contrasting": t["contrasting"], "mentioning": t["mentioning"], "total": t["total"],
            "citing_publications": t["citing_publications"], "retracted": w["retracted"],
            "notices": "; ".join(notices), "ranked_by": by, "min_confidence": min_confidence}


def top_works_csv(rows: Iterator[dict[str, Any]], *, excel: bool = False) -> Iterator[str]:
    """``rows`` (:func:`top_works_rows`) as CSV text, a piece at a time: the heading (after the byte-order mark
    when ``excel``: spreadsheet.EXCEL_BOM), then one line a row, every text cell safe from running as a formula."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=TOP_WORKS_CSV_FIELDS)
    w.writeheader()
    yield for_excel(buf.getvalue(), excel)
    for row in rows:
        buf.seek(0)
        buf.truncate()
        w.writerow(safe_row(row))
        yield buf.getvalue()
