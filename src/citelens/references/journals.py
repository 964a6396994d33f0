"""Known journal names, and where they occur in a tokenised reference string (a gazetteer feature).

The tagger's largest model-side error on dev is where a title stops and the journal starts when the style
puts nothing but a comma, a full stop or a space between them (docs/benchmarks.md, reference-parsing-notes,
round 8). Whether a run of words is a known journal's name is knowledge no token feature carried. The list
is ``models/journals.txt.gz``: one normalised name per line (lower-case words separated by single spaces,
punctuation dropped, ``&`` read as ``and``), built by ``scripts/build_journal_gazetteer.py`` from the
``<source>`` of journal references in pmc-oa's *training* articles and the journal titles of those
articles' fronts.

Matching is leftmost-longest over the string's words, once per string, with a word trie: a name's
abbreviation dots and hyphens are transparent ("J. Biol. Chem." and "J Biol Chem" both match), any other
punctuation (a comma, colon, bracket, quote) ends a match, because fields are separated by those.

Round 10 (``train_reference_tagger.py --gazetteer 2``): the list also holds the journal names (GROBID's
``title:j`` spans) of the labelled training files, each name with the files that give it. When the
features of a training string are computed, a name that only its own file gives is left out
(``journal_spans(..., leave_out=file)``), so the tagger learns what a known name is worth for a file whose
journals other files cite, as a new file's are at serving time. Such a model carries its list
(``names_text``), as the names of the files it was trained on are not the packaged list's.
"""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

__all__ = [
    "GAZETTEER_NAME",
    "add_names",
    "build_trie",
    "journal_spans",
    "load_trie",
    "names_by_source",
    "names_text",
    "normalise_name",
    "trie_from_text",
]

GAZETTEER_NAME = "journals.txt.gz"
# Names longer than this many words are mostly book or proceedings titles mis-typed as journals, and a long
# walk through the trie costs time for every token that starts one.
MAX_WORDS = 12
# Punctuation inside a journal's name that does not end a match: abbreviation dots, hyphens
# ("Gene-Expression"), apostrophes, slashes ("Ber./Chem.").
_TRANSPARENT = frozenset(".-'’/\u2010\u2011\u2013")
_WORD = re.compile(r"[^\W_]+|&", re.UNICODE)
_END = ""  # the trie key that marks "a name ends here" (no word is empty)
# The value stored under _END: the sources (training files) that give the name; empty = a general name,
# known whatever string is matched (the packaged list, a model's list at serving time).
GENERAL: frozenset[str] = frozenset()

Trie = dict[str, "Trie | frozenset[str]"]


def normalise_name(name: str) -> tuple[str, ...]:
    """The words of a journal name as matching sees them: lower case, punctuation dropped, ``&`` → ``and``,
    a leading "the" dropped ("The Plant Cell" = "Plant Cell")."""
    words = ["and" if w == "&" else w.lower() for w in _WORD.findall(name)]
    if words and words[0] == "the":
        words = words[1:]
    return tuple(words)


def build_trie(names: Iterable[Sequence[str]]) -> Trie:
    """A trie of general names (known for every string)."""
    return add_names({}, names)


def add_names(root: Trie, names: Iterable[Sequence[str]], source: str | None = None) -> Trie:
    """Add ``names`` to ``root`` (in place; returned): general ones, or with ``source``, names that a string
    of that source does not find when matched with ``leave_out=source``. A name both general and from a
    source stays general; a name from several sources keeps them all."""
    tag = GENERAL if source is None else frozenset((source,))
    for words in names:
        if not words or len(words) > MAX_WORDS:
            continue
        node = root
        for w in words:
            nxt = node.get(w)
            if not isinstance(nxt, dict):
                nxt = {}
                node[w] = nxt
            node = nxt
        old = node.get(_END)
        if not isinstance(old, frozenset):
            node[_END] = tag
        elif old and tag:
            node[_END] = old | tag
        else:
            node[_END] = GENERAL
    return root


def names_by_source(spans: Iterable[tuple[str, str]]) -> dict[str, set[tuple[str, ...]]]:
    """Source → the normalised names of its (source, journal text) pairs; names without a letter
    ("(2003)", "12") and of more than MAX_WORDS words are dropped."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for source, text in spans:
        words = normalise_name(text)
        if words and len(words) <= MAX_WORDS and any(not w.isdigit() for w in words):
            out.setdefault(source, set()).add(words)
    return out


def names_text(trie: Trie) -> str:
    """Every name of ``trie``, one per line (words separated by spaces), sorted: the list a model carries."""
    lines: list[str] = []

    def walk(node: Trie, prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            if key == _END:
                lines.append(" ".join(prefix))
            elif isinstance(value, dict):
                walk(value, (*prefix, key))

    walk(trie, ())
    return "\n".join(sorted(lines))


def trie_from_text(text: str) -> Trie:
    """The trie of general names of ``names_text``'s output."""
    return build_trie(tuple(line.split()) for line in text.splitlines() if line.strip())


def _packaged() -> Path:
    ref = resources.files("citelens.references").joinpath("models", GAZETTEER_NAME)
    return Path(str(ref))


@functools.lru_cache(maxsize=2)
def load_trie(path: Path | None = None) -> Trie:
    """The trie of the names in ``path`` (default: the packaged list), read once per process."""
    with gzip.open(path or _packaged(), "rt", encoding="utf-8") as fh:
        return trie_from_text(fh.read())


def _known(node: Trie, leave_out: str | None) -> bool:
    """Whether a name ends at ``node`` for a string of source ``leave_out`` (None: any name counts)."""
    ends = node.get(_END)
    if not isinstance(ends, frozenset):
        return False
    return leave_out is None or not ends or len(ends) > 1 or leave_out not in ends


def journal_spans(words: Sequence[str], trie: Trie, leave_out: str | None = None) -> list[tuple[int, int]]:
    """(first, last) token indices of the known names in a string, leftmost-longest, not overlapping.

    ``words`` is one entry per token: the token's lower-case text for a word, "and" for ``&``, the mark
    itself for other punctuation. Transparent marks (``_TRANSPARENT``) are skipped inside a name; a name
    neither starts nor ends on one. ``leave_out``: a source whose own names do not count (a name given only
    by that source is not known; one also general or given by another source is)."""
    spans: list[tuple[int, int]] = []
    n = len(words)
    i = 0
    while i < n:
        node = trie.get(words[i])
        if not isinstance(node, dict):
            i += 1
            continue
        best = i if _known(node, leave_out) else -1
        j = i + 1
        while j < n:
            w = words[j]
            if w in _TRANSPARENT:
                j += 1
                continue
            nxt = node.get(w)
            if not isinstance(nxt, dict):
                break
            node = nxt
            if _known(node, leave_out):
                best = j
            j += 1
        if best >= 0:
            spans.append((i, best))
            i = best + 1
        else:
            i += 1
    return spans
