"""Tests for churn.predict: customers as records, checked by the file validator (its messages,
the record's position as the row) and scored by the engine (checked against the engine's own
table, and the explanation's additivity)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _explain_fakes import json_records as records, trained_data_dir  # noqa: E402

from churn import config, predict as P, schema  # noqa: E402
from churn.validate import (MSG_EXTRA_COLUMNS, MSG_ID_DUPLICATE, MSG_MISSING_CHOICE,  # noqa: E402
                            MSG_UNKNOWN_CHOICE, Problem)

CONTRACTS = "Month-to-month, One year, Two year"


@pytest.fixture(scope="module")
def engine():
    from churn.scoring import Engine

    return Engine.load(config.paths(trained_data_dir()))


@pytest.fixture(scope="module")
def sample(engine) -> pd.DataFrame:
    return engine.customers


def test_records_frame_has_every_column_as_text_and_keeps_extra_keys():
    f = P.records_frame([{"customerID": "0001-AAAAA", "tenure": 5, "MonthlyCharges": 70.0,
                          "TotalCharges": None, "SeniorCitizen": True, "note": "x"},
                         {"gender": "Male", "MonthlyCharges": 29.85}])
    assert list(f.columns) == schema.REQUIRED_COLUMNS + ["note"]
    assert f.loc[0, "tenure"] == "5" and f.loc[0, "MonthlyCharges"] == "70"
    assert f.loc[0, "TotalCharges"] == "" and f.loc[0, "SeniorCitizen"] == "Yes"
    assert f.loc[1, "customerID"] == "" and f.loc[1, "MonthlyCharges"] == "29.85"
    assert f.loc[1, "note"] == ""


def test_records_must_be_a_list_of_objects():
    with pytest.raises(ValueError, match="records must be a list of objects"):
        P.records_frame([1, 2])


def test_check_records_gives_validator_messages_with_list_positions(sample):
    recs = records(sample.head(4))
    recs[1]["Contract"] = "Weekly"
    recs[2]["gender"] = None
    recs[3]["customerID"] = recs[0]["customerID"]
    recs[0]["loyalty"] = "gold"
    check = P.check_records(recs)
    assert sorted(check.errors, key=lambda p: p.row) == [
        Problem(1, "Contract", MSG_UNKNOWN_CHOICE.format(value="Weekly", allowed=CONTRACTS)),
        Problem(2, "gender", MSG_MISSING_CHOICE.format(allowed="Female, Male")),
        Problem(3, "customerID", MSG_ID_DUPLICATE.format(value=recs[0]["customerID"], first=0)),
    ]
    assert Problem(None, None, MSG_EXTRA_COLUMNS.format(
        count="1 column", is_are="is", names='"loyalty"')) in check.warnings
    assert list(check.frame.index) == [0]
    pd.testing.assert_frame_equal(check.frame.reset_index(drop=True),
                                  sample.head(1).drop(columns=schema.TARGET).reset_index(drop=True),
                                  check_dtype=False)


def test_predict_matches_the_engines_table_and_reports_bad_records(engine, sample):
    recs = records(sample.head(5))
    recs[2]["tenure"] = "abc"
    out = P.predict(engine, recs)
    assert out.model_version == engine.version
    assert [r["row"] for r in out.results] == [0, 1, 3, 4]
    assert [e["row"] for e in out.errors] == [2] and out.errors[0]["column"] == "tenure"
    good = sample.iloc[[0, 1, 3, 4]]
    scored = engine.score_all(good.drop(columns=schema.TARGET))  # as sent: no Churn column
    table = scored.table
    ranked_by_id = {k: g for k, g in scored.ranked.groupby("customerID")}
    for res, (_, t) in zip(out.results, table.iterrows()):
        assert res["customerID"] == t["customerID"]
        assert res["churn_probability"] == pytest.approx(t["churn_prob"], abs=1e-6)
        assert res["risk_tier"] == t["risk_tier"]
        assert res["clv"] == pytest.approx(t["clv"], abs=0.005)
        assert res["revenue_at_risk"] == pytest.approx(t["revenue_at_risk"], abs=0.005)
        assert [d["feature"] for d in res["drivers"]] == [t[f"driver_{j}"] for j in (1, 2, 3)
                                                          if t[f"driver_{j}"]]
        assert all(d["points"] > 0 for d in res["drivers"])
        if not t["offer_id"]:  # no offer from the engine (e.g. a sleeping dog): none here
            assert res["offers"] == [] and res["offer_note"] == (t["offer_reason"] or None)
            continue
        assert res["offers"][0]["offer_id"] == t["offer_id"]
        assert res["offers"][0]["expected_net_value"] == pytest.approx(t["offer_net_value"],
                                                                       abs=0.005)
        assert [o["rank"] for o in res["offers"]] == list(range(1, len(res["offers"]) + 1))
        mine = ranked_by_id[res["customerID"]]
        assert [o["effect"] for o in res["offers"]] == list(mine["basis"])


def test_predict_with_no_usable_record_returns_only_errors(engine, sample):
    recs = records(sample.head(1))
    recs[0]["Contract"] = "Weekly"
    out = P.predict(engine, recs)
    assert out.results == []
    assert out.errors == [{"row": 0, "column": "Contract", "message": MSG_UNKNOWN_CHOICE.format(
        value="Weekly", allowed=CONTRACTS)}]


def test_explain_record_adds_up_to_the_probability(engine, sample):
    result, errors = P.explain_record(engine, records(sample.iloc[[7]])[0])
    assert errors == []
    pts = [c["points"] for c in result["contributions"]]
    assert sorted(c["feature"] for c in result["contributions"]) == sorted(schema.FEATURES)
    assert pts == sorted(pts, key=abs, reverse=True)
    assert 100 * result["baseline_probability"] + sum(pts) == pytest.approx(
        100 * result["churn_probability"], abs=1e-3)
    expected = float(engine.model.predict_proba(sample.iloc[[7]])[0])
    assert result["churn_probability"] == pytest.approx(expected, abs=1e-6)


def test_explain_record_reports_the_validator_message(engine, sample):
    rec = records(sample.head(1))[0]
    rec["tenure"] = 500
    result, errors = P.explain_record(engine, rec)
    assert result is None
    assert errors == [{"row": 0, "column": "tenure",
                       "message": '"500" is outside the allowed range of 0 to 120 months.'}]


def test_recommend_ranks_every_applicable_offer_with_both_parts(engine, sample):
    results, errors = P.recommend(engine, records(sample.head(2)))
    assert errors == []
    ranked = engine.score_all(sample.head(2).drop(columns=schema.TARGET), drivers=0,
                              top_offers=None).ranked
    for res in results:
        mine = ranked[ranked["customerID"] == res["customerID"]]
        assert [o["offer_id"] for o in res["offers"]] == list(mine["offer_id"])
        assert [o["p_accept"] for o in res["offers"]] == pytest.approx(list(mine["p_accept"]),
                                                                      abs=1e-6)
        assert [o["from_rules"] for o in res["offers"]] == list(mine["from_rules"])
        dog = bool(mine["sleeping_dog"].any()) if "sleeping_dog" in mine else False
        assert res["sleeping_dog"] is dog
        assert res["note"] == (P.SLEEPING_DOG_REASON if dog else None)
        for o in res["offers"]:
            assert o["reason"] == (o["rule_reason"] if o["from_rules"] else
                                   f"No rule proposed it; likely to be accepted (P(accept) "
                                   f"{o['p_accept']:.0%})")


def test_offer_records_reads_a_learned_effect_column_when_present():
    ranked = pd.DataFrame({"customerID": ["a", "a"], "rank": [1, 2], "offer_id": ["x", "y"],
                           "offer_name": ["X", "Y"], "offer_cost": [10.0, 20.0],
                           "p_accept": [0.5, 0.4], "rule_reason": ["r", ""],
                           "from_rules": [True, False], "expected_saved_value": [30.0, 25.0],
                           "expected_net_value": [20.0, 5.0], "ranking_score": [20.0, 0.0],
                           "basis": ["learned", "assumed"], "uplift": [0.04, 0.01]})
    out = P.offer_records(ranked)["a"]
    assert [o["effect"] for o in out] == ["learned", "assumed"]
    assert [o["uplift"] for o in out] == [0.04, None]
    plain = P.offer_records(ranked.drop(columns=["basis", "uplift"]))["a"]
    assert [o["effect"] for o in plain] == ["assumed", "assumed"]
    assert [o["uplift"] for o in plain] == [None, None]


def test_duplicate_ids_and_empty_records_are_reported_by_position(sample):
    recs = [{}] + records(sample.head(2))
    recs.append(dict(recs[2]))
    check = P.check_records(recs)
    assert check.errors == [
        Problem(0, None, P.MSG_EMPTY_RECORD.format(examples="customerID, gender, SeniorCitizen")),
        Problem(3, "customerID", MSG_ID_DUPLICATE.format(value=recs[2]["customerID"], first=2)),
    ]
    assert list(check.frame.index) == [1, 2]
    assert list(check.frame[schema.ID]) == list(sample[schema.ID].head(2))
