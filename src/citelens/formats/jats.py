"""JATS / NLM XML (PLOS, PMC ``.nxml``, eLife, BMC …) → :class:`Document`.

The article's own markup is the ground truth for citations: every ``<xref ref-type="bibr" rid=…>`` is a
callout to ``<ref id=…>``. We keep exact character offsets of each callout in the paragraph text so the
statement stage can cut sentences around them. Numeric ranges written as two xrefs joined by a dash
("[3]–[6]") are expanded to every reference in between.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from citelens.document import Affiliation, Author, Callout, Document, Paragraph, Reference, RelatedArticle
from citelens.errors import CiteLensError, UnsupportedFormatError
from citelens.formats.citation_text import citation_text, printed_text
from citelens.formats.limits import check_reference_count
from citelens.formats.sections import section_of
from citelens.formats.xmlsafe import local, parse_xml
from citelens.references.identifiers import assign_identifier, normalise_doi, normalise_issn, normalise_pmid

XLINK = "{http://www.w3.org/1999/xlink}"
_DASHES = {"-", "–", "—", "‒", "−", "to"}
_RANGE_SEP = re.compile(r"^\s*[\])]?\s*[-–—‒−]\s*[\[(]?\s*$")  # "–", "]–[" between two callouts
# A reference number: at most 9 digits (a longer run is no label, and int() refuses over 4,300 digits).
_NUM = re.compile(r"\d{1,9}")
# Elements that float out of the running text: their captions and cells become blocks of their own.
_FLOATS = {"fig", "table-wrap", "fig-group", "table-wrap-group", "boxed-text", "supplementary-material",
           "chem-struct-wrap"}
# Elements whose text is not prose (skipped when building paragraph text).
_SKIP_TEXT = {"disp-formula", "tex-math", "alternatives", "graphic", "media", "inline-graphic", "object-id",
              "label"}
_BLOCKS = {"p", "td", "th", "def", "term"}


def parse_jats(data: bytes, source: str) -> Document:
    """Parse one JATS/NLM article. Raises :class:`~citelens.errors.InputError` naming ``source``."""
    root = parse_xml(data, source)
    if local(root.tag) != "article":
        raise UnsupportedFormatError(source, f"XML root is <{local(root.tag)}>, not a JATS <article>")
    doc = Document(source=source, format="jats", article_type=root.get("article-type", ""))
    # What is looked for anywhere in the article, found in one walk: each walk over the whole tree costs ~0.2 ms
    # on a PLOS article (the text nodes are most of its nodes), as much as parsing all of its front matter.
    ref_elements: list[etree._Element] = []
    related: list[etree._Element] = []
    bodies: list[etree._Element] = []
    floats: list[etree._Element] = []
    found = {"ref": ref_elements, "related-article": related, "body": bodies, "floats-group": floats,
             "floats-wrap": floats}
    for el in root.iter(*found):
        found[el.tag].append(el)
    _parse_front(root, doc, related)
    check_reference_count(source, len(ref_elements))
    refs = _parse_references(ref_elements)
    doc.references = refs
    known = {r.key for r in refs}
    label_to_key = _label_index(refs)
    order = {r.key: i for i, r in enumerate(refs)}
    walker = _BodyWalker(doc, known, label_to_key, order)
    # The first body, and the floats that JATS places outside it (PMC's floats-group): their captions cite too.
    containers = bodies[:1] + floats
    for container in containers:
        walker.mark_callouts(container)
    for container in containers:
        walker.walk(container, [])
    return doc


def parse_jats_references(data: bytes, source: str) -> list[Reference]:
    """Only the reference list of a JATS file (for checking a manuscript's references)."""
    ref_elements = list(parse_xml(data, source).iter("ref"))
    check_reference_count(source, len(ref_elements))
    return _parse_references(ref_elements)


# --------------------------------------------------------------------------------------------------- front

def _first(el: etree._Element, *path: str) -> etree._Element | None:
    cur: etree._Element | None = el
    for name in path:
        if cur is None:
            return None
        cur = next((c for c in cur.iter(name)), None)
    return cur


def _content(el: etree._Element) -> str:
    """All the text inside ``el`` (not its tail): what ``"".join(el.itertext())`` gives, made in libxml2.

    Parsing calls this for nearly every field of every reference and for every paragraph, so it avoids
    Python-level iteration: a leaf (a surname, a year, most table cells) holds one text node, and for anything
    else libxml2 concatenates the text nodes itself (``tostring(method="text")``, 3-6x faster than joining
    ``itertext`` on plos-starter; the same string for every element of plos-starter and of pmc-oa, checked).
    """
    if not len(el):
        return el.text or ""
    return etree.tostring(el, method="text", encoding=str, with_tail=False)


def text_of(el: etree._Element | None) -> str:
    """The text inside ``el`` with runs of whitespace as single spaces ("" for None)."""
    if el is None:
        return ""
    return " ".join(_content(el).split())


_ELECTRONIC = ("epub", "electronic", "online", "e-issn", "eissn")


def _journal_ids(jmeta: etree._Element, doc: Document) -> None:
    """The journal's ISSNs (``<issn pub-type="ppub|epub">`` or ``publication-format="print|electronic"``; an
    untyped one is taken as print, a second as electronic) and abbreviated title (NLM TA, ISO abbreviation)."""
    for el in jmeta.iter("issn"):
        issn = normalise_issn(text_of(el))
        kind = (el.get("pub-type") or el.get("publication-format") or "").lower()
        if not issn or issn in (doc.issn, doc.eissn):
            continue
        if kind in _ELECTRONIC or (not kind and doc.issn):
            doc.eissn = doc.eissn or issn
        else:
            doc.issn = doc.issn or issn
    abbreviations = [*jmeta.iter("abbrev-journal-title"),
                     *(el for el in jmeta.iter("journal-id") if el.get("journal-id-type") in ("nlm-ta", "iso-abbrev"))]
    doc.journal_abbrev = next((t for t in (text_of(el) for el in abbreviations) if t), "")


def _parse_front(root: etree._Element, doc: Document, related: list[etree._Element]) -> None:
    """Metadata of the article from <front>; ``related`` are its <related-article> elements (parse_jats finds them)."""
    front = _first(root, "front")
    if front is None:
        return
    meta = _first(front, "article-meta")
    jmeta = _first(front, "journal-meta")
    if jmeta is not None:
        doc.journal = text_of(_first(jmeta, "journal-title")) or text_of(_first(jmeta, "journal-id"))
        doc.publisher = text_of(_first(jmeta, "publisher-name"))
        _journal_ids(jmeta, doc)
    if meta is None:
        return
    for aid in meta.findall("article-id"):
        assign_identifier(doc, aid.get("pub-id-type") or "", text_of(aid))
    doc.title = text_of(_first(meta, "title-group", "article-title"))
    affs = {a.get("id", ""): _affiliation(a) for a in meta.iter("aff")}
    for contrib in meta.iter("contrib"):
        if contrib.get("contrib-type", "author") != "author":
            continue
        author = _person(contrib)
        if author is None:
            continue
        for x in contrib.iter("xref"):
            if x.get("ref-type") == "aff":
                for rid in (x.get("rid") or "").split():
                    if rid in affs:
                        author.affiliations.append(affs[rid])
        if not author.affiliations and len(affs) == 1:
            author.affiliations.append(next(iter(affs.values())))
        orcid = next((text_of(c) for c in contrib.iter("contrib-id") if c.get("contrib-id-type") == "orcid"), "")
        author.orcid = orcid.rsplit("/", 1)[-1].strip()
        author.email = next((text_of(e) for e in contrib.iter("email")), "")
        doc.authors.append(author)
    year = None
    for pd in meta.iter("pub-date"):
        y = text_of(_first(pd, "year"))
        if y.isdigit() and len(y) <= 4:  # (a longer run is no year: it overflowed the database's integers)
            if pd.get("pub-type") in ("epub", "ppub", None) or pd.get("date-type") == "pub" or year is None:
                year = int(y)
            if pd.get("pub-type") == "epub":
                break
    doc.year = year
    doc.volume = text_of(meta.find("volume"))
    doc.issue = text_of(meta.find("issue"))
    fpage, lpage = text_of(meta.find("fpage")), text_of(meta.find("lpage"))
    doc.pages = f"{fpage}-{lpage}" if fpage and lpage else fpage or text_of(meta.find("elocation-id"))
    doc.abstract = " ".join(text_of(a) for a in meta.findall("abstract") if a.get("abstract-type") is None)
    doc.keywords = [text_of(k) for k in meta.iter("kwd")]
    for ra in related:
        href = ra.get(XLINK + "href") or ""
        kind = (ra.get("ext-link-type") or "").lower()
        rel = RelatedArticle(relation=ra.get("related-article-type", ""), title=text_of(ra))
        # PLOS writes "info:doi/10.1371/…" with ext-link-type="uri"; the DOI pattern finds it anywhere.
        rel.doi = normalise_doi(href) if kind in ("doi", "uri", "") else ""
        if not rel.doi and kind == "pubmed":
            rel.pmid = normalise_pmid(href)
        if rel.doi or rel.pmid:
            doc.related.append(rel)


_INITIALS_ASIDE = re.compile(r"\s*[;,]?\s*\((?:[A-Z][a-z]?\.?-?\s?){1,5}\)")


def _affiliation(aff: etree._Element) -> Affiliation:
    """What the <aff> tags say; the locate stage reads the rest from the text (``raw``)."""
    inst = ", ".join(t for t in (text_of(i).strip(" ,;") for i in aff.iter("institution")) if t)
    ror = next((text_of(i) for i in aff.iter("institution-id")
                if (i.get("institution-id-type") or "").lower() == "ror"), "")
    # The text without the label, institution ids and e-mail addresses (Europe PMC puts them inside <aff>);
    # elements that follow each other with nothing between them ("<institution>…</institution><addr-line>")
    # are separate address parts, so a comma goes between them.
    pieces = [aff.text or ""]
    for child in aff:
        if child.tag == "institution-wrap":
            pieces += [_content(x) for x in child if x.tag != "institution-id"]
        elif child.tag not in ("label", "sup", "institution-id", "email"):
            pieces.append(_content(child))
        pieces.append(child.tail or "")
    raw = ""
    for piece in (" ".join(p.split()) for p in pieces):
        if not piece:
            continue
        if not raw or piece[0] in ",;.)":
            raw += piece
        else:
            raw += (" " if raw[-1] in ",;(" else ", ") + piece
    raw = _INITIALS_ASIDE.sub("", raw).strip(" ,;")  # "…, Korea; (Y.-S.S.); (J.-M.L.)": whose e-mails those were
    lab = text_of(aff.find("label"))
    if lab and raw.startswith(lab + " "):
        raw = raw[len(lab):].strip()
    city = ", ".join(text_of(x) for x in aff.iter("city")) or ""
    region = ", ".join(text_of(x) for x in aff.iter("state")) or ""
    if not city:
        addr = [text_of(x) for x in aff.iter("addr-line")]
        city = addr[0].split(",")[0].strip() if len(addr) == 1 else ""
    return Affiliation(institution=inst, country=text_of(aff.find("country")), raw=raw, city=city,
                       region=region, ror=ror)


def _person(el: etree._Element) -> Author | None:
    name = el.find("name")
    if name is None:
        name = next(el.iter("name"), None)
    if name is not None:
        return Author(family=text_of(name.find("surname")), given=text_of(name.find("given-names")))
    sn = next(el.iter("string-name"), None)
    if sn is not None:
        fam = text_of(sn.find("surname"))
        if fam:
            return Author(family=fam, given=text_of(sn.find("given-names")))
        return _split_name(text_of(sn))
    collab = next(el.iter("collab"), None)
    if collab is not None:
        return Author(family=text_of(collab))
    return None


def _split_name(s: str) -> Author:
    s = s.strip().rstrip(",")
    if "," in s:
        fam, given = s.split(",", 1)
        return Author(family=fam.strip(), given=given.strip())
    parts = s.split()
    if len(parts) >= 2 and len(parts[-1].replace(".", "")) <= 3 and parts[-1].replace(".", "").isupper():
        return Author(family=" ".join(parts[:-1]), given=parts[-1])
    if len(parts) >= 2:
        return Author(family=parts[-1], given=" ".join(parts[:-1]))
    return Author(family=s)


# ---------------------------------------------------------------------------------------------- references

_DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.I)


# The text nodes under an element in document order: ``itertext()`` as one libxml2 call (3x faster). The two
# differ only where text nodes lie side by side, which a freshly parsed tree never has (libxml2 merges them), and
# the reference list is read before the body walk changes anything.
_TEXT_NODES = etree.XPath(".//text()", smart_strings=False)
_CITATION_TAGS = ("element-citation", "mixed-citation", "citation", "nlm-citation")
_FIELD_TAGS = frozenset({"article-title", "chapter-title", "source", "year", "volume", "issue", "fpage", "lpage",
                         "elocation-id", "publisher-name"})


def _parse_references(ref_elements: Iterable[etree._Element]) -> list[Reference]:
    """The article's <ref> elements, in document order, as references (the first of each id)."""
    refs: list[Reference] = []
    seen: set[str] = set()
    for i, ref in enumerate(ref_elements):
        key = ref.get("id") or f"ref{i + 1}"
        if key in seen:
            continue
        seen.add(key)
        cit = None
        label = ""
        for child in ref:
            tag = child.tag
            if tag in _CITATION_TAGS and cit is None:
                cit = child
            elif tag == "label":
                label = text_of(child)
        if cit is None:  # wrapped deeper (e.g. inside <citation-alternatives>)
            cit = next(ref.iter(*_CITATION_TAGS), None)
        r = Reference(key=key, label=label)
        if cit is None:
            r.raw = text_of(ref)
            refs.append(r)
            continue
        _fill_reference(r, cit)
        refs.append(r)
    _complete_untagged([r for r in refs if not (r.title or r.container) and len(r.raw) >= 20])
    return refs


def _complete_untagged(refs: list[Reference]) -> None:
    """Fields for references printed as plain text: a <mixed-citation> without tagged title or source (5 % of
    pmc-oa's 219,000 references) is read by the reference-string parser, as a PDF's references are; only the
    fields the markup left empty are filled. Some publishers tag only the names, year, volume and pages, and
    leave title and journal as text between them (1,089 references of pmc-oa: "<string-name>…</string-name>,
    et al. The complete sequence of … Nature. <year>2000</year>;<volume>407</volume>…"); those count too.

    Before, such a reference reached resolution with its whole string as its title and no year, so it matched
    little, and a work it created was titled with the whole string (session 17: measured in docs/benchmarks.md)."""
    if not refs:
        return
    try:
        from citelens.references.parser import parse_reference_strings

        parsed = parse_reference_strings([r.raw for r in refs])
    except (ImportError, CiteLensError, OSError):  # no parser model in a development checkout: keep the raw string
        return
    for r, p in zip(refs, parsed, strict=False):
        r.title, r.container = p.title, p.container
        r.year = r.year if r.year is not None else p.year
        r.volume = r.volume or p.volume
        r.issue = r.issue or p.issue
        r.pages = r.pages or p.pages
        r.authors = r.authors or p.authors
        r.doi = r.doi or p.doi
        r.pmid = r.pmid or p.pmid
        r.pmcid = r.pmcid or p.pmcid


def _name_author(child: etree._Element) -> Author:
    fam = given = ""
    for part in child:
        if part.tag == "surname":
            fam = text_of(part)
        elif part.tag == "given-names":
            given = text_of(part)
    return Author(family=fam, given=given) if fam else _split_name(text_of(child))


def _fill_reference(r: Reference, cit: etree._Element) -> None:
    """One pass over the citation's children (fields of element-citation and mixed-citation are children)."""
    structured = cit.tag == "element-citation" or not (
        (cit.text or "").strip() or any((c.tail or "").strip() for c in cit))
    # Structured citations print nothing between their fields: written out as a reference would print them.
    r.raw = citation_text(cit) if structured else printed_text(cit).strip()
    r.publication_type = cit.get("publication-type") or cit.get("citation-type") or ""
    fields: dict[str, str] = {}
    links: list[etree._Element] = []
    authors_done = False
    for child in cit:
        tag = child.tag
        if tag in _FIELD_TAGS:
            if tag not in fields:
                fields[tag] = text_of(child)
        elif tag == "person-group":
            if authors_done or child.get("person-group-type", "author") != "author":
                continue
            for pc in child:
                if pc.tag in ("name", "string-name"):
                    r.authors.append(_name_author(pc))
                elif pc.tag == "collab":
                    r.authors.append(Author(family=text_of(pc)))
            authors_done = bool(r.authors)
        elif tag in ("name", "string-name") and not authors_done:
            r.authors.append(_name_author(child))
        elif tag == "collab" and not authors_done:
            r.authors.append(Author(family=text_of(child)))
        elif tag in ("pub-id", "object-id"):
            assign_identifier(r, child.get("pub-id-type") or "", text_of(child))
        elif tag in ("ext-link", "uri"):
            links.append(child)
        elif tag == "comment":
            links.extend(child.iter("ext-link", "uri"))
    source = fields.get("source", "")
    title = fields.get("article-title") or fields.get("chapter-title")
    if title is not None:
        r.title = title
        r.container = source
    else:
        r.title = source  # a book or report: its source is its title
        r.container = fields.get("publisher-name", "") if r.publication_type == "book" else ""
        if r.publication_type not in ("book", "report", "thesis", "other", "") and source:
            r.title, r.container = "", source
    m = _YEAR.search(fields.get("year", ""))
    r.year = int(m.group(0)) if m else None
    r.volume = fields.get("volume", "")
    r.issue = fields.get("issue", "")
    fp, lp = fields.get("fpage", ""), fields.get("lpage", "")
    r.pages = f"{fp}-{lp}" if fp and lp else fp or fields.get("elocation-id", "")
    if not r.doi:
        for link in links:
            href = link.get(XLINK + "href") or text_of(link)
            m2 = _DOI_IN_TEXT.search(href)
            if m2:
                r.doi = normalise_doi(m2.group(1))
                break
    if not r.doi and "doi" in r.raw.lower():
        m3 = re.search(r"doi:?\s*(10\.\d{4,9}/\S+)", r.raw, re.I)
        if m3:
            r.doi = normalise_doi(m3.group(1))


_YEAR = re.compile(r"\d{4}")


def _label_index(refs: list[Reference]) -> dict[int, str]:
    out: dict[int, str] = {}
    for r in refs:
        m = _NUM.search(r.label or "")
        if m and re.fullmatch(r"[\[(]?\d{1,9}[\]).]?", r.label.strip()):
            out.setdefault(int(m.group(0)), r.key)
    return out


# -------------------------------------------------------------------------------------------------- body

class _BodyWalker:
    """Walks body/sec/p, emitting one Paragraph per text block with callout offsets.

    Speed matters here (the whole ingest budget is a few milliseconds per article), so text is not built
    node by node in Python: each callout's content is first replaced by a marked copy of its label
    (``\x01<n>\x02label\x03``), then a block's text comes from libxml2's ``itertext`` in one go and the
    markers are turned into offsets by one regex pass.
    """

    def __init__(self, doc: Document, known: set[str], label_to_key: dict[int, str], order: dict[str, int]):
        self.doc = doc
        self.known = known
        self.label_to_key = label_to_key
        self.order = order
        self.keys_in_order = sorted(order, key=order.__getitem__)
        self.callouts: list[tuple[str, list[str]]] = []  # (label, known keys) by marker number

    def mark_callouts(self, container: etree._Element) -> None:
        for x in container.iter("xref"):
            if x.get("ref-type") != "bibr":
                continue
            label = text_of(x)
            keys = [k for k in (x.get("rid") or "").split() if k]
            for k in keys:
                if k not in self.known:
                    self.doc.warnings.append(f"callout {label!r} points at unknown reference id {k!r}")
            for child in list(x):
                x.remove(child)
            x.text = f"\ufdd0{len(self.callouts)}\ufdd1{label}\ufdd2"
            self.callouts.append((label, [k for k in keys if k in self.known]))

    # sections: list of (sec_type, title) from outermost to innermost
    def walk(self, el: etree._Element, sections: list[tuple[str, str]]) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag in ("sec", "app", "ack"):
                title = text_of(child.find("title"))
                self.walk(child, [*sections, (child.get("sec-type", ""), title)])
            elif tag in _FLOATS:
                self._float(child, sections)
            elif tag in _BLOCKS:
                self._block(child, sections, "body")
            elif tag in ("title", "label", "sec-meta", "object-id"):
                continue
            else:  # list, list-item, disp-quote, statement, table containers …
                self.walk(child, sections)

    def _float(self, el: etree._Element, sections: list[tuple[str, str]], name: str = "") -> None:
        """Caption and cells of a table, figure, box …: they count in the section the float is placed in (none for
        PMC's floats-group) and are titled by the float's label ("Table 2"), else its caption's title, else what
        it is ("Table"): a reader of a statement from a cell sees where it came from, even without a caption."""
        if el.tag in _FLOATS:
            name = _float_name(el) or name
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag == "caption":
                # title and paragraphs of a caption read as one block, separated by spaces
                parts = [text_of(c) for c in child if isinstance(c.tag, str)]
                self._emit(" ".join(p for p in parts if p), sections, "caption", name)
            elif tag in _BLOCKS:
                self._block(child, sections, "caption", name)
            elif tag == "alternatives" or tag not in _SKIP_TEXT:  # PLOS wraps tables in <alternatives>
                self._float(child, sections, name)

    def _block(self, el: etree._Element, sections: list[tuple[str, str]], kind: str, float_name: str = "") -> None:
        floats: list[etree._Element] = []
        # (only an element with children can hold a float: two blocks in three are table cells without any)
        for inner in el.iter(*_FLOATS, *_SKIP_TEXT) if len(el) else ():
            if inner is el or any(inner is f or _is_ancestor(f, inner) for f in floats):
                continue
            floats.append(inner)
        for inner in floats:
            _detach(inner)
        self._emit(text_of(el), sections, kind, float_name)
        for inner in floats:
            if inner.tag in _FLOATS:
                self._float(inner, sections, float_name)

    def _emit(self, marked: str, sections: list[tuple[str, str]], kind: str, float_name: str = "") -> None:
        if not marked:
            return
        text, callouts = self._unmark(marked)
        if not text:
            return
        section = section_of(sections)
        title = float_name or next((t for _, t in reversed(sections) if t), "")
        self.doc.paragraphs.append(Paragraph(text=text, section=section, section_title=title, kind=kind,
                                             callouts=callouts))

    def _unmark(self, marked: str) -> tuple[str, list[Callout]]:
        if "\ufdd0" not in marked:
            return marked, []
        out: list[str] = []
        callouts: list[Callout] = []
        pos = length = 0
        prev_end = -1
        cur, cur_start, between = -1, 0, ""
        for m in _MARK.finditer(marked):
            chunk = marked[pos : m.start()]
            out.append(chunk)
            length += len(chunk)
            pos = m.end()
            if m.group(1) is not None:
                # markers alternate open/close, so the chunk before an opening one is what lies between
                # this callout and the previous one
                cur, cur_start, between = int(m.group(1)), length, chunk
                continue
            label, keys = self.callouts[cur]
            prev = callouts[-1] if callouts else None
            if prev is not None and prev.end == prev_end:
                if not label and not between.strip():
                    # PLOS tags the interior of some ranges as empty xrefs glued to the first callout
                    # ("[<xref>43</xref><xref rid=B44/>–<xref>45</xref>]"): they belong to it.
                    prev.reference_keys = prev.reference_keys + keys
                    prev_end = length
                    continue
                if _RANGE_SEP.match(between):
                    nxt = Callout(start=cur_start, end=length, reference_keys=keys, text=label)
                    extra = self.expand_range(prev, nxt)
                    if extra is not None:
                        # One callout spanning "[3]–[6]" naming every reference from 3 to 6.
                        prev.reference_keys = prev.reference_keys + extra + keys
                        prev.inferred_keys = prev.inferred_keys + extra
                        prev.end = length
                        prev.text = prev.text + between + label
                        prev_end = length
                        continue
            if keys:
                callouts.append(Callout(start=cur_start, end=length, reference_keys=keys, text=label))
            prev_end = length
        out.append(marked[pos:])
        text = "".join(out)
        for c in callouts:
            # "[<xref>8</xref>]": the brackets belong to the callout when they enclose nothing else, so the
            # highlighted (and classified) span is "[8]", as a reader sees it.
            if c.start > 0 and c.end < len(text):
                close = _CLOSING.get(text[c.start - 1])
                if close and text[c.end] == close:
                    c.start -= 1
                    c.end += 1
                    c.text = text[c.start : c.end]
        return text, callouts

    def expand_range(self, first: Callout, second: Callout) -> list[str] | None:
        """Reference keys strictly between two range endpoints, or None if this is not a numeric range."""
        a_num = _NUM.fullmatch(first.text.strip("[]() "))
        b_num = _NUM.fullmatch(second.text.strip("[]() "))
        if not (a_num and b_num and len(first.reference_keys) == 1 and len(second.reference_keys) == 1):
            return None
        lo, hi = int(a_num.group(0)), int(b_num.group(0))
        if not 0 < hi - lo <= 200:
            return None
        if all(n in self.label_to_key for n in range(lo, hi + 1)):
            return [self.label_to_key[n] for n in range(lo + 1, hi)]
        ka, kb = first.reference_keys[0], second.reference_keys[0]
        if ka in self.order and kb in self.order:
            i, j = self.order[ka], self.order[kb]
            if 0 < j - i == hi - lo:
                return self.keys_in_order[i + 1 : j]
        return None


_CLOSING = {"[": "]", "(": ")"}
_MARKER = re.compile("\ufdd0\\d+\ufdd1|\ufdd2")
_FLOAT_KINDS = {"fig": "Figure", "fig-group": "Figure", "table-wrap": "Table", "table-wrap-group": "Table",
                "boxed-text": "Box", "supplementary-material": "Supplementary material",
                "chem-struct-wrap": "Chemical structure"}


def _float_name(el: etree._Element) -> str:
    """What a reader calls a float: its label ("Table 2"), else its caption's title (cut at 80 characters), else its
    kind ("Table"). Callout markers in a title are left out (the callouts themselves are in the caption's text)."""
    label = _MARKER.sub("", text_of(el.find("label"))).strip(" .:")
    if label:
        return label
    caption = el.find("caption")
    title = _MARKER.sub("", text_of(caption.find("title"))).strip() if caption is not None else ""
    if len(title) > 80:
        title = title[:79].rsplit(" ", 1)[0] + "…"
    return title or _FLOAT_KINDS.get(el.tag, "")
_MARK = re.compile("\ufdd0(\\d+)\ufdd1|\ufdd2")


def _is_ancestor(a: etree._Element, b: etree._Element) -> bool:
    return any(x is a for x in b.iterancestors())


def _detach(el: etree._Element) -> None:
    """Remove ``el`` from the tree but keep the text that follows it (lxml's remove drops the tail)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)
