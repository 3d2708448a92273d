"""Saved model versions on disk: write, verify, load, list and activate them.

Layout of ``models_dir`` (by default ``config.paths().models_dir``)::

    <version>/metadata.json   everything about the version, incl. sha256 of every other file
    <version>/model.(joblib|ubj|cbm), preprocess.joblib (lr/rf/xgb), oof.parquet
    <version>/mlflow.json     its MLflow run and registered model version (``churn.tracking``)
    ACTIVE                    the active version id (written atomically): the one source of
                              truth for the active model; MLflow's ``champion`` alias follows it

A version is written into a ``.tmp-<version>-<pid>-<random>`` folder and renamed into place only
when complete. A folder that cannot be used (unreadable or bad JSON, missing file, checksum
mismatch, another format or other library versions, a half-written temp folder of a dead
process) raises `ModelCacheError` naming why; it is never loaded.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from churn.files import process_alive
from churn.models.config import library_versions
from churn.models.family import FAMILIES, Family
from churn.models.model import ChurnModel

#: Bump when the training procedure or the artifact layout changes (part of the fingerprint).
MODEL_FORMAT = 1
METADATA = "metadata.json"
OOF_FILE = "oof.parquet"
PREPROCESS_FILE = "preprocess.joblib"
ACTIVE_FILE = "ACTIVE"
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"
#: Columns the per-segment metrics are broken down by.
#: Temp folders older than this (seconds) are stale even if their process id is in use again.
STALE_TMP_SECONDS = 6 * 3600


class ModelCacheError(RuntimeError):
    """A model version folder cannot be used (the message says why)."""


class NoModelError(LookupError):
    """There is no active model yet."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def jsonable(obj):
    """Replace NaN/inf floats by None and numpy scalars by Python ones (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if np.isfinite(v) else None
    return obj


def _models_dir(models_dir) -> Path:
    if models_dir is None:
        from churn.config import paths

        return paths().models_dir
    return Path(models_dir)


def _sweep(models_dir: Path) -> list[str]:
    """Remove half-written temp folders of dead processes and leftover trash; return warnings."""
    out = []
    if not models_dir.is_dir():
        return out
    for entry in models_dir.iterdir():
        if entry.name.startswith(TRASH_PREFIX):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(TMP_PREFIX) and entry.is_dir():
            parts = entry.name[len(TMP_PREFIX):].split("-")
            pid = int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else None
            age = time.time() - entry.stat().st_mtime
            fresh = age < STALE_TMP_SECONDS
            if fresh and pid is not None and (pid == os.getpid() or process_alive(pid)):
                continue  # a live process (maybe this one, in another thread) is writing it
            shutil.rmtree(entry, ignore_errors=True)
            out.append(f"Removed a half-written model folder {entry.name} (left by an interrupted "
                       "training).")
    return out


def _read_metadata(folder: Path) -> dict:
    path = folder / METADATA
    if not path.is_file():
        raise ModelCacheError(f"model version {folder.name}: {METADATA} is missing")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelCacheError(f"model version {folder.name}: {METADATA} is not valid JSON ({exc})")
    if not isinstance(meta, dict):
        raise ModelCacheError(f"model version {folder.name}: {METADATA} does not hold an object")
    return meta


_REQUIRED_KEYS = ("format", "version", "fingerprint", "family", "params", "calibration",
                  "libraries", "artifacts", "families", "selected", "config")


def _verify(folder: Path) -> dict:
    """Metadata of a version folder after checking it completely, or ModelCacheError."""
    meta = _read_metadata(folder)
    missing = [k for k in _REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelCacheError(f"model version {folder.name}: metadata lacks {', '.join(missing)}")
    if meta["version"] != folder.name:
        raise ModelCacheError(f"model version {folder.name}: metadata names version "
                              f"{meta['version']!r}")
    if meta["format"] != MODEL_FORMAT:
        raise ModelCacheError(f"model version {folder.name}: saved in format {meta['format']!r}, "
                              f"this code reads format {MODEL_FORMAT}")
    if meta["family"] not in FAMILIES:
        raise ModelCacheError(f"model version {folder.name}: unknown family {meta['family']!r}")
    now = library_versions()
    if meta["libraries"] != now:
        diff = [f"{k} {meta['libraries'].get(k)} (now {v})" for k, v in now.items()
                if meta["libraries"].get(k) != v] if isinstance(meta["libraries"], dict) else []
        raise ModelCacheError(f"model version {folder.name}: built with other library versions: "
                              + (", ".join(diff) or "unreadable list"))
    arts = meta["artifacts"]
    if not isinstance(arts, dict) or not arts:
        raise ModelCacheError(f"model version {folder.name}: no artifact checksums in metadata")
    for name, digest in arts.items():
        path = folder / name
        if not path.is_file():
            raise ModelCacheError(f"model version {folder.name}: file {name} is missing")
        if _sha256(path) != digest:
            raise ModelCacheError(f"model version {folder.name}: file {name} does not match its "
                                  "checksum (changed or damaged)")
    cal = meta["calibration"]
    if not (isinstance(cal, dict) and all(isinstance(cal.get(k), (int, float)) for k in "ab")):
        raise ModelCacheError(f"model version {folder.name}: calibration parameters unreadable")
    return meta


def _load_folder(folder: Path, n_jobs: int | None = None) -> ChurnModel:
    meta = _verify(folder)
    cls = FAMILIES[meta["family"]]
    cfg = meta["config"]
    try:
        est = cls.load(folder, meta["params"], int(cfg.get("seed", 42)),
                       int(n_jobs or cfg.get("n_jobs", 2)))
    except Exception as exc:  # a library refusing the file: report, never serve
        raise ModelCacheError(f"model version {folder.name}: the {cls.label} model could not be "
                              f"loaded ({type(exc).__name__}: {exc})") from exc
    cal = meta["calibration"]
    calibration = (float(cal["a"]), float(cal["b"]))
    return ChurnModel(meta["version"], meta["family"], est, calibration, meta)


def _atomic_write_text(path: Path, text: str) -> None:
    from churn.files import write_text

    write_text(path, text)


def _run_info(folder: Path) -> dict | None:
    from churn import tracking

    return tracking.run_info(folder)


def _track(models_dir: Path, version: str, alias: str, job=None) -> list[str]:
    """Log the version to MLflow (once) and point ``alias`` at it, through the tracking job
    (`churn.tracking.track`: waited for unless ``CHURN_TRACKING=background``); warnings, never
    an error."""
    from churn import tracking

    return tracking.track(models_dir, version, alias, job)


# --- cache: public API ---------------------------------------------------------------------------
def _is_version_name(name: str) -> bool:
    """Version ids are the first 16 hex digits of a fingerprint."""
    return len(name) == 16 and all(c in "0123456789abcdef" for c in name)


def active_version(models_dir=None) -> str | None:
    """The version id in the ACTIVE pointer, or None when there is none."""
    path = _models_dir(models_dir) / ACTIVE_FILE
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def activate(version: str, models_dir=None) -> list[str]:
    """Make ``version`` the active model (checked first; the pointer is written atomically).

    The ``ACTIVE`` pointer is the one source of truth for the active model; the MLflow registry's
    ``champion`` alias is then moved to it (``churn.tracking``; MLflow is imported only here).
    This is the activation the app, the command line and the API all call.
    Returns warnings (e.g. the tracking server could not be reached; the switch still happened).
    Raises ValueError for an unknown version and ModelCacheError for an unusable one.
    """
    d = _models_dir(models_dir)
    folder = d / str(version)
    if not _is_version_name(str(version)) or not folder.is_dir():
        known = [v["version"] for v in list_versions(d)]
        raise ValueError(f"Unknown model version {version!r}; known versions: "
                         + (", ".join(known) if known else "none (train a model first)") + ".")
    _verify(folder)
    _atomic_write_text(d / ACTIVE_FILE, f"{version}\n")
    return _track(d, str(version), "champion")


def list_versions(models_dir=None) -> list[dict]:
    """Every version folder, newest first: version, created, family, selection metric and value,
    rows, active (bool), usable (bool), problem (why it is not usable, else None), mlflow_run
    and mlflow_model_version (its MLflow run id and registered ``churn`` version, else None)."""
    d = _models_dir(models_dir)
    if not d.is_dir():
        return []
    active = active_version(d)
    out = []
    for folder in d.iterdir():
        if not folder.is_dir() or not _is_version_name(folder.name):
            continue  # temp/trash folders and other tools' folders (e.g. "_parts")
        row = {"version": folder.name, "created": None, "family": None, "selection_metric": None,
               "score": None, "rows": None, "active": folder.name == active, "usable": True,
               "problem": None, "mlflow_run": None, "mlflow_model_version": None}
        run = _run_info(folder)
        if run:
            row.update(mlflow_run=run.get("run_id"), mlflow_model_version=run.get("model_version"))
        try:
            meta = _verify(folder)
        except ModelCacheError as exc:
            row.update(usable=False, problem=str(exc))
            try:
                meta = _read_metadata(folder)
            except ModelCacheError:
                meta = {}
        if meta:
            metric = meta.get("selection_metric")
            fam = meta.get("family")
            row.update(created=meta.get("created"), family=fam, selection_metric=metric,
                       rows=meta.get("n_rows"))
            try:
                row["score"] = meta["families"][fam]["cv"][metric]
            except (KeyError, TypeError):
                pass
        out.append(row)
    out.sort(key=lambda r: (r["created"] or "", r["version"]), reverse=True)
    return out


def load_version(version: str, models_dir=None, n_jobs: int | None = None) -> ChurnModel:
    """The model of one version, after verifying metadata, checksums and library versions.

    Raises ValueError for an unknown version, ModelCacheError for an unusable one.
    """
    folder = _models_dir(models_dir) / str(version)
    if not _is_version_name(str(version)) or not folder.is_dir():
        raise ValueError(f"Unknown model version {version!r} in {folder.parent}.")
    return _load_folder(folder, n_jobs)


def load_active(models_dir=None, n_jobs: int | None = None) -> ChurnModel:
    """The active model. NoModelError when none is active; ModelCacheError when it is unusable."""
    d = _models_dir(models_dir)
    version = active_version(d)
    if version is None:
        raise NoModelError(f"No active model in {d}: train one first "
                           "(`python -m churn train` or the Model page).")
    if not _is_version_name(version):
        raise ModelCacheError(f"The active-model pointer {d / ACTIVE_FILE} is damaged (it reads "
                              f"{version[:40]!r}); train again or activate a version.")
    folder = d / version
    if not folder.is_dir():
        raise ModelCacheError(f"The active model version {version} is missing from {d}; "
                              "train again or activate another version.")
    return _load_folder(folder, n_jobs)


def _write_version(models_dir: Path, version: str, est: Family, oof: pd.DataFrame,
                   meta: dict) -> Path:
    """Write a complete version into a temp folder, then rename it into place atomically."""
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f"{TMP_PREFIX}{version}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files = est.save(tmp)
        oof.to_parquet(tmp / OOF_FILE, index=False)
        files.append(OOF_FILE)
        meta["artifacts"] = {f: _sha256(tmp / f) for f in files}
        text = json.dumps(jsonable(meta), indent=1, allow_nan=False)
        with open(tmp / METADATA, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        final = models_dir / version
        if final.exists():
            try:  # another process finished the same version first: keep theirs
                _verify(final)
                shutil.rmtree(tmp, ignore_errors=True)
                return final
            except ModelCacheError:
                pass
            trash = models_dir / f"{TRASH_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
            os.replace(final, trash)
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, final)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_oof(version: str, models_dir=None) -> pd.DataFrame:
    """The out-of-fold predictions of a version: customerID, Churn, fold, the SEGMENTS columns and
    ``p_<family>`` (cross-fitted calibrated P(churn)) for every family compared. For the model
    report page's curves and tables (``churn.metrics`` computes them from y and p)."""
    folder = _models_dir(models_dir) / str(version)
    if not _is_version_name(str(version)) or not folder.is_dir():
        raise ValueError(f"Unknown model version {version!r} in {folder.parent}.")
    meta = _verify(folder)
    return pd.read_parquet(folder / meta.get("oof_file", OOF_FILE))
