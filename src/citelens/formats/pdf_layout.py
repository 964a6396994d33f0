"""PDF text with layout, via PDFium (pypdfium2): visual lines with geometry, font size/weight and superscripts.

Speed matters (≤ 0.3 s for a 10-page article on one core), so we do not walk every character through
ctypes: PDFium's whole-page text (one call) already separates its text fragments with generated "\\r\\n"
and marks line-break hyphens with U+FFFE. We query boxes/origin/size only for a few characters per fragment,
plus the digit runs that may be superscript callouts.
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from citelens.errors import InputTooLargeError, MalformedInputError, UnsupportedFormatError

# PDFium is not thread-safe, not even across different documents (pypdfium2's documentation: concurrent
# calls crash or corrupt the process). The web server parses uploads in a thread pool, so every PDFium
# call in CiteLens must hold this lock; anything else in the package that uses pypdfium2 should take it too.
PDFIUM_LOCK = threading.RLock()

# Private-use characters wrapping superscript digit runs inside line text, so the information survives
# joining lines into paragraphs; the callout finder removes them.
SUP_OPEN = "\ue000"
SUP_CLOSE = "\ue001"
_SOFT = "\u00ad"  # PDFium's line-break hyphen, kept as a soft hyphen until lines are joined

_BOLD_NAME = re.compile(r"bold|black|heavy|demi|medi|cmbx|[+\-,.]b$|bx\d*$")
_HAS_DIGIT = re.compile(r"\d")
_SUPER_TEXT = re.compile(r"[\d,;\s–\-—]+")
_MORE_DIGITS = re.compile(r" (\d{1,3}(?:,\s?\d{1,3}|[–\-]\d{1,3})*)(?=[\s.,;:)–—]|$)")
_INLINE_DIGITS = re.compile(r"(?:(?<=[^\d\s])|^)(\s?)(\d{1,3}(?:,\s?\d{1,3}|[–\-]\d{1,3})*)(?=[\s.,;:)–—]|$)")


@dataclass
class Line:
    """One visual line of text. Coordinates are PDF points, y growing upwards."""

    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float  # loose glyph-box height: font size in page units (independent of PDF scaling quirks)
    bold: bool
    text: str
    column: int = 0  # 0 full width / single column, 1 left, 2 right


def open_pdf(data: bytes, source: str, *, max_bytes: int, max_pages: int) -> pdfium.PdfDocument:
    """Open ``data`` with PDFium, turning every failure into an InputError that names ``source``."""
    if not data or not data.strip():
        raise MalformedInputError(source, "empty file")
    if len(data) > max_bytes:
        raise InputTooLargeError(source, f"PDF is {len(data):,} bytes; the limit is {max_bytes:,}")
    if b"%PDF-" not in data[:1024]:
        head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")) and b"<html" in data[:65536].lower():
            raise UnsupportedFormatError(
                source, "not a PDF but an HTML page (a publisher's landing, login or error page saved as .pdf?)"
            )
        raise UnsupportedFormatError(source, "not a PDF (no %PDF- header)")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        # PDFium's last-error code is not reset between documents: trust it only with the file's own cue.
        encrypted = b"/Encrypt" in data
        if code == raw.FPDF_ERR_PASSWORD and encrypted:
            raise UnsupportedFormatError(source, "PDF is encrypted with a password; decrypt it first") from None
        if code == raw.FPDF_ERR_SECURITY and encrypted:
            raise UnsupportedFormatError(source, "PDF uses an unsupported security handler") from None
        if re.search(rb"/Type\s*/Pages\b", data) and not re.search(rb"/Count\s*[1-9]", data):
            # PDFium refuses a page tree with no pages without saying why.
            raise MalformedInputError(source, "PDF has no pages") from None
        raise MalformedInputError(source, f"broken or truncated PDF ({exc})") from None
    n = len(pdf)
    if n == 0:
        pdf.close()
        raise MalformedInputError(source, "PDF has no pages")
    if n > max_pages:
        pdf.close()
        raise InputTooLargeError(source, f"PDF has {n} pages; the limit is {max_pages}")
    return pdf


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


class _Chars:
    """Reused ctypes out-parameters for the few per-character queries we make."""

    def __init__(self) -> None:
        self.rect = raw.FS_RECTF()
        self.prect = ctypes.byref(self.rect)
        self.x = ctypes.c_double()
        self.y = ctypes.c_double()
        self.px = ctypes.byref(self.x)
        self.py = ctypes.byref(self.y)
        self.name = ctypes.create_string_buffer(128)
        self.flags = ctypes.c_int()

    # Geometry is sanitised here, like text below: a hostile text matrix (a NaN or an infinite scale) gives
    # PDFium non-finite boxes, which the layout code would round, sort and compare (a fuzzer's finding:
    # "cannot convert float NaN to integer"). Such a character is placed at 0: the page may read as nonsense,
    # but it is read, and the batch goes on.
    def loose(self, tp, i: int) -> tuple[float, float, float, float]:  # noqa: ANN001 - PDFium handle
        raw.FPDFText_GetLooseCharBox(tp, i, self.prect)
        r = self.rect
        return _finite(r.left), _finite(r.right), _finite(r.bottom), _finite(r.top)

    def origin(self, tp, i: int) -> tuple[float, float]:  # noqa: ANN001
        raw.FPDFText_GetCharOrigin(tp, i, self.px, self.py)
        return _finite(self.x.value), _finite(self.y.value)

    def bold(self, tp, i: int) -> bool:  # noqa: ANN001
        # The font name is the reliable cue (PDFium's weight is 455 for DejaVu Bold, 380 for Regular);
        # LaTeX's Computer Modern bold is "CMBX", Times bold "NimbusRomNo9L-Medi".
        n = raw.FPDFText_GetFontInfo(tp, i, self.name, 128, ctypes.byref(self.flags))
        name = self.name.raw[: max(0, n - 1)].decode("latin-1", "replace").lower()
        if _BOLD_NAME.search(name):
            return True
        return raw.FPDFText_GetFontWeight(tp, i) >= 600


@dataclass
class _Frag:
    x0: float
    x1: float
    top: float
    bottom: float
    baseline: float
    size: float
    bold: bool
    text: str


# ----------------------------------------------------------------------------------------------------
# Text sanitising, once, at the PDF boundary: whatever a font's ToUnicode map says, nothing past this module
# sees a lone surrogate, a private-use glyph code, a bidi control or a C0 control (they crashed the CRF's
# C extension and the UTF-8 encoders of the store before).

_ZW = "\u200b"  # placeholder that keeps PDFium char indices aligned; removed by clean_line_text
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
# Lone surrogates, private-use area (glyph codes of symbol fonts; our SUP markers live there too) and
# PDFium-irrelevant noncharacters, except U+FFFE, PDFium's own line-break-hyphen mark.
_UNIT_JUNK = re.compile("[\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\uffff]")
# Bidi embeddings/overrides/isolates and marks, zero-width joiners, BOM, the placeholder itself.
_FORMAT_CHARS = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\u061c\ufeff\ufffd]")
_C0 = {c: " " for c in range(32)} | {0x7F: " "}
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "ft",
              "\ufb06": "st", "\ua732": "AA", "\ua733": "aa", "\u0132": "IJ", "\u0133": "ij", "\u0152": "OE", "\u0153": "oe"}
_LIGATURE_RX = re.compile("[\ufb00-\ufb06\ua732\ua733]")


def _astral(m: re.Match[str]) -> str:
    ch = (m.group()[0] + m.group()[1]).encode("utf-16le", "surrogatepass").decode("utf-16le")
    # Mathematical alphanumerics (𝑥, 𝐀) and other compatibility forms read as their plain letter.
    plain = unicodedata.normalize("NFKC", ch)
    return (plain if len(plain) == 1 else ch) + _ZW


def sanitise_units(text: str) -> str:
    """Same-length clean-up of PDFium's per-character text (offsets are char indices, so length is kept):
    surrogate pairs become one character plus a placeholder, lone surrogates and private-use codes a placeholder."""
    if not _UNIT_JUNK.search(text):
        return text
    return _UNIT_JUNK.sub(_ZW, _PAIR.sub(_astral, text))


def clean_line_text(text: str) -> str:
    """Final clean-up of a fragment's text: placeholders, bidi and other format controls, C0 controls,
    ligatures (ﬁ → fi) removed or expanded. Keeps our superscript markers."""
    text = _FORMAT_CHARS.sub("", text).translate(_C0)
    if _LIGATURE_RX.search(text):
        text = _LIGATURE_RX.sub(lambda m: _LIGATURES[m.group()], text)
    return text


def sanitise_text(text: str) -> str:
    """Any string → one that every encoder and C extension accepts (used by the reference parser too)."""
    text = _PAIR.sub(lambda m: _astral(m)[:-1], text)
    return clean_line_text(_UNIT_JUNK.sub("", text))


def _page_text(tp) -> str:  # noqa: ANN001
    n = raw.FPDFText_CountChars(tp)
    if n <= 0:
        return ""
    buf = ctypes.create_string_buffer(2 * (n + 1))
    written = raw.FPDFText_GetText(tp, 0, n, ctypes.cast(buf, ctypes.POINTER(ctypes.c_ushort)))
    # One Python character per UTF-16 unit (surrogates kept apart), so offsets stay char indices.
    units = memoryview(buf.raw[: 2 * max(0, written - 1)]).cast("H")
    text = "".join(map(chr, units))
    if len(text) != n:
        # Characters without a Unicode mapping are skipped: text offsets no longer equal char indices, so
        # fall back to one call per char (slower, exact).
        text = "".join(chr(min(raw.FPDFText_GetUnicode(tp, i), 0x10FFFF) or 0xFFFD) for i in range(n))
    return sanitise_units(text)


def _split_rows(tp, text: str, a: int, chunk: str, q: _Chars) -> list[tuple[int, str]]:  # noqa: ANN001
    """Split a PDFium text chunk that runs over several visual lines (PDFium sometimes emits no line break
    inside one text object, e.g. Chromium's justified lines). Cheap test first: first vs last baseline."""
    fa = a + (len(chunk) - len(chunk.lstrip()))
    la = a + len(chunk.rstrip()) - 1
    y0, y1 = q.origin(tp, fa)[1], q.origin(tp, la)[1]
    b = q.loose(tp, fa)
    h = b[3] - b[2]
    if h <= 0 or abs(y0 - y1) < 0.6 * h:
        return [(a, chunk)]
    out: list[tuple[int, str]] = []
    start, prev_y, prev_x = a, y0, q.origin(tp, fa)[0]
    for i in range(fa + 1, la + 1):
        if text[i].isspace():
            continue
        x, y = q.origin(tp, i)
        # A new row: the baseline drops by most of a line and the pen goes back to the left.
        if prev_y - y > 0.6 * h and x < prev_x:
            out.append((start, text[start:i]))
            start = i
        prev_y, prev_x = y, x
    out.append((start, text[start : a + len(chunk)]))
    return out


def _fragments(tp, text: str, q: _Chars) -> list[_Frag]:  # noqa: ANN001
    frags: list[_Frag] = []
    pos = 0
    pieces_in: list[tuple[int, str]] = []
    for token in re.split(r"(\r\n|\ufffe)", text):
        a = pos
        pos += len(token)
        if token in ("\r\n", "\ufffe") or not token.strip():
            pieces_in.append((a, token))
        else:
            pieces_in += _split_rows(tp, text, a, token, q)
    for a, chunk in pieces_in:
        if chunk in ("\r\n", "\ufffe"):
            if chunk == "\ufffe" and frags:
                frags[-1].text += _SOFT
            continue
        stripped = chunk.strip()
        if not stripped:
            continue
        fa = a + (len(chunk) - len(chunk.lstrip()))
        la = a + len(chunk.rstrip()) - 1
        if abs(raw.FPDFText_GetCharAngle(tp, fa)) > 0.1:
            continue  # rotated text: arXiv side stamps, table headers; not running text
        x0, _, bottom, top = q.loose(tp, fa)
        _, x1, _, _ = q.loose(tp, la)
        heights = [top - bottom]
        bases = [q.origin(tp, fa)[1]]
        # A few more samples so one odd glyph (a leading superscript) does not decide size and baseline.
        for j in (a + len(chunk) // 2, la):
            if not text[j].isspace():
                l_, r_, b_, t_ = q.loose(tp, j)
                heights.append(t_ - b_)
                bases.append(q.origin(tp, j)[1])
        size = sorted(heights)[len(heights) // 2]  # median of ≤ 3 samples, without statistics' overhead
        base = sorted(bases)[len(bases) // 2]
        mid = fa + (la - fa) // 2
        bold = q.bold(tp, fa) and (text[mid].isspace() or q.bold(tp, mid))
        body = chunk.strip()
        # Superscript digits PDFium kept inside the fragment (common in LaTeX output): compare with the
        # character before the run.
        if size > 0 and _HAS_DIGIT.search(body):
            pieces = []
            last = 0
            for m in _INLINE_DIGITS.finditer(body):
                i0 = fa + m.start(2)
                if m.start() > 0:
                    ref_i = fa + m.start() - 1
                elif m.end() < len(body):
                    # Fragment starts with the digits: compare with the text that follows them.
                    ref_i = fa + m.end() + (1 if body[m.end()].isspace() else 0)
                else:
                    continue
                _, ref_y = q.origin(tp, ref_i)
                rb = q.loose(tp, ref_i)
                ref_h = rb[3] - rb[2]
                _, dy = q.origin(tp, i0)
                lb = q.loose(tp, i0)
                if ref_h > 0 and dy - ref_y > 0.2 * ref_h and (lb[3] - lb[2]) < 0.85 * ref_h:
                    end = m.end()
                    # "disease.¹⁰ ¹¹ It" (BMJ): further raised groups after a space belong to the callout.
                    while (more := _MORE_DIGITS.match(body, end)) is not None:
                        j = fa + more.start(1)
                        mb = q.loose(tp, j)
                        if not (q.origin(tp, j)[1] - ref_y > 0.2 * ref_h and (mb[3] - mb[2]) < 0.85 * ref_h):
                            break
                        end = more.end()
                    pieces.append(body[last : m.start()] + m.group(1) + SUP_OPEN + body[m.start(2) : end] + SUP_CLOSE)
                    last = end
                    if m.start() == 0:
                        # The fragment's own size and baseline are the running text's, not the superscript's.
                        size, base = ref_h, ref_y
                        top, bottom = max(top, rb[3]), min(bottom, rb[2])
            if pieces:
                body = "".join(pieces) + body[last:]
        body = clean_line_text(body)
        if body.strip():
            frags.append(_Frag(x0, x1, top, bottom, base, size, bold, body))
    return frags


def _merge(frags: list[_Frag], page: int) -> list[Line]:
    """Join fragments on the same visual line; small raised digit fragments become superscript markers."""
    lines: list[Line] = []
    cur: Line | None = None
    n_in_cur = 0
    for f in frags:
        if cur is not None:
            # Same row: the boxes overlap vertically by a good part of the smaller glyph height.
            overlap = min(cur.top, f.top) - max(cur.bottom, f.bottom)
            same_row = overlap > 0.4 * min(cur.size, f.size) and f.x0 >= cur.x1 - 1.5
            # Word gaps are a fraction of the font size; a wider gap is a column gutter or a table cell.
            near = f.x0 - cur.x1 < 1.2 * max(cur.size, f.size)
            if same_row and near:
                is_sup = (f.size < 0.85 * cur.size and f.baseline > cur.baseline + 0.15 * cur.size
                          and _SUPER_TEXT.fullmatch(f.text) is not None)
                if n_in_cur == 1 and not is_sup and cur.size < 0.85 * f.size and cur.baseline > f.baseline + 0.15 * f.size \
                        and _SUPER_TEXT.fullmatch(cur.text) is not None:
                    # The line began with a superscript (a callout wrapped from the previous line).
                    cur.text = SUP_OPEN + cur.text + SUP_CLOSE
                    cur.size, cur.baseline, cur.bold = f.size, f.baseline, f.bold
                    cur.top, cur.bottom = max(cur.top, f.top), min(cur.bottom, f.bottom)
                gap = f.x0 - cur.x1
                sep = " " if gap > 0.15 * cur.size and not cur.text.endswith((" ", _SOFT)) else ""
                if is_sup:
                    # Keep a visible gap ("HIV-1 ⁴¹") as a space: it separates a citation from an exponent.
                    cur.text += sep + SUP_OPEN + f.text + SUP_CLOSE
                else:
                    cur.text += sep + f.text
                    cur.bold = cur.bold and f.bold
                cur.x1 = max(cur.x1, f.x1)
                n_in_cur += 1
                continue
        cur = Line(page, f.x0, f.x1, f.top, f.bottom, f.baseline, f.size, f.bold, f.text)
        n_in_cur = 1
        lines.append(cur)
    return lines


# Bounds for one document, so a hostile or absurd PDF costs bounded time and memory: a 400-page thesis has
# ~1.5 M characters and parses in seconds.
MAX_PDF_CHARS = 4_000_000
MAX_PDF_SECONDS = 120.0


def _attach_labels(lines: list[Line]) -> list[Line]:
    """Join a short line ("(9)", "12.") to the line it heads on the same baseline: list labels are often
    drawn apart from their text in the content stream, so they come out as lines of their own."""
    out = []
    for ln in lines:
        if len(ln.text.strip()) <= 6 and not ln.text.startswith(SUP_OPEN):
            target = next((t for t in lines if t is not ln and len(t.text.strip()) > 6
                           and abs(t.baseline - ln.baseline) < 0.35 * ln.size
                           and 0 <= t.x0 - ln.x1 < 1.5 * ln.size), None)
            if target is not None:
                target.text = ln.text.strip() + " " + target.text
                target.x0 = ln.x0
                continue
        out.append(ln)
    return out


def extract_lines(
    pdf: pdfium.PdfDocument, source: str, *, max_chars: int = MAX_PDF_CHARS, max_seconds: float = MAX_PDF_SECONDS
) -> tuple[list[list[Line]], list[float], list[float]]:
    """Visual lines per page, with page widths and heights. Raises UnsupportedFormatError for text-less PDFs,
    InputTooLargeError past ``max_chars`` characters or ``max_seconds`` of extraction."""
    deadline = time.monotonic() + max_seconds
    q = _Chars()
    pages: list[list[Line]] = []
    widths: list[float] = []
    heights: list[float] = []
    n_chars = 0
    for i in range(len(pdf)):
        try:
            page = pdf[i]
            w, h = page.get_size()
            tp = page.get_textpage()
        except pdfium.PdfiumError as exc:
            raise MalformedInputError(source, f"page {i + 1} cannot be read ({exc})") from None
        try:
            text = _page_text(tp)
            n_chars += len("".join(text.split()))  # non-blank characters, counted in C
            if n_chars > max_chars:
                raise InputTooLargeError(source, f"PDF has more than {max_chars:,} characters of text (by page {i + 1})")
            if time.monotonic() > deadline:
                raise InputTooLargeError(source, f"text extraction took over {max_seconds:.0f} s (page {i + 1} of {len(pdf)})")
            pages.append(_attach_labels(_merge(_fragments(tp, text, q), i)))
        finally:
            tp.close()
            page.close()
        widths.append(w)
        heights.append(h)
    if n_chars < 40 * max(1, min(len(pages), 3)) / 3:
        raise UnsupportedFormatError(
            source, "PDF has no text layer (a scanned document?); run OCR on it first"
        )
    return pages, widths, heights
