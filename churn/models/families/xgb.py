"""Family ``xgb``: XGBoost hist trees on the one-hot encoding, exact ``pred_contribs``."""
from __future__ import annotations

import numpy as np

from churn.models.encoding import make_preprocessor, onehot_feature_map
from churn.models.family import _close_gap, _OneHotFamily


class XGBoostFamily(_OneHotFamily):
    """XGBoost (hist trees) on one-hot input, scale_pos_weight = stayers / churners.

    Shallow trees keep exact contributions (``pred_contribs``) fast. Saved as ``model.ubj``.
    """

    name = "xgb"
    label = "XGBoost"
    order = 30
    model_file = "model.ubj"
    STAGE_PARAM = "n_estimators"
    GRIDS = {
        "full": [{"max_depth": d, "learning_rate": lr, "n_estimators": n}
                 for d in (2, 3) for lr in (0.05, 0.1) for n in (200, 300)],
        "small": [{"max_depth": 3, "learning_rate": 0.05, "n_estimators": 200}],
    }

    def _dmatrix(self, X, y=None):
        import xgboost as xgb

        Z = np.asarray(self.preprocess_.transform(X), dtype=np.float32)
        # One thread for small inputs (a what-if rescore): starting threads costs more than it saves.
        return xgb.DMatrix(Z, label=y, nthread=1 if len(Z) < 2000 else self.n_jobs)

    def fit(self, X, y):
        import xgboost as xgb

        self.preprocess_ = make_preprocessor(False).fit(X)
        pos = float(np.sum(y))
        neg = float(len(y) - pos)
        p = self.params
        booster_params = {
            "objective": "binary:logistic", "tree_method": "hist",
            "max_depth": int(p.get("max_depth", 3)), "eta": float(p.get("learning_rate", 0.1)),
            "scale_pos_weight": neg / pos if pos else 1.0, "nthread": self._fit_threads(len(y)),
            "seed": self.seed, "verbosity": 0,
        }
        self.booster_ = xgb.train(booster_params, self._dmatrix(X, y),
                                  num_boost_round=int(p.get("n_estimators", 200)))
        self.booster_.set_param({"nthread": self.n_jobs})
        return self

    def margin(self, X):
        return self._booster_for(len(X)).predict(self._dmatrix(X),
                                                 output_margin=True).astype(np.float64)

    def staged_margin(self, X, n_estimators: int) -> np.ndarray:
        """Margin of the first ``n_estimators`` trees (identical to a fit with that many rounds:
        no subsampling, so boosting is deterministic round by round)."""
        return self.booster_.predict(self._dmatrix(X), output_margin=True,
                                     iteration_range=(0, int(n_estimators))).astype(np.float64)

    def _booster_for(self, n_rows: int):
        """The booster to predict with: a one-thread copy for small inputs (a what-if rescore
        waits tens of milliseconds for OpenMP threads otherwise), the n_jobs one for batches."""
        if n_rows >= 2000:
            return self.booster_
        small = getattr(self, "_booster_1thread", None)
        if small is None:
            small = self.booster_.copy()
            small.set_param({"nthread": 1})
            self._booster_1thread = small
        return small

    def _contributions(self, X):
        dm = self._dmatrix(X)
        booster = self._booster_for(len(X))
        raw = booster.predict(dm, pred_contribs=True).astype(np.float64)
        margin = booster.predict(dm, output_margin=True).astype(np.float64)
        base = float(raw[0, -1])
        contrib = raw[:, :-1] @ onehot_feature_map()
        return base, _close_gap(base, contrib, margin)

    def save(self, folder):
        self.booster_.save_model(str(folder / self.model_file))
        return [self.model_file, self._save_preprocess(folder)]

    @classmethod
    def load(cls, folder, params, seed, n_jobs=2):
        import xgboost as xgb

        obj = cls(params, seed, n_jobs)
        obj.booster_ = xgb.Booster()
        obj.booster_.load_model(str(folder / cls.model_file))
        obj.booster_.set_param({"nthread": n_jobs})
        return cls._load_preprocess(obj, folder)
