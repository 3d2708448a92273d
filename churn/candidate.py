"""The API's ``POST /v1/retrain`` job: a challenger trained on new customers, compared with the
model in use on the same held-out customers, and put in use only when asked.

All the work is `churn.retrain`'s (the same challenger training and comparison the Upload &
score page and ``python -m churn retrain`` use); this module only shapes the job's answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from churn import schema


@dataclass
class Candidate:
    """What `train_candidate` did. version: the new model's; previous: the one in use before
    (None when there was none); cached: loaded from the cache instead of trained; seconds: wall
    time; comparison: `retrain.Comparison.table` rows as dicts (metric, label, champion,
    challenger, better; empty when there was no model in use), on the held-out customers;
    activated: whether the new version is now in use."""

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


def train_candidate(frame: pd.DataFrame, models_dir, *, activate: bool = False,
                    progress=None) -> Candidate:
    """Train a challenger on ``frame`` (canonical, with Churn) minus a held-out share, with the
    active model's settings (`retrain.train_challenger`), compare both on the held-out customers
    (`retrain.compare_with_champion`), and make it active only when ``activate`` is True.

    Raises ValueError when the frame has no Churn column or cannot be trained on (the message
    says why).
    """
    from churn import models, retrain

    if schema.TARGET not in frame.columns:
        raise ValueError("These customers have no Churn column, so there is nothing to learn "
                         "from; retraining needs Churn (Yes/No) for every customer.")
    previous = models.active_version(models_dir)
    champion = None
    if previous is not None:
        try:
            champion = models.load_active(models_dir)
        except (models.NoModelError, models.ModelCacheError):
            champion = None
    result = retrain.train_challenger(frame, champion, models_dir, progress=progress)
    table = []
    if champion is not None:
        table = retrain.compare_with_champion(champion, result.model, frame).table
        table = [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                 for row in table.to_dict("records")]
    activated = False
    if activate:
        models.activate(result.version, models_dir)  # moves the registry's champion alias too
        activated = True
    return Candidate(result.version, previous, result.selected, result.cached,
                     result.seconds, table, activated)
