"""Tests for churn.campaign: hybrid ranking, budgeted campaign, safe exports, persistence."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from churn import campaign as C
from churn import schema
from churn.offers import parse_catalogue

CATALOGUE_TOML = """
[[offer]]
id = "upgrade"
name = "Contract upgrade"
description = "d"
cost = 100.0
risk_reduction = 0.5
applies_when = 'Contract == "Month-to-month"'

[[offer]]
id = "support"
name = "Tech support trial"
description = "d"
cost = 20.0
risk_reduction = 0.2
applies_when = 'TechSupport == "No"'

[[offer]]
id = "credit"
name = "Loyalty credit"
description = "d"
cost = 50.0
risk_reduction = 0.1
applies_when = "always"

[[rule]]
when = 'Contract == "Month-to-month"'
offers = ["upgrade"]

[[rule]]
when = 'TechSupport == "No"'
offers = ["support"]
"""

IDS = ["0001-AAAAA", "0002-BBBBB", "0003-CCCCC", "0004-DDDDD"]


@pytest.fixture(scope="module")
def catalogue():
    return parse_catalogue(CATALOGUE_TOML)


def _customers() -> pd.DataFrame:
    """Four hand-made canonical customers."""
    rows = [
        # id, contract, techsupport, internet
        (IDS[0], "Month-to-month", "No", "Fiber optic"),
        (IDS[1], "One year", "No", "DSL"),
        (IDS[2], "Two year", schema.NO_INTERNET, "No"),
        (IDS[3], "Month-to-month", "Yes", "DSL"),
    ]
    base = {"gender": "Female", "SeniorCitizen": 0, "Partner": "No", "Dependents": "No",
            "tenure": 10, "PhoneService": "Yes", "MultipleLines": "No", "OnlineSecurity": "No",
            "OnlineBackup": "No", "DeviceProtection": "No", "StreamingTV": "No",
            "StreamingMovies": "No", "PaperlessBilling": "Yes",
            "PaymentMethod": "Electronic check", "MonthlyCharges": 70.0, "TotalCharges": 700.0}
    df = pd.DataFrame([dict(base, customerID=i, Contract=c, TechSupport=t, InternetService=s)
                       for i, c, t, s in rows])
    return schema.enforce_dependencies(df)[[c for c in schema.FILE_COLUMNS if c != "Churn"]]


PROB = np.array([0.8, 0.5, 0.1, 0.6])
CLV = np.array([1000.0, 2000.0, 500.0, 1500.0])
P_ACCEPT = pd.DataFrame({"upgrade": [0.5, 0.4, 0.3, 0.2], "support": [0.6, 0.5, 0.4, 0.3],
                         "credit": [0.9, 0.8, 0.7, 0.6]})


def _candidates() -> pd.DataFrame:
    return pd.DataFrame({
        "customerID": [IDS[0], IDS[0], IDS[1], IDS[3]],
        "offer_id": ["upgrade", "support", "support", "upgrade"],
        "offer_name": ["Contract upgrade", "Tech support trial", "Tech support trial",
                       "Contract upgrade"],
        "driver": ["Contract", "TechSupport", "TechSupport", "Contract"],
        "driver_pp": [12.0, 5.0, 4.0, 9.0],
        "reason": ["Contract is Month-to-month: adds 12.0 points", "Tech support is No: adds 5.0",
                   "Tech support is No: adds 4.0", "Contract is Month-to-month: adds 9.0 points"],
    })


@pytest.fixture(scope="module")
def ranked(catalogue):
    return C.rank_offers(_customers(), PROB, CLV, P_ACCEPT, _candidates(), catalogue, top_n=None)


def _scored() -> pd.DataFrame:
    return pd.DataFrame({"customerID": IDS, "churn_prob": PROB,
                         "risk_tier": ["High", "High", "Low", "High"], "clv": CLV,
                         "revenue_at_risk": PROB * CLV,
                         "Contract": ["Month-to-month", "One year", "Two year", "Month-to-month"]})


# --- ranking -------------------------------------------------------------------------------------
def test_net_value_formula_by_hand(ranked):
    r = ranked.set_index([C.ID, "offer_id"])
    # customer 1, upgrade: 0.8 × 0.5 × 0.5 × 1000 = 200 saved; − 100 cost = 100 net
    assert r.loc[(IDS[0], "upgrade"), "expected_saved_value"] == pytest.approx(200.0)
    assert r.loc[(IDS[0], "upgrade"), "expected_net_value"] == pytest.approx(100.0)
    assert r.loc[(IDS[0], "upgrade"), "ranking_score"] == pytest.approx(100.0)  # rule-backed
    # customer 1, credit (no rule): 0.8 × 0.9 × 0.1 × 1000 = 72 saved; net −(50 − 72) = 22
    assert r.loc[(IDS[0], "credit"), "expected_saved_value"] == pytest.approx(72.0)
    assert r.loc[(IDS[0], "credit"), "expected_net_value"] == pytest.approx(22.0)
    # ranking score discounts the saved value of unproposed offers: 0.8 × 72 − 50 = 7.6
    assert r.loc[(IDS[0], "credit"), "ranking_score"] == pytest.approx(7.6)
    # customer 2, support: 0.5 × 0.5 × 0.2 × 2000 = 100; − 20 = 80
    assert r.loc[(IDS[1], "support"), "expected_net_value"] == pytest.approx(80.0)


def test_only_applicable_offers_are_ranked(ranked):
    offers = ranked.groupby(C.ID)["offer_id"].apply(set).to_dict()
    assert offers == {IDS[0]: {"upgrade", "support", "credit"}, IDS[1]: {"support", "credit"},
                      IDS[2]: {"credit"}, IDS[3]: {"upgrade", "credit"}}
    assert list(ranked.columns) == C.RANKED_COLUMNS + C.UPLIFT_COLUMNS


def test_rule_part_and_collaborative_part(ranked):
    r = ranked.set_index([C.ID, "offer_id"])
    assert bool(r.loc[(IDS[0], "upgrade"), "from_rules"])
    assert r.loc[(IDS[0], "upgrade"), "rule_reason"] == "Contract is Month-to-month: adds 12.0 points"
    assert not bool(r.loc[(IDS[0], "credit"), "from_rules"])
    assert r.loc[(IDS[0], "credit"), "rule_reason"] == ""
    assert r.loc[(IDS[0], "credit"), "p_accept"] == pytest.approx(0.9)


def test_ranks_follow_ranking_score(ranked):
    for _, g in ranked.groupby(C.ID):
        assert list(g["rank"]) == list(range(1, len(g) + 1))
        assert (np.diff(g["ranking_score"].to_numpy()) <= 0).all()
    # customer order is the input order
    assert list(pd.unique(ranked[C.ID])) == IDS


def test_tie_goes_to_rule_backed_offer(catalogue):
    cust = _customers().iloc[[0]]
    # support (rule) and credit (no rule), equal unweighted net value:
    # support: pa_s·0.2·1000 − 20; credit: pa_c·0.1·1000 − 50  → pa_s = 0.35, pa_c = 1.0 → 50 each
    pa = pd.DataFrame({"upgrade": [0.0], "support": [0.35], "credit": [1.0]})
    cand = _candidates().iloc[[1]]
    r = C.rank_offers(cust, [1.0], [1000.0], pa, cand, catalogue, top_n=None,
                      unproposed_weight=1.0)
    net = r.set_index("offer_id")["expected_net_value"]
    assert net["support"] == pytest.approx(net["credit"])
    assert r["offer_id"].tolist()[:2] == ["support", "credit"]
    # without the rule, equal value goes to the cheaper offer (support, $20)
    r = C.rank_offers(cust, [1.0], [1000.0], pa, None, catalogue, top_n=None,
                      unproposed_weight=1.0)
    assert r["offer_id"].tolist()[:2] == ["support", "credit"]
    assert not r["from_rules"].any()


def test_unproposed_weight_can_change_the_order(catalogue):
    cust = _customers().iloc[[0]]
    # credit (no rule) net 60 vs support (rule) net 50: weight 1 → credit first;
    # weight 0.8 → credit score 0.8·110 − 50 = 38 < 50 → support first
    pa = pd.DataFrame({"upgrade": [0.0], "support": [0.35], "credit": [1.1]})
    cand = _candidates().iloc[[1]]
    first = C.rank_offers(cust, [1.0], [1000.0], pa, cand, catalogue, unproposed_weight=1.0)
    assert first["offer_id"].iloc[0] == "credit"
    second = C.rank_offers(cust, [1.0], [1000.0], pa, cand, catalogue)
    assert second["offer_id"].iloc[0] == "support"
    assert second.set_index("offer_id").loc["credit", "ranking_score"] == pytest.approx(38.0)


def test_rule_candidate_for_inapplicable_offer_is_ignored(catalogue):
    cust = _customers()
    cand = pd.DataFrame({"customerID": [IDS[1]], "offer_id": ["upgrade"], "driver_pp": [3.0],
                         "reason": ["x"]})  # customer 2 has a one-year contract
    r = C.rank_offers(cust, PROB, CLV, P_ACCEPT, cand, catalogue, top_n=None)
    assert "upgrade" not in set(r.loc[r[C.ID] == IDS[1], "offer_id"])


def test_strongest_driver_reason_is_kept(catalogue):
    cand = pd.DataFrame({"customerID": [IDS[0], IDS[0]], "offer_id": ["support", "support"],
                         "driver_pp": [2.0, 7.0], "reason": ["weak", "strong"]})
    r = C.rank_offers(_customers(), PROB, CLV, P_ACCEPT, cand, catalogue, top_n=None)
    row = r[(r[C.ID] == IDS[0]) & (r["offer_id"] == "support")]
    assert row["rule_reason"].tolist() == ["strong"]


def test_top_n_and_best_offer(catalogue, ranked):
    top1 = C.rank_offers(_customers(), PROB, CLV, P_ACCEPT, _candidates(), catalogue, top_n=1)
    assert len(top1) == 4 and (top1["rank"] == 1).all()
    best = C.best_offer(ranked)
    assert best[C.ID].tolist() == IDS
    pd.testing.assert_frame_equal(best, top1)
    assert best.set_index(C.ID).loc[IDS[0], "offer_id"] == "upgrade"


def test_p_accept_aligned_by_customer_id(catalogue, ranked):
    shuffled = P_ACCEPT.set_axis(IDS).iloc[[3, 1, 0, 2]]
    r = C.rank_offers(_customers(), PROB, CLV, shuffled, _candidates(), catalogue, top_n=None)
    pd.testing.assert_frame_equal(r, ranked)


def test_cold_start_customers_get_offers(catalogue):
    """Customers with no offer history still have a P(accept) for every offer (the recommender's
    cold start), so every customer with an applicable offer is ranked."""
    cust = _customers()
    cold = pd.DataFrame(np.full((4, 3), 0.25), columns=["upgrade", "support", "credit"])
    r = C.rank_offers(cust, PROB, CLV, cold, None, catalogue)
    assert set(r[C.ID]) == set(IDS)
    assert (r["p_accept"] == 0.25).all()


def test_rank_offers_errors(catalogue):
    cust = _customers()
    with pytest.raises(ValueError, match=r"^p_accept has no column for offer\(s\) \['credit'\]; "
                                         r"was the recommender fitted on an older catalogue\? "
                                         r"Refit it on the current offers\.$"):
        C.rank_offers(cust, PROB, CLV, P_ACCEPT.drop(columns="credit"), None, catalogue)
    with pytest.raises(ValueError, match=r"^churn_prob has 3 values for 4 customers; pass one "
                                         r"value per row of `customers`, in the same order\.$"):
        C.rank_offers(cust, PROB[:3], CLV, P_ACCEPT, None, catalogue)
    with pytest.raises(ValueError, match=r"^churn_prob must be probabilities between 0 and 1\.$"):
        C.rank_offers(cust, PROB * 2, CLV, P_ACCEPT, None, catalogue)
    bad = P_ACCEPT.copy()
    bad.iloc[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"^p_accept has missing values \(NaN\)"):
        C.rank_offers(cust, PROB, CLV, bad, None, catalogue)
    dup = cust.copy()
    dup.loc[1, C.ID] = IDS[0]
    with pytest.raises(ValueError, match=r"^customers has duplicate customerID values "
                                         r"\['0001-AAAAA'\]; validate the file first"):
        C.rank_offers(dup, PROB, CLV, P_ACCEPT, None, catalogue)
    with pytest.raises(ValueError, match=r"^top_n=0 must be a whole number ≥ 1, or None"):
        C.rank_offers(cust, PROB, CLV, P_ACCEPT, None, catalogue, top_n=0)
    with pytest.raises(ValueError, match=r"^candidates is missing column\(s\) \['reason'\]"):
        C.rank_offers(cust, PROB, CLV, P_ACCEPT, _candidates().drop(columns="reason"), catalogue)


def test_rank_offers_ranks_100k_customers(catalogue):
    """Its speed is the benchmark `rank_build_100k` (bench/bench_campaign.py), not a timed test."""
    n = 100_000
    rng = np.random.default_rng(1)
    cust = pd.concat([_customers()] * (n // 4), ignore_index=True)
    cust[C.ID] = [f"{i:06d}-X" for i in range(n)]
    pa = pd.DataFrame(rng.uniform(0, 1, (n, 3)), columns=["upgrade", "support", "credit"])
    r = C.rank_offers(cust, rng.uniform(0, 1, n), rng.uniform(0, 3000, n), pa, None, catalogue)
    assert r[C.ID].nunique() == n


# --- campaign ------------------------------------------------------------------------------------
def _reference_greedy(eligible_cost, budget):
    """Plain-python greedy walk in order: take what fits, skip what does not (in cents)."""
    left = round(budget * 100)
    take = []
    for c in eligible_cost:
        c = round(c * 100)
        take.append(c <= left)
        if c <= left:
            left -= c
    return np.array(take, dtype=bool)


def test_campaign_by_hand(ranked):
    camp = C.build_campaign(_scored(), ranked, 1000.0, control_share=0)
    rows = camp.rows
    assert list(rows.columns) == C.CAMPAIGN_COLUMNS
    # best positive offers: c1 upgrade (net 100, cost 100 → 1.0/$), c2 support (80/20 → 4.0/$),
    # c3 credit: 0.1·0.7·0.1·500 − 50 < 0 → none, c4 upgrade: 0.6·0.2·0.5·1500 − 100 = −10 → rank 2
    # credit: 0.6·0.6·0.1·1500 − 50 = 4 (4/50 = 0.08/$)
    assert rows[C.ID].tolist() == [IDS[1], IDS[0], IDS[3]]
    assert rows["offer_id"].tolist() == ["support", "upgrade", "credit"]
    assert rows["expected_net_value"].tolist() == pytest.approx([80.0, 100.0, 4.0])
    assert rows["cumulative_cost"].tolist() == [20.0, 120.0, 170.0]
    assert camp.spent == 170.0
    assert camp.expected_net_value == pytest.approx(184.0)
    assert camp.expected_saved_revenue == pytest.approx(100.0 + 200.0 + 54.0)
    assert rows["reason"].tolist() == [
        "Tech support is No: adds 4.0",
        "Contract is Month-to-month: adds 12.0 points",
        "No rule proposed it; likely to be accepted (P(accept) 60%)"]
    assert camp.settings["budget"] == 1000.0
    assert camp.settings["method"] == C.GREEDY_RULE


def test_budget_skips_what_does_not_fit_and_continues(ranked):
    # budget 60: support (20) fits, upgrade (100) does not, credit (50) does not (40 left)
    camp = C.build_campaign(_scored(), ranked, 60.0, control_share=0)
    assert camp.rows["offer_id"].tolist() == ["support"]
    # budget 75: support (20), upgrade skipped, credit (50) fits → 70
    camp = C.build_campaign(_scored(), ranked, 75.0, control_share=0)
    assert camp.rows["offer_id"].tolist() == ["support", "credit"]
    assert camp.spent == 70.0
    assert C.build_campaign(_scored(), ranked, 0, control_share=0).rows.empty


def test_filters(ranked):
    scored = _scored()
    camp = C.build_campaign(scored, ranked, 1000, tiers=["High"], segment={"Contract": ["Month-to-month"]}, control_share=0)
    assert camp.rows[C.ID].tolist() == [IDS[0], IDS[3]]
    camp = C.build_campaign(scored, ranked, 1000, min_clv=1200, control_share=0)
    assert sorted(camp.rows[C.ID]) == [IDS[1], IDS[3]]
    # offers_allowed: without upgrade, customer 1 falls back to their next positive offer
    camp = C.build_campaign(scored, ranked, 1000, offers_allowed=["credit", "support"], control_share=0)
    got = dict(zip(camp.rows[C.ID], camp.rows["offer_id"]))
    assert got == {IDS[0]: "support", IDS[1]: "support", IDS[3]: "credit"}
    assert camp.settings["offers_allowed"] == ["credit", "support"]
    assert camp.settings["tiers"] is None
    camp = C.build_campaign(scored, ranked, 1000, tiers=["Low"], control_share=0)
    assert camp.rows.empty and camp.spent == 0.0
    with pytest.raises(ValueError, match=r"^segment column 'Region' is not in the scored frame; "
                                         r"add the customer columns to it before filtering"):
        C.build_campaign(scored, ranked, 1000, segment={"Region": ["North"]}, control_share=0)
    with pytest.raises(ValueError, match=r"^budget=-5 must be a dollar amount of 0 or more\.$"):
        C.build_campaign(scored, ranked, -5, control_share=0)
    with pytest.raises(ValueError, match=r"^budget='lots' must be a number of dollars\.$"):
        C.build_campaign(scored, ranked, "lots", control_share=0)


def _random_case(rng, n):
    ids = [f"{i:05d}-R" for i in range(n)]
    offer_ids = ["a", "b", "c", "d"]
    costs = rng.choice([0.0, 7.5, 20.0, 33.33, 120.0], size=len(offer_ids))
    rows = []
    for i in ids:
        k = rng.integers(1, 5)
        for rank, o in enumerate(rng.choice(offer_ids, size=k, replace=False), start=1):
            j = offer_ids.index(o)
            saved = float(rng.uniform(0, 150))
            rows.append({C.ID: i, "rank": rank, "offer_id": o, "offer_name": o.upper(),
                         "offer_cost": costs[j], "p_accept": 0.5, "rule_reason": "",
                         "from_rules": False, "expected_saved_value": saved,
                         "expected_net_value": saved - costs[j], "ranking_score": 0.0})
    ranked = pd.DataFrame(rows)
    prob = rng.uniform(0, 1, n)
    scored = pd.DataFrame({C.ID: ids, "churn_prob": prob,
                           "risk_tier": np.where(prob > 0.5, "High", "Low"),
                           "clv": rng.uniform(0, 3000, n), "revenue_at_risk": rng.uniform(0, 100, n)})
    return scored, ranked


def test_budget_never_exceeded_randomized():
    rng = np.random.default_rng(7)
    for trial in range(60):
        scored, ranked = _random_case(rng, int(rng.integers(1, 60)))
        budget = float(np.round(rng.uniform(0, 1500), 2))
        camp = C.build_campaign(scored, ranked, budget, control_share=0)
        rows = camp.rows
        assert camp.spent <= budget + 1e-9
        assert rows["offer_cost"].sum() <= budget + 1e-6
        assert (rows["expected_net_value"] > 0).all()
        assert rows[C.ID].is_unique
        # greedy order: value per dollar never increases down the list
        # (free offers first; rows hold net values rounded to cents, hence the tolerance)
        cost = rows["offer_cost"].to_numpy()
        free = cost == 0
        assert not (np.diff(free.astype(int)) > 0).any()
        ratio = rows["expected_net_value"].to_numpy()[~free] / cost[~free]
        tol = 0.005 / cost[~free]
        assert (np.diff(ratio) <= tol[:-1] + tol[1:]).all()
        # same selection as a plain-python greedy walk over every eligible customer
        everyone = C.build_campaign(scored, ranked, 1e9, control_share=0).rows
        take = _reference_greedy(everyone["offer_cost"], budget)
        assert rows[C.ID].tolist() == everyone[C.ID][take].tolist(), trial
        # nothing left out fits in what is left of the budget
        left = budget - camp.spent
        skipped = everyone[~everyone[C.ID].isin(rows[C.ID])]
        assert (skipped["offer_cost"] > left + 1e-9).all()


def test_saved_revenue_curve_matches_campaigns():
    rng = np.random.default_rng(3)
    scored, ranked = _random_case(rng, 200)
    budgets = [0, 10, 55.5, 300, 1000, 5000, 1e6]
    curve = C.saved_revenue_curve(scored, ranked, budgets, control_share=0)
    assert list(curve.columns) == ["budget", "expected_saved_revenue", "customers"]
    for b, saved, n in curve.itertuples(index=False):
        camp = C.build_campaign(scored, ranked, b, control_share=0)
        assert saved == pytest.approx(camp.expected_saved_revenue)
        assert n == camp.customers
    assert (np.diff(curve["customers"]) >= 0).all()
    default = C.saved_revenue_curve(scored, ranked, tiers=["High"], control_share=0)
    assert len(default) == 41 and default["budget"].iloc[0] == 0.0
    assert default["customers"].iloc[-1] == C.build_campaign(scored, ranked, 1e9,
                                                             tiers=["High"], control_share=0).customers


def test_offers_mix(ranked):
    camp = C.build_campaign(_scored(), ranked, 1000.0, control_share=0)
    mix = C.offers_mix(camp)
    assert mix.to_dict("list") == {"offer": ["Contract upgrade", "Loyalty credit",
                                             "Tech support trial"],
                                   "customers": [1, 1, 1], "cost": [100.0, 50.0, 20.0]}
    empty = C.offers_mix(C.build_campaign(_scored(), ranked, 0, control_share=0))
    assert list(empty.columns) == ["offer", "customers", "cost"] and empty.empty


# --- exports -------------------------------------------------------------------------------------
@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_escape_formula_each_trigger(trigger):
    assert C.escape_formula(trigger + "HYPERLINK(\"x\")") == "'" + trigger + "HYPERLINK(\"x\")"


def test_escape_formula_leaves_safe_values():
    assert C.escape_formula("Loyalty credit") == "Loyalty credit"
    assert C.escape_formula("a=b") == "a=b"
    assert C.escape_formula("") == ""
    assert C.escape_formula(-12.5) == -12.5
    assert C.escape_formula(-3) == -3
    assert C.escape_formula(None) is None
    assert C.escape_formula("bell\x07") == "bell"
    assert C.escape_formula("\x01=1+1") == "'=1+1"


def _hostile_rows(ranked) -> pd.DataFrame:
    rows = C.build_campaign(_scored(), ranked, 1000.0, control_share=0).rows.copy()
    rows.loc[0, C.ID] = "=cmd|' /C calc'!A0"
    rows.loc[1, "reason"] = "+SUM(1,2)"
    rows.loc[2, "offer"] = "@risk\tname"
    rows.loc[2, "expected_net_value"] = -4.25
    return rows


def test_csv_round_trip_and_escaping(ranked):
    rows = _hostile_rows(ranked)
    data = C.to_csv_bytes(rows)
    back = C.read_export(data, "csv")
    pd.testing.assert_frame_equal(back, C.export_frame(rows))
    assert back.loc[0, C.ID] == "'=cmd|' /C calc'!A0"
    assert back.loc[1, "reason"] == "'+SUM(1,2)"
    assert back.loc[2, "offer"] == "'@risk\tname"
    assert back.loc[2, "expected_net_value"] == -4.25  # a number, untouched
    text = data.decode("utf-8")
    assert text.splitlines()[0] == ",".join(C.CAMPAIGN_COLUMNS)
    assert "\r" not in text and ",-4.25," in text
    # safe rows round-trip to exactly the original table
    clean = C.build_campaign(_scored(), ranked, 1000.0, control_share=0).rows
    pd.testing.assert_frame_equal(C.read_export(C.to_csv_bytes(clean), "csv"), clean)


def test_excel_round_trip_and_escaping(ranked):
    from openpyxl import load_workbook

    rows = _hostile_rows(ranked)
    data = C.to_excel_bytes(rows)
    back = C.read_export(data, "xlsx")
    # text cells are typed as text (never run as formulas), so they read back exactly as the
    # rows hold them (no apostrophe; only the control characters an .xlsx cannot hold are gone)
    from churn.spreadsheet import xlsx_text

    expected = rows.reset_index(drop=True).copy()
    for col in expected.columns:
        if expected[col].dtype == object:
            expected[col] = expected[col].map(lambda v: xlsx_text(v) if isinstance(v, str)
                                              else v).astype(object)
    pd.testing.assert_frame_equal(back, expected)
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == [C.EXCEL_HEADERS[c] for c in C.CAMPAIGN_COLUMNS]
    assert ws[1][0].value == "Customer ID" and "churn_prob" not in [c.value for c in ws[1]]
    assert ws["A2"].value == "=cmd|' /C calc'!A0" and ws["A2"].data_type == "s"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    net_col = C.CAMPAIGN_COLUMNS.index("expected_net_value") + 1
    assert ws.cell(row=4, column=net_col).value == -4.25
    assert ws.cell(row=4, column=net_col).data_type == "n"
    clean = C.build_campaign(_scored(), ranked, 1000.0, control_share=0).rows
    pd.testing.assert_frame_equal(C.read_export(C.to_excel_bytes(clean), "xlsx"), clean)


def test_excel_shows_percentages_and_dollars_and_keeps_the_values(ranked):
    """Issue 16: the Excel file showed 0.9294 instead of 92.9% and money without $."""
    from openpyxl import load_workbook

    rows = C.build_campaign(_scored(), ranked, 1000.0, control_share=0).rows
    ws = load_workbook(io.BytesIO(C.to_excel_bytes(rows))).active
    head = C.machine_headers(c.value for c in ws[1])
    prob = ws.cell(row=2, column=head.index("churn_prob") + 1)
    assert prob.number_format == "0.0%" and prob.value == rows["churn_prob"].iloc[0]
    for col in ("clv", "offer_cost", "expected_net_value", "cumulative_cost"):
        cell = ws.cell(row=2, column=head.index(col) + 1)
        assert cell.number_format == '"$"#,##0.00', col
        assert cell.value == pytest.approx(rows[col].iloc[0], abs=0), col
    assert ws.cell(row=2, column=head.index("risk_tier") + 1).number_format == "General"
    assert ws.freeze_panes == "B2"
    assert ws.column_dimensions["A"].width == 13


def test_exports_are_deterministic(ranked):
    rows = C.build_campaign(_scored(), ranked, 1000.0, control_share=0).rows
    assert C.to_csv_bytes(rows) == C.to_csv_bytes(rows.copy())
    a = C.to_excel_bytes(rows)
    z = zipfile.ZipFile(io.BytesIO(a))
    assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    core = z.read("docProps/core.xml").decode()
    assert core.count("2000-01-01T00:00:00Z") == 2
    assert a == C.to_excel_bytes(rows.copy())


def test_read_export_bad_kind():
    with pytest.raises(ValueError, match=r"^kind='pdf' must be 'csv' or 'xlsx'\.$"):
        C.read_export(b"", "pdf")


# --- persistence ---------------------------------------------------------------------------------
def test_saved_campaign_reopens_with_identical_downloads(ranked, tmp_path):
    from churn.config import BusinessSettings
    from churn.store import Store

    camp = C.build_campaign(_scored(), _hostile_ranked(ranked), 1000.0, tiers=["High"],
                            segment={"Contract": ["Month-to-month", "One year"]},
                            business_settings=BusinessSettings(), model_version="xgb-abc", control_share=0)
    store = Store(tmp_path / "store.duckdb")
    cid = C.save_campaign(store, camp, "May campaign")
    assert store.list_campaigns()[["id", "name", "rows"]].values.tolist() == [[cid, "May campaign",
                                                                               len(camp.rows)]]
    again = C.reopen_campaign(store, cid)
    pd.testing.assert_frame_equal(again.rows, camp.rows)
    assert again.settings == dict(camp.settings, date=again.settings["date"])
    assert len(again.settings["date"]) == 10  # YYYY-MM-DD, the day the offers are made
    assert again.settings["business_settings"]["margin"] == 0.6
    assert again.settings["model_version"] == "xgb-abc"
    assert C.to_csv_bytes(again.rows) == C.to_csv_bytes(camp.rows)
    assert C.to_excel_bytes(again.rows) == C.to_excel_bytes(camp.rows)
    assert again.spent == camp.spent and again.expected_net_value == camp.expected_net_value
    with pytest.raises(ValueError, match=r"^name must not be empty"):
        C.save_campaign(store, camp, "  ")


def _hostile_ranked(ranked):
    r = ranked.copy()
    r["rule_reason"] = r["rule_reason"].where(r["rule_reason"] == "", "=1+1 " + r["rule_reason"])
    return r


# --- composition and the command line ------------------------------------------------------------
@pytest.fixture(scope="module")
def engine():
    """A real `scoring.Engine` built from small, quickly fitted parts (`_explain_fakes.fake_engine`):
    customers 0..299 have offer history; 300..599 are cold-start customers."""
    from _explain_fakes import fake_engine

    return fake_engine(600, 300)


@pytest.fixture(scope="module")
def inputs(engine):
    from churn.config import BusinessSettings

    return C.campaign_inputs(engine, engine.customers, BusinessSettings())


def test_campaign_inputs(engine, inputs):
    scored, ranked = inputs
    n = len(engine.customers)
    assert scored[C.ID].tolist() == engine.customers[C.ID].tolist()
    for col in [C.ID, "churn_prob", "risk_tier", "clv", "revenue_at_risk", "Contract"]:
        assert col in scored.columns, col
    # every applicable offer is ranked (top_n=None), and every customer has one ("always" offer)
    applicable = engine.catalogue.applicable(engine.customers).to_numpy().sum()
    assert len(ranked) == applicable
    assert ranked[C.ID].nunique() == n
    # cold-start customers (no history) still get offers with a real P(accept)
    cold = set(engine.customers[C.ID].iloc[300:])
    r_cold = ranked[ranked[C.ID].isin(cold)]
    assert r_cold[C.ID].nunique() == 300
    assert r_cold["p_accept"].between(0, 1).all() and r_cold["p_accept"].nunique() > 10
    camp = C.build_campaign(scored, ranked, 5000.0, control_share=0)
    assert camp.rows[C.ID].isin(cold).any()
    assert camp.spent <= 5000.0
    # the campaign's saved value is the hand formula on the scored numbers
    row = camp.rows.iloc[0]
    s = scored.set_index(C.ID).loc[row[C.ID]]
    pa = engine.recommender.predict(engine.customers).set_axis(engine.customers[C.ID])
    red = engine.catalogue.offer(row["offer_id"]).risk_reduction
    hand = s["churn_prob"] * pa.loc[row[C.ID], row["offer_id"]] * red * s["clv"]
    assert row["expected_saved_value"] == pytest.approx(round(hand, 2), abs=0.006)
    assert row["expected_net_value"] == pytest.approx(round(hand - row["offer_cost"], 2), abs=0.006)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_cli_writes_the_core_campaigns_bytes(engine, tmp_path, monkeypatch, capsys, suffix):
    # (the page's own download against the CLI: tests/app/test_campaign_page.py,
    # test_cli_writes_the_bytes_the_pages_download_gives)
    from churn import cli, population
    from churn.config import BusinessSettings
    from churn.scoring import Engine

    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, paths=None, progress=None: engine))
    # a data folder of its own: with no active base there, the CLI acts on the engine's history
    # (the session's folder may hold a generated sample by the time this runs)
    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / f"campaign{suffix}"
    assert cli.main(["campaign", "--budget", "2500", "--out", str(out)]) == 0
    # the core campaign for the same customers (the active ones), settings and budget
    active = population.active(engine.customers)
    scored, ranked = C.campaign_inputs(engine, active, BusinessSettings())
    camp = C.build_campaign(scored, ranked, 2500, business_settings=BusinessSettings(),
                            model_version=engine.version)
    expected = C.to_csv_bytes(camp.rows) if suffix == ".csv" else C.to_excel_bytes(camp.rows)
    assert out.read_bytes() == expected
    assert len(camp.rows) > 0 and camp.held_out > 0
    # customers who have left are never on the list, and the output says what it used
    left = set(engine.customers.loc[engine.customers[schema.TARGET] == 1, C.ID])
    assert left and not left & set(camp.rows[C.ID])
    n, k = len(engine.customers), len(left)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"History (labelled): {n:,} customers, of whom {k:,} have left; risk "
                        f"figures and campaigns use the {n - k:,} still active.")
    assert f"({camp.treated:,} get the offer, {camp.held_out:,} held out as control)" in lines[1]


def test_cli_control_share_and_seed(engine, tmp_path, monkeypatch, capsys):
    from churn import cli
    from churn.scoring import Engine

    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, paths=None, progress=None: engine))
    a, b, c = (tmp_path / f"{x}.csv" for x in "abc")
    assert cli.main(["campaign", "--budget", "3000", "--control", "20%", "--seed", "4",
                     "--out", str(a)]) == 0
    assert cli.main(["campaign", "--budget", "3000", "--control", "0.2", "--seed", "4",
                     "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()
    rows = C.read_export(a.read_bytes())
    assert (rows["group"] == "control").mean() == pytest.approx(0.2, abs=0.05)
    capsys.readouterr()
    assert cli.main(["campaign", "--budget", "3000", "--control", "0", "--out", str(c)]) == 0
    assert capsys.readouterr().err.strip() == f"Warning: {C.NO_CONTROL_WARNING}"
    assert set(C.read_export(c.read_bytes())["group"]) == {"treatment"}
    with pytest.raises(SystemExit):
        cli.main(["campaign", "--budget", "10", "--control", "0.8", "--out", str(c)])
    assert "'0.8' must be between 0 and 0.5 (0% to 50%)." in capsys.readouterr().err


def test_cli_campaign_from_a_file_and_bad_arguments(engine, tmp_path, monkeypatch, capsys):
    from churn import cli, population
    from churn.config import BusinessSettings
    from churn.scoring import Engine

    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, paths=None, progress=None: engine))
    data = tmp_path / "some.csv"
    part = engine.customers.iloc[:120]
    schema.to_file_frame(part).to_csv(data, index=False)
    out = tmp_path / "c.csv"
    assert cli.main(["campaign", "--data", str(data), "--budget", "700", "--out", str(out)]) == 0
    scored, ranked = C.campaign_inputs(engine, population.active(part), BusinessSettings())
    camp = C.build_campaign(scored, ranked, 700)
    assert out.read_bytes() == C.to_csv_bytes(camp.rows)
    assert "Wrote" in capsys.readouterr().out
    assert cli.main(["campaign", "--budget", "10", "--out", str(tmp_path / "c.pdf")]) == 1
    assert capsys.readouterr().err.strip().endswith("the file name must end in .csv or .xlsx.")
    assert cli.main(["campaign", "--budget", "-1", "--out", str(out)]) == 1
    assert "the budget must be 0 or more dollars" in capsys.readouterr().err
    (tmp_path / "empty.csv").write_bytes(b"")
    assert cli.main(["campaign", "--data", str(tmp_path / "empty.csv"), "--budget", "10",
                     "--out", str(out)]) == 2


# --- control groups ------------------------------------------------------------------------------
def test_control_share_is_held_out_per_stratum_and_reproducible():
    rng = np.random.default_rng(1)
    scored, ranked = _random_case(rng, 4000)
    camp = C.build_campaign(scored, ranked, 25_000, control_share=0.1, seed=3)
    rows = camp.rows
    assert list(rows.columns) == C.CAMPAIGN_COLUMNS
    assert set(rows["group"]) == {"treatment", "control"}
    # every stratum (risk tier × offer) holds out its share, to within two customers
    for (tier, offer), g in rows.groupby(["risk_tier", "offer_id"]):
        n_ctrl = int((g["group"] == "control").sum())
        assert abs(n_ctrl - 0.1 * len(g)) < 2.0, (tier, offer, n_ctrl, len(g))
    # the same seed gives the same groups, another seed other groups of the same sizes
    again = C.build_campaign(scored, ranked, 25_000, control_share=0.1, seed=3)
    pd.testing.assert_frame_equal(again.rows, rows)
    other = C.build_campaign(scored, ranked, 25_000, control_share=0.1, seed=4)
    assert set(other.rows.loc[other.rows["group"] == "control", C.ID]) != set(
        rows.loc[rows["group"] == "control", C.ID])
    assert abs(other.held_out - camp.held_out) <= 6
    assert camp.settings["control_share"] == 0.1 and camp.settings["seed"] == 3
    assert camp.settings["treatment"] == camp.treated and camp.settings["control"] == camp.held_out


def test_control_rows_cost_nothing_and_treatment_spends_the_budget():
    rng = np.random.default_rng(2)
    scored, ranked = _random_case(rng, 3000)
    budget = 20_000.0
    camp = C.build_campaign(scored, ranked, budget, control_share=0.2, seed=0)
    ctrl = camp.rows[camp.rows["group"] == "control"]
    treat = camp.rows[camp.rows["group"] == "treatment"]
    assert (ctrl["offer_cost"] == 0).all() and (ctrl["expected_saved_value"] == 0).all()
    assert (ctrl["expected_net_value"] == 0).all() and (ctrl["offer"] != "").all()
    assert camp.spent == pytest.approx(treat["offer_cost"].sum())
    assert camp.spent <= budget
    assert camp.expected_saved_revenue == pytest.approx(treat["expected_saved_value"].sum())
    assert camp.rows["cumulative_cost"].iloc[-1] == pytest.approx(camp.spent)
    # the list is extended: treatment spends about what the list without control spends
    plain = C.build_campaign(scored, ranked, budget, control_share=0)
    assert camp.spent >= plain.spent - 120.0
    assert camp.customers > plain.customers
    assert camp.held_out / camp.customers == pytest.approx(0.2, abs=0.02)
    # every control customer sits before the first treatment customer the budget missed,
    # and every treatment customer is where the plain greedy walk over treatment costs puts it
    everyone = C.build_campaign(scored, ranked, 1e9, control_share=0.2, seed=0).rows
    t_all = everyone[everyone["group"] == "treatment"]
    take = _reference_greedy(t_all["offer_cost"], budget)
    assert treat[C.ID].tolist() == t_all[C.ID][take].tolist()
    first_missed = t_all[C.ID][~take].iloc[0]
    cut = everyone[C.ID].tolist().index(first_missed)
    assert set(ctrl[C.ID]) == set(everyone.iloc[:cut].query("group == 'control'")[C.ID])
    # the saved-revenue curve agrees with the campaign for the same control settings
    curve = C.saved_revenue_curve(scored, ranked, [budget], control_share=0.2, seed=0)
    assert curve["expected_saved_revenue"].iloc[0] == pytest.approx(camp.expected_saved_revenue)
    assert curve["customers"].iloc[0] == camp.customers


def test_no_control_group_warns_and_bad_shares_are_refused(ranked):
    camp = C.build_campaign(_scored(), ranked, 1000.0, control_share=0)
    assert camp.held_out == 0 and camp.warning == C.NO_CONTROL_WARNING
    assert camp.settings["warning"] == C.NO_CONTROL_WARNING
    assert (camp.rows["group"] == "treatment").all()
    for bad in (-0.1, 0.6, 10):
        with pytest.raises(ValueError, match=rf"^control_share={bad!r} must be between 0 and 0.5 "
                                             r"\(a share of the list, e.g. 0.1 for 10%; not a "
                                             r"percentage\)\.$"):
            C.build_campaign(_scored(), ranked, 1000.0, control_share=bad)
    with pytest.raises(ValueError, match=r"^control_share='x' must be a number"):
        C.build_campaign(_scored(), ranked, 1000.0, control_share="x")


def test_assign_control_blocks_are_random_within_strata():
    strata = pd.DataFrame({"risk_tier": ["High"] * 1000, "offer_id": ["a"] * 1000})
    hits = np.zeros(1000)
    for seed in range(200):
        c = C.assign_control(strata, 0.1, seed)
        assert c.sum() in (99, 100, 101)
        # every prefix holds out its share to within two customers
        assert (np.abs(np.cumsum(c) - 0.1 * np.arange(1, 1001)) < 2.0).all()
        hits += c
    # each position is held out about 10% of the time, the top of the list too (binomial(200,
    # 0.1): mean 20, sd 4.2)
    assert hits.min() >= 5 and hits.max() <= 40
    assert hits[:50].mean() == pytest.approx(20, abs=3)
    assert C.assign_control(strata.iloc[:0], 0.1).shape == (0,)


def test_saved_campaigns_record_the_settings_and_reopen(ranked, tmp_path):
    from churn.store import Store

    store = Store(tmp_path / "s.duckdb")
    camp = C.build_campaign(_scored(), ranked, 1000.0, control_share=0.5, seed=1,
                            extra_settings={"data": "Sample: active customers"})
    cid = C.save_campaign(store, camp, " Winter save ", on="2026-12-01")
    table = C.saved_campaigns(store)
    assert list(table.columns) == C.SAVED_COLUMNS
    row = table.iloc[0].to_dict()
    assert row["id"] == cid and row["name"] == "Winter save" and row["date"] == "2026-12-01"
    assert row["data"] == "Sample: active customers" and row["budget"] == 1000.0
    assert row["control_share"] == 0.5 and row["seed"] == 1
    assert (row["treatment"], row["control"]) == (camp.treated, camp.held_out)
    again = C.reopen_campaign(store, cid)
    pd.testing.assert_frame_equal(again.rows, camp.rows)
    # a campaign saved before control groups existed reopens with everyone treated
    old = camp.rows.drop(columns="group")
    oid = store.save_campaign("old", {"budget": 5.0}, old)
    assert set(C.reopen_campaign(store, oid).rows["group"]) == {"treatment"}
    assert C.saved_campaigns(store).iloc[0]["control"] == 0


def test_cli_campaign_on_a_file_with_bad_rows_says_how_many_are_left_out(engine, tmp_path,
                                                                            monkeypatch, capsys):
    from churn import cli
    from churn.scoring import Engine

    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, paths=None, progress=None: engine))
    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path / "data"))
    data = tmp_path / "active.csv"
    frame = schema.to_file_frame(engine.customers.drop(columns=schema.TARGET).head(20))
    frame.loc[3, "tenure"] = "soon"
    frame.to_csv(data, index=False)
    assert cli.main(["campaign", "--budget", "500", "--data", str(data), "--out",
                     str(tmp_path / "c.csv")]) == 0
    err = capsys.readouterr().err
    assert (f"{data}: 1 of 20 rows fail validation and are left out of the campaign (run "
            f"`python -m churn validate {data}` for the list).") in err
    assert cli.main(["campaign", "--budget", "500", "--data", str(tmp_path / "nope.csv"),
                     "--out", str(tmp_path / "d.csv")]) == 2
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'nope.csv'}: cannot be read. ")


def test_the_greedy_walk_equals_a_plain_loop_for_any_budget_order():
    """`_GreedyWalk` (cumulative sum, then jumps by cost level; set up once, reused for every
    budget of a curve) against the plain walk: take each item that fits, skip the rest."""
    rng = np.random.default_rng(3)

    def plain(cost, budget):
        left, out = budget, np.zeros(len(cost), dtype=bool)
        for i, c in enumerate(cost):
            if c <= left:
                out[i] = True
                left -= max(c, 0)
        return out

    for trial in range(30):
        cost = rng.choice([0, 500, 1_250, 2_000, 9_999], size=int(rng.integers(0, 300)))
        walk = C._GreedyWalk(cost)
        total = int(cost.sum())
        for budget in rng.permutation([0, 1, 499, 500, total // 3, total // 2, total, total + 7]):
            want = plain(cost, int(budget))
            assert np.array_equal(walk.take(int(budget)), want), (trial, budget)
            assert np.array_equal(C._greedy_take(cost, int(budget)), want)
    assert not C._GreedyWalk(np.array([100])).take(-1).any()
