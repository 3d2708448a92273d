"""AppTest: the Model health page on a data folder of its own (sample, a quick model, batches)."""
from __future__ import annotations

import os

import numpy as np
import pytest

from churn import config, health, models, synth
from churn.scoring import Engine
from churn.validate import load_customers
from ui import health_charts
from pagetest import ROOT
from streamlit.testing.v1 import AppTest

PAGE = "app_pages/8_Model_health.py"
ROWS = 1500


def open_page(page: str) -> AppTest:
    """Like pagetest.open_page, but a red health light is an error box by design: only
    exceptions fail here (each test checks the error boxes it expects)."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture(scope="module")
def data_dir(churn_data_dir):
    folder = churn_data_dir / "health-app"
    p = config.paths(folder)
    synth.write_sample(p.sample_dir, ROWS, config.SAMPLE_SEED, catalogue=p.catalogue)
    df = load_customers(p.customers_csv, require_target=True)
    models.train(df, models.TrainConfig(families=("lr",), grid="small", folds=2), p.models_dir)
    Engine.prepare(p)
    before = os.environ.get("CHURN_DATA_DIR")
    os.environ["CHURN_DATA_DIR"] = str(folder)
    yield p
    if before is None:
        os.environ.pop("CHURN_DATA_DIR", None)
    else:
        os.environ["CHURN_DATA_DIR"] = before


def test_without_batches_the_page_says_how_to_start(data_dir):
    app = open_page(PAGE)
    assert [s.value for s in app.info] == [
        "No saved batches or campaign outcomes yet: save an upload on the Upload & score "
        "page, or record a saved campaign's outcomes on the Campaign results page, to follow "
        "the model's health over time."]
    assert len(app.dataframe) == 0 and not app.error


def test_with_batches_the_page_shows_the_report(data_dir):
    from churn.store import Store

    df = load_customers(data_dir.customers_csv, require_target=True)
    store = Store(data_dir.store)
    store.save_batch("spring", df.sample(900, random_state=1), kind="upload")
    late = df.sample(800, random_state=2).copy()
    late["Contract"] = "Month-to-month"
    late["Churn"] = np.random.default_rng(0).permutation(late["Churn"].to_numpy())
    store.save_batch("summer", late, kind="upload")

    want = health.report_for(data_dir.data_dir)
    app = open_page(PAGE)
    assert want.status == "red"
    assert [e.value for e in app.error] == [want.advice]
    assert want.advice.startswith("Retrain: Contract has shifted; realised ROC-AUC ")
    shown = app.dataframe[0].value
    assert shown["Batch or campaign"].tolist() == ["summer", "spring"]
    assert shown["Health"].tolist() == ["🔴 Act", "🟢 OK"]
    assert shown.equals(health_charts.table(want))
    metrics = {m.label: m.value for m in app.metric}
    last = want.rows.iloc[-1]
    assert metrics["Largest drift (PSI)"] == f"{last['max_psi']:.2f}"
    assert metrics["ROC-AUC (actual)"] == f"{last['roc_auc']:.2f}"
    assert [t.label for t in app.tabs] == ["Drift", "Predictions", "Performance"]


def test_charts_build_from_the_report(data_dir):
    rep = health.report_for(data_dir.data_dir)
    heat = health_charts.drift_heatmap(rep)
    assert list(heat.data[0].x) == rep.rows["batch"].tolist()
    assert heat.data[0].y[-1] == "Contract"          # the most drifted feature on top
    perf = health_charts.performance_chart(rep)
    auc = [t for t in perf.data if t.name == "ROC-AUC (realised)"][0]
    assert list(auc.y) == pytest.approx(rep.rows["roc_auc"].tolist())
    pred = health_charts.predictions_chart(rep)
    assert [t.name for t in pred.data][:3] == ["High risk share", "Medium risk share",
                                               "Low risk share"]


def test_a_registry_that_disagrees_is_one_warning(data_dir, monkeypatch):
    # tracking on, but the model was trained with it off: the registry has no champion alias
    monkeypatch.setenv("CHURN_TRACKING", "on")
    health_charts.alias_warning.clear()
    version = models.active_version(data_dir.models_dir)
    app = open_page(PAGE)
    want = (f'MLflow\'s registry has no champion alias for model "churn" although version '
            f"{version} is in use; run `python -m churn models --activate {version}` to "
            "publish it.")
    assert [w.value for w in app.warning if "registry" in w.value] == [want]
    monkeypatch.setenv("CHURN_TRACKING", "off")
    health_charts.alias_warning.clear()
    app = open_page(PAGE)
    assert not [w.value for w in app.warning if "registry" in w.value]


def test_campaign_outcomes_join_the_report(data_dir):
    """A saved campaign scored by the model in use, with its outcomes recorded: its control
    group becomes the latest row, with its own training baseline."""
    import pandas as pd

    from churn.store import Store

    store = Store(data_dir.store)
    df = load_customers(data_dir.customers_csv, require_target=True)
    model = models.load_active(data_dir.models_dir)
    p = model.predict_proba(df)
    top = np.argsort(-p, kind="stable")[:500]
    group = np.where(np.arange(500) % 2 == 0, "control", "treatment")
    rows = pd.DataFrame({"customerID": df["customerID"].to_numpy()[top], "churn_prob": p[top],
                         "risk_tier": "High", "group": group})
    cid = store.save_campaign("autumn", {"date": "2099-01-01", "model_version": model.version},
                              rows)
    store.append_campaign_history(pd.DataFrame({
        "customerID": rows["customerID"], "campaign_id": f"saved-{cid}", "date": "2099-02-01",
        "offer_id": "x", "group": group, "accepted": "",
        "churned": np.where(df["Churn"].to_numpy()[top] == 1, "Yes", "No")}))
    want = health.report_for(data_dir.data_dir)
    assert want.rows.iloc[-1]["batch"] == 'Campaign "autumn" (control group)'
    app = open_page(PAGE)
    shown = app.dataframe[0].value
    assert shown.equals(health_charts.table(want))
    assert shown["Batch or campaign"].iloc[0] == 'Campaign "autumn" (control group)'
    assert shown["Saved (UTC)"].iloc[0] == "2099-01-01 (campaign date)"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Control customers"] == "250"
    assert metrics["ROC-AUC (actual)"] == f"{want.rows.iloc[-1]['roc_auc']:.2f}"
