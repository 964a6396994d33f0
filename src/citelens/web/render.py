"""Presentation helpers shared by pages, the badge and the API: no database access, no I/O.

Everything that turns article text into markup escapes it first and only then adds our own tags,
so an article's title or sentence can never inject markup.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

STANCE_COLOURS = {"supporting": "#1a7f37", "contrasting": "#c4320a", "mentioning": "#6e7781"}
STANCE_LABELS = {"supporting": "Supporting", "contrasting": "Contrasting", "mentioning": "Mentioning"}


def report_path(ident: str) -> str:
    """URL path of a work's report; DOIs keep their slashes but everything else is percent-encoded."""
    return "/reports/" + quote(ident, safe="/")


def highlight_callout(st: dict[str, Any]) -> Markup:
    """The sentence with the in-text citation wrapped in <mark>, every piece escaped."""
    s = st.get("sentence") or ""
    a, b = st.get("callout_start") or 0, st.get("callout_end") or 0
    if not (0 <= a < b <= len(s)):
        return Markup(escape(s))
    return Markup(f"{escape(s[:a])}<mark class=\"callout\">{escape(s[a:b])}</mark>{escape(s[b:])}")


def highlight_snippet(snippet: str) -> Markup:
    """An FTS snippet with matches between \\x02 and \\x03: escape, then turn the markers into <mark>."""
    text = str(escape(snippet or ""))
    opened = text.count("\x02")
    closed = text.count("\x03")
    text = text.replace("\x02", "<mark>").replace("\x03", "</mark>")
    # A snippet cut mid-match could leave a <mark> open; close it so the page structure survives.
    return Markup(text + "</mark>" * max(0, opened - closed))


def year_chart(years: list[dict[str, Any]], width: int = 640, height: int = 180) -> dict[str, Any]:
    """Bar geometry for citations per year stacked by type (rendered as inline SVG by a template)."""
    known = [y for y in years if y["year"] is not None]
    if not known:
        return {"bars": [], "width": width, "height": height, "max": 0, "ticks": []}
    lo, hi = min(y["year"] for y in known), max(y["year"] for y in known)
    by_year = {y["year"]: y for y in known}
    span = list(range(lo, hi + 1))
    if len(span) > 60:  # keep bars readable: the last 60 years of citations
        span = span[-60:]
    peak = max((by_year[y]["total"] for y in span if y in by_year), default=0) or 1
    left, bottom, top = 36, 22, 8
    plot_w, plot_h = width - left - 8, height - bottom - top
    slot = plot_w / len(span)
    bar_w = min(48.0, max(2.0, slot * 0.7))  # one or two years must not become one huge block
    bars = []
    for i, year in enumerate(span):
        b = by_year.get(year, {"supporting": 0, "contrasting": 0, "mentioning": 0, "total": 0})
        x = left + i * slot + (slot - bar_w) / 2
        y_cursor = top + plot_h
        segs = []
        for stance in ("supporting", "contrasting", "mentioning"):
            n = b.get(stance, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y_cursor -= h
            segs.append({"stance": stance, "y": round(y_cursor, 1), "h": round(h, 1), "n": n})
        other = b["total"] - sum(b.get(s, 0) for s in ("supporting", "contrasting", "mentioning"))
        bars.append({"year": year, "x": round(x, 1), "w": round(bar_w, 1), "segs": segs, "total": b["total"],
                     "unclassified": other, "label": len(span) <= 12 or i % max(1, len(span) // 8) == 0})
    ticks = [{"value": v, "y": round(top + plot_h - plot_h * v / peak, 1)} for v in sorted({0, peak // 2, peak})]
    return {"bars": bars, "width": width, "height": height, "max": peak, "ticks": ticks, "left": left,
            "base": top + plot_h, "right": width - 8}


def _text_width(s: str) -> int:
    # Rough Verdana 11px advance; good enough to size a badge without a font metrics table.
    return int(len(s) * 6.6) + 10


def badge_svg(doi: str, tallies: dict[str, int] | None, sections: dict[str, dict[str, int]] | None = None, *,
              vertical: bool = False, show_zero: bool = True) -> str:
    """A self-contained SVG badge (no scripts, no external references); every text node escaped."""
    if tallies is None:
        items = [("not indexed", "#6e7781")]
    else:
        items = []
        for stance, short in (("supporting", "supporting"), ("mentioning", "mentioning"),
                              ("contrasting", "contrasting")):
            n = tallies.get(stance, 0)
            if n or show_zero:
                items.append((f"{n} {short}", STANCE_COLOURS[stance]))
        if sections:
            for sec, t in sections.items():
                if t.get("total", 0) or show_zero:
                    items.append((f"{t.get('total', 0)} in {sec}", "#57606a"))
        if not items:
            items = [("no citations yet", "#6e7781")]
    title = f"CiteLens citation statements for {doi}"
    label = "CiteLens"
    lw = _text_width(label)
    parts: list[str] = []
    if vertical:
        row_h = 20
        w = max([lw] + [_text_width(t) for t, _ in items]) + 8
        h = row_h * (len(items) + 1)
        parts.append(f'<rect width="{w}" height="{row_h}" fill="#24292f"/>')
        parts.append(f'<text x="6" y="14" fill="#fff">{escape(label)}</text>')
        for i, (text, colour) in enumerate(items, 1):
            y = i * row_h
            parts.append(f'<rect y="{y}" width="{w}" height="{row_h}" fill="{colour}"/>')
            parts.append(f'<text x="6" y="{y + 14}" fill="#fff">{escape(text)}</text>')
    else:
        x = lw
        h = 20
        parts.append(f'<rect width="{lw}" height="20" fill="#24292f"/>')
        parts.append(f'<text x="5" y="14" fill="#fff">{escape(label)}</text>')
        for text, colour in items:
            tw = _text_width(text)
            parts.append(f'<rect x="{x}" width="{tw}" height="20" fill="{colour}"/>')
            parts.append(f'<text x="{x + 5}" y="14" fill="#fff">{escape(text)}</text>')
            x += tw
        w = x
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<g font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">{"".join(parts)}</g></svg>')
