from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from citelens.cli import EXIT_NOT_FOUND, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from citelens.serialize import CORRECTION_EXPORT_FIELDS

EXPORT_REQUIRED = {"citing_doi", "citing_source", "reference_key", "reference_raw", "cited_work_id", "cited_doi",
                   "section", "sentence", "before", "after", "type", "confidence"}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def build(tmp_path: Path, mini_jats: bytes) -> str:
    (tmp_path / "mini.xml").write_bytes(mini_jats)
    db = str(tmp_path / "i.db")
    code, out = run("ingest", str(tmp_path / "mini.xml"), "--db", db, "--json", "--classifier", "cues")
    assert code == EXIT_OK, out
    summary = json.loads(out)
    assert summary["stored"] == 1 and summary["statements"] == 12 and summary["failed"] == []
    return db


def test_help_lists_commands() -> None:
    code, out = run("--help")
    assert code == 0
    for cmd in ("ingest", "report", "search", "stats", "export"):
        assert cmd in out


def test_ingest_summary_counts_documents_apart_from_metadata_rows(tmp_path: Path, mini_jats: bytes) -> None:
    """"failed 4" once meant one article and three metadata rows (two Retraction Watch rows, one JSON line): an
    operator could not tell how many articles the index was missing. Now each failure has a kind and the summary,
    text and --json, counts them apart; ``failed`` keeps listing them all, and the exit code stays 1."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "mini.xml").write_bytes(mini_jats)
    (folder / "bad.xml").write_bytes(b"<article><broken")
    (folder / "rw.csv").write_bytes((Path(__file__).parent / "fixtures/retraction-watch/retraction_watch_sample.csv")
                                    .read_bytes())  # rows 8 and 9 name no usable work / an unknown nature
    (folder / "works.jsonl").write_text('{"doi": "10.5555/meta.1", "title": "A record"}\nnot json\n')
    (folder / "other.csv").write_text("name,age\nAda,36\n")  # a CSV that is not Retraction Watch's: the file fails
    db = str(tmp_path / "i.db")
    code, out = run("ingest", str(folder), "--db", db, "--json", "-q")
    s = json.loads(out)
    assert code == s["exit_code"] == EXIT_PARTIAL
    assert (s["stored"], s["metadata_records"], s["notices_added"]) == (1, 1, 8)
    assert (s["failed_documents"], s["failed_metadata_files"], s["failed_metadata_records"]) == (1, 1, 3)
    kinds = {(Path(f["source"]).name, f["kind"]) for f in s["failed"]}
    assert kinds == {("bad.xml", "document"), ("other.csv", "metadata_file"), ("rw.csv", "metadata_record"),
                     ("works.jsonl", "metadata_record")}
    assert len(s["failed"]) == 5 and all(set(f) == {"source", "problem", "kind"} for f in s["failed"])

    code, out = run("ingest", str(folder), "--db", db, "-q")  # again: the text says the same
    assert code == EXIT_PARTIAL
    assert ("failed 1 document(s); 1 metadata record(s), 3 metadata row(s) or line(s) rejected,"
            " 1 metadata file(s) failed.") in " ".join(out.split()), out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith(("  rejected", "  failed"))]
    assert listed == ["rejected"] * 3 + ["failed"] * 2, out  # the missing documents and files end the output
    assert re.search(r"failed +\S*bad\.xml: not well-formed XML", out) and re.search(r"rejected \S*rw\.csv: row 8 ", out)
    # Articles alone: no metadata part ("0 metadata record(s)" on every ingest).
    code, out = run("ingest", str(folder / "bad.xml"), "--db", db, "-q")
    assert "failed 1 document(s)." in " ".join(out.split()) and "metadata" not in out, out


def test_ingest_exit_codes(tmp_path: Path, mini_jats: bytes) -> None:
    db = build(tmp_path, mini_jats)
    (tmp_path / "bad.xml").write_bytes(b"<nope")
    code, out = run("ingest", str(tmp_path / "bad.xml"), str(tmp_path / "mini.xml"), "--db", db, "--json")
    assert code == EXIT_PARTIAL
    s = json.loads(out)
    assert s["stored"] == 1 and s["failed"][0]["source"].endswith("bad.xml") and s["exit_code"] == EXIT_PARTIAL
    code, _ = run("ingest", str(tmp_path / "missing.xml"), "--db", db)
    assert code == EXIT_USAGE
    code, _ = run("ingest", "--db", db)
    assert code == EXIT_USAGE
    code, _ = run("ingest", str(tmp_path / "mini.xml"), "--db", db, "--classifier", "no-such-model")
    assert code == EXIT_USAGE


def test_report_json(tmp_path: Path, mini_jats: bytes) -> None:
    db = build(tmp_path, mini_jats)
    code, out = run("report", "10.1128/JB.187.1.55", "--db", db, "--json")
    assert code == EXIT_OK, out
    r = json.loads(out)
    assert r["work"]["doi"] == "10.1128/jb.187.1.55"
    assert set(r["tallies"]) >= {"supporting", "contrasting", "mentioning", "total", "citing_publications"}
    assert set(r["tallies_by_section"]) == {"introduction", "methods", "results", "discussion", "other"}
    st = r["statements"][0]
    assert set(st) >= {"citing_doi", "section", "text", "type", "confidence", "self_citation"}
    code, out = run("report", r["work"]["id"], "--db", db)
    assert code == EXIT_OK and "Growth arrest" in out
    code, out = run("report", "10.1128/JB.187.1.55", "--db", db, "--json", "--min-confidence", "1")
    strict = json.loads(out)
    assert code == EXIT_OK and strict["min_confidence"] == 1.0
    assert strict["tallies"]["supporting"] == strict["tallies"]["contrasting"] == 0
    assert strict["tallies"]["total"] == r["tallies"]["total"]
    code, _ = run("report", "10.1128/JB.187.1.55", "--db", db, "--min-confidence", "lots")
    assert code == EXIT_USAGE
    # --type lists statements under the label the tallies count them under; the text output says so.
    code, out = run("report", "W2", "--db", db, "--json", "--type", "contrasting")  # Barnes: one contrasting
    contrasting = json.loads(out)["statements"]
    assert code == EXIT_OK and len(contrasting) == 1
    code, out = run("report", "W2", "--db", db, "--json", "--type", "contrasting", "--min-confidence", "1")
    assert code == EXIT_OK and json.loads(out)["statements_total"] == 0
    code, out = run("report", "W2", "--db", db)  # without a threshold: how many labels pass the model's own
    assert code == EXIT_OK and re.search(r"the model is sure \(\d+% or more\) of \d+ supporting and \d+ contrasting", out)
    code, out = run("report", "W2", "--db", db, "--type", "mentioning", "--min-confidence", "1")
    assert code == EXIT_OK and "below 1: counted as mentioning" in out and contrasting[0]["text"][:30] in out
    # Counting at a threshold is said first, as the author, institution and journal commands say it: the tallies
    # line alone read like every label's count.
    sure_line = "Counting only labels the model is sure of (confidence ≥ 1)"
    assert out.startswith(sure_line)
    code, out = run("report", "W2", "--db", db)
    assert code == EXIT_OK and sure_line not in out
    code, out = run("search", "contrast", "--db", db, "--type", "mentioning", "--min-confidence", "1")
    # (each result with its confidence, as `report` shows it)
    assert code == EXIT_OK and out.startswith(sure_line)
    assert re.search(r"contrasting \(\d\.\d\d, below 1: counted as mentioning\)", out)
    code, out = run("search", "contrast", "--db", db, "--json", "--type", "contrasting")
    assert code == EXIT_OK and json.loads(out)["total"] == 1 and json.loads(out)["min_confidence"] is None
    code, out = run("search", "contrast", "--db", db, "--json", "--type", "contrasting", "--min-confidence", "1")
    assert code == EXIT_OK and json.loads(out)["total"] == 0 and json.loads(out)["min_confidence"] == 1.0
    code, _ = run("report", "10.9999/unknown", "--db", db, "--json")
    assert code == EXIT_NOT_FOUND
    code, _ = run("report", "10.9999/x", "--db", str(tmp_path / "nope.db"))
    assert code == EXIT_USAGE


def test_self_citation_in_report(tmp_path: Path, mini_jats: bytes) -> None:
    db = build(tmp_path, mini_jats)
    code, out = run("search", "Counting sentinel", "--db", db, "--json")
    code, out = run("report", "W1", "--db", db, "--json")  # W1 is the citing article itself
    assert code == EXIT_OK
    code, out = run("export", "--db", db)
    rows = [json.loads(line) for line in out.splitlines()]
    okafor = [r for r in rows if r["reference_key"] == "r6"]
    assert okafor and all(r["self_citation"] for r in okafor)


def test_search_and_stats_json(tmp_path: Path, mini_jats: bytes) -> None:
    db = build(tmp_path, mini_jats)
    code, out = run("search", "growth arrest", "--db", db, "--json")
    assert code == EXIT_OK
    res = json.loads(out)
    assert res["total"] >= 1 and "<<growth>>" in res["results"][0]["snippet"]
    code, out = run("search", "sentinel", "--db", db, "--section", "introduction", "--json")
    assert all(r["section"] == "introduction" for r in json.loads(out)["results"])
    code, out = run("search", "sentinel", "--db", db, "--type", "wrong")
    assert code == EXIT_USAGE
    # An empty query is a usage error, as GET /api/search answers 400 for an empty q (it printed "0 statement(s)
    # match ''" and exit 0, as if the index held nothing).
    for blank in ("", "   "):
        code, out = run("search", blank, "--db", db, "--json")
        assert code == EXIT_USAGE and "QUERY" in out and "empty" in out and "statement(s) match" not in out
    code, out = run("stats", "--db", db, "--json")
    s = json.loads(out)
    assert s["documents"] == 1 and s["statements"] == 12 and sum(s["statements_by_type"].values()) == 12


def test_search_and_report_text_say_where_the_rows_end(tmp_path: Path, mini_jats: bytes) -> None:
    """The text output of `search` said "N statement(s) match" above the first --limit rows with no word of the
    rest, an --offset past the end printed nothing more, a `report` whose filters matched nothing ended at the
    tallies table, and titles were cut mid-word without a mark."""
    from citelens.cli.terminal import clip

    db = build(tmp_path, mini_jats)
    found = json.loads(run("search", "cell*", "--db", db, "--json")[1])
    total = found["total"]
    assert total >= 2
    code, out = run("search", "cell*", "--db", db, "--limit", "1")
    assert code == EXIT_OK and f"showing 1–1 of {total}: --offset 1 for the next results" in out
    assert re.search(r"\((\d\.\d\d|-)\) · ", out)  # each result's confidence, as `report` shows it
    code, out = run("search", "cell*", "--db", db, "--offset", str(total - 1))
    assert code == EXIT_OK and "showing" not in out  # the last page: nothing more to reach
    code, out = run("search", "cell*", "--db", db, "--offset", "999")
    assert code == EXIT_OK and f"No results at --offset 999: the {total} results are at --offset 0 to {total - 1}" in out
    cited = found["results"][0]["cited_doi"] or found["results"][0]["cited_work_id"]
    code, out = run("report", cited, "--db", db, "--type", "contrasting", "--section", "methods")
    assert code == EXIT_OK and "No citation statements match these filters." in out
    assert "No citation statements match" not in run("report", cited, "--db", db)[1]
    assert clip("x" * 80, 80) == "x" * 80 and clip("word " * 20, 12) == "word word w…"
    assert clip(None, 5) == ""


def test_report_filters_sorts_and_pages_as_the_api(tmp_path: Path, mini_jats: bytes) -> None:
    """`report` had --type/--section/--exclude-self/--limit only: no --year-from/--year-to, --sort or --offset,
    which /api/citations and the store take, and its text output ended "… N more (use --limit)"."""
    from citelens.store import open_store

    db = build(tmp_path, mini_jats)
    store = open_store(db, readonly=True)
    everything = {sort: [s.id for s in store.citations("W2", sort=sort, limit=100)[1]]
                  for sort in ("relevance", "newest", "oldest", "confidence")}
    store.close()
    total = len(everything["relevance"])
    assert total == 3
    for sort, ids in everything.items():
        code, out = run("report", "W2", "--db", db, "--json", "--sort", sort, "--limit", "1", "--offset", "1")
        r = json.loads(out)
        assert code == EXIT_OK and [s["id"] for s in r["statements"]] == ids[1:2], sort
        # Added for paging; the fields of earlier versions stay.
        assert (r["sort"], r["offset"], r["limit"], r["next_offset"], r["statements_total"]) == (sort, 1, 1, 2, total)
        assert {"work", "tallies", "tallies_by_section", "min_confidence", "statements"} <= set(r)
    r = json.loads(run("report", "W2", "--db", db, "--json", "--offset", "2")[1])
    assert len(r["statements"]) == 1 and r["next_offset"] is None  # the last page
    # Years: the mini article is from 2020 (the citing year).
    assert json.loads(run("report", "W2", "--db", db, "--json", "--year-from", "2020", "--year-to", "2020")[1])[
        "statements_total"] == total
    code, out = run("report", "W2", "--db", db, "--json", "--year-from", "2021")
    assert code == EXIT_OK and json.loads(out)["statements_total"] == 0
    code, out = run("report", "W2", "--db", db, "--year-from", "2021")
    assert code == EXIT_OK and "No citation statements match these filters." in out
    # The values and validation of `search` and the API: a bad sort, a year outside 1000-3000, from after to.
    for cmd in (("report", "W2"), ("search", "cell*")):
        for bad in (["--sort", "newest-first"], ["--year-from", "999"], ["--year-to", "3001"],
                    ["--year-from", "2021", "--year-to", "2020"], ["--offset", "-1"]):
            if cmd[0] == "search" and bad[0] == "--sort":
                continue  # search results are ranked by how well they match (the API's /api/search: relevance)
            code, out = run(*cmd, "--db", db, *bad)
            assert code == EXIT_USAGE, (cmd, bad, out)
    code, out = run("report", "W2", "--db", db, "--year-from", "2021", "--year-to", "2020")
    assert "--year-from" in out and "after --year-to 2020" in out
    # The text output says which statements these are and the --offset of the next ones.
    code, out = run("report", "W2", "--db", db, "--limit", "1")
    assert code == EXIT_OK and f"… showing 1–1 of {total}: --offset 1 for the next statements" in out
    code, out = run("report", "W2", "--db", db, "--limit", "1", "--offset", str(total - 1))
    assert code == EXIT_OK and "showing" not in out and "--offset" not in out
    code, out = run("report", "W2", "--db", db, "--offset", "99")
    assert code == EXIT_OK and f"No statements at --offset 99: the {total} statements are at --offset 0 to {total - 1}." in out
    code, out = run("report", "W2", "--db", db, "--limit", "0")
    assert code == EXIT_OK and f"{total} citation statement(s) match: --limit N lists them" in out


def test_profile_titles_end_in_an_ellipsis_when_cut(tmp_path: Path, mini_jats: bytes) -> None:
    """`author` and `journal` cut a work's title at 80 characters mid-word without a mark (report and search
    already ended a cut title in "…")."""
    long_title = "Sentinel cells in colonies " * 5  # 135 characters: cut at 80 it ends mid-word ("c")
    article = mini_jats.replace(b"Sentinel cells in <italic>E. coli</italic> colonies", long_title.encode())
    # The journal gets an ISSN, and the cited work r1 (a long title too) is in it: a journal lists its most cited.
    article = article.replace(b"</journal-title-group>", b"</journal-title-group><issn pub-type=\"ppub\">1544-9173</issn>")
    article = article.replace(b"<article-title>Sentinel behaviour in bacterial colonies</article-title><source>Microbiology",
                              f"<article-title>{long_title}</article-title><source>Journal of Test Biology".encode())
    (tmp_path / "long.xml").write_bytes(article)
    db = str(tmp_path / "i.db")
    assert run("ingest", str(tmp_path / "long.xml"), "--db", db, "--classifier", "cues", "-q")[0] == EXIT_OK
    for cmd in (("author", "Okafor"), ("journal", "1544-9173")):
        code, out = run(*cmd, "--db", db)
        assert code == EXIT_OK, out
        line = next(x for x in out.splitlines() if "Sentinel cells in colonies" in x)
        shown = line[line.index("Sentinel"):line.index("…  (")]
        assert len(shown) == 79 and long_title.startswith(shown), line


def test_export_for_excel(tmp_path: Path, mini_jats: bytes) -> None:
    """--excel: the CSV (whatever --format would have been) with a UTF-8 byte-order mark in front, to stdout or a
    file; with --format jsonl it is a usage error, not a JSON-lines file with a mark."""
    db = build(tmp_path, mini_jats)
    plain = CliRunner().invoke(main, ["export", "--db", db, "--format", "csv"]).stdout_bytes
    excel = CliRunner().invoke(main, ["export", "--db", db, "--excel"]).stdout_bytes
    assert excel == b"\xef\xbb\xbf" + plain and plain.startswith(b"statement_id,")
    code, out = run("export", "--db", db, "--excel", "-o", str(tmp_path / "s.txt"))
    assert code == EXIT_OK and (tmp_path / "s.txt").read_bytes() == excel and "(CSV, with a header line)" in out
    code, out = run("export", "--db", db, "--excel", "--format", "jsonl")
    assert code == EXIT_USAGE and "--excel" in out


def test_export_jsonl_and_csv(tmp_path: Path, mini_jats: bytes) -> None:
    db = build(tmp_path, mini_jats)
    code, out = run("export", "--db", db, "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 12 and set(rows[0]) >= EXPORT_REQUIRED
    assert rows[0]["citing_source"].endswith("mini.xml") and rows[0]["reference_key"] == "r1"
    code, out = run("export", "--db", db, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 12 and set(table[0]) >= EXPORT_REQUIRED


def test_piped_output_is_not_wrapped(tmp_path: Path) -> None:
    """Human output sent to a pipe keeps long lines whole (grep, less -S), whatever the terminal width."""
    title = "A very long title about the growth arrest of sentinel cells in bacterial colonies under starvation"
    f = tmp_path / "refs.txt"
    f.write_text(f"Smith J, Jones K (2005) {title}. J Bacteriol 187: 55-60.\n", encoding="utf-8")
    code, out = run("references", "parse", str(f))
    assert code == EXIT_OK
    assert any(title in line for line in out.splitlines()), out


def test_classifier_option_everywhere() -> None:
    from click.testing import CliRunner

    for cmd in (["ingest", "--help"], ["classify", "--help"], ["eval", "--help"]):
        help_text = CliRunner().invoke(main, cmd).output
        assert "--classifier" in help_text, cmd
    out = CliRunner().invoke(main, ["classify", "We confirm <cite>[1]</cite>.", "--model", "cues", "--json"])
    assert out.exit_code == 0 and '"model"' in out.output  # the old spelling still works


def test_jobs_auto_and_numbers() -> None:
    from citelens.pipeline import AUTO_MAX_JOBS, AUTO_MIN_INPUTS, resolve_jobs

    # auto: one process for a handful of files (worker start-up would cost more than it saves) ...
    assert resolve_jobs("auto", AUTO_MIN_INPUTS - 1, cpus=8) == 1
    # ... one worker per core for a real batch, capped (the single writer is then the limit).
    assert resolve_jobs("auto", AUTO_MIN_INPUTS, cpus=2) == 2
    assert resolve_jobs("auto", 10_000, cpus=64) == AUTO_MAX_JOBS
    assert resolve_jobs(" AUTO ", 10_000, cpus=1) == 1
    assert resolve_jobs("3", 1) == 3 and resolve_jobs(1, 1) == 1
    for bad in ("0", "65", "-1", "two", "", "1.5"):
        try:
            resolve_jobs(bad, 1)
        except ValueError as exc:
            assert "--jobs" in str(exc)
        else:
            raise AssertionError(bad)


def test_ingest_bad_jobs_is_a_usage_error(tmp_path: Path, mini_jats: bytes) -> None:
    (tmp_path / "a.xml").write_bytes(mini_jats)
    r = CliRunner().invoke(main, ["ingest", str(tmp_path / "a.xml"), "--db", str(tmp_path / "i.db"), "--jobs", "0"])
    assert r.exit_code == EXIT_USAGE and "--jobs" in r.output
    assert not (tmp_path / "i.db").exists()  # nothing opened before the options were checked


def _program(tmp_path: Path, *args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """``citelens ARGS`` as the installed command runs it (``citelens.cli:run``), in its own process."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    code = f"{prelude}\nimport sys\nsys.argv = ['citelens', *{list(args)!r}]\nfrom citelens.cli import run\nrun()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path)


def test_the_command_ends_like_a_normal_exit_without_the_teardown(tmp_path: Path, mini_jats: bytes) -> None:
    """``run`` skips freeing memory object by object at exit, nothing else: exit codes, every line of output
    and atexit handlers (database pools close there) are as with a normal exit."""
    (tmp_path / "mini.xml").write_bytes(mini_jats)
    (tmp_path / "bad.xml").write_bytes(b"<broken")
    bye = "import atexit\natexit.register(lambda: print('atexit ran', flush=True))"
    r = _program(tmp_path, "ingest", "mini.xml", "bad.xml", "--db", "i.db", "--json", "--classifier", "cues",
                 prelude=bye)
    assert r.returncode == EXIT_PARTIAL, r.stderr
    out, _, tail = r.stdout.rpartition("}")
    summary = json.loads(out + "}")  # the whole JSON document was written
    assert summary["stored"] == 1 and summary["exit_code"] == EXIT_PARTIAL
    assert tail.strip() == "atexit ran"
    r = _program(tmp_path, "report", "10.9999/not.here", "--db", "i.db", "--json")
    assert r.returncode == EXIT_NOT_FOUND and json.loads(r.stdout)["error"] == "not found"
    r = _program(tmp_path, "export", "--db", "i.db", "--format", "jsonl")
    assert r.returncode == EXIT_OK and len(r.stdout.splitlines()) == 12
    r = _program(tmp_path, "ingest", "mini.xml", "--db", "i.db", "--jobs", "0")
    assert r.returncode == EXIT_USAGE and "--jobs" in r.stderr
    r = _program(tmp_path, "--version")
    assert r.returncode == EXIT_OK and "citelens" in r.stdout
    # An idle thread pool left open (its threads wait for work) ends as at a normal exit, instead of hanging.
    idle = "import concurrent.futures\nconcurrent.futures.ThreadPoolExecutor(2).submit(int).result()"
    r = _program(tmp_path, "--version", prelude=idle)
    assert r.returncode == EXIT_OK and "citelens" in r.stdout


def test_serve_refuses_a_bad_setting_by_name(tmp_path: Path, mini_jats: bytes) -> None:
    db = build(tmp_path, mini_jats)
    result = CliRunner().invoke(main, ["serve", "--db", db], env={"CITELENS_MIN_CONFIDENCE": "high"})
    assert result.exit_code == EXIT_USAGE and "CITELENS_MIN_CONFIDENCE" in result.output


def test_python_dash_m_citelens_cli_runs_the_command(tmp_path: Path) -> None:
    """``python -m citelens.cli`` is the ``citelens`` command (where the script is not on PATH), exit codes included."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    r = subprocess.run([sys.executable, "-m", "citelens.cli", "--help"], capture_output=True, text=True, env=env,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == EXIT_OK, r.stderr
    assert "python -m citelens.cli" in r.stdout and all(cmd in r.stdout for cmd in ("ingest", "report", "serve"))
    r = subprocess.run([sys.executable, "-m", "citelens.cli", "stats", "--db", "missing.db"], capture_output=True,
                       text=True, env=env, timeout=120, cwd=tmp_path)
    assert r.returncode == EXIT_USAGE and "does not exist" in r.stderr


def test_a_query_that_is_not_utf8_is_a_usage_error(tmp_path: Path, mini_jats: bytes) -> None:
    """Bytes on the command line that are not UTF-8 reach Python as lone surrogates, which the database cannot
    hold: `citelens journal $'\\xff\\xfe'` ended in a traceback (exit 1), and the other commands echoed the bytes
    into their --json output. Every text argument now refuses them by name, with exit 2."""
    db = build(tmp_path, mini_jats)
    for argv in (["journal", "\udcff\udcfe", "--db", db], ["journal", "PLoS \udcff", "--db", db, "--json"],
                 ["institution", "\udcff", "--db", db], ["author", "M\udcfcller", "--db", db, "--json"],
                 ["report", "10.1/\udcff", "--db", db], ["search", "\udcff", "--db", db, "--json"],
                 ["classify", "We confirm <cite>[1]</cite> \udcff.", "--classifier", "cues"]):
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == EXIT_USAGE, (argv, result.exit_code, result.output[-300:])
        assert "not UTF-8" in result.output and "Traceback" not in result.output, argv


def test_json_output_is_utf8_whatever_the_file_names(tmp_path: Path) -> None:
    """A file name that is not UTF-8 reached the --json summary as its raw bytes, which made the output invalid
    UTF-8 (jq and most JSON readers refuse it). It is written as a JSON escape, which Python reads back as the
    name os.fsencode turns into the file's bytes."""
    folder = tmp_path / "in"
    folder.mkdir()
    names = [b"skip\xff.txt", b"bad\xfe\x1b.xml"]
    for name in names:
        (folder / os.fsdecode(name)).write_bytes(b"<nope")
    out = subprocess.run([sys.executable, "-m", "citelens.cli", "ingest", str(folder), "--db", str(tmp_path / "i.db"),
                          "--json", "-q", "--classifier", "cues"], capture_output=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")})
    assert out.returncode == EXIT_PARTIAL, out.stderr[-500:]
    summary = json.loads(out.stdout.decode("utf-8"))  # strict: raised on the raw bytes
    skipped = summary["skipped"][0].split(": ")[0]
    assert os.fsencode(skipped) == os.fsencode(folder / os.fsdecode(names[0]))
    assert os.fsencode(summary["failed"][0]["source"]) == os.fsencode(folder / os.fsdecode(names[1]))


def test_an_article_whose_file_name_is_not_utf8_is_stored(tmp_path: Path, mini_jats: bytes) -> None:
    """A well-formed article in a file whose name is not UTF-8 failed "internal error (UnicodeEncodeError…)": the
    name, which the index keeps as the statements' citing_source, reached the database as lone surrogates. The
    index keeps such bytes as ``\\xff`` text; ingesting the file again replaces it, as for any name."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / os.fsdecode(b"mini\xff.xml")).write_bytes(mini_jats)
    db = str(tmp_path / "i.db")
    for replaced in (0, 1):
        code, out = run("ingest", str(folder), "--db", db, "--json", "-q", "--classifier", "cues")
        assert code == EXIT_OK, out
        summary = json.loads(out)
        assert (summary["stored"], summary["replaced"], summary["failed"]) == (1, replaced, []), summary
    code, out = run("report", "10.1128/JB.187.1.55", "--db", db, "--json")
    assert code == EXIT_OK, out
    assert {s["citing_source"] for s in json.loads(out)["statements"]} == {str(folder / "mini\\xff.xml")}


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


def _command(argv: tuple[str, ...]) -> click.Command:
    cmd: click.Command = main
    for name in argv:
        assert isinstance(cmd, click.Group)
        found = cmd.get_command(click.Context(cmd), name)
        assert found is not None
        cmd = found
    return cmd


def test_every_command_help_shows_an_example_and_says_what_db_it_needs() -> None:
    """Each --help ends with a command to copy (only classify and flows had one), and the commands that only read
    the index do not promise to create a missing --db ("created if missing"): they stop with exit 2."""
    readers = {("report",), ("search",), ("stats",), ("export",), ("author",), ("institution",), ("journal",),
               ("check",), ("serve",)}
    for argv in _commands(main):
        result = CliRunner().invoke(main, [*argv, "--help"], terminal_width=200)
        assert result.exit_code == 0, argv
        text = " ".join(result.output.split())
        if not isinstance(main.get_command(click.Context(main), argv[0]), click.Group) or len(argv) > 1:
            assert f"Example: citelens {' '.join(argv)} " in text, argv
        if argv in readers:
            assert "created if missing" not in text and "citelens ingest" in text, argv
        if any(p.name == "db" for p in _command(argv).params):
            assert "postgresql://" in text, argv  # serve and check said "SQLite database file" only
    report_help = " ".join(CliRunner().invoke(main, ["report", "--help"]).output.split())
    assert "PMID" in report_help and "PMCID" in report_help  # report takes them (docs/cli.md)


def test_every_option_says_what_it_does_and_every_summary_is_whole() -> None:
    """`citelens --help` listed `references   Parse reference strings ("Smith J, Jones A.` (click cuts a summary at
    its first full stop, here inside the example), `report --limit` and `serve --log-level` had no help at all, and
    `references eval --json` promised "one JSON object per line" for what is one indented object."""
    for argv in _commands(main):
        command = _command(argv)
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, (argv, param.opts)
        summary = command.get_short_help_str(limit=1000)
        assert summary.count("(") == summary.count(")") and summary.count('"') % 2 == 0, (argv, summary)
    listing = CliRunner().invoke(main, ["--help"], terminal_width=200).output
    assert "Parse reference strings into fields" in listing
    result = CliRunner().invoke(main, ["references", "eval", "--help"], terminal_width=200)
    assert "per line" not in result.output


def test_search_numbers_beyond_the_database_are_usage_errors(tmp_path: Path, mini_jats: bytes) -> None:
    """--offset and --year-from/--year-to went to SQLite whatever their size: past its 64-bit integers the command
    ended in a traceback (OverflowError, exit 1). The years take the API's range (year_from=1000..3000), the
    offset any row number; outside them, a usage error naming the option."""
    db = build(tmp_path, mini_jats)
    huge = str(2**63)
    for option, value in (("--offset", huge), ("--year-from", huge), ("--year-to", "-" + huge),
                          ("--year-from", "999"), ("--year-to", "3001")):
        result = CliRunner().invoke(main, ["search", "described", "--db", db, option, value, "--json"])
        assert result.exit_code == EXIT_USAGE, (option, value, result.exit_code, result.output[-300:])
        assert option in result.output and "Traceback" not in result.output, (option, value)
    code, out = run("search", "described", "--db", db, "--year-from", "1000", "--year-to", "3000",
                    "--offset", str(2**63 - 1), "--json")
    assert code == EXIT_OK and json.loads(out)["results"] == [], out


def test_queries_are_bounded_as_the_api_bounds_them(tmp_path: Path, mini_jats: bytes) -> None:
    """A blank or over-long query is a usage error (exit 2), as in institution, journal and the API (q is 1 to 500
    characters): `author` answered a blank query "not found" (exit 3) and a 100,000-character one with a traceback
    (SQLite: "LIKE or GLOB pattern too complex"); `search` took minutes over 2,000 prefix words; `report` answered
    an empty IDENT "not found"."""
    db = build(tmp_path, mini_jats)
    for argv in (["author", ""], ["author", "   "], ["author", "x" * 100_000], ["search", " ".join(["a*"] * 2000)],
                 ["report", " "]):
        result = CliRunner().invoke(main, [*argv, "--db", db, "--json"])
        assert result.exit_code == EXIT_USAGE, (argv[0], len(argv[1]), result.exit_code, result.output[-300:])
        assert "Traceback" not in result.output, argv[0]
    code, out = run("author", "Barnes", "--db", db, "--json")
    assert code in (EXIT_OK, EXIT_NOT_FOUND), out  # an ordinary name is still looked up


def test_corrections_csv_has_its_header_with_no_corrections_yet(tmp_path: Path, mini_jats: bytes) -> None:
    """`export --corrections --format csv` took its columns from the first correction, so an index without any wrote
    an empty line, not the header a spreadsheet or script reading the columns expects (the statements export
    writes its header either way). The columns are the correction record's, as when there are rows."""
    db = build(tmp_path, mini_jats)
    code, out = run("export", "--db", db, "--corrections", "--format", "csv")
    assert code == EXIT_OK
    # The columns of earlier versions first, in their order (columns are only added at the end).
    header = ",".join(CORRECTION_EXPORT_FIELDS)
    assert header.startswith("id,statement_id,document_identity,reference_key,sentence,old_stance,stance,curator,"
                             "note,created_at,current,")
    assert out.splitlines() == [header], out
    from citelens.store import open_store

    store = open_store(db)
    store.correct_statement(1, "contrasting", "alice", "misread")
    store.close()
    code, out = run("export", "--db", db, "--corrections", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == EXIT_OK and len(rows) == 1 and rows[0]["stance"] == "contrasting" and rows[0]["curator"] == "alice"
    assert out.splitlines()[0] == header and rows[0]["current"] == "True"


def test_ingest_json_says_why_it_stored_nothing(tmp_path: Path, mini_jats: bytes) -> None:
    # An index that cannot be opened (exit 4) or a bad --dask (exit 2) left stdout empty under --json: a script
    # reading the summary got no JSON at all. Now the empty summary, the error and the exit code.
    (tmp_path / "a.xml").write_bytes(mini_jats)
    for extra, code, words in ((["--db", str(tmp_path / "no-such-dir" / "i.db")], 4, "cannot open database"),
                               (["--db", str(tmp_path / "i.db"), "--dask", "yarn://x"], EXIT_USAGE, "tcp://HOST:PORT")):
        r = CliRunner().invoke(main, ["ingest", str(tmp_path / "a.xml"), *extra, "--json"])
        assert r.exit_code == code, r.output
        summary = json.loads(r.stdout)
        assert summary["exit_code"] == code and words in summary["error"] and summary["stored"] == 0
        assert words in r.stderr


def test_ingest_into_a_folder_that_is_not_there_says_so(tmp_path: Path, mini_jats: bytes) -> None:
    """`--db results/index.db` before `mkdir results` said only "unable to open database file" (SQLite's words),
    which reads as a broken or locked index. The message names the folder; the exit code stays 4 (the index
    cannot be opened, as documented)."""
    (tmp_path / "a.xml").write_bytes(mini_jats)
    (tmp_path / "plain-file").write_text("x")
    for folder, words in (("results", "the folder {} does not exist"), ("plain-file", "{} is not a folder")):
        db = tmp_path / folder / "index.db"
        r = CliRunner().invoke(main, ["ingest", str(tmp_path / "a.xml"), "--db", str(db)])
        assert r.exit_code == 4 and words.format(tmp_path / folder) in r.stderr, r.output
        assert "cannot open database" in r.stderr and "unable to open" not in r.stderr


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_ingest_json_says_what_is_stored_when_interrupted(tmp_path: Path, mini_jats: bytes, stop: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C or SIGTERM during `ingest --json` printed no JSON, so a script could not tell what the index holds.
    Now the summary comes, with error and exit_code, and counts the whole committed batch: the progress callback
    (where SIGTERM's stop is raised) ran while the batch was being counted, so the summary said less than the
    index held."""
    import citelens.cli as cli_module
    import citelens.pipeline as pipeline_module
    from citelens.store import open_store

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"a{i}.xml").write_bytes(mini_jats.replace(b"10.9999/JTB.2020.001", f"10.5555/int.{i}".encode()))
    real_store_batch = pipeline_module.Pipeline.store_batch

    def store_then_stop(self, batch, summary, on_progress=None, on_stored=None):  # type: ignore[no-untyped-def]
        def progress(item, status):  # type: ignore[no-untyped-def]
            if stop == "ctrl-c":
                raise KeyboardInterrupt
            cli_module._signal_seen = 15  # as the SIGTERM handler leaves it
            on_progress(item, status)

        real_store_batch(self, batch, summary, progress, on_stored)

    monkeypatch.setattr(pipeline_module.Pipeline, "store_batch", store_then_stop)
    monkeypatch.setattr(cli_module, "_signal_seen", 0)
    db = tmp_path / "x.db"
    result = CliRunner().invoke(main, ["ingest", str(folder), "--db", str(db), "--json", "--jobs", "1"])
    monkeypatch.setattr(cli_module, "_signal_seen", 0)
    body = json.loads(result.output[:result.output.rindex("}") + 1])
    store = open_store(db, readonly=True)
    assert body["stored"] == store.stats().documents == 3  # one batch: all three committed and counted
    store.close()
    assert body["error"].startswith("interrupted (Ctrl-C)" if stop == "ctrl-c" else "interrupted (SIGTERM)")
    assert body["exit_code"] == (1 if stop == "ctrl-c" else 143) == result.exit_code


def test_export_to_a_file_says_how_many_rows_went_where(tmp_path: Path, mini_jats: bytes) -> None:
    """`export -o FILE` printed nothing: whether it wrote anything was seen only by opening the file. It says so on
    stderr; with the data on stdout, stderr stays quiet and stdout holds only the data."""
    db = build(tmp_path, mini_jats)
    for args, what in ((["--format", "jsonl"], "Exported 12 statements to {} (JSONL, one per line)"),
                       (["--format", "csv", "--table", "authors"], "Exported 2 author rows to {} (CSV, with a header"),
                       (["--corrections"], "Exported 0 corrections to {} (JSONL")):
        target = tmp_path / "out.x"
        result = CliRunner().invoke(main, ["export", "--db", db, "-o", str(target), *args])
        assert result.exit_code == EXIT_OK and result.stdout == "", result.output
        assert what.format(target) in result.stderr, result.stderr
    # No corrections: the file is emptied (it kept the rows of the export before, which read as this one's).
    assert target.read_text(encoding="utf-8") == ""
    result = CliRunner().invoke(main, ["export", "--db", db])
    assert result.exit_code == EXIT_OK and len(result.stdout.splitlines()) == 12 and result.stderr == ""


def test_stats_text_shows_breakdowns_as_rows(tmp_path: Path, mini_jats: bytes) -> None:
    """The text output printed statements_by_type and the other breakdowns as raw JSON inside its table; each
    part is now its own indented row (--json is unchanged)."""
    db = build(tmp_path, mini_jats)
    code, out = run("stats", "--db", db)
    assert code == EXIT_OK and "{" not in out and '"' not in out
    by_type = json.loads(run("stats", "--db", db, "--json")[1])["statements_by_type"]
    for stance, n in by_type.items():
        assert re.search(rf"^ +  {stance} +{n} *$", out, re.M), (stance, out)
    assert re.search(r"^ *statements_by_type *$", out, re.M) and re.search(r"^ +  doi +\d+ *$", out, re.M)


def test_eval_confusion_header_names_every_class(tmp_path: Path) -> None:
    """The confusion table's header cut each class name to 10 characters: "contrastin"."""
    rows = [{"text": "Unlike <cite>[1]</cite>, we found no effect.", "stance": "contrasting"},
            {"text": "As shown by <cite>[2]</cite>, cells grow.", "stance": "mentioning"},
            {"text": "Our results confirm <cite>[3]</cite>.", "stance": "supporting"}]
    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, out = run("eval", "--data", str(data), "--classifier", "cues")
    assert code == EXIT_OK, out
    lines = out.splitlines()
    header = lines[lines.index("confusion (rows gold, columns predicted)") + 1]
    assert header.split() == ["supporting", "contrasting", "mentioning"]
    # Each count stands under its class's name (right-aligned to the same column).
    row = lines[lines.index("confusion (rows gold, columns predicted)") + 2]
    assert len(row) == len(header) and row.startswith("supporting ")


def test_a_missing_db_says_citelens_db_can_give_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """"Missing option '--db'." did not say that the CITELENS_DB environment variable can give the index."""
    monkeypatch.delenv("CITELENS_DB", raising=False)
    for cmd in (["stats"], ["report", "W1"], ["ingest", "."], ["check", "-"], ["serve"]):
        result = CliRunner().invoke(main, cmd)
        assert result.exit_code == EXIT_USAGE, cmd
        assert "Missing option '--db'." in result.output and "CITELENS_DB" in result.output, (cmd, result.output)


def _ingest_json(tmp_path: Path, mini_jats: bytes, *flags: str, stderr_tty: bool) -> tuple[dict, bytes]:
    """``citelens ingest --json`` with stderr on a terminal (a pseudo-terminal) or on a pipe: the summary on
    stdout and everything written to stderr."""
    import pty
    import threading

    (tmp_path / "mini.xml").write_bytes(mini_jats)
    cmd = [sys.executable, "-m", "citelens.cli", "ingest", str(tmp_path / "mini.xml"), "--db",
           str(tmp_path / f"i{len(flags)}{stderr_tty}.db"), "--json", "--classifier", "cues", *flags]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "TERM": "xterm"}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        env.pop(name, None)
    if not stderr_tty:
        r = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
        return json.loads(r.stdout.decode("utf-8")), r.stderr
    leader, follower = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:  # read while it runs: a full terminal buffer would stop the command
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the command has ended and the terminal is closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=follower, env=env)
        os.close(follower)
        out, _ = p.communicate(timeout=120)
        reader.join(30)
    finally:
        os.close(leader)
    return json.loads(out.decode("utf-8")), b"".join(chunks)


def test_ingest_json_shows_progress_on_a_terminal(tmp_path: Path, mini_jats: bytes) -> None:
    """`ingest --json` showed no progress at all, even on a terminal. With stderr on a terminal the bar is drawn
    there while stdout holds only the JSON summary; -q, or stderr to a file or pipe, keeps it silent."""
    summary, err = _ingest_json(tmp_path, mini_jats, stderr_tty=True)
    assert summary["stored"] == 1 and summary["exit_code"] == EXIT_OK  # stdout: the summary alone, valid JSON
    assert b"ingest" in err and b"1/1" in err, err[-500:]
    summary, err = _ingest_json(tmp_path, mini_jats, "-q", stderr_tty=True)
    assert summary["stored"] == 1 and b"1/1" not in err, err[-500:]
    summary, err = _ingest_json(tmp_path, mini_jats, stderr_tty=False)
    assert summary["stored"] == 1 and err == b"", err[-500:]
