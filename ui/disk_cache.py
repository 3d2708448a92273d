"""Results kept on disk between server processes, so a restarted app does not recompute them.

`st.cache_resource` / `st.cache_data` live in one server process: after a restart the Overview
would load the scoring engine (survival model, recommender, lifelines...) and score the customers
again before showing anything (seconds for the sample, over ten seconds for 100,000 customers).
The cached accessors in `ui.context` and `ui.overview_charts` therefore also look here first.

Files: ``<data folder>/cache/<kind>-<key>.pkl`` (pickle), written to a temporary file and renamed,
so a reader never sees half a file; a file that cannot be read is ignored (and recomputed).
Keys: `key(...)` hashes what the caller passes (model version, data fingerprint, settings...)
together with `code_stamp()`: the source of every `churn` module and the versions of the
libraries the results come from, so changed code or libraries never read an old result.
Each kind keeps its `KEEP` most recent files and at most `MAX_BYTES` in all (oldest go first).

Only this app writes and reads these files (they are pickles: never load files from elsewhere).
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
from pathlib import Path

from churn import config
from churn.files import atomic_path

KEEP = 8                    # files per kind
MAX_BYTES = 768 * 1024**2   # per kind (a scoring of 100,000 customers is about 150 MB)
LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "xgboost", "catboost", "lifelines",
             "scikit-surprise", "shap", "pyarrow")
_CHURN = Path(__file__).resolve().parent.parent / "churn"
_LOCK = threading.Lock()
_SOURCES: dict = {}         # path -> ((size, mtime_ns), sha256 of the file)
_LIBS: list = []            # the library versions, read once per process

log = logging.getLogger("churn.app")


def folder() -> Path:
    """The cache folder of the current data folder (``CHURN_DATA_DIR`` moves it)."""
    return config.paths().data_dir / "cache"


def code_stamp() -> str:
    """A hash of every ``churn`` source file, subpackages included (``churn/models/...``), and
    the versions of `LIBRARIES` (Python too).

    Files are re-hashed only when their size or modification time changes (a few stat calls per
    use)."""
    h = hashlib.sha256()
    for path in sorted(_CHURN.rglob("*.py")):
        try:
            st_ = path.stat()
        except OSError:
            continue
        sig = (st_.st_size, st_.st_mtime_ns)
        hit = _SOURCES.get(path)
        if hit is None or hit[0] != sig:
            hit = (sig, hashlib.sha256(path.read_bytes()).hexdigest())
            _SOURCES[path] = hit
        h.update(f"{path.relative_to(_CHURN).as_posix()}:{hit[1]}".encode())
    if not _LIBS:
        from importlib import metadata
        import platform

        found = [f"python {platform.python_version()}"]
        for name in LIBRARIES:
            try:
                found.append(f"{name} {metadata.version(name)}")
            except metadata.PackageNotFoundError:
                found.append(f"{name} -")
        _LIBS.extend(found)
    h.update("|".join(_LIBS).encode())
    return h.hexdigest()


def file_stamp(path: Path) -> str:
    """Size and modification time of a file ("-" when it is missing): part of a key when a
    result depends on the file (e.g. the offer catalogue)."""
    try:
        s = Path(path).stat()
    except OSError:
        return "-"
    return f"{s.st_size}:{s.st_mtime_ns}"


def key(*parts) -> str:
    """A file-name-safe key of `parts` (their repr) and `code_stamp()`."""
    h = hashlib.sha256(code_stamp().encode())
    for p in parts:
        h.update(repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def _path(kind: str, k: str) -> Path:
    if not kind.isidentifier():
        raise ValueError(f"cache kind {kind!r} must be a plain word, e.g. 'scored'")
    return folder() / f"{kind}-{k}.pkl"


def read(kind: str, k: str):
    """The object saved under (kind, key), or None when there is none or it cannot be read."""
    path = _path(kind, k)
    try:
        with open(path, "rb") as fh:
            out = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - damaged or from other versions: recompute
        log.warning("ignoring unreadable cache file %s", path, exc_info=True)
        return None
    try:
        os.utime(path)  # most recently used: pruned last
    except OSError:
        pass
    return out


def write(kind: str, k: str, value) -> None:
    """Save `value` under (kind, key); never raises (a cache that cannot be written only costs
    time on the next start)."""
    path = _path(kind, k)
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - full disk, read-only folder...
        log.warning("could not write cache file %s", path, exc_info=True)
        return
    _prune(kind)


def _prune(kind: str) -> None:
    """Keep the `KEEP` most recently used files of `kind`, within `MAX_BYTES`."""
    with _LOCK:
        files = []
        for p in folder().glob(f"{kind}-*.pkl"):
            try:
                s = p.stat()
            except OSError:
                continue
            files.append((s.st_mtime_ns, s.st_size, p))
        files.sort(reverse=True)
        total = 0
        for i, (_, size, p) in enumerate(files):
            total += size
            if i >= KEEP or (i > 0 and total > MAX_BYTES):
                try:
                    p.unlink()
                except OSError:
                    pass


def clear() -> None:
    """Delete every cache file of the current data folder (e.g. from a test)."""
    for p in folder().glob("*.pkl"):
        try:
            p.unlink()
        except OSError:
            pass
