"""Benchmarks for the uplift model (see bench/_common.py for the contract).

Cases:
- uplift_fit_50k: ``UpliftModel().fit`` (learner "auto": the four learners cross-fitted on three
  folds, the best by out-of-fold Qini refitted on all rows) on 50,000 history rows over the
  catalogue's 10 offers, every offer learned: 20,000 generated customers, each row a random
  customer and offer, 25% control, outcomes from the sample's hidden model (``churn.simulate``).
  Target 60 s.
- uplift_score_1m: ``predict`` for 1,000,000 generated customers × the 10 offers of a model fitted
  the same way on 20,000 rows (every offer learned), with the average learner ("e"), the
  slowest to score (33 boosters: it holds the other three)
  (encoding included). Target 30 s.
- uplift_quality: the quality target of issue 12 on the sample's own campaign history: fit on
  ``campaign_history.csv``, then on the active base compare three policies that each target the
  top 20% of customers (``uplift.policy_value``; value = Σ true effect of the chosen offer ×
  CLV, dollars): the learned policy (by best predicted uplift × CLV), the oracle (by the
  simulator's true effects), and risk-only targeting (by the simulator's true no-offer churn
  probability, each customer given their best *predicted* offer — the strongest possible risk
  ranking). Figures: capture = learned / oracle (target ≥ 0.80) and the gain over risk-only =
  learned / risk-only − 1 (target ≥ 0.40), also against risk-only by a churn model's probability
  (a quickly trained logistic regression), which is what a risk-only campaign really ranks by.
  The oracle knows each customer's hidden draws, which no column shows, so no model can reach
  it; the case therefore also measures the best policy a model *could* follow: ranking by the
  effect expected from the customer's columns (``simulate.expected_effects``, the hidden draws
  averaged out), with its own share of the oracle and gain over risk-only, and the learned
  policy's share of it ("capture of the knowable"). Offers apply only where the catalogue's
  ``applies_when`` allows. The generator and the model are not tuned to these figures.

Run: ``python bench/bench_uplift.py CASE [--quick]`` (``--quick``: 20,000 rows / 100,000 customers).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import main, result, scratch_dir  # noqa: E402

from churn import schema  # noqa: E402
from churn import uplift as U  # noqa: E402

QUICK_SKIP = {"uplift_quality"}


def _history(rows: int, customers: pd.DataFrame, offer_ids, seed: int = 3) -> pd.DataFrame:
    from churn import simulate

    rng = np.random.default_rng(seed)
    who = rng.integers(0, len(customers), rows)
    plan = pd.DataFrame({schema.ID: customers[schema.ID].to_numpy()[who],
                         "offer_id": rng.choice(np.asarray(offer_ids, dtype=object), rows),
                         "group": np.where(rng.random(rows) < 0.25, "control", "treatment")})
    # one row per (customer, campaign): number the campaigns so repeats are distinct campaigns
    plan["campaign_id"] = "B" + plan.groupby(schema.ID).cumcount().astype(str)
    return simulate.simulate_outcomes(plan, customers, seed=seed)


def _customers(n: int, seed: int) -> pd.DataFrame:
    from churn import synth

    df = synth.generate_customers(n, seed).drop(columns=[schema.TARGET])
    df[schema.ID] = [f"U{seed}-{i:07d}" for i in range(n)]
    return df


def _fitted(rows: int, learner: str = "auto"):
    from churn.offers import load_catalogue
    from churn.uplift import UpliftModel

    ids = load_catalogue().ids
    cust = _customers(max(rows // 5, 2000), 11)
    hist = _history(rows, cust, ids)
    t0, c0 = time.perf_counter(), time.process_time()
    model = UpliftModel(learner=learner).fit(hist, cust, catalogue_ids=ids)
    return model, time.perf_counter() - t0, time.process_time() - c0


def uplift_fit_50k(quick: bool) -> list[dict]:
    rows = 20_000 if quick else 50_000
    model, seconds, cpu = _fitted(rows)
    note = (f"{rows:,} rows (CPU time {cpu:.1f} s: the work itself, whatever the load), "
            f"{len(model.learned_)} offers learned ({len(model.offers_)} in the "
            f"history); kept learner {model.learner_!r}; all {len(U.LEARNERS)} learners cross-fitted "
            "on 3 folds, the kept one refitted on all rows; one thread per fit")
    return [result("uplift_fit_50k", seconds, "s", 60.0, note=note)]


def uplift_score_1m(quick: bool) -> list[dict]:
    model, _, _ = _fitted(20_000, learner="e")
    n = 100_000 if quick else 1_000_000
    big = _customers(n, 12)
    t0, c0 = time.perf_counter(), time.process_time()
    pred = model.predict(big)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    note = (f"CPU time {cpu:.1f} s summed over threads (the work itself, whatever the load); {n:,} customers × "
            f"{pred.shape[1]} offers ({len(model.learned_)} learned, "
            f"learner {model.learner_!r}), schema encoding included")
    return [result("uplift_score_1m", seconds, "s", 30.0, note=note)]


def uplift_quality(quick: bool) -> list[dict]:
    from churn import config, simulate, synth
    from churn.ltv import SurvivalModel, clv
    from churn.offers import load_catalogue
    from churn.validate import load_customers

    folder = scratch_dir("uplift_quality")
    files = synth.write_sample(folder)
    cust = load_customers(files.customers)
    active = load_customers(files.active)
    cat = load_catalogue(config.paths().catalogue)
    model = U.UpliftModel().fit(U.read_history(files.campaign_history), cust,
                                catalogue_ids=cat.ids)
    pred = model.predict(active)
    true = simulate.true_effects(active, model.offers_)
    true.index = pred.index
    allowed = cat.applicable(active).reindex(columns=model.offers_, fill_value=False)
    allowed.index = pred.index
    value = clv(SurvivalModel().fit(cust), active)["clv"].to_numpy()
    p0 = simulate.control_churn_prob(active)
    v = U.policy_value(pred, true, value, p0, allowed=allowed)
    knowable = simulate.expected_effects(active, model.offers_)
    knowable.index = pred.index
    best = U.policy_value(knowable, true, value, p0, allowed=allowed)
    from churn import models

    lr = models.train(cust, models.TrainConfig(families=("lr",), grid="small", folds=2),
                      folder / "models").model
    vm = U.policy_value(pred, true, value, lr.predict_proba(active), allowed=allowed)
    note = (f"active base {len(active):,} customers, top 20% = {v['customers']:,}; learned "
            f"${v['learned']:,.0f}, oracle ${v['oracle']:,.0f}, risk-only ${v['risk_only']:,.0f} "
            f"(true effect × CLV); learner {model.learner_!r}, learned offers "
            f"{', '.join(model.learned_)}")
    return [result("uplift_quality_capture", v["capture"], "× oracle", 0.80,
                   lower_is_better=False, note=note),
            result("uplift_quality_knowable_ceiling", best["capture"], "× oracle", None,
                   note=f"the best policy any model could follow (by the effect expected from "
                        f"the columns): ${best['learned']:,.0f}, {best['vs_risk']:+.1%} over "
                        f"risk-only; the most of the oracle a model can capture"),
            result("uplift_quality_capture_knowable", v["learned"] / best["learned"],
                   "× knowable", 0.80, lower_is_better=False,
                   note="learned policy / the best policy any model could follow"),
            result("uplift_quality_vs_risk", v["vs_risk"], "× gain", 0.40, lower_is_better=False,
                   note="learned policy / risk-only policy − 1, same offers, same 20%; risk = "
                        "the simulator's true no-offer churn probability (the best knowable "
                        f"policy: {best['vs_risk']:+.1%})"),
            result("uplift_quality_vs_model_risk", vm["vs_risk"], "× gain", 0.40,
                   lower_is_better=False,
                   note=f"the same against risk-only by a churn model (logistic regression on "
                        f"the history: ${vm['risk_only']:,.0f})")]


CASES = {"uplift_fit_50k": uplift_fit_50k, "uplift_score_1m": uplift_score_1m,
         "uplift_quality": uplift_quality}

if __name__ == "__main__":
    main(CASES)
