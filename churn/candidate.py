"""A candidate model trained on new customers, compared with the model in use on the same
customers, and put in use only when asked: the API's ``POST /v1/retrain`` job.

The comparison is the Upload & score page's (``ui.upload.comparison``): the model in use scores
the customers as it would in production, the candidate is judged by its cross-validated
(out-of-fold) predictions on them. (The page keeps its own copy for now; the MLflow work moves
both to one core retraining module.)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn import metrics, schema

#: Metrics compared, in order.
COMPARED = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10", "lift_at_20", "ece")


def retrain_config(active_metadata: dict | None):
    """The `churn.models.TrainConfig` to retrain with: the active model's own settings (so the
    comparison is like for like), or the defaults when they cannot be read."""
    from churn.models import TrainConfig

    try:
        cfg = dict((active_metadata or {})["config"])
        cfg["families"] = tuple(cfg["families"])
        return TrainConfig(**cfg).checked()
    except (KeyError, TypeError, ValueError):
        return TrainConfig()


def comparison(active_model, new_metadata: dict, frame: pd.DataFrame) -> pd.DataFrame:
    """The model in use against a newly trained one, on the same customers.

    in_use: the active model's metrics when it scores these customers (it never saw their
    outcomes unless they were in its training data); new: the new model's cross-validated
    (out-of-fold) metrics on them. Both are honest estimates on the same people.
    Returns DataFrame[metric, label, in_use, new, better ("New model", "Model in use" or
    "Same")], one row per metric in `COMPARED`.
    """
    y = frame[schema.TARGET].to_numpy(int)
    threshold = float(new_metadata.get("config", {}).get("threshold", 0.5))
    in_use = metrics.summary(y, active_model.predict_proba(frame), threshold)
    new = new_metadata["families"][new_metadata["selected"]]["cv"]
    rows = []
    for m in COMPARED:
        a, b = float(in_use[m]), float(new.get(m, np.nan))
        if not (np.isfinite(a) and np.isfinite(b)) or round(a, 4) == round(b, 4):
            better = "Same" if np.isfinite(a) and np.isfinite(b) else "—"
        elif (b > a) == metrics.HIGHER_IS_BETTER[m]:
            better = "New model"
        else:
            better = "Model in use"
        rows.append({"metric": m, "label": metrics.LABELS[m], "in_use": a, "new": b,
                     "better": better})
    return pd.DataFrame(rows)


@dataclass
class Candidate:
    """What `train_candidate` did. version: the new model's; previous: the one in use before (None when
    there was none); cached: loaded from the cache instead of trained; seconds: wall time;
    comparison: `comparison` rows as dicts (empty when there was no model in use); activated:
    whether the new version is now in use."""

    version: str
    previous: str | None
    selected: str
    cached: bool
    seconds: float
    comparison: list[dict] = field(default_factory=list)
    activated: bool = False

    def to_dict(self) -> dict:
        return {"version": self.version, "previous": self.previous, "selected": self.selected,
                "cached": self.cached, "seconds": round(self.seconds, 2),
                "comparison": self.comparison, "activated": self.activated}


def train_candidate(frame: pd.DataFrame, models_dir, *, activate: bool = False, store=None,
                    progress=None) -> Candidate:
    """Train a new model on ``frame`` (canonical, with Churn) with the active model's settings,
    compare it with the active model on the same customers, and make it active only when
    ``activate`` is True.

    Raises ValueError when the frame has no Churn column or cannot be trained on (the message
    says why).
    """
    from churn import models

    if schema.TARGET not in frame.columns:
        raise ValueError("These customers have no Churn column, so there is nothing to learn "
                         "from; retraining needs Churn (Yes/No) for every customer.")
    previous = models.active_version(models_dir)
    active = None
    if previous is not None:
        try:
            active = models.load_active(models_dir)
        except (models.NoModelError, models.ModelCacheError):
            active = None
    config = retrain_config(active.metadata if active is not None else None)
    result = models.train(frame, config, models_dir, store=store, progress=progress,
                          activate=False)
    table = []
    if active is not None:
        table = comparison(active, result.metadata, frame).to_dict("records")
    activated = False
    if activate:
        models.activate(result.version, models_dir)  # moves the registry's champion alias too
        activated = True
    return Candidate(result.version, previous, result.selected, result.cached,
                          result.seconds, table, activated)
