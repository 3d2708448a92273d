"""The one-customer path of `churn.predict.predict` gives the batch path's numbers.

One customer takes the small-input branches (the validator's and the engine's few-row paths:
`churn.validate` built from the record, `churn.scoring.Engine.score_one` ...); a list of over a
hundred takes the batch branches. Every output field of every customer must agree: scored one at
a time or all in one call, for every model family the engine can hold (lr, rf, xgb, cat, with the
uplift model of a data folder's campaign history), on varied customers with the edge values
(tenure 0 with TotalCharges null, a blank total at tenure > 0 that the validator estimates, no
internet or phone service, values sent as text, training customers whose score is out-of-fold)
and on records the validator rejects (same messages, row = the record's position).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _explain_fakes import (json_records as _json, random_customers, real_models,  # noqa: E402
                            trained_data_dir)

from churn import config, predict as P, schema  # noqa: E402

FAMILIES = ("lr", "rf", "xgb", "cat")
FLOAT_TOL = 1e-9


def varied_records(engine, n_random: int = 60) -> list[dict]:
    """Random customers of every category, training customers (out-of-fold scores) and the
    edge cases; customer IDs unique across the list."""
    recs = _json(random_customers(n_random, seed=17))
    recs += _json(engine.customers.head(25))                     # trained on: out-of-fold
    edge = _json(random_customers(40, seed=23))
    for i, r in enumerate(edge):
        r[schema.ID] = f"9{i:03d}-EDGEX"
    for r in edge[:6]:                                             # not billed yet
        r.update(tenure=0, TotalCharges=None)
    for r in edge[6:10]:                                           # blank total, tenure > 0
        r.update(tenure=12, TotalCharges=None)
    for r in edge[10:16]:                                          # no internet service
        r["InternetService"] = "No"
        for c in schema.COLUMNS:
            if c.parent == "InternetService":
                r[c.name] = "No internet service"
    for r in edge[16:20]:                                          # phone-less
        r.update(PhoneService="No", MultipleLines="No phone service")
    for r in edge[20:24]:                                          # everything as text
        r.update({k: ("" if v is None else str(v)) for k, v in r.items()})
    for r in edge[24:27]:                                          # SeniorCitizen Yes/No words
        r["SeniorCitizen"] = "Yes" if r["SeniorCitizen"] else "No"
    edge[27]["tenure"] = 72
    edge[28].update(MonthlyCharges=118.75, tenure=1, TotalCharges=118.75)
    edge[29]["Contract"] = "Weekly"                                # rejected
    edge[30]["tenure"] = -3                                        # rejected
    edge[31]["MonthlyCharges"] = "abc"                             # rejected
    edge[32].pop("gender")                                         # rejected (blank)
    edge[33]["loyalty"] = "gold"                                   # extra key: a warning
    edge[34]["InternetService"] = "No"                             # add-ons disagree: rejected
    edge[35]["customerID"] = "  " + edge[35]["customerID"]         # trimmed: a warning
    return recs + edge


def _close(a, b, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) <= FLOAT_TOL, f"{where}: {a!r} != {b!r}"
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def assert_one_equals_batch(engine, recs: list[dict]) -> None:
    batch = P.predict(engine, recs)
    by_row = {r["row"]: r for r in batch.results}
    errors_by_row: dict[int, list] = {}
    for e in batch.errors:
        errors_by_row.setdefault(e["row"], []).append((e["column"], e["message"]))
    scored = 0
    for i, rec in enumerate(recs):
        one = P.predict(engine, [rec])
        assert one.model_version == batch.model_version
        if i in by_row:
            assert len(one.results) == 1 and not one.errors, (i, one.errors)
            want = dict(by_row[i], row=0)
            _close(one.results[0], want, f"record {i}")
            scored += 1
        else:
            assert one.results == []
            assert sorted((e["column"], e["message"]) for e in one.errors) == \
                sorted(errors_by_row[i]), i
            assert all(e["row"] == 0 for e in one.errors)
    assert scored == len(batch.results) and scored >= len(recs) - 8


@pytest.fixture(scope="module")
def data_engine():
    """The engine of a trained data folder: logistic regression, survival model, recommender
    and the uplift model learned from the sample's campaign history."""
    from churn.scoring import Engine

    engine = Engine.load(config.paths(trained_data_dir()))
    assert engine.uplift is not None
    return engine


@pytest.fixture(scope="module")
def family_models():
    return real_models(FAMILIES)[0]


@pytest.mark.parametrize("family", FAMILIES)
def test_one_customer_equals_the_batch_for_every_family(data_engine, family_models, family):
    from churn.scoring import Engine

    e = data_engine
    engine = Engine(family_models[family], e.survival, e.recommender, e.catalogue, e.customers,
                    oof_prob=e.oof_prob, uplift=e.uplift)
    assert_one_equals_batch(engine, varied_records(e))


def test_one_customer_equals_the_batch_with_the_data_folders_model(data_engine):
    """Also the engine exactly as `Engine.load` builds it (its own out-of-fold scores)."""
    assert data_engine.oof_prob is not None
    assert_one_equals_batch(data_engine, varied_records(data_engine, n_random=60))


def test_one_customer_without_offers_or_drivers_equals_the_batch(data_engine):
    recs = varied_records(data_engine, n_random=40)
    for kw in ({"offers": 0}, {"drivers": 0}, {"offers": 1, "drivers": 5}):
        batch = P.predict(data_engine, recs, **kw)
        by_row = {r["row"]: r for r in batch.results}
        for i, rec in enumerate(recs):
            one = P.predict(data_engine, [rec], **kw)
            if i in by_row:
                _close(one.results[0], dict(by_row[i], row=0), f"{kw} record {i}")


# --- the small-input branches, each against the general one ----------------------------------
def test_validator_reads_columns_of_text_exactly_as_a_frame_of_text(data_engine):
    """`validate_chunk` of {header: texts} gives the report of the same DataFrame of text."""
    from churn.validate import validate_chunk

    recs = varied_records(data_engine, n_random=20)
    recs[3]["customerID"] = recs[2]["customerID"]                  # a duplicate
    recs[5]["Contract"] = " month-to-month "                        # read with a warning
    columns = P.record_columns(recs)
    a = validate_chunk(columns)
    b = validate_chunk(pd.DataFrame(columns, dtype=object))
    assert a.errors == b.errors and a.warnings == b.warnings
    assert len(a.errors) >= 5 and len(a.warnings) >= 2
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.rejected_frame(), b.rejected_frame())


def test_validator_columns_of_text_must_have_one_length():
    from churn.validate import validate_chunk

    with pytest.raises(ValueError) as err:
        validate_chunk({"customerID": ["0001-AAAAA"], "gender": []})
    assert str(err.value) == "columns of text must all have the same length, got lengths [0, 1]"


def test_text_lengths_and_line_breaks_agree_with_pyarrow():
    from churn.validate import checks

    texts = np.array(["", "abc", "é" * 7, "a\nb", "x\r", "日本語", " 12,5 ", "🙂"] * 3,
                     dtype=object)
    few = checks._lengths_and_breaks(texts[:8])
    many = checks._lengths_and_breaks(np.concatenate([texts] * 4))   # ≥ 64: pyarrow
    assert len(texts) * 4 >= checks._SMALL_UNIQUES
    assert few[0].tolist() == [0, 3, 7, 3, 2, 3, 6, 1] == many[0][:8].tolist()
    assert few[1].tolist() == [False, False, False, True, True, False, False, False] \
        == many[1][:8].tolist()


def test_catboost_shap_of_a_few_rows_is_the_loops_bit_for_bit(family_models):
    from catboost import Pool

    from churn import catboost_shap

    est = family_models["cat"].estimator
    X = schema.feature_frame(random_customers(200, seed=4))
    tables = est._shap_tables(X)
    assert tables is not None
    leaves = np.asarray(est.estimator_.calc_leaf_indexes(Pool(X, cat_features=est.CAT_INDEX)))
    assert len(leaves) >= catboost_shap.FEW_ROWS
    every = tables.values(leaves, X.shape[1])                        # the loop over trees
    for i in range(0, 200, 9):
        few = tables.values(leaves[i:i + 3], X.shape[1])             # the gather
        assert np.array_equal(few, every[i:i + 3])
    ref = np.asarray(est.estimator_.get_feature_importance(
        Pool(X.iloc[:2], cat_features=est.CAT_INDEX), type="ShapValues"))
    np.testing.assert_allclose(tables.values(leaves[:2], X.shape[1]), ref[:, :-1], atol=1e-9)
