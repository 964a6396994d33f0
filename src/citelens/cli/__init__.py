"""The ``citelens`` command. Each sub-command lives in its own module and registers itself on ``main``.

Exit codes (a contract, documented in docs/cli.md):
  0  success
  1  some inputs failed (the rest were processed)
  2  usage error (bad flags, missing files)
  3  not found (unknown DOI / work id)
  4  internal or database error
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import click

from citelens import __version__

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_ERROR = 4


class CommandLineText(click.ParamType):
    """Text given on the command line (a DOI, a query, a sentence). Bytes that are not UTF-8 reach Python as lone
    surrogates, which SQLite and JSON cannot hold (`citelens journal $'\\xff'` ended in a traceback): they are a
    usage error naming the argument, where a user can see that the terminal's encoding is at fault."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
            self.fail("is not UTF-8 text (check the terminal's or the script's encoding)", param, ctx)
        return value


TEXT = CommandLineText()


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
        check_cmds,
        collection_cmds,
        curation_cmds,
        flows_cmds,
        index_cmds,
        profile_cmds,
        references_cmds,
        serve_cmds,
        stance_cmds,
        top_cmds,
    )


_register()


def run() -> None:
    """The ``citelens`` command: ``main`` as a program, which ends without tearing the interpreter down.

    A command that has located affiliations holds the gazetteer's million small objects (and an ingest its
    models): freeing them one by one at exit took ≈ 0.3-0.4 s, longer than indexing a few articles
    (2026-12-04). Everything a normal exit does that matters still happens — other threads are waited for,
    ``atexit`` handlers run (database pools close, worker processes are reaped), output is flushed — then the
    process ends with the command's exit code (``os._exit``, as Instagram's servers end to skip the same
    teardown). SIGTERM leaves through the same clean-up as Ctrl-C (below). Tests call ``main`` through click's
    runner and are not affected."""
    import atexit
    import signal
    import threading

    # SIGTERM (`timeout`, `kill`, a batch scheduler's time limit, a service stop) ends the command as Ctrl-C
    # does, through the code's own clean-up: the open transaction rolls back and worker processes are stopped;
    # then the process ends by that signal, as it did before (a service manager counts that as a clean stop).
    # Left to its default, it killed this process on the spot, and each ingest worker then printed a
    # BrokenPipeError traceback as its result found no reader.
    global _signal_seen, _command_pid
    _signal_seen = 0
    _command_pid = os.getpid()
    default_unraisable = sys.unraisablehook

    def unraisable(info: Any) -> None:
        # The stop raised where Python ignores exceptions (a finaliser, a gc callback): not an error to show;
        # the command stops at its next step (raise_if_stopped) or ends by the signal after all (below).
        if not isinstance(info.exc_value, StoppedBySignal):
            default_unraisable(info)

    sys.unraisablehook = unraisable
    signal.signal(signal.SIGTERM, _stop_on_signal)
    stopped_by = 0
    try:
        main()
        code: object = EXIT_OK
    except StoppedBySignal as stop:
        code, stopped_by = stop.code, stop.signum
    except SystemExit as stop:  # click ends every command this way (standalone mode)
        code = stop.code
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # from here on a SIGTERM ends the process at once
    if _signal_seen and not stopped_by:
        # The handler's exception was swallowed where it landed (a finaliser run by the garbage collector while
        # a Dask cluster closed ignores exceptions): the command ran on to its end, but it was told to stop, and
        # says so by how it ends (seen in a test: exit 0 after "Stopped (SIGTERM).").
        code, stopped_by = 128 + _signal_seen, _signal_seen
    if code is None:
        code = EXIT_OK
    elif not isinstance(code, int):  # sys.exit("message"): printed, exit status 1, as Python does
        print(code, file=sys.stderr)
        code = 1
    # What the interpreter's own shutdown does first, in its order: threading's exit hooks (they wake idle
    # executor threads, which would otherwise wait forever) and the wait for non-daemon threads, then the atexit
    # handlers. After these only freeing memory is left. (Both are private: the interpreter calls them itself.)
    threading._shutdown()  # type: ignore[attr-defined]  # noqa: SLF001
    atexit._run_exitfuncs()  # noqa: SLF001
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`citelens … | head`): nothing to write to
            stream.flush()
    if stopped_by:
        os.kill(os.getpid(), stopped_by)
    os._exit(code)


class StoppedBySignal(SystemExit):
    """Raised by SIGTERM's handler under ``run``: the command leaves through its own clean-up."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


# The signal _stop_on_signal handled, if any (run ends by it even when its exception went astray).
_signal_seen = 0


def raise_if_stopped() -> None:
    """Stop here if a SIGTERM was handled and its exception went astray (see ``run``): long loops call it at
    each step."""
    if _signal_seen:
        raise StoppedBySignal(_signal_seen)


# The process in which a SIGTERM is noted and not raised (see stops_deferred); 0: none.
_deferring_pid = 0
# The command's own process (run sets it): a process forked from it runs the handler it inherited differently.
_command_pid = 0


@contextlib.contextmanager
def stops_deferred() -> Iterator[None]:
    """A SIGTERM within the block is noted, not raised, until the block ends: for a step whose clean-up is not yet
    in place until it returns (starting ingest's worker pool). Raised there, the stop escaped the pool's own
    clean-up: its supervisor thread kept running and replaced each worker the exit stopped, and the command
    then waited for the replacement forever (seen under load, 2026-12-05). Starting the pool takes milliseconds."""
    global _deferring_pid
    _deferring_pid = os.getpid()
    try:
        yield
    finally:
        _deferring_pid = 0
    raise_if_stopped()


def _stop_on_signal(signum: int, _frame: object) -> None:
    import signal

    global _signal_seen
    signal.signal(signum, signal.SIG_DFL)  # a second one while cleaning up ends the process at once
    if os.getpid() != _command_pid:
        # A worker forked from the command, stopped by its pool before its own start-up reset this handler: it
        # ends by the signal at once. Raised, the stop could land in a finaliser there, be ignored, and leave the
        # worker running, the pool waiting for it forever (seen when stopped right after the workers started).
        os.kill(os.getpid(), signum)
        return
    _signal_seen = signum
    print("Stopped (SIGTERM).", file=sys.stderr, flush=True)
    if _deferring_pid != _command_pid:
        raise StoppedBySignal(signum)
