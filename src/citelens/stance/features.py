"""Feature extraction shared by training and the runtime predictor.

One pure-Python function turns a :class:`StanceInput` into a list of string features. Training builds a
vocabulary over those strings and fits a linear model; the runtime looks the same strings up in the shipped
vocabulary. Because both sides call this exact function there is no train/serve skew, and the runtime needs
neither scikit-learn nor any tokenizer package.

Feature groups (the prefix names the group, and the model card explains them). Character n-grams were
tried and dropped: they tripled the vocabulary and did not help on the dev splits (model card).
  ``w:``  word uni/bi-grams of the citing sentence, target callout as ``_cite_``, other callouts ``_ocit_``
  ``n:``  words within a few tokens of the target callout (where stance cues cluster), with side L/R
  ``b:``/``a:``  word unigrams of the previous / next sentence (their bigrams did not help on dev)
  ``pos:`` where the target callout sits in the sentence (start / middle / end)
  ``cue:`` cue-lexicon hits from the baseline's lists, crossed with own-work markers and position; from version 5
          a hit with a negator just before it is ``sup~neg`` / ``con~neg`` instead
  ``sec:`` the section, coarsened to intro / methods / results / discussion / other
"""

from __future__ import annotations

import re
from functools import lru_cache

from citelens.stance.base import StanceInput
from citelens.stance.cues import CONTRASTING_CUES, OWN_WORK_CUES, SUPPORTING_CUES

FEATURE_VERSION = 5  # bump when the output of ``extract`` changes; the artefact records it
# Versions ``extract`` can still produce: an artefact is scored with the features it was trained on, so a
# shipped older model (linear-v2 uses 4) keeps working after a feature change.
SUPPORTED_FEATURE_VERSIONS = (4, 5)

_CITE_SPAN = re.compile(r"<cite>.*?</cite>", re.S)
_CITE_TAG = re.compile(r"</?cite>")
# Other (non-target) callouts: numeric brackets "[3]", "[3–5, 7]" and author–year parentheses.
_NUM_CALLOUT = re.compile(r"\[\s*\d+(?:\s*[,;–\-]\s*\d+)*\s*\]")
_AY_CALLOUT = re.compile(r"\(([^()]*?\b(?:19|20)\d\d[a-z]?)\)")
_AY_INLINE = re.compile(r"\b[A-Z][A-Za-z'\-]+(?: et al\.?| and [A-Z][A-Za-z'\-]+)?,? \(?(?:19|20)\d\d[a-z]?\)?")
_TOKEN = re.compile(r"_cite_|_ocit_|[a-z]+(?:'[a-z]+)?|\d+(?:\.\d+)?")

# The baseline's lexicons plus phrasings seen in the guidelines and in training-split errors. The model
# learns a weight per hit, so an over-broad cue costs little; a missing one cannot be learnt from 38 examples.
EXTRA_SUPPORTING = (
    "in agreement", "agreement with", "consistent with", "corroborat", "reproduc", "concordant", "accord with",
    "also been reported", "also been observed", "also been shown", "as predicted", "mirrors", "resembles",
    "also recognized", "also identified", "also detected", "previously reported", "previously observed",
    "validate", "reinforce", "strengthen", "further support", "lend support", "is supported by",
)
EXTRA_CONTRASTING = (
    "at variance", "in conflict", "conflicting", "discordant", "contrary", "opposition", "incorrect",
    "casts doubt", "cast doubt", "does not reconcile", "not reconcile", "did not detect", "not detected",
    "no evidence", "not observed", "not found", "not replicate", "failed to replicate", "not support",
    "lower than", "higher than", "larger than", "smaller than", "longer than", "shorter than", "rather than",
    "in contrast", "by contrast", "contradictory", "discrepanc", "differ", "unexpected", "surprising",
    "however", "although", "but ", "not the case", "not as", "disagree", "refute", "challenge",
)
EXTRA_OWN = (
    "our data", "our results", "our findings", "our study", "our analysis", "our model", "our observation",
    "we found", "we observed", "we find", "we observe", "we show", "we detected", "present study",
    "current study", "current results", "here we", "in this study", "this study", "our reanalysis",
)


def _alternation(phrases: tuple[str, ...]) -> str:
    """A regex alternation of ``phrases`` that finds the same match as ``"|".join(phrases)``, faster.

    ``re`` tries a flat alternation's ~100 literals one by one at every word boundary; grouped by first
    character, only one group can match at a position and it keeps the list order, so the first phrase that
    matches is the same one (checked on 35,016 sentences: identical hits). Cue matching took ~60 % of stage 1's
    feature time; this makes it ~2.5x faster.
    """
    by_first: dict[str, list[str]] = {}
    for phrase in phrases:
        by_first.setdefault(phrase[0], []).append(phrase)
    return "|".join(
        re.escape(first) + "(?:" + "|".join(re.escape(p[1:]) for p in group) + ")"
        for first, group in by_first.items()
    )


_SUP = re.compile(r"\b(" + _alternation(SUPPORTING_CUES + EXTRA_SUPPORTING) + r")")
_CON = re.compile(r"\b(" + _alternation(CONTRASTING_CUES + EXTRA_CONTRASTING) + r")")
_OWN = re.compile(r"\b(" + _alternation(OWN_WORK_CUES + EXTRA_OWN) + r")")
_NEG = re.compile(r"\b(not|no|neither|nor|never|cannot|n't|failed|absence|lack)\b")
# Version 5: a cue with a negator just before it ("not consistent with", "do not agree", "could not reproduce")
# is its own feature (``sup~neg``), no longer a hit of its list. Version 4 only knew whether the sentence held a
# negation anywhere, and the linear model read "which is not consistent with the findings of [32]" as
# supporting (0.8) — the error users meet first. NegEx-style scope: a few tokens before the cue.
_NEGATORS = frozenset(("not", "no", "never", "neither", "nor", "cannot", "failed", "fail", "fails", "unable",
                       "without", "hardly"))
NEG_SCOPE = 3  # tokens before a cue in which a negator negates it ("not be fully consistent with")

WINDOW = 6  # tokens either side of the target callout


def section_bucket(section: str) -> str:
    s = section.lower()
    if not s:
        return "none"
    for key, words in (
        ("discussion", ("discussion", "conclusion", "comparison", "limitation", "interpretation")),
        ("results", ("result", "finding", "experiment", "evaluation", "analysis")),
        ("methods", ("method", "material", "procedure", "protocol", "implementation", "setup", "data")),
        ("intro", ("introduction", "background", "related", "overview", "motivation")),
    ):
        if any(w in s for w in words):
            return key
    return "other"


def normalise(text: str) -> str:
    """Lower-case text with the target callout as ``_cite_`` and other callouts as ``_ocit_``."""
    text = _CITE_SPAN.sub(" _cite_ ", text)
    text = _NUM_CALLOUT.sub(" _ocit_ ", text)
    text = _AY_CALLOUT.sub(" _ocit_ ", text)
    text = _AY_INLINE.sub(" _ocit_ ", text)
    return text.lower()


def tokens(text: str) -> list[str]:
    # ``isdecimal`` is what ``\d`` matches in a str pattern (Unicode Nd), at a third of a regex match's cost.
    return ["_num_" if t[0].isdecimal() else t for t in _TOKEN.findall(text)]


def _ngrams(prefix: str, toks: list[str], out: list[str], n_max: int = 2) -> None:
    out.extend(prefix + t for t in toks)
    if n_max >= 2:
        out.extend(f"{prefix}{a} {b}" for a, b in zip(toks, toks[1:], strict=False))


def _negated(words: list[str], start: int) -> bool:
    """True when one of the NEG_SCOPE tokens before token ``start`` negates what follows."""
    return any(w in _NEGATORS or w.endswith("n't") for w in words[max(0, start - NEG_SCOPE):start])


def _cue_features(prefix: str, plain: str, out: list[str], version: int = FEATURE_VERSION) -> None:
    own = bool(_OWN.search(plain))
    neg = bool(_NEG.search(plain))
    if own:
        out.append(prefix + "own")
    words = plain.split(" ") if version >= 5 else []
    for name, rx in (("sup", _SUP), ("con", _CON)):
        if version < 5:
            hits = rx.findall(plain)
            negated: list[str] = []
        else:
            hits, negated = [], []
            for m in rx.finditer(plain):
                # ``plain`` is tokens joined by single spaces and every cue starts at a word boundary, so the
                # spaces before a hit count the tokens before it.
                (negated if _negated(words, plain.count(" ", 0, m.start())) else hits).append(m.group(1))
        if hits:
            out.append(f"{prefix}{name}")
            out.append(f"{prefix}{name}&own={own}")
            out.append(f"{prefix}{name}&neg={neg}")
            out.extend(f"{prefix}{name}:{h}" for h in set(hits))
        if negated:
            out.append(f"{prefix}{name}~neg")
            out.append(f"{prefix}{name}~neg&own={own}")
            out.extend(f"{prefix}{name}:{h}~neg" for h in set(negated))


@lru_cache(maxsize=8192)
def _neighbour_features(side: str, text: str, version: int = FEATURE_VERSION) -> tuple[str, ...]:
    """Unigrams and cue hits of a neighbouring sentence (``side`` "b" before, "a" after).

    Cached because one sentence is the neighbour of every statement in the sentences beside it, and a sentence
    citing five works gives five statements with the same neighbours: on PLOS articles this halves stage 1's
    feature time (benchmarks/bench_stance.py --speed-only)."""
    toks = tokens(normalise(text))
    out: list[str] = []
    _ngrams(side + ":", toks, out, n_max=1)
    _cue_features(side + "cue:", " ".join(toks), out, version)
    return tuple(out)


def extract(x: StanceInput, version: int = FEATURE_VERSION) -> list[str]:
    """All string features of one statement (duplicates allowed; the vectoriser treats them as binary).

    ``version`` is the feature version an artefact was trained with (SUPPORTED_FEATURE_VERSIONS)."""
    if version not in SUPPORTED_FEATURE_VERSIONS:
        raise ValueError(f"feature version {version} is not one of {SUPPORTED_FEATURE_VERSIONS}")
    norm = normalise(x.text)
    toks = tokens(norm)
    feats: list[str] = []
    _ngrams("w:", toks, feats)
    if "_cite_" in toks:
        i = toks.index("_cite_")
        left = toks[max(0, i - WINDOW):i]
        right = toks[i + 1:i + 1 + WINDOW]
        feats.extend("n:L:" + t for t in left)
        feats.extend("n:R:" + t for t in right)
        feats.extend(f"n:L:{a} {b}" for a, b in zip(left, left[1:], strict=False))
        feats.extend(f"n:R:{a} {b}" for a, b in zip(right, right[1:], strict=False))
        feats.append("pos:" + ("start" if i < 3 else "end" if i >= len(toks) - 3 else "mid"))
    else:
        feats.append("pos:nocite")
    plain = " ".join(t for t in toks if t != "_ocit_")
    _cue_features("cue:", plain, feats, version)
    if x.before:
        feats.extend(_neighbour_features("b", x.before, version))
    if x.after:
        feats.extend(_neighbour_features("a", x.after, version))
    feats.append("sec:" + section_bucket(x.section))
    feats.append("bias")
    return feats


# Words that carry weight in the model but explain nothing to a reader ("to", "and", "[ref]"): they are
# never shown as evidence on their own.
_SHOW_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "by", "can", "for", "from", "has", "have", "in", "into", "is", "it", "its", "of", "on", "or", "that", "the", "their", "these", "this", "those", "to", "was", "were", "which", "with", "_cite_", "_ocit_", "_num_"]
)


@lru_cache(maxsize=262_144)  # pure, and asked for the same few thousand features over and over
def evidence_phrase(feature: str) -> str | None:
    """Human-readable text of a feature, or None for features that should not be shown as evidence."""
    group, _, rest = feature.partition(":")
    if group in ("cue", "bcue", "acue"):
        where = {"bcue": "(previous sentence) ", "acue": "(next sentence) "}.get(group, "")
        if ":" not in rest:
            return None
        phrase = rest.partition(":")[2]
        # A negated cue (feature version 5) reads as what the sentence says: "not … consistent with".
        return where + ("not … " + phrase.removesuffix("~neg") if phrase.endswith("~neg") else phrase)
    if group == "n":
        rest = rest.partition(":")[2]
    elif group not in ("w", "b", "a"):
        return None
    words = rest.split(" ")
    if all(w in _SHOW_STOP for w in words):
        return None
    text = rest.replace("_cite_", "[cited]").replace("_ocit_", "[ref]").replace("_num_", "N")
    # Neighbour-sentence features say where they come from, so a reader can find them.
    return {"b": "(previous sentence) ", "a": "(next sentence) "}.get(group, "") + text
