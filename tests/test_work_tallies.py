"""Per-work tallies (schema 9) equal a recount from the statements, on every backend, after random sequences
of ingests, replacements (the identity rule) and curators' corrections; and the aggregate pages built on them
(author, journal) equal what the statements-only code path gives."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from citelens.pipeline import Pipeline, read_bytes_input
from citelens.rules import FIXED_BUCKET, add_up_buckets, counted_stance, threshold_window
from citelens.stance.base import StanceInput, StancePrediction
from citelens.store import Store, open_store
from citelens.store.sql import SQLStore
from tally_check import recount_tallies, recount_years

# Confidences on and next to bucket edges (floor(c × 100) rounds c × 100 first), and the ends of the range.
CONFIDENCES = (0.0, 0.005, 0.01, 0.0099999, 0.29, 0.3, 0.5, 0.57, 0.695, 0.7, 0.70000001, 0.705, 0.99, 0.999, 1.0)
STANCE_CYCLE = ("supporting", "contrasting", "mentioning", "supporting", "contrasting")
THRESHOLDS = (None, 0.0, 0.005, 0.01, 0.29, 0.3, 0.5, 0.57, 0.58, 0.695, 0.7, 0.7000000001, 0.71, 0.99, 1.0, 1.5, -1.0)
SURNAMES = ("Barnes", "Chen", "Okafor", "Quist", "Diaz")
ROR = "05rk03822"
WORDS = ("colony", "growth", "arrest", "signal", "sentinel", "cell", "pattern", "quorum", "model", "data", "effect",
         "response")


class HashClassifier:
    """A deterministic classifier whose confidences sit on bucket edges (what the tallies must get right)."""

    name = "hash-test"

    def predict(self, inputs: list[StanceInput]) -> list[StancePrediction]:
        out = []
        for x in inputs:
            h = zlib.crc32(x.text.encode())
            out.append(StancePrediction(STANCE_CYCLE[h % len(STANCE_CYCLE)],
                                        CONFIDENCES[(h // 7) % len(CONFIDENCES)]))
        return out


def _article(rng: random.Random, n: int, version: int, earlier: list[int]) -> bytes:
    """A JATS article (DOI 10.5555/t{n}) citing a few fixed works and earlier articles."""
    refs = [(f"w{k}", f"10.7777/w{k}", SURNAMES[k], f"Fixed work number {k} on colonies") for k in range(4)]
    refs += [(f"t{j}", f"10.5555/t{j}", SURNAMES[j % len(SURNAMES)], f"Citing article {j}")
             for j in rng.sample(earlier, min(3, len(earlier)))]
    paragraphs = []
    for p in range(rng.randint(1, 4)):
        sentences = []
        for s in range(rng.randint(1, 3)):
            keys = rng.sample([r[0] for r in refs], rng.randint(1, 2))
            words = " ".join(rng.choice(WORDS) for _ in range(6))
            xrefs = ",".join(f'<xref ref-type="bibr" rid="{k}">{k}</xref>' for k in keys)
            sentences.append(f"{words.capitalize()} v{version} p{p} s{s} [{xrefs}].")
        paragraphs.append(f"<p>{' '.join(sentences)}</p>")
    year = rng.choice(("2019", "2020", "2021", ""))
    author = rng.choice(SURNAMES)
    ref_xml = "".join(
        f'<ref id="{k}"><element-citation><person-group><name><surname>{sur}</surname><given-names>A</given-names>'
        f"</name></person-group><year>2001</year><article-title>{title}</article-title><source>Microbiology</source>"
        f'<pub-id pub-id-type="doi">{doi}</pub-id></element-citation></ref>' for k, doi, sur, title in refs)
    return (f'<?xml version="1.0"?><article xmlns:xlink="http://www.w3.org/1999/xlink"><front><journal-meta>'
            f"<journal-title-group><journal-title>Journal of Tallies</journal-title></journal-title-group>"
            f'<issn pub-type="ppub">0000-0019</issn></journal-meta><article-meta>'
            f'<article-id pub-id-type="doi">10.5555/t{n}</article-id><title-group><article-title>Citing article {n}'
            f"</article-title></title-group><contrib-group><contrib contrib-type=\"author\"><name><surname>{author}"
            f'</surname><given-names>A</given-names></name><xref ref-type="aff" rid="a1"/></contrib></contrib-group>'
            f'<aff id="a1"><institution-wrap><institution-id institution-id-type="ror">https://ror.org/{ROR}'
            f"</institution-id><institution>University of Lagos</institution></institution-wrap>, Lagos,"
            f" <country>Nigeria</country></aff>"
            + (f"<pub-date><year>{year}</year></pub-date>" if year else "")
            + f'</article-meta></front><body><sec sec-type="results"><title>Results</title>{"".join(paragraphs)}'
            f"</sec></body><back><ref-list>{ref_xml}</ref-list></back></article>").encode()


@pytest.fixture
def pipeline(store_url: str) -> Iterator[Pipeline]:
    p = Pipeline(open_store(store_url), HashClassifier())
    yield p
    p.store.close()


def _check(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(store, SQLStore)
    statements = list(store.iter_statements())
    works = sorted({s.cited_work_id for s in statements if s.cited_work_id} | {"W1", "W2", "W3"})
    authors = [a for a in {d.author_id for d in store.iter_document_authors()} if a]
    for w in works:
        for t in THRESHOLDS:
            for mine in (False, True):
                assert store.tallies(w, min_confidence=t, exclude_self=mine) == recount_tallies(store, w, t, mine), (w, t, mine)
        assert store.year_tallies(w) == recount_years(store, w), w
        for stance in (None, "supporting", "contrasting", "mentioning"):
            for mine in (False, True):
                expected = sum(1 for s in statements if s.cited_work_id == w and (stance is None or s.type == stance)
                               and not (mine and s.self_citation))
                assert store.citations(w, stance=stance, exclude_self=mine, limit=1)[0] == expected
    def aggregates() -> list[Any]:
        return [*(store.author_profile(a) for a in sorted(authors)),
                *(store.author_profile(a, works_sort=o, works_limit=1, works_offset=1) for a in sorted(authors)
                  for o in ("cited", "contrasting")), store.most_cited_works(5),
                store.search_works("article"), store.search_works("colonies"),
                *(store.journal_profile("0000-0019", y) for y in (2019, 2020, 2021, 2030)),
                *(store.institution_profile(ROR, y) for y in (2019, 2020, 2021, 2030))]

    with_table = aggregates()
    with monkeypatch.context() as m:  # the store as it reads an index without them: recounting
        m.setattr(type(store), "_has_work_tallies", property(lambda self: False))
        recounted = aggregates()
    assert with_table == recounted
    assert with_table[-1] is not None and with_table[-1].tallies.total > 0


def test_work_tallies_equal_a_recount_after_random_ingests_replacements_and_corrections(
        pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    store = pipeline.store
    for seed in (1, 2):
        rng = random.Random(seed)
        stored: list[int] = []
        versions: dict[int, int] = {}
        for step in range(14):
            op = rng.random()
            if op < 0.55 or not stored:  # a new article
                n = len(versions) + 100 * seed
                versions[n] = 0
                data = _article(rng, n, 0, stored)
                stored.append(n)
            elif op < 0.8:  # a new version of a stored article (same DOI: it replaces the old copy)
                n = rng.choice(stored)
                versions[n] += 1
                data = _article(rng, n, versions[n], [j for j in stored if j != n])
            else:  # a curator corrects a statement (its tallies move from one label and bucket to another)
                every = list(store.iter_statements())
                if every:
                    s = rng.choice(every)
                    store.correct_statement(s.id, rng.choice(("supporting", "contrasting", "mentioning")), "cur")
                continue
            summary = pipeline.ingest([read_bytes_input(f"a{step}-{seed}.xml", data)])
            assert not summary.failed, summary.failed
            if step % 5 == 4:
                _check(store, monkeypatch)
        _check(store, monkeypatch)
    assert any(s.self_citation for s in store.iter_statements())
    assert any(s.corrected_by for s in store.iter_statements())


def test_rebuilt_work_tallies_are_the_kept_ones(pipeline: Pipeline) -> None:
    """Recounting from the statements (what migration 9 does on an older index) gives what the writer kept."""
    rng = random.Random(5)
    for n in range(4):
        pipeline.ingest([read_bytes_input(f"r{n}.xml", _article(rng, n, 0, list(range(n))))])
    store = pipeline.store
    assert isinstance(store, SQLStore)
    first = next(iter(store.iter_statements()))
    store.correct_statement(first.id, "contrasting", "cur")

    def table() -> list[tuple[Any, ...]]:
        return [tuple(dict(r).values()) for t in ("work_tallies", "work_year_tallies", "work_totals")
                for r in store._rows(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4")]

    kept = table()
    store.rebuild_work_tallies()
    assert table() == kept and kept


def test_buckets_outside_a_threshold_window_are_wholly_on_one_side() -> None:
    """Bucket = floor(c × 100) as floating point computes it (c × 100 is rounded: 0.29 × 100 < 29); whatever the
    threshold, a confidence whose bucket lies outside the window counts as the rule counts it."""
    for confidence in [i / 1000 for i in range(1001)] + [0.29, 0.57, 0.58, 1e-9, 0.9999999]:
        bucket = min(100, max(0, int(confidence * 100)))
        for t in (confidence, confidence + 1e-12, confidence - 1e-12, 0.29, 0.5, 0.57, 0.7, 1.0, 0.0):
            lo, hi = threshold_window(t)
            counted, partial = add_up_buckets([("supporting", bucket, 1)], (lo, hi))
            if lo <= bucket <= hi:
                assert partial and counted == {}
            else:
                assert counted == {counted_stance("supporting", confidence, False, t): 1}, (confidence, t)
    # A correction, or a label no threshold changes, counts as set.
    assert add_up_buckets([("contrasting", FIXED_BUCKET, 2), ("mentioning", FIXED_BUCKET, 3)], (0, 2)) == (
        {"contrasting": 2, "mentioning": 3}, False)


def _windows_by_rule(statements: list[Any], works: set[str], year: int, t: float | None) -> list[tuple[Any, ...]]:
    """(window, supporting, contrasting, mentioning, total) over the statements citing ``works``, each counted
    under the label rules.counted_stance gives it at ``t``."""
    out = []
    for name, first in (("2y", year - 1), ("5y", year - 4), ("all", None)):
        c = {"supporting": 0, "contrasting": 0, "mentioning": 0, "total": 0}
        for s in statements:
            if s.cited_work_id in works and (first is None or (s.citing_year is not None and s.citing_year >= first)):
                label = counted_stance(s.type or "", s.confidence, s.corrected_by is not None, t)
                c["total"] += 1
                if label in c:
                    c[label] += 1
        out.append((name, c["supporting"], c["contrasting"], c["mentioning"], c["total"]))
    return out


def test_aggregate_pages_at_a_threshold_count_by_the_rule(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """Author, institution and journal profiles with min_confidence: every work's tallies, the aggregate tallies,
    the windows and the most cited works equal a recount from the statements with rules.counted_stance, at
    thresholds on and next to bucket edges; and the per-work tallies' path equals the statements-only one."""
    rng = random.Random(11)
    for n in range(9):
        data = _article(rng, n, 0, list(range(n)))
        assert not pipeline.ingest([read_bytes_input(f"m{n}.xml", data)]).failed
    store = pipeline.store
    assert isinstance(store, SQLStore)
    for s in list(store.iter_statements())[:40:7]:  # corrections count as set, whatever the threshold
        store.correct_statement(s.id, rng.choice(("supporting", "contrasting")), "cur")
    statements = list(store.iter_statements())
    authors = sorted({a.author_id for a in store.iter_document_authors() if a.author_id})
    own = {w.id for w in (store.get_work(d.doi) for d in store.iter_document_authors()) if w is not None}
    assert authors and own
    thresholds = [t for t in THRESHOLDS if t is not None] + [0.65]

    def profiles() -> list[Any]:
        return [*(store.author_profile(a, min_confidence=t) for a in authors for t in thresholds),
                *(store.author_profile(a, works_sort="contrasting", works_limit=2, min_confidence=0.7)
                  for a in authors),
                *(store.institution_profile(ROR, y, min_confidence=t) for y in (2019, 2021, 2030) for t in thresholds),
                *(store.journal_profile("0000-0019", y, min_confidence=t) for y in (2019, 2021) for t in thresholds)]

    found = profiles()
    assert all(p is not None for p in found)
    n_authors = len(authors) * len(thresholds)
    for p in found[:n_authors]:
        t = p.min_confidence
        for w in p.works:
            assert w.tallies == recount_tallies(store, w.work_id, t, False), (p.id, w.work_id, t)
        for k in ("supporting", "contrasting", "mentioning", "unclassified", "total"):
            assert getattr(p.tallies, k) == sum(getattr(w.tallies, k) for w in p.works), (p.id, k, t)
        if p.most_contrasted:
            best = max(w.tallies.contrasting for w in p.works)
            assert next(w for w in p.works if w.work_id == p.most_contrasted[0]).tallies.contrasting == best
    for p in found[n_authors:n_authors + len(authors)]:  # a page sorted by contrasting labels at 0.7
        assert [w.tallies.contrasting for w in p.works] == sorted((w.tallies.contrasting for w in p.works),
                                                                 reverse=True)
        assert all(w.tallies == recount_tallies(store, w.work_id, 0.7, False) for w in p.works)
    aggregates = found[n_authors + len(authors):]
    for p, (y, t) in zip(aggregates, [(y, t) for y in (2019, 2021, 2030) for t in thresholds]
                         + [(y, t) for y in (2019, 2021) for t in thresholds], strict=True):
        assert p.min_confidence == t
        got = [(w.window, w.supporting, w.contrasting, w.mentioning, w.total) for w in p.windows]
        assert got == _windows_by_rule(statements, own, y, t), (type(p).__name__, y, t)
        assert (p.tallies.supporting, p.tallies.contrasting, p.tallies.mentioning, p.tallies.total) == \
            (*got[-1][1:4], got[-1][4])
        for w in getattr(p, "most_cited", ()):
            r = recount_tallies(store, w.work_id, t, False)
            assert (w.supporting, w.contrasting, w.mentioning, w.total) == (r.supporting, r.contrasting,
                                                                            r.mentioning, r.total)
    assert any(p.windows[-1].contrasting for p in aggregates) and any(
        p.windows[-1].mentioning != found[-1].windows[-1].mentioning for p in aggregates)
    every = store.author_profile(authors[0])
    assert every is not None and every.min_confidence is None and every.to_dict()["min_confidence"] is None
    at_zero = store.author_profile(authors[0], min_confidence=0.0)
    assert at_zero is not None and at_zero.tallies == every.tallies and at_zero.to_dict()["min_confidence"] == 0.0
    with monkeypatch.context() as m:  # the statements-only path (an index without the per-work tallies)
        m.setattr(type(store), "_has_work_tallies", property(lambda self: False))
        assert profiles() == found


def _top_by_rule(store: Store, by: str, t: float | None) -> list[tuple[str, int]]:
    """The ranking recounted from the statements by the rule (rules.counted_stance), ties by the rule too."""
    counts: dict[str, int] = {}
    papers: dict[str, set[str]] = {}
    statements: dict[str, int] = {}
    for s in store.iter_statements():
        if not s.cited_work_id:
            continue
        papers.setdefault(s.cited_work_id, set()).add(s.citing_work_id)
        statements[s.cited_work_id] = statements.get(s.cited_work_id, 0) + 1
        if by != "cited" and counted_stance(s.type or "", s.confidence, s.corrected, t) == by:
            counts[s.cited_work_id] = counts.get(s.cited_work_id, 0) + 1
    if by == "cited":
        counts = {w: len(p) for w, p in papers.items()}
    ranked = sorted(((w, n) for w, n in counts.items() if n > 0),
                    key=lambda wn: (-wn[1], -len(papers[wn[0]]), -statements[wn[0]], int(wn[0][1:])))
    return ranked


def test_top_works_rank_by_the_rule_at_every_threshold(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """`citelens top`, /top and /api/works/top rank the index's works by citing publications or by the supporting /
    contrasting statements counted at a threshold: read from the per-work tallies (confidence buckets, the
    threshold's window counted one by one) and, for an older index, from the statements; both equal a recount by
    the rule, with confidences on bucket edges, corrections and pages."""
    store = pipeline.store
    rng = random.Random(5)
    stored: list[int] = []
    for n in range(12):
        data = _article(rng, n, 0, stored)
        stored.append(n)
        assert not pipeline.ingest([read_bytes_input(f"t{n}.xml", data)]).failed
    every = list(store.iter_statements())
    for s in rng.sample(every, 4):
        store.correct_statement(s.id, rng.choice(("supporting", "contrasting", "mentioning")), "cur")
    ties = 0
    for by in ("cited", "supporting", "contrasting"):
        for t in THRESHOLDS:
            expected = _top_by_rule(store, by, t)
            for has_tallies in (True, False):
                with monkeypatch.context() as m:
                    if not has_tallies:
                        m.setattr(type(store), "_has_work_tallies", property(lambda self: False))
                    total, ranked = store.top_works(by, limit=1000, min_confidence=t)
                    assert (total, ranked) == (len(expected), expected), (by, t, has_tallies)
                    assert store.top_works(by, limit=2, offset=3, min_confidence=t) == (len(expected), expected[3:5])
            # Every page, one and three works long, to one past the last: a page ending inside a run of works
            # counted alike holds the same works as the whole ranking's slice (the tallies' ranking reads the
            # tie-breaking totals only for the works that can reach the page), and past the end it is empty.
            for limit in (1, 3):
                for offset in range(0, len(expected) + limit + 1, limit):
                    assert store.top_works(by, limit=limit, offset=offset, min_confidence=t) == \
                        (len(expected), expected[offset:offset + limit]), (by, t, limit, offset)
            ties += sum(1 for a, b in zip(expected, expected[1:], strict=False) if a[1] == b[1])
    assert ties > 20  # the pages above did end inside runs of equal counts
    with pytest.raises(ValueError, match="by must be one of"):
        store.top_works("mentioning", limit=5)


def test_top_pages_sliced_from_a_kept_ranking_are_the_pages_ranked_afresh(pipeline: Pipeline,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """/top and /api/works/top rank once and slice every page from the kept ranking (rankings.Ranking) while the
    index is unchanged: each page, to one past the last, equals the page ranked on its own; a ranking kept only in
    part ranks the pages past its end afresh; past the last page is empty with the same total."""
    from citelens.rankings import ranking, top_works

    store = pipeline.store
    rng = random.Random(7)
    stored: list[int] = []
    for n in range(10):
        assert not pipeline.ingest([read_bytes_input(f"t{n}.xml", _article(rng, n, 0, stored))]).failed
        stored.append(n)
    ranked_afresh = 0
    real = type(store).top_works

    def counting(self: Any, *args: Any, **kw: Any) -> Any:
        nonlocal ranked_afresh
        ranked_afresh += 1
        return real(self, *args, **kw)

    for by in ("cited", "supporting", "contrasting"):
        for t in (None, 0.5, 0.7, 1.5):
            whole = ranking(store, by, t)
            assert whole.total == len(whole.ids) and (whole.total > 3 or t == 1.5), (by, t)  # 1.5: none is sure
            part = ranking(store, by, t, limit=4)
            assert (part.total, list(part.ids)) == (whole.total, list(whole.ids[:4]))
            for per_page in (1, 3, 100):
                for page in range(1, -(-whole.total // per_page) + 2):
                    fresh = top_works(store, by, page=page, per_page=per_page, min_confidence=t)
                    with monkeypatch.context() as m:
                        m.setattr(type(store), "top_works", counting)
                        ranked_afresh = 0
                        assert top_works(store, by, page=page, per_page=per_page, min_confidence=t,
                                         kept=whole) == fresh, (by, t, per_page, page)
                        assert ranked_afresh == 0
                        assert top_works(store, by, page=page, per_page=per_page, min_confidence=t,
                                         kept=part) == fresh, (by, t, per_page, page)
                        assert (ranked_afresh > 0) == (page * per_page > 4 < whole.total), (by, t, per_page, page)
    with pytest.raises(ValueError, match="another ranking"):
        top_works(store, "supporting", kept=ranking(store, "cited"))


def test_the_api_walks_the_top_pages_as_the_store_ranks_them(pipeline: Pipeline, store_url: str) -> None:
    """GET /api/works/top keeps one ranking for all its pages: every page, at each threshold, is the CLI's page
    (rankings.top_works ranked afresh), and after an ingest (the index changed) the pages show the new ranking."""
    from fastapi.testclient import TestClient

    from citelens.rankings import top_works
    from citelens.web.app import create_app
    from citelens.web.settings import Settings

    store = pipeline.store
    rng = random.Random(11)
    stored: list[int] = []

    def add(n: int) -> None:
        assert not pipeline.ingest([read_bytes_input(f"t{n}.xml", _article(rng, n, 0, stored))]).failed
        stored.append(n)

    for n in range(8):
        add(n)
    with TestClient(create_app(store_url, Settings(secret_key="k", stats_seconds=0))) as client:
        for round_ in range(2):
            for by, t in (("cited", None), ("supporting", None), ("contrasting", "0.5"), ("supporting", "0.7")):
                conf = None if t is None else float(t)
                pages = top_works(store, by, per_page=3, min_confidence=conf)["pages"]
                for page in range(1, pages + 2):
                    got = client.get("/api/works/top", params={"by": by, "page": page, "per_page": 3,
                                                               **({"min_confidence": t} if t else {})})
                    assert got.status_code == 200, got.text
                    body = {k: v for k, v in got.json().items() if k not in ("next", "prev")}
                    assert body == top_works(store, by, page=page, per_page=3, min_confidence=conf), \
                        (round_, by, t, page)
            if round_ == 0:
                before = client.get("/api/works/top", params={"per_page": 100}).json()["total"]
                for n in range(8, 12):
                    add(n)
                assert client.get("/api/works/top", params={"per_page": 100}).json()["total"] > before
