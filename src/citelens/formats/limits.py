"""Bounds every format reader applies to what a file may ask of the pipeline, whatever its size in bytes."""

from __future__ import annotations

from citelens.errors import InputTooLargeError

# References one document may hold. The longest lists seen are a few thousand (pmc-oa's longest: 652; large
# reviews reach 2-3,000). Each reference costs ~0.4 ms to parse from plain text and more to resolve and store, so
# a 50 MB file of 600,000 short untagged references kept one ingest worker busy for many minutes: refused instead.
MAX_REFERENCES = 20_000


def check_reference_count(source: str, count: int) -> None:
    """Raise :class:`InputTooLargeError` naming ``source`` when it lists more than :data:`MAX_REFERENCES`."""
    if count > MAX_REFERENCES:
        raise InputTooLargeError(source, f"{count:,} references; at most {MAX_REFERENCES:,} are read per document"
                                         " (a real reference list holds a few thousand at the most)")
