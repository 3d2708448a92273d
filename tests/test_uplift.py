"""Tests for churn.uplift and churn.uplift_metrics: metrics against brute force, recovery of known
effects, fall-back rules, sleeping dogs, learned/assumed labels, the `uplift` command."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import uplift_sim as S
from churn import campaign as C
from churn import schema
from churn import uplift as U
from churn import uplift_metrics as UM
from churn.offers import parse_catalogue


# --- metrics against an independent, brute-force computation -------------------------------------
def _brute_points(y, w, s):
    """Curves by the definitions, one depth at a time with plain Python loops: at each k where the
    score changes (ties enter together), count the top-k customers directly."""
    n = len(y)
    order = sorted(range(n), key=lambda i: -s[i])  # stable: ties keep input order
    ks = [0] + [k for k in range(1, n + 1) if k == n or s[order[k - 1]] != s[order[k]]]
    qini, upl = [], []
    for k in ks:
        top = order[:k]
        nt = sum(1 for i in top if w[i] == 1)
        nc = sum(1 for i in top if w[i] == 0)
        ct = sum(1 for i in top if w[i] == 1 and y[i] == 1)
        cc = sum(1 for i in top if w[i] == 0 and y[i] == 1)
        qini.append(cc * nt / nc - ct if nc else 0.0)
        upl.append((cc / nc - ct / nt) * k if nc and nt else 0.0)
    return ks, qini, upl


def _area(xs, ys):
    return sum((xs[i + 1] - xs[i]) * (ys[i + 1] + ys[i]) / 2 for i in range(len(xs) - 1))


def test_qini_curve_by_hand():
    # 6 customers by score: T stays, C churns, T stays, C stays, T churns, C churns
    y = [0, 1, 0, 0, 1, 1]
    w = [1, 0, 1, 0, 1, 0]
    s = [6, 5, 4, 3, 2, 1]
    q = UM.qini_curve(y, w, s)
    # k=1: no control yet -> 0; k=2: 1×1/1 − 0 = 1; k=3: 1×2/1 − 0 = 2; k=4: 1×2/2 − 0 = 1;
    # k=5: 1×3/2 − 1 = 0.5; k=6: 2×3/3 − 1 = 1
    assert q["targeted"].tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert q["qini"].tolist() == pytest.approx([0, 0, 1, 2, 1, 0.5, 1])
    u = UM.uplift_curve(y, w, s)
    # k=2: (1/1 − 0/1)×2 = 2; k=6: (2/3 − 1/3)×6 = 2
    assert u["uplift"].iloc[2] == pytest.approx(2.0)
    assert u["uplift"].iloc[-1] == pytest.approx(2.0)
    # Qini coefficient: area under q/Nt (Nt = 3) over shares, minus the random line's 1/3 / 2
    xs = [k / 6 for k in range(7)]
    expected = _area(xs, [v / 3 for v in [0, 0, 1, 2, 1, 0.5, 1]]) - (1 / 3) / 2
    assert UM.qini_coefficient(y, w, s) == pytest.approx(expected)
    # uplift@k: top ceil(0.5×6)=3: control churn 1/1, treated 0/2 -> 1.0
    assert UM.uplift_at_k(y, w, s, 0.5) == pytest.approx(1.0)
    # top 1 has no control customer -> NaN
    assert math.isnan(UM.uplift_at_k(y, w, s, 0.1))


@pytest.mark.parametrize("seed", range(6))
def test_metrics_match_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 40
    y = rng.integers(0, 2, n).tolist()
    w = rng.integers(0, 2, n).tolist()
    s = rng.integers(0, 8, n).astype(float).tolist()  # many ties
    ks, qini, upl = _brute_points(y, w, s)
    q = UM.qini_curve(y, w, s)
    u = UM.uplift_curve(y, w, s)
    assert q["targeted"].tolist() == ks
    assert q["qini"].to_numpy() == pytest.approx(qini)
    assert u["uplift"].to_numpy() == pytest.approx(upl)
    xs = [k / n for k in ks]
    nt = sum(w)
    assert UM.qini_coefficient(y, w, s) == pytest.approx(
        _area(xs, [v / nt for v in qini]) - qini[-1] / nt / 2)
    assert UM.auuc(y, w, s) == pytest.approx(_area(xs, [v / n for v in upl]))
    for share in (0.1, 0.2, 0.5):
        k = math.ceil(share * n)
        top = sorted(range(n), key=lambda i: -s[i])[:k]
        t = [i for i in top if w[i] == 1]
        c = [i for i in top if w[i] == 0]
        want = (sum(y[i] for i in c) / len(c) - sum(y[i] for i in t) / len(t)
                if t and c else float("nan"))
        got = UM.uplift_at_k(y, w, s, share)
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)


def test_tied_scores_do_not_depend_on_row_order():
    y, w, s = [1, 0, 0, 1], [1, 1, 0, 0], [1.0, 1.0, 1.0, 1.0]
    a = UM.qini_coefficient(y, w, s)
    b = UM.qini_coefficient(y[::-1], w[::-1], s)
    assert a == pytest.approx(b) == pytest.approx(0.0)


def test_random_targeting_auuc_is_half_the_average_effect():
    # every score tied: one step from (0, 0) to (1, ATE) -> area ATE / 2
    y = [0, 0, 1, 1, 1, 0]
    w = [1, 1, 1, 0, 0, 0]
    ate = 2 / 3 - 1 / 3
    assert UM.auuc(y, w, [0] * 6) == pytest.approx(ate / 2)


def test_metric_input_errors():
    with pytest.raises(ValueError, match=r"^churned, treated and score must have one value per "
                                         r"customer; got 2, 3 and 3 values\.$"):
        UM.qini_curve([0, 1], [0, 1, 1], [1, 2, 3])
    with pytest.raises(ValueError, match=r"^churned must be 0 or 1 for every customer"):
        UM.qini_curve([0, 2], [0, 1], [1, 2])
    with pytest.raises(ValueError, match=r"^share=0 must be above 0 and at most 1"):
        UM.uplift_at_k([0, 1], [0, 1], [1, 2], 0)


# --- the model on simulated history with known effects (tests/uplift_sim.py) ----------------------
@pytest.fixture(scope="module")
def sim():
    cust = S.customers(5000, seed=1)
    hist = S.history(cust, 12000, treated_share=0.5, seed=2)
    model = U.UpliftModel().fit(hist, cust, catalogue_ids=list(S.OFFERS))
    return cust, hist, model


def test_recovers_sign_and_ranking_of_known_effects(sim):
    cust, _, model = sim
    pred = model.predict(cust)
    true = S.true_effects(cust)
    assert model.learned_ == sorted(S.OFFERS)
    m2m = (cust["Contract"] == "Month-to-month").to_numpy()
    up = pred["contract_upgrade"].to_numpy()
    # sign: helps month-to-month customers (+20 points), pushes the others out (−6 points)
    assert up[m2m].mean() > 0.12
    assert up[~m2m].mean() < -0.02
    assert (np.sign(up) == np.sign(true["contract_upgrade"].to_numpy())).mean() > 0.85
    # ranking: predicted effects rank customers like the true ones (strong, simple effect) ...
    rho = pd.Series(up).corr(pd.Series(true["contract_upgrade"].to_numpy()), method="spearman")
    assert rho > 0.7
    # ... and put the customers an offer helps most above the others (weaker effects, fewer rows)
    ts = pred["tech_support_trial"].to_numpy()
    helped = true["tech_support_trial"].to_numpy() > 0.1        # +12 points vs +2 points
    assert ts[helped].mean() - ts[~helped].mean() > 0.02
    lc, t = pred["loyalty_credit"].to_numpy(), true["loyalty_credit"].to_numpy()
    lo, hi = np.quantile(t, [0.25, 0.75])
    assert lc[t >= hi].mean() > lc[t <= lo].mean()


def test_held_out_evaluation_and_learner_choice(sim):
    _, _, model = sim
    ev = model.evaluation_json()
    assert ev["learner"] in ("t", "x", "r", "e") and model.learner_ == ev["learner"]
    o = ev["offers"]["contract_upgrade"]
    assert o["basis"] == "learned"
    assert set(o) >= {"model", "learners", "random", "risk only", "test_treated", "test_control"}
    assert set(o["learners"]) == {"t", "x", "r", "e"}
    # cross-fitted: every customer of the offer was scored once, out of fold
    assert (o["test_treated"], o["test_control"]) == (o["treated"], o["control"])
    assert ev["folds"] == 3
    for figures in (o["model"], o["random"], o["risk only"]):
        assert set(figures) == {"qini", "auuc", "uplift_at_10", "uplift_at_20"}
    # the kept learner is the one with the better mean held-out Qini
    means = {lr: np.mean([ev["offers"][x]["learners"][lr]["qini"] for x in model.learned_])
             for lr in ("t", "x", "r", "e")}
    assert means[model.learner_] == max(means.values())
    # the model beats random targeting on the offer with a strong, targetable effect
    assert o["model"]["qini"] > 0.01
    assert o["model"]["uplift_at_20"] > o["random"]["uplift_at_20"]
    curves = model.qini_curves()
    assert set(curves["policy"]) == {"model", "risk only", "random"}
    assert set(curves["offer_id"]) == set(S.OFFERS)


def test_effect_contributions_add_up(sim):
    cust, _, model = sim
    few = cust.head(30)
    base, pp = model.effect_contributions(few, "contract_upgrade")
    assert list(pp.columns) == schema.FEATURES
    total = base + pp.sum(axis=1).to_numpy()
    assert total == pytest.approx(100 * model.predict(few)["contract_upgrade"].to_numpy(), abs=1e-3)
    drivers = U.effect_drivers(model, cust, top=3)
    top = drivers[drivers["offer_id"] == "contract_upgrade"]["feature"].iloc[0]
    assert top == "Contract"  # the effect depends on the contract only


@pytest.mark.parametrize("learner", ["t", "x", "r", "e"])
def test_every_learner_recovers_the_sign_and_its_breakdown_adds_up(sim, learner):
    """Each learner alone: the strong contract effect's sign, and base + contributions = the
    predicted uplift in points (the "r" learner's trees start from the control log-odds)."""
    cust, hist, _ = sim
    model = U.UpliftModel(learner=learner).fit(hist, cust, catalogue_ids=list(S.OFFERS))
    assert model.learner_ == learner and set(model.evaluation_json()["offers"]["contract_upgrade"]
                                             ["learners"]) == {learner}
    up = model.predict(cust)["contract_upgrade"].to_numpy()
    m2m = (cust["Contract"] == "Month-to-month").to_numpy()
    assert up[m2m].mean() > 0.1 and up[~m2m].mean() < -0.01
    few = cust.head(30)
    base, pp = model.effect_contributions(few, "contract_upgrade")
    total = base + pp.sum(axis=1).to_numpy()
    assert total == pytest.approx(100 * model.predict(few)["contract_upgrade"].to_numpy(), abs=1e-3)


def test_the_offset_learner_is_the_control_log_odds_moved_by_the_offers_trees(sim):
    """σ(m₀) − σ(m₀ + δ) computed here from the boosters' raw margins equals `predict`."""
    import xgboost as xgb

    cust, hist, _ = sim
    model = U.UpliftModel(learner="r").fit(hist, cust, catalogue_ids=list(S.OFFERS))
    few = cust.head(50)
    dm = xgb.DMatrix(model.encoder_.transform(schema.feature_frame(few)).astype(np.float32))
    m0 = model.models_["control"].predict(dm, output_margin=True).astype(float)
    delta = model.models_["loyalty_credit"].predict(dm, output_margin=True).astype(float)
    expected = 1 / (1 + np.exp(-m0)) - 1 / (1 + np.exp(-(m0 + delta)))
    got = model.predict(few)["loyalty_credit"].to_numpy()
    assert got == pytest.approx(model.calibration_ * expected, abs=1e-9)


def test_the_average_learner_is_the_mean_of_the_three_fitted_alone(sim):
    """"e" predicts the mean of the T-, X- and control-risk learners, each fitted on its own on
    the same rows (the trees are deterministic), before the calibration factor."""
    cust, hist, _ = sim
    few = cust.head(40)
    alone = []
    for lr in ("t", "x", "r"):
        m = U.UpliftModel(learner=lr).fit(hist, cust, catalogue_ids=list(S.OFFERS))
        alone.append(m.predict(few) / m.calibration_)
    avg = U.UpliftModel(learner="e").fit(hist, cust, catalogue_ids=list(S.OFFERS))
    got = avg.predict(few) / avg.calibration_
    expected = (alone[0] + alone[1] + alone[2]) / 3
    assert got.to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-6)


def test_fold_figures_are_computed_within_each_fold_and_averaged():
    """Two folds ranked on different scales: each fold's Qini by the brute-force formula, then
    their mean; a fold with one group only is left out."""
    rng = np.random.default_rng(4)
    y = (rng.random(60) < 0.3).astype(float)
    w = np.tile([1, 0, 1], 20)
    s = np.r_[rng.random(30), 100 + rng.random(30)]       # fold 1 scores all above fold 0's
    fold = np.r_[np.zeros(30, int), np.ones(30, int)]
    expected = []
    for f in (0, 1):
        k = fold == f
        ks, qini, _ = _brute_points(y[k].tolist(), w[k].tolist(), s[k].tolist())
        nt, n = w[k].sum(), k.sum()
        xs = [x / n for x in ks]
        expected.append(_area(xs, [q / nt for q in qini]) - (qini[-1] / nt) / 2)
    got = U._fold_mean(y, w, s, fold)
    assert got["qini"] == pytest.approx(np.mean(expected))
    assert got["qini"] != pytest.approx(UM.qini_coefficient(y, w, s))  # not the pooled figure
    only_treated = np.r_[fold, np.full(5, 2)]
    got3 = U._fold_mean(np.r_[y, np.ones(5)], np.r_[w, np.ones(5, int)], np.r_[s, np.zeros(5)],
                        only_treated)
    assert got3["qini"] == pytest.approx(got["qini"])


# --- fall-back rules and bad history ---------------------------------------------------------------
def _small(cust, offers=S.OFFERS, rows=3000, **kw):
    return S.history(cust, rows, offers=offers, **kw)


def test_offer_with_too_little_history_falls_back(sim):
    cust, hist, _ = sim
    extra = hist[hist["offer_id"] == "loyalty_credit"].head(100).assign(offer_id="onboarding_call")
    m = U.UpliftModel(learner="t").fit(pd.concat([hist, extra]), cust,
                                       catalogue_ids=list(S.OFFERS) + ["onboarding_call"])
    st = m.status_.set_index("offer_id")
    assert st.loc["onboarding_call", "basis"] == "assumed"
    nt, nc = int(st.loc["onboarding_call", "treated"]), int(st.loc["onboarding_call", "control"])
    assert (f"Offer 'onboarding_call': {nt:,} treatment and {nc:,} control rows with a known "
            "outcome; at least 300 and 300 are needed to learn its effect, so its assumed effect "
            "from the catalogue is used.") in m.warnings_
    assert m.predict(cust.head(5))["onboarding_call"].isna().all()
    assert m.predict(cust.head(5))["contract_upgrade"].notna().all()


def test_no_control_rows_falls_back_for_every_offer(sim):
    cust, hist, _ = sim
    treated_only = hist[hist["group"] == "treatment"]
    m = U.UpliftModel().fit(treated_only, cust)
    assert m.learned_ == []
    assert m.warnings_ == [
        "The campaign history has no control rows (group = control): without a randomised "
        "control group no offer's effect can be learned, so every offer uses its assumed effect "
        "from the catalogue."]
    assert m.predict(cust.head(3)).isna().all().all()
    assert m.evaluation_json()["offers"]["contract_upgrade"]["basis"] == "assumed"


def test_one_group_only_for_an_offer(sim):
    cust, hist, _ = sim
    h = hist[~((hist["offer_id"] == "tech_support_trial") & (hist["group"] == "control"))]
    m = U.UpliftModel(learner="x").fit(h, cust)
    nt = int(((h["offer_id"] == "tech_support_trial") & (h["group"] == "treatment")).sum())
    assert (f"Offer 'tech_support_trial': {nt:,} treatment and 0 control rows with a known "
            "outcome; at least 300 and 300 are needed to learn its effect, so its assumed effect "
            "from the catalogue is used.") in m.warnings_
    assert m.learned_ == ["contract_upgrade", "loyalty_credit"]


def test_offer_not_in_catalogue_is_reported_and_modelled(sim):
    cust, hist, _ = sim
    h = hist.replace({"offer_id": {"loyalty_credit": "mystery_gift"}})
    m = U.UpliftModel(learner="t").fit(h, cust, catalogue_ids=["contract_upgrade",
                                                                "tech_support_trial"])
    assert ("Offer 'mystery_gift' is in the campaign history but not in the offer catalogue: its "
            "effect is modelled anyway, but it cannot be offered until it is added to "
            "offers.toml.") in m.warnings_
    assert "mystery_gift" in m.learned_
    assert not m.status_.set_index("offer_id").loc["mystery_gift", "in_catalogue"]


def test_bad_rows_are_reported_and_the_rest_used():
    cust = S.customers(50, seed=3)
    ids = cust[schema.ID].tolist()
    h = pd.DataFrame({schema.ID: [ids[0], ids[1], "9999-ZZZZZ", ids[2], ids[3], ids[4]],
                      "offer_id": ["a", "a", "a", "a", "", "a"],
                      "group": ["treatment", "Control", "control", "placebo", "control", "control"],
                      "churned": ["Yes", "no", "No", "No", "No", ""]})
    rows, messages = U.UpliftModel.check_history(h, cust)
    assert messages == [
        "1 row(s) have no offer_id and are left out (first rows: 6).",
        "1 row(s) have a group other than treatment or control and are left out (first rows: 5).",
        "1 row(s) have no churned outcome yet (blank while unknown) and are left out "
        "(first rows: 7).",
        "1 row(s) name a customer who is not in the customer file and are left out "
        "(first rows: 4)."]
    assert rows[schema.ID].tolist() == [ids[0], ids[1]]
    assert rows["treated"].tolist() == [1, 0]
    assert rows["churned"].tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"^the campaign history has no group, churned column\(s\)"):
        U.UpliftModel.check_history(h.drop(columns=["group", "churned"]), cust)


def test_parameter_errors():
    cust = S.customers(20, seed=3)
    h = S.history(cust, 10)
    with pytest.raises(ValueError, match=r"^learner='s' must be 'auto', 't' \(T-learner\), "
                                         r"'x' \(X-learner\), 'r' \(T-learner on the control "
                                         r"risk\) or 'e' \(their average\)\.$"):
        U.UpliftModel(learner="s").fit(h, cust)
    for bad in (1, 2.5, "3", True):
        with pytest.raises(ValueError) as err:
            U.UpliftModel(folds=bad).fit(h, cust)
        assert str(err.value) == (f"folds={bad!r} must be a whole number of at least 2 (e.g. 3: "
                                  "each customer is held out once, scored by models fitted on "
                                  "the other two thirds).")
    with pytest.raises(ValueError, match=r"^this UpliftModel is not fitted yet"):
        U.UpliftModel().predict(cust)


# --- ranking by it: learned vs assumed, sleeping dogs ---------------------------------------------
CATALOGUE_TOML = """
[[offer]]
id = "upgrade"
name = "Contract upgrade"
description = "d"
cost = 100.0
risk_reduction = 0.5
applies_when = "always"

[[offer]]
id = "credit"
name = "Loyalty credit"
description = "d"
cost = 50.0
risk_reduction = 0.1
applies_when = "always"
"""


def _three_customers():
    cust = S.customers(3, seed=4)
    cust[schema.ID] = ["A-1", "B-2", "C-3"]
    return cust


def _rank(uplift):
    cat = parse_catalogue(CATALOGUE_TOML)
    cust = _three_customers()
    pa = pd.DataFrame({"upgrade": [0.5, 0.5, 0.5], "credit": [0.9, 0.9, 0.9]})
    return C.rank_offers(cust, [0.6, 0.6, 0.6], [1000.0, 1000.0, 1000.0], pa, None, cat,
                         top_n=None, uplift=uplift)


def test_learned_uplift_replaces_the_assumed_formula():
    # upgrade learned for everyone; credit not learned (NaN) -> assumed
    up = pd.DataFrame({"upgrade": [0.30, 0.05, -0.02], "credit": [np.nan] * 3},
                      index=["A-1", "B-2", "C-3"])
    r = _rank(up).set_index([C.ID, "offer_id"])
    # learned: 0.30 × 1000 − 100 = 200; no rule weighting
    assert r.loc[("A-1", "upgrade"), "expected_saved_value"] == pytest.approx(300.0)
    assert r.loc[("A-1", "upgrade"), "expected_net_value"] == pytest.approx(200.0)
    assert r.loc[("A-1", "upgrade"), "ranking_score"] == pytest.approx(200.0)
    assert r.loc[("A-1", "upgrade"), "basis"] == "learned"
    assert r.loc[("A-1", "upgrade"), "uplift"] == pytest.approx(0.30)
    # assumed: 0.6 × 0.9 × 0.1 × 1000 = 54 saved, 4 net; its implied uplift 0.054
    assert r.loc[("A-1", "credit"), "expected_saved_value"] == pytest.approx(54.0)
    assert r.loc[("A-1", "credit"), "basis"] == "assumed"
    assert r.loc[("A-1", "credit"), "uplift"] == pytest.approx(0.054)
    # C-3's only learned offer pushes them out: a sleeping dog, its assumed offer dropped
    c3 = _rank(up).query("customerID == 'C-3'")
    assert c3["offer_id"].tolist() == ["upgrade"]
    assert c3["sleeping_dog"].all()
    assert c3["expected_net_value"].iloc[0] == pytest.approx(-0.02 * 1000 - 100)
    assert not _rank(up).query("customerID != 'C-3'")["sleeping_dog"].any()


def test_without_uplift_everything_is_assumed():
    r = _rank(None)
    assert set(r["basis"]) == {"assumed"}
    assert not r["sleeping_dog"].any()
    assert list(r.columns) == C.RANKED_COLUMNS + C.UPLIFT_COLUMNS


def test_sleeping_dogs_get_no_offer_in_the_campaign():
    up = pd.DataFrame({"upgrade": [0.30, -0.01, -0.05], "credit": [np.nan, -0.03, 0.2]},
                      index=["A-1", "B-2", "C-3"])
    ranked = _rank(up)
    scored = pd.DataFrame({C.ID: ["A-1", "B-2", "C-3"], "churn_prob": [0.6] * 3,
                           "risk_tier": ["High"] * 3, "clv": [1000.0] * 3,
                           "revenue_at_risk": [600.0] * 3})
    camp = C.build_campaign(scored, ranked, 10_000)
    # B-2: every learned offer is negative -> no offer at all (not even an assumed one);
    # C-3: one learned offer helps (credit +20 points) -> not a sleeping dog
    assert "B-2" not in set(camp.rows[C.ID])
    assert set(camp.rows[C.ID]) >= {"A-1", "C-3"}
    assert ranked.query("customerID == 'B-2'")["sleeping_dog"].all()


def test_learned_and_assumed_labels_in_exports(tmp_path):
    # A-1's best offer is learned (upgrade +30 points); B-2 has only an assumed credit offer
    up = pd.DataFrame({"upgrade": [0.30, np.nan, np.nan], "credit": [np.nan] * 3},
                      index=["A-1", "B-2", "C-3"])
    ranked = _rank(up)
    scored = pd.DataFrame({C.ID: ["A-1", "B-2", "C-3"], "churn_prob": [0.6] * 3,
                           "risk_tier": ["High"] * 3, "clv": [1000.0] * 3,
                           "revenue_at_risk": [600.0] * 3})
    camp = C.build_campaign(scored, ranked, 10_000, control_share=0)
    rows = camp.rows.set_index(C.ID)
    assert rows.loc["A-1", "offer_id"] == "upgrade"
    assert rows.loc["A-1", "value_basis"] == "learned"
    assert rows.loc["A-1", "reason"] == ("Past campaigns: this offer cuts the churn risk of "
                                         "customers like this one by 30.0 points")
    assert rows.loc["B-2", "value_basis"] == "assumed"
    for data, kind in ((C.to_csv_bytes(camp.rows), "csv"), (C.to_excel_bytes(camp.rows), "xlsx")):
        back = C.read_export(data, kind).set_index(C.ID)
        assert back["value_basis"].to_dict() == rows["value_basis"].to_dict()
    assert C.CAMPAIGN_COLUMNS[-1] == "value_basis"
    header = C.to_csv_bytes(camp.rows).decode().splitlines()[0]
    assert header.endswith(",group,value_basis")


# --- the engine: the uplift part and the sleeping-dog reason ---------------------------------------
class _FixedUplift:
    """Stands in for a fitted UpliftModel with fixed effects (the real model is exercised by the
    engine test below)."""

    def __init__(self, value):
        self.value = value

    def predict(self, customers):
        ids = customers[schema.ID].astype(str)
        return pd.DataFrame({"contract_upgrade": self.value}, index=ids.to_numpy())


@pytest.fixture(scope="module")
def engine():
    from _explain_fakes import LinearChurnModel, make_customers

    from churn.ltv import SurvivalModel
    from churn.offers import load_catalogue
    from churn.recommend import OfferRecommender
    from churn.scoring import Engine

    customers = make_customers(400, seed=5)
    catalogue = load_catalogue()
    rng = np.random.default_rng(11)
    rows = [{C.ID: cid, "offer_id": o, "date": "2024-01-01", "accepted": int(r >= 4), "rating": r}
            for cid in customers[C.ID].iloc[:200]
            for o, r in zip(rng.choice(catalogue.ids, 3, replace=False), rng.integers(1, 6, 3))]
    model = LinearChurnModel().fit(customers)
    survival = SurvivalModel().fit(customers)
    recommender = OfferRecommender(n_folds=2).fit(pd.DataFrame(rows), customers,
                                                  offer_ids=catalogue.ids)
    return Engine(model, survival, recommender, catalogue, customers)


def test_engine_marks_sleeping_dogs_and_basis(engine):
    from churn.config import BusinessSettings

    m2m = engine.customers[engine.customers["Contract"] == "Month-to-month"].head(20)
    engine.uplift = _FixedUplift(-0.05)
    try:
        table = engine.score(m2m, BusinessSettings(), drivers=0)
    finally:
        engine.uplift = None
    assert (table["offer_reason"] == C.SLEEPING_DOG_REASON).all()
    assert (table["offer_id"] == "").all()
    engine.uplift = _FixedUplift(0.25)
    try:
        table = engine.score(m2m, BusinessSettings(), drivers=0)
    finally:
        engine.uplift = None
    assert (table["offer_id"] == "contract_upgrade").all()
    assert (table["offer_basis"] == "learned").all()
    plain = engine.score(m2m, BusinessSettings(), drivers=0)
    assert set(plain["offer_basis"]) == {"assumed"}


def test_engine_with_a_real_uplift_model(engine):
    from churn.config import BusinessSettings

    cust = engine.customers
    hist = S.history(cust, 8000, seed=9)
    engine.uplift = U.UpliftModel(learner="t").fit(hist, cust, catalogue_ids=engine.catalogue.ids)
    try:
        out = engine.score_all(cust, BusinessSettings(), drivers=0, top_offers=None)
    finally:
        engine.uplift = None
    r = out.ranked
    learned = r[r["offer_id"].isin(S.OFFERS)]
    assert (learned["basis"] == "learned").all()
    assert (r.loc[~r["offer_id"].isin(S.OFFERS), "basis"] == "assumed").all()
    dogs = r.loc[r["sleeping_dog"], C.ID].unique()
    reasons = out.table.set_index(C.ID).loc[dogs, "offer_reason"]
    assert (reasons == C.SLEEPING_DOG_REASON).all()


def test_uplift_part_without_history_is_none(tmp_path):
    from churn import config
    from churn.offers import load_catalogue
    from churn.scoring import uplift_part

    p = config.paths(tmp_path)
    assert uplift_part(p, S.customers(10), load_catalogue()) is None


# --- policy value and risk-only waste against a hand computation -----------------------------------
def test_policy_value_by_hand():
    pred = pd.DataFrame({"a": [0.3, 0.1, 0.0, -0.1, 0.2], "b": [0.0, 0.2, 0.1, -0.2, 0.0]})
    true = pd.DataFrame({"a": [0.2, 0.0, 0.0, -0.1, 0.3], "b": [0.1, 0.3, 0.0, 0.0, 0.0]})
    clv = [100.0, 100.0, 100.0, 100.0, 100.0]
    prob = [0.1, 0.2, 0.3, 0.9, 0.5]
    v = U.policy_value(pred, true, clv, prob, share=0.4)  # 2 customers
    # learned: best predicted × CLV: c0 a (30), c1 b (20), c4 a (20) -> top c0, c1 (stable)
    # -> true 0.2 + 0.3 = 0.5 × 100 = 50
    assert v["learned"] == pytest.approx(50.0)
    # oracle: c1 b 30, c4 a 30 -> 60
    assert v["oracle"] == pytest.approx(60.0)
    # risk only: c3 (0.9) with predicted-best a (−0.1 true), c4 (0.5) with a (0.3) -> 20
    assert v["risk_only"] == pytest.approx(20.0)
    assert v["capture"] == pytest.approx(50 / 60)
    assert v["vs_risk"] == pytest.approx(50 / 20 - 1)


def test_risk_only_waste_by_hand():
    up = pd.DataFrame({"a": [0.3, 0.005, -0.1, 0.2], "b": [np.nan, 0.0, -0.2, np.nan]})
    out = U.risk_only_waste(up, [0.9, 0.8, 0.7, 0.1], {"a": 10.0, "b": 30.0}, share=0.75)
    # top 3 by risk: c0 (a, +30 pp), c1 (a, +0.5 pp: under 1 point), c2 (a, −10 pp)
    assert out["customers"] == 3
    assert out["budget"] == pytest.approx(30.0)
    assert out["wasted"] == pytest.approx(20.0)
    assert out["share_wasted"] == pytest.approx(2 / 3)
    assert out["negative"] == 1
    assert out["unknown"] == 0.0
    # the offers a risk-only campaign actually makes (e.g. the assumed best): c3 has none
    out = U.risk_only_waste(up, [0.9, 0.8, 0.7, 0.1], {"a": 10.0, "b": 30.0, "c": 5.0},
                            share=0.5, offer_choice=["b", "a", "c", ""])
    # customers with an offer: c0, c1, c2 -> top ceil(1.5) = 2 by risk: c0 (b: not learned for
    # c0 -> unknown, $30), c1 (a: +0.5 pp -> wasted, $10)
    assert (out["customers"], out["budget"], out["wasted"], out["unknown"]) == (2, 40.0, 10.0, 30.0)
    assert out["share_wasted"] == pytest.approx(0.25)


# --- the command line, exactly --------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uplift-cli")
    cust = S.customers(1500, seed=6)
    hist = S.history(cust, 4000, seed=7)
    # a fourth offer with too little history: its uplift stays blank
    extra = hist.head(40).assign(offer_id="onboarding_call")
    pd.concat([hist, extra]).to_csv(folder / "history.csv", index=False)
    schema.to_file_frame(cust).to_csv(folder / "customers.csv", index=False)
    return folder, cust


def test_cli_writes_the_long_format_exactly(cli_files, capsys):
    from churn.cli import main

    folder, cust = cli_files
    out = folder / "out.csv"
    code = main(["uplift", "--history", str(folder / "history.csv"), "--customers",
                 str(folder / "customers.csv"), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    text = out.read_text()
    assert text.splitlines()[0] == "customerID,offer_id,uplift"
    df = pd.read_csv(out, dtype={"customerID": str, "offer_id": str})
    offers = sorted(list(S.OFFERS) + ["onboarding_call"])
    assert list(df.columns) == ["customerID", "offer_id", "uplift"]
    assert len(df) == len(cust) * len(offers)
    assert df["customerID"].tolist() == np.repeat(cust[schema.ID].to_numpy(), 4).tolist()
    assert df["offer_id"].tolist() == offers * len(cust)
    assert df.loc[df["offer_id"] == "onboarding_call", "uplift"].isna().all()
    assert df.loc[df["offer_id"] != "onboarding_call", "uplift"].notna().all()
    assert "Offer 'onboarding_call': " in captured.err
    assert captured.out.startswith(f"Wrote {out}: 1,500 customers × 4 offers. Learned (")
    assert captured.out.rstrip().endswith("Assumed (too little history, uplift left blank): "
                                          "onboarding_call.")


def test_cli_json_prints_the_held_out_evaluation(cli_files, capsys):
    from churn.cli import main

    folder, _ = cli_files
    code = main(["uplift", "--history", str(folder / "history.csv"), "--customers",
                 str(folder / "customers.csv"), "--out", str(folder / "out2.csv"), "--json"])
    assert code == 0
    ev = json.loads(capsys.readouterr().out)
    assert set(ev) == {"learner", "learners", "calibration", "min_treated", "min_control",
                       "folds", "rows", "offers", "warnings"}
    assert 0.0 <= ev["calibration"] <= 1.0
    assert set(ev["offers"]) == set(S.OFFERS) | {"onboarding_call"}
    learned = ev["offers"]["contract_upgrade"]
    for policy in ("model", "random", "risk only"):
        assert set(learned[policy]) == {"qini", "auuc", "uplift_at_10", "uplift_at_20"}
        assert all(isinstance(v, float) for v in learned[policy].values())
    assert ev["offers"]["onboarding_call"]["basis"] == "assumed"
    assert "model" not in ev["offers"]["onboarding_call"]


def test_cli_bad_input(cli_files, tmp_path, capsys):
    from churn.cli import main

    folder, _ = cli_files
    code = main(["uplift", "--history", str(folder / "history.csv"), "--customers",
                 str(folder / "customers.csv"), "--out", str(tmp_path / "out.txt")])
    assert code == 1
    assert capsys.readouterr().err == f"--out {tmp_path / 'out.txt'}: the file name must end in .csv.\n"
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"customerID": ["x"], "offer_id": ["a"]}).to_csv(bad, index=False)
    code = main(["uplift", "--history", str(bad), "--customers", str(folder / "customers.csv"),
                 "--out", str(tmp_path / "o.csv")])
    assert code == 1
    assert capsys.readouterr().err == (
        f"{bad}: the campaign history has no group, churned column(s); it needs customerID, "
        "offer_id, group, churned (one row per customer per campaign).\n")
    assert not (tmp_path / "o.csv").exists()
    code = main(["uplift", "--history", str(tmp_path / "missing.csv"), "--customers",
                 str(folder / "customers.csv"), "--out", str(tmp_path / "o.csv")])
    assert code == 2
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'missing.csv'}: cannot be read as a "
                                              "CSV file (FileNotFoundError")


# --- the Model report's section: core data and figure builders ------------------------------------
def test_report_data_and_figures(sim):
    from ui import uplift_report as R

    cust, _, model = sim
    prob = S.base_prob(cust)
    out = U.report(model, cust, prob, {"contract_upgrade": 100.0, "tech_support_trial": 25.0,
                                       "loyalty_credit": 50.0})
    offers = out["offers"].set_index("offer_id")
    assert offers.loc["contract_upgrade", "qini_model"] == pytest.approx(
        model.evaluation_["contract_upgrade"][model.learner_]["qini"])
    assert out["waste"] == U.risk_only_waste(model.predict(cust), prob,
                                             {"contract_upgrade": 100.0,
                                              "tech_support_trial": 25.0, "loyalty_credit": 50.0})
    assert 0.0 <= out["waste"]["share_wasted"] <= 1.0
    table = R.offers_table(out["offers"], {"contract_upgrade": "Contract upgrade"})
    assert table["Offer"].tolist()[0] == "Contract upgrade"
    assert table["Offer"].tolist()[1] == "loyalty_credit (not in the catalogue)"
    assert set(table["Effect"]) == {"learned"}
    fig = R.qini_figure(out["curves"], "contract_upgrade", "Contract upgrade")
    assert [t.name for t in fig.data] == ["Uplift model", "Highest churn risk first", "Random"]
    # the plotted model curve is the held-out Qini curve, in extra customers kept per 100 offered
    h = model.heldout_["contract_upgrade"]
    q = UM.qini_curve(h["churned"], h["treated"], h["scores"][model.learner_])
    assert list(fig.data[0].y) == pytest.approx(list(100 * q["qini"] / h["treated"].sum()))
    bars = R.drivers_figure(out["drivers"], "contract_upgrade", "Contract upgrade")
    assert bars.data[0].y[-1] == "Contract"  # largest bar on top


def test_ranking_note_says_when_risk_alone_ranks_as_well():
    """The sentence under the per-offer table counts learned offers whose risk-only Qini is at
    least the model's (ties count for risk); assumed offers and missing figures are left out."""
    def table(pairs, extra=()):
        rows = [{"offer_id": f"o{i}", "basis": "learned", "qini_model": m, "qini_risk": r}
                for i, (m, r) in enumerate(pairs)]
        return pd.DataFrame(rows + [{"offer_id": o, "basis": b, "qini_model": m, "qini_risk": r}
                                    for o, b, m, r in extra])

    assumed = [("a", "assumed", np.nan, np.nan), ("b", "learned", np.nan, 0.02),
               ("c", "assumed", 0.0, 0.9)]
    adds = ("What the uplift model adds is choosing which offer each customer gets, holding back "
            "sleeping dogs, and a value for each offer in points of churn.")
    assert U.ranking_note(table([(0.02, 0.03), (0.02, 0.02), (0.03, 0.01)], assumed)) == (
        "For 2 of the 3 learned offers, ordering by churn risk alone finds the customers the "
        "offer helps as well as the uplift model or better (Qini): within one offer, the riskiest "
        "customers are largely the ones it can help. " + adds)
    assert U.ranking_note(table([(0.01, 0.03), (0.02, 0.025)])) == (
        "For both learned offers, ordering by churn risk alone finds the customers the offer "
        "helps as well as the uplift model or better (Qini): within one offer, the riskiest "
        "customers are largely the ones it can help. " + adds)
    assert U.ranking_note(table([(0.03, 0.01), (0.02, 0.019)], assumed)) == (
        "The uplift model finds the customers each offer helps better than churn risk alone for "
        "both learned offers (higher Qini).")
    assert U.ranking_note(table([(0.01, 0.02), (0.03, 0.02), (0.02, 0.03), (0.04, 0.02)])) \
        .startswith("For 2 of the 4 learned offers, ordering")
    assert U.ranking_note(table([(0.01, 0.02)])).startswith("For the only learned offer, ordering")
    assert U.ranking_note(table([], assumed)) == ""


def test_heldout_calibration_shrinks_predictions_to_the_observed_uplift():
    """Predicted uplift that overstates on held-out customers is scaled down (never up): the
    factor is pooled observed / pooled predicted uplift, weighted by treated customers."""
    rng = np.random.default_rng(0)

    def offer(n_t, n_c, rate_t, rate_c, pred):
        y = np.r_[rng.random(n_t) < rate_t, rng.random(n_c) < rate_c].astype(float)
        w = np.r_[np.ones(n_t, int), np.zeros(n_c, int)]
        return {"churned": y, "treated": w, "scores": {"x": np.full(n_t + n_c, pred)}}

    held = {"a": offer(400, 200, 0.30, 0.40, 0.20), "b": offer(100, 100, 0.20, 0.25, 0.10)}
    obs = sum(int((h["treated"] == 1).sum()) * (h["churned"][h["treated"] == 0].mean()
                                                 - h["churned"][h["treated"] == 1].mean())
              for h in held.values())
    expected = obs / (400 * 0.20 + 100 * 0.10)
    assert 0 < expected < 1
    assert U.heldout_calibration(held, "x") == pytest.approx(expected)
    # predictions that understate, or say nothing, are left as they are
    assert U.heldout_calibration({"a": offer(300, 300, 0.1, 0.5, 0.05)}, "x") == 1.0
    assert U.heldout_calibration({"a": offer(300, 300, 0.3, 0.3, -0.1)}, "x") == 1.0
    assert U.heldout_calibration({}, "x") == 1.0


def test_predictions_and_their_breakdown_carry_the_calibration(sim):
    customers, _, model = sim
    customers = customers.head(300)
    raw = model.predict(customers)
    k = model.calibration_
    model.calibration_ = 1.0
    try:
        full = model.predict(customers)
        o = model.learned_[0]
        base1, contrib1 = model.effect_contributions(customers.head(5), o)
    finally:
        model.calibration_ = k
    np.testing.assert_allclose(raw[model.learned_].to_numpy(),
                               k * full[model.learned_].to_numpy(), rtol=1e-12, atol=1e-15)
    base, contrib = model.effect_contributions(customers.head(5), o)
    assert base == pytest.approx(k * base1)
    np.testing.assert_allclose(base + contrib.sum(axis=1), 100 * raw[o].head(5).to_numpy(),
                               atol=1e-4)  # XGBoost predicts in float32


def test_predictions_from_many_threads_at_once(sim):
    """The API serves requests on a thread pool: 20 concurrent clients made XGBoost fail
    ("need_configuration_") while one thread changed a shared booster's thread count."""
    from concurrent.futures import ThreadPoolExecutor

    customers, _, model = sim
    rows = [customers.iloc[[i]] for i in range(40)]
    expected = [model.predict(r) for r in rows]
    with ThreadPoolExecutor(max_workers=12) as pool:
        got = list(pool.map(model.predict, rows * 5))
    for i, g in enumerate(got):
        pd.testing.assert_frame_equal(g, expected[i % len(rows)])
    import pickle

    assert "_predictors" not in pickle.loads(pickle.dumps(model)).__dict__
