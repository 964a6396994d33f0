"""Superscript callouts read as superscripts on the cards.

Nature-style articles print their citations as superscript numbers; the stored sentence keeps them as plain digits,
and a card read "more spatial summation for lower contrast stimuli48,49." — one number glued to a word (18 % of the
demo's statements). The cards now set each group of numeric callouts that follows a word without a space as
superscript, using the stored offsets of every callout in the sentence and its neighbours, so a gene name ("Sox2")
or an area ("V1") in running text never is.
"""

from __future__ import annotations

from citelens.web.render import callout_markup, highlight_callout, neighbour_markup


def test_a_glued_callout_group_is_a_superscript_with_the_own_callout_marked() -> None:
    text = "more summation for lower contrast stimuli48,49."
    a = text.index("48")
    html = str(callout_markup(text, [(a, a + 2), (a + 3, a + 5)], (a, a + 2)))
    assert html == ('more summation for lower contrast stimuli<sup class="callouts"><mark class="callout">48</mark>,49'
                    '</sup>.')


def test_a_group_with_spaces_and_ranges_is_one_superscript() -> None:
    text = "in behaviour1, 2, 5–9. Next"
    spans = [(12, 13), (15, 16), (18, 21)]
    html = str(callout_markup(text, spans, (15, 16)))
    assert html == 'in behaviour<sup class="callouts">1, <mark class="callout">2</mark>, 5–9</sup>. Next'


def test_bracketed_spaced_and_author_year_callouts_stay_inline() -> None:
    text = "loss of vigor [3-5] and (Stam, 2014) and cells 12 here."
    spans = [(15, 16), (17, 18), (25, 35), (48, 50)]
    html = str(callout_markup(text, spans, (15, 16)))
    assert "<sup" not in html and '<mark class="callout">3</mark>' in html


def test_numbers_that_are_not_stored_callouts_are_never_superscript() -> None:
    text = "Sox2 and V1 neurons express CD4 [7]."
    a = text.index("7")
    html = str(callout_markup(text, [(a, a + 1)], (a, a + 1)))
    assert "<sup" not in html and "Sox2" in html and "CD4" in html


def test_every_piece_is_escaped_and_bad_offsets_are_ignored() -> None:
    text = "<script>x</script>12"
    html = str(callout_markup(text, [(18, 20), (30, 40), (5, 2)], (18, 20)))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.endswith('<sup class="callouts"><mark class="callout">12</mark></sup>')
    assert str(callout_markup("", [(0, 3)], None)) == ""


def test_statement_dicts_without_spans_still_mark_their_own_callout() -> None:
    st = {"sentence": "in response to light2–4.", "callout_start": 20, "callout_end": 23, "before": "A b.",
          "after": "Next sentence9."}
    assert str(highlight_callout(st)) == 'in response to light<sup class="callouts"><mark class="callout">2–4</mark></sup>.'
    # Without stored offsets the neighbours' numbers are left as they are (no guessing).
    assert str(neighbour_markup(st, 1)) == "Next sentence9."
    st["callout_spans"] = {1: [(13, 14)]}
    assert str(neighbour_markup(st, 1)) == 'Next sentence<sup class="callouts">9</sup>.'
