"""serve: the web app and JSON API (``citelens serve --db FILE``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from citelens.cli import EXIT_ERROR, EXIT_USAGE, main


@main.command()
@click.option("--db", "db", required=True, envvar="CITELENS_DB", type=click.Path(dir_okay=False),
              help="The index: a SQLite file built by `citelens ingest` or a postgresql://USER@HOST/DB URL."
                   " Env: CITELENS_DB.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (use 0.0.0.0 only behind a reverse proxy).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port to listen on (in use: exit 2).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each opens its own connections to the database).")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              help="What the server logs on stderr (info: one line per request).")
def serve(db: str, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve report pages, search, reference check, badges and the JSON API.

    Configuration comes from the environment: CITELENS_API_TOKEN (bearer token for API writes),
    CITELENS_CURATORS ("alice=token1,bob=token2": curator sign-in for corrections),
    CITELENS_SECRET_KEY (signs session cookies; random per start when unset),
    CITELENS_SECURE_COOKIES=1 behind HTTPS, CITELENS_MIN_CONFIDENCE (0-1 or auto: the tallies that scite's
    clients and the badge get count only labels at or above it). See docs/web.md.

    Example: citelens serve --db index.db --port 8000
    """
    import uvicorn

    from citelens.errors import StoreError
    from citelens.store import is_postgres_url, open_store
    from citelens.web.settings import Settings

    try:
        Settings.from_env()  # a bad setting stops here, with its name, not in every request
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if not is_postgres_url(db) and not Path(db).exists():
        click.echo(f"error: database {db} does not exist (run `citelens ingest` first)", err=True)
        sys.exit(EXIT_USAGE)
    try:
        open_store(db, readonly=True).close()  # fail fast with a clear message on a file that is not an index
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    shown = db
    if is_postgres_url(db):
        from citelens.store.postgres import redacted

        shown = redacted(db)  # never print a password
    click.echo(f"CiteLens serving {shown} on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    from uvicorn.config import STARTUP_FAILURE

    try:
        if workers == 1:
            from citelens.web.app import create_app

            uvicorn.run(create_app(db), host=host, port=port, log_level=log_level, server_header=False)
        else:
            # Several processes need an import string; the factory reads the path from the environment.
            import os

            os.environ["CITELENS_DB"] = db if is_postgres_url(db) else str(Path(db).resolve())
            uvicorn.run("citelens.web.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                        log_level=log_level, server_header=False)
    except SystemExit as exc:
        # uvicorn ends with its own 3 when it cannot listen (it has logged why), which is "not found" here.
        if type(exc) is not SystemExit or exc.code != STARTUP_FAILURE:
            raise
        click.echo(f"error: could not listen on {host}:{port} (is the port in use? choose another --port)", err=True)
        sys.exit(EXIT_USAGE)
