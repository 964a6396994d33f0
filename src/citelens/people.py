"""Author disambiguation rules: pure functions the stores call when they save a document's authors.

ORCID first: two records with the same ORCID are one author, two different ORCIDs are never one author (an
ORCID a document prints on two of its authors identifies neither: :func:`orcids_on_several_positions`).
Without an ORCID, a record is compared with each stored author of the same name key (folded family name and
first initial; also the key with family and given name swapped, "Velu Govindan" / "Govindan Velu") whose
given names fit (one of the author's full given names, when it has any: an "X." it was once printed with does
not let every X-name in, :func:`given_names_fit_author`), and the evidence is weighed into a confidence
(:func:`match_confidence`): shared co-authors (none from a paper with over 100 authors), a shared institution
or e-mail address, one's paper citing a paper of the other (people cite their own work), and topic — shared
cited works, the same journal, shared title words.
The record joins the most likely author when that confidence reaches :data:`MERGE_THRESHOLD`; otherwise it
starts a new author, so a common name does not pool strangers (a wrong merge is worse than a split).

The weights are log-likelihood ratios set by hand (a naive-Bayes sum; the labelled data, ORCID-bearing
authors of the pmc-oa dev split, has ~60 same-person pairs: too few to fit them) and checked on that split:
``benchmarks/bench_authors.py`` reports pairwise precision/recall and how often merges at each confidence were
right, on dev and, once, on test.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from citelens.references.resolve import fold

MERGE_THRESHOLD = 0.9  # confidence needed to put a record under an existing author
# A paper with more authors than this (an abstract book, a consortium) gives no co-author evidence: among 2,441
# authors some share a name key with a co-author of nearly anyone ("Kim T." of an ICU abstract became a rice
# biochemist). Its authors still join by ORCID, institution, e-mail and topic.
COAUTHOR_EVIDENCE_MAX_AUTHORS = 100

# Evidence weights (log-odds). The prior is for two records that share a name key and fitting given names.
_PRIOR = -1.5
_FULL_GIVEN_NAME = 1.0  # "Jung-Gu" = "Jung-Gu" (initials alone, "J.", say less)
_FIRST_COAUTHOR, _MORE_COAUTHORS, _COAUTHOR_CAP = 3.5, 1.0, 5.5
_INSTITUTION = 2.8
_EMAIL = 6.0
_SAME_JOURNAL = 0.7
_TITLE_WORDS = ((5, 1.5), (3, 1.0), (2, 0.7), (1, 0.3))  # (shared content words of titles at least, weight)
_CITED_WORKS = ((10, 3.5), (5, 2.5), (3, 1.5), (2, 0.8), (1, 0.3))  # (shared cited works at least, weight)
_CITES_OWN_WORK = 2.5  # one's paper cites a paper of the other (people cite their own work)
_OTHER_COUNTRY = -1.0  # every located affiliation of one in another country than every one of the other
_SWAPPED_NAME = -1.0  # matched with family and given name swapped

_STOPWORDS = frozenset({
    "about", "after", "among", "analysis", "and", "approach", "based", "between", "case", "different", "during",
    "effect", "effects", "from", "genome", "high", "into", "level", "levels", "low", "model", "new", "novel",
    "role", "study", "their", "these", "this", "through", "under", "using", "various", "versus", "which", "with",
    "within", "without"})
_WORD = re.compile(r"[a-z][a-z0-9]{3,}")


def author_name_key(family: str, given: str) -> str:
    """Folded family name and first initial: 'Müller-Lyon', 'Hans' → 'muller lyon h'."""
    return " ".join(x for x in (fold(family), fold(given)[:1]) if x)


def swapped_name_key(family: str, given: str) -> str:
    """The name key with family and given name swapped, for one-word given names ('Velu', 'Govindan')."""
    g = fold(given)
    return author_name_key(given, family) if g and " " not in g and len(g) > 1 else ""


def orcids_on_several_positions(orcids: Iterable[str]) -> frozenset[str]:
    """ORCIDs a document prints on two or more of its author positions: a publisher's error (pmc-oa has five
    such papers: Lupi's ORCID also on Denery-Papini, Chialva's on Salvioli di Fossalunga). Two positions of one
    paper are two people, and which of them the ORCID is is unknown, so it identifies neither: both are matched
    by name and evidence as records without one."""
    counts = Counter(o for o in orcids if o)
    return frozenset(o for o, n in counts.items() if n > 1)


def coauthor_keys(keys: list[str], own: str) -> frozenset[str]:
    """The name keys of a record's co-authors (``keys``: every position's key, ``own``: the record's); none for a
    paper with more than :data:`COAUTHOR_EVIDENCE_MAX_AUTHORS` authors."""
    if len(keys) > COAUTHOR_EVIDENCE_MAX_AUTHORS:
        return frozenset()
    return frozenset(k for k in keys if k and k != own)


def title_words(title: str) -> frozenset[str]:
    """Content words of a title (folded, four letters or more, common words dropped): topic evidence."""
    return frozenset(w for w in _WORD.findall(fold(title)) if w not in _STOPWORDS)


@dataclass(frozen=True)
class AuthorEvidence:
    """What is known about an author (a stored cluster, or the record being saved)."""

    orcid: str = ""
    coauthors: frozenset[str] = field(default_factory=frozenset)  # name keys
    institutions: frozenset[str] = field(default_factory=frozenset)  # "ror:…" and folded names
    given_names: frozenset[str] = field(default_factory=frozenset)  # as printed
    emails: frozenset[str] = field(default_factory=frozenset)  # lower-cased
    countries: frozenset[str] = field(default_factory=frozenset)  # ISO alpha-2 of located affiliations
    journals: frozenset[str] = field(default_factory=frozenset)  # folded journal titles
    cited_works: frozenset[str] = field(default_factory=frozenset)  # work ids the author's documents cite
    title_words: frozenset[str] = field(default_factory=frozenset)  # content words of their titles
    works: frozenset[str] = field(default_factory=frozenset)  # work ids of the author's own documents


def institution_keys(rors: Iterable[str], names: Iterable[str]) -> frozenset[str]:
    return frozenset({f"ror:{r}" for r in rors if r} | {fold(n) for n in names if fold(n)})


def _given_tokens(name: str) -> list[str]:
    return fold(name).split()


def given_names_compatible(a: str, b: str) -> bool:
    """'Jung-Gu' fits 'Jung-Gu', 'Junggu', 'J.-G.' and 'J'; 'Taylor R.' fits 'Taylor'; 'Li' does not fit 'Lei',
    nor 'Wei' 'Wei Min' (an extra full name is another name, an extra initial is a middle name left out)."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb or fa.replace(" ", "") == fb.replace(" ", ""):
        return True
    ta, tb = fa.split(), fb.split()
    if all(len(t) == 1 for t in ta) or all(len(t) == 1 for t in tb):
        ia, ib = "".join(t[0] for t in ta), "".join(t[0] for t in tb)
        return ia.startswith(ib) or ib.startswith(ia)
    short, long_ = sorted((ta, tb), key=len)
    if any(len(t) > 1 for t in long_[len(short):]):
        return False
    return all(x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))
               for x, y in zip(short, long_, strict=False))


def _is_full_given_name(name: str) -> bool:
    return any(len(t) > 1 for t in _given_tokens(name))


def given_names_fit_author(record: Iterable[str], known: Iterable[str]) -> bool:
    """Whether a record's given names fit a stored author's: one of them must fit one of the author's *full*
    given names when the author has any, initials only otherwise. An initial the author was once printed with
    ("X.") fits every name of that letter, so it must not let "Xinyu" or "Xuesong" join a "Xi" (it did:
    one pmc-oa "Xi Liu" gathered 13 other given names through one "X. Liu")."""
    known = [k for k in known if k]
    if not known:
        return True
    names = [g for g in record if g] or [""]
    full = [k for k in known if _is_full_given_name(k)] or known
    return any(given_names_compatible(g, k) for g in names for k in full)


def fuller_name(known_given_names: Iterable[str], record_given: str) -> bool:
    """Whether an author whose records all give initials only ("R. K.") is better shown by the name of a record
    that joins it with a full given name ("Rajeev K."). An author was shown by its first record's name for good,
    so pmc-oa's "R. K. Varshney" stayed so though four of his five papers spell the name out."""
    return _is_full_given_name(record_given) and not any(_is_full_given_name(g) for g in known_given_names)


def _full_given_name_shared(a: Iterable[str], b: Iterable[str]) -> bool:
    full = {fold(g).replace(" ", "") for g in a if _is_full_given_name(g)}
    return bool(full & {fold(g).replace(" ", "") for g in b if _is_full_given_name(g)})


def _tiered(value: float, tiers: tuple[tuple[float, float], ...]) -> float:
    return next((w for at_least, w in tiers if value >= at_least), 0.0)


def match_log_odds(record: AuthorEvidence, known: AuthorEvidence, *, swapped: bool = False) -> float:
    """The weighed evidence that ``record`` and ``known`` (same name key, given names that fit) are one person."""
    score = _PRIOR + (_SWAPPED_NAME if swapped else 0.0)
    if _full_given_name_shared(record.given_names, known.given_names):
        score += _FULL_GIVEN_NAME
    shared_coauthors = len(record.coauthors & known.coauthors)
    if shared_coauthors:
        score += min(_COAUTHOR_CAP, _FIRST_COAUTHOR + _MORE_COAUTHORS * (shared_coauthors - 1))
    if record.institutions & known.institutions:
        score += _INSTITUTION
    if record.emails & known.emails:
        score += _EMAIL
    if record.journals & known.journals:
        score += _SAME_JOURNAL
    score += _tiered(len(record.title_words & known.title_words), _TITLE_WORDS)
    score += _tiered(len(record.cited_works & known.cited_works), _CITED_WORKS)
    if record.cited_works & known.works or record.works & known.cited_works:
        score += _CITES_OWN_WORK
    if record.countries and known.countries and not record.countries & known.countries:
        score += _OTHER_COUNTRY
    return score


def match_confidence(record: AuthorEvidence, known: AuthorEvidence, *, swapped: bool = False) -> float:
    """Probability-like confidence (0–1) that ``record`` is the author ``known`` describes.

    1.0 for the same ORCID, 0.0 for two different ORCIDs or given names that do not fit ("Li" / "Lei");
    otherwise the logistic of :func:`match_log_odds`.
    """
    if record.orcid and known.orcid:
        return 1.0 if record.orcid == known.orcid else 0.0
    if not given_names_fit_author(record.given_names, known.given_names):
        return 0.0
    return 1.0 / (1.0 + math.exp(-match_log_odds(record, known, swapped=swapped)))


def same_author(record: AuthorEvidence, known: AuthorEvidence) -> bool:
    """Whether ``record`` (same name key as ``known``) is the author ``known`` describes."""
    return match_confidence(record, known) >= MERGE_THRESHOLD
