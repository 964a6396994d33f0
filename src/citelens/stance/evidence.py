"""The evidence phrase shown with a supporting / contrasting label: plain words of the citing sentence.

Users read it on report pages, in the API and in exports as "why this label", so it must be words that could
have driven the label, never noise. In order:

1. **Cue phrases** of the sentence that agree with the label: the feature lexicons' cues (``features._SUP`` /
   ``_CON``) and a few comparison phrases kept for display only (``_SUP_SHOWN`` / ``_CON_SHOWN``; the
   classifier's features, and so every label, do not see them). A cue that is a stem counts only where the
   sentence's word is that stem inflected ("reproduced", not "reproductive"); a cue with a negator just
   before it ("not entirely surprising") is shown, as those words, for the opposite label only.
2. Else **stand-ins** from the shipped linear model: the sentence's tokens that its features push clearly
   towards the label (the class weight minus the best other class's, ``drivers``), where the token is a
   comparison / agreement / result word of that label (``_SUP_WORDS`` / ``_CON_WORDS``), grown into a short
   phrase of the sentence's own words ("a similar observation was reported", not "similar; observation").
3. Else **nothing** (""): on the demo index most lone stand-ins were domain nouns and function words ("rural;
   who; tolerance", "mostly; mouse; ssc"), which tell a reader less than no evidence does. Every page, the API
   and the exports already show no evidence for mentioning statements.

The network itself is not explained: these are the words a reader can check against the sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from citelens.stance.base import StanceInput
from citelens.stance.features import (
    _CON,
    _NEGATORS,
    _SUP,
    _TOKEN,
    NEG_SCOPE,
    WINDOW,
    _alternation,
    is_negator,
    normalise,
)

# Drivers of a label: (feature string, its margin for the label), best first (LinearStanceClassifier.drivers).
Drivers = list[tuple[str, float]]

N_CUES = 3  # cue phrases shown at most
N_STAND_INS = 2  # stand-in phrases shown at most
MAX_WORDS = 4  # words in one stand-in phrase at most
# A stand-in seed's margin (class weight minus the best other class's weight, in logits; features are binary)
# must be at least this. On the demo index the comparison words that drove supporting labels sit at 1.4-9
# ("similar" 8.97, "support" 4.37, "findings" 3.17, "recently" 1.41); what lies below 1 is mostly
# function words and nouns of the topic ("a" 0.54, "mouse" 0.78, "previous" 1.00 in a contrasting label).
MIN_MARGIN = 1.2

# Comparison phrases the lexicons lack, shown as evidence only: adding them to ``_SUP`` / ``_CON`` would change
# the linear model's features and so every label. Read off the supporting statements without a cue of the demo
# index, of plos-starter and of 20 articles of pmc-oa ("was congruent with an estimate", "also revealed",
# "compares well to literature", "just like", "Paralleling previous findings", "resonates with previous
# literature", "as have others", "in conformity with").
_SUP_SHOWN = (
    "congruent with", "in correspondence with", "corresponds to", "correspond to",
    "corresponding to previous", "in concordance with", "in good agreement", "agreeing with", "compares well",
    "compare well", "compared well", "just like", "paralleling", "parallel to", "mirroring",
    "similarities with", "similarity with", "similarity to", "similar finding", "similar result",
    "similar observation", "similar effect", "similar pattern", "similar trend", "similar conclusion",
    "same as", "the same than", "identical to", "in conformity with", "shown previously", "match the",
    "matched the", "match those", "matched those", "match well", "reminiscent of", "resonates with",
    "resonates highly with", "echoing", "echoes", "in coherence with", "agree in part", "in parallel with",
    "mimics", "add weight", "adds weight", "affirmed", "affirms", "as have others", "already revealed",
    "already shown", "already reported", "already described", "also suggested", "has been observed",
    "have been observed", "reported previously", "reported earlier", "described before", "reported before",
    "shown before", "observed before", "as observed previously", "as previously suggested",
    "as previously proposed", "also revealed", "also showed", "also shown", "also demonstrated",
    "also described", "also noted", "also seen", "as previously demonstrated", "as previously shown",
    "as previously observed", "as previously found", "as previously described", "as shown previously",
    "as described previously", "as seen in previous", "as in previous", "in support of", "provide support",
    "provides support", "provided support", "supporting our", "supports our", "support our", "supporting the",
    "supports and complements", "generalizes", "generalises", "replicating", "likewise",
)
_CON_SHOWN = (
    "contrasts with", "contrasting with", "as opposed to", "on the contrary", "opposite", "dissimilar",
    "not in line with", "not similar", "departs from", "deviates from", "deviate from",
    "no significant difference", "not significantly different", "not reproduced", "not be reproduced",
    "not replicated", "not be replicated", "did not reproduce", "did not replicate", "disputed", "questioned",
    "controversial", "controversy", "lower compared to", "higher compared to", "concerns about",
)
_SUP_SHOWN_RX = re.compile(r"\b(" + _alternation(_SUP_SHOWN) + r")")
_CON_SHOWN_RX = re.compile(r"\b(" + _alternation(_CON_SHOWN) + r")")

# How the sentence's word may end where a cue ends inside a word: the lexicons hold stems ("reproduc",
# "corroborat", "differ"), matched without a word boundary after them. "reproductive", "differentiation",
# "unlikely" or "not associated" are other words and are not shown. Cues not listed take _ENDINGS.
_ENDINGS = ("", "s", "es", "d", "ed", "ing", "ly")
_CUE_ENDINGS: dict[str, tuple[str, ...]] = {
    "reproduc": ("e", "es", "ed", "ing", "ible", "ibility", "ibly"),  # not "reproductive" / "reproduction"
    "corroborat": ("e", "es", "ed", "ing", "ion", "ions", "ive"),
    # "differ", "differs", "difference(s)", "differently"; not "different" (on its own a plain adjective:
    # "these two types of evidence have different purposes"; "different from" is a cue of its own), nor
    # "differentiation" / "differential(ly)".
    "differ": ("", "s", "ed", "ing", "ence", "ences", "ently"),
    "discrepanc": ("y", "ies"),
    "confirm": ("", "s", "ed", "ing", "ation", "ations", "atory"),
    "contradict": ("", "s", "ed", "ing", "ion", "ions", "ory"),
    "replicate": ("", "s", "d"),  # not "replication" (of DNA, of cells)
    "unlike": ("",),  # not "unlikely"
    "not as": ("",),  # "not as high as", not "not associated" / "not assessed"
    "support the": ("", "se", "ir", "m"),
    "supports the": ("", "se", "ir", "m"),
    "disagree": ("", "s", "d", "ment", "ments"),
    "reinforce": ("", "s", "d", "ment"),
}
# Cues that are discourse markers rather than comparisons: a negator before them ("not only … but") does not
# turn them into evidence for the other label.
_NO_FLIP = frozenset({"but ", "however", "although", "whereas", "rather than", "however, we", "not as",
                      "not the case"})

_LETTERS = re.compile(r"[^\W\d_]*")
_HARD_GAP = re.compile(r"[,;:.()\[\]{}!?\"“”]")  # punctuation a phrase does not run across


def evidence(x: StanceInput, stance: str, drivers: Callable[[], Drivers] | None = None) -> str:
    """Why a supporting/contrasting label, as phrases of the citing sentence joined by "; " ("" when no phrase
    qualifies, and always for mentioning). ``drivers()`` gives the linear model's features of ``x`` with their
    margins for ``stance`` where the caller has them at hand (the cascade, from its stage 1); otherwise the
    newest linear model is run on ``x`` (only when there is no cue phrase, so it costs little)."""
    if stance not in ("supporting", "contrasting"):
        return ""
    text = normalise(x.text)
    found = _cue_evidence(text, stance)
    if found:
        return found
    return "; ".join(stand_ins(text, stance, (drivers or _linear_drivers(x, stance))()))


def _cue_evidence(text: str, stance: str) -> str:
    """The cue phrases of the (normalised) citing sentence that agree with ``stance`` ("" when none), in the
    sentence's order: the label's own lexicon cues not negated, and the other label's cues negated ("not
    entirely surprising"); only where there are none, the phrases kept for display (``_SUP_SHOWN``)."""
    lexicon, shown, other = (_SUP, _SUP_SHOWN_RX, _CON) if stance == "supporting" else (_CON, _CON_SHOWN_RX, _SUP)
    spans: list[tuple[int, int]] = []
    for rx in (lexicon, shown):
        for m in rx.finditer(text):
            end = _cue_end(text, m)
            if end and _negator_before(text, m.start(1)) is None:
                spans.append((m.start(1), end))
        if rx is lexicon:
            for m in other.finditer(text):
                neg = _negator_before(text, m.start(1))
                end = _cue_end(text, m)
                if neg is not None and end and m.group(1) not in _NO_FLIP and not text[m.start(1):end].startswith(
                        "difference"):  # "no difference in egg location" is a finding, not an agreement
                    spans.append((neg, end))
        if spans:
            break
    # Overlapping hits are one phrase ("in good agreement" + "agreement with": "in good agreement with").
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    found: list[str] = []
    for start, end in merged:
        phrase = " ".join(text[start:end].split())
        if phrase not in found:
            found.append(phrase)
    return "; ".join(found[:N_CUES])


def _cue_end(text: str, m: re.Match[str]) -> int:
    """Where the cue match ``m`` ends as the sentence's whole words, or 0 where the cue's stem ends inside
    another word ("reproduc" in "reproductive")."""
    cue = m.group(1)
    end = m.end(1)
    if not cue[-1].isalpha():
        return len(text[:end].rstrip())
    stop = _LETTERS.match(text, end).end()  # type: ignore[union-attr]  # "*" always matches
    return stop if text[end:stop] in _CUE_ENDINGS.get(cue, _ENDINGS) else 0


def _negator_before(text: str, start: int) -> int | None:
    """Where the negator sits that negates the cue starting at ``start`` (one of the NEG_SCOPE words before it,
    as the features' ``_negated`` reads it), or None. "Not only … support" negates nothing."""
    words = list(_TOKEN.finditer(text, max(0, start - 60), start))[-NEG_SCOPE:]
    for i, w in enumerate(words):
        if is_negator(w.group()):
            if w.group() == "not" and i + 1 < len(words) and words[i + 1].group() == "only":
                continue
            return w.start()
    return None


def _linear_drivers(x: StanceInput, stance: str) -> Callable[[], Drivers]:
    from citelens.stance.model import LinearStanceClassifier, model_available, newest_model_path

    if not model_available():
        return list
    # The newest linear model: trained on the most evidence.
    return lambda: LinearStanceClassifier(newest_model_path()).explain_drivers(x, stance)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that say why a statement supports / contrasts with the cited work, for a reader: comparison,
# agreement and "earlier result" words. A stand-in phrase must hold one (its seed). Words in _WEAK say so only
# with another of these words beside them ("also showed", "previous findings", "results support"; not
# "findings that different temporal", "observations from commercial" or a lone "also"; nor "support" in "low
# social support", "parallel" in "parallel flankers").
_SUP_WORDS = _wordset("""
similar similarly similarity similarities same likewise like consistent consistently agree agrees agreed
agreement accordance accord support supports supported supporting supportive confirm confirms confirmed
confirming confirmation corroborate corroborates corroborated corroborating replicate replicates replicated
reproduce reproduces reproduced reproducible parallel parallels paralleling mirror mirrors mirrored mirroring
congruent comparable compares compare compared correspond corresponds corresponding correspondence match
matches matched matching concordant concordance resemble resembles resembled resembling validate validates
validated validation verified verify generalizes generalises generalize extends extend complements complement
reinforce reinforces reinforced strengthen strengthens strengthened also previously previous prior earlier
recent recently reported described demonstrated shown showed found observed revealed noted results result
findings finding observation observations evidence expected predicted published study studies work
literature reports
""")
_CON_WORDS = _wordset("""
however but although though whereas unlike contrast contrasts contrasting contrary differ differs differed
differing difference differences differently opposite opposed inconsistent conflict conflicts conflicting
discrepancy discrepancies discrepant unexpected unexpectedly surprising surprisingly contradict contradicts
contradicted contradictory contradiction dispute disputed challenge challenges challenged question questioned
controversial not no failed fail fails lack lacked absence absent lower higher less more fewer greater smaller
larger longer shorter weaker stronger instead rather only neither nor cannot
""")
_WEAK = _wordset("""
also previously previous prior earlier recent recently reported described demonstrated shown showed found
observed revealed noted results result findings finding observation observations evidence expected predicted
like same not no lack absence absent lower higher less more fewer greater smaller larger longer shorter
weaker stronger only rather instead but though question published study studies work literature reports
support parallel complement complements match compare compares compared extend extends mirror accord
correspond corresponds consistently
""")
_RIGHT_FIRST = frozenset({"similar", "comparable", "same", "identical", "consistent", "congruent"})
# Words a phrase does not begin or end with ("who also showed a" reads as "also showed").
_EDGE = _wordset("""
a an the and or of in on at to by as for from with into than that this these those which who whom whose
it its their our his her they we he she is are was were be been being has have had can may e g i al et well
among between within under over across after before during about such also other
""")


def stand_ins(text: str, stance: str, drivers: Drivers) -> list[str]:
    """Phrases of the normalised sentence ``text`` around the tokens that the linear model's features push
    clearly towards ``stance`` (at most N_STAND_INS, strongest first; [] when none qualifies).

    A token's push is the largest margin of a feature of the citing sentence covering it (a word, a word pair,
    a word near the callout). A seed is a word of the label's vocabulary pushed at least MIN_MARGIN; its phrase
    grows over the neighbouring words (not across punctuation or a callout, none pushed against the label) up
    to MAX_WORDS, then loses function words at its ends. A phrase with a weak seed ("findings") and no other
    word of the vocabulary is dropped."""
    vocab = _SUP_WORDS if stance == "supporting" else _CON_WORDS
    toks = list(_TOKEN.finditer(text))
    words = ["_num_" if t.group()[0].isdecimal() else t.group() for t in toks]  # as the features spell them
    if not words:
        return []
    push = _token_push(words, drivers)
    barrier = [w[0] == "_" or w[0].isdecimal() for w in words]
    # gap[i]: punctuation between token i and i + 1 ends a phrase there.
    gap = [bool(_HARD_GAP.search(text, toks[i].end(), toks[i + 1].start())) for i in range(len(toks) - 1)]
    covered = [False] * len(words)
    out: list[tuple[float, str]] = []
    for i in sorted(range(len(words)), key=lambda j: -push[j]):
        if push[i] < MIN_MARGIN or len(out) == N_STAND_INS:
            break
        if covered[i] or barrier[i] or words[i] not in vocab:
            continue
        if words[i] == "also" and i and words[i - 1] == "but":  # "not only … but also": no agreement
            continue
        if words[i] not in _NEGATORS and _negator_before(text, toks[i].start()) is not None:
            continue  # "not consistent" says the opposite of "consistent"
        lo = hi = i
        while hi - lo + 1 < MAX_WORDS:
            left = lo > 0 and not gap[lo - 1] and not barrier[lo - 1] and not covered[lo - 1] and push[lo - 1] >= 0
            right = (hi + 1 < len(words) and not gap[hi] and not barrier[hi + 1] and not covered[hi + 1]
                     and push[hi + 1] >= 0)
            # A comparing adjective reads with the noun after it ("a similar role", not "also has a similar");
            # otherwise the neighbour that pushes harder towards the label comes first.
            if left and (not right or (words[i] not in _RIGHT_FIRST and push[lo - 1] > push[hi + 1])):
                lo -= 1
            elif right:
                hi += 1
            else:
                break
        while lo < i and words[lo] in _EDGE:
            lo += 1
        while hi > i and words[hi] in _EDGE:
            hi -= 1
        if words[i] in _WEAK and sum(w in vocab for w in words[lo:hi + 1]) < 2:
            continue
        for j in range(lo, hi + 1):
            covered[j] = True
        out.append((push[i], text[toks[lo].start():toks[hi].end()]))
    return [p for _, p in out]


def _token_push(words: list[str], drivers: Drivers) -> list[float]:
    """Per token of the sentence, the largest margin among the features of the sentence that cover it (0 where
    none does; negative where every feature covering it pushes against the label)."""
    push: list[float | None] = [None] * len(words)
    cite = words.index("_cite_") if "_cite_" in words else -1
    by_gram: dict[tuple[str, ...], list[int]] = {}
    for n in (1, 2):
        for i in range(len(words) - n + 1):
            by_gram.setdefault(tuple(words[i:i + n]), []).append(i)
    for feature, margin in drivers:
        group, _, rest = feature.partition(":")
        if group == "n":
            side, _, rest = rest.partition(":")
            lo, hi = (cite - WINDOW, cite) if side == "L" else (cite + 1, cite + 1 + WINDOW)
        elif group == "w":
            lo, hi = 0, len(words)
        else:  # neighbouring sentences, cues (shown by _cue_evidence), position, section, bias
            continue
        gram = tuple(rest.split(" "))
        for i in by_gram.get(gram, ()):
            if lo <= i and i + len(gram) <= hi:
                for j in range(i, i + len(gram)):
                    p = push[j]
                    push[j] = margin if p is None else max(p, margin)
    return [0.0 if p is None else p for p in push]
