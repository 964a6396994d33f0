"""Resolve stage: map each reference (and the citing document itself) to a work.

Identifiers first (normalised DOI, PMID, PMCID); otherwise title + first author + year fuzzy matching
(rapidfuzz) against works already known to the index — ingested articles, metadata records and other
papers' references to the same work. Unmatched references become new works, so the next paper citing
the same work without a DOI lands on the same one. The index is anything implementing :class:`WorkIndex`
(the stores do), which keeps this module free of database code.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Protocol

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from citelens.document import MAX_ROW_ID, Author, Document, Reference, parse_work_id

# Accept a fuzzy match at or above this score (0–1). Chosen on pmc-samples/plos-starter *references*
# (the measurement hides identifiers, see benchmarks/eval_resolution.py), not on any reserved split.
MATCH_THRESHOLD = 0.86


@dataclass
class WorkRecord:
    """What the resolver knows about a work: enough to match it and to show it."""

    title: str = ""
    authors: list[Author] = field(default_factory=list)
    year: int | None = None
    container: str = ""
    volume: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    kind: str = "reference"  # "article" (ingested full text) | "metadata" | "reference"
    work_type: str = ""  # research-article, retraction, …
    issn: str = ""  # the journal's print ISSN, "NNNN-NNNC"
    eissn: str = ""  # its electronic ISSN


@dataclass
class WorkCandidate:
    work_id: str
    title_norm: str
    first_author: str
    year: int | None
    container_norm: str = ""
    volume: str = ""
    first_page: str = ""
    doi: str = ""
    pages: str = ""  # as printed ("193-204"): where a first page alone would split one work (_pages_may_agree)


# What find_work_candidates is asked with: (first-author key, year, title key).
BlockingKey = tuple[str, int | None, str]


class WorkIndex(Protocol):
    """What the resolver needs from an index of works (implemented by every store)."""

    def find_work_by_identifier(self, kind: str, value: str) -> str | None: ...

    def find_work_candidates(self, first_author: str, year: int | None, title_key: str) -> list[WorkCandidate]: ...

    def create_work(self, record: WorkRecord) -> str: ...

    def enrich_work(self, work_id: str, record: WorkRecord) -> WorkRecord | None:
        """Merge ``record`` into the work (:func:`citelens.rules.merge_work`) and give the work as it now stands
        (None: the index does not say; the resolver then knows the work's authors only from the reference)."""
        ...

    def prefetch_candidates(self, keys: Sequence[BlockingKey]) -> None:
        """A hint before a document's references are resolved: ``find_work_candidates`` will be asked with
        (some of) ``keys``, in order, between calls of ``create_work`` / ``enrich_work``. An index with costly
        look-ups may fetch them together now, as long as every later answer is what the per-item call would
        give at that moment (the works this document creates or enriches included). This default does
        nothing: each call then asks the index itself."""
        return None

    def find_work_by_alias(self, kind: str, value: str) -> str | None:
        """The work that knows ``value`` as another of its identifiers (see ``add_work_alias``); this default
        keeps none."""
        return None

    def add_work_alias(self, work_id: str, kind: str, value: str) -> None:
        """Remember ``value`` as another identifier of ``work_id``: a reference's DOI that is mistyped or
        another registration of the work it matched (:func:`_doi_mistyped`). The first work given a value
        keeps it. This default keeps nothing."""
        return None


# ------------------------------------------------------------------------------------------ normalising

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NON_WORD = re.compile(r"[\W_]+")  # dashes and punctuation outside ASCII would vanish when folding
# A first page: digits after at most two letters ("S13", "e1001051", a Cochrane review's "CD005966"). Compiled once:
# re.match's cache lookup was half of first_page.
_FIRST_PAGE = re.compile(r"\s*([A-Za-z]{0,2}\d+)")
_PAGE_PARTS = re.compile(r"([a-z]*)(\d+)")
_PAGE_RANGE = re.compile(r"\s*(?:pp?\.?\s*)?([a-z]{0,2})(\d+)(?:\s*[-\u2013\u2014]+\s*[a-z]{0,2}(\d+))?")
# Numbers in a folded title (_title_numbers): digit runs, and Roman numerals up to 39 standing as words ("l", "li"
# and "xl" are left out: a surname and words more often than 50, 51 and 40).
_DIGITS = re.compile(r"\d+")
_ROMAN = re.compile(r"(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10}
_MAY_HOLD_NUMBER = re.compile(r"\d|\b[ivx]+\b")


@lru_cache(maxsize=65_536)  # pure; the resolver folds each name and title ~13 times per reference while storing
def fold(s: str) -> str:
    """Lower-case ASCII-folded alphanumerics separated by single spaces ('Müller-Lyon' → 'muller lyon')."""
    s = unicodedata.normalize("NFKD", _NON_WORD.sub(" ", s or ""))
    s = s.encode("ascii", "ignore").decode("ascii").lower()
    return _NON_ALNUM.sub(" ", s).strip()


def title_key(title: str) -> str:
    """Blocking key for titles: the first 24 characters of the folded title without spaces."""
    return folded_title_key(fold(title))


def folded_title_key(folded: str) -> str:
    """:func:`title_key` of a title already folded (the resolver and the store have it at hand)."""
    return folded.replace(" ", "")[:24]


def author_key(authors: list[Author]) -> str:
    if not authors:
        return ""
    fam = fold(authors[0].family)
    return fam.split(" ")[-1] if fam else ""


def first_page(pages: str) -> str:
    m = _FIRST_PAGE.match(pages or "")
    return m.group(1).lower() if m else ""


def record_from_reference(ref: Reference) -> WorkRecord:
    return WorkRecord(title=ref.title, authors=list(ref.authors), year=ref.year, container=ref.container,
                      volume=ref.volume, pages=ref.pages, doi=ref.doi, pmid=ref.pmid, pmcid=ref.pmcid,
                      kind="reference")


def record_from_document(doc: Document) -> WorkRecord:
    return WorkRecord(title=doc.title, authors=list(doc.authors), year=doc.year, container=doc.journal,
                      volume=doc.volume, pages=doc.pages, doi=doc.doi, pmid=doc.pmid, pmcid=doc.pmcid,
                      kind="article", work_type=doc.article_type, issn=doc.issn, eissn=doc.eissn)


# How a reference found its work (``Reference.resolution_method``): by an identifier, by title, first author
# and year, or not at all (a new work made for it).
RESOLUTION_METHODS = ("doi", "pmid", "pmcid", "fuzzy", "new")


# ------------------------------------------------------------------------------------------- matching

def match_score(rec: WorkRecord, cand: WorkCandidate, *, fa: str | None = None, t: str | None = None) -> float:
    """0–1 similarity of a record to a candidate work; 0 when they cannot be the same work.

    ``fa`` / ``t`` are the record's author key and folded title when the caller already has them.
    """
    doi_conflict = bool(rec.doi and cand.doi and rec.doi != cand.doi)
    if doi_conflict and not _doi_mistyped(rec, cand):
        return 0.0
    if t is None:
        t = fold(rec.title)
    if fa is None:
        fa = author_key(rec.authors)
    miscited = _printed_elsewhere(rec, cand)
    if miscited and not _miscited(rec, cand, t, fa):
        return 0.0
    if t and cand.title_norm and t != cand.title_norm and _numbered_apart(t, cand.title_norm):
        return 0.0
    author_ok = bool(fa and cand.first_author) and (fa == cand.first_author or fuzz.ratio(fa, cand.first_author) >= 85)
    # Another first author is no conflict where the volume and first page are the work's: one article starts
    # there, and its first author was written another way (given name first: "Lu" / "Hui"; an organisation
    # for a person: "CBOL" / "Group"). The title still decides.
    author_conflict = bool(fa and cand.first_author) and not author_ok and not _same_start(rec, cand)
    if rec.year is not None and cand.year is not None:
        dy = abs(rec.year - cand.year)
        if dy > 1:
            return 0.0
        year_score = 1.0 if dy == 0 else 0.5
    else:
        year_score = 0.5
    if t and cand.title_norm:
        ts = fuzz.ratio(t, cand.title_norm) / 100.0
        if ts < 0.8:
            # A reference may carry a truncated or subtitle-less title: allow containment.
            ts = max(ts, fuzz.partial_ratio(t, cand.title_norm) / 100.0 - 0.08 if min(len(t), len(cand.title_norm)) >= 30 else 0.0)
        if ts < 0.9 and author_ok and year_score == 1.0 and _main_title_match(t, cand.title_norm):
            # "Brian" vs "Brian: a simulator for spiking neural networks" — one side dropped the subtitle
            ts = 0.9
        if doi_conflict and not (ts >= 0.95 and author_ok and year_score == 1.0):
            return 0.0
        score = 0.75 * ts + 0.15 * (1.0 if author_ok else 0.0 if author_conflict else 0.5) + 0.10 * year_score
        if author_conflict and ts < 0.97:
            score = min(score, 0.8)
        if miscited:  # below a candidate whose pages agree, so that a tie between the two is not one
            score -= _MISCITED_PENALTY
        return score
    if doi_conflict:
        return 0.0
    # No title on one side (terse styles: "Smith J (2003) Nature 424: 12"): demand author, year,
    # volume and first page to agree.
    fp = first_page(rec.pages)
    if (author_ok and year_score == 1.0 and rec.volume and fp and rec.volume == cand.volume
            and (fp == cand.first_page or _page_number(fp) == _page_number(cand.first_page or "") != "")):
        return 0.9
    return 0.0


def _same_start(rec: WorkRecord, cand: WorkCandidate) -> bool:
    """The record gives the candidate's volume and first page (article numbers and section letters included)."""
    return _starts_alike(rec.volume, first_page(rec.pages), cand.volume, cand.first_page)


def _starts_alike(volume_a: str, first_page_a: str, volume_b: str, first_page_b: str) -> bool:
    """One volume and one first page, both given (compared as :func:`_page_number` writes them)."""
    return bool(volume_a and volume_a == volume_b and first_page_a and first_page_b
                and _page_number(first_page_a) == _page_number(first_page_b) != "")


def _doi_mistyped(rec: WorkRecord, cand: WorkCandidate) -> bool:
    """A reference whose DOI is not the candidate's, though (match_score demands) it gives the candidate's title,
    first author and year: one of the two DOIs is mistyped or another registration of the work. Only a
    reference's DOI gives way: an ingested article or a metadata record states its own. The work keeps its DOI
    and learns the other as an alias. Either

    - the reference gives the candidate's volume and first page ("…/cropsci2002.0739" / "….7390",
      "10.1038/s41558-020-07312", a JSTOR and a publisher DOI of one article); or
    - the DOIs themselves are one apart (:func:`_dois_one_apart`).

    pmc-oa held 121 works twice under one title, first author and year with two DOIs, most of them such; after
    the first rule 72, after the second 54 (2026-12-05, docs/benchmarks.md)."""
    if rec.kind != "reference":
        return False
    return _same_start(rec, cand) or _dois_one_apart(rec.doi, cand.doi)


def _dois_one_apart(ref_doi: str, work_doi: str) -> bool:
    """A reference's DOI that a copying slip made of its work's: the work's with something run on after it
    (:func:`_run_on`: "10.3389/fpls.2016.01080/abstract", "…/gr.1239303.metabolite", a PubMed id), the work's
    cut short ("s13742-015-00" for "s13742-015-0047-8", "10.1016/j.clindermatol"), or, under one registrant,
    one character apart ("journal.pone.013211" / "journal.pone.0132112", "ncomms5884" / "ncomms6884"). The last
    two need suffixes of at least 6 characters, so that short ones such as "abc1" / "abc2" stay apart.

    Only the reference's DOI is taken for the slip: the work keeps its DOI and shows it, so a work made from a
    cut-short DOI ("10.1371/journal.pone") or from one with something run on ("….30679171") is not joined by
    references that give the whole or the clean one: it would show the broken DOI for them all."""
    prefix_ref, _, suffix_ref = ref_doi.partition("/")
    prefix_work, _, suffix_work = work_doi.partition("/")
    long_enough = prefix_ref == prefix_work and min(len(suffix_ref), len(suffix_work)) >= _DOI_SLIP_MIN_SUFFIX
    if ref_doi.startswith(work_doi):
        return _run_on(work_doi, ref_doi[len(work_doi):])
    if work_doi.startswith(ref_doi):
        return long_enough and not _run_on(ref_doi, work_doi[len(ref_doi):])
    return long_enough and Levenshtein.distance(suffix_ref, suffix_work, score_cutoff=1) <= 1


def _run_on(doi: str, tail: str) -> bool:
    """Whether ``tail``, written after ``doi``, is no part of it: a view, query or fragment of an address
    ("/abstract", "?show=full", "#t=article"), a parenthesis, or a dot after a DOI that ends as a whole one
    does, in a digit ("….30679171", a PubMed id; ".g001", a figure). After a letter a dot goes on the DOI:
    "10.1371/journal.pone" and "10.1016/j.clindermatol" were cut short."""
    return bool(tail) and (tail[0] in "/?#(" or (tail[0] == "." and doi[-1:].isdigit()))


# The shortest DOI suffix that a slip (one character, or the end cut off) may join to another.
_DOI_SLIP_MIN_SUFFIX = 6


# What a miscited match (_miscited) scores less than the same match with pages that agree: enough that a
# candidate whose pages agree is not tied with it, though its title is a word apart ("2007 guideline for
# isolation precautions …" / "Guideline for isolation precautions …", 0.98) or its first author written
# another way (_same_start: 0.925), and less than the margin above the threshold that _miscited's demands
# leave (titles a letter or two apart, the same first author and year: 0.985 or more before this).
_MISCITED_PENALTY = 0.10

# Words a journal's name may drop when it is abbreviated ("Journal of the …" → "J …").
_JOURNAL_STOPWORDS = frozenset({"of", "the", "and", "in", "for", "on", "de", "la", "et", "und", "der", "fur"})
_MISCITED_MIN_TITLE = 30
_MISCITED_MIN_WORDS = 5


def _miscited(rec: WorkRecord, cand: WorkCandidate, folded_title: str, author: str) -> bool:
    """Other pages or volume, but the same long title (at least 5 words and 30 characters, folded; a letter or
    two apart in a longer one: :func:`_one_title`), first author, year and journal: one of the two printed the
    volume or pages wrong, as references often do (the Bradford assay cited at "44: 276-287" for "72: 248-254";
    "Sci Rep 4: 3974" for 3964), and it is one work. Such a match scores _MISCITED_PENALTY less.

    Parts of a series or companion papers that share a title are told apart by their numbers
    (:func:`_numbered_apart`) or by their titles' other words; a journal is demanded on both sides, and the same
    one (abbreviated or not: :func:`_journals_may_agree`), so that a statement published in several journals
    stays one work per journal. On pmc-oa, of 188 groups that still held one title, first author and year more
    than once, 112 were kept apart by pages or volumes; after this rule 18 (2026-12-05, docs/benchmarks.md)."""
    return bool(rec.year is not None and rec.year == cand.year and author and author == cand.first_author
                and len(folded_title) >= _MISCITED_MIN_TITLE and folded_title.count(" ") >= _MISCITED_MIN_WORDS - 1
                and _one_title(folded_title, cand.title_norm)
                and _journals_may_agree(fold(rec.container), cand.container_norm))


# Characters a title may differ by and still be one title, per this many of its characters: none under 50
# ("Male …" / "Female physical attractiveness in Britain and Greece", two companion papers, stay apart), one
# from 50 ("characterisation" / "characterization" in a title of 112), two from 100.
_TITLE_CHARS_PER_EDIT = 50


def _one_title(a: str, b: str) -> bool:
    """Two folded titles that are one title written twice (:data:`_TITLE_CHARS_PER_EDIT`)."""
    if a == b:
        return True
    edits = min(len(a), len(b)) // _TITLE_CHARS_PER_EDIT
    return edits > 0 and Levenshtein.distance(a, b, score_cutoff=edits) <= edits


def _journals_may_agree(a: str, b: str) -> bool:
    """Two folded journal names that may name one journal: the same, or one abbreviates the other word by word,
    each abbreviated word's letters in order in its full word, from its first letter ("j hosp infect" /
    "journal of hospital infection", "proc natl acad sci u s a" / "proceedings of the national academy of
    sciences …", "int j mol sci"). Words the full name adds after those matched are allowed ("annual plant
    reviews" / "in annual plant reviews phosphorus metabolism"). Written here: the journal-abbreviation lists
    (ISSN's LTWA) are not in any package, and this rule needs no list."""
    if not a or not b:
        return False
    if a == b:
        return True
    wa = [w for w in a.split() if w not in _JOURNAL_STOPWORDS]
    wb = [w for w in b.split() if w not in _JOURNAL_STOPWORDS]
    return _abbreviates_name(wa, wb) or _abbreviates_name(wb, wa)


def _abbreviates_name(short: list[str], full: list[str]) -> bool:
    """Each word of ``short`` abbreviates a word of ``full``, in order, its first word the first."""
    if not short or not full or len(short) > len(full) or not _abbreviates(short[0], full[0]):
        return False
    rest = iter(full[1:])
    return all(any(_abbreviates(word, word_in_full) for word_in_full in rest) for word in short[1:])


def _abbreviates(short: str, full: str) -> bool:
    """``short`` written for ``full``: the same first letter, and every letter of ``short`` in ``full`` in
    order ("natl" / "national", "biochem" / "biochemistry", "j" / "journal")."""
    if not short or not full or short[0] != full[0] or len(short) > len(full):
        return False
    rest = iter(full[1:])
    return all(ch in rest for ch in short[1:])


def _numbered_apart(a: str, b: str) -> bool:
    """Two folded titles that number themselves differently: another edition, part, volume, version or year
    of a series, however alike the words ("World malaria report 2015" / "… 2016", "… part 2 routine methods" /
    "… part 1 reference method", "SAS/STAT 9.2" / "9.1", "Volumen III" / "Volumen II", "Ross 708" / "Ross 308").

    Only titles with the same count of numbers are compared, number by number (Roman numerals as their value,
    so "part I" is "part 1"): a title that adds a number ("World malaria report" / "… 2012", "version 4 6") says
    nothing. A last number cut short where the title ends ("… update 201" / "… update 2010") is the same.
    On pmc-oa it took apart 46 of 4,104 fuzzy matches: by reading them, 39 were other works (editions, parts, ISO
    standards, annual reports) and 7 the same one miswritten or known only by its whole reference string
    (2026-12-04, docs/benchmarks.md)."""
    na, nb = _title_numbers(a), _title_numbers(b)
    if not na or len(na) != len(nb) or na == nb:
        return False
    *head_a, last_a = na
    *head_b, last_b = nb
    if head_a != head_b:
        return True
    # The last number differs: the same number cut short at the end of one title is not another number.
    short, long_, title = (last_a, last_b, a) if len(last_a) < len(last_b) else (last_b, last_a, b)
    return not (long_.startswith(short) and title.endswith(" " + short))


@lru_cache(maxsize=16_384)
def _title_numbers(folded: str) -> tuple[str, ...]:
    """The numbers of a folded title in order, as decimal strings without leading zeros: digit runs (also
    inside a word: "joinmap4" 4, "minghui63" 63) and Roman numerals i-xxxix standing as words."""
    if not _MAY_HOLD_NUMBER.search(folded):
        return ()
    out: list[str] = []
    for word in folded.split():
        if _ROMAN.fullmatch(word):
            out.append(str(_roman_value(word)))
        else:
            out.extend(_without_leading_zeros(d) for d in _DIGITS.findall(word))
    return tuple(out)


def _roman_value(word: str) -> int:
    total = previous = 0
    for ch in reversed(word):
        value = _ROMAN_VALUES[ch]
        total = total - value if value < previous else total + value
        previous = max(previous, value)
    return total


def _printed_elsewhere(rec: WorkRecord, cand: WorkCandidate) -> bool:
    """Both give a first page, and not the same one: another article, however alike the titles.

    Titles alone do not tell apart a series' parts ("… (STP) 13: preparing …" and "… (STP) 14: organising …",
    "Part 1" and "Part 2"), companion papers ("… by the numbers: models" / "…: applications"), a comment on an
    article, "Male …" and "Female physical attractiveness in …", or two Cochrane reviews of one series
    ("Vaccines for preventing malaria (SPf66)", CD005966, and "(pre-erythrocytic)", CD006198): on plos-starter 12
    of the 95 fuzzy matches were such pairs, every one with another first page (2026-12-04). An article number
    ("e1001051", PLOS) and the page range a reference prints for the same article ("1-14") are not compared.
    Volumes are not either: the same Lancet article is cited in volume 1 and in volume 327 (issue-year and
    running numbering). Pages that may still be one article's are in :func:`_pages_may_agree`."""
    if not (rec.pages and cand.first_page):  # (most candidates of a page-less reference: no regex to run)
        return False
    p1, p2 = _page_number(first_page(rec.pages)), _page_number(cand.first_page)
    return bool(p1 and p2 and p1 != p2) and not _pages_may_agree(rec, cand)


def _pages_may_agree(rec: WorkRecord, cand: WorkCandidate) -> bool:
    """Other first pages that do not make another work. Each case was read among the works pmc-oa held twice
    under one title, first author and year (340 such groups, 2026-12-05; docs/benchmarks.md):

    - a section letter on one side only: "W369-W373" and "369-373" (a web-server issue), "S20" and "20", "n71"
      and "71" (the BMJ's article numbers);
    - a range from page 1 on one side: the article's own pagination (an online-first PDF, an article of an
      online-only journal printed "1-13"), not where it stands in its volume ("1070-1082", article "83"); unless
      the volumes differ (a series' parts: "Age changes in the pubic bone", 3: 285-334 and 4: 1-70);
    - ranges that share more than one page or their last page: a first page mistyped ("13-224" / "213-224",
      "193-204" / "203-214"); two articles of one volume share at most the page where one ends and the next
      begins. Also ranges as long as each other whose first pages are one digit apart ("627-632" / "827-832",
      "1118-1123" / "11118-11123");
    - no volume on either side and no letter in the pages: a book or report, cited at the pages a statement
      draws on ("p. 59", "p. 7"), not at where it begins. (Cochrane reviews keep their "CD" numbers apart.)"""
    a, b = _page_range(rec.pages), _page_range(cand.pages or cand.first_page)
    if a is None or b is None:
        return False
    (pa, fa, la), (pb, fb, lb) = a, b
    if pa != pb:
        return fa == fb and not (pa and pb)
    if (fa == 1 and la > 1) != (fb == 1 and lb > 1) and _volumes_may_agree(rec.volume, cand.volume):
        return True
    if la > fa and lb > fb and (la == lb or min(la, lb) - max(fa, fb) >= 1
                                or (la - fa == lb - fb and Levenshtein.distance(str(fa), str(fb)) == 1)):
        return True
    return not (rec.volume or cand.volume or pa)


def _without_leading_zeros(digits: str) -> str:
    """A digit run as a number is written ("0041" → "41"), without int(): a hostile field of 5,000 digits would
    make int() raise."""
    return digits.lstrip("0") or "0"


_MAX_PAGE_DIGITS = 12


def _volumes_may_agree(a: str, b: str) -> bool:
    """Volumes that do not tell two works apart: the same, or one missing (an online-first "volume 0" too)."""
    return a == b or a in ("", "0") or b in ("", "0")


def _page_range(pages: str) -> tuple[str, int, int] | None:
    """(letter prefix, first page, last page) of printed pages: "W369-W373" ("w", 369, 373), "1943-54" ("", 1943,
    1954), "12" ("", 12, 12); None for an article number (e + digits) or no page at all."""
    m = _PAGE_RANGE.match(pages.lower())
    if m is None or m.group(1) == "e" or len(m.group(2)) > _MAX_PAGE_DIGITS or len(m.group(3) or "") > _MAX_PAGE_DIGITS:
        return None  # (a digit run that long is no page; int() refuses over 4,300 digits)
    prefix = "" if m.group(1) in ("p", "pp") else m.group(1)
    first, last = int(m.group(2)), m.group(3)
    if last is None:
        return prefix, first, first
    digits = str(first)
    if len(last) < len(digits):  # "1943-54": the last page prints only the digits that change
        last = digits[: len(digits) - len(last)] + last
    return prefix, first, max(first, int(last))


def _page_number(page: str) -> str:
    """A first page as compared across sources ("0041" and "41" alike, "S13" as "s13", "CD005966" as
    "cd5966"); "" for an article number (e + digits) or nothing."""
    m = _PAGE_PARTS.fullmatch(page.lower())
    if m is None or m.group(1) == "e":
        return ""
    prefix = "" if m.group(1) in ("p", "pp") else m.group(1)  # "p123" is page 123
    return prefix + _without_leading_zeros(m.group(2))


def _main_title_match(a: str, b: str) -> bool:
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long_.startswith(short + " ") and len(short.split()) <= 6


def find_matching_work(rec: WorkRecord, index: WorkIndex) -> tuple[str | None, str, float | None]:
    """(work_id, method, score) for ``rec``; work_id None when nothing matches."""
    wid, method, score, _alias = _find_matching_work(rec, index, _Keys.of(rec))
    return wid, method, score


@dataclass(frozen=True, slots=True)
class _Keys:
    """A record's author key, folded title and title key, computed once per record: the resolver needs them
    to ask for candidates, to tell the index which it will ask for, and to score every candidate."""

    author: str
    folded: str
    title: str

    @classmethod
    def of(cls, rec: WorkRecord) -> _Keys:
        folded = fold(rec.title)
        return cls(author_key(rec.authors), folded, folded_title_key(folded))

    def blocking(self, rec: WorkRecord) -> BlockingKey | None:
        """What ``find_work_candidates`` is asked for ``rec``; None when it is not asked at all."""
        return (self.author, rec.year, self.title) if self.author or self.title else None


def _find_matching_work(rec: WorkRecord, index: WorkIndex,
                        keys: _Keys) -> tuple[str | None, str, float | None, bool]:
    """(work_id, method, score, whether the work is to learn the reference's DOI as an alias)."""
    for kind, value in (("doi", rec.doi), ("pmid", rec.pmid), ("pmcid", rec.pmcid)):
        if value:
            wid = index.find_work_by_identifier(kind, value)
            if wid:
                return wid, kind, 1.0, False
    fa, folded, tk = keys.author, keys.folded, keys.title
    if not (fa or tk):
        return None, "", None, False
    # A work that already knows the reference's DOI as an alias has no DOI conflict with it: the title, first
    # author and year still decide (a mistyped DOI may be another work's, one this index does not hold).
    by_alias = getattr(index, "find_work_by_alias", None)
    alias_of = by_alias("doi", rec.doi) if rec.doi and rec.kind == "reference" and by_alias is not None else None
    no_doi = replace(rec, doi="") if alias_of is not None else rec
    scored = [(s, cand) for cand in index.find_work_candidates(fa, rec.year, tk)
              if (s := match_score(no_doi if cand.work_id == alias_of else rec, cand, fa=fa, t=folded))
              >= MATCH_THRESHOLD - _TIE]
    if not scored:
        return None, "", None, False
    best_score = max(s for s, _ in scored)
    if best_score < MATCH_THRESHOLD:
        return None, "", None, False
    close = [cand for s, cand in scored if best_score - s <= _TIE]
    if len(close) == 1 or _copies_of_one_work(close):
        best = min(close, key=_creation_order)
        alias = bool(rec.doi and best.doi and best.doi != rec.doi and best.work_id != alias_of)
        return best.work_id, "fuzzy", round(best_score, 4), alias
    # Near-equal candidates that are different works: ambiguous, better a new work than a wrong merge.
    return None, "", None, False


# Candidates within this of the best score are a tie.
_TIE = 0.01


def _copies_of_one_work(cands: list[WorkCandidate]) -> bool:
    """Tied candidates that are one work stored several times: the same title and year, the same first author
    or the same volume and first page, and at most one DOI among them. Such copies arise where earlier
    references kept them apart (each with another first page: a report cited by its page range in one list
    and by its circular number in another), and a tie among them used to make yet another copy: one 1950 report (Hoagland's water culture) was 12 works on pmc-oa,
    and every later reference to it without pages matched all of them equally. The first one made is taken."""
    first = cands[0]
    return (all((c.title_norm, c.year) == (first.title_norm, first.year)
                and (c.first_author == first.first_author or _same_start_as(c, first)) for c in cands[1:])
            and len({c.doi for c in cands if c.doi}) <= 1)


def _same_start_as(a: WorkCandidate, b: WorkCandidate) -> bool:
    """Two candidates with one volume and first page: copies of one work whatever their first authors."""
    return _starts_alike(a.volume, a.first_page, b.volume, b.first_page)


def _creation_order(cand: WorkCandidate) -> tuple[int, str]:
    """Work ids ("W123") in the order the works were made."""
    n = parse_work_id(cand.work_id)
    return (n, "") if n is not None else (MAX_ROW_ID + 1, cand.work_id)


def resolve_references(doc: Document, index: WorkIndex) -> Document:
    """Pipeline stage: set ``doc.work_id`` and every ``Reference.work_id`` / method / score.

    Creates works for what is not yet known and adds identifiers the index lacked. Also flags
    self-citations on the statements (see :func:`flag_self_citations`).
    """
    own = record_from_document(doc)
    records = [own]
    for ref in doc.references:
        rec = record_from_reference(ref)
        if not (rec.title or rec.doi or rec.pmid or rec.pmcid or rec.authors):
            rec.title = ref.raw[:300]
        records.append(rec)
    keys = [_Keys.of(rec) for rec in records]
    # Every key the document may ask for, before the first answer: a store then looks them up together (two
    # queries per reference were two round trips per reference on PostgreSQL). Asked for whether or not an
    # identifier matches first: which do is only known while resolving, and a key too many costs little.
    # (Through getattr: an index written before the method, which does not subclass WorkIndex, lacks it.)
    prefetch = getattr(index, "prefetch_candidates", None)
    if prefetch is not None:
        prefetch([b for rec, k in zip(records, keys, strict=True) if (b := k.blocking(rec))])
    wid, _method, _score, _alias = _find_matching_work(own, index, keys[0])
    if wid is None:
        wid = index.create_work(own)
    else:
        index.enrich_work(wid, own)
    doc.work_id = wid
    # The authors each cited work is known by, where they are more than its reference lists: a reference cut
    # short with "et al." leaves out the later authors, and the last of them is often the citing group's head.
    work_authors: dict[str, list[Author]] = {}
    for ref, rec, k in zip(doc.references, records[1:], keys[1:], strict=True):
        rid, method, score, alias = _find_matching_work(rec, index, k)
        if rid is None:
            rid, method, score = index.create_work(rec), "new", None
        else:
            known = index.enrich_work(rid, rec)
            if known is not None and len(known.authors) > len(ref.authors):
                work_authors[ref.key] = known.authors
            if alias and (add_alias := getattr(index, "add_work_alias", None)) is not None:
                add_alias(rid, "doi", rec.doi)
        ref.work_id, ref.resolution_method, ref.resolution_score = rid, method, score
    flag_self_citations(doc, work_authors)
    return doc


# -------------------------------------------------------------------------------------- self-citation

# Lower-case name particles left out of initials ("Célia Maria de Almeida" is C. M. A.).
_NAME_PARTICLES = frozenset({"de", "da", "do", "dos", "das", "del", "della", "di", "van", "von", "der", "den", "la",
                             "le", "du", "e", "y"})


def _given_parts(given: str) -> list[list[str]]:
    """A given name's words, each as its hyphen-joined parts ("Ya-Lin A." → [["Ya", "Lin"], ["A"]]), particles and
    initials run together in capitals ("CW" → [["C"], ["W"]]) handled."""
    words = [w for w in re.split(r"[\s.]+", given) if w.strip("-")]
    out: list[list[str]] = []
    for w in words:
        if w in _NAME_PARTICLES:
            continue
        letters = w.replace("-", "")
        if 1 < len(letters) <= 3 and letters.isalpha() and letters.isupper():
            out += [[c] for c in letters]  # Vancouver initials: "CW"
        else:
            out.append([x for x in w.split("-") if x])
    return out


def _initials(parts: list[list[str]]) -> tuple[str, str]:
    """(every initial, one per word): the initials a given name (its :func:`_given_parts`) may be cited with, each
    hyphen part its own ("Ya-Lin A." → "YLA") or each word one ("YA")."""
    return ("".join(fold(x)[:1] for word in parts for x in word), "".join(fold(word[0])[:1] for word in parts))


def _initials_agree(citing: list[list[str]], cited: list[list[str]]) -> bool:
    """Whether the initials of two given names agree as far as both go. One initial per word is a reading of a
    hyphenated name ("Ya-Lin" as "Y."), never a licence for another initial after it ("Chen-Peng" is not "C.-W.")."""
    (a_every, a_word), (b_every, b_word) = _initials(citing), _initials(cited)

    def agree(a: str, b: str) -> bool:
        return bool(a and b) and (a.startswith(b) or b.startswith(a))

    # A per-word reading may be followed by fewer initials on the other side, never by more.
    return (agree(a_every, b_every) or (agree(a_word, b_every) and len(b_every) <= len(a_word))
            or (agree(a_every, b_word) and len(a_every) <= len(b_word)))


def _may_be_one_person(citing: str, cited: str) -> bool:
    """Whether a citing author's given name ``citing`` and a cited author's ``cited`` (same surname) may name one
    person: full names must fit (:func:`citelens.people.given_names_compatible`); where either is written as
    initials only, the initials must agree as far as both go."""
    from citelens.people import given_names_compatible  # (people reads this module's fold)

    if not fold(cited):
        return True  # a cited surname alone
    if not fold(citing):
        return False
    parts = _given_parts(citing), _given_parts(cited)  # (each name read once)
    if any(all(len(x) == 1 for word in p for x in word) for p in parts):
        return _initials_agree(*parts)
    return given_names_compatible(*(" ".join("-".join(word) for word in p) for p in parts))


def flag_self_citations(doc: Document, work_authors: Mapping[str, Sequence[Author]] | None = None) -> Document:
    """A statement is a self-citation when the citing and cited work share an author: the same surname and given
    names that may name one person (:func:`_may_be_one_person`: "J." fits "John", "Ya-Lin A." fits "YA",
    "Chen-Peng" does not fit "CW"), or a cited surname without given names. Only the first letters were compared,
    so "Chen, Chen-Peng" citing "Chen CW", or a John citing a James of the same surname, was a self-citation.

    ``work_authors``: by reference key, the authors the index knows the cited work by (an ingested article, a
    metadata record or a fuller reference elsewhere), compared as well as the reference's own: a reference that
    lists three authors and "et al." does not hide the citing article's last author among the others."""
    work_authors = work_authors or {}
    mine: dict[str, list[str]] = {}
    for a in doc.authors:
        fam = fold(a.family)
        if fam and len(fam) >= 2:
            mine.setdefault(fam, []).append(a.given)
    if not mine:
        return doc
    self_refs = set()
    for ref in doc.references:
        for a in itertools.chain(ref.authors, work_authors.get(ref.key, ())):
            given_names = mine.get(fold(a.family))
            if given_names is not None and any(_may_be_one_person(g, a.given) for g in given_names):
                self_refs.add(ref.key)
                break
    for st in doc.statements:
        st.self_citation = st.reference_key in self_refs
    return doc
