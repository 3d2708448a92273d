"""A small, documented generator of randomised campaign history with known per-customer effects.

Used by tests/test_uplift.py (and bench/bench_uplift.py) so the uplift model can be checked
against the truth independently of the sample's own simulator (churn.simulate).

Customers: ``synth.generate_customers`` (the sample's generator, Churn dropped).
Churn if not contacted: p0 = 0.10 + 0.25 × [month-to-month] + 0.10 × [fiber] − 0.06 × [tenure > 24]
(clipped to 0.02..0.9).
True intention-to-treat effects (drop in churn probability if offered; negative = pushes out):

- ``contract_upgrade``: +0.20 for month-to-month customers, −0.06 for everyone else.
- ``tech_support_trial``: +0.12 without TechSupport on fiber, +0.02 otherwise.
- ``loyalty_credit``: +0.10 × min(tenure, 60) / 60 − 0.03 (long-standing customers respond,
  new ones are slightly put off).

Each history row draws one of the offers uniformly and is treated with probability
``treated_share``; churned ~ Bernoulli(p0 − effect × treated).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churn import schema, synth

OFFERS = ("contract_upgrade", "tech_support_trial", "loyalty_credit")


def customers(n: int, seed: int = 1) -> pd.DataFrame:
    df = synth.generate_customers(n, seed).drop(columns=[schema.TARGET])
    return df.reset_index(drop=True)


def base_prob(c: pd.DataFrame) -> np.ndarray:
    p = (0.10 + 0.25 * (c["Contract"] == "Month-to-month") + 0.10 * (c["InternetService"] ==
                                                                     "Fiber optic")
         - 0.06 * (c["tenure"] > 24))
    return np.clip(p.to_numpy(dtype=float), 0.02, 0.9)


def true_effects(c: pd.DataFrame) -> pd.DataFrame:
    m2m = (c["Contract"] == "Month-to-month").to_numpy()
    fiber_no_ts = ((c["TechSupport"] == "No") & (c["InternetService"] == "Fiber optic")).to_numpy()
    tenure = c["tenure"].to_numpy(dtype=float)
    eff = pd.DataFrame({
        "contract_upgrade": np.where(m2m, 0.20, -0.06),
        "tech_support_trial": np.where(fiber_no_ts, 0.12, 0.02),
        "loyalty_credit": 0.10 * np.minimum(tenure, 60) / 60 - 0.03,
    }, index=c[schema.ID].astype(str).to_numpy())
    eff.index.name = schema.ID
    return eff


def history(c: pd.DataFrame, rows: int, treated_share: float = 0.5, seed: int = 2,
            offers=OFFERS) -> pd.DataFrame:
    """``rows`` history rows over the customers of ``c`` (a customer may appear several times,
    once per campaign)."""
    rng = np.random.default_rng(seed)
    who = rng.integers(0, len(c), rows)
    offer = rng.choice(np.array(offers), rows)
    treated = rng.random(rows) < treated_share
    eff = true_effects(c).to_numpy()
    col = {o: i for i, o in enumerate(OFFERS)}
    e = eff[who, [col[o] for o in offer]]
    p = np.clip(base_prob(c)[who] - e * treated, 0.0, 1.0)
    churned = rng.random(rows) < p
    return pd.DataFrame({
        schema.ID: c[schema.ID].to_numpy()[who],
        "campaign_id": [f"C{i // 1000:03d}" for i in range(rows)],
        "date": "2024-06-01",
        "offer_id": offer,
        "group": np.where(treated, "treatment", "control"),
        "accepted": np.where(treated, np.where(rng.random(rows) < 0.4, "Yes", "No"), ""),
        "churned": np.where(churned, "Yes", "No"),
    })
