"""Model health (churn.health): every figure against an independent computation."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from churn import health, models
from churn.config import paths

CFG = models.TrainConfig(families=("lr",), grid="small", folds=2)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from churn import synth
    from churn.store import Store
    from churn.validate import load_customers

    data = tmp_path_factory.mktemp("health")
    p = synth.ensure_sample(paths(data))
    sample = load_customers(p.customers_csv, require_target=True)
    model = models.train(sample, CFG, p.models_dir).model
    store = Store(p.store)
    rng = np.random.default_rng(5)
    same = sample.sample(2000, random_state=3).reset_index(drop=True)
    shifted = sample.sample(1500, random_state=4).reset_index(drop=True)
    shifted["Contract"] = "Month-to-month"
    shifted = shifted.drop(columns="Churn")
    broken = sample.sample(1200, random_state=6).reset_index(drop=True)
    broken["Churn"] = rng.permutation(broken["Churn"].to_numpy())
    store.save_batch("june", same, kind="upload")
    store.save_batch("july", shifted, kind="upload")
    store.save_batch("august", broken, kind="upload")
    report = health.report_for(data)
    return {"p": p, "model": model, "sample": sample, "report": report,
            "frames": {"june": same, "july": shifted, "august": broken}}


def test_one_row_per_batch_oldest_first(world):
    rows = world["report"].rows
    assert rows["batch"].tolist() == ["june", "july", "august"]
    assert rows["customers"].tolist() == [2000, 1500, 1200]
    assert rows["labelled"].tolist() == [True, False, True]


def test_predictions_and_tier_mix(world):
    rows = world["report"].rows.set_index("batch")
    for name, frame in world["frames"].items():
        p = world["model"].predict_proba(frame)
        assert rows.loc[name, "mean_prob"] == pytest.approx(p.mean())
        assert rows.loc[name, "high"] == pytest.approx(np.mean(p >= 0.5))
        assert rows.loc[name, "medium"] == pytest.approx(np.mean((p >= 0.25) & (p < 0.5)))
        assert rows.loc[name, "low"] == pytest.approx(np.mean(p < 0.25))


def test_expected_precision_and_recall_by_hand(world):
    rows = world["report"].rows.set_index("batch")
    p = world["model"].predict_proba(world["frames"]["july"])
    flagged = [x for x in p if x >= 0.5]
    assert rows.loc["july", "expected_precision"] == pytest.approx(sum(flagged) / len(flagged))
    assert rows.loc["july", "expected_recall"] == pytest.approx(sum(flagged) / sum(p))
    # on labelled data whose rows are like the training data, the estimates are close to what
    # the outcomes then show (the probabilities are calibrated)
    june = world["frames"]["june"]
    pj = world["model"].predict_proba(june)
    y = june["Churn"].to_numpy()
    real_precision = y[pj >= 0.5].mean()
    assert rows.loc["june", "precision_at_threshold"] == pytest.approx(real_precision)
    assert rows.loc["june", "expected_precision"] == pytest.approx(real_precision, abs=0.06)


def test_expected_precision_edge_cases():
    assert math.isnan(health.expected_precision_recall([0.1, 0.2], 0.5)[0])
    assert health.expected_precision_recall([0.1, 0.2], 0.5)[1] == 0.0
    assert health.expected_precision_recall([0.6, 0.2, 0.8], 0.5) == pytest.approx((0.7, 1.4 / 1.6))


def test_drift_named_and_psi_by_hand(world):
    rep = world["report"]
    rows = rep.rows.set_index("batch")
    assert rows.loc["july", "drifted"][0] == "Contract"
    assert rows.loc["july", "drift_status"] == "red"
    assert rows.loc["june", "drifted"] == [] and rows.loc["june", "drift_status"] == "green"
    # Contract PSI by hand: shares of each contract type, floored at 1e-4
    ref = world["sample"]["Contract"].value_counts(normalize=True)
    new = world["frames"]["july"]["Contract"].value_counts(normalize=True)
    cats = ["Month-to-month", "One year", "Two year"]
    r = np.array([max(ref.get(c, 0), 1e-4) for c in cats])
    b = np.array([max(new.get(c, 0), 1e-4) for c in cats])
    want = float(np.sum((b - r) * np.log(b / r)))
    got = rep.psi.query("batch == 'july' and feature == 'Contract'")["psi"].iloc[0]
    assert got == pytest.approx(want)
    assert rows.loc["july", "max_psi"] == pytest.approx(want)


def test_realised_figures_against_sklearn_and_by_hand(world):
    rows = world["report"].rows.set_index("batch")
    for name in ("june", "august"):
        frame = world["frames"][name]
        y = frame["Churn"].to_numpy()
        p = world["model"].predict_proba(frame)
        assert rows.loc[name, "roc_auc"] == pytest.approx(roc_auc_score(y, p))
        k = int(math.ceil(0.10 * len(y)))
        top = np.argsort(-p, kind="stable")[:k]
        assert rows.loc[name, "precision_at_10"] == pytest.approx(y[top].mean(), abs=1 / k)
        assert rows.loc[name, "observed_rate"] == pytest.approx(y.mean())
        # the bootstrap interval contains the estimate and is about as wide as the analytic
        # (Hanley-McNeil) 95% interval
        auc = roc_auc_score(y, p)
        n1, n0 = y.sum(), len(y) - y.sum()
        q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
        se = math.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc ** 2)
                        + (n0 - 1) * (q2 - auc ** 2)) / (n1 * n0))
        lo, hi = rows.loc[name, "roc_auc_low"], rows.loc[name, "roc_auc_high"]
        assert lo < auc < hi
        assert (hi - lo) == pytest.approx(2 * 1.96 * se, rel=0.35)


def test_traffic_lights_and_advice(world):
    rep = world["report"]
    rows = rep.rows.set_index("batch")
    assert rows.loc["june", "status"] == "green"
    assert rows.loc["august", "performance_status"] == "red"      # shuffled outcomes: AUC ~0.5
    assert rows.loc["august", "status"] == "red"
    assert rep.status == "red"
    auc = rows.loc["august", "roc_auc"]
    base = rep.training["roc_auc"]
    assert rep.advice == (f"Retrain: realised ROC-AUC {auc:.2f} against {base:.2f} at training "
                          '(latest batch "august").')


def test_advice_names_shifted_features():
    rows = pd.DataFrame([{**{c: np.nan for c in health.ROW_COLUMNS}, "batch": "b",
                          "drifted": ["tenure", "Contract"], "shifted": [], "labelled": True,
                          "roc_auc": 0.71, "status": "red", "mean_prob": 0.3,
                          "observed_rate": 0.31}])
    status, text = health.advice(rows, {"roc_auc": 0.85})
    assert status == "red"
    assert text == ("Retrain: Tenure and Contract have shifted; realised ROC-AUC 0.71 against "
                    '0.85 at training (latest batch "b").')


def test_advice_keeps_a_good_ranking_as_context():
    rows = pd.DataFrame([{**{c: np.nan for c in health.ROW_COLUMNS}, "batch": "b",
                          "drifted": ["Contract"], "shifted": [], "labelled": True,
                          "roc_auc": 0.87, "status": "red", "mean_prob": 0.32,
                          "observed_rate": 0.26}])
    status, text = health.advice(rows, {"roc_auc": 0.85})
    assert text == ("Retrain: Contract has shifted; 26% of customers churned against 32% "
                    "predicted, although the ranking still holds, with a realised ROC-AUC of 0.87 "
                    'against 0.85 at training (latest batch "b").')


def test_no_batches():
    status, text = health.advice(pd.DataFrame(columns=health.ROW_COLUMNS), {})
    assert status == "green"
    assert text == ("No saved batches or campaign outcomes yet: save an upload on the Upload & "
                    "score page, or record a saved campaign's outcomes on the Campaign results "
                    "page, to follow the model's health over time.")


def test_current_figures_flat_numbers(world):
    figs = health.current_figures(report=world["report"])
    assert all(isinstance(v, float) for v in figs.values())
    last = world["report"].rows.iloc[-1]
    assert figs["batches"] == 3.0 and figs["status"] == 2.0
    assert figs["realised_roc_auc"] == pytest.approx(last["roc_auc"])
    assert figs["training_roc_auc"] == pytest.approx(
        world["model"].metadata["families"]["lr"]["oof"]["roc_auc"])
    assert figs["expected_precision"] == pytest.approx(last["expected_precision"])
    again = health.current_figures(world["p"].data_dir)
    assert again.keys() == figs.keys()


# --- campaign outcomes: the control group tests the probabilities --------------------------------
@pytest.fixture(scope="module")
def campaign_world(world, tmp_path_factory):
    """A separate store: a saved campaign on the 800 riskiest sample customers (by the model),
    300 held out as control; outcomes recorded for both groups, every treated customer marked as
    churned (so counting them would show); one set of outcomes recorded without a saved campaign;
    one campaign scored by another model version."""
    from churn.store import Store

    store = Store(tmp_path_factory.mktemp("health-campaign") / "churn.duckdb")
    model, sample = world["model"], world["sample"]
    p = model.predict_proba(sample)
    top = np.argsort(-p, kind="stable")[:800]
    rng = np.random.default_rng(11)
    group = np.array(["treatment"] * 800, dtype=object)
    group[rng.choice(800, 300, replace=False)] = "control"
    rows = pd.DataFrame({"customerID": sample["customerID"].to_numpy()[top],
                         "churn_prob": p[top], "risk_tier": np.where(p[top] >= 0.5, "High",
                                                                     "Medium"),
                         "group": group})
    cid = store.save_campaign("spring", {"date": "2026-03-01", "model_version": model.version},
                              rows)
    other = store.save_campaign("old model", {"date": "2026-02-01", "model_version": "f" * 16},
                                rows)
    y = sample["Churn"].to_numpy()[top]
    churned = np.where((group == "treatment") | (y == 1), "Yes", "No")

    def history(campaign_id):
        return pd.DataFrame({"customerID": rows["customerID"], "campaign_id": campaign_id,
                             "date": "2026-04-01", "offer_id": "x", "group": group,
                             "accepted": "", "churned": churned})
    store.append_campaign_history(history(f"saved-{cid}"))
    store.append_campaign_history(history(f"saved-{other}"))
    store.append_campaign_history(history("outcomes-file"))
    control = group == "control"
    rep = health.health_report(store, model, sample, models_dir=world["p"].models_dir)
    return {"report": rep, "y": y[control], "p": p[top][control], "all_p": p[top],
            "model": model, "p_dir": world["p"]}


def test_campaign_control_group_becomes_a_row(campaign_world):
    rep = campaign_world["report"]
    assert rep.rows["batch"].tolist() == ['Campaign "spring" (control group)']
    row = rep.rows.iloc[0]
    y, p = campaign_world["y"], campaign_world["p"]
    assert row["source"] == "campaign" and row["customers"] == 300
    assert row["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert row["observed_rate"] == pytest.approx(y.mean())   # the treated "Yes" are not counted
    assert row["mean_prob"] == pytest.approx(p.mean())
    assert row["roc_auc_low"] < row["roc_auc"] < row["roc_auc_high"]
    assert math.isnan(row["max_psi"]) and row["drift_status"] == "green"
    assert str(row["created"]) == "2026-03-01"


def test_campaign_baseline_is_the_training_slice_of_its_risk_range(campaign_world):
    row = campaign_world["report"].rows.iloc[0]
    oof = models.load_oof(campaign_world["model"].version, campaign_world["p_dir"].models_dir)
    lo, hi = campaign_world["p"].min(), campaign_world["p"].max()
    sl = oof[(oof["p_lr"] >= lo) & (oof["p_lr"] <= hi)]
    assert len(sl) >= health.SLICE_MIN_CUSTOMERS
    assert row["training_roc_auc"] == pytest.approx(roc_auc_score(sl["Churn"], sl["p_lr"]))
    # a list of risky customers is harder to rank than everyone: the slice's AUC is lower
    assert row["training_roc_auc"] < campaign_world["report"].training["roc_auc"]
    figs = health.current_figures(report=campaign_world["report"])
    assert figs["training_roc_auc"] == pytest.approx(row["training_roc_auc"])
    assert figs["realised_roc_auc"] == pytest.approx(row["roc_auc"])


def test_campaigns_left_out_say_why(campaign_world):
    notes = campaign_world["report"].notes
    assert ('Campaign outcomes "outcomes-file" were recorded without a saved campaign, so the '
            "probabilities its customers were given are unknown: left out of model health."
            ) in notes
    assert (f'Campaign "old model" (control group) was scored by model version {"f" * 16}, not '
            f"the one in use ({campaign_world['model'].version}): left out.") in notes


def test_campaign_advice_uses_the_list_baseline(campaign_world):
    rep = campaign_world["report"]
    row = rep.rows.iloc[0]
    assert rep.advice.endswith(f'(latest: Campaign "spring" (control group)).')
    assert f"{row['training_roc_auc']:.2f} at training for customers as risky" in rep.advice


def test_a_large_batch_is_checked_on_a_repeatable_sample(world, monkeypatch):
    """Above SAMPLE_ROWS a batch's figures come from `Store.sample_batch`; the row still counts
    every customer and the notes say so."""
    from churn.store import Store

    monkeypatch.setattr(health, "SAMPLE_ROWS", 700)
    store = Store(world["p"].store)
    rep = health.health_report(store, world["model"], world["sample"],
                               models_dir=world["p"].models_dir)
    rows = rep.rows.set_index("batch")
    assert rows["customers"].tolist() == [2000, 1500, 1200]
    for name in ("june", "july", "august"):
        part = store.sample_batch(name, 700).drop(columns="row", errors="ignore")
        assert len(part) == 700
        p = world["model"].predict_proba(part)
        assert rows.loc[name, "mean_prob"] == pytest.approx(p.mean())
        assert rows.loc[name, "mean_prob"] != pytest.approx(
            world["model"].predict_proba(world["frames"][name]).mean(), abs=1e-12)
    assert [n for n in rep.notes if "random" in n] == [
        'Batch "june": figures from a random 700 of its 2,000 customers.',
        'Batch "july": figures from a random 700 of its 1,500 customers.',
        'Batch "august": figures from a random 700 of its 1,200 customers.']
