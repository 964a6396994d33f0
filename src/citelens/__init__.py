"""CiteLens: an open, self-hostable smart citation index.

The public API: :class:`Document` and its parts, the pipeline stages, the store, and the error hierarchy.
"""

from __future__ import annotations

__version__ = "0.1.0"

from citelens.document import (  # noqa: E402
    SECTIONS,
    STANCES,
    Affiliation,
    Author,
    Callout,
    CitationStatement,
    Document,
    Paragraph,
    Reference,
    RelatedArticle,
)
from citelens.errors import (  # noqa: E402
    CiteLensError,
    HostileInputError,
    InputError,
    InputTooLargeError,
    MalformedInputError,
    ModelError,
    NotFoundError,
    StoreError,
    UnsupportedFormatError,
)

__all__ = [
    "__version__", "SECTIONS", "STANCES", "Affiliation", "Author", "Callout", "CitationStatement", "Document",
    "Paragraph", "Reference", "RelatedArticle", "CiteLensError", "HostileInputError", "InputError",
    "InputTooLargeError", "MalformedInputError", "ModelError", "NotFoundError", "StoreError",
    "UnsupportedFormatError",
]
