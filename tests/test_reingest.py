"""A full re-ingest leaves the index as it was: no orphan works left behind by the replaced version."""

from __future__ import annotations

from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import open_store

# Reference b2 (authors and year, no title, no source, no identifier) cannot match anything, so each
# ingest makes a new, untitled work for it. Reference b1 is an ordinary one.
ARTICLE = b"""<?xml version="1.0"?>
<article><front><article-meta><article-id pub-id-type="doi">10.5555/reingest.1</article-id>
<title-group><article-title>A paper ingested twice</article-title></title-group>
<pub-date><year>2022</year></pub-date></article-meta></front>
<body><sec><title>Discussion</title><p>As shown before [<xref ref-type="bibr" rid="b1">1</xref>,
<xref ref-type="bibr" rid="b2">2</xref>].</p></sec></body>
<back><ref-list>
<ref id="b1"><element-citation><person-group><name><surname>Barnes</surname><given-names>T</given-names></name>
</person-group><year>2001</year><article-title>Sentinel behaviour in bacterial colonies</article-title>
<source>Microbiology</source></element-citation></ref>
<ref id="b2"><element-citation><person-group><name><surname>Felsenstein</surname><given-names>J</given-names>
</name></person-group><year>2004</year><conf-name>Workshop on phylogeny software</conf-name></element-citation></ref>
</ref-list></back></article>"""


def test_full_reingest_adds_no_orphan_works(store_url: str) -> None:
    store = open_store(store_url)
    pipeline = Pipeline(store, "cues")
    for _ in range(3):
        summary = pipeline.ingest([read_bytes_input("paper.xml", ARTICLE)])
        assert summary.stored == 1 and not summary.failed
        if _ == 0:
            first = store.stats()
    last = store.stats()
    assert last.works == first.works  # was +1 per re-ingest: an untitled work nobody cites
    assert store.search_works("Sentinel behaviour in bacterial colonies")
    store.close()
