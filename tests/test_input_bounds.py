"""Every input read is bounded: archives are streamed member by member, only regular files are read and never
past the size limit, forged or climbing archive members are listed with a clear problem."""

from __future__ import annotations

import io
import os
import signal
import struct
import tarfile
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from citelens import pipeline
from citelens.pipeline import ingest_paths, iter_inputs
from citelens.store import open_store


@pytest.fixture
def no_hang() -> Iterator[None]:
    """A read that blocks (a FIFO) would hang the suite; fail the test instead."""
    def boom(*_a: object) -> None:
        raise TimeoutError("input reading hung")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_tar_archive_is_streamed_not_read_whole(tmp_path: Path, mini_jats: bytes) -> None:
    member_bytes = 8 * 1024 * 1024
    t = tmp_path / "big.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        for i in range(4):  # highly compressible: a small archive that expands to 32 MB
            info = tarfile.TarInfo(f"filler-{i}.xml")
            info.size = member_bytes
            tf.addfile(info, io.BytesIO(b" " * member_bytes))
        info = tarfile.TarInfo("mini.xml")
        info.size = len(mini_jats)
        tf.addfile(info, io.BytesIO(mini_jats))
    tracemalloc.start()
    try:
        inputs = list(iter_inputs([t]))
        _, listing_peak = tracemalloc.get_traced_memory()
        assert [Path(i.name.split("!")[1]).name for i in inputs][-1] == "mini.xml"
        assert listing_peak < member_bytes  # the old code read every member while listing: 32 MB here
        tracemalloc.reset_peak()
        for item in inputs:
            assert len(item.read()) in (member_bytes, len(mini_jats))
        _, reading_peak = tracemalloc.get_traced_memory()
        assert reading_peak < 2.5 * member_bytes  # one member (and its copy) at a time
        # Reading out of order (metadata first) reopens the stream and still gets the right member.
        assert inputs[-1].read() == mini_jats and len(inputs[0].read()) == member_bytes
    finally:
        tracemalloc.stop()


def test_fifo_and_device_named_like_articles_are_refused(tmp_path: Path, mini_jats: bytes, no_hang: None) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-good.xml").write_bytes(mini_jats)
    os.mkfifo(folder / "fifo.xml")  # opening it for reading used to wait for a writer forever
    (folder / "zero.xml").symlink_to("/dev/zero")  # passed the size check (0 bytes) and was read until OOM
    store = open_store(tmp_path / "i.db")
    summary = ingest_paths([folder], store, "cues")
    failed = {Path(f.source).name: f.problem for f in summary.failed}
    assert summary.stored == 1
    assert "FIFO" in failed["fifo.xml"] and "not a regular file" in failed["fifo.xml"]
    assert "character device" in failed["zero.xml"]
    store.close()


def test_file_read_never_goes_past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "MAX_FILE_BYTES", 1000)
    f = tmp_path / "a.xml"
    f.write_bytes(b"x" * 1001)
    with pytest.raises(pipeline.InputTooLargeError):
        pipeline._read_file(f)
    f.write_bytes(b"x" * 1000)
    assert len(pipeline._read_file(f)) == 1000


def forge_zip_sizes(data: bytes, new_size: int) -> bytes:
    """Rewrite the uncompressed-size field of every local and central header (a forged zip)."""
    out = bytearray(data)
    i = 0
    while (i := out.find(b"PK\x03\x04", i)) >= 0:
        struct.pack_into("<I", out, i + 22, new_size)
        i += 4
    i = 0
    while (i := out.find(b"PK\x01\x02", i)) >= 0:
        struct.pack_into("<I", out, i + 24, new_size)
        i += 4
    return bytes(out)


def test_forged_zip_size_is_a_clear_error_and_the_batch_goes_on(tmp_path: Path, mini_jats: bytes) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("forged.xml", b"<article>" + b" " * 2_000_000 + b"</article>")
    (tmp_path / "forged.zip").write_bytes(forge_zip_sizes(buf.getvalue(), 100))
    (tmp_path / "good.xml").write_bytes(mini_jats)
    store = open_store(tmp_path / "i.db")
    summary = ingest_paths([tmp_path / "forged.zip", tmp_path / "good.xml"], store, "cues")
    assert summary.stored == 1 and len(summary.failed) == 1
    f = summary.failed[0]
    assert f.source.endswith("forged.zip!forged.xml")
    assert "corrupt archive member" in f.problem and "internal error" not in f.problem
    store.close()


def test_climbing_archive_members_are_listed_as_rejected(tmp_path: Path, mini_jats: bytes) -> None:
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../escape.xml", mini_jats)
        zf.writestr("ok/mini.xml", mini_jats)
        zf.writestr("ok/.hidden.xml", mini_jats)
    t = tmp_path / "evil.tar"
    with tarfile.open(t, "w") as tf:
        for name in ("a/../../up.xml", "/abs.xml"):
            info = tarfile.TarInfo(name)
            info.size = len(mini_jats)
            tf.addfile(info, io.BytesIO(mini_jats))
        link = tarfile.TarInfo("link.xml")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    store = open_store(tmp_path / "i.db")
    summary = ingest_paths([z, t], store, "cues")
    rejected = sorted(f.source.split("!")[1] for f in summary.failed)
    assert rejected == ["../escape.xml", "/abs.xml", "a/../../up.xml"]  # used to vanish without a word
    assert all("unsafe member name" in f.problem for f in summary.failed)
    assert summary.stored == 1
    assert any("link.xml" in s and "symbolic link" in s for s in summary.skipped)
    store.close()


def test_control_characters_in_file_names_never_reach_the_terminal(tmp_path: Path, mini_jats: bytes) -> None:
    from click.testing import CliRunner

    from citelens.cli import main
    from citelens.cli.terminal import safe

    assert safe("a\x1b[31mb\x9bc\u202ed[x]") == "a\\x1b[31mb\\x9bc\\u202ed\\[x]"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "\x1b]0;pwned\x07\x1b[2Jbad.xml").write_bytes(b"<broken")
    (folder / "\x1b[31mnotes.txt").write_text("x")
    result = CliRunner().invoke(main, ["ingest", str(folder), "--db", str(tmp_path / "i.db"), "-q"],
                                 env={"COLUMNS": "400"})
    assert result.exit_code == 1
    out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "bad.xml" in out and "notes.txt" in out
    assert "\x1b" not in out and "\x07" not in out  # used to be printed raw: retitles the window, clears it
    assert "\\x1b]0;pwned\\x07" in out


def test_check_command_refuses_a_device_and_neutralises_escapes(tmp_path: Path, mini_jats: bytes,
                                                                 no_hang: None) -> None:
    from click.testing import CliRunner

    from citelens.cli import main

    db = tmp_path / "i.db"
    store = open_store(db)
    ingest_paths([tmp_path], store, "cues")  # an empty but valid index
    store.close()
    (tmp_path / "refs.txt").symlink_to("/dev/zero")  # used to be read until memory ran out
    result = CliRunner().invoke(main, ["check", str(tmp_path / "refs.txt"), "--db", str(db)])
    assert result.exit_code == 2 and "character device" in result.output
    refs = tmp_path / "list.txt"
    refs.write_text("\x1b]0;pwned\x07Smith J (2001) A title about \x1b[2Jthings. J Biol 3: 1-9.\n")
    for args in (["check", str(refs), "--db", str(db)], ["references", "parse", str(refs)]):
        result = CliRunner().invoke(main, args, env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output


def test_inputs_are_streamed_metadata_first_and_skips_reported_once(tmp_path: Path, mini_jats: bytes,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # InputPaths never lists every input at once: each pass walks the paths again. Metadata still comes first,
    # each kind in input order, and a skipped file is reported once however many passes there are.
    (tmp_path / "a.xml").write_bytes(mini_jats)
    (tmp_path / "b-works.jsonl").write_text("{}\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("not an article", encoding="utf-8")
    t = tmp_path / "d.tar"
    with tarfile.open(t, "w") as tf:
        for name, data in (("x.xml", mini_jats), ("y.jsonl", b"{}\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    walks = []
    real = pipeline.iter_inputs

    def counting(paths, skipped=None):  # noqa: ANN001, ANN202
        walks.append(1)
        return real(paths, skipped)

    monkeypatch.setattr(pipeline, "iter_inputs", counting)
    monkeypatch.setattr(pipeline, "CACHE_INPUTS", 0)  # as if there were more inputs than it keeps
    skipped: list[str] = []
    inputs = pipeline.InputPaths([tmp_path], skipped)
    assert not walks  # nothing is read before it is asked for
    assert inputs.count() == 4  # c.txt is skipped, not an input
    names = [Path(i.name.replace("!", "/")).name for i in inputs.metadata_first()]
    assert names == ["b-works.jsonl", "y.jsonl", "a.xml", "x.xml"]
    assert [s.split(":")[0] for s in skipped] == [str(tmp_path / "c.txt")]
    assert len(walks) == 3  # count, then a metadata pass and an article pass
    assert names == [Path(i.name.replace("!", "/")).name
                     for i in pipeline.metadata_first(list(real([tmp_path])))]  # the old sorted order

    walks.clear()
    (tmp_path / "b-works.jsonl").unlink()
    (tmp_path / "d.tar").unlink()
    only_articles = pipeline.InputPaths([tmp_path])
    assert only_articles.count() == 1 and [Path(i.name).name for i in only_articles.metadata_first()] == ["a.xml"]
    assert len(walks) == 2  # no metadata seen while counting: one pass for the articles

    walks.clear()
    monkeypatch.setattr(pipeline, "CACHE_INPUTS", 100)
    few = pipeline.InputPaths([tmp_path])
    assert few.count() == 1 and len(list(few.metadata_first())) == 1 and len(walks) == 1  # kept: walked once


def test_tar_stream_closes_after_its_last_member(tmp_path: Path) -> None:
    # Reading an archive's members streams through one open file; it is closed once the last member is read,
    # not left to the garbage collector (one open file per archive, before).
    archive = tmp_path / "two.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for i in range(2):
            data = f"<article><front><article-meta><title-group><article-title>A{i}</article-title>".encode()
            info = tarfile.TarInfo(f"a{i}.xml")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    items = list(iter_inputs([archive]))
    assert [item.read()[:9] for item in items] == [b"<article>", b"<article>"]
    stream = items[-1].read.func.__self__  # type: ignore[attr-defined]  # the members' shared _TarStream
    assert stream._open is None
