"""Structured JATS citations written out as a reference prints them; printed ones as printed."""

from __future__ import annotations

from lxml import etree

from citelens.formats.citation_text import citation_text, printed_text


def cite(xml: str) -> etree._Element:
    return etree.fromstring(xml)


def test_a_journal_article_reads_as_printed() -> None:
    el = cite('<element-citation publication-type="journal"><person-group person-group-type="author">'
              "<name><surname>Oesterhelt</surname><given-names>D</given-names></name>"
              "<name><surname>Stoeckenius</surname><given-names>W</given-names></name><etal/></person-group>"
              "<year>1971</year><article-title>Rhodopsin-like protein from the purple membrane</article-title>"
              "<source>Nat New Biol</source><volume>233</volume><issue>39</issue><fpage>149</fpage><lpage>152</lpage>"
              '<pub-id pub-id-type="doi">10.1038/newbio233149a0</pub-id><pub-id pub-id-type="pmid">4940442</pub-id>'
              "</element-citation>")
    assert citation_text(el) == ("Oesterhelt D, Stoeckenius W, et al. (1971) Rhodopsin-like protein from the purple"
                                 " membrane. Nat New Biol 233(39): 149–152. doi:10.1038/newbio233149a0 PMID: 4940442")


def test_a_chapter_tells_its_authors_from_the_books_editors() -> None:
    """PLOS types book chapters "other": the editors and the publisher make it a book; its pages follow "pp."."""
    el = cite('<element-citation publication-type="other"><person-group person-group-type="author">'
              "<name><surname>Spudich</surname><given-names>J. L</given-names></name>"
              "<name><surname>Jung</surname><given-names>K. H</given-names></name></person-group><year>2005</year>"
              "<article-title>Microbial rhodopsins: phylogenetic and functional diversity</article-title>"
              '<person-group person-group-type="editor"><name><surname>Briggs</surname><given-names>W. R</given-names>'
              "</name><name><surname>Spudich</surname><given-names>J. L</given-names></name></person-group>"
              "<source>Handbook of Photosensory Receptors</source><publisher-loc>Weinheim</publisher-loc>"
              "<publisher-name>WILEY-VCH</publisher-name><fpage>1</fpage><lpage>24</lpage></element-citation>")
    assert citation_text(el) == ("Spudich JL, Jung KH (2005) Microbial rhodopsins: phylogenetic and functional "
                                 "diversity. In: Briggs WR, Spudich JL, editors. Handbook of Photosensory Receptors. "
                                 "Weinheim: WILEY-VCH. pp. 1–24.")


def test_fields_in_any_order_and_unknown_fields_are_kept() -> None:
    """The year goes after the authors wherever the XML tags it; a comment, an edition or a URL stays, each a
    sentence; comments and processing instructions between fields are skipped; names without a year end with
    a full stop."""
    el = cite('<element-citation publication-type="book"><name><surname>Madubike</surname><given-names>F'
              "</given-names></name><source>All Nigerian Recipes Cookbook</source><!-- note --><?pi x?>"
              "<edition>2nd</edition><year>2013</year><comment>ISBN 978-8461617548</comment></element-citation>")
    assert citation_text(el) == "Madubike F (2013) All Nigerian Recipes Cookbook. 2nd. ISBN 978-8461617548."
    el = cite('<element-citation publication-type="web"><collab>Orthoptera Species File</collab>'
              "<source>Version 5.0</source><ext-link>http://orthoptera.speciesfile.org</ext-link></element-citation>")
    assert citation_text(el) == "Orthoptera Species File. Version 5.0. http://orthoptera.speciesfile.org."
    assert citation_text(cite("<element-citation/>")) == ""


def test_printed_names_get_the_spaces_and_commas_the_xml_leaves_out() -> None:
    el = cite("<mixed-citation><name><surname>Smith</surname><given-names>J</given-names></name>"
              "<name><surname>Jones</surname><given-names>K</given-names></name> (2005) Title.</mixed-citation>")
    assert printed_text(el) == "Smith J, Jones K (2005) Title."


def test_a_reference_known_by_its_fields_is_written_out_the_same_way() -> None:
    """GROBID's TEI without its raw_reference note and S2ORC without raw_text give fields only."""
    from citelens.document import Author, Reference
    from citelens.formats.citation_text import reference_text

    ref = Reference(key="b0", title="Regions of strong coupling between soil moisture and precipitation",
                    authors=[Author("Koster", "Randal D"), Author("Dirmeyer", "P. A")], year=2004,
                    container="Science", volume="305", issue="5687", pages="1138-1140", doi="10.1126/science.1100217")
    assert reference_text(ref) == ("Koster RD, Dirmeyer PA (2004) Regions of strong coupling between soil moisture "
                                   "and precipitation. Science 305(5687): 1138–1140. doi:10.1126/science.1100217")
    many = Reference(key="b1", title="Title?", authors=[Author(f"A{i}", "B") for i in range(8)])
    assert reference_text(many) == "A0 B, A1 B, A2 B, A3 B, A4 B, A5 B, et al. Title?"
    assert reference_text(Reference(key="b2")) == ""


def test_a_grobid_reference_without_its_printed_string_is_written_out() -> None:
    import re
    from pathlib import Path

    from citelens.formats.tei import parse_tei

    tei = (Path(__file__).parent / "fixtures" / "grobid_sample.tei.xml").read_text(encoding="utf-8")
    without = re.sub(r'<note type="raw_reference">.*?</note>', "", tei, flags=re.S)
    assert without != tei
    refs = parse_tei(without.encode(), "sample.tei.xml").references
    assert refs and all(r.raw for r in refs if r.title)
    assert refs[0].raw.startswith("Aaltonen P, Dube RK (")
