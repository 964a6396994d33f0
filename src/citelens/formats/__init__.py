"""Parse stage: bytes of one input file → :class:`~citelens.document.Document`.

``parse_document(data, source)`` detects the format and dispatches to one parser per format
(``jats``, ``tei``, ``pdf``, …). Every parser raises :class:`~citelens.errors.InputError` subclasses that
name the file and the problem.
"""
