"""The journal-name gazetteer of the reference tagger (``citelens.references.journals``, round 9): the list,
the leftmost-longest matching, the token features, the list's builder and a model trained with them."""

from __future__ import annotations

import gzip
import random
import sys
from pathlib import Path

import pytest

from citelens.references import bilstm
from citelens.references import parser as P
from citelens.references.crf_features import featurize, normalise_spacing, tokenize
from citelens.references.journals import (
    MAX_WORDS,
    add_names,
    build_trie,
    journal_spans,
    load_trie,
    names_by_source,
    names_text,
    normalise_name,
    trie_from_text,
)

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _words(text: str) -> list[str]:
    return ["and" if t.text == "&" else t.text.lower() for t in tokenize(text)]


def test_names_are_normalised_for_matching() -> None:
    assert normalise_name("J. Biol. Chem.") == ("j", "biol", "chem")
    assert normalise_name("The Plant Cell") == ("plant", "cell")
    assert normalise_name("Plant, Cell & Environment") == ("plant", "cell", "and", "environment")
    assert normalise_name("Proc. Natl. Acad. Sci. U.S.A.") == ("proc", "natl", "acad", "sci", "u", "s", "a")
    assert normalise_name(" ,. ") == ()


def test_matching_is_leftmost_longest_and_stops_at_field_punctuation() -> None:
    trie = build_trie(
        [("plant", "cell"), ("plant", "cell", "environ"), ("cell",), ("j", "biol", "chem"), ("nature",)]
    )
    # Abbreviation dots are inside a name; the longer of two names that start at one word wins.
    words = _words("Roots. Plant Cell Environ. 2003; J. Biol. Chem. 5")
    spans = journal_spans(words, trie)
    assert [" ".join(w for w in words[a : b + 1] if w != ".") for a, b in spans] == [
        "plant cell environ",
        "j biol chem",
    ]
    # A comma, colon or bracket ends a name: "Plant, Cell" is two fields, not the journal "Plant Cell".
    words = _words("Plant, Cell (Nature)")
    assert [words[a : b + 1] for a, b in journal_spans(words, trie)] == [["cell"], ["nature"]]
    # A name does not end on the transparent mark after its last word, and a dead end falls back.
    words = _words("J. Biol. Methods")
    assert journal_spans(words, trie) == []
    assert journal_spans([], trie) == []


def test_packaged_list_is_small_normalised_and_holds_common_journals() -> None:
    path = Path(str(P.model_path())).with_name("journals.txt.gz")
    assert path.stat().st_size < 1e6  # the wheel's limit is 20 MB for all models; this stays a few per cent
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert lines == sorted(set(lines)) and len(lines) > 1000
    assert all(
        normalise_name(line) == tuple(line.split()) and len(line.split()) <= MAX_WORDS for line in lines
    )
    trie = load_trie()
    for name in ("J. Biol. Chem", "Plant Physiol", "PLoS ONE", "Proc Natl Acad Sci U S A"):
        words = _words(name)
        assert journal_spans(words, trie) == [(0, len(words) - 1)], name


def test_featurize_marks_tokens_of_known_names_only_when_asked() -> None:
    trie = build_trie([("j", "biol", "chem"), ("nature",)])
    text, _ = normalise_spacing("Smith J. A study. J. Biol. Chem. 2003;12:1-9. Nature")
    toks = tokenize(text)
    with_gz = featurize(text, toks, neighbours=False, journals=trie)
    marked = [(t.text, f["gz"], f["gzn"]) for t, f in zip(toks, with_gz, strict=True) if "gz" in f]
    assert marked == [
        ("J", "B", "3"),
        (".", "I", "3"),
        ("Biol", "I", "3"),
        (".", "I", "3"),
        ("Chem", "E", "3"),
        ("Nature", "S", "1"),
    ]
    # Without a trie (every model trained before round 9, the CRF): exactly the old features.
    assert not any("gz" in f for f in featurize(text, toks, neighbours=False))


def test_builder_takes_journal_sources_and_the_front_titles(mini_jats: bytes) -> None:
    sys.path.insert(0, str(SCRIPTS))
    from build_journal_gazetteer import article_names

    names = article_names(mini_jats)
    assert ("journal", "of", "test", "biology") in names
    assert {("microbiology",), ("j", "bacteriol"), ("cell",), ("nature",), ("plos", "biol")} <= names
    assert article_names(b"<not xml") == set()


def test_builder_writes_names_of_two_or_more_training_articles(shared_data: Path, tmp_path: Path) -> None:
    # The real corpus: only training articles are read, and the written list is what the package ships.
    sys.path.insert(0, str(SCRIPTS))
    import build_journal_gazetteer as B

    from citelens.references.parser_jats import article_part

    tar = shared_data / "pmc-oa" / "pmc-oa.tar.gz"
    if not tar.is_file():
        pytest.skip("pmc-oa is not present")
    read: list[str] = []
    original = B.article_part

    def spy(article: str) -> str:
        read.append(article)
        return original(article)

    B.article_part = spy  # type: ignore[assignment]
    try:
        out = tmp_path / "journals.txt.gz"
        assert B.main(["--jats", str(tar), "--out", str(out)]) == 0
    finally:
        B.article_part = original  # type: ignore[assignment]
    assert {article_part(a) for a in read} == {"train", "dev", "test"}  # each is asked, then skipped
    packaged = Path(str(P.model_path())).with_name("journals.txt.gz")
    assert out.read_bytes() == packaged.read_bytes()  # reproducible, byte for byte


def _tiny_training(journal: str) -> tuple[str, list[dict[str, object]], dict[str, object]]:
    """A one-string training set for the trainer's smallest network: the string (authors, a title, ``journal``,
    a date), its labelled fields and the hyper-parameters."""
    pytest.importorskip("torch")
    sys.path.insert(0, str(SCRIPTS))
    from train_reference_tagger import DEFAULTS

    raw = f"Smith J, Jones A. A study of things. {journal}. 2003;12:1-9."
    fields: list[dict[str, object]] = [
        {"label": "author", "start": 0, "end": 16},
        {"label": "title", "start": 18, "end": 36},
        {"label": "title:j", "start": 37, "end": 37 + len(journal)},
        {"label": "date", "start": 39 + len(journal), "end": 43 + len(journal)},
    ]
    hp = {**DEFAULTS, "epochs": 1, "emb": 8, "hidden": 8, "minfreq": 1, "char_channels": 4, "char_minfreq": 1}
    return raw, fields, hp


def test_a_model_trained_with_the_gazetteer_gets_its_features_when_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, fields, hp = _tiny_training("J Biol Chem")
    from train_reference_tagger import train

    from citelens.references.parser_train import Example

    items = [(Example("f.xml", raw, fields), 1)] * 4
    random.seed(0)
    train(items, tmp_path / "gz.npz", {**hp, "gazetteer": 1})
    bilstm._load.cache_clear()
    assert bilstm.reads_journal_names(tmp_path / "gz.npz")
    assert not bilstm.reads_journal_names(P.model_path())  # the shipped model: no gazetteer work when parsing

    seen: list[bool] = []
    real = P.featurize

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("journals") is not None)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(P, "featurize", spy)
    try:
        P.use_model(tmp_path / "gz.npz")
        assert P.parse_reference_strings([raw])[0] is not None
        P.use_model(None)
        P.parse_reference_strings([raw])
    finally:
        P.use_model(None)
    assert seen == [True, False]


# Round 10: the training files' own journal names, with a per-file leave-out, and a model that carries its list.


def test_a_name_only_its_own_source_gives_is_left_out_for_that_source() -> None:
    trie = build_trie([("nature",)])
    add_names(trie, [("phys", "rev", "d"), ("jhep",)], "a.xml")
    add_names(trie, [("jhep",), ("nature",)], "b.xml")
    words = _words("Nature 5, Phys. Rev. D 12, JHEP 05")
    found = {tuple(w for w in words[a : b + 1] if w != ".") for a, b in journal_spans(words, trie)}
    assert found == {("nature",), ("phys", "rev", "d"), ("jhep",)}
    # a.xml's strings: "Phys Rev D" only a.xml gave; JHEP b.xml gave too; Nature is general (and b.xml's).
    left = journal_spans(words, trie, leave_out="a.xml")
    assert {tuple(w for w in words[a : b + 1] if w != ".") for a, b in left} == {("nature",), ("jhep",)}
    assert journal_spans(words, trie, leave_out="c.xml") == journal_spans(words, trie)
    # A longer name left out falls back to a shorter known one that starts at the same word.
    add_names(trie, [("phys", "rev")], "b.xml")
    assert (words.index("phys"), words.index("rev")) in journal_spans(words, trie, leave_out="a.xml")


def test_names_by_source_normalises_and_drops_names_without_a_letter() -> None:
    got = names_by_source([("a", "J. Biol. Chem."), ("a", "(2003)"), ("b", "The Plant Cell"), ("a", "J Biol Chem")])
    assert got == {"a": {("j", "biol", "chem")}, "b": {("plant", "cell")}}
    assert names_by_source([("a", " " + "word " * (MAX_WORDS + 1))]) == {}


def test_a_list_written_as_text_reads_back_as_general_names() -> None:
    trie = build_trie([("nature",), ("j", "biol", "chem")])
    add_names(trie, [("jhep",)], "a.xml")
    text = names_text(trie)
    assert text.splitlines() == ["j biol chem", "jhep", "nature"]
    served = trie_from_text(text)
    words = _words("JHEP 05")
    assert journal_spans(words, served, leave_out="a.xml") == [(0, 0)]  # general once carried by a model
    assert trie_from_text("") == {}


def test_labelled_journal_names_are_the_title_j_spans() -> None:
    from citelens.references.parser_train import Example, labelled_journal_names

    raw = "Smith J. A study. J Biol Chem. 2003."
    ex = Example("f.xml", raw, [{"label": "title", "start": 9, "end": 17}, {"label": "title:j", "start": 18, "end": 29}])
    assert labelled_journal_names([ex]) == [("f.xml", "J Biol Chem")]
    text, _ = normalise_spacing(raw)
    toks = tokenize(text)
    trie = add_names({}, [("j", "biol", "chem")], "f.xml")
    assert any("gz" in f for f in featurize(text, toks, neighbours=False, journals=trie))
    assert not any("gz" in f for f in featurize(text, toks, False, trie, journal_leave_out="f.xml"))
    feats, _ = ex.token_labels(trie, leave_out_own=True)
    assert not any("gz" in f for f in feats)
    feats, _ = ex.token_labels(trie)
    assert any("gz" in f for f in feats)


def test_training_list_holds_the_packaged_names_and_the_training_files_names(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPTS))
    from train_reference_tagger import training_journals

    from citelens.references.parser_train import Example

    packaged = tmp_path / "journals.txt.gz"
    with gzip.open(packaged, "wt", encoding="utf-8") as fh:
        fh.write("nature\nplant cell\n")
    raw = "Smith J. A study. Soft Matter 5, 1."
    ex = Example("f.xml", raw, [{"label": "title:j", "start": 18, "end": 29}])
    trie = training_journals([ex], packaged)
    assert names_text(trie).splitlines() == ["nature", "plant cell", "soft matter"]
    words = _words("Nature, Soft Matter")
    assert len(journal_spans(words, trie)) == 2
    assert len(journal_spans(words, trie, leave_out="f.xml")) == 1


def test_a_model_trained_with_the_training_files_names_carries_its_list(tmp_path: Path) -> None:
    raw, fields, hp = _tiny_training("Zqx Lettrs")
    from train_reference_tagger import train

    from citelens.references.parser_train import Example

    grobid = [Example("f.xml", raw, fields), Example("g.xml", raw, fields)]
    random.seed(0)
    train([(e, 2) for e in grobid], tmp_path / "gz2.npz", {**hp, "gazetteer": 2}, grobid_train=grobid)
    bilstm._load.cache_clear()
    trie = bilstm.journal_trie(tmp_path / "gz2.npz")
    assert trie is not None and journal_spans(_words("Zqx Lettrs"), trie) == [(0, 1)]
    assert len(names_text(trie).splitlines()) > 1000  # the packaged names too
    assert bilstm.journal_trie(P.model_path()) is None  # the shipped model reads no list
    P.use_model(tmp_path / "gz2.npz")
    try:
        assert P.parse_reference_strings([raw])[0] is not None
    finally:
        P.use_model(None)
