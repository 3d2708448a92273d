"""Tests of churn.customer_list: the searchable, filterable, paged customer list in DuckDB.

Every query result is checked against the same selection made independently in pandas on a
small frame, for both sources (a frame in memory, and a list frame saved in a real `Store`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn import customer_list as cl
from churn import schema
from churn.config import BusinessSettings, risk_tier
from churn.store import Store
from churn.synth import generate_customers


@pytest.fixture(scope="module")
def frames():
    """(customers, scoring table, list frame) of 500 generated customers with made-up scores."""
    customers = generate_customers(500, 12)
    rng = np.random.default_rng(3)
    prob = rng.uniform(0, 1, len(customers))
    clv = rng.uniform(0, 4000, len(customers)).round(2)
    clv[:20] = 1000.0                                        # ties: the ID breaks them
    table = pd.DataFrame({
        schema.ID: customers[schema.ID].to_numpy(), "churn_prob": prob,
        "risk_tier": risk_tier(prob, BusinessSettings()), "clv": clv,
        "revenue_at_risk": prob * clv, "revenue_at_risk_12m": prob * 12 * 50.0,
        "driver_1_text": [f"reason {i % 7}" for i in range(len(customers))],
        "offer_name": [f"offer {i % 3}" for i in range(len(customers))],
        "offer_net_value": rng.normal(0, 10, len(customers))}, index=customers.index)
    return customers, table, cl.list_frame(customers, table)


@pytest.fixture(params=["frame", "store"])
def source(request, frames, tmp_path):
    _customers, _table, lf = frames
    if request.param == "frame":
        return cl.from_frame(lf)
    store = Store(tmp_path / "s.duckdb")
    store.save_batch("big", frames[0], kind="upload")
    return cl.save_for_batch(store, "big", "list:v1:abc", frames[0], frames[1])


def _expected(lf: pd.DataFrame, f: cl.Filters) -> pd.DataFrame:
    """The pandas selection of the same filters and order."""
    keep = np.ones(len(lf), bool)
    if f.tiers:
        keep &= lf["risk_tier"].isin(f.tiers).to_numpy()
    if f.segment_values:
        keep &= lf[f.segment].isin(f.segment_values).to_numpy()
    if f.clv_min is not None:
        keep &= (lf["clv"] >= f.clv_min).to_numpy()
    if f.clv_max is not None:
        keep &= (lf["clv"] <= f.clv_max).to_numpy()
    if f.search:
        keep &= lf[schema.ID].str.lower().str.contains(f.search.strip().lower(),
                                                       regex=False).to_numpy()
    out = lf[keep]
    return out.sort_values([f.sort, schema.ID], ascending=[not f.descending, True],
                           kind="mergesort").reset_index(drop=True)


def test_list_frame_holds_the_scores_and_the_customer_columns(frames):
    customers, table, lf = frames
    assert list(lf.columns) == list(cl.LIST_COLUMNS)
    assert lf[schema.ID].tolist() == customers[schema.ID].tolist()
    assert lf["Contract"].tolist() == customers["Contract"].astype(str).tolist()
    np.testing.assert_array_equal(lf["clv"].to_numpy(), table["clv"].to_numpy())
    assert lf["tenure"].dtype == np.int64


@pytest.mark.parametrize("filters", [
    cl.Filters(),
    cl.Filters(tiers=("High",)),
    cl.Filters(tiers=("Medium", "Low"), segment="InternetService",
               segment_values=("Fiber optic",), sort="clv", descending=False),
    cl.Filters(segment="PaymentMethod", segment_values=("Electronic check", "Mailed check"),
               clv_min=500.0, clv_max=2500.0, sort="churn_prob"),
    cl.Filters(clv_min=1000.0, clv_max=1000.0, sort="clv"),        # only the 20 ties
    cl.Filters(sort=schema.ID, descending=False),
    cl.Filters(sort="tenure"),
])
def test_pages_equal_the_pandas_selection(source, frames, filters):
    want = _expected(frames[2], filters)
    got_rows = []
    first = cl.page(source, filters, 1, 25)
    assert first.total == len(want) and first.pages == max(1, -(-len(want) // 25))
    for n in range(1, first.pages + 1):
        p = cl.page(source, filters, n, 25)
        assert p.page == n and len(p.rows) == min(25, len(want) - (n - 1) * 25)
        got_rows.append(p.rows)
    got = pd.concat(got_rows, ignore_index=True)
    assert got[schema.ID].tolist() == want[schema.ID].tolist()
    pd.testing.assert_frame_equal(got, want[list(cl.LIST_COLUMNS)], check_dtype=False)


def test_search_matches_any_part_of_the_id_ignoring_case(source, frames):
    lf = frames[2]
    one = lf[schema.ID].iloc[17]
    part = one[2:7].lower()
    got = cl.page(source, cl.Filters(search=f"  {part} "), 1, 100)
    want = _expected(lf, cl.Filters(search=part))
    assert got.rows[schema.ID].tolist() == want[schema.ID].tolist()
    assert one in got.rows[schema.ID].tolist()
    exact = cl.page(source, cl.Filters(search=one), 1, 25)
    assert exact.total == 1 and exact.rows[schema.ID].item() == one


@pytest.mark.parametrize("attack", [
    "' OR '1'='1", "x' OR 1=1 --", "'; DROP TABLE customers; --", '"); DROP TABLE scores; --',
    "%", "_", "\\", "0 UNION SELECT * FROM batches",
])
def test_sql_in_the_search_box_is_only_text(source, frames, attack):
    got = cl.page(source, cl.Filters(search=attack), 1, 25)
    assert got.total == 0 and got.rows.empty and list(got.rows.columns) == list(cl.LIST_COLUMNS)
    assert cl.summary(source, cl.Filters(search=attack))["customers"] == 0
    assert cl.page(source, cl.Filters(), 1, 25).total == 500       # nothing was dropped


def test_paging_past_the_end_gives_the_last_page(source):
    p = cl.page(source, cl.Filters(), 999, 100)
    assert (p.page, p.pages, len(p.rows), p.total) == (5, 5, 100, 500)
    none = cl.page(source, cl.Filters(search="no-such-id"), 3, 25)
    assert (none.page, none.pages, none.total) == (1, 1, 0)


def test_facets_and_summary_equal_pandas(source, frames):
    lf = frames[2]
    f = cl.facets(source)
    for col in cl.SEGMENT_COLUMNS:
        assert f[col] == sorted(lf[col].unique().tolist())
    assert f["clv"] == (lf["clv"].min(), lf["clv"].max())
    filters = cl.Filters(tiers=("High", "Medium"), clv_min=300.0)
    want = _expected(lf, filters)
    s = cl.summary(source, filters)
    assert s["customers"] == len(want)
    assert s["revenue_at_risk"] == pytest.approx(want["revenue_at_risk"].sum(), rel=1e-12)
    assert s["clv"] == pytest.approx(want["clv"].sum(), rel=1e-12)
    assert s["expected_churners"] == pytest.approx(want["churn_prob"].sum(), rel=1e-12)


def test_bad_filters_are_named(source):
    cases = [
        (cl.Filters(tiers=("Extreme",)), "tiers ['Extreme']: expected some of ['High', 'Medium', "
                                         "'Low']."),
        (cl.Filters(segment="gender"), "segment 'gender': expected one of ['Contract', "
                                       "'InternetService', 'PaymentMethod']."),
        (cl.Filters(sort="1; DROP TABLE x"), "sort '1; DROP TABLE x': expected one of "
                                             "['revenue_at_risk', 'churn_prob', 'clv', "
                                             "'MonthlyCharges', 'tenure', 'customerID']."),
        (cl.Filters(clv_min=float("nan")), "clv_min=nan: expected a number of dollars or None."),
    ]
    for filters, message in cases:
        with pytest.raises(ValueError) as err:
            cl.page(source, filters)
        assert str(err.value) == message
    with pytest.raises(ValueError) as err:
        cl.page(source, cl.Filters(), 1, 7)
    assert str(err.value) == "page_size=7: expected one of [25, 50, 100]."
    with pytest.raises(ValueError) as err:
        cl.page(source, cl.Filters(), 0)
    assert str(err.value) == "page_no=0: expected a page number >= 1."


def test_the_store_source_reads_the_saved_table_without_loading_it(frames, tmp_path):
    store = Store(tmp_path / "s.duckdb")
    store.save_batch("b", frames[0], kind="upload")
    assert cl.from_store(store, "b", "list:v1:x") is None
    src = cl.save_for_batch(store, "b", "list:v1:x", frames[0], frames[1])
    assert src.rows == 500
    assert store.list_scores()["version"].tolist() == ["list:v1:x"]
    pd.testing.assert_frame_equal(store.load_scores("b", "list:v1:x"), frames[2])
    store.delete_batch("b")                                   # its list goes with it
    assert cl.from_store(store, "b", "list:v1:x") is None


def test_list_key_changes_with_the_settings_and_the_model():
    base = cl.list_key("v1", BusinessSettings())
    assert base.startswith("list2:v1:")      # the layout is in the key: old lists are rebuilt
    assert cl.list_key("v1", BusinessSettings()) == base
    assert cl.list_key("v2", BusinessSettings()) != base
    assert cl.list_key("v1", BusinessSettings(margin=0.5)) != base
    assert cl.list_key("v1", BusinessSettings(), extra="catalogue 2") != base


def test_list_frame_rejects_mismatched_inputs(frames):
    customers, table, _lf = frames
    with pytest.raises(ValueError) as err:
        cl.list_frame(customers, table.drop(columns="clv"))
    assert str(err.value) == ("list_frame: columns ['clv'] are in neither the customers nor the "
                              "scoring table; score the customers with Engine.score first.")
    with pytest.raises(ValueError) as err:
        cl.list_frame(customers.iloc[:10], table)
    assert str(err.value) == ("list_frame: 10 customers but 500 scores; pass the scoring table "
                              "of these very customers.")


def test_a_list_stored_without_the_left_column_is_built_again_not_misread(frames, tmp_path):
    store = Store(tmp_path / "s.duckdb")
    store.save_batch("b", frames[0], kind="upload")
    store.save_scores("b", "k", frames[2].drop(columns="left"))     # an older app's layout
    assert cl.from_store(store, "b", "k") is None


def test_the_left_column_marks_who_has_left(frames):
    customers, table, lf = frames
    expected = (customers[schema.TARGET].to_numpy() == 1).astype(np.int64)
    np.testing.assert_array_equal(lf["left"].to_numpy(), expected)
    active = customers.drop(columns=schema.TARGET)
    assert cl.list_frame(active, table)["left"].eq(0).all()


def test_top_risk_and_ids_of_the_customers_still_here(source, frames):
    _customers, _table, lf = frames
    here = lf[lf["left"] == 0]
    want = here.sort_values(["churn_prob", schema.ID], ascending=[False, True]).head(20)
    got = cl.top_risk(source, 20)
    assert got[schema.ID].tolist() == want[schema.ID].tolist()
    assert got["churn_prob"].tolist() == want["churn_prob"].tolist()
    assert cl.still_here_ids(source, 10_000) == sorted(here[schema.ID])
    assert cl.still_here_ids(source, len(here) - 1) is None
    with pytest.raises(ValueError) as err:
        cl.top_risk(source, 0)
    assert str(err.value) == "top_risk: n=0: expected a number of customers >= 1."


def test_two_lists_in_memory_have_different_relations(frames):
    """The page caches filter values by relation: two lists of the same size must not share."""
    lf = frames[2]
    a, b = cl.from_frame(lf), cl.from_frame(lf.assign(Contract="Two year"))
    assert a.relation != b.relation and a.rows == b.rows
    assert cl.facets(b)["Contract"] == ["Two year"] != cl.facets(a)["Contract"]
