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
  the tenure slider focused, ArrowRight pressed; time from the key press until the "Churn
  probability" card shows the new value, the script has finished and two animation frames have
  been painted (target ≤ 250 ms, median of the presses). Server: `streamlit run app.py` as in
  bench/bench_app.py.
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


_METRIC_JS = """() => {
  const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
    .find(e => e.innerText.startsWith('Churn probability'));
  return m ? m.querySelector('[data-testid="stMetricValue"]').innerText : null; }"""


def case_whatif_redraw_browser(quick: bool) -> list[dict]:
    from bench_app import IDLE, Server, _launch, browser_available
    from playwright.sync_api import sync_playwright

    if not browser_available():
        raise RuntimeError("needs /usr/bin/chromium and Playwright")
    _engine()  # the model exists before the server starts
    log = scratch_dir("whatif") / "server.log"
    presses = 5 if quick else 15
    times = []
    with sync_playwright() as pw:
        browser = _launch(pw)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        try:
            with Server(None, log) as srv:
                srv.wait_healthy()
                page.goto(srv.base + "/customer-what-if")
                page.wait_for_function(f"""() => document.querySelector('{IDLE}')
                    && [...document.querySelectorAll('h1')].some(h =>
                       h.innerText.startsWith('Customer what-if'))
                    && !document.querySelector('[data-testid="stSkeleton"]')""",
                                       timeout=600_000)
                page.wait_for_timeout(2000)
                slider = page.get_by_test_id("stSlider").get_by_role("slider",
                                                                     name="Tenure (months)")
                for i in range(presses + 2):
                    before = page.evaluate(_METRIC_JS)
                    slider.focus()
                    key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
                    t0 = time.perf_counter()
                    page.keyboard.press(key)
                    page.wait_for_function(
                        """([before, idle]) => {
                             const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
                               .find(e => e.innerText.startsWith('Churn probability'));
                             const v = m && m.querySelector('[data-testid="stMetricValue"]');
                             return v && v.innerText !== before && document.querySelector(idle);
                           }""", arg=[before, IDLE], polling="raf", timeout=60_000)
                    page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                                  "requestAnimationFrame(r)))")
                    secs = time.perf_counter() - t0
                    if i >= 2:  # the first two warm the caches for both values
                        times.append(1000 * secs)
                    page.wait_for_timeout(400)
        finally:
            browser.close()
    return [result("whatif_redraw_browser", statistics.median(times), "ms", TARGET_REDRAW_MS,
                   note=f"Chromium: tenure ±1 month with the keyboard -> probability card "
                        f"updated, script idle, painted; median of {len(times)} presses "
                        f"(min {min(times):.0f}, max {max(times):.0f})")]


CASES = {
    "sweep_numeric": case_sweep_numeric,
    "sweep_categorical": case_sweep_categorical,
    "partial_dependence": case_partial_dependence,
    "whatif_redraw_browser": case_whatif_redraw_browser,
}

if __name__ == "__main__":
    main(CASES)
