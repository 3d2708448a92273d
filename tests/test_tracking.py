"""MLflow tracking and registry (churn.tracking) in a real temporary tracking store.

One module-scoped data folder: a small sample, two trained versions (the second as a challenger),
then activation. MLflow's own client reads back what was logged.
"""
from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from churn import models, tracking
from churn.config import paths

CFG = models.TrainConfig(families=("lr",), grid="small", folds=2)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from churn import synth

    data = tmp_path_factory.mktemp("mlflow-data")
    cwd = tmp_path_factory.mktemp("cwd")
    p = synth.ensure_sample(paths(data))
    frame = pd.read_csv(p.customers_csv)
    from churn.validate import load_customers

    customers = load_customers(p.customers_csv, require_target=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHURN_TRACKING", "on")
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.setenv("CHURN_DATA_DIR", str(data))
        mp.chdir(cwd)
        first = models.train(customers, CFG, p.models_dir)
        second = models.train(customers.iloc[:3000], CFG, p.models_dir, activate=False)
        import mlflow

        uri = tracking.tracking_uri(data)
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        yield {"p": p, "data": data, "cwd": cwd, "first": first, "second": second,
               "client": client, "raw": frame}


def test_tracking_uri_defaults_to_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.tracking_uri(tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    assert tracking.tracking_uri(tmp_path) == "http://mlflow.example:5000"


def test_a_training_run_is_logged_with_its_figures(world):
    first, client = world["first"], world["client"]
    assert first.warnings == []
    info = json.loads((world["p"].models_dir / first.version / "mlflow.json").read_text())
    run = client.get_run(info["run_id"])
    meta = first.metadata
    assert run.data.tags["churn_version"] == first.version
    assert run.data.tags["data_fingerprint"] == meta["data_fingerprint"]
    assert run.data.params["selected"] == "lr"
    assert run.data.params["config.folds"] == "2"
    assert run.data.params["lib.sklearn"] == meta["libraries"]["sklearn"]
    assert run.data.metrics["n_rows"] == meta["n_rows"] == 7043
    assert run.data.metrics["lr.cv.roc_auc"] == pytest.approx(meta["families"]["lr"]["cv"]["roc_auc"])
    assert run.data.metrics["cv.pr_auc"] == pytest.approx(meta["families"]["lr"]["cv"]["pr_auc"])
    names = {a.path for a in client.list_artifacts(info["run_id"])}
    assert {"grid.json", "curves", "libraries.json", "metadata.json"} <= names
    curves = {a.path for a in client.list_artifacts(info["run_id"], "curves")}
    assert curves == {"curves/curves.json", "curves/segments.json"}
    # the metrics are linked to the logged (registered) model too, as MLflow 3 shows them there
    logged = client.get_logged_model(info["model_id"])
    assert {m.key for m in logged.metrics} == set(run.data.metrics)
    assert len(logged.metrics) == len(run.data.metrics)  # each once


def test_everything_stays_in_the_data_folder(world):
    assert (world["data"] / "mlflow.db").is_file()
    assert (world["data"] / "mlartifacts").is_dir()
    assert not (world["cwd"] / "mlruns").exists()
    assert os.listdir(world["cwd"]) == []


def test_registered_and_aliases_move_on_activation(world):
    client, first, second = world["client"], world["first"], world["second"]
    champ = client.get_model_version_by_alias("churn", "champion")
    chall = client.get_model_version_by_alias("churn", "challenger")
    assert champ.tags["churn_version"] == first.version
    assert chall.tags["churn_version"] == second.version
    rows = {r["version"]: r for r in models.list_versions(world["p"].models_dir)}
    assert rows[first.version]["mlflow_model_version"] == str(champ.version)
    assert rows[second.version]["mlflow_run"] == chall.run_id

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHURN_TRACKING", "on")
        assert models.activate(second.version, world["p"].models_dir) == []
        now = client.get_model_version_by_alias("churn", "champion")
        assert now.tags["churn_version"] == second.version
        with pytest.raises(Exception, match="alias challenger not found|challenger"):
            client.get_model_version_by_alias("churn", "challenger")
        assert tracking.check_aliases(world["p"].models_dir)["agree"] is True
        # moved back (the rest of the module expects the first version active)
        models.activate(first.version, world["p"].models_dir)
    assert client.get_model_version_by_alias("churn", "champion").tags["churn_version"] \
        == first.version


def test_the_pyfunc_predicts_what_the_cli_writes(world, tmp_path):
    import mlflow.pyfunc

    from churn import cli

    raw = world["raw"].head(40).drop(columns="Churn")
    src = tmp_path / "in.csv"
    raw.to_csv(src, index=False)
    out = tmp_path / "out.parquet"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHURN_TRACKING", "on")
        assert cli.main(["--data-dir", str(world["data"]), "score", str(src), "--out",
                         str(out)]) == 0
        # the registry through the environment, undone with the block (mlflow.set_registry_uri
        # would leave a process-wide setting behind for later tests)
        mp.setenv("MLFLOW_REGISTRY_URI", tracking.tracking_uri(world["data"]))
        model = mlflow.pyfunc.load_model("models:/churn@champion")
        got = model.predict(pd.read_csv(src, dtype=str, keep_default_na=False))
    want = pd.read_parquet(out)
    assert got.columns.tolist() == want.columns.tolist()
    assert got[["customerID", "churn_prob", "risk_tier", "clv", "offer_id"]].shape == (40, 5)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  check_dtype=False)


def test_tracking_failure_never_loses_the_model(tmp_path, monkeypatch):
    from churn import synth
    from churn.validate import load_customers

    p = synth.ensure_sample(paths(tmp_path))
    customers = load_customers(p.customers_csv, require_target=True).head(800)
    monkeypatch.setenv("CHURN_TRACKING", "on")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "nosuchscheme://nowhere")
    result = models.train(customers, CFG, p.models_dir)
    assert models.active_version(p.models_dir) == result.version
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(f"MLflow tracking failed for model version "
                                         f"{result.version} (")
    assert result.warnings[0].endswith("); the model is saved and usable.")
    assert not (p.models_dir / result.version / "mlflow.json").exists()


def test_tracking_off_imports_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_TRACKING", "off")
    assert tracking.log_version(tmp_path, "0123456789abcdef", alias="champion") == []


def test_check_aliases_reads_the_registry_without_mlflow(world):
    """The Model health page's check: the embedded registry read directly (no MLflow import),
    a disagreement put in by hand (as in MLflow's UI) named in one sentence."""
    import subprocess
    import sys

    from churn.config import ROOT

    client, first, second = world["client"], world["first"], world["second"]
    md = world["p"].models_dir
    code = ("import sys, json; from churn import tracking\n"
            f"r = tracking.check_aliases({str(md)!r})\n"
            "print(json.dumps([r['agree'], r['champion'], r['message'], 'mlflow' in sys.modules]))")

    def check():
        env = {**os.environ, "CHURN_TRACKING": "on"}
        env.pop("MLFLOW_TRACKING_URI", None)
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    assert check() == [True, first.version, "", False]
    other = tracking.run_info(md / second.version)["model_version"]
    champ = client.get_model_version_by_alias("churn", "champion")
    client.set_registered_model_alias("churn", "champion", other)
    try:
        assert check() == [False, second.version,
                           f"MLflow's registry names version {second.version} as champion, but "
                           f"the app uses version {first.version}; run `python -m churn models "
                           f"--activate {first.version}` to publish the one in use.", False]
    finally:
        client.set_registered_model_alias("churn", "champion", champ.version)


def test_champion_follows_the_pointer_whatever_a_late_job_says(world):
    """Jobs can finish out of order: a job told to publish a version that is no longer active
    publishes the pointer's version."""
    client, first, second = world["client"], world["first"], world["second"]
    md = world["p"].models_dir
    assert models.active_version(md) == first.version
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHURN_TRACKING", "on")
        assert tracking.log_version(md, second.version, alias="champion") == []
    assert client.get_model_version_by_alias("churn", "champion").tags["churn_version"] \
        == first.version


def test_background_activation_returns_at_once_and_logs(world):
    client, first, second = world["client"], world["first"], world["second"]
    md = world["p"].models_dir
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHURN_TRACKING", "background")
        try:
            assert models.activate(second.version, md) == []       # nobody waits
            assert len(tracking._PENDING) == 1
            assert tracking.wait_pending() == []
            now = client.get_model_version_by_alias("churn", "champion")
            assert now.tags["churn_version"] == second.version
        finally:
            mp.setenv("CHURN_TRACKING", "on")
            assert models.activate(first.version, md) == []
    assert client.get_model_version_by_alias("churn", "champion").tags["churn_version"] \
        == first.version


APP_COLD_START = r"""
import json, sys
from churn import models, scoring, tracking
scoring.TRAIN_CONFIG = models.TrainConfig(families=("lr",), grid="small", folds=2)
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=600)
at.run()
assert not at.exception, [e.value for e in at.exception]
imported = "mlflow" in sys.modules
pending = len(tracking._PENDING)
warnings = tracking.wait_pending(600)
print(json.dumps([imported, pending, warnings, tracking.background()]))
"""


def test_app_first_start_never_waits_on_mlflow_and_the_run_is_logged(tmp_path):
    """The app's first start (a data folder without a model) trains, activates and shows the
    Overview without importing MLflow; the run is logged by the tracking job it started."""
    import subprocess
    import sys

    from churn import synth
    from churn.config import ROOT

    p = paths(tmp_path / "data")
    synth.write_sample(p.sample_dir, 1500, 42, catalogue=p.catalogue)
    env = {**os.environ, "CHURN_DATA_DIR": str(p.data_dir)}
    env.pop("CHURN_TRACKING", None)  # the app's own default: background
    env.pop("MLFLOW_TRACKING_URI", None)
    out = subprocess.run([sys.executable, "-c", APP_COLD_START, str(ROOT / "app.py")], cwd=ROOT,
                         env=env, check=True, capture_output=True, text=True).stdout
    imported, pending, warnings, background = json.loads(out.strip().splitlines()[-1])
    assert (imported, pending, warnings, background) == (False, 1, [], True)
    version = models.active_version(p.models_dir)
    info = tracking.run_info(p.models_dir / version)
    assert info["registered"] is True
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHURN_TRACKING", "on")
        assert tracking.check_aliases(p.models_dir)["agree"] is True
        assert tracking._champion_from_sqlite(p.data_dir) == version


def test_a_tracking_block_leaves_no_process_wide_uri_behind(tmp_path, monkeypatch):
    """In the full suite a client built later with only a tracking URI looked for the registry
    in the database of a data folder an earlier test had tracked to (MLflow keeps the URIs in
    process-wide globals): "Registered Model with name=churn not found"."""
    import mlflow

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    a = tracking.tracking_uri(tmp_path / "a")
    with tracking._client(tmp_path / "a") as (ml, client):
        assert ml.get_registry_uri() == a == ml.get_tracking_uri()
    assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == before
    assert "MLFLOW_REGISTRY_URI" not in os.environ and "MLFLOW_TRACKING_URI" not in os.environ
    b = tracking.tracking_uri(tmp_path / "b")
    assert mlflow.MlflowClient(tracking_uri=b)._registry_uri == b
