"""Family ``cat``: CatBoost on the raw categories, exact SHAP values from leaf tables."""
from __future__ import annotations

import numpy as np

from churn import schema
from churn.models.family import Family, _close_gap
from churn.schema import CATEGORICAL_FEATURES, FEATURES


def _pool(X, cat_features):
    """A CatBoost Pool of a feature frame. Below `schema.FEW_ROWS` rows it is built from the
    rows as one object matrix: CatBoost's DataFrame reader looks at each column through pandas
    (about 1 ms for one customer); the matrix gives it the same features (the same float32
    numbers and category texts: tests/test_predict_fast.py, cat family)."""
    from catboost import Pool

    if len(X) < schema.FEW_ROWS:
        return Pool(X.to_numpy(dtype=object), cat_features=cat_features)
    return Pool(X, cat_features=cat_features)


class CatBoostFamily(Family):
    """CatBoost on the raw categories (``cat_features``), auto_class_weights="Balanced".

    ``max_ctr_complexity=1`` (no category combinations) keeps fitting fast on two cores; the
    contributions are CatBoost's exact ``ShapValues``, computed from per-tree leaf tables
    (`churn.catboost_shap`, checked against CatBoost on first use). Saved as ``model.cbm``.
    """

    name = "cat"
    label = "CatBoost"
    order = 40
    model_file = "model.cbm"
    CAT_INDEX = [FEATURES.index(c) for c in CATEGORICAL_FEATURES]
    GRIDS = {
        "full": [{"depth": d, "learning_rate": 0.08, "iterations": 300} for d in (3, 4)],
        "small": [{"depth": 4, "learning_rate": 0.1, "iterations": 150}],
    }

    def fit(self, X, y):
        from catboost import CatBoostClassifier

        p = self.params
        self.estimator_ = CatBoostClassifier(
            iterations=int(p.get("iterations", 300)), depth=int(p.get("depth", 4)),
            learning_rate=float(p.get("learning_rate", 0.08)), auto_class_weights="Balanced",
            max_ctr_complexity=1, random_seed=self.seed, thread_count=self._fit_threads(len(y)),
            verbose=False, allow_writing_files=False)
        self.estimator_.fit(X, y, cat_features=self.CAT_INDEX)
        return self

    def margin(self, X):
        return self._pool_margin(_pool(X, self.CAT_INDEX))

    def _contributions(self, X):
        pool = _pool(X, self.CAT_INDEX)
        tables = self._shap_tables(X)
        if tables is not None:   # the same exact values as CatBoost's, from leaf tables
            leaves = np.asarray(self.estimator_.calc_leaf_indexes(
                pool, thread_count=self._predict_threads(len(X))))
            return tables.base, _close_gap(tables.base, tables.values(leaves, X.shape[1]),
                                           self._pool_margin(pool))
        sv = np.asarray(self.estimator_.get_feature_importance(
            pool, type="ShapValues", thread_count=self.n_jobs), dtype=np.float64)
        base = float(sv[0, -1])
        return base, _close_gap(base, sv[:, :-1], self._pool_margin(pool))

    def _pool_margin(self, pool):
        """`margin` of rows already in a CatBoost Pool (one Pool per call instead of two)."""
        return np.asarray(self.estimator_.predict(
            pool, prediction_type="RawFormulaVal",
            thread_count=self._predict_threads(pool.num_row())), dtype=np.float64)

    def _shap_tables(self, X):
        """`churn.catboost_shap.ShapTables` of this model, built and checked against CatBoost's
        own SHAP values on the first rows seen (None, for good, when they differ)."""
        found = self.__dict__.get("_shap_tables_", False)
        if found is False:
            from catboost import Pool

            from churn.catboost_shap import CHECK_ROWS, ShapTables

            try:
                found = ShapTables.build(self.estimator_, X.shape[1])
                head = Pool(X.iloc[:CHECK_ROWS], cat_features=self.CAT_INDEX)
                if found is not None and not found.check(self.estimator_, head, X.shape[1]):
                    found = None
            except Exception:  # noqa: BLE001 - anything unexpected: CatBoost's own values
                found = None
            self._shap_tables_ = found
        return found

    def save(self, folder):
        self.estimator_.save_model(str(folder / self.model_file), format="cbm")
        return [self.model_file]

    @classmethod
    def load(cls, folder, params, seed, n_jobs=2):
        from catboost import CatBoostClassifier

        obj = cls(params, seed, n_jobs)
        obj.estimator_ = CatBoostClassifier()
        obj.estimator_.load_model(str(folder / cls.model_file), format="cbm")
        return obj


