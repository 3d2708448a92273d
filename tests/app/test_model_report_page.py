"""AppTest: the Model report page with real trained models, on a data folder of its own.

The folder (inside the session's temporary CHURN_DATA_DIR) holds a 1,500-customer sample, two
model versions (all four families on the small grid, and a logistic regression alone) and the
engine's fitted parts, made once for this module (about 20 s), so the shared session folder keeps
having no model for the other page tests.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from churn import config, models, synth
from churn import metrics as M
from churn.scoring import Engine
from churn.validate import load_customers
from ui import format as F
from churn import model_report as MR
from ui import model_report as R
import pagetest

ROOT = Path(__file__).resolve().parents[2]
PAGE = "app_pages/6_Model_report.py"
ROWS = 1500


@dataclass(frozen=True)
class Folder:
    path: Path
    full: str   # version comparing lr, rf, xgb and cat (active)
    lr: str     # version with logistic regression only


@pytest.fixture(scope="module")
def data_dir(churn_data_dir):
    folder = churn_data_dir / "report-app"
    p = config.paths(folder)
    synth.write_sample(p.sample_dir, ROWS, config.SAMPLE_SEED, catalogue=p.catalogue)
    df = load_customers(p.customers_csv)
    lr = models.train(df, models.TrainConfig(families=("lr",), grid="small", folds=2),
                      p.models_dir).version
    full = models.train(df, models.TrainConfig(grid="small", folds=3), p.models_dir).version
    Engine.prepare(p)
    before = os.environ.get("CHURN_DATA_DIR")
    os.environ["CHURN_DATA_DIR"] = str(folder)
    yield Folder(folder, full, lr)
    if before is None:
        os.environ.pop("CHURN_DATA_DIR", None)
    else:
        os.environ["CHURN_DATA_DIR"] = before


def _ok(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def _open() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.run()
    app.switch_page(PAGE).run()
    _ok(app)
    return app


@pytest.fixture
def at(data_dir, monkeypatch) -> AppTest:
    # The page reads what training saved: any attempt to train while it runs is a failure.
    def no_training(*args, **kwargs):
        raise AssertionError("the model report page tried to train a model")

    monkeypatch.setattr(models, "train", no_training)
    return _open()


def _metric(app: AppTest, label: str):
    return next(m for m in app.metric if m.label == label)


def _table(app: AppTest, column: str):
    """The one st.table with this column."""
    found = [t.value for t in app.table if column in t.value.columns]
    assert len(found) == 1, [list(t.value.columns) for t in app.table]
    return found[0]


def _confusion(app: AppTest) -> dict:
    table = _table(app, "Flagged (offer sent)")
    def count(row, col):
        return int(table.loc[row, col].replace(",", ""))    # shown as "1,234"

    return {"tp": count("Churned", "Flagged (offer sent)"),
            "fn": count("Churned", "Not flagged"),
            "fp": count("Stayed", "Flagged (offer sent)"),
            "tn": count("Stayed", "Not flagged")}


def _oof(data_dir: Folder):
    meta = models.load_version(data_dir.full, config.paths(data_dir.path).models_dir).metadata
    oof = models.load_oof(data_dir.full, config.paths(data_dir.path).models_dir)
    sel = meta["selected"]
    return meta, oof["Churn"].to_numpy(), oof[f"p_{sel}"].to_numpy()


def test_comparison_table_shows_every_family_and_the_model_in_use(at, data_dir):
    meta, _, _ = _oof(data_dir)
    label = meta["families"][meta["selected"]]["label"]
    assert [t.value for t in at.title] == ["Model report"]
    assert _metric(at, "Model in use").value == label
    table = _table(at, "Better")     # one row per metric, one column per family
    assert table.columns.tolist()[0] == f"{label} (in use)"
    assert sorted(c.removesuffix(" (in use)") for c in table.columns) == sorted(
        ["Logistic regression", "Random forest", "XGBoost", "CatBoost", "Better"])
    assert table.index.tolist() == [MR.TITLES[m] for m in MR.TABLE_METRICS]
    pr_auc = meta["families"][meta["selected"]]["cv"]["pr_auc"]
    assert table.loc["PR-AUC"].iloc[0] == f"**{pr_auc:.3f}**"      # the model in use in bold
    assert any(MR.params_text(meta["params"]) in c.value and "Settings chosen" in c.value
               for c in at.caption)
    # every metric is explained in business words on the page
    shown = " ".join(e.value for e in at.expander[0].markdown)
    for m, text in MR.metric_help(0.5).items():
        assert text.split(": ", 1)[1] in shown, m
    # the open curve tab's chart (ROC) and the cost chart; the offer models' tabs are not built
    assert len(at.get("plotly_chart")) == 1 + 1
    assert sorted(t.label for t in at.tabs) == sorted(list(R.SECTION_TABS)
                                                      + [t[0] for t in R.CURVE_TABS])
    assert "Offer recommender" not in [s.value for s in at.subheader]


def test_only_the_open_curve_tab_is_built(at, monkeypatch):
    """Each curve is built when its tab is chosen (the tabs rerun the page), not before."""
    from ui import model_report_charts as charts

    built = []
    for name in ("roc_figure", "pr_figure", "reliability_figure", "gains_figure",
                 "lift_figure"):
        real = getattr(charts, name)
        monkeypatch.setattr(charts, name,
                            lambda *a, _n=name, _f=real, **k: built.append(_n) or _f(*a, **k))
    at.run()
    assert built == ["roc_figure"]
    captions = {label: caption for label, _, caption in R.CURVE_TABS}
    for label, name in (("Lift", "lift_figure"), ("Calibration", "reliability_figure")):
        built.clear()
        at.session_state["report_curve_tab"] = label
        at.run()
        _ok(at)
        assert built == [name]
        assert len(at.get("plotly_chart")) == 1 + 1
        assert any(c.value == captions[label] for c in at.caption)
        assert not any(c.value == captions["ROC"] for c in at.caption)


def test_threshold_slider_moves_the_confusion_matrix_and_the_cost(at, data_dir):
    _, y, p = _oof(data_dir)
    c = at.number_input(key="report_offer_cost").value
    v = at.number_input(key="report_customer_value").value
    assert at.slider(key="report_threshold").value == 0.5
    first = _confusion(at)
    assert first == M.confusion_counts(y, p, 0.5)
    assert sum(first.values()) == ROWS
    assert _metric(at, "Cost of mistakes").value == F.money(first["fp"] * c + first["fn"] * v)

    at.slider(key="report_threshold").set_value(0.3).run()
    _ok(at)
    second = _confusion(at)
    assert second == M.confusion_counts(y, p, 0.3)
    assert second != first and second["tp"] > first["tp"] and second["fp"] > first["fp"]
    cost = second["fp"] * c + second["fn"] * v
    assert _metric(at, "Cost of mistakes").value == F.money(cost)
    assert _metric(at, "Cost of mistakes").value != F.money(first["fp"] * c + first["fn"] * v)
    assert _metric(at, "False alarms").value == F.count(second["fp"])
    assert _metric(at, "Churners caught").value == f"{second['tp']:,} of {int(y.sum()):,}"


def test_dollar_inputs_price_the_mistakes_and_move_the_best_threshold(at, data_dir):
    _, y, p = _oof(data_dir)
    at.number_input(key="report_offer_cost").set_value(100.0).run()
    at.number_input(key="report_customer_value").set_value(1000.0).run()
    _ok(at)
    conf = M.confusion_counts(y, p, 0.5)
    assert _metric(at, "Cost of mistakes").value == F.money(conf["fp"] * 100 + conf["fn"] * 1000)
    best = M.best_threshold(M.cost_curve(y, p, 100, 1000))
    line = next(m.value for m in at.markdown if m.value.startswith("Lowest cost:"))
    assert line.startswith(f"Lowest cost: **{F.money(best['total_cost'])}** at threshold "
                           f"**{best['threshold']:.2f}**")
    # at the cost-minimising threshold the metric says so
    at.slider(key="report_threshold").set_value(best["threshold"]).run()
    assert _metric(at, "Cost of mistakes").delta == "the lowest possible"


def test_segment_and_recommender_tables(at, data_dir):
    segments = _table(at, "Predicted churn rate")
    assert not any("Brier score" in d.value.columns for d in at.dataframe)   # not built yet
    assert segments["Group"].tolist() == ["Gender"] * 2 + ["Senior citizen"] * 2 + ["Contract"] * 3
    customers = segments["Customers"].str.replace(",", "").astype(int)   # shown as "3,522"
    assert customers.groupby(segments["Group"]).sum().tolist() == [ROWS] * 3
    at.session_state["report_section"] = "Offer recommender"
    at.run()
    _ok(at)
    assert "Offer recommender" in [s.value for s in at.subheader]
    assert not any("Predicted churn rate" in t.value.columns for t in at.table)  # not built
    rec = at.dataframe[0].value
    ev = Engine.load(config.paths(data_dir.path)).recommender.evaluation_
    assert rec["Method"].tolist() == list(MR.RECOMMENDER_NAMES.values())
    assert rec.loc[rec["Kept"], "Method"].tolist() == [MR.RECOMMENDER_NAMES[ev["chosen"]]]
    assert rec["Accepted when in top 3"].tolist() == pytest.approx(   # in percent
        [100 * ev[k]["precision_at_3"] for k in ("svd", "knn", "popularity")])
    assert rec["Of which accepted"].tolist() == [ev[k]["n_hits"] for k in ("svd", "knn",
                                                                            "popularity")]
    assert any(c.value == MR.recommender_note(ev) for c in at.caption)
    at.session_state["report_section"] = "Churn model"
    at.run()
    assert any("Platt" in m.value and "customer ID" in m.value for m in at.markdown)


def test_activating_another_version_switches_every_page(at, data_dir):
    mdir = config.paths(data_dir.path).models_dir
    versions = at.dataframe[-1].value  # the last table of the churn model's tab
    assert sorted(versions["Version"]) == sorted([data_dir.full, data_dir.lr])  # no "_parts"
    try:
        at.selectbox(key="report_version").select(data_dir.lr).run()
        at.button(key="report_activate").click().run()
        _ok(at)
        assert models.active_version(mdir) == data_dir.lr
        assert any(f"Version {data_dir.lr[:8]} is now in use" in s.value for s in at.success)
        assert _metric(at, "Model in use").value == "Logistic regression"
        assert _table(at, "Better").columns.tolist() == ["Logistic regression (in use)",
                                                           "Better"]
        assert any(data_dir.lr[:8] in c.value for c in at.sidebar.caption)
    finally:
        models.activate(data_dir.full, mdir)


def test_without_a_model_the_page_offers_to_train_one(data_dir, tmp_path, monkeypatch):
    # Only the sample and the engine's fitted parts (they depend on the data, not the model).
    src = config.paths(data_dir.path)
    dst = config.paths(tmp_path)
    shutil.copytree(src.sample_dir, dst.sample_dir)
    shutil.copytree(src.models_dir / "_parts", dst.models_dir / "_parts")
    monkeypatch.setenv("CHURN_DATA_DIR", str(tmp_path))
    calls = []

    def quick(df, config=None, models_dir=None, **kwargs):  # a fast model instead of the grid
        try:
            return models.load_active(models_dir)
        except models.NoModelError:
            calls.append(len(df))
        return models.train(df, models.TrainConfig(families=("lr",), grid="small", folds=2),
                            models_dir, **kwargs).model

    monkeypatch.setattr(models, "active_or_train", quick)
    # The Model report script on its own: through app.py the default page (the Overview) would
    # train on first start before the report could be seen without a model.
    app = AppTest.from_file(str(ROOT / PAGE), default_timeout=180)
    app.run()
    _ok(app)
    assert any("No churn model has been trained yet" in i.value for i in app.info)
    assert not app.get("plotly_chart")
    app.button(key="report_train").click().run()
    _ok(app)
    assert calls == [ROWS]
    assert models.active_version(dst.models_dir) is not None
    assert _metric(app, "Model in use").value == "Logistic regression"
    assert not app.info


def test_cost_inputs_start_from_the_data_and_say_where(at, data_dir):
    from churn.offers import load_catalogue

    p = config.paths(data_dir.path)
    active = load_customers(p.active_csv)          # the sidebar's default data set
    clv = Engine.load(p).score_all(active, drivers=0, offers=False).table["clv"].to_numpy(float)
    costs = [o.cost for o in load_catalogue(p.catalogue).offers]
    value = at.number_input(key="report_customer_value")
    offer = at.number_input(key="report_offer_cost")
    assert value.value == round(clv.mean())
    assert offer.value == round(sum(costs) / len(costs))
    assert at.slider(key="report_threshold").value == config.BusinessSettings().high_risk
    assert (f"the average lifetime value of the {len(clv):,} active customers in use "
            f"(${clv.mean():,.0f};") in value.help
    assert (f"the average cost of the {len(costs)} offers in the catalogue "
            f"(${min(costs):,.0f}–${max(costs):,.0f})") in offer.help
    assert "High-risk threshold of the business settings" in at.slider(key="report_threshold").help


def test_a_saved_batch_sets_the_cost_inputs_from_its_stored_list(data_dir, monkeypatch):
    """A saved history: the customer value starts from the lifetime values of its customers
    still here, read from its stored list; the batch is never loaded whole."""
    p = config.paths(data_dir.path)
    batch = synth.generate_customers(250, 45)
    at = pagetest.open_saved(PAGE, p.store, "june", batch, monkeypatch)
    active = batch[batch["Churn"] == 0]
    clv = Engine.load(p).score_all(active, drivers=0, offers=False).table["clv"].to_numpy(float)
    value = at.number_input(key="report_customer_value")
    assert value.value == round(clv.mean())
    assert (f"the average lifetime value of the {len(clv):,} active customers in use "
            f"(${clv.mean():,.0f};") in value.help
