"""Tests of the churn.models package layout: the re-exported names, the self-filling family
registry (a new family is one new module), and files saved before the split still loading."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import churn.models.families as families_pkg
from churn import models, synth
from churn.models import family as family_mod

# Every name of the single-module churn/models.py that code, tests or tools used (the package
# must keep them, so `from churn import models; models.X` does not change for any caller).
OLD_NAMES = [
    "ACTIVE_FILE", "CatBoostFamily", "ChurnModel", "FAMILIES", "Family", "ForestFamily",
    "LogisticFamily", "METADATA", "MODEL_FORMAT", "ModelCacheError", "NoModelError", "OOF_FILE",
    "PREPROCESS_FILE", "REPORT_METRICS", "SEGMENTS", "STALE_TMP_SECONDS", "SchemaEncoder",
    "TMP_PREFIX", "TRASH_PREFIX", "TrainConfig", "TrainResult", "XGBoostFamily", "activate",
    "active_or_train", "active_version", "comparison_table", "cross_fitted_platt",
    "data_fingerprint", "fingerprint", "fit_platt", "fold_ids", "jsonable", "library_versions",
    "list_versions", "load_active", "load_oof", "load_version", "make_preprocessor",
    "onehot_feature_map", "progress_text", "segment_metrics", "train",
    # private names that tests import
    "_check_frame", "_sha256", "_OneHotFamily", "_close_gap", "_template_features",
    # schema names the old module had imported (tests read models.TARGET)
    "FEATURES", "ID", "TARGET",
]


def test_every_name_of_the_old_module_is_still_there():
    missing = [n for n in OLD_NAMES if not hasattr(models, n)]
    assert missing == []
    assert issubclass(models.ModelCacheError, RuntimeError)
    assert issubclass(models.NoModelError, LookupError)


def test_the_registry_is_filled_by_the_family_modules_in_their_order():
    assert list(models.FAMILIES) == ["lr", "rf", "xgb", "cat"]
    assert [c.__module__ for c in models.FAMILIES.values()] == [
        "churn.models.families.lr", "churn.models.families.rf", "churn.models.families.xgb",
        "churn.models.families.cat"]
    assert models.TrainConfig().families == ("lr", "rf", "xgb", "cat")
    # shared base classes (no name of their own) are not families
    assert models._OneHotFamily not in models.FAMILIES.values()


def test_two_families_cannot_share_a_name():
    with pytest.raises(ValueError) as e:
        type("Impostor", (models.Family,), {"name": "lr", "__module__": "somewhere.else"})
    assert str(e.value) == ("Model family name 'lr' is taken by churn.models.families.lr."
                            "LogisticFamily; choose another name for somewhere.else.Impostor.")
    with pytest.raises(ValueError):      # the same class name in another module is another class
        type("LogisticFamily", (models.Family,), {"name": "lr", "__module__": "my.copy"})
    assert models.FAMILIES["lr"] is models.LogisticFamily


# A whole new family, as a newcomer would write it: one module, nothing else edited.
PRIOR_FAMILY = '''
"""Family ``prior``: every customer gets the training churn rate (a baseline)."""
from __future__ import annotations

import json

import numpy as np

from churn.models.family import Family
from churn.schema import FEATURES


class PriorFamily(Family):
    name = "prior"
    label = "Churn rate only"
    order = 5
    model_file = "prior.json"
    GRIDS = {"full": [{}], "small": [{}]}

    def fit(self, X, y):
        rate = (np.sum(y) + 0.5) / (len(y) + 1.0)
        self.logit_ = float(np.log(rate / (1 - rate)))
        return self

    def margin(self, X):
        return np.full(len(X), self.logit_)

    def _contributions(self, X):
        return self.logit_, np.zeros((len(X), len(FEATURES)))

    def save(self, folder):
        (folder / self.model_file).write_text(json.dumps({"logit": self.logit_}))
        return [self.model_file]

    @classmethod
    def load(cls, folder, params, seed, n_jobs=2):
        obj = cls(params, seed, n_jobs)
        obj.logit_ = json.loads((folder / cls.model_file).read_text())["logit"]
        return obj
'''


@pytest.fixture
def prior_family(plugin_module):
    """PRIOR_FAMILY written as one more module of churn.models.families, then removed again."""
    try:
        yield plugin_module(families_pkg, "prior", PRIOR_FAMILY)
    finally:
        family_mod.FAMILIES.pop("prior", None)


def test_a_new_family_is_one_new_module(prior_family, tmp_path):
    assert "prior" in prior_family
    assert list(models.FAMILIES) == ["prior", "lr", "rf", "xgb", "cat"]
    df = synth.generate_customers(600, 3)
    cfg = models.TrainConfig(families=("prior", "lr"), grid="small", folds=2)
    result = models.train(df, cfg, tmp_path / "models")
    assert set(result.metrics) == {"prior", "lr"}
    assert result.comparison().loc["prior", "label"] == "Churn rate only"
    # a constant score ranks nobody: its ROC-AUC is exactly one half
    assert result.metrics["prior"]["roc_auc"] == pytest.approx(0.5)
    loaded = models.load_version(result.version, tmp_path / "models")
    assert loaded.family == result.selected == "lr"
    # the new family's own files are saved and read back like any other family's
    prior = models.FAMILIES["prior"].make({}, 42).fit(df[models.FEATURES], df["Churn"].to_numpy())
    (tmp_path / "p").mkdir()
    assert prior.save(tmp_path / "p") == ["prior.json"]
    back = models.FAMILIES["prior"].load(tmp_path / "p", {}, 42)
    rate = (df["Churn"].sum() + 0.5) / (len(df) + 1)
    assert back.margin(df.head(3)) == pytest.approx([np.log(rate / (1 - rate))] * 3)


def test_preprocessing_saved_before_the_split_still_loads():
    """Model versions saved by the single-module code pickled ``churn.models.SchemaEncoder``."""
    df = synth.generate_customers(200, 1)
    enc = models.make_preprocessor(True).fit(df[models.FEATURES])
    blob = pickle.dumps(enc, protocol=0)
    assert b"churn.models.encoding\nSchemaEncoder" in blob
    old_blob = blob.replace(b"churn.models.encoding\nSchemaEncoder", b"churn.models\nSchemaEncoder")
    old = pickle.loads(old_blob)
    assert type(old) is models.SchemaEncoder
    np.testing.assert_array_equal(old.transform(df[models.FEATURES]),
                                  enc.transform(df[models.FEATURES]))
