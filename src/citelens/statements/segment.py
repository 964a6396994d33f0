"""Sentence segmentation tuned for scholarly prose with citation callouts.

Written here rather than taken from a library because general-purpose splitters (pysbd, syntok, NLTK
punkt) know nothing of callout spans — they split "… as shown before.[3] Next" before the callout or
inside "[3]. (Smith et al. 2003)" — and the good ones cost milliseconds per paragraph, which is the whole
ingest budget. This one is a single regex pass with an abbreviation list, and it never cuts inside a
protected span (a callout).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from itertools import accumulate

# Words that end with a period without ending a sentence (compared lower-cased, without the period).
ABBREVIATIONS: frozenset[str] = frozenset(
    """
    al et e.g eg i.e ie cf vs v viz approx ca c fig figs eq eqs eqn eqns ref refs tab tabs suppl sup supp
    no nos nr vol vols pp p chap ch sect sec secs dr mr mrs ms prof st inc ltd co corp jr sr dept univ
    resp spp sp subsp var cv gen nov min max avg est mol wt conc temp aff jan feb mar apr jun jul aug
    sep sept oct dec mt ft ff ed eds rev repr trans incl esp illus e.v n.b nb ibid op cit ser
    pl pls spec specs nom syn comb coll leg det
    """.split()  # noqa: SIM905 - a word list reads better than 120 quoted strings
)

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then whitespace.
_CANDIDATE = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_NEXT_START = re.compile(r"\s+([\"'“‘(\[]*)(\S)")
_GLUED = re.compile(r"[a-z0-9%\])]\.(?=[A-Z][a-z]+\b)")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def split_sentences(text: str, protected: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences of ``text``; no span boundary falls inside ``protected``.

    Spans exclude surrounding whitespace and together cover every non-space character of ``text``.
    """
    n = len(text)
    if n == 0:
        return []
    prot = sorted(protected)
    inside = _Protected(prot).inside
    boundaries: list[int] = []
    for m in _CANDIDATE.finditer(text):
        end = m.end()
        if inside(end) or inside(m.start()):
            continue
        nxt = _NEXT_START.match(text, end)
        if not nxt:
            continue
        first = nxt.group(2)
        if not (first.isupper() or first.isdigit() or nxt.group(1) or _starts_greek(text, nxt.start(2))):
            continue  # "e.g. the", "approx. five": lower-case continuation
        if text[m.start()] == "." and not _period_ends_sentence(text, m.start(), nxt.start(2)):
            continue
        if nxt.group(1) and _closing_citation(text, nxt.start(1), prot):
            continue  # "… accuracy, etc.) (Girard et al., 2010)." — the parenthesis cites the sentence it ends
        boundaries.append(end)
    # Publisher XML sometimes loses the space after a full stop ("… P<0.10.In this case …", "… [19].Otherwise").
    for m in _GLUED.finditer(text):
        dot = m.start() + 1
        if not inside(dot) and _period_ends_sentence(text, dot, dot + 1):
            boundaries.append(dot + 1)
    boundaries.sort()
    # A callout glued after the period ("… as shown.[3] Next") belongs to the sentence before it.
    boundaries = _attach_trailing_callouts(text, boundaries, prot)
    spans: list[tuple[int, int]] = []
    start = 0
    for b in [*boundaries, n]:
        s, e = start, b
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
        start = b
    return spans


# The longest sentence a statement carries. Real ones stay far below it (the longest of 96,000 statements of the demo
# corpus, plos-starter and a quarter of pmc-oa: 1,936 characters); a paragraph without full stops is one sentence, and
# each of its callouts' statements was classified and stored with all of it: one such sentence of 4,000 callouts in a
# 230 kB file took 26 s, 8 MB would take hours.
MAX_SENTENCE_CHARS = 4000


def bounded_spans(text: str, spans: Sequence[tuple[int, int]], protected: Sequence[tuple[int, int]] = (),
                  max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """``spans`` with each one longer than ``max_chars`` cut into pieces of at most that many characters: in the piece's
    second half, after a semicolon or comma outside ``protected`` (callouts) where there is one, else at such a space,
    else at any space, else anywhere."""
    if all(e - s <= max_chars for s, e in spans):
        return list(spans)
    inside = _Protected(sorted(protected)).inside
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > max_chars:
            low, limit = s + max_chars // 2, s + max_chars
            cut = -1
            for mark in ("; ", ", ", " "):
                at = text.rfind(mark, low, limit)
                while at > 0 and inside(at + len(mark) - 1):
                    at = text.rfind(mark, low, at)
                if at > 0:
                    cut = at + len(mark) - 1  # at the space
                    break
            if cut <= s:  # every space there is inside a callout (one longer than the bound), or there is none
                at = text.rfind(" ", low, limit)
                cut = at if at > 0 else limit
            piece_end = cut
            while piece_end > s and text[piece_end - 1].isspace():
                piece_end -= 1
            if piece_end > s:
                out.append((s, piece_end))
            s = cut
            while s < e and text[s].isspace():
                s += 1
        if e > s:
            out.append((s, e))
    return out


class _Protected:
    """Whether a position falls strictly inside one of some (start, end) spans (sorted by start; they may overlap),
    in O(log n): the spans that start before it, and the furthest any of them reaches. A scan of every span before
    the position, before, made a paragraph of n callouts and n sentences cost n²: 40,000 of each (1.1 MB) took 30 s."""

    def __init__(self, prot: Sequence[tuple[int, int]]) -> None:
        self.starts = [s for s, _e in prot]
        self.reach = list(accumulate((e for _s, e in prot), max))

    def inside(self, pos: int) -> bool:
        k = bisect.bisect_left(self.starts, pos)  # spans 0..k-1 start before pos
        return k > 0 and self.reach[k - 1] > pos


# Words that open sentences and are never a surname or species epithet after an initial ("… for v and S. The …").
_SENTENCE_OPENERS = frozenset(
    """the this these those there thus however we our in it its for with when while since although after
    before here moreover furthermore finally also further overall taken similarly likewise""".split()  # noqa: SIM905
)
_NEXT_WORD = re.compile(r"[A-Za-z]+")
# Lower-case Greek letters open sentences in biomedical prose ("δ15N values …", "β-catenin was …").
_GREEK_LOWER = re.compile(r"[α-ω](?:[\w-]|\d)")


def _starts_greek(text: str, at: int) -> bool:
    return _GREEK_LOWER.match(text, at) is not None


def _closing_citation(text: str, open_at: int, prot: Sequence[tuple[int, int]]) -> bool:
    """Whether the bracket at ``open_at`` holds a callout and is followed by the end of a sentence (or of the text):
    a parenthetical citation that closes the sentence before it, not the start of a new one."""
    close = _CLOSING_OF.get(text[open_at])
    if close is None:
        return False
    end = text.find(close, open_at + 1)
    if end < 0 or end - open_at > 400:
        return False
    k = bisect.bisect_right(prot, (open_at, len(text)))  # the first callout starting after the bracket
    if k >= len(prot) or prot[k][0] >= end:
        return False
    rest = text[end + 1 : end + 3].lstrip()
    return rest == "" or rest[0] in ".;,!?"


_CLOSING_OF = {"(": ")", "[": "]"}


def _period_ends_sentence(text: str, dot: int, next_at: int) -> bool:
    """Whether the period at ``dot`` ends a sentence; the next one would start at ``next_at``."""
    m = _WORD_BEFORE.search(text, max(0, dot - 40), dot)
    if not m:
        # "… 2.5 mM." / ") ." — a number or bracket before the period ends a sentence.
        return True
    word = m.group(1)
    low = word.lower().rstrip(".")
    if low in ABBREVIATIONS:
        # "et al. 2003", "Fig. 3", "e.g. Smith" … never a boundary unless a capitalised new sentence after
        # "etc."-like words; the listed ones are followed by names/numbers far more often than by sentences.
        return False
    if len(word) == 1 and word.isupper():
        # An initial ("J. Smith") or a genus abbreviation ("E. coli") — unless a word that only opens sentences
        # follows: "… default values for v and S. The parameter …".
        nw = _NEXT_WORD.match(text, next_at)
        return nw is not None and nw.group(0).lower() in _SENTENCE_OPENERS and nw.group(0)[0].isupper()
    if "." in word.rstrip("."):
        # Dotted abbreviations like "U.S." or "i.v." end a sentence only before a capital + lower word.
        return text[next_at].isupper() and word.count(".") >= 2 and word[0].isupper()
    return True


def _attach_trailing_callouts(text: str, boundaries: list[int], prot: Sequence[tuple[int, int]]) -> list[int]:
    """Move or add boundaries so that callouts placed after the full stop stay with their sentence.

    Handles "… cells.[3] Next", "… cells.12,13 Next" (glued superscripts) and "… cells. [3] Next".
    """
    if not prot:
        return boundaries
    n = len(text)
    starts = dict(prot)
    out = set(boundaries)

    def chain_end(j: int) -> int:
        # follow callouts joined by commas/dashes/spaces: "[3], [4]" or "12,13" or "3–6"
        e = starts[j]
        while True:
            k = e
            while k < n and text[k] in " ,–-;":
                k += 1
            if k in starts and k > e:
                e = starts[k]
            else:
                break
        # Some journals print superscript callouts with a closing parenthesis ("… chickens.<sup>100)</sup> These"):
        # it belongs to the callout, and the sentence ends after it.
        if e < n and text[e] == ")" and "(" not in text[j:e]:
            e += 1
        return e

    def new_sentence_at(e: int) -> bool:
        m = _NEXT_START.match(text, e)
        return m is not None and (m.group(2).isupper() or m.group(2).isdigit() or bool(m.group(1)))

    for s, _e in prot:
        if s == 0 or text[s - 1] not in ".!?":
            continue
        e = chain_end(s)
        if e - s <= 40 and _callout_looks_superscript(text, s, e) and (e >= n or new_sentence_at(e)):
            out.add(e)
    for b in boundaries:
        j = b
        while j < n and text[j] == " ":
            j += 1
        if j in starts and text[b - 1] == ".":
            e = chain_end(j)
            if e - j <= 40 and _callout_looks_superscript(text, j, e) and (e >= n or new_sentence_at(e)):
                out.discard(b)
                out.add(e)
    return sorted(x for x in out if x < n)


def _callout_looks_superscript(text: str, s: int, e: int) -> bool:
    # Bare numbers / bracketed numbers after a period are callouts of numeric styles ("… cells.12 We …").
    return text[s:e].strip("[]()–-,; 0123456789") == ""
