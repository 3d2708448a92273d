"""churn.campaign_ranking: the smaller rankings give exactly the campaigns and saved-revenue
curves of the full ranking (checked by building both), and the top-3 index finds each
customer's offers as a plain filter of the full ranking does."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _explain_fakes import trained_data_dir  # noqa: E402

from churn import campaign as C, config, population, schema  # noqa: E402
from churn.campaign_ranking import PreparedRanking  # noqa: E402
from churn.scoring import Engine  # noqa: E402
from churn.validate import load_customers  # noqa: E402


@pytest.fixture(scope="module")
def full():
    p = config.paths(trained_data_dir())
    customers = population.active(load_customers(p.customers_csv)).head(1500)
    customers = customers.reset_index(drop=True)
    return C.campaign_inputs(Engine.load(p), customers)


@pytest.fixture(scope="module")
def prepared(full):
    return PreparedRanking.build(*full)


def _same(a: C.Campaign, b: C.Campaign) -> None:
    pd.testing.assert_frame_equal(a.rows.reset_index(drop=True), b.rows.reset_index(drop=True))
    assert a.spent == pytest.approx(b.spent)
    assert a.expected_saved_revenue == pytest.approx(b.expected_saved_revenue)


def test_smaller_rankings_hold_what_they_promise(full, prepared):
    _, ranked = full
    assert (prepared.positive["expected_net_value"] > 0).all()
    assert len(prepared.positive) == int((ranked["expected_net_value"] > 0).sum())
    # best: one row per customer with a positive offer, the lowest rank among those
    want = (ranked[ranked["expected_net_value"] > 0].groupby(schema.ID)["rank"].min())
    got = prepared.best.set_index(schema.ID)["rank"]
    assert got.sort_index().to_dict() == want.sort_index().to_dict()
    assert len(prepared.best) < len(prepared.positive) < len(ranked)


@pytest.mark.parametrize("budget", [0.0, 500.0, 5_000.0, 1e9])
@pytest.mark.parametrize("filters", [
    {},
    {"tiers": ["High"], "min_clv": 200.0},
    {"offers_allowed": None, "control_share": 0.2, "seed": 3},
])
def test_every_offer_allowed_gives_the_full_rankings_campaign(full, prepared, budget, filters):
    scored, ranked = full
    small = prepared.ranking_for(filters.get("offers_allowed"))
    assert small is prepared.best
    _same(C.build_campaign(scored, small, budget, **filters),
          C.build_campaign(scored, ranked, budget, **filters))


@pytest.mark.parametrize("budget", [300.0, 3_000.0, 1e9])
def test_an_offer_filter_gives_the_full_rankings_campaign(full, prepared, budget):
    scored, ranked = full
    offers = sorted(ranked["offer_id"].unique())
    for allowed in (offers[:1], offers[1:3], offers):
        small = prepared.ranking_for(allowed)
        assert small is prepared.positive
        _same(C.build_campaign(scored, small, budget, offers_allowed=allowed),
              C.build_campaign(scored, ranked, budget, offers_allowed=allowed))


def test_saved_revenue_curves_agree(full, prepared):
    scored, ranked = full
    budgets = np.linspace(0, 20_000, 9)
    for allowed in (None, sorted(ranked["offer_id"].unique())[:2]):
        pd.testing.assert_frame_equal(
            C.saved_revenue_curve(scored, prepared.ranking_for(allowed), budgets,
                                  offers_allowed=allowed),
            C.saved_revenue_curve(scored, ranked, budgets, offers_allowed=allowed))


def test_top3_is_the_customers_first_three_offers(full, prepared):
    _, ranked = full
    for cid in ranked[schema.ID].drop_duplicates().head(50):
        want = ranked[(ranked[schema.ID] == cid) & (ranked["rank"] <= 3)].sort_values("rank")
        got = prepared.top3(cid)
        assert got["offer_id"].tolist() == want["offer_id"].tolist()
        assert got["rank"].tolist() == list(range(1, len(want) + 1))
    assert prepared.top3("no-such-customer").empty
