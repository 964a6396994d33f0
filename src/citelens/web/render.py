"""Presentation helpers shared by pages, the badge and the API: no database access, no I/O.

Everything that turns article text into markup escapes it first and only then adds our own tags,
so an article's title or sentence can never inject markup.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

STANCE_COLOURS = {"supporting": "#1a7f37", "contrasting": "#c4320a", "mentioning": "#6e7781"}
STANCE_LABELS = {"supporting": "Supporting", "contrasting": "Contrasting", "mentioning": "Mentioning"}


def report_path(ident: str) -> str:
    """URL path of a work's report; DOIs keep their slashes but everything else is percent-encoded."""
    return "/reports/" + quote(ident, safe="/")


# A callout printed as a superscript number ("light2–4", "behavior1, 2", "cells.12") loses its superscript in
# the stored text, and a reader sees one number glued to a word. Numbers alone with ranges and commas...
_NUMERIC_CALLOUT = re.compile(r"[0-9]+(?:\s?[–—‒-]\s?[0-9]+)*(?:\s?,\s?[0-9]+(?:\s?[–—‒-]\s?[0-9]+)*)*")
# ...joined to the next callout by a comma, semicolon or dash (a space after it at most) make one group.
_CALLOUT_JOIN = re.compile(r"\s?[,;–—‒-]?\s?")


def callout_markup(text: str, spans: list[tuple[int, int]] | None, own: tuple[int, int] | None = None) -> Markup:
    """`text` escaped, the callout `own` in <mark>, and each group of numeric callouts that follows a word or a
    full stop without a space (the print's superscripts) in <sup>. `spans` are the stored offsets of every
    callout in the text: only those are set as superscript, so "Sox2" or "V1" in running text never is."""
    spans = sorted({(a, b) for a, b in [*(spans or []), *([own] if own else [])] if 0 <= a < b <= len(text)})
    # Overlapping spans (one callout text for two references) merge into one.
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    groups: list[list[tuple[int, int]]] = []
    for sp in merged:
        if groups and _CALLOUT_JOIN.fullmatch(text[groups[-1][-1][1]:sp[0]]):
            groups[-1].append(sp)
        else:
            groups.append([sp])

    def piece(a: int, b: int) -> str:
        # The own callout may have merged with a neighbour's: mark exactly its own characters.
        if own and a <= own[0] and own[1] <= b and own[0] < own[1]:
            return (f"{escape(text[a:own[0]])}<mark class=\"callout\">{escape(text[own[0]:own[1]])}</mark>"
                    f"{escape(text[own[1]:b])}")
        return str(escape(text[a:b]))

    out, at = [], 0
    for group in groups:
        a, b = group[0][0], group[-1][1]
        before = text[a - 1] if a > 0 else " "
        superscript = (not before.isspace() and before not in "([{" and _NUMERIC_CALLOUT.fullmatch(text[a:b]) is not None
                       and not (b < len(text) and text[b].isalnum()))
        out.append(str(escape(text[at:a])))
        inner = "".join(piece(x, y) + str(escape(text[y:group[i + 1][0]])) if i + 1 < len(group) else piece(x, y)
                        for i, (x, y) in enumerate(group))
        out.append(f"<sup class=\"callouts\">{inner}</sup>" if superscript else inner)
        at = b
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


def highlight_callout(st: dict[str, Any]) -> Markup:
    """The sentence with the in-text citation wrapped in <mark>, every piece escaped; superscript callouts set
    as superscript where the statement carries `callout_spans` (see callout_markup)."""
    s = st.get("sentence") or ""
    a, b = st.get("callout_start") or 0, st.get("callout_end") or 0
    own = (a, b) if 0 <= a < b <= len(s) else None
    return callout_markup(s, (st.get("callout_spans") or {}).get(0), own)


def neighbour_markup(st: dict[str, Any], rel: int) -> Markup:
    """The sentence before (rel -1) or after (1) the statement's, escaped, its superscript callouts set so."""
    return callout_markup(st.get("before" if rel < 0 else "after") or "", (st.get("callout_spans") or {}).get(rel))


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
        # The bar's numbers in words, for the chart's text alternative: a screen reader hears no colours.
        said = [f"{s['n']} {s['stance']}" for s in segs] + ([f"{other} unclassified"] if other else [])
        bars.append({"year": year, "x": round(x, 1), "w": round(bar_w, 1), "segs": segs, "total": b["total"],
                     "said": ", ".join(said),
                     "unclassified": other, "label": len(span) <= 12 or i % max(1, len(span) // 8) == 0})
    ticks = [{"value": v, "y": round(top + plot_h - plot_h * v / peak, 1)} for v in sorted({0, peak // 2, peak})]
    return {"bars": bars, "width": width, "height": height, "max": peak, "ticks": ticks, "left": left,
            "base": top + plot_h, "right": width - 8}


def _text_width(s: str) -> int:
    # Rough Verdana 11px advance; good enough to size a badge without a font metrics table.
    return int(len(s) * 6.6) + 10


BADGE_ERROR_COLOUR = "#cf222e"


def badge_svg(doi: str, tallies: dict[str, int] | None, sections: dict[str, dict[str, int]] | None = None, *,
              vertical: bool = False, show_zero: bool = True, retracted: bool = False) -> str:
    """A self-contained SVG badge (no scripts, no external references); every text node escaped. A retracted work's
    badge says so first: a reader who sees only the badge must not take a retracted paper's tallies for standing."""
    if tallies is None:
        items = [("not indexed", "#6e7781")]
    else:
        items = [("retracted", BADGE_ERROR_COLOUR)] if retracted else []
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
    # role="img" makes the label all a screen reader says: it names what the badge shows, not only the DOI.
    return _badge(items, f"CiteLens citation statements for {doi}: {', '.join(t for t, _ in items)}",
                  vertical=vertical)


def badge_error_svg(message: str) -> str:
    """The badge a request that cannot be answered gets, saying why (``message``, cut to fit a badge; the whole
    of it in the title): an <img> on another site shows it where JSON would be a broken image."""
    shown = message if len(message) <= 48 else message[:47] + "…"
    return _badge([(shown, BADGE_ERROR_COLOUR)], f"CiteLens badge: {message}")


def _badge(items: list[tuple[str, str]], title: str, *, vertical: bool = False) -> str:
    """"CiteLens" and ``items`` (text, colour) in a row, or a column when ``vertical``."""
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


def sure_percent(confidence: float) -> str:
    """A model's confidence as a reader sees it: "87%", and ">99%" rather than "100%" at 0.995 or more. The
    cascade gives a third of all statements 0.995+ (the clear "mentioning" ones), and "100% sure" read as a
    certainty the calibration (docs/model-card.md) does not claim; a curator's label is shown as such instead."""
    pct = round(confidence * 100)
    return ">99%" if pct >= 100 else f"{max(pct, 0)}%"


# A notice's kind as pages word it (the API keeps scite's ``status`` strings, serialize.NOTICE_STATUS). Before, every
# kind but retraction and correction read "Expression of concern" — a reinstatement too.
NOTICE_WORDS = {"retraction": "Retracted", "correction": "Correction published",
                "expression-of-concern": "Expression of concern", "reinstatement": "Reinstated",
                "partial-retraction": "Partially retracted", "withdrawal": "Withdrawn", "erratum": "Erratum published"}


def notice_words(kind: str) -> str:
    return NOTICE_WORDS.get(kind, (kind or "notice").replace("-", " ").capitalize())


def resolution_words(method: str | None, score: float | None = None, doi: str | None = None) -> str:
    """How a reference was matched to a work, in plain words (see :data:`citelens.serialize.RESOLUTION_WORDS`)."""
    from citelens.serialize import resolution_words as words

    return words(method, score, doi)


def evidence_words(evidence: str | None) -> str:
    """'while; important' → '“while” and “important”' for the sentence "The label rests mostly on …"."""
    parts = [p.strip() for p in (evidence or "").split(";") if p.strip()]
    quoted = [f"“{p}”" for p in parts[:6]]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def safe_filename(stem: str) -> str:
    """A download name made only of safe characters (the upload's name comes from the client)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80].strip("._") or "references"


# docs/model-card.md, shipped in the package (a symlink in the source tree, a copy in a wheel), so an installed server
# has its /model-card page and the figures the labels page quotes.
MODEL_CARD = Path(__file__).resolve().parents[1] / "stance" / "model-card.md"


def model_summary() -> dict[str, Any]:
    """The default stance model's name and its model card.

    The measured figures are quoted from the card's "Status" paragraph, never written down twice.
    """
    from citelens.stance import DEFAULT_CLASSIFIER

    card = MODEL_CARD.read_text(encoding="utf-8") if MODEL_CARD.is_file() else ""
    status = next((para for para in card.split("\n\n") if para.startswith("**Status")), "")
    status = " ".join(status.replace("**", "").replace("`", "").split())
    return {"name": DEFAULT_CLASSIFIER, "card": card, "status": status}


# Examples and allowed values for parameters whose OpenAPI entry has none (shared names across routes).
PARAM_EXAMPLES = {"doi": "10.1038/nn1525", "statement_id": "1", "collection_id": "1", "page": "2", "per_page": "50",
                  "year_from": "2010", "year_to": "2020", "exclude_self": "true", "sort": "newest",
                  "type": "supporting", "section": "discussion", "q": "channelrhodopsin", "limit": "10",
                  "layout": "vertical", "show_zero": "false", "sections": "true", "since": "2026-01-31",
                  "until": "2026-03-01", "year": "2005", "order": "desc"}
PARAM_ALLOWED = {"page": "1 to 500", "exclude_self": "true or false", "show_zero": "true or false",
                 "sections": "true or false", "layout": "horizontal or vertical",
                 "year_from": "1000 to 3000", "year_to": "1000 to 3000",
                 "doi": "a DOI (slashes as they are; any case; a doi.org link works) or a work id such as W12",
                 "statement_id": "a statement id (whole number)", "collection_id": "a collection id (whole number)",
                 "since": "a date (2026-01-31) or date and time (2026-01-31T12:00:00Z), inclusive; default the 30 days"
                          " before until (or now)",
                 "q": "1 to 500 characters"}


def api_operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation of an OpenAPI description with its parameters (type, allowed values, example)."""
    ops = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = []
            for p in op.get("parameters", []):
                schema = p.get("schema", {})
                types = [schema.get("type")] if schema.get("type") else [s.get("type") for s in schema.get("anyOf", [])]
                example = p.get("example", schema.get("examples", [None])[0] if schema.get("examples") else None)
                if example is None and p.get("examples"):
                    example = next(iter(p["examples"].values())).get("value")
                allowed = (schema.get("description") or p.get("description") or PARAM_ALLOWED.get(p["name"], ""))
                bounds = " ".join(x for x in (f"≥ {schema['minimum']}" if "minimum" in schema else "",
                                              f"≤ {schema['maximum']}" if "maximum" in schema else "",
                                              f"at most {schema['maxLength']} characters" if "maxLength" in schema else "")
                                  if x)
                if example is None:
                    example = PARAM_EXAMPLES.get(p["name"])
                params.append({"name": p["name"], "in": p["in"], "required": p.get("required", False),
                               "type": " or ".join(t for t in types if t and t != "null") or "string",
                               "allowed": " ".join(x for x in (allowed, bounds) if x),
                               "default": schema.get("default"), "example": example})
            body_example = None
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if content:
                sch = content.get("schema", {})
                body_example = (sch.get("examples") or [None])[0]
            ops.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "description": op.get("description", ""), "params": params,
                        "body": "requestBody" in op, "body_example": body_example,
                        "tag": (op.get("tags") or ["api"])[0]})
    return ops


# The /docs page's headings for the OpenAPI tags (the tag itself where none is given here).
API_TAG_TITLES = {"tallies": "Tallies (scite-compatible)", "papers": "Papers", "statements": "Citation statements",
                  "curation": "Curation", "authors": "Authors and institutions", "journals": "Journals",
                  "collections": "Collections", "flows": "Knowledge flows", "check": "Reference check",
                  "badge": "Badge", "meta": "Health and metadata"}


def api_operation_groups(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The operations by tag, in the order the API describes them first (tallies first, as scite's clients call
    them), each group with an anchor and a heading, for the /docs page's contents and sections."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for op in ops:
        # The address each section has had ("get--api-tallies-doipath"), so links to it keep working.
        op["anchor"] = f"{op['method'].lower()}-" + re.sub(r"[{}:]", "", op["path"].replace("/", "-"))
        groups.setdefault(op["tag"], []).append(op)
    return [{"tag": tag, "anchor": f"api-{tag}", "title": API_TAG_TITLES.get(tag, tag.capitalize()), "ops": group}
            for tag, group in groups.items()]
