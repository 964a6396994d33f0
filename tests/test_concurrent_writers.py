"""Two ingests writing to one index at the same time (two `citelens ingest` commands, or a web server taking
corrections during an ingest) resolve against each other's works: a work cited by both is stored once, and no
document fails because the other writer created a work first. SQLite gets this from its single writer (BEGIN
IMMEDIATE); PostgreSQL from a writer lock each write transaction takes (``PostgresStore.transaction``)."""

from __future__ import annotations

import threading

from citelens.pipeline import IngestSummary, Pipeline, read_bytes_input
from citelens.store import open_store

# Each article cites the same three works: two without identifiers (found again by title, author and year)
# and one with a DOI (one identifier names one work: a second row with it would break the unique index).
ARTICLE = """<?xml version="1.0"?>
<article><front><article-meta><article-id pub-id-type="doi">10.5555/race.{w}.{n}</article-id>
<title-group><article-title>Race paper {w} {n}</article-title></title-group>
<pub-date><year>2022</year></pub-date></article-meta></front>
<body><sec><title>Discussion</title><p>Our data agree with earlier work [<xref ref-type="bibr" rid="b1">1</xref>,
<xref ref-type="bibr" rid="b2">2</xref>, <xref ref-type="bibr" rid="b3">3</xref>].</p></sec></body>
<back><ref-list>
<ref id="b1"><element-citation><person-group><name><surname>Barnes</surname><given-names>T</given-names></name>
</person-group><year>2001</year><article-title>Sentinel behaviour in bacterial colonies</article-title>
<source>Microbiology</source></element-citation></ref>
<ref id="b2"><element-citation><person-group><name><surname>Okafor</surname><given-names>N</given-names></name>
</person-group><year>2010</year><article-title>Quorum sensing under nutrient limitation</article-title>
<source>J Bacteriol</source></element-citation></ref>
<ref id="b3"><element-citation><person-group><name><surname>Lindqvist</surname><given-names>A</given-names></name>
</person-group><year>2015</year><article-title>Swarming motility in soil isolates</article-title>
<source>Environ Microbiol</source><pub-id pub-id-type="doi">10.5555/shared.work</pub-id></element-citation></ref>
</ref-list></back></article>"""

CITED = ("Sentinel behaviour in bacterial colonies", "Quorum sensing under nutrient limitation",
         "Swarming motility in soil isolates")


def _ingest(url: str, writer: int, n: int, start: threading.Barrier, out: dict[int, IngestSummary]) -> None:
    store = open_store(url)
    try:
        inputs = [read_bytes_input(f"w{writer}-{i}.xml", ARTICLE.format(w=writer, n=i).encode()) for i in range(n)]
        start.wait()
        out[writer] = Pipeline(store, "cues").ingest(inputs)
    finally:
        store.close()


def test_two_writers_store_a_work_they_both_cite_once(store_url: str) -> None:
    open_store(store_url).close()  # create the index before the writers race
    n = 24  # more than one stored batch each, so each writer holds a transaction while the other resolves
    start = threading.Barrier(2)
    out: dict[int, IngestSummary] = {}
    threads = [threading.Thread(target=_ingest, args=(store_url, w, n, start, out)) for w in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(out) == [1, 2]
    assert [f.problem for s in out.values() for f in s.failed] == []
    assert sum(s.stored for s in out.values()) == 2 * n
    store = open_store(store_url, readonly=True)
    try:
        for title in CITED:
            hits = [w for w in store.search_works(title) if w.title == title]
            assert len(hits) == 1, f"{title!r} stored {len(hits)} times"
            assert store.tallies(hits[0].id).total == 2 * n
    finally:
        store.close()
