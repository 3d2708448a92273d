"""AppTest: the Campaign results page runs the whole loop — a campaign exported with a control
group, outcomes simulated by the demo's hidden model, uploaded, measured — and shows the same
figures as `churn.results` for the same file; bad files get their messages."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pagetest import ok as _ok, open_page  # noqa: E402

from churn import campaign as C  # noqa: E402
from churn import results as R  # noqa: E402
from churn import simulate  # noqa: E402
from churn.config import BusinessSettings, paths  # noqa: E402
from churn.scoring import Engine  # noqa: E402
from churn.validate import load_customers  # noqa: E402
from ui import format as fmt  # noqa: E402
from ui import results_view as view  # noqa: E402
from ui.text import md  # noqa: E402

PAGE = "app_pages/7_Campaign_results.py"


@pytest.fixture(scope="module")
def outcomes(data_dir) -> bytes:
    """The default page campaign ($10,000, 10% control, seed 0) on the active base, exported,
    with outcomes filled in by the simulator: the bytes a user uploads."""
    eng = Engine.load(paths(data_dir))
    active = load_customers(paths(data_dir).active_csv)
    scored, ranked = C.campaign_inputs(eng, active, BusinessSettings())
    camp = C.build_campaign(scored, ranked, 10_000.0)
    exported = C.read_export(C.to_csv_bytes(camp.rows))
    return C.to_csv_bytes(simulate.simulate_outcomes(exported, active, seed=1))


def _metric(app, label: str) -> str:
    return next(m for m in app.metric if m.label == label).value


def test_the_whole_loop_shows_the_measured_uplift(data_dir, outcomes):
    at = open_page(PAGE, timeout=240)
    assert any("Load an outcomes file" in i.value for i in at.info)
    at.file_uploader(key="results_file").upload("results.csv", outcomes, "text/csv").run()
    _ok(at)
    expected = R.measure_file(outcomes, name="results.csv")
    o = expected.overall
    assert o.n_control >= R.MIN_GROUP_SIZE and o.measured
    assert _metric(at, "Measured uplift") == f"{o.uplift * 100:+.1f} pts"
    assert _metric(at, "Customers kept") == f"{o.saved_customers:,.0f}"
    assert any(R.plain_summary(expected) in m.value for m in at.markdown)
    by_offer = at.dataframe[0].value
    assert list(by_offer["Offer"]) == [m.label for m in expected.by_offer]
    assert list(at.dataframe[1].value["Risk tier"]) == [m.label for m in expected.by_tier]
    # every card's interval is on the page, not only in its tooltip
    ci = [c.value for c in at.caption if c.value.startswith(md("95% intervals: "))]
    assert ci == [md(view.interval_line(expected))]
    ci = [view.interval_line(expected)]
    lo, hi = o.ci95
    assert f"uplift {lo * 100:+.1f} to {hi * 100:+.1f} points" in ci[0]
    if o.roi is not None:
        assert f"return {fmt.pct(o.roi_ci[0])} to {fmt.pct(o.roi_ci[1])}" in ci[0]
    # the jargon is explained on the page
    text = " ".join(c.value for c in at.caption)
    for word in ("**Control group**", "**Uplift**", "**95% confidence interval**"):
        assert word in text


def test_bad_files_get_their_message_and_good_rows_still_count(data_dir, outcomes):
    at = open_page(PAGE, timeout=240)
    at.file_uploader(key="results_file").upload("empty.csv", b"", "text/csv").run()
    assert [e.value for e in at.error] == ["empty.csv has no rows."]
    frame = pd.read_csv(pd.io.common.BytesIO(outcomes), dtype=str, keep_default_na=False)
    frame.loc[0, "churned"] = ""
    data = frame.to_csv(index=False).encode()
    at.file_uploader(key="results_file").upload("partly.csv", data, "text/csv").run()
    _ok(at)
    assert [w.value for w in at.warning] == [md(   # shown as text: markdown characters escaped
        "1 row(s) have no churned value yet, e.g. row 2; they are left out until the outcome "
        "is known.")]
    assert any(f"{len(frame) - 1:,} of {len(frame):,} rows counted" in c.value
               for c in at.caption)


def test_a_saved_campaign_checks_ids_and_records_the_outcomes(data_dir, outcomes):
    from churn.store import Store

    store = Store(paths(data_dir).store)
    rows = C.read_export(outcomes)[C.CAMPAIGN_COLUMNS]
    cid = C.save_campaign(store, C.Campaign(rows, {"budget": 10_000.0}), "Loop test")
    at = open_page(PAGE, timeout=240)
    at.selectbox(key="results_campaign").select(cid).run()
    assert any("No outcomes are recorded for this campaign yet" in i.value for i in at.info)
    frame = pd.read_csv(pd.io.common.BytesIO(outcomes), dtype=str, keep_default_na=False)
    slim = frame[["customerID", "churned", "accepted"]]
    slim = pd.concat([slim, pd.DataFrame({"customerID": ["0000-NOPE"], "churned": ["Yes"],
                                          "accepted": ["No"]})], ignore_index=True)
    at.file_uploader(key="results_file").upload("crm.csv", slim.to_csv(index=False).encode(),
                                                 "text/csv").run()
    _ok(at)
    assert [w.value for w in at.warning] == [md(
        f"1 row(s) name a customer who is not in the campaign, e.g. 0000-NOPE (row "
        f"{len(slim) + 1}); they are left out.")]
    expected = R.measure_file(outcomes, name="x").overall
    assert _metric(at, "Measured uplift") == f"{expected.uplift * 100:+.1f} pts"
    at.button(key="results_record").click().run()
    _ok(at)
    hist = store.load_campaign_history()
    mine = hist[hist["campaign_id"] == f"saved-{cid}"]
    assert len(mine) == len(frame)
    # the recorded outcomes reopen without an upload
    at2 = open_page(PAGE, timeout=240)
    at2.selectbox(key="results_campaign").select(cid).run()
    _ok(at2)
    assert _metric(at2, "Measured uplift") == f"{expected.uplift * 100:+.1f} pts"
