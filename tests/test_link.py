"""The link stage: one statement per (callout, cited reference), with its sentence and neighbours."""

from __future__ import annotations

from citelens.formats.jats import parse_jats
from citelens.statements import build_statements
from citelens.statements.segment import MAX_SENTENCE_CHARS


def test_a_paragraph_without_full_stops_gives_statements_of_bounded_sentences() -> None:
    # 3,000 callouts in one run-on "sentence": each statement carried all of it (~180 kB), so classifying and
    # storing them cost n²; each now has a piece of at most MAX_SENTENCE_CHARS, its callout whole inside it.
    refs = "".join(f'<ref id="r{i}"><mixed-citation>A{i} (2001) T{i}.</mixed-citation></ref>' for i in range(50))
    para = "".join(f'result {i} <xref ref-type="bibr" rid="r{i % 50}">[{i % 50}]</xref>, ' for i in range(3000))
    xml = f'<article><body><p>{para}</p></body><back><ref-list>{refs}</ref-list></back></article>'.encode()
    doc = build_statements(parse_jats(xml, "run-on.xml"))
    assert len(doc.statements) == 3000
    for st in doc.statements:
        assert len(st.sentence) <= MAX_SENTENCE_CHARS and len(st.before) <= MAX_SENTENCE_CHARS
        assert len(st.after) <= MAX_SENTENCE_CHARS
        assert st.sentence[st.callout_start:st.callout_end] == st.callout_text
        assert st.callout_text == f"[{st.reference_key[1:]}]"
    assert len({(st.paragraph_index, st.sentence_index) for st in doc.statements}) > 1
    first = doc.statements[0]
    assert first.sentence.startswith("result 0 [0]") and first.before == "" and first.after.startswith("result ")
