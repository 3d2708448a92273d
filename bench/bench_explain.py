"""Benchmarks for explanations and the what-if view (see bench/_common.py for the contract).

Cases:
- whatif_rescore: apply a random edit to a random customer, then explain the changed customer
  (probability + contributions + percentage points on a 1-row frame); p50 and p95 over 200
  edits (target p95 < 50 ms).
- global_shap_7k: first (uncached) global explanation of the 7,043-customer sample
  (target < 10 s).
- driver_text_1m: top-3 driver table with sentences for 1,000,000 customers (explanations tiled
  from the sample; target < 20 s, so it stays a small part of a 120 s batch).
- whatif_page_rerun: AppTest rerun of the what-if page after a widget change, warm caches
  (target p95 < 300 ms).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, main, percentile, result, scratch_dir  # noqa: E402

from churn import explain as E  # noqa: E402
from churn import whatif as W  # noqa: E402


def _active_model():
    """The active model of the benchmark data folder (trained there once when missing)."""
    scratch_dir("explain")
    from churn.scoring import Engine

    engine = Engine.load()
    return engine.model, engine.customers


def _random_edit(rng: np.random.Generator, cust: pd.Series) -> dict:
    specs = W.widget_specs()
    changes = {}
    for spec in rng.choice(np.array(specs, dtype=object), size=int(rng.integers(1, 4)),
                           replace=False):
        if spec.widget == "slider":
            lo, hi = spec.bounds_for(cust[spec.feature])
            if spec.feature == "tenure":
                changes[spec.feature] = int(rng.integers(lo, hi + 1))
            else:
                changes[spec.feature] = round(float(rng.uniform(lo, hi)) * 20) / 20
        elif spec.widget == "select":
            opts = W.options_for(spec.feature, cust)
            changes[spec.feature] = opts[int(rng.integers(len(opts)))]
    return changes


def case_whatif_rescore(quick: bool) -> list[dict]:
    model, customers = _active_model()
    rng = np.random.default_rng(0)
    n = 50 if quick else 200
    times = []
    for _ in range(5):  # warm-up
        E.explain(model, customers.iloc[[0]])
    for _ in range(n):
        cust = customers.iloc[int(rng.integers(len(customers)))]
        changes = _random_edit(rng, cust)
        t0 = time.perf_counter()
        changed = W.apply_changes(cust, changes)
        E.explain(model, W.customer_frame(changed))
        times.append(time.perf_counter() - t0)
    ms = [1000 * t for t in times]
    fam = getattr(model, "family", type(model).__name__)
    return [result("whatif_rescore_p50", percentile(ms, 0.5), "ms", None, note=f"model={fam}"),
            result("whatif_rescore_p95", percentile(ms, 0.95), "ms", 50.0,
                   note=f"{n} random edits, model={fam}")]


def case_global_shap_7k(quick: bool) -> list[dict]:
    model, customers = _active_model()
    df = customers.iloc[:1000] if quick else customers
    t0 = time.perf_counter()
    expl = E.global_explanation(model, df)
    E.global_importance(expl)
    secs = time.perf_counter() - t0
    fam = getattr(model, "family", type(model).__name__)
    return [result("global_shap_7k", secs, "s", 10.0,
                   note=f"{len(df)} customers, model={fam}")]


def case_driver_text_1m(quick: bool) -> list[dict]:
    model, customers = _active_model()
    base = E.explain(model, customers)
    n = 100_000 if quick else 1_000_000
    reps = -(-n // len(base))
    pos = np.tile(np.arange(len(base)), reps)[:n]
    big = base.take(pos)
    # Spread the values a little so the sentences are not all repeats of 7,043 rows.
    rng = np.random.default_rng(0)
    big.pp = big.pp * rng.uniform(0.9, 1.1, size=(n, 1))
    t0 = time.perf_counter()
    td = E.top_drivers(big, k=3)
    secs = time.perf_counter() - t0
    assert len(td) == n
    return [result("driver_text_1m", secs, "s", 20.0, note=f"{n} customers, k=3")]


def case_whatif_page_rerun(quick: bool) -> list[dict]:
    from streamlit.testing.v1 import AppTest

    scratch_dir("explain")
    _active_model()  # make sure the model exists before the page starts
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/3_Customer_what_if.py").run()
    if at.exception:
        raise RuntimeError(f"what-if page failed: {at.exception}")
    slider = at.slider(key="whatif_tenure")
    lo, hi = slider.min, slider.max
    rng = np.random.default_rng(0)
    n = 10 if quick else 40
    times = []
    for _ in range(n):
        value = int(rng.integers(lo, hi + 1))
        at.slider(key="whatif_tenure").set_value(value)  # fresh element: the tree is rebuilt
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(f"what-if page failed: {at.exception}")
        if at.slider(key="whatif_tenure").value != value:
            raise RuntimeError("the tenure slider did not take the new value")
    ms = [1000 * t for t in times]
    return [result("whatif_page_rerun_p50", percentile(ms, 0.5), "ms", None),
            result("whatif_page_rerun_p95", percentile(ms, 0.95), "ms", 300.0,
                   note=f"{n} tenure changes, AppTest, warm caches")]


CASES = {
    "whatif_rescore": case_whatif_rescore,
    "global_shap_7k": case_global_shap_7k,
    "driver_text_1m": case_driver_text_1m,
    "whatif_page_rerun": case_whatif_page_rerun,
}

if __name__ == "__main__":
    main(CASES)
