"""Atomic file writes: the one way the workbench replaces a file.

A file is written to a hidden temporary name beside its target (``.<name>.<pid>.<random>.tmp``,
so two processes never share one) and renamed onto the target only when the writing succeeded.
The rename is atomic on one file system: a reader sees the old file or the new one, never half
of one, and a killed or failing writer leaves the target as it was (its temporary file is
removed on an error; a hard kill can leave one behind, hidden).

- `atomic_path(path)`: a context manager that yields the temporary path, for writers that need a
  path (pandas, pyarrow, joblib, a sink);
- `write_bytes(path, data)` / `write_text(path, text)`: the common cases, flushed to disk
  (``fsync``) before the rename.

Whole folders (model versions) and the batch scorer's two-file commit (scores and rejects,
``batch.partial_path``) have their own protocols, documented where they live.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def temporary_name(path: Path) -> Path:
    """The hidden temporary file beside ``path`` that `atomic_path` writes first."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (its folder is created); when the block ends
    without an error, the temporary file replaces ``path``; otherwise it is removed and the
    error goes on."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_text(path: str | os.PathLike, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    write_bytes(path, text.encode("utf-8"))


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, killed but not yet reaped, does not): how a
    leftover temporary file or folder named with its writer's pid is known to be abandoned."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except OSError:                          # no /proc (not Linux): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
