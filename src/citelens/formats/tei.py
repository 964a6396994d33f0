"""GROBID TEI (``.tei.xml``) → :class:`Document`.

GROBID turns a PDF into TEI: header metadata in ``teiHeader/fileDesc/sourceDesc/biblStruct``, body text
in ``text/body/div`` (one flat ``div`` per section, ``head`` with an ``@n`` number), figure captions in
``figure/figDesc``, in-text citations as ``<ref type="bibr" target="#b3">`` and the reference list as
``back//listBibl/biblStruct[@xml:id]``. With sentence segmentation on, paragraphs hold ``<s>`` elements.

We trust the markup: a callout is exactly a ``<ref type="bibr">`` with a target that names a parsed
reference. GROBID already expands ranges ("[3]–[6]") into one ``ref`` per number, so nothing is expanded
here. Callouts GROBID could not link (no ``@target``, or a target that is not in the list) are skipped
and counted in ``doc.warnings``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from citelens.document import Affiliation, Author, Callout, Document, Paragraph, Reference
from citelens.errors import UnsupportedFormatError
from citelens.formats.citation_text import reference_text
from citelens.formats.limits import check_reference_count
from citelens.formats.sections import normalise_section
from citelens.formats.xmlsafe import local, parse_xml
from citelens.references.identifiers import normalise_doi, normalise_issn, normalise_pmcid, normalise_pmid

XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_WS = re.compile(r"\s+")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
# Inline elements whose text is not running prose.
_SKIP_INLINE = {"note", "figure", "table", "graphic"}
_MAX_UNLINKED_EXAMPLES = 5

__all__ = ["parse_tei"]


def parse_tei(data: bytes, source: str) -> Document:
    """Parse one GROBID TEI document. Raises :class:`~citelens.errors.InputError` naming ``source``."""
    root = parse_xml(data, source)
    name = local(root.tag)
    if name == "teiCorpus":
        # A corpus wraps several TEI documents; CiteLens ingests one article per file, so take the first.
        root = next((c for c in root if local(c.tag) == "TEI"), None)
        if root is None:
            raise UnsupportedFormatError(source, "teiCorpus contains no <TEI> document")
    elif name != "TEI":
        raise UnsupportedFormatError(source, f"XML root is <{name}>, not a TEI document")
    doc = Document(source=source, format="tei")
    header = _child(root, "teiHeader")
    if header is not None:
        _parse_header(header, doc)
    text = _child(root, "text")
    if text is not None:
        back = _child(text, "back")
        if back is not None:
            bibls = list(_iter(back, "biblStruct"))
            check_reference_count(source, len(bibls))
            doc.references = [_parse_bibl(b, i) for i, b in enumerate(bibls)]
        body = _child(text, "body")
        walker = _BodyWalker(doc, {r.key for r in doc.references})
        if body is not None:
            walker.walk_container(body)
        if back is not None:
            # Appendices can cite; acknowledgements and the reference list itself are not citation contexts.
            for div in back:
                if local(div.tag) == "div" and div.get("type") == "annex":
                    walker.walk_container(div)
        walker.finish()
    return doc


# --------------------------------------------------------------------------------------------- helpers


def _child(el: etree._Element | None, name: str) -> etree._Element | None:
    if el is None:
        return None
    return next((c for c in el if local(c.tag) == name), None)


def _children(el: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if el is None else [c for c in el if local(c.tag) == name]


def _iter(el: etree._Element, name: str) -> Iterator[etree._Element]:
    # Namespace-agnostic: GROBID writes the TEI namespace, hand-made or converted TEI often does not.
    return (e for e in el.iter() if local(e.tag) == name)


def _path(el: etree._Element | None, *names: str) -> etree._Element | None:
    for name in names:
        el = _child(el, name)
    return el


def _text(el: etree._Element | None) -> str:
    if el is None:
        return ""
    return _WS.sub(" ", "".join(t for t in el.itertext() if isinstance(t, str))).strip()


def _year(date: etree._Element | None) -> int | None:
    if date is None:
        return None
    m = _YEAR.search(date.get("when", "")) or _YEAR.search(_text(date))
    return int(m.group(1)) if m else None


def _person(author: etree._Element) -> Author | None:
    pers = _child(author, "persName")
    if pers is None:
        return None
    family = " ".join(_text(s) for s in _children(pers, "surname")).strip()
    given = " ".join(_text(f) for f in _children(pers, "forename")).strip()
    if not family and not given:
        return None
    a = Author(family=family, given=given)
    for idno in _children(author, "idno"):
        if idno.get("type", "").lower() == "orcid":
            a.orcid = _text(idno).rsplit("/", 1)[-1]
    for aff in _children(author, "affiliation"):
        a.affiliations.append(_affiliation(aff))
    return a


def _affiliation(aff: etree._Element) -> Affiliation:
    orgs = {o.get("type", ""): _text(o) for o in _children(aff, "orgName")}
    institution = orgs.get("institution") or orgs.get("laboratory") or orgs.get("department") or next(iter(orgs.values()), "")
    country = _text(_path(aff, "address", "country"))
    raw_note = next((n for n in _children(aff, "note") if n.get("type") == "raw_affiliation"), None)
    if raw_note is not None:
        # GROBID copies the printed footnote label ("2") into the raw note; it is not part of the address.
        label = _text(_child(raw_note, "label"))
        raw = _text(raw_note)
        if label and raw.startswith(label):
            raw = raw[len(label) :].strip()
    else:
        address = _child(aff, "address")
        parts = [*orgs.values(), *(_text(x) for x in (address if address is not None else ()))]
        raw = ", ".join(v for v in parts if v)
    # GROBID's <country key="CL">: the ISO code is the most exact thing it tags.
    country_el = _path(aff, "address", "country")
    key = (country_el.get("key") or "") if country_el is not None else ""
    return Affiliation(institution=institution, country=country, raw=raw, country_code=key.upper() if len(key) == 2 else "",
                       city=_text(_path(aff, "address", "settlement")), region=_text(_path(aff, "address", "region")))


def _scope(imprint: etree._Element | None, ref: Reference | Document) -> None:
    for scope in _children(imprint, "biblScope"):
        unit = scope.get("unit", "")
        value = _text(scope)
        if unit in ("volume", "vol"):
            ref.volume = value
        elif unit in ("issue", "number"):
            ref.issue = value
        elif unit in ("page", "pp"):
            start, end = scope.get("from", "").strip(), scope.get("to", "").strip()
            if start and end and start != end:
                ref.pages = f"{start}-{end}"
            elif start:
                ref.pages = start
            else:
                ref.pages = value


# ---------------------------------------------------------------------------------------------- header


def _parse_header(header: etree._Element, doc: Document) -> None:
    file_desc = _child(header, "fileDesc")
    doc.title = _text(_path(file_desc, "titleStmt", "title"))
    pub = _child(file_desc, "publicationStmt")
    doc.publisher = _text(_child(pub, "publisher"))
    doc.year = _year(_child(pub, "date"))
    bibl = _path(file_desc, "sourceDesc", "biblStruct")
    if bibl is not None:
        analytic = _child(bibl, "analytic")
        monogr = _child(bibl, "monogr")
        if not doc.title:
            doc.title = _text(_child(analytic, "title"))
        doc.authors = [a for a in (_person(x) for x in _children(analytic, "author")) if a is not None]
        for title in _children(monogr, "title"):
            if title.get("level") == "j" and not doc.journal:
                doc.journal = _text(title)
        imprint = _child(monogr, "imprint")
        if doc.year is None:
            doc.year = _year(_child(imprint, "date"))
        _scope(imprint, doc)
        if not doc.publisher:
            doc.publisher = _text(_child(imprint, "publisher"))
        for idno in [*_children(bibl, "idno"), *_children(analytic, "idno"), *_children(monogr, "idno")]:
            _idno(idno, doc)
    profile = _child(header, "profileDesc")
    abstract = _child(profile, "abstract")
    if abstract is not None:
        # Through the text builder, because adjacent <s> elements carry no whitespace between them.
        doc.abstract = " ".join(t for t in (_prose(p) for p in _iter(abstract, "p")) if t) or _text(abstract)
    keywords = _path(profile, "textClass", "keywords")
    if keywords is not None:
        doc.keywords = [t for t in (_text(k) for k in _children(keywords, "term")) if t]


def _idno(idno: etree._Element, target: Reference | Document) -> None:
    kind = idno.get("type", "").upper()
    value = _text(idno)
    if kind == "DOI" and not target.doi:
        target.doi = normalise_doi(value)
    elif kind == "PMID" and not target.pmid:
        target.pmid = normalise_pmid(value)
    elif kind in ("PMCID", "PMC") and not target.pmcid:
        target.pmcid = normalise_pmcid(value)
    elif kind in ("ISSN", "PISSN") and isinstance(target, Document) and not target.issn:
        target.issn = normalise_issn(value)
    elif kind in ("EISSN", "E-ISSN") and isinstance(target, Document) and not target.eissn:
        target.eissn = normalise_issn(value)


# ----------------------------------------------------------------------------------------- references


def _parse_bibl(bibl: etree._Element, index: int) -> Reference:
    key = bibl.get(XML_ID) or f"b{index}"
    ref = Reference(key=key)
    analytic = _child(bibl, "analytic")
    monogrs = _children(bibl, "monogr")
    monogr = monogrs[0] if monogrs else None
    a_title = _text(next((t for t in _children(analytic, "title")), None))
    j_title = m_title = ""
    for m in monogrs:
        for t in _children(m, "title"):
            level = t.get("level", "")
            if level == "j" and not j_title:
                j_title = _text(t)
            elif level in ("m", "s") and not m_title and (level == "m" or not j_title):
                m_title = _text(t)
    if a_title:
        ref.title = a_title
        ref.container = j_title or m_title
    else:
        ref.title = m_title or j_title
    ref.publication_type = "article" if j_title and a_title else ("chapter" if a_title and m_title else ("book" if m_title else ""))
    authors = _children(analytic, "author") or _children(monogr, "author")
    ref.authors = [a for a in (_person(x) for x in authors) if a is not None]
    imprint = _child(monogr, "imprint")
    date = next((d for d in _children(imprint, "date") if d.get("type", "published") == "published"), None)
    ref.year = _year(date if date is not None else _child(imprint, "date"))
    _scope(imprint, ref)
    for idno in [*_children(bibl, "idno"), *_children(analytic, "idno"), *(i for m in monogrs for i in _children(m, "idno"))]:
        _idno(idno, ref)
    for note in _children(bibl, "note"):
        if note.get("type") == "raw_reference":
            ref.raw = _text(note)
    if not ref.raw:  # GROBID writes the printed string only when asked to (includeRawCitations)
        ref.raw = reference_text(ref)
    return ref


# ----------------------------------------------------------------------------------------------- body


def _prose(el: etree._Element) -> str:
    builder = _TextBuilder(set(), [])
    builder.walk(el)
    return builder.result()[0]


class _TextBuilder:
    """Accumulates whitespace-normalised paragraph text while recording callout and sentence offsets."""

    def __init__(self, known: set[str], unlinked: list[str]) -> None:
        self.buf: list[str] = []
        self.length = 0
        self.callouts: list[Callout] = []
        self.sentences: list[tuple[int, int]] = []
        self.known = known
        self.unlinked = unlinked

    def _ends_with_space(self) -> bool:
        return not self.buf or self.buf[-1].endswith(" ")

    def emit(self, text: str | None) -> None:
        if not text:
            return
        text = _WS.sub(" ", text)
        if text.startswith(" ") and self._ends_with_space():
            text = text[1:]
        if text:
            self.buf.append(text)
            self.length += len(text)

    def separate(self) -> None:
        """Make sure what follows starts a new word (adjacent ``<s>`` elements carry no whitespace)."""
        if not self._ends_with_space():
            self.emit(" ")

    def walk(self, el: etree._Element) -> None:
        self.emit(el.text)
        for child in el:
            if isinstance(child.tag, str):
                name = local(child.tag)
                if name == "ref" and child.get("type") == "bibr":
                    self._callout(child)
                elif name == "s":
                    self._sentence(child)
                elif name not in _SKIP_INLINE:
                    self.walk(child)
            self.emit(child.tail)

    def _callout(self, ref: etree._Element) -> None:
        text = _WS.sub(" ", "".join(ref.itertext()))
        if text.startswith(" "):
            self.emit(" ")
        start = self.length
        self.emit(text.strip())
        end = self.length
        if text.endswith(" ") and text.strip():
            self.emit(" ")
        keys = [t.lstrip("#") for t in (ref.get("target") or "").split() if t.lstrip("#")]
        linked = [k for k in keys if k in self.known]
        if linked and end > start:
            self.callouts.append(Callout(start=start, end=end, reference_keys=linked, text=text.strip()))
        else:
            self.unlinked.append(text.strip() or "(empty)")

    def _sentence(self, s: etree._Element) -> None:
        self.separate()
        start = self.length
        self.walk(s)
        # Where the text ends, less its one trailing space (emit never writes two in a row). Joining the buffer here,
        # before, made a paragraph of n sentences cost n²: 20,000 <s> took 1.6 s, a 5 MB file minutes.
        end = self.length - 1 if self.buf and self.buf[-1].endswith(" ") else self.length
        if end > start:
            self.sentences.append((start, end))

    def result(self) -> tuple[str, list[Callout], list[tuple[int, int]] | None]:
        text = "".join(self.buf)
        # Leading whitespace never reaches buf (emit drops it at the start), so only the end needs trimming
        # and every recorded offset stays valid.
        text = text.rstrip()
        spans = [(a, min(b, len(text))) for a, b in self.sentences] or None
        return text, self.callouts, spans


class _BodyWalker:
    def __init__(self, doc: Document, known: set[str]) -> None:
        self.doc = doc
        self.known = known
        self.unlinked: list[str] = []
        self.title = ""
        self.section = "other"
        # Top-level section numbers → normalised section, so that "2.3 Sampling" under "2 Methods" is methods
        # even though GROBID writes every (sub)section as a flat sibling div.
        self.numbered: dict[str, str] = {}

    def walk_container(self, container: etree._Element) -> None:
        for el in container:
            if local(el.tag) == "div":
                self._div(el)
            else:
                self._block(el)

    def _block(self, el: etree._Element) -> None:
        name = local(el.tag)
        if name == "p":
            self._paragraph(el, self.section, self.title, "body")
        elif name == "list":
            # Bulleted lists: each item is a block of running text and can cite.
            for item in _children(el, "item"):
                self._paragraph(item, self.section, self.title, "body")
        elif name == "figure":
            self._figure(el)
        elif name == "note" and el.get("place") == "foot":
            self._paragraph(el, "other", "", "footnote")

    def _div(self, div: etree._Element) -> None:
        head = _child(div, "head")
        if head is not None:
            self.title = _text(head)
            number = (head.get("n") or "").strip().rstrip(".")
            section = normalise_section(self.title, div.get("type", ""))
            top = number.split(".")[0] if number else ""
            if section == "other" and "." in number and top in self.numbered:
                section = self.numbered[top]
            elif top and "." not in number:
                self.numbered[top] = section
            self.section = section
        # A div without head continues the previous section (GROBID splits sections around floats).
        for el in div:
            if local(el.tag) == "div":
                self._div(el)
            else:
                self._block(el)

    def _figure(self, fig: etree._Element) -> None:
        desc = _child(fig, "figDesc")
        if desc is None:
            return
        # GROBID prints figure heads with detached punctuation ("Fig. 1 ."); tidy them for display.
        label = re.sub(r"\s+([.,:;])", r"\1", _text(_child(fig, "head")) or _text(_child(fig, "label"))).rstrip(" .:")
        self._paragraph(desc, "other", label, "caption")

    def _paragraph(self, el: etree._Element, section: str, title: str, kind: str) -> None:
        builder = _TextBuilder(self.known, self.unlinked)
        builder.walk(el)
        text, callouts, spans = builder.result()
        if not text:
            return
        self.doc.paragraphs.append(
            Paragraph(text=text, section=section, section_title=title, kind=kind, callouts=callouts, sentence_spans=spans)
        )

    def finish(self) -> None:
        if self.unlinked:
            examples = ", ".join(repr(t) for t in self.unlinked[:_MAX_UNLINKED_EXAMPLES])
            self.doc.warnings.append(
                f"{len(self.unlinked)} bibliographic callout(s) without a target in the reference list were skipped "
                f"(e.g. {examples})"
            )
