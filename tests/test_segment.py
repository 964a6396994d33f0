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
