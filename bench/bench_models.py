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


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished, waited-for children (the tracking job)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def train_tracked(quick: bool) -> list[dict]:
    import os
    import statistics

    from churn import tracking
    from churn.synth import ensure_sample

    for mod in ("sklearn.linear_model", "sklearn.ensemble", "xgboost", "catboost", "shap"):
        __import__(mod)
    df = _sample()
    base = scratch_dir("models") / "train_tracked"
    shutil.rmtree(base, ignore_errors=True)
    cfg = models.TrainConfig(grid="small" if quick else "full")
    # Untracked and tracked trainings alternate in the order off, on, on, off (other work on
    # the machine comes and goes: a load that rises or falls during the case hits both alike);
    # every tracked one starts from a data folder without a tracking database.
    walls, cpus, loads = {"off": [], "on": []}, {"off": [], "on": []}, []
    res = None
    for i in range(1 if quick else 2):
        for mode in (("off", "on"), ("on", "off"))[i % 2]:
            data = base / f"{mode}{i}"
            ensure_sample(paths(data))  # the pyfunc packages the sample with the model
            os.environ["CHURN_TRACKING"] = mode
            loads.append(os.getloadavg()[0])
            c0 = _cpu_seconds()
            seconds, _, r = timed(lambda: models.train(df, cfg, data / "models"))
            cpus[mode].append(_cpu_seconds() - c0)
            walls[mode].append(seconds)
            if mode == "on":
                res = r
    tracking.wait_pending()
    on, off = statistics.median(walls["on"]), statistics.median(walls["off"])
    cpu_on, cpu_off = statistics.median(cpus["on"]), statistics.median(cpus["off"])
    registered = all((base / f"on{i}" / "models" / res.version / "mlflow.json").is_file()
                     for i in range(len(walls["on"])))
    return [result("train_tracked", on / off, "x", 1.2,
                   note=f"{cfg.grid} grids, median of {len(walls['on'])} pairs (off-on-on-off): "
                        f"{on:.1f} s with tracking (fresh tracking database; logged by a child "
                        f"process that imports MLflow while the models train; waited for), "
                        f"{off:.1f} s without (each: {[round(w, 1) for w in walls['on']]} / "
                        f"{[round(w, 1) for w in walls['off']]}); CPU time (with the tracking "
                        f"process) {cpu_on:.1f} s against {cpu_off:.1f} s = "
                        f"{cpu_on / cpu_off:.2f}x; registered: {registered}; warnings: "
                        f"{len(res.warnings)}; load average {min(loads):.1f}-{max(loads):.1f}")]


CASES = {"train_all": train_all, "train_tracked": train_tracked, "load_active": load_active, "score_100k": score_100k,
         "contribs_100k": contribs_100k}

if __name__ == "__main__":
    main(CASES)
