"""The path prefix a server is mounted under (behind a reverse proxy at ``https://host/citelens/``).

ASGI carries the prefix as ``root_path`` (uvicorn's ``--root-path``, which ``citelens serve --root-path`` sets), and
uvicorn puts it in front of ``path`` as the ASGI spec asks. Routing strips it again; everything else that reads a
path (middleware, error handlers) reads :func:`route_path`, and everything that writes one (links, redirects,
``Link`` headers, the API's ``next``/``prev``) starts it with :func:`prefix`, so the same app serves at ``/`` and
under any prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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
