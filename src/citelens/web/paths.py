"""The path prefix a server is mounted under (behind a reverse proxy at ``https://host/citelens/``).

ASGI carries the prefix as ``root_path`` (uvicorn's ``--root-path``, which ``citelens serve --root-path`` sets), and
uvicorn puts it in front of ``path`` as the ASGI spec asks. Routing strips it again; everything else that reads a
path (middleware, error handlers) reads :func:`route_path`, and everything that writes one (links, redirects,
``Link`` headers, the API's ``next``/``prev``) starts it with :func:`prefix`, so the same app serves at ``/`` and
under any prefix.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

# A DNS host name (letters, digits, hyphens; underscores as container and intranet names have them) or IPv4 address.
_HOST_NAME = re.compile(r"(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                        r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?")


def prefix(scope: Mapping[str, Any]) -> str:
    """The app's root path without a trailing slash ("" at the root of the host): put it before an absolute path."""
    root = scope.get("app_root_path", scope.get("root_path", "")) or ""
    return str(root).rstrip("/")


def route_path(scope: Mapping[str, Any]) -> str:
    """The request's path inside the app (the prefix taken off), as the routes see it: "/api/health" whether the
    server answers at "/" or under "/citelens". A path that does not start with the prefix is taken as it is (a
    proxy that already stripped it, or a test client that never added it)."""
    path: str = scope.get("path", "")
    root = prefix(scope)
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root):] or "/"
    return path


def valid_host(value: str) -> bool:
    """Whether ``value`` is ``host[:port]`` as a Host header must be (RFC 9110 §7.2): a host name, an IPv4 address
    or a bracketed IPv6 address, and a port 0-65535. Anything else (a slash, quotes, angle brackets, spaces, a
    user@) would put markup or another address into the absolute links built from it."""
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return False
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        port = rest[1:] if rest else None
    else:
        host, colon, after = value.partition(":")
        if not _HOST_NAME.fullmatch(host):
            return False
        port = after if colon else None
    return port is None or (port.isascii() and port.isdigit() and len(port) <= 5 and int(port) <= 65535)
