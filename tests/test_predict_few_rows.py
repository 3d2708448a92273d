"""Each few-row shortcut (fewer than `schema.FEW_ROWS` rows: one customer of the API or the
what-if page) gives what the general pandas path gives on the same input, one customer at a
time against the whole frame at once: the column reads (`schema.column_arrays`,
`column_values`, `column_numbers`, `id_texts`), the offer conditions, the model's input checks,
the explanation's values, the out-of-fold look-up, the rule part of the ranking and the
reasons' value phrases. Edge customers: tenure 0 with a blank total, a blank total estimated at
tenure > 0, no internet service, no phone service. (The whole answer of `churn.predict.predict`
is checked in tests/test_predict_fast.py.)"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _explain_fakes import LinearChurnModel, make_customers, random_customers  # noqa: E402

from churn import campaign, conditions, explain, offers, population, schema  # noqa: E402
from churn.models.model import _check_frame  # noqa: E402


def edge_customers(n: int = 40) -> pd.DataFrame:
    """Random canonical customers (more than FEW_ROWS) with every edge case present."""
    df = random_customers(n, seed=31).reset_index(drop=True)
    df.loc[0:3, "tenure"] = 0
    df.loc[0:3, "TotalCharges"] = np.nan                      # not billed yet
    df.loc[4:6, "TotalCharges"] = np.nan                      # blank total at tenure > 0
    df.loc[7:10, "InternetService"] = "No"
    for c in schema.COLUMNS:
        if c.parent == "InternetService":
            df.loc[7:10, c.name] = "No internet service"
    df.loc[11:13, "PhoneService"] = "No"
    df.loc[11:13, "MultipleLines"] = "No phone service"
    assert len(df) >= schema.FEW_ROWS
    return df


def one_at_a_time(df: pd.DataFrame):
    """Each row of df as a one-row frame (index kept)."""
    return [df.iloc[[i]] for i in range(len(df))]


@pytest.fixture(scope="module")
def frame():
    return edge_customers()


# --- column reads ---------------------------------------------------------------------------
def test_column_arrays_equal_pandas_columns(frame):
    for one in one_at_a_time(frame):
        arrays = schema.column_arrays(one)
        assert list(arrays) == list(one.columns)
        for c in one.columns:
            want = one[c].to_numpy()
            assert arrays[c].dtype == want.dtype, c
            np.testing.assert_array_equal(arrays[c], want)
    assert schema.column_arrays(frame) is None                  # many rows: pandas' own path


def test_column_arrays_decline_what_they_cannot_copy(frame):
    one = frame.iloc[[0]]
    assert schema.column_arrays(one.astype({"gender": "category"})) is None
    assert schema.column_arrays(pd.concat([one, one[["tenure"]]], axis=1)) is None


def test_column_reads_inside_and_outside_a_shared_block(frame):
    for one in one_at_a_time(frame.head(8)):
        want_ids = one[schema.ID].astype(str).to_numpy()
        want = {c: pd.to_numeric(one[c], errors="coerce").to_numpy(dtype=float)
                for c in schema.NUMERIC_FEATURES}
        for block in (False, True):
            if block:
                ctx = schema.shared_encoding(one)
                ctx.__enter__()
            try:
                np.testing.assert_array_equal(schema.id_texts(one), want_ids)
                for c, w in want.items():
                    np.testing.assert_array_equal(schema.column_numbers(one, c), w)
                    np.testing.assert_array_equal(schema.column_values(one, c),
                                                  one[c].to_numpy())
            finally:
                if block:
                    ctx.__exit__(None, None, None)


def test_column_numbers_of_text_parse_as_pandas_does():
    one = pd.DataFrame({"tenure": ["12"], "MonthlyCharges": ["abc"], schema.ID: [7]})
    np.testing.assert_array_equal(schema.column_numbers(one, "tenure"), [12.0])
    assert np.isnan(schema.column_numbers(one, "MonthlyCharges")).all()
    assert schema.id_texts(one).tolist() == ["7"]                # not text: astype(str)


# --- offer conditions -------------------------------------------------------------------------
CONDITIONS = [
    'Contract == "Month-to-month"', 'Contract != "Two year"',
    'InternetService in ["Fiber optic", "DSL"]', 'InternetService not in ["No"]',
    'OnlineSecurity == "No internet service"', 'MultipleLines in ["No phone service"]',
    "tenure < 12", "tenure <= 0", "tenure > 24 and MonthlyCharges >= 70",
    "TotalCharges == 0", "TotalCharges > 500", "TotalCharges != 0", "SeniorCitizen == 1",
    "tenure in [0, 1, 2]", "tenure not in [0]", "MonthlyCharges != 20.05", "always",
]


@pytest.mark.parametrize("text", CONDITIONS)
def test_condition_mask_one_customer_equals_the_batch(frame, text):
    cond = conditions.parse(text)
    batch = cond.mask(frame)
    single = np.concatenate([cond.mask(one) for one in one_at_a_time(frame)])
    np.testing.assert_array_equal(single, batch)
    inside = []
    for one in one_at_a_time(frame):
        with schema.shared_encoding(one):
            inside.append(cond.mask(one))
    np.testing.assert_array_equal(np.concatenate(inside), batch)


def test_condition_on_text_numbers_and_missing_column_as_the_batch(frame):
    text_frame = frame.astype({"tenure": str, "TotalCharges": object})
    for expr in ("tenure < 12", "TotalCharges == 0", 'Contract in ["One year"]'):
        cond = conditions.parse(expr)
        np.testing.assert_array_equal(
            np.concatenate([cond.mask(one) for one in one_at_a_time(text_frame)]),
            cond.mask(text_frame))
    cond = conditions.parse('Contract == "Two year"')
    with pytest.raises(ValueError) as batch_err:
        cond.mask(frame.drop(columns="Contract"))
    with pytest.raises(ValueError) as one_err:
        cond.mask(frame.drop(columns="Contract").iloc[[0]])
    assert str(one_err.value) == str(batch_err.value) == (
        "Condition 'Contract == \"Two year\"' reads column(s) Contract that the frame does not "
        "have; pass a canonical customer frame")


def test_catalogue_applicable_one_customer_equals_the_batch(frame):
    catalogue = offers.load_catalogue()
    batch = catalogue.applicable(frame)
    single = pd.concat([catalogue.applicable(one) for one in one_at_a_time(frame)])
    pd.testing.assert_frame_equal(single, batch)


# --- the model's input and the explanation ----------------------------------------------------
def test_check_frame_one_customer_equals_the_batch(frame):
    for one in one_at_a_time(frame):
        pd.testing.assert_frame_equal(_check_frame(one, "x"), _check_frame(frame, "x").loc[
            one.index])
    bad = frame.copy()
    bad.loc[5, "Contract"] = "Weekly"
    msg = ("contributions: column Contract has values the model does not know: 'Weekly'. "
           "Validate the file with churn.validate first.")
    for df in (bad, bad.iloc[[5]]):
        with pytest.raises(ValueError) as err:
            _check_frame(df, "contributions")
        assert str(err.value) == msg
    blank = frame.astype({"tenure": float})
    blank.loc[3, "tenure"] = np.nan
    for df in (blank, blank.iloc[[3]]):
        with pytest.raises(ValueError, match=r"^x: column\(s\) tenure have blank values"):
            _check_frame(df, "x")


def test_explanation_values_one_customer_equal_the_batch(frame):
    model = LinearChurnModel().fit(make_customers(300, seed=2))
    batch = explain.explain(model, frame)
    for i, one in enumerate(one_at_a_time(frame)):
        e = explain.explain(model, one)
        pd.testing.assert_frame_equal(e.values, batch.values.iloc[[i]])
        assert e.ids.tolist() == batch.ids[[i]].tolist()
    e = explain.explain(model, frame.iloc[[0]])
    e.values.iloc[0, 0] = "changed"                             # its own copy, not the input's
    assert frame.iloc[0, 1] != "changed"


# --- out-of-fold look-up ------------------------------------------------------------------------
def test_out_of_fold_one_customer_equals_the_batch(frame):
    training = frame.iloc[:30]
    oof = pd.Series(np.linspace(0.05, 0.95, 30), index=training[schema.ID])
    lookup = population.TrainingLookup(training, oof)
    query = frame.copy()
    query.loc[2, "tenure"] = query.loc[2, "tenure"] + 1          # changed since training: no OOF
    query.loc[3, "Contract"] = "Two year" if query.loc[3, "Contract"] != "Two year" else \
        "One year"
    batch = lookup.out_of_fold(query)
    assert np.isnan(batch[[2, 3]]).all() and np.isfinite(batch[:2]).all()
    assert np.isnan(batch[30:]).all()                             # never trained on
    single = np.concatenate([lookup.out_of_fold(one) for one in one_at_a_time(query)])
    np.testing.assert_array_equal(single, batch)


# --- rule part of the ranking ------------------------------------------------------------------
def test_candidate_matrix_few_rows_equals_the_sorted_path():
    ids = pd.Index(["A", "B", "C"], name=schema.ID)
    offer_ids = pd.Index(["o1", "o2", "o3"])
    cand = pd.DataFrame({
        schema.ID: ["A", "A", "B", "A", "C", "Z"],
        "offer_id": ["o1", "o2", "o1", "o1", "o9", "o1"],
        "driver_pp": [2.0, 5.0, 1.0, 7.0, 3.0, 4.0],              # A/o1 twice: 7.0 wins
        "reason": ["weak", "mid", "b", "strong", "unknown offer", "unknown customer"]})
    few = campaign._candidate_matrix(cand, ids, offer_ids)
    assert campaign._few_candidates(cand, ids, offer_ids, schema.ID, "driver_pp") is not None
    # the general path: the same frame made too long for the shortcut
    long = pd.concat([cand] + [cand.iloc[[5]]] * schema.FEW_ROWS, ignore_index=True)
    assert campaign._few_candidates(long, ids, offer_ids, schema.ID, "driver_pp") is None
    general = campaign._candidate_matrix(long, ids, offer_ids)
    for a, b in zip(few, general):
        np.testing.assert_array_equal(a, b)
    assert few[1][0].tolist() == ["strong", "mid", ""]
    tied = cand.assign(driver_pp=1.0)                            # ties: the first row wins
    assert campaign._candidate_matrix(tied, ids, offer_ids)[1][0, 0] == "weak"
    nan = cand.assign(driver_pp=[np.nan, 5.0, 1.0, 7.0, 3.0, 4.0])
    assert campaign._few_candidates(nan, ids, offer_ids, schema.ID, "driver_pp") is None


def test_rule_candidates_and_ranking_one_customer_equal_the_batch(frame):
    catalogue = offers.load_catalogue()
    model = LinearChurnModel().fit(make_customers(300, seed=2))
    expl = explain.explain(model, frame)
    batch = offers.rule_candidates(catalogue, frame, expl.pp, top_k=5)
    single = pd.concat([offers.rule_candidates(catalogue, one, expl.pp.loc[one.index], top_k=5)
                        for one in one_at_a_time(frame)])
    assert len(batch) > 0
    pd.testing.assert_frame_equal(single, batch)

    rng = np.random.default_rng(3)
    p_accept = pd.DataFrame(rng.uniform(0.05, 0.9, (len(frame), len(catalogue.ids))),
                            columns=catalogue.ids, index=frame[schema.ID].to_numpy())
    clv = rng.uniform(100, 3000, len(frame))
    whole = campaign.rank_offers(frame, expl.prob, clv, p_accept, batch, catalogue, top_n=None)
    parts = []
    for i, one in enumerate(one_at_a_time(frame)):
        cand = batch[batch[schema.ID] == one[schema.ID].iloc[0]]
        parts.append(campaign.rank_offers(one, expl.prob[[i]], clv[[i]], p_accept.iloc[[i]],
                                          cand, catalogue, top_n=None))
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
