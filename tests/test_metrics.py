"""Tests of churn.metrics against scikit-learn and hand computation on known inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from churn import metrics as M

Y4 = np.array([0, 0, 1, 1])
P4 = np.array([0.1, 0.4, 0.35, 0.8])


def test_roc_and_pr_auc_on_the_textbook_example():
    # The scikit-learn documentation example: ROC-AUC 0.75, average precision 0.8333.
    assert M.roc_auc(Y4, P4) == pytest.approx(0.75)
    assert M.pr_auc(Y4, P4) == pytest.approx(0.8333333333)


def test_brier_and_log_loss_by_hand():
    assert M.brier(Y4, P4) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    by_hand = -(math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)) / 4
    assert M.log_loss(Y4, P4) == pytest.approx(by_hand)


def test_metrics_agree_with_scikit_learn_on_random_data():
    rng = np.random.default_rng(0)
    p = rng.random(997)
    y = (rng.random(997) < p).astype(int)
    assert M.roc_auc(y, p) == pytest.approx(skm.roc_auc_score(y, p))
    assert M.pr_auc(y, p) == pytest.approx(skm.average_precision_score(y, p))
    assert M.brier(y, p) == pytest.approx(skm.brier_score_loss(y, p))
    assert M.log_loss(y, p) == pytest.approx(skm.log_loss(y, p))
    assert M.recall_at_threshold(y, p, 0.3) == pytest.approx(skm.recall_score(y, p >= 0.3))
    assert M.precision_at_threshold(y, p, 0.3) == pytest.approx(skm.precision_score(y, p >= 0.3))


def test_log_loss_clips_certain_wrong_predictions():
    assert M.log_loss([1], [0.0]) == pytest.approx(-math.log(1e-15))


def test_top_mask_takes_the_ceiling_and_breaks_ties_by_position():
    p = np.array([0.5, 0.9, 0.5, 0.1, 0.5, 0.2, 0.3, 0.4, 0.6, 0.7])
    assert np.flatnonzero(M.top_mask(p, 0.1)).tolist() == [1]
    # ceil(0.25 * 10) = 3: 0.9, 0.7, 0.6
    assert np.flatnonzero(M.top_mask(p, 0.25)).tolist() == [1, 8, 9]
    # 5 rows: 0.9, 0.7, 0.6 and the first two of the three tied 0.5s (rows 0 and 2)
    assert np.flatnonzero(M.top_mask(p, 0.5)).tolist() == [0, 1, 2, 8, 9]
    assert M.top_mask(p, 0.2).sum() == 2  # 0.2 * 10 must not become 3 through rounding


def test_lift_and_precision_in_the_top_fraction_by_hand():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    p = np.linspace(0.9, 0.0, 10)
    assert M.precision_at_top(y, p, 0.10) == 1.0
    assert M.lift_at_top(y, p, 0.10) == pytest.approx(5.0)  # 1.0 / 0.2
    assert M.lift_at_top(y, p, 0.20) == pytest.approx(5.0)
    assert M.precision_at_top(y, p, 0.5) == pytest.approx(0.4)
    assert M.lift_at_top(y, p, 0.5) == pytest.approx(2.0)
    assert math.isnan(M.lift_at_top(np.zeros(10), p, 0.1))


def test_threshold_metrics_by_hand():
    y = np.array([1, 1, 1, 0, 0])
    p = np.array([0.9, 0.6, 0.2, 0.7, 0.1])
    assert M.recall_at_threshold(y, p, 0.5) == pytest.approx(2 / 3)
    assert M.precision_at_threshold(y, p, 0.5) == pytest.approx(2 / 3)
    assert M.precision_at_threshold(y, p, 0.95) == 0.0  # nobody flagged
    assert M.recall_at_threshold(y, p, 0.6) == pytest.approx(2 / 3)  # p >= t is flagged


def test_expected_calibration_error_by_hand():
    # bins: [0, .1): p .05 y 0 -> .05; [.1, .2): p .15, .15 y 0, 1 -> |.15 - .5| x 2;
    # [.9, 1]: p .95 y 1 -> .05. ECE = (.05 + .7 + .05) / 4 = 0.2
    ece = M.expected_calibration_error([0, 0, 1, 1], [0.05, 0.15, 0.15, 0.95])
    assert ece == pytest.approx(0.2)
    # p == 1 belongs to the last bin, p == 0.1 to the second
    assert M.expected_calibration_error([1, 0], [1.0, 0.1]) == pytest.approx((0 + 0.1) / 2)
    # one bin [.5, .6): mean p .525 against churn rate .5
    ece = M.expected_calibration_error([0, 1, 0, 1], [0.55, 0.55, 0.5, 0.5])
    assert ece == pytest.approx(0.025)
    # perfectly calibrated bins give 0
    assert M.expected_calibration_error([0, 1, 0, 0], [0.5, 0.5, 0.0, 0.0]) == pytest.approx(0.0)


def test_reliability_points_match_the_ece():
    rng = np.random.default_rng(1)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    r = M.reliability_points(y, p)
    assert sum(r["count"]) == 500
    ece = sum(c / 500 * abs(mp - cr) for c, mp, cr in
              zip(r["count"], r["mean_predicted"], r["churn_rate"]))
    assert ece == pytest.approx(M.expected_calibration_error(y, p))


def test_summary_has_every_metric():
    s = M.summary(Y4, P4, threshold=0.5)
    assert set(s) == set(M.HIGHER_IS_BETTER) | {"n", "churn_rate"}
    assert s["n"] == 4 and s["churn_rate"] == 0.5
    assert set(M.LABELS) == set(M.HIGHER_IS_BETTER)


def test_single_class_gives_nan_aucs():
    assert math.isnan(M.roc_auc([1, 1], [0.2, 0.3]))
    assert math.isnan(M.pr_auc([0, 0], [0.2, 0.3]))


def test_curves_start_and_end_where_they_should_and_are_thinned():
    rng = np.random.default_rng(2)
    p = rng.random(3000)
    y = (rng.random(3000) < p).astype(int)
    c = M.curves(y, p, max_points=51)
    assert set(c) == {"roc", "pr", "reliability", "gains"}
    assert (c["roc"]["fpr"][0], c["roc"]["tpr"][0]) == (0.0, 0.0)
    assert (c["roc"]["fpr"][-1], c["roc"]["tpr"][-1]) == (1.0, 1.0)
    assert len(c["roc"]["fpr"]) <= 51 and len(c["gains"]["share_customers"]) <= 51
    assert c["gains"]["share_customers"][0] == 0.0 and c["gains"]["share_churners"][-1] == 1.0
    assert np.all(np.diff(c["pr"]["recall"]) >= 0)
    # gains at 10% of customers = precision in the top 10% x n10 / churners
    g = M.gains_points(y, p, max_points=3001)
    k = 300
    assert g["share_churners"][k] == pytest.approx(y[M.top_mask(p, 0.1)].sum() / y.sum())


def test_bad_arguments_raise_with_exact_messages():
    with pytest.raises(ValueError) as e:
        M.brier([0, 1], [0.5])
    assert str(e.value) == "y has 2 values but p has 1; pass one probability per outcome."
    with pytest.raises(ValueError) as e:
        M.top_mask([0.1, 0.2], 0)
    assert str(e.value) == "fraction=0 must be in (0, 1]; e.g. 0.1 for the top 10%."
