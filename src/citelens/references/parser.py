"""Reference strings → structured :class:`~citelens.document.Reference`s with a learned tagger.

Used where a reference list arrives as plain text (PDF extraction, pasted lists). A tagger labels each
token with a field (author, title, journal, date, volume, …); the labelled runs are then cleaned up by
rules (title and journal boundaries, author splitting, year, page ranges, DOI normalisation).

The packaged tagger is a BiLSTM-CRF over the hand-made token features of
:mod:`citelens.references.crf_features` (:mod:`citelens.references.bilstm`, numpy only), trained on GROBID's
labelled citation strings and on reference strings rebuilt from pmc-oa's JATS, some of them printed again
in other styles (``scripts/train_reference_tagger.py``); it ships in ``citelens/references/models/``. The
linear-chain CRF it replaced (python-crfsuite, ``scripts/train_reference_parser.py``) is still served when
``use_model`` is given a ``.crfsuite`` file. Field F1 on held-out strings, the dev figures behind each
choice and the speed are in docs/benchmarks.md (``reference-parsing`` and ``reference-parsing-notes``).
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from urllib.parse import unquote

from citelens.document import Author, Reference
from citelens.errors import ModelError
from citelens.references.bilstm import journal_trie, tag_sequences
from citelens.references.crf_features import featurize, normalise_spacing, tokenize
from citelens.references.identifiers import without_landing_tail

MODEL_NAME = "reference_bilstm.npz"

__all__ = [
    "MODEL_NAME",
    "build_reference",
    "normalise_doi",
    "normalise_pages",
    "parse_reference_string",
    "parse_reference_strings",
    "split_authors",
    "tag_reference",
]

# ---------------------------------------------------------------------------------------------------
# Model loading. The packaged model is the BiLSTM-CRF (``.npz``, numpy only, :mod:`citelens.references.bilstm`);
# a ``.crfsuite`` model given to ``use_model`` (the CRF trainer's dev runs) is served by python-crfsuite.
# pycrfsuite taggers are not thread-safe, so each thread opens its own (opening is cheap: the model file is
# memory-mapped); the numpy model is read-only and shared.
_local = threading.local()
_model_path_override: Path | None = None


def model_path() -> Path:
    if _model_path_override is not None:
        return _model_path_override
    ref = resources.files("citelens.references").joinpath("models", MODEL_NAME)
    # The package is installed from a directory (not a zip), so the traversable is a real file path.
    return Path(str(ref))


def use_model(path: Path | None) -> None:
    """Point the parser at another model file (``.npz`` tagger or ``.crfsuite`` CRF; training/evaluation);
    ``None`` goes back to the packaged one."""
    global _model_path_override
    _model_path_override = path
    _local.__dict__.clear()


def _crf_tagger(path: Path):  # noqa: ANN202 - pycrfsuite.Tagger, imported lazily
    tagger = getattr(_local, "tagger", None)
    if tagger is None:
        import pycrfsuite

        tagger = pycrfsuite.Tagger()
        try:
            tagger.open(str(path))
        except Exception as exc:  # pycrfsuite raises a bare ValueError/IOError with little context
            raise ModelError(f"cannot load reference parser model {path}: {exc}") from None
        _local.tagger = tagger
    return tagger


def _tag_texts(texts: list[str]) -> list[list[tuple[str, int, int, str]]]:
    """(token text, start, end, label) for every token of each prepared text, tagged as one batch."""
    path = model_path()
    if not path.is_file():
        raise ModelError(f"reference parser model not found at {path}; run scripts/train_reference_tagger.py")
    tokens = [tokenize(text) for text in texts]
    crf = path.suffix == ".crfsuite"
    journals = None if crf else journal_trie(path)
    features = [
        featurize(text, toks, neighbours=crf, journals=journals) if toks else []
        for text, toks in zip(texts, tokens, strict=True)
    ]
    if crf:
        tagger = _crf_tagger(path)
        labels = [_crf_labels(tagger, feats) for feats in features]
    else:
        labels = tag_sequences(path, features)
    return [[(t.text, t.start, t.end, lab) for t, lab in zip(toks, labs, strict=True)]
            for toks, labs in zip(tokens, labels, strict=True)]


def _crf_labels(tagger, features: list) -> list[str]:  # noqa: ANN001 - pycrfsuite.Tagger
    if not features:
        return []
    try:
        return list(tagger.tag(features))
    except (SystemError, UnicodeError, ValueError):
        # Defence in depth: _prepare should leave nothing the tagger rejects; if it does, the string is
        # kept (raw text, DOI and year by rule) rather than failing the whole article.
        return ["O"] * len(features)


def tag_reference(raw: str) -> list[tuple[str, int, int, str]]:
    """(token text, start, end, label) for every token of ``raw`` as the parser prepares it (offsets into that)."""
    return _tag_texts([_prepare(raw)])[0]


_SINGLE_RUN = frozenset({"title", "journal", "book"})
_SUBTITLE_GAP = re.compile(r"\s*[:\-\u2013\u2014]\s*")


_ARTICLES = frozenset({"A", "An", "The", "On"})


def _repair_title_start(tagged: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Give the title back the words the CRF took for the end of the author list.

    "H.Q. Zhang, A New Generalized Algebra Method" is often tagged with "A New" as an author ("A" looks
    like an initial). Names are followed by punctuation before a title in print; a tail of author words
    after the last comma or "and" that runs into the title with nothing between, is two or more words or
    starts with an article, and does not end in an initial, is the title's first words.
    """
    first = next((k for k, t in enumerate(tagged) if t[3] in ("B-title", "title")), None)
    if first is None or first == 0:
        return tagged
    k = first - 1
    tail: list[int] = []
    while k >= 0 and tagged[k][3] in ("author", "B-author") and tagged[k][0].isalnum() and tagged[k][0] not in ("and", "&"):
        tail.insert(0, k)
        k -= 1
    if not tail or len(tail) > 3 or k < 0 or tagged[k][0] not in (",", ";", "and", "&"):
        return tagged
    words = [tagged[i][0] for i in tail]
    last = words[-1]
    if (len(last) <= 3 and last.isupper()) or last.lower() in ("al", "etal") or not words[0][:1].isupper():
        return tagged
    if len(words) < 2 and words[0] not in _ARTICLES:
        return tagged
    out = list(tagged)
    for n, i in enumerate(tail):
        text, start, end, _ = out[i]
        out[i] = (text, start, end, "B-title" if n == 0 else "title")
    text, start, end, tag = out[first]
    out[first] = (text, start, end, "title")
    return out


# Opening quote → the marks that close it. Single quotes count only at a word edge (an apostrophe in
# "O'Brien" or "Stark's" opens nothing).
_QUOTE_PAIRS = {'"': '"\u201d', "\u201c": "\u201d\"", "\u201e": "\u201c\u201d\"", "\u00ab": "\u00bb", "'": "'\u2019", "\u2018": "\u2019'"}
_SINGLE_QUOTES = frozenset("'\u2018")
# What the CRF sometimes takes for a title in astronomy strings ("Smith, J. 2017, ArXiv e-prints
# [arXiv:1701.09067]"): the name of a preprint server, never the work's title.
_EPRINT_NAMES = frozenset({"arxiveprints", "arxiveprint", "eprints", "arxivpreprint", "arxiv"})


def _title_run(tagged: list[tuple[str, int, int, str]], label: str = "title") -> tuple[int, int] | None:
    """(first, last) token of the first ``label`` run (a title, or a book's title): its tokens and the
    punctuation tagged "O" inside it."""
    first = next((k for k, t in enumerate(tagged) if t[3] in ("B-" + label, label)), None)
    if first is None:
        return None
    last = first
    for k in range(first + 1, len(tagged)):
        if tagged[k][3] == label:
            last = k
        elif not (tagged[k][3] == "O" and not tagged[k][0].isalnum()):
            break
    return first, last


def _at_word_edge(text: str, token: tuple[str, int, int, str], closing: bool) -> bool:
    before = text[token[1] - 1] if token[1] > 0 else " "
    after = text[token[2]] if token[2] < len(text) else " "
    return (not before.isspace() and not after.isalnum()) if closing else not before.isalnum()


def _repair_title_end(text: str, tagged: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Finish a quoted title at its closing quote.

    Print puts quotes around a title so that its inner punctuation does not end it; the CRF, which sees a
    few tokens either side, still stops at a semicolon or a number inside them ('"IP Multimedia Subsystem
    (IMS); Stage 2"', '"… for 5G System"'). A title run that starts right after an opening quote is
    extended to the last word before the matching closing quote (at most 40 tokens on). A title that runs
    past its closing quote is left alone: a title may start with a quoted phrase ("'The surface management
    system' (SuMS) database: …"). The same holds for a book's or a report's title in quotes ('3GPP TS 23.228:
    "IP Multimedia Subsystem (IMS); Stage 2"'), which GROBID labels as a book.
    """
    for label in ("title", "book"):
        tagged = _quoted_run_to_close(text, tagged, label)
    return tagged


def _closing_quote(text: str, tagged: list[tuple[str, int, int, str]], first: int, stop: int) -> int | None:
    """The token before ``stop`` that closes the quote opening right before token ``first`` (a run's first
    word), or None (no opening quote there, or no closing one before ``stop``). A single quote counts only at a
    word's edge."""
    if first == 0:
        return None
    opener = tagged[first - 1]
    if opener[0] not in _QUOTE_PAIRS or (opener[0] in _SINGLE_QUOTES and not _at_word_edge(text, opener, False)):
        return None
    closers = _QUOTE_PAIRS[opener[0]]
    return next((k for k in range(first + 1, stop) if tagged[k][0] in closers
                 and (opener[0] not in _SINGLE_QUOTES or _at_word_edge(text, tagged[k], True))), None)


def _quoted_run_to_close(text: str, tagged: list[tuple[str, int, int, str]], label: str) -> list[tuple[str, int, int, str]]:
    run = _title_run(tagged, label)
    if run is None:
        return tagged
    first, last = run
    close = _closing_quote(text, tagged, first, min(len(tagged), last + 41))
    if close is None or close <= last + 1:
        return tagged
    end = max((k for k in range(last + 1, close) if tagged[k][0].isalnum()), default=None)
    if end is None:
        return tagged
    return [(t[0], t[1], t[2], label) if last < k <= end else t for k, t in enumerate(tagged)]


# A degree note ("Ph.D. thesis, Univ. X", "Thèse de Docteur-Ingénieur …"): GROBID labels it a note, never the
# title; the thesis's title, when printed, is another run.
_DEGREE_NOTE = re.compile(
    r"^\W*(?:(?:ph\.?\s*d\.?|doctoral|master'?s?|m\.?\s*sc\.?|diploma|bachelor'?s?)\s+(?:thesis|dissertation)"
    r"|th[eè]se\b|dissertation\b|habilitation)", re.I)
# A collaboration's name ("CMS collaboration, Title", "(HESS collaboration)") is an author, never the title's start.
# One or two capitalised words before "collaboration" and a closing mark after it, so that "The collaboration
# curse" and "Collisions and Collaborations" stay titles.
_COLLABORATION = re.compile(r"^\W*(?!The\b)(?:[A-Z][\w+\-/]*\s+){1,2}[Cc]ollaborations?\s*(?:[,:;.)]\W*|$)")


def _without_non_title_runs(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """``fields`` without title or book runs that only name a preprint server ("ArXiv e-prints") or open with a
    degree note ("PhD thesis, …"), and without a collaboration's name at a run's start."""
    for label in ("title", "book"):
        if label in fields:
            kept = []
            for t in fields[label]:
                if "".join(ch for ch in t.casefold() if ch.isalnum()) in _EPRINT_NAMES or _DEGREE_NOTE.match(t):
                    continue
                m = _COLLABORATION.match(t)
                t = t[m.end() :] if m else t
                if any(ch.isalnum() for ch in t):
                    kept.append(t)
            if kept:
                fields[label] = kept
            else:
                del fields[label]
    return fields


def _is_initial_at(tagged: list[tuple[str, int, int, str]], k: int) -> bool:
    """Token ``k`` is an initial: one capital letter followed by a full stop, a hyphen or a capitalised word
    ("J." / "J.-P." / "E Giacobino")."""
    word = tagged[k][0]
    return len(word) == 1 and word.isupper() and k + 1 < len(tagged) and (
        tagged[k + 1][0] in (".", "-") or tagged[k + 1][0][:1].isupper())


def _author_run_pieces(tagged: list[tuple[str, int, int, str]],
                       separator: Callable[[str], bool]) -> tuple[int, list[list[int]]]:
    """The author run at the string's start: where it ends (the first token after it), and the token indices of
    its non-empty pieces between separator tokens (a name, or a list's comma pieces)."""
    end = 0
    while end < len(tagged) and tagged[end][3] in ("B-author", "author"):
        end += 1
    pieces: list[list[int]] = [[]]
    for k in range(end):
        if separator(tagged[k][0]):
            if pieces[-1]:
                pieces.append([])
            continue
        pieces[-1].append(k)
    return end, [p for p in pieces if p]


def _repair_author_tail(tagged: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Give the title back the words the CRF added to an initials-first author list.

    In "S. B. Pope, Turbulent Flows, Cambridge Univ. Press" or "A. Larkoski, G. Soyez and J. Thaler, Soft
    Drop, JHEP 05 (2014) 146" every name of the list is initials then surname; a last comma-separated piece
    with no initial at all is the (short) title, which the CRF, seeing only a few tokens, reads as one more
    name. Only when the string has no title run at all and every earlier piece holds an initial; or, in a
    surname-first list ("Jacobson, N., Lie Algebras (Wiley, 1962)"), when surnames and initials alternate
    and the last piece is a surname without its initials.
    """
    if not tagged or tagged[0][3] not in ("B-author", "author") or _title_run(tagged) or _title_run(tagged, "book"):
        return tagged
    end, pieces = _author_run_pieces(tagged, lambda word: word in (",", ";", "&") or word.lower() == "and")
    if len(pieces) < 2:
        return tagged
    last = [k for k in pieces[-1] if tagged[k][0].isalnum()]
    if not last or len(last) > 12 or any(_is_initial_at(tagged, k) for k in pieces[-1]):
        return tagged
    if tagged[last[0]][0].lower() in ("et", "al", "jr", "sr"):
        return tagged

    def initials_only(piece: list[int]) -> bool:
        return all(_is_initial_at(tagged, k) for k in piece if tagged[k][0].isalnum())

    initials_first = _is_initial_at(tagged, pieces[0][0]) and all(
        any(_is_initial_at(tagged, k) for k in p) for p in pieces[:-1])
    # "Jacobson, N., Lie Algebras (Wiley, 1962)": surname and initials alternate, the odd piece out is the title.
    surname_first = len(pieces) % 2 == 1 and all(
        initials_only(p) if i % 2 else not any(_is_initial_at(tagged, k) for k in p) for i, p in enumerate(pieces[:-1]))
    if not (initials_first or surname_first):
        return tagged
    # "J. D. Wilson, Boundary-Layer Meteorology, 78, 191-210": a piece straight before the volume or year
    # (over unlabelled words: "Series C, Vol. 72") is a journal (physics lists often print no title).
    following = next((t for t in tagged[pieces[-1][-1] + 1 :] if t[0].isalnum() and t[3] != "O"), None)
    if following is None or following[3].removeprefix("B-") in _NUMBERED_FIELDS:
        return tagged
    # Such a title is closed by a comma or a parenthesis (a stop would make it an abbreviated journal:
    # "Biomass Convers.") and starts with a capital (not a glued "andA Quattropani").
    if end >= len(tagged) or tagged[end][0] not in _TAIL_CLOSERS or not tagged[last[0]][0][:1].isupper():
        return tagged
    out = list(tagged)
    for n, k in enumerate(range(pieces[-1][0], pieces[-1][-1] + 1)):
        t = out[k]
        out[k] = (t[0], t[1], t[2], "B-title" if n == 0 else "title")
    return out


# A short title at the end of an author list is closed by a comma or a parenthesised publisher.
_TAIL_CLOSERS = (",", "(")
# Where a title is split from a journal it swallowed: the last sentence-ending full stop, else the last comma.
_SPLIT_MARKS = ".,"
_NUMBERED_FIELDS = frozenset({"volume", "issue", "pages", "date"})
_TITLE_ABBREVIATIONS = frozenset({"vs", "st", "dr", "mr", "mrs", "no", "vol", "fig", "eq", "ed", "eds", "al", "etc", "ca", "cf", "approx"})


_NOT_TITLE_WORDS = frozenset({"in", "im", "dans", "ed", "eds", "editor", "editors", "hrsg", "et", "al"})
_MAX_JOURNAL_WORDS = 16  # "Cell Biochemistry and Function: Cellular biochemistry and its modulation by …"


def _split_title_at_journal(text: str, tagged: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Give the journal back its name when the CRF read "Title. Journal 2007;10(3):137-44" as one title.

    In the styles that separate title and journal by a full stop only (Vancouver, and East Asian lists that
    follow it), a journal name the model does not know ("한국농촌의학.지역보건학회지", "Knee Surgery, Sports
    Traumatology, Arthroscopy") is read as the title's last sentence. When a string has no journal or book at
    all and its title runs straight into the volume, issue, pages or date, the words after the title's last
    sentence-ending full stop (a stop followed by a space, not after an initial or a common abbreviation)
    are the journal; without such a stop, those after its last comma ("Title, 도시문제, 통권 (527), 19-24"). A
    title opened by a quote ends at its closing quote first ("'A Study on …' Asia-pacific Journal of …, Vol.
    8"). At most 16 words, and not starting with a lower-case letter (a journal name starts with a capital
    where the script has case; "…, welfare and productivity. 80 183-205" is the title's end).
    """
    if any(t[3].removeprefix("B-") in ("journal", "book") for t in tagged):
        return tagged
    run = _title_run(tagged)
    if run is None:
        return tagged
    first, last = run
    # The next field, over unlabelled words ("Vol." tagged O before "8").
    following = next((t for t in tagged[last + 1 :] if t[0].isalnum() and t[3] != "O"), None)
    if following is None or following[3].removeprefix("B-") not in _NUMBERED_FIELDS:
        return tagged
    split = _closing_quote(text, tagged, first, last)
    for mark in _SPLIT_MARKS if split is None else ():
        for k in range(first + 1, last):
            token = tagged[k]
            if token[0] != mark or token[2] >= len(text) or text[token[2]] != " ":
                continue
            before = tagged[k - 1][0]
            if (len(before) == 1 and before.isupper()) or before.lower() in _TITLE_ABBREVIATIONS:
                continue
            split = k
        if split is not None:
            break
    if split is None:
        return tagged
    words = [k for k in range(split + 1, last + 1) if tagged[k][0].isalnum()]
    if not words or len(words) > _MAX_JOURNAL_WORDS or tagged[words[0]][0][0].islower():
        return tagged
    out = list(tagged)
    out[split] = (*tagged[split][:3], "O")
    for n, k in enumerate(words):
        t = out[k]
        out[k] = (t[0], t[1], t[2], "B-journal" if n == 0 else "journal")
    for k in range(split + 1, last + 1):
        if not out[k][0].isalnum() and out[k][3] == "title":
            out[k] = (out[k][0], out[k][1], out[k][2], "journal")
    return out


def _repair_title_head(tagged: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Give the author list back a surname the CRF took for the title's first word.

    "A. Braverman, M. Finkelberg, Finite difference quantum Toda lattice" is tagged with "Finkelberg," as the
    start of the title: a capitalised word right after an author's initial ("M.") and followed by a comma
    ends the name, and the title starts after that comma.
    """
    run = _title_run(tagged)
    if run is None:
        return tagged
    first, last = run
    if first < 2 or first + 2 > last or tagged[first + 1][0] != "," or not tagged[first][0][:1].isupper():
        return tagged
    if tagged[first - 1][0] != "." or tagged[first - 2][3] not in ("B-author", "author") or not _is_initial_at(tagged, first - 2):
        return tagged
    # Only in initials-first lists: in "Yarom, A. Thermodynamics, …" or "Sheridan C. Fast, portable …" the
    # word after the initial is the title's.
    if not _is_initial_at(tagged, 0) or not any(t[0].isalnum() for t in tagged[first + 2 : last + 1]):
        return tagged
    out = list(tagged)
    out[first] = (*tagged[first][:3], "author")
    out[first + 1] = (*tagged[first + 1][:3], "O")
    k = first + 2
    while k <= last and not out[k][0].isalnum():
        k += 1
    out[k] = (*out[k][:3], "B-title")
    return out


def _untagged_title_before_journal(tagged: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Label as the title the words the CRF left unlabelled between the authors (or year) and the journal.

    "구자인. (2020). 왜 마을농업인가. 마을, 5, 15-27": with no title found, the words just before the journal
    and after the author list or the year, which the CRF labelled nothing, are the title.
    """
    if _title_run(tagged) or _title_run(tagged, "book"):
        return tagged
    j = next((k for k, t in enumerate(tagged) if t[3] in ("B-journal", "journal")), None)
    if j is None:
        return tagged
    k = j - 1
    while k >= 0 and tagged[k][3] == "O":
        k -= 1
    if k < 0 or tagged[k][3].removeprefix("B-") not in ("author", "date"):
        return tagged
    words = [i for i in range(k + 1, j) if tagged[i][0].isalnum()]
    # Not a chapter's "In", an "editors" label or a letter glued to the year ("2016g").
    if not words or tagged[words[0]][0].lower() in _NOT_TITLE_WORDS or not any(
            len(tagged[i][0]) > 1 and not tagged[i][0].isdigit() and tagged[i][0].lower() not in _NOT_TITLE_WORDS for i in words):
        return tagged
    out = list(tagged)
    for n, i in enumerate(range(words[0], words[-1] + 1)):
        t = out[i]
        out[i] = (t[0], t[1], t[2], "B-title" if n == 0 else "title")
    return out


def _hangul_title_from_authors(tagged: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Give the title back the words the tagger added to a Korean author list.

    A Korean name is printed as one word of two to four syllables ("이찬희, 김영택, 이명성, 부여 정림사지 오층석탑
    구성암석의 원산지 추정, 지질학회지 43"); the tagger, seeing a comma-separated list of Hangul, runs the authors
    on into the title. The first comma piece after the first that holds two or more Hangul words starts the title,
    provided every piece before it is one word (a name, "외"/"등" for et al. aside) and it lies inside the author
    run at the string's start; a title run just after (over punctuation) continues it.
    """
    if not tagged or tagged[0][3] not in ("B-author", "author"):
        return tagged
    end, pieces = _author_run_pieces(tagged, lambda word: word in (",", ";"))
    start = None
    for piece in pieces[1:]:
        words = [k for k in piece if tagged[k][0].isalnum() and tagged[k][0] not in _KOREAN_ETAL]
        if sum(1 for k in words if _HANGUL.search(tagged[k][0])) >= 2:
            start = piece[0]
            break
        if len(words) > 1:
            return tagged
    if start is None:
        return tagged
    while start < end and not tagged[start][0].isalnum():
        start += 1
    out = list(tagged)
    for k in range(start, end):
        out[k] = (*out[k][:3], "B-title" if k == start else "title")
    k = end
    while k < len(out) and out[k][3] == "O" and not out[k][0].isalnum():
        k += 1
    if k < len(out) and out[k][3] == "B-title":
        out[k] = (*out[k][:3], "title")
    return out


_HANGUL = re.compile("[\uac00-\ud7a3]")
_KOREAN_ETAL = frozenset({"외", "등", "et", "al"})
# Scripts written without spaces between a number or a particle and the word ("1930년대", "고려말.조선초"): the
# tokenizer splits such a word, and the tagger may start a title inside it.
_CJK = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3]")


def _glued_title_start(tagged: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Start a CJK or Hangul title at the start of its word.

    "박성섭, 1930년대 중후반 …" is tokenised "1930" "년대", and the tagger reads "1930" as a date and starts the
    title at "년대"; "김윤정, 고려말.조선초 …" (a full stop for a middle dot) starts it at "조선초". A title
    whose first token is CJK or Hangul takes the tokens glued to it without a space: letters or digits, and a full
    stop or middle dot between two CJK or Hangul tokens.
    """
    run = _title_run(tagged)
    if run is None or not _CJK.search(tagged[run[0]][0]):
        return tagged
    first = k = run[0]
    while k > 0 and tagged[k - 1][2] == tagged[k][1]:
        prev = tagged[k - 1]
        if prev[0].isalnum():
            k -= 1
        elif prev[0] in (".", "\u00b7") and k >= 2 and tagged[k - 2][2] == prev[1] and _CJK.search(tagged[k - 2][0]):
            k -= 2
        else:
            break
    if k == first:
        return tagged
    out = list(tagged)
    for i in range(k, first + 1):
        out[i] = (*out[i][:3], "B-title" if i == k else "title")
    return out


def _author_inside_title(tagged: list[tuple[str, int, int, str]]) -> list[tuple[str, int, int, str]]:
    """Give the title back a name it holds ("U. Frisch, Turbulence: The Legacy of A. N. Kolmogorov, Cambridge …").

    A run of author words straight after the title (nothing but spaces between), when the authors were already
    given before the title, is a name inside the title: print separates a title from what follows.
    """
    run = _title_run(tagged)
    if run is None:
        return tagged
    first, last = run
    k = last + 1
    if k >= len(tagged) or tagged[k][3] not in ("B-author", "author"):
        return tagged
    if not any(t[3] in ("B-author", "author") for t in tagged[:first]):
        return tagged
    out = list(tagged)
    while k < len(out) and out[k][3] in ("B-author", "author"):
        out[k] = (*out[k][:3], "title")
        k += 1
    return out


def _parse_tagged(text: str, tagged: list[tuple[str, int, int, str]], key: str) -> Reference:
    if _CJK.search(text):  # the two CJK/Hangul rules cost a scan of the tokens; most strings have neither script
        tagged = _glued_title_start(_hangul_title_from_authors(tagged))
    tagged = _author_inside_title(tagged)
    tagged = _repair_title_end(text, _repair_title_start(tagged))
    tagged = _repair_author_tail(_split_title_at_journal(text, tagged))
    tagged = _repair_title_head(tagged)
    tagged = _untagged_title_before_journal(tagged)
    return build_reference(text, _without_non_title_runs(_runs(text, tagged)), key=key)


def _runs(raw: str, tagged: list[tuple[str, int, int, str]]) -> dict[str, list[str]]:
    """Contiguous same-label token runs as text spans of ``raw``, per label, in order.

    Two runs of one label separated only by punctuation tagged "O" are merged: the CRF sometimes
    drops a comma or colon inside a title to "O", which would otherwise cut the title in two.
    """
    runs: list[list] = []  # [label, start, end]
    for text, start, end, tag in tagged:
        if tag == "O" and not text.isalnum():
            continue  # punctuation between fields neither starts nor breaks a run
        # Models trained with begin tags mark a field's first token "B-<label>": a new run, except for the
        # fields a reference has one of, where a "B-" straight after the same field with only a subtitle
        # separator between ("Title: B-subtitle") continues it; taking the longer half would cut the title.
        begins = tag.startswith("B-")
        label = tag[2:] if begins else tag
        last = runs[-1] if runs else None
        if last is not None and last[0] == label and (
            not begins or (label in _SINGLE_RUN and _SUBTITLE_GAP.fullmatch(raw[last[2] : start]))
        ):
            last[2] = end
        else:
            runs.append([label, start, end])
    out: dict[str, list[str]] = {}
    for label, start, end in runs:
        if label != "O":
            out.setdefault(label, []).append(raw[start:end])
    return out


# ---------------------------------------------------------------------------------------------------
# Field clean-up.

_IN_BOOK = re.compile(r"[,.]\s+[Ii]n:?\s+(?=[A-Z0-9])")
_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|20\d\d)(?!\d)")
_DOI_IN_TEXT = re.compile(r"10\.\d{4,9}/[^\s\"<>]+", re.I)
_PMID_IN_TEXT = re.compile(r"PMID\s*:?\s*(\d{1,9})", re.I)
_DASHES = re.compile(r"\s*(?:-{1,3}|[\u2010-\u2015\u2212])\s*")
_PAGE_PREFIX = re.compile(r"^(?:pp?\.?|pages?|pgs?\.?|s\.|с\.)\s*", re.I)
_EDGE_PUNCT = " \t\n,;:.()[]{}\"'“”‘’«»"


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    # A trailing full stop belongs to the punctuation between fields, except after an abbreviation
    # ("J. Am. Chem. Soc."), which we keep because it is part of how the name is printed.
    text = text.strip(" ,;:")
    if text.endswith(".") and not re.search(r"(?:^|[\s.])[A-Za-z][a-z]{0,4}\.$", text):
        text = text[:-1].rstrip()
    if len(text) >= 2 and text[0] in "\"“‘'«" and text[-1] in "\"”’'»":
        text = text[1:-1].strip()
    return text.strip(" \"“”‘’«»")


# A DOI printed across a line break: "10.1128/JCM." + "00128-10", "10.1371/journal." + "pone.0007948",
# "10.1021/jacs.7b" + "06197". After a DOI separator the next piece starts with a digit or a lower-case letter;
# after a letter or digit it must hold a digit too ("06197", "997.x"). Never across a capitalised word, a label or
# a sentence's punctuation: "10.1086/599206. PubMed: 19416076" is a DOI and a PubMed id, and
# "…01463-09 PMID: 19864480" ends at the space.
_NOT_DOI_WORD = r"(?!(?:pmid|pmcid|pubmed|epub|doi|https?|www|and|in|accessed|available|retrieved|cited)\b)"
# Two more breaks close up: before a Lancet-style "(11)70167-0" (two digits in brackets, a digit after them: a
# year in brackets has four), and before a piece in capitals that holds a digit ("E3.1786", "JCM.01463-09"),
# which a word of the text after a DOI ("Ecology", "AIDS") does not.
_DOI_SPLIT = re.compile(rf"(?<=[./\-_])\s+(?=[0-9a-z]){_NOT_DOI_WORD}"
                        rf"|(?<=[0-9A-Za-z])\s+(?=[0-9a-z][\w.\-/()]*\d){_NOT_DOI_WORD}"
                        r"|(?<=[0-9A-Za-z\-])\s+(?=\(\d\d\)\d)"
                        rf"|(?<=[0-9A-Za-z./\-_])\s+(?=[0-9.\-_]*[A-Z][0-9A-Z.\-_()]*\d[0-9A-Z.\-_()]*(?:\s|$))"
                        rf"{_NOT_DOI_WORD}")
_DOI_BROKEN_PREFIX = re.compile(r"\b10\.\s*(\d{4,9})\s*/\s*")


def normalise_doi(text: str) -> str:
    """Bare lower-case DOI ("10.1000/xyz"), without resolver prefix, "doi:" label or trailing punctuation.

    Only line breaks inside the DOI are closed up (:data:`_DOI_SPLIT`): every space used to be removed, so the
    DOI ran on into what followed it ("10.1128/jcm.01463-09pmid:19864480", a BMC article's whole "Cite this
    article as" box), and the reference check matched nothing by it."""
    if "%2" in text or "%3" in text:
        # A DOI copied from a link: "10.1128%2FAEM.02069-12" (identifiers.normalise_doi undoes it the same way).
        text = unquote(text)
    text = _DOI_BROKEN_PREFIX.sub(r"10.\1/", text)
    m = _DOI_IN_TEXT.search(text)
    if not m:
        return ""
    m = _DOI_IN_TEXT.match(_DOI_SPLIT.sub("", text[m.start():]))
    if not m:
        return ""
    return _undoubled(without_landing_tail(m.group().rstrip(".,;:)]}")).lower())


def _undoubled(doi: str) -> str:
    """A DOI whose text a PDF printed twice over itself (a link's hidden text under its visible one):
    "10.1371/journal.pone.0007948journal.pone.0007948", or the suffix again at the end of a run of other
    characters ("…/journal.pone.0010864 20532246 108 10.1 1371/journal.pone.0010864" closed up), is the DOI once."""
    prefix, _, suffix = doi.partition("/")
    half = len(suffix) // 2
    if suffix and len(suffix) % 2 == 0 and suffix[:half] == suffix[half:]:
        return f"{prefix}/{suffix[:half]}"
    tail = suffix.rsplit("/", 1)[-1]
    if "/" in suffix and len(tail) >= 8 and suffix.startswith(tail):
        return f"{prefix}/{tail}"
    return doi


def normalise_pages(text: str) -> str:
    """"pp. 123 – 30" → "123-130"; a single page stays as is."""
    text = _PAGE_PREFIX.sub("", re.sub(r"\s+", " ", text).strip()).strip(_EDGE_PUNCT)
    parts = _DASHES.split(text)
    if len(parts) == 2 and parts[0] and parts[1]:
        first, last = parts[0].strip(), parts[1].strip()
        # Abbreviated end pages ("1234-56") are expanded so that both printed forms compare equal.
        # (At most 12 digits: no page is longer, and int() refuses runs over 4,300 digits.)
        if (first.isdigit() and last.isdigit() and len(last) < len(first) <= 12
                and int(last) < int(first[-len(last):]) + 10**len(last)):
            candidate = first[: len(first) - len(last)] + last
            if int(candidate) >= int(first):
                last = candidate
        return f"{first}-{last}"
    return text


_INITIALS = re.compile(r"^(?:[A-Z\u00C0-\u00DE][a-z]?\.?[\s\-]*){1,4}$")
_INITIALS_NODOT = re.compile(r"^[A-Z\u00C0-\u00DE]{1,3}$")
_SHORT_SURNAME = re.compile(r"^[A-Z\u00C0-\u00DE][a-z\u00DF-\u00FF]$")  # "Hu", "Li", "Ng", "Wu": no dot
_CONNECTORS = re.compile(r"\s*(?:,?\s+(?:and|&|et|und|y|e|и)\s+|\s&\s*)\s*", re.I)
_ETAL = re.compile(r",?\s*(?:et\s*al\.?|and\s+others|et\s+coll\.?|\[?\.\.\.\]?)\s*$", re.I)
_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "le", "la", "dos", "das", "ter", "ten", "bin"}


def _is_initials(piece: str) -> bool:
    p = piece.strip()
    return bool(p) and (bool(_INITIALS.match(p)) or bool(_INITIALS_NODOT.match(p)))


def _one_author(name: str) -> Author | None:
    name = re.sub(r"\s+", " ", name).strip(" ,;:")
    if not name or not any(ch.isalpha() for ch in name):
        return None
    if "," in name:  # "Smith, J." / "Smith, John"
        family, given = (s.strip() for s in name.split(",", 1))
        return Author(family=family.rstrip("."), given=given)
    words = name.split(" ")
    if len(words) == 1:
        return Author(family=words[0].rstrip("."))
    # "Smith JA" / "Smith J.A." (Vancouver): initials last. A short surname or particle also reads as initials
    # ("Hu", "Li", "De" fit "Ch."-style ones): with capitals only last, dotted or not
    # ("Hu Q", "Li XY", "Xu S.", "Li J.A.", "De Vries J"), what comes before is the surname.
    if _is_initials(words[-1]) and (not _is_initials(words[0]) or (_INITIALS_NODOT.match(words[-1].replace(".", "")) and (
            any(not _is_initials(w) for w in words[:-1]) or (len(words) == 2 and _SHORT_SURNAME.match(words[0]))))):
        i = len(words) - 1
        while i > 1 and _is_initials(words[i - 1]):
            i -= 1
        given = " ".join(words[i:])
        return Author(family=" ".join(words[:i]), given=given)
    # "J. A. Smith" / "John A. Smith" / "Ludwig van Beethoven": family is the last word plus particles.
    j = len(words) - 1
    while j > 1 and words[j - 1].lower() in _PARTICLES:
        j -= 1
    return Author(family=" ".join(words[j:]).rstrip("."), given=" ".join(words[:j]))


def split_authors(text: str) -> list[Author]:
    """Split an author field into :class:`Author`s.

    Handles "Smith J, Jones AB", "J. Smith and A. Jones", "Smith, J., Jones, A. B., & Brown, C.",
    "Smith J.; Jones A." and a trailing "et al." (dropped: it names nobody).
    """
    text = re.sub(r"\s+", " ", text).strip(" ,;:")
    text = _ETAL.sub("", text).strip(" ,;:")
    if not text:
        return []
    text = _CONNECTORS.sub(", ", text) if ";" not in text else _CONNECTORS.sub("; ", text)
    if ";" in text:
        pieces = [p for p in (s.strip() for s in text.split(";")) if p]
    else:
        raw_pieces = [p.strip() for p in text.split(",") if p.strip()]
        pieces = []
        # "Smith, J., Jones, A." → a bare surname followed by an initials-only piece belong together.
        for piece in raw_pieces:
            if pieces and _is_initials(piece) and " " not in pieces[-1].strip() and not _is_initials(pieces[-1]) and "," not in pieces[-1]:
                pieces[-1] = f"{pieces[-1]}, {piece}"
            else:
                pieces.append(piece)
        # "Smith, John, Jones, Anne" (full given names after commas) is ambiguous; pair single words
        # only when every piece is a single word, which is how that style looks.
        if (
            len(pieces) >= 2
            and len(pieces) % 2 == 0
            and all(" " not in p and "," not in p and p[:1].isupper() for p in pieces)
        ):
            pieces = [f"{pieces[i]}, {pieces[i + 1]}" for i in range(0, len(pieces), 2)]
    authors = [a for a in (_one_author(p) for p in pieces) if a is not None]
    # "Gleich GJ, Wegner CD." — when the other authors' initials carry no dots, the final full stop ends
    # the author list rather than abbreviating an initial.
    if authors and re.fullmatch(r"[A-Z]{1,3}\.", authors[-1].given):
        others = [a.given for a in authors[:-1]]
        if (others and all(re.fullmatch(r"[A-Z]{1,3}", g) for g in others)) or re.fullmatch(r"[A-Z]{2,3}\.", authors[-1].given):
            authors[-1].given = authors[-1].given[:-1]
    return authors


def _first_year(text: str) -> int | None:
    m = _YEAR.search(text)
    return int(m.group(1)) if m else None


# A note after a title on its language or form ("… of Turbulence [in Russian]", "(in Korean with English
# abstract)", "(with discussion)"): GROBID labels it a note, not part of the title.
_TITLE_NOTE = re.compile(r"\s*[\[(](?:in\s+[A-Z][a-z]+(?:\s+with\s+[^\])]{1,40})?|with\s+discussion)[\])]\s*$")


def _without_title_note(title: str) -> str:
    return _TITLE_NOTE.sub("", title) or title


def build_reference(raw: str, fields: dict[str, list[str]], key: str = "") -> Reference:
    """Assemble a Reference from labelled spans (tagger labels → list of texts, in reading order).

    Shared by the parser and the evaluation, which turns gold spans into a Reference the same way.
    """
    def longest(label: str) -> str:
        texts = [_clean(t) for t in fields.get(label, [])]
        texts = [t for t in texts if t]
        return max(texts, key=len) if texts else ""

    ref = Reference(key=key, raw=raw)
    author_text = ", ".join(t for t in fields.get("author", []) if t.strip())
    if author_text:
        ref.authors = split_authors(author_text)
    title, journal, book = longest("title"), longest("journal"), longest("book")
    # GROBID marks book titles title:m: a book is the title when there is no article title, else the
    # container (a chapter in a book, a paper in proceedings).
    ref.title = _without_title_note(title or book)
    ref.container = journal or (book if title else "")
    # "Title, in Book Title" / "Title. In: Book Title" tagged as one title: a chapter or a proceedings paper.
    m = _IN_BOOK.search(ref.title)
    if m and not ref.container and m.start() >= 10:
        ref.title, ref.container = ref.title[: m.start()].rstrip(" ,."), ref.title[m.end() :].strip()
    for label in ("date",):
        for text in fields.get(label, []):
            year = _first_year(text)
            if year is not None:
                ref.year = year
                break
    if ref.year is None:
        # Only fall back to a bare year-like number outside the labelled volume/pages, so that
        # "1987" in "vol 1987" is not taken for a year.
        for text in fields.get("O", []):
            ref.year = _first_year(text)
            if ref.year:
                break
    ref.volume = longest("volume").strip(_EDGE_PUNCT)
    ref.volume = re.sub(r"^(?:vol(?:ume)?\.?|v\.|bd\.?|t\.)\s*", "", ref.volume, flags=re.I)
    ref.issue = re.sub(r"^(?:no\.?|nr\.?|issue|n°|№)\s*", "", longest("issue").strip(_EDGE_PUNCT), flags=re.I)
    ref.pages = normalise_pages(longest("pages"))
    ref.doi = normalise_doi(" ".join(fields.get("doi", []))) or normalise_doi(raw)
    pmid_text = " ".join(fields.get("pmid", []))
    m = re.search(r"\d{1,9}", pmid_text)
    if m:
        ref.pmid = m.group()
    else:
        m = _PMID_IN_TEXT.search(raw)
        ref.pmid = m.group(1) if m else ""
    ref.publication_type = "article" if ref.container and journal else ("book" if book and not title else "")
    return ref


# Longer "references" are text the segmenter failed to cut (a whole page): tag only their start, so one
# hostile string cannot cost seconds of tagging time.
MAX_REFERENCE_CHARS = 3000
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_UNENCODABLE = re.compile("[\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\ufffe\uffff]")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\u061c\ufeff]")
_CONTROLS = {c: " " for c in range(32)} | {0x7F: " "}


def _encodable(raw: str) -> str:
    """``raw`` without the characters no encoder or C extension should see (kept as ``Reference.raw``)."""
    raw = _SURROGATE_PAIR.sub(lambda m: m.group().encode("utf-16le", "surrogatepass").decode("utf-16le"), raw)
    return _INVISIBLE.sub("", _UNENCODABLE.sub("", raw)).translate(_CONTROLS)


def _prepare(raw: str) -> str:
    """Any string → text the tagger (and the CRF's C extension) accepts and was trained on.

    Lone surrogates, private-use and noncharacter codes, bidi and zero-width controls, C0 controls are
    dropped or turned into spaces (pycrfsuite raised ``SystemError`` on a lone surrogate); ligatures, soft
    hyphens and odd spaces are normalised (NFKC), as in the training text.
    """
    text = unicodedata.normalize("NFKC", _encodable(raw)).replace("\u00ad", "").replace("\u00a0", " ")
    return normalise_spacing(re.sub(r"\s+", " ", text[:MAX_REFERENCE_CHARS]).strip())[0]


def _parse_raws(raws: list[str], keys: list[str]) -> list[Reference]:
    """The strings prepared, tagged as one batch and parsed; each Reference keeps its raw string."""
    texts = [_prepare(raw) for raw in raws]
    out = []
    for raw, text, tagged, key in zip(raws, texts, _tag_texts(texts), keys, strict=True):
        ref = _parse_tagged(text, tagged, key)
        ref.raw = _encodable(raw).strip()
        out.append(ref)
    return out


def parse_reference_string(raw: str, key: str = "") -> Reference:
    """Parse one reference string ("Smith J, Jones A. Title. J Biol. 2003;12:1-9.") into a Reference."""
    return _parse_raws([raw], [key])[0]


# Strings tagged per call of the tagger: large enough that the BiLSTM's batches are full, small enough that
# a long list is not held as features all at once.
_CHUNK = 2048


def parse_reference_strings(raws: Iterable[str]) -> list[Reference]:
    """Parse many reference strings (keys "b0", "b1", … like GROBID's), tagged in batches."""
    out: list[Reference] = []
    it = iter(raws)
    while chunk := list(itertools.islice(it, _CHUNK)):
        out += _parse_raws(chunk, [f"b{len(out) + i}" for i in range(len(chunk))])
    return out
