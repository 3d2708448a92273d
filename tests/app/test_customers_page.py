"""AppTest: the Customers page — totals and order against the engine's own scores (computed
independently of the page and of DuckDB), search, tier filter, an SQL-looking search, paging,
and a saved batch listed from the store."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from churn import config, schema  # noqa: E402
from churn.customer_list import LIST_COLUMNS  # noqa: E402
from churn.validate import load_customers  # noqa: E402
from ui import state  # noqa: E402
from pagetest import ROOT, ok  # noqa: E402

PAGE = "app_pages/9_Customers.py"


@pytest.fixture(scope="module")
def scores(data_dir):
    """The scores of the app's default data set, the sample's active base, straight from the
    engine (not through the page or DuckDB)."""
    from churn.scoring import Engine

    p = config.paths(data_dir)
    df = load_customers(p.active_csv)
    return Engine.load(p).score(df)


def _open(pending: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    if pending:
        at.session_state[state.PENDING_DATASET] = pending
    at.run()
    at.switch_page(PAGE).run()
    ok(at)
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _table(at: AppTest):
    return at.dataframe[0].value


def test_the_list_shows_every_customer_by_revenue_at_risk(data_dir, scores):
    at = _open()
    assert _metric(at, "Matching customers") == f"{len(scores):,}"
    rows = _table(at)
    assert list(rows.columns) == list(LIST_COLUMNS) and len(rows) == 25
    want = scores.sort_values(["revenue_at_risk", schema.ID], ascending=[False, True])
    assert rows[schema.ID].tolist() == want[schema.ID].head(25).tolist()
    assert rows["revenue_at_risk"].tolist() == pytest.approx(
        want["revenue_at_risk"].head(25).tolist(), rel=1e-12)
    assert any(f"Customers 1–25 of {len(scores):,}" in c.value for c in at.caption)


def test_search_tier_filter_and_paging(data_dir, scores):
    at = _open()
    one = scores[schema.ID].iloc[123]
    at.text_input(key="customers_search").input(one.lower()).run()
    ok(at)
    assert _metric(at, "Matching customers") == "1"
    assert _table(at)[schema.ID].tolist() == [one]
    at.text_input(key="customers_search").input("").run()
    at.multiselect(key="customers_tiers").select("High").run()
    ok(at)
    high = scores[scores["risk_tier"] == "High"]
    assert _metric(at, "Matching customers") == f"{len(high):,}"
    assert set(_table(at)["risk_tier"]) == {"High"}
    page_box = next(n for n in at.number_input if n.label.startswith("Page (of"))
    assert page_box.label == f"Page (of {-(-len(high) // 25):,})"
    page_box.set_value(2).run()
    ok(at)
    want = high.sort_values(["revenue_at_risk", schema.ID], ascending=[False, True])
    assert _table(at)[schema.ID].tolist() == want[schema.ID].iloc[25:50].tolist()


def test_sql_in_the_search_box_finds_nothing_and_breaks_nothing(data_dir, scores):
    at = _open()
    at.text_input(key="customers_search").input("' OR '1'='1'; DROP TABLE customers; --").run()
    ok(at)
    assert _metric(at, "Matching customers") == "0"
    assert any("No customer matches these filters" in i.value for i in at.info)
    at.text_input(key="customers_search").input("").run()
    ok(at)
    assert _metric(at, "Matching customers") == f"{len(scores):,}"


def test_a_saved_batch_is_listed_from_the_store(data_dir):
    from churn.store import Store
    from churn.synth import generate_customers

    store = Store(config.paths(data_dir).store)
    batch = generate_customers(300, 77).drop(columns=[schema.TARGET])
    store.save_batch("march", batch, kind="upload")
    at = _open(pending="saved:march")
    assert _metric(at, "Matching customers") == "300"
    keys = store.list_scores()
    assert keys[keys["batch"] == "march"]["version"].str.startswith("list2:").any()
    assert _metric(_open(pending="saved:march"), "Matching customers") == "300"   # from the store
