"""Family ``rf``: random forest (scikit-learn) on the one-hot encoding, explained by TreeSHAP."""
from __future__ import annotations

import numpy as np

from churn.models.calibration import _logit, _sigmoid
from churn.models.encoding import onehot_feature_map
from churn.models.family import _close_gap, _OneHotFamily


class ForestFamily(_OneHotFamily):
    """Random forest (scikit-learn), class_weight="balanced_subsample", one-hot input.

    Margin: logit of the forest's probability clipped to [1e-4, 1 - 1e-4]. Contributions:
    TreeSHAP on the probability, moved to log-odds by proportional allocation (module docstring).
    Trees are kept moderate (100 trees, depth ≤ 8, ≥ 20 rows a leaf) because TreeSHAP cost grows
    with leaves × depth²; even so the forest explains only ~1,000 rows/s (the boosters ~10-40k).
    """

    name = "rf"
    label = "Random forest"
    order = 20
    model_file = "model.joblib"
    CLIP = 1e-4
    GRIDS = {
        "full": [{"n_estimators": 100, "max_depth": 6, "min_samples_leaf": 20},
                 {"n_estimators": 100, "max_depth": 8, "min_samples_leaf": 20}],
        "small": [{"n_estimators": 60, "max_depth": 6, "min_samples_leaf": 20}],
    }

    def fit(self, X, y):
        from sklearn.ensemble import RandomForestClassifier

        Z = self._fit_preprocess(X)
        p = self.params
        self.estimator_ = RandomForestClassifier(
            n_estimators=int(p.get("n_estimators", 100)), max_depth=p.get("max_depth", 8),
            min_samples_leaf=int(p.get("min_samples_leaf", 20)), max_features="sqrt",
            class_weight="balanced_subsample", n_jobs=self.n_jobs, random_state=self.seed)
        self.estimator_.fit(Z, y)
        # Predict on one thread: scikit-learn adds the trees' votes in thread-completion order,
        # which changes the last bits of the probabilities from run to run.
        self.estimator_.n_jobs = 1
        return self

    def _prob(self, Z):
        return self.estimator_.predict_proba(Z)[:, 1]

    def margin(self, X):
        return _logit(np.clip(self._prob(self._z(X)), self.CLIP, 1 - self.CLIP))

    def _explainer(self):
        if getattr(self, "_explainer_", None) is None:
            import shap

            self._explainer_ = shap.TreeExplainer(self.estimator_)
        return self._explainer_

    def _contributions(self, X):
        Z = self._z(X)
        ex = self._explainer()
        sv = np.asarray(ex.shap_values(Z, check_additivity=False), dtype=float)
        if sv.ndim == 3:  # (rows, columns, classes)
            sv = sv[:, :, 1]
        base_p = float(np.ravel(ex.expected_value)[-1])
        margin = _logit(np.clip(self._prob(Z), self.CLIP, 1 - self.CLIP))
        base = float(_logit(np.clip(base_p, self.CLIP, 1 - self.CLIP)))
        dp = sv.sum(axis=1)
        pc = _sigmoid(margin)
        slope = np.where(np.abs(dp) > 1e-9, (margin - base) / np.where(np.abs(dp) > 1e-9, dp, 1.0),
                         1.0 / (pc * (1 - pc)))
        contrib = (sv * slope[:, None]) @ onehot_feature_map()
        return base, _close_gap(base, contrib, margin)

    def save(self, folder):
        import joblib

        joblib.dump(self.estimator_, folder / self.model_file)
        return [self.model_file, self._save_preprocess(folder)]

    @classmethod
    def load(cls, folder, params, seed, n_jobs=2):
        import joblib

        obj = cls(params, seed, n_jobs)
        obj.estimator_ = joblib.load(folder / cls.model_file)
        obj.estimator_.n_jobs = 1
        return cls._load_preprocess(obj, folder)
