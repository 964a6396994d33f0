"""Tokenisation and token features for the reference-string CRF.

Kept separate from :mod:`citelens.references.parser` so that training (``parser_train``) and tagging use
exactly the same code: a feature computed differently at training and tagging time silently costs
accuracy and is very hard to spot.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

from citelens.references.journals import Trie, journal_spans

# Letters, digit runs and single punctuation marks, so "1977);" becomes "1977" ")" ";" — the
# punctuation between fields is what tells the CRF where one field stops and the next starts.
_TOKEN = re.compile(r"[^\W\d_]+|\d+|[^\w\s]", re.UNICODE)

# Spans found by regex before tagging; tokens inside them get a feature. Identifiers are split into
# many tokens by the tokeniser, and without this the CRF has to recognise "10 . 1016 / j ..." piecewise.
_DOI = re.compile(r"10\.\d{4,9}/\S+", re.I)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_ARXIV = re.compile(r"arxiv\s*:?\s*(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.I)
_PMID = re.compile(r"PMID\s*:?\s*\d+", re.I)

# Words that mostly occur inside journal / proceedings names (full and abbreviated). A hand-made list
# rather than one mined from the training data, so the shipped model does not depend on a data file.
def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


JOURNAL_WORDS = _wordset(
    """
    j journal jour rev review reviews lett letters phys physics chem chemistry biol biology med medicine
    medical proc proceedings acta ann annals annu am amer american soc society acad academy natl nat nature
    sci science sciences res research int intl international trans transactions conf conference symp
    symposium workshop bull bulletin comm commun communications mol cell clin clinical eur european
    appl applied math mathematical mathematics comput computer computing stat statist statistics
    engl engineering eng inst institute univ university quart quarterly mon monthly arch archives
    neurosci neurol psychol psychiatry pharmacol physiol biochem genet genetics immunol microbiol
    astron astrophys astrophysical geophys ecol environ nucl opt optics electron syst systems theor
    lecture notes lncs ieee acm siam plos bmc lancet cancer oncol infect dis endocrinol cardiol surg
    pediatr epidemiol ser series ed edn vol z zh zeitschrift annalen
    """
)
_MONTHS = _wordset(
    "jan january feb february mar march apr april may jun june jul july aug august sep sept september oct "
    "october nov november dec december"
)
_PARTICLES = _wordset("van von der den de del della di da du le la dos das ter ten bin al el st")
_BOOK_WORDS = _wordset("in eds ed editor editors edition press publisher publishers pp pages chapter")
_ETAL = frozenset({"et", "al", "etal"})
# Words that mark a field the same way in any script: volume, issue, page, "and others", ordinal prefix
# ("제26권 2호, 86-87쪽" is "vol. 26, no. 2, pp. 86-87"). The model then carries what it learnt from Latin
# "vol." / "no." / "pp." over to Korean, Chinese, Japanese, Cyrillic and German strings, which the training
# strings have few of (dev: +0.010 micro-F1 on the Korean file).
_MARKERS: dict[str, str] = {
    word: kind
    for kind, words in (
        ("vol", "vol volume volumes vols bd band t tome tom v 권 卷 巻 집 輯 辑 号集"),
        ("iss", "no nr num number issue iss n 호 号 號 期 вып"),
        ("page", "pp p pages page pgs s 쪽 면 頁 页 с стр"),
        ("etal", "et al etal 외 等 他 ほか"),
        ("ord", "제 第"),
    )
    for word in words.split()
}


# PDF text extraction puts spaces on the wrong side of punctuation ("Mon .Not .R .Astron .Soc .431 ,207 -231(
# 2010 )") in ways that differ from one file to the next. Training and tagging both move them back to where
# print puts them, so the model sees one spelling of a style instead of every extraction accident.
# Each rule: (pattern, replacement built from the pattern's groups; literal text is written as-is).
_RESPACE: tuple[tuple[re.Pattern[str], tuple[int | str, ...]], ...] = (
    (re.compile(r"\s+"), (" ",)),
    # "2 . 76TeV" / "2 .76" → "2.76": a decimal point with a space before it is an extraction artefact (print
    # spaces after a full stop, never before); read as "2. 76" it ends a title at "= 2".
    (re.compile(r"(?<=\d) (\.) ?(?=\d)"), (1,)),
    # " .Not" / " ,207" → ". Not" / ", 207": punctuation glued to the next word, spaced from the previous.
    (re.compile(r"(?<=[^\W_]) ([.,;:])(?=[^\W_])"), (1, " ")),
    # "Symposium,Vol" / "(2),1383" → "Symposium, Vol" / "(2), 1383" (not "1,000")
    (re.compile(r"(?<=[^\W\d_]|[)\]])([,;])(?=[^\W_])"), (1, " ")),
    # "galaxies ." → "galaxies."
    (re.compile(r"(?<=[^\W_]) ([.,;:])(?= |$)"), (1,)),
    # "( 2010 )" → "(2010)"
    (re.compile(r"([(\[]) "), (1,)),
    (re.compile(r" ([)\]])"), (1,)),
    # "207 -231" / "1383- 1397" → "207-231"
    (re.compile(r"(?<=\d) ?([-\u2010-\u2014]) ?(?=\d)"), (1,)),
)


def normalise_spacing(text: str) -> tuple[str, list[int]]:
    """``text`` with extraction spacing repaired, and for each of its characters the index in ``text`` it
    came from (so labelled spans of the original map onto the normalised string)."""
    index = list(range(len(text)))
    for pattern, repl in _RESPACE:
        if not pattern.search(text):
            continue
        out: list[str] = []
        new_index: list[int] = []
        pos = 0
        for m in pattern.finditer(text):
            out.append(text[pos : m.start()])
            new_index.extend(index[pos : m.start()])
            for piece in repl:
                if isinstance(piece, int):
                    a, b = m.span(piece)
                    out.append(text[a:b])
                    new_index.extend(index[a:b])
                else:
                    out.append(piece)
                    new_index.extend([index[m.start()] if m.start() < len(index) else len(text)] * len(piece))
            pos = m.end()
        out.append(text[pos:])
        new_index.extend(index[pos:])
        text = "".join(out)
        index = new_index
    return text, index


class Token(NamedTuple):  # a NamedTuple, not a dataclass: built for every token, and 3x cheaper to make
    text: str
    start: int
    end: int


def tokenize(raw: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(raw)]


def _shape(text: str) -> str:
    """Collapsed character classes: "Smith" -> "Xx", "1977" -> "d", "J." handled by punctuation token."""
    out: list[str] = []
    for ch in text:
        if ch.isupper():
            c = "X"
        elif ch.islower():
            c = "x"
        elif ch.isdigit():
            c = "d"
        elif ch.isalpha():
            c = "a"  # scripts without case (CJK, …)
        else:
            c = ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _regex_mask(raw: str) -> dict[int, str]:
    """Character offset → which identifier pattern covers it (only covered offsets: most strings have none)."""
    mask: dict[int, str] = {}
    for name, rx in (("url", _URL), ("doi", _DOI), ("arxiv", _ARXIV), ("pmid", _PMID)):
        for m in rx.finditer(raw):
            for i in range(m.start(), m.end()):
                mask[i] = name
    return mask


def _token_base(tok: Token, raw: str) -> dict[str, float | str]:
    f = dict(_word_features(tok.text))
    # Is the token glued to its neighbours? "J." vs "J ." and "12(3)" vs "12 (3)" matter for initials,
    # abbreviated journal words and volume(issue) patterns.
    f["sp_before"] = 1.0 if tok.start == 0 or raw[tok.start - 1].isspace() else 0.0
    f["sp_after"] = 1.0 if tok.end >= len(raw) or raw[tok.end].isspace() else 0.0
    if tok.end < len(raw) and raw[tok.end] == ".":
        f["dot_after"] = 1.0
    return f


# Word features depend on the word alone: cached, as the same words ("J", ".", "Phys", "2003") recur in
# every reference list (about a quarter of the tagging time otherwise).
@functools.lru_cache(maxsize=1 << 16)
def _word_features(t: str) -> dict[str, float | str]:
    low = t.lower()
    f: dict[str, float | str] = {
        "w": low,
        "shape": _shape(t),
        "len": str(min(len(t), 8)),
    }
    if low in _MARKERS:
        f["marker"] = _MARKERS[low]
    if t.isdigit():
        f["digits"] = str(min(len(t), 5))
        n = int(t) if len(t) < 7 else 0
        if len(t) == 4 and 1600 <= n <= 2099:
            f["yearlike"] = 1.0
        elif n < 10:
            f["small_num"] = 1.0
    elif t.isalpha():
        f["p2"] = low[:2]
        f["p3"] = low[:3]
        f["s3"] = low[-3:]
        if t[0].isupper():
            f["cap"] = 1.0
        if len(t) > 1 and t.isupper():
            f["allcaps"] = 1.0
        if len(t) == 1 and t.isupper():
            f["initial"] = 1.0
        if low in JOURNAL_WORDS:
            f["jword"] = 1.0
        if low in _MONTHS:
            f["month"] = 1.0
        if low in _PARTICLES:
            f["particle"] = 1.0
        if low in _BOOK_WORDS:
            f["bookword"] = 1.0
        if low in _ETAL:
            f["etal"] = 1.0
        script = unicodedata.name(t[0], "").split(" ")[0]
        if script and script not in ("LATIN",):
            f["script"] = script
    else:
        f["punct"] = t
    return f


_BOUNDARY = frozenset(".,;:()[]\"“”«»‘’")
_QUOTES = frozenset("\"“”«»‘’")


def _quote_tokens(raw: str, tokens: list[Token]) -> set[int]:
    """Indices of the tokens that are quotation marks: double and typographic quotes, and a straight
    single quote that stands at a word edge ("'A realtime system,' IEEE" and Korean "'제목,'"), not an
    apostrophe between letters ("O'Brien", "don't"). Titles in single quotes are common in IEEE-like and
    East Asian styles, which JATS-rebuilt training strings rarely show; a quote is a quote whichever kind."""
    out: set[int] = set()
    for i, tok in enumerate(tokens):
        if tok.text in _QUOTES:
            out.add(i)
        elif tok.text == "'":
            before = raw[tok.start - 1] if tok.start > 0 else " "
            after = raw[tok.end] if tok.end < len(raw) else " "
            if not (before.isalnum() and after.isalnum()):
                out.add(i)
    return out


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if n <= edge:
            return str(edge)
    return f">{edges[-1]}"


def _chunk_features(tokens: list[Token], base: list[dict[str, float | str]], quotes: set[int]) -> list[dict[str, str]]:
    """Features of the punctuation-delimited chunk each token sits in.

    Titles are long chunks of mostly lower-case words; journal names short chunks of capitalised,
    abbreviated words; author chunks are initials and surnames. The CRF only sees a window of a few
    tokens, so it cannot count this itself. The chunk's length in characters carries the same signal for
    scripts without spaces or case (a Chinese title is one long "word", its journal a short one), and
    the chunk's distance to the first year-like chunk places it in the style's field order ("(2019).
    Title. Journal" vs "Title. Journal 2019;") whatever the language.
    """
    chunks: list[list[int]] = [[]]
    for i, tok in enumerate(tokens):
        if tok.text in _BOUNDARY or i in quotes:
            if chunks[-1]:
                chunks.append([])
            continue
        chunks[-1].append(i)
    out: list[dict[str, str]] = [{} for _ in tokens]
    chunks = [c for c in chunks if c]
    year_chunk = next((ci for ci, c in enumerate(chunks) if any("yearlike" in base[i] for i in c)), None)
    for ci, chunk in enumerate(chunks):
        words = [base[i] for i in chunk if "punct" not in base[i]]
        n = len(words)
        lower = sum(1 for w in words if str(w["shape"]).startswith("x"))
        jw = sum(1 for w in words if "jword" in w)
        initials = sum(1 for w in words if "initial" in w)
        digits = sum(1 for w in words if "digits" in w)
        feats = {
            "ch_len": _bucket(n, (1, 2, 3, 5, 8)),
            "ch_lower": _bucket(int(10 * lower / n) if n else 0, (0, 2, 5)),
            "ch_jw": str(min(jw, 3)),
            "ch_init": str(min(initials, 3)),
            "ch_dig": str(min(digits, 2)),
            "ch_idx": str(min(ci, 8)),
            "ch_chars": _bucket(sum(len(tokens[i].text) for i in chunk), (3, 8, 15, 30, 60)),
            "ch_year": "none" if year_chunk is None else str(max(min(ci - year_chunk, 3), -3)),
        }
        # Where in its chunk a token stands: fields start and end at chunk edges, so the first and last word
        # of a chunk are where a title or journal begins and stops.
        last = len(chunk) - 1
        for k, i in enumerate(chunk):
            out[i] = {**feats, "ch_pos": "only" if last == 0 else "first" if k == 0 else "last" if k == last else "mid"}
    return out


_GZ_LEN = ("", "1", "2", "3")  # words in a matched journal name, 4 and more as "4"


def _journal_features(
    base: list[dict[str, float | str]], trie: Trie, leave_out: str | None = None
) -> dict[int, tuple[str, str]]:
    """Token index → (place in a known journal name: B/I/E, or S for a one-word name; the name's length in
    words) for the tokens inside the string's known journal names (``citelens.references.journals``;
    ``leave_out``: the string's own source, whose own names do not count — training only)."""
    words = ["and" if b["w"] == "&" else str(b["w"]) for b in base]
    out: dict[int, tuple[str, str]] = {}
    for first, last in journal_spans(words, trie, leave_out):
        n_words = sum(1 for k in range(first, last + 1) if "punct" not in base[k])
        size = _GZ_LEN[n_words] if n_words < 4 else "4"
        if first == last:
            out[first] = ("S", size)
            continue
        out[first] = ("B", size)
        for k in range(first + 1, last):
            out[k] = ("I", size)
        out[last] = ("E", size)
    return out


def featurize(
    raw: str,
    tokens: list[Token],
    neighbours: bool = True,
    journals: Trie | None = None,
    journal_leave_out: str | None = None,
) -> list[dict[str, float | str]]:
    """One feature dict per token (pycrfsuite ItemSequence format: string values become "k=v" attributes).

    ``neighbours=False`` leaves out the features of the tokens around (``-1:w``, ``0|+1`` …): the BiLSTM
    tagger (:mod:`citelens.references.bilstm`) reads the neighbours itself, and skipping them saves a third
    of the time here. ``journals`` (a trie of known journal names, ``journals.load_trie()``) adds ``gz`` (a
    token's place in a known name) and ``gzn`` (the name's length in words); off by default, as only a model
    trained with them (``train_reference_tagger.py --gazetteer``) can use them. ``journal_leave_out``: the
    training file the string comes from, whose own names in ``journals`` do not count (round 10)."""
    n = len(tokens)
    if n == 0:
        return []
    mask = _regex_mask(raw)
    base = [_token_base(t, raw) for t in tokens]
    gazetteer = _journal_features(base, journals, journal_leave_out) if journals is not None else {}
    quote_marks = _quote_tokens(raw, tokens)
    chunk = _chunk_features(tokens, base, quote_marks)
    # Nearest punctuation before and after each token: which boundary a token sits against says much
    # about its field (". In" opens a book title, ", vol" a volume, "(" a year).
    prev_p: list[str] = []
    last = "^"
    for t in tokens:
        prev_p.append(last)
        if not t.text.isalnum():
            last = t.text
    next_p: list[str] = [""] * n
    last = "$"
    for i in range(n - 1, -1, -1):
        next_p[i] = last
        if not tokens[i].text.isalnum():
            last = tokens[i].text
    # Running context: "a year has been seen", "inside quotes / parentheses", how many commas and
    # full stops came before. Reference styles put fields in a fixed order, so these counters locate a
    # token in that order better than absolute position alone.
    seen_year = False
    seen_colon = False
    quotes = 0
    parens = 0
    periods = 0
    commas = 0
    feats: list[dict[str, float | str]] = []
    length = max(len(raw), 1)
    for i, tok in enumerate(tokens):
        f: dict[str, float | str] = dict(base[i])
        f.update(chunk[i])
        f["prev_p"] = prev_p[i]
        f["next_p"] = next_p[i]
        f["pp"] = f"{prev_p[i]}|{next_p[i]}"  # the pair: ", … ," (a field between commas) vs ". … ,"
        f["bias"] = 1.0
        f["pos"] = str(min(int(10 * tok.start / length), 9))
        f["idx"] = str(min(i, 6))
        if i == n - 1:
            f["last"] = 1.0
        if tok.start in mask:
            f["re"] = mask[tok.start]
        if i in gazetteer:
            f["gz"], f["gzn"] = gazetteer[i]
        if seen_year:
            f["after_year"] = 1.0
        if seen_colon:
            f["after_colon"] = 1.0
        if quotes % 2 == 1:
            f["in_quotes"] = 1.0
        if parens > 0:
            f["in_parens"] = 1.0
        f["periods"] = str(min(periods, 6))
        f["commas"] = str(min(commas, 6))
        for off in (-2, -1, 1, 2) if neighbours else ():
            j = i + off
            if 0 <= j < n:
                nb = base[j]
                f[f"{off}:w"] = nb["w"]
                f[f"{off}:shape"] = nb["shape"]
                if "yearlike" in nb:
                    f[f"{off}:yearlike"] = 1.0
                if "jword" in nb:
                    f[f"{off}:jword"] = 1.0
                if "initial" in nb:
                    f[f"{off}:initial"] = 1.0
                if "marker" in nb:
                    f[f"{off}:marker"] = nb["marker"]
            else:
                f[f"{off}:edge"] = 1.0
        if neighbours and i > 0:
            f["-1|0"] = f"{base[i - 1]['w']}|{base[i]['w']}"
        if neighbours and i < n - 1:
            f["0|+1"] = f"{base[i]['w']}|{base[i + 1]['w']}"
        # Update running state after the token itself.
        text = tok.text
        if "yearlike" in base[i]:
            seen_year = True
        if i in quote_marks:
            quotes += 1
        elif text in "([":
            parens += 1
        elif text in ")]":
            parens = max(parens - 1, 0)
        elif text == ".":
            periods += 1
        elif text == ",":
            commas += 1
        elif text == ":":
            seen_colon = True
        feats.append(f)
    return feats
