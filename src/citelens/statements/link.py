"""Link stage: paragraphs + callouts → one :class:`CitationStatement` per (callout, cited reference)."""

from __future__ import annotations

from citelens.document import CitationStatement, Document, Paragraph
from citelens.statements.segment import bounded_spans, split_sentences


def build_statements(doc: Document) -> Document:
    """Cut every paragraph with callouts into sentences and emit a statement per cited reference.

    Sentence spans come from the source when it marks them (TEI ``<s>``), else from
    :func:`~citelens.statements.segment.split_sentences`. ``before``/``after`` are the neighbouring
    sentences of the same paragraph. Replaces ``doc.statements``.
    """
    statements: list[CitationStatement] = []
    for p_index, para in enumerate(doc.paragraphs):
        if not para.callouts:
            continue
        statements.extend(_paragraph_statements(para, p_index))
    doc.statements = statements
    return doc


def _paragraph_statements(para: Paragraph, p_index: int) -> list[CitationStatement]:
    text = para.text
    protected = [(c.start, c.end) for c in para.callouts]
    spans = bounded_spans(text, para.sentence_spans or split_sentences(text, protected), protected)
    if not spans:
        return []
    out: list[CitationStatement] = []
    si = 0
    for callout in sorted(para.callouts, key=lambda c: c.start):
        while si < len(spans) - 1 and spans[si][1] <= callout.start:
            si += 1
        s, e = spans[si]
        sentence = text[s:e]
        # Callouts are never cut by the splitter, but clamp anyway for sources that mark their own spans.
        c_start = max(callout.start, s) - s
        c_end = min(callout.end, e) - s
        before = text[spans[si - 1][0] : spans[si - 1][1]] if si > 0 else ""
        after = text[spans[si + 1][0] : spans[si + 1][1]] if si + 1 < len(spans) else ""
        for key in callout.reference_keys:
            out.append(
                CitationStatement(
                    reference_key=key,
                    sentence=sentence,
                    callout_start=c_start,
                    callout_end=c_end,
                    callout_text=callout.text,
                    before=before,
                    after=after,
                    section=para.section,
                    section_title=para.section_title,
                    paragraph_index=p_index,
                    sentence_index=si,
                    inferred=key in callout.inferred_keys,
                )
            )
    return out
