"""Benchmarks of churn.models: training the four families, loading, scoring, explaining.

Cases
- ``train_all``: `train` with the default config (lr, rf, xgb, cat; full grids; stratified 5-fold
  CV; cross-fitted Platt; refit of the selected family; artifacts written) on the 7,043-row
  sample into an empty cache folder (target 60 s). ``--quick``: small grids.
- ``load_active``: first `load_active` in a fresh process (the model's libraries are imported
  inside the timed call; numpy and pandas are already loaded, as in the app) (target 2 s).
- ``score_100k``: `ChurnModel.predict_proba` on 100,000 customers (target 2 s).
- ``train_tracked``: the ``train_all`` training with MLflow tracking on (``CHURN_TRACKING=on``:
  run logged, model registered as ``churn`` with its pyfunc, alias set, and `models.train` waits
  for all of it) against the same training with tracking off, each into an empty cache folder;
  reported as the ratio (target 1.2). The tracked one starts from a data folder without a
  tracking database (the worst case: MLflow's import and its schema creation are in the timed
  call, in the tracking child process that runs beside the training). The model libraries are
  imported before either run so neither pays their import.
- ``contribs_100k``: exact contributions of the active model (`ChurnModel.contributions`) for
  100,000 customers; reported as rows per second (information, no target). ``--quick``: 10,000.

``load_active``, ``score_100k`` and ``contribs_100k`` use the active model of
``bench/results/data/models``, trained with the default config first when there is none.
Run: ``python bench/bench_models.py CASE [--quick]``.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import main, result, scratch_dir, timed  # noqa: E402  (puts the repo root on sys.path)

from churn import models  # noqa: E402
from churn.config import SAMPLE_ROWS, SAMPLE_SEED, paths  # noqa: E402
from churn.synth import generate_customers  # noqa: E402


def _sample():
    return generate_customers(SAMPLE_ROWS, SAMPLE_SEED)


def _models_dir() -> Path:
    scratch_dir("models")  # sets CHURN_DATA_DIR to bench/results/data unless already set
    return paths().models_dir


def _ensure_active() -> Path:
    """The bench cache folder with an active model (trained with the default config if needed)."""
    d = _models_dir()
    if models.active_version(d) is None:
        models.train(_sample(), models.TrainConfig(), d)
    else:
        try:
            models.load_active(d)
        except models.ModelCacheError:
            models.train(_sample(), models.TrainConfig(), d)
    return d


def _customers(n: int):
    return generate_customers(n, 7)


def train_all(quick: bool) -> list[dict]:
    df = _sample()
    folder = scratch_dir("models") / "train_all"
    shutil.rmtree(folder, ignore_errors=True)
    cfg = models.TrainConfig(grid="small" if quick else "full")
    seconds, _, res = timed(lambda: models.train(df, cfg, folder))
    cv = res.metrics[res.selected]
    figures = "; ".join(f"{n} AUC {m['roc_auc']:.3f} PR {m['pr_auc']:.3f} Brier {m['brier']:.3f}"
                        for n, m in res.metrics.items())
    return [result("train_all", seconds, "s", 60.0,
                   note=f"{len(df)} rows, {cfg.grid} grids, 5-fold CV; selected {res.selected} "
                        f"(PR-AUC {cv['pr_auc']:.3f}); {figures}")]


def load_active(quick: bool) -> list[dict]:
    d = _ensure_active()
    # _ensure_active may have imported the model libraries; time a load in a fresh interpreter.
    import subprocess

    code = ("import time, numpy, pandas\n"
            "from churn import models\n"
            "t = time.perf_counter()\n"
            f"m = models.load_active({str(d)!r})\n"
            "print(time.perf_counter() - t, m.family, m.version)\n")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True).stdout.split()
    seconds, family, version = float(out[0]), out[1], out[2]
    t0 = time.perf_counter()
    models.load_active(d)
    warm = time.perf_counter() - t0
    return [result("load_active", seconds, "s", 2.0,
                   note=f"cold load of {family} version {version} in a fresh process "
                        f"(warm reload {warm:.3f} s)")]


def score_100k(quick: bool) -> list[dict]:
    model = models.load_active(_ensure_active())
    n = 10_000 if quick else 100_000
    df = _customers(n)
    seconds, _, p = timed(lambda: model.predict_proba(df), repeat=3)
    return [result("score_100k", seconds, "s", 2.0,
                   note=f"{n} rows, {model.family}; mean P(churn) {p.mean():.3f}")]


def contribs_100k(quick: bool) -> list[dict]:
    model = models.load_active(_ensure_active())
    n = 10_000 if quick else 100_000
    df = _customers(n)
    model.contributions(df.iloc[:100])  # warm up lazy parts (explainers, thread pools)
    seconds, _, out = timed(lambda: model.contributions(df))
    return [result("contribs_100k", n / seconds, "rows/s", None, lower_is_better=False,
                   note=f"exact contributions of {model.family} for {n} rows in {seconds:.2f} s")]


def train_tracked(quick: bool) -> list[dict]:
    import os
    import subprocess

    for mod in ("sklearn.linear_model", "sklearn.ensemble", "xgboost", "catboost", "shap"):
        __import__(mod)
    df = _sample()
    base = scratch_dir("models") / "train_tracked"
    shutil.rmtree(base, ignore_errors=True)
    cfg = models.TrainConfig(grid="small" if quick else "full")
    os.environ["CHURN_TRACKING"] = "off"
    off, _, _ = timed(lambda: models.train(df, cfg, base / "off" / "models"))
    data = base / "on"
    from churn.synth import ensure_sample

    ensure_sample(paths(data))  # the pyfunc packages the sample with the model
    root = Path(__file__).resolve().parent.parent
    os.environ["CHURN_TRACKING"] = "on"
    on, _, res = timed(lambda: models.train(df, cfg, data / "models"))
    sidecar = data / "models" / res.version / "mlflow.json"
    registered = sidecar.is_file()
    # The tracking step alone, in a fresh process (MLflow import included, database already
    # there), for information: what the child process does beside the training.
    sidecar.unlink(missing_ok=True)
    code = ("import time; from churn import tracking\n"
            "t = time.perf_counter()\n"
            f"w = tracking.log_version({str(data / 'models')!r}, {res.version!r}, "
            "alias='champion')\n"
            "print(time.perf_counter() - t, len(w))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, check=True, capture_output=True,
                         text=True).stdout.split()
    log_s = float(out[-2])
    return [result("train_tracked", on / off, "x", 1.2,
                   note=f"{cfg.grid} grids: {on:.1f} s with tracking (fresh tracking database;"
                        f" logged in a child process beside the training, waited for), "
                        f"{off:.1f} s without; the tracking step alone {log_s:.1f} s in a fresh "
                        f"process; registered: {registered}; warnings: {len(res.warnings)}; "
                        f"load average {os.getloadavg()[0]:.1f}")]


CASES = {"train_all": train_all, "train_tracked": train_tracked, "load_active": load_active, "score_100k": score_100k,
         "contribs_100k": contribs_100k}

if __name__ == "__main__":
    main(CASES)
