"""One retraining decision a scheduler can run: check the data, train a challenger, compare it
with the champion on the same held-out customers, promote only if better by a margin, log it.

What and why
------------
``retrain(source, ...)`` returns a `Decision` whose ``exit_code`` is what
``python -m churn retrain`` exits with, so cron or a systemd timer can tell what happened:

====  ==========================  =================================================================
code  outcome                     meaning
====  ==========================  =================================================================
0     ``promoted``                the challenger was better by the margin (or there was no usable
                                  champion) and is now the active model (MLflow alias champion)
10    ``kept``                    the challenger was not better by the margin; the champion stays
                                  (the challenger keeps the MLflow alias challenger)
20    ``skipped-unchanged``       the data is exactly what the champion was trained on
21    ``skipped-too-few``         fewer valid labelled customers than ``min_rows``
22    ``skipped-no-drift``        ``if_drift`` was asked and no feature has shifted (every
                                  population stability index below 0.1)
2     ``invalid``                 the file cannot be read, has no Churn column, no valid rows, or
                                  only one outcome
1     ``failed``                  training failed unexpectedly (the champion is untouched)
====  ==========================  =================================================================

Steps (each adds a sentence to ``reasons``):

1. Validate the file (``churn.validate``, Churn required); rows with errors are left out.
2. Skip when too few rows, when the data fingerprint equals the champion's
   (``models.data_fingerprint``), or, with ``if_drift``, when nothing drifted: drift is the PSI
   of every feature against the workbench's training customers (``churn.drift``).
3. Hold out a stratified ``holdout`` share (default 20%, seeded) of the new customers; train the
   challenger on the rest with the champion's own settings (``activate=False``).
4. Score the held-out customers with both models; compare ``metric`` (default PR-AUC). The
   champion may have seen some of these customers in training when the new file overlaps the
   old one; that favours the champion, so the comparison errs towards keeping it.
5. Promote when the challenger is better by at least ``margin`` (in the metric's own units).
6. Record the decision in MLflow (experiment ``churn-retrain``) and the store
   (``Store.record_retrain_decision``); failing to record is a warning, not a failure.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from churn import metrics as M
from churn import schema

PROMOTED, KEPT = "promoted", "kept"
SKIPPED_UNCHANGED, SKIPPED_TOO_FEW, SKIPPED_NO_DRIFT = ("skipped-unchanged", "skipped-too-few",
                                                        "skipped-no-drift")
INVALID, FAILED = "invalid", "failed"
EXIT_CODES = {PROMOTED: 0, KEPT: 10, SKIPPED_UNCHANGED: 20, SKIPPED_TOO_FEW: 21,
              SKIPPED_NO_DRIFT: 22, INVALID: 2, FAILED: 1}
DEFAULT_MIN_ROWS = 1000
DEFAULT_MARGIN = 0.005
DEFAULT_HOLDOUT = 0.2
#: With ``if_drift``: retrain when any feature's PSI reaches this (churn.drift's "moderate").
DRIFT_TRIGGER = 0.10


@dataclass
class Decision:
    """What one retraining run decided and why.

    outcome: one of `EXIT_CODES`' keys; exit_code: its code; message: one sentence for a person;
    reasons: every check in order; data: the file (or "the workbench customer file"); rows: valid
    labelled customers; champion / challenger: model versions (None when there was none);
    metric, margin: the comparison rule; scores: {"champion_<m>", "challenger_<m>"} on the
    held-out customers for every metric of ``models.REPORT_METRICS``; holdout_rows; drifted:
    [(feature, psi)] with PSI >= 0.1, worst first; mlflow_run: the decision's run id; warnings.
    """

    outcome: str
    message: str
    reasons: list[str] = field(default_factory=list)
    data: str = ""
    rows: int = 0
    champion: str | None = None
    challenger: str | None = None
    metric: str = "pr_auc"
    margin: float = DEFAULT_MARGIN
    scores: dict = field(default_factory=dict)
    holdout_rows: int = 0
    drifted: list = field(default_factory=list)
    mlflow_run: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["exit_code"] = self.exit_code
        return out


@dataclass
class Comparison:
    """Champion against challenger on the same held-out customers.

    table: DataFrame[metric, label, champion, challenger, better] (better: "challenger",
    "champion" or "same"); metric; champion_value, challenger_value; gain: how much better the
    challenger is (positive = better, in the metric's units, sign-adjusted for lower-is-better
    metrics); rows: held-out customers.
    """

    table: pd.DataFrame
    metric: str
    champion_value: float
    challenger_value: float
    gain: float
    rows: int


def holdout_split(frame: pd.DataFrame, share: float = DEFAULT_HOLDOUT,
                  seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training part, held-out part): a stratified random ``share`` of each outcome held out.

    frame: canonical frame with Churn 0/1. share: 0 < share < 1. Same frame and seed, same split.
    """
    if not 0 < share < 1:
        raise ValueError(f"holdout={share!r} must be a share strictly between 0 and 1.")
    y = frame[schema.TARGET].to_numpy(int)
    rng = np.random.default_rng(seed)
    held = np.zeros(len(y), dtype=bool)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        k = int(round(len(idx) * share))
        held[rng.choice(idx, size=k, replace=False)] = True
    return frame.loc[~held], frame.loc[held]


def compare(champion, challenger, holdout: pd.DataFrame, metric: str = "pr_auc",
            threshold: float = 0.5) -> Comparison:
    """Score the held-out customers with both models and compare every report metric.

    champion, challenger: ``models.ChurnModel``. holdout: canonical frame with Churn.
    """
    from churn.models import REPORT_METRICS

    if metric not in M.HIGHER_IS_BETTER:
        raise ValueError(f"Unknown metric {metric!r}; choose from: "
                         + ", ".join(M.HIGHER_IS_BETTER) + ".")
    y = holdout[schema.TARGET].to_numpy(int)
    a = M.summary(y, champion.predict_proba(holdout), threshold)
    b = M.summary(y, challenger.predict_proba(holdout), threshold)
    rows = []
    for m in dict.fromkeys([*REPORT_METRICS, metric]):
        sign = 1.0 if M.HIGHER_IS_BETTER[m] else -1.0
        d = sign * (b[m] - a[m])
        rows.append({"metric": m, "label": M.LABELS[m], "champion": a[m], "challenger": b[m],
                     "better": "challenger" if d > 1e-12 else "champion" if d < -1e-12
                     else "same"})
    sign = 1.0 if M.HIGHER_IS_BETTER[metric] else -1.0
    return Comparison(pd.DataFrame(rows), metric, float(a[metric]), float(b[metric]),
                      float(sign * (b[metric] - a[metric])), len(y))


def train_challenger(frame: pd.DataFrame, champion, models_dir, *, config=None,
                     holdout: float = DEFAULT_HOLDOUT,
                     progress: Callable[[float, str], None] | None = None):
    """Train a challenger on the new customers minus the held-out share (never activated; it
    gets the MLflow alias challenger). Returns the ``models.TrainResult``.

    frame: canonical frame with Churn. champion: the active ``ChurnModel`` or None (its settings
    are reused so the comparison is like for like; defaults when None). config: overrides them.
    Raises ValueError when the data cannot be trained on (e.g. too few churners).
    """
    from churn import models

    cfg = config if config is not None else _champion_config(champion)
    train_part, _ = holdout_split(frame, holdout, seed=cfg.seed)
    return models.train(train_part, cfg, models_dir, activate=False, progress=progress)


def compare_with_champion(champion, challenger, frame: pd.DataFrame, metric: str = "pr_auc",
                          holdout: float = DEFAULT_HOLDOUT) -> Comparison:
    """`compare` on the customers `train_challenger` held out of the same frame (same split:
    the challenger's own seed)."""
    seed = int(challenger.metadata.get("config", {}).get("seed", 42))
    threshold = float(challenger.metadata.get("config", {}).get("threshold", 0.5))
    _, held = holdout_split(frame, holdout, seed=seed)
    return compare(champion, challenger, held, metric, threshold)


def _source_name(source) -> str:
    return str(source) if source is not None else "the workbench customer file"


def retrain(source=None, *, min_rows: int = DEFAULT_MIN_ROWS, if_drift: bool = False,
            metric: str = "pr_auc", margin: float = DEFAULT_MARGIN,
            holdout: float = DEFAULT_HOLDOUT, data_dir=None, config=None, record: bool = True,
            progress: Callable[[float, str], None] | None = None) -> Decision:
    """Make one retraining decision (see the module docstring) and record it.

    source: a customer file with Churn (CSV/Excel; what ``churn.validate`` reads), or None for
    the workbench's customer file. min_rows: fewest valid labelled customers to retrain on.
    if_drift: retrain only when some feature's PSI reaches `DRIFT_TRIGGER`. metric: a key of
    ``churn.metrics.HIGHER_IS_BETTER``. margin: how much better (metric units) the challenger
    must be. holdout: share of the new customers held out for the comparison. data_dir: the
    data folder (default ``config.paths()``). config: a ``models.TrainConfig`` (default: the
    champion's own settings). record: write the decision to MLflow and the store.
    Raises ValueError for bad arguments (unknown metric, negative margin or min_rows).
    """
    from churn import config as config_mod

    if metric not in M.HIGHER_IS_BETTER:
        raise ValueError(f"--promote-if-better {metric!r}: unknown metric; choose from: "
                         + ", ".join(M.HIGHER_IS_BETTER) + ".")
    if not margin >= 0:
        raise ValueError(f"margin={margin!r} must be 0 or more.")
    if int(min_rows) < 1:
        raise ValueError(f"--min-rows {min_rows!r} must be at least 1.")
    p = config_mod.paths(data_dir)
    d = _decide(source, p, int(min_rows), if_drift, metric, float(margin), holdout, config,
                progress)
    if record:
        _record(d, p)
    return d


def _decide(source, p, min_rows, if_drift, metric, margin, holdout, config, progress):
    from churn import models, synth
    from churn.validate import validate

    name = _source_name(source)
    dec = Decision(outcome=INVALID, message="", data=name, metric=metric, margin=margin)
    say = progress or (lambda f, m: None)

    def finish(outcome: str, message: str) -> Decision:
        dec.outcome, dec.message = outcome, message
        dec.reasons.append(message)
        return dec

    # 1. the data
    if source is None:
        source = synth.ensure_sample(p).customers_csv
    say(0.02, f"Checking {name}")
    report = validate(source, require_target=True)
    if report.fatal:
        return finish(INVALID, f"Cannot retrain: {name} cannot be read ({report.fatal}).")
    if any(e.row is None and e.column == schema.TARGET for e in report.errors):
        return finish(INVALID, f"Cannot retrain: {name} has no Churn column, so there are no "
                               "outcomes to learn from.")
    frame = report.frame.drop(columns="row")
    dec.rows = len(frame)
    if report.rejected_rows:
        dec.reasons.append(f"{report.rejected_rows:,} of {report.rows:,} rows fail validation "
                           f"and are left out (python -m churn validate {name}).")
    if dec.rows == 0:
        return finish(INVALID, f"Cannot retrain: {name} has no valid customer rows.")
    dec.reasons.append(f"{dec.rows:,} valid labelled customers in {name}.")
    if dec.rows < min_rows:
        return finish(SKIPPED_TOO_FEW, f"Skipped: {name} has {dec.rows:,} valid labelled "
                                       f"customers; at least {min_rows:,} are needed "
                                       "(--min-rows).")
    churners = int(frame[schema.TARGET].sum())
    if churners in (0, dec.rows):
        return finish(INVALID, f"Cannot retrain: every customer in {name} has the same outcome "
                               f"(Churn={'Yes' if churners else 'No'}); a model needs both.")

    # 2. the champion, and whether anything changed
    try:
        champion = models.load_active(p.models_dir)
    except (models.NoModelError, models.ModelCacheError) as exc:
        champion = None
        dec.reasons.append(f"No usable champion ({exc}).")
    if champion is not None:
        dec.champion = champion.version
        if champion.metadata.get("data_fingerprint") == models.data_fingerprint(frame):
            return finish(SKIPPED_UNCHANGED, f"Skipped: {name} holds exactly the customers and "
                                             f"outcomes champion {champion.version} was trained "
                                             "on; nothing changed.")
    drift = _drift(frame, p)
    dec.drifted = [(f, round(v, 4)) for f, v in drift if v >= DRIFT_TRIGGER]
    if dec.drifted:
        dec.reasons.append("Shifted from the training customers (population stability index): "
                           + ", ".join(f"{f} {v:.2f}" for f, v in dec.drifted) + ".")
    else:
        dec.reasons.append(f"No feature has shifted from the training customers (every "
                           f"population stability index below {DRIFT_TRIGGER}).")
        if if_drift:
            return finish(SKIPPED_NO_DRIFT, f"Skipped: no feature of {name} has shifted from "
                                            "the training customers and --if-drift was given.")

    # 3. the challenger
    cfg = config if config is not None else _champion_config(champion)
    n_held = len(holdout_split(frame, holdout, seed=cfg.seed)[1])
    dec.holdout_rows = n_held
    say(0.05, f"Training a challenger on {dec.rows - n_held:,} customers")
    try:
        result = train_challenger(frame, champion, p.models_dir, config=cfg, holdout=holdout,
                                  progress=lambda f, m: say(0.05 + 0.9 * float(f), m))
    except ValueError as exc:
        return finish(INVALID, f"Cannot retrain: {exc}")
    except Exception as exc:  # noqa: BLE001 - the decision says what broke; champion untouched
        return finish(FAILED, f"Failed: training the challenger raised {type(exc).__name__}: "
                              f"{exc}. The champion is unchanged.")
    dec.warnings += result.warnings
    challenger = result.model
    dec.challenger = challenger.version
    dec.reasons.append(f"Challenger {challenger.version} ({models.FAMILIES[challenger.family].label}"
                       f") trained on {dec.rows - n_held:,} customers; {n_held:,} held out.")

    # 4-5. compare and decide
    label = M.LABELS[metric]
    if champion is None:
        dec.warnings += models.activate(challenger.version, p.models_dir)
        return finish(PROMOTED, f"Promoted challenger {challenger.version}: there was no usable "
                                "champion.")
    if challenger.version == champion.version:
        return finish(SKIPPED_UNCHANGED, f"Skipped: the challenger is the champion "
                                         f"{champion.version} itself; nothing changed.")
    cmp = compare_with_champion(champion, challenger, frame, metric, holdout)
    dec.scores = {f"{who}_{r['metric']}": float(r[who]) for r in cmp.table.to_dict("records")
                  for who in ("champion", "challenger")}
    said = (f"{label} {cmp.challenger_value:.3f} against {cmp.champion_value:.3f} on the same "
            f"{cmp.rows:,} held-out customers")
    if cmp.gain >= margin:
        dec.warnings += models.activate(challenger.version, p.models_dir)
        return finish(PROMOTED, f"Promoted challenger {challenger.version} over champion "
                                f"{champion.version}: {said} (better by {cmp.gain:.3f}; margin "
                                f"{margin:g}).")
    return finish(KEPT, f"Kept champion {champion.version}: challenger {challenger.version} "
                        f"has {said}, not better by the margin {margin:g}.")


def _champion_config(champion):
    from churn.models import TrainConfig

    try:
        cfg = dict(champion.metadata["config"])
        cfg["families"] = tuple(cfg["families"])
        return TrainConfig(**cfg).checked()
    except (AttributeError, KeyError, TypeError, ValueError):
        return TrainConfig()


def _drift(frame: pd.DataFrame, p) -> list[tuple[str, float]]:
    """[(feature, PSI)] of the new customers against the workbench's training customers."""
    from churn import drift
    from churn.validate import load_customers

    try:
        reference = load_customers(p.customers_csv)
    except (OSError, ValueError):
        return []
    table = drift.psi_table(reference, frame)
    return [(str(f), float(v)) for f, v in zip(table["feature"], table["psi"])]


def _record(dec: Decision, p) -> None:
    """Write the decision to MLflow and the store; failures become warnings."""
    from churn import tracking

    run, warns = tracking.log_decision(p.data_dir, dec.to_dict())
    dec.mlflow_run = run
    dec.warnings += warns
    try:
        from churn.store import Store

        Store(p.store).record_retrain_decision(dec.to_dict())
    except Exception as exc:  # noqa: BLE001 - e.g. the app holds the database open
        dec.warnings.append(f"Could not record the decision in the store {p.store} "
                            f"({type(exc).__name__}: {exc}).")
