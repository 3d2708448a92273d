"""Tests of churn.ltv: survival models, conditional survival, CLV, revenue at risk, KM curves.

The numpy evaluation of the fitted models is checked against lifelines' own
``predict_survival_function``; CLV against a brute-force loop over months built on lifelines.
"""
from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from churn import ltv
from churn.config import BusinessSettings
from churn.synth import generate_customers

HORIZON = 36


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return generate_customers(7043, 42)


@pytest.fixture(scope="module")
def auto_model(sample) -> ltv.SurvivalModel:
    return ltv.SurvivalModel("auto").fit(sample)


@pytest.fixture(scope="module")
def models(sample, auto_model) -> dict:
    """One fitted model per kind (the auto one, plus the other kind with a cheaper 2-fold CV)."""
    other = "weibull" if auto_model.kind_ == "cox" else "cox"
    return {auto_model.kind_: auto_model,
            other: ltv.SurvivalModel(other, n_folds=2).fit(sample)}


@pytest.fixture(scope="module")
def few(sample, models) -> pd.DataFrame:
    """A few customers whose tenure + horizon stays inside the observed range (no extrapolation)."""
    max_t = min(m.max_tenure_ for m in models.values())
    ok = sample[(sample["tenure"] >= 1) & (sample["tenure"] <= max_t - HORIZON)]
    return pd.concat([ok[ok["Contract"] == c].head(2) for c in
                      ("Month-to-month", "One year", "Two year")])


def _lifelines_survival(model, row: pd.DataFrame, times) -> np.ndarray:
    X = ltv.design_matrix(row)[model.columns_]
    return model.model_.predict_survival_function(X, times=np.asarray(times, float)).to_numpy()[:, 0]


# --- fitting and concordance -----------------------------------------------------------------
def test_concordance_reported_for_both_models_and_good(auto_model):
    assert set(auto_model.concordance_) == {"cox", "weibull"}
    for kind, c in auto_model.concordance_.items():
        assert len(auto_model.concordance_folds_[kind]) == 5
        assert c == pytest.approx(np.mean(auto_model.concordance_folds_[kind]))
        assert c > 0.75, (kind, c)
    assert auto_model.kind_ == max(auto_model.concordance_, key=auto_model.concordance_.get)
    assert auto_model.max_tenure_ == 72


def test_fit_is_reproducible(sample):
    a = ltv.SurvivalModel("cox", n_folds=3, seed=7).fit(sample)
    b = ltv.SurvivalModel("cox", n_folds=3, seed=7).fit(sample)
    assert a.concordance_folds_ == b.concordance_folds_
    np.testing.assert_array_equal(a.survival(sample.head(50), [12, 24]),
                                  b.survival(sample.head(50), [12, 24]))


def test_design_matrix_leaves_out_duration_and_total_charges(sample):
    X = ltv.design_matrix(sample.head(5))
    assert not [c for c in X.columns if "tenure" in c or "TotalCharges" in c]
    assert "Contract=Two year" in X and "Contract=Month-to-month" not in X  # reference dropped
    assert "OnlineSecurity=Yes" in X and "OnlineSecurity=No internet service" not in X
    assert X.shape[1] == 21 and np.isfinite(X.to_numpy()).all()


# --- numpy evaluation against lifelines ------------------------------------------------------
@pytest.mark.parametrize("kind", ["cox", "weibull"])
def test_numpy_survival_matches_lifelines(models, few, kind):
    m = models[kind]
    times = [1.0, 6.0, 12.0, 24.0, 36.0]
    mine = m.survival(few, times)
    for i in range(len(few)):
        ref = _lifelines_survival(m, few.iloc[[i]], times)
        np.testing.assert_allclose(mine[i], ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["cox", "weibull"])
def test_conditional_survival_is_one_at_zero_and_monotone(models, sample, kind):
    cs = models[kind].conditional_survival(sample, HORIZON)
    assert cs.shape == (len(sample), HORIZON + 1)
    np.testing.assert_array_equal(cs[:, 0], 1.0)
    assert (np.diff(cs, axis=1) <= 0).all()
    assert ((cs >= 0) & (cs <= 1)).all()
    assert (cs[:, -1] < 1).all()  # everybody can churn within three years


@pytest.mark.parametrize("kind", ["cox", "weibull"])
def test_clv_equals_brute_force_with_lifelines(models, few, kind):
    m = models[kind]
    settings = BusinessSettings(margin=0.55, annual_discount_rate=0.08, horizon_months=HORIZON)
    monthly_rate = 1.08 ** (1 / 12) - 1
    got = ltv.clv(m, few, settings)
    for i in range(len(few)):
        row = few.iloc[[i]]
        tenure, mc = float(row["tenure"].iloc[0]), float(row["MonthlyCharges"].iloc[0])
        s_now = _lifelines_survival(m, row, [tenure])[0]
        value = months = 0.0
        for t in range(1, HORIZON + 1):
            stay = _lifelines_survival(m, row, [tenure + t])[0] / s_now
            value += 0.55 * mc * stay / (1 + monthly_rate) ** t
            months += stay
        assert got["clv"].iloc[i] == pytest.approx(value, rel=1e-9)
        assert got["expected_months"].iloc[i] == pytest.approx(months, rel=1e-9)


def test_cox_tail_is_a_constant_hazard_past_the_last_tenure(models, sample):
    m = models["cox"]
    row = sample.head(1)
    s = m.survival(row, [m.max_tenure_, m.max_tenure_ + 10, m.max_tenure_ + 20])[0]
    # constant hazard: equal survival ratios over equal steps, and strictly falling
    assert s[1] / s[0] == pytest.approx(s[2] / s[1], rel=1e-9)
    assert s[2] < s[1] < s[0]


# --- business behaviour ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["cox", "weibull"])
def test_two_year_contract_stays_longer_than_month_to_month(models, sample, kind):
    mtm = sample[sample["Contract"] == "Month-to-month"].head(25)
    two = mtm.assign(Contract="Two year")
    m = models[kind]
    assert (m.expected_remaining_months(two, HORIZON)
            > m.expected_remaining_months(mtm, HORIZON)).all()


def test_segment_retention_agrees_with_kaplan_meier(auto_model, sample):
    """Mean predicted 12-month retention of those still there at t0 vs the KM ratio S(t0+12)/S(t0)."""
    from lifelines import KaplanMeierFitter

    for contract in ("Month-to-month", "One year", "Two year"):
        seg = sample[sample["Contract"] == contract]
        km = KaplanMeierFitter().fit(seg["tenure"], seg["Churn"])
        for t0 in (0, 12, 24):
            observed = float(km.predict(t0 + 12) / km.predict(t0))
            at_risk = seg[seg["tenure"] >= t0].assign(tenure=t0)
            predicted = auto_model.conditional_survival(at_risk, 12)[:, -1].mean()
            assert predicted == pytest.approx(observed, abs=0.05), (contract, t0)


def test_clv_monotone_in_margin_horizon_and_discount(auto_model, sample):
    rows = sample.head(200)
    base = BusinessSettings()

    def value(**kw):
        return ltv.clv(auto_model, rows, dataclasses.replace(base, **kw))["clv"].to_numpy()

    assert (value(margin=0.7) > value(margin=0.5)).all()
    np.testing.assert_allclose(value(margin=0.3), value(margin=0.6) / 2)
    assert (value(horizon_months=48) > value(horizon_months=24)).all()
    assert (value(annual_discount_rate=0.2) < value(annual_discount_rate=0.05)).all()
    np.testing.assert_array_equal(value(margin=0.0), 0.0)


def test_revenue_at_risk_columns(auto_model, sample):
    rows = sample.head(100)
    p = np.linspace(0, 1, len(rows))
    out = ltv.clv(auto_model, rows, BusinessSettings(), churn_prob=p)
    assert list(out.columns) == ["expected_months", "clv", "revenue_at_risk", "revenue_at_risk_12m"]
    assert out.index.equals(rows.index)
    np.testing.assert_allclose(out["revenue_at_risk"], p * out["clv"])
    np.testing.assert_allclose(out["revenue_at_risk_12m"], p * 12 * rows["MonthlyCharges"])
    assert list(ltv.clv(auto_model, rows).columns) == ["expected_months", "clv"]


@pytest.mark.parametrize("kind", ["cox", "weibull"])
def test_edge_customers_and_batch_without_churn_are_finite(models, sample, kind):
    m = models[kind]
    batch = sample.head(6).drop(columns=["Churn"]).copy()
    batch["tenure"] = [0, 0, 200, 200, 72, 1]
    out = ltv.clv(m, batch, BusinessSettings(), churn_prob=np.full(6, 0.4))
    assert np.isfinite(out.to_numpy()).all()
    assert (out["expected_months"] > 0).all() and (out["expected_months"] <= HORIZON).all()
    cs = m.conditional_survival(batch, HORIZON)
    assert np.isfinite(cs).all() and (cs[:, 0] == 1).all()
    assert np.isfinite(m.survival(batch, [0, 1, 500])).all()


def test_fitted_model_pickles(auto_model, sample):
    back = pickle.loads(pickle.dumps(auto_model))
    np.testing.assert_array_equal(back.conditional_survival(sample.head(20), 12),
                                  auto_model.conditional_survival(sample.head(20), 12))


# --- bad arguments ---------------------------------------------------------------------------
def test_bad_arguments_raise_pinned_messages(auto_model, sample):
    rows = sample.head(3)
    with pytest.raises(ValueError) as e:
        auto_model.conditional_survival(rows, 0)
    assert str(e.value) == "horizon must be a whole number of months >= 1, got 0"
    with pytest.raises(ValueError) as e:
        ltv.clv(auto_model, rows, BusinessSettings(horizon_months=-3))
    assert str(e.value) == "horizon must be a whole number of months >= 1, got -3"
    with pytest.raises(ValueError) as e:
        ltv.clv(auto_model, rows, BusinessSettings(margin=60))
    assert str(e.value) == ("margin must be between 0 and 1 (a share of MonthlyCharges), got 60; "
                            "a percentage such as 60 should be given as 0.6")
    with pytest.raises(ValueError) as e:
        ltv.clv(auto_model, rows, BusinessSettings(annual_discount_rate=-0.1))
    assert str(e.value) == ("annual_discount_rate must be between 0 and 1, got -0.1; "
                            "a percentage such as 10 should be given as 0.1")
    with pytest.raises(ValueError) as e:
        ltv.clv(auto_model, rows.drop(columns=["MonthlyCharges"]))
    assert str(e.value) == ("clv: missing column(s) MonthlyCharges; expected a canonical "
                            "customer frame (see churn.schema)")
    with pytest.raises(ValueError) as e:
        ltv.SurvivalModel().fit(rows.drop(columns=["Churn"]))
    assert str(e.value) == ("fit: missing column(s) Churn; expected a canonical customer frame "
                            "(see churn.schema)")
    with pytest.raises(ValueError) as e:
        ltv.clv(auto_model, rows, churn_prob=[0.5])
    assert str(e.value) == "churn_prob has 1 values but the frame has 3 rows"
    with pytest.raises(ValueError) as e:
        ltv.SurvivalModel(kind="gompertz").fit(sample)
    assert str(e.value) == "kind must be one of 'auto', 'cox', 'weibull', got 'gompertz'"
    with pytest.raises(ValueError) as e:
        ltv.SurvivalModel().survival(rows, [1])
    assert str(e.value) == "this SurvivalModel is not fitted yet: call fit(df) first"
    with pytest.raises(ValueError) as e:
        ltv.SurvivalModel().fit(sample.head(200).assign(Churn=0))
    assert str(e.value) == ("fit needs at least 10 churned customers (Churn == 1) to learn how "
                            "long customers stay, got 0")
    with pytest.raises(ValueError) as e:
        ltv.km_curves(sample, "gender")
    assert str(e.value) == ("by must be one of 'Contract', 'InternetService', 'PaymentMethod', "
                            "'tenure band', got 'gender'")


# --- Kaplan-Meier, segments, summary ---------------------------------------------------------
def _product_limit(tenure: np.ndarray, churn: np.ndarray):
    times = np.unique(tenure)
    s, out = 1.0, []
    for t in times:
        at_risk = (tenure >= t).sum()
        s *= 1 - ((tenure == t) & (churn == 1)).sum() / at_risk
        out.append(s)
    return times, np.array(out)


@pytest.mark.parametrize("by", ["Contract", "InternetService", "PaymentMethod", "tenure band"])
def test_km_curves_have_bands_around_the_product_limit_estimate(sample, by):
    km = ltv.km_curves(sample, by)
    assert list(km.columns) == ["segment", "timeline", "survival", "ci_lower", "ci_upper"]
    assert np.isfinite(km[["timeline", "survival", "ci_lower", "ci_upper"]].to_numpy()).all()
    assert (km["ci_lower"] <= km["survival"]).all() and (km["survival"] <= km["ci_upper"]).all()
    assert ((km["ci_lower"] >= 0) & (km["ci_upper"] <= 1)).all()
    assert (km.groupby("segment")["survival"].apply(lambda s: (np.diff(s) <= 0).all())).all()
    if by == "tenure band":
        labels = ltv.tenure_band(sample["tenure"])
        assert list(km["segment"].unique()) == [b for b in ("0-6", "7-12", "13-24", "25-48", "49-72")]
    else:
        labels = sample[by].to_numpy()
    first = km["segment"].iloc[0]
    mask = labels == first
    times, ref = _product_limit(sample.loc[mask, "tenure"].to_numpy(), sample.loc[mask, "Churn"].to_numpy())
    seg = km[km["segment"] == first].set_index("timeline")["survival"]
    np.testing.assert_allclose(seg.loc[times].to_numpy(), ref, rtol=1e-12)


def test_km_two_year_contracts_retain_best(sample):
    km = ltv.km_curves(sample, "Contract")
    at_24 = km[km["timeline"] <= 24].groupby("segment")["survival"].last()
    assert at_24["Two year"] > at_24["One year"] > at_24["Month-to-month"]


def test_tenure_band_edges():
    assert list(ltv.tenure_band([0, 6, 7, 12, 13, 24, 25, 48, 49, 72, 73, 200])) == [
        "0-6", "0-6", "7-12", "7-12", "13-24", "13-24", "25-48", "25-48", "49-72", "49-72",
        "73+", "73+"]


def test_revenue_at_risk_by_segment_and_portfolio_summary(auto_model, sample):
    p = np.random.default_rng(1).uniform(0, 1, len(sample))
    values = ltv.clv(auto_model, sample, BusinessSettings(), churn_prob=p)
    scored = sample.join(values).assign(churn_prob=p)
    seg = ltv.revenue_at_risk_by_segment(scored, "Contract")
    assert list(seg["segment"]) == ["Month-to-month", "One year", "Two year"]
    assert seg["customers"].sum() == len(sample)
    assert seg["revenue_at_risk"].sum() == pytest.approx(values["revenue_at_risk"].sum())
    assert seg["risk_share"].sum() == pytest.approx(1.0)
    mtm = scored[scored["Contract"] == "Month-to-month"]
    row = seg.set_index("segment").loc["Month-to-month"]
    assert row["predicted_churners"] == pytest.approx(mtm["churn_prob"].sum())
    assert row["revenue_at_risk_12m"] == pytest.approx((mtm["churn_prob"] * 12 * mtm["MonthlyCharges"]).sum())

    summary = ltv.portfolio_summary(sample, p, values)
    assert summary == pytest.approx({
        "customers": len(sample), "churn_rate": sample["Churn"].mean(),
        "predicted_churners": p.sum(), "total_clv": values["clv"].sum(),
        "total_revenue_at_risk": (p * values["clv"]).sum(),
        "total_revenue_at_risk_12m": (p * 12 * sample["MonthlyCharges"]).sum()})
    no_target = ltv.portfolio_summary(sample.drop(columns=["Churn"]), p, values)
    assert no_target["churn_rate"] is None


# --- headline figures of the data, and the one churn-rate rule ---------------------------------
def _four(churn):
    df = pd.DataFrame({"customerID": ["0001-AAAAA", "0002-BBBBB", "0003-CCCCC", "0004-DDDDD"],
                       "tenure": [1, 10, 0, 61], "MonthlyCharges": [20.5, 99.25, 70.0, 45.0]})
    if churn is not None:
        df["Churn"] = churn
    return df


def test_data_summary_labelled():
    s = ltv.data_summary(_four([1, 0, 1, 0]))
    assert (s.customers, s.churned, s.churn_rate) == (4, 2, 0.5)
    assert s.monthly_revenue == pytest.approx(20.5 + 99.25 + 70.0 + 45.0)
    assert s.mean_tenure == pytest.approx((1 + 10 + 0 + 61) / 4)


@pytest.mark.parametrize("churn", [None, [1, 0, np.nan, 0], [1, 0, 2, 0]])
def test_churn_rate_is_unknown_without_an_outcome_for_every_customer(churn):
    s = ltv.data_summary(_four(churn))
    assert (s.customers, s.churned, s.churn_rate) == (4, None, None)
    assert ltv.observed_churn(_four(churn)) == (None, None)


def test_data_summary_empty():
    s = ltv.data_summary(_four([1, 0, 1, 0]).iloc[:0])
    assert (s.customers, s.churned, s.churn_rate, s.monthly_revenue) == (0, None, None, 0.0)
    assert np.isnan(s.mean_tenure)


@pytest.mark.parametrize("churn", [None, [1, 0, 1, 1], [1, 0, np.nan, 0]])
def test_portfolio_and_data_summaries_share_one_churn_rate_rule(churn):
    df = _four(churn)
    values = pd.DataFrame({"clv": [100.0, 200.0, 300.0, 400.0]})
    portfolio = ltv.portfolio_summary(df, [0.1, 0.2, 0.3, 0.4], values)
    assert portfolio["churn_rate"] == ltv.data_summary(df).churn_rate
    if churn == [1, 0, 1, 1]:
        assert portfolio["churn_rate"] == 0.75


def test_data_summary_names_a_missing_column():
    with pytest.raises(ValueError) as err:
        ltv.data_summary(_four(None).drop(columns="tenure"))
    assert str(err.value) == ("data_summary: missing column(s) tenure; expected a canonical "
                              "customer frame (see churn.schema)")
