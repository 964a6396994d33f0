"""Reference-string parser: rule clean-up, the packaged tagger on typical styles, split hygiene."""

from __future__ import annotations

from pathlib import Path

import pytest

from citelens.document import Reference
from citelens.references.parser import (
    normalise_doi,
    normalise_pages,
    parse_reference_string,
    parse_reference_strings,
    split_authors,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CORPUS = DATA / "grobid-references" / "references.jsonl"


def names(text: str) -> list[tuple[str, str]]:
    return [(a.family, a.given) for a in split_authors(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Smith J, Jones AB, Brown C.", [("Smith", "J"), ("Jones", "AB"), ("Brown", "C")]),
        ("J. Smith and A. B. Jones", [("Smith", "J."), ("Jones", "A. B.")]),
        ("Smith, J., Jones, A. B., & Brown, C.", [("Smith", "J."), ("Jones", "A. B."), ("Brown", "C.")]),
        ("Smith J.; van der Berg K.", [("Smith", "J."), ("van der Berg", "K.")]),
        ("Smith J, Jones A, et al.", [("Smith", "J"), ("Jones", "A")]),
        ("Ludwig van Beethoven", [("van Beethoven", "Ludwig")]),
        ("et al.", []),
        # Short surnames and particles also read as initials ("Hu", "De"): the initials are the capitals last.
        ("Hu Q, Li XY, Xu S.", [("Hu", "Q"), ("Li", "XY"), ("Xu", "S")]),
        ("De Vries J, Da Silva AM, Ch. Smith", [("De Vries", "J"), ("Da Silva", "AM"), ("Smith", "Ch.")]),
        ("X Li, J. Li", [("Li", "X"), ("Li", "J")]),
    ],
)
def test_split_authors_styles(text: str, expected: list[tuple[str, str]]) -> None:
    assert names(text) == expected


def test_normalisers() -> None:
    assert normalise_pages("pp. 123 – 30") == "123-130"
    assert normalise_pages("779--786") == "779-786"
    assert normalise_pages("e1002") == "e1002"
    assert normalise_pages("9" * 5000 + "-" + "9" * 4999) == "9" * 5000 + "-" + "9" * 4999  # int() refuses these
    assert normalise_doi("https://doi.org/10.1371/JOURNAL.PONE.0001.") == "10.1371/journal.pone.0001"
    assert normalise_doi("doi: 10.1000/ABC") == "10.1000/abc"
    assert normalise_doi("no identifier here") == ""


def test_a_doi_ends_where_it_ends_and_a_line_break_inside_it_is_closed() -> None:
    """Every space in a reference used to be removed before looking for its DOI, so the DOI ran on into what
    followed it ("10.1128/jcm.01463-09pmid:19864480"): the reference check matched no work by it."""
    assert normalise_doi("J Clin Microbiol 2010; 48:229–237. doi: 10.1128/JCM.01463-09 PMID: 19864480") == \
        "10.1128/jcm.01463-09"
    assert normalise_doi("Virus Res 103: 91-95. doi:10.1016/j.virusres.2004.02.019. PubMed: 15163495.") == \
        "10.1016/j.virusres.2004.02.019"
    assert normalise_doi("Risk. BMC 2013 13:352. doi:10.1186/1471-2334-13-352 Cite this article as: Shah") == \
        "10.1186/1471-2334-13-352"
    # Broken at a line end after a separator: closed up.
    assert normalise_doi("doi: 10.1128/JCM. 00128-10 PMID: 20504986") == "10.1128/jcm.00128-10"
    assert normalise_doi("https://doi.org/10.1016/j. jopan.2013.09.010") == "10.1016/j.jopan.2013.09.010"
    assert normalise_doi("doi: 10. 1000/ABC") == "10.1000/abc"
    # Broken inside a run of letters and digits: the piece after the break holds a digit.
    assert normalise_doi("J Am Chem Soc 139, 1–9. doi:10.1021/jacs.7b 06197") == "10.1021/jacs.7b06197"
    assert normalise_doi("doi:10.1000/XYZ in press") == "10.1000/xyz"
    # Copied from a link, percent-encoded.
    assert normalise_doi("https://doi.org/10.1186%2F1471- 2458-12-594") == "10.1186/1471-2458-12-594"
    assert normalise_doi("50% of cases. https://doi.org/10.1128%2FAEM.02069-12") == "10.1128/aem.02069-12"


def test_vancouver_reference() -> None:
    raw = (
        "Okafor CN, Lindqvist M. Soil moisture controls nitrogen uptake in dryland wheat. "
        "J Agric Sci. 2014;52(3):211-19. doi:10.1017/S0021859613000221"
    )
    ref = parse_reference_string(raw, key="r1")
    assert isinstance(ref, Reference)
    assert ref.key == "r1" and ref.raw == raw
    assert [a.family for a in ref.authors] == ["Okafor", "Lindqvist"]
    assert ref.authors[0].given == "CN"
    assert ref.title == "Soil moisture controls nitrogen uptake in dryland wheat"
    assert "Agric" in ref.container
    assert ref.year == 2014
    assert ref.volume == "52"
    assert ref.issue == "3"
    assert ref.pages == "211-219"
    assert ref.doi == "10.1017/s0021859613000221"


def test_physics_style_reference() -> None:
    ref = parse_reference_string("A. B. Marsh, C. D. Ortega, Phys. Rev. Lett. 108, 191802 (2012).")
    assert [a.family for a in ref.authors] == ["Marsh", "Ortega"]
    assert ref.authors[0].given == "A. B."
    assert ref.container.startswith("Phys. Rev. Lett")
    assert (ref.year, ref.volume, ref.pages) == (2012, "108", "191802")


def test_ieee_style_reference_with_quotes() -> None:
    ref = parse_reference_string(
        'K. Halvorsen and T. Ng, "Sparse sketches for streaming joins," in Proc. Int. Conf. Data Eng., 2019, pp. 55-66.'
    )
    assert ref.title == "Sparse sketches for streaming joins"
    assert ref.year == 2019
    assert ref.pages == "55-66"
    assert [a.family for a in ref.authors] == ["Halvorsen", "Ng"]


def test_batch_matches_single_and_handles_empty() -> None:
    raws = [
        "Okafor CN. Soil moisture and wheat. J Agric Sci. 2014;52:211-9.",
        "",
        "A. B. Marsh, Phys. Rev. D 80, 2063 (1998).",
    ]
    batch = parse_reference_strings(raws)
    assert len(batch) == 3
    assert batch[1].title == "" and batch[1].authors == []
    for raw, ref in zip(raws, batch, strict=True):
        single = parse_reference_string(raw)
        assert (single.title, single.year, single.pages, single.container) == (ref.title, ref.year, ref.pages, ref.container)
        assert ref.raw == raw


def test_split_is_file_disjoint_and_reproducible() -> None:
    if not CORPUS.is_file():
        pytest.skip("shared data not present")
    from citelens.references.parser_train import load_examples, split_examples

    examples = load_examples(CORPUS)
    train, dev, test = split_examples(examples)
    assert len(train) + len(dev) + len(test) == len(examples)
    files = [{e.source_file for e in part} for part in (train, dev, test)]
    assert not files[0] & files[2] and not files[1] & files[2] and not files[0] & files[1]
    assert test and dev
    again = split_examples(examples)
    assert [e.raw for e in again[2]] == [e.raw for e in test]


def test_gold_scoring_is_perfect_against_itself() -> None:
    if not CORPUS.is_file():
        pytest.skip("shared data not present")
    from citelens.references.parser_train import Scores, gold_reference, load_examples

    examples = load_examples(CORPUS)[:200]
    scores = Scores()
    for ex in examples:
        scores.add(gold_reference(ex), gold_reference(ex))
    table = scores.table()
    assert table["micro(goal fields)"]["f1"] == 1.0
    assert table["title"]["support"] > 0


def test_begin_tags_split_adjacent_fields_of_one_label() -> None:
    from citelens.references.parser import _runs

    raw = "Smith J, Jones A. Title."
    tagged = [
        ("Smith", 0, 5, "B-author"), ("J", 6, 7, "author"), (",", 7, 8, "O"),
        ("Jones", 9, 14, "B-author"), ("A", 15, 16, "author"), (".", 16, 17, "O"),
        ("Title", 18, 23, "B-title"), (".", 23, 24, "O"),
    ]
    runs = _runs(raw, tagged)
    assert runs["author"] == ["Smith J", "Jones A"]
    assert runs["title"] == ["Title"]
    # A reference has one title: a "B-title" straight after the title (only punctuation between) continues it.
    raw2 = "Smith J. Cells: a review. Nature."
    tagged2 = [
        ("Smith", 0, 5, "B-author"), ("J", 6, 7, "author"), (".", 7, 8, "O"),
        ("Cells", 9, 14, "B-title"), (":", 14, 15, "O"), ("a", 16, 17, "B-title"), ("review", 18, 24, "title"),
        (".", 24, 25, "O"), ("Nature", 26, 32, "B-journal"), (".", 32, 33, "O"),
    ]
    assert _runs(raw2, tagged2)["title"] == ["Cells: a review"]
    # Without begin tags, punctuation tagged O does not break a run of one label.
    plain = [(t, s, e, lab.removeprefix("B-")) for t, s, e, lab in tagged]
    assert _runs(raw, plain)["author"] == ["Smith J, Jones A"]


HOSTILE_STRINGS = [
    "Smith J. \ud835 A lone high surrogate. Nature. 2001;1:2-3.",
    "Lee K. \udc00\ud835\udc65 pairs and halves. Cell. 2010;5:1.",
    "Wang X. Title with private use \ue000\uf0b7 glyphs. Science. 2003;300:1.",
    "\u202bمحمد\u202c A. دراسة (RTL) \u200f. J Arab Sci. 2015;3:4-9.",
    "Nul\x00 and \x07 controls \ufffe\uffff. Lancet. 1999;2:3.",
    "ﬁnite ﬂows ﬀ. Phys Rev. 2002;1:1.",
    "x" * 50_000,
    "\u0301\u0302\u0303",
    "   ",
]


def test_any_string_parses_without_internal_error() -> None:
    refs = parse_reference_strings(HOSTILE_STRINGS)
    assert len(refs) == len(HOSTILE_STRINGS)
    for ref in refs:
        for value in (ref.raw, ref.title, ref.container, *(a.family for a in ref.authors)):
            value.encode("utf-8")  # no lone surrogate survives
            assert not any("\ue000" <= ch <= "\uf8ff" for ch in value)
    assert refs[5].raw.startswith("ﬁnite") or refs[5].raw.startswith("finite")
    assert parse_reference_string(HOSTILE_STRINGS[0]).year == 2001


JATS_REFS = b"""<article><back><ref-list>
<ref id="r1"><mixed-citation publication-type="journal"><person-group person-group-type="author"><name><surname>Mackenzie</surname><given-names>JS</given-names></name><name><surname>Williams</surname><given-names>DT</given-names></name></person-group> (<year>2009</year>) <article-title>The zoonotic flaviviruses of Asia</article-title>. <source>Zoonoses Public Health</source><volume>56</volume>: <fpage>338</fpage>&#x2013;<lpage>356</lpage> <pub-id pub-id-type="pmid">19486319</pub-id></mixed-citation></ref>
<ref id="r2"><element-citation publication-type="journal"><person-group person-group-type="author"><name><surname>Lund</surname><given-names>H</given-names></name><name><surname>Chang</surname><given-names>M</given-names></name></person-group><article-title>The status of district heating</article-title><source>Energy</source><year>2018</year><volume>164</volume><fpage>147</fpage><lpage>159</lpage><pub-id pub-id-type="doi">10.1016/j.energy.2018.08.206</pub-id></element-citation></ref>
</ref-list></back></article>"""


def test_jats_references_become_labelled_strings() -> None:
    from citelens.references.parser_jats import article_part, examples_from_jats

    printed, rendered = examples_from_jats(JATS_REFS, "PMC1")
    assert printed.source_file == "PMC1#printed" and rendered.source_file == "PMC1#rendered"
    # Printed: the mixed citation's own text, with the spaces and commas Europe PMC leaves out restored.
    assert printed.raw == "Mackenzie JS, Williams DT (2009) The zoonotic flaviviruses of Asia. Zoonoses Public Health 56: 338–356"
    spans = printed.spans()
    assert spans["author"] == ["Mackenzie JS, Williams DT"] and spans["pages"] == ["338–356"]
    assert spans["journal"] == ["Zoonoses Public Health"] and spans["date"] == ["2009"]
    # Rendered: every span is exactly the field's text inside the printed string.
    fields = {f["label"]: rendered.raw[f["start"] : f["end"]] for f in rendered.fields}
    assert fields["title:a"] == "The status of district heating" and fields["title:j"] == "Energy"
    assert fields["date"] == "2018" and fields["biblScope:vol"] == "164"
    assert "Lund" in fields["author"] and "Chang" in fields["author"]
    assert examples_from_jats(b"<not-xml", "x") == []
    assert {article_part(f"PMC{i}") for i in range(200)} == {"train", "dev", "test"}


def test_spacing_repair_maps_every_character_back() -> None:
    from citelens.references.crf_features import normalise_spacing

    raw = "Thomas, D.: Stellar galaxies .Mon .Not .R .Astron .Soc .431 (2),1383- 1397( 2013 )"
    text, index = normalise_spacing(raw)
    assert text == "Thomas, D.: Stellar galaxies. Mon. Not. R. Astron. Soc. 431 (2), 1383-1397(2013)"
    assert len(index) == len(text)
    # Every non-space character comes from the same character of the original.
    assert all(raw[i] == ch for ch, i in zip(text, index, strict=True) if not ch.isspace())
    assert normalise_spacing("1,000 and 3.5")[0] == "1,000 and 3.5"
    assert normalise_spacing("") == ("", [])


def test_training_labels_follow_the_repaired_spacing() -> None:
    from citelens.references.parser_train import Example

    raw = "Rev .Math .Phys .22 ,207 -231"
    ex = Example("f", raw, [{"label": "title:j", "start": 0, "end": 17}, {"label": "biblScope:vol", "start": 17, "end": 19},
                            {"label": "biblScope:pp", "start": 21, "end": 29}])
    feats, labels = ex.token_labels()
    words = [f["w"] for f in feats]
    assert words == ["rev", ".", "math", ".", "phys", ".", "22", ",", "207", "-", "231"]
    assert labels == ["B-journal", "journal", "journal", "journal", "journal", "journal",
                      "B-volume", "O", "B-pages", "pages", "pages"]


def test_noisy_variants_keep_labels_on_their_text() -> None:
    import random

    from citelens.references.parser_jats import examples_from_jats, noisy_variant

    _, rendered = examples_from_jats(JATS_REFS, "PMC1")
    rng = random.Random(3)
    variants = [v for v in (noisy_variant(rendered, rng) for _ in range(60)) if v is not None]
    assert variants
    for v in variants:
        spans = {f["label"]: v.raw[f["start"] : f["end"]] for f in v.fields}
        assert spans["date"] == "2018" and spans["biblScope:vol"] == "164"
        assert spans["title:j"].lower() == "energy"
        assert spans["title:a"].replace("- ", "").replace(" ", "").lower() == "thestatusofdistrictheating"
    def separators(text: str) -> int:
        return sum(text.count(ch) for ch in ".,;:")

    assert any(separators(v.raw) < separators(rendered.raw) - 2 for v in variants)  # no-punctuation variants


def test_title_words_taken_for_an_author_go_back_to_the_title() -> None:
    from citelens.references.parser import _repair_title_start

    def tag(pairs: list[tuple[str, str]]) -> list[tuple[str, int, int, str]]:
        out, pos = [], 0
        for text, label in pairs:
            out.append((text, pos, pos + len(text), label))
            pos += len(text) + 1
        return out

    tagged = tag([("Zhang", "B-author"), ("H", "author"), (",", "O"), ("A", "author"), ("New", "author"),
                  ("Generalized", "B-title"), ("Method", "title")])
    assert [t[3] for t in _repair_title_start(tagged)][3:] == ["B-title", "title", "title", "title"]
    # A name's initials before an unpunctuated title ("Smith J Title") stay with the author.
    kept = tag([("Lee", "B-author"), ("K", "author"), (",", "O"), ("Smith", "B-author"), ("J", "author"),
                ("Cells", "B-title")])
    assert _repair_title_start(kept) == kept
    one_word = tag([("Smith", "B-author"), (",", "O"), ("John", "author"), ("Cells", "B-title")])
    assert _repair_title_start(one_word) == one_word
    assert _repair_title_start([]) == []


def test_title_with_in_book_is_split_into_chapter_and_book() -> None:
    from citelens.references.parser import build_reference

    ref = build_reference("x", {"title": ["On Drinfeld realization of quantum affine algebras, in Monster and Lie Algebras"]})
    assert ref.title == "On Drinfeld realization of quantum affine algebras"
    assert ref.container == "Monster and Lie Algebras"
    kept = build_reference("x", {"title": ["Stress in mice"], "journal": ["Cell"]})
    assert kept.title == "Stress in mice" and kept.container == "Cell"


def test_restyled_variants_keep_labels_on_their_text() -> None:
    import random

    from citelens.references.parser_jats import examples_from_jats, restyled_variant

    _, rendered = examples_from_jats(JATS_REFS, "PMC1")
    rng = random.Random(5)
    variants = [v for v in (restyled_variant(rendered, rng) for _ in range(40)) if v is not None]
    assert len({v.raw for v in variants}) >= 5  # several styles
    for v in variants:
        spans = {f["label"]: v.raw[f["start"] : f["end"]] for f in v.fields}
        assert spans["title:a"] == "The status of district heating" and spans["title:j"] == "Energy"
        assert spans["date"] == "2018" and spans["biblScope:vol"] == "164"
        assert "Lund" in spans["author"] and v.raw.startswith(spans["author"])
    assert any("'The status of district heating,'" in v.raw for v in variants)  # single-quoted titles
    # A reference without a journal title is not restyled.
    book = type(rendered)("b", "Smith J. A book. 2001.", [{"label": "author", "start": 0, "end": 8},
                                                          {"label": "title:m", "start": 9, "end": 15}])
    assert restyled_variant(book, rng) is None


def test_single_quotes_at_word_edges_are_quotes_apostrophes_are_not() -> None:
    from citelens.references.crf_features import _quote_tokens, featurize, tokenize

    raw = "K. Park, 'A realtime system for O'Brien's cars,' IEEE Trans., vol. 22, 2016."
    tokens = tokenize(raw)
    quotes = [tokens[i].start for i in sorted(_quote_tokens(raw, tokens))]
    assert quotes == [raw.index("'A"), raw.index(",'") + 1]
    feats = featurize(raw, tokens)
    inside = {tokens[i].text for i, f in enumerate(feats) if "in_quotes" in f}
    assert {"realtime", "Brien", "cars"} <= inside and "IEEE" not in inside
    # The quoted title is one chunk, apart from the author chunk; the year chunk is 0, the title before it.
    title = next(f for t, f in zip(tokens, feats, strict=True) if t.text == "realtime")
    year = next(f for t, f in zip(tokens, feats, strict=True) if t.text == "2016")
    assert year["ch_year"] == "0" and title["ch_year"] == "-3" and title["ch_chars"] == "60"


def test_field_markers_are_shared_across_scripts_and_chunk_edges_are_marked() -> None:
    from citelens.references.crf_features import featurize, tokenize

    raw = "최지수 (2019), 가짜뉴스 거버넌스, 사이버커뮤니케이션학보, 제36권 제1호, 127-180쪽."
    latin = "J. Kim (2019), Fake news, Cyber Commun. J., vol. 36, no. 1, pp. 127-180."
    by_word = {t.text: f for t, f in zip(tokenize(raw), featurize(raw, tokenize(raw)), strict=True)}
    latin_by_word = {t.text: f for t, f in zip(tokenize(latin), featurize(latin, tokenize(latin)), strict=True)}
    # 권 / 호 / 쪽 carry the same marker as vol / no / pp, and the number after 제 sees the ordinal before it.
    for korean, english in (("권", "vol"), ("호", "no"), ("쪽", "pp")):
        assert by_word[korean]["marker"] == latin_by_word[english]["marker"]
    assert by_word["36"]["-1:marker"] == "ord" and by_word["36"]["1:marker"] == "vol"
    # The two-word title chunk: first and last word marked, the one-word journal chunk is "only".
    assert by_word["가짜뉴스"]["ch_pos"] == "first" and by_word["거버넌스"]["ch_pos"] == "last"
    assert by_word["사이버커뮤니케이션학보"]["ch_pos"] == "only" and by_word["가짜뉴스"]["pp"] == ",|,"


def test_second_dev_fold_is_file_disjoint_and_leaves_test_alone() -> None:
    if not CORPUS.is_file():
        pytest.skip("shared data not present")
    from citelens.references.parser_train import load_examples, split_examples, swap_dev_fold

    train, dev, test = split_examples(load_examples(CORPUS))
    train2, dev2 = swap_dev_fold(train, dev, 2)
    assert sorted(e.raw for e in train2 + dev2) == sorted(e.raw for e in train + dev)  # test stays out
    assert not {e.source_file for e in train2} & {e.source_file for e in dev2}
    assert len(dev2) <= len(dev) and "citations.xml" not in {e.source_file for e in dev2}
    assert swap_dev_fold(train, dev, 1) == (train, dev)
    assert [e.raw for e in swap_dev_fold(train, dev, 2)[1]] == [e.raw for e in dev2]  # seeded


def _tagged(text: str, labels: list[str]) -> list[tuple[str, int, int, str]]:
    from citelens.references.crf_features import tokenize

    tokens = tokenize(text)
    assert len(tokens) == len(labels)
    return [(t.text, t.start, t.end, lab) for t, lab in zip(tokens, labels, strict=True)]


def test_quoted_title_runs_to_its_closing_quote() -> None:
    from citelens.references.parser import _repair_title_end

    text = 'TS 23.228: "IP Multimedia Subsystem (IMS); Stage 2".'
    labels = ["B-misc", "misc", "misc", "misc", "O", "O", "B-title", "title", "title", "title", "title", "title",
              "O", "B-journal", "B-volume", "O", "O"]
    repaired = [t[3] for t in _repair_title_end(text, _tagged(text, labels))]
    assert repaired[6:15] == ["B-title"] + ["title"] * 8
    assert repaired[15:] == ["O", "O"]  # the quote and the full stop stay outside
    # A title already ending at its quote, a title not opened by a quote and an apostrophe are left alone.
    done = 'Smith J, "Cells," Nature.'
    done_labels = ["B-author", "author", "O", "O", "B-title", "O", "O", "B-journal", "O"]
    assert _repair_title_end(done, _tagged(done, done_labels)) == _tagged(done, done_labels)
    plain = "Smith J. Cells of mice; Stage 2. Nature."
    plain_labels = ["B-author", "author", "O", "B-title", "title", "title", "O", "B-misc", "misc", "O", "B-journal", "O"]
    assert _repair_title_end(plain, _tagged(plain, plain_labels)) == _tagged(plain, plain_labels)
    apostrophe = "O'Brien J. Cells; Stage 2'. Nature."
    apostrophe_labels = ["B-author", "author", "author", "author", "O", "B-title", "O", "B-misc", "misc", "O", "O",
                         "B-journal", "O"]
    assert _repair_title_end(apostrophe, _tagged(apostrophe, apostrophe_labels)) == _tagged(apostrophe, apostrophe_labels)


def test_preprint_server_name_is_not_a_title() -> None:
    from citelens.references.parser import _without_non_title_runs

    assert _without_non_title_runs({"book": ["ArXiv e-prints"], "date": ["2017"]}) == {"date": ["2017"]}
    assert _without_non_title_runs({"title": ["arXiv preprint", "Cells"]}) == {"title": ["Cells"]}
    assert _without_non_title_runs({"title": ["On arXiv e-prints"]}) == {"title": ["On arXiv e-prints"]}


def test_recombined_variants_swap_title_and_journal_and_keep_every_label_on_its_text() -> None:
    import random

    from citelens.references.parser_train import Example, recombination_donors, recombined_variant

    raw = "Smith J. Cells of mice. J Biol 2003;12:1-9."
    ex = Example("a.xml", raw, [
        {"label": "author", "start": 0, "end": 8}, {"label": "title:a", "start": 9, "end": 22},
        {"label": "title:j", "start": 24, "end": 30}, {"label": "date", "start": 31, "end": 35},
        {"label": "biblScope:pp", "start": 39, "end": 42},
    ])
    other = Example("b.xml", "Kim. 한국어 제목, 서울법학 2018.", [
        {"label": "title:a", "start": 5, "end": 11}, {"label": "title:j", "start": 13, "end": 17},
    ])
    donors = recombination_donors([ex, other])
    variant = recombined_variant(ex, donors, random.Random(1))
    assert variant is not None and variant.raw == "Smith J. 한국어 제목. 서울법학 2003;12:1-9."
    spans = {f["label"]: variant.raw[f["start"] : f["end"]] for f in variant.fields}
    assert spans == {"author": "Smith J.", "title:a": "한국어 제목", "title:j": "서울법학", "date": "2003", "biblScope:pp": "1-9"}
    # Donors from the string's own file are never taken; a string with neither field is left alone.
    assert recombined_variant(ex, recombination_donors([ex]), random.Random(1)) is None
    assert recombined_variant(Example("c.xml", "x", []), donors, random.Random(1)) is None


def test_quoted_book_title_runs_to_its_closing_quote() -> None:
    from citelens.references.parser import _repair_title_end

    # A standard's or a report's title in quotes is labelled as a book: it too runs to its closing quote.
    text = 'TS 23.228: "IP Multimedia Subsystem (IMS); Stage 2".'
    labels = ["B-misc", "misc", "misc", "misc", "O", "O", "B-book", "book", "book", "book", "book", "book",
              "O", "B-volume", "O", "O", "O"]
    repaired = [t[3] for t in _repair_title_end(text, _tagged(text, labels))]
    assert repaired[6:15] == ["B-book"] + ["book"] * 8
    assert repaired[15:] == ["O", "O"]


def test_decimal_point_spaced_by_extraction_is_joined() -> None:
    from citelens.references.crf_features import normalise_spacing

    assert normalise_spacing("collisions at √ sNN = 2 . 76TeVwith ATLAS")[0] == "collisions at √ sNN = 2.76TeVwith ATLAS"
    raw = "√s NN = 2 .76TeV ,Phys .Lett .B 746"
    text, index = normalise_spacing(raw)
    assert text == "√s NN = 2.76TeV, Phys. Lett. B 746"
    assert all(raw[i] == ch for ch, i in zip(text, index, strict=True) if not ch.isspace())
    # A space after the stop only is print's own spacing: left as it is.
    assert normalise_spacing("Vol. 2. 76-80")[0] == "Vol. 2. 76-80"


def test_title_that_swallowed_the_journal_gives_it_back() -> None:
    from citelens.references.parser import _split_title_at_journal

    def split(text: str, labels: list[str]) -> list[str]:
        return [t[3] for t in _split_title_at_journal(text, _tagged(text, labels))]

    # Vancouver with a journal the model does not know: the title's last sentence is the journal.
    text = "Kim H. 보건소 환자 분석. 한국농촌의학.지역보건학회지. 2011;36(4):238-50."
    labels = ["B-author", "author", "O", "B-title", "title", "title", "title", "title", "title", "title", "O",
              "B-date", "O", "B-volume", "O", "B-issue", "O", "O", "B-pages", "pages", "pages", "O"]
    assert split(text, labels)[3:11] == ["B-title", "title", "title", "O", "B-journal", "journal", "journal", "O"]
    assert split(text, labels)[11:] == labels[11:]
    # Without a full stop inside, the last comma: "Title, Journal, 통권 (527), 19-24".
    text = "강민수(2012), 사회적 경제, 도시문제, 19-24."
    labels = ["B-author", "O", "B-date", "O", "O", "B-title", "title", "title", "title", "O", "B-pages", "pages",
              "pages", "O"]
    assert split(text, labels)[5:9] == ["B-title", "title", "O", "B-journal"]
    # A title opened by a quote ends at its closing quote; unlabelled "Vol." before the volume is passed over.
    text = "D. Lim, 'A Study of Value' Asia Journal of Art, Vol. 8, pp. 23-32."
    labels = ["B-author", "author", "author", "O", "O", "B-title"] + ["title"] * 9 + ["O", "O", "B-volume", "O",
              "O", "O", "B-pages", "pages", "pages", "O"]
    assert split(text, labels)[5:15] == ["B-title", "title", "title", "title", "O", "B-journal", "journal",
                                         "journal", "journal", "journal"]
    # Left alone: a journal elsewhere, a title not followed by volume/pages/date, a stop after an initial,
    # and a rest that starts in lower case (the title's own end).
    for text, labels in (
        ("Smith J. Cells. Mice. Nature 12:1.", ["B-author", "author", "O", "B-title", "title", "title", "O",
                                                "B-journal", "B-volume", "O", "B-pages", "O"]),
        ("Smith J. Cells. Mice. Wiley.", ["B-author", "author", "O", "B-title", "title", "title", "O",
                                          "B-publisher", "O"]),
        ("Smith J. Legacy of A. N. Kolmogorov 12:1.", ["B-author", "author", "O", "B-title", "title", "title",
                                                       "title", "title", "title", "title", "B-volume", "O",
                                                       "B-pages", "O"]),
        ("Smith J. Mycotoxins: animal health, welfare. 80 183-205.", ["B-author", "author", "O", "B-title", "title",
                                                                      "title", "title", "title", "title", "O",
                                                                      "B-volume", "B-pages", "pages", "pages", "O"]),
    ):
        assert split(text, labels) == labels


def test_short_title_taken_for_a_last_initials_first_author_goes_back() -> None:
    from citelens.references.parser import _repair_author_tail

    def repair(text: str, labels: list[str]) -> list[str]:
        return [t[3] for t in _repair_author_tail(_tagged(text, labels))]

    text = "S. B. Pope, Turbulent Flows, Cambridge Univ. Press (2000)."
    labels = ["B-author"] + ["author"] * 7 + ["O", "B-publisher", "publisher", "publisher", "publisher", "O",
                                               "B-date", "O", "O"]
    assert repair(text, labels)[6:9] == ["B-title", "title", "O"]
    assert repair(text, labels)[:6] == labels[:6] and repair(text, labels)[9:] == labels[9:]
    # Left alone: the piece is straight before the volume (a journal), a title present. Surname-first names
    # with the odd piece out: that piece is the title.
    journal = "J. D. Wilson, Boundary Meteorology, 78, 191-210 (1996)."
    journal_labels = ["B-author"] + ["author"] * 7 + ["O", "B-volume", "O", "B-pages", "pages", "pages", "O",
                                                       "B-date", "O", "O"]
    assert repair(journal, journal_labels) == journal_labels
    series = "U. Sci. Bull., Series C, Vol. 72, 2010."
    series_labels = ["B-author"] + ["author"] * 8 + ["O", "O", "O", "B-volume", "O", "B-date", "O"]
    assert repair(series, series_labels) == series_labels
    surname_first = "Pope, S. B., Turbulent Flows, Cambridge (2000)."
    surname_labels = ["B-author"] + ["author"] * 8 + ["O", "B-pubplace", "O", "B-date", "O", "O"]
    assert repair(surname_first, surname_labels)[7:11] == ["B-title", "title", "O", "B-pubplace"]
    # Surname-first: surnames and initials alternate, the odd piece out closed by a parenthesis is the title.
    text = "Jacobson, N., Lie Algebras (Wiley, 1962)."
    labels = ["B-author", "author", "author", "author", "author", "author", "author", "O", "B-publisher", "O",
              "B-date", "O", "O"]
    assert repair(text, labels)[:7] == ["B-author", "author", "author", "author", "author", "B-title", "title"]
    titled = "S. Pope, Flows, Turbulence, Wiley."
    titled_labels = ["B-author", "author", "author", "author", "author", "O", "B-title", "O", "B-publisher", "O"]
    assert repair(titled, titled_labels) == titled_labels


def test_unlabelled_words_between_authors_and_journal_are_the_title() -> None:
    from citelens.references.parser import _untagged_title_before_journal

    def fill(text: str, labels: list[str]) -> list[str]:
        return [t[3] for t in _untagged_title_before_journal(_tagged(text, labels))]

    text = "구자인. (2020). 왜 마을농업인가. 마을, 5, 15-27."
    labels = ["B-author", "O", "O", "B-date", "O", "O", "O", "O", "O", "B-journal", "O", "B-volume", "O",
              "B-pages", "pages", "pages", "O"]
    assert fill(text, labels)[6:10] == ["B-title", "title", "O", "B-journal"]
    # Left alone: a title already found, an "editors" label, a letter glued to the year.
    titled = "Kim J. Cells. Mice. Nature 5."
    titled_labels = ["B-author", "author", "O", "B-title", "O", "O", "O", "B-journal", "B-volume", "O"]
    assert fill(titled, titled_labels) == titled_labels
    editors = "Arnot G, editors. Croakey Health Media. 2023."
    editors_labels = ["B-author", "author", "O", "O", "O", "B-journal", "journal", "journal", "O", "B-date", "O"]
    assert fill(editors, editors_labels) == editors_labels
    glued = "Planck .2016g ,A&A ,596"
    glued_labels = ["B-author", "O", "B-date", "O", "O", "B-journal", "journal", "journal", "O", "B-volume"]
    assert fill(glued, glued_labels) == glued_labels


def test_surname_taken_for_the_title_start_goes_back_to_the_authors() -> None:
    from citelens.references.parser import _repair_title_head

    text = "A. Braverman, M. Finkelberg, Finite difference lattice, Transf. Groups 10 (2005)."
    labels = ["B-author", "author", "author", "author", "author", "author", "B-title", "title", "title", "title",
              "title", "O", "B-journal", "journal", "journal", "B-volume", "O", "B-date", "O", "O"]
    repaired = [t[3] for t in _repair_title_head(_tagged(text, labels))]
    assert repaired[6:11] == ["author", "O", "B-title", "title", "title"]
    # Surname-first lists keep the word after an initial in the title ("Yarom, A. Thermodynamics, gravity").
    text = "Yarom, A. Thermodynamics, gravity. J. Phys. 2 (2013)."
    labels = ["B-author", "author", "author", "author", "B-title", "title", "title", "O", "B-journal", "journal",
              "journal", "journal", "B-volume", "O", "B-date", "O", "O"]
    assert [t[3] for t in _repair_title_head(_tagged(text, labels))] == labels


def test_korean_author_list_gives_the_title_back() -> None:
    # A Korean name is one word: the first comma piece of two or more Hangul words is the title's start.
    from citelens.references.parser import _hangul_title_from_authors

    def repair(text: str, labels: list[str]) -> list[str]:
        return [t[3] for t in _hangul_title_from_authors(_tagged(text, labels))]

    text = "이찬희, 김영택, 부여 정림사지 추정, 지질학회지 43, 2007."
    labels = ["B-author"] + ["author"] * 6 + ["O", "B-journal", "B-volume", "O", "B-date", "O"]
    assert repair(text, labels)[:9] == ["B-author", "author", "author", "author", "B-title", "title", "title", "O",
                                        "B-journal"]
    # A title run just after (over punctuation) continues the one given back.
    text = "조은숙, 신체 자각(Body Awareness)의 상관성, 무용예술학연구, 2008."
    labels = ["B-author", "author", "author", "author", "O", "B-title", "title", "title", "title", "title", "O",
              "B-journal", "O", "B-date", "O"]
    assert repair(text, labels)[:7] == ["B-author", "author", "B-title", "title", "O", "title", "title"]
    # Left alone: names only ("외" is et al.), a Latin-script list, a piece of two non-Hangul words before.
    for text, labels in (
        ("김철수, 이영희 외, 연구, 학회지, 2001.", ["B-author"] + ["author"] * 3 + ["O", "B-title", "O", "B-journal",
                                                                     "O", "B-date", "O"]),
        ("Kim J, Lee Y, A title, J Biol.", ["B-author"] + ["author"] * 7 + ["O", "B-journal", "journal", "O"]),
        ("김철수, Lee Y, 부여 정림사지, 2007.", ["B-author"] + ["author"] * 6 + ["O", "B-date", "O"]),
    ):
        assert repair(text, labels) == labels


def test_cjk_title_starts_at_the_start_of_its_word() -> None:
    from citelens.references.parser import _glued_title_start

    def repair(text: str, labels: list[str]) -> list[str]:
        return [t[3] for t in _glued_title_start(_tagged(text, labels))]

    text = "박성섭, 1930년대 중후반 정책, 연구, 2017."
    labels = ["B-author", "O", "B-date", "B-title", "title", "title", "O", "B-journal", "O", "B-date", "O"]
    assert repair(text, labels)[2:4] == ["B-title", "title"]
    text = "김윤정, 고려말.조선초 배경, 石堂論叢55, 2013."
    labels = ["B-author", "author", "author", "O", "B-title", "title", "O", "B-journal", "B-volume", "O", "B-date",
              "O"]
    assert repair(text, labels)[2:5] == ["B-title", "title", "title"]
    # Latin titles and a CJK title after a space are left alone.
    latin = "Smith J.Cells of mice. Nature."
    latin_labels = ["B-author", "author", "O", "B-title", "title", "title", "O", "B-journal", "O"]
    assert repair(latin, latin_labels) == latin_labels
    spaced = "박성섭, 1930 중후반 정책, 2017."
    spaced_labels = ["B-author", "O", "B-date", "B-title", "title", "O", "B-date", "O"]
    assert repair(spaced, spaced_labels) == spaced_labels


def test_name_inside_a_title_stays_in_it() -> None:
    from citelens.references.parser import _author_inside_title

    text = "U. Frisch, Turbulence: The Legacy of A. N. Kolmogorov, Cambridge (1995)."
    labels = ["B-author", "author", "author", "O", "B-title", "title", "title", "title", "title", "author", "author",
              "author", "author", "author", "O", "B-publisher", "O", "B-date", "O", "O"]
    repaired = [t[3] for t in _author_inside_title(_tagged(text, labels))]
    assert repaired[9:15] == ["title"] * 5 + ["O"]
    # No authors before the title: the names after it are the authors.
    text = "Turbulence A. N. Kolmogorov, Cambridge."
    labels = ["B-title", "B-author", "author", "author", "author", "author", "O", "B-publisher", "O"]
    assert [t[3] for t in _author_inside_title(_tagged(text, labels))] == labels


def test_notes_and_collaborations_are_not_titles() -> None:
    from citelens.references.parser import _without_non_title_runs, build_reference

    assert _without_non_title_runs({"title": ["Ph.D. thesis, Tec. Univ. München"]}) == {}
    assert _without_non_title_runs({"title": ["Cells of mice", "PhD thesis, MIT"]}) == {"title": ["Cells of mice"]}
    assert _without_non_title_runs({"title": ["Thèse de Docteur-Ingénieur n° 2"]}) == {}
    assert _without_non_title_runs({"title": ["CMS collaboration, Jet energy in CMS"]}) == {"title": ["Jet energy in CMS"]}
    assert _without_non_title_runs({"title": ["HESS collaboration)"]}) == {}
    for kept in ("The collaboration curse", "Collisions and Collaborations", "A thesis on theses"):
        assert _without_non_title_runs({"title": [kept]}) == {"title": [kept]}
    for title, expected in (
        ("Statistical Physics: Part 1 [in Russian]", "Statistical Physics: Part 1"),
        ("Orbit tests (in Korean with English abstract)", "Orbit tests"),
        ("Regularization of wavelet approximations (with discussion)", "Regularization of wavelet approximations"),
        ("Proteins (in vivo)", "Proteins (in vivo)"),
    ):
        assert build_reference(title, {"title": [title]}).title == expected


@pytest.mark.parametrize(("printed", "doi"), [
    ("doi:10.1002/EC\nE3.1786 Ecology and Evolution", "10.1002/ece3.1786"),  # capitals with a digit close up
    ("doi:10.1002/ece3.1786\nEcology 12", "10.1002/ece3.1786"),  # a capitalised word does not
    ("10.1111/J.1365-\n2958.2009.06789.X", "10.1111/j.1365-2958.2009.06789.x"),
    ("10.1016/S1473-3099\n(11)70167-0. Epub 2011", "10.1016/s1473-3099(11)70167-0"),  # Lancet's brackets
    ("10.1000/xyz (2019) Nature", "10.1000/xyz"),  # a year in brackets is not part of it
    ("10.1371/journal.pone.0007948journal.pone.0007948", "10.1371/journal.pone.0007948"),  # printed twice over
    ("10.1371/journal.pone.0010864 20532246 108 10.1 1371/journal.pone.0010864", "10.1371/journal.pone.0010864"),
    ("10.1093/nar/gkw1099", "10.1093/nar/gkw1099"),  # a slash inside the suffix stays
])
def test_a_doi_broken_or_doubled_by_a_pdf_is_read_once_and_whole(printed: str, doi: str) -> None:
    """Dev PDFs of the reference check (benchmarks/bench_check.py): a PLOS PDF prints its reference DOIs as links
    whose hidden text lies under the visible text, a Lancet DOI breaks before "(11)", a DOI in capitals breaks
    inside a word. DOIs recovered of those printed in the dev PDFs: 0.967 → 0.985, precision 0.949 → 0.967."""
    from citelens.references.parser import normalise_doi

    assert normalise_doi(printed) == doi
