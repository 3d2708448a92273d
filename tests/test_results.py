"""Tests for churn.results: measured uplift against an independent computation, interval coverage,
bad input with exact messages, the CLI and the campaign-history rows."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from churn import campaign as C
from churn import results as R


# --- intervals against hand formulas and published values -----------------------------------
def test_newcombe_matches_the_published_example():
    # Newcombe (1998), Table II example (56/70 vs 48/80): method 10 gives 0.0524 to 0.3339.
    lo, hi = R.newcombe(56, 70, 48, 80)
    assert round(lo, 4) == 0.0524 and round(hi, 4) == 0.3339


def _wilson_by_hand(x, n, z=1.959963984540054):
    """Roots of (p - x/n)^2 = z^2 p (1 - p) / n, solved as a quadratic in p (independent of the
    closed form in churn.results)."""
    phat = x / n
    a = 1 + z * z / n
    b = -(2 * phat + z * z / n)
    c = phat * phat
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


@pytest.mark.parametrize("x,n", [(0, 10), (3, 10), (10, 10), (81, 263), (1, 1000)])
def test_wilson_is_the_root_of_the_score_equation(x, n):
    lo, hi = R.wilson(x, n)
    hlo, hhi = _wilson_by_hand(x, n)
    assert lo == pytest.approx(max(hlo, 0.0), abs=1e-12)
    assert hi == pytest.approx(min(hhi, 1.0), abs=1e-12)


def _campaign(n_treat, n_ctrl, churn_treat, churn_ctrl, *, offers=("a",), tiers=("High",),
              clv=1000.0, cost=20.0, saved=30.0):
    """A hand-made exported campaign with churned filled in (text, as read from a file)."""
    rows = []
    k = 0
    for group, n, churned in (("treatment", n_treat, churn_treat), ("control", n_ctrl, churn_ctrl)):
        for i in range(n):
            rows.append({C.ID: f"{k:05d}-X", "group": group, "offer": offers[k % len(offers)],
                         "offer_id": offers[k % len(offers)], "risk_tier": tiers[k % len(tiers)],
                         "clv": clv, "offer_cost": cost if group == "treatment" else 0.0,
                         "expected_saved_value": saved if group == "treatment" else 0.0,
                         "churned": "Yes" if i < churned else "No"})
            k += 1
    return pd.DataFrame(rows).astype(str)


def test_headline_arithmetic_against_hand_computation():
    df = _campaign(200, 50, 40, 20)
    r = R.measure(df)
    o = r.overall
    assert (o.n_treatment, o.n_control, o.churned_treatment, o.churned_control) == (200, 50, 40, 20)
    assert o.rate_treatment == pytest.approx(0.2) and o.rate_control == pytest.approx(0.4)
    assert o.uplift == pytest.approx(0.2)
    # Newcombe by hand from the quadratic Wilson roots
    l1, u1 = _wilson_by_hand(20, 50)
    l2, u2 = _wilson_by_hand(40, 200)
    lo = 0.2 - math.sqrt((0.4 - l1) ** 2 + (u2 - 0.2) ** 2)
    hi = 0.2 + math.sqrt((u1 - 0.4) ** 2 + (0.2 - l2) ** 2)
    assert o.ci95 == pytest.approx([lo, hi], abs=1e-12)
    assert o.saved_customers == pytest.approx(40.0)
    assert o.saved_customers_ci == pytest.approx([lo * 200, hi * 200])
    assert o.saved_value == pytest.approx(0.2 * 200 * 1000.0)
    assert o.cost == pytest.approx(200 * 20.0)
    assert o.roi == pytest.approx((40_000 - 4_000) / 4_000)
    assert o.roi_ci == pytest.approx([(lo * 200_000 - 4000) / 4000, (hi * 200_000 - 4000) / 4000])
    # predicted: expected saved value / CLV per treated customer
    assert o.predicted_uplift == pytest.approx(30.0 / 1000.0)
    assert o.predicted_saved_customers == pytest.approx(200 * 0.03)
    assert o.predicted_saved_value == pytest.approx(200 * 30.0)
    assert r.rows_read == r.rows_used == 250 and r.problems == []
    d = r.to_dict()
    assert d["uplift"] == pytest.approx(0.2) and d["ci95"] == pytest.approx([lo, hi])
    assert d["treatment"]["customers"] == 200 and d["control"]["churn_rate"] == pytest.approx(0.4)
    json.dumps(d)


def test_by_offer_and_tier_with_the_minimum_group_size():
    # offer a: 120 treated / 40 control; offer b: 60 / 10 → b is too small
    a = _campaign(120, 40, 30, 16, offers=("a",), tiers=("High",))
    b = _campaign(60, 10, 12, 3, offers=("b",), tiers=("Low",))
    b[C.ID] = b[C.ID].str.replace("-X", "-Y")
    r = R.measure(pd.concat([a, b], ignore_index=True))
    by = {m.label: m for m in r.by_offer}
    assert by["a"].uplift == pytest.approx(16 / 40 - 30 / 120)
    assert by["b"].uplift is None
    assert by["b"].note == ("Too few customers with a known outcome to measure the uplift: "
                            "treatment 60, control 10 (at least 30 each are needed).")
    assert [m.label for m in r.by_tier] == ["High", "Low"]
    assert r.by_tier[0].uplift == pytest.approx(by["a"].uplift)
    assert r.overall.uplift == pytest.approx(19 / 50 - 42 / 180)
    assert list(r.table("offer")["label"]) == ["a", "b"]


def test_brute_force_small_cases_agree_with_a_direct_count():
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(5, 200))
        df = pd.DataFrame({C.ID: [f"{i:04d}" for i in range(n)],
                           "group": rng.choice(["treatment", "control"], n, p=[0.6, 0.4]),
                           "churned": rng.choice(["Yes", "No", "yes", " NO "], n)})
        r = R.measure(df, min_group=1)
        t = df[df["group"] == "treatment"]["churned"].str.strip().str.lower().eq("yes")
        c = df[df["group"] == "control"]["churned"].str.strip().str.lower().eq("yes")
        assert r.overall.uplift == pytest.approx(c.mean() - t.mean())


# --- coverage --------------------------------------------------------------------------------
def test_interval_covers_the_true_effect_about_95_percent_of_the_time():
    """Known per-customer churn probabilities and effects (heterogeneous, some harmful): a fresh
    control draw and fresh outcomes per seed; the interval must cover the true mean effect over
    the list in about 95% of 400 campaigns."""
    rng = np.random.default_rng(2024)
    n = 600
    p0 = rng.uniform(0.1, 0.7, n)                      # churn probability without an offer
    effect = np.clip(rng.normal(0.06, 0.08, n), -0.1, p0)  # drop in churn probability
    truth = effect.mean()
    strata = pd.DataFrame({"risk_tier": np.where(p0 > 0.4, "High", "Medium"),
                           "offer_id": rng.choice(["a", "b"], n)})
    covered = 0
    seeds = 400
    for seed in range(seeds):
        control = C.assign_control(strata, 0.3, seed)
        p = np.where(control, p0, p0 - effect)
        churned = np.random.default_rng(10_000 + seed).uniform(size=n) < p
        df = pd.DataFrame({C.ID: np.arange(n).astype(str),
                           "group": np.where(control, "control", "treatment"),
                           "churned": np.where(churned, "Yes", "No")})
        lo, hi = R.measure(df).overall.ci95
        covered += lo <= truth <= hi
    assert 0.92 <= covered / seeds <= 0.985, covered / seeds


# --- bad input -------------------------------------------------------------------------------
def test_bad_rows_are_reported_and_good_rows_still_count():
    df = _campaign(100, 40, 20, 12)
    df.loc[3, "churned"] = ""
    df.loc[4, "churned"] = "maybe"
    df.loc[5, "group"] = "holdout"
    df = pd.concat([df, df.iloc[[7]]], ignore_index=True)  # a duplicate customer
    r = R.measure(df)
    assert [p.message for p in r.problems] == [
        "1 row(s) repeat a customer already counted, e.g. 00007-X (row 142); only the first row "
        "of each customer is counted.",
        "1 row(s) have no churned value yet, e.g. row 5; they are left out until the outcome is "
        "known.",
        "1 row(s) have a churned value other than Yes or No, e.g. 'maybe' (row 6); they are left "
        "out.",
        "1 row(s) have a group other than treatment or control, e.g. 'holdout' (row 7); they are "
        "left out.",
    ]
    assert r.rows_read == 141 and r.rows_used == 137
    assert r.overall.n_treatment == 97 and r.overall.n_control == 40


def test_ids_not_in_the_campaign():
    camp = _campaign(60, 40, 0, 0).drop(columns="churned")
    outcomes = pd.DataFrame({C.ID: list(camp[C.ID]) + ["9999-ZZZ"],
                             "churned": ["Yes"] * 10 + ["No"] * 90 + ["Yes"]})
    r = R.measure(outcomes, camp)
    assert [p.message for p in r.problems] == [
        "1 row(s) name a customer who is not in the campaign, e.g. 9999-ZZZ (row 102); they are "
        "left out."]
    assert r.rows_used == 100
    assert r.overall.churned_treatment == 10 and r.overall.n_control == 40


def test_no_control_group_and_too_small_groups():
    r = R.measure(_campaign(100, 0, 10, 0))
    assert [p.message for p in r.problems] == [R.MSG_NO_CONTROL]
    assert r.overall.uplift is None and r.overall.rate_treatment == pytest.approx(0.1)
    assert R.plain_summary(r) == "No control group: the uplift cannot be measured."
    old = _campaign(50, 0, 5, 0).drop(columns="group")  # an export from before control groups
    assert [p.message for p in R.measure(old).problems] == [R.MSG_NO_CONTROL]
    r = R.measure(_campaign(100, 12, 10, 2))
    assert [p.message for p in r.problems] == [
        "Too few customers with a known outcome to measure the uplift: treatment 100, control 12 "
        "(at least 30 each are needed)."]
    assert r.overall.uplift is None and r.overall.rate_control == pytest.approx(2 / 12)


def test_unreadable_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert R.measure_file(empty).fatal == "empty.csv has no rows."
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02garbage")
    assert R.measure_file(binary).fatal == ("x.csv cannot be read as a CSV or Excel file (it "
                                            "looks like binary data).")
    assert R.measure_file(tmp_path / "nope.csv").fatal == (
        "nope.csv cannot be read as a CSV or Excel file (No such file or directory).")
    no_churned = tmp_path / "c.csv"
    no_churned.write_text("customerID,group\n1,treatment\n")
    assert R.measure_file(no_churned).fatal == (
        "c.csv has no churned column: fill in Yes or No for each customer (left within the "
        "outcome window) and load it again.")
    no_id = tmp_path / "d.csv"
    no_id.write_text("id,churned\n1,Yes\n")
    assert R.measure_file(no_id).fatal == (
        "d.csv has no customerID column; the results must name each customer.")
    bad_xlsx = tmp_path / "e.xlsx"
    bad_xlsx.write_bytes(b"PK\x03\x04 not really a zip")
    assert R.measure_file(bad_xlsx).fatal.startswith("e.xlsx cannot be read as a CSV or Excel file (")


def test_reads_the_export_back_from_csv_and_excel():
    df = _campaign(80, 40, 8, 12)
    typed = df.assign(clv=df["clv"].astype(float), offer_cost=df["offer_cost"].astype(float),
                      expected_saved_value=df["expected_saved_value"].astype(float))
    # the Excel export has business headers ("Customer ID", "Offer cost ($)"); a CSV saved
    # from it keeps them: every one of these files measures the same
    upper = {k: v.upper() for k, v in C.EXCEL_HEADERS.items()}
    business = C.to_csv_bytes(typed.rename(columns=upper))
    assert business.startswith(b"CUSTOMER ID,")
    for data in (C.to_csv_bytes(typed), C.to_excel_bytes(typed), business):
        r = R.measure_file(data, name="upload")
        assert r.problems == []
        assert r.overall.uplift == pytest.approx(12 / 40 - 8 / 80)
        assert r.overall.cost == pytest.approx(80 * 20.0)


def test_history_rows_and_the_store(tmp_path):
    from churn.store import Store

    df = _campaign(40, 30, 4, 6)
    df["accepted"] = ["Yes"] * 20 + ["No"] * 20 + [""] * 30
    r = R.measure(df)
    h = R.history_rows(r, "C7", "2026-11-01")
    assert list(h.columns) == ["customerID", "campaign_id", "date", "offer_id", "group",
                               "accepted", "churned"]
    assert h["accepted"].tolist() == ["Yes"] * 20 + ["No"] * 20 + [""] * 30
    assert h["churned"].value_counts().to_dict() == {"No": 60, "Yes": 10}
    assert r.overall.accepted_rate == pytest.approx(0.5)
    store = Store(tmp_path / "s.duckdb")
    assert store.load_campaign_history() is None
    assert store.append_campaign_history(h) == 70
    assert store.append_campaign_history(h) == 70  # recording twice adds nothing
    assert store.append_campaign_history(h.assign(campaign_id="C8")) == 140
    got = store.load_campaign_history()
    assert got.iloc[:70].reset_index(drop=True).equals(h.astype(str))


# --- the command line --------------------------------------------------------------------------
def test_cli_results_json_and_text(tmp_path, capsys, monkeypatch):
    from churn import cli

    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path / "data"))
    f = tmp_path / "results.csv"
    _campaign(200, 50, 40, 20).to_csv(f, index=False)
    assert cli.main(["results", str(f), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["uplift"] == pytest.approx(0.2)
    assert set(d) >= {"uplift", "ci95", "treatment", "control", "by_offer"}
    assert d["by_offer"][0]["label"] == "a"
    assert cli.main(["results", str(f), "--record"]) == 0
    out = capsys.readouterr().out
    assert "The offers cut churn by 20.0 percentage points" in out
    assert "Added 250 outcomes to the campaign history (250 rows in all)." in out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    assert cli.main(["results", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == "bad.csv has no rows."
    small = tmp_path / "small.csv"
    _campaign(100, 5, 10, 1).to_csv(small, index=False)
    assert cli.main(["results", str(small)]) == 1
    assert "Too few customers with a known outcome" in capsys.readouterr().out


def test_interval_covers_the_simulators_true_effect():
    """The demo's hidden outcome model (`simulate`): a 1,500-customer campaign on generated
    active customers, offers from the catalogue, a fresh 20% control draw and fresh outcomes
    per seed. The 95% interval must cover the simulator's true mean effect over the list
    (`simulate.true_effects` at each customer's offer) in about 95% of 300 campaigns."""
    from churn import simulate, synth
    from churn.offers import load_catalogue

    customers = synth.generate_customers(1500, seed=9)
    ids = load_catalogue().ids
    rng = np.random.default_rng(5)
    offer = rng.choice(ids, len(customers))
    effects = simulate.true_effects(customers, ids)
    truth = float(np.mean(effects.to_numpy()[np.arange(len(customers)),
                                              pd.Index(ids).get_indexer(offer)]))
    p0 = simulate.control_churn_prob(customers)
    strata = pd.DataFrame({"risk_tier": np.where(p0 > 0.5, "High", np.where(p0 > 0.25, "Medium",
                                                                           "Low")),
                           "offer_id": offer})
    covered, seeds = 0, 300
    for seed in range(seeds):
        control = C.assign_control(strata, 0.2, seed)
        camp = pd.DataFrame({C.ID: customers[C.ID], "offer_id": offer,
                             "group": np.where(control, "control", "treatment")})
        done = simulate.simulate_outcomes(camp, customers, seed=seed)
        lo, hi = R.measure(done.astype(str)).overall.ci95
        covered += lo <= truth <= hi
    assert 0.91 <= covered / seeds <= 0.99, (covered / seeds, truth)


def test_recorded_history_reads_the_store(tmp_path):
    from churn.store import Store

    df = _campaign(40, 30, 4, 6)
    df["accepted"] = ["Yes"] * 25 + ["No"] * 15 + [""] * 30
    rows = R.history_rows(R.measure(df), "C1", "2026-10-01")
    assert R.recorded_history(tmp_path / "none.duckdb") is None
    Store(tmp_path / "s.duckdb").append_campaign_history(rows)
    pd.testing.assert_frame_equal(R.recorded_history(tmp_path / "s.duckdb"), rows.astype(str))


def test_engine_inputs_read_the_sample_history_and_the_recorded_outcomes(sample_data_dir,
                                                                         tmp_path):
    import shutil

    from churn.config import paths
    from churn.scoring import Engine
    from churn.store import Store

    p = paths(tmp_path)
    shutil.copytree(paths(sample_data_dir).sample_dir, p.sample_dir)
    _, before, _, key_before = Engine._inputs(p)
    ids = before[C.ID].drop_duplicates().iloc[:3].tolist()
    rows = pd.DataFrame({C.ID: ids, "campaign_id": "saved-1", "date": "2026-11-01",
                         "offer_id": "loyalty_credit", "group": ["treatment", "treatment",
                                                                 "control"],
                         "accepted": ["Yes", "No", ""], "churned": ["No", "Yes", "No"]})
    Store(p.store).append_campaign_history(rows)
    _, after, _, key_after = Engine._inputs(p)
    assert len(after) == len(before) + 3
    assert after.tail(3)[C.ID].tolist() == ids
    assert after.tail(3)["accepted"].tolist() == ["Yes", "No", ""]
    assert key_after != key_before  # the recommender is refitted with them
