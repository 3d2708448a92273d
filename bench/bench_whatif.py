"""Benchmarks of the what-if depth features (issue 18; see bench/_common.py for the contract).

Cases (the engine of the benchmark data folder, trained there once when missing):
- sweep_numeric: `churn.whatif.sweep` of tenure and of monthly charges (50 grid points + the
  customer's own value, each with probability, lifetime value and ranked offers) for 20 random
  customers, warm; p50 / p95 core time (target p50 ≤ 150 ms), and the p50 CPU time of the
  process, all threads (on a shared, loaded machine wall time mostly waits for a core). Also
  one `Engine.customer_view` (a single what-if rescoring) for scale: the sweep batches its
  points through one `Engine.score_all`, so it costs about one rescoring, not fifty.
- sweep_categorical: the sweep of every categorical feature's levels (contract, payment method,
  internet service, an add-on, …) for the same customers; p50 / p95 (target p50 ≤ 150 ms).
- partial_dependence: the population curve of tenure on `PD_SAMPLE` customers (cached per
  model, data and feature by the page, so paid once per feature).
- whatif_redraw_browser: the plain what-if in Chromium: the page open on its first customer,
  the tenure slider focused, an arrow key pressed, the same one each time, so that every press
  gives a tenure not shown before (a real rescoring, nothing served from the page's caches);
  time from the key press until the four cards (probability, tier, lifetime value, best offer)
  show the new values, the script has finished and two animation frames have been painted
  (target ≤ 250 ms, median of the presses). Server: `streamlit run app.py` as in
  bench/bench_app.py.
- whatif_sweep_browser: the same page with the sweep switched on (tenure): a keyboard change of
  tenure until the cards show the new values, the script has finished and the sweep chart has
  been drawn again; then the swept feature changed in its drop-down (monthly charges, contract,
  payment method, internet service, tenure, in turn) until the new chart is drawn. Medians
  (target ≤ 1 s each: "the page updates in ≤ 1 s").
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, main, percentile, result, scratch_dir  # noqa: E402

TARGET_SWEEP_MS = 150.0
TARGET_REDRAW_MS = 250.0
TARGET_SWEEP_PAGE_MS = 1000.0
CUSTOMERS = 20
CATEGORICAL = ["Contract", "PaymentMethod", "InternetService", "OnlineSecurity",
               "PaperlessBilling", "SeniorCitizen"]


def _engine():
    scratch_dir("whatif")
    from churn.scoring import Engine

    return Engine.load()


def _customers(eng, n):
    rng = np.random.default_rng(0)
    return [eng.customers.iloc[int(i)] for i in rng.choice(len(eng.customers), n, replace=False)]


def _sweep_times(features, quick):
    from churn import whatif as W
    from churn.config import BusinessSettings

    eng = _engine()
    settings = BusinessSettings()
    custs = _customers(eng, 5 if quick else CUSTOMERS)
    W.sweep(eng, custs[0], features[0], settings)  # warm-up
    ms, cpu = [], []
    for c in custs:
        for f in features:
            t0, c0 = time.perf_counter(), time.process_time()
            W.sweep(eng, c, f, settings)
            ms.append(1000 * (time.perf_counter() - t0))
            cpu.append(1000 * (time.process_time() - c0))
    one = []
    for c in custs:
        frame = W.customer_frame(c)
        t0 = time.perf_counter()
        eng.customer_view(frame, settings)
        one.append(1000 * (time.perf_counter() - t0))
    return ms, one, getattr(eng.model, "family", "?"), cpu


def case_sweep_numeric(quick: bool) -> list[dict]:
    ms, one, fam, cpu = _sweep_times(["tenure", "MonthlyCharges"], quick)
    return [result("sweep_numeric_p50", percentile(ms, 0.5), "ms", TARGET_SWEEP_MS,
                   note=f"50-point sweep + current value, probability, CLV, offers; {len(ms)} "
                        f"sweeps; model={fam}"),
            result("sweep_numeric_p95", percentile(ms, 0.95), "ms", None, note=f"model={fam}"),
            result("sweep_numeric_cpu_p50", percentile(cpu, 0.5), "ms", TARGET_SWEEP_MS,
                   note="CPU time of the process (all its threads; what the sweep costs "
                        "without the "
                        "wait for a core on a loaded machine)"),
            result("single_rescore_p50", percentile(one, 0.5), "ms", None,
                   note="one Engine.customer_view, for scale")]


def case_sweep_categorical(quick: bool) -> list[dict]:
    ms, _, fam, cpu = _sweep_times(CATEGORICAL, quick)
    return [result("sweep_categorical_p50", percentile(ms, 0.5), "ms", TARGET_SWEEP_MS,
                   note=f"all levels of {', '.join(CATEGORICAL)}; {len(ms)} sweeps; "
                        f"model={fam}"),
            result("sweep_categorical_p95", percentile(ms, 0.95), "ms", None),
            result("sweep_categorical_cpu_p50", percentile(cpu, 0.5), "ms", TARGET_SWEEP_MS,
                   note="CPU time of the process (all its threads)")]


def case_partial_dependence(quick: bool) -> list[dict]:
    from churn import whatif as W

    eng = _engine()
    W.partial_dependence(eng.model, eng.customers, "Contract")  # warm-up
    t0 = time.perf_counter()
    W.partial_dependence(eng.model, eng.customers, "tenure")
    secs = time.perf_counter() - t0
    return [result("partial_dependence_tenure", 1000 * secs, "ms", None,
                   note=f"{W.PD_SAMPLE} customers × 50 values, one predict_proba; cached by "
                        "the page")]


#: The four cards' values (probability, tier, lifetime value, best offer's net value): a tree
#: model's probability may stay the same for the next month of tenure, the lifetime value moves.
_METRIC_JS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
    .map(v => v.innerText).join('|')"""


_READY_JS = """() => document.querySelector('%s')
    && [...document.querySelectorAll('h1')].some(h => h.innerText.startsWith('Customer what-if'))
    && !document.querySelector('[data-testid="stSkeleton"]')"""

_CARD_CHANGED_JS = """([before, idle]) => {
    const now = [...document.querySelectorAll('[data-testid="stMetricValue"]')]
      .map(v => v.innerText).join('|');
    return now !== before && document.querySelector(idle);
  }"""

#: The sweep chart's drawing (Plotly's SVG), to see that it was drawn again.
_CHART_JS = """() => { const c = document.querySelector('.st-key-whatif_sweep_chart .main-svg');
    return c ? c.outerHTML : ''; }"""

_PAINTED_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _open_whatif(pw, srv):
    """A Chromium page on the what-if page of the server `srv`, finished and settled."""
    from bench_app import IDLE, _launch

    browser = _launch(pw)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(srv.base + "/customer-what-if")
    page.wait_for_function(_READY_JS % IDLE, timeout=600_000)
    page.wait_for_timeout(2000)
    return browser, page


def _tenure_slider(page):
    return page.get_by_test_id("stSlider").get_by_role("slider", name="Tenure (months)")


def _fresh_key(page, presses: int) -> str:
    """The arrow key that moves tenure to ``presses`` values in a row that were never shown:
    right when the slider has room for them above the customer's tenure, else left. Every
    press then costs a real rescoring (no figure is served from the page's caches), as when a
    user tries new values; going back and forth between two values would time cache hits."""
    now, top = _tenure_slider(page).evaluate("e => [Number(e.value), Number(e.max)]")
    return "ArrowRight" if now + presses <= top else "ArrowLeft"


def _press_tenure(page, key: str, chart: bool = False) -> float:
    """Seconds from a tenure key press (``key``: ArrowRight or ArrowLeft) until the cards show
    the new values, the script is idle and (with ``chart``) the sweep chart was drawn again."""
    from bench_app import IDLE

    before = page.evaluate(_METRIC_JS)
    drawn = page.evaluate(_CHART_JS) if chart else ""
    slider = _tenure_slider(page)
    slider.focus()
    t0 = time.perf_counter()
    page.keyboard.press(key)
    page.wait_for_function(_CARD_CHANGED_JS, arg=[before, IDLE], polling="raf", timeout=60_000)
    if chart:
        page.wait_for_function(f"([old]) => ({_CHART_JS})() !== old", arg=[drawn],
                               polling="raf", timeout=60_000)
    page.evaluate(_PAINTED_JS)
    return time.perf_counter() - t0


def case_whatif_redraw_browser(quick: bool) -> list[dict]:
    from bench_app import Server, browser_available
    from playwright.sync_api import sync_playwright

    if not browser_available():
        raise RuntimeError("needs /usr/bin/chromium and Playwright")
    _engine()  # the model exists before the server starts
    log = scratch_dir("whatif") / "server.log"
    presses = 5 if quick else 15
    times = []
    with sync_playwright() as pw, Server(None, log) as srv:
        srv.wait_healthy()
        browser, page = _open_whatif(pw, srv)
        try:
            key = _fresh_key(page, presses + 2)
            for i in range(presses + 2):
                secs = _press_tenure(page, key)
                if i >= 2:  # the first two warm up the browser and the server's code paths
                    times.append(1000 * secs)
                page.wait_for_timeout(400)
        finally:
            browser.close()
    return [result("whatif_redraw_browser", statistics.median(times), "ms", TARGET_REDRAW_MS,
                   note=f"Chromium: tenure +1 (or -1) month with the keyboard, a value not "
                        f"shown before each time (rescored, no cached figures) -> the four "
                        f"cards updated, script idle, painted; median of {len(times)} presses "
                        f"(min {min(times):.0f}, max {max(times):.0f})")]


def case_whatif_sweep_browser(quick: bool) -> list[dict]:
    from bench_app import IDLE, Server, browser_available
    from playwright.sync_api import sync_playwright

    from churn import schema

    if not browser_available():
        raise RuntimeError("needs /usr/bin/chromium and Playwright")
    _engine()
    log = scratch_dir("whatif") / "server.log"
    presses = 4 if quick else 10
    features = ["MonthlyCharges", "Contract", "PaymentMethod", "InternetService", "tenure"]
    edits, switches = [], []
    with sync_playwright() as pw, Server(None, log) as srv:
        srv.wait_healthy()
        browser, page = _open_whatif(pw, srv)
        try:
            page.get_by_text("Show how this customer's figures change across one feature").click()
            chart = page.locator(".st-key-whatif_sweep_chart .main-svg").first
            chart.wait_for(state="visible", timeout=120_000)
            page.wait_for_function(f"() => document.querySelector('{IDLE}')", timeout=120_000)
            page.wait_for_timeout(1000)
            key = _fresh_key(page, presses + 2)
            for i in range(presses + 2):
                secs = _press_tenure(page, key, chart=True)
                if i >= 2:
                    edits.append(1000 * secs)
                page.wait_for_timeout(400)
            for rounds in range(1 if quick else 2):
                for feature in features:
                    drawn = page.evaluate(_CHART_JS)
                    box = page.get_by_test_id("stSelectbox").filter(has_text="Feature to sweep")
                    box.locator("input").click()
                    box.locator("input").fill(schema.label(feature))  # the list shows a few
                    option = page.get_by_role("option", name=schema.label(feature), exact=True)
                    option.wait_for(timeout=10_000)
                    t0 = time.perf_counter()
                    option.click()
                    page.wait_for_function(f"([old, idle]) => ({_CHART_JS})() !== old "
                                           "&& document.querySelector(idle)",
                                           arg=[drawn, IDLE], polling="raf", timeout=60_000)
                    page.evaluate(_PAINTED_JS)
                    if rounds or quick:  # the first round computes each feature's curve
                        switches.append(1000 * (time.perf_counter() - t0))
                    page.wait_for_timeout(400)
        finally:
            browser.close()
    return [result("whatif_sweep_edit_browser", statistics.median(edits), "ms",
                   TARGET_SWEEP_PAGE_MS,
                   note=f"sweep of tenure on: tenure +1 (or -1) month, a new value each time -> "
                        f"cards updated, script idle, sweep "
                        f"chart drawn again; median of {len(edits)} presses (min "
                        f"{min(edits):.0f}, max {max(edits):.0f})"),
            result("whatif_sweep_switch_browser", statistics.median(switches), "ms",
                   TARGET_SWEEP_PAGE_MS,
                   note=f"another feature chosen in the sweep's drop-down -> its chart drawn, "
                        f"script idle; median of {len(switches)} switches (min "
                        f"{min(switches):.0f}, max {max(switches):.0f}); "
                        + ("first visits, curves computed" if quick else
                           "second round: each feature's population curve already computed"))]


CASES = {
    "sweep_numeric": case_sweep_numeric,
    "sweep_categorical": case_sweep_categorical,
    "partial_dependence": case_partial_dependence,
    "whatif_redraw_browser": case_whatif_redraw_browser,
    "whatif_sweep_browser": case_whatif_sweep_browser,
}

if __name__ == "__main__":
    main(CASES)
