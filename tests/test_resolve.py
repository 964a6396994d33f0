from __future__ import annotations

from dataclasses import replace

import pytest

from citelens.document import Author, CitationStatement, Document, Reference
from citelens.references.identifiers import normalise_doi, normalise_pmcid, normalise_pmid
from citelens.references.memory import InMemoryWorkIndex
from citelens.references.resolve import (
    WorkRecord,
    find_matching_work,
    flag_self_citations,
    fold,
    resolve_references,
)


def test_identifier_normalisation() -> None:
    assert normalise_doi("https://doi.org/10.1371/Journal.PONE.0001.") == "10.1371/journal.pone.0001"
    assert normalise_doi("doi: 10.1000/ABC") == "10.1000/abc"
    assert normalise_doi("info:doi/10.1371/journal.pcbi.0030051") == "10.1371/journal.pcbi.0030051"
    assert normalise_doi("no doi here") == ""
    assert normalise_pmid("PMID: 12345") == "12345" and normalise_pmid("abc") == ""
    assert normalise_pmcid("12345") == "PMC12345" and normalise_pmcid("pmc77") == "PMC77"
    assert fold("Müller–Lyon: A  Study!") == "muller lyon a study"


def test_a_landing_page_address_leaves_its_tail_off_the_doi() -> None:
    """References copy DOIs from landing-page addresses (pmc-oa: 19 of 131,054 work DOIs): the view, a query or
    a keyed fragment is not part of the DOI. Old Wiley SICI DOIs end in a bare "#", which stays."""
    from citelens.references.parser import normalise_doi as parser_normalise_doi

    cases = {
        "https://doi.org/10.3389/fpls.2017.00052/full": "10.3389/fpls.2017.00052",
        "10.3389/FPLS.2016.01080/abstract": "10.3389/fpls.2016.01080",
        "10.1111/nph.12345/epdf": "10.1111/nph.12345",
        "10.5061/dryad.sn878g4/16?show=full": "10.5061/dryad.sn878g4/16",
        "10.1002/14651858.CD003641.pub4/full?highlightAbstract=surgery": "10.1002/14651858.cd003641.pub4",
        "10.1056/NEJMra064142#t=article": "10.1056/nejmra064142",
        "10.1093/infdis/jir312'?": "10.1093/infdis/jir312",
        "10.12345/full": "10.12345/full",  # a suffix that is only the word is a DOI of its own
    }
    for raw, doi in cases.items():
        assert normalise_doi(raw) == doi, raw
        assert parser_normalise_doi(raw) == doi, raw
    sici = "10.1002/(SICI)1099-1573(199709)11:6<433::AID-PTR122>3.0.CO;2-#"
    assert normalise_doi(sici) == sici.lower()


def ref(key: str, title: str, family: str, year: int, **kw: str) -> Reference:
    return Reference(key=key, title=title, authors=[Author(family=family, given="J")], year=year,
                     container="Nature", volume="10", pages="100-110", **kw)


def citing(source: str, refs: list[Reference], authors: list[str] = ("Nobody",), doi: str = "") -> Document:  # type: ignore[assignment]
    return Document(source=source, title=f"Paper {source}", doi=doi, year=2020,
                    authors=[Author(family=a, given="Q") for a in authors], references=refs)


def test_two_papers_citing_same_work_without_doi_share_it() -> None:
    index = InMemoryWorkIndex()
    a = resolve_references(citing("a.xml", [ref("a1", "Sentinel cells in bacterial colonies", "Barnes", 2001)]), index)
    b = resolve_references(citing("b.xml", [ref("b7", "Sentinel cells in bacterial colonies.", "Barnes", 2001),
                                            ref("b8", "Something else entirely about whales", "Barnes", 2001)]), index)
    assert a.references[0].resolution_method == "new"
    assert b.references[0].work_id == a.references[0].work_id
    assert b.references[0].resolution_method == "fuzzy" and b.references[0].resolution_score >= 0.86
    assert b.references[1].work_id != a.references[0].work_id


def test_doi_first_and_enrichment() -> None:
    index = InMemoryWorkIndex()
    a = resolve_references(citing("a.xml", [ref("x", "Quorum sensing revisited", "Diaz", 2011)]), index)
    # the second paper's reference carries a DOI: fuzzy match, then the work learns the DOI
    b = resolve_references(citing("b.xml", [ref("y", "Quorum sensing revisited", "Diaz", 2011, doi="10.1/qs")]), index)
    assert b.references[0].work_id == a.references[0].work_id
    c = resolve_references(citing("c.xml", [ref("z", "A different title", "Other", 1999, doi="10.1/qs")]), index)
    assert c.references[0].work_id == a.references[0].work_id and c.references[0].resolution_method == "doi"


def test_citing_document_lands_on_the_work_others_cite() -> None:
    index = InMemoryWorkIndex()
    a = resolve_references(citing("a.xml", [ref("x", "Arrested development in biofilms", "Evans", 2012,
                                                  doi="10.1371/journal.pbio.0000005")]), index)
    cited = citing("evans.xml", [], authors=["Evans"], doi="10.1371/journal.pbio.0000005")
    resolve_references(cited, index)
    assert cited.work_id == a.references[0].work_id


def test_conflicting_years_or_dois_do_not_match() -> None:
    index = InMemoryWorkIndex()
    index.create_work(WorkRecord(title="Colony patterns in bacteria", authors=[Author("Chen")], year=2010, doi="10.1/a"))
    q = WorkRecord(title="Colony patterns in bacteria", authors=[Author("Chen")], year=2015)
    assert find_matching_work(q, index)[0] is None
    q2 = replace(q, year=2010, doi="10.1/b")
    assert find_matching_work(q2, index)[0] is None


def test_another_first_page_is_another_article_however_alike_the_titles() -> None:
    """A series' parts, companion papers, comments: near-identical titles, same authors, year and journal — told
    apart by where they start (from plos-starter's references)."""
    index = InMemoryWorkIndex()
    authors = [Author("Lavis", "JN"), Author("Oxman", "AD")]
    stp13 = index.create_work(WorkRecord(
        title="SUPPORT tools for evidence-informed health policymaking (STP) 13: preparing and using policy briefs",
        authors=authors, year=2009, container="Health Res Policy Syst", volume="7", pages="S13"))
    stp14 = WorkRecord(title="SUPPORT tools for evidence-informed health policymaking (STP) 14: organising and "
                             "using policy dialogues", authors=authors, year=2009, container="Health Res Policy Syst",
                       volume="7", pages="S14")
    assert find_matching_work(stp14, index)[0] is None
    # The same part, cited with its page: found, as with no page at all.
    assert find_matching_work(replace(stp14, title=index.works[stp13].title, pages="S13"), index)[0] == stp13
    assert find_matching_work(replace(stp14, title=index.works[stp13].title, pages=""), index)[0] == stp13
    # Page numbers compare as numbers ("0041" is page 41); an article number (PLOS's "e7") is not a page, so the
    # page range a reference prints for that article does not conflict with it.
    plos = index.create_work(WorkRecord(title="Susceptibility to superhelically driven DNA duplex destabilization",
                                        authors=[Author("Wang")], year=2005, volume="1", pages="e7"))
    q = WorkRecord(title="Susceptibility to superhelically driven DNA duplex destabilization", authors=[Author("Wang")],
                   year=2005, volume="1", pages="0041-0046")
    assert find_matching_work(q, index)[0] == plos
    paged = index.create_work(WorkRecord(title="Statistical methods for assessing agreement between two methods",
                                         authors=[Author("Bland")], year=1986, volume="327", pages="307-310"))
    # A Cochrane review's number is its first page: two reviews of one series are two works.
    spf66 = index.create_work(WorkRecord(title="Vaccines for preventing malaria (SPf66)", authors=[Author("Graves")],
                                         year=2006, pages="CD005966"))
    other = WorkRecord(title="Vaccines for preventing malaria (pre-erythrocytic)", authors=[Author("Graves")],
                       year=2006, pages="CD006198")
    assert find_matching_work(other, index)[0] is None
    assert find_matching_work(replace(other, title="Vaccines for preventing malaria (SPf66)", pages="CD005966"),
                              index)[0] == spf66
    # Volumes are not compared: the Lancet's 1986 volume 1 is also its volume 327.
    lancet = WorkRecord(title="Statistical methods for assessing agreement between two methods",
                        authors=[Author("Bland")], year=1986, volume="1", pages="0307")
    assert find_matching_work(lancet, index)[0] == paged


def test_other_first_pages_that_are_still_one_work() -> None:
    """Pages that differ without making another work (pairs kept apart on pmc-oa before): a section letter on
    one side only, an article's own pagination from page 1, a mistyped first page, a book cited at the pages a
    statement draws on. A series' parts stay apart."""
    index = InMemoryWorkIndex()

    def work(title: str, author: str, year: int, volume: str, pages: str) -> tuple[str, WorkRecord]:
        rec = WorkRecord(title=title, authors=[Author(author)], year=year, volume=volume, pages=pages)
        return index.create_work(rec), rec

    meme, meme_rec = work("MEME: discovering and analyzing DNA and protein sequence motifs", "Bailey", 2006, "34",
                          "W369-W373")
    crop, crop_rec = work("Past and future use of wild relatives in crop breeding", "Dempewolf", 2017, "57",
                          "1070-1082")
    tsvi, tsvi_rec = work("A simple interpretation of the surface temperature/vegetation index space", "Sandholt",
                          2002, "79", "213-224")
    pnp, pnp_rec = work("Use of p-nitrophenyl phosphate for assay of soil phosphatase activity", "Tabatabai", 1969,
                        "1", "301-307")
    book, book_rec = work("A collection of medicinal plants in Sri Lanka", "Jayaweera", 2014, "", "59")
    for rec, wid in ((replace(meme_rec, pages="369-373"), meme),  # the web-server issue's letter left out
                     (replace(crop_rec, pages="1-13"), crop),  # the online-first PDF's own pages
                     (replace(tsvi_rec, pages="13-224"), tsvi),  # same last page
                     (replace(tsvi_rec, pages="203-214"), tsvi),  # two pages shared
                     (replace(pnp_rec, pages="201-207"), pnp),  # as long, one digit apart
                     (replace(book_rec, pages="7"), book)):  # a book, no volume on either side
        assert find_matching_work(rec, index)[0] == wid, rec.pages
    for pages in ("224-230", "1-6", "401-409"):  # the next article; a part from page 1 in another volume
        assert find_matching_work(replace(tsvi_rec, pages=pages, volume="80" if pages == "1-6" else "79"),
                                  index)[0] is None, pages
    # Adjacent articles share at most one page; a journal article's range of another length stays apart.
    assert find_matching_work(replace(tsvi_rec, pages="224-231"), index)[0] is None
    assert find_matching_work(replace(pnp_rec, pages="201-209"), index)[0] is None


def test_a_mistyped_doi_joins_its_work_as_an_alias() -> None:
    """A reference whose DOI is not its work's, though title, first author, year, volume and first page agree,
    joins the work (pmc-oa: "…cropsci2002.0739" / "….7390"); the work keeps its DOI and learns the other, so a
    later reference with it and no pages joins too. Anything less stays apart."""
    from citelens.document import Document, Reference
    from citelens.references.resolve import resolve_references

    index = InMemoryWorkIndex()
    work = index.create_work(WorkRecord(title="Genetic variation for grain quality in rice", authors=[Author("Kim")],
                                        year=2002, volume="42", pages="739-745", doi="10.2135/cropsci2002.0739"))

    def ref(key: str, **kw: object) -> Reference:
        fields: dict[str, object] = {"title": "Genetic variation for grain quality in rice",
                                     "authors": [Author("Kim")], "year": 2002, **kw}
        return Reference(key=key, **fields)  # type: ignore[arg-type]

    doc = Document(source="x.xml", doi="10.5555/citing", title="A citing paper", references=[
        ref("b1", volume="42", pages="739-745", doi="10.2135/cropsci2002.7390"),
        ref("b2", doi="10.2135/cropsci2002.7390"),  # the mistyped DOI again, no pages: through the alias
        ref("b3", volume="42", pages="739-745", doi="10.1000/other"),  # another title below: apart
        ref("b4", volume="42", pages="801-809", doi="10.1000/elsewhere"),  # another first page: apart
    ])
    doc.references[2].title = "Genetic variation for grain yield in maize"
    resolve_references(doc, index)
    assert [r.work_id == work for r in doc.references] == [True, True, False, False]
    assert index.works[work].doi == "10.2135/cropsci2002.0739"
    assert index.aliases == {("doi", "10.2135/cropsci2002.7390"): work}
    # An ingested article states its own DOI: it never gives way to a candidate's.
    article = WorkRecord(title="Genetic variation for grain quality in rice", authors=[Author("Kim")], year=2002,
                         volume="42", pages="739-745", doi="10.2135/cropsci2002.9999", kind="article")
    assert find_matching_work(article, index)[0] is None
    # The alias does not carry a reference with another title to the work.
    other = WorkRecord(title="Maize root architecture under drought", authors=[Author("Kim")], year=2002,
                       doi="10.2135/cropsci2002.7390")
    assert find_matching_work(other, index)[0] is None


def test_dois_one_slip_apart_join_one_work() -> None:
    """Two DOIs a copying slip makes of one (pmc-oa): something run on after a separator, or one character more,
    less or other under one registrant. With the same title, first author and year they are one work; the work
    keeps its DOI and learns the other. A short suffix or another registrant stays apart."""
    index = InMemoryWorkIndex()
    title = "Effect of N fertilization pattern on rice yield, N use efficiency and fertilizer-N fate"

    def rec(doi: str, t: str = title) -> WorkRecord:
        return WorkRecord(title=t, authors=[Author("Liu")], year=2016, container="PLoS One", volume="11", doi=doi)

    work = index.create_work(rec("10.1371/journal.pone.0166002", t=title))
    for doi in ("10.1371/journal.pone.016600", "10.1371/journal.pone.0160002", "10.1371/journal.pone.0166002.g001",
                "10.1371/journal.pone.0166002.30679171", "10.1371/journal.pone.01660"):
        assert find_matching_work(rec(doi), index)[0] == work, doi
    for doi in ("10.1371/journal.pone.0160012", "10.9999/journal.pone.0166002"):
        assert find_matching_work(rec(doi), index)[0] is None, doi
    # The work keeps and shows its DOI: one made from a cut-short DOI, or from one with a PubMed id run on, is
    # not joined by the whole or the clean one; a cut-short reference does join a whole one.
    cut = index.create_work(WorkRecord(title="Genome-wide investigation of the WD40 protein family in foxtail millet",
                                       authors=[Author("Mishra")], year=2014, doi="10.1371/journal.pone"))
    assert find_matching_work(WorkRecord(title=index.works[cut].title, authors=[Author("Mishra")], year=2014,
                                         doi="10.1371/journal.pone.0086852"), index)[0] is None
    tnbc = WorkRecord(title="Triple-negative breast cancer: clinical features and patterns of recurrence",
                      authors=[Author("Dent")], year=2007, doi="10.1158/1078-0432.ccr-06-3045.17671126")
    index.create_work(tnbc)
    assert find_matching_work(replace(tnbc, doi="10.1158/1078-0432.ccr-06-3045"), index)[0] is None
    whole = index.create_work(replace(tnbc, title="Dupuytren contracture as a sign of systemic disease",
                                      doi="10.1016/j.clindermatol.2019.07.027"))
    assert find_matching_work(replace(tnbc, title="Dupuytren contracture as a sign of systemic disease",
                                      doi="10.1016/j.clindermatol"), index)[0] == whole
    # Only as long as the title, first author and year agree: a slip-apart DOI on another work stays apart.
    assert find_matching_work(rec("10.1371/journal.pone.0160002", t="Rice yield under drought in Hubei"),
                              index)[0] is None
    short = index.create_work(WorkRecord(title="A short suffix", authors=[Author("Ng")], year=2020, doi="10.1/ab1"))
    assert find_matching_work(WorkRecord(title="A short suffix", authors=[Author("Ng")], year=2020, doi="10.1/ab2"),
                              index)[0] != short


def test_one_title_author_year_and_journal_with_other_pages_is_one_miscited_work() -> None:
    """References print volumes and pages wrong (pmc-oa: the Bradford assay at "44: 276-287" for "72: 248-254",
    "Sci Rep 4: 3974" for 3964). The same long title, first author, year and journal (abbreviated or not) make
    one work however the pages differ; a short title, another journal or none, or another year stay apart."""
    index = InMemoryWorkIndex()
    bradford_title = ("A rapid and sensitive method for the quantitation of microgram quantities of protein "
                      "utilizing the principle of protein-dye binding")
    bradford = index.create_work(WorkRecord(title=bradford_title, authors=[Author("Bradford", "MM")], year=1976,
                                            container="Analytical Biochemistry", volume="72", pages="248-254"))
    miscited = WorkRecord(title=bradford_title, authors=[Author("Bradford", "M")], year=1976,
                          container="Anal Biochem", volume="44", pages="276-287")
    assert find_matching_work(miscited, index)[0] == bradford
    assert find_matching_work(replace(miscited, container="J Biol Chem"), index)[0] is None
    assert find_matching_work(replace(miscited, container=""), index)[0] is None
    assert find_matching_work(replace(miscited, year=1977), index)[0] is None
    # Between a work whose pages agree and one it would take as miscited, the first: not a tie that makes a third.
    guo_title = "The interaction between OsMADS57 and OsTB1 modulates rice tillering via DWARF14"
    guo = index.create_work(WorkRecord(title=guo_title, authors=[Author("Guo")], year=2013, container="Nat Commun",
                                       volume="4", pages="1566", doi="10.1038/ncomms2542"))
    index.create_work(WorkRecord(title=guo_title, authors=[Author("Guo")], year=2013, container="Nat. Commun.",
                                 volume="4", pages="1512-1566", doi="10.1038/ncomms2515"))
    assert find_matching_work(WorkRecord(title=guo_title, authors=[Author("Guo")], year=2013,
                                         container="Nature Communications", volume="4", pages="1566"),
                              index)[0] == guo
    # A journal abbreviated word for word, with as many words as its full name; a letter apart in a long title.
    lu_title = ("Genomic characterization and epidemiology of 2019 novel coronavirus: implications for virus "
                "origins and receptor binding")
    lu = index.create_work(WorkRecord(title=lu_title, authors=[Author("Lu", "R")], year=2020,
                                      container="Journal of the Lancet", volume="395", pages="391-393"))
    assert find_matching_work(WorkRecord(title=lu_title.replace("characterization", "characterisation"),
                                         authors=[Author("Lu", "R")], year=2020, container="J Lancet",
                                         volume="395", pages="565-574"), index)[0] == lu
    # Two companion papers, a few letters apart in a shorter title, stay two.
    male = index.create_work(WorkRecord(title="Male physical attractiveness in Britain and Greece",
                                        authors=[Author("Swami")], year=2007, container="Pers Individ Dif",
                                        volume="42", pages="15-26"))
    assert find_matching_work(WorkRecord(title="Female physical attractiveness in Britain and Greece",
                                         authors=[Author("Swami")], year=2007, container="Pers Individ Dif",
                                         volume="42", pages="27-36"), index)[0] != male
    editorial = index.create_work(WorkRecord(title="Editorial: new horizons", authors=[Author("Smith")], year=2020,
                                             container="Nature", volume="5", pages="10-11"))
    assert find_matching_work(WorkRecord(title="Editorial: new horizons", authors=[Author("Smith")], year=2020,
                                         container="Nature", volume="6", pages="30-33"), index)[0] != editorial


def test_the_same_volume_and_first_page_vouch_for_a_first_author_written_another_way() -> None:
    """pmc-oa held works twice under one title, volume and first page because their first author was written
    another way: given name first ("Heng Li" as "Li H" and "Heng L"), an organisation for a person. Where the
    volume and first page agree, another first author is no conflict; elsewhere it is."""
    index = InMemoryWorkIndex()
    samtools = index.create_work(WorkRecord(title="The Sequence Alignment/Map format and SAMtools",
                                            authors=[Author("Li", "H")], year=2009, container="Bioinformatics",
                                            volume="25", pages="2078-2079"))
    given_first = WorkRecord(title="The sequence alignment/map format and SAMtools.pdf", authors=[Author("Heng", "L")],
                             year=2009, container="Bioinformatics", volume="25", pages="2078-9")
    assert find_matching_work(given_first, index)[0] == samtools
    assert find_matching_work(replace(given_first, pages="1754-1760"), index)[0] is None
    assert find_matching_work(replace(given_first, volume="26"), index)[0] is None
    assert find_matching_work(replace(given_first, pages=""), index)[0] is None
    # Against a copy with the reference's first author but another page (a miscited match), the work that
    # starts where the reference says wins: no tie, no third copy.
    wheat_title = "A chromosome-based draft sequence of the hexaploid bread wheat (Triticum aestivum) genome"
    wheat = index.create_work(WorkRecord(title=wheat_title, authors=[Author("Consortium")], year=2014,
                                         container="Science", volume="345", pages="1251788",
                                         doi="10.1126/science.1251788"))
    index.create_work(WorkRecord(title=wheat_title, authors=[Author("IWGSC")], year=2014, container="Science",
                                 volume="345", pages="6194"))
    assert find_matching_work(WorkRecord(title=wheat_title, authors=[Author("IWGSC")], year=2014,
                                         container="Science", volume="345", pages="1251788"), index)[0] == wheat


def test_titles_numbered_apart_are_other_works() -> None:
    """Another edition, part, volume, version or year of a series is another work, however alike the words
    (pairs merged wrongly on pmc-oa and plos-starter); a title that only adds a number, writes it in Roman
    numerals, or cuts the last one short is not told apart by it."""
    index = InMemoryWorkIndex()
    who = [Author("World Health Organization")]
    malaria = index.create_work(WorkRecord(title="World malaria report 2016", authors=who, year=2016))
    assert find_matching_work(WorkRecord(title="World malaria report 2015", authors=who, year=2016), index)[0] is None
    assert find_matching_work(WorkRecord(title="World Malaria Report, 2016", authors=who, year=2016), index)[0] == malaria
    assert find_matching_work(WorkRecord(title="World malaria report", authors=who, year=2016), index)[0] == malaria
    wheat = index.create_work(WorkRecord(
        title="The tolerance of wheat to high temperatures during reproductive growth. I. Survey procedures and "
              "general response patterns", authors=[Author("Tashiro")], year=1990, volume="41"))
    part2 = WorkRecord(title="The tolerance of wheat to high temperatures during reproductive growth. II. Grain "
                             "development", authors=[Author("Tashiro")], year=1990, volume="41")
    assert find_matching_work(part2, index)[0] is None
    assert find_matching_work(replace(part2, title=index.works[wheat].title.replace(". I.", ". 1.")), index)[0] == wheat
    sas = index.create_work(WorkRecord(title="SAS/STAT 9.2 User's Guide", authors=[Author("SAS Institute")], year=2008))
    assert find_matching_work(WorkRecord(title="SAS/STAT 9.1 User's Guide", authors=[Author("SAS Institute")],
                                         year=2008), index)[0] is None
    assert find_matching_work(WorkRecord(title="SAS STAT 9.2 users guide", authors=[Author("SAS Institute")],
                                         year=2008), index)[0] == sas
    update = index.create_work(WorkRecord(title="Preventing transmission of pandemic influenza: personal protective "
                                                "equipment for healthcare personnel, update 2010", year=2010))
    cut = WorkRecord(title="Preventing transmission of pandemic influenza: personal protective equipment for "
                           "healthcare personnel, update 201", year=2010)
    assert find_matching_work(cut, index)[0] == update


def test_a_tie_between_copies_of_one_work_goes_to_the_first() -> None:
    """Copies of one work (kept apart by earlier references that gave other pages) tie for a reference without
    pages: it goes to the first copy instead of making one more; a tie between works that differ stays a new
    work."""
    index = InMemoryWorkIndex()
    hoagland = [Author("Hoagland", "DR"), Author("Arnon", "DI")]
    title = "The water-culture method for growing plants without soil"
    first = index.create_work(WorkRecord(title=title, authors=hoagland, year=1950, pages="1-32"))
    index.create_work(WorkRecord(title=title, authors=hoagland, year=1950, pages="357-359"))
    assert find_matching_work(WorkRecord(title=title, authors=hoagland, year=1950), index)[0] == first
    # Two works with other DOIs are two works, however alike: a reference naming neither stays apart.
    twins = InMemoryWorkIndex()
    for doi in ("10.5555/a.1", "10.5555/b.2"):
        twins.create_work(WorkRecord(title=title, authors=hoagland, year=1950, doi=doi))
    assert find_matching_work(WorkRecord(title=title, authors=hoagland, year=1950), twins)[0] is None


def test_self_citations_flagged() -> None:
    doc = citing("a.xml", [ref("r1", "Own earlier work", "Okafor", 2015), ref("r2", "Someone else", "Barnes", 2001)],
                 authors=["Okafor", "Lindqvist"])
    doc.authors[0].given = "Ada"
    doc.references[0].authors[0].given = "A."
    doc.statements = [CitationStatement(reference_key="r1", sentence="s", callout_start=0, callout_end=1),
                      CitationStatement(reference_key="r2", sentence="s", callout_start=0, callout_end=1)]
    flag_self_citations(doc)
    assert [s.self_citation for s in doc.statements] == [True, False]


@pytest.mark.parametrize(("citing_given", "cited_given", "self_citation"), [
    ("Ada", "A.", True), ("Ada", "Ada", True), ("Ada", "", True), ("Chen-Peng", "C.-P.", True),
    ("Chen-Peng", "CP", True), ("John H.", "JH", True), ("J.", "John", True), ("Ya-Lin A.", "YA", True),
    ("Ya-Lin A.", "Y.-L.", True), ("Célia Maria de Almeida", "C. M. A.", True),
    # The same first letter is not the same person: the given names must fit.
    ("Chen-Peng", "CW", False), ("Chen-Peng", "C.-W.", False), ("John", "James", False), ("Wei", "Wei Min", False),
    ("Jae Kwang", "J-B", False), ("Sung-Ryul", "S. D.", False), ("A. K. M. Mominul", "AKMA", False),
    ("", "Ada", False),
])
def test_self_citations_need_given_names_that_fit(citing_given: str, cited_given: str, self_citation: bool) -> None:
    """Only the first letters were compared: "Chen, Chen-Peng" citing "Chen CW", or a John citing a James of his
    surname, was a self-citation (the author pages' self-citation share and every exclude_self filter)."""
    doc = citing("a.xml", [ref("r1", "Earlier work", "Chen", 2015)], authors=["Chen"])
    doc.authors[0].given = citing_given
    doc.references[0].authors[0].given = cited_given
    doc.statements = [CitationStatement(reference_key="r1", sentence="s", callout_start=0, callout_end=1)]
    flag_self_citations(doc)
    assert doc.statements[0].self_citation is self_citation


def test_hostile_digit_runs_in_pages_and_titles_do_not_break_resolution() -> None:
    """A page or title with thousands of digits (int() refuses over 4,300) is compared as text or not at all."""
    index = InMemoryWorkIndex()
    title = "A title with a long number 1" + "7" * 5000
    wid = index.create_work(WorkRecord(title=title, authors=[Author("Kim")], year=2002, volume="4",
                                       pages="9" * 5000 + "-" + "9" * 5001))
    assert find_matching_work(WorkRecord(title=title, authors=[Author("Kim")], year=2002, volume="4",
                                         pages="0" + "9" * 5000), index)[0] == wid
    assert find_matching_work(WorkRecord(title=title, authors=[Author("Kim")], year=2002, volume="4",
                                         pages="8" * 5000), index)[0] is None


def _senior_author_case(index: object) -> Document:
    """An article by Okafor, Mensah, Adeyemi and Lindqvist is indexed; Lindqvist's later paper cites it as
    "Okafor A, Mensah K, et al.": the reference leaves out the very author who cites it."""
    full = [Author("Okafor", "Ada"), Author("Mensah", "Kofi"), Author("Adeyemi", "Tunde"), Author("Lindqvist", "Britt")]
    earlier = Document(source="earlier.xml", doi="10.5555/earlier", title="Quorum sensing in soil biofilms",
                       year=2015, authors=full)
    resolve_references(earlier, index)  # type: ignore[arg-type]
    cut_short = Reference(key="r1", title="Quorum sensing in soil biofilms", year=2015, doi="10.5555/earlier",
                          authors=[Author("Okafor", "A"), Author("Mensah", "K")])
    other = ref("r2", "Someone else entirely", "Barnes", 2001)
    doc = Document(source="later.xml", doi="10.5555/later", title="Later work", year=2020,
                   authors=[Author("Lindqvist", "Britt"), Author("Park", "Jin")], references=[cut_short, other])
    doc.statements = [CitationStatement(reference_key=k, sentence="s", callout_start=0, callout_end=1)
                      for k in ("r1", "r2")]
    return resolve_references(doc, index)  # type: ignore[arg-type]


def test_a_reference_cut_short_with_et_al_is_still_a_self_citation(tmp_path: object) -> None:
    """The cited work's authors as the index knows them count, not only those its reference lists: a senior
    author listed last is the one a "first three, et al." reference leaves out."""
    from pathlib import Path

    from citelens.store import open_store

    doc = _senior_author_case(InMemoryWorkIndex())
    assert [s.self_citation for s in doc.statements] == [True, False]
    with open_store(Path(str(tmp_path)) / "index.db") as store:
        doc = _senior_author_case(store)
    assert [s.self_citation for s in doc.statements] == [True, False]
    # Without the index's knowledge (the reference alone), nothing says so.
    flag_self_citations(doc)
    assert [s.self_citation for s in doc.statements] == [False, False]
