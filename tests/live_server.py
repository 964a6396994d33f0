"""Real servers for the tests: a uvicorn server for an app, on a free 127.0.0.1 port in a given range, in a thread;
or `citelens serve` itself, as a user runs it, in a subprocess (tests only)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn


def free_port(ports: range) -> int:
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {ports.start}-{ports.stop - 1}")


@contextlib.contextmanager
def live_server(app: Any, ports: range) -> Iterator[str]:
    port = free_port(ports)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def citelens_serve(db: Path | str, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`citelens serve --db DB ARGS` in a subprocess on a free loopback port, with ``env`` added to the
    environment: its address once it accepts connections. The test fails with the server's own error output
    if it exits first or has not started in 30 s."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # A file, not a pipe: nobody reads the server's log while it runs, and a full pipe would block it.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", "citelens.cli", "serve", "--db", str(db), "--port", str(port),
                                 *args], env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        pytest.fail(f"citelens serve did not start: {log.read().decode(errors='replace')}")
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
