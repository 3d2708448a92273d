"""Tests of churn.stored_views: the SQL figures equal the pandas ones (churn.ltv,
churn.population) to 1e-9, over a frame in memory and over a batch saved in a real Store."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churn import customer_list as cl
from churn import ltv, population, schema
from churn import stored_views as sv
from churn.config import BusinessSettings, risk_tier
from churn.store import Store
from churn.synth import generate_customers


def _table(customers: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """A scoring table with made-up but consistent figures (probabilities, CLV, risk)."""
    rng = np.random.default_rng(seed)
    prob = rng.uniform(0, 1, len(customers))
    clv = rng.uniform(0, 4000, len(customers))
    monthly = customers[schema.MONTHLY].to_numpy(float)
    return pd.DataFrame({
        schema.ID: customers[schema.ID].to_numpy(), "churn_prob": prob,
        "risk_tier": risk_tier(prob, BusinessSettings()), "clv": clv,
        "revenue_at_risk": prob * clv, "revenue_at_risk_12m": prob * 12 * monthly,
        "driver_1_text": "r", "offer_name": "o", "offer_net_value": 1.0}, index=customers.index)


@pytest.fixture(scope="module")
def history():
    return generate_customers(800, 21)


@pytest.fixture(params=["frame", "store"])
def where(request, history, tmp_path):
    """(customers, Rows, list Source) of the labelled history, in memory or in a store."""
    table = _table(history)
    if request.param == "frame":
        return history, sv.rows_from_frame(history), cl.from_frame(cl.list_frame(history, table))
    store = Store(tmp_path / "s.duckdb")
    store.save_batch("h", history, kind="upload")
    src = cl.save_for_batch(store, "h", "k", history, table)
    return history, sv.rows_from_store(store, "h"), src


def _close(a, b):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_population_and_data_summary_equal_pandas(where):
    customers, rows, _src = where
    assert sv.population(rows) == population.describe(customers)
    got, want = sv.data_summary(rows), ltv.data_summary(customers)
    assert got.customers == want.customers == 800
    assert got.churned == want.churned and want.churned > 0
    for name in ("churn_rate", "monthly_revenue", "mean_tenure"):
        assert _close(getattr(got, name), getattr(want, name)), name
    assert sv.has_outcomes(rows)


def test_an_active_base_has_no_outcomes(history, tmp_path):
    active = history.drop(columns=schema.TARGET)
    store = Store(tmp_path / "s.duckdb")
    store.save_batch("a", active, kind="upload")
    for rows in (sv.rows_from_frame(active), sv.rows_from_store(store, "a")):
        assert sv.population(rows) == population.describe(active)
        got = sv.data_summary(rows)
        assert got.churned is None and got.churn_rate is None
        assert not sv.has_outcomes(rows)
    assert sv.rows_from_store(store, "missing") is None


def test_model_figures_count_only_the_customers_still_here(where):
    customers, _rows, src = where
    table = _table(customers)
    still = population.active(customers)
    want = ltv.portfolio_summary(still, table.loc[still.index, "churn_prob"].to_numpy(),
                                 table.loc[still.index, ["clv"]])
    got = sv.portfolio(src)
    assert got["customers"] == len(still) < len(customers)
    for k in ("predicted_churners", "total_clv", "total_revenue_at_risk",
              "total_revenue_at_risk_12m"):
        assert _close(got[k], want[k]), k


@pytest.mark.parametrize("by", ltv.SEGMENTS)
def test_risk_by_segment_equals_pandas(where, by):
    customers, _rows, src = where
    table = _table(customers)
    still = population.active(customers)
    cols = ["churn_prob", "clv", "revenue_at_risk", "revenue_at_risk_12m"]
    want = ltv.revenue_at_risk_by_segment(
        still[[schema.TENURE] if by == "tenure band" else [by]].join(table[cols]), by)
    got = sv.risk_by_segment(src, by)
    assert got["segment"].tolist() == want["segment"].astype(str).tolist()
    assert got["customers"].tolist() == want["customers"].tolist()
    for c in ("avg_churn_prob", "predicted_churners", "clv", "revenue_at_risk",
              "revenue_at_risk_12m", "risk_share"):
        np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float),
                                   rtol=1e-9, atol=1e-9, err_msg=c)


def test_columns_fetch_only_what_is_asked(where):
    customers, rows, _src = where
    got = sv.columns(rows, [schema.TENURE, schema.TARGET, "Contract"])
    assert list(got.columns) == [schema.TENURE, schema.TARGET, "Contract"]
    assert len(got) == len(customers)
    with pytest.raises(ValueError) as err:
        sv.columns(rows, ["Partner"])
    assert str(err.value) == ("stored_views.columns: ['Partner'] are not among ['customerID', "
                              "'tenure', 'MonthlyCharges', 'Contract', 'InternetService', "
                              "'PaymentMethod'] + Churn.")


def test_rows_from_frame_needs_tenure_and_bills():
    with pytest.raises(ValueError) as err:
        sv.rows_from_frame(pd.DataFrame({schema.ID: ["a"]}))
    assert str(err.value) == ("stored_views: the customers need the columns ['tenure', "
                              "'MonthlyCharges']; validate the file first (churn.validate).")


def test_still_here_values_are_the_lists_column_for_the_customers_still_here(where):
    customers, _rows, src = where
    table = _table(customers)
    still = population.active(customers)
    got = sv.still_here_values(src, "clv")
    np.testing.assert_allclose(np.sort(got), np.sort(table.loc[still.index, "clv"].to_numpy()),
                               rtol=0, atol=0)
    with pytest.raises(ValueError) as err:
        sv.still_here_values(src, "risk_tier")
    assert str(err.value) == "still_here_values: 'risk_tier' is not a numeric column of the list."
