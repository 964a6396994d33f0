"""``citelens references``: parse plain-text reference strings and evaluate the reference parser."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

import click
from rich.table import Table

from citelens.cli import EXIT_ERROR, EXIT_USAGE, console, main
from citelens.cli.terminal import safe
from citelens.document import Reference
from citelens.errors import CiteLensError

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="One JSON object per line on stdout.")


def reference_json(ref: Reference) -> dict[str, Any]:
    """The CLI's JSON shape: authors as "Family, Given" strings, empty fields as "" (year as null)."""
    return {
        "raw": ref.raw,
        "authors": [f"{a.family}, {a.given}" if a.given else a.family for a in ref.authors],
        "title": ref.title,
        "container": ref.container,
        "year": ref.year,
        "volume": ref.volume,
        "issue": ref.issue,
        "pages": ref.pages,
        "doi": ref.doi,
        "pmid": ref.pmid,
    }


# The summary `citelens --help` lists: click cuts the docstring at its first full stop, which fell inside the
# example ("Parse reference strings ("Smith J, Jones A.").
@main.group(short_help="Parse reference strings into fields, or score the parser.")
def references() -> None:
    """Parse reference strings ("Smith J, Jones A. Title. J Biol. 2003;12:1-9.") into fields."""


@references.command("parse")
@click.argument("file", type=click.File("rb"))
@JSON_OPTION
def parse_cmd(file: BinaryIO, as_json: bool) -> None:
    """Parse FILE, one reference string per line ("-" reads stdin). Blank lines are skipped.

    Any common text encoding is read (UTF-8, UTF-16 with a byte-order mark, Latin-1/Windows-1252, …).

    Example: citelens references parse refs.txt --json
    """
    from citelens.check import CheckInputError, decode_text
    from citelens.references.parser import parse_reference_strings

    name = getattr(file, "name", "<stdin>")
    name = "stdin" if name in ("<stdin>", "-") else str(name)
    try:
        text = decode_text(file.read(), name)
    except CheckInputError as exc:
        console(True).print(f"[red]error:[/] {safe(str(exc))}")
        sys.exit(EXIT_USAGE)
    raws = [line.strip() for line in text.splitlines() if line.strip()]
    try:
        refs = parse_reference_strings(raws)
    except CiteLensError as exc:
        console(True).print(f"[red]error:[/] {safe(str(exc))}")
        sys.exit(EXIT_ERROR)
    if as_json:
        for ref in refs:
            click.echo(json.dumps(reference_json(ref), ensure_ascii=False))
        return
    table = Table(show_lines=True)
    for col in ("#", "authors", "year", "title", "container", "vol", "issue", "pages", "doi"):
        table.add_column(col, overflow="fold")
    for i, ref in enumerate(refs, 1):
        authors = "; ".join(reference_json(ref)["authors"])
        table.add_row(
            str(i), safe(authors), str(ref.year or ""), safe(ref.title), safe(ref.container),
            safe(ref.volume), safe(ref.issue), safe(ref.pages), safe(ref.doi),
        )
    console().print(table)


@references.command("eval")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="GROBID references.jsonl (default: shared/data beside the repository, or $CITELENS_DATA).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def eval_cmd(data: Path | None, as_json: bool) -> None:
    """Field-level precision/recall/F1 of the packaged parser on the held-out (file-disjoint) test part.

    Example: citelens references eval --data references.jsonl --json
    """
    from citelens.references import parser_train as T

    path = data or T.default_data_path()
    if not path.is_file():
        console(True).print(f"[red]error:[/] labelled reference corpus not found at {safe(str(path))} (use --data)")
        sys.exit(EXIT_USAGE)
    examples = T.load_examples(path)
    _train, _dev, test = T.split_examples(examples)
    try:
        table, rps = T.evaluate(test)
    except CiteLensError as exc:
        console(True).print(f"[red]error:[/] {safe(str(exc))}")
        sys.exit(EXIT_ERROR)
    n_files = len({e.source_file for e in test})
    if as_json:
        click.echo(json.dumps({"test_strings": len(test), "test_files": n_files, "fields": table,
                               "references_per_second": rps}, indent=2))
        return
    out = Table(title=f"Reference parser, held-out part: {len(test)} strings from {n_files} files (soft match)")
    for col in ("field", "precision", "recall", "F1", "gold count"):
        out.add_column(col, justify="left" if col == "field" else "right")
    for name, row in table.items():
        out.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(int(row["support"])))
    con = console()
    con.print(out)
    con.print(f"throughput: {rps:,.0f} references/s (one process)")
