"""Family ``lr``: L2 logistic regression (scikit-learn) on the one-hot encoding."""
from __future__ import annotations

import numpy as np

from churn.models.encoding import onehot_feature_map
from churn.models.family import _close_gap, _OneHotFamily


class LogisticFamily(_OneHotFamily):
    """L2 logistic regression on scaled numerics + one-hot categories, class_weight="balanced".

    Grid: C (inverse regularisation strength). Contributions: coef × (z - training mean of z),
    exact in log-odds; base = intercept + coef · training mean.
    """

    name = "lr"
    label = "Logistic regression"
    order = 10
    model_file = "model.joblib"
    scale = True
    GRIDS = {"full": [{"C": 0.1}, {"C": 1.0}, {"C": 10.0}], "small": [{"C": 1.0}]}

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression

        Z = self._fit_preprocess(X)
        self.estimator_ = LogisticRegression(C=float(self.params.get("C", 1.0)),
                                             class_weight="balanced", max_iter=5000)
        self.estimator_.fit(Z, y)
        self.train_mean_ = np.asarray(Z, dtype=float).mean(axis=0)
        return self

    def margin(self, X):
        return self._z(X) @ self.estimator_.coef_[0] + float(self.estimator_.intercept_[0])

    def _contributions(self, X):
        coef = self.estimator_.coef_[0]
        Z = self._z(X)
        base = float(self.estimator_.intercept_[0] + coef @ self.train_mean_)
        contrib = ((Z - self.train_mean_) * coef) @ onehot_feature_map()
        return base, _close_gap(base, contrib, Z @ coef + float(self.estimator_.intercept_[0]))

    def save(self, folder):
        import joblib

        joblib.dump({"estimator": self.estimator_, "train_mean": self.train_mean_},
                    folder / self.model_file)
        return [self.model_file, self._save_preprocess(folder)]

    @classmethod
    def load(cls, folder, params, seed, n_jobs=2):
        import joblib

        obj = cls(params, seed, n_jobs)
        saved = joblib.load(folder / cls.model_file)
        obj.estimator_, obj.train_mean_ = saved["estimator"], np.asarray(saved["train_mean"])
        return cls._load_preprocess(obj, folder)
