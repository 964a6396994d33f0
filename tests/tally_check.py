"""Recounts from the statements that per-work tallies must equal (tests of the store and of ingest)."""

from __future__ import annotations

from citelens.rules import counted_stance
from citelens.store import Store, Tallies, YearCounts


def recount_tallies(store: Store, work_id: str, min_confidence: float | None, exclude_self: bool) -> Tallies:
    """What the tallies must be: counted from every stored statement, by the rule."""
    counts = {"supporting": 0, "contrasting": 0, "mentioning": 0, "unclassified": 0}
    citing: set[str] = set()
    for s in store.iter_statements():
        if s.cited_work_id != work_id or (exclude_self and s.self_citation):
            continue
        label = counted_stance(s.type or "", s.confidence, s.corrected_by is not None, min_confidence)
        counts[label if label in counts else "unclassified"] += 1
        citing.add(s.citing_work_id)
    return Tallies(total=sum(counts.values()), citing_publications=len(citing), **counts)


def recount_years(store: Store, work_id: str) -> list[YearCounts]:
    years: dict[int | None, dict[str, int]] = {}
    for s in store.iter_statements():
        if s.cited_work_id == work_id:
            by = years.setdefault(s.citing_year, {})
            by[s.type or ""] = by.get(s.type or "", 0) + 1
    return [YearCounts(year=y, total=sum(b.values()), supporting=b.get("supporting", 0),
                       contrasting=b.get("contrasting", 0), mentioning=b.get("mentioning", 0))
            for y, b in sorted(years.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]


def assert_tallies_match_statements(store: Store) -> None:
    """Every cited work's tallies (no threshold, and at 0.5 without self-citations) equal a recount."""
    works = sorted({s.cited_work_id for s in store.iter_statements() if s.cited_work_id})
    assert works
    for w in works:
        assert store.tallies(w) == recount_tallies(store, w, None, False), w
        assert store.tallies(w, min_confidence=0.5, exclude_self=True) == recount_tallies(store, w, 0.5, True), w
        assert store.year_tallies(w) == recount_years(store, w), w
