"""`train`: cross-validate the families, choose one, calibrate it, save it as a version.

Also the fingerprint that names a version (data, configuration, library versions, format), the
comparison table of a version's families, and the plain progress text shown while training.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from churn import metrics as M
from churn.models.calibration import fit_platt
from churn.models.config import TrainConfig, library_versions
from churn.models.cv import SEGMENTS, _better, _evaluate_family, _n_fits, fold_ids, segment_metrics
from churn.models.family import FAMILIES
from churn.models.model import ChurnModel, _check_frame
from churn.models.registry import (ACTIVE_FILE, MODEL_FORMAT, OOF_FILE, ModelCacheError,
                                   NoModelError, _atomic_write_text, _load_folder, _models_dir,
                                   _sweep, _track, _write_version)
from churn.schema import FEATURES, ID, TARGET

#: Metrics the CLI and the comparison table show, in order.
REPORT_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10", "lift_at_20", "ece")


def progress_text(stage: str, elapsed: float, done: int, total: int) -> str:
    """A training step as a retention manager reads it: "Training model 2 of 4 (Random
    forest) — about 40 s left". The time left is the time per step so far × the steps left
    (seconds under a minute, else whole minutes; nothing at the last step)."""
    left = elapsed / max(done, 1) * max(total - done, 0)
    if done >= total or left < 1:
        return stage
    when = f"about {left:.0f} s left" if left < 60 else f"about {left / 60:.0f} min left"
    return f"{stage} — {when}"


@dataclass
class TrainResult:
    """What ``train`` returns. ``cached``: loaded from the cache instead of trained; ``seconds``:
    wall time of this call; ``warnings``: cache problems found and repaired on the way."""

    model: ChurnModel
    cached: bool
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def metadata(self) -> dict:
        return self.model.metadata

    @property
    def selected(self) -> str:
        return self.model.family

    @property
    def metrics(self) -> dict[str, dict]:
        """family -> mean cross-validated metrics (calibrated OOF probabilities)."""
        return {f: d["cv"] for f, d in self.metadata["families"].items()}

    def comparison(self) -> pd.DataFrame:
        """One row per family: the report metrics, chosen hyperparameters and a selected flag."""
        return comparison_table(self.metadata)


def comparison_table(metadata: dict) -> pd.DataFrame:
    """Comparison of the families in a version's metadata (index: family name)."""
    rows = []
    for name, d in metadata["families"].items():
        row = {"family": name, "label": d["label"], "selected": name == metadata["selected"]}
        row.update({k: d["cv"].get(k) for k in REPORT_METRICS})
        row["params"] = json.dumps(d["params"], sort_keys=True)
        rows.append(row)
    return pd.DataFrame(rows).set_index("family")


# --- fingerprint ---------------------------------------------------------------------------------
def _training_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The canonical columns train uses (customerID if present, FEATURES, Churn), checked."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"train takes a canonical DataFrame, got {type(df).__name__}.")
    if TARGET not in df.columns:
        raise ValueError("train needs the Churn column (0/1): this data has no outcomes to learn "
                         "from. Customers without Churn can be scored, not trained on.")
    X = _check_frame(df, "train")
    y = df[TARGET]
    if y.isna().any() or not set(pd.unique(y)).issubset({0, 1}):
        found = sorted(map(str, pd.unique(y)))[:5]
        raise ValueError(f"Churn must hold 0/1 integers; found {found}. "
                         "Validate the file with churn.validate first.")
    out = X.reset_index(drop=True)
    if ID in df.columns:
        out.insert(0, ID, df[ID].astype(str).to_numpy())
    out[TARGET] = y.astype(int).to_numpy()
    return out


def data_fingerprint(df: pd.DataFrame) -> str:
    """sha256 of a canonical frame's content (customerID, FEATURES, Churn; row order counts)."""
    frame = _training_frame(df) if TARGET in df.columns else _check_frame(df, "fingerprint")
    h = hashlib.sha256()
    h.update(json.dumps(list(frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def fingerprint(df: pd.DataFrame, config: TrainConfig) -> str:
    """sha256 of the data content, the config, the library versions and MODEL_FORMAT."""
    blob = {"data": data_fingerprint(df), "config": config.checked().to_dict(),
            "libraries": library_versions(), "format": MODEL_FORMAT}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()


def train(df: pd.DataFrame, config: TrainConfig | None = None, models_dir=None, *,
          progress: Callable[[float, str], None] | None = None,
          activate: bool = True) -> TrainResult:
    """Train (or load from the cache) the families in ``config``; make the result active unless
    ``activate`` is False (a candidate to compare with the active model before switching).

    df: canonical frame with Churn 0/1 (extra columns ignored). config: ``TrainConfig()`` by
    default. models_dir: the cache folder (default ``config.paths().models_dir``), which is also
    the record of every trained version (`list_versions`).
    Every version is logged once to MLflow and registered as model ``churn`` (``churn.tracking``);
    the alias ``champion`` follows the active version, ``challenger`` marks a version trained with
    ``activate=False``. Tracking problems become warnings; the model is kept whatever MLflow does.
    progress: optional callback(fraction 0..1, message), called after every fit.
    Raises ValueError for caller errors (no Churn column, one class only, bad config).
    """
    t0 = time.perf_counter()
    config = (config or TrainConfig()).checked()
    d = _models_dir(models_dir)
    frame = _training_frame(df)
    y = frame[TARGET].to_numpy()
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if min(pos, neg) < config.folds:
        raise ValueError(f"Churn has {pos} churners and {neg} customers who stayed; "
                         f"{config.folds}-fold cross-validation needs at least {config.folds} "
                         "of each.")
    fp = fingerprint(frame, config)
    version = fp[:16]
    warnings = _sweep(d)
    folder = d / version
    if folder.exists():
        try:
            model = _load_folder(folder, config.n_jobs)
            if model.metadata.get("fingerprint") != fp:
                raise ModelCacheError(f"model version {version}: fingerprint does not match")
            if activate:
                _atomic_write_text(d / ACTIVE_FILE, f"{version}\n")
            warnings += _track(d, version, "champion" if activate else "challenger")
            return TrainResult(model, True, time.perf_counter() - t0, warnings)
        except ModelCacheError as exc:
            warnings.append(f"Cached {exc}; retrained it.")

    # MLflow's import and store open in a child process while the models train (churn.tracking)
    job = _start_tracking(d)
    try:
        result = _train_new(frame, y, config, d, fp, version, warnings, progress, activate, t0)
    except BaseException:
        if job is not None:
            job.cancel()
        raise
    result.warnings += _track(d, version, "champion" if activate else "challenger", job)
    return result


def _train_new(frame, y, config, d, fp, version, warnings, progress, activate,
               t0) -> TrainResult:
    """`train`'s work when the version is not cached: fit, select, calibrate, save, activate."""
    X = frame[FEATURES]
    folds = fold_ids(y, config.folds, config.seed)
    total = sum(_n_fits(FAMILIES[f], config.grid) for f in config.families) * config.folds + 1
    done = [0]
    started = time.perf_counter()

    def tick(stage: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(min(done[0] / total, 1.0),
                     progress_text(stage, time.perf_counter() - started, done[0], total))

    def family_tick(i: int, name: str):
        stage = (f"Training model {i + 1} of {len(config.families)} "
                 f"({FAMILIES[name].label})")
        return lambda _detail: tick(stage)

    from threadpoolctl import threadpool_limits

    # Single-threaded BLAS: the fits are small, and OpenBLAS threads on a busy 2-core machine
    # slowed logistic regression ten-fold in measurements.
    with threadpool_limits(limits=1, user_api="blas"):
        results = {name: _evaluate_family(name, X, y, folds, config, family_tick(i, name))
                   for i, name in enumerate(config.families)}
        metric = config.selection_metric
        selected = None
        for name in config.families:
            if selected is None or _better(metric, results[name]["cv"][metric],
                                           results[selected]["cv"][metric]):
                selected = name
        best = results[selected]
        cls = FAMILIES[selected]
        est = cls.make(best["params"], config.seed, config.n_jobs).fit(X, y)
    a, b = fit_platt(best["margin"], y)
    tick(f"Training the chosen model ({cls.label}) on all {len(y):,} customers")

    oof = pd.DataFrame({ID: frame[ID] if ID in frame else np.arange(len(y)).astype(str),
                        TARGET: y, "fold": folds})
    for col in SEGMENTS:
        oof[col] = frame[col].to_numpy()
    fam_meta = {}
    for name, r in results.items():
        oof[f"p_{name}"] = r["prob"]
        fam_meta[name] = {
            "label": FAMILIES[name].label, "params": r["params"], "grid": r["grid"],
            "cv": r["cv"], "cv_std": r["cv_std"],
            "oof": M.summary(y, r["prob"], config.threshold),
            "curves": M.curves(y, r["prob"]),
            "segments": segment_metrics(frame, y, r["prob"], config.threshold),
            "seconds": r["seconds"],
        }
    meta = {
        "format": MODEL_FORMAT, "version": version, "fingerprint": fp,
        "data_fingerprint": data_fingerprint(frame),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": config.to_dict(), "libraries": library_versions(),
        "features": list(FEATURES), "n_rows": int(len(y)), "churn_rate": float(y.mean()),
        "selected": selected, "family": selected, "selection_metric": metric,
        "params": best["params"], "calibration": {"a": a, "b": b},
        "segments": fam_meta[selected]["segments"], "families": fam_meta,
        "oof_file": OOF_FILE, "train_seconds": time.perf_counter() - t0,
    }
    _write_version(d, version, est, oof, meta)
    model = _load_folder(d / version, config.n_jobs)
    if activate:
        _atomic_write_text(d / ACTIVE_FILE, f"{version}\n")
    return TrainResult(model, False, time.perf_counter() - t0, warnings)


def _start_tracking(models_dir: Path):
    """`churn.tracking.start`: the child process that will log the version (None: off)."""
    from churn import tracking

    return tracking.start(models_dir)


def active_or_train(df: pd.DataFrame, config: TrainConfig | None = None, models_dir=None, *,
                    progress: Callable[[float, str], None] | None = None) -> ChurnModel:
    """The active model when one loads cleanly, else ``train(df, config, models_dir)``'s model.

    For callers that need *a* model (the app's first start, the score command): an active model is
    used as is, whatever data it was trained on; a missing or unusable one is (re)trained.
    """
    from churn import models  # the package's names: a test (or tool) may replace models.train

    try:
        return models.load_active(models_dir)
    except (NoModelError, ModelCacheError):
        return models.train(df, config, models_dir, progress=progress).model

