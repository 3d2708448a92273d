"""How to train and choose a model (`TrainConfig`) and the library versions a saved model needs."""
from __future__ import annotations

import platform
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn import metrics as M
from churn.models import families as _families  # noqa: F401 - registers every family first
from churn.models.family import FAMILIES


@dataclass(frozen=True)
class TrainConfig:
    """How to train and choose a model.

    families: family names from ``FAMILIES`` to compare (default: every registered family, in
    ``FAMILIES`` order). selection_metric: a key of
    ``churn.metrics.HIGHER_IS_BETTER`` (default "pr_auc"). threshold: decision threshold on the
    calibrated probability for recall/precision (0..1). folds: cross-validation folds (≥ 2).
    seed: for the folds and every model. grid: "full" or "small" (one point a family, for tests).
    n_jobs: threads each model may use.
    """

    families: tuple[str, ...] = tuple(FAMILIES)
    selection_metric: str = "pr_auc"
    threshold: float = 0.5
    folds: int = 5
    seed: int = 42
    grid: str = "full"
    n_jobs: int = 2

    def checked(self) -> "TrainConfig":
        """This config with ``families`` as a tuple, or ValueError naming the bad value."""
        fams = (self.families,) if isinstance(self.families, str) else tuple(self.families)
        if not fams:
            raise ValueError("families is empty; choose at least one of: " + ", ".join(FAMILIES))
        for f in fams:
            if f not in FAMILIES:
                raise ValueError(f"Unknown model family {f!r}; choose from: {', '.join(FAMILIES)}.")
        if len(set(fams)) != len(fams):
            raise ValueError(f"families lists a family twice: {', '.join(fams)}.")
        if self.selection_metric not in M.HIGHER_IS_BETTER:
            raise ValueError(f"Unknown selection metric {self.selection_metric!r}; choose from: "
                             + ", ".join(M.HIGHER_IS_BETTER) + ".")
        if not 0 < float(self.threshold) < 1:
            raise ValueError(f"threshold={self.threshold!r} must be a probability strictly "
                             "between 0 and 1.")
        if int(self.folds) < 2:
            raise ValueError(f"folds={self.folds!r}: cross-validation needs at least 2 folds.")
        if self.grid not in ("full", "small"):
            raise ValueError(f"grid={self.grid!r} must be 'full' or 'small'.")
        if int(self.n_jobs) < 1:
            raise ValueError(f"n_jobs={self.n_jobs!r} must be at least 1.")
        return TrainConfig(fams, self.selection_metric, float(self.threshold), int(self.folds),
                           int(self.seed), self.grid, int(self.n_jobs))

    def to_dict(self) -> dict:
        return {"families": list(self.families), "selection_metric": self.selection_metric,
                "threshold": self.threshold, "folds": self.folds, "seed": self.seed,
                "grid": self.grid, "n_jobs": self.n_jobs}


def _dist_version(*names: str) -> str:
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def library_versions() -> dict[str, str]:
    """Versions of every library a saved model depends on (part of the fingerprint).

    Read from the installed package metadata, so checking a cached model does not import
    XGBoost, CatBoost and scikit-learn (seconds on a cold start). XGBoost may be installed as
    ``xgboost`` or as the CPU-only ``xgboost-cpu`` build (the same module).
    """
    return {"python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "sklearn": _dist_version("scikit-learn"),
            "xgboost": _dist_version("xgboost", "xgboost-cpu"),
            "catboost": _dist_version("catboost")}
