"""Benchmarks for the retention campaign (see bench/_common.py for the contract).

Cases:
- campaign_100k: recommendations + budgeted campaign for 100,000 new customers with the active
  engine: score them and rank every applicable offer (`campaign.campaign_inputs`: churn
  probability, explanation for the rule part, CLV, P(accept) of every offer, hybrid ranking),
  then build a $50,000 campaign (greedy by value per dollar) and its saved-revenue curve
  (41 budgets) and CSV export (target 20 s for the whole). The engine is loaded (or trained
  once) in the benchmark data folder before timing.
- rank_build_100k: the campaign core alone on 100,000 customers × the catalogue's offers, with
  synthetic probabilities (rank_offers over every offer + build_campaign); target 5 s.

Run: ``python bench/bench_campaign.py CASE [--quick]`` (``--quick`` uses 10,000 customers).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import main, result, scratch_dir  # noqa: E402

from churn import campaign as C  # noqa: E402
from churn import schema  # noqa: E402
from churn.config import BusinessSettings  # noqa: E402

BUDGET = 50_000.0


def _new_customers(n: int) -> pd.DataFrame:
    """n generated customers without Churn, with IDs unseen by the recommender (cold start)."""
    from churn import synth

    df = synth.generate_customers(n, 2024).drop(columns=[schema.TARGET])
    df[schema.ID] = [f"B{i:07d}" for i in range(n)]
    return df


def campaign_100k(quick: bool) -> list[dict]:
    scratch_dir("campaign")
    from churn.scoring import Engine

    engine = Engine.load()
    n = 10_000 if quick else 100_000
    big = _new_customers(n)
    settings = BusinessSettings()
    t0 = time.perf_counter()
    scored, ranked = C.campaign_inputs(engine, big, settings)
    t1 = time.perf_counter()
    camp = C.build_campaign(scored, ranked, BUDGET, business_settings=settings,
                            model_version=engine.version)
    t2 = time.perf_counter()
    curve = C.saved_revenue_curve(scored, ranked)
    t3 = time.perf_counter()
    data = C.to_csv_bytes(camp.rows)
    t4 = time.perf_counter()
    note = (f"{n:,} customers × {len(engine.catalogue.ids)} offers ({len(ranked):,} applicable); "
            f"score+rank {t1 - t0:.1f} s, campaign {t2 - t1:.2f} s, curve ({len(curve)} budgets) "
            f"{t3 - t2:.2f} s, CSV {t4 - t3:.2f} s ({len(data) / 1e6:.1f} MB); "
            f"${camp.spent:,.0f} of ${BUDGET:,.0f} on {camp.customers:,} customers, expected "
            f"saved revenue ${camp.expected_saved_revenue:,.0f}")
    return [result("campaign_100k", t4 - t0, "s", 20.0, note=note)]


def rank_build_100k(quick: bool) -> list[dict]:
    from churn.offers import load_catalogue, rule_candidates

    n = 10_000 if quick else 100_000
    big = _new_customers(n)
    catalogue = load_catalogue()
    rng = np.random.default_rng(0)
    drivers = pd.DataFrame(rng.normal(0, 5, (n, len(schema.FEATURES))),
                           columns=schema.FEATURES, index=big.index)
    p_accept = pd.DataFrame(rng.uniform(0, 0.6, (n, len(catalogue.ids))), columns=catalogue.ids)
    prob, clv = rng.uniform(0, 1, n), rng.uniform(100, 3000, n)
    scored = pd.DataFrame({schema.ID: big[schema.ID], "churn_prob": prob,
                           "risk_tier": np.where(prob >= 0.5, "High", "Low"), "clv": clv,
                           "revenue_at_risk": prob * clv})
    candidates = rule_candidates(catalogue, big, drivers, top_k=5)
    t0 = time.perf_counter()
    ranked = C.rank_offers(big, prob, clv, p_accept, candidates, catalogue, top_n=None)
    t1 = time.perf_counter()
    camp = C.build_campaign(scored, ranked, BUDGET)
    t2 = time.perf_counter()
    return [result("rank_build_100k", t2 - t0, "s", 5.0,
                   note=f"{n:,} customers; rank_offers {t1 - t0:.2f} s ({len(ranked):,} rows), "
                        f"build_campaign {t2 - t1:.2f} s ({camp.customers:,} customers)")]


CASES = {"campaign_100k": campaign_100k, "rank_build_100k": rank_build_100k}

if __name__ == "__main__":
    main(CASES)
