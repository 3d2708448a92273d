"""AppTest: customers who have left are never the what-if customer, on the active base (the
default) nor on the labelled history; the Why page explains the history; every page's sidebar
says which kind of data it shows."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pagetest import ok as _ok, open_page  # noqa: E402

from churn.config import paths  # noqa: E402
from churn.validate import load_customers  # noqa: E402
from ui.sidebar import DATASET_KEY  # noqa: E402

WHATIF = "app_pages/3_Customer_what_if.py"


def test_the_what_if_picker_offers_active_customers_only(data_dir):
    history = load_customers(paths(data_dir).customers_csv)
    left = set(history.loc[history["Churn"] == 1, "customerID"])
    active_ids = set(load_customers(paths(data_dir).active_csv)["customerID"])
    at = open_page(WHATIF, timeout=240)
    pick = at.selectbox(key="whatif_customer")
    assert set(pick.options) == active_ids and pick.value in active_ids
    at.sidebar.selectbox(key=DATASET_KEY).select("sample:sample").run()
    _ok(at)
    pick = at.selectbox(key="whatif_customer")
    assert pick.value not in left  # the 3358-FEACN opened the page before
    assert not left & set(pick.options)
    assert len(pick.options) == len(history) - len(left)
    assert not left & set(at.selectbox(key="whatif_top").options)


def test_the_why_page_explains_the_labelled_history(data_dir):
    at = open_page("app_pages/2_Why_customers_churn.py", timeout=240)
    n = len(load_customers(paths(data_dir).customers_csv))
    # it says so, and that the risk figures are about the chosen active base, not the history
    assert any(c.value.startswith(f"Explained on the labelled history the model learned from: "
                                  f"{n:,} customers") for c in at.caption)
    assert not any("need the Churn column" in i.value for i in at.info)
