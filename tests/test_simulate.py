"""Tests for churn.simulate: the demo's hidden outcome model and the simulate-outcomes command."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn import config, schema, simulate, synth
from churn.offers import load_catalogue

CAT = load_catalogue()


@pytest.fixture(scope="module")
def sample():
    return synth.generate_customers(config.SAMPLE_ROWS, config.SAMPLE_SEED)


@pytest.fixture(scope="module")
def large():
    return synth.generate_customers(60_000, 11)


# --- the no-offer baseline ----------------------------------------------------------------------
def test_control_prob_agrees_with_the_churn_labels_by_segment(large):
    """The labels of synth and the control baseline come from the same latent model: mean
    probability = churn rate overall and in every contract and tenure band (within 4 SE)."""
    p0 = simulate.control_churn_prob(large)
    y = large["Churn"].to_numpy()
    assert p0.shape == (len(large),) and ((p0 >= 0) & (p0 <= 1)).all()
    groups = [np.ones(len(large), bool)]
    groups += [(large["Contract"] == c).to_numpy() for c in schema.BY_NAME["Contract"].values]
    groups += [large["tenure"].between(lo, hi).to_numpy() for lo, hi in ((1, 6), (7, 24),
                                                                        (25, 72))]
    for g in groups:
        se = np.sqrt(p0[g].mean() * (1 - p0[g].mean()) / g.sum())
        assert abs(p0[g].mean() - y[g].mean()) < 4 * se + 0.003, (g.sum(), p0[g].mean(),
                                                                  y[g].mean())


def test_hidden_normals_are_standard_and_independent(large):
    h = simulate._hidden_normals(large["customerID"].to_numpy(dtype=object))
    assert h.shape == (len(large), 4)
    np.testing.assert_allclose(h.mean(axis=0), 0, atol=0.02)
    np.testing.assert_allclose(h.std(axis=0), 1, atol=0.02)
    corr = np.corrcoef(h.T)
    assert np.abs(corr - np.eye(4)).max() < 0.02


def test_control_prob_follows_the_customer_id_not_the_row(sample):
    part = sample.iloc[:500]
    p = pd.Series(simulate.control_churn_prob(part), index=part["customerID"])
    shuffled = part.sample(frac=1.0, random_state=1)
    q = pd.Series(simulate.control_churn_prob(shuffled), index=shuffled["customerID"])
    pd.testing.assert_series_equal(p, q[p.index])
    # another ID with the same columns draws another hidden noise
    renamed = part.assign(customerID="X" + part["customerID"])
    assert not np.allclose(simulate.control_churn_prob(renamed), p.to_numpy())


def test_tenure_zero_never_leaves_and_the_floor_holds(sample):
    zero = sample[sample["tenure"] == 0]
    assert len(zero) > 0 and (simulate.control_churn_prob(zero) == 0).all()
    billed = sample[sample["tenure"] > 0]
    assert simulate.control_churn_prob(billed).min() >= synth.CHURN_FLOOR


# --- true effects -------------------------------------------------------------------------------
def test_true_effects_shape_and_formula(sample):
    part = sample.iloc[:300]
    eff = simulate.true_effects(part, CAT.ids)
    assert list(eff.columns) == CAT.ids and eff.index.name == "customerID"
    assert eff.index.tolist() == part["customerID"].tolist()
    # the documented formula, recomputed from its documented pieces
    p0 = simulate.control_churn_prob(part)
    acc = simulate.accept_prob(part, CAT.ids).to_numpy()
    hidden = simulate._hidden_normals(part["customerID"].to_numpy(dtype=object))
    T = synth._observed_traits(part) + synth.TRAIT_NOISE * hidden[:, 1:]
    z = synth._churn_logit(simulate._codes(part)) + synth.SIGMA * hidden[:, 0]
    np.testing.assert_allclose(p0, np.where(part["tenure"] > 0, 0.01 + 0.99 / (1 + np.exp(-z)),
                                            0.0), atol=1e-12)
    dog = np.minimum(part["tenure"], 48) / 48 * np.exp(-p0 / 0.10)
    for j, o in enumerate(CAT.ids):
        trait, base, slope, push = simulate.OFFER_EFFECTS[o]
        rr = np.clip(base + slope * T[:, ("price", "family", "support").index(trait)], 0, 0.9)
        pu = push * dog.to_numpy()
        expected = p0 * acc[:, j] * rr - (1 - p0) * pu * (1 - acc[:, j] * rr)
        np.testing.assert_allclose(eff[o].to_numpy(), expected, atol=1e-12)
    profile = synth.OFFER_PROFILES["loyalty_credit"]
    T0 = T[0]
    assert acc[0, CAT.ids.index("loyalty_credit")] == pytest.approx(
        1 / (1 + np.exp(-(profile[0] + T0 @ np.array(profile[1:])))))


def test_a_known_share_of_sleeping_dogs(sample):
    """About one applicable (customer, offer) pair in six has a negative true effect; they are
    long-tenure, low-risk customers, and the contract push makes the most of them."""
    eff = simulate.true_effects(sample, CAT.ids)
    app = CAT.applicable(sample).to_numpy()
    neg = (eff.to_numpy() < 0) & app
    share = neg.sum() / app.sum()
    assert 0.12 < share < 0.20, share
    # only offers with a contact push (PUSH > 0) can hurt
    for j, o in enumerate(CAT.ids):
        if simulate.OFFER_EFFECTS[o][3] == 0:
            assert not neg[:, j].any(), o
    p0 = simulate.control_churn_prob(sample)
    rows = neg.any(axis=1)
    assert sample.loc[rows, "tenure"].median() > 35 and np.median(p0[rows]) < 0.06
    cu = CAT.ids.index("contract_upgrade")
    m2m = app[:, cu]
    long_calm = m2m & (sample["tenure"].to_numpy() >= 36) & (p0 < 0.05)
    assert long_calm.sum() > 20 and (eff.to_numpy()[long_calm, cu] < 0).mean() > 0.85
    risky = m2m & (p0 > 0.5)
    assert (eff.to_numpy()[risky, cu] > 0).all() and np.median(eff.to_numpy()[risky, cu]) > 0.1


def test_unknown_offer_gets_stable_parameters(sample):
    part = sample.iloc[:50]
    a = simulate.true_effects(part, ["my_new_offer", "loyalty_credit"])
    b = simulate.true_effects(part, ["my_new_offer"])
    pd.testing.assert_series_equal(a["my_new_offer"], b["my_new_offer"])
    assert np.isfinite(a.to_numpy()).all()
    trait, base, slope, push = simulate.offer_effect_params("my_new_offer")
    assert trait in simulate.TRAITS and 0.15 <= base <= 0.40 and (slope, push) == (0.10, 0.02)


def test_expected_effects_average_the_hidden_draws_away(sample):
    """E[effect | columns] against an independent computation: the same customer's columns
    under 20,000 different IDs (each ID brings its own hidden draws, from the keyed hash) and
    `true_effects` averaged over them. Different customers' expected effects differ; clones
    have the same one."""
    offers = ["contract_upgrade", "loyalty_credit", "plan_rightsize"]
    picks = sample.iloc[[0, 7, 21]]
    got = simulate.expected_effects(picks, offers, draws=4000, seed=1)
    assert list(got.columns) == offers and list(got.index) == picks["customerID"].tolist()
    for i in range(len(picks)):
        clones = pd.concat([picks.iloc[[i]]] * 20_000, ignore_index=True)
        clones["customerID"] = [f"C{i}-{k:05d}" for k in range(len(clones))]
        brute = simulate.true_effects(clones, offers).mean()
        assert got.iloc[i].to_numpy() == pytest.approx(brute.to_numpy(), abs=0.003)
    assert got.iloc[:, 0].std() > 0.01
    twice = pd.concat([picks.iloc[[0]]] * 2, ignore_index=True)
    same = simulate.expected_effects(twice, offers, draws=50)
    assert same.iloc[0].tolist() == same.iloc[1].tolist()
    with pytest.raises(ValueError) as err:
        simulate.expected_effects(picks, offers, draws=0)
    assert str(err.value) == "draws must be at least 1, got 0"


@pytest.mark.parametrize("call, message", [
    (lambda s: simulate.true_effects(s, []),
     "offer_ids is empty; pass at least one offer id (e.g. catalogue.ids)"),
    (lambda s: simulate.true_effects(s, ["a", "a"]),
     "offer_ids has duplicates: ['a', 'a']; list each offer once"),
    (lambda s: simulate.control_churn_prob(s.drop(columns=["tenure"])),
     "customers lacks column(s) tenure; pass a canonical customer frame "
     "(churn.validate.load_customers reads one from a file)"),
    (lambda s: simulate.control_churn_prob("customers.csv"),
     "customers must be a canonical customer frame (DataFrame), got str"),
])
def test_input_errors(sample, call, message):
    with pytest.raises(ValueError) as err:
        call(sample.iloc[:10])
    assert str(err.value) == message


# --- the simulator ------------------------------------------------------------------------------
def _both_groups(customers: pd.DataFrame, offer: str) -> pd.DataFrame:
    """Every customer twice: once treated, once control (rows are independent draws)."""
    ids = customers["customerID"].to_numpy()
    return pd.DataFrame({"customerID": np.concatenate([ids, ids]), "offer_id": offer,
                         "group": ["treatment"] * len(ids) + ["control"] * len(ids)})


@pytest.mark.parametrize("offer", ["contract_upgrade", "plan_rightsize", "loyalty_credit"])
def test_simulated_rates_match_the_hidden_model(large, offer):
    """Independent check of the simulator against the formulas: over many customers the control
    churn rate is the mean control probability, the treated churn rate is the mean of
    control - true effect, the acceptance rate the mean P(accept), and the measured uplift the
    mean true effect (each within 4 standard errors)."""
    customers = large[CAT.applicable(large)[offer].to_numpy() & (large["tenure"] > 0).to_numpy()]
    camp = _both_groups(customers, offer)
    out = simulate.simulate_outcomes(camp, customers, seed=3)
    n = len(customers)
    treat, ctrl = out.iloc[:n], out.iloc[n:]
    left_t = (treat["churned"] == "Yes").to_numpy()
    left_c = (ctrl["churned"] == "Yes").to_numpy()
    p0 = simulate.control_churn_prob(customers)
    eff = simulate.true_effects(customers, [offer])[offer].to_numpy()
    acc = simulate.accept_prob(customers, [offer])[offer].to_numpy()

    def close(observed, probs):
        se = np.sqrt((probs * (1 - probs)).sum()) / len(probs)
        assert abs(observed.mean() - probs.mean()) < 4 * se, (observed.mean(), probs.mean(), se)

    close(left_c, p0)
    close(left_t, p0 - eff)
    close((treat["accepted"] == "Yes").to_numpy(), acc)
    assert (ctrl["accepted"] == "").all()
    se = np.sqrt((p0 * (1 - p0)).sum() + ((p0 - eff) * (1 - p0 + eff)).sum()) / n
    assert abs((left_c.mean() - left_t.mean()) - eff.mean()) < 4 * se
    # among the customers the offer pushes out, the treated really leave more
    dogs = eff < -0.02
    if dogs.sum() > 2000:
        assert left_t[dogs].mean() > left_c[dogs].mean()


def test_accepters_leave_less_than_decliners(large):
    customers = large[(large["Contract"] == "Month-to-month") & (large["tenure"] > 0)]
    out = simulate.simulate_outcomes(_both_groups(customers, "contract_upgrade").iloc[
        :len(customers)], customers, seed=1)
    yes = out["accepted"] == "Yes"
    assert (out.loc[yes, "churned"] == "Yes").mean() < 0.5 * (
        out.loc[~yes, "churned"] == "Yes").mean()


def test_deterministic_for_a_seed_and_keeps_rows_and_columns(sample):
    part = sample.iloc[:400]
    camp = pd.DataFrame({"customerID": part["customerID"].to_numpy(), "churn_prob": 0.25,
                         "offer_id": "loyalty_credit",
                         "group": ["Treatment", "control"] * 200,
                         "accepted": "old", "churned": "old"},
                        index=[f"r{i}" for i in range(400)])
    a = simulate.simulate_outcomes(camp, part, seed=7)
    b = simulate.simulate_outcomes(camp, part, seed=7)
    c = simulate.simulate_outcomes(camp, part, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["churned"].equals(c["churned"])
    assert list(a.columns) == list(camp.columns) and a.index.equals(camp.index)
    pd.testing.assert_frame_equal(a[["customerID", "churn_prob", "offer_id", "group"]],
                                  camp[["customerID", "churn_prob", "offer_id", "group"]])
    assert set(a["accepted"].iloc[0::2]) == {"Yes", "No"} and set(a["accepted"].iloc[1::2]) == {""}
    assert set(a["churned"]) == {"Yes", "No"}


def test_without_group_everyone_is_treated(sample):
    part = sample.iloc[:200]
    camp = pd.DataFrame({"customerID": part["customerID"], "offer_id": "loyalty_credit"})
    out = simulate.simulate_outcomes(camp, part)
    assert list(out.columns) == ["customerID", "offer_id", "accepted", "churned"]
    assert set(out["accepted"]) == {"Yes", "No"}
    empty = simulate.simulate_outcomes(camp.iloc[:0], part)
    assert list(empty.columns) == ["customerID", "offer_id", "accepted", "churned"]
    assert len(empty) == 0


def test_simulator_errors(sample):
    part = sample.iloc[:20]
    ids = part["customerID"].tolist()
    camp = pd.DataFrame({"customerID": ids, "offer_id": "loyalty_credit"})
    unknown = camp.assign(customerID=[f"GONE-{i}" for i in range(7)] + ids[7:])
    cases = [
        (unknown, "7 campaign customer(s) are not in the customer file: GONE-0, GONE-1, GONE-2, "
                  "GONE-3, GONE-4 and 2 more. Pass the customers the campaign was built from "
                  "(--customers FILE: the active base or the file given to `python -m churn "
                  "campaign --data`)"),
        (camp.assign(group=["test"] * 20), 'group must be treatment or control; found "test" '
                                           '(row 2), "test" (row 3), "test" (row 4) and more'),
        (camp.drop(columns=["offer_id"]), "campaign lacks column(s) offer_id; pass a campaign "
                                          "export (python -m churn campaign) with customerID and "
                                          "offer_id"),
        (camp.assign(offer_id=[""] + ["x"] * 19),
         "1 row(s) have no offer_id (file rows 2); every campaign row needs the offer made (or, "
         "for control, the would-be offer)"),
    ]
    for frame, message in cases:
        with pytest.raises(ValueError) as err:
            simulate.simulate_outcomes(frame, part)
        assert str(err.value) == message
    with pytest.raises(ValueError) as err:
        simulate.simulate_outcomes(camp, part, seed=-1)
    assert str(err.value) == "seed must be at least 0, got -1"


def test_history_outcomes_come_from_the_same_model(sample):
    """The sample's campaign history: measured control churn = mean control probability, and
    measured uplift per offer = mean true effect, within sampling error."""
    h = synth.generate_campaign_history(sample, config.SAMPLE_SEED)
    feats = sample.set_index("customerID", drop=False)
    rows = feats.loc[h["customerID"]]
    p0 = simulate.control_churn_prob(rows)
    eff = simulate.true_effects(rows, CAT.ids).to_numpy()
    e = eff[np.arange(len(h)), pd.Index(CAT.ids).get_indexer(h["offer_id"])]
    left = (h["churned"] == "Yes").to_numpy()
    ctrl = (h["group"] == "control").to_numpy()
    for g, probs in ((ctrl, p0[ctrl]), (~ctrl, (p0 - e)[~ctrl])):
        se = np.sqrt((probs * (1 - probs)).sum()) / len(probs)
        assert abs(left[g].mean() - probs.mean()) < 4 * se


# --- command line -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    synth.ensure_sample(config.paths(d))
    return d


def _export(path, customers, n=300):
    from churn.campaign import to_csv_bytes

    rows = pd.DataFrame({"customerID": customers["customerID"].iloc[:n].to_numpy(),
                         "churn_prob": 0.3, "offer": "Loyalty credit",
                         "offer_id": "loyalty_credit", "reason": "Tenure is short, so: loyal",
                         "group": ["treatment", "treatment", "control"] * (n // 3)})
    path.write_bytes(to_csv_bytes(rows))
    return rows


def test_cli_simulate_outcomes_default_customers(sample_dir, tmp_path, capsys, monkeypatch):
    from churn.cli import main

    monkeypatch.setenv("CHURN_DATA_DIR", str(sample_dir))
    p = config.paths(sample_dir)
    active = pd.read_csv(p.active_csv, dtype={"customerID": str})
    history = pd.read_csv(p.customers_csv, dtype={"customerID": str})
    gone = history[history["Churn"] == "Yes"].iloc[:3]   # history customers are found too
    both = pd.concat([active.iloc[:297], gone], ignore_index=True)
    rows = _export(tmp_path / "camp.csv", both)
    out = tmp_path / "res" / "results.csv"
    assert main(["simulate-outcomes", str(tmp_path / "camp.csv"), "--out", str(out),
                 "--seed", "4"]) == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(got.columns) == list(rows.columns) + ["accepted", "churned"]
    assert got["customerID"].tolist() == rows["customerID"].tolist()
    assert got["reason"].tolist() == rows["reason"].tolist()
    treat = got["group"] == "treatment"
    message = capsys.readouterr().out
    assert message == (
        f"Wrote {out}: 300 customers (200 treatment, 100 control); simulated outcomes (seed 4): "
        f"{(got.loc[treat, 'churned'] == 'Yes').sum()} treated and "
        f"{(got.loc[~treat, 'churned'] == 'Yes').sum()} control customers left within 30 days. "
        f"Demo only: real outcomes come from the CRM.\n")
    # the same as the core function on the same customers (active first, then history)
    hist = synth.generate_customers(config.SAMPLE_ROWS, config.SAMPLE_SEED)
    allc = pd.concat([synth.generate_active_base(hist, config.SAMPLE_SEED),
                      hist.drop(columns=["Churn"])], ignore_index=True)
    direct = simulate.simulate_outcomes(rows, allc.drop_duplicates("customerID"), seed=4)
    assert got["churned"].tolist() == direct["churned"].tolist()
    assert got["accepted"].tolist() == direct["accepted"].tolist()
    assert [f.name for f in out.parent.iterdir()] == ["results.csv"]      # no temporary files


def test_cli_simulate_outcomes_with_customers_file_and_guarded_ids(tmp_path, capsys):
    from churn.cli import main

    customers = synth.generate_customers(60, 2)
    customers.loc[0, "customerID"] = "+1-2"              # exported as '+1-2 (formula guard)
    (tmp_path / "c.csv").write_text(schema.to_file_frame(customers).to_csv(index=False))
    _export(tmp_path / "camp.csv", customers, n=60)
    assert "'+1-2" in (tmp_path / "camp.csv").read_text()
    out = tmp_path / "r.csv"
    assert main(["simulate-outcomes", str(tmp_path / "camp.csv"), "--out", str(out),
                 "--customers", str(tmp_path / "c.csv")]) == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got["customerID"].iloc[0] == "'+1-2"          # written formula-safe again
    assert len(got) == 60 and set(got["churned"]) <= {"Yes", "No"}
    capsys.readouterr()


def test_cli_simulate_outcomes_problems(tmp_path, capsys):
    from churn.cli import main

    customers = synth.generate_customers(30, 2)
    (tmp_path / "c.csv").write_text(schema.to_file_frame(customers).to_csv(index=False))
    other = synth.generate_customers(30, 3)
    _export(tmp_path / "camp.csv", other, n=30)
    out = tmp_path / "r.csv"
    args = ["--out", str(out), "--customers", str(tmp_path / "c.csv")]
    assert main(["simulate-outcomes", str(tmp_path / "camp.csv")] + args) == 1
    first = ", ".join(other["customerID"].iloc[:5])
    assert capsys.readouterr().err == (
        f"{tmp_path / 'camp.csv'}: 30 campaign customer(s) are not in the customer file: "
        f"{first} and 25 more. Pass the customers the campaign was built from (--customers "
        f"FILE: the active base or the file given to `python -m churn campaign --data`)\n")
    assert not out.exists()
    assert main(["simulate-outcomes", str(tmp_path / "missing.csv")] + args) == 2
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'missing.csv'}: cannot be read")
    (tmp_path / "empty.csv").write_text("customerID,offer_id,group\n")
    assert main(["simulate-outcomes", str(tmp_path / "empty.csv")] + args) == 1
    assert capsys.readouterr().err == f"{tmp_path / 'empty.csv'}: the file has no campaign rows.\n"
    assert main(["simulate-outcomes", str(tmp_path / "camp.csv"), "--out", str(out),
                 "--customers", str(tmp_path / "nope.csv")]) == 2
    assert capsys.readouterr().err == (f"{tmp_path / 'nope.csv'}: cannot be read. The file "
                                       f"\"{tmp_path / 'nope.csv'}\" does not exist.\n")
