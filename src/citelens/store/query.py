"""The statement search syntax, shared by every backend.

What a user types: words (all must appear), "quoted phrases", a trailing * for a prefix, a leading - to leave out
statements with a word or phrase (``optogenetics -review``, ``-"light sheet"``), OR between terms (AND binds
tighter: ``a b OR c`` is ``(a AND b) OR c``). A group of terms that only leaves out (``-light`` alone) has nothing
to leave it out of: its terms are then read as words to find. Anything else — operators of the underlying engine,
stray quotes, punctuation — is read as plain words, so no input is a syntax error. Each backend turns the
parsed :class:`Term` groups into its own engine's query (FTS5 MATCH, PostgreSQL tsquery).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from citelens.store.records import SEARCH_SEPARATOR

# The longest query (statement or paper search) the API and the CLI take: a longer one names nothing, and SQLite
# refuses (or takes minutes over) huge patterns.
MAX_QUERY_CHARS = 500

# How many matching statements a search ranks at most (CITELENS_SEARCH_WINDOW; 0: every match). Ranking is what a
# common word costs: "expression" in 270,447 of 1 M synthetic sentences took 225 ms to rank with bm25 (FTS5 scores
# every match before it can keep the best 20) and 64 ms to count, in-process; ranking the 10,000 newest matches
# takes 12 ms. A query matching fewer statements than this is ranked and counted in full, exactly as before.
SEARCH_WINDOW = 10_000

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_TOKEN = re.compile(r'"([^"]+)"|(\w[\w\'-]*\*?)', re.UNICODE)


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase (words in order, adjacent)
    prefix: bool = False  # the last word is a prefix
    excluded: bool = False  # a statement must not match it ("-word")


def search_text(text: str) -> str:
    """``text`` as SQLite's FTS5 ``unicode61`` tokenizer reads it: letters and digits without diacritics, every
    other character a separator. The PostgreSQL store indexes this, so both backends see the same words
    ("protein/carotenoid" is two words, "Müller" is "muller")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(bare))


# The digits a glued callout starts with: ASCII, and the superscript ones a PDF's text layer may give ("light²").
# Listed, not str.isdigit(), so that the schema-15 upgrade's SQL picks the same callouts the writer does.
CALLOUT_DIGITS = "0123456789⁰¹²³⁴⁵⁶⁷⁸⁹"


def search_sentence(sentence: str, callouts: Iterable[tuple[int, int]]) -> str | None:
    """The sentence as search indexes it, where that differs from the stored one: a separator put between a word
    and each citation number glued to it (``callouts``: the sentence's callout spans, start and end offsets).

    Superscript citations come out of many articles as digits right after a word ("lower contrast stimuli48,49.",
    "in response to light2–4."); every tokenizer reads "stimuli48" as one word, so "contrast stimuli" or "light"
    missed the sentence. Only the spans the parser took for callouts are split, so "Sox2", "CD4", "p53" or "H2O"
    stay one word; a callout glued to one ("p5312", callout "12") leaves "p53". None: nothing to split (most
    sentences), and search reads the sentence itself. Its offsets are not the stored sentence's."""
    cuts = sorted({start for start, end in callouts
                   if 0 < start < end <= len(sentence) and sentence[start] in CALLOUT_DIGITS
                   and sentence[start - 1].isalnum() and not any(ch.isalpha() for ch in sentence[start:end])})
    if not cuts:
        return None
    pieces = [sentence[a:b] for a, b in zip([0, *cuts], [*cuts, len(sentence)], strict=True)]
    return SEARCH_SEPARATOR.join(pieces)


def parse_query(query: str) -> list[list[Term]]:
    """Groups of terms: a statement matches when every term of at least one group matches."""
    query = query or ""
    groups: list[list[Term]] = [[]]
    for m in _TOKEN.finditer(query):
        phrase, word = m.group(1), m.group(2)
        # "-" right before a term, at the start or after a space: "-review", not "beta-arrestin" or "2-3".
        excluded = m.start() > 0 and query[m.start() - 1] == "-" and (m.start() == 1 or query[m.start() - 2].isspace())
        if phrase:
            words = tuple(re.findall(r"\w+", phrase))
            if words:
                groups[-1].append(Term(words, excluded=excluded))
        elif word:
            if word == "OR":
                if groups[-1]:
                    groups.append([])
                continue
            core = tuple(re.findall(r"\w+", word))
            if core:
                groups[-1].append(Term(core, prefix=word.endswith("*"), excluded=excluded))
    # Leaving out needs something to leave it out of: a group of exclusions alone finds its words instead.
    found = [g if any(not t.excluded for t in g) else [replace(t, excluded=False) for t in g] for g in groups if g]
    # A term twice in a group, or a group twice, changes nothing but the work: each is kept once, in order. Each
    # copy was another pass over the index: "a*" 250 times (500 characters) took 6 s on the 7,000-statement demo.
    unique: list[list[Term]] = []
    for g in found:
        g = list(dict.fromkeys(g))
        if g not in unique:
            unique.append(g)
    return unique


def estimated_total(ranked: int, at_least: int, span_all: int, span_window: int) -> int:
    """How many statements match in all, about, from the ``ranked`` ones found among the newest sentences of a
    search (a ``span_window`` of sentence ids) and the span of ids that all matches lie in (``span_all``): the
    matches are taken to be as dense in the older sentences as in the newest. Rounded to two significant figures
    (an estimate is no more precise than that) and never below ``at_least``, the matches known to exist."""
    if span_window <= 0 or ranked <= 0:
        return at_least
    guess = ranked * max(span_all, span_window) / span_window
    digits = max(0, len(str(int(guess))) - 2)
    rounded = int(round(guess / 10 ** digits) * 10 ** digits)
    return max(at_least, rounded)
