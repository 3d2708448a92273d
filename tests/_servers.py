"""A real server process for a test session (not collected: no test_ prefix): the one way the
browser test starts the app and the API test starts the API.

`serve(args, ready_url=..., env=..., log=...)` starts ``python -m ...`` from the repository root
with its output in ``log``, waits until ``ready_url`` answers 200 (failing the test with the log's
end if the process exits or never gets ready), yields, and on the way out terminates the process
by its own handle and waits for it.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


@contextmanager
def serve(args: list[str], *, ready_url: str, env: dict, log: Path, timeout: float = 300.0):
    """Run ``python <args>`` until the block ends; see the module docstring."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{' '.join(args)} exited with status {proc.returncode}:\n"
                            f"{_tail(log)}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as r:
                    if r.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{ready_url} was not ready within {timeout:.0f} s:\n{_tail(log)}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
