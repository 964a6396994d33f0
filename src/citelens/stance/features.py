"""Feature extraction shared by training and the runtime predictor.

One pure-Python function turns a :class:`StanceInput` into a list of string features. Training builds a
vocabulary over those strings and fits a linear model; the runtime looks the same strings up in the shipped
vocabulary. Because both sides call this exact function there is no train/serve skew, and the runtime needs
neither scikit-learn nor any tokenizer package.

Feature groups (the prefix names the group, and the model card explains them). Character n-grams were
tried and dropped: they tripled the vocabulary and did not help on the dev splits (model card).
  ``w:``  word uni/bi-grams of the citing sentence, target callout as ``_cite_``, other callouts ``_ocit_``
  ``n:``  words within a few tokens of the target callout (where stance cues cluster), with side L/R
  ``b:``/``a:``  word unigrams and bigrams of the previous / next sentence
  ``pos:`` where the target callout sits in the sentence (start / middle / end)
  ``cue:`` cue-lexicon hits from the baseline's lists, crossed with own-work markers and position
  ``sec:`` the section, coarsened to intro / methods / results / discussion / other
"""

from __future__ import annotations

import re

from citelens.stance.base import StanceInput
from citelens.stance.cues import CONTRASTING_CUES, OWN_WORK_CUES, SUPPORTING_CUES

FEATURE_VERSION = 1  # bump when the output of ``extract`` changes; the artefact records it

_CITE_SPAN = re.compile(r"<cite>.*?</cite>", re.S)
_CITE_TAG = re.compile(r"</?cite>")
# Other (non-target) callouts: numeric brackets "[3]", "[3–5, 7]" and author–year parentheses.
_NUM_CALLOUT = re.compile(r"\[\s*\d+(?:\s*[,;–\-]\s*\d+)*\s*\]")
_AY_CALLOUT = re.compile(r"\(([^()]*?\b(?:19|20)\d\d[a-z]?)\)")
_AY_INLINE = re.compile(r"\b[A-Z][A-Za-z'\-]+(?: et al\.?| and [A-Z][A-Za-z'\-]+)?,? \(?(?:19|20)\d\d[a-z]?\)?")
_TOKEN = re.compile(r"_cite_|_ocit_|[a-z]+(?:'[a-z]+)?|\d+(?:\.\d+)?")
_NUM = re.compile(r"^\d")

_SUP = re.compile(r"\b(" + "|".join(re.escape(c) for c in SUPPORTING_CUES) + r")\b")
_CON = re.compile(r"\b(" + "|".join(re.escape(c) for c in CONTRASTING_CUES) + r")\b")
_OWN = re.compile(r"(\b" + r"|\b".join(re.escape(c) for c in OWN_WORK_CUES) + r")")
_NEG = re.compile(r"\b(not|no|neither|nor|never|cannot|n't|failed|absence|lack)\b")

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
    return ["_num_" if _NUM.match(t) else t for t in _TOKEN.findall(text)]


def _ngrams(prefix: str, toks: list[str], out: list[str], n_max: int = 2) -> None:
    out.extend(prefix + t for t in toks)
    if n_max >= 2:
        out.extend(f"{prefix}{a} {b}" for a, b in zip(toks, toks[1:], strict=False))


def _cue_features(prefix: str, plain: str, out: list[str]) -> None:
    own = bool(_OWN.search(plain))
    neg = bool(_NEG.search(plain))
    if own:
        out.append(prefix + "own")
    for name, rx in (("sup", _SUP), ("con", _CON)):
        hits = rx.findall(plain)
        if hits:
            out.append(f"{prefix}{name}")
            out.append(f"{prefix}{name}&own={own}")
            out.append(f"{prefix}{name}&neg={neg}")
            out.extend(f"{prefix}{name}:{h}" for h in set(hits))


def extract(x: StanceInput) -> list[str]:
    """All string features of one statement (duplicates allowed; the vectoriser treats them as binary)."""
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
    _cue_features("cue:", plain, feats)
    if x.before:
        btoks = tokens(normalise(x.before))
        _ngrams("b:", btoks, feats)
        _cue_features("bcue:", " ".join(btoks), feats)
    if x.after:
        atoks = tokens(normalise(x.after))
        _ngrams("a:", atoks, feats)
        _cue_features("acue:", " ".join(atoks), feats)
    feats.append("sec:" + section_bucket(x.section))
    feats.append("bias")
    return feats


def evidence_phrase(feature: str) -> str | None:
    """Human-readable text of a feature, or None for features that should not be shown as evidence."""
    group, _, rest = feature.partition(":")
    if group in ("w", "b", "a"):
        return rest.replace("_cite_", "[cited]").replace("_ocit_", "[ref]").replace("_num_", "N")
    if group == "n":
        return rest.partition(":")[2].replace("_cite_", "[cited]").replace("_ocit_", "[ref]")
    if group in ("cue", "bcue", "acue") and ":" in rest:
        return rest.partition(":")[2]
    return None
