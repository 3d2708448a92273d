"""Benchmark for measuring a campaign's results (see bench/_common.py for the contract).

Cases:
- results_100k: a 100,000-customer campaign export (10% control, ten offers, three risk tiers)
  with `churned` and `accepted` filled in, as CSV bytes: read it and measure it
  (`results.measure_file`: churn rates, uplift with its Newcombe interval, saved customers and
  value, cost, ROI, by offer and by tier), then turn the counted rows into campaign-history rows.
  Target 5 s for the whole (issue 11).

Run: ``python bench/bench_results.py CASE [--quick]`` (``--quick`` uses 10,000 customers).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import main, result  # noqa: E402

from churn import campaign as C  # noqa: E402
from churn import results as R  # noqa: E402


def _export(n: int) -> bytes:
    """A campaign export of n customers with outcomes, as a user would upload it."""
    rng = np.random.default_rng(0)
    offers = [f"offer_{k}" for k in range(10)]
    tier = rng.choice(["High", "Medium", "Low"], n, p=[0.5, 0.35, 0.15])
    offer = rng.choice(offers, n)
    control = C.assign_control(pd.DataFrame({"risk_tier": tier, "offer_id": offer}), 0.1, 0)
    p = np.where(control, 0.35, 0.30)
    rows = pd.DataFrame({
        C.ID: [f"{i:04d}-{i % 99991:05d}" for i in range(n)],
        "churn_prob": np.round(rng.uniform(0.2, 0.9, n), 4), "risk_tier": tier,
        "clv": np.round(rng.uniform(200, 3000, n), 2),
        "revenue_at_risk": np.round(rng.uniform(50, 2000, n), 2),
        "offer": [o.replace("_", " ").title() for o in offer], "offer_id": offer,
        "offer_cost": np.where(control, 0.0, 20.0),
        "reason": "Contract is Month-to-month: adds 12.0 points",
        "expected_net_value": np.where(control, 0.0, 15.0),
        "expected_saved_value": np.where(control, 0.0, 35.0),
        "cumulative_cost": np.cumsum(np.where(control, 0.0, 20.0)),
        "group": np.where(control, "control", "treatment"),
        "accepted": np.where(control, "", np.where(rng.uniform(size=n) < 0.4, "Yes", "No")),
        "churned": np.where(rng.uniform(size=n) < p, "Yes", "No"),
    })
    return C.to_csv_bytes(rows)


def results_100k(quick: bool) -> list[dict]:
    n = 10_000 if quick else 100_000
    data = _export(n)
    t0 = time.perf_counter()
    r = R.measure_file(data, name="results.csv")
    t1 = time.perf_counter()
    hist = R.history_rows(r, "bench", "2026-11-30")
    t2 = time.perf_counter()
    o = r.overall
    note = (f"{n:,} customers ({o.n_control:,} control), {len(data) / 1e6:.1f} MB CSV; read + "
            f"measure {t1 - t0:.2f} s, history rows {t2 - t1:.2f} s; uplift "
            f"{o.uplift * 100:+.1f} points [{o.ci95[0] * 100:+.1f}, {o.ci95[1] * 100:+.1f}], "
            f"{len(r.by_offer)} offers, {len(r.by_tier)} tiers, {len(hist):,} history rows")
    return [result("results_100k", t2 - t0, "s", 5.0, note=note)]


CASES = {"results_100k": results_100k}

if __name__ == "__main__":
    main(CASES)
