"""serve: the web app and JSON API (``citelens serve --db FILE``)."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from pathlib import Path
from typing import Any

import click

from citelens.cli import EXIT_ERROR, EXIT_USAGE, main
from citelens.cli.options import INDEX_PATH, shown_index


@main.command()
@click.option("--db", "db", required=True, envvar="CITELENS_DB", type=INDEX_PATH,
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
@click.option("--root-path", default="", envvar="CITELENS_ROOT_PATH", metavar="PREFIX",
              help="The path prefix a reverse proxy serves CiteLens under, e.g. /citelens for"
                   " https://host/citelens/ (the proxy strips it before passing the request on)."
                   " Env: CITELENS_ROOT_PATH.")
@click.option("--forwarded-allow-ips", default="127.0.0.1,::1", show_default=True,
              envvar="CITELENS_FORWARDED_ALLOW_IPS", metavar="IPS",
              help="Proxies (comma-separated addresses or networks, * for any) whose X-Forwarded-Proto and"
                   " X-Forwarded-For are believed: the https scheme and the client address of the feed's and"
                   " badge page's absolute links and the access log. Env: CITELENS_FORWARDED_ALLOW_IPS.")
@click.option("--public-url", default="", envvar="CITELENS_PUBLIC_URL", metavar="URL",
              help="The address readers reach CiteLens at, e.g. https://library.example.edu (no path: that is"
                   " --root-path): the Atom feeds' and badge snippet's absolute links start with it instead of the"
                   " request's Host header. Env: CITELENS_PUBLIC_URL.")
def serve(db: str, host: str, port: int, workers: int, log_level: str, root_path: str,
          forwarded_allow_ips: str, public_url: str) -> None:
    """Serve report pages, search, reference check, badges and the JSON API.

    Configuration comes from the environment: CITELENS_API_TOKEN (bearer token for API writes),
    CITELENS_CURATORS ("alice=token1,bob=token2": curator sign-in for corrections),
    CITELENS_SECRET_KEY (signs session cookies; random per start when unset),
    CITELENS_SECURE_COOKIES=1 behind HTTPS, CITELENS_STATE_DIR (where the failed sign-ins that all workers share
    are counted; a private temporary folder when unset), CITELENS_MIN_CONFIDENCE (0-1 or auto: the tallies that scite's
    clients and the badge get count only labels at or above it). See docs/web.md.

    Example: citelens serve --db index.db --port 8000
    """
    import uvicorn

    from citelens.errors import StoreError
    from citelens.store import is_postgres_url, open_store
    from citelens.web.settings import Settings, normalize_public_url, normalize_root_path

    try:
        root_path = normalize_root_path(root_path)
    except ValueError as exc:
        click.echo(f"error: --root-path (CITELENS_ROOT_PATH): {exc}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        forwarded_allow_ips = check_forwarded_allow_ips(forwarded_allow_ips)
    except ValueError as exc:
        click.echo(f"error: --forwarded-allow-ips (CITELENS_FORWARDED_ALLOW_IPS): {exc}", err=True)
        sys.exit(EXIT_USAGE)
    try:
        public_url = normalize_public_url(public_url)
    except ValueError as exc:
        click.echo(f"error: --public-url (CITELENS_PUBLIC_URL): {exc}", err=True)
        sys.exit(EXIT_USAGE)
    # The app reads them from there (its session cookie's path, its links' origin), in every worker process too.
    os.environ["CITELENS_ROOT_PATH"] = root_path
    os.environ["CITELENS_PUBLIC_URL"] = public_url
    try:
        Settings.from_env()  # a bad setting stops here, with its name, not in every request
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if not is_postgres_url(db) and not Path(db).exists():
        click.echo(f"error: database {db} does not exist (run `citelens ingest` first)", err=True)
        sys.exit(EXIT_USAGE)
    try:
        store = open_store(db, readonly=True)  # fail fast with a clear message on a file that is not an index
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    older = _older_schema(store)
    store.close()
    cannot_listen = _cannot_listen(host, port)
    if cannot_listen:
        click.echo(f"error: could not listen on {host}:{port}: {cannot_listen}", err=True)
        sys.exit(EXIT_USAGE)
    shown = shown_index(db)  # never print a password
    if older:
        # The server only reads (it never migrates): say so, rather than serve an old index without a word.
        click.echo(f"note: {shown} has schema {older[0]}, made by an older CiteLens (this one writes {older[1]}); it"
                   " is served as it is, and the next `citelens ingest` into it upgrades it in place"
                   " (`citelens backup` first keeps a copy older versions can open)", err=True)
    under = f" (pages link under {root_path}/)" if root_path else ""
    under += f" (absolute links start {public_url}{root_path}/)" if public_url else ""
    click.echo(f"CiteLens serving {shown} on http://{host}:{port}/{under} (Ctrl-C to stop)", err=True)
    # The same for one process and for several; proxy headers are read from the proxies named only.
    served = {"host": host, "port": port, "log_level": log_level, "server_header": False, "root_path": root_path,
              "proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips}
    from uvicorn.config import STARTUP_FAILURE

    try:
        if workers == 1:
            from citelens.web.app import create_app

            uvicorn.run(create_app(db), **served)  # type: ignore[arg-type]
        else:
            # Several processes need an import string; the factory reads the path from the environment.
            import secrets

            os.environ["CITELENS_DB"] = db if is_postgres_url(db) else str(Path(db).resolve())
            if not os.environ.get("CITELENS_SECRET_KEY"):
                # One random key for all the workers: each made its own, so a curator's sign-in held only on
                # the worker that signed the cookie and the next request, on another, was signed out again.
                os.environ["CITELENS_SECRET_KEY"] = secrets.token_urlsafe(32)
            uvicorn.run("citelens.web.app:app_from_env", factory=True, workers=workers, **served)  # type: ignore[arg-type]
    except SystemExit as exc:
        # uvicorn ends with its own 3 when it cannot listen (it has logged why), which is "not found" here.
        if type(exc) is not SystemExit or exc.code != STARTUP_FAILURE:
            raise
        click.echo(f"error: could not listen on {host}:{port} (is the port in use? choose another --port)", err=True)
        sys.exit(EXIT_USAGE)


def check_forwarded_allow_ips(value: str) -> str:
    """``value`` with each entry checked: ``*``, an IP address or an IP network. uvicorn keeps anything else as a
    literal that no TCP client address ever equals (a host name, "10.0.0.1/8" with host bits set, a typo), so the
    proxy's X-Forwarded-Proto was silently not believed and feed and badge links came out http://."""
    import ipaddress

    entries = [e.strip() for e in value.split(",") if e.strip()]
    for entry in entries:
        if entry == "*":
            continue
        try:
            if "/" in entry:
                ipaddress.ip_network(entry)
            else:
                ipaddress.ip_address(entry)
        except ValueError:
            hint = ""
            if "/" in entry:
                with contextlib.suppress(ValueError):
                    hint = f" (the network is {ipaddress.ip_network(entry, strict=False)})"
            raise ValueError(f"{entry!r} is not an IP address or network{hint}; give the proxy's addresses, such as"
                             " 127.0.0.1,10.0.0.0/8, or * for any") from None
    return ",".join(entries)


def _cannot_listen(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, or None. Asked before "CiteLens serving … on http://…" is printed:
    that line came first, then uvicorn's own "ERROR: [Errno 98] …" and ours, so a user read that it served. The
    socket is bound as uvicorn binds it (SO_REUSEADDR) and closed at once; uvicorn's own failure is still handled
    (the port can be taken in between)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"no such interface or host name ({exc.strerror}); --host takes an address such as 127.0.0.1"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            hint = " (choose another --port)" if exc.errno in (errno.EADDRINUSE, errno.EACCES) else ""
            return f"{exc.strerror or exc}{hint}"
    return None


def _older_schema(store: Any) -> tuple[int, int] | None:
    """(the index's schema, this CiteLens's) when the index was made by an older CiteLens, else None."""
    from citelens.store.migrations import latest_version
    from citelens.store.sql import SQLStore

    if isinstance(store, SQLStore) and 0 < store.schema_version < latest_version(store.backend):
        return store.schema_version, latest_version(store.backend)
    return None

