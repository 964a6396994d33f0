"""Debian's headless Chromium, driven by Playwright: where it is, how it starts, and whether it can (tests only).
The `browser` and `new_page` fixtures that use it are in conftest.py."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 # The test servers are on loopback, so a page of another origin embedding a badge counts as a
                 # "local network" request, which Chromium blocks unless the user allows it; a real site's
                 # embedding of a public CiteLens host never meets that check.
                 "--disable-features=LocalNetworkAccessChecks"]


def why_no_browser() -> str:
    """Why no browser test can run here ("" when Playwright and Debian's chromium are both present). A browser
    test module skips as a whole with it, before it starts any server."""
    try:
        import playwright.sync_api  # noqa: F401 - only whether it imports
    except ImportError as exc:
        return f"could not import 'playwright.sync_api': {exc}"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed"
    return ""
