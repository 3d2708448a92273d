"""AppTest: every page renders without an error, with its title and the shared sidebar; the
sidebar's choices reach the pages; the error guard turns failures into messages."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from churn.config import BusinessSettings, paths
from churn.glossary import TERMS
from churn.validate import load_customers
from ui import state
from ui.navigation import PAGES
from ui.sidebar import DATASET_KEY, SETTINGS_KEY

ROOT = Path(__file__).resolve().parents[2]


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    return at


@pytest.fixture
def app(sample_data_dir) -> AppTest:
    return _app()


@pytest.fixture
def no_model_dir(sample_data_dir, tmp_path, monkeypatch) -> Path:
    """A data folder holding the sample and no churn model (whatever other tests trained
    elsewhere). The fitted parts that do not depend on the churn model (survival model,
    recommender, uplift model: ``models/_parts``, keyed by the data) are copied when the
    session's folder has them, so each page's first start trains the churn model without
    refitting the same parts nine times; the browser test and test_overview_page's first start
    cover a folder with nothing in it."""
    shutil.copytree(paths(sample_data_dir).sample_dir, paths(tmp_path).sample_dir)
    parts = paths(sample_data_dir).models_dir / "_parts"
    if parts.is_dir():
        shutil.copytree(parts, paths(tmp_path).models_dir / "_parts")
    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path))
    return tmp_path


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_renders_with_sidebar(app, spec):
    if not spec.default:
        app.switch_page(spec.file).run()
    _ok(app)
    assert [t.value for t in app.title] == [spec.title]
    sb = app.sidebar
    assert sb.selectbox(key=DATASET_KEY).value == "active:active"  # the active base by default
    assert any(c.value.startswith(":material/groups: Active base:") for c in sb.caption)
    for part in ("margin", "discount", "horizon", "tiers"):
        assert sb.slider(key=f"{SETTINGS_KEY}.{part}").help, part
    glossary = [m.value for m in sb.markdown if m.value.startswith("**Uplift**")]
    assert glossary == [f"**Uplift**  \n{TERMS['Uplift']}"]
    # The first run may have trained the model after the sidebar was drawn; a rerun must name it.
    app.run()
    model_line = [c.value for c in app.sidebar.caption if ":material/model_training:" in c.value]
    assert len(model_line) == 1
    assert "Model in use:" in model_line[0], model_line[0]


def test_overview_numbers_match_the_sample_file(app, sample_data_dir):
    active = pd.read_csv(paths(sample_data_dir).active_csv)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Customers"] == f"{len(active):,}"
    assert metrics["Churn rate"] == "—"  # the active base: nobody has left yet
    label = app.sidebar.selectbox(key=DATASET_KEY).format_func("active:active")
    assert label == f"Sample, active ({len(active):,})"
    app.sidebar.selectbox(key=DATASET_KEY).select("sample:sample").run()
    _ok(app)
    raw = pd.read_csv(paths(sample_data_dir).customers_csv)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Customers"] == f"{len(raw):,}"
    assert metrics["Churn rate"] == f"{(raw['Churn'] == 'Yes').mean() * 100:.1f}%"
    assert metrics["Average tenure"] == f"{raw['tenure'].mean():.1f} months"
    label = app.sidebar.selectbox(key=DATASET_KEY).format_func("sample:sample")
    assert label == f"Sample, history ({len(raw):,})"
    assert any(c.value.startswith(":material/groups: History (labelled):")
               for c in app.sidebar.caption)


@pytest.mark.parametrize("spec", [p for p in PAGES if p.title != "Model report"],
                         ids=lambda p: p.url_path)
def test_a_first_start_trains_the_models_then_shows_the_page(no_model_dir, spec):
    from churn import models

    assert models.active_version(paths(no_model_dir).models_dir) is None
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    app.switch_page(spec.file).run()
    _ok(app)
    assert models.active_version(paths(no_model_dir).models_dir) is not None
    assert any("Model in use:" in c.value for c in app.sidebar.caption)
    assert not any("needs a trained churn model" in i.value for i in app.info)


def test_settings_reach_the_pages_and_reset(app):
    sb = app.sidebar
    sb.slider(key=f"{SETTINGS_KEY}.margin").set_value(40).run()
    app.sidebar.slider(key=f"{SETTINGS_KEY}.tiers").set_value((30, 70)).run()
    app.switch_page(PAGES[-1].file).run()  # settings survive a page change
    _ok(app)
    assert app.session_state[state.SETTINGS] == BusinessSettings(
        margin=0.40, annual_discount_rate=0.10, horizon_months=36, high_risk=0.70,
        medium_risk=0.30)
    app.sidebar.button(key=f"{SETTINGS_KEY}.reset").click().run()
    assert app.session_state[state.SETTINGS] == BusinessSettings()
    assert app.sidebar.slider(key=f"{SETTINGS_KEY}.margin").value == 60


def test_an_uploaded_batch_can_be_chosen(app, sample_data_dir):
    batch = load_customers(paths(sample_data_dir).customers_csv).head(3).copy()
    batch["Churn"] = [1, 0, 0]
    batch["MonthlyCharges"] = [50.0, 70.0, 30.5]
    app.session_state[state.BATCHES] = {"March": batch}
    app.session_state[state.PENDING_DATASET] = "batch:March"
    app.run()
    _ok(app)
    box = app.sidebar.selectbox(key=DATASET_KEY)
    assert box.options[2:] == ["March (3 customers)"]
    assert box.value == "batch:March"
    metrics = {m.label: m.value for m in app.metric}
    assert (metrics["Customers"], metrics["Churn rate"]) == ("3", "33.3%")
    assert metrics["Monthly revenue"] == "$150"
    box.select("sample:sample").run()
    _ok(app)
    assert {m.label: m.value for m in app.metric}["Customers"] != "3"


def _guarded_script():
    import streamlit as st

    from ui import errors

    mode = st.session_state.get("mode")
    with errors.guard():
        st.title("Guarded")
        if mode == "value":
            raise ValueError("budget -5 is negative; enter dollars above 0")
        if mode == "crash":
            {}["secret_internal_key"]
        if mode == "stop":
            st.stop()
        st.write("after")


@pytest.mark.parametrize("mode, shown", [
    ("value", "This page could not be shown: budget -5 is negative; enter dollars above 0"),
    ("crash", "Something went wrong on this page."),
])
def test_errors_become_messages_without_traceback(mode, shown):
    at = AppTest.from_function(_guarded_script, default_timeout=30)
    at.session_state["mode"] = mode
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    text = at.error[0].value
    assert text.startswith(shown)
    assert "Traceback" not in text and "secret_internal_key" not in text
    assert "quote reference `" in text


def test_streamlit_control_flow_passes_through_the_guard():
    at = AppTest.from_function(_guarded_script, default_timeout=30)
    at.session_state["mode"] = "stop"
    at.run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Guarded"]
    assert not at.markdown  # st.stop ended the script before "after"
