"""The model-family interface (`Family`) and the family registry (`FAMILIES`).

A family is one module in ``churn/models/families/``: a `Family` subclass with a ``name``. It
registers itself when its module is imported (``Family.__init_subclass__``), and the package
``churn.models.families`` imports every module in its folder, so adding a family touches that
one new file. ``order`` places it in `FAMILIES` (the default training list, menus, messages).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from churn.models.encoding import _template_features, make_preprocessor
from churn.schema import FEATURES

PREPROCESS_FILE = "preprocess.joblib"

#: The registry: family name -> Family subclass, in ``order``. Filled by the family modules
#: themselves (`Family.__init_subclass__`); never edit it by hand.
FAMILIES: dict[str, type["Family"]] = {}


def _close_gap(base: float, contrib: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Spread margin - (base + row sum) over each row's contributions in proportion to |c|.

    The gap is floating-point rounding (float32 in XGBoost, about 1e-6) or, for the forest, the
    limit of the proportional allocation; spreading it keeps the additive identity exact.
    """
    gap = margin - base - contrib.sum(axis=1)
    w = np.abs(contrib)
    s = w.sum(axis=1, keepdims=True)
    w = np.where(s > 0, w / np.where(s > 0, s, 1.0), 1.0 / max(contrib.shape[1], 1))
    return contrib + gap[:, None] * w


class Family:
    """One model family: a small grid, fit, raw margin and exact contributions, save/load.

    ``X`` is always ``schema.feature_frame(df)``; ``y`` a 0/1 numpy array. ``__init__`` only
    stores parameters; ``fit`` learns attributes ending in ``_``.
    """

    #: Registry key (``TrainConfig.families``, metadata), e.g. "xgb"; "" for a shared base class.
    name = ""
    #: What a retention manager reads, e.g. "XGBoost".
    label = ""
    #: Place in `FAMILIES` (the default training list and every menu): lower comes first.
    order = 100
    model_file = ""
    GRIDS: dict[str, list[dict]] = {}
    #: A parameter whose smaller values are prefixes of one fit (boosting rounds): grid points
    #: that differ only in it share one fit, read with ``staged_margin(X, value)``.
    STAGE_PARAM: str | None = None

    def __init_subclass__(cls, **kwargs):
        """Register a family class that declares its own ``name`` (base classes do not)."""
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name", "")
        if not name:
            return
        old = FAMILIES.get(name)
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__,
                                                                      cls.__qualname__):
            raise ValueError(f"Model family name {name!r} is taken by {old.__module__}"
                             f".{old.__qualname__}; choose another name for "
                             f"{cls.__module__}.{cls.__qualname__}.")
        FAMILIES[name] = cls
        ordered = sorted(FAMILIES.items(), key=lambda kv: (kv[1].order, kv[0]))
        FAMILIES.clear()
        FAMILIES.update(ordered)

    def __init__(self, params: dict | None = None, seed: int = 42, n_jobs: int = 2):
        self.params = dict(params or {})
        self.seed = seed
        self.n_jobs = n_jobs

    @classmethod
    def make(cls, params: dict, seed: int, n_jobs: int = 2) -> "Family":
        """An unfitted model of this family with the given hyperparameters."""
        return cls(params, seed, n_jobs)

    @classmethod
    def grid(cls, size: str = "full") -> list[dict]:
        """The hyperparameter points cross-validation tries (``size``: "full" or "small")."""
        return [dict(p) for p in cls.GRIDS[size]]

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> "Family":
        raise NotImplementedError

    def _fit_threads(self, n_rows: int) -> int:
        """Threads for fitting: 1 below 50,000 rows (thread start-up and OpenMP barriers cost
        more than they save on small data, badly so on a busy machine), else n_jobs."""
        return 1 if n_rows < 50_000 else self.n_jobs

    def _predict_threads(self, n_rows: int) -> int:
        """Threads for predicting: 1 for a few rows (a what-if or API rescore otherwise waits on
        a thread pool), else n_jobs."""
        return 1 if n_rows < 2000 else self.n_jobs

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """Raw score in log-odds (before calibration), float64, one per row."""
        raise NotImplementedError

    def contributions(self, X: pd.DataFrame) -> tuple[float, np.ndarray]:
        """(base margin, n × len(FEATURES) contributions) with base + row sum == margin(X)."""
        if len(X) == 0:
            base, _ = self._contributions(_template_features())
            return base, np.zeros((0, len(FEATURES)))
        return self._contributions(X)

    def _contributions(self, X: pd.DataFrame) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def save(self, folder: Path) -> list[str]:
        """Write the fitted model into ``folder``; return the file names written."""
        raise NotImplementedError

    @classmethod
    def load(cls, folder: Path, params: dict, seed: int, n_jobs: int = 2) -> "Family":
        raise NotImplementedError


class _OneHotFamily(Family):
    """Shared parts of the families that read the one-hot preprocessing pipeline."""

    scale = False

    def _fit_preprocess(self, X):
        self.preprocess_ = make_preprocessor(self.scale).fit(X)
        return self.preprocess_.transform(X)

    def _z(self, X) -> np.ndarray:
        return np.asarray(self.preprocess_.transform(X), dtype=np.float64)

    def _save_preprocess(self, folder: Path) -> str:
        import joblib

        joblib.dump(self.preprocess_, folder / PREPROCESS_FILE)
        return PREPROCESS_FILE

    @classmethod
    def _load_preprocess(cls, obj, folder: Path):
        import joblib

        obj.preprocess_ = joblib.load(folder / PREPROCESS_FILE)
        return obj
