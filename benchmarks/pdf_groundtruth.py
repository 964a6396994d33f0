"""Render PLOS JATS articles to PDF with known citation ground truth, for the PDF-ingestion benchmark.

JATS marks every in-text citation (``<xref ref-type="bibr" rid=…>``) and every reference (``<ref id=…>``),
so printing an article ourselves gives PDFs whose callout→reference links are known exactly. Each article is
converted to plain HTML (one- or two-column CSS; callouts as numeric brackets "[1, 3–5]", superscripts, or
author–year "(Smith et al., 2003; Lee and Wu, 2001)" with an unnumbered hanging-indent list)
and printed with Debian's headless Chromium (two-column variants keep Chromium's running header and
footer with page numbers, so their removal is exercised too). Debian's Chromium does not hyphenate (no
dictionaries), so de-hyphenation is exercised only by the real PDFs. Adjacent xrefs form one callout; "–"
between two xrefs means the numbers in between are cited too, exactly as a reader (and our parser) would
read the printed range.

PLOS article text is CC BY 4.0. Rendered PDFs go to a temporary directory and are not committed.

Usage: ``.venv/bin/python benchmarks/pdf_groundtruth.py OUTDIR [--n 20]`` writes ``OUTDIR/<name>.pdf`` and
``OUTDIR/<name>.truth.json`` for each article and layout.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "plos-starter"
CHROMIUM = "/usr/bin/chromium"
XLINK = "{http://www.w3.org/1999/xlink}"

CSS_COMMON = """
body { font-family: 'DejaVu Serif', serif; font-size: 10pt; line-height: 1.3; }
h1 { font-size: 18pt; margin: 0 0 8pt 0; }
h2 { font-size: 12.5pt; margin: 10pt 0 4pt 0; }
h3 { font-size: 11pt; margin: 8pt 0 3pt 0; }
p { margin: 0 0 5pt 0; text-align: justify; }
.authors { font-size: 11pt; margin-bottom: 6pt; }
.meta { font-size: 9pt; margin-bottom: 10pt; }
.abstract { font-size: 9.5pt; }
.caption { font-size: 8.5pt; margin: 6pt 0; }
.ref { font-size: 8.5pt; padding-left: 2.2em; text-indent: -2.2em; margin: 0 0 2pt 0; text-align: left; }
sup { font-size: 65%; vertical-align: super; line-height: 0; }
@page { size: Letter; margin: 18mm 16mm 18mm 16mm; }
"""
CSS_TWO_COL = ".body { column-count: 2; column-gap: 18pt; }"


def _text(el: etree._Element | None) -> str:
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip() if el is not None else ""


def _ref_text(ref: etree._Element) -> str:
    """A reference as a journal would print it, built from the structured fields when there are any."""
    cit = ref.find("nlm-citation")
    if cit is None:
        cit = ref.find("element-citation")
    if cit is None:
        cit = ref.find("mixed-citation")
    if cit is None:
        return _text(ref)
    if cit.tag == "mixed-citation" or cit.find(".//article-title") is None and cit.find("source") is None:
        # PLOS mixed citations put <surname> and <given-names> side by side without a space.
        for n in cit.iter("surname"):
            if n.tail is None or not n.tail.startswith(" "):
                n.tail = " " + (n.tail or "")
        return _text(cit)
    names = []
    for n in cit.findall(".//person-group/name") or cit.findall(".//name"):
        names.append(f"{_text(n.find('surname'))} {_text(n.find('given-names'))}".strip())
    collab = _text(cit.find(".//collab"))
    if collab:
        names.insert(0, collab)
    auth = ", ".join(names[:10]) + (", et al." if len(names) > 10 else "")
    year = _text(cit.find("year"))
    parts = [f"{auth} ({year})" if year else auth]
    for tag in ("article-title", "source"):
        t = _text(cit.find(tag))
        if t:
            parts.append(t.rstrip(".") + ".")
    vol, fp, lp = _text(cit.find("volume")), _text(cit.find("fpage")), _text(cit.find("lpage"))
    if vol or fp:
        parts.append(f"{vol}{': ' if vol and fp else ''}{fp}{'–' + lp if lp else ''}.")
    return " ".join(p for p in parts if p)


def _ref_fields(ref: etree._Element) -> dict:
    cit = ref.find(".//nlm-citation")
    if cit is None:
        cit = ref.find(".//element-citation")
    if cit is None:
        cit = ref.find(".//mixed-citation")
    if cit is None:
        cit = ref
    year = re.search(r"\d{4}", _text(cit.find(".//year")))
    return {
        "first_surname": _text(cit.find(".//surname")),
        "year": int(year.group()) if year else None,
        "title": _text(cit.find(".//article-title")),
        "container": _text(cit.find(".//source")),
        "volume": _text(cit.find(".//volume")),
        "fpage": _text(cit.find(".//fpage")),
    }


def _compress(nums: list[int]) -> str:
    """[1, 3, 4, 5] → "1, 3–5": how journals print a multi-reference callout."""
    out: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(f"{nums[i]}–{nums[j]}" if j - i >= 2 else ", ".join(str(n) for n in nums[i : j + 1]))
        i = j + 1
    return ", ".join(out)


def _author_year_labels(refs: list[etree._Element]) -> tuple[list[str], list[str]]:
    """Per reference: the in-text form ("Smith et al., 2003a") and the year as printed in the list ("2003a")."""
    base = []
    for ref in refs:
        cit = ref.find(".//nlm-citation")
        if cit is None:
            cit = ref.find(".//element-citation")
        if cit is None:
            cit = ref.find(".//mixed-citation")
        names = [_text(n.find("surname")) for n in (cit.findall(".//name") if cit is not None else [])]
        collab = _text(cit.find(".//collab")) if cit is not None else ""
        if collab and not names:
            who = collab
        elif len(names) >= 3:
            who = f"{names[0]} et al."
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        elif names:
            who = names[0]
        else:
            # No person or group author (web pages, programmes): cite the entry's first words, as
            # author–year styles do, so the callout names what the list prints first.
            who = " ".join(_ref_text(ref).split()[:3]).rstrip(".,;:") or "Anonymous"
        base.append((who, _text(ref.find(".//year")) or "n.d."))
    counts: dict[tuple[str, str], int] = {}
    for b in base:
        counts[b] = counts.get(b, 0) + 1
    seen: dict[tuple[str, str], int] = {}
    labels, years = [], []
    for b in base:
        year = b[1]
        if counts[b] > 1:
            # Same first author(s) and year: "2003a", "2003b", as author–year styles print them.
            year += "abcdefghijklmnopqrstuvwxyz"[seen.get(b, 0) % 26]
            seen[b] = seen.get(b, 0) + 1
        labels.append(f"{b[0]}, {year}")
        years.append(year)
    return labels, years


class _Renderer:
    def __init__(self, index: dict[str, int], style: str, ay_labels: list[str] | None = None) -> None:
        self.index = index  # ref id → 1-based number
        self.style = style  # "bracket" | "super" | "authoryear"
        self.ay_labels = ay_labels or []
        self.callouts: list[list[int]] = []  # truth, in document order

    def inline(self, el: etree._Element) -> str:
        """HTML for the mixed content of ``el``, replacing runs of bibr xrefs by one rendered callout each."""
        pieces: list[tuple[str, object]] = []  # ("text", str) | ("xref", number)
        if el.text:
            pieces.append(("text", el.text))
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "xref" and child.get("ref-type") == "bibr":
                ids = (child.get("rid") or "").split()
                nums = [self.index[i] for i in ids if i in self.index]
                pieces.append(("xref", nums))
            elif tag in ("fig", "table-wrap", "disp-formula", "supplementary-material"):
                pass  # rendered as captions elsewhere (or not at all)
            elif tag in ("italic", "bold", "sup", "sub", "sc", "underline"):
                h = {"sc": "span", "underline": "u", "italic": "i", "bold": "b"}.get(tag, tag)
                # Nested xrefs inside formatting are rare; flatten formatting text.
                pieces.append(("html", f"<{h}>{html.escape(_text(child))}</{h}>"))
            elif tag:
                pieces.append(("html", html.escape(_text(child))))
            if child.tail:
                pieces.append(("text", child.tail))
        out: list[str] = []
        i = 0
        while i < len(pieces):
            kind, val = pieces[i]
            if kind != "xref":
                out.append(html.escape(val) if kind == "text" else val)  # type: ignore[arg-type]
                i += 1
                continue
            group: list[int] = list(val)  # type: ignore[arg-type]
            j = i + 1
            while j + 1 < len(pieces) and pieces[j][0] == "text" and pieces[j + 1][0] == "xref" and re.fullmatch(
                r"[\s,;–\-\]\[]*", pieces[j][1]  # type: ignore[arg-type]
            ):
                sep = pieces[j][1]
                nxt: list[int] = list(pieces[j + 1][1])  # type: ignore[arg-type]
                if re.search(r"[–\-]", sep) and group and nxt and nxt[0] > group[-1]:
                    group.extend(range(group[-1] + 1, nxt[0]))
                group.extend(nxt)
                j += 2
            nums = sorted(set(group))
            if nums:
                self.callouts.append(nums)
                # Drop bracket characters the JATS text put around the xrefs: we print our own.
                if out and out[-1].rstrip().endswith("["):
                    out[-1] = out[-1].rstrip()[:-1]
                if j < len(pieces) and pieces[j][0] == "text" and str(pieces[j][1]).lstrip().startswith("]"):
                    pieces[j] = ("text", str(pieces[j][1]).lstrip()[1:])
                if self.style == "authoryear":
                    out.append("(" + "; ".join(html.escape(self.ay_labels[n - 1]) for n in nums) + ")")
                elif self.style == "super":
                    out.append(f"<sup>{_compress(nums)}</sup>")
                else:
                    out.append(f"[{_compress(nums)}]")
            i = j
        return "".join(out)

    def section(self, sec: etree._Element, level: int, parts: list[str]) -> None:
        title = sec.find("title")
        if title is not None and _text(title):
            parts.append(f"<h{level}>{html.escape(_text(title))}</h{level}>")
        for child in sec:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "p":
                parts.append(f"<p>{self.inline(child)}</p>")
            elif tag == "sec":
                self.section(child, min(level + 1, 3), parts)
            elif tag in ("fig", "table-wrap"):
                self.caption(child, parts)
            elif tag == "list":
                for item in child.iter("p"):
                    parts.append(f"<p>{self.inline(item)}</p>")
        for p in sec.findall("p"):
            for f in p.findall(".//fig") + p.findall(".//table-wrap"):
                self.caption(f, parts)

    def caption(self, fig: etree._Element, parts: list[str]) -> None:
        label = _text(fig.find("label")) or ("Table" if fig.tag == "table-wrap" else "Figure")
        cap = fig.find("caption")
        if cap is None:
            return
        body = " ".join(self.inline(x) for x in cap if isinstance(x.tag, str))
        parts.append(f'<p class="caption"><b>{html.escape(label)}.</b> {body}</p>')


def render_html(xml_path: Path, *, columns: int, style: str) -> tuple[str, dict]:
    root = etree.parse(str(xml_path), etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)).getroot()
    refs = root.findall(".//back//ref-list/ref")
    index = {r.get("id"): i + 1 for i, r in enumerate(refs)}
    ay_labels, ay_years = _author_year_labels(refs) if style == "authoryear" else ([], [])
    r = _Renderer(index, style, ay_labels)
    meta = root.find(".//article-meta")
    title = _text(meta.find(".//title-group/article-title")) if meta is not None else ""
    authors = []
    for c in root.findall(".//article-meta/contrib-group/contrib[@contrib-type='author']"):
        authors.append(f"{_text(c.find('.//given-names'))} {_text(c.find('.//surname'))}".strip() or _text(c))
    year = _text(root.find(".//article-meta/pub-date/year"))
    doi = _text(root.find(".//article-meta/article-id[@pub-id-type='doi']"))
    parts = [f"<h1>{html.escape(title)}</h1>", f'<div class="authors">{html.escape(", ".join(authors))}</div>',
             f'<div class="meta">PLoS ({html.escape(year)}) doi:{html.escape(doi)}</div>']
    abstract = root.find(".//article-meta/abstract")
    if abstract is not None:
        parts.append("<h2>Abstract</h2>")
        parts += [f'<p class="abstract">{html.escape(_text(p))}</p>' for p in abstract.iter("p")]
    parts.append('<div class="body">')
    body = root.find(".//body")
    if body is not None:
        for child in body:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "sec":
                r.section(child, 2, parts)
            elif tag == "p":
                parts.append(f"<p>{r.inline(child)}</p>")
    parts.append("<h2>References</h2>")
    ref_texts = []
    for i, ref in enumerate(refs, 1):
        text = _ref_text(ref)
        if style == "authoryear":
            # Unnumbered, hanging-indent list; the year carries the a/b suffix the callouts use.
            y = _text(ref.find(".//year"))
            text = text.replace(f"({y})", f"({ay_years[i - 1]})", 1) if y else text
            parts.append(f'<p class="ref">{html.escape(text)}</p>')
        else:
            lab = f"[{i}]" if style == "bracket" else f"{i}."
            parts.append(f'<p class="ref">{lab} {html.escape(text)}</p>')
        ref_texts.append(text)
    parts.append("</div>")
    css = CSS_COMMON + (CSS_TWO_COL if columns == 2 else "")
    doc = f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{css}</style></head><body>{''.join(parts)}</body></html>"
    truth = {
        "article": xml_path.name, "columns": columns, "style": style, "title": title, "year": year, "doi": doi,
        "refs": [{"id": ref.get("id"), "number": i + 1, "text": ref_texts[i], **_ref_fields(ref)}
                 for i, ref in enumerate(refs)],
        "callouts": r.callouts,
    }
    return doc, truth


def print_pdf(html_path: Path, pdf_path: Path, *, running_heads: bool = False) -> None:
    """Print with Chromium; ``running_heads`` keeps its header (date, title) and footer (URL, "3/12")."""
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             *([] if running_heads else ["--no-pdf-header-footer"]), f"--print-to-pdf={pdf_path}",
             html_path.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def articles(n: int, skip: int = 0) -> list[Path]:
    """Research articles with ≥ 10 in-text citations, sorted by name: ``n`` of them after the first ``skip``."""
    out = []
    for p in sorted(DATA.glob("*.xml")):
        s = p.read_text(encoding="utf-8", errors="replace")
        if 'article-type="research-article"' in s and s.count('ref-type="bibr"') >= 10:
            out.append(p)
        if len(out) >= skip + n:
            break
    return out[skip:]


def layouts(i: int) -> list[tuple[int, str]]:
    """Alternate one- and two-column layouts across bracket, superscript and author–year callouts."""
    return [[(1, "bracket"), (2, "super"), (2, "authoryear")], [(2, "bracket"), (1, "super"), (1, "authoryear")]][i % 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    for i, xml in enumerate(articles(args.n)):
        for columns, style in layouts(i):
            name = f"{xml.stem}.{columns}col.{style}"
            doc, truth = render_html(xml, columns=columns, style=style)
            h = args.outdir / f"{name}.html"
            h.write_text(doc, encoding="utf-8")
            print_pdf(h, args.outdir / f"{name}.pdf", running_heads=columns == 2)
            (args.outdir / f"{name}.truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
            print(name, len(truth["refs"]), "refs", len(truth["callouts"]), "callouts", flush=True)


if __name__ == "__main__":
    main()
