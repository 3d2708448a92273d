"""Tests of the model report's numbers and figures: the threshold and cost functions added to
churn.metrics, the tables of churn.model_report and the figures of ui.model_report_charts,
checked against scikit-learn and hand computations on small known inputs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from churn import metrics as M
from churn import model_report as MR
from ui import model_report as R
from ui import model_report_charts as charts

# Five customers: churned 1, 0, 1, 0, 1 with these probabilities.
Y5 = np.array([1, 0, 1, 0, 1])
P5 = np.array([0.9, 0.8, 0.3, 0.2, 0.6])


# --- confusion counts and the cost curve --------------------------------------------------------
def test_confusion_counts_by_hand_and_against_scikit_learn():
    # threshold 0.5 flags 0.9 (churned), 0.8 (stayed), 0.6 (churned)
    assert M.confusion_counts(Y5, P5, 0.5) == {"tp": 2, "fp": 1, "fn": 1, "tn": 1}
    # p == threshold counts as flagged
    assert M.confusion_counts(Y5, P5, 0.3) == {"tp": 3, "fp": 1, "fn": 0, "tn": 1}
    rng = np.random.default_rng(1)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    for t in (0.0, 0.17, 0.5, 0.93, 1.0):
        tn, fp, fn, tp = skm.confusion_matrix(y, (p >= t).astype(int), labels=[0, 1]).ravel()
        assert M.confusion_counts(y, p, t) == {"tp": tp, "fp": fp, "fn": fn, "tn": tn}


def test_confusion_counts_rejects_a_threshold_outside_0_1():
    with pytest.raises(ValueError) as err:
        M.confusion_counts(Y5, P5, 1.5)
    assert str(err.value) == "threshold=1.5 must be a probability from 0 to 1."


def test_cost_curve_by_hand():
    curve = M.cost_curve(Y5, P5, offer_cost=10, customer_value=100,
                         thresholds=[0.0, 0.3, 0.5, 0.85, 1.0])
    assert curve["threshold"] == [0.0, 0.3, 0.5, 0.85, 1.0]
    assert curve["tp"] == [3, 3, 2, 1, 0]
    assert curve["fp"] == [2, 1, 1, 0, 0]
    assert curve["fn"] == [0, 0, 1, 2, 3]
    assert curve["tn"] == [0, 1, 1, 2, 2]
    assert curve["flagged"] == [5, 4, 3, 1, 0]
    # false alarms × $10 and missed churners × $100
    assert curve["false_alarm_cost"] == [20.0, 10.0, 10.0, 0.0, 0.0]
    assert curve["missed_cost"] == [0.0, 0.0, 100.0, 200.0, 300.0]
    assert curve["total_cost"] == [20.0, 10.0, 110.0, 200.0, 300.0]
    best = M.best_threshold(curve)
    assert (best["threshold"], best["total_cost"], best["fp"], best["fn"]) == (0.3, 10.0, 1, 0)


def test_cost_curve_default_grid_matches_confusion_counts_everywhere():
    rng = np.random.default_rng(7)
    p = np.round(rng.random(300), 2)  # many values exactly on the grid
    y = (rng.random(300) < p).astype(int)
    curve = M.cost_curve(y, p, 25.5, 480)
    assert curve["threshold"] == [i / 100 for i in range(101)]
    for i, t in enumerate(curve["threshold"]):
        c = M.confusion_counts(y, p, t)
        assert [curve[k][i] for k in ("tp", "fp", "fn", "tn")] == [c[k] for k in
                                                                   ("tp", "fp", "fn", "tn")]
        assert curve["total_cost"][i] == pytest.approx(c["fp"] * 25.5 + c["fn"] * 480)


def test_best_threshold_prefers_the_lowest_threshold_on_ties():
    curve = {"threshold": [0.1, 0.2, 0.3], "total_cost": [5.0, 3.0, 3.0], "fp": [3, 1, 1]}
    assert M.best_threshold(curve) == {"threshold": 0.2, "total_cost": 3.0, "fp": 1}
    with pytest.raises(ValueError) as err:
        M.best_threshold({"threshold": [], "total_cost": []})
    assert str(err.value) == "curve has no thresholds; pass the result of cost_curve(...)."


def test_cost_minimising_threshold_of_calibrated_probabilities_is_the_break_even_point():
    # y drawn from p itself (perfect calibration): the expected cost is lowest where
    # p × value = (1 − p) × cost, i.e. at cost / (cost + value) = 50 / 250 = 0.2.
    rng = np.random.default_rng(3)
    p = rng.random(200_000)
    y = (rng.random(p.size) < p).astype(int)
    best = M.best_threshold(M.cost_curve(y, p, 50, 200))
    assert best["threshold"] == pytest.approx(0.2, abs=0.02)


@pytest.mark.parametrize("kwargs, message", [
    (dict(offer_cost=-5, customer_value=100), "offer_cost=-5 must be a dollar amount of 0 or more."),
    (dict(offer_cost=5, customer_value="lots"),
     "customer_value='lots' must be a dollar amount of 0 or more."),
    (dict(offer_cost=5, customer_value=float("nan")),
     "customer_value=nan must be a dollar amount of 0 or more."),
    (dict(offer_cost=5, customer_value=100, thresholds=[0.5, 1.2]),
     "thresholds must be probabilities from 0 to 1, got [0.5, 1.2]."),
])
def test_cost_curve_rejects_bad_inputs_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError) as err:
        M.cost_curve(Y5, P5, **kwargs)
    assert str(err.value) == message


# --- curve tables from out-of-fold predictions --------------------------------------------------
@pytest.fixture(scope="module")
def oof() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 90  # fewer points than max_points, so the curves are not thinned
    y = (rng.random(n) < 0.3).astype(int)
    good = np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.15, n), 0.01, 0.99)
    weak = np.clip(0.3 + rng.normal(0, 0.2, n), 0.01, 0.99)
    return pd.DataFrame({"Churn": y, "p_lr": good, "p_rf": weak})


def test_curve_tables_match_scikit_learn(oof):
    labels = {"lr": "Logistic regression", "rf": "Random forest", "cat": "CatBoost"}
    t = MR.curve_tables(oof, labels)
    y = oof["Churn"].to_numpy()
    for fam in ("lr", "rf"):
        p = oof[f"p_{fam}"].to_numpy()
        roc = t["roc"][t["roc"]["family"] == fam]
        fpr, tpr, _ = skm.roc_curve(y, p)
        np.testing.assert_allclose(roc["fpr"], fpr)
        np.testing.assert_allclose(roc["tpr"], tpr)
        assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(skm.roc_auc_score(y, p))
        pr = t["pr"][t["pr"]["family"] == fam]
        precision, recall, _ = skm.precision_recall_curve(y, p)
        np.testing.assert_allclose(pr["recall"], recall[::-1])
        np.testing.assert_allclose(pr["precision"], precision[::-1])
        rel = t["reliability"][t["reliability"]["family"] == fam]
        true, pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
        np.testing.assert_allclose(rel["churn_rate"], true)
        np.testing.assert_allclose(rel["mean_predicted"], pred)
        assert rel["count"].sum() == len(y)
        assert set(roc["label"]) == {labels[fam]}
    assert set(t["roc"]["family"]) == {"lr", "rf"}  # no p_cat column: left out


def test_gains_and_lift_by_hand():
    oof = pd.DataFrame({"Churn": [1, 0, 1, 0], "p_lr": [0.9, 0.8, 0.7, 0.1]})
    g = MR.curve_tables(oof, {"lr": "LR"})["gains"]
    # contact 0.9 (churner), 0.8, 0.7 (churner), 0.1 in that order
    assert g["share_customers"].tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert g["share_churners"].tolist() == [0, 0.5, 0.5, 1.0, 1.0]
    assert np.isnan(g["lift"].iloc[0])
    assert g["lift"].iloc[1:].tolist() == pytest.approx([2.0, 1.0, 4 / 3, 1.0])


# --- tables from metadata -----------------------------------------------------------------------
def _cv(pr_auc: float) -> dict:
    return {"roc_auc": 0.84, "pr_auc": pr_auc, "brier": 0.14, "log_loss": 0.42,
            "lift_at_10": 2.9, "lift_at_20": 2.5, "precision_at_10": 0.78, "precision_at_20": 0.67,
            "recall_at_threshold": 0.51, "precision_at_threshold": 0.65, "ece": 0.048}


META = {
    "selected": "rf", "config": {"threshold": 0.5, "folds": 5},
    "families": {
        "lr": {"label": "Logistic regression", "params": {"C": 1.0}, "cv": _cv(0.64),
               "segments": {}},
        "rf": {"label": "Random forest", "cv": _cv(0.66),
               "params": {"n_estimators": 100, "max_depth": 6},
               "segments": {
                   "SeniorCitizen": {"0": {"n": 90, "churn_rate": 0.2, "mean_predicted": 0.21,
                                           "roc_auc": 0.8, "pr_auc": 0.5, "ece": 0.02,
                                           "recall_at_threshold": 0.4,
                                           "precision_at_threshold": 0.6},
                                     "1": {"n": 10, "churn_rate": 0.4, "mean_predicted": 0.38,
                                           "roc_auc": None, "pr_auc": 0.7, "ece": 0.05,
                                           "recall_at_threshold": 0.5,
                                           "precision_at_threshold": 0.7}},
                   "Contract": {"Two year": {"n": 5, "churn_rate": 0.0, "mean_predicted": 0.03,
                                             "roc_auc": None, "pr_auc": None, "ece": 0.03,
                                             "recall_at_threshold": None,
                                             "precision_at_threshold": 0.0}}}},
    },
}


def test_comparison_frame_puts_the_model_in_use_first_with_its_settings():
    f = MR.comparison_frame(META)
    assert f.index.tolist() == ["rf", "lr"]
    assert f["In use"].tolist() == [True, False]
    assert f["Model"].tolist() == ["Random forest", "Logistic regression"]
    assert f.loc["rf", "PR-AUC"] == 0.66 and f.loc["lr", "PR-AUC"] == 0.64
    assert f.loc["rf", "Chosen settings"] == "trees 100, max depth 6"
    assert f.loc["lr", "Chosen settings"] == "regularisation C 1.0"
    assert list(f.columns) == (["Model", "In use"] + [MR.TITLES[m] for m in MR.TABLE_METRICS]
                               + ["Chosen settings"])


def test_comparison_by_metric_has_one_row_per_metric_and_the_model_in_use_first():
    f = MR.comparison_by_metric(META)
    assert f.index.tolist() == [MR.TITLES[m] for m in MR.TABLE_METRICS]
    assert f.columns.tolist() == ["Random forest (in use)", "Logistic regression", "Better"]
    wide = MR.comparison_frame(META)
    for m in MR.TABLE_METRICS:   # the same numbers as the one-row-per-family table
        assert f.loc[MR.TITLES[m], "Random forest (in use)"] == wide.loc["rf", MR.TITLES[m]]
        assert f.loc[MR.TITLES[m], "Logistic regression"] == wide.loc["lr", MR.TITLES[m]]
        assert f.loc[MR.TITLES[m], "Better"] == ("higher" if M.HIGHER_IS_BETTER[m] else "lower")
    assert MR.settings_text(META) == ("Random forest: trees 100, max depth 6; Logistic "
                                      "regression: regularisation C 1.0")


def test_comparison_text_formats_each_row_in_its_unit_and_bolds_the_model_in_use():
    frame = MR.comparison_by_metric(META)
    text = MR.by_metric_text(frame)
    assert text.index.tolist() == frame.index.tolist()
    assert text.columns.tolist() == frame.columns.tolist()
    for m in MR.TABLE_METRICS:
        title = MR.TITLES[m]
        assert text.loc[title, "Random forest (in use)"] == (
            f"**{MR.format_metric(m, frame.loc[title, 'Random forest (in use)'])}**")
        assert text.loc[title, "Logistic regression"] == MR.format_metric(
            m, frame.loc[title, "Logistic regression"])
    shown = text.to_numpy().ravel().tolist()
    for value in ("**2.90×**", "**78.0%**", "**4.8 pp**", "**0.660**", "higher", "lower"):
        assert value in shown
    assert sum(v.startswith("**") for v in shown) == len(MR.TABLE_METRICS)  # one column
    # no pandas Styler: its import brings in matplotlib (about 1 s of a first visit)
    import subprocess
    import sys
    code = ("import sys; from churn import model_report as MR; from ui import model_report; "
            "print('pandas.io.formats.style' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(Path(__file__).resolve().parents[1]), check=True)
    assert out.stdout.split() == ["False", "False"]


def test_every_metric_has_a_business_words_help_text():
    helps = MR.metric_help(0.35)
    assert set(helps) == set(MR.TABLE_METRICS)
    assert helps["pr_auc"].startswith("PR-AUC: how well the model finds churners among all "
                                      "customers")
    for m, text in helps.items():
        assert text.endswith("Higher is better.") == M.HIGHER_IS_BETTER[m], m
        assert text.endswith("Lower is better.") == (not M.HIGHER_IS_BETTER[m]), m
    assert "35%" in helps["recall_at_threshold"]


def test_segment_frame_reads_the_selected_family_with_readable_values():
    s = MR.segment_frame(META)
    assert s[["Group", "Value", "Customers"]].values.tolist() == [
        ["Senior citizen", "No", 90], ["Senior citizen", "Yes", 10], ["Contract", "Two year", 5]]
    assert s["Predicted churn rate"].tolist() == [0.21, 0.38, 0.03]
    assert np.isnan(s.loc[1, "ROC-AUC"])
    text = MR.segments_text(s)
    assert text.loc[0].tolist()[:5] == ["Senior citizen", "No", "90", "20.0%", "21.0%"]
    assert text.loc[1, "ROC-AUC"] == "—"
    assert text.loc[2, "Customers"] == "5"
    assert MR.count_text(MR.confusion_frame(pd.Series({"tp": 1234, "fp": 5, "fn": 60,
                                                        "tn": 10_000}))).values.tolist() == [
        ["1,234", "60"], ["5", "10,000"]]
    assert MR.segment_frame(META, "lr").empty


def _recommender_evaluation():
    def e(hits, top3, brier):
        return {"precision_at_3": hits / top3, "recall_at_3": hits / 1200, "brier": brier,
                "n_test": 3000, "n_accepted": 1200, "n_top3": top3, "n_hits": hits}

    return {"svd": e(500, 1000, 0.235), "knn": e(660, 1075, 0.216),
            "popularity": e(645, 1200, 0.244), "chosen": "knn", "target": "accepted"}


def test_recommender_frame_marks_the_kept_method():
    ev = _recommender_evaluation()
    f = MR.recommender_frame(ev)
    assert f["Method"].tolist() == ["SVD (matrix factorisation)", "KNNBaseline (similar offers)",
                                    "Most popular offer (baseline)"]
    assert f["Kept"].tolist() == [False, True, False]
    assert f["Accepted when in top 3"].tolist() == [0.5, 660 / 1075, 645 / 1200]
    assert f["Accepted offers caught"].tolist() == [500 / 1200, 0.55, 645 / 1200]
    assert f["Past offers in its top 3"].tolist() == [1000, 1075, 1200]
    assert f["Of which accepted"].tolist() == [500, 660, 645]
    assert f["Brier score"].tolist() == [0.235, 0.216, 0.244]
    # every measured column says what it measures (the page shows this as column help)
    assert set(MR.RECOMMENDER_HELP) == set(f.columns) - {"Method", "Kept"}


def test_recommender_note_reads_the_counts_plainly():
    """Issue 16: the baseline's larger "in top 3" count looked like a contradiction; the note
    says why it is larger and gives the accepted counts and rates side by side."""
    assert MR.recommender_note(_recommender_evaluation()) == (
        "Kept: **KNNBaseline (similar offers)**, the method whose top 3 offers were accepted most "
        "often (ties: lower Brier score). Evaluated by 5-fold cross-validation on the 3,000 "
        "offers made in past campaigns (1,200 accepted; control customers were never asked): "
        "each is predicted without its own answer, and only offers actually made can be judged. "
        "The most popular offer baseline shows everyone the same three offers, so more past "
        "offers fall in its top 3 (1,200 against 1,075); it catches 645 accepted offers against "
        "660 for the kept method, and is right less often (53.8% against 61.4%).")


def test_versions_table_leaves_out_folders_that_are_not_versions():
    versions = [
        {"version": "aced256a6dcd7053", "created": "2026-11-21T20:10:05+00:00", "family": "rf",
         "selection_metric": "pr_auc", "score": 0.66, "rows": 1500, "active": True,
         "usable": True, "problem": None, "mlflow_run": "1a2b3c4d5e6f7a8b9c0d",
         "mlflow_model_version": "3"},
        {"version": "_parts", "created": None, "family": None, "selection_metric": None,
         "score": None, "rows": None, "active": False, "usable": False,
         "problem": "model version _parts: metadata.json is missing"},
        {"version": "0123456789abcdef", "created": "2026-11-20T08:00:00+00:00", "family": "lr",
         "selection_metric": "brier", "score": 0.13, "rows": 7043, "active": False,
         "usable": False, "problem": "built with other library versions"},
    ]
    kept = MR.model_versions(versions)
    assert [v["version"] for v in kept] == ["aced256a6dcd7053", "0123456789abcdef"]
    f = MR.versions_frame(kept)
    assert f.to_dict("records") == [
        {"Version": "aced256a6dcd7053", "Trained (UTC)": "2026-11-21 20:10",
         "Model": "Random forest", "Chosen by": "PR-AUC", "Score": 0.66, "Customers": 1500,
         "In use": True, "MLflow run": "churn v3 · run 1a2b3c4d", "Status": "usable"},
        {"Version": "0123456789abcdef", "Trained (UTC)": "2026-11-20 08:00",
         "Model": "Logistic regression", "Chosen by": "Brier score", "Score": 0.13,
         "Customers": 7043, "In use": False, "MLflow run": "—",
         "Status": "built with other library versions"}]
    assert MR.version_label(kept[0]) == "aced256a · Random forest · 2026-11-21 20:10 (in use)"


def test_format_metric():
    assert [MR.format_metric(m, v) for m, v in [("pr_auc", 0.66179), ("lift_at_10", 2.9104),
                                                ("precision_at_20", 0.6733), ("ece", 0.0484),
                                                ("roc_auc", None), ("brier", float("nan"))]] == [
        "0.662", "2.91×", "67.3%", "4.8 pp", "—", "—"]


def test_params_text():
    assert MR.params_text({}) == "defaults"
    assert MR.params_text({"depth": 4, "learning_rate": 0.1, "iterations": 150}) == (
        "depth 4, learning rate 0.1, trees 150")


def test_cost_defaults_come_from_the_data_and_say_where():
    # mean of the finite lifetime values (800 + 1,000 + 950.5) / 3 = 916.83 -> $917;
    # catalogue (8 + 120 + 25 + 40) / 4 = 48.25 -> $48; the High-risk threshold as is
    d = MR.cost_defaults(pd.Series([800.0, 1000.0, np.nan, 950.5]), [8, 120, 25, 40], 0.5)
    assert (d.customer_value, d.offer_cost, d.threshold) == (917.0, 48.0, 0.5)
    assert d.customer_value_source == (
        "Default: the average lifetime value of the 3 active customers in use ($917; margin, "
        "discount rate and horizon from the sidebar), as on the Overview.")
    assert d.offer_cost_source == ("Default: the average cost of the 4 offers in the catalogue "
                                   "($8–$120), $48.")
    assert d.threshold_source == ("Default: the High-risk threshold of the business settings in "
                                  "the sidebar (0.50), so flagged means High risk.")
    # a threshold off the 0.01 grid is put on it; an empty catalogue gives a named placeholder
    d = MR.cost_defaults([1234.4], [], 0.333)
    assert (d.customer_value, d.offer_cost, d.threshold) == (1234.0, 40.0, 0.33)
    assert d.offer_cost_source == ("The offer catalogue has no offers, so the default is a "
                                   "placeholder of $40.")


@pytest.mark.parametrize("clv, high_risk, message", [
    ([], 0.5, "There is no active customer with a lifetime value to start the customer value "
              "from; choose a data set with active customers in the sidebar."),
    ([np.nan], 0.5, "There is no active customer with a lifetime value to start the customer "
                    "value from; choose a data set with active customers in the sidebar."),
    ([900.0], 1.2, "high_risk=1.2 must be a churn probability between 0 and 1."),
])
def test_cost_defaults_reject_what_they_cannot_start_from(clv, high_risk, message):
    with pytest.raises(ValueError) as err:
        MR.cost_defaults(clv, [10.0], high_risk)
    assert str(err.value) == message


# --- confusion matrix, cost frame and figures ---------------------------------------------------
def test_cost_frame_row_and_confusion_matrix_agree_with_confusion_counts():
    cost = MR.cost_frame(Y5, P5, 10, 100)
    assert len(cost) == 101
    row = MR.row_at(cost, 0.5000000001)  # a slider value with float noise finds its grid row
    assert row["threshold"] == 0.5
    m = MR.confusion_frame(row)
    assert m.index.tolist() == ["Churned", "Stayed"]
    assert m.to_dict("list") == {"Flagged (offer sent)": [2, 1], "Not flagged": [1, 1]}
    assert row["total_cost"] == 1 * 10 + 1 * 100


def test_roc_figure_has_one_line_per_family_and_the_diagonal(oof):
    t = MR.curve_tables(oof, {"lr": "Logistic regression", "rf": "Random forest"})
    fig = charts.roc_figure(t["roc"], selected="lr")
    names = [tr.name for tr in fig.data]
    assert names == ["Random guess", "Random forest", "Logistic regression (in use)"]
    assert list(fig.data[0].x) == [0, 1] and list(fig.data[0].y) == [0, 1]
    sel = fig.data[2]
    assert sel.line.width == 3.5 and sel.line.color == charts.SELECTED_COLOUR
    np.testing.assert_allclose(sel.x, t["roc"].loc[t["roc"]["family"] == "lr", "fpr"])


def test_a_family_added_later_gets_its_own_colour_not_the_grey_of_the_guides(oof):
    """A family that is one new module in churn/models/families/ has no entry in FAMILY_COLOURS;
    its line is still coloured (a spare colour chosen by its name), never the guides' grey."""
    frame = oof.assign(p_prior=oof["Churn"].mean())
    t = MR.curve_tables(frame, {"lr": "Logistic regression", "rf": "Random forest",
                                "prior": "Churn rate only"})
    fig = charts.roc_figure(t["roc"], selected="lr")
    colours = {tr.name: tr.line.color for tr in fig.data}
    assert colours["Churn rate only"] == charts.family_colour("prior")
    assert colours["Churn rate only"] in charts.SPARE_COLOURS
    assert colours["Random forest"] == charts.FAMILY_COLOURS["rf"]
    assert len(set(colours.values())) == len(colours)     # guide, rf, prior and lr all differ


def test_other_curve_figures_plot_their_tables(oof):
    t = MR.curve_tables(oof, {"lr": "Logistic regression", "rf": "Random forest"})
    pr = charts.pr_figure(t["pr"], 0.3, "rf")
    assert list(pr.data[0].y) == [0.3, 0.3] and pr.data[-1].name == "Random forest (in use)"
    rel = charts.reliability_figure(t["reliability"], "rf")
    assert rel.data[0].name == "Perfectly calibrated"
    np.testing.assert_allclose(rel.data[-1].y, t["reliability"].query("family == 'rf'")
                               ["churn_rate"])
    gains = charts.gains_figure(t["gains"], "rf")
    assert gains.data[-1].x[0] == 0 and gains.data[-1].y[-1] == 1
    lift = charts.lift_figure(t["gains"], "rf")
    assert list(lift.data[0].y) == [1, 1]
    assert not np.isnan(np.asarray(lift.data[-1].y, float)).any()


def test_cost_figure_marks_the_lowest_cost_and_the_chosen_threshold():
    cost = MR.cost_frame(Y5, P5, 10, 100)
    fig = charts.cost_figure(cost, 0.5)
    star = next(tr for tr in fig.data if tr.marker.symbol == "star")
    best = M.best_threshold(cost.to_dict("list"))
    assert (star.x[0], star.y[0]) == (best["threshold"], best["total_cost"])
    # the lowest total on the 0.01 grid: flag 0.9, 0.8, 0.6, 0.3 → one false alarm, $10
    assert best["total_cost"] == 10.0 and best["threshold"] == 0.21
    total = next(tr for tr in fig.data if tr.name == "Total cost of mistakes")
    np.testing.assert_allclose(total.y, cost["total_cost"])
    assert [s.x0 for s in fig.layout.shapes] == [0.5]
