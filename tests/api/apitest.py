"""Helpers the API tests share: the test keys, a data folder of their own (a copy of the shared
trained one: the sample and a quickly trained logistic regression), and clients of apps built on
it.

`make_client(data_dir, **settings)` builds an app with the test keys, enters it (the engine
loads in the background, as in production) and waits until ``/v1/health/ready`` says so.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _explain_fakes import trained_data_dir  # noqa: E402

from api.app import create_app  # noqa: E402
from api.settings import ApiSettings  # noqa: E402
from churn import config  # noqa: E402

READ_KEY = "read-key-for-tests-0123456789abcdefghijklmnop"
ADMIN_KEY = "admin-key-for-tests-0123456789abcdefghijklmnop"
WRONG_KEY = "not-a-key"


def copy_trained(target: Path) -> Path:
    from churn.scoring import Engine

    source = trained_data_dir()
    Engine.prepare(config.paths(source))  # fit the survival model + recommender once
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.duckdb*", "api-jobs",
                                                                  "cache"))
    return target


def make_client(data_dir: Path, **overrides) -> TestClient:
    values = dict(api_key=READ_KEY, admin_key=ADMIN_KEY, data_dir=data_dir,
                  rate_per_minute=100_000)
    values.update(overrides)
    client = TestClient(create_app(ApiSettings(**values)), raise_server_exceptions=False)
    client.__enter__()
    deadline = time.monotonic() + 300
    while client.get("/v1/health/ready").status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError("the API never became ready")
        time.sleep(0.1)
    return client


READ = {"X-API-Key": READ_KEY}
ADMIN = {"X-API-Key": ADMIN_KEY}
WRONG = {"X-API-Key": WRONG_KEY}
