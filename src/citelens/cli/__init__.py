"""The ``citelens`` command. Each sub-command lives in its own module and registers itself on ``main``.

Exit codes (a contract, documented in docs/cli.md):
  0  success
  1  some inputs failed (the rest were processed)
  2  usage error (bad flags, missing files)
  3  not found (unknown DOI / work id)
  4  internal or database error
"""

from __future__ import annotations

import sys
from typing import Any

import click

from citelens import __version__

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_ERROR = 4


def console(stderr: bool = False) -> Any:
    """A rich Console for human output. Piped or redirected output is not wrapped at 80 columns (long
    lines stay whole for grep and friends); a terminal gets its own width."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    return Console(stderr=stderr, highlight=False, soft_wrap=not tty, width=None if tty else 100_000)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="citelens")
def main() -> None:
    """CiteLens: a self-hostable smart citation index.

    Ingest full-text articles, extract and classify citation statements (supporting / contrasting /
    mentioning), then report, search, export and serve them.
    """


def _register() -> None:
    # Imported for their side effect of adding commands to ``main``.
    from citelens.cli import (  # noqa: F401
        author_cmds,
        check_cmds,
        flows_cmds,
        index_cmds,
        profile_cmds,
        references_cmds,
        serve_cmds,
        stance_cmds,
    )


_register()
