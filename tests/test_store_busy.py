"""The command line and the app on one data folder (issue 17, failure 8), with real processes.

The rule (`churn.store`): one process writes a data folder's store, the first to open it
(normally the app). A second process cannot open it at all (DuckDB's file lock), gets
`StoreBusy` naming the holder. `train` and `models --activate` do not touch the store (the
models folder is the one record of trained versions and of the active one), so they work as
usual while the app holds it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from churn import config, models, schema, synth
from churn.store import Store, StoreBusy

ROOT = Path(__file__).resolve().parent.parent

HOLD = """
import sys, time
from churn.store import Store
store = Store(sys.argv[1])
store.list_batches()
print("holding", flush=True)
time.sleep(600)
"""


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CHURN_DATA_DIR=str(folder))
    return subprocess.run([sys.executable, "-m", "churn", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def holder(tmp_path):
    """Another process (standing in for the app) holding the data folder's store."""
    folder = tmp_path / "data"
    store_path = config.paths(folder).store
    store_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(store_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    yield folder, proc
    proc.kill()
    proc.wait(timeout=10)


def test_a_second_process_is_told_who_holds_the_store(holder):
    folder, proc = holder
    path = config.paths(folder).store.resolve()
    with pytest.raises(StoreBusy) as e:
        Store(path)
    assert str(e.value) == (f"The workbench store {path} is in use by process {proc.pid} "
                            "(normally the app), and only one process at a time can open it")
    assert e.value.holder == f"PID {proc.pid}"


def test_train_and_activate_while_the_app_holds_the_store(holder, tmp_path):
    folder, proc = holder
    data = tmp_path / "train.csv"
    schema.to_file_frame(synth.generate_customers(400, 3)).to_csv(data, index=False)
    store_path = config.paths(folder).store.resolve()
    busy = (f"The workbench store {store_path} is in use by process {proc.pid} (normally the "
            "app), and only one process at a time can open it")

    p = _cli(folder, "train", "--models", "lr", "--data", str(data))
    assert p.returncode == 0, p.stderr
    assert busy not in p.stderr and "Note:" not in p.stderr      # nothing was left unwritten
    models_dir = config.paths(folder).models_dir
    versions = [v["version"] for v in models.list_versions(models_dir)]
    assert len(versions) == 1
    version = versions[0]
    assert f"Version {version}, trained in" in p.stdout and "now active." in p.stdout
    assert models.active_version(models_dir) == version      # the one record of the active model

    p = _cli(folder, "models", "--activate", version)       # needs no store
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == f"Activated model version {version}."

    proc.kill()                                                # the app stops
    proc.wait(timeout=10)
    time.sleep(0.5)
    store = Store(store_path)                                  # the store still opens
    try:
        assert store.list_batches().empty
    finally:
        store.close()
    assert models.active_version(models_dir) == version
