"""collection: curators' lists of works (/collections/{id}) on the command line — make, list, show, change, delete and
read the alerts, through the functions the pages and the API call (:mod:`citelens.collection`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.table import Table

from citelens.check import CheckInputError
from citelens.cli import EXIT_PARTIAL, EXIT_USAGE, TEXT, console, main
from citelens.cli.options import DB_OPTION, JSON_OPTION, READ_DB_OPTION, dump_json, exit_not_found, open_index
from citelens.cli.terminal import clip, safe
from citelens.collection import (
    ALERTS_LIMIT,
    ALERTS_LIMIT_MAX,
    SORT_KEYS,
    add_upload,
    alerts_page,
    collection_rows,
    create_from_upload,
    parse_window,
    remove_items,
)
from citelens.serialize import as_dict
from citelens.web.settings import Settings

# What a list may be at most: the server's default limit for an upload (its settings, docs/web.md).
MAX_LIST_BYTES = Settings.max_upload_bytes


def _read_list(source: str) -> tuple[bytes, str]:
    """(the bytes, the file name the format is read from) of LIST: a file, or "-" for standard input."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_LIST_BYTES + 1)
        name = ""
    else:
        path = Path(source)
        if not path.is_file():
            raise click.BadParameter(f"{source}: no such file", param_hint="LIST")
        with path.open("rb") as fh:
            data = fh.read(MAX_LIST_BYTES + 1)
        name = path.name
    if len(data) > MAX_LIST_BYTES:
        raise click.BadParameter(f"{source or 'standard input'}: larger than {MAX_LIST_BYTES // 1024} KiB",
                                 param_hint="LIST")
    if not data.strip():
        raise click.BadParameter(f"{source}: empty (give DOIs one per line, BibTeX, RIS, CSL JSON or CSV)",
                                 param_hint="LIST")
    return data, name


def _collection(store: Any, collection_id: int, as_json: bool) -> dict[str, Any]:
    """The collection, or exit 3 saying so."""
    c = store.get_collection(collection_id)
    if c is None:
        exit_not_found(as_json, {"id": collection_id}, f"no collection {collection_id}")
    return as_dict(c)


def _refuse(exc: Exception) -> NoReturn:
    console(True).print(f"[red]error:[/] {safe(str(exc))}")
    sys.exit(EXIT_USAGE)


@main.group()
def collection() -> None:
    """Collections: curators' lists of works with tallies, notices and alerts (the /collections pages).

    Example: citelens collection create "Opsins" dois.txt --db index.db
    """


@collection.command("list")
@READ_DB_OPTION
@JSON_OPTION
def list_collections(db: str, as_json: bool) -> None:
    """Every collection, newest first.

    Example: citelens collection list --db index.db
    """
    store = open_index(db, must_exist=True, readonly=True)
    found = as_dict(store.list_collections())
    store.close()
    if as_json:
        dump_json({"collections": found})
        return
    if not found:
        console().print("No collections yet: citelens collection create NAME LIST --db …")
        return
    t = Table("id", "name", "works", "owner", "created", box=None)
    for c in found:
        t.add_row(str(c["id"]), safe(clip(c["name"], 60)), str(c["size"]), safe(c["owner"]), c["created_at"][:10])
    console().print(t)


@collection.command("show")
@click.argument("collection_id", type=click.IntRange(1))
@READ_DB_OPTION
@JSON_OPTION
@click.option("--sort", type=click.Choice(SORT_KEYS), default="position", show_default=True,
              help="Order of the works (as the page's column headings).")
@click.option("--desc", is_flag=True, help="Largest (or last) first.")
def show(collection_id: int, db: str, as_json: bool, sort: str, desc: bool) -> None:
    """A collection's works with their tallies, notices and warnings. Exit 3 when there is no such collection.

    Example: citelens collection show 1 --db index.db --sort contrasting --desc
    """
    store = open_index(db, must_exist=True, readonly=True)
    c = _collection(store, collection_id, as_json)
    rows = collection_rows(store, collection_id, sort, desc)
    store.close()
    if as_json:
        dump_json({**c, "items": rows})  # the shape of GET /api/collections/{id}
        return
    out = console()
    out.print(f"[bold]{safe(c['name'])}[/] · {c['size']} works · by {safe(c['owner'])}, {c['created_at'][:10]}")
    t = Table("#", "work", "year", "supporting", "contrasting", "mentioning", "citing papers", "notices and warnings",
              box=None)
    for r in rows:
        title = safe(clip(r["title"] or r["doi"], 70)) + ("" if r["found"] else " (not in this index)")
        t.add_row(str(r["position"]), title, str(r["year"] or ""), str(r["supporting"]), str(r["contrasting"]),
                  str(r["mentioning"]), str(r["citing_publications"]),
                  safe("; ".join([*r["notices"], *r["warnings"]])))
    out.print(t)


@collection.command("create")
@click.argument("name", type=TEXT)
@click.argument("list_source", metavar="LIST", type=TEXT)
@DB_OPTION
@click.option("--owner", default="cli", show_default=True, help="Who the collection is by.")
@JSON_OPTION
def create(name: str, list_source: str, db: str, owner: str, as_json: bool) -> None:
    """Make a collection NAME from LIST: a file of DOIs (one per line), BibTeX, RIS, CSL JSON or CSV with a DOI
    column, or - for standard input.

    Example: citelens collection create "Opsins" dois.txt --db index.db
    """
    data, filename = _read_list(list_source)
    store = open_index(db)
    try:
        c = create_from_upload(store, name, owner[:100], data, filename)
    except CheckInputError as exc:
        _refuse(exc)
    finally:
        store.close()
    if as_json:
        dump_json(c)
    else:
        console().print(f"Collection {c['id']} ({safe(c['name'])}): {c['size']} works, read as {c['format']}.")


@collection.command("add")
@click.argument("collection_id", type=click.IntRange(1))
@click.argument("list_source", metavar="LIST", type=TEXT)
@DB_OPTION
@JSON_OPTION
def add(collection_id: int, list_source: str, db: str, as_json: bool) -> None:
    """Add the works of LIST (as for create) to a collection: works it holds already stay where they are, new ones
    go at the end.

    Example: citelens collection add 1 more.bib --db index.db
    """
    data, filename = _read_list(list_source)
    store = open_index(db)
    try:
        _collection(store, collection_id, as_json)
        added, already = add_upload(store, collection_id, data, filename)
        c = _collection(store, collection_id, as_json)
    except CheckInputError as exc:
        _refuse(exc)
    finally:
        store.close()
    if as_json:
        dump_json({"added": added, "already_in": already, "collection": c})  # as POST /api/collections/{id}/items
    else:
        console().print(f"Added {added} work(s) to collection {collection_id}"
                        f"{f'; {already} already in it' if already else ''}; it holds {c['size']}.")


@collection.command("remove")
@click.argument("collection_id", type=click.IntRange(1))
@DB_OPTION
@click.option("--doi", "dois", multiple=True, type=TEXT, help="A DOI of the collection (repeat for several).")
@click.option("--position", "positions", multiple=True, type=click.IntRange(0),
              help="An item's position, as `collection show` gives it (repeat for several).")
@JSON_OPTION
def remove(collection_id: int, db: str, dois: tuple[str, ...], positions: tuple[int, ...], as_json: bool) -> None:
    """Remove works from a collection by DOI or position; the others keep their positions. Exit 1 when some named
    no item (the rest are removed).

    Example: citelens collection remove 1 --doi 10.1038/nn1525 --db index.db
    """
    if not dois and not positions:
        raise click.UsageError("name what to remove: --doi DOI or --position N (each may be repeated)")
    store = open_index(db)
    try:
        _collection(store, collection_id, as_json)
        removed, missing = remove_items(store, collection_id, dois, positions)
        c = _collection(store, collection_id, as_json)
    finally:
        store.close()
    if as_json:
        dump_json({"removed": removed, "not_found": missing, "collection": c})
    else:
        console().print(f"Removed {removed} work(s) from collection {collection_id}; it holds {c['size']}.")
        for m in missing:
            console(True).print(f"[yellow]not in the collection:[/] {safe(m)}")
    if missing:
        sys.exit(EXIT_PARTIAL)


@collection.command("delete")
@click.argument("collection_id", type=click.IntRange(1))
@DB_OPTION
@click.option("--yes", is_flag=True, help="Do not ask first.")
def delete(collection_id: int, db: str, yes: bool) -> None:
    """Delete a collection and its list (the works stay in the index). Exit 3 when there is no such collection.

    Example: citelens collection delete 1 --db index.db
    """
    store = open_index(db)
    try:
        c = _collection(store, collection_id, False)
        if not yes:
            click.confirm(f"Delete collection {collection_id} ({c['name']}, {c['size']} works)?", abort=True,
                          err=True)
        store.delete_collection(collection_id)
    finally:
        store.close()
    console().print(f"Deleted collection {collection_id}.")


@collection.command("alerts")
@click.argument("collection_id", type=click.IntRange(1))
@READ_DB_OPTION
@click.option("--since", type=TEXT, help="Start of the window, inclusive: a date or date and time (default: 30 days"
                                         " before --until).")
@click.option("--until", type=TEXT, help="End of the window, exclusive (default: now).")
@click.option("--limit", default=ALERTS_LIMIT, show_default=True, type=click.IntRange(1, ALERTS_LIMIT_MAX),
              help="Most entries, newest first.")
@JSON_OPTION
def alerts(collection_id: int, db: str, since: str | None, until: str | None, limit: int, as_json: bool) -> None:
    """New citation statements and editorial notices about a collection's works (what its Atom feed lists).

    Example: citelens collection alerts 1 --since 2026-01-01 --db index.db
    """
    try:
        since_iso, until_iso = parse_window(since, until)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since/--until") from None
    store = open_index(db, must_exist=True, readonly=True)
    _collection(store, collection_id, as_json)
    page = alerts_page(store, collection_id, since_iso, until_iso, limit)
    store.close()
    if as_json:  # the shape of GET /api/collections/{id}/alerts
        dump_json({"since": page.since, "until": page.until, "limit": page.limit, "truncated": page.truncated,
                   "next_until": page.next_until, "alerts": page.entries})
        return
    out = console()
    out.print(f"{len(page.entries)} new since {page.since}{f' and before {page.until}' if page.until else ''}")
    for e in page.entries:
        what = (f"{e['statement']['type']}: {clip(e['statement']['text'], 120)}" if e["kind"] == "statement"
                else f"{e['notice']['kind'].upper()} notice")
        out.print(f"  {e['at']} · {safe(clip(e['title'] or '', 60))} · {safe(what)}")
    if page.truncated:
        out.print(f"… more arrived: --until {page.next_until} for the older ones")
