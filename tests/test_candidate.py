"""Tests for churn.candidate: train a candidate with the active model's settings, compare on the same
customers (checked against churn.metrics directly), activate only when asked."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _explain_fakes import trained_data_dir  # noqa: E402

from churn import candidate as R, config, metrics, models, schema  # noqa: E402
from churn.validate import load_customers  # noqa: E402


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("candidate") / "models"
    shutil.copytree(config.paths(trained_data_dir()).models_dir, target)
    return target


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    p = config.paths(trained_data_dir())
    return load_customers(p.customers_csv).sample(1500, random_state=1).reset_index(drop=True)



def test_candidate_is_compared_without_switching_then_switches_when_asked(models_dir, frame):
    from churn import retrain

    before = models.active_version(models_dir)
    active = models.load_active(models_dir)
    out = R.train_candidate(frame, models_dir)
    assert out.previous == before and out.version != before and not out.activated
    assert models.active_version(models_dir) == before
    assert out.selected == "lr"  # the active model's own settings (logistic regression only)
    table = {r["metric"]: r for r in out.comparison}
    # On the held-out customers, scored by both models (checked against churn.metrics directly).
    new = models.load_version(out.version, models_dir)
    _, held = retrain.holdout_split(frame, seed=int(new.metadata["config"]["seed"]))
    y = held[schema.TARGET].to_numpy(int)
    champion = metrics.summary(y, active.predict_proba(held), 0.5)
    challenger = metrics.summary(y, new.predict_proba(held), 0.5)
    for m in ("roc_auc", "pr_auc", "brier"):
        assert table[m]["champion"] == pytest.approx(champion[m])
        assert table[m]["challenger"] == pytest.approx(challenger[m])
    again = R.train_candidate(frame, models_dir, activate=True)
    assert again.cached and again.version == out.version and again.activated
    assert models.active_version(models_dir) == out.version
    assert again.to_dict()["activated"] is True


def test_candidate_needs_churn(models_dir, frame):
    with pytest.raises(ValueError, match="^These customers have no Churn column, so there is "
                                         "nothing to learn from; retraining needs Churn"):
        R.train_candidate(frame.drop(columns=schema.TARGET), models_dir)
