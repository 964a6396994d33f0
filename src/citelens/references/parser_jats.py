"""Labelled reference strings rebuilt from JATS reference lists: training data for the reference parser.

Europe PMC's JATS (``shared/data/pmc-oa/pmc-oa.tar.gz``) tags ≈220,000 references, in two forms:

* ``<mixed-citation>``: the reference as printed, punctuation and all, with its parts tagged. The string is
  the element's text and every tagged part a labelled span of it: real publisher styles, no invention.
* ``<element-citation>``: the parts without the punctuation between them. We print them in one of several
  common styles (Vancouver, APA, Harvard/Springer, Nature/IEEE, Chicago, physics), chosen per reference by a
  seeded generator, and keep the spans as we print them.

Labels are GROBID's TEI names (``author``, ``title:a``, ``title:j``, ``date``, ``biblScope:vol`` …) so
the examples go through :data:`citelens.references.parser_train.LABEL_MAP` like GROBID's own corpus.
The tar is streamed member by member; nothing is unpacked.
"""

from __future__ import annotations

import hashlib
import random
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from citelens.formats.citation_text import printed_text as _text
from citelens.references.parser_train import Example

__all__ = ["article_part", "examples_from_jats", "iter_tar_examples", "noisy_variant", "restyled_variant",
           "sample_tar_examples"]

_PARSER = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False, huge_tree=False, recover=True)

# JATS element → GROBID label for mixed citations. Unlisted elements are text without a label ("O").
_TAG_LABEL = {
    "person-group": "author", "name": "author", "string-name": "author", "collab": "author", "etal": "author",
    "article-title": "title:a", "chapter-title": "title:a", "part-title": "title:a",
    "year": "date", "month": "date", "day": "date", "season": "date", "date": "date", "date-in-citation": "note",
    "volume": "biblScope:vol", "issue": "biblScope:issue",
    "fpage": "biblScope:pp", "lpage": "biblScope:pp", "page-range": "biblScope:pp", "elocation-id": "biblScope:pp",
    "publisher-name": "publisher", "publisher-loc": "pubPlace",
    "edition": "note", "comment": "note", "conf-loc": "note", "conf-date": "note", "series": "note",
    "trans-title": "note", "trans-source": "note", "size": "note", "institution": "publisher",
    "ext-link": "ptr:web", "uri": "ptr:web", "conf-name": "title:m",
}
# Labels whose neighbouring spans merge when only separators lie between (GROBID labels the whole author
# list, the whole date and the whole page range as one span).
_MERGE = {"author": r"[\s,;.&]*(?:and|&|et|und)?[\s,;.&]*", "date": r"[\s,;/\-–]*",
          "biblScope:pp": r"\s*[-–—‐]+\s*", "editor": r"[\s,;.&]*(?:and|&)?[\s,;.&]*"}


def _local(tag: object) -> str:
    return tag.split("}", 1)[-1] if isinstance(tag, str) else ""


def _label(el: etree._Element, pubtype: str) -> str | None:
    tag = _local(el.tag)
    if tag == "source":
        return "title:j" if pubtype in ("journal", "") else "title:m"
    if tag == "pub-id" or (tag == "ext-link" and (el.get("ext-link-type") or "") == "doi"):
        kind = (el.get("pub-id-type") or el.get("ext-link-type") or "").lower()
        return {"doi": "idno:DOI", "pmid": "idno:PMID", "arxiv": "idno:arxiv"}.get(kind, "note")
    if tag == "person-group" and (el.get("person-group-type") or "author") == "editor":
        return "editor"
    return _TAG_LABEL.get(tag)


class _Builder:
    """A string with labelled spans, appended piece by piece."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.n = 0
        self.spans: list[list] = []  # [label, start, end]

    def add(self, text: str, label: str | None = None, *, apart: bool = False) -> None:
        """Append ``text`` (labelled ``label``); ``apart``: a separate element, so it never glues onto a
        word or number before it (Europe PMC drops the space in "Public Health<volume>56</volume>")."""
        text = re.sub(r"\s+", " ", text)
        if not text:
            return
        if apart and self.parts and self.parts[-1][-1:].isalnum() and text[0].isalnum():
            self.parts.append(" ")
            self.n += 1
        if self.n == 0:
            text = text.lstrip()
        elif self.parts and self.parts[-1].endswith(" ") and text.startswith(" "):
            text = text[1:]
        if not text:
            return
        start = self.n
        self.parts.append(text)
        self.n += len(text)
        if label:
            # Spans exclude edge whitespace and the trailing full stop of a field ("Nature." → "Nature").
            lead = len(text) - len(text.lstrip())
            body = text.strip()
            if label not in ("author", "title:j", "title:m") and body.endswith(".") and len(body) > 1:
                body = body[:-1]
            if body:
                self.spans.append([label, start + lead, start + lead + len(body)])

    def field(self, before: str, text: str, label: str, after: str = "") -> None:
        """``before``, ``text`` labelled ``label``, then ``after`` — all three only when there is a ``text``
        (an optional field with its punctuation: ", vol. 12")."""
        if text:
            self.add(before)
            self.add(text, label)
            self.add(after)

    def example(self, source: str) -> Example | None:
        raw = "".join(self.parts).rstrip()
        spans = [s for s in self.spans if s[2] <= len(raw) and s[1] < s[2]]
        merged: list[list] = []
        for s in sorted(spans, key=lambda s: s[1]):
            last = merged[-1] if merged else None
            if last and last[0] == s[0] and s[0] in _MERGE and re.fullmatch(_MERGE[s[0]], raw[last[2] : s[1]], re.I):
                last[2] = s[2]
            else:
                merged.append(list(s))
        if len(raw) < 15 or not merged:
            return None
        return Example(source, raw, [{"label": lab, "start": a, "end": b, "text": raw[a:b]} for lab, a, b in merged])


def _from_mixed(cit: etree._Element, source: str) -> Example | None:
    pubtype = (cit.get("publication-type") or "").lower()
    b = _Builder()
    b.add(cit.text or "")
    for child in cit:
        if _local(child.tag) == "pub-id" and (child.get("pub-id-type") or "") in ("pmid", "pmcid"):
            b.add(" " if (child.tail or "").strip() else "")
            b.add(child.tail or "")
            continue  # Europe PMC appends the PMID bare; printed references label it or leave it out
        if isinstance(child.tag, str):
            # A person-group's names and punctuation make one author (or editor) span.
            b.add(_text(child), _label(child, pubtype), apart=True)
        b.add(child.tail or "")
    return b.example(source)


def _printed_punctuation(cit: etree._Element) -> bool:
    """Does this mixed citation keep the punctuation between its parts (not a bare element list)?"""
    between = (cit.text or "") + "".join(c.tail or "" for c in cit if isinstance(c.tag, str))
    return len(re.findall(r"[.,;:()]", between)) >= 2


# ---------------------------------------------------------------------------------------------------------
# Printing element citations in common styles.

_STYLES = ("vancouver", "apa", "harvard", "nature", "chicago", "physics", "vancouver", "harvard")


def _names(cit: etree._Element, group_type: str = "author") -> tuple[list[tuple[str, str]], bool, list[str]]:
    people: list[tuple[str, str]] = []
    collabs: list[str] = []
    etal = False
    groups = [g for g in cit.iter("person-group") if (g.get("person-group-type") or "author") == group_type]
    scopes = groups or ([cit] if group_type == "author" else [])
    for g in scopes:
        for n in g.iter("name", "string-name", "collab", "etal"):
            tag = _local(n.tag)
            if tag == "etal":
                etal = True
            elif tag == "collab":
                collabs.append(_text(n).strip())
            elif tag == "string-name" and n.find("surname") is None:
                people.append((_text(n).strip(), ""))
            else:
                sur = n.find("surname")
                giv = n.find("given-names")
                people.append((_text(sur).strip() if sur is not None else "", _text(giv).strip() if giv is not None else ""))
    return [p for p in people if p[0]], etal, [c for c in collabs if c]


def _initials(given: str, dots: bool, spaced: bool) -> str:
    if not given:
        return ""
    letters = [w[0] for w in re.split(r"[\s.\-]+", given) if w] if (" " in given or "." in given or given.islower()
                                                                      or len(given) > 3 and not given.isupper()) \
        else list(given)
    if dots:
        return (" " if spaced else "").join(ch + "." for ch in letters)
    return "".join(letters)


def _author_list(style: str, people: list[tuple[str, str]], etal: bool, collabs: list[str], rng: random.Random) -> str:
    names: list[str] = []
    sur_first = rng.random() < 0.5  # Harvard: "Smith, J." or "Smith J", for the whole list
    for sur, giv in people:
        if style == "vancouver":
            names.append(f"{sur} {_initials(giv, False, False)}".strip())
        elif style in ("apa", "chicago") or (style == "harvard" and sur_first):
            names.append(f"{sur}, {_initials(giv, True, True)}".strip(" ,") if style != "chicago" or not names
                         else f"{giv} {sur}".strip())
        elif style == "harvard":
            names.append(f"{sur} {_initials(giv, False, False)}".strip())
        else:  # nature, physics: initials first
            names.append(f"{_initials(giv, True, rng.random() < 0.5)} {sur}".strip())
    names += collabs
    if not names:
        return ""
    limit = {"vancouver": 6, "nature": 5, "physics": 4}.get(style, 8)
    more = etal or len(names) > limit
    if len(names) > limit:
        names = names[: 3 if style == "vancouver" else 1 if style == "nature" else limit]
    if more:
        return ", ".join(names) + (", et al." if style in ("vancouver", "physics") else " et al.")
    if len(names) == 1:
        return names[0]
    if style == "vancouver":
        return ", ".join(names)
    if style == "apa":
        return ", ".join(names[:-1]) + ", & " + names[-1]
    if style in ("harvard", "chicago", "nature", "physics"):
        return ", ".join(names[:-1]) + (", and " if style == "chicago" else " and " if style != "nature" else " & ") + names[-1]
    return ", ".join(names)


def _render_element(cit: etree._Element, source: str, rng: random.Random) -> Example | None:
    pubtype = (cit.get("publication-type") or "journal").lower()

    def get(tag: str) -> str:
        el = cit.find(f".//{tag}")
        return _text(el).strip().rstrip(".") if el is not None else ""

    people, etal, collabs = _names(cit)
    title = get("article-title") or get("chapter-title")
    src, year, vol, iss = get("source"), get("year"), get("volume"), get("issue")
    fp, lp = get("fpage"), get("lpage")
    eloc = get("elocation-id")
    pages = f"{fp}–{lp}" if fp and lp else (fp or eloc)
    doi = ""
    for pid in cit.iter("pub-id"):
        if (pid.get("pub-id-type") or "") == "doi":
            doi = _text(pid).strip()
    publisher, place = get("publisher-name"), get("publisher-loc")
    src_label = "title:j" if pubtype == "journal" else "title:m"
    if not (src or title) or not (people or collabs):
        return None
    style = rng.choice(_STYLES)
    authors = _author_list(style, people, etal, collabs, rng)
    b = _Builder()
    dash = rng.choice(["–", "-"])
    pages = pages.replace("–", dash)

    def place_pub() -> None:
        if place:
            b.add(place, "pubPlace")
            b.add(": ")
        if publisher:
            b.add(publisher, "publisher")
            b.add(". ")

    def doi_tail() -> None:
        if doi and rng.random() < 0.6:
            if style == "apa" or rng.random() < 0.3:
                b.add(" https://doi.org/")
            else:
                b.add(" doi:" if rng.random() < 0.5 else " DOI: ")
            b.add(doi, "idno:DOI")

    if style == "vancouver":
        b.add(authors, "author")
        b.add(". ")
        if title:
            b.add(title, "title:a")
            b.add(". ")
        if src:
            b.add(src, src_label)
            b.add(". " if pubtype != "journal" or not year else " ")
        if pubtype != "journal":
            place_pub()
        if year:
            b.add(year, "date")
        if vol:
            b.add(";")
            b.add(vol, "biblScope:vol")
        if iss:
            b.add("(")
            b.add(iss, "biblScope:issue")
            b.add(")")
        if pages:
            b.add(":" if vol or iss else ". ")
            b.add(pages, "biblScope:pp")
        b.add(".")
        doi_tail()
    elif style in ("apa", "harvard"):
        b.add(authors, "author")
        b.add(" (")
        b.add(year or "n.d.", "date")
        b.add(")" + (". " if style == "apa" else " "))
        if title:
            b.add(title, "title:a")
            b.add(". ")
        if src:
            b.add(src, src_label)
        if pubtype == "journal":
            if vol:
                b.add(", " if style == "apa" else " ")
                b.add(vol, "biblScope:vol")
            if iss:
                b.add("(")
                b.add(iss, "biblScope:issue")
                b.add(")")
            if pages:
                b.add(", " if style == "apa" else ":")
                b.add(pages, "biblScope:pp")
            b.add(".")
        else:
            b.add(". ")
            place_pub()
        doi_tail()
    elif style == "nature":
        b.add(authors, "author")
        b.add(" ")
        if title:
            b.add(title, "title:a")
            b.add(". ")
        if src:
            b.add(src, src_label)
            b.add(" ")
        if vol:
            b.add(vol, "biblScope:vol")
            b.add(", ")
        if pages:
            b.add(pages, "biblScope:pp")
            b.add(" ")
        if publisher and pubtype != "journal":
            b.add("(")
            b.add(publisher, "publisher")
            b.add(", ")
        else:
            b.add("(")
        b.add(year, "date")
        b.add(").")
        doi_tail()
    elif style == "chicago":
        b.add(authors, "author")
        b.add(". ")
        b.add(year, "date")
        b.add(". ")
        if title:
            b.add("\u201c")
            b.add(title, "title:a")
            b.add(".\u201d ")
        if src:
            b.add(src, src_label)
        if vol:
            b.add(" ")
            b.add(vol, "biblScope:vol")
        if iss:
            b.add(" (")
            b.add(iss, "biblScope:issue")
            b.add(")")
        if pages:
            b.add(": ")
            b.add(pages, "biblScope:pp")
        b.add(".")
        doi_tail()
    else:  # physics: no article title, volume in bold in print
        b.add(authors, "author")
        b.add(", ")
        if src:
            b.add(src, src_label)
            b.add(" ")
        elif title:
            b.add(title, "title:a")
            b.add(", ")
        if vol:
            b.add(vol, "biblScope:vol")
            b.add(", ")
        if fp or eloc:
            b.add(fp or eloc, "biblScope:pp")
            b.add(" ")
        b.add("(")
        b.add(year, "date")
        b.add(").")
    return b.example(source)


def examples_from_jats(data: bytes, article: str, *, seed: int = 0) -> list[Example]:
    """Labelled reference strings of one JATS article (``article`` names the source in every Example)."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    rng = random.Random(f"{seed}:{article}")
    out: list[Example] = []
    for ref in root.iter("ref"):
        cit = next((c for c in ref if _local(c.tag) in ("mixed-citation", "element-citation", "citation")), None)
        if cit is None:
            continue
        try:
            if _local(cit.tag) == "element-citation" or not _printed_punctuation(cit):
                ex = _render_element(cit, article, rng)
                kind = "rendered"
            else:
                ex = _from_mixed(cit, article)
                kind = "printed"
        except (ValueError, IndexError):
            continue
        if ex is not None:
            ex.source_file = f"{article}#{kind}"
            out.append(ex)
    return out


def article_part(article: str, seed: str = "citelens-jats-refs") -> str:
    """'train' | 'dev' | 'test' for an article: 90/5/5 by a seeded hash, so every reference of one article
    lands on one side."""
    h = int(hashlib.sha256(f"{seed}:{article}".encode()).hexdigest()[:8], 16) % 100
    return "test" if h < 5 else "dev" if h < 10 else "train"


def iter_tar_examples(path: Path, parts: tuple[str, ...] = ("train", "dev", "test")) -> Iterator[tuple[str, Example]]:
    """(part, Example) for every reference in the articles of a JATS tar (streamed, never unpacked)."""
    with tarfile.open(path, "r|*") as tar:
        for member in tar:
            if not member.isfile() or not member.name.endswith((".xml", ".nxml")):
                continue
            article = Path(member.name).stem
            part = article_part(article)
            if part not in parts:
                continue
            fh = tar.extractfile(member)
            if fh is None:
                continue
            for ex in examples_from_jats(fh.read(), article):
                yield part, ex


def sample_tar_examples(
    path: Path, part: str, n: int | None, *, exclude: frozenset[str] = frozenset(), seed: int = 20261203
) -> list[Example]:
    """Up to ``n`` examples of one part, at most half printed (mixed-citation) and half rendered
    (element-citation), by seeded reservoir sampling over the streamed tar (``None``: all of them).
    Articles named in ``exclude`` (e.g. the PDF benchmark's articles) are skipped."""
    rng = random.Random(seed)
    pools: dict[str, list[Example]] = {"printed": [], "rendered": []}
    seen = dict.fromkeys(pools, 0)
    for _part, ex in iter_tar_examples(path, (part,)):
        article, kind = ex.source_file.split("#", 1)
        if article in exclude:
            continue
        seen[kind] += 1
        pool = pools[kind]
        cap = None if n is None else n // 2
        if cap is None or len(pool) < cap:
            pool.append(ex)
        else:
            j = rng.randrange(seen[kind])
            if j < cap:
                pool[j] = ex
    return pools["printed"] + pools["rendered"]



# ---------------------------------------------------------------------------------------------------------
# Noisy variants: what reference strings from PDFs and from other files look like that JATS never shows.

_SEPARATOR = frozenset(".,;:")


def _title_case(text: str) -> str:
    return re.sub(r"(?<![\w'’])([^\W\d_])", lambda m: m.group(1).upper(), text)


def noisy_variant(ex: Example, rng: random.Random) -> Example | None:
    """A copy of ``ex`` with some of: the punctuation between fields dropped, upper-case author names,
    title in lower or Title Case, a hyphenated line break inside the title, two words glued together.

    The string is edited character by character, each character keeping the span it belongs to, so the
    labels stay exact. ``None`` when no edit applied.
    """
    owner = [-1] * len(ex.raw)
    for k, f in enumerate(ex.fields):
        for i in range(max(f["start"], 0), min(f["end"], len(ex.raw))):
            owner[i] = k
    chars = list(ex.raw)
    labels = [f["label"] for f in ex.fields]
    edits = 0

    def span_of(label_prefix: str) -> list[int]:
        return [i for i, k in enumerate(owner) if k >= 0 and labels[k].startswith(label_prefix)]

    if rng.random() < 0.3:  # no-punctuation styles ("Smith J Title of paper Journal 2003 12 1-9")
        keep_c: list[str] = []
        keep_o: list[int] = []
        for i, ch in enumerate(chars):
            if owner[i] < 0 and ch in _SEPARATOR and rng.random() < 0.8:
                # keep words apart: "Smith J.Title" must not become "Smith JTitle"
                nxt = chars[i + 1] if i + 1 < len(chars) else " "
                if not nxt.isspace() and (not keep_c or not keep_c[-1].isspace()):
                    keep_c.append(" ")
                    keep_o.append(-1)
                edits += 1
                continue
            keep_c.append(ch)
            keep_o.append(owner[i])
        chars, owner = keep_c, keep_o
    if rng.random() < 0.15:
        for i in span_of("author"):
            chars[i] = chars[i].upper()
        edits += 1
    title = span_of("title:a")
    if title and rng.random() < 0.2:
        text = "".join(chars[i] for i in title)
        new = _title_case(text) if rng.random() < 0.5 else text[:1] + text[1:].lower()
        if len(new) == len(text):
            for i, ch in zip(title, new, strict=True):
                chars[i] = ch
            edits += 1
    if title and rng.random() < 0.1:  # "emis- sion": a line break inside a word, hyphen kept
        words = [m for m in re.finditer(r"[^\W\d_]{7,}", "".join(chars[i] for i in title))]
        if words:
            m = rng.choice(words)
            at = title[m.start() + rng.randrange(3, len(m.group()) - 2)]
            if owner[at] == owner[at - 1]:
                chars[at:at] = ["-", " "]
                owner[at:at] = [owner[at], owner[at]]
                edits += 1
    if rng.random() < 0.1:  # "Journalof": a space lost in extraction
        spaces = [i for i in range(1, len(chars) - 1) if chars[i] == " " and chars[i - 1].isalpha() and chars[i + 1].isalpha()]
        if spaces:
            i = rng.choice(spaces)
            del chars[i]
            del owner[i]
            edits += 1
    if not edits:
        return None
    raw = "".join(chars)
    fields = []
    for k, f in enumerate(ex.fields):
        idx = [i for i, o in enumerate(owner) if o == k]
        if idx:
            fields.append({"label": f["label"], "start": idx[0], "end": idx[-1] + 1, "text": raw[idx[0] : idx[-1] + 1]})
    return Example(ex.source_file + "+noisy", raw, fields)


# ---------------------------------------------------------------------------------------------------------
# Restyled variants: styles of physics, mathematics, engineering and East Asian reference lists (GROBID's
# strings are full of them) that pmc-oa's biomedical JATS seldom prints: the title between commas or in
# quotes, "vol. 22, no. 11, pp. 1-9", the year in parentheses after the volume.

_RESTYLES = ("ieee", "elsevier", "ams", "hep", "comma-year")


def _year_of(text: str) -> str:
    m = re.search(r"(?<!\d)(1[6-9]\d\d|20\d\d)(?!\d)", text)
    return m.group(1) if m else ""


def _initials_first(author_text: str, rng: random.Random) -> str:
    from citelens.references.parser import split_authors  # the parser imports parser_train, not this module

    people = split_authors(author_text)
    if not people:
        return ""
    spaced = rng.random() < 0.5
    names = [f"{_initials(a.given, True, spaced)} {a.family}".strip() for a in people]
    if len(names) > 6 and rng.random() < 0.5:
        return f"{names[0]} et al."
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + rng.choice([", and ", " and ", ", "]) + names[-1]


def restyled_variant(ex: Example, rng: random.Random) -> Example | None:
    """``ex`` (a journal article reference with authors, title, journal and year) printed again in one of
    :data:`_RESTYLES`, with exact spans. ``None`` when a part is missing."""
    parts: dict[str, str] = {}
    for f in sorted(ex.fields, key=lambda f: f["start"]):
        parts.setdefault(f["label"], ex.raw[f["start"] : f["end"]].strip())
    title, journal, year = parts.get("title:a", ""), parts.get("title:j", ""), _year_of(parts.get("date", ""))
    if not (title and journal and year and parts.get("author")):
        return None
    style = rng.choice(_RESTYLES)
    authors = _initials_first(parts["author"], rng) if style != "comma-year" else parts["author"].rstrip(" .,")
    if not authors:
        return None
    title = title.rstrip(" .")
    vol, iss = parts.get("biblScope:vol", ""), parts.get("biblScope:issue", "")
    pages = parts.get("biblScope:pp", "")
    b = _Builder()
    b.add(authors, "author")
    if style == "ieee":
        quote = rng.choice([("\u201c", ",\u201d "), ('"', ',\" '), ("'", ",' ")])
        b.add(", " + quote[0])
        b.add(title, "title:a")
        b.add(quote[1])
        b.add(journal, "title:j")
        b.field(", vol. ", vol, "biblScope:vol")
        b.field(", no. ", iss, "biblScope:issue")
        b.field(", pp. " if "-" in pages or "–" in pages else ", p. ", pages, "biblScope:pp")
        b.add(", ")
        b.add(year, "date")
        b.add(".")
    elif style in ("elsevier", "ams"):
        b.add(", ")
        b.add(title, "title:a")
        b.add(", ")
        b.add(journal, "title:j")
        b.field(" ", vol, "biblScope:vol")
        b.add(" (")
        b.add(year, "date")
        b.add(")")
        if style == "ams":
            b.field(", no. ", iss, "biblScope:issue")
        b.field(", " if style == "ams" else " ", pages, "biblScope:pp")
        b.add(".")
    elif style == "hep":
        b.add(", ")
        b.add(title, "title:a")
        b.add(rng.choice([", ", ". "]))
        b.add(journal, "title:j")
        b.field(" ", vol, "biblScope:vol")
        if pages:
            b.add(", ")
            b.add(pages.split("-")[0].split("–")[0], "biblScope:pp")
        b.add(" (")
        b.add(year, "date")
        b.add(")")
    else:  # comma-year: "Ronen, J., 1987, Title, Journal, 52(7), 973-984."
        b.add(", ")
        b.add(year, "date")
        b.add(", ")
        b.add(title, "title:a")
        b.add(", ")
        b.add(journal, "title:j")
        b.field(", ", vol, "biblScope:vol")
        b.field("(", iss, "biblScope:issue", ")")
        b.field(", ", pages, "biblScope:pp")
        b.add(".")
    return b.example(ex.source_file + "+restyled")
