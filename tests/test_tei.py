"""GROBID TEI ingestion on a hand-made fixture shaped like GROBID 0.8 output, plus hostile/broken input."""

from __future__ import annotations

from pathlib import Path

import pytest

from citelens.document import Document
from citelens.errors import HostileInputError, InputError, MalformedInputError, UnsupportedFormatError
from citelens.formats.tei import parse_tei

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "grobid_sample.tei.xml"


@pytest.fixture(scope="module")
def doc() -> Document:
    return parse_tei(FIXTURE.read_bytes(), "grobid_sample.tei.xml")


def test_header_metadata(doc: Document) -> None:
    assert doc.format == "tei"
    assert doc.source == "grobid_sample.tei.xml"
    assert doc.title == "Moss cover slows frost heave on alpine footpaths"
    assert doc.doi == "10.5555/jms.2021.0142"
    assert doc.year == 2021
    assert doc.journal == "Journal of Mountain Soils"
    assert (doc.volume, doc.issue, doc.pages) == ("14", "2", "101-118")
    assert doc.keywords == ["frost heave", "bryophytes", "trail erosion"]
    assert "bare soil. We compared" in doc.abstract  # adjacent <s> elements get a space


def test_authors_and_affiliations(doc: Document) -> None:
    first, second = doc.authors
    assert (first.family, first.given, first.orcid) == ("Solberg", "Ingrid M", "0000-0002-1825-0097")
    assert first.affiliations[0].institution == "University of Tromsø"
    assert first.affiliations[0].country == "Norway"
    assert second.family == "Herrera-Vidal"
    aff = second.affiliations[0]
    assert aff.country == "Chile"
    assert aff.raw.startswith("Instituto de Ecología")  # printed label dropped from the raw string


def test_paragraph_sections_and_kinds(doc: Document) -> None:
    body = [p for p in doc.paragraphs if p.kind == "body"]
    assert [p.section for p in body] == ["introduction", "introduction", "methods", "methods", "methods", "results", "discussion"]
    assert body[4].text == "Bare plots were raked clear each autumn."  # list item
    # "2.1 Plot layout" says nothing about methods itself; it inherits from its numbered parent "2".
    assert body[3].section_title == "Plot layout"
    captions = [p for p in doc.paragraphs if p.kind == "caption"]
    assert len(captions) == 1
    assert captions[0].section == "other"
    assert captions[0].text.startswith("Heave per winter")
    footnotes = [p for p in doc.paragraphs if p.kind == "footnote"]
    assert [p.text for p in footnotes] == ["Plot coordinates are available from the first author."]
    # Acknowledgements are not citation contexts.
    assert not any("trail crews" in p.text for p in doc.paragraphs)


def test_callout_offsets_point_at_callout_text(doc: Document) -> None:
    seen = 0
    for p in doc.paragraphs:
        for c in p.callouts:
            assert p.text[c.start : c.end] == c.text
            assert c.reference_keys and all(doc.reference(k) is not None for k in c.reference_keys)
            seen += 1
    assert seen == 8
    intro = doc.paragraphs[0]
    assert [(c.text, c.reference_keys) for c in intro.callouts] == [("[1]", ["b0"]), ("[2,", ["b1"]), ("3]", ["b2"])]


def test_unresolvable_callouts_are_skipped_with_a_warning(doc: Document) -> None:
    second = doc.paragraphs[1]
    assert "(Nilsen, unpublished)" in second.text
    assert second.callouts == []  # no target, and target "#b9" is not in the list
    assert len(doc.warnings) == 1 and "2 bibliographic callout" in doc.warnings[0]


def test_sentence_spans(doc: Document) -> None:
    intro = doc.paragraphs[0]
    assert intro.sentence_spans is not None
    sentences = [intro.text[a:b] for a, b in intro.sentence_spans]
    assert sentences[0].startswith("Frost heave") and sentences[0].endswith("[1].")
    assert sentences[1].startswith("Earlier surveys") and sentences[1].endswith("not measured.")
    discussion = [p for p in doc.paragraphs if p.section == "discussion"][0]
    assert discussion.sentence_spans is None  # no <s> markup, no invented sentences



def test_sentence_ends_leave_out_trailing_whitespace_in_long_paragraphs() -> None:
    # Each sentence's end is kept from the running length, not by joining the paragraph so far (which made a paragraph
    # of n sentences cost n²); the spans are those the joined text gives, trailing spaces, callouts and nesting included.
    sentences = ["<s>One. </s>", "<s>\n Two <hi>x</hi>\t</s>", '<s>Three <ref type="bibr" target="#b0"> [1] </ref></s>',
                 "<s>Four<s> inner. </s></s>", "<s>\u3000</s>"] * 2000
    tei = ('<TEI><text><body><div><p>' + "".join(sentences) + '</p></div></body><back><listBibl>'
           '<biblStruct xml:id="b0"/></listBibl></back></text></TEI>').encode()
    para = parse_tei(tei, "long.tei.xml").paragraphs[0]
    assert para.sentence_spans is not None and len(para.sentence_spans) == 10_000
    texts = [para.text[a:b] for a, b in para.sentence_spans[:5]]
    assert texts == ["One.", "Two x", "Three [1]", "inner.", "Four inner."]  # a blank sentence has no span
    assert all(para.text[a:b] == para.text[a:b].rstrip() for a, b in para.sentence_spans)
    assert para.text.endswith("inner.") and len(para.callouts) == 2000

def test_references(doc: Document) -> None:
    assert [r.key for r in doc.references] == ["b0", "b1", "b2", "b3"]
    b0, b1, b2, b3 = doc.references
    assert [a.family for a in b0.authors] == ["Aaltonen", "Dube"]
    assert b0.title == "Seasonal soil movement on mountain slopes"
    assert b0.container == "Soil Dynamics"
    assert (b0.year, b0.volume, b0.issue, b0.pages) == (2009, "31", "4", "220-231")
    assert b0.doi == "10.5555/soil.2009.77"
    assert b0.raw.startswith("Aaltonen P, Dube RK.")
    assert b1.pmid == "19876543" and b1.pages == "e1002" and b1.year == 2014
    assert b2.title == "Frozen Ground Engineering" and b2.container == "" and b2.authors[0].family == "Brandt"
    assert b3.container.startswith("Proceedings of the Fourth Workshop")


def test_round_trips_through_json(doc: Document) -> None:
    again = Document.from_dict(doc.to_dict())
    assert again.paragraphs[0].sentence_spans == doc.paragraphs[0].sentence_spans
    assert again.references[0].authors[0].family == "Aaltonen"


def test_malformed_xml_names_the_file() -> None:
    with pytest.raises(MalformedInputError) as err:
        parse_tei(b"<TEI xmlns='http://www.tei-c.org/ns/1.0'><text><body><p>unclosed", "broken.tei.xml")
    assert "broken.tei.xml" in str(err.value)


def test_entity_bomb_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE TEI [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><TEI><text><body><p>&c;</p></body></text></TEI>'
    )
    with pytest.raises(HostileInputError) as err:
        parse_tei(bomb, "bomb.tei.xml")
    assert err.value.source == "bomb.tei.xml"


def test_external_entity_is_refused() -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE TEI [<!ENTITY x SYSTEM "file:///etc/passwd">]><TEI><text>&x;</text></TEI>'
    with pytest.raises(InputError) as err:
        parse_tei(xxe, "xxe.tei.xml")
    assert "xxe.tei.xml" in str(err.value)


def test_not_tei_and_empty() -> None:
    with pytest.raises(UnsupportedFormatError, match="article.xml"):
        parse_tei(b"<article><front/></article>", "article.xml")
    with pytest.raises(MalformedInputError, match="empty.tei.xml"):
        parse_tei(b"   ", "empty.tei.xml")


def test_minimal_tei_without_namespace_or_header() -> None:
    doc = parse_tei(b"<TEI><text><body><div><head>Results</head><p>Plain text.</p></div></body></text></TEI>", "m.xml")
    assert [(p.section, p.text) for p in doc.paragraphs] == [("results", "Plain text.")]
    assert doc.references == [] and doc.title == ""
