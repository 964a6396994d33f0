"""The evidence phrase shown with a supporting / contrasting label: words of the sentence that drove it, or none.

Examples are sentences of the demo index (data/demo-corpus) whose evidence used to be noise ("mostly; mouse;
ssc", "reproductive") or pieces of a phrase ("similar; observation; was reported").
"""

from __future__ import annotations

from citelens.stance import StanceInput
from citelens.stance.evidence import stand_ins
from citelens.stance.features import normalise
from citelens.stance.onnx_model import evidence


def ev(text: str, stance: str = "supporting") -> str:
    return evidence(StanceInput(text), stance)


def test_cue_stems_count_only_as_their_own_words() -> None:
    # "reproduc" / "differ" / "unlike" are lexicon cues matched as stems; other words that begin with them are not
    # evidence (the demo showed "reproductive" for "… early during the reproductive period").
    assert "reproductive" not in ev("Gossypium is most sensitive to bud loss early during the reproductive period "
                                    "<cite>[22]</cite>.")
    assert ev("We reproduced the finding of <cite>[22]</cite>.") == "reproduced"
    assert ev("The effect was reproducible, as in <cite>[22]</cite>.") == "reproducible"
    assert "differentiation" not in ev("Cells stopped their differentiation as in <cite>[3]</cite>.", "contrasting")
    assert "unlikely" not in ev("It is unlikely that <cite>[3]</cite> measured it.", "contrasting")
    assert ev("Our estimates differ markedly from those of <cite>[22]</cite>.", "contrasting") == "differ"
    # "different" alone is an adjective ("different purposes"), not a disagreement; "different from" is a cue.
    assert ev("These two types of evidence have different purposes <cite>[22]</cite>.", "contrasting") == ""
    assert ev("Our estimate is different from that of <cite>[4]</cite>.", "contrasting") == "different from"
    assert ev("These data corroborated the model of <cite>[4]</cite>.") == "corroborated"
    # A callout number glued to the cue's last word is not carried on.
    assert ev("This has also been reported17 by <cite>Lee (2010)</cite>.") == "also been reported"


def test_negated_cues_count_for_the_other_label_only() -> None:
    text = "These findings are not consistent with <cite>[22]</cite>."
    assert ev(text, "contrasting") == "not consistent with"
    assert ev(text, "supporting") == ""  # never "consistent" for a sentence that says "not consistent"
    assert ev("Yet they are not entirely surprising given the projections<cite>15</cite>.") == "not entirely surprising"
    assert ev("This is not contradicting the findings of a previous study <cite>[22]</cite>.", "contrasting") == ""
    # "not only … support" negates nothing.
    assert ev("These results not only support the claim of diversity (Mathew et al., <cite>2013</cite>) but also "
              "imply a temporal dimension.") == "support the"
    # A finding of "no difference" is not evidence that the statement agrees with the cited work.
    assert ev("Our observation of no difference in egg location is in line with previous studies "
              "<cite>[18]</cite>.") == "in line with"


def test_comparison_phrases_the_lexicon_lacks_are_shown() -> None:
    assert ev("An estimate in PBMC was congruent with an estimate in lymphoblasts <cite>[3]</cite>, both recent "
              "studies finding that one quarter of transcripts are heritable.") == "congruent with"
    assert ev("The slope was 4.58 octaves/mm, which compares well to literature (4.08 octaves/mm<cite>24</cite>).") \
        == "compares well"
    assert ev("And just like we found in mice, silencing the sSC in rabbits attenuates LP<cite>43</cite>.") \
        == "just like"


def test_junk_stand_ins_give_no_evidence() -> None:
    # The linear model's strongest features here are "in", "mostly", "mouse", "ssc": none says why the statement
    # supports the cited work, and no evidence is better than those words.
    assert ev("Mouse sSC axons terminate mostly in the dLGN shell<cite>12</cite>.") == ""
    assert ev("Some studies (<cite>Defauw et al., 2014</cite>; Panfilov and Vasiev, 1991) show that spiral waves "
              "drift to regions where the action potential is longer than elsewhere.") == ""
    text = normalise("It dates from archeological findings of a cultural development in the Levant <cite>[21]</cite>.")
    # "findings" is a word of earlier results, but with topic nouns only ("archeological findings") it says nothing.
    assert stand_ins(text, "supporting", [("w:findings", 3.17), ("w:levant", 1.27)]) == []
    # Below the margin nothing is a seed, whatever the word.
    assert stand_ins(normalise("A similar role <cite>[5]</cite>."), "supporting", [("w:similar", 1.0)]) == []


def test_stand_ins_are_phrases_of_the_sentence() -> None:
    text = normalise("A similar observation was reported for one session of stimulation <cite>(Seeman, 2017)</cite>.")
    drivers = [("w:similar", 8.97), ("w:observation", 3.32), ("w:was reported", 2.92), ("w:a", 0.54),
               ("w:session", -0.4)]
    assert stand_ins(text, "supporting", drivers) == ["similar observation was reported"]
    # The real model, on a statement of the demo that has no cue phrase.
    assert ev("These results support previous studies, which suggest that navigation is impacted by the temporal "
              "pattern (Zimmer-Faust et al., <cite>1995</cite>).") == "results support previous studies"
    phrases = ev("A previous study demonstrated that killing one HSN did not markedly affect egg laying"
                 "<cite>17</cite>.").split("; ")
    assert phrases == ["study demonstrated"]


def test_mentioning_has_no_evidence() -> None:
    assert ev("Consistent with <cite>[4]</cite>, we found it.", "mentioning") == ""
