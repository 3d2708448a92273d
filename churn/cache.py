"""Results kept on disk because they are slow to compute and can always be computed again: the
one cache mechanism of the workbench (issue 16 found four hand-made ones).

What uses it:
- the scoring engine's fitted parts (survival model and recommender; the uplift model) under
  ``<data>/models/_parts/`` (`churn.scoring`), so a restart does not refit them;
- the app's derived results under ``<data>/cache/`` (the scored active base, retention curves,
  the global explanation: `ui.context`, `ui.overview_charts`, `ui.explain_cache`), so a
  restarted server does not score or explain again.

What does not: trained model versions (`churn.models`) are a registry, not a cache: a user lists,
compares, activates and deletes them, and each carries its metrics and MLflow run.

`DiskCache(folder)` stores one object per (kind, key) as ``<folder>/<kind>-<key>.pkl`` (plain
pickle, highest protocol: reading a scoring of the sample back takes 0.05 s, against 1.3 s
through joblib's unpickler, which made a restarted app 3 s slower), written through
`churn.files.atomic_path` (a reader never sees half a file). `key(*parts)` hashes
what the result depends on together with `code_stamp()` (the source of every ``churn`` module and
the versions of the libraries results come from), so changed code or libraries never read an old
result. A file that cannot be read counts as missing (it is recomputed). Each kind keeps its
``keep`` most recently used files within ``max_bytes`` (oldest go first). The files are pickles:
only this code writes and reads them; never point a cache at files from elsewhere.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
from pathlib import Path
from typing import Callable

from churn.files import atomic_path

KEEP = 8                    # files per kind
MAX_BYTES = 768 * 1024**2   # per kind (a scoring of 100,000 customers is about 150 MB)
LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "xgboost", "catboost", "lifelines",
             "scikit-surprise", "shap", "pyarrow")
SUFFIX = ".pkl"
_CHURN = Path(__file__).resolve().parent
_LOCK = threading.Lock()
_SOURCES: dict = {}         # path -> ((size, mtime_ns), sha256 of the file)
_LIBS: list = []            # the library versions, read once per process

log = logging.getLogger("churn.cache")


def code_stamp() -> str:
    """A hash of every ``churn`` source file (subpackages too) and the versions of `LIBRARIES`
    (Python too). Files are re-hashed only when their size or modification time changes."""
    h = hashlib.sha256()
    for path in sorted(_CHURN.rglob("*.py")):
        try:
            st = path.stat()
        except OSError:
            continue
        sig = (st.st_size, st.st_mtime_ns)
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


def file_stamp(path) -> str:
    """Size and modification time of a file ("-" when it is missing): part of a key when a
    result depends on the file (e.g. the offer catalogue)."""
    try:
        s = Path(path).stat()
    except OSError:
        return "-"
    return f"{s.st_size}:{s.st_mtime_ns}"


def key(*parts) -> str:
    """A file-name-safe key of ``parts`` (their repr; bytes as they are) and `code_stamp()`."""
    h = hashlib.sha256(code_stamp().encode())
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


class DiskCache:
    """Objects on disk under ``folder``, one file per (kind, key); see the module docstring.

    folder: where the files go (created on the first write). keep: files kept per kind.
    max_bytes: bytes kept per kind (the most recently used file is always kept).
    """

    def __init__(self, folder, keep: int = KEEP, max_bytes: int = MAX_BYTES):
        self.folder = folder
        self.keep = keep
        self.max_bytes = max_bytes

    def path(self, kind: str, k: str) -> Path:
        """The file of (kind, key)."""
        if not kind.isidentifier():
            raise ValueError(f"cache kind {kind!r} must be a plain word, e.g. 'scored'")
        if not k or not all(c.isalnum() or c in "-_" for c in k):
            raise ValueError(f"cache key {k!r} must be letters, digits, '-' or '_' "
                             "(use churn.cache.key(...))")
        return Path(self.folder) / f"{kind}-{k}{SUFFIX}"

    def has(self, kind: str, k: str) -> bool:
        """True when a file is there for (kind, key) (it may still turn out unreadable)."""
        return self.path(kind, k).exists()

    def read(self, kind: str, k: str):
        """The object saved under (kind, key), or None when there is none or it cannot be read
        (damaged, or written by other library versions: the caller computes it again)."""
        path = self.path(kind, k)
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

    def write(self, kind: str, k: str, value) -> bool:
        """Save ``value`` under (kind, key); True when written. Never raises: a cache that
        cannot be written (full disk, read-only folder) only costs time the next time."""
        path = self.path(kind, k)
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - logged; the result itself is still returned
            log.warning("could not write cache file %s", path, exc_info=True)
            return False
        self._prune(kind)
        return True

    def get(self, kind: str, k: str, compute: Callable[[], object]):
        """The object under (kind, key), computed by ``compute()`` and saved when missing."""
        found = self.read(kind, k)
        if found is None:
            found = compute()
            self.write(kind, k, found)
        return found

    def _prune(self, kind: str) -> None:
        """Keep the ``keep`` most recently used files of ``kind``, within ``max_bytes``."""
        with _LOCK:
            files = []
            for p in Path(self.folder).glob(f"{kind}-*{SUFFIX}"):
                try:
                    s = p.stat()
                except OSError:
                    continue
                files.append((s.st_mtime_ns, s.st_size, p))
            files.sort(reverse=True)
            total = 0
            for i, (_, size, p) in enumerate(files):
                total += size
                if i >= self.keep or (i > 0 and total > self.max_bytes):
                    try:
                        p.unlink()
                    except OSError:
                        pass

    def clear(self) -> None:
        """Delete every file of this cache."""
        for p in Path(self.folder).glob(f"*{SUFFIX}"):
            try:
                p.unlink()
            except OSError:
                pass


def results(paths=None) -> DiskCache:
    """The cache of a data folder's derived results: ``<data>/cache`` (default
    ``churn.config.paths()``)."""
    from churn import config

    return DiskCache((paths or config.paths()).data_dir / "cache")


def parts(paths=None) -> DiskCache:
    """The cache of the scoring engine's fitted parts: ``<data>/models/_parts``."""
    from churn import config

    return DiskCache((paths or config.paths()).models_dir / "_parts")
