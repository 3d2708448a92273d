"""Campaigns over stored inputs (churn.campaign_store) equal campaigns over the frame.

The stored path chooses its eligible customers in SQL and fetches the chosen rows' text
afterwards; the frame path is `campaign.build_campaign`. Both are compared, list and settings,
on a real (small) engine, for filters, budgets, control shares and seeds, with the inputs saved
in chunks that do not divide the customers evenly.
"""
from __future__ import annotations

import pandas as pd
import pytest

from churn import campaign as C
from churn import campaign_store as CS
from churn.campaign_ranking import PreparedRanking
from churn.config import BusinessSettings
from churn.population import active
from churn.store import Store


@pytest.fixture(scope="module")
def engine():
    from _explain_fakes import fake_engine

    return fake_engine(600, 300)


@pytest.fixture(scope="module")
def customers(engine):
    people = engine.customers.copy()
    assert people["Churn"].sum() > 40                   # some have left: never targeted
    return people


@pytest.fixture(scope="module")
def reference(engine, customers):
    scored, ranked = C.campaign_inputs(engine, active(customers).reset_index(drop=True),
                                       BusinessSettings())
    return scored, ranked


@pytest.fixture(scope="module")
def stored(engine, customers, tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("campaign-store") / "store.duckdb")
    calls = []
    found = CS.save(store, "batch", "key-1", engine, customers, BusinessSettings(),
                    chunk_rows=97, progress=lambda done, total: calls.append((done, total)))
    n = len(active(customers))
    assert n < len(customers)
    assert calls[-1] == (n, n) and len(calls) == -(-n // 97)
    yield found
    store.close()


def _offer_ids(ranked):
    return sorted(ranked["offer_id"].unique())


CASES = [
    dict(),
    dict(tiers=["High"]),
    dict(tiers=["High", "Medium"], min_clv=400.0),
    dict(tiers=[]),
    dict(segment={"Contract": ["Month-to-month"]}),
    dict(segment={"SeniorCitizen": [1]}),
    dict(segment={"InternetService": []}),
    dict(offers_allowed="first-two"),
    dict(offers_allowed="none"),
    dict(min_clv=10_000_000.0),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("budget,share,seed", [(0.0, 0.1, 0), (750.0, 0.1, 0),
                                               (5_000.0, 0.0, 3), (5_000.0, 0.3, 7),
                                               (1e9, 0.5, 1)])
def test_stored_campaign_equals_the_frame_campaign(stored, reference, case, budget, share, seed):
    scored, ranked = reference
    kwargs = dict(CASES[case])
    if kwargs.get("offers_allowed") == "first-two":
        kwargs["offers_allowed"] = _offer_ids(ranked)[:2]
    elif kwargs.get("offers_allowed") == "none":
        kwargs["offers_allowed"] = []
    want = C.build_campaign(scored, ranked, budget, control_share=share, seed=seed,
                            model_version="v1", **kwargs)
    got = stored.campaign(budget, control_share=share, seed=seed, model_version="v1", **kwargs)
    pd.testing.assert_frame_equal(got.rows, want.rows)
    assert got.settings == want.settings
    curve_want = C.saved_revenue_curve(scored, ranked, None, control_share=share, seed=seed,
                                       **kwargs)
    pd.testing.assert_frame_equal(stored.curve(None, control_share=share, seed=seed, **kwargs),
                                  curve_want)


def test_the_cases_are_not_empty(reference):
    """The equality above means something: the unfiltered campaign has both groups."""
    scored, ranked = reference
    camp = C.build_campaign(scored, ranked, 5_000.0, control_share=0.3, seed=7)
    assert camp.treated > 20 and camp.held_out > 5


def test_the_prepared_ranking_gives_the_same_campaign_and_curve(stored, reference):
    scored, ranked = reference
    prepared = PreparedRanking.build(scored, ranked)
    kw = dict(tiers=["High", "Medium"], control_share=0.2, seed=4)
    e = prepared.eligible(C.normalise_filters(["High", "Medium"], None, 0.0, None))
    a = prepared.campaign(2_000.0, eligible=e, **kw)
    b = stored.campaign(2_000.0, eligible=stored.eligible(
        C.normalise_filters(["High", "Medium"], None, 0.0, None)), **kw)
    pd.testing.assert_frame_equal(a.rows, b.rows)
    pd.testing.assert_frame_equal(prepared.curve(None, **kw), stored.curve(None, **kw))


def test_top3_customer_ids_and_segment_values_match_the_frame(stored, reference):
    scored, ranked = reference
    prepared = PreparedRanking.build(scored, ranked)
    assert stored.customers == prepared.customers == len(scored)
    assert stored.customer_ids(25) == prepared.customer_ids(25)
    for cid in scored["customerID"].iloc[[0, 7, 311]]:
        want = prepared.top3(cid).reset_index(drop=True)
        got = stored.top3(cid)
        assert list(got["offer_id"]) == list(want["offer_id"])
        pd.testing.assert_series_equal(got["expected_net_value"], want["expected_net_value"])
    assert stored.top3("no-such-customer").empty
    plain = {c: sorted(map(str, v)) for c, v in prepared.segment_values().items()}
    assert stored.segment_values() == plain


def test_missing_inputs_open_as_none(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        assert CS.StoredCampaign.open(store, "batch", "key-1") is None
    finally:
        store.close()


def test_bad_chunk_size_and_segment_column_are_named(stored, engine, customers, tmp_path):
    with pytest.raises(ValueError, match=r"^chunk_rows=0: expected a whole number of "
                                         r"customers >= 1\.$"):
        CS.save(None, "b", "k", engine, customers, chunk_rows=0)
    with pytest.raises(ValueError, match=r"^segment column 'tenure' is not one a campaign can "
                                         r"be limited to; expected one of \['Contract', "):
        stored.campaign(100.0, segment={"tenure": [1]})


def test_the_inputs_key_follows_the_model_the_settings_and_the_catalogue():
    base = CS.inputs_key("abc", BusinessSettings(), "cat-1")
    assert base == CS.inputs_key("abc", BusinessSettings(), "cat-1")
    assert base.startswith(f"v{CS.LAYOUT}:abc:")
    others = {CS.inputs_key("abd", BusinessSettings(), "cat-1"),
              CS.inputs_key("abc", BusinessSettings(margin=0.5), "cat-1"),
              CS.inputs_key("abc", BusinessSettings(), "cat-2")}
    assert base not in others and len(others) == 3
