"""Exceptions users can catch. Everything CiteLens raises on purpose derives from :class:`CiteLensError`."""

from __future__ import annotations


class CiteLensError(Exception):
    """Base class for all CiteLens errors."""


class InputError(CiteLensError):
    """An input file could not be read as an article. Names the file and the problem."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class UnsupportedFormatError(InputError):
    """The file is not in a format CiteLens ingests."""


class MalformedInputError(InputError):
    """The file claims a supported format but is broken (bad XML, truncated PDF, …)."""


class HostileInputError(InputError):
    """The file tries something we refuse: entity expansion, external entities, oversized content."""


class InputTooLargeError(HostileInputError):
    """The file exceeds a configured size limit."""


class StoreError(CiteLensError):
    """The database could not be opened or written."""


class NotFoundError(CiteLensError):
    """A work, DOI or statement asked for is not in the index."""


class ModelError(CiteLensError):
    """A packaged model could not be loaded."""
