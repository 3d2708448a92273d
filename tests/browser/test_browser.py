"""The real app in a real browser: Streamlit served on a loopback port, Debian's Chromium driven
by Playwright. Every page must render without an error; a full-page screenshot of each is saved
under tests/artifacts/ (ignored by git) for people to look at.

Helpers for later tests: `goto_page(page, server, spec)` opens a page and waits until it has
finished; `wait_idle(page)` waits for the app to finish after an interaction (first wait for the
change you expect, then call it); `assert_no_errors(page, errors)` checks a page for failures.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from _servers import free_port, serve
from ui.navigation import PAGES, PageSpec

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ERROR_BOXES = '[data-testid="stException"], [class*="st-key-page-error"]'


@pytest.fixture(scope="module")
def browser_data_dir(sample_data_dir, tmp_path_factory) -> Path:
    """A data folder of the browser test's own: the sample and nothing else, so the first page
    the browser opens is a real first start (the server trains every model family)."""
    import shutil

    from churn.config import paths

    folder = tmp_path_factory.mktemp("browser-data")
    shutil.copytree(paths(sample_data_dir).sample_dir, paths(folder).sample_dir)
    return folder


@pytest.fixture(scope="module")
def server(browser_data_dir) -> str:
    """Base URL of the app, served from the browser test's data folder for this module."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # A real first start, on the small grid (every family, one point each): the flow is the
    # same as the full grid's, a minute quicker (tests/test_models.py covers the full grid).
    env = {**os.environ, "CHURN_DATA_DIR": str(browser_data_dir), "CHURN_TRAIN_GRID": "small"}
    with serve(["-m", "streamlit", "run", "app.py", "--server.headless", "true",
                "--server.address", "127.0.0.1", "--server.port", str(port),
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
               ready_url=f"{base}/_stcore/health", env=env, log=ARTIFACTS / "server.log",
               timeout=60):
        yield base


@pytest.fixture(scope="module")
def browser():
    """Chromium for this module only. Playwright's sync API keeps an asyncio loop running in the
    main thread while it is open, so a session-wide browser would break every later test in the
    same worker that calls asyncio.run() (it did, in CI)."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make test` (it installs it)"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser page; `page.errors` collects uncaught JavaScript errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    p = context.new_page()
    p.errors = []
    p.on("pageerror", lambda exc: p.errors.append(str(exc)))
    yield p
    context.close()


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the script has finished and no placeholder skeleton is left."""
    page.locator(IDLE).wait_for(state="attached", timeout=timeout)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)
    page.locator(IDLE).wait_for(state="attached", timeout=timeout)


def goto_page(page: Page, server: str, spec: PageSpec, timeout: float = 60_000) -> None:
    """Open the page `spec` by its URL and wait until it has finished rendering."""
    page.goto(f"{server}/{'' if spec.default else spec.url_path}")
    expect(page.get_by_role("heading", name=spec.title, level=1)).to_be_visible(timeout=timeout)
    wait_idle(page, timeout)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    page.wait_for_timeout(300)  # the dialog, when it comes, lands just after the first render
    expect(page.get_by_text("Page not found")).to_have_count(0)


def assert_no_errors(page: Page) -> None:
    """No Streamlit exception, no error from the page guard, no JavaScript page error."""
    boxes = page.locator(ERROR_BOXES)
    assert boxes.count() == 0, boxes.all_inner_texts()
    assert page.errors == []


def screenshot(page: Page, name: str) -> Path:
    """A PNG of the whole page under tests/artifacts/. Streamlit scrolls inside its own main
    container, so the viewport is stretched to the content's height for the shot."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        return main ? main.scrollHeight : document.body.scrollHeight; }""")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"],
                                                                  min(int(height), 6000))})
    try:
        page.wait_for_timeout(500)  # let charts re-lay out at the new size
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    return path


#: What each page shows on a fresh data folder once the models are trained (nothing uploaded,
#: no campaign saved): proof that the page did its work.
PAGE_SHOWS = {
    "overview": "Predicted churners",
    "customers": "Matching customers",
    "why-customers-churn": "One feature up close",
    "customer-what-if": "Best offers",
    "retention-campaign": "A customer's top 3 offers",
    "campaign-results": "Load an outcomes file, or choose a saved campaign.",
    "upload-and-score": "Template CSV",
    "model-report": "Customers learned from",
    "model-health": "Upload and save customers",
}


def test_first_start_trains_the_models_then_every_page_renders(page, server):
    """The first page opened on a fresh data folder trains the default models (progress bar),
    then shows real figures; then every page renders without an error."""
    t0 = time.monotonic()
    campaign = next(p for p in PAGES if p.url_path == "retention-campaign")
    # While the shared training runs, the page shows its progress, and Streamlit's Stop button
    # (which would stop only this page's wait) is hidden (issue 16).
    page.goto(f"{server}/{campaign.url_path}")
    expect(page.get_by_text("First start:", exact=False).first).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("stStatusWidget")).to_be_visible()
    expect(page.get_by_test_id("stStatusWidget").get_by_role("button")).to_be_hidden()
    screenshot(page, "first-start-progress")
    # The very first request is a deep link: Streamlit must not answer "Page not found" before
    # the app has registered its pages (goto_page checks there is no such dialog).
    goto_page(page, server, campaign, timeout=600_000)
    expect(page.get_by_test_id("stSidebar").get_by_text("Model in use:")).to_be_visible(
        timeout=600_000)
    wait_idle(page, 600_000)
    (ARTIFACTS / "cold-start-seconds.txt").write_text(f"{time.monotonic() - t0:.1f}\n")
    goto_page(page, server, PAGES[0])
    labels = page.get_by_test_id("stMetricLabel").all_inner_texts()
    assert any("Predicted churners" in label for label in labels), labels
    for spec in PAGES:
        goto_page(page, server, spec, timeout=180_000)
        assert_no_errors(page)
        # each page shows its own content, not only "no error"
        expect(page.get_by_test_id("stHeading").filter(has_text=spec.title).first).to_be_visible()
        expect(page.get_by_text(PAGE_SHOWS[spec.url_path]).first).to_be_visible()
        nav = page.get_by_test_id("stSidebarNav")
        for other in PAGES:
            expect(nav.get_by_role("link", name=other.title, exact=True)).to_be_visible()
        expect(page.get_by_test_id("stSidebarUserContent").get_by_text(
            "Customers", exact=True)).to_be_visible()
        assert screenshot(page, f"page-{spec.url_path}").stat().st_size > 10_000


def _metric_value(page: Page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(has=page.get_by_test_id("stMetricLabel")
                                                    .get_by_text(label, exact=True))
    return metric.get_by_test_id("stMetricValue").inner_text()


def test_upload_a_csv_shows_counts_then_scores(page, server, sample_data_dir, tmp_path):
    import pandas as pd

    from churn.config import paths

    raw = pd.read_csv(paths(sample_data_dir).customers_csv, dtype=str, keep_default_na=False)
    batch = raw.head(40).copy()
    batch.loc[batch.index[3], "tenure"] = "abc"          # not a number: rejected
    batch.loc[batch.index[7], "Contract"] = "Monthly"    # unknown category: rejected
    batch = batch.drop(columns=["Churn"])                # customers still to be scored
    file = tmp_path / "new_customers.csv"
    batch.to_csv(file, index=False)
    goto_page(page, server, next(p for p in PAGES if p.url_path == "upload-and-score"),
              timeout=600_000)
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(str(file))
    expect(page.get_by_test_id("stMetricLabel").get_by_text("Accepted", exact=True)).to_be_visible(
        timeout=120_000)
    wait_idle(page, 300_000)
    assert _metric_value(page, "Rows read") == "40"
    assert _metric_value(page, "Accepted") == "38"
    assert _metric_value(page, "Rejected") == "2"
    expect(page.get_by_text("Scores", exact=False).first).to_be_visible()
    assert_no_errors(page)
    screenshot(page, "upload-and-score-with-file")


def test_campaign_csv_download_has_the_listed_rows(page, server, tmp_path):
    import pandas as pd

    goto_page(page, server, next(p for p in PAGES if p.url_path == "retention-campaign"),
              timeout=600_000)
    treated = int(_metric_value(page, "To contact").replace(",", ""))
    held_out = int(_metric_value(page, "Control group").replace(",", ""))
    assert treated > 0 and held_out > 0
    target = _download_campaign(page, tmp_path / "campaign.csv")
    rows = pd.read_csv(target, dtype={"customerID": str})
    assert len(rows) == treated + held_out
    assert (rows["group"] == "control").sum() == held_out
    assert list(rows.columns[:10]) == ["customerID", "churn_prob", "risk_tier", "clv",
                                       "revenue_at_risk", "offer", "offer_id", "offer_cost",
                                       "reason", "expected_net_value"]
    assert rows["customerID"].is_unique
    assert rows["offer_cost"].sum() <= 10_000 + 1e-6  # the page's default budget
    assert rows.loc[rows["group"] == "control", "offer_cost"].eq(0).all()
    wait_idle(page)
    assert_no_errors(page)


def _download_campaign(page: Page, target: Path) -> Path:
    button = page.get_by_test_id("stDownloadButton").filter(has_text="CSV").first
    with page.expect_download() as download:
        button.get_by_role("button").click()
    download.value.save_as(target)
    return target


def test_the_whole_loop_export_simulate_upload_measure(page, server, browser_data_dir,
                                                       tmp_path):
    """Export the default campaign with its control group, save it, fill in outcomes with the
    demo simulator, upload them on Campaign results: the measured uplift and its interval are on
    the page, equal to the core's figures for the same file."""
    import pandas as pd

    from churn import results, simulate
    from churn.config import paths
    from churn.validate import load_customers

    goto_page(page, server, next(p for p in PAGES if p.url_path == "retention-campaign"),
              timeout=600_000)
    exported = _download_campaign(page, tmp_path / "campaign.csv")
    page.get_by_test_id("stTextInput").get_by_role("textbox").fill("Browser loop")
    page.get_by_role("button", name="Save campaign").click()
    saved = page.get_by_text("Saved as campaign")
    expect(saved).to_be_visible(timeout=60_000)
    expect(saved).to_contain_text("Browser loop")  # the name typed just before the click
    wait_idle(page)
    screenshot(page, "campaign-saved")
    campaign = pd.read_csv(exported, dtype=str, keep_default_na=False)
    active = load_customers(paths(browser_data_dir).active_csv)
    outcomes = simulate.simulate_outcomes(campaign, active, seed=2)
    upload = tmp_path / "outcomes.csv"
    outcomes.to_csv(upload, index=False)
    expected = results.measure_file(upload)
    assert expected.overall.measured

    goto_page(page, server, next(p for p in PAGES if p.url_path == "campaign-results"),
              timeout=180_000)
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(
        str(upload))
    expect(page.get_by_test_id("stMetricLabel").get_by_text("Measured uplift", exact=True)
           ).to_be_visible(timeout=120_000)
    wait_idle(page)
    o = expected.overall
    assert _metric_value(page, "Measured uplift") == f"{o.uplift * 100:+.1f} pts"
    expect(page.get_by_text(f"95% confidence interval {o.ci95[0] * 100:+.1f} to "
                            f"{o.ci95[1] * 100:+.1f} points", exact=False)).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(1)  # predicted against measured
    assert_no_errors(page)
    screenshot(page, "campaign-results-loop")


def test_sidebar_navigation_keeps_the_settings(page, server):
    goto_page(page, server, PAGES[0])
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Business settings").click()
    slider = sidebar.get_by_test_id("stSlider").get_by_role("slider", name="Profit margin")
    slider.focus()
    page.keyboard.press("ArrowLeft")
    expect(slider).to_have_value("59")
    wait_idle(page)
    screenshot(page, "sidebar-settings")
    target = PAGES[-1]
    sidebar.get_by_test_id("stSidebarNav").get_by_role("link", name=target.title,
                                                       exact=True).click()
    expect(page.get_by_role("heading", name=target.title, level=1)).to_be_visible()
    wait_idle(page)
    assert page.url.endswith(f"/{target.url_path}")
    expect(slider).to_have_value("59")
    assert_no_errors(page)


def test_overview_shows_the_sample(page, server, sample_data_dir):
    import pandas as pd

    from churn.config import paths

    rows = len(pd.read_csv(paths(sample_data_dir).active_csv))  # the default: the active base
    goto_page(page, server, PAGES[0])
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    assert values[0] == f"{rows:,}"
    expect(page.get_by_test_id("stSidebar").get_by_text(
        f"Active base: {rows:,} current customers", exact=False)).to_be_visible()
    assert_no_errors(page)


def _via_sidebar(page: Page, spec: PageSpec, timeout: float = 180_000) -> None:
    """Open a page from the sidebar menu (the same session, as a user moves around)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=spec.title, exact=True).click()
    expect(page.get_by_role("heading", name=spec.title, level=1)).to_be_visible(timeout=timeout)
    wait_idle(page, timeout)


def test_every_page_works_after_leaving_it_and_coming_back(page, server):
    """Issue 17: the what-if page said "Something went wrong" after a visit to another page
    (Streamlit drops the state of widgets not drawn on the last run). Every page is left for
    another one and opened again from the sidebar, in one session; the what-if page must also
    still hold the user's edit and the sweep, waterfall and comparison must draw (screenshots
    at 1440 px wide: whatif-sweep, whatif-compare)."""
    page.set_viewport_size({"width": 1440, "height": 900})
    goto_page(page, server, PAGES[0], timeout=600_000)
    for spec in PAGES:
        other = PAGES[1] if spec is PAGES[0] else PAGES[0]
        _via_sidebar(page, spec, 600_000)
        assert_no_errors(page)
        _via_sidebar(page, other)
        _via_sidebar(page, spec)
        assert_no_errors(page)

    whatif = next(p for p in PAGES if p.url_path == "customer-what-if")
    _via_sidebar(page, whatif)
    prob = _metric_value(page, "Churn probability")
    tenure = page.get_by_test_id("stSlider").get_by_role("slider", name="Tenure (months)")
    real_tenure = tenure.input_value()
    tenure.focus()
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("stMetric").filter(has_text="Churn probability")
           .get_by_test_id("stMetricDelta")).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)  # the slider sends its last value after a short pause
    wait_idle(page)
    edited = tenure.input_value()
    changed = _metric_value(page, "Churn probability")
    assert changed != prob
    # the waterfall (HTML, redrawn with the figures in the page's fragment) ends at the new value
    expect(page.locator(".wf-value.wf-total").last).to_have_text(changed)
    _via_sidebar(page, PAGES[0])
    _via_sidebar(page, whatif)
    assert_no_errors(page)
    expect(page.get_by_test_id("stSlider").get_by_role("slider", name="Tenure (months)")
           ).to_have_value(edited)
    assert _metric_value(page, "Churn probability") == changed

    # the sweep: a chart of three panels; clicking a point puts its value into the form
    page.get_by_text("Show how this customer's figures change across one feature").click()
    chart = page.locator(".st-key-whatif_sweep_chart")
    chart.scroll_into_view_if_needed()
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Click a point to try that value in the form")).to_be_visible()
    point = chart.locator(".scatterlayer .trace").nth(1).locator(".points path").first
    point.click(force=True)
    expect(page.get_by_test_id("stSlider").get_by_role("slider", name="Tenure (months)")
           ).to_have_value("0", timeout=60_000)
    wait_idle(page)
    assert_no_errors(page)
    screenshot(page, "whatif-sweep")

    # pin the customer as edited, then the real one: the comparison shows both
    page.get_by_role("button", name=re.compile(r"^Pin ")).first.click()
    expect(page.get_by_test_id("stButton").filter(has_text="Unpin 1")).to_be_visible(
        timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name="Reset to the real values").first.click()
    expect(page.get_by_test_id("stSlider").get_by_role("slider", name="Tenure (months)")
           ).to_have_value(real_tenure, timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name=re.compile(r"^Pin ")).first.click()
    expect(page.get_by_test_id("stButton").filter(has_text="Unpin 2")).to_be_visible(
        timeout=60_000)
    wait_idle(page)
    assert_no_errors(page)
    screenshot(page, "whatif-compare")


def test_model_health_after_saving_a_labelled_batch(page, server, sample_data_dir, tmp_path):
    """Save an upload with outcomes whose contract mix has shifted; the Model health page then
    shows it with a light, the advice sentence, the table and the three chart tabs."""
    import pandas as pd

    from churn.config import paths

    raw = pd.read_csv(paths(sample_data_dir).customers_csv, dtype=str, keep_default_na=False)
    batch = raw.sample(800, random_state=7).copy()
    batch["Contract"] = "Month-to-month"
    file = tmp_path / "autumn outcomes.csv"   # the page names the batch after the file
    batch.to_csv(file, index=False)
    spec = next(p for p in PAGES if p.url_path == "model-health")
    goto_page(page, server, spec, timeout=900_000)   # trains the models if this runs first
    expect(page.get_by_test_id("stSidebar").get_by_text("Model in use:")).to_be_visible(
        timeout=900_000)
    wait_idle(page, 600_000)
    assert_no_errors(page)
    screenshot(page, "model-health-empty")
    goto_page(page, server, next(p for p in PAGES if p.url_path == "upload-and-score"),
              timeout=600_000)
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(str(file))
    expect(page.get_by_test_id("stMetricLabel").get_by_text("Accepted", exact=True)).to_be_visible(
        timeout=120_000)
    wait_idle(page, 300_000)
    screenshot(page, "model-health-upload")
    save = page.get_by_role("button", name="Save for everyone")
    expect(save).to_be_visible(timeout=120_000)
    save.click()
    expect(page.get_by_text('Saved "autumn outcomes"', exact=False)).to_be_visible(timeout=60_000)
    wait_idle(page)

    goto_page(page, server, spec, timeout=300_000)
    advice = page.locator(".st-key-health-advice")
    expect(advice).to_contain_text("Contract", timeout=60_000)
    expect(advice).to_contain_text('(latest batch "autumn outcomes")')
    assert page.locator('[data-testid="stException"]').count() == 0 and page.errors == []
    expect(page.get_by_role("heading", name='Latest batch: "autumn outcomes"')).to_be_visible()
    assert _metric_value(page, "ROC-AUC (actual)").startswith("0.")
    for tab in ("Drift", "Predictions", "Performance"):
        expect(page.get_by_role("tab", name=tab)).to_be_visible()
    screenshot(page, "model-health")
    page.get_by_role("tab", name="Performance").click()
    wait_idle(page)
    screenshot(page, "model-health-performance")


def test_recorded_campaign_outcomes_reach_model_health(page, server, browser_data_dir,
                                                      tmp_path):
    """Save a campaign, record its outcomes (demo simulator) for that saved campaign on Campaign
    results, then the Model health page has a row for its control group."""
    import pandas as pd

    from churn import simulate
    from churn.config import paths
    from churn.validate import load_customers

    goto_page(page, server, next(p for p in PAGES if p.url_path == "retention-campaign"),
              timeout=900_000)
    exported = _download_campaign(page, tmp_path / "campaign.csv")
    page.get_by_test_id("stTextInput").get_by_role("textbox").fill("Health loop")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_text("Saved as campaign")).to_contain_text("Health loop", timeout=60_000)
    wait_idle(page)
    campaign = pd.read_csv(exported, dtype=str, keep_default_na=False)
    active = load_customers(paths(browser_data_dir).active_csv)
    upload = tmp_path / "health loop outcomes.csv"
    simulate.simulate_outcomes(campaign, active, seed=3).to_csv(upload, index=False)

    goto_page(page, server, next(p for p in PAGES if p.url_path == "campaign-results"),
              timeout=180_000)
    page.get_by_test_id("stMain").get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=re.compile("Health loop")).click()
    wait_idle(page)
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(
        str(upload))
    record = page.get_by_role("button", name="Add to the campaign history")
    expect(record).to_be_enabled(timeout=120_000)
    wait_idle(page)
    record.click()
    expect(page.get_by_text("to the campaign history (", exact=False)).to_be_visible(
        timeout=60_000)
    wait_idle(page)

    goto_page(page, server, next(p for p in PAGES if p.url_path == "model-health"),
              timeout=300_000)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=60_000)
    assert_no_errors(page)
    expect(page.get_by_role("heading", name="Every batch and campaign")).to_be_visible()
    screenshot(page, "model-health-campaign")
    page.get_by_role("tab", name="Performance").click()
    wait_idle(page)
    assert_no_errors(page)
    screenshot(page, "model-health-campaign-performance")
