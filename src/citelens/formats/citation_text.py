"""A JATS citation as one readable reference string: a structured one written out, a printed one as printed.

An ``<element-citation>`` (and a ``<mixed-citation>`` whose publisher left out the punctuation) tags every
field and prints nothing between them: its text nodes joined with spaces read "Spudich J. L Jung K. H 2005
Microbial rhodopsins … Briggs W. R Spudich J. L Handbook of Photosensory Receptors Weinheim WILEY-VCH … 1 24",
where one cannot tell the chapter's authors from the book's editors or the pages from the volume. This writes it
in PLOS's reference style, field by field in the citation's own order ("Spudich JL, Jung KH (2005) Microbial
rhodopsins: phylogenetic and functional diversity. In: Briggs WR, Spudich JL, editors. Handbook of
Photosensory Receptors. Weinheim: WILEY-VCH Verlag GmbH & Co. KGaA. pp. 1–24."). Fields it does not know
(a comment, an edition, a conference name) are kept, each as a sentence of its own: nothing the XML says is
dropped. Written here rather than with a citation formatter (citeproc-py): those need CSL-JSON first, and
would drop the fields they have no variable for.
"""

from __future__ import annotations

import re

from lxml import etree

from citelens.document import Author, Reference

_SPACES = re.compile(r"\s+")
_NAME_TAGS = ("name", "string-name", "collab")
_LOCATOR_TAGS = frozenset({"volume", "issue", "fpage", "lpage", "elocation-id", "page-range"})
_PUBLISHER_TAGS = frozenset({"publisher-loc", "publisher-name"})
_ENDS_SENTENCE = (".", "?", "!")


def _text(el: etree._Element) -> str:
    return _SPACES.sub(" ", "".join(el.itertext())).strip()


def _local(tag: object) -> str:
    return tag.split("}", 1)[-1] if isinstance(tag, str) else ""


def printed_text(el: etree._Element) -> str:
    """The text of a citation that prints its own punctuation (a ``<mixed-citation>``), as printed: parts of a
    name the XML gives without a separator ("<surname>Scano</surname><given-names>F</given-names>") get a
    space, and names it lists with nothing between them get a comma ("SmithJ JonesK" was "Smith J, Jones K")."""
    pieces = [el.text or ""]
    prev_name = False
    for child in el:
        inner = printed_text(child) if isinstance(child.tag, str) else ""
        is_name = _local(child.tag) in ("name", "string-name", "collab")
        if is_name and prev_name and not "".join(pieces[-1:]).strip():
            pieces[-1] = ", "  # names the XML lists with nothing between them are printed with commas
        prev_name = is_name
        done = "".join(pieces).rstrip(" ")
        if inner and done == "".join(pieces) and done[-1:].isalnum() and inner[0].isalnum() and _local(child.tag) in (
            "given-names", "surname", "suffix", "prefix", "name", "string-name"
        ):
            pieces.append(" ")
        pieces.append(inner)
        pieces.append(child.tail or "")
    return _SPACES.sub(" ", "".join(pieces))


def _sentence(text: str) -> str:
    return text if text.endswith(_ENDS_SENTENCE) else text + "."


def _name(el: etree._Element) -> str:
    """ "Spudich JL" for <surname>Spudich</surname><given-names>J. L</given-names>; a collab or a string-name
    without parts as written."""
    surname, given = el.find("surname"), el.find("given-names")
    if surname is None:
        return _text(el)
    initials = "".join(ch for ch in _text(given) if ch.isupper()) if given is not None else ""
    if given is not None and not initials:  # a given name with no capital (transliterated, lower case)
        initials = _text(given)
    suffix = el.find("suffix")
    return " ".join(p for p in (_text(surname), initials, _text(suffix) if suffix is not None else "") if p)


def _people(els: list[etree._Element], etal: bool) -> str:
    names = [n for n in map(_name, els) if n]
    return ", ".join(names + (["et al."] if etal else []))


def citation_text(cit: etree._Element) -> str:
    """The citation's fields as one readable reference string (see the module's docstring)."""
    # (role, text) in the citation's order; roles: people, year, source (a journal's name), text (a sentence).
    entries: list[tuple[str, str]] = []
    ids: list[str] = []  # DOI, PMID…: at the end, as printed references give them
    names: list[etree._Element] = []
    names_etal = False
    locator: dict[str, str] = {}
    publisher: dict[str, str] = {}
    kind = cit.get("publication-type") or cit.get("citation-type") or ""
    # A book, a chapter or a report prints "pp." and its publisher after its name; so does a citation typed
    # "other" that names a publisher or editors (PLOS types book chapters so).
    book = kind in ("book", "chapter", "report", "thesis") or (kind != "journal" and (
        cit.find("publisher-name") is not None or cit.find("chapter-title") is not None
        or cit.find("person-group[@person-group-type='editor']") is not None))

    def flush_names() -> None:
        nonlocal names_etal
        if names:
            entries.append(("people", _people(names, names_etal)))
            names.clear()
            names_etal = False

    for child in cit:
        if not isinstance(child.tag, str):  # a comment or processing instruction between the fields
            continue
        tag = child.tag
        if tag in _NAME_TAGS:
            names.append(child)
            continue
        if tag == "etal":
            names_etal = True
            continue
        flush_names()
        text = _text(child)
        if tag == "person-group":
            group = [el for el in child if el.tag in _NAME_TAGS]
            people = _people(group, child.find("etal") is not None) or text
            role = child.get("person-group-type", "author")
            if role in ("editor", "editors"):
                entries.append(("text", f"In: {people}, editor{'s' if len(group) != 1 else ''}."))
            elif people:
                entries.append(("people", people) if role == "author" else ("text", f"{people} ({role})."))
        elif not text:
            continue
        elif tag == "year" and all(role != "year" for role, _ in entries):
            entries.append(("year", f"({text})"))
        elif tag in _LOCATOR_TAGS:
            locator.setdefault(tag, text)
        elif tag in _PUBLISHER_TAGS:
            publisher.setdefault(tag, text)
        elif tag == "source" and not book and all(role != "source" for role, _ in entries):
            entries.append(("source", text))
        elif tag in ("pub-id", "object-id"):
            id_kind = (child.get("pub-id-type") or "").lower()
            ids.append(f"doi:{text}" if id_kind == "doi" else f"{id_kind.upper()}: {text}" if id_kind else text)
        else:  # titles, a book's name, and fields without a place of their own (comment, edition, conf-name…)
            entries.append(("text", _sentence(text)))
    flush_names()
    year_at = next((i for i, (role, _) in enumerate(entries) if role == "year"), None)
    if year_at is not None and year_at > 1 and entries[0][0] == "people":
        # The year after the authors, where PLOS prints it, wherever the XML tags it ("… Gil-Quintana E
        # Physiological responses …" ran the names into the title).
        entries.insert(1, entries.pop(year_at))
    where = _locator(locator, book)
    pieces = []
    for i, (role, text) in enumerate(entries):
        if role == "source" and where and not book:
            text, where = f"{text} {where}", ""
        followed_by_year = i + 1 < len(entries) and entries[i + 1][0] == "year"
        pieces.append(text if role == "year" or (role == "people" and followed_by_year) else _sentence(text))
    if publisher:
        pieces.append(_sentence(": ".join(v for v in (publisher.get("publisher-loc"),
                                                       publisher.get("publisher-name")) if v)))
    if where:
        pieces.append(_sentence(where))
    return " ".join(pieces + ids)


def _locator(fields: dict[str, str], book: bool) -> str:
    """ "233: 149–152", "16(4): e1001", or "pp. 1–24" in a book."""
    first, last = fields.get("fpage", ""), fields.get("lpage", "")
    pages = f"{first}–{last}" if first and last and first != last else first or fields.get("page-range", "")
    pages = pages or fields.get("elocation-id", "")
    if book:
        volume = fields.get("volume", "")
        volume = f"Vol. {volume}" if volume[:1].isdigit() else volume
        return ". ".join(p for p in (volume, f"pp. {pages}" if pages else "") if p)
    volume = fields.get("volume", "") + (f"({fields['issue']})" if fields.get("issue") else "")
    return f"{volume}: {pages}" if volume and pages else volume or pages


def _author_name(a: Author) -> str:
    initials = "".join(ch for ch in a.given if ch.isupper()) or a.given
    return " ".join(p for p in (a.family, initials) if p)


def reference_text(ref: Reference) -> str:
    """A reference known only by its fields (GROBID's TEI without its ``raw_reference`` note, S2ORC without
    ``raw_text``) written out as :func:`citation_text` writes a structured citation: "Koster RD, Dirmeyer PA,
    et al. (2004) Regions of strong coupling between soil moisture and precipitation. Science 305: 1138–1140.
    doi:10.1126/science.1100217"."""
    names = [n for n in (_author_name(a) for a in ref.authors[:6]) if n]
    people = ", ".join(names + (["et al."] if len(ref.authors) > 6 else []))
    volume = ref.volume + (f"({ref.issue})" if ref.issue else "")
    pages = ref.pages.replace("-", "–") if ref.pages and "-" in ref.pages[1:] else ref.pages
    where = f"{volume}: {pages}" if volume and pages else volume or pages
    pieces = [f"{people} ({ref.year})" if people and ref.year else _sentence(people) if people else
              f"({ref.year})" if ref.year else ""]
    pieces += [_sentence(ref.title) if ref.title else "",
               _sentence(f"{ref.container} {where}".strip()) if ref.container or where else "",
               f"doi:{ref.doi}" if ref.doi else ""]
    return " ".join(p for p in pieces if p)
