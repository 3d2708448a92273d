"""Fixtures of the API tests (helpers in apitest.py): a module's data folder, its client, and
the sample customers as a client would send them."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from apitest import copy_trained, make_client  # noqa: E402

from churn import config  # noqa: E402


@pytest.fixture(scope="module")
def api_dir(tmp_path_factory) -> Path:
    return copy_trained(tmp_path_factory.mktemp("api") / "data")


@pytest.fixture(scope="module")
def client(api_dir):
    c = make_client(api_dir)
    yield c
    c.__exit__(None, None, None)


@pytest.fixture(scope="module")
def customers(api_dir) -> pd.DataFrame:
    """The sample as text, as a client would send it (the Churn column left out)."""
    df = pd.read_csv(config.paths(api_dir).customers_csv, dtype=str, keep_default_na=False)
    return df.drop(columns="Churn")
