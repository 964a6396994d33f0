"""Collections with alerts: a curator's list of works (scite's dashboards), its table and its Atom feed.

A collection is made from an upload — a DOI list, BibTeX, RIS, CSL JSON (Zotero/Mendeley export) or CSV —
and stored in the index (``Store.create_collection``). Its page lists every work with tallies, notices and
warnings (:func:`collection_rows`); its feed (:func:`atom_feed`) lists the citation statements and
editorial notices that arrived since a date: the alert. The web layer and API only call these functions.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from citelens.check import CheckInputError, decode_text, parse_reference_list, warnings_for
from citelens.references.identifiers import normalise_doi
from citelens.references.resolve import find_matching_work, record_from_reference
from citelens.serialize import as_dict, notice_json, statement_json
from citelens.spreadsheet import safe_row
from citelens.store.base import Store
from citelens.store.records import CollectionItem

MAX_ITEMS = 2000
SORT_KEYS = ("position", "title", "year", "supporting", "contrasting", "mentioning", "total",
             "citing_publications", "warnings")


@dataclass
class Entry:
    """One work of an upload: its DOI when known, else the work it was matched to, and a label."""

    doi: str
    work_id: str | None
    label: str


def parse_collection_upload(data: bytes, filename: str, store: Store) -> tuple[str, list[Entry]]:
    """(format, entries) from an upload. Entries without a DOI are matched read-only to a known work;
    those matching none are kept with their label (they show as "not in the index")."""
    name = filename or "the pasted list"
    lower = filename.lower()
    if lower.endswith((".csv", ".tsv")):
        return "csv", _distinct_within_limit(_parse_csv(data, name), name)
    text = decode_text(data, name)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and all(_is_bare_doi(ln) for ln in lines):
        return "doi-list", _distinct_within_limit([Entry(normalise_doi(ln), None, ln) for ln in lines], name)
    fmt, refs = parse_reference_list(data, filename)
    entries = []
    for ref in refs:
        wid = None
        if not ref.doi:
            wid, _method, _score = find_matching_work(record_from_reference(ref), store)
        entries.append(Entry(ref.doi, wid, (ref.raw or ref.title)[:300]))
    return fmt, _distinct_within_limit(entries, name)


_DOI_LABEL = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)


def _is_bare_doi(line: str) -> bool:
    """A line that is a DOI and nothing else (bare, doi:… or a doi.org link)."""
    return len(line) < 300 and bool(normalise_doi(line)) and \
        _DOI_LABEL.sub("", line).rstrip(".,;").lower() == normalise_doi(line)


def _distinct_within_limit(entries: list[Entry], name: str) -> list[Entry]:
    # A list merged from two libraries names some works twice (other spellings of one DOI, or a DOI-less entry
    # matched to the same work): each work is kept once, at its first place, so the collection counts works.
    seen: set[str] = set()
    unique = []
    for e in entries:
        key = normalise_doi(e.doi) if e.doi else (e.work_id or "")
        if key and key in seen:
            continue
        seen.add(key)
        unique.append(e)
    entries = unique
    if not entries:
        raise CheckInputError(f"{name}: no works found (give one DOI per line, or a BibTeX, RIS, CSL JSON or CSV file)")
    if len(entries) > MAX_ITEMS:
        raise CheckInputError(f"{name}: {len(entries)} works; a collection holds at most {MAX_ITEMS}")
    return entries


def entries_to_add(items: Sequence[CollectionItem], entries: list[Entry], name: str) -> tuple[list[Entry], int]:
    """(the entries of an upload the collection lacks, how many it already holds): a work is in a collection
    once, as at creation (the same DOI however written, or the same matched work). Refuses what would take the
    collection past MAX_ITEMS, naming the upload."""
    held = {normalise_doi(i.doi) if i.doi else (i.work_id or "") for i in items} - {""}
    new = [e for e in entries if (normalise_doi(e.doi) if e.doi else (e.work_id or "")) not in held]
    if len(items) + len(new) > MAX_ITEMS:
        raise CheckInputError(f"{name}: {len(new)} more works would make {len(items) + len(new)}; a collection holds"
                              f" at most {MAX_ITEMS}")
    return new, len(entries) - len(new)


MAX_NAME = 200


def create_from_upload(store: Store, name: str, owner: str, data: bytes, filename: str,
                       writer: Store | None = None) -> dict[str, Any]:
    """Make a collection named ``name`` from an upload (:func:`parse_collection_upload`): the collection with the
    format read. ``writer`` stores it (default ``store``: the web layer reads and writes through two)."""
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise CheckInputError("give the collection a name")
    fmt, entries = parse_collection_upload(data, filename, store)
    c = (writer or store).create_collection(name, owner, [(e.doi, e.work_id, e.label) for e in entries])
    return {**as_dict(c), "format": fmt}


def add_upload(store: Store, collection_id: int, data: bytes, filename: str,
               writer: Store | None = None) -> tuple[int, int]:
    """(works added, works the collection already held) from an upload read as :func:`create_from_upload` reads one:
    new works go at the end (:func:`entries_to_add`)."""
    _fmt, entries = parse_collection_upload(data, filename, store)
    new, already = entries_to_add(store.collection_items(collection_id), entries, filename or "the pasted list")
    (writer or store).add_collection_items(collection_id, [(e.doi, e.work_id, e.label) for e in new])
    return len(new), already


def remove_items(store: Store, collection_id: int, dois: Sequence[str], positions: Sequence[int],
                 writer: Store | None = None) -> tuple[int, list[str]]:
    """(items removed, the DOIs and positions that matched none): :func:`positions_to_remove`, then the store."""
    found, missing = positions_to_remove(store.collection_items(collection_id), dois, positions)
    return (writer or store).remove_collection_items(collection_id, found), missing


def positions_to_remove(items: Sequence[CollectionItem], dois: Sequence[str], positions: Sequence[int]
                        ) -> tuple[list[int], list[str]]:
    """(the positions of the items named by DOI — however written — or by position, the names that match no
    item): what a removal takes out, and what it could not find, to say so rather than succeed silently."""
    by_doi = {normalise_doi(i.doi): i.position for i in items if i.doi}
    at = {i.position for i in items}
    found: list[int] = []
    missing: list[str] = []
    for d in dois:
        pos = by_doi.get(normalise_doi(d) or d.strip().lower())
        if pos is None:
            missing.append(d)
        else:
            found.append(pos)
    for p in positions:
        if p in at:
            found.append(p)
        else:
            missing.append(f"position {p}")
    return sorted(set(found)), missing


def _parse_csv(data: bytes, name: str) -> list[Entry]:
    text = decode_text(data, name)
    dialect = csv.excel_tab if name.lower().endswith(".tsv") or ("\t" in text[:2000] and "," not in text[:200]) \
        else csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        rows = list(reader)
    except csv.Error as exc:  # a cell over the csv module's 131,072 characters: it was a 500 on the web
        raise CheckInputError(f"{name}: not a CSV file that can be read (line {reader.line_num}: {exc})") from None
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    # "DI" and "TI" are Web of Science's tab-delimited export, a librarian's everyday list.
    doi_col = next((i for i, h in enumerate(header) if h in ("doi", "dois", "doi_url", "di")), None)
    title_col = next((i for i, h in enumerate(header) if h in ("title", "article title", "name", "ti")), None)
    body = rows[1:] if doi_col is not None or title_col is not None else rows
    entries = []
    for row in body:
        cells = [c.strip() for c in row]
        # Without a DOI column, a cell that is a DOI and nothing else names the work; a DOI inside a longer cell
        # (a cited-references or abstract column) is another work's, taken only when no cell is a DOI.
        doi = normalise_doi(cells[doi_col]) if doi_col is not None and doi_col < len(cells) else \
            next((normalise_doi(c) for c in cells if _is_bare_doi(c)), "") or \
            next((normalise_doi(c) for c in cells if normalise_doi(c)), "")
        if not doi:
            continue
        label = cells[title_col] if title_col is not None and title_col < len(cells) else doi
        entries.append(Entry(doi, None, label[:300]))
    return entries


def collection_rows(store: Store, collection_id: int, sort: str = "position", descending: bool = False
                    ) -> list[dict[str, Any]]:
    """Every work of the collection with its tallies, notices and warnings (the ``CollectionItem`` shape)."""
    if sort not in SORT_KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)}")
    from citelens.stance import recommended_min_confidence

    # Heavy contrast is counted on the labels the installed model is sure of (as work_warnings counts it); the
    # threshold and every work's tallies are read once for the whole collection.
    threshold = recommended_min_confidence()
    items = store.collection_items(collection_id)
    in_index = store.get_works([ident for item in items if (ident := item.doi or item.work_id)])
    found = [(item, as_dict(in_index.get(item.doi or item.work_id or ""))) for item in items]
    ids = [w["id"] for _item, w in found if w]
    tallies = store.tallies_of_works(ids)
    sure = store.tallies_of_works(ids, min_confidence=threshold) if threshold is not None else {}
    rows = []
    for item, work in found:
        t = as_dict(tallies[work["id"]]) if work else {}
        rows.append({
            "position": item.position, "doi": (work or {}).get("doi") or item.doi, "work_id": work["id"] if work else None,
            "title": (work or {}).get("title") or item.label, "year": (work or {}).get("year"), "found": work is not None,
            "supporting": t.get("supporting", 0), "contrasting": t.get("contrasting", 0),
            "mentioning": t.get("mentioning", 0), "total": t.get("total", 0),
            "citing_publications": t.get("citing_publications", 0), "retracted": bool(work and work["retracted"]),
            "notices": [notice_json(n)["status"] for n in (work or {}).get("notices", [])],
            "warnings": warnings_for(work, t, as_dict(sure[work["id"]]) if threshold is not None else None)
            if work else [],
        })
    if sort != "position":
        def value(r: dict[str, Any]) -> Any:
            return len(r["warnings"]) if sort == "warnings" else r[sort]

        # Rows without the value (a work without a year, one not in the index) come last in either order.
        known = [r for r in rows if value(r) is not None]
        known.sort(key=lambda r: v.lower() if isinstance(v := value(r), str) else v, reverse=descending)
        rows = known + [r for r in rows if value(r) is None]
    elif descending:
        rows.reverse()
    return rows


COLLECTION_CSV_FIELDS = ("position", "doi", "work_id", "title", "year", "found", "supporting", "contrasting",
                         "mentioning", "total", "citing_publications", "retracted", "notices", "warnings")


def collection_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLLECTION_CSV_FIELDS, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(safe_row({**r, "notices": "; ".join(r["notices"]), "warnings": "; ".join(r["warnings"])}))
    return buf.getvalue()


def parse_since(value: str | None, default_days: int = 30, *, name: str = "since") -> str:
    """An ISO date or date-time (UTC) from a query parameter; ``default_days`` ago when absent. ``name`` is the
    parameter the error messages name (``until`` reads the same way: :func:`parse_until`)."""
    if not value:
        from datetime import timedelta

        return (datetime.now(UTC) - timedelta(days=default_days)).isoformat(timespec="seconds")
    v = value.strip()
    # The "+" of a UTC offset typed into a feed address arrives as a space ("12:00:00 02:00"): read it as it was.
    v = re.sub(r"(\d{2}:\d{2}(?::\d{2})?) (\d{2}:?\d{2})$", r"\1+\2", v)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?)?", v):
        raise ValueError(f"{name} must be a date (2026-01-31) or a date and time (2026-01-31T12:00:00Z)")
    try:
        parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} is not a valid date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="seconds")


def parse_window(since: str | None, until: str | None, default_days: int = 30) -> tuple[str, str | None]:
    """(since, until) of an alerts window from query parameters, each read as :func:`parse_since` reads one.

    ``since`` is inclusive and ``until`` exclusive, so ``since=2026-01-01&until=2026-02-01`` is all of January
    (a date is its midnight, UTC) and consecutive windows neither overlap nor leave a gap. ``until`` absent: up to
    now (None); ``since`` absent: the ``default_days`` before ``until`` (or before now). An ``until`` not after
    ``since`` is an error, since the window would be empty whatever arrived."""
    end = parse_since(until, name="until") if until and until.strip() else None
    if since and since.strip():
        start = parse_since(since)
    else:
        from datetime import timedelta

        start = ((datetime.fromisoformat(end) if end else datetime.now(UTC)) - timedelta(days=default_days)
                 ).isoformat(timespec="seconds")
    if end is not None and end <= start:
        raise ValueError(f"until ({end}) must be after since ({start})")
    return start, end


ALERTS_LIMIT = 200  # entries of a feed, and of GET /api/collections/{id}/alerts unless it asks for more
ALERTS_LIMIT_MAX = 1000


def alerts(store: Store, collection_id: int, since: str, limit: int = ALERTS_LIMIT, until: str | None = None
           ) -> list[dict[str, Any]]:
    """New citation statements and editorial notices about the collection's works that arrived at or after
    ``since`` and before ``until`` (when given), newest first: {kind: "statement" | "notice", at, work_id, title,
    summary, link_path, statement?, notice?}."""
    items = store.collection_items(collection_id)
    in_index = store.get_works([ident for item in items if (ident := item.doi or item.work_id)])
    works = {}
    for item in items:
        if (w := as_dict(in_index.get(item.doi or item.work_id or ""))) is not None:
            works[w["id"]] = w
    out: list[dict[str, Any]] = []
    for at, st in store.statements_since(list(works), since, limit, until=until):
        s = statement_json(st)
        w = works.get(s["cited_work_id"]) or {}
        out.append({"kind": "statement", "at": at, "id": f"statement-{s['id']}", "work_id": s["cited_work_id"],
                    "title": f"{(s['type'] or 'unclassified').capitalize()} citation of “{w.get('title') or w.get('doi')}”",
                    "summary": f"{s['citing_title']}: “{s['sentence']}”", "link_path": f"/statements/{s['id']}",
                    "statement": s})
    for ev in store.notices_since(list(works), since, until=until):
        n = notice_json(ev.notice)
        w = works.get(ev.target_work_id) or {}
        out.append({"kind": "notice", "at": ev.ingested_at, "id": f"notice-{ev.target_work_id}-{n['doi'] or n['title']}",
                    "work_id": ev.target_work_id,
                    "title": f"{n['status']}: “{w.get('title') or w.get('doi')}”", "summary": n["title"],
                    "link_path": "/reports/" + (w.get("doi") or ev.target_work_id), "notice": n})
    # Newest first; within one second a notice (a retraction) before the statements that came with it.
    out.sort(key=lambda e: (e["at"], e["kind"] == "notice"), reverse=True)
    return out[:limit]


@dataclass
class AlertsPage:
    """What :func:`alerts_page` answers: the entries of [since, until) that fit, and where older ones continue."""

    since: str
    until: str | None
    limit: int
    entries: list[dict[str, Any]]
    truncated: bool  # more entries arrived in the window than ``entries`` holds
    next_until: str | None  # the older entries left out are those of [since, next_until); None when none were


def alerts_page(store: Store, collection_id: int, since: str, until: str | None = None,
                limit: int = ALERTS_LIMIT) -> AlertsPage:
    """The newest entries of the window [``since``, ``until``) — at most ``limit`` — and, when more arrived,
    ``next_until`` for the next (older) page: ``since`` and ``until=next_until`` give the rest, with no entry
    twice and none lost.

    Arrival times have one-second resolution and a bulk ingest gives hundreds of statements one second: a page
    cut inside a second would leave that second's other entries before any ``until`` that a client could
    name. So a truncated page ends at a whole second (holding fewer than ``limit`` entries) — unless more than
    ``limit`` entries share its oldest second, when it holds ``limit`` of them and the rest of that second is
    reachable only with a larger ``limit``."""
    entries = alerts(store, collection_id, since, limit + 1, until)
    if len(entries) <= limit:
        return AlertsPage(since, until, limit, entries, False, None)
    left_out_at = entries[limit]["at"]
    kept = [e for e in entries[:limit] if e["at"] != left_out_at] or entries[:limit]
    return AlertsPage(since, until, limit, kept, True, kept[-1]["at"])


def atom_feed(collection: Any, entries: list[dict[str, Any]], base_url: str, since: str, *,
              page: AlertsPage | None = None) -> bytes:
    """An Atom 1.0 feed (RFC 4287) of ``entries`` from :func:`alerts`; every text node escaped by lxml.

    Given the :class:`AlertsPage` the entries came from, the feed says its window and, when entries were left
    out, says so in its subtitle and links the older ones as ``rel="next"`` (RFC 5005's paged feeds): a reader
    must not take the newest 200 for everything that arrived."""
    from urllib.parse import urlencode

    from lxml import etree

    ns = "http://www.w3.org/2005/Atom"
    c = as_dict(collection)
    feed = etree.Element(f"{{{ns}}}feed", nsmap={None: ns})

    def sub(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
        el = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
        if text is not None:
            el.text = _xml_text(text)
        return el

    home = f"{base_url}/collections/{c['id']}"
    window = f"since {since}" + (f", before {page.until}" if page and page.until else "")
    if page and page.truncated:
        window += (f": only the {len(entries)} newest entries; more arrived. The next link (rel=\"next\") gives the"
                   f" older ones (until={page.next_until}); or narrow the window with since= and until=, or ask for"
                   f" up to {ALERTS_LIMIT_MAX} entries with limit=")
    sub(feed, "id", f"{home}/feed.atom")
    sub(feed, "title", f"CiteLens: new citations and notices for “{c['name']}”")
    sub(feed, "subtitle", window)
    sub(feed, "updated", entries[0]["at"] if entries else c["created_at"])
    sub(feed, "link", href=home)
    sub(feed, "link", rel="self", href=f"{home}/feed.atom")
    if page and page.truncated and page.next_until:
        query = {"since": since, "until": page.next_until}
        if page.limit != ALERTS_LIMIT:
            query["limit"] = str(page.limit)
        sub(feed, "link", rel="next", href=f"{home}/feed.atom?{urlencode(query)}")
    author = sub(feed, "author")
    sub(author, "name", c["owner"])
    for e in entries:
        entry = sub(feed, "entry")
        # A notice without a DOI is named by its title: spaces and quotes are not allowed in an IRI (atom:id).
        sub(entry, "id", f"{home}/{quote(e['id'], safe=_IRI_SAFE)}")
        sub(entry, "title", e["title"])
        sub(entry, "updated", e["at"])
        sub(entry, "link", href=base_url + e["link_path"])
        sub(entry, "category", term=e["kind"])
        sub(entry, "summary", e["summary"])
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8")


_IRI_SAFE = "/:@!$&'()*+,;=~"  # RFC 3987 path characters kept as they are (ids with DOIs stay the same)
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(s: str) -> str:
    # Control characters are not allowed in XML 1.0 at all; article text occasionally has them.
    return _XML_BAD.sub("", s)
