"""ingest, report, search, stats, export: building and querying an index from the command line."""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from citelens.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, TEXT, console, main
from citelens.cli.options import (
    DB_OPTION,
    EXCLUDE_SELF_OPTION,
    JSON_OPTION,
    MIN_CONFIDENCE_OPTION,
    READ_DB_OPTION,
    SECTION_OPTION,
    TYPE_OPTION,
    YEAR_FROM_OPTION,
    YEAR_TO_OPTION,
    check_years,
    dump_json,
    exit_not_found,
    more_rows_line,
    open_index,
    parse_min_confidence,
    shown_index,
    threshold_line,
)
from citelens.cli.terminal import clip, safe
from citelens.document import MAX_ROW_ID
from citelens.errors import CiteLensError, StoreError
from citelens.pipeline import AUTO_MAX_JOBS, AUTO_MIN_INPUTS, resolve_jobs
from citelens.reference_list import reference_list
from citelens.rules import corrections_in_force
from citelens.serialize import (
    AUTHOR_EXPORT_FIELDS,
    CORRECTION_EXPORT_FIELDS,
    EXPORT_FIELDS,
    as_dict,
    author_row_json,
    cited_notice_fields,
    correction_export_json,
    csv_cells,
    reference_list_json,
    search_ranking_json,
    statement_json,
)
from citelens.spreadsheet import for_excel, safe_row
from citelens.store import CITATION_SORTS, open_store
from citelens.store.migrations import latest_version
from citelens.store.query import MAX_QUERY_CHARS, SEARCH_WINDOW

# ------------------------------------------------------------------------------------------- ingest

@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@DB_OPTION
@click.option("--classifier", default=None, help="Stance classifier by name (see `citelens classify --help`).")
@JSON_OPTION
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--jobs", "-j", default="auto", show_default=True, metavar="N|auto",
              help="Worker processes for parsing and classification (storage stays in this process). auto: one"
                   f" per core (at most {AUTO_MAX_JOBS}) when there are {AUTO_MIN_INPUTS} or more inputs, else 1.")
@click.option("--dask", "dask_spec", default=None, metavar="local[N]|tcp://HOST:PORT",
              help="Parse and classify on a Dask cluster: a local one with N worker processes, or a running"
                   " scheduler. This process stores, in input order; finished inputs are recorded, so a re-run"
                   " after a crash resumes where it stopped.")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(1, 10_000),
              help="With --dask: documents stored per transaction.")
@click.option("--task-size", default=8, show_default=True, type=click.IntRange(1, 1_000),
              help="With --dask: inputs sent to a worker in one task (fewer, larger tasks cost the scheduler less).")
@click.option("--redo", is_flag=True, help="With --dask: ingest again inputs the manifest says are stored.")
def ingest(paths: tuple[str, ...], db: str, classifier: str | None, as_json: bool, quiet: bool, jobs: str,
           dask_spec: str | None, batch_size: int, task_size: int, redo: bool) -> None:
    """Ingest articles into the index.

    PATHS are files, folders (recursive) or .zip/.tar.gz archives of JATS/NLM XML (.xml, .nxml), GROBID
    TEI (.tei.xml), S2ORC / s2orc-doc2json JSON (.json), PDF, and JSON-lines work metadata (.jsonl: Crossref or OpenAlex records) used for resolution and to place cited works.
    Re-ingesting an article replaces it. Exit 0 when every input was stored, 1 when some failed (the
    rest are stored), 2 on usage errors, 4 when the index cannot be opened or the Dask scheduler does
    not answer or goes away (what was stored stays; run it again to resume).

    Example: citelens ingest data/demo-corpus --db index.db --json
    """
    from citelens.pipeline import IngestSummary, InputPaths, Pipeline, worker_pool
    from citelens.stance import check_classifier_name

    err = console(True)
    summary = IngestSummary()

    def refuse(code: int, message: str) -> NoReturn:
        """Stop before anything is stored; with --json the (empty) summary still comes, with the error, as a
        script reading it expects (before, stdout was empty)."""
        err.print(f"[red]error:[/] {safe(message)}")
        if as_json:
            dump_json({**summary.to_dict(), "error": message, "exit_code": code})
        sys.exit(code)

    client = close_cluster = None
    try:
        resolve_jobs(jobs, 1)  # a bad --jobs is a usage error before anything is opened
        check_classifier_name(classifier)
        if dask_spec:
            from citelens.dask_ingest import connect

            if jobs not in ("auto", "1"):
                raise ValueError("--jobs is for one machine; with --dask the cluster's workers do the work")
            client, close_cluster = connect(dask_spec)
    except (ValueError, CiteLensError) as exc:
        from citelens.dask_ingest import ClusterUnreachableError  # (dask itself is imported only with --dask)

        # A scheduler that does not answer is like a database that cannot be opened (exit 4), not a usage error.
        refuse(EXIT_ERROR if isinstance(exc, ClusterUnreachableError) else EXIT_USAGE, str(exc))
    inputs = InputPaths(paths, summary.skipped)  # streamed: walked again as it is ingested, never listed whole
    n_inputs = inputs.count()
    n_jobs = resolve_jobs(jobs, n_inputs) if client is None else 1
    # The bar goes to stderr: with --json too when stderr is a terminal (a long ingest showed nothing at all), stdout
    # keeping only the summary; to a file or a pipe, --json stays silent (no bar's last frame in a log).
    show = not quiet and (not as_json or err.is_terminal)
    stopped_by: str | None = None  # why the ingest stopped before its end (the cluster was lost)
    with _summary_when_interrupted(summary, as_json), contextlib.ExitStack() as running:
        # The worker processes start before the index is opened, so that they can be forked from this process
        # (pipeline.worker_pool): a database connection must never cross a fork. A SIGTERM meanwhile stops the
        # command once the pool is in `running`, which stops it (cli.stops_deferred).
        from citelens.cli import stops_deferred  # (defined after the commands are registered)

        with stops_deferred():
            workers = running.enter_context(worker_pool(classifier, n_jobs, fork=True)) if n_jobs > 1 else None
        try:
            store = open_store(db)
        except StoreError as exc:
            if close_cluster is not None:
                close_cluster()
            refuse(EXIT_ERROR, str(exc))
        if store.upgraded_from is not None:
            err.print(f"Upgraded the index {safe(shown_index(db))} in place from schema {store.upgraded_from} to"
                      f" {latest_version(store.backend)} (made by an older CiteLens; older versions can no longer open it).")
        with Progress(TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.fields[current]}"), console=err, disable=not show, transient=False) as bar:
            task = bar.add_task("ingest", total=n_inputs, current="")

            from citelens.cli import raise_if_stopped  # (defined after the commands are registered)

            def progress(item: Any, status: str) -> None:
                bar.update(task, advance=1, current=safe(Path(item.name.split("!")[-1]).name[:40]))
                raise_if_stopped()

            if client is not None:
                from citelens.dask_ingest import ClusterLostError, ingest_on_dask

                try:
                    ingest_on_dask(inputs, store, client, classifier=classifier, summary=summary,
                                   batch_size=batch_size, task_size=task_size, redo=redo, on_progress=progress)
                except ClusterLostError as exc:
                    stopped_by = str(exc)
                finally:
                    if close_cluster is not None:
                        close_cluster()
            else:
                Pipeline(store, classifier).ingest(inputs, summary, progress, workers=workers)
    store.close()
    result = summary.to_dict()
    code = EXIT_ERROR if stopped_by else EXIT_PARTIAL if summary.failed else EXIT_OK
    if stopped_by:
        result["error"] = stopped_by
    result["exit_code"] = code
    if as_json:
        dump_json(result)
    else:
        if stopped_by:
            console(True).print(f"[red]error:[/] {safe(stopped_by)}. Stopped; what was stored stays stored, and the"
                                " same command resumes after it once the cluster is back.")
        c = console(True)
        # Documents and metadata are counted apart: "failed 4" once meant one article and three Retraction Watch
        # rows, and an operator could not tell how many articles were missing from the index.
        bad_files, bad_records = summary.failed_count("metadata_file"), summary.failed_count("metadata_record")
        # The metadata part only where the batch had metadata: an ingest of articles alone said "0 metadata
        # record(s)" every time.
        metadata = [f"{summary.metadata_records} metadata record(s)"] if (
            summary.metadata_records or bad_records or bad_files) else []
        metadata += [f"{bad_records} metadata row(s) or line(s) rejected"] if bad_records else []
        metadata += [f"{bad_files} metadata file(s) failed"] if bad_files else []
        c.print(f"[bold]Stored[/] {summary.stored} document(s) ({summary.replaced} replaced), "
                f"[bold]skipped[/] {len(summary.skipped)}, [bold]failed[/] {summary.failed_count('document')}"
                " document(s)" + ("; " + ", ".join(metadata) if metadata else "") + "."
                + (f" {summary.already_stored} input(s) already stored by an earlier run (resumed)."
                   if summary.already_stored else ""))
        c.print(f"{summary.statements:,} citation statements; {summary.references:,} references, "
                f"{summary.references_resolved_pct}% matched to an already known work; "
                f"{summary.seconds:.1f} s.")
        if summary.notices_added or summary.notices_updated or summary.notices_unchanged:
            c.print(f"Editorial notices: {summary.notices_added:,} added, {summary.notices_updated:,} completed,"
                    f" {summary.notices_unchanged:,} already known.")
        for note in summary.notes:
            c.print(f"  [yellow]note[/]    {safe(note)}")
        for s in summary.skipped:
            c.print(f"  [yellow]skipped[/] {safe(s)}")
        # A metadata file's rejected rows first, the failed files last: the end of the output, where an operator
        # looks, names the documents (and files) missing from the index, not one of thousands of notice rows.
        for f in sorted(summary.failed, key=lambda f: f.kind != "metadata_record"):
            label = "[red]rejected[/] " if f.kind == "metadata_record" else "[red]failed[/]  "
            c.print(f"  {label}{safe(f.source)}: {safe(f.problem)}")
    sys.exit(code)


@contextlib.contextmanager
def _summary_when_interrupted(summary: Any, as_json: bool) -> Iterator[None]:
    """With --json, Ctrl-C or SIGTERM still print the summary of what is stored (with ``error`` and the
    ``exit_code`` the command ends with), as a lost cluster does: a script reading stdout got nothing and could
    not tell what the index holds. The summary counts only committed batches, so it is what the index has."""
    from citelens.cli import StoppedBySignal  # (defined after the commands are registered)

    try:
        yield
    except (KeyboardInterrupt, StoppedBySignal) as stop:
        if as_json:
            by = "Ctrl-C" if isinstance(stop, KeyboardInterrupt) else "SIGTERM"
            code = 1 if isinstance(stop, KeyboardInterrupt) else int(stop.code or 1)
            dump_json({**summary.to_dict(), "error": f"interrupted ({by}): what was stored stays stored, and the same"
                       " command resumes after it", "exit_code": code})
        raise


# ------------------------------------------------------------------------------------------- report

@main.command()
@click.argument("ident", type=TEXT)
@READ_DB_OPTION
@JSON_OPTION
@TYPE_OPTION
@SECTION_OPTION
@EXCLUDE_SELF_OPTION
@MIN_CONFIDENCE_OPTION
@YEAR_FROM_OPTION
@YEAR_TO_OPTION
@click.option("--sort", default="relevance", show_default=True, type=click.Choice(CITATION_SORTS),
              help="Order of the statements (as /api/citations' sort=): relevance is the evidence first"
                   " (contrasting, then supporting), then confidence, then newest.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(0, 100_000),
              help="Statements listed (0: the tallies only).")
@click.option("--offset", default=0, type=click.IntRange(0, MAX_ROW_ID),
              help="Statements skipped first (paging: the text output ends with the next page's --offset).")
@click.option("--references", "show_references", is_flag=True,
              help="The paper's own reference list instead (the report page's References tab): each entry's matched"
                   " work, how it was matched, its notices and tallies (at --min-confidence); --json: the shape of"
                   " GET /api/references/{doi}.")
def report(ident: str, db: str, as_json: bool, stance: str | None, section: str | None, exclude_self: bool,
           min_confidence: str | None, year_from: int | None, year_to: int | None, sort: str, limit: int,
           offset: int, show_references: bool) -> None:
    """How has a work been cited? Tallies, tallies by section and the citation statements.

    IDENT is a DOI (with or without https://doi.org/), a work id (W123), a PMID (26635547, PMID:26635547) or a
    PMCID (PMC4712345). Exit 3 when the index does not hold it. The statements are filtered, sorted and paged as
    GET /api/citations does (--type, --section, --exclude-self, --year-from/--year-to, --sort, --limit/--offset);
    the tallies above them count every statement. --references lists what the paper itself cites instead, when
    its full text is in the index (a retracted reference is flagged and dated against the paper's year).

    Example: citelens report 10.1523/jneurosci.3428-15.2015 --db index.db --type contrasting --min-confidence auto
    """
    if not ident.strip():
        raise click.BadParameter("IDENT is empty: give a DOI, work id, PMID or PMCID", param_hint="IDENT")
    # --limit has a default, so only one given on the command line is refused: `--references --limit 5` printed all
    # the entries without a word.
    limit_given = click.get_current_context().get_parameter_source("limit") is click.core.ParameterSource.COMMANDLINE
    if show_references and (stance or section or exclude_self or year_from or year_to or sort != "relevance"
                            or offset or limit_given):
        raise click.UsageError("--references lists the paper's whole reference list: the statement filters (--type,"
                               " --section, --exclude-self, --year-from/--year-to, --sort, --limit/--offset) do not"
                               " apply")
    check_years(year_from, year_to)
    threshold = parse_min_confidence(min_confidence)
    store = open_index(db, must_exist=True, readonly=True)
    work = store.get_work(ident)
    if work is None:
        exit_not_found(as_json, {"id": ident}, f"no work {safe(ident)} in {safe(db)}")
    if show_references:
        refs = reference_list(store, work.id, threshold)
        store.close()
        _print_references(reference_list_json(as_dict(work), refs, threshold), as_json)
        return
    tallies = store.tallies(work.id, min_confidence=threshold)
    by_section = store.section_tallies(work.id, min_confidence=threshold)
    # Without a threshold, the text output also says how many labels pass the model's own (as the page does).
    cut = None
    if threshold is None and not as_json:
        from citelens.stance import recommended_min_confidence

        cut = recommended_min_confidence()
    sure = as_dict(store.tallies(work.id, min_confidence=cut)) if cut is not None else None
    # (limit 0, the tallies only: no rows are read, but the count is still the filters' one)
    total, rows = store.citations(work.id, stance=stance, section=section, year_from=year_from, year_to=year_to,
                                  exclude_self=exclude_self, sort=sort, limit=limit, offset=offset,
                                  min_confidence=threshold)
    store.close()
    work, tallies = as_dict(work), as_dict(tallies)
    by_section = {k: as_dict(v) for k, v in by_section.items()}
    statements = [statement_json(r) for r in rows]
    if as_json:
        # sort, offset, limit and next_offset (null on the last page) were added for paging; the rest is as it was.
        dump_json({"work": work, "tallies": tallies, "tallies_by_section": by_section, "min_confidence": threshold,
                   "statements_total": total, "statements": statements, "sort": sort, "offset": offset,
                   "limit": limit, "next_offset": offset + len(statements)
                   if limit and offset + len(statements) < total else None})
        return
    threshold_line(threshold)
    c = console()
    c.print(f"[bold]{safe(work['title'] or '(untitled)')}[/]")
    authors = ", ".join(f"{a.get('given', '')} {a.get('family', '')}".strip() for a in work["authors"][:6])
    c.print(safe(f"{authors} · {work['container']} {work['year'] or ''} · {work['doi'] or work['id']}"))
    for n in work["notices"]:
        c.print(f"[bold red]{n['kind'].upper()}[/] notice: {safe(n['doi'] or n['title'])}")
    c.print(f"[green]supporting {tallies['supporting']}[/] · [red]contrasting {tallies['contrasting']}[/] · "
            f"mentioning {tallies['mentioning']} · total {tallies['total']} · "
            f"{tallies['citing_publications']} citing publications")
    if sure and (tallies["supporting"] or tallies["contrasting"]):
        c.print(f"  the model is sure ({cut:.0%} or more) of {sure['supporting']} supporting and {sure['contrasting']}"
                " contrasting: --min-confidence auto counts only those")
    t = Table("section", "supporting", "contrasting", "mentioning", "total", box=None)
    for sec, b in by_section.items():
        if b["total"]:
            t.add_row(sec, str(b["supporting"]), str(b["contrasting"]), str(b["mentioning"]), str(b["total"]))
    c.print(t)
    colour = {"supporting": "green", "contrasting": "red", "mentioning": "white"}
    for s in statements:
        text = s["text"]
        marked = (safe(text[: s["callout_start"]]) + "[bold underline]" + safe(text[s["callout_start"]:s["callout_end"]])
                  + "[/]" + safe(text[s["callout_end"]:]))
        conf = f"{s['confidence']:.2f}" if s["confidence"] is not None else "-"
        if _below(s, threshold):
            conf += f", below {threshold:g}: counted as mentioning"
        selfc = " [magenta]self-citation[/]" if s["self_citation"] else ""
        c.print(f"\n[{colour.get(s['type'] or '', 'white')}]{s['type']}[/] ({conf}) · {s['section']} · "
                f"{safe(clip(s['citing_title'], 80))} ({s['citing_year'] or '?'}){selfc}")
        c.print(f"  {marked}")
    # Which statements these are and how to reach the rest ("… 42 more (use --limit)" offered only a longer page).
    if not limit and total:
        c.print(f"\n{total} citation statement(s) match: --limit N lists them")
    elif more := more_rows_line(total, offset, len(statements), "statements"):
        c.print(f"\n{more}")
    elif not total and (stance or section or exclude_self or year_from or year_to):
        # The tallies above count every statement: say that the list is empty because of the filters.
        c.print("\nNo citation statements match these filters.")


def _print_references(body: dict[str, Any], as_json: bool) -> None:
    """``report --references``: the ReferenceList shape as JSON, or one block per entry."""
    if as_json:
        dump_json(body)
        return
    threshold_line(body["min_confidence"])
    c = console()
    c.print(f"[bold]{safe(body['title'] or '(untitled)')}[/] ({body['year'] or '?'}) · {body['doi'] or body['work_id']}")
    if not body["full_text"]:
        c.print("Only cited so far: this index has no full text of this paper, so it does not know its references.")
        return
    c.print(f"{body['total']} reference{'s' * (body['total'] != 1)}")
    timing = {"after": "cited after the retraction", "same-year": "cited in the year of the retraction"}
    for r in body["references"]:
        label = r["label"] or str(r["position"])
        c.print(f"\n[bold]{safe(label)}.[/] {safe(clip(r['raw'] or r['title'], 300))}")
        if r["title_says_retracted"] and not r["notices"]:
            c.print("  [bold red]Title says retracted[/] (this index holds no notice for it)")
        for n in r["notices"]:
            when = timing.get(r["cited_after_retraction"] or "") if n["type"] == "retraction" else None
            c.print(f"  [bold red]{safe(n['status'])}[/]{' ' + safe(n['date']) if n['date'] else ''}"
                    f"{' · ' + when if when else ''}")
        if r["found"]:
            c.print(f"  → {safe(clip(r['matched_title'] or r['matched_doi'] or r['work_id'], 100))}"
                    f" · {r['matched_doi'] or r['work_id']} · {safe(r['resolution'])}")
            c.print(f"    [green]supporting {r['supporting']}[/] · [red]contrasting {r['contrasting']}[/] ·"
                    f" mentioning {r['mentioning']} · total {r['total']}")
    # What an editor scans the list for, as the reference check's first line counts it, once more at its end.
    refs = body["references"]
    retracted = sum(1 for r in refs if r["retracted"])
    after = sum(1 for r in refs if r["retracted"] and r["cited_after_retraction"] == "after")
    titled = sum(1 for r in refs if r["title_says_retracted"] and not r["notices"])
    noticed = sum(1 for r in refs if r["notices"])
    c.print(f"\n{body['total']} reference{'s' * (body['total'] != 1)}: {sum(1 for r in refs if r['found'])} matched to"
            f" a work, {noticed} with an editorial notice, {retracted} retracted"
            + (f" ({after} cited after the retraction)" if after else "")
            + (f", {titled} whose title says retracted without a notice" if titled else "") + ".")


def _below(statement: dict[str, Any], threshold: float | None) -> bool:
    """Whether a statement's label counts as another at ``threshold`` (the tallies' rule)."""
    from citelens.rules import counted_stance

    label = statement["type"] or ""
    return counted_stance(label, statement["confidence"], statement["corrected"], threshold) != label


# ------------------------------------------------------------------------------------------- search

@main.command()
@click.argument("query", type=TEXT)
@READ_DB_OPTION
@JSON_OPTION
@TYPE_OPTION
@SECTION_OPTION
@EXCLUDE_SELF_OPTION
@YEAR_FROM_OPTION
@YEAR_TO_OPTION
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="Results shown.")
@click.option("--offset", default=0, type=click.IntRange(0, MAX_ROW_ID), help="Results skipped first (paging).")
@MIN_CONFIDENCE_OPTION
@click.option("--window", default=SEARCH_WINDOW, show_default=True, envvar="CITELENS_SEARCH_WINDOW",
              type=click.IntRange(0, MAX_ROW_ID),
              help="When more statements match, rank only this many, those of the most recently added sentences,"
                   " and estimate the total (as the web search does); 0 ranks and counts every match (slow for a"
                   " common word in a large index). Also CITELENS_SEARCH_WINDOW.")
def search(query: str, db: str, as_json: bool, stance: str | None, section: str | None, exclude_self: bool,
           year_from: int | None, year_to: int | None, limit: int, offset: int, min_confidence: str | None,
           window: int) -> None:
    """Full-text search over citation statements (ranked, with snippets).

    Words are ANDed; "quoted phrases", word* prefixes and OR work.

    Example: citelens search "consistent with" --db index.db --type supporting --section discussion
    """
    if not query.strip():  # matches nothing, which read as "the index holds nothing" (the API answers 400)
        raise click.BadParameter("the query is empty: give words to search for", param_hint="QUERY")
    if len(query) > MAX_QUERY_CHARS:  # as the API's q; 2,000 prefix words took minutes
        raise click.BadParameter(f"the query is over {MAX_QUERY_CHARS} characters", param_hint="QUERY")
    check_years(year_from, year_to)
    threshold = parse_min_confidence(min_confidence)
    store = open_index(db, must_exist=True, readonly=True)
    found = store.search_statements_page(query, stance=stance, section=section, year_from=year_from,
                                         year_to=year_to, exclude_self=exclude_self, limit=limit, offset=offset,
                                         min_confidence=threshold, window=window)
    total, rows = found.total, found.hits
    # The cited works' notices, as the web search and /api/search flag them: a retracted work cited in a
    # matching sentence is what an integrity check searches for.
    notices = store.notices_by_work([r.cited_work_id for r in rows if r.cited_work_id])
    store.close()
    rows = as_dict(rows)
    if as_json:
        dump_json({"query": query, "total": total, **search_ranking_json(found), "min_confidence": threshold,
               "results": [statement_json(r, notices) for r in rows]})
        return
    threshold_line(threshold)
    c = console()
    if found.windowed:
        c.print(f"about {total:,} statements match {safe(query)!r}; more than {window:,}, so these are the best of"
                f" the {found.ranked:,} in the most recently added sentences (add a word to narrow the search,"
                f" or --window 0 to rank every match)")
    else:
        c.print(f"{total} statement(s) match {safe(query)!r}")
    for r in rows:
        # The snippet's match markers are control characters themselves: make the pieces safe, then mark.
        snip = "[/]".join("[bold yellow]".join(safe(p) for p in part.split("\x02"))
                          for part in r["snippet"].split("\x03"))
        below = f", below {threshold:g}: counted as mentioning" if _below(r, threshold) else ""
        conf = f"{r['confidence']:.2f}" if r["confidence"] is not None else "-"
        c.print(f"\n[bold]{r['type']}[/] ({conf}{below}) · {r['section']} · cites "
                f"{safe(clip(r['cited_title'] or r['reference_raw'] or r['cited_work_id'], 70))}")
        flags = cited_notice_fields(r["citing_year"], notices.get(r["cited_work_id"] or "", ()))
        if flags["cited_notices"]:
            when = {"after": "cited after the retraction", "same-year": "cited in the year of the retraction"}.get(
                flags["cited_after_retraction"] or "")
            c.print(f"  [bold red]cited work: {safe('; '.join(flags['cited_notices']))}"
                    f"{f' · {when}' if when else ''}[/]")
        c.print(f"  {snip}")
        c.print(f"  [dim]in {safe(clip(r['citing_title'], 80))} ({safe(r['citing_doi'] or r['citing_source'])})[/]")
    # Which rows these are, and how to reach the rest: "N statement(s) match" above 20 rows read as all of them,
    # and an --offset past the end printed nothing more.
    if more := more_rows_line(found.ranked, offset, len(rows), "ranked results" if found.windowed else "results"):
        c.print(f"\n{more}")


# -------------------------------------------------------------------------------------------- stats

@main.command()
@READ_DB_OPTION
@JSON_OPTION
def stats(db: str, as_json: bool) -> None:
    """Counts: documents, works, statements by type and section, resolution methods, size.

    Example: citelens stats --db index.db --json
    """
    store = open_index(db, must_exist=True, readonly=True)
    s = as_dict(store.stats())
    store.close()
    if as_json:
        dump_json(s)
        return
    c = console()
    t = Table("what", box=None)
    t.add_column("count", justify="right")

    # A breakdown (statements by type, resolution methods) is a heading with one indented row per part: printed as
    # JSON inside the table it read {"supporting": 210, "contrasting": 18, ...}.
    def rows(items: dict[str, Any], indent: str) -> None:
        for k, v in items.items():
            if isinstance(v, dict):
                t.add_row(safe(indent + str(k)), "")
                rows(v, indent + "  ")
            else:
                t.add_row(safe(indent + str(k)), safe(str(v)))

    rows(s, "")
    c.print(t)


# ------------------------------------------------------------------------------------------- backup

@main.command()
@READ_DB_OPTION
@click.argument("dest", type=click.Path(dir_okay=False, writable=False))
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
@JSON_OPTION
def backup(db: str, dest: str, force: bool, as_json: bool) -> None:
    """Copy a SQLite index to DEST while it is served and ingested into: a consistent snapshot (SQLite's online
    backup), checked, and put in place only once whole. DEST opens as an index of its own (serve it, ingest into
    it). A PostgreSQL index is backed up with pg_dump (docs/store.md, "Operating CiteLens").

    Exit 0 when DEST holds the copy; 2 when DEST exists (without --force), is the index itself, is "-" or is in a
    folder that is not there, for a missing index and for a PostgreSQL URL; 4 when the copy fails.

    Example: citelens backup --db index.db index-backup.db
    """
    from citelens.store import is_postgres_url

    if dest == "-":
        # Elsewhere "-" is standard output; here it made a file named "-" (a SQLite copy is a file, not a stream).
        console(True).print("[red]error:[/] DEST '-': a backup is a SQLite file, not a stream to standard output;"
                            " name a file (compress that file afterwards if you need to)")
        sys.exit(EXIT_USAGE)
    if is_postgres_url(db):
        console(True).print("[red]error:[/] `citelens backup` copies a SQLite file; back up a PostgreSQL index with"
                            " pg_dump (docs/store.md, \"Operating CiteLens\")")
        sys.exit(EXIT_USAGE)
    source, target = Path(db), Path(dest)
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        console(True).print(f"[red]error:[/] {safe(dest)} is the index itself; name another file")
        sys.exit(EXIT_USAGE)
    if target.exists() and not force:
        console(True).print(f"[red]error:[/] {safe(dest)} exists; name a new file or add --force to replace it")
        sys.exit(EXIT_USAGE)
    if not target.parent.is_dir():
        console(True).print(f"[red]error:[/] the folder {safe(str(target.parent))} does not exist")
        sys.exit(EXIT_USAGE)
    store = open_index(db, must_exist=True, readonly=True)
    try:
        copied = store.backup(target)
    except StoreError as exc:
        console(True).print(f"[red]error:[/] {safe(str(exc))}")
        sys.exit(EXIT_ERROR)
    finally:
        store.close()
    summary = {"source": str(source), "backup": str(target), "bytes": target.stat().st_size, **copied}
    if as_json:
        dump_json(summary)
        return
    console().print(f"Backed up {safe(db)} to {safe(dest)}: {copied['documents']:,} documents,"
                        f" {copied['statements']:,} citation statements, schema {copied['schema_version']},"
                        f" {summary['bytes'] / 2**20:,.1f} MiB.")


# ------------------------------------------------------------------------------------------- export

@main.command()
@READ_DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="jsonl: one JSON object per line; csv: a header and one row per line. Default: csv for -o "
                   "FILE.csv, else jsonl.")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default stdout).")
@click.option("--corrections", is_flag=True, help="Export curators' corrections (training data) instead.")
@click.option("--table", type=click.Choice(["statements", "authors"]), default="statements", show_default=True,
              help="statements: one row per citation statement; authors: one row per (document, author "
                   "position) with the located affiliation.")
@click.option("--cited-retracted", is_flag=True,
              help="Only statements citing a retracted work (a retraction no reinstatement lifted); "
                   "cited_after_retraction says whether the citing paper came later.")
@click.option("--excel", is_flag=True,
              help="CSV for Excel: starts with a UTF-8 byte-order mark, without which Excel shows names such as"
                   " Müller garbled (implies --format csv; scripts and pipes are better without it).")
def export(db: str, fmt: str | None, output: Any, corrections: bool, table: str, cited_retracted: bool,
           excel: bool) -> None:
    """Export one row per citation statement (or per correction, or per author) as JSON lines or CSV.

    Example: citelens export --db index.db --format csv -o statements.csv
    """
    if excel and fmt == "jsonl":
        raise click.UsageError("--excel writes CSV for Excel: leave out --format jsonl")
    if excel:
        fmt = "csv"
    if fmt is None:
        # `-o statements.csv` without --format wrote JSON lines into a .csv file, which a spreadsheet opens as one
        # column of JSON text: the file's name says what the reader wants.
        fmt = "csv" if str(getattr(output, "name", "")).lower().endswith(".csv") else "jsonl"
    store = open_index(db, must_exist=True, readonly=True)
    # Fixed columns: taken from the first row, an index without any corrections wrote no header.
    fixed_fields: tuple[str, ...] = CORRECTION_EXPORT_FIELDS if corrections else EXPORT_FIELDS
    if cited_retracted and (corrections or table == "authors"):
        raise click.UsageError("--cited-retracted keeps statements: leave out --corrections and --table authors")
    if table == "authors":
        if corrections:
            raise click.UsageError("--corrections exports statements' corrections; leave out --table authors")
        fixed_fields = AUTHOR_EXPORT_FIELDS
        rows: Any = (author_row_json(r) for r in store.iter_document_authors())
    elif corrections:
        # Which correction is in force needs them all (a later one overrules); curators' saves are few.
        in_force = corrections_in_force(store.iter_corrections())
        rows = (correction_export_json(c, st, c.id in in_force) for c, st in store.iter_corrections_in_context())
    else:
        # Every notice, once (a small table): whether a citation came after its cited work's retraction.
        notices = store.notices_by_work()
        rows = (statement_json(r, notices) for r in store.iter_statements())
        if cited_retracted:
            # An integrity team's question as a file: every citation of retracted work, dated against the notice.
            rows = (r for r in rows if r["cited_retracted"])
    # Opened now, whatever follows: click opens -o FILE at the first write, so an export of no rows (JSON lines)
    # left an existing FILE as it was, the rows of an earlier export read as this one's.
    output.write("")
    n = 0
    if fmt == "jsonl":
        for row in rows:
            output.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    else:
        output.write(for_excel("", excel))  # the byte-order mark (spreadsheet.EXCEL_BOM), only when asked for
        writer = None
        for row in rows:
            if writer is None:
                fields = list(fixed_fields)
                writer = csv.DictWriter(output, fieldnames=fields, extrasaction="ignore")
                writer.writeheader()
            writer.writerow(safe_row(csv_cells(row)))
            n += 1
        if writer is None:
            csv.writer(output).writerow(fixed_fields)
    store.close()
    name = getattr(output, "name", "-")
    if name not in ("-", "<stdout>"):
        # Into a file, the command printed nothing: whether it wrote anything (an empty index, the wrong --table)
        # was only seen by opening the file. On stderr, so that it never mixes with data on stdout.
        output.close()
        what = "correction" if corrections else "author row" if table == "authors" else "statement"
        console(True).print(f"Exported {n:,} {what}{'' if n == 1 else 's'} to {safe(str(name))} ({fmt.upper()}"
                            + (", with a header line)" if fmt == "csv" else ", one per line)"))
