"""The demo shows the point: the bundled corpus has much-cited works, every example in the README, the
docs and the pages' placeholders exists in it, and the pages that lead a new user somewhere work."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import main
from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo-corpus"
DOI = re.compile(r"10\.\d{4,9}/[^\s\"'<>)`,\]]+")
# An example profile address (not a template such as /api/authors/{id}), and a ROR id given to the command.
PROFILE_PATH = re.compile(r"/api/(?:authors|institutions|journals)/[^\s?\"'<>)`{}]+")
INSTITUTION_COMMAND = re.compile(r"citelens institution (0[a-z0-9]{6}\d{2})\b")
# A profile command as the docs show it, up to what is not part of it ("[--json]", a "# comment", a backtick);
# the synopses' placeholders (QUERY, ROR|NAME) are upper case and left out.
PROFILE_COMMAND = re.compile(r"citelens (author|institution|journal) ((?:\"[^\"\n]+\"|[^\s`\[#|])[^`\[#\n]*)")
# Where examples live: what a new user reads or sees first.
EXAMPLE_FILES = ["README.md", "docs/web.md", "docs/cli.md", "src/citelens/web/templates/badge.html",
                 "src/citelens/web/templates/docs.html", "src/citelens/web/templates/search.html",
                 "src/citelens/web/api.py", "src/citelens/serialize.py"]
# Examples that show an editorial notice rather than citations.
NOTICE_EXAMPLES = {"10.1371/journal.pcbi.0030051", "10.1371/journal.pcbi.0030158"}


@pytest.fixture(scope="module")
def client(demo_db: Path) -> TestClient:
    with TestClient(create_app(demo_db, Settings(secret_key="k"))) as c:
        yield c


def example_dois() -> set[str]:
    found: set[str] = set()
    for name in EXAMPLE_FILES:
        for m in DOI.finditer((ROOT / name).read_text(encoding="utf-8")):
            found.add(m.group().rstrip(".:;").removesuffix("/sections").split("?")[0].lower())
    return found


def example_profile_paths() -> set[str]:
    found: set[str] = set()
    for name in EXAMPLE_FILES:
        text = (ROOT / name).read_text(encoding="utf-8")
        found.update(m.group().rstrip(".:;") for m in PROFILE_PATH.finditer(text))
        found.update(f"/api/institutions/{m.group(1)}" for m in INSTITUTION_COMMAND.finditer(text))
    return found


def test_every_example_profile_is_in_the_demo(client: TestClient) -> None:
    """The author, institution and journal the docs show exist in the demo index and have citations to show (the
    docs showed /api/institutions/03dbr7087, not in it, and /api/authors/12, all zeros)."""
    paths = example_profile_paths()
    assert {"/api/authors/109", "/api/institutions/041kmwe10", "/api/journals/1544-9173"} <= paths
    for path in sorted(paths):
        r = client.get(path)
        assert r.status_code == 200, f"example {path} is not in the demo index"
        assert r.json()["tallies"]["total"] >= 1, path
        if path.startswith("/api/authors/"):
            # Author ids follow the order of ingest: a fresh demo index always gives the same ones, and ingesting
            # the demo again into one keeps an author's id only when an ORCID matched it.
            assert r.json()["orcid"], path



def example_profile_commands() -> list[tuple[str, list[str]]]:
    """``(file, argv)`` for every ``citelens author|institution|journal ARG ...`` the README and the CLI reference
    show (synopses with an upper-case placeholder left out)."""
    found: list[tuple[str, list[str]]] = []
    for name in ("README.md", "docs/cli.md"):
        for m in PROFILE_COMMAND.finditer((ROOT / name).read_text(encoding="utf-8")):
            argv = [m.group(1), *shlex.split(m.group(2))]
            if not argv[1].startswith("-") and not argv[1].isupper():
                found.append((name, argv))
    return found


def test_every_example_profile_command_finds_something(demo_db: Path) -> None:
    """The author, institution and journal commands the README and docs/cli.md show find someone with citations
    on the demo index, on the page of works they ask for (docs/cli.md showed an ORCID and "Anna Smith", neither
    in it). Each runs as shown, on the demo database, with --json to read what it found."""
    commands = example_profile_commands()
    assert {argv[0] for _, argv in commands} == {"author", "institution", "journal"}, commands
    for name, argv in commands:
        args = [a for a in argv if a != "--json"]
        if "--db" in args:
            at = args.index("--db")
            del args[at:at + 2]
        r = CliRunner().invoke(main, [*args, "--db", str(demo_db), "--json"])
        shown = f"{name}: citelens {shlex.join(argv)}"
        assert r.exit_code == 0, f"{shown} -> exit {r.exit_code}: {r.output[:300]}"
        body = json.loads(r.output)
        profiles = body[{"author": "authors", "institution": "institutions", "journal": "journals"}[argv[0]]]
        assert profiles and profiles[0]["tallies"]["total"] >= 1, shown
        if argv[0] == "author":
            assert profiles[0]["works"], f"{shown} lists no works"  # e.g. a --page past the last one
            assert profiles[0]["orcid"], shown  # the example with an ORCID keeps its id over a re-ingest


@pytest.mark.parametrize("finder", ["authors", "institutions", "journals"])
def test_api_finder_examples_find_something(client: TestClient, finder: str) -> None:
    """The examples /docs fills in for GET /api/authors?q=, /api/institutions?q= and /api/journals?q= (its "Try it
    out") find something on the demo index."""
    parameters = client.get("/openapi.json").json()["paths"][f"/api/{finder}"]["get"]["parameters"]
    (q,) = [p for p in parameters if p["name"] == "q"]
    for example in q["schema"]["examples"]:
        assert client.get(f"/api/{finder}", params={"q": example}).json()[finder], example

def test_most_cited_works_have_many_citing_papers(demo_db: Path) -> None:
    store = open_store(demo_db, readonly=True)
    top = store.most_cited_works(limit=8)
    store.close()
    papers = [w.tallies.citing_publications for w in top]
    assert papers[0] >= 30 and all(n >= 10 for n in papers), papers


def test_demo_corpus_is_small_and_licensed() -> None:
    size = sum(f.stat().st_size for f in DEMO.rglob("*") if f.is_file())
    assert size <= 10 * 1024 * 1024
    rows = (DEMO / "pmc-optogenetics.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) == 56 and Counter(r.split("\t")[4] for r in rows) == {"CC BY": 56}
    # The articles added for real supporting/contrasting statements and a correction: each listed with its licence.
    rows = (DEMO / "pmc-stance-and-notices.tsv").read_text(encoding="utf-8").splitlines()[1:]
    listed = {r.split("\t")[0] for r in rows}
    added = DEMO / "pmc-stance-and-notices"
    assert listed == {f.stem for f in added.glob("*.xml")} and len(listed) == 11
    assert Counter(r.split("\t")[4] for r in rows) == {"CC BY": 11}
    for pmcid in listed:
        assert "creativecommons.org/licenses/by/4.0" in (added / f"{pmcid}.xml").read_text(encoding="utf-8")


def test_every_example_doi_is_in_the_demo(client: TestClient) -> None:
    dois = example_dois()
    assert "10.1038/nn1525" in dois
    for doi in sorted(dois):
        r = client.get(f"/api/papers/{doi}")
        assert r.status_code == 200, f"example DOI {doi} is not in the demo index"
        if doi not in NOTICE_EXAMPLES:
            assert client.get(f"/api/tallies/{doi}").json()["citingPublications"] >= 1, doi


def test_example_queries_find_something(client: TestClient) -> None:
    assert client.get("/api/search", params={"q": "channelrhodopsin"}).json()["total"] > 0
    # docs/cli.md's example of a word with a superscript citation number glued to it ("stimuli48,49.")
    assert client.get("/api/search", params={"q": "lower contrast stimuli"}).json()["total"] > 0
    assert client.get("/api/works", params={"q": "optogenetics"}).json()["works"]
    r = client.get("/api/search/match_reference", params={
        "title": "Millisecond-timescale genetically targeted optical control of neural activity",
        "first_author": "Boyden"})
    assert r.json()["matched"] and r.json()["doi"] == "10.1038/nn1525"


def test_home_page_leads_somewhere(client: TestClient) -> None:
    html = client.get("/").text
    assert "Most cited works" in html and "/reports/10.1038/nn1525" in html
    assert "Recently added articles" in html
    assert "how-labels-are-made" in html


def test_report_references_tab(client: TestClient) -> None:
    html = client.get("/reports/10.1038/nn1525").text
    # A work known only as cited: its tab said "References (0)", as if the paper cited nothing.
    assert 'id="tab-references">References (no full text here)</a>' in html
    store = open_store(client.app.state.context.store_path, readonly=True)  # type: ignore[attr-defined]
    doc = store.recent_documents(limit=1)[0]
    store.close()
    html = client.get(f"/reports/{doc.doi or doc.work_id}?tab=references").text
    assert 'id="references"' in html and f'id="tab-references">References ({doc.references})</a>' in html
    assert html.count('class="card ref"') == doc.references
    assert "citing publications" in html  # resolved references carry their tallies


def test_search_groups_a_sentence_citing_several_works(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "channelrhodopsin"}).json()
    groups = body["grouped"]
    assert any(len(g["statements"]) > 1 for g in groups), "the demo has sentences citing several works"
    assert len({g["sentence"] for g in groups}) == len(groups)  # each sentence once
    assert sum(len(g["statements"]) for g in groups) == len(body["results"])
    html = client.get("/search", params={"q": "channelrhodopsin"}).text
    assert html.count('class="card stmt group"') == len(groups)


def test_plain_words_for_evidence_and_resolution(client: TestClient) -> None:
    html = client.get("/reports/10.1038/nn1525?type=contrasting").text + client.get("/statements/1").text
    assert "resolved by: new" not in html and "fuzzy (" not in html
    assert "matched by" in html or "first seen here" in html
    page = client.get("/how-labels-are-made").text
    assert 'href="/model-card"' in page
    assert "precision" in page  # quoted from the model card, not written down twice
    assert client.get("/model-card").status_code == 200


@pytest.mark.parametrize("stats_seconds", [10.0, 0.0])
def test_ingest_is_visible_at_once(tmp_path: Path, stats_seconds: float) -> None:
    """A work's tallies change with the next request after an ingest (default settings); the index-wide
    figures are recounted at most every ``stats_seconds`` (0: at once too)."""
    db = tmp_path / "live.db"
    store = open_store(db)
    ingest_paths([DEMO / "journal.pbio.1001289.xml"], store, classifier="cues")
    store.close()
    with TestClient(create_app(db, Settings(secret_key="k", stats_seconds=stats_seconds))) as c:
        before = c.get("/api/health").json()["documents"]
        home_before = c.get("/").text
        assert c.get("/api/tallies/10.1038/nn1525").status_code == 404
        store = open_store(db)
        ingest_paths([DEMO / "pmc-optogenetics.tar.gz"], store, classifier="cues")
        store.close()
        assert c.get("/api/tallies/10.1038/nn1525").json()["citingPublications"] >= 30
        if not stats_seconds:
            assert c.get("/api/health").json()["documents"] == before + 56
            assert c.get("/").text != home_before


def test_search_pages_never_split_a_sentence(client: TestClient) -> None:
    """Walking every page of a search shows each citing sentence once, with all the works it cites."""
    total = client.get("/api/search", params={"q": "channelrhodopsin"}).json()["total"]
    assert total > 40  # several pages
    seen: dict[str, int] = {}
    for pg in range(1, -(-total // 20) + 1):
        html = client.get("/search", params={"q": "channelrhodopsin", "page": pg}).text
        for card in html.split('class="card stmt group"')[1:]:
            m = re.search(r'<h3 class="citing">(.*?)</h3>.*?<blockquote class="context"><p>(.*?)</p>', card, re.S)
            assert m is not None
            shown = m.group(1) + m.group(2)
            assert shown not in seen, f"sentence on two pages: {m.group(2)[:60]}"
            seen[shown] = card.count('<li class="stmt-')
    assert sum(seen.values()) == total and max(seen.values()) > 1


def help_examples() -> list[tuple[tuple[str, ...], str]]:
    """``(command, example)`` for every "Example: citelens …" line of every command's --help."""
    import click

    def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = []
        for name, command in sorted(group.commands.items()):
            found.append((*prefix, name))
            if isinstance(command, click.Group):
                found.extend(commands(command, (*prefix, name)))
        return found

    examples = []
    for argv in commands(main):
        text = CliRunner().invoke(main, [*argv, "--help"], terminal_width=1000).output
        examples.extend((argv, m.group(1)) for m in re.finditer(r"Example: citelens ([^\n]+)", text))
    return examples


@pytest.fixture(scope="module")
def default_model_demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo index as `make demo` builds it: the default stance model, whose labels the examples show."""
    db = tmp_path_factory.mktemp("demo-default") / "demo.db"
    store = open_store(db)
    summary = ingest_paths([DEMO], store)
    store.close()
    assert summary.stored == 87 and not summary.failed, summary.failed
    return db


def test_every_help_example_can_be_copied_and_shows_something_on_the_demo(
        default_model_demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each --help ends with "Example: citelens …" to copy. `flows --help` showed `[--json | --csv]` in its
    example, which a shell runs as a pipe into a command named `--csv`, and `report --help` showed
    `report 10.1038/nn1525 --type contrasting --min-confidence auto`, which on the demo lists nothing (that work
    has no contrasting statement). Every example is plain shell words, and those that read an index find
    something in the demo."""
    examples = help_examples()
    assert len(examples) >= 15, examples
    monkeypatch.chdir(tmp_path)  # the examples' output files (net.graphml, statements.csv) land here
    ran = set()
    for argv, example in examples:
        words = shlex.split(example.split(" > ")[0])
        assert not any(w.startswith("[") or w in ("|", "||") for w in words), f"not a command to copy: {example}"
        if "index.db" not in words or argv[0] in ("ingest", "check", "serve", "collection", "correct"):
            continue  # they write an index, read a file the user has (a manuscript, a list), or serve until stopped
        words = [str(default_model_demo_db) if w == "index.db" else w for w in words]
        as_csv = argv[0] != "export" and bool({"--csv", "--excel"} & set(words))
        if argv[0] != "export" and "--json" not in words and not as_csv:
            words.append("--json")
        result = CliRunner().invoke(main, words)
        assert result.exit_code == 0, f"citelens {example} -> exit {result.exit_code}: {result.output[-300:]}"
        ran.add(argv[0])
        if as_csv:  # a spreadsheet on stdout: a heading and rows
            text = result.stdout_bytes.decode("utf-8")
            assert text.startswith("\ufeff") == ("--excel" in words), example
            assert len(text.splitlines()) > 1, f"citelens {example} shows nothing on the demo"
            continue
        if argv[0] == "export":
            assert len((tmp_path / "statements.csv").read_text(encoding="utf-8").splitlines()) > 1000
            continue
        body = json.loads(result.stdout)
        found = {"report": lambda b: b["statements"], "search": lambda b: b["results"],
                 "stats": lambda b: b["statements"], "flows": lambda b: b["n_statements"],
                 "author": lambda b: b["authors"], "institution": lambda b: b["institutions"],
                 "journal": lambda b: b["journals"], "backup": lambda b: b["statements"],
                 "top": lambda b: b["works"]}[argv[0]](body)
        assert found, f"citelens {example} shows nothing on the demo"
    assert ran == {"report", "search", "stats", "export", "flows", "author", "institution", "journal", "backup",
                   "top"}, ran
    assert (tmp_path / "net.graphml").stat().st_size > 0


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_names_a_python_too_old_before_making_a_virtualenv(tmp_path: Path) -> None:
    """`make demo` (the README's first command) with a python3 older than 3.11 made .venv, then pip refused the
    package ("requires a different Python"), leaving a virtualenv of the wrong Python behind. It stops first,
    saying which Python it found and how to name another, and makes nothing."""
    old = tmp_path / "python3"
    old.write_text('#!/bin/sh\n[ "$1" = "-V" ] && { echo "Python 3.10.12"; exit 0; }\nexit 1\n')
    old.chmod(0o755)
    venv = tmp_path / "venv"
    for python, shown in ((old, "Python 3.10.12"), (tmp_path / "no-such-python", "not found")):
        result = subprocess.run(["make", "-s", "-C", str(ROOT), "demo", f"PYTHON={python}", f"VENV={venv}",
                                 f"DEMO_DB={tmp_path / 'demo.db'}"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0, result.stdout
        assert f"needs Python 3.11 or newer; PYTHON={python} is {shown}." in result.stderr, result.stderr
        assert "make demo PYTHON=python3.12" in result.stderr
        assert not venv.exists() and not (tmp_path / "demo.db").exists()


def stance_cards(html: str) -> dict[str, list[str]]:
    """The statement cards of a report page, by the label they show, as plain text."""
    cards: dict[str, list[str]] = {}
    for m in re.finditer(r'<article class="card stmt stmt-(\w+)"(.*?)</article>', html, re.S):
        cards.setdefault(m.group(1), []).append(" ".join(re.sub(r"<[^>]+>", " ", m.group(2)).split()))
    return cards


def test_much_cited_works_show_supporting_and_contrasting_cards(default_model_demo_db: Path) -> None:
    """With the default model, the demo's report pages showed almost only "mentioning": its optogenetics papers cite
    their tools (10.1038/nn1525, the most cited, has no supporting or contrasting statement in any article of the
    shared data). Articles whose own results agree or disagree with much-cited works were added
    (data/demo-corpus/README.md); here the labels the model gives them, which are deterministic, are checked."""
    store = open_store(default_model_demo_db, readonly=True)
    top = store.most_cited_works(limit=8)
    store.close()
    assert top[0].doi == "10.1038/nn1525" and top[0].tallies.citing_publications == 34
    with TestClient(create_app(default_model_demo_db, Settings(secret_key="k"))) as c:
        supporting = stance_cards(c.get("/reports/10.1038/nmeth.1808").text)
        contrasting = stance_cards(c.get("/reports/10.1016/j.celrep.2015.06.036").text)
        both = stance_cards(c.get("/reports/10.1016/j.neuroimage.2012.10.074").text)
        tallies = {d: c.get(f"/api/tallies/{d}").json() for d in ("10.1038/nmeth.1808", "10.1016/j.celrep.2015.06.036")}
    assert tallies["10.1038/nmeth.1808"]["citingPublications"] >= 5
    assert tallies["10.1016/j.celrep.2015.06.036"]["citingPublications"] >= 5
    assert any("consistent with results we saw in the macaque" in s for s in supporting["supporting"]), supporting
    smaller = "significantly smaller than previous experimental findings"
    assert any(smaller in s for s in contrasting["contrasting"]), contrasting
    assert any(smaller in s for s in both["contrasting"]), both
    assert any("piling-up" in s for s in both["supporting"]), both


def test_demo_shows_a_correction_that_a_citing_paper_meets(client: TestClient) -> None:
    """A correction notice (10.1371/journal.pone.0209518) of a work that a demo article cites: the cited work's report
    says so, and the citing paper's References tab and /api/references flag the reference. (No article of the shared
    data cites a retracted work whose notice is there too, so the demo shows no citation after a retraction.)"""
    corrected, citing = "10.1371/journal.pone.0187405", "10.1371/journal.pone.0196652"
    report = client.get(f"/reports/{corrected}").text
    assert 'class="notice notice-correction"' in report and "/reports/10.1371/journal.pone.0209518" in report
    refs_tab = client.get(f"/reports/{citing}?tab=references").text
    assert '<span class="flag notice-correction">Correction published (2018)</span>' in refs_tab
    refs = client.get(f"/api/references/{citing}").json()["references"]
    (ref,) = [r for r in refs if r.get("matched_doi") == corrected]
    assert [(n["type"], n["doi"]) for n in ref["notices"]] == [("correction", "10.1371/journal.pone.0209518")]
    assert ref["retracted"] is False and ref["cited_after_retraction"] is None


def test_demo_flags_a_reference_whose_title_says_retracted(client: TestClient) -> None:
    """PMC6290974 (F1000Research 2018) cites 10.1002/ece3.1786 as "Retracted: Screening of candidate genes…": the
    demo holds no retraction notice for it, and the References tab and /api/references still flag it."""
    citing = "10.12688/f1000research.15606.1"
    refs = client.get(f"/api/references/{citing}").json()["references"]
    assert [r["matched_doi"] for r in refs if r["title_says_retracted"]] == ["10.1002/ece3.1786"]
    assert client.get(f"/reports/{citing}?tab=references").text.count("Title says “retracted”") == 1


def test_report_references_refuses_a_limit_it_would_not_apply(default_model_demo_db: Path) -> None:
    """`report DOI --references --limit 5` printed all 55 entries: --limit has a default, so the check that refuses
    the statement options left it out. Given on the command line it is a usage error naming it; left out, the
    whole reference list is printed."""
    args = ["report", "10.7554/elife.41076", "--references", "--db", str(default_model_demo_db)]
    refused = CliRunner().invoke(main, [*args, "--limit", "5"])
    assert refused.exit_code == 2 and "--limit" in refused.output
    whole = CliRunner().invoke(main, args)
    assert whole.exit_code == 0 and "55 references" in whole.stdout


def test_superscript_callouts_read_as_superscripts(client: TestClient) -> None:
    """A Nature Communications card read "lower contrast stimuli48,49. … higher contrasts50,51.": the statement's
    own group and the next sentence's are now superscripts, found through the stored callouts."""
    body = client.get("/api/search", params={"q": '"spatial summation"'}).json()
    sid = next(r["id"] for r in body["results"] if "stimuli48,49" in r["sentence"])
    html = client.get(f"/statements/{sid}").text
    assert 'stimuli<sup class="callouts"><mark class="callout">48</mark>,49</sup>.' in html
    assert 'higher contrasts<sup class="callouts">50,51</sup>.' in html
    cited = next(r["cited_doi"] for r in body["results"] if r["id"] == sid)
    assert '<sup class="callouts"><mark class="callout">48</mark>,49</sup>' in client.get(f"/reports/{cited}").text


def test_the_most_contrasted_works_are_a_click_from_the_home_page(client: TestClient) -> None:
    """The demo's most cited works are methods papers, mentioned nearly every time: a new user saw "0 supporting,
    0 contrasting" ten times and no way to the works that are supported or contrasted. The home page links the
    rankings (/top), which count the labels the model is sure of, page by page, as the API and the CLI do."""
    home = client.get("/").text
    link = re.search(r'href="(/top\?by=contrasting&amp;min_confidence=auto)"', home)
    assert link
    page = client.get(link.group(1).replace("&amp;", "&")).text
    api = client.get("/api/works/top", params={"by": "contrasting", "min_confidence": "auto"}).json()
    assert api["min_confidence"] is not None and api["total"] >= 5 and api["works"]
    assert all(w["tallies"]["contradicting"] == w["count"] >= 1 for w in api["works"])
    first = api["works"][0]
    assert f'href="/reports/{first["doi"]}?min_confidence=auto"' in page
    # Each work links straight to the statements it is ranked by, counted the same way.
    see = f'href="/reports/{first["doi"]}?min_confidence=auto&amp;type=contrasting"'
    assert see in page
    listed = client.get(f"/api/citations/{first['doi']}", params={"type": "contrasting", "min_confidence": "auto"}).json()
    assert listed["total"] == first["count"]
    assert 'aria-current="page">Most contrasted</a>' in page and f"of {api['total']} with contrasting" in page
    # Past the last page: the page says where the ranking ends; bad parameters are a 400 naming them.
    assert "No works on page 400" in client.get("/top", params={"page": 400}).text
    for bad in ({"by": "mentioning"}, {"per_page": 0}, {"min_confidence": "sure"}):
        r = client.get("/api/works/top", params=bad)
        assert r.status_code == 400 and next(iter(bad)) in r.json()["error"]
    assert client.get("/top", params={"by": "mentioning"}).status_code == 400
