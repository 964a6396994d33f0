"""Printing untrusted text (file names, titles, error messages) on a terminal.

rich's ``escape`` neutralises its own markup but passes control characters through, so a file named
``"\\x1b]2;pwned\\x07.xml"`` could retitle the window, clear the screen or forge output lines. ``safe`` shows
every control character (C0, DEL, C1 — ``\\x9b`` is a one-byte CSI — and the bidirectional overrides that
reorder what is shown) as a visible ``\\xNN`` / ``\\uNNNN`` escape, then escapes rich markup.
"""

from __future__ import annotations

import re

from rich.markup import escape

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _show(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def safe(text: str) -> str:
    """``text`` ready for ``Console.print``: control characters made visible, rich markup escaped."""
    return escape(_UNSAFE.sub(_show, text))


def clip(text: str | None, most: int) -> str:
    """``text`` in at most ``most`` characters, ending in "…" when cut (a title cut mid-word read as whole). Clip
    before ``safe``: the escapes it adds are not the reader's characters."""
    text = text or ""
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"
