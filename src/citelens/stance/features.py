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
# Matches wherever one of the three lists does (and only there): the prefilter of ``_cue_hits``.
_ANY_CUE = re.compile(r"\b(?:" + _alternation(SUPPORTING_CUES + EXTRA_SUPPORTING + CONTRASTING_CUES
                                              + EXTRA_CONTRASTING + OWN_WORK_CUES + EXTRA_OWN) + r")")
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
    if "(" in text:
        text = _AY_CALLOUT.sub(" _ocit_ ", text)
    # An inline author–year callout holds " 19xx", " 20xx", " (19xx" or " (20xx"; 96 % of plos-starter's
    # sentences have none, and testing for those first costs a fifth of the regex's scan (1.3 µs against 5.7).
    if " 19" in text or " 20" in text or " (19" in text or " (20" in text:
        text = _AY_INLINE.sub(" _ocit_ ", text)
    return text.lower()


def tokens(text: str) -> list[str]:
    # ``isdecimal`` is what ``\d`` matches in a str pattern (Unicode Nd), at a third of a regex match's cost.
    return ["_num_" if t[0].isdecimal() else t for t in _TOKEN.findall(text)]


def _ngrams(prefix: str, toks: list[str], out: list[str], n_max: int = 2) -> None:
    out.extend(prefix + t for t in toks)
    if n_max >= 2:
        out.extend(f"{prefix}{a} {b}" for a, b in zip(toks, toks[1:], strict=False))


def is_negator(word: str) -> bool:
    """A token that negates a cue within NEG_SCOPE tokens after it ("not", "failed", "don't")."""
    return word in _NEGATORS or word.endswith("n't")


def _negated(words: list[str], start: int) -> bool:
    """True when one of the NEG_SCOPE tokens before token ``start`` negates what follows."""
    return any(map(is_negator, words[max(0, start - NEG_SCOPE):start]))


# What the cue lexicons found in one text: (own-work marker?, negation anywhere? (only looked for, and only
# used, when there is a hit), ((list name, hits, negated hits), ...)). Kept apart from the strings it becomes
# so that FeatureIndexer can reuse it.
CueHits = tuple[bool, bool, tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]]


def _cue_hits(plain: str, version: int = FEATURE_VERSION) -> CueHits:
    # One scan for a cue of any list first: two sentences in three hold none (plos-starter), and for them this
    # replaces the three scans (3.7 µs against ~13). Where one does, no list can match before it, and the lists'
    # scans start there (``\b`` still sees the character before ``pos``): the same matches.
    first = _ANY_CUE.search(plain)
    if first is None:
        return False, False, (("sup", (), ()), ("con", (), ()))
    start = first.start()
    own = bool(_OWN.search(plain, start))
    words: list[str] | None = None
    found = []
    for name, rx in (("sup", _SUP), ("con", _CON)):
        if version < 5:
            hits = rx.findall(plain, start)
            negated: list[str] = []
        else:
            hits, negated = [], []
            for m in rx.finditer(plain, start):
                if words is None:
                    words = plain.split(" ")
                # ``plain`` is tokens joined by single spaces and every cue starts at a word boundary, so the
                # spaces before a hit count the tokens before it.
                (negated if _negated(words, plain.count(" ", 0, m.start())) else hits).append(m.group(1))
        found.append((name, tuple(hits), tuple(negated)))
    # Negation anywhere in the sentence only qualifies a (non-negated) hit; three sentences in four have none,
    # and skipping the search for them saves ~3 µs each (as splitting ``plain`` only once there is a hit does).
    neg = any(hits for _, hits, _ in found) and bool(_NEG.search(plain))
    return own, neg, tuple(found)


def _cue_strings(prefix: str, cues: CueHits, out: list[str]) -> None:
    own, neg, found = cues
    if own:
        out.append(prefix + "own")
    for name, hits, negated in found:
        if hits:
            out.append(f"{prefix}{name}")
            out.append(f"{prefix}{name}&own={own}")
            out.append(f"{prefix}{name}&neg={neg}")
            out.extend(f"{prefix}{name}:{h}" for h in set(hits))
        if negated:
            out.append(f"{prefix}{name}~neg")
            out.append(f"{prefix}{name}~neg&own={own}")
            out.extend(f"{prefix}{name}:{h}~neg" for h in set(negated))


def _cue_features(prefix: str, plain: str, out: list[str], version: int = FEATURE_VERSION) -> None:
    _cue_strings(prefix, _cue_hits(plain, version), out)


@lru_cache(maxsize=2048)
def _neighbour_parts(text: str, version: int = FEATURE_VERSION) -> tuple[tuple[str, ...], CueHits]:
    """Tokens and cue hits of a neighbouring sentence, for either side: the sentence after one statement is
    the sentence before another (plos-starter's articles hold 7,819 distinct before/after texts, 6,564 distinct
    sentences). Sentences come back within an article, hardly ever across articles: a few thousand suffice."""
    toks = tokens(normalise(text))
    return tuple(toks), _cue_hits(" ".join(toks), version)


@lru_cache(maxsize=8192)
def _neighbour_features(side: str, text: str, version: int = FEATURE_VERSION) -> tuple[str, ...]:
    """Unigrams and cue hits of a neighbouring sentence (``side`` "b" before, "a" after).

    Cached because one sentence is the neighbour of every statement in the sentences beside it, and a sentence
    citing five works gives five statements with the same neighbours: on PLOS articles this halves stage 1's
    feature time (benchmarks/bench_stance.py --speed-only)."""
    toks, cues = _neighbour_parts(text, version)
    out: list[str] = []
    _ngrams(side + ":", list(toks), out, n_max=1)
    _cue_strings(side + "cue:", cues, out)
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


_UNKNOWN = (None,) * 5


class FeatureIndexer:
    """``vectorise(extract(x, version), vocab)`` for the runtime, building few of the strings.

    Stage 1 of the cascade built ~155 feature strings a statement to look each up in the 188,648-entry vocabulary
    of linear-v3. Here a token is looked up once, when first met, under all its unigram prefixes (``w:``,
    ``n:L:``, ``n:R:``, ``b:``, ``a:``), and a neighbouring sentence's ids are kept whole (it neighbours several
    statements); the bigrams, cue, position, section and bias features are still strings, about 45 a statement.
    (A cache of token pairs lost: 12-16 µs a statement against 8 µs for the strings, most pairs being new. So did
    a token's bigrams taken from the sorted vocabulary when first met: ~30 µs a new token.)

    The ids come in the order ``extract`` lists its features, unknown ones as None, and the set is built from
    them as ``vectorise`` builds it, so it is the same set in the same iteration order (leaving None out changes
    that order): the weight rows are summed in the same order and the float32 scores are bit-identical
    (tests/test_stance_indexer.py; and all 11,672 plos-starter statements and 7,995 dev rows, linear-v3 with
    feature version 5 and linear-v2 with 4). Training keeps using ``extract``.

    A cache is emptied when it is full, so memory stays bounded in a long ingest: TOKEN_CAP tokens (~200 bytes
    each; plos-starter's 103 articles have 16,305) and NEAR_CAP neighbouring sentences a side.
    """

    TOKEN_CAP = 1 << 15
    NEAR_CAP = 2048

    def __init__(self, vocab: dict[str, int], version: int = FEATURE_VERSION) -> None:
        if version not in SUPPORTED_FEATURE_VERSIONS:
            raise ValueError(f"feature version {version} is not one of {SUPPORTED_FEATURE_VERSIONS}")
        self.vocab = vocab
        self.version = version
        self._token: dict[str, tuple[int | None, ...]] = {}  # ids of w:t, n:L:t, n:R:t, b:t, a:t
        self._near: dict[str, dict[str, tuple[int | None, ...]]] = {"b": {}, "a": {}}  # side -> text -> ids
        self._section: dict[str, int | None] = {}
        self._pos = {k: vocab.get("pos:" + k) for k in ("start", "mid", "end", "nocite")}
        self._bias = vocab.get("bias")

    def _token_ids(self, t: str) -> tuple[int | None, ...]:
        get = self.vocab.get
        ids = (get("w:" + t), get("n:L:" + t), get("n:R:" + t), get("b:" + t), get("a:" + t))
        if ids == _UNKNOWN:
            ids = _UNKNOWN  # one shared tuple for the many tokens the vocabulary does not know
        if len(self._token) >= self.TOKEN_CAP:
            self._token.clear()
        self._token[t] = ids
        return ids

    def _near_ids(self, side: str, text: str) -> tuple[int | None, ...]:
        """The ids of ``_neighbour_features(side, text)``, in its order."""
        cache = self._near[side]
        ids = cache.get(text)
        if ids is None:
            toks, cues = _neighbour_parts(text, self.version)
            column = 3 if side == "b" else 4
            token, token_ids = self._token, self._token_ids
            cue: list[str] = []
            _cue_strings(side + "cue:", cues, cue)
            ids = tuple([(token.get(t) or token_ids(t))[column] for t in toks] + list(map(self.vocab.get, cue)))
            if len(cache) >= self.NEAR_CAP:
                cache.clear()
            cache[text] = ids
        return ids

    def indices(self, x: StanceInput) -> set[int]:
        """The vocabulary ids of ``extract(x, version)``: the set ``vectorise`` builds before it becomes an array."""
        toks = tokens(normalise(x.text))
        get, token, token_ids = self.vocab.get, self._token, self._token_ids
        rows = [token.get(t) or token_ids(t) for t in toks]
        # The order of extract: w: unigrams, w: bigrams, window words, window bigrams, position, cues, neighbours,
        # section, bias.
        ids = [r[0] for r in rows]
        ids += [get(f"w:{a} {b}") for a, b in zip(toks, toks[1:], strict=False)]
        if "_cite_" in toks:
            i = toks.index("_cite_")
            lo, hi = max(0, i - WINDOW), i + 1 + WINDOW
            left, right = toks[lo:i], toks[i + 1:hi]
            ids += [r[1] for r in rows[lo:i]]
            ids += [r[2] for r in rows[i + 1:hi]]
            ids += [get(f"n:L:{a} {b}") for a, b in zip(left, left[1:], strict=False)]
            ids += [get(f"n:R:{a} {b}") for a, b in zip(right, right[1:], strict=False)]
            ids.append(self._pos["start" if i < 3 else "end" if i >= len(toks) - 3 else "mid"])
        else:
            ids.append(self._pos["nocite"])
        cue: list[str] = []
        _cue_strings("cue:", _cue_hits(" ".join([t for t in toks if t != "_ocit_"]), self.version), cue)
        ids += map(self.vocab.get, cue)
        if x.before:
            ids += self._near_ids("b", x.before)
        if x.after:
            ids += self._near_ids("a", x.after)
        section = self._section.get(x.section, -1)
        if section == -1:
            section = self.vocab.get("sec:" + section_bucket(x.section))
            if len(self._section) >= self.NEAR_CAP:
                self._section.clear()
            self._section[x.section] = section
        ids.append(section)
        ids.append(self._bias)
        out = set(ids)
        out.discard(None)
        return out  # type: ignore[return-value]
