"""CiteLens: an open, self-hostable smart citation index.

The public API: :class:`Document` and its parts, the pipeline stages (parse → locate → segment/link → resolve →
classify → store, each one function over a ``Document``), the store, ingest, and the error hierarchy.

The stages, the store and ingest are imported on first use (PEP 562): they pull in numpy, the stance models'
runtime and the database drivers (≈ 0.45 s), which ``import citelens`` for a ``Document`` or an exception
must not pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and IDEs
    from citelens.formats import parse_document
    from citelens.pipeline import IngestSummary, Pipeline, ingest_paths, process_document
    from citelens.places.stage import locate_authors
    from citelens.references.resolve import flag_self_citations, resolve_references
    from citelens.stance import (
        StanceClassifier,
        StanceInput,
        StancePrediction,
        available_classifiers,
        classify_statements,
        get_classifier,
        register_classifier,
    )
    from citelens.statements import build_statements
    from citelens.store import Store, open_store

# name -> module that defines it, imported on first access.
_LAZY = {
    "parse_document": "citelens.formats",
    "locate_authors": "citelens.places.stage",
    "build_statements": "citelens.statements",
    "resolve_references": "citelens.references.resolve",
    "flag_self_citations": "citelens.references.resolve",
    "classify_statements": "citelens.stance",
    "get_classifier": "citelens.stance",
    "register_classifier": "citelens.stance",
    "available_classifiers": "citelens.stance",
    "StanceClassifier": "citelens.stance",
    "StanceInput": "citelens.stance",
    "StancePrediction": "citelens.stance",
    "open_store": "citelens.store",
    "Store": "citelens.store",
    "Pipeline": "citelens.pipeline",
    "IngestSummary": "citelens.pipeline",
    "ingest_paths": "citelens.pipeline",
    "process_document": "citelens.pipeline",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'citelens' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__", "SECTIONS", "STANCES", "Affiliation", "Author", "Callout", "CitationStatement", "Document",
    "Paragraph", "Reference", "RelatedArticle", "CiteLensError", "HostileInputError", "InputError",
    "InputTooLargeError", "MalformedInputError", "ModelError", "NotFoundError", "StoreError",
    "UnsupportedFormatError",
    # stages, store and ingest (lazy): the names of _LAZY, spelt out because ruff and type checkers read
    # __all__ as a literal (``*_LAZY`` here makes the TYPE_CHECKING imports "unused")
    "parse_document", "locate_authors", "build_statements", "resolve_references", "flag_self_citations",
    "classify_statements", "get_classifier", "register_classifier", "available_classifiers", "StanceClassifier",
    "StanceInput", "StancePrediction", "open_store", "Store", "Pipeline", "IngestSummary", "ingest_paths",
    "process_document",
]
