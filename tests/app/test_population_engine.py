"""The scoring engine scores customers the model was trained on out-of-fold (churn.population),
on the shared trained data folder (tests/app/conftest.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn import population as P
from churn.schema import ID, TARGET


@pytest.fixture(scope="module")
def engine(data_dir):
    from churn.config import paths
    from churn.scoring import Engine

    return Engine.load(paths(data_dir))


def test_engine_scores_training_customers_out_of_fold(engine, data_dir):
    from churn import models

    assert engine.oof_prob is not None
    oof = models.load_oof(engine.version, engine_models_dir(data_dir))
    some = engine.customers.iloc[:200]
    table = engine.score(some, drivers=0, offers=False)
    expected = oof.set_index(ID).loc[some[ID], f"p_{engine.model.family}"].to_numpy()
    assert table["churn_prob"].to_numpy() == pytest.approx(expected, abs=1e-12)
    # and not the in-sample score (which differs for most rows)
    in_sample = engine.model.predict_proba(some)
    assert np.mean(np.abs(in_sample - expected) > 1e-6) > 0.9
    # an edited (or aged) customer is new data: the model's own score
    aged = some.assign(tenure=some["tenure"] + 1)
    table = engine.score(aged, drivers=0, offers=False)
    assert table["churn_prob"].to_numpy() == pytest.approx(engine.model.predict_proba(aged),
                                                           abs=1e-12)


def engine_models_dir(data_dir):
    from churn.config import paths

    return paths(data_dir).models_dir
