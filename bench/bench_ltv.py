"""Benchmarks of churn.ltv: fitting the survival models and valuing a large customer base.

Cases
- ``survival_fit_7k``: `SurvivalModel("auto")` on the 7,043-row sample: Cox and Weibull AFT, each
  with 5-fold held-out concordance, then the better one refitted on all rows (target 10 s).
- ``clv_100k``: `clv` with churn probabilities for 100,000 customers (resampled from the sample)
  with the fitted model, 36-month horizon (target 5 s).

Run: ``python bench/bench_ltv.py CASE [--quick]`` (``--quick`` uses fewer rows).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import main, result, timed  # noqa: E402  (puts the repo root on sys.path)

from churn import ltv  # noqa: E402
from churn.config import SAMPLE_ROWS, SAMPLE_SEED, BusinessSettings  # noqa: E402
from churn.synth import generate_customers  # noqa: E402


def _sample(quick: bool):
    return generate_customers(2000 if quick else SAMPLE_ROWS, SAMPLE_SEED)


def survival_fit_7k(quick: bool) -> list[dict]:
    df = _sample(quick)
    seconds, _, model = timed(lambda: ltv.SurvivalModel("auto").fit(df))
    c = ", ".join(f"{k} {v:.3f}" for k, v in model.concordance_.items())
    return [result("survival_fit_7k", seconds, "s", 10.0,
                   note=f"{len(df)} rows; kept {model.kind_}; held-out C-index {c}")]


def clv_100k(quick: bool) -> list[dict]:
    df = _sample(quick)
    model = ltv.SurvivalModel("auto").fit(df)
    n = 10_000 if quick else 100_000
    big = df.sample(n, replace=True, random_state=0).reset_index(drop=True)
    prob = np.random.default_rng(0).uniform(0, 1, n)
    settings = BusinessSettings()
    seconds, _, frame = timed(lambda: ltv.clv(model, big, settings, churn_prob=prob), repeat=3)
    return [result("clv_100k", seconds, "s", 5.0,
                   note=f"{n} customers, {settings.horizon_months}-month horizon, {model.kind_}; "
                        f"total CLV ${frame['clv'].sum():,.0f}")]


CASES = {"survival_fit_7k": survival_fit_7k, "clv_100k": clv_100k}

if __name__ == "__main__":
    main(CASES)
