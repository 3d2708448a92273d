"""AppTest: the "Retention campaign" page with a trained model.

Uses the shared trained data folder of the page tests (sample + a quickly trained model), and
checks what the page shows against the core functions it calls with the same inputs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pagetest import ok as _ok, open_page  # noqa: E402

from churn import campaign as C  # noqa: E402
from ui import format as fmt  # noqa: E402
from ui.text import md  # noqa: E402
from churn.config import BusinessSettings, paths  # noqa: E402
from churn.scoring import Engine  # noqa: E402
from churn.validate import load_customers  # noqa: E402

PAGE = "app_pages/4_Retention_campaign.py"


@pytest.fixture(scope="module")
def core(data_dir):
    """(scored, ranked) exactly as the page computes them, from the core: the sample's active
    base (the default data set)."""
    eng = Engine.load(paths(data_dir))
    customers = load_customers(paths(data_dir).active_csv)
    return C.campaign_inputs(eng, customers, BusinessSettings())


@pytest.fixture
def at(data_dir) -> AppTest:
    return open_page(PAGE, timeout=240)


def _metric(app: AppTest, label: str) -> str:
    return next(m for m in app.metric if m.label == label).value


def _table(app: AppTest, column: str):
    """The first data frame on the page that has `column` (AppTest frames carry no key)."""
    for frame in app.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column on the page")


def _dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def test_the_list_matches_the_core_campaign_for_the_budget(at, core):
    scored, ranked = core
    at.number_input(key="campaign_budget").set_value(2500.0).run()
    _ok(at)
    expected = C.build_campaign(scored, ranked, 2500.0)  # default control 10%, seed 0
    assert int(_metric(at, "To contact").replace(",", "")) == expected.treated
    assert int(_metric(at, "Control group").replace(",", "")) == expected.held_out > 0
    spent = _dollars(_metric(at, "Offer cost"))
    assert spent == pytest.approx(expected.spent, abs=0.5)
    assert spent <= 2500.0
    shown = _table(at, "offer_id")
    assert list(shown["customerID"]) == list(expected.rows["customerID"])


def test_a_bigger_budget_contacts_more_customers_and_never_overspends(at):
    at.number_input(key="campaign_budget").set_value(500.0).run()
    small = int(_metric(at, "To contact").replace(",", ""))
    assert _dollars(_metric(at, "Offer cost")) <= 500.0
    at.number_input(key="campaign_budget").set_value(5000.0).run()
    _ok(at)
    big = int(_metric(at, "To contact").replace(",", ""))
    assert big > small > 0
    assert _dollars(_metric(at, "Offer cost")) <= 5000.0


def test_offers_allowed_filter_limits_the_list_to_those_offers(at):
    at.multiselect(key="campaign_offers").set_value(["onboarding_call"]).run()
    _ok(at)
    shown = _table(at, "offer_id")
    assert len(shown) > 0
    assert set(shown["offer_id"]) == {"onboarding_call"}


def test_top3_shows_the_rule_part_and_the_collaborative_part_separately(at):
    table = _table(at, "Rank")
    assert {"Rule part (risk driver)", "Collaborative part (chance of acceptance)"} <= \
        set(table.columns)
    assert 1 <= len(table) <= 3
    assert list(table["Rank"]) == list(range(1, len(table) + 1))
    assert at.get("download_button")  # CSV and Excel exports are offered


def test_control_share_and_seed_change_the_groups_and_zero_warns(at, core):
    scored, ranked = core
    at.slider(key="campaign_control").set_value(20).run()
    at.number_input(key="campaign_seed").set_value(3).run()
    _ok(at)
    expected = C.build_campaign(scored, ranked, 10_000.0, control_share=0.2, seed=3)
    shown = _table(at, "group")
    assert list(shown["customerID"]) == list(expected.rows["customerID"])
    assert list(shown["group"]) == list(expected.rows["group"])
    assert int(_metric(at, "Control group").replace(",", "")) == expected.held_out
    assert not at.warning
    at.slider(key="campaign_control").set_value(0).run()
    _ok(at)
    assert [w.value for w in at.warning] == [C.NO_CONTROL_WARNING]
    assert _metric(at, "Control group") == "0"


def test_customers_who_left_are_never_on_the_list(at, data_dir):
    """On the labelled history, the list holds active customers only (issue: 260 of 369 had
    left)."""
    from ui.sidebar import DATASET_KEY

    at.sidebar.selectbox(key=DATASET_KEY).select("sample:sample").run()
    _ok(at)
    history = load_customers(paths(data_dir).customers_csv)
    left = set(history.loc[history["Churn"] == 1, "customerID"])
    shown = _table(at, "group")
    assert len(shown) > 0 and not left & set(shown["customerID"])
    assert any("History (labelled)" in c.value for c in at.caption)


def test_downloads_do_not_save_and_save_campaign_does(at, data_dir):
    from churn.store import Store

    store = Store(paths(data_dir).store)
    before = len(store.list_campaigns())
    at.download_button(key="campaign_csv").click().run()
    assert len(store.list_campaigns()) == before  # issue 16: no entry per download
    at.text_input(key="campaign_name").set_value("Winter save").run()
    at.button(key="campaign_save").click().run()
    _ok(at)
    assert any("Saved as campaign" in s.value and "Winter save" in s.value for s in at.success)
    table = C.saved_campaigns(store)
    assert len(table) == before + 1
    row = table.iloc[0]
    assert row["name"] == "Winter save" and row["budget"] == 10_000.0
    assert row["control_share"] == 0.1 and row["seed"] == 0 and row["control"] > 0
    assert row["data"].startswith("Sample, active (")
    assert _table(at, "control_share")["name"].iloc[0] == "Winter save"


class _RecordingMediaFileManager:
    """Stands in for AppTest's MediaFileManager and remembers each one made, so a test can run
    a download button's deferred callable (what the browser triggers on a click)."""

    made: list = []

    def __new__(cls, *args, **kwargs):
        from streamlit.runtime.media_file_manager import MediaFileManager

        mgr = MediaFileManager(*args, **kwargs)
        cls.made.append(mgr)
        return mgr


def _download(app: AppTest, key: str) -> bytes:
    """The bytes a click on download button `key` hands the browser (its deferred callable,
    run by Streamlit's own media file manager)."""
    proto = app.get("download_button")
    button = next(b for b in proto if b.proto.id.endswith(key) or key in b.proto.id)
    file_id = button.proto.deferred_file_id
    assert file_id, "the page's download is not deferred any more; read proto.url instead"
    for mgr in reversed(_RecordingMediaFileManager.made):
        if file_id in mgr._deferred_callables:
            url = mgr.execute_deferred(file_id)
            return mgr._storage.get_file(url.rsplit("/", 1)[-1]).content
    raise AssertionError(f"no media file manager holds the download {key!r}")


@pytest.mark.parametrize("key, suffix", [("campaign_csv", ".csv"), ("campaign_xlsx", ".xlsx")])
def test_cli_writes_the_bytes_the_pages_download_gives(data_dir, tmp_path, monkeypatch, key,
                                                       suffix):
    """The page's own path (cached rankings, the smaller ranking, the export helpers) and
    ``python -m churn campaign`` give the same file for the same data, settings and budget."""
    import streamlit.testing.v1.app_test as app_test_module

    from churn import cli

    monkeypatch.setattr(app_test_module, "MediaFileManager", _RecordingMediaFileManager)
    at = open_page(PAGE, timeout=240)
    at.number_input(key="campaign_budget").set_value(2500.0).run()
    _ok(at)
    page_bytes = _download(at, key)
    out = tmp_path / f"campaign{suffix}"
    monkeypatch.setenv("CHURN_DATA_DIR", str(data_dir))
    assert cli.main(["campaign", "--budget", "2500", "--out", str(out)]) == 0
    assert out.read_bytes() == page_bytes
    rows = C.read_export(page_bytes) if suffix == ".csv" else None
    if rows is not None:
        assert len(rows) > 0 and set(rows["group"]) == {"treatment", "control"}


def test_a_saved_batch_is_planned_from_its_inputs_in_the_store(data_dir):
    """A saved batch's campaign comes from the store (built once, then only queried), and shows
    the campaign the core builds from the same customers in memory: active ones only."""
    from churn.population import active
    from churn.store import Store
    from churn.synth import generate_customers

    store = Store(paths(data_dir).store)
    batch = generate_customers(400, 91)
    assert (batch["Churn"] == 1).any()           # some have left: never on the list
    store.save_batch("april", batch, kind="upload")

    def opened() -> AppTest:
        return open_page(PAGE, 240, dataset="saved:april")

    at = opened()
    at.number_input(key="campaign_budget").set_value(1500.0).run()
    _ok(at)
    eng = Engine.load(paths(data_dir))
    scored, ranked = C.campaign_inputs(eng, active(batch).reset_index(drop=True),
                                       BusinessSettings())
    expected = C.build_campaign(scored, ranked, 1500.0)
    shown = _table(at, "group")
    assert list(shown["customerID"]) == list(expected.rows["customerID"])
    assert list(shown["group"]) == list(expected.rows["group"])
    assert int(_metric(at, "To contact").replace(",", "")) == expected.treated > 0
    keys = store.list_scores()
    mine = keys[keys["batch"] == "april"]["version"]
    assert mine.str.startswith("campaign-customers:").sum() == 1
    assert mine.str.startswith("campaign-offers:").sum() == 1
    again = opened()                                # a new session: read, not built again
    assert int(_metric(again, "To contact").replace(",", "")) > 0
    after = store.list_scores()
    pd.testing.assert_frame_equal(after[after["batch"] == "april"],
                                  keys[keys["batch"] == "april"])   # same tables, same times


def test_the_curve_zooms_to_a_small_budget_and_says_so(at, core):
    scored, ranked = core
    whole = C.saved_revenue_curve(scored, ranked)["budget"].iloc[-1]
    assert whole > 4 * 500.0
    at.number_input(key="campaign_budget").set_value(500.0).run()
    _ok(at)
    said = [c.value for c in at.caption if c.value.startswith("Budgets up to")]
    assert said == [f"Budgets up to 4× yours. Offering every eligible customer their offer "
                    f"would cost {md(fmt.money_short(whole))}."]   # $ escaped for markdown
    at.number_input(key="campaign_budget").set_value(float(whole) * 2).run()
    _ok(at)
    assert not [c for c in at.caption if c.value.startswith("Budgets up to")]
