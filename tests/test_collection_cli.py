"""`citelens collection`: the collections pages and API on the command line, through the same functions."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from citelens.cli import main
from citelens.pipeline import ingest_paths
from citelens.store import open_store
from test_web import CITED, FIXTURES


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), input=input)
    return r.exit_code, r.stdout, r.stderr


def test_a_collection_is_made_changed_read_and_deleted_from_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "index.db")
    store = open_store(db)
    ingest_paths([FIXTURES / "xss-article.xml", FIXTURES / "mini-jats.xml"], store, classifier="cues")
    store.close()
    dois = tmp_path / "dois.txt"
    dois.write_text(f"{CITED}\n10.5555/not-indexed\n", encoding="utf-8")

    code, out, _ = run("collection", "create", "Reading list", str(dois), "--db", db, "--json")
    assert code == 0, out
    c = json.loads(out)
    assert (c["name"], c["size"], c["format"], c["owner"]) == ("Reading list", 2, "doi-list", "cli")
    cid = str(c["id"])
    code, out, _ = run("collection", "list", "--db", db, "--json")
    assert [x["id"] for x in json.loads(out)["collections"]] == [c["id"]]
    code, out, _ = run("collection", "show", cid, "--db", db, "--json")
    shown = json.loads(out)  # the shape of GET /api/collections/{id}
    assert [i["doi"] for i in shown["items"]] == [CITED, "10.5555/not-indexed"] and shown["items"][0]["total"] == 5
    code, out, _ = run("collection", "show", cid, "--db", db)
    assert code == 0 and "Sentinel" in out and "(not in this index)" in out

    # From standard input, BibTeX: a work already in it stays where it is.
    code, out, _ = run("collection", "add", cid, "-", "--db", db, "--json",
                       input="@article{a, doi={10.1128/JB.187.1.55}}\n@article{b, doi={https://doi.org/10.9999/CITED.2001.1}}\n")
    assert code == 0, out
    assert (json.loads(out)["added"], json.loads(out)["already_in"]) == (1, 1)
    code, out, err = run("collection", "remove", cid, "--db", db, "--doi", "10.5555/NOT-INDEXED", "--position", "9")
    assert code == 1 and "Removed 1 work(s)" in out and "position 9" in err  # what matched nothing is named
    code, out, _ = run("collection", "show", cid, "--db", db, "--json")
    items = json.loads(out)["items"]
    assert [(i["position"], i["doi"]) for i in items] == [(0, CITED), (2, "10.1128/jb.187.1.55")]

    code, out, _ = run("collection", "alerts", cid, "--db", db, "--since", "2000-01-01", "--json")
    alerts = json.loads(out)
    assert code == 0 and alerts["truncated"] is False  # every statement citing its works arrived in the window
    assert len(alerts["alerts"]) == sum(i["total"] for i in items) > 5
    code, out, _ = run("collection", "alerts", cid, "--db", db, "--since", "2000-01-01", "--limit", "2")
    assert "more arrived: --until" in out or "2 new" in out

    # Mistakes: a usage error (2) naming what is wrong, an unknown collection not found (3).
    assert run("collection", "remove", cid, "--db", db)[0] == 2
    code, _, err = run("collection", "create", "X", str(tmp_path / "none.txt"), "--db", db)
    assert code == 2 and "none.txt: no such file" in err
    code, _, err = run("collection", "create", "  ", str(dois), "--db", db)
    assert code == 2 and "give the collection a name" in err
    assert run("collection", "show", "999", "--db", db)[0] == 3
    assert run("collection", "alerts", cid, "--db", db, "--until", "soon")[0] == 2

    assert run("collection", "delete", cid, "--db", db, input="n\n")[0] == 1  # asked, and refused: nothing goes
    assert run("collection", "show", cid, "--db", db)[0] == 0
    code, out, _ = run("collection", "delete", cid, "--db", db, "--yes")
    assert code == 0 and f"Deleted collection {cid}" in out
    assert run("collection", "show", cid, "--db", db)[0] == 3
