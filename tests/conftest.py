"""Shared test set-up: the whole session works in a temporary data folder.

- `CHURN_DATA_DIR` points at a fresh temporary folder for the entire test session (autouse), so
  no test reads or writes the user's `data/`. Tests that need their own folder still use
  pytest's `tmp_path`.
- `CHURN_TRACKING=off`: no MLflow logging, except in the tests of `churn.tracking`.
- `fast_first_start` (autouse): a data folder without a model trains one on first use
  (`churn.scoring.Engine.prepare`); in-process tests (AppTest) use a small configuration
  (logistic regression, 2 folds) so that takes seconds. The browser test's server is a separate
  process and trains the real default models.
- `sample_data_dir` (session scope) generates the default sample there once, with
  `churn.synth.ensure_sample`; the app and browser tests use it.
- `make test` runs the suite on two workers (pytest-xdist, `--dist loadfile`: each file stays on
  one worker, with its module fixtures). Every worker has its own session fixtures and data folder.
  The slowest files are collected first (`SLOW_FIRST`), so they overlap the many quick ones
  instead of ending the run alone.

The repository root is put on `sys.path`, so `pytest` works as well as `python -m pytest`.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# MLflow tracking off for the suite (its import and first database cost seconds per process);
# tests/test_tracking.py and tests/test_retrain.py turn it on where they test it.
os.environ["CHURN_TRACKING"] = "off"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session", autouse=True)
def churn_data_dir(tmp_path_factory) -> Path:
    """The session's data folder (empty at first); `CHURN_DATA_DIR` names it."""
    folder = tmp_path_factory.mktemp("churn-data")
    before = os.environ.get("CHURN_DATA_DIR")
    os.environ["CHURN_DATA_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("CHURN_DATA_DIR", None)
    else:
        os.environ["CHURN_DATA_DIR"] = before


#: Test files that take a minute or more, longest first (`pytest --durations` shows them).
SLOW_FIRST = ("tests/browser/test_browser.py", "tests/test_tracking.py",
              "tests/test_distributed.py", "tests/test_batch.py", "tests/test_batch_speed.py",
              "tests/test_results.py")


def pytest_collection_modifyitems(config, items):
    """Move the files of `SLOW_FIRST` to the front (in that order); the rest keep theirs."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}

    def key(item):
        path = item.nodeid.split("::", 1)[0]
        return rank.get(path, len(SLOW_FIRST))

    items.sort(key=key)


FAST_TRAIN = dict(families=("lr",), grid="small", folds=2)


@pytest.fixture(scope="session", autouse=True)
def fast_first_start():
    """Small first-start training for in-process tests (see the module docstring)."""
    from churn import models, scoring

    before = scoring.TRAIN_CONFIG
    scoring.TRAIN_CONFIG = models.TrainConfig(**FAST_TRAIN)
    yield scoring.TRAIN_CONFIG
    scoring.TRAIN_CONFIG = before


@pytest.fixture(autouse=True)
def real_main_module():
    """Puts back the test process's ``__main__`` after every test. Streamlit's script runner
    (AppTest) installs each page script as ``sys.modules["__main__"]`` and leaves it there;
    worker processes started later in the same pytest worker (``churn.batch``'s forkserver pool)
    would then run that script again on start-up, and a function script fails there
    ("NameError: name '__args' is not defined") depending on which test file ran first."""
    main = sys.modules.get("__main__")
    yield
    if main is not None and sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def sample_data_dir(churn_data_dir) -> Path:
    """The session's data folder with the default sample generated in it."""
    from churn.config import paths
    from churn.synth import ensure_sample

    p = ensure_sample(paths(churn_data_dir))
    assert p.customers_csv.is_file(), f"ensure_sample did not write {p.customers_csv}"
    return churn_data_dir


@pytest.fixture
def plugin_module(tmp_path):
    """``add(package, name, source) -> names``: one more module in a self-registering folder
    (`churn.plugins`: model families, validation rules) for one test, as if a newcomer had
    written the file; returns the modules the package's ``discover()`` now finds. Afterwards
    the folder and the module are forgotten (what the module registered is the test's to undo).
    """
    import importlib

    added: list[tuple[object, str, str]] = []

    def add(package, name: str, source: str) -> list[str]:
        import textwrap

        folder = tmp_path / f"plugins-{len(added)}"
        folder.mkdir()
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
        package.__path__.append(str(folder))
        added.append((package, str(folder), f"{package.__name__}.{name}"))
        return package.discover()

    yield add
    for package, folder, module in added:
        package.__path__.remove(folder)
        sys.modules.pop(module, None)
    importlib.invalidate_caches()
