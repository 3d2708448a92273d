"""Is the active model still healthy? Drift, predictions and (once outcomes are in) realised
performance of every saved customer batch, with a traffic light and one sentence of advice.

What and why
------------
A churn model goes stale quietly: the customers change (drift) and, later, the outcomes show
it ranks them worse than it did at training. For every batch saved in the store (oldest first)
``health_report`` gives:

- drift: the population stability index (PSI, ``churn.drift``) of every feature against the
  workbench's training customers, and the features that drifted (PSI >= 0.25) or shifted
  moderately (>= 0.10) named;
- predictions: mean predicted churn probability and the tier mix (High/Medium/Low shares);
- expected precision and recall at the model's decision threshold t, *before outcomes are in*.
  The probabilities are calibrated (Platt scaling, ``churn.models``), so customer i churns with
  probability p_i. Of the n_t customers flagged (p_i >= t) the expected number of churners is
  sum_{p_i >= t} p_i; of all customers, sum_i p_i. Hence
  E[precision] = mean of p_i over flagged customers, E[recall] = sum_{flagged} p_i / sum_i p_i
  (a ratio of expectations: a good approximation for batches of hundreds of customers);
- realised performance, once outcomes are in (a batch saved with Churn): ROC-AUC, calibration
  (expected calibration error, 10 bins, and observed churn rate against mean prediction) and
  precision in the top 10%, each with a 95% bootstrap percentile interval (`BOOTSTRAP` = 200
  resamples of the batch's customers, seeded), beside the training figures (the model's
  cross-validated out-of-fold figures, ``metadata["families"][family]["oof"]``).

Traffic light per batch (worst of its parts): drift red at PSI >= 0.25 in any feature, amber
at >= 0.10 (batches under ``drift.MIN_ROWS`` customers are not judged on drift); ROC-AUC red
when it is `AUC_RED` or more below training *and* the interval's upper end is below training,
amber when `AUC_AMBER` or more below; calibration red when observed and predicted churn rates
differ by `CALIBRATION_RED` or more, amber from `CALIBRATION_AMBER`.

Campaign outcomes (``campaign_outcomes``): the outcomes recorded on the Campaign results page
(or ``python -m churn results --record``) for a campaign saved from the Retention campaign page
and scored by the model in use. Only its **control group** counts: those customers were picked
at random and got no offer, so whether they left is an honest test of the probabilities the
campaign gave them (the treated customers' churn was changed by the offers). Each campaign
becomes a row like a batch (drift is not measured: the campaign keeps no features). A campaign
list holds the customers most at risk, where ranking is harder than over everyone, so its
training figures are the model's out-of-fold figures over the training customers whose
probability lies in the same range as the list's (`training_slice`), not the whole population.

``current_figures()`` gives the same figures for the latest row as a flat dict of numbers
(for the API's ``/metrics``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn import drift
from churn import metrics as M
from churn import schema
from churn.config import BusinessSettings, risk_tier

GREEN, AMBER, RED = "green", "amber", "red"
LEVEL = {GREEN: 0, AMBER: 1, RED: 2}
AUC_AMBER = 0.03
AUC_RED = 0.07
CALIBRATION_AMBER = 0.05
CALIBRATION_RED = 0.10
BOOTSTRAP = 200
TOP_FRACTION = 0.10
TIERS = ("High", "Medium", "Low")


@dataclass
class HealthReport:
    """The model's health over the saved batches.

    rows: one row per batch, oldest first (`ROW_COLUMNS`). psi: DataFrame[batch, feature, psi]
    (long form, every feature of every batch). training: the training figures (roc_auc, ece,
    precision_at_10, churn_rate, threshold). status: worst light of the latest batch (GREEN when
    there is none). advice: one sentence saying what to do. model_version: the active version.
    """

    rows: pd.DataFrame
    psi: pd.DataFrame
    training: dict
    status: str
    advice: str
    model_version: str | None
    notes: list[str] = field(default_factory=list)


ROW_COLUMNS = ["batch", "created", "customers", "labelled", "max_psi", "drifted", "shifted",
               "mean_prob", "high", "medium", "low", "expected_precision", "expected_recall",
               "roc_auc", "roc_auc_low", "roc_auc_high", "ece", "ece_low", "ece_high",
               "observed_rate", "precision_at_10", "precision_at_10_low",
               "precision_at_10_high", "precision_at_threshold", "drift_status",
               "performance_status", "status", "why", "source", "training_roc_auc",
               "training_ece", "training_precision_at_10"]
#: Fewest control customers with a known outcome for a campaign to be judged (as on the
#: Campaign results page, `churn.results.MIN_GROUP_SIZE`).
#: A saved batch larger than this is checked on a repeatable random sample of this many of its
#: customers (`Store.sample_batch`): drift and the predicted-risk mix of a million customers are
#: as clear from 50,000 (a PSI's sampling error is then far below its 0.1 alert), for a
#: twentieth of the time and memory. The row still counts every customer, and the report's
#: notes say which batches were sampled.
SAMPLE_ROWS = 50_000
CAMPAIGN_MIN_CUSTOMERS = 30
#: Fewest training customers in a campaign's probability range for a range-specific baseline.
SLICE_MIN_CUSTOMERS = 100


# --- the figures --------------------------------------------------------------------------------
def expected_precision_recall(p, threshold: float) -> tuple[float, float]:
    """(E[precision], E[recall]) at ``threshold`` from calibrated probabilities p (0..1).

    E[precision] = mean p over customers with p >= threshold (NaN when none is flagged);
    E[recall] = sum of p over those customers / sum of all p (NaN when every p is 0).
    """
    p = np.asarray(p, dtype=float)
    flagged = p >= threshold
    precision = float(p[flagged].mean()) if flagged.any() else float("nan")
    total = float(p.sum())
    recall = float(p[flagged].sum() / total) if total > 0 else float("nan")
    return precision, recall


def realised(y, p, *, resamples: int = BOOTSTRAP, seed: int = 0) -> dict:
    """Realised ROC-AUC, ECE, observed rate and precision in the top 10%, with 95% bootstrap
    percentile intervals: {"roc_auc", "roc_auc_low", "roc_auc_high", "ece", ..., "observed_rate",
    "precision_at_10", ...}. y: 0/1 outcomes; p: predicted probabilities (0..1)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    funcs = {"roc_auc": M.roc_auc, "ece": M.expected_calibration_error,
             "precision_at_10": lambda a, b: M.precision_at_top(a, b, TOP_FRACTION)}
    out = {k: float(f(y, p)) for k, f in funcs.items()}
    out["observed_rate"] = float(y.mean()) if len(y) else float("nan")
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in funcs}
    for _ in range(resamples):
        idx = rng.integers(0, len(y), len(y))
        yy, pp = y[idx], p[idx]
        for k, f in funcs.items():
            if k == "roc_auc" and yy.min() == yy.max():
                continue
            draws[k].append(float(f(yy, pp)))
    for k, vals in draws.items():
        lo, hi = np.percentile(vals, [2.5, 97.5]) if vals else (float("nan"),) * 2
        out[f"{k}_low"], out[f"{k}_high"] = float(lo), float(hi)
    return out


def training_figures(metadata: dict) -> dict:
    """The model's training figures: cross-validated out-of-fold ROC-AUC, ECE, precision in
    the top 10%, churn rate, and the decision threshold."""
    fam = metadata.get("family") or metadata.get("selected")
    oof = ((metadata.get("families") or {}).get(fam) or {}).get("oof") or {}
    return {"roc_auc": oof.get("roc_auc", float("nan")), "ece": oof.get("ece", float("nan")),
            "precision_at_10": oof.get("precision_at_10", float("nan")),
            "churn_rate": metadata.get("churn_rate", float("nan")),
            "threshold": float((metadata.get("config") or {}).get("threshold", 0.5))}


def batch_row(name: str, created, frame: pd.DataFrame, model, reference: pd.DataFrame,
              training: dict, settings: BusinessSettings = BusinessSettings()) -> tuple[dict,
                                                                                         pd.DataFrame]:
    """(one `ROW_COLUMNS` row, its PSI table) for one batch. frame: canonical, Churn optional."""
    p = model.predict_proba(frame)
    table = drift.psi_table(reference, frame)
    tiers = risk_tier(p, settings)
    row = {c: np.nan for c in ROW_COLUMNS}
    row.update(source="batch", training_roc_auc=training["roc_auc"],
               training_ece=training["ece"], training_precision_at_10=training["precision_at_10"])
    row.update(batch=name, created=created, customers=len(frame),
               labelled=bool(schema.TARGET in frame.columns
                             and frame[schema.TARGET].notna().all() and len(frame)),
               max_psi=float(table["psi"].max()),
               drifted=[f for f, v in zip(table["feature"], table["psi"]) if v >= drift.DRIFTED],
               shifted=[f for f, v in zip(table["feature"], table["psi"])
                        if drift.MODERATE <= v < drift.DRIFTED],
               mean_prob=float(p.mean()) if len(p) else np.nan)
    for t in TIERS:
        row[t.lower()] = float((tiers == t).mean()) if len(p) else np.nan
    row["expected_precision"], row["expected_recall"] = expected_precision_recall(
        p, training["threshold"])
    if row["labelled"]:
        y = frame[schema.TARGET].to_numpy(float)
        if 0 < y.sum() < len(y):
            row.update(realised(y, p))
            flagged = p >= training["threshold"]
            row["precision_at_threshold"] = float(y[flagged].mean()) if flagged.any() else np.nan
        else:
            row["observed_rate"] = float(y.mean())
    _judge(row, training)
    return row, table.assign(batch=name)[["batch", "feature", "psi"]]


def campaign_row(name: str, created, y, p, tiers, training: dict) -> dict:
    """One `ROW_COLUMNS` row for a campaign's control group: y its outcomes (0/1), p the
    probabilities the campaign gave those customers, tiers their risk tiers; training: the
    baseline (`training_slice`). Drift is not measured (max_psi NaN)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    tiers = np.asarray(tiers, dtype=object)
    row = {c: np.nan for c in ROW_COLUMNS}
    row.update(batch=name, created=created, customers=len(y), labelled=True, drifted=[],
               shifted=[], mean_prob=float(p.mean()) if len(p) else np.nan, source="campaign",
               training_roc_auc=training["roc_auc"], training_ece=training["ece"],
               training_precision_at_10=training["precision_at_10"])
    for t in TIERS:
        row[t.lower()] = float((tiers == t).mean()) if len(p) else np.nan
    row["expected_precision"], row["expected_recall"] = expected_precision_recall(
        p, training["threshold"])
    if len(y) and 0 < y.sum() < len(y):
        row.update(realised(y, p))
        flagged = p >= training["threshold"]
        row["precision_at_threshold"] = float(y[flagged].mean()) if flagged.any() else np.nan
    elif len(y):
        row["observed_rate"] = float(y.mean())
    _judge(row, training)
    return row


def training_slice(oof: pd.DataFrame, family: str, lo: float, hi: float,
                   training: dict) -> dict:
    """The training figures over the training customers whose out-of-fold probability lies in
    [lo, hi] (a campaign list's range): roc_auc, ece, precision_at_10, churn_rate, threshold,
    customers. Falls back to ``training`` (the whole population) when fewer than
    `SLICE_MIN_CUSTOMERS` customers, or only one outcome, fall in the range."""
    y = oof[schema.TARGET].to_numpy(float)
    p = oof[f"p_{family}"].to_numpy(float)
    keep = (p >= lo) & (p <= hi)
    yy, pp = y[keep], p[keep]
    if keep.sum() < SLICE_MIN_CUSTOMERS or yy.min() == yy.max():
        return {**training, "customers": int(len(y)), "range": None}
    return {"roc_auc": float(M.roc_auc(yy, pp)),
            "ece": float(M.expected_calibration_error(yy, pp)),
            "precision_at_10": float(M.precision_at_top(yy, pp, TOP_FRACTION)),
            "churn_rate": float(yy.mean()), "threshold": training["threshold"],
            "customers": int(keep.sum()), "range": (float(lo), float(hi))}


def campaign_outcomes(store, version: str | None) -> tuple[list[dict], list[str]]:
    """The control groups of saved campaigns with recorded outcomes, scored by ``version``.

    Returns ([{"name", "created" (the campaign's date), "y", "p", "tiers"}], notes): one entry
    per campaign (oldest first); notes say which campaigns were left out and why. Outcomes are
    the store's campaign history (``Store.load_campaign_history``) rows with group ``control``
    and churned Yes/No, matched by customer to the saved campaign (``saved-<id>``).
    """
    from churn.campaign import CONTROL

    if store is None:
        return [], []
    try:
        hist = store.load_campaign_history()
        saved = store.list_campaigns()
    except Exception:  # noqa: BLE001 - a locked store: no campaigns rather than an error
        return [], []
    if hist is None or len(hist) == 0:
        return [], []
    out, notes = [], []
    names = dict(zip(saved["id"].astype(int), saved["name"].astype(str))) if len(saved) else {}
    ctrl = hist[hist["group"].astype(str).str.strip().str.lower() == CONTROL]
    churned = ctrl["churned"].astype(str).str.strip().str.lower()
    ctrl = ctrl.assign(y=churned.map({"yes": 1.0, "no": 0.0}))
    ctrl = ctrl[ctrl["y"].notna()]
    for cid, rows in ctrl.groupby("campaign_id", sort=False):
        cid = str(cid)
        if not cid.startswith("saved-") or not cid[6:].isdigit() or int(cid[6:]) not in names:
            notes.append(f'Campaign outcomes "{cid}" were recorded without a saved campaign, so '
                         "the probabilities its customers were given are unknown: left out of "
                         "model health.")
            continue
        sid = int(cid[6:])
        settings, camp = store.load_campaign(sid)
        label = f'Campaign "{names[sid]}" (control group)'
        used = settings.get("model_version")
        if version is not None and used is not None and str(used) != str(version):
            notes.append(f"{label} was scored by model version {used}, not the one in use "
                         f"({version}): left out.")
            continue
        camp = camp.assign(**{schema.ID: camp[schema.ID].astype(str)})
        m = rows.assign(**{schema.ID: rows[schema.ID].astype(str)}).merge(
            camp[[schema.ID, "churn_prob", "risk_tier"]], on=schema.ID, how="inner")
        m = m[pd.to_numeric(m["churn_prob"], errors="coerce").notna()]
        if len(m) < CAMPAIGN_MIN_CUSTOMERS:
            notes.append(f"{label}: only {len(m):,} control customers with a known outcome "
                         f"(at least {CAMPAIGN_MIN_CUSTOMERS} are needed): left out.")
            continue
        out.append({"name": label, "created": settings.get("date") or rows["date"].iloc[0],
                    "y": m["y"].to_numpy(float),
                    "p": pd.to_numeric(m["churn_prob"]).to_numpy(float),
                    "tiers": m["risk_tier"].astype(str).to_numpy(), "campaign_id": sid})
    out.sort(key=lambda c: str(c["created"]))
    return out, notes


def _judge(row: dict, training: dict) -> None:
    """Set drift_status, performance_status, status and why (short reasons) on a row."""
    why = []
    if row.get("source") == "campaign":
        d = GREEN
        why.append("drift not measured")
    elif row["customers"] < drift.MIN_ROWS:
        d = GREEN
        why.append(f"only {row['customers']:,} customers: drift not judged")
    elif row["drifted"]:
        d = RED
        why.append(f"{_names(row['drifted'])} drifted")
    elif row["shifted"]:
        d = AMBER
        why.append(f"{_names(row['shifted'])} shifted moderately")
    else:
        d = GREEN
    perf = GREEN
    auc, base = row["roc_auc"], training["roc_auc"]
    if row.get("training_roc_auc") == row.get("training_roc_auc") \
            and row.get("training_roc_auc") is not None:
        base = row["training_roc_auc"]
    if auc == auc and base == base:
        drop = base - auc
        if drop >= AUC_RED and row["roc_auc_high"] < base:
            perf = RED
        elif drop >= AUC_AMBER:
            perf = AMBER
        if perf != GREEN:
            why.append(f"realised ROC-AUC {auc:.2f} against {base:.2f} at training")
    obs = row["observed_rate"]
    if obs == obs and row["mean_prob"] == row["mean_prob"]:
        gap = abs(obs - row["mean_prob"])
        level = RED if gap >= CALIBRATION_RED else AMBER if gap >= CALIBRATION_AMBER else GREEN
        if level != GREEN:
            why.append(f"{obs:.0%} churned against {row['mean_prob']:.0%} predicted")
        perf = max(perf, level, key=LEVEL.get)
    row["drift_status"], row["performance_status"] = d, perf
    row["status"] = max(d, perf, key=LEVEL.get)
    row["why"] = "; ".join(why) if why else "as at training"


def _names(features: list[str]) -> str:
    names = [drift._short(f) for f in features]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def advice(rows: pd.DataFrame, training: dict) -> tuple[str, str]:
    """(status, one sentence of what to do), from the latest batch: its problems first (shifted
    features, a realised ROC-AUC below training, actual against predicted churn), then, when the
    ranking still holds, that too."""
    if rows.empty:
        return GREEN, ("No saved batches or campaign outcomes yet: save an upload on the Upload & "
                       "score page, or record a saved campaign's outcomes on the Campaign "
                       "results page, to follow the model's health over time.")
    last = rows.iloc[-1]
    status = last["status"]
    problems, context = [], ""
    campaign = last.get("source") == "campaign"
    at = "at training for customers as risky" if campaign else "at training"
    if last["drifted"] or last["shifted"]:
        feats = list(last["drifted"]) + list(last["shifted"])
        verb = "has" if len(feats) == 1 else "have"
        problems.append(f"{_names(feats)} {verb} shifted")
    auc, base = last["roc_auc"], training.get("roc_auc", float("nan"))
    if last.get("training_roc_auc") == last.get("training_roc_auc") \
            and last.get("training_roc_auc") is not None:
        base = last["training_roc_auc"]
    if auc == auc:
        if base == base and base - auc < AUC_AMBER:
            context = (f"the ranking still holds, with a realised ROC-AUC of {auc:.2f} against "
                       f"{base:.2f} {at}")
        else:
            problems.append(f"realised ROC-AUC {auc:.2f} against {base:.2f} {at}")
    obs = last["observed_rate"]
    if obs == obs and abs(obs - last["mean_prob"]) >= CALIBRATION_AMBER:
        problems.append(f"{obs:.0%} of customers churned against {last['mean_prob']:.0%} "
                        "predicted")
    where = f' (latest: {last["batch"]})' if campaign else f' (latest batch "{last["batch"]}")'
    tail = f", although {context}" if context else ""
    if status == RED:
        return RED, "Retrain: " + "; ".join(problems) + tail + where + "."
    if status == AMBER:
        return AMBER, "Watch, no retraining yet: " + "; ".join(problems) + tail + where + "."
    if context and campaign:
        return GREEN, f"No action: {context}{where}."
    if context:
        return GREEN, ("No action: the customers look like the training data and "
                       f"{context}{where}.")
    return GREEN, ("No action: the customers look like the training data" + where + "; "
                   "outcomes are not in yet, so performance is estimated from the probabilities.")


# --- the report ---------------------------------------------------------------------------------
def health_report(store, model, reference: pd.DataFrame,
                  settings: BusinessSettings = BusinessSettings(), *,
                  models_dir=None) -> HealthReport:
    """The health of ``model`` over every batch saved in ``store`` and every saved campaign
    with recorded outcomes (`campaign_outcomes`), oldest first.

    store: a ``churn.store.Store`` (None: no batches). model: the active ``ChurnModel``.
    reference: the training customers (canonical) the drift is measured against.
    models_dir: where the model's out-of-fold predictions are (for the campaigns' baselines;
    default ``config.paths().models_dir``).
    """
    training = training_figures(model.metadata)
    rows, psis, notes = [], [], []
    batches = store.list_batches() if store is not None else pd.DataFrame()
    for b in batches.to_dict("records"):
        size = int(b.get("valid_rows") or 0)
        try:
            if size > SAMPLE_ROWS:
                frame = store.sample_batch(b["name"], SAMPLE_ROWS)
            else:
                frame = store.load_batch(b["name"])
            row, psi = batch_row(b["name"], b["created"], frame.drop(columns="row",
                                                                     errors="ignore"),
                                 model, reference, training, settings)
        except ValueError as exc:
            notes.append(f'Batch "{b["name"]}" left out: {exc}')
            continue
        if size > SAMPLE_ROWS:
            row["customers"] = size
            notes.append(f'Batch "{b["name"]}": figures from a random {SAMPLE_ROWS:,} of its '
                         f"{size:,} customers.")
        rows.append(row)
        psis.append(psi)
    found, more = campaign_outcomes(store, getattr(model, "version", None))
    notes += more
    oof = _oof(model, models_dir) if found else None
    for c in found:
        base = training
        if oof is not None:
            base = training_slice(oof, model.metadata.get("family"), float(c["p"].min()),
                                  float(c["p"].max()), training)
        rows.append(campaign_row(c["name"], c["created"], c["y"], c["p"], c["tiers"], base))
    rows.sort(key=lambda r: str(r["created"]))
    table = pd.DataFrame(rows, columns=ROW_COLUMNS)
    psi = pd.concat(psis, ignore_index=True) if psis else pd.DataFrame(
        columns=["batch", "feature", "psi"])
    status, text = advice(table, training)
    return HealthReport(table, psi, training, status, text, getattr(model, "version", None),
                        notes)


def _oof(model, models_dir) -> pd.DataFrame | None:
    """The model's out-of-fold predictions, or None (then the campaigns' baseline is the whole
    population's)."""
    from churn import models

    try:
        return models.load_oof(model.version, models_dir)
    except Exception:  # noqa: BLE001 - an old or foreign model: the population baseline
        return None


def report_for(data_dir=None, settings: BusinessSettings = BusinessSettings()) -> HealthReport:
    """`health_report` for a data folder: its store, active model and training customers."""
    from churn import config, models
    from churn.store import Store
    from churn.validate import load_customers

    p = config.paths(data_dir)
    model = models.load_active(p.models_dir)
    return health_report(Store(p.store), model, load_customers(p.customers_csv), settings,
                         models_dir=p.models_dir)


def current_figures(data_dir=None, report: HealthReport | None = None) -> dict:
    """The latest row's health (a batch, or a campaign's control group) as a flat dict of
    numbers (for ``/metrics``; NaN = not known; training_* are that row's baseline).

    Keys: batches, status (0 green, 1 amber, 2 red), max_psi, drifted_features,
    shifted_features, mean_churn_prob, share_high, share_medium, share_low,
    expected_precision, expected_recall, realised_roc_auc (+ _low/_high), training_roc_auc,
    realised_ece, training_ece, realised_precision_at_10, training_precision_at_10,
    realised_precision_at_threshold (to set beside expected_precision), observed_churn_rate. Raises models.NoModelError when there is no active model.
    (``batches`` counts the rows: batches and campaigns.)
    """
    r = report if report is not None else report_for(data_dir)
    t = r.training
    nan = float("nan")
    out = {"batches": float(len(r.rows)), "status": float(LEVEL[r.status]),
           "training_roc_auc": t["roc_auc"], "training_ece": t["ece"],
           "training_precision_at_10": t["precision_at_10"]}
    last = r.rows.iloc[-1] if len(r.rows) else None
    if last is not None and last["source"] == "campaign":  # the list's own baseline
        out.update(training_roc_auc=last["training_roc_auc"], training_ece=last["training_ece"],
                   training_precision_at_10=last["training_precision_at_10"])

    def get(k):
        return float(last[k]) if last is not None and last[k] == last[k] else nan

    out.update(max_psi=get("max_psi"),
               drifted_features=float(len(last["drifted"])) if last is not None else nan,
               shifted_features=float(len(last["shifted"])) if last is not None else nan,
               mean_churn_prob=get("mean_prob"), share_high=get("high"),
               share_medium=get("medium"), share_low=get("low"),
               expected_precision=get("expected_precision"),
               expected_recall=get("expected_recall"),
               realised_roc_auc=get("roc_auc"), realised_roc_auc_low=get("roc_auc_low"),
               realised_roc_auc_high=get("roc_auc_high"), realised_ece=get("ece"),
               realised_precision_at_10=get("precision_at_10"),
               realised_precision_at_threshold=get("precision_at_threshold"),
               observed_churn_rate=get("observed_rate"))
    return {k: float(v) for k, v in out.items()}
