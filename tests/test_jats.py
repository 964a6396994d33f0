from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from citelens.formats import detect_format, parse_document
from citelens.formats.jats import (
    _CITATION_TAGS,
    _TEXT_NODES,
    _content,
    parse_jats,
    parse_jats_references,
    text_of,
)
from citelens.formats.xmlsafe import parse_xml
from citelens.statements import build_statements

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo-corpus"


def test_metadata(mini_jats: bytes) -> None:
    doc = parse_jats(mini_jats, "mini.xml")
    assert doc.format == "jats"
    assert doc.doi == "10.9999/jtb.2020.001"
    assert doc.pmid == "31000001"
    assert doc.title == "Sentinel cells in E. coli colonies"
    assert [a.family for a in doc.authors] == ["Okafor", "Lindqvist"]
    assert doc.authors[0].affiliations[0].institution == "University of Lagos"
    assert doc.authors[1].affiliations[0].country == "Sweden"
    assert doc.year == 2020 and doc.journal == "Journal of Test Biology" and doc.pages == "101-110"


def test_references(mini_jats: bytes) -> None:
    refs = {r.key: r for r in parse_jats(mini_jats, "mini.xml").references}
    assert set(refs) == {"r1", "r2", "r3", "r4", "r5", "r6"}
    assert refs["r1"].title == "Sentinel behaviour in bacterial colonies"
    assert refs["r1"].container == "Microbiology" and refs["r1"].year == 2001 and refs["r1"].pages == "1-9"
    # An element-citation written out as a reference prints it; a mixed-citation as printed, names spaced.
    assert refs["r1"].raw == "Barnes T (2001) Sentinel behaviour in bacterial colonies. Microbiology 147: 1–9."
    assert refs["r2"].raw.startswith("Smith J, Jones K (2005) Growth arrest")
    assert refs["r2"].doi == "10.1128/jb.187.1.55"  # from the ext-link, normalised
    assert [a.family for a in refs["r2"].authors] == ["Smith", "Jones"]
    assert refs["r3"].pmid == "20000003"
    assert refs["r5"].doi == "10.1371/journal.pbio.0000005"
    assert [r.key for r in parse_jats_references(mini_jats, "mini.xml")] == ["r1", "r2", "r3", "r4", "r5", "r6"]


def test_callouts_offsets_ranges_and_sections(mini_jats: bytes) -> None:
    doc = parse_jats(mini_jats, "mini.xml")
    for p in doc.paragraphs:
        for c in p.callouts:
            assert p.text[c.start : c.end] == c.text
    intro = doc.paragraphs[0]
    assert intro.section == "introduction"
    rng = intro.callouts[1]
    assert rng.reference_keys == ["r2", "r3", "r4", "r5"]  # [2]–[5] expanded
    assert rng.inferred_keys == ["r3", "r4"]
    by_section = {p.section_title: p.section for p in doc.paragraphs if p.kind == "body"}
    assert by_section == {"Introduction": "introduction", "Materials and methods": "methods",
                          "Results": "results", "Discussion": "discussion"}
    caption = next(p for p in doc.paragraphs if p.kind == "caption")
    # A figure placed in Results counts there, titled by its label.
    assert (caption.section, caption.section_title) == ("results", "Figure 1")
    assert caption.callouts[0].reference_keys == ["r6"]


def test_statements(mini_jats: bytes) -> None:
    doc = build_statements(parse_jats(mini_jats, "mini.xml"))
    # xrefs: r1, [r2..r5] (4), r6 + r1 author-year, r3+r4 group, r1, r6 caption, r2 glued = 12 statements
    assert len(doc.statements) == 12
    for s in doc.statements:
        assert s.sentence[s.callout_start : s.callout_end] == s.callout_text
    contrast = [s for s in doc.statements if s.sentence.startswith("In contrast to Barnes")]
    assert len(contrast) == 1 and contrast[0].before.startswith("Our results are consistent")
    assert contrast[0].section == "results" and contrast[0].reference_key == "r1"
    assert contrast[0].marked_sentence().startswith("In contrast to Barnes <cite>[1]</cite>")
    glued = next(s for s in doc.statements if s.section == "discussion")
    assert glued.sentence == "These findings extend earlier work.2" and glued.after == "Future studies are needed."
    inferred = [s.reference_key for s in doc.statements if s.inferred]
    assert inferred == ["r3", "r4"]
    smith = next(s for s in doc.statements if s.sentence.startswith("Smith et al."))
    assert smith.sentence == "Smith et al. showed this in E. coli at 2.5 mM [2]–[5]."


def test_detect_and_dispatch(mini_jats: bytes) -> None:
    assert detect_format(mini_jats, "x.xml") == "jats"
    assert detect_format(b"%PDF-1.4 ...", "x.bin") == "pdf"
    assert detect_format(b'<TEI xmlns="http://www.tei-c.org/ns/1.0"/>', "x.xml") == "tei"
    assert parse_document(mini_jats, "x.nxml").title.startswith("Sentinel")


def test_whole_corpus_links_every_marked_callout(shared_data) -> None:  # noqa: ANN001
    """Every (article, reference) pair the JATS markup cites yields at least one statement."""
    from lxml import etree

    for f in sorted((shared_data / "pmc-samples").glob("*.nxml")):
        data = f.read_bytes()
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
        ids = {r.get("id") for r in root.iter("ref")}
        gold = {rid for body in root.iter("body") for x in body.iter("xref") if x.get("ref-type") == "bibr"
                for rid in (x.get("rid") or "").split() if rid in ids}
        doc = build_statements(parse_jats(data, f.name))
        assert gold <= {s.reference_key for s in doc.statements}, f.name


def _demo_articles() -> Iterator[tuple[str, bytes]]:
    """The bundled demo corpus: 20 PLOS articles and 56 Europe PMC ones."""
    for f in sorted(DEMO.glob("*.xml")):
        yield f.name, f.read_bytes()
    with tarfile.open(DEMO / "pmc-optogenetics.tar.gz") as tar:
        for member in tar:
            fh = tar.extractfile(member) if member.isfile() else None
            if fh is not None:
                yield member.name, fh.read()


def test_text_in_libxml2_is_itertext(mini_jats: bytes) -> None:
    """The parser reads text through libxml2 (``_content``, ``_TEXT_NODES``) where it used to join ``itertext()``
    in Python; documents stay the same as long as both give the same strings: on every element (and every citation)
    of the fixture and of the demo corpus."""
    leaf = etree.fromstring(b"<a><b/>tail<c> x <d>y</d>z </c></a>")
    assert _content(leaf[0]) == "" and _content(leaf) == "tail x yz " and text_of(leaf[1]) == "x yz"  # no own tail
    assert type(_content(leaf)) is str and text_of(None) == ""
    elements = citations = 0
    for name, data in [("mini.xml", mini_jats), *_demo_articles()]:
        root = parse_xml(data, name)
        for el in root.iter():
            assert _content(el) == "".join(el.itertext()), (name, el.tag)
            elements += 1
        for cit in root.iter(*_CITATION_TAGS):
            pieces = [t.strip() for t in cit.itertext() if t.strip()]
            assert list(filter(None, map(str.strip, _TEXT_NODES(cit)))) == pieces, name
            citations += 1
    assert elements > 100_000 and citations > 3_000


def test_references_printed_as_plain_text_get_their_fields_from_the_parser() -> None:
    """A <mixed-citation> without tagged title or source is read by the reference-string parser, as a PDF's
    references are; what the markup tags stays as it is."""
    xml = b"""<article><back><ref-list>
      <ref id="r1"><mixed-citation publication-type="journal">Hu Q, Hua W, Yin Y, et al. Rapeseed research and
        production in China. Crop J. 2016;4:127-35.</mixed-citation></ref>
      <ref id="r2"><element-citation publication-type="journal"><person-group><name><surname>Xu</surname>
        <given-names>S</given-names></name></person-group><source>Angew. Chem., Int. Ed.</source><year>2019</year>
        <volume>58</volume><fpage>849</fpage></element-citation></ref>
      <ref id="r3"><mixed-citation>see above</mixed-citation></ref>
      <ref id="r4"><mixed-citation publication-type="journal"><person-group person-group-type="author"><string-name>
        <surname>Glass</surname> <given-names>J-I</given-names></string-name></person-group>, et al. The complete
        sequence of the mucosal pathogen <italic>Ureaplasma urealyticum</italic>. Nature. <year>2000</year>;<volume>
        407</volume>(<issue>6805</issue>):<fpage>757</fpage>&#x02013;<lpage>762</lpage>.</mixed-citation></ref>
    </ref-list></back></article>"""
    plain, chem, short, partly = parse_jats_references(xml, "t.xml")
    assert plain.title == "Rapeseed research and production in China" and plain.year == 2016
    assert plain.container.startswith("Crop J") and plain.volume == "4" and plain.authors[0].family == "Hu"
    assert plain.raw.startswith("Hu Q, Hua W")  # the printed string is kept
    # Tagged without a title (a chemistry style): left as tagged.
    assert (chem.title, chem.container, chem.year, chem.authors[0].family) == ("", "Angew. Chem., Int. Ed.", 2019, "Xu")
    assert short.title == "" and short.year is None  # too short to be a reference
    # Only names, year, volume and pages tagged (pmc-oa, Virulence): title and journal come from the parser.
    assert partly.title == "The complete sequence of the mucosal pathogen Ureaplasma urealyticum"
    assert (partly.container, partly.year, partly.volume, partly.pages) == ("Nature", 2000, "407", "757-762")
    assert partly.authors[0].family == "Glass"


def test_a_publication_year_past_any_real_one_is_no_year() -> None:
    """<year>99999999999999999999999</year> overflowed the database's integers and failed the whole article."""
    from citelens.formats import parse_document

    xml = (b"<article><front><article-meta><title-group><article-title>T</article-title></title-group>"
           b"<pub-date><year>99999999999999999999999</year></pub-date></article-meta></front></article>")
    assert parse_document(xml, "big.xml").year is None


_SECTIONS_JATS = b"""<?xml version="1.0"?>
<article article-type="review-article"><front><article-meta><title-group><article-title>T</article-title>
</title-group></article-meta></front><body>
<sec><title>3. Results</title>
  <sec><title>3.1. Patient characteristics</title><p>Ages as in [<xref ref-type="bibr" rid="r1">1</xref>].</p></sec>
  <sec><title>3.7. Discussion</title><p>This agrees with [<xref ref-type="bibr" rid="r1">1</xref>].</p></sec>
  <table-wrap id="t1"><table><tr><td>Headache, fever [<xref ref-type="bibr" rid="r2">2</xref>]</td></tr></table>
  </table-wrap>
  <table-wrap id="t2"><label>Table 2.</label><caption><title>Uses</title></caption>
    <table><tr><td>Jaundice [<xref ref-type="bibr" rid="r2">2</xref>]</td></tr></table></table-wrap>
</sec>
<sec><title>4. Therapeutic approaches</title>
  <sec><title>4.1. Possibility of patient-specific cell replacement</title>
    <p>It may work [<xref ref-type="bibr" rid="r1">1</xref>].</p></sec>
  <sec><title>4.2. Statistical analysis</title><p>We used R [<xref ref-type="bibr" rid="r2">2</xref>].</p></sec>
</sec>
</body><floats-group><fig id="f1"><caption><p>Counts as in [<xref ref-type="bibr" rid="r2">2</xref>].</p></caption>
</fig></floats-group>
<back><ref-list><ref id="r1"><label>1</label><mixed-citation>A B (2001) One. J 1: 1.</mixed-citation></ref>
<ref id="r2"><label>2</label><mixed-citation>C D (2002) Two. J 2: 2.</mixed-citation></ref></ref-list></back></article>"""


def test_sections_a_reader_would_name() -> None:
    doc = build_statements(parse_jats(_SECTIONS_JATS, "sections.xml"))
    got = [(s.sentence, s.section, s.section_title) for s in doc.statements]
    assert got == [
        # the outermost heading names the section; the subsection is the printed title
        ("Ages as in [1].", "results", "3.1. Patient characteristics"),
        # a subsection titled just "Discussion" is discussion, whatever its parent is called
        ("This agrees with [1].", "discussion", "3.7. Discussion"),
        # table cells count in the section the table stands in, titled by its label, or by what it is
        ("Headache, fever [2]", "results", "Table"),
        ("Jaundice [2]", "results", "Table 2"),
        # a long review subsection's "patient" does not make it methods; a short heading's words still count
        ("It may work [1].", "other", "4.1. Possibility of patient-specific cell replacement"),
        ("We used R [2].", "methods", "4.2. Statistical analysis"),
        # a float outside the body (PMC's floats-group) has no section, and says it is a figure
        ("Counts as in [2].", "other", "Figure"),
    ]
