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
    activated: whether the new version is now in use; holdout_rows: how many held-out customers
    the comparison scored (0 without one; not part of `to_dict`, the API answer)."""

    version: str
    previous: str | None
    selected: str
    cached: bool
    seconds: float
    comparison: list[dict] = field(default_factory=list)
    activated: bool = False
    holdout_rows: int = 0    # held-out customers the comparison scored (0 without a comparison)

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
    table, held = [], 0
    if champion is not None:
        cmp = retrain.compare_with_champion(champion, result.model, frame)
        table, held = cmp.table, cmp.rows
        table = [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                 for row in table.to_dict("records")]
    activated = False
    if activate:
        models.activate(result.version, models_dir)  # moves the registry's champion alias too
        activated = True
    return Candidate(result.version, previous, result.selected, result.cached,
                     result.seconds, table, activated, held)


# --- where a trained candidate stands (the Upload & score page's retrain steps) -----------------
#: `standing` values: the candidate is the model already in use before training (same data and
#: settings), it has been put in use since, or it waits for a decision.
SAME, IN_USE, READY = "same", "in-use", "ready"

#: Words of `comparison_frame`'s "better" column.
BETTER_WORDS = {"champion": "Model in use", "challenger": "New model", "same": "Same"}


def standing(cand: Candidate, models_dir) -> str:
    """`SAME`, `IN_USE` or `READY`: what a page can still do with a trained candidate (the
    active pointer is read each time, so another user's switch is seen)."""
    from churn import models

    if cand.version == cand.previous:
        return SAME
    return IN_USE if models.active_version(models_dir) == cand.version else READY


def family_label(cand: Candidate) -> str:
    """The candidate's model family in words ("Logistic regression"), its code when unknown."""
    from churn.models import FAMILIES

    return FAMILIES[cand.selected].label if cand.selected in FAMILIES else cand.selected


def how_obtained(cand: Candidate) -> str:
    """"loaded from the cache", "trained in under a second" or "trained in 42 seconds"."""
    if cand.cached:
        return "loaded from the cache"
    return ("trained in under a second" if cand.seconds < 1
            else f"trained in {cand.seconds:,.0f} seconds")


def comparison_frame(cand: Candidate) -> pd.DataFrame:
    """The candidate's comparison with the model in use as a table: label (the metric's name as
    the Model report titles it, ``churn.model_report.TITLES``),
    champion, challenger (the metric on the held-out customers, its own units) and better
    (`BETTER_WORDS`). Empty (same columns) when there was no model in use."""
    from churn.model_report import TITLES

    cols = ["label", "champion", "challenger", "better"]
    if not cand.comparison:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(cand.comparison)
    out["label"] = [TITLES.get(m, label) for m, label in zip(out["metric"], out["label"])]
    out["better"] = out["better"].map(BETTER_WORDS).fillna(out["better"])
    return out[cols]


def families_frame(cand: Candidate, models_dir) -> pd.DataFrame:
    """The model families the candidate's training compared (``models.comparison_table`` of its
    metadata, one row per family, without the raw settings column)."""
    from churn import models

    meta = models.load_version(cand.version, models_dir).metadata
    table = models.comparison_table(meta).reset_index()
    return table.drop(columns=[c for c in ("params",) if c in table.columns])


def put_in_use(cand: Candidate, models_dir) -> list[str]:
    """Make the candidate the model every page uses (``models.activate``: checked first, the
    MLflow alias champion follows). Returns activation warnings (e.g. the registry could not
    be reached). Raises ValueError / ``models.ModelCacheError`` when it cannot be used."""
    from churn import models

    warnings = models.activate(cand.version, models_dir)
    cand.activated = True
    return list(warnings or [])
