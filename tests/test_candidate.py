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
from churn import model_report as MR  # noqa: E402
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


def test_standing_tables_and_put_in_use_follow_the_active_pointer(tmp_path, frame):
    from churn import retrain

    models_dir = tmp_path / "models"
    shutil.copytree(config.paths(trained_data_dir()).models_dir, models_dir)
    before = models.active_version(models_dir)
    cand = R.train_candidate(frame, models_dir)
    assert R.standing(cand, models_dir) == R.READY
    assert R.family_label(cand) == "Logistic regression"
    # the shown table: the core comparison's rows, "better" in words, decided by each metric's
    # direction (checked against churn.metrics.HIGHER_IS_BETTER directly)
    shown = R.comparison_frame(cand)
    assert list(shown.columns) == ["label", "champion", "challenger", "better"]
    assert shown["label"].tolist() == [MR.TITLES[r["metric"]] for r in cand.comparison]
    assert shown["label"].tolist()[:2] == ["ROC-AUC", "PR-AUC"]
    for row, raw in zip(shown.to_dict("records"), cand.comparison):
        gain = (raw["challenger"] - raw["champion"]) * (
            1 if metrics.HIGHER_IS_BETTER[raw["metric"]] else -1)
        assert row["better"] == ("New model" if gain > 1e-12 else "Model in use"
                                 if gain < -1e-12 else "Same")
    _, held = retrain.holdout_split(frame, seed=42)
    assert cand.holdout_rows == len(held) == round(len(frame) * 0.2)
    fams = R.families_frame(cand, models_dir)
    meta = models.load_version(cand.version, models_dir).metadata
    assert len(fams) == len(meta["families"]) and "params" not in fams.columns
    # put in use: the pointer moves, the candidate says so, and another page sees IN_USE
    R.put_in_use(cand, models_dir)
    assert models.active_version(models_dir) == cand.version and cand.activated
    assert R.standing(cand, models_dir) == R.IN_USE
    models.activate(before, models_dir)   # someone switched back elsewhere
    assert R.standing(cand, models_dir) == R.READY
    # training again on the same customers with the candidate in use gives the same model
    R.put_in_use(cand, models_dir)
    again = R.train_candidate(frame, models_dir)
    assert again.version == again.previous == cand.version
    assert R.standing(again, models_dir) == R.SAME


def test_how_obtained_and_an_empty_comparison():
    c = R.Candidate("abc", None, "lr", cached=False, seconds=41.6)
    assert R.how_obtained(c) == "trained in 42 seconds"
    assert R.how_obtained(R.Candidate("abc", None, "lr", False, 0.4)) == "trained in under a second"
    assert R.how_obtained(R.Candidate("abc", None, "lr", True, 0.0)) == "loaded from the cache"
    assert R.comparison_frame(c).columns.tolist() == ["label", "champion", "challenger", "better"]
    assert R.comparison_frame(c).empty
