"""JATS / NLM XML (PLOS, PMC ``.nxml``, eLife, BMC …) → :class:`Document`.

The article's own markup is the ground truth for citations: every ``<xref ref-type="bibr" rid=…>`` is a
callout to ``<ref id=…>``. We keep exact character offsets of each callout in the paragraph text so the
statement stage can cut sentences around them. Numeric ranges written as two xrefs joined by a dash
("[3]–[6]") are expanded to every reference in between.
"""

from __future__ import annotations

import re

from lxml import etree

from citelens.document import Affiliation, Author, Callout, Document, Paragraph, Reference, RelatedArticle
from citelens.errors import UnsupportedFormatError
from citelens.formats.sections import normalise_section
from citelens.formats.xmlsafe import local, parse_xml
from citelens.references.identifiers import normalise_doi, normalise_pmcid, normalise_pmid

XLINK = "{http://www.w3.org/1999/xlink}"
_WS = re.compile(r"\s+")
_DASHES = {"-", "–", "—", "‒", "−", "to"}
_RANGE_SEP = re.compile(r"^\s*[\])]?\s*[-–—‒−]\s*[\[(]?\s*$")  # "–", "]–[" between two callouts
_NUM = re.compile(r"\d+")
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
    _parse_front(root, doc)
    refs = _parse_references(root)
    doc.references = refs
    known = {r.key for r in refs}
    label_to_key = _label_index(refs)
    order = {r.key: i for i, r in enumerate(refs)}
    body = _first(root, "body")
    if body is not None:
        _BodyWalker(doc, known, label_to_key, order).walk(body, [])
    # Floats that JATS places outside the body (PMC's floats-group) still carry captions that cite.
    for fg in root.iter("floats-group", "floats-wrap"):
        _BodyWalker(doc, known, label_to_key, order).walk(fg, [])
    return doc


def parse_jats_references(data: bytes, source: str) -> list[Reference]:
    """Only the reference list of a JATS file (for checking a manuscript's references)."""
    return _parse_references(parse_xml(data, source))


# --------------------------------------------------------------------------------------------------- front

def _first(el: etree._Element, *path: str) -> etree._Element | None:
    cur: etree._Element | None = el
    for name in path:
        if cur is None:
            return None
        cur = next((c for c in cur.iter(name)), None)
    return cur


def text_of(el: etree._Element | None) -> str:
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())


def _parse_front(root: etree._Element, doc: Document) -> None:
    front = _first(root, "front")
    if front is None:
        return
    meta = _first(front, "article-meta")
    jmeta = _first(front, "journal-meta")
    if jmeta is not None:
        doc.journal = text_of(_first(jmeta, "journal-title")) or text_of(_first(jmeta, "journal-id"))
        doc.publisher = text_of(_first(jmeta, "publisher-name"))
    if meta is None:
        return
    for aid in meta.findall("article-id"):
        kind = (aid.get("pub-id-type") or "").lower()
        val = text_of(aid)
        if kind == "doi" and not doc.doi:
            doc.doi = normalise_doi(val)
        elif kind == "pmid" and not doc.pmid:
            doc.pmid = normalise_pmid(val)
        elif kind in ("pmc", "pmcid") and not doc.pmcid:
            doc.pmcid = normalise_pmcid(val)
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
        author.orcid = orcid
        doc.authors.append(author)
    year = None
    for pd in meta.iter("pub-date"):
        y = text_of(_first(pd, "year"))
        if y.isdigit():
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
    for ra in root.iter("related-article"):
        href = ra.get(XLINK + "href") or ""
        kind = (ra.get("ext-link-type") or "").lower()
        rel = RelatedArticle(relation=ra.get("related-article-type", ""), title=text_of(ra))
        # PLOS writes "info:doi/10.1371/…" with ext-link-type="uri"; the DOI pattern finds it anywhere.
        rel.doi = normalise_doi(href) if kind in ("doi", "uri", "") else ""
        if not rel.doi and kind == "pubmed":
            rel.pmid = normalise_pmid(href)
        if rel.doi or rel.pmid:
            doc.related.append(rel)


def _affiliation(aff: etree._Element) -> Affiliation:
    inst = ", ".join(text_of(i) for i in aff.findall("institution")) or ""
    country = text_of(aff.find("country"))
    raw = text_of(aff)
    lab = text_of(aff.find("label"))
    if lab and raw.startswith(lab):
        raw = raw[len(lab):].strip()
    if not inst:
        inst = raw.split(",")[0].strip() if raw else ""
    if not country and raw:
        country = raw.rsplit(",", 1)[-1].strip().rstrip(".")
    return Affiliation(institution=inst, country=country, raw=raw)


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


def _parse_references(root: etree._Element) -> list[Reference]:
    refs: list[Reference] = []
    seen: set[str] = set()
    for i, ref in enumerate(root.iter("ref")):
        key = ref.get("id") or f"ref{i + 1}"
        if key in seen:
            continue
        seen.add(key)
        cit = None
        for name in ("element-citation", "mixed-citation", "citation", "nlm-citation"):
            cit = next(ref.iter(name), None)
            if cit is not None:
                break
        r = Reference(key=key, label=text_of(ref.find("label")))
        if cit is None:
            r.raw = text_of(ref)
            refs.append(r)
            continue
        if local(cit.tag) == "element-citation":
            # structured citations carry no separators between fields: join them with spaces
            r.raw = " ".join(t.strip() for t in cit.itertext() if t.strip())
        else:
            r.raw = text_of(cit)
        r.publication_type = cit.get("publication-type") or cit.get("citation-type") or ""
        for pg in cit.iter("person-group"):
            if pg.get("person-group-type", "author") != "author":
                continue
            for child in pg:
                tag = local(child.tag)
                if tag == "name":
                    r.authors.append(Author(family=text_of(child.find("surname")),
                                            given=text_of(child.find("given-names"))))
                elif tag == "string-name":
                    fam = text_of(child.find("surname"))
                    r.authors.append(Author(family=fam, given=text_of(child.find("given-names")))
                                     if fam else _split_name(text_of(child)))
                elif tag == "collab":
                    r.authors.append(Author(family=text_of(child)))
            break
        if not r.authors:
            for child in cit:
                tag = local(child.tag)
                if tag == "name":
                    r.authors.append(Author(family=text_of(child.find("surname")),
                                            given=text_of(child.find("given-names"))))
                elif tag == "string-name":
                    fam = text_of(child.find("surname"))
                    r.authors.append(Author(family=fam, given=text_of(child.find("given-names")))
                                     if fam else _split_name(text_of(child)))
                elif tag == "collab":
                    r.authors.append(Author(family=text_of(child)))
        title = cit.find("article-title")
        if title is None:
            title = cit.find("chapter-title")
        source = text_of(cit.find("source"))
        if title is not None:
            r.title = text_of(title)
            r.container = source
        else:
            r.title = source  # a book or report: its source is its title
            r.container = text_of(cit.find("publisher-name")) if r.publication_type == "book" else ""
            if r.publication_type not in ("book", "report", "thesis", "other", "") and source:
                r.title, r.container = "", source
        y = text_of(cit.find("year"))
        m = re.search(r"\d{4}", y)
        r.year = int(m.group(0)) if m else None
        r.volume = text_of(cit.find("volume"))
        r.issue = text_of(cit.find("issue"))
        fp, lp = text_of(cit.find("fpage")), text_of(cit.find("lpage"))
        r.pages = f"{fp}-{lp}" if fp and lp else fp or text_of(cit.find("elocation-id"))
        links = []
        for pid in cit.iter("pub-id", "object-id", "ext-link", "uri"):
            if pid.tag in ("ext-link", "uri"):
                links.append(pid)
                continue
            kind = (pid.get("pub-id-type") or "").lower()
            val = text_of(pid)
            if kind == "doi" and not r.doi:
                r.doi = normalise_doi(val)
            elif kind == "pmid" and not r.pmid:
                r.pmid = normalise_pmid(val)
            elif kind in ("pmcid", "pmc") and not r.pmcid:
                r.pmcid = normalise_pmcid(val)
        if not r.doi:
            for link in links:
                href = link.get(XLINK + "href") or text_of(link)
                m2 = _DOI_IN_TEXT.search(href)
                if m2:
                    r.doi = normalise_doi(m2.group(1))
                    break
        if not r.doi:
            m3 = re.search(r"doi:?\s*(10\.\d{4,9}/\S+)", r.raw, re.I)
            if m3:
                r.doi = normalise_doi(m3.group(1))
        refs.append(r)
    return refs


def _label_index(refs: list[Reference]) -> dict[int, str]:
    out: dict[int, str] = {}
    for r in refs:
        m = _NUM.search(r.label or "")
        if m and re.fullmatch(r"[\[(]?\d+[\]).]?", r.label.strip()):
            out.setdefault(int(m.group(0)), r.key)
    return out


# -------------------------------------------------------------------------------------------------- body

class _BodyWalker:
    """Walks body/sec/p, emitting one Paragraph per text block with callout offsets."""

    def __init__(self, doc: Document, known: set[str], label_to_key: dict[int, str], order: dict[str, int]):
        self.doc = doc
        self.known = known
        self.label_to_key = label_to_key
        self.order = order
        self.keys_in_order = sorted(order, key=order.__getitem__)

    # sections: list of (sec_type, title) from outermost to innermost
    def walk(self, el: etree._Element, sections: list[tuple[str, str]]) -> None:
        for child in el:
            tag = local(child.tag)
            if not tag:
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

    def _float(self, el: etree._Element, sections: list[tuple[str, str]]) -> None:
        for child in el:
            tag = local(child.tag)
            if tag == "caption":
                self._caption(child)
            elif tag in _FLOATS or tag in ("table", "alternatives", "thead", "tbody", "tfoot", "tr", "table-wrap-foot",
                         "fn", "list", "list-item", "sec", "fn-group"):
                self._float(child, sections)
            elif tag in _BLOCKS:
                self._block(child, [], "caption")

    def _caption(self, cap: etree._Element) -> None:
        # The caption title and its paragraphs read as one block of text.
        builder = _TextBuilder(self)
        for child in cap:
            builder.add_element(child)
            builder.add_text(" ")
        self._emit(builder, [], "caption")

    def _block(self, el: etree._Element, sections: list[tuple[str, str]], kind: str) -> None:
        builder = _TextBuilder(self)
        builder.add_element(el, top=True)
        self._emit(builder, sections, kind)

    def _emit(self, builder: _TextBuilder, sections: list[tuple[str, str]], kind: str) -> None:
        text, callouts = builder.finish()
        if not text:
            return
        section, title = "other", ""
        if kind == "body":
            for sec_type, sec_title in sections:
                norm = normalise_section(sec_title, sec_type)
                if norm != "other":
                    section = norm
                    break
            title = next((t for _, t in reversed(sections) if t), "")
        self.doc.paragraphs.append(Paragraph(text=text, section=section, section_title=title, kind=kind,
                                             callouts=callouts))
        for float_el, secs in builder.floats:
            self._float(float_el, secs)

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


class _TextBuilder:
    """Accumulates whitespace-normalised text and callout spans for one block."""

    def __init__(self, walker: _BodyWalker):
        self.walker = walker
        self.parts: list[str] = []
        self.length = 0
        self.callouts: list[Callout] = []
        self.floats: list[tuple[etree._Element, list[tuple[str, str]]]] = []
        self._last_space = True
        self._pending_range: Callout | None = None  # callout followed by a dash, waiting for its end
        self._since_callout = ""

    def add_text(self, s: str | None) -> None:
        if not s:
            return
        if s != " ":
            # collapse whitespace runs, keeping one leading/trailing space if there was any
            core = " ".join(s.split())
            if s[0].isspace() and core:
                core = " " + core
            if s[-1].isspace():
                core += " "
            s = core or " "
        if self._last_space and s.startswith(" "):
            s = s[1:]
        if not s:
            return
        self.parts.append(s)
        self.length += len(s)
        self._last_space = s.endswith(" ")
        self._since_callout += s

    def add_element(self, el: etree._Element, top: bool = False) -> None:
        tag = local(el.tag)
        if not tag:
            self.add_text(el.tail if not top else None)
            return
        if not top:
            if tag in _FLOATS:
                self.floats.append((el, []))
                self.add_text(el.tail)
                return
            if tag in _SKIP_TEXT:
                self.add_text(el.tail)
                return
            if tag == "xref" and el.get("ref-type") == "bibr":
                self._callout(el)
                self.add_text(el.tail)
                return
            if tag in ("p", "list-item", "list", "disp-quote") and self.parts:
                self.add_text(" ")
        self.add_text(el.text)
        for child in el:
            self.add_element(child)
        if not top:
            self.add_text(el.tail)

    def _callout(self, el: etree._Element) -> None:
        label = _WS.sub(" ", "".join(el.itertext())).strip()
        keys = [k for k in (el.get("rid") or "").split() if k]
        good = [k for k in keys if k in self.walker.known]
        for k in keys:
            if k not in self.walker.known:
                self.walker.doc.warnings.append(f"callout {label!r} points at unknown reference id {k!r}")
        between = self._since_callout  # text since the previous callout: "–" makes a range
        start = self.length
        self.add_text(label)
        end = self.length
        # add_text may have dropped a leading space; the label itself sits at the end of the buffer
        start = end - len(_WS.sub(" ", label).lstrip(" ")) if label else end
        callout = Callout(start=start, end=end, reference_keys=good, text=label)
        prev = self.callouts[-1] if self.callouts else None
        if prev is not None and _RANGE_SEP.match(between):
            extra = self.walker.expand_range(prev, callout)
            if extra is not None:
                # One callout spanning "[3]–[6]" naming every reference from 3 to 6.
                prev.reference_keys = prev.reference_keys + extra + callout.reference_keys
                prev.inferred_keys = prev.inferred_keys + extra
                prev.end = end
                prev.text = prev.text + between + label
                self._since_callout = ""
                return
        if not label and prev is not None and not between.strip():
            # PLOS sometimes tags the interior of a range as empty xrefs glued to the first one
            # ("[<xref>43</xref><xref rid=B44/>–<xref>45</xref>]"): they belong to the previous callout.
            prev.reference_keys = prev.reference_keys + good
            self._since_callout = ""
            return
        if good:
            self.callouts.append(callout)
        self._since_callout = ""

    def finish(self) -> tuple[str, list[Callout]]:
        text = "".join(self.parts)
        stripped = text.rstrip()
        lead = len(text) - len(text.lstrip())
        text = stripped.lstrip()
        out = []
        for c in self.callouts:
            c.start -= lead
            c.end -= lead
            if 0 <= c.start <= c.end <= len(text):
                out.append(c)
        return text, out
