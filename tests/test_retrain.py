"""The retraining decision (churn.retrain, python -m churn retrain): every path, exact messages.

A template data folder (the default sample and a small logistic-regression champion trained on
it) is copied for each test, so every decision starts from the same state.
"""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from churn import metrics as M
from churn import models, retrain
from churn.config import paths

CFG = models.TrainConfig(families=("lr",), grid="small", folds=2)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    from churn import synth
    from churn.validate import load_customers

    data = tmp_path_factory.mktemp("retrain-template")
    p = synth.ensure_sample(paths(data))
    sample = load_customers(p.customers_csv, require_target=True)
    champion = models.train(sample, CFG, p.models_dir).version
    return data, champion


@pytest.fixture
def world(template, tmp_path):
    data, champion = template
    shutil.copytree(data, tmp_path / "data")
    p = paths(tmp_path / "data")
    raw = pd.read_csv(p.customers_csv, dtype=str, keep_default_na=False)
    return p, champion, raw


def run(p, source, **kw):
    kw.setdefault("config", CFG)
    return retrain.retrain(source, data_dir=p.data_dir, **kw)


def test_no_churn_column_is_invalid(world, tmp_path):
    p, champion, raw = world
    f = tmp_path / "no_outcome.csv"
    raw.drop(columns="Churn").to_csv(f, index=False)
    d = run(p, f)
    assert (d.outcome, d.exit_code) == ("invalid", 2)
    assert d.message == (f"Cannot retrain: {f} has no Churn column, so there are no outcomes "
                         "to learn from.")
    assert models.active_version(p.models_dir) == champion


def test_too_few_rows_is_skipped(world, tmp_path):
    p, champion, raw = world
    f = tmp_path / "small.csv"
    raw.head(50).to_csv(f, index=False)
    d = run(p, f)
    assert (d.outcome, d.exit_code) == ("skipped-too-few", 21)
    assert d.message == (f"Skipped: {f} has 50 valid labelled customers; at least 1,000 are "
                         "needed (--min-rows).")


def test_one_outcome_only_is_invalid(world, tmp_path):
    p, _, raw = world
    f = tmp_path / "stayers.csv"
    raw[raw["Churn"] == "No"].to_csv(f, index=False)
    d = run(p, f)
    assert (d.outcome, d.exit_code) == ("invalid", 2)
    assert d.message == (f"Cannot retrain: every customer in {f} has the same outcome "
                         "(Churn=No); a model needs both.")


def test_unchanged_data_is_skipped(world):
    p, champion, _ = world
    d = run(p, None)
    assert (d.outcome, d.exit_code) == ("skipped-unchanged", 20)
    assert d.message == ("Skipped: the workbench customer file holds exactly the customers and "
                         f"outcomes champion {champion} was trained on; nothing changed.")
    assert d.challenger is None


def test_no_drift_with_if_drift_is_skipped(world, tmp_path):
    p, _, raw = world
    f = tmp_path / "more_of_the_same.csv"
    raw.sample(3000, random_state=1).to_csv(f, index=False)
    d = run(p, f, if_drift=True)
    assert (d.outcome, d.exit_code) == ("skipped-no-drift", 22)
    assert d.message == (f"Skipped: no feature of {f} has shifted from the training customers "
                         "and --if-drift was given.")
    assert "every population stability index below 0.1" in d.reasons[-2]


def _expected_scores(p, d, source_frame, metric):
    """The comparison recomputed independently: the same split, both models, churn.metrics."""
    from churn.validate import validate

    frame = validate(source_frame, require_target=True).frame.drop(columns="row")
    _, held = retrain.holdout_split(frame, 0.2, seed=CFG.seed)
    y = held["Churn"].to_numpy(int)
    a = M.summary(y, models.load_version(d.champion, p.models_dir).predict_proba(held))[metric]
    b = M.summary(y, models.load_version(d.challenger, p.models_dir).predict_proba(held))[metric]
    return a, b, len(held)


def test_not_better_by_the_margin_keeps_the_champion(world, tmp_path):
    p, champion, raw = world
    shifted = raw.sample(4000, random_state=2).copy()
    shifted["Contract"] = "Month-to-month"
    f = tmp_path / "shifted.csv"
    shifted.to_csv(f, index=False)
    d = run(p, f, if_drift=True, margin=0.5)
    a, b, n = _expected_scores(p, d, f, "pr_auc")
    assert (d.outcome, d.exit_code) == ("kept", 10)
    assert d.message == (f"Kept champion {champion}: challenger {d.challenger} has PR-AUC "
                         f"{b:.3f} against {a:.3f} on the same {n:,} held-out customers, not "
                         "better by the margin 0.5.")
    assert d.scores["champion_pr_auc"] == pytest.approx(a)
    assert d.scores["challenger_pr_auc"] == pytest.approx(b)
    assert d.drifted[0][0] == "Contract"
    assert any(r.startswith("Shifted from the training customers (population stability index):"
                            " Contract ") for r in d.reasons)
    assert models.active_version(p.models_dir) == champion


def test_a_better_challenger_is_promoted(template, tmp_path):
    from churn import synth
    from churn.validate import load_customers

    p = synth.ensure_sample(paths(tmp_path / "data"))
    weak = models.train(load_customers(p.customers_csv, require_target=True).head(120), CFG,
                        p.models_dir).version
    d = run(p, p.customers_csv, margin=0.01)
    a, b, n = _expected_scores(p, d, p.customers_csv, "pr_auc")
    assert b - a >= 0.01
    assert (d.outcome, d.exit_code) == ("promoted", 0)
    assert d.message == (f"Promoted challenger {d.challenger} over champion {weak}: PR-AUC "
                         f"{b:.3f} against {a:.3f} on the same {n:,} held-out customers (better "
                         f"by {b - a:.3f}; margin 0.01).")
    assert models.active_version(p.models_dir) == d.challenger


def test_no_champion_promotes_the_challenger(tmp_path):
    from churn import synth

    p = synth.ensure_sample(paths(tmp_path / "data"))
    d = run(p, p.customers_csv)
    assert (d.outcome, d.exit_code) == ("promoted", 0)
    assert d.message == f"Promoted challenger {d.challenger}: there was no usable champion."
    assert models.active_version(p.models_dir) == d.challenger


def test_a_training_failure_leaves_the_champion(world, tmp_path, monkeypatch):
    p, champion, raw = world
    f = tmp_path / "part.csv"
    raw.head(3000).to_csv(f, index=False)

    def boom(*a, **k):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(models, "train", boom)
    d = run(p, f)
    assert (d.outcome, d.exit_code) == ("failed", 1)
    assert d.message == ("Failed: training the challenger raised RuntimeError: out of memory. "
                         "The champion is unchanged.")
    assert models.active_version(p.models_dir) == champion


def test_bad_arguments_name_the_value(world):
    p, _, _ = world
    with pytest.raises(ValueError) as e:
        run(p, None, metric="accuracy")
    assert str(e.value).startswith("--promote-if-better 'accuracy': unknown metric; choose "
                                   "from: roc_auc, pr_auc,")
    with pytest.raises(ValueError) as e:
        run(p, None, min_rows=0)
    assert str(e.value) == "--min-rows 0 must be at least 1."


def test_cli_records_the_decision_in_mlflow_and_the_store(world, tmp_path, monkeypatch, capsys):
    from churn import cli, tracking
    from churn.store import Store

    p, champion, raw = world
    f = tmp_path / "small.csv"
    raw.head(50).to_csv(f, index=False)
    monkeypatch.setenv("CHURN_TRACKING", "on")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["--data-dir", str(p.data_dir), "retrain", "--data", str(f), "--json"])
    assert code == 21
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "skipped-too-few" and out["exit_code"] == 21
    assert out["mlflow_run"]
    import mlflow

    run_ = mlflow.MlflowClient(tracking_uri=tracking.tracking_uri(p.data_dir)).get_run(
        out["mlflow_run"])
    assert run_.data.tags["outcome"] == "skipped-too-few"
    assert run_.data.params["exit_code"] == "21"
    saved = Store(p.store).list_retrain_decisions()
    assert saved["outcome"].tolist() == ["skipped-too-few"]
    assert saved["decision"].iloc[0]["message"] == out["message"]
    assert not (tmp_path / "mlruns").exists()
    # plain output: the reasons, then the decision as the last line
    code = cli.main(["--data-dir", str(p.data_dir), "retrain", "--data", str(f)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 21 and lines[-1] == out["message"]
