"""Tests for churn.offers: catalogue loading/validation, applicability, rule candidates."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from churn import config, schema
from churn.conditions import value_phrase
from churn.offers import (CANDIDATE_COLUMNS, Catalogue, CatalogueError, Offer, Rule,
                          load_catalogue, parse_catalogue, rule_candidates)


def random_customers(n: int, seed: int) -> pd.DataFrame:
    """A random canonical frame without Churn (`_explain_fakes.random_customers`)."""
    from _explain_fakes import random_customers as draw

    return draw(n, seed)


def random_drivers(customers: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vals = rng.normal(0, 6, (len(customers), len(schema.FEATURES)))
    vals[rng.random(vals.shape) < 0.2] = 0.0
    return pd.DataFrame(vals, index=customers.index, columns=schema.FEATURES)


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


VALID_OFFER = '''
[[offer]]
id = "a"
name = "Offer A"
description = "Something."
cost = 10
risk_reduction = 0.2
applies_when = "always"
'''


def _err(text: str) -> str:
    with pytest.raises(CatalogueError) as e:
        parse_catalogue(text, source="test.toml")
    assert isinstance(e.value, ValueError)
    return str(e.value)


# --- loading -----------------------------------------------------------------------------------
def test_default_catalogue_loads(cat):
    assert cat.ids == ["contract_upgrade", "autopay_incentive", "tech_support_trial",
                       "security_trial", "plan_rightsize", "loyalty_credit", "onboarding_call",
                       "streaming_bundle", "fiber_care", "family_line"]
    assert len(cat.rules) == 14
    up = cat.offer("contract_upgrade")
    assert isinstance(up, Offer)
    assert (up.name, up.cost, up.risk_reduction) == ("Contract upgrade discount", 120.0, 0.45)
    assert str(up.applies_when) == 'Contract == "Month-to-month"'
    r0 = cat.rules[0]
    assert isinstance(r0, Rule)
    assert (r0.feature, r0.offers) == ("Contract", ("contract_upgrade", "loyalty_credit"))
    assert [r.feature for r in cat.rules] == [
        "Contract", "tenure", "PaymentMethod", "PaperlessBilling", "InternetService",
        "MonthlyCharges", "TechSupport", "OnlineSecurity", "OnlineBackup", "StreamingTV",
        "StreamingMovies", "Partner", "Dependents", "SeniorCitizen"]
    assert cat.source == str(config.paths().catalogue)


def test_load_uses_data_dir_copy_when_present(tmp_path, monkeypatch, cat):
    (tmp_path / "offers.toml").write_text(VALID_OFFER, encoding="utf-8")
    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path))
    own = load_catalogue()
    assert own.ids == ["a"] and own.rules == ()
    assert own.source == str(tmp_path / "offers.toml")


def test_round_trip(cat):
    text = cat.to_toml()
    again = parse_catalogue(text)
    assert again.offers == cat.offers and again.rules == cat.rules
    assert again.to_toml() == text
    assert text.startswith("# Retention offer catalogue and rules.")


def test_round_trip_odd_text():
    odd = parse_catalogue(VALID_OFFER.replace('"Something."', "\"Tom's \\\"deal\\\"\\nline 2\""))
    assert odd.offers[0].description == 'Tom\'s "deal"\nline 2'
    assert parse_catalogue(odd.to_toml()).offers == odd.offers


def test_offer_lookup_error(cat):
    with pytest.raises(ValueError) as e:
        cat.offer("contract_upgrad")
    assert str(e.value) == ('Unknown offer id "contract_upgrad" (did you mean '
                            '"contract_upgrade"?); '
                            "known offers: " + ", ".join(cat.ids))


def test_offers_frame(cat):
    f = cat.offers_frame()
    assert list(f.columns) == ["id", "name", "description", "cost", "risk_reduction",
                               "applies_when"]
    assert f["id"].tolist() == cat.ids
    assert f.loc[6, "applies_when"] == "tenure <= 12"


@pytest.mark.parametrize("text, message", [
    ("[[offer]\nid = 1",
     "test.toml: TOML syntax error at line 1, column 8: Expected ']]' at the end of an array "
     "declaration"),
    ('[[offer]]\nid = "a\n',
     "test.toml: TOML syntax error at line 2, column 8: Illegal character '\\n'"),
    ("", "test.toml: no [[offer]] entries; add at least one offer"),
    (VALID_OFFER + "[[offers]]\nid = 'b'\n",
     'test.toml: unknown section "offers" (did you mean "offer"?); the catalogue holds only '
     "[[offer]] and [[rule]] entries"),
    ("offer = 3\n",
     'test.toml: "offer" must be a list of [[offer]] entries; write [[offer]] (double '
     "brackets) above each entry"),
    (VALID_OFFER.replace('cost = 10\n', ''),
     'test.toml: offer 1 ("a"): missing field "cost"'),
    (VALID_OFFER.replace('id = "a"\n', ''),
     'test.toml: offer 1: missing field "id"'),
    (VALID_OFFER.replace('cost = 10', 'costs = 10'),
     'test.toml: offer 1 ("a"): unknown field "costs" (did you mean "cost"?); expected fields: '
     "id, name, description, cost, risk_reduction, applies_when"),
    (VALID_OFFER + VALID_OFFER.replace('"Offer A"', '"Another"'),
     'test.toml: offer 2: duplicate id "a" (already used by offer 1); give each offer its own id'),
    (VALID_OFFER.replace('cost = 10', 'cost = -5'),
     'test.toml: offer 1 ("a"): field "cost" must be 0 or more dollars, got -5'),
    (VALID_OFFER.replace('cost = 10', 'cost = "ten"'),
     'test.toml: offer 1 ("a"): field "cost" must be a number, got \'ten\''),
    (VALID_OFFER.replace('cost = 10', 'cost = true'),
     'test.toml: offer 1 ("a"): field "cost" must be a number, got True'),
    (VALID_OFFER.replace('cost = 10', 'cost = nan'),
     'test.toml: offer 1 ("a"): field "cost" must be a finite number, got nan'),
    (VALID_OFFER.replace('risk_reduction = 0.2', 'risk_reduction = 20'),
     'test.toml: offer 1 ("a"): field "risk_reduction" must be between 0 and 1 (a share of '
     "churn risk, e.g. 0.2 for 20%), got 20"),
    (VALID_OFFER.replace('risk_reduction = 0.2', 'risk_reduction = -0.1'),
     'test.toml: offer 1 ("a"): field "risk_reduction" must be between 0 and 1 (a share of '
     "churn risk, e.g. 0.2 for 20%), got -0.1"),
    (VALID_OFFER.replace('name = "Offer A"', 'name = ""'),
     'test.toml: offer 1 ("a"): field "name" must be non-empty text, got \'\''),
    (VALID_OFFER.replace('id = "a"', 'id = "a b"'),
     'test.toml: offer 1 ("a b"): field "id" must use only letters, digits and underscores, '
     "got 'a b'"),
    (VALID_OFFER.replace('"always"', """'Contract == "Monthly"'"""),
     'test.toml: offer 1 ("a"): field "applies_when": Value "Monthly" is not allowed for '
     'Contract in condition \'Contract == "Monthly"\'; allowed values: "Month-to-month", '
     '"One year", "Two year"'),
    (VALID_OFFER + '[[rule]]\nwhen = "tenure <= 12"\noffers = ["b"]\n',
     'test.toml: rule 1: offer "b" is not in the catalogue; known offers: a'),
    (VALID_OFFER + '[[rule]]\nwhen = "tenure <= 12"\noffers = ["A"]\n',
     'test.toml: rule 1: offer "A" is not in the catalogue; known offers: a'),
    (VALID_OFFER + '[[rule]]\nwhen = "tenure <= 12"\noffers = []\n',
     'test.toml: rule 1: field "offers" must be a non-empty list of offer ids, e.g. ["a"], '
     "got []"),
    (VALID_OFFER + '[[rule]]\nwhen = "tenure <= 12"\n',
     'test.toml: rule 1: missing field "offers"'),
    (VALID_OFFER + '[[rule]]\nwhen = "tenure <= 12 and MonthlyCharges > 70"\noffers = ["a"]\n',
     'test.toml: rule 1: field "when" must test exactly one feature, but '
     "'tenure <= 12 and MonthlyCharges > 70' reads tenure, MonthlyCharges; write one rule per "
     "feature"),
    (VALID_OFFER + '[[rule]]\nwhen = "always"\noffers = ["a"]\n',
     'test.toml: rule 1: field "when" must test exactly one feature, but \'always\' reads no '
     "feature; write one rule per feature"),
    (VALID_OFFER + '[[rule]]\nwhen = "tenure <= 12"\noffers = ["a"]\n'
     '[[rule]]\nwhen = "tenur <= 12"\noffers = ["a"]\n',
     'test.toml: rule 2: field "when": Unknown column "tenur" in condition \'tenur <= 12\' '
     '(did you mean "tenure"?); known columns: ' + ", ".join(schema.FEATURES)),
])
def test_malformed_catalogues(text, message):
    assert _err(text) == message


def test_missing_file(tmp_path):
    with pytest.raises(CatalogueError) as e:
        load_catalogue(tmp_path / "nope.toml")
    assert str(e.value) == f"{tmp_path / 'nope.toml'}: file not found; the catalogue is " \
                           "data/offers.toml"


def test_rule_single_offer_string_accepted():
    c = parse_catalogue(VALID_OFFER + '[[rule]]\nwhen = "tenure <= 12"\noffers = "a"\n')
    assert c.rules[0].offers == ("a",) and c.rules[0].feature == "tenure"


# --- applicability -----------------------------------------------------------------------------
def test_applicable_matches_conditions(cat):
    df = random_customers(300, 1)
    df.index = df.index + 1000
    app = cat.applicable(df)
    assert list(app.columns) == cat.ids and app.index.equals(df.index)
    assert app.dtypes.eq(bool).all()
    np.testing.assert_array_equal(app["contract_upgrade"], df["Contract"] == "Month-to-month")
    np.testing.assert_array_equal(app["plan_rightsize"], df["MonthlyCharges"] >= 60)
    np.testing.assert_array_equal(
        app["autopay_incentive"], df["PaymentMethod"].isin(["Electronic check", "Mailed check"]))
    assert app["loyalty_credit"].all()


# --- rule candidates ---------------------------------------------------------------------------
def _reference(cat, customers, drivers, top_k):
    """Slow per-customer implementation of the documented behaviour (independent check)."""
    out = {}
    for pos in range(len(customers)):
        row = customers.iloc[pos]
        d = drivers.iloc[pos]
        pos_feats = sorted([f for f in schema.FEATURES if d[f] > 0],
                           key=lambda f: (-d[f], schema.FEATURES.index(f)))[:top_k]
        best = {}
        for rule in cat.rules:
            if rule.feature not in pos_feats:
                continue
            if not rule.when.mask(customers.iloc[[pos]])[0]:
                continue
            for oid in rule.offers:
                if not cat.offer(oid).applies_when.mask(customers.iloc[[pos]])[0]:
                    continue
                if oid not in best or d[rule.feature] > best[oid][1]:
                    best[oid] = (rule.feature, d[rule.feature])
        for oid, (f, v) in best.items():
            out[(pos, oid)] = (f, v)
    return out


def test_candidates_match_reference(cat):
    customers = random_customers(400, 2)
    customers.index = [f"r{i}" for i in range(len(customers))]
    drivers = random_drivers(customers, 3)
    got = rule_candidates(cat, customers, drivers, top_k=5)
    assert list(got.columns) == CANDIDATE_COLUMNS
    ref = _reference(cat, customers, drivers, 5)
    pos_of = {lab: i for i, lab in enumerate(customers.index)}
    got_map = {(pos_of[lab], r.offer_id): (r.driver, r.driver_pp)
               for lab, r in zip(got.index, got.itertuples())}
    assert got_map == ref
    assert len(got) == len(ref) > 300


def test_reasons_name_a_positive_driver_with_its_number(cat):
    customers = random_customers(500, 4)
    drivers = random_drivers(customers, 5)
    got = rule_candidates(cat, customers, drivers, top_k=3)
    assert len(got) > 0
    for lab, r in zip(got.index, got.itertuples()):
        pp = drivers.loc[lab, r.driver]
        assert pp > 0 and r.driver_pp == pp
        # the driver is among this customer's top 3 positive drivers
        assert (drivers.loc[lab] > pp).sum() < 3
        value = customers.loc[lab, r.driver]
        amount = "under 0.1" if pp < 0.05 else f"{round(pp, 1):.1f}"
        expected = (f"{value_phrase(r.driver, value)}: adds {amount} points of churn risk → "
                    f"{cat.offer(r.offer_id).name}")
        assert r.reason == expected
        assert r.customerID == customers.loc[lab, "customerID"]
        # the rule behind it matches the customer's value
        assert any(rule.feature == r.driver and r.offer_id in rule.offers
                   and rule.when.mask(customers.loc[[lab]])[0] for rule in cat.rules)


def test_reason_text_examples(cat):
    customers = random_customers(2, 6)
    customers.loc[0, ["Contract", "tenure", "TotalCharges"]] = ["Month-to-month", 3, 210.0]
    drivers = pd.DataFrame(0.0, index=customers.index, columns=schema.FEATURES)
    drivers.loc[0, "Contract"] = 14.2
    drivers.loc[0, "tenure"] = 9.06
    got = rule_candidates(cat, customers, drivers)
    assert got.index.tolist() == [0, 0, 0]
    assert got["reason"].tolist() == [
        "Contract is Month-to-month: adds 14.2 points of churn risk → Contract upgrade discount",
        "Contract is Month-to-month: adds 14.2 points of churn risk → Loyalty credit",
        "Tenure of 3 months: adds 9.1 points of churn risk → Onboarding call",
    ]
    # loyalty_credit is proposed by both drivers: the stronger one (Contract) gives the reason
    assert got.set_index("offer_id").loc["loyalty_credit", "driver"] == "Contract"


def test_non_applicable_offers_are_never_proposed(cat):
    customers = random_customers(2000, 7)
    drivers = random_drivers(customers, 8)
    drivers[:] = np.abs(drivers.to_numpy()) + 0.01  # every feature raises risk
    got = rule_candidates(cat, customers, drivers, top_k=len(schema.FEATURES))
    app = cat.applicable(customers)
    assert app.to_numpy()[customers.index.get_indexer(got.index),
                          [cat.ids.index(o) for o in got["offer_id"]]].all()
    # ...and there are customers whose rules would have proposed a non-applicable offer:
    # MonthlyCharges < 60 on fiber → the fiber rule names plan_rightsize, which needs >= 60
    cheap_fiber = ((customers["InternetService"] == "Fiber optic")
                   & (customers["MonthlyCharges"] < 60))
    assert cheap_fiber.sum() > 0
    props = got[got.index.isin(customers.index[cheap_fiber])]
    assert "fiber_care" in set(props["offer_id"]) and "plan_rightsize" not in set(props["offer_id"])


def test_negative_and_zero_drivers_give_no_candidates(cat):
    customers = random_customers(50, 9)
    drivers = -np.abs(random_drivers(customers, 10))
    got = rule_candidates(cat, customers, drivers)
    assert list(got.columns) == CANDIDATE_COLUMNS and len(got) == 0


def test_candidate_argument_errors(cat):
    customers = random_customers(5, 11)
    drivers = random_drivers(customers, 12)
    with pytest.raises(ValueError) as e:
        rule_candidates(cat, customers, drivers.drop(columns=["tenure"]))
    assert str(e.value) == ("drivers_pp lacks feature column(s) tenure; pass one column per "
                            "schema feature (percentage points)")
    with pytest.raises(ValueError) as e:
        rule_candidates(cat, customers, drivers.iloc[:3])
    assert str(e.value) == ("drivers_pp (3 rows) must have the same index as customers (5 rows); "
                            "compute drivers on the same frame")
    with pytest.raises(ValueError) as e:
        rule_candidates(cat, customers, drivers, top_k=0)
    assert str(e.value) == "top_k must be a whole number of drivers >= 1, got 0"


def test_candidates_are_fast_on_100k(cat):
    customers = random_customers(100_000, 13)
    drivers = random_drivers(customers, 14)
    t0 = time.process_time()  # CPU time: robust to a busy machine
    got = rule_candidates(cat, customers, drivers)
    elapsed = time.process_time() - t0
    assert len(got) > 100_000
    assert elapsed < 10.0, f"rule_candidates took {elapsed:.1f} CPU s for 100,000 customers"
