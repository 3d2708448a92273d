"""Fixtures shared by the page tests.

`data_dir` (module scope): the shared trained data folder (the sample and a quickly trained
logistic regression, made once per session by `_explain_fakes.trained_data_dir`), pointed at by
`CHURN_DATA_DIR` for the module. A module that needs a folder of its own (upload, model report)
defines its own `data_dir`, which takes precedence.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _explain_fakes import trained_data_dir  # noqa: E402


@pytest.fixture(scope="module")
def data_dir():
    before = os.environ.get("CHURN_DATA_DIR")
    folder = trained_data_dir()
    os.environ["CHURN_DATA_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("CHURN_DATA_DIR", None)
    else:
        os.environ["CHURN_DATA_DIR"] = before
