from __future__ import annotations

from citelens.statements.segment import split_sentences


def sentences(text: str, protected: list[tuple[int, int]] = ()) -> list[str]:  # type: ignore[assignment]
    return [text[s:e] for s, e in split_sentences(text, protected)]


def span(text: str, part: str) -> tuple[int, int]:
    i = text.index(part)
    return i, i + len(part)


def test_abbreviations_do_not_end_sentences() -> None:
    text = ("Smith et al. (2003) showed it. Fig. 3 shows e.g. the effect, i.e. a rise. "
            "Approx. 5 ml was used, cf. Table 2. The end.")
    assert sentences(text) == [
        "Smith et al. (2003) showed it.",
        "Fig. 3 shows e.g. the effect, i.e. a rise.",
        "Approx. 5 ml was used, cf. Table 2.",
        "The end.",
    ]


def test_decimals_species_and_initials() -> None:
    text = "Growth in E. coli and S. aureus stopped at 2.5 mM. J. Smith agreed. It was 0.05."
    assert sentences(text) == ["Growth in E. coli and S. aureus stopped at 2.5 mM.", "J. Smith agreed.", "It was 0.05."]


def test_callout_at_sentence_end_stays_with_its_sentence() -> None:
    text = "This was shown before.[3] Next we did it. Cells grew.12,13 Then they died. Last [4]. Done."
    prot = [span(text, "[3]"), span(text, "12"), span(text, "13"), span(text, "[4]")]
    assert sentences(text, prot) == [
        "This was shown before.[3]", "Next we did it.", "Cells grew.12,13", "Then they died.", "Last [4].", "Done.",
    ]


def test_never_splits_inside_a_callout() -> None:
    text = "As reported (Smith et al. 2003. Jones 2004) it works. Next."
    prot = [span(text, "(Smith et al. 2003. Jones 2004)")]
    assert sentences(text, prot) == ["As reported (Smith et al. 2003. Jones 2004) it works.", "Next."]


def test_glued_sentences_from_publisher_xml() -> None:
    text = "The test was significant at P<0.10.In this case we pooled [19].Otherwise we did not."
    assert sentences(text, [span(text, "[19]")]) == [
        "The test was significant at P<0.10.", "In this case we pooled [19].", "Otherwise we did not.",
    ]


def test_lowercase_continuation_and_empty_text() -> None:
    assert sentences("We used approx. five samples vs. ten.") == ["We used approx. five samples vs. ten."]
    assert split_sentences("") == []
    assert sentences("   ") == []


def test_overlapping_and_nested_callouts_are_never_cut() -> None:
    # Protected spans may overlap or nest; a boundary inside any of them is refused however far back it starts.
    text = "See [1. A]. Then [2. B. C. D]. End. Last."
    outer = span(text, "[2. B. C. D]")
    protected = [span(text, "[1. A]"), outer, (outer[0] + 1, outer[0] + 4), (outer[0] + 5, outer[1] - 1)]
    assert sentences(text, protected) == ["See [1. A].", "Then [2. B. C. D].", "End.", "Last."]
    long_one = (0, text.index(" End"))  # a span over the first two sentences' boundaries (the full stops)
    assert sentences(text, [long_one, span(text, "[1. A]")]) == ["See [1. A]. Then [2. B. C. D]. End.", "Last."]


def _callout_paragraph(n: int, words: str, callout: str, joint: str) -> tuple[str, list[tuple[int, int]]]:
    """``n`` pieces ``words.format(i) + callout.format(i) + joint`` and the callouts' spans."""
    parts, protected, pos = [], [], 0
    for i in range(n):
        w, c = words.format(i), callout.format(i)
        protected.append((pos + len(w), pos + len(w) + len(c)))
        parts.append(w + c + joint)
        pos += len(parts[-1])
    return "".join(parts), protected


def test_many_callouts_in_one_paragraph() -> None:
    # 20,000 sentences, each with its callout: every callout stays whole in its own sentence (this took seconds
    # when each candidate boundary scanned every callout before it).
    text, protected = _callout_paragraph(20_000, "Result {} agrees ", "[{}]", ". ")
    spans = split_sentences(text, protected)
    assert len(spans) == 20_000 and text[slice(*spans[-1])] == "Result 19999 agrees [19999]."


def test_sentences_longer_than_the_bound_are_cut_between_words_outside_callouts() -> None:
    from citelens.statements.segment import MAX_SENTENCE_CHARS, bounded_spans

    # One "sentence" of 3,000 callouts and no full stop (a table row run into a paragraph, or a hostile file).
    text, protected = _callout_paragraph(3000, "result {} ", "[{0}, see also {0}]", ", ")
    text = text.rstrip(", ")
    spans = bounded_spans(text, split_sentences(text, protected), protected)
    assert len(spans) > 1 and all(0 < e - s <= MAX_SENTENCE_CHARS for s, e in spans)
    assert all(text[s] != " " and text[e - 1] != " " for s, e in spans)
    assert " ".join(text[s:e] for s, e in spans) == text  # nothing lost, cut only at spaces
    starts_ends = {p for s, e in spans for p in (s, e)}
    assert not any(a < p < b for a, b in protected for p in starts_ends)  # no callout cut
    # A span within the bound is left as it is; text without spaces is cut anyway.
    assert bounded_spans("short one", [(0, 9)]) == [(0, 9)]
    assert bounded_spans("x" * 10_000, [(0, 10_000)]) == [(0, 4000), (4000, 8000), (8000, 10_000)]
    # A callout longer than the bound is cut at one of its own spaces (its statement keeps the part in its piece).
    giant = "see " + "[" + "1, " * 3000 + "2]"
    pieces = bounded_spans(giant, [(0, len(giant))], [(4, len(giant))])
    assert all(e - s <= MAX_SENTENCE_CHARS and giant[e - 1] == "," for s, e in pieces[:-1])
    assert " ".join(giant[s:e] for s, e in pieces) == giant


def test_superscript_callouts_closed_by_a_parenthesis_end_their_sentence() -> None:
    # Some journals print "<sup>100)</sup>": the sentence ends after the parenthesis, and the next one starts.
    text = "They were apathogenic for chickens.100) These findings suggested it.99,105) Done."
    prot = [span(text, "100"), span(text, "99"), span(text, "105")]
    assert sentences(text, prot) == [
        "They were apathogenic for chickens.100)", "These findings suggested it.99,105)", "Done.",
    ]


def test_a_parenthetical_citation_after_etc_stays_with_its_sentence() -> None:
    text = "It drives the serve (speed, accuracy, etc.) (Girard et al., 2010; Elliott, 2006). High quality serves."
    prot = [span(text, "Girard et al., 2010"), span(text, "Elliott, 2006")]
    assert sentences(text, prot) == [
        "It drives the serve (speed, accuracy, etc.) (Girard et al., 2010; Elliott, 2006).", "High quality serves.",
    ]
    # A bracket that starts a new sentence (it is not followed by the sentence's end) still does.
    text2 = "As was shown before. (Smith 2003) Later work agreed."
    assert sentences(text2, [span(text2, "Smith 2003")]) == ["As was shown before.", "(Smith 2003) Later work agreed."]


def test_single_letter_before_a_sentence_opener_and_greek_openers() -> None:
    text = ("We kept the defaults for v and S. The parameter was unknown. It depends on the B value. "
            "δ15N values above +6 are preferred. J. Smith and S. aureus stay.")
    assert sentences(text) == [
        "We kept the defaults for v and S.", "The parameter was unknown.", "It depends on the B value.",
        "δ15N values above +6 are preferred.", "J. Smith and S. aureus stay.",
    ]
    # Initials before names, and a middle initial, are no boundary.
    assert sentences("As J. A. Smith and E. Coli Ltd. found.") == ["As J. A. Smith and E. Coli Ltd. found."]
