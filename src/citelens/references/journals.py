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
"""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

__all__ = ["GAZETTEER_NAME", "journal_spans", "load_trie", "normalise_name"]

GAZETTEER_NAME = "journals.txt.gz"
# Names longer than this many words are mostly book or proceedings titles mis-typed as journals, and a long
# walk through the trie costs time for every token that starts one.
MAX_WORDS = 12
# Punctuation inside a journal's name that does not end a match: abbreviation dots, hyphens
# ("Gene-Expression"), apostrophes, slashes ("Ber./Chem.").
_TRANSPARENT = frozenset(".-'’/\u2010\u2011\u2013")
_WORD = re.compile(r"[^\W_]+|&", re.UNICODE)
_END = ""  # the trie key that marks "a name ends here" (no word is empty)

Trie = dict[str, "Trie | bool"]


def normalise_name(name: str) -> tuple[str, ...]:
    """The words of a journal name as matching sees them: lower case, punctuation dropped, ``&`` → ``and``,
    a leading "the" dropped ("The Plant Cell" = "Plant Cell")."""
    words = ["and" if w == "&" else w.lower() for w in _WORD.findall(name)]
    if words and words[0] == "the":
        words = words[1:]
    return tuple(words)


def build_trie(names: Iterable[Sequence[str]]) -> Trie:
    root: Trie = {}
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
        node[_END] = True
    return root


def _packaged() -> Path:
    ref = resources.files("citelens.references").joinpath("models", GAZETTEER_NAME)
    return Path(str(ref))


@functools.lru_cache(maxsize=2)
def load_trie(path: Path | None = None) -> Trie:
    """The trie of the names in ``path`` (default: the packaged list), read once per process."""
    with gzip.open(path or _packaged(), "rt", encoding="utf-8") as fh:
        return build_trie(tuple(line.split()) for line in fh if line.strip())


def journal_spans(words: Sequence[str], trie: Trie) -> list[tuple[int, int]]:
    """(first, last) token indices of the known names in a string, leftmost-longest, not overlapping.

    ``words`` is one entry per token: the token's lower-case text for a word, "and" for ``&``, the mark
    itself for other punctuation. Transparent marks (``_TRANSPARENT``) are skipped inside a name; a name
    neither starts nor ends on one."""
    spans: list[tuple[int, int]] = []
    n = len(words)
    i = 0
    while i < n:
        node = trie.get(words[i])
        if not isinstance(node, dict):
            i += 1
            continue
        best = i if _END in node else -1
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
            if _END in node:
                best = j
            j += 1
        if best >= 0:
            spans.append((i, best))
            i = best + 1
        else:
            i += 1
    return spans
