"""Built-in PDF ingestion: bytes of a born-digital scholarly PDF → :class:`~citelens.document.Document`.

No Java, no GROBID service. Text and layout come from PDFium through **pypdfium2** (bindings: Apache-2.0 or
BSD-3-Clause; PDFium itself: BSD-style): permissive licences compatible with CiteLens's Apache-2.0, unlike the
AGPL of PyMuPDF/MuPDF, and PDFium is the hardened engine Chrome ships, which matters for files from strangers.
PDFium is not thread-safe: every call goes through ``pdf_layout.PDFIUM_LOCK``.

Pipeline (layout → structure → citations):

1. ``pdf_layout.extract_lines``: PDFium's text fragments with boxes, baselines, font size and weight, merged
   into visual lines; raised small digit runs become superscript callout markers; PDFium's soft-hyphen
   marks become de-hyphenation points.
2. Running headers/footers and page numbers (lines repeated near the page edge) are dropped; two-column
   pages are put in reading order (XY-cut on full-width lines, then left column before right).
3. Lines are grouped into blocks (font size, vertical gap, indentation, short last lines); blocks become
   headings (bigger or bold, short), captions ("Figure 3."/"Table 2"), the abstract, body paragraphs, or the
   reference section (after a "References"/"Bibliography"/"Literature Cited" heading).
4. The reference section is cut into entries by printed labels ("[12]", "12."), else hanging indents, else
   author-start lines; entries go to the shared reference-string parser.
5. Callouts: numeric brackets and ranges, superscripts, author–year "(Smith et al., 2003; Lee 2001)" and
   "Smith (2003)", each linked to entries by label number or first-author surname + year.

Reference keys are ``"b{n}"`` (0-based entry index) with ``Reference.label`` the printed label.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from citelens.document import Author, Callout, Document, Paragraph, Reference
from citelens.errors import CiteLensError
from citelens.formats.limits import check_reference_count
from citelens.formats.pdf_layout import (
    MAX_PDF_CHARS,
    PDFIUM_LOCK,
    SUP_CLOSE,
    SUP_OPEN,
    Line,
    extract_lines,
    open_pdf,
)
from citelens.formats.sections import normalise_section

__all__ = ["MAX_PDF_BYTES", "MAX_PDF_CHARS", "MAX_PDF_PAGES", "PDFIUM_LOCK", "parse_pdf"]

MAX_PDF_BYTES = 100 * 1024 * 1024  # a long thesis with figures is ~50 MB
MAX_PDF_PAGES = 400

_REF_HEADING = re.compile(
    r"^\s*(?:[\dIVX]+\.?\s*)?(references?(?: and notes| cited)?|bibliography|literature cited|works cited|"
    r"cited literature|literature|reference list)\s*:?\s*$",
    re.I,
)
_STOP_HEADING = re.compile(
    r"^\s*(?:[A-Z\d]+\.?\s*)?(appendix|appendices|supplementary|supporting information|figure legends|tables?\b|"
    r"acknowledge?ments?|author contributions|competing interests|funding)",
    re.I,
)
_MASTHEAD = re.compile(r"\b(journal|proceedings|transactions|letters|volume|vol\.|issn|arxiv|preprint|plos)\b", re.I)
_ARTICLE_TYPE = re.compile(
    r"^\s*(?:original\s+|short\s+|brief\s+|mini[- ]?)?(?:research(?:\s+(?:article|paper|letter|report))?|article|"
    r"case\s+(?:report|series|study)|clinical\s+(?:study|trial|research)|(?:systematic\s+)?review(?:\s+article)?|"
    r"communication|report|editorial|letter(?:\s+to\s+the\s+editor)?|commentary|perspective|opinion|protocol|"
    r"study\s+protocol|trial\s+protocol|retraction|corrigendum|erratum|correction|technical\s+note|"
    r"hhs\s+public\s+access|author\s+manuscript|crossm|open\s+access)\s*$",
    re.I,
)
_NAME_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "dos", "das", "le",
                             "la", "ter", "ten", "bin", "al", "el"})
_ABSTRACT = re.compile(r"^\s*(abstract|summary)\s*[:.]?\s*$", re.I)
_CAPTION = re.compile(r"^\s*(fig\.?|figure|table|supplementary (fig\.?|figure|table)|scheme|plate)\s*S?\d+[A-Za-z]?\s*[.:|—–-]", re.I)
_NUMBERED_HEADING = re.compile(r"^\s*((\d+(\.\d+)*)\.?|[IVX]+\.|[A-H]\.)\s+[A-Z]")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)\]])")
_YEAR = re.compile(r"\b(1[6-9]\d\d|20\d\d)\b")
_DASH = "-–—‐‑−"
_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st"}


@dataclass
class _Block:
    lines: list[Line] = field(default_factory=list)
    kind: str = "body"  # body | heading | caption

    @property
    def text(self) -> str:
        return _join_lines(self.lines, keep_breaks=True)


# --------------------------------------------------------------------------------------------------------
# Text helpers


_CONTROL_TO_SPACE = {c: " " for c in range(32) if c != 10}
_SPACING_ACCENTS = {"¨": "\u0308", "´": "\u0301", "`": "\u0300", "ˆ": "\u0302", "˜": "\u0303", "¸": "\u0327",
                    "ˇ": "\u030c", "˘": "\u0306", "˙": "\u0307", "˚": "\u030a"}
_ACCENT_BEFORE = re.compile(r"(?<=[A-Za-z])([¨´`ˆ˜¸ˇ˘˙˚])([A-Za-zı])")


def _clean(text: str) -> str:
    for k, v in _LIGATURES.items():
        text = text.replace(k, v)
    # TeX's OT1 fonts draw accents as separate glyphs before the letter: "R¨as¨anen" → "Räsänen".
    if _ACCENT_BEFORE.search(text):
        text = _ACCENT_BEFORE.sub(
            lambda m: unicodedata.normalize("NFC", m.group(2).replace("ı", "i") + _SPACING_ACCENTS[m.group(1)]), text
        )
    # Control characters PDFium emits for odd glyphs (a lone "\r" for ©) carry no text.
    return text.translate(_CONTROL_TO_SPACE)


def _join_lines(lines: list[Line], *, keep_breaks: bool = False) -> str:
    """Join visual lines into running text, undoing end-of-line hyphenation.

    PDFium marks the hyphens it believes are line-break hyphens (a soft hyphen here); we also treat
    "exam-" + "ple" (next line lower-case) as one. With ``keep_breaks`` such joins keep a U+00AD marker so
    :func:`_resolve_breaks` can decide from the document's vocabulary whether the hyphen was real.
    """
    out = ""
    for ln in lines:
        t = ln.text.strip()
        if not t:
            continue
        if not out:
            out = t
        elif out.endswith("\u00ad") or (out[-1] in "-‐" and len(out) > 1 and out[-2].isalpha() and t[:1].islower()):
            out = out[:-1] + "\u00ad" + t
        elif out[-1] in "/" or out.endswith(SUP_OPEN):
            out += t
        else:
            out += " " + t
    return out if keep_breaks else out.replace("\u00ad", "")


_BROKEN = re.compile(r"(\w+)\u00ad(\w+)")


def _vocabulary(lines: list[Line]) -> tuple[set[str], set[str]]:
    """Words (lower-case) printed whole somewhere in the document, and hyphenated compounds printed whole."""
    plain: set[str] = set()
    hyphenated: set[str] = set()
    for ln in lines:
        hyphenated.update(w.lower() for w in re.findall(r"\w+(?:-\w+)+", ln.text))
        plain.update(w.lower() for w in re.findall(r"\w+", ln.text))
    return plain, hyphenated


def _resolve_breaks(text: str, vocab: tuple[set[str], set[str]]) -> str:
    """Decide each line-break hyphen: keep it where the document prints the compound with a hyphen
    ("mixed-mode") and never as one word; otherwise join ("exam-ple" → "example")."""
    plain, hyphenated = vocab

    def fix(m: re.Match[str]) -> str:
        a, b = m.group(1), m.group(2)
        joined = (a + b).lower()
        if f"{a}-{b}".lower() in hyphenated and joined not in plain:
            return f"{a}-{b}"
        return a + b

    return _BROKEN.sub(fix, text).replace("\u00ad", "")


def _norm_name(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if c.isalpha()).lower()


# --------------------------------------------------------------------------------------------------------
# Layout: header/footer removal, reading order, blocks


def _strip_running(pages: list[list[Line]], heights: list[float]) -> list[list[Line]]:
    """Drop running headers/footers and page numbers: text at a page's top/bottom edge repeated across pages.

    Edge lines are the two highest and two lowest rows of a page (headers sit anywhere in the top ~15%
    depending on the class file) plus anything in the outer 7%; digits are ignored when comparing, so
    "Page 3" and "40 TIMP: …" match their siblings.
    """
    def key(ln: Line) -> tuple[str, int]:
        # Same text (digits aside) at the same height: running heads sit at a fixed position, whereas a
        # sentence repeated in the body rarely lands on the same baseline of two pages.
        return re.sub(r"\d+", "#", re.sub(r"\s+", " ", ln.text.strip().lower())), round(ln.baseline / 4)

    def edge_lines(lines: list[Line], h: float) -> set[int]:
        rows = sorted({round(ln.baseline) for ln in lines})
        top_rows, bottom_rows = set(rows[-2:]), set(rows[:2])
        return {id(ln) for ln in lines
                if (round(ln.baseline) in top_rows and ln.bottom > h * 0.8)
                or (round(ln.baseline) in bottom_rows and ln.top < h * 0.2)
                or ln.top > h * 0.93 or ln.bottom < h * 0.07}

    edges = [edge_lines(lines, h) for lines, h in zip(pages, heights, strict=True)]
    counts: Counter[tuple[str, int]] = Counter()
    for lines, edge in zip(pages, edges, strict=True):
        counts.update({key(ln) for ln in lines if id(ln) in edge})
    need = max(2, int(0.3 * len(pages)))
    out = []
    for lines, edge in zip(pages, edges, strict=True):
        kept = []
        for ln in lines:
            t = ln.text.strip()
            if id(ln) in edge and (counts[key(ln)] >= need or re.fullmatch(r"(page\s*)?[\divxlc]+(\s*(of|/)\s*\d+)?", t, re.I)):
                continue
            kept.append(ln)
        out.append(kept)
    return out


def _reference_band_cut(lines: list[Line], width: float, body_size: float) -> float | None:
    """Height above which a page's two-column body ends and its two-column reference list begins.

    PLOS and several other publishers set the references in small type across both columns of the lower
    part of the last body page, under a "References" heading in one column, while the body above still runs
    in two columns: left-then-right order would read the left column's first entries, then the right
    column's body text, then the remaining entries. Cut when the heading sits in one column, the other column
    has body text above it and small type below it.
    """
    mid = width / 2
    for h in lines:
        if not _REF_HEADING.match(h.text) or not (h.x1 < mid + 0.08 * width or h.x0 > mid - 0.08 * width):
            continue
        left_side = h.x1 < mid + 0.08 * width
        other = [ln for ln in lines if (ln.x0 > mid - 2 if left_side else ln.x1 < mid + 2)]
        below = [ln for ln in lines if ln is not h and ln.baseline < h.baseline - 1]
        other_below = [ln for ln in other if ln.baseline < h.baseline - 1]
        # Body text (not more references) above the heading's height in the other column.
        other_above = [ln for ln in other if ln.baseline > h.top and ln.size >= body_size - 0.4]
        if len(other_below) < 3 or len(other_above) < 3 or len(below) < 6:
            continue
        small = sum(ln.size < body_size - 0.4 for ln in below)
        small_other = sum(ln.size < body_size - 0.4 for ln in other_below)
        if small >= 0.8 * len(below) and small_other >= 0.8 * len(other_below):
            return h.top + 0.5
    return None


def _reading_order(lines: list[Line], width: float, body_size: float) -> list[Line]:
    """Order a page's lines for reading; on two-column pages, left column before right within each band."""
    cut = _reference_band_cut(lines, width, body_size)
    if cut is not None:
        return (_column_order([ln for ln in lines if ln.top > cut], width, body_size)
                + _column_order([ln for ln in lines if ln.top <= cut], width, body_size))
    return _column_order(lines, width, body_size)


def _sub_band_order(cur: list[Line], body_size: float) -> list[Line]:
    """Left column, then right, except a heading ending the left column below all of the right column, which opens
    the full-width part that follows ("Appendix: Survey" under a two-column reference list that the right column
    finishes): read in place, it ended the list half-way and the right column's entries were lost."""
    ordered = sorted(cur, key=lambda x: (x.column, -x.top, x.x0))
    right = [x for x in cur if x.column == 2]
    left = [x for x in ordered if x.column == 1]
    if not right or not left:
        return ordered
    floor = min(x.bottom for x in right)
    tail = [x for x in left if x.top < floor]
    if not tail or len(tail) == len(left) or tail != left[-len(tail):]:
        return ordered
    if not (tail[0].bold or tail[0].size > body_size + 0.9) or tail[0].top > floor - 0.5 * body_size:
        return ordered
    for x in tail:
        x.column = 0
    return [x for x in ordered if x.column] + tail


def _column_order(lines: list[Line], width: float, body_size: float) -> list[Line]:
    """Order lines for reading; on two-column pages, left column before right within each band.

    PDFium returns content-stream order, usually right for one column; two-column PDFs often interleave
    or put floats first, so we sort by geometry: an XY-cut whose horizontal cuts are full-width lines and
    blank strips across both columns (e.g. above a two-column reference list on the last page).
    """
    mid = width / 2
    slack = 0.08 * width  # a long URL may overrun its column into the gutter: still that column's line

    def side(ln: Line) -> int:
        if ln.x0 > mid + 1:
            return 2  # starts in the right half: a short right-column line ("References") despite the slack
        if ln.x1 < mid + slack:
            return 1
        if ln.x0 > mid - slack:
            return 2
        # Crossing the gutter: a title or wide caption spans both columns, but an unbreakable URL running
        # out of the left column (no spaces) still belongs to it.
        return 0 if " " in ln.text.strip() else 1

    left = [ln for ln in lines if side(ln) == 1 and ln.x1 < mid + 2]
    right = [ln for ln in lines if side(ln) == 2 and ln.x0 > mid - 2]
    if len(left) < 5 or len(right) < 5:
        for ln in lines:
            ln.column = 0
        return lines
    # Bands: cut wherever no line covers a vertical strip taller than a few lines' height.
    spans = sorted(lines, key=lambda ln: -ln.top)
    bands: list[list[Line]] = []
    low = float("inf")
    for ln in spans:
        if not bands or ln.top < low - 2.5 * body_size:
            bands.append([])
        bands[-1].append(ln)
        low = min(low, ln.bottom)
    out: list[Line] = []
    for band in bands:
        cur: list[Line] = []
        for ln in band:  # top to bottom
            if side(ln):
                ln.column = side(ln)
                cur.append(ln)
            else:
                # A line crossing the gutter (title, wide figure caption) closes the sub-band above it.
                out += _sub_band_order(cur, body_size)
                cur = []
                ln.column = 0
                out.append(ln)
        out += sorted(cur, key=lambda x: (x.column, -x.top, x.x0))
    return out


def _is_bold_line(ln: Line) -> bool:
    return ln.bold


def _blocks(lines: list[Line], body_size: float, pitch: float) -> list[_Block]:
    """Group ordered lines into blocks (paragraphs, headings, captions)."""
    blocks: list[_Block] = []
    cur = _Block()
    # Column left edge per (page, column): the most common x0 there.
    lefts: dict[tuple[int, int], float] = {}
    rights: dict[tuple[int, int], float] = {}
    groups: dict[tuple[int, int], list[Line]] = {}
    for ln in lines:
        groups.setdefault((ln.page, ln.column), []).append(ln)
    for k, g in groups.items():
        xs = Counter(round(ln.x0) for ln in g if abs(ln.size - body_size) < 1)
        lefts[k] = min((x for x, c in xs.items() if c >= 2), default=min(round(ln.x0) for ln in g))
        rights[k] = max(ln.x1 for ln in g)

    def headingish(ln: Line) -> bool:
        t = ln.text.strip()
        return (len(t) < 120 and (ln.size > body_size + 0.9 or ln.bold)) or bool(_REF_HEADING.match(t))

    prev: Line | None = None
    def breaks(prev: Line, ln: Line) -> bool:
        left, right = lefts[(ln.page, ln.column)], rights[(prev.page, prev.column)]
        pt = prev.text.rstrip()
        ends = pt[-1:] in ".?!:" if pt else True
        in_caption = bool(cur.lines) and _CAPTION.match(cur.lines[0].text) is not None
        if abs(ln.size - prev.size) > 0.8 or (headingish(ln) != headingish(prev) and not in_caption):
            return True
        if _REF_HEADING.match(ln.text) or _REF_HEADING.match(prev.text) or _CAPTION.match(ln.text):
            return True
        if (ln.page, ln.column) != (prev.page, prev.column):
            # Column/page change: a paragraph goes on unless the last line ended a sentence short or the
            # new line is indented.
            return ends and (ln.x0 > left + 0.8 * ln.size or prev.x1 < right - 3 * ln.size)
        gap = prev.baseline - ln.baseline
        if gap > 1.45 * pitch or gap < -pitch:
            return True
        if left + 0.8 * ln.size < ln.x0 < left + 5 * ln.size and prev.x0 <= left + 0.8 * ln.size:
            return True  # first-line indent
        return ends and prev.x1 < right - 3 * ln.size  # short last line of a paragraph

    for ln in lines:
        brk = prev is not None and breaks(prev, ln)
        if brk and cur.lines:
            blocks.append(cur)
            cur = _Block()
        cur.lines.append(ln)
        prev = ln
    if cur.lines:
        blocks.append(cur)
    for b in blocks:
        t = b.text.strip()
        if _CAPTION.match(t):
            b.kind = "caption"
        else:
            styled = len(b.lines) <= 3 and len(t) < 160 and all(headingish(ln) for ln in b.lines) and not t.endswith(",")
            named = len(b.lines) <= 2 and (_REF_HEADING.match(t) or _ABSTRACT.match(t))
            if styled or named:
                b.kind = "heading"
    return blocks


# --------------------------------------------------------------------------------------------------------
# Reference list


@dataclass
class _Entry:
    label: str
    lines: list[Line]


_LABEL_STYLES = (
    ("bracket", re.compile(r"^\s*\[(\d{1,4})\]\s*")),
    ("dot", re.compile(r"^\s*(\d{1,4})\.\s+(?=\S)")),
    ("plain", re.compile(r"^\s*(\d{1,4})\s+(?=[A-Z\u00c0-\u024f])")),
    ("paren", re.compile(r"^\s*\((\d{1,4})\)\s*")),
)
_AUTHOR_START = re.compile(
    r"^\s*(?:[A-Z\u00c0-\u024f][\w'’\-\u00c0-\u024f]+(?:\s(?:van|von|de|der|da|di|la|le)\s?[\w'’\-]+)?,?\s+"
    r"(?:[A-Z]\.|[A-Z]{1,3}\b|[A-Z][a-z]+)|[A-Z][A-Z\-]+,)"
)


def _segment_references(lines: list[Line], body_size: float) -> list[_Entry]:
    lines = [ln for ln in lines if ln.text.strip()]
    if not lines:
        return []
    # 1. Printed labels in sequence 1, 2, 3, …: the most reliable cue when present.
    best: list[tuple[int, str]] = []
    for _name, rx in _LABEL_STYLES:
        starts: list[tuple[int, str]] = []
        expect = None
        for i, ln in enumerate(lines):
            m = rx.match(ln.text)
            if not m:
                continue
            n = int(m.group(1))
            if (expect is None and n <= 3) or (expect is not None and expect <= n <= expect + 2):
                starts.append((i, m.group(0)))
                expect = n + 1
        if len(starts) > len(best):
            best = starts
    # A short list (a correction citing the article it corrects) counts when it opens on its first label.
    if (len(best) >= 3 and len(best) >= 0.15 * len(lines)) or (best and best[0][0] == 0 and len(lines) <= 12):
        entries = []
        for j, (i, lab) in enumerate(best):
            end = best[j + 1][0] if j + 1 < len(best) else len(lines)
            first = Line(**{**lines[i].__dict__, "text": lines[i].text[len(lab):]})
            entries.append(_Entry(lab.strip(), [first, *lines[i + 1 : end]]))
        # Lines before the first label are a stray heading or column remnant: ignore.
        return entries
    # 2. Hanging indents: entry starts sit at the column's left edge, continuations are indented.
    # Left edge per page side: full-width (0) and left-column (1) lines share it, since a short line of a
    # one-column page can be classed as "left column" and would otherwise set its own edge.
    groups: dict[tuple[int, int], list[Line]] = {}
    for ln in lines:
        groups.setdefault((ln.page, 2 if ln.column == 2 else 1), []).append(ln)
    starts_flags: list[bool] = []
    indented = 0
    for ln in lines:
        g = groups[(ln.page, 2 if ln.column == 2 else 1)]
        left = min(x.x0 for x in g)
        is_start = ln.x0 < left + 0.6 * max(ln.size, 1)
        indented += not is_start
        starts_flags.append(is_start)
    if indented >= 0.15 * len(lines) and sum(starts_flags) >= 2:
        use = starts_flags
    else:
        # 3. Author-start lines after a line that ends an entry (a full stop) or after a vertical gap.
        use = []
        for i, ln in enumerate(lines):
            if i == 0:
                use.append(True)
                continue
            p = lines[i - 1]
            gap = p.baseline - ln.baseline if p.page == ln.page and p.column == ln.column else 0
            ended = p.text.rstrip()[-1:] in ".)" or gap > 1.6 * ln.size
            use.append(bool(ended and _AUTHOR_START.match(ln.text)))
    entries = []
    for ln, s in zip(lines, use, strict=True):
        if s or not entries:
            entries.append(_Entry("", [ln]))
        else:
            entries[-1].lines.append(ln)
    return entries


# What publishers print after the last reference, in reading order inside the list: BioMed Central's "Cite this
# article as: …" and "Submit your next manuscript to BioMed Central" boxes. Nothing after them is a reference.
_TRAILER = re.compile(r"^\s*(?:cite this article as\b|submit your (?:next )?manuscript\b)", re.I)


def _without_trailers(lines: list[Line], own_doi: str) -> list[Line]:
    """Reference-list lines without the article's own masthead or citation box.

    A line printing the article's own DOI is never part of a reference (an article cannot cite itself by DOI; a
    correction cites the original under another DOI): it and the lines set tight against it (the block of a
    one-page correction's masthead, "Hindawi Publishing Corporation … Volume 2016, Article ID …") go. Publisher
    trailer boxes end the list. Both were read as the end of the last entry, whose DOI became the article's own
    (the reference check then matched it to the article itself) or ran on through the box's text."""
    for i, ln in enumerate(lines):
        if _TRAILER.match(ln.text):
            lines = lines[:i]
            break
    if not own_doi:
        return lines
    own = {i for i, ln in enumerate(lines) if (d := _DOI.search(ln.text)) and d.group(1).lower() == own_doi}
    if not own:
        return lines

    def tight(a: Line, b: Line) -> bool:
        return a.page == b.page and a.column == b.column and 0 < a.baseline - b.baseline < 1.6 * max(a.size, b.size)

    drop: set[int] = set()
    for i in own:
        lo = hi = i
        while lo > 0 and tight(lines[lo - 1], lines[lo]):
            lo -= 1
        while hi + 1 < len(lines) and tight(lines[hi], lines[hi + 1]):
            hi += 1
        # A block opening a numbered entry is a reference whose DOI was taken for the article's (a one-page
        # correction that prints none of its own): keep it.
        if not any(rx.match(lines[k].text) for k in range(lo, hi + 1) for name, rx in _LABEL_STYLES
                   if name in ("bracket", "dot")):
            drop.update(range(lo, hi + 1))
    return [ln for i, ln in enumerate(lines) if i not in drop]


def _author_year_label(ref: Reference) -> str:
    """How an author–year text cites an unnumbered entry: "Smith, 2003", "Smith and Lee, 2003", "Smith et al., 2003"."""
    names = [a.family for a in ref.authors if a.family]
    if not names or not ref.year:
        return ""
    who = names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al."
    return f"{who}, {ref.year}"


def _unheaded_reference_start(lines: list[Line]) -> int | None:
    """Index of the line starting a labelled reference list that has no heading, or None."""
    best: tuple[int, int] | None = None  # (count, index)
    for _name, rx in _LABEL_STYLES[:3]:  # "[1]", "1.", "1 Author" (not "(1)": equations)
        for i, ln in enumerate(lines):
            m = rx.match(ln.text)
            if not m or int(m.group(1)) != 1:
                continue
            expect, count = 2, 1
            for other in lines[i + 1 :]:
                m2 = rx.match(other.text)
                if m2 and int(m2.group(1)) == expect:
                    expect += 1
                    count += 1
            if count >= 5 and count >= 0.2 * (len(lines) - i) and (best is None or count >= best[0]):
                best = (count, i)
    return best[1] if best else None


_AY_ENTRY_YEAR = re.compile(r"\((?:1[6-9]|20)\d\d[a-z]?\)|\(n\.\s?d\.\)|^[^.]{3,200}\.\s(?:1[6-9]|20)\d\d[a-z]?\.")


def _unheaded_author_year_start(lines: list[Line]) -> int | None:
    """Index of the first line of a trailing author–year list without a heading (JOSE/JOSS, some
    preprints), or None: read backwards, every line is either an entry start at the column's left edge
    ("Becker, E. A., Teal, T., … (2019). …") or an indented continuation; most entries show their year."""
    lefts: dict[tuple[int, int], float] = {}
    for ln in lines:
        k = (ln.page, ln.column)
        lefts[k] = min(lefts.get(k, ln.x0), ln.x0)
    starts = with_year = 0
    first: int | None = None
    entry = ""
    for i in range(len(lines) - 1, -1, -1):
        ln = lines[i]
        text = ln.text.strip()
        if not text:
            continue
        indented = ln.x0 > lefts[(ln.page, ln.column)] + 0.6 * max(ln.size, 1)
        entry = text + " " + entry
        if indented:
            continue
        if not _AUTHOR_START.match(text) and not re.match(r"^[A-Z][\w.&\- ]{1,60}\.\s\(", text):
            break
        starts += 1
        with_year += bool(_AY_ENTRY_YEAR.search(entry[:400]))
        first, entry = i, ""
    if first is None or starts < 3 or with_year < 0.7 * starts:
        return None
    return first


def _own_doi(lines: list[Line], body_size: float) -> re.Match[str] | None:
    """The article's own DOI among first-page lines (reading order, then the running head and foot).

    The first DOI printed is usually the article's, but a correction, retraction or comment cites the original
    in its text ("the version of record … is available at http://dx.doi.org/10.1080/…") before the masthead's
    small-print DOI, which reading order puts last. A DOI set in running prose (not small print, well into a
    paragraph) is therefore taken only when the page prints no other."""

    def tight(a: Line, b: Line) -> bool:
        return a.page == b.page and a.column == b.column and 0 < a.baseline - b.baseline < 1.6 * max(a.size, b.size)

    def body(ln: Line) -> bool:
        # Not small print: on a one-page notice the small print (references, licence) can outweigh the text.
        return ln.size > body_size - 0.6

    first: re.Match[str] | None = None
    for i, ln in enumerate(lines):
        d = _DOI.search(ln.text)
        if not d:
            continue
        first = first or d
        if not body(ln):
            return d
        lo = i
        while lo > 0 and tight(lines[lo - 1], lines[lo]) and body(lines[lo - 1]):
            lo -= 1
        before = sum(len(x.text) + 1 for x in lines[lo:i]) + d.start()
        if i - lo < 2 or before < 120:
            return d  # a DOI line of its own or in a short block ("DOI: 10.…" under the title): front matter
    return first


def _cite_as_doi(lines: list[Line]) -> re.Match[str] | None:
    """The article's DOI from a "Cite this article as" box or a line holding only "doi:10.…" next to it
    (BMC prints it on the last page only)."""
    for i, ln in enumerate(lines):
        if re.search(r"cite this article", ln.text, re.I):
            for near in lines[max(0, i - 2) : i + 6]:
                d = _DOI.search(near.text)
                if d:
                    return d
    return None


def _continues_numbering(ref_lines: list[Line], following: list[_Block]) -> bool:
    """Does a block after a would-be heading carry the next reference label ("27." after "26.")?"""
    last = None
    label = re.compile(r"^\s*\[?(\d{1,3})(?:\.|\])?\s+\S")
    for ln in ref_lines:
        m = label.match(ln.text)
        if m:
            last = int(m.group(1))
    if last is None:
        return False
    for b in following:
        for ln in b.lines:
            m = label.match(ln.text)
            if m and int(m.group(1)) in (last + 1, last + 2):
                return True
    return False


def _author_list_marks(text: str, callouts: list[Callout]) -> bool:
    """A first-page block of names with raised affiliation numbers: superscript "callouts" every few words."""
    if len(callouts) >= 2 and "@" in text:
        return True  # a correspondence line
    if len(callouts) < 3:
        return False
    between = [text[a.end : b.start] for a, b in zip(callouts, callouts[1:], strict=False)]
    short = sum(len(x) < 40 and "." not in x for x in between)
    return short >= 0.7 * len(between) and len(text) / len(callouts) < 45


def _fallback_reference(raw: str, key: str) -> Reference:
    """Minimal fields by regex when the shared parser is unavailable."""
    ref = Reference(key=key, raw=raw)
    y = re.search(r"\b(1[6-9]\d\d|20\d\d)[a-z]?\b", raw)
    ref.year = int(y.group(1)) if y else None
    m = re.match(r"\s*([A-Z\u00c0-\u024f][\w'’\-\u00c0-\u024f ]*?)[,\s]", raw)
    if m:
        ref.authors = [Author(family=m.group(1).strip())]
    d = _DOI.search(raw)
    if d:
        ref.doi = d.group(1).lower()
    return ref


def _parse_entries(raws: list[str]) -> list[Reference]:
    try:
        from citelens.references.parser import parse_reference_strings

        refs = parse_reference_strings(raws)
        if len(refs) == len(raws):
            return refs
    except (ImportError, CiteLensError, OSError):
        # The CRF model may be absent in a development checkout: degrade to regex fields, keep ingesting.
        pass
    return [_fallback_reference(r, f"b{i}") for i, r in enumerate(raws)]


# --------------------------------------------------------------------------------------------------------
# Callouts

_NUM_ITEM = rf"\d{{1,4}}(?:\s*[{_DASH}]\s*\d{{1,4}})?"
_BRACKET = re.compile(rf"\[\s*({_NUM_ITEM}(?:\s*[,;]\s*{_NUM_ITEM})*)\s*\](?:\s*[{_DASH}]\s*\[\s*(\d{{1,4}})\s*\])?")
_UNIT_BEFORE = re.compile(r"(?:^|[\s(/·])(?:[kcmµμnp]?m|[kmµμn]?[gslL]|ft|Hz|mol|[kKMG]?b|bp)$")
# "(12)" / "(3, 4)": a callout style of its own in some numbered-reference papers, but also equation and
# list numbers; used only where the document prefers it over brackets (see parse_pdf).
_PAREN_NUM = re.compile(rf"(?:(?<![\w(])|(?<=[a-z]{{3}}))\(\s*({_NUM_ITEM}(?:\s*[,;]\s*{_NUM_ITEM})*)\s*\)")
_NOT_PAREN_CALLOUT = re.compile(r"(?:eqs?\.?|equations?|steps?|cases?|conditions?|formulas?|rules?|lines?)\s*$", re.I)
_SUP = re.compile(f"{SUP_OPEN}([^{SUP_CLOSE}]*){SUP_CLOSE}")
_SURNAME = r"[A-Z\u00c0-\u024f][\w'’\-\u00c0-\u024f]+(?:\s(?:van|von|de|der|den|da|di|la|le|du)\s[A-Z][\w'’\-]+)?"
_PARTICLE = r"(?:(?:van|von|de|der|den|da|di|la|le|du|del)\s)"
_NAME = rf"{_PARTICLE}?{_SURNAME}"
# "Smith (2003)", "Smith et al. (2003a, 2004)", "Smith and Lee (2003)", "Smith, Lee, and van Dam (2003)".
_AY_NARRATIVE = re.compile(
    rf"\b({_NAME})(?:\s+et\s+al\.?|(?:,\s*{_NAME})*,?\s+(?:and|&)\s+{_NAME})?"
    rf"(?:\s*,)?\s*\(\s*((?:1[6-9]|20)\d\d[a-z]?(?:\s*[,;]\s*(?:1[6-9]|20)\d\d[a-z]?)*)\s*\)"
)
_AY_PAREN = re.compile(r"\(([^()]{2,400}?(?:\b(?:1[6-9]|20)\d\d[a-z]?|n\.\s?d\.)[^()]{0,200}?)\)")
_YEARS = r"(?:(?:1[6-9]|20)\d\d[a-z]?|n\.\s?d\.[a-z]?)(?:\s*,\s*(?:(?:1[6-9]|20)\d\d[a-z]?|n\.\s?d\.[a-z]?))*"
_AY_PIECE = re.compile(
    rf"^\s*(?:(?:e\.\s?g\.|see(?: also)?|cf\.|reviewed in|for (?:a )?reviews?,? see)[,\s]+)?"
    rf"([A-Z\u00c0-\u024f][^;]*?)[,\s]+({_YEARS})\s*$",
    re.I,
)
_AY_ITEM = re.compile(
    rf"({_NAME})(?:\s+et\s+al\.?|(?:,\s*{_NAME})*,?\s+(?:and|&)\s+{_NAME})?"
    rf"[,\s]*((?:(?:1[6-9]|20)\d\d[a-z]?|in press)(?:\s*,\s*(?:1[6-9]|20)\d\d[a-z]?)*)"
)


def _expand(spec: str, limit: int) -> list[int]:
    """"3–6, 9" → [3, 4, 5, 6, 9]; ranges longer than ``limit`` are not callouts (page spans, years)."""
    nums: list[int] = []
    for part in re.split(r"[,;]", spec):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(rf"(\d+)\s*[{_DASH}]\s*(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if not 0 < b - a <= limit:
                return []
            nums.extend(range(a, b + 1))
        elif part.isdigit():
            nums.append(int(part))
        else:
            return []
    return nums


_NUMERIC_LABEL = re.compile(r"\W*(\d{1,4})\W*")


class _Linker:
    def __init__(self, refs: list[Reference]) -> None:
        self.by_number: dict[int, str] = {}
        for i, r in enumerate(refs):
            m = _NUMERIC_LABEL.fullmatch(r.label)
            n = int(m.group(1)) if m else i + 1
            self.by_number.setdefault(n, r.key)
        # Numbered list: printed labels "[12]", "12.", "(12)" — not author–year labels like "Smith, 2003".
        self.numbered = any(_NUMERIC_LABEL.fullmatch(r.label) for r in refs)
        # Which numeric callout styles this document uses, decided from how often each one links
        # (see parse_pdf): footnote markers must not pass for superscript callouts, "sp[8]" in code
        # listings not for bracket callouts in a paper citing "(8)".
        self.paren_numeric = False
        self.bracket = True
        self.superscript = True
        self.n = len(refs)
        self.by_author_year: dict[tuple[str, str], list[str]] = {}
        self.by_year_suffix: dict[tuple[str, str], str] = {}
        for r in refs:
            # Index under the parsed first-author surname and under the entry's first word, which is
            # what a callout names for corporate authors ("Committee on …, 2008", "Cephos, n.d.").
            names = {_norm_name(r.authors[0].family)} if r.authors else set()
            m = re.match(r"\s*([^\s,.(]+)", r.raw)
            if m:
                names.add(_norm_name(m.group(1)))
            names.discard("")
            nd = re.search(r"\bn\.\s?d\.([a-z]?)", r.raw)
            if r.year:
                year = str(r.year)
                m = re.search(rf"\b{year}([a-z])\b", r.raw)
            else:
                year = "nd" if nd else ""
                m = nd if nd and nd.group(1) else None
            for name in names:
                self.by_author_year.setdefault((name, year), []).append(r.key)
                if m:
                    self.by_year_suffix[(name, year + m.group(1))] = r.key
                if nd and year != "nd" and nd.start() < 200:
                    # "(n.d.). Retrieved May 2, 2021": undated entry whose access date parsed as its year.
                    self.by_author_year.setdefault((name, "nd"), []).append(r.key)

    def numbers(self, nums: list[int]) -> list[str]:
        keys = [self.by_number[n] for n in nums if n in self.by_number]
        return keys if len(keys) == len(nums) else []

    def author_year(self, name: str, year: str) -> str | None:
        n = _norm_name(name)
        year = re.sub(r"[\s.]", "", year.lower())  # "n.d.a" → "nda", like the index
        if not n or not year:
            return None
        if year.startswith("nd") and (n, year) not in self.by_year_suffix and (n, "nd") not in self.by_author_year:
            year = year[:2] if (n, year[:2]) in self.by_author_year else ""  # undated entry printed without "n.d."
        if year[-1:].isalpha() and (n, year) in self.by_year_suffix:
            return self.by_year_suffix[(n, year)]
        cands = self.by_author_year.get((n, year.rstrip("abcdefghij") if year[:1].isdigit() else year[:2]))
        return cands[0] if cands else None


def _find_callouts(text: str, linker: _Linker, tally: Counter[str] | None = None) -> tuple[str, list[Callout]]:
    """Strip superscript markers from ``text`` and return it with its linked callouts (counted by style in ``tally``)."""
    callouts: list[Callout] = []
    tally = tally if tally is not None else Counter()
    # A superscript group wrapped across lines arrives as two marker runs: one callout.
    text = re.sub(f"{SUP_CLOSE}(\\s?){SUP_OPEN}", r"\1", text)
    # Superscripts first: their markers are removed, which shifts later offsets.
    out = []
    pos = 0
    for m in _SUP.finditer(text):
        out.append(text[pos : m.start()])
        start = sum(len(x) for x in out)
        inner = m.group(1)
        out.append(inner)
        before = text[: m.start()].rstrip(SUP_CLOSE)[-1:]
        # "10 11", "44 49–52" (BMJ): a space between numbers separates them like a comma.
        spec = re.sub(r"\s+", "", re.sub(r"(?<=\d)\s+(?=\d)", ",", inner.strip()))
        nums = _expand(spec, 60) if re.fullmatch(rf"[{_DASH}\d,;\s]+", inner.strip()) else []
        # A superscript after a digit (10⁵) or a unit (km², ms⁻¹) is an exponent, not a citation.
        exponent = (before.isdigit() or _UNIT_BEFORE.search(text[: m.start()]) is not None
                    or re.search(r"(?:^|[\s(])[A-Za-z]$", text[: m.start()]) is not None  # R², x²
                    or re.match(r"\s?[=<>≤≥]", text[m.end() :]) is not None
                    # "¹Department of …", "²Gilling School": affiliation and footnote marks open a block or
                    # are glued to the word they mark.
                    or not text[: m.start()].strip() or text[m.end() : m.end() + 1].isalpha())
        if nums and not exponent and linker.superscript:
            keys = linker.numbers(nums)
            if keys:
                callouts.append(Callout(start, start + len(inner), keys, inner))
                tally["sup"] += 1
        pos = m.end()
    out.append(text[pos:])
    text = "".join(out)
    if linker.n:
        for m in _BRACKET.finditer(text) if linker.bracket else ():
            spec = m.group(1)
            if m.group(2):
                spec = f"{spec}–{m.group(2)}"
            nums = _expand(spec, 80)
            keys = linker.numbers(nums) if nums else []
            if keys:
                callouts.append(Callout(m.start(), m.end(), keys, m.group(0)))
                tally["bracket"] += 1
        if linker.paren_numeric:
            for m in _PAREN_NUM.finditer(text):
                if _NOT_PAREN_CALLOUT.search(text[: m.start()]):
                    continue
                nums = _expand(m.group(1), 80)
                keys = linker.numbers(nums) if nums else []
                if keys:
                    callouts.append(Callout(m.start(), m.end(), keys, m.group(0)))
                    tally["paren"] += 1
        if linker.by_author_year:
            taken = [(c.start, c.end) for c in callouts]
            for m in _AY_NARRATIVE.finditer(text):
                keys = []
                for y in re.split(r"\s*[,;]\s*", m.group(2)):
                    k = linker.author_year(m.group(1), y)
                    if k:
                        keys.append(k)
                if keys:
                    callouts.append(Callout(m.start(), m.end(), keys, m.group(0)))
                    taken.append((m.start(), m.end()))
                    tally["ay"] += 1
            for m in _AY_PAREN.finditer(text):
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                inner = m.group(1)
                keys = []
                for part in re.split(r";", inner):
                    # Whole piece first: "<name words>, <years>", linked on its first word.
                    pm = _AY_PIECE.match(part)
                    if pm:
                        first = pm.group(1).split()[0]
                        ks = [linker.author_year(first, y) for y in re.split(r"\s*,\s*", pm.group(2).strip())]
                        if ks and all(ks):
                            keys += [k for k in ks if k and k not in keys]
                            continue
                    for im in _AY_ITEM.finditer(part):
                        for y in re.split(r"\s*,\s*", im.group(2)):
                            k = linker.author_year(im.group(1), y)
                            if k and k not in keys:
                                keys.append(k)
                if keys:
                    callouts.append(Callout(m.start(), m.end(), keys, m.group(0)))
                    tally["ay"] += 1
    callouts.sort(key=lambda c: c.start)
    return text, callouts


# --------------------------------------------------------------------------------------------------------
# Header


def _header(doc: Document, first: list[Line], body_size: float) -> list[Line]:
    """Fill title/authors from page 1; return the page-1 lines of the title."""
    # Mastheads ("JSS Journal of Statistical Software", "PLOS ONE"), article-type labels ("Research Article",
    # "Case Report") and journal logos set in type ("viruses") are often larger than the title.
    def eligible(ln: Line) -> bool:
        return (sum(c.isalpha() for c in ln.text) >= 3 and len(ln.text) < 300 and not _MASTHEAD.search(ln.text)
                and not _ARTICLE_TYPE.match(_SUP.sub("", ln.text))
                and not (ln.text.strip().islower() and " " not in ln.text.strip()))  # a logo: "viruses"

    # Runs of consecutive eligible lines in one size (6 % tolerance: digits and capitals measure smaller).
    # Small print interleaved in reading order (a masthead column beside the title) is stepped over when
    # the next line of the title follows within two line heights.
    runs: list[list[Line]] = []
    skipped = 0
    for ln in first:
        cur = runs[-1] if runs else []
        same = bool(cur) and abs(ln.size - cur[0].size) <= 0.06 * cur[0].size
        if same and eligible(ln) and cur[-1].baseline - ln.baseline < 2.5 * cur[0].size:
            cur.append(ln)
            skipped = 0
        elif cur and ln.size < 0.8 * cur[0].size and skipped < 4:
            skipped += 1
        elif eligible(ln):
            runs.append([ln])
            skipped = 0
        else:
            runs.append([])
            skipped = 0
    runs = [r for r in runs if r and 3 <= sum(len(x.text.split()) for x in r) <= 80 and len(r) <= 6]
    if not runs:
        return []
    # The title sits in the upper half of page 1; a large-type opening paragraph further down does not count.
    top = max(ln.top for ln in first)
    title_lines = max(runs, key=lambda r: (r[0].top > 0.45 * top, round(r[0].size, 1), -first.index(r[0])))
    top_size = title_lines[0].size
    doc.title = re.sub(r"\s+", " ", _join_lines(title_lines).replace(SUP_OPEN, "").replace(SUP_CLOSE, "")).strip()
    if top_size < body_size + 1:
        doc.title = ""  # no typographic title: do not promote a body line
        return []
    # Authors: the next non-empty lines below the title, before affiliations/abstract, that look like names.
    idx = first.index(title_lines[-1]) + 1
    names: list[Author] = []
    for ln in first[idx : idx + 8]:
        t = _SUP.sub("", ln.text).strip()
        if not t or _ABSTRACT.match(t) or re.search(r"@|univ|institut|department|abstract|doi|\d{4}", t, re.I):
            break
        found = 0
        for piece in re.split(r",|\band\b|&|;", t):
            # Affiliation marks: digits, symbols, and single lower-case letters ("Román,a Lin-Fa Wang,b").
            piece = re.sub(r"[\d*∗†‡§¶#$+☯]|(?<![\w.])[a-z](?![\w.])", "", piece).strip()
            words = piece.split()
            if 2 <= len(words) <= 5 and all(w[:1].isupper() or w in _NAME_PARTICLES for w in words) \
                    and words[-1][:1].isupper():
                # Family name: the last word, with the particles before it ("van Schalkwyk", "du Toit").
                k = len(words) - 1
                while k > 1 and words[k - 1] in _NAME_PARTICLES:
                    k -= 1
                names.append(Author(family=" ".join(words[k:]), given=" ".join(words[:k])))
                found += 1
        if names and not found:
            break  # the names ended: an affiliation or the abstract follows
        if not names and ln is not first[idx] and len(t) > 60:
            break
    doc.authors = names
    return title_lines


# --------------------------------------------------------------------------------------------------------


def parse_pdf(
    data: bytes, source: str, *, max_bytes: int = MAX_PDF_BYTES, max_pages: int = MAX_PDF_PAGES,
    max_chars: int = MAX_PDF_CHARS,
) -> Document:
    """Parse a born-digital scholarly PDF into a Document (metadata, paragraphs with callouts, references).

    Raises :class:`~citelens.errors.InputError` subclasses naming ``source`` for empty, oversized (bytes, pages,
    characters, extraction time), encrypted, broken, 0-page, HTML-disguised or text-less (scanned) PDFs.
    """
    with PDFIUM_LOCK:
        pdf = open_pdf(data, source, max_bytes=max_bytes, max_pages=max_pages)
        try:
            pages, widths, heights = extract_lines(pdf, source, max_chars=max_chars)
        finally:
            pdf.close()
    doc = Document(source=source, format="pdf")
    # Page 1 as printed, running head and foot included: many publishers print the DOI only there.
    raw_page1 = list(pages[0]) if pages else []
    pages = _strip_running(pages, heights)
    sizes: Counter[float] = Counter()
    for lines in pages:
        for ln in lines:
            sizes[round(ln.size * 2) / 2] += len(ln.text)
    body_size = sizes.most_common(1)[0][0] if sizes else 10.0
    ordered: list[Line] = []
    for lines, w in zip(pages, widths, strict=True):
        ordered += _reading_order(lines, w, body_size)
    # Typical baseline distance between consecutive body lines in one column.
    deltas = Counter(
        round(a.baseline - b.baseline, 0)
        for a, b in zip(ordered, ordered[1:], strict=False)
        if a.page == b.page and a.column == b.column and abs(a.size - body_size) < 0.6 and abs(b.size - body_size) < 0.6
        and 0 < a.baseline - b.baseline < 3 * body_size
    )
    pitch = deltas.most_common(1)[0][0] if deltas else body_size * 1.2
    first_page = [ln for ln in ordered if ln.page == 0]
    title_ids = {id(ln) for ln in _header(doc, first_page, body_size)} if first_page else set()
    page1 = " ".join(ln.text for ln in first_page)
    first_ids = {id(ln) for ln in first_page}
    running1 = [ln for ln in raw_page1 if id(ln) not in first_ids]
    d = _own_doi(first_page + running1, body_size) or _cite_as_doi(ordered)
    if d:
        doc.doi = d.group(1).lower()
    body_lines = [ln for ln in ordered if id(ln) not in title_ids]
    blocks = _blocks(body_lines, body_size, pitch)

    # Find the reference section: the last heading-like block named References/Bibliography/….
    ref_start = None
    for i, b in enumerate(blocks):
        if len(b.lines) <= 2 and _REF_HEADING.match(b.text):
            ref_start = i
    ref_lines: list[Line] = []
    ref_end = len(blocks)
    if ref_start is not None:
        for j in range(ref_start + 1, len(blocks)):
            b = blocks[j]
            if b.kind == "heading" and (_STOP_HEADING.match(b.text) or b.lines[0].size > body_size + 0.9
                                        or (b.lines[0].bold and _NUMBERED_HEADING.match(b.text))):
                if not _STOP_HEADING.match(b.text) and _continues_numbering(ref_lines, blocks[j + 1 : j + 3]):
                    ref_lines += b.lines  # a mis-sized line inside an entry: the numbering goes on after it
                    continue
                ref_end = j
                break
            if b.kind == "caption":
                continue
            ref_lines += b.lines
    else:
        # No heading (REVTeX and some preprints print none): a trailing run of lines labelled
        # [1], [2], … or 1., 2., … is the list.
        idx = _unheaded_reference_start(body_lines)
        if idx is None:
            idx = _unheaded_author_year_start(body_lines)
        if idx is None:
            doc.warnings.append("no reference-list heading found")
        else:
            ref_lines = body_lines[idx:]
            blocks = _blocks(body_lines[:idx], body_size, pitch)
            ref_start = ref_end = len(blocks)
    entries = _segment_references(_without_trailers(ref_lines, doc.doi), body_size)
    vocab = _vocabulary(ordered)
    raws = [re.sub(r"\s+", " ", _resolve_breaks(_clean(_join_lines(e.lines, keep_breaks=True)), vocab)
                   .replace(SUP_OPEN, "").replace(SUP_CLOSE, "")).strip()
            for e in entries]
    keep = [i for i, r in enumerate(raws) if len(r) >= 8]
    check_reference_count(source, len(keep))
    refs = _parse_entries([raws[i] for i in keep])
    for k, (i, r) in enumerate(zip(keep, refs, strict=True)):
        r.key = f"b{k}"
        r.raw = raws[i]
        r.label = entries[i].label or _author_year_label(r)
    doc.references = refs
    linker = _Linker(refs)
    if not linker.numbered:
        # An unnumbered (author–year) list: digits in brackets are code or equations, not callouts.
        linker.bracket = linker.superscript = linker.paren_numeric = False
    else:
        # First pass with every numeric style on, to see which ones this document uses.
        linker.paren_numeric = True
        tally: Counter[str] = Counter()
        for i, b in enumerate(blocks):
            if b.kind != "heading" and (ref_start is None or not ref_start <= i < ref_end):
                _find_callouts(re.sub(r"\s+", " ", _resolve_breaks(_clean(b.text), vocab)), linker, tally)
        n_bracket, n_paren, n_sup = tally["bracket"], tally["paren"], tally["sup"]
        top = max(n_bracket, n_paren, n_sup)
        # "(12)" only where it is the main style: equation and list numbers are parenthesised too. Raised
        # digits are often exponents and footnote marks ("mg/m²"), so they need not be outnumbered 1.5:1.
        linker.paren_numeric = n_paren >= 3 and n_paren > 1.5 * n_bracket and n_paren > n_sup
        linker.bracket = n_bracket >= 0.2 * top
        # Superscripts must be the main style: raised digits in a bracket-citing paper are footnote
        # markers and exponents (a physics paper has dozens of x²).
        linker.superscript = n_sup >= 3 and n_sup > max(n_bracket, n_paren, tally["ay"])

    # Year: the most recent plausible year printed on page 1 (copyright/publication lines), else None.
    years = [int(y) for y in _YEAR.findall(page1) if 1900 < int(y) <= 2100]
    doc.year = max(years) if years else None

    # The size of top-level headings: that of the headings we recognise ("Introduction", "Methods", …).
    known = [b.lines[0].size for b in blocks if b.kind == "heading" and normalise_section(b.text) != "other"]
    top_heading = max(known) if known else body_size + 1
    section_title = ""
    section = "other"
    front = True
    in_abstract = False
    abstract: list[str] = []
    for i, b in enumerate(blocks):
        if ref_start is not None and ref_start <= i < ref_end:
            continue
        t = _resolve_breaks(_clean(b.text), vocab).strip()
        if not t:
            continue
        if front and b.lines[0].page == 0:
            # Front matter (authors, affiliations, dates) runs until the abstract or a recognised heading.
            if b.kind == "heading" and (_ABSTRACT.match(t) or normalise_section(t) != "other"):
                front = False
            elif b.kind != "heading" and len(t) > 400:
                front = False
                if not abstract:
                    # A long first paragraph without an "Abstract" heading reads as the abstract; when it cites
                    # (a one-page correction, an unheaded opening) its statements are kept too.
                    abstract.append(re.sub(f"[{SUP_OPEN}{SUP_CLOSE}]", "", t))
                    text, callouts = _find_callouts(re.sub(r"\s+", " ", t), linker)
                    if callouts:
                        doc.paragraphs.append(Paragraph(text=text, section="other", kind="body", callouts=callouts))
                    continue
            elif b.kind == "heading" or not any(
                c.text[:1] in "[(" for c in _find_callouts(re.sub(r"\s+", " ", t), linker)[1]
            ):
                continue  # a block citing "[1]" or "(1)" is running text even before any heading
        front = False
        if b.kind == "heading":
            in_abstract = bool(_ABSTRACT.match(t))
            plain = re.sub(f"[{SUP_OPEN}{SUP_CLOSE}]", "", t)
            section_title = re.sub(r"^\s*((\d+(\.\d+)*)\.?|[IVX]+\.|[A-H]\.)\s+", "", plain).strip()
            norm = normalise_section(section_title)
            # Unrecognised sub-headings ("2.3 Cell culture", a bold run of the same size) stay in the
            # enclosing section; unrecognised top-level headings start an "other" section.
            sub = b.lines[0].size < top_heading - 0.5 or re.match(r"^\s*\d+\.\d", plain) is not None
            if norm != "other":
                section = norm
            elif not sub:
                section = "other"
            continue
        if in_abstract and b.lines[0].page == 0:
            abstract.append(re.sub(f"[{SUP_OPEN}{SUP_CLOSE}]", "", t))
            text, callouts = _find_callouts(re.sub(r"\s+", " ", t), linker)
            if callouts:
                # A "Summary" that cites (JOSE/JOSS open with one) is also running text with statements.
                doc.paragraphs.append(Paragraph(text=text, section="other", section_title=section_title,
                                                kind="body", callouts=callouts))
            continue
        in_abstract = False
        kind = "caption" if b.kind == "caption" else "body"
        if (kind == "body" and b.lines[0].size < body_size - 0.6 and b.lines[-1].bottom < 0.3 * heights[b.lines[0].page]
                and re.match(rf"^(?:{SUP_OPEN}|[\d*†‡§¶]+\s)", t)):
            kind = "footnote"  # small print at the page foot, starting with its marker
            t = t.replace(SUP_OPEN, "", 1).replace(SUP_CLOSE, "", 1)
        text, callouts = _find_callouts(re.sub(r"\s+", " ", t), linker)
        if b.lines[0].page == 0 and _author_list_marks(text, callouts):
            continue  # "Martin Connor,1,2 Taimur Shah,1 …": affiliation marks, not citations
        doc.paragraphs.append(
            Paragraph(text=text, section=section, section_title=section_title, kind=kind, callouts=callouts)
        )
    doc.abstract = " ".join(abstract)
    if not doc.references:
        doc.warnings.append("no reference entries found")
    return doc
