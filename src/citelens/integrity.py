"""Which of a set of papers (an author's, an institution's, a journal's) cite retracted work, and whether they
cited it after the retraction: the store's citations of works under a notice, dated and counted.

One pure function over :meth:`~citelens.store.sql.SQLStore` rows (``NoticedCitation`` with its notices and
statement counts), so the author, institution and journal profiles, their pages, API answers and CLI output
class each citation by the same rules as the report page and the reference list
(:func:`citelens.rules.cited_after_retraction`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from citelens.rules import cited_after_retraction, notice_year, retraction_in_force
from citelens.store.records import CitesRetracted, NoticedCitation, NoticeTiming

# The notices that put a cited work in question. A correction does not: the work stands, corrected.
RETRACTION, CONCERN = "retraction", "expression-of-concern"
_TIMING_RANK = {"after": 0, "same-year": 1, None: 2, "before": 3}


def date_citation(row: NoticedCitation) -> NoticedCitation | None:
    """``row`` with its ``notice`` (a retraction wins over an expression of concern: the work is retracted,
    whatever was said of it before), that notice's year and the citation's timing; None when the work has
    neither kind of notice (a retraction lifted by a reinstatement does not count)."""
    kinds = {n.kind for n in row.notices}
    # A retraction a later reinstatement lifted no longer puts the work in question (rules.retraction_in_force).
    retracted = RETRACTION in kinds and retraction_in_force(row.notices)
    kind = RETRACTION if retracted else CONCERN if CONCERN in kinds else ""
    if not kind:
        return None
    year = notice_year(row.notices, kind)
    of_kind = [n for n in row.notices if n.kind == kind]
    first = next((n for n in of_kind if year is not None and n.date[:4] == str(year)), of_kind[0])
    return dataclasses.replace(row, notice=kind, notice_year=year, notice_doi=first.doi,
                               timing=cited_after_retraction(row.citing_year, year))


def citation_order(c: NoticedCitation) -> tuple[object, ...]:
    """The worst first: retractions before concerns; a supporting citation after the notice; then after, in the
    same year, undated, before; more supporting statements, more statements; newest paper; then by identifiers
    (a total order, the same on every backend)."""
    return (c.notice != RETRACTION, not (c.timing == "after" and c.supporting > 0), _TIMING_RANK[c.timing],
            -c.supporting, -c.statements, -(c.citing_year or 0), c.citing_doi, c.citing_work_id, c.cited_doi,
            c.cited_work_id)


def _timing(cs: list[NoticedCitation]) -> NoticeTiming:
    by = {t: sum(1 for c in cs if c.timing == t) for t in ("after", "same-year", "before", None)}
    return NoticeTiming(citations=len(cs), after=by["after"], same_year=by["same-year"], before=by["before"],
                        undated=by[None], citing_papers=len({c.citing_work_id for c in cs}),
                        works=len({c.cited_work_id for c in cs}), statements=sum(c.statements for c in cs),
                        supporting_after=sum(1 for c in cs if c.timing == "after" and c.supporting > 0))


def cites_retracted(rows: Iterable[NoticedCitation]) -> CitesRetracted:
    """The citations of ``rows`` (one per citing paper and cited work) to retracted works, and apart those to
    works with an expression of concern and no retraction: counted by timing, listed the worst first."""
    dated = sorted((c for c in map(date_citation, rows) if c is not None), key=citation_order)
    return CitesRetracted(retraction=_timing([c for c in dated if c.notice == RETRACTION]),
                          expression_of_concern=_timing([c for c in dated if c.notice == CONCERN]),
                          citations=tuple(dated))
