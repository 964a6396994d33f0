"""Web server configuration, read from the environment so that secrets never appear on a command line."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from citelens.store.query import SEARCH_WINDOW


def _number(env: Mapping[str, str], name: str, kind: type[int] | type[float], lowest: int) -> float | None:
    """The setting ``name`` as a ``kind`` of at least ``lowest``; None when unset or blank. ValueError naming it
    otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a {'whole ' if kind is int else ''}number, not {raw!r}") from None
    if not lowest <= value < math.inf:  # also refuses nan
        raise ValueError(f"{name} must be {lowest} or more, not {raw!r}")
    return value


def _parse_curators(spec: str) -> dict[str, str]:
    """``"alice=s3cret,bob=other"`` → {"alice": "s3cret", "bob": "other"}; malformed items are ignored."""
    out: dict[str, str] = {}
    for item in spec.split(","):
        name, sep, secret = item.strip().partition("=")
        if sep and name.strip() and secret.strip():
            out[name.strip()] = secret.strip()
    return out


def normalize_root_path(raw: str) -> str:
    """A path prefix as ASGI wants it: "" or "/a/b" (a leading slash, none at the end). A full URL or a query is
    refused: the proxy's host is not the app's business, and links made from "https://…" would point nowhere."""
    value = raw.strip()
    if not value or value == "/":
        return ""
    if "://" in value or "?" in value or "#" in value or any(c.isspace() for c in value):
        raise ValueError(f"give the path alone, such as /citelens, not {raw!r}")
    return "/" + value.strip("/")


def normalize_public_url(raw: str) -> str:
    """The address readers reach the server at, as ``scheme://host[:port]`` ("" when unset): the origin of the
    absolute links in Atom feeds and the badge snippet. A path, query, user or fragment is refused: the prefix is
    ``--root-path``'s (links add it), and anything else would end up in every link a feed reader caches."""
    from urllib.parse import urlsplit

    from citelens.web.paths import valid_host

    value = raw.strip().rstrip("/")
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0-65535
    except ValueError:
        raise ValueError(f"give an address such as https://citelens.example.org, not {raw!r}") from None
    if parts.scheme not in ("http", "https") or not valid_host(parts.netloc):
        raise ValueError(f"give http:// or https:// and a host name, such as https://citelens.example.org,"
                         f" not {raw!r}")
    if parts.path or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError(f"give the address without a path (a prefix such as /citelens is --root-path), not"
                         f" {raw!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


@dataclass
class Settings:
    """Everything the server needs besides the database path.

    ``api_token``: bearer token for write endpoints (None disables API writes).
    ``curators``: name → sign-in token for the correction flow on the pages (empty disables sign-in).
    ``secret_key``: signs the session cookie; a random per-process key when unset, so sessions end on restart.
    """

    api_token: str | None = None
    curators: dict[str, str] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    secure_cookies: bool = False  # set when served over HTTPS (behind a proxy): cookies get the Secure flag
    # The path prefix a reverse proxy serves the app under (CITELENS_ROOT_PATH; `serve --root-path` sets it): the
    # session cookie is scoped to it, so other applications on the same host never receive it.
    root_path: str = ""
    # The origin readers reach the server at (CITELENS_PUBLIC_URL; `serve --public-url`): absolute links (Atom
    # feeds, the badge snippet) start with it, never with the request's Host header, which a client chooses. ""
    # keeps the Host header's (checked to be a host name).
    public_url: str = ""
    max_upload_bytes: int = 2 * 1024 * 1024
    max_check_references: int = 500
    max_batch_dois: int = 500
    page_size: int = 20
    max_page: int = 500  # deep OFFSET pagination is slow and nobody reads page 501
    author_works_per_page: int = 50  # an author page lists this many works a page (the figures cover all)
    # Index-wide figures (home page statistics, most cited works) are recounted at most this often during
    # an ingest: they scan every statement (seconds at millions); a work's own tallies show changes at once.
    stats_seconds: float = 10.0
    cache_seconds: float = 60.0  # how long a work's tallies are reused (0 = always recount)
    write_wait_seconds: float = 15.0  # a correction waits this long for a running ingest, then 503
    # The tallies that scite's clients, the badge and batch requests get when they name no min_confidence
    # (CITELENS_MIN_CONFIDENCE: a number 0-1 or "auto"); None counts every label. Pages have their own filter.
    tallies_min_confidence: float | None = None
    # A statement search ranks at most this many matches (CITELENS_SEARCH_WINDOW; 0: all of them), those of the
    # most recently indexed sentences, and says so: see citelens.store.query.SEARCH_WINDOW for why.
    search_window: int = SEARCH_WINDOW
    # Where the server keeps its own small state (CITELENS_STATE_DIR): the failed sign-ins that every process serving
    # the index shares (web.auth.SharedFailedSignIns). None: a private folder in the system's temporary directory.
    state_dir: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        s = cls(api_token=env.get("CITELENS_API_TOKEN") or None,
                curators=_parse_curators(env.get("CITELENS_CURATORS", "")),
                secure_cookies=env.get("CITELENS_SECURE_COOKIES", "") in ("1", "true", "yes"))
        try:
            s.root_path = normalize_root_path(env.get("CITELENS_ROOT_PATH", ""))
        except ValueError as exc:
            raise ValueError(f"CITELENS_ROOT_PATH: {exc}") from None
        try:
            s.public_url = normalize_public_url(env.get("CITELENS_PUBLIC_URL", ""))
        except ValueError as exc:
            raise ValueError(f"CITELENS_PUBLIC_URL: {exc}") from None
        if env.get("CITELENS_SECRET_KEY"):
            s.secret_key = env["CITELENS_SECRET_KEY"]
        # A value that is not a number in its range stops `citelens serve` with its name, as CITELENS_MIN_CONFIDENCE
        # does: one that was passed over ("10MB", "0.5" for a whole number, "-1") left the default in force unsaid.
        if (upload := _number(env, "CITELENS_MAX_UPLOAD_BYTES", int, 1)) is not None:
            s.max_upload_bytes = int(upload)
        if (stats := _number(env, "CITELENS_STATS_SECONDS", float, 0)) is not None:
            s.stats_seconds = stats
        if (cache := _number(env, "CITELENS_CACHE_SECONDS", float, 0)) is not None:
            s.cache_seconds = cache
        if (refs := _number(env, "CITELENS_MAX_CHECK_REFERENCES", int, 1)) is not None:
            s.max_check_references = int(refs)
        if (window := _number(env, "CITELENS_SEARCH_WINDOW", int, 0)) is not None:
            s.search_window = int(window)
        if env.get("CITELENS_STATE_DIR", "").strip():
            s.state_dir = usable_state_dir(env["CITELENS_STATE_DIR"].strip())
        if env.get("CITELENS_MIN_CONFIDENCE", "").strip():
            from citelens.stance import resolve_min_confidence

            try:
                s.tallies_min_confidence = resolve_min_confidence(env["CITELENS_MIN_CONFIDENCE"])
            except ValueError as exc:
                raise ValueError(f"CITELENS_MIN_CONFIDENCE: {exc}") from None
        return s


def usable_state_dir(raw: str) -> str:
    """CITELENS_STATE_DIR made (with its parents) and checked writable; ValueError naming it otherwise. A folder
    the server cannot write would leave each process counting failed sign-ins alone, unsaid: better to stop."""
    path = os.path.abspath(os.path.expanduser(raw))
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"CITELENS_STATE_DIR: cannot make the folder {raw!r} ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"CITELENS_STATE_DIR: the folder {raw!r} is not writable by this user")
    return path
