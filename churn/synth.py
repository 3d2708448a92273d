"""A realistic generated sample in the IBM Telco schema, with a documented churn mechanism.

Why: the app and the tests need customers that look and behave like the real IBM "Telco Customer
Churn" file (same columns, same text layout, same marginal shares and churn rates by segment, a
signal that a good model can learn to about the same accuracy as on the real file) without
shipping that file. Everything here is numpy-vectorised and deterministic for a seed.

Customers (``generate_customers``)
----------------------------------
Features are drawn in a fixed order, each conditional on the ones before, with two hidden
household factors that create the real file's correlations (long contracts go with long tenure,
automatic payment, partners; fiber goes with seniors, paperless billing and electronic checks):

- ``L`` ~ N(0, 1), household stability: raises Partner, Dependents, longer contracts, longer
  tenure within a contract and automatic payment.
- ``E`` ~ N(0, 1), engagement: customers who buy one add-on buy others; ``S`` ~ N(0, 1) drives
  StreamingTV and StreamingMovies together.

Contract is an ordered logit of L, Partner, Dependents, fiber, no internet and SeniorCitizen.
Tenure (months) is drawn within contract through a Gaussian copula on L: month-to-month is a
point mass at 1-2 months plus an exponential; one- and two-year contracts are Kumaraswamy shapes
on 0..72, the two-year one piling up at 70-72; a few long-contract customers (about 0.16%) have
tenure 0 (just signed, not billed yet). Add-ons, MultipleLines, PaperlessBilling and
PaymentMethod are logits / a multinomial logit of the services, tenure and the hidden factors.
Dependent columns are always consistent: MultipleLines is "No phone service" iff PhoneService is
No, the six add-ons are "No internet service" iff InternetService is No (and customers without a
phone line always have DSL, as in the real file).

MonthlyCharges (dollars) is a price list plus a little noise, rounded to 5 cents and clipped to
18.25..118.75: phone $20, second line $5, DSL $25, fiber $50, each protection add-on (security,
backup, device protection, tech support) $5, each streaming add-on $10. TotalCharges (dollars)
is tenure × (MonthlyCharges + a per-customer drift of sd ~$1.6 for price changes), so its
correlation with tenure × MonthlyCharges is ~0.999; it is NaN exactly when tenure is 0.

Churn: the latent model
-----------------------
Each customer with tenure >= 1 churns with probability ::

    P(churn) = FLOOR + (1 - FLOOR) × sigmoid(z)                FLOOR 0.01

    z = g(tenure)                                  piecewise-linear on TENURE_KNOTS, decreasing
                                                   (-0.53 at 1 month ... -3.22 at 64+ months)
      + b_contract[Contract]                       One year -1.01, Two year -2.09 (ref. M-t-m)
      + b_internet[InternetService]                Fiber optic +0.66, No -0.16 (ref. DSL)
      + b_payment[PaymentMethod]                   ref. Electronic check; mailed -0.58, bank -0.17,
                                                   card -0.35
      + B_MC × (MonthlyCharges - 64.76) / 30.09     dearer bills churn more (B_MC 0.3)
      + b_no_<addon> × [add-on is "No"]            no OnlineSecurity +0.74, no TechSupport +0.62
      + b_senior × SeniorCitizen (+0.24) + b_no_dependents × [Dependents No] (+0.47)
      + b_no_partner × [Partner No] (+0.07) + b_paperless × [PaperlessBilling Yes] (+0.46)
      + terms that mostly undo the price term for a given service (phone, second line, streaming)
      + SIGMA × eps,  eps ~ N(0, 1)                unobserved heterogeneity (SIGMA 0.5)

The floor is churn that no customer data explains (moves, deaths). Customers with tenure 0 never
churn (they have just signed), as in the real file. Partner has a small direct effect: customers
without a partner churn more mostly because they are on shorter contracts and tenures (through
the hidden factor L), as in the real data.

The coefficients (``CHURN_COEF``, ``TENURE_LOGIT``) were calibrated once by moment matching on
400,000 generated customers (Newton's method on the moment equations): they make the churn rate
of every level of every column, and of the five published tenure bands, equal to its target.
The targets are the published rates (``churn/reference/telco_published.json``) pulled 3.5% of the way
toward the overall 26.5% (at most 0.9 percentage points): the generated columns are a little
more separable than the real ones, and this keeps 5-fold cross-validated models where careful
work lands on the real file (logistic regression on the default sample size: ROC-AUC ~0.845,
PR-AUC ~0.65, Brier ~0.135, top-10% lift ~2.85). The noise level SIGMA barely changes those
figures once the rates are matched (the coefficients grow to compensate); it is there so that
two customers with identical columns do not share one probability.

Labels are drawn by systematic sampling in order of probability (each customer churns with
exactly its probability, but the overall count stays within one of its expectation).

Hidden traits and offer acceptance
----------------------------------
Each customer has three hidden traits, partly explained by observed columns (centred on their
population means, ``_TRAIT_CENTRE``) plus idiosyncratic noise N(0, 0.8²) (``TRAIT_NOISE``; in
``churn.simulate`` the noise is a keyed hash of the customer ID, so a customer keeps their traits
in every file):

- price sensitivity: 0.8·(MonthlyCharges - 64.76)/30.09 + 0.7·[Electronic check]
  + 0.3·[Mailed check] + 0.4·[Month-to-month]
- family affinity: 0.8·[Partner] + 0.8·[Dependents] + 0.5·[StreamingTV] + 0.5·[StreamingMovies]
- support need: 0.7·SeniorCitizen + 0.6·[Fiber optic] + 0.6·[TechSupport No]
  + 0.3·[OnlineSecurity No]

Each offer has a base popularity and loadings on the traits (``OFFER_PROFILES``; offers not listed
there get loadings derived from a hash of their id), and
``P(accept) = sigmoid(base + traits · loadings)``. What an accepted (or merely made) offer does
to the customer's churn is the hidden model of ``churn.simulate``.

Active base and campaign history
--------------------------------
``generate_active_base``: the snapshot's survivors one month later plus new joiners (no Churn).
``generate_campaign_history``: past randomised campaigns on the snapshot's customers with
control groups (``CAMPAIGNS``), outcomes drawn from ``churn.simulate``. ``write_sample`` writes
customers.csv, active.csv and campaign_history.csv. Each function's docstring has the details.
"""
from __future__ import annotations

import tomllib
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtr

from churn import schema
from churn.config import SAMPLE_ROWS, SAMPLE_SEED, Paths
from churn.config import paths as _default_paths

REFERENCE_DATE = np.datetime64("2024-12-31", "D")  # the snapshot's date

MC_MEAN, MC_SD = 64.76, 30.09
_ID_SPACE = 10 ** 4 * 26 ** 5

# --- churn latent model (calibrated; see module docstring) -------------------------------------
SIGMA = 0.5
TENURE_KNOTS = np.array([1.0, 9.0, 18.0, 36.0, 64.0])
TENURE_LOGIT = np.array([-0.5281, -1.9079, -2.4390, -2.7049, -3.2182])
CHURN_COEF: dict[str, float] = {
    "male": -0.0614,
    "senior": 0.2398,
    "no_partner": 0.0714,
    "no_dependents": 0.4730,
    "no_phone": 1.1026,
    "multiple_lines": 0.6762,
    "fiber": 0.6611,
    "no_internet": -0.1607,
    "no_OnlineSecurity": 0.7423,
    "no_OnlineBackup": -0.0185,
    "no_DeviceProtection": -0.1986,
    "no_TechSupport": 0.6235,
    "no_StreamingTV": -0.6416,
    "no_StreamingMovies": -0.5711,
    "one_year": -1.0084,
    "two_year": -2.0876,
    "paperless": 0.4629,
    "mailed_check": -0.5844,
    "bank_transfer": -0.1665,
    "credit_card": -0.3481,
}
B_MC = 0.3
CHURN_FLOOR = 0.01

ADDONS = ("OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
          "StreamingMovies")



#: The published figures of the IBM Telco file that the generator was calibrated towards (shares
#: and churn rates by level, tenure bands, overall rate); tests/test_synth.py reads them.
PUBLISHED_FIGURES = Path(__file__).resolve().parent / "reference" / "telco_published.json"


def published_figures() -> dict:
    """`PUBLISHED_FIGURES` as a dict: customers, churn_rate (%), levels {column: [{value, share
    (%), churn_rate (%)}]}, tenure_bands [{from, to (months), churn_rate (%)}]."""
    import json

    return json.loads(PUBLISHED_FIGURES.read_text(encoding="utf-8"))

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _bern(rng: np.random.Generator, logit) -> np.ndarray:
    return rng.random(np.shape(logit)) < _sigmoid(logit)


# --- features ----------------------------------------------------------------------------------
# Intercepts of the feature model, tuned so that every column's shares match the real file.
FEATURE_INTERCEPTS: dict[str, float] = {
    "partner": -0.078,
    "dependents": -2.134,
    "fiber": 0.371,
    "no_internet": -0.041,
    "contract_cut1": 0.253,
    "contract_cut2": 1.712,
    "OnlineSecurity": -0.326,
    "OnlineBackup": -0.225,
    "DeviceProtection": -0.286,
    "TechSupport": -0.304,
    "StreamingTV": -0.492,
    "StreamingMovies": -0.459,
    "multiple_lines": -0.454,
    "paperless": 0.188,
    "mailed_check": -0.192,
    "bank_transfer": -0.223,
    "credit_card": -0.233,
}


# Loadings of the hidden stability factor L and of tenure in the feature model.
FEATURE_LOADINGS: dict[str, float] = {
    "contract_L": 1.5,
    "tenure_L": 0.35,
    "addon_L": 0.15,
    "addon_tenure": 1.4,
    "pay_L": 0.3,
    "echeck_L": -0.25,
    "paperless_L": -0.1,
}


def _draw_features(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """All feature columns as small integer codes (index into the schema's ``values``)."""
    a = FEATURE_INTERCEPTS
    b = FEATURE_LOADINGS
    f: dict[str, np.ndarray] = {}
    L = rng.standard_normal(n)
    E = rng.standard_normal(n)
    S = rng.standard_normal(n)
    f["gender"] = (rng.random(n) < 0.505).astype(np.int8)  # 1 = Male
    senior = (rng.random(n) < 0.162).astype(np.int8)
    f["SeniorCitizen"] = senior
    partner = _bern(rng, a["partner"] + 1.0 * L - 0.05 * senior).astype(np.int8)
    f["Partner"] = partner
    f["Dependents"] = _bern(rng, a["dependents"] + 2.3 * partner - 1.3 * senior
                            + 0.35 * L).astype(np.int8)
    phone = (rng.random(n) < 0.903).astype(np.int8)
    f["PhoneService"] = phone
    # internet among phone customers: multinomial logit (DSL ref, fiber, no internet)
    u_fib = a["fiber"] + 1.25 * senior + rng.gumbel(size=n)
    u_no = a["no_internet"] - 1.6 * senior + rng.gumbel(size=n)
    u_dsl = rng.gumbel(size=n)
    internet = np.argmax(np.stack([u_dsl, u_fib, u_no], axis=1), axis=1).astype(np.int8)
    internet[phone == 0] = 0
    f["InternetService"] = internet
    fiber = (internet == 1).astype(float)
    noint = (internet == 2).astype(float)
    # contract: ordered logit
    score = (b["contract_L"] * L + 0.35 * partner + 0.35 * f["Dependents"] - 1.0 * fiber
             + 0.8 * noint - 0.35 * senior + rng.logistic(size=n))
    contract = np.where(score < a["contract_cut1"], 0,
                        np.where(score < a["contract_cut2"], 1, 2)).astype(np.int8)
    f["Contract"] = contract
    # tenure within contract (Gaussian copula on L)
    z = (b["tenure_L"] * L + 0.4 * fiber - 0.3 * noint - 0.06
         + np.sqrt(1 - b["tenure_L"] ** 2) * rng.standard_normal(n))
    u = np.clip(ndtr(z), 1e-12, 1 - 1e-12)
    early = rng.random(n)
    t = np.empty(n)
    m2m = contract == 0
    t[m2m] = 1.0 + np.floor(-20.0 * np.log1p(-u[m2m]))
    one = contract == 1
    t[one] = np.ceil(72 * (1 - (1 - u[one]) ** (1 / 1.4)) ** (1 / 1.6))
    two = contract == 2
    t[two] = np.ceil(72 * (1 - (1 - u[two]) ** (1 / 0.68)) ** (1 / 2.4))
    t = np.where(m2m & (early < 0.12), np.where(early < 0.11, 1, 2), t)
    t = np.clip(t, 1, 72)
    zero = rng.random(n) < np.where(two, 0.0052, np.where(one, 0.0012, 0.0))
    t[zero] = 0
    tenure = t.astype(np.int64)
    f["tenure"] = tenure
    tz = (tenure - 32.4) / 24.6
    # add-ons (internet customers only)
    has_int = internet != 2
    addon_par = {  # (fiber effect, streaming-factor loading)
        "OnlineSecurity": (-0.85, 0.0), "OnlineBackup": (-0.15, 0.0),
        "DeviceProtection": (-0.05, 0.0), "TechSupport": (-0.85, 0.0),
        "StreamingTV": (0.85, 1.3), "StreamingMovies": (0.85, 1.3),
    }
    for name, (b_fib, b_s) in addon_par.items():
        yes = _bern(rng, a[name] + b_fib * fiber + b["addon_tenure"] * tz + 0.7 * E + b_s * S
                   + b["addon_L"] * L)
        f[name] = np.where(has_int, yes.astype(np.int8), 2).astype(np.int8)
    multi = _bern(rng, a["multiple_lines"] + 1.0 * fiber - 0.8 * noint + 1.0 * tz + 0.3 * E)
    f["MultipleLines"] = np.where(phone == 1, multi.astype(np.int8), 2).astype(np.int8)
    paperless = _bern(rng, a["paperless"] + 0.95 * fiber - 1.1 * noint + 0.3 * senior
                      + b["paperless_L"] * L)
    f["PaperlessBilling"] = paperless.astype(np.int8)
    # payment: multinomial logit (echeck, mailed, bank, credit)
    c1 = (contract == 1).astype(float)
    c2 = (contract == 2).astype(float)
    util = np.stack([
        0.85 * fiber - 1.2 * noint + 0.45 * paperless - 0.8 * c1 - 1.6 * c2 + 0.3 * senior
        + b["echeck_L"] * L,
        a["mailed_check"] + 1.0 * noint - 0.6 * paperless - 0.6 * tz,
        a["bank_transfer"] + b["pay_L"] * L + 0.25 * tz,
        a["credit_card"] + b["pay_L"] * L + 0.25 * tz,
    ], axis=1) + rng.gumbel(size=(n, 4))
    f["PaymentMethod"] = np.argmax(util, axis=1).astype(np.int8)
    # charges
    price = (20.0 * phone + 5.0 * (f["MultipleLines"] == 1) + 25.0 * (internet == 0)
             + 50.0 * (internet == 1)
             + 5.0 * sum((f[a] == 1) for a in ADDONS[:4])
             + 10.0 * sum((f[a] == 1) for a in ADDONS[4:])
             + rng.normal(0.0, 1.3, n))
    mc = np.clip(np.round(price * 20) / 20, 18.25, 118.75)
    f["MonthlyCharges"] = mc
    drift = rng.normal(0.0, 1.6, n)
    tc = np.where(tenure > 1, tenure * np.maximum(mc + drift, 18.0), tenure * mc)
    f["TotalCharges"] = np.where(tenure > 0, np.round(tc, 2), np.nan)
    return f


def _churn_indicators(f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The 0/1 terms of the latent churn model, keyed like CHURN_COEF (reference levels omitted)."""
    cols = {
        "male": f["gender"] == 1,
        "senior": f["SeniorCitizen"] == 1,
        "no_partner": f["Partner"] == 0,
        "no_dependents": f["Dependents"] == 0,
        "no_phone": f["PhoneService"] == 0,
        "multiple_lines": f["MultipleLines"] == 1,
        "fiber": f["InternetService"] == 1,
        "no_internet": f["InternetService"] == 2,
    }
    for a in ADDONS:
        cols[f"no_{a}"] = f[a] == 0
    cols.update({
        "one_year": f["Contract"] == 1,
        "two_year": f["Contract"] == 2,
        "paperless": f["PaperlessBilling"] == 1,
        "mailed_check": f["PaymentMethod"] == 1,
        "bank_transfer": f["PaymentMethod"] == 2,
        "credit_card": f["PaymentMethod"] == 3,
    })
    return cols


def _churn_design(f: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(X, names, tenure_basis): the indicator matrix for CHURN_COEF and the tenure hat basis
    (used to calibrate the coefficients)."""
    cols = _churn_indicators(f)
    names = list(CHURN_COEF)
    X = np.stack([cols[k] for k in names], axis=1).astype(np.float64)
    return X, names, _tenure_basis(f["tenure"])


def _tenure_basis(tenure) -> np.ndarray:
    """Hat functions on TENURE_KNOTS (flat outside): g(tenure) = basis @ TENURE_LOGIT."""
    t = np.clip(np.asarray(tenure, dtype=float), TENURE_KNOTS[0], TENURE_KNOTS[-1])
    k = TENURE_KNOTS
    B = np.zeros((len(t), len(k)))
    idx = np.clip(np.searchsorted(k, t, side="right") - 1, 0, len(k) - 2)
    w = (t - k[idx]) / (k[idx + 1] - k[idx])
    rows = np.arange(len(t))
    B[rows, idx] = 1 - w
    B[rows, idx + 1] += w
    return B


def _mc_offset(mc) -> np.ndarray:
    return B_MC * (np.asarray(mc, dtype=float) - MC_MEAN) / MC_SD


def _churn_logit(f: dict[str, np.ndarray]) -> np.ndarray:
    """The learnable part of the latent churn logit (without the SIGMA noise)."""
    z = np.interp(np.asarray(f["tenure"], dtype=float), TENURE_KNOTS, TENURE_LOGIT)
    z += _mc_offset(f["MonthlyCharges"])
    for name, ind in _churn_indicators(f).items():
        z[ind] += CHURN_COEF[name]
    return z


def _churn_prob(z) -> np.ndarray:
    """P(churn) for latent logits z: CHURN_FLOOR + (1 - CHURN_FLOOR) * sigmoid(z)."""
    return CHURN_FLOOR + (1.0 - CHURN_FLOOR) * _sigmoid(z)


def _systematic_draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """0/1 draws with P(1) = p for each row, by systematic sampling in order of p.

    Every row is 1 with exactly its probability, as with independent draws, but the number of
    ones (overall and in any segment that tracks risk) stays within about one of its expectation,
    so even a 7,043-row sample shows the segment churn rates of the model.
    """
    order = np.argsort(p, kind="stable")
    cum = np.floor(np.cumsum(p[order]) + rng.random())  # the start offset is uniform on [0, 1)
    ones = np.diff(cum, prepend=0.0) > 0
    out = np.empty(len(p), dtype=bool)
    out[order] = ones
    return out


def _check_count(name: str, value, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        top = f" and at most {maximum:,}" if maximum is not None else ""
        raise ValueError(f"{name} must be at least {minimum}{top}, got {value!r}")
    return int(value)


def _customer_ids(n: int, rng: np.random.Generator) -> np.ndarray:
    """n distinct IDs like 7590-VHVEG (4 digits, dash, 5 capitals), drawn without replacement."""
    k = rng.choice(_ID_SPACE, size=n, replace=False).astype(np.int64)
    buf = np.empty((n, 10), dtype=np.uint8)
    d, r = k // 26 ** 5, k % 26 ** 5
    for j in range(3, -1, -1):
        buf[:, j] = 48 + d % 10
        d //= 10
    buf[:, 4] = ord("-")
    for j in range(9, 4, -1):
        buf[:, j] = 65 + r % 26
        r //= 26
    return buf.view("S10").ravel().astype("U10").astype(object)


def generate_customers(n: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """n generated customers as a canonical frame (``churn.schema``), deterministic for ``seed``.

    Inputs: ``n`` customers (>= 1), ``seed`` (int >= 0). Output: canonical frame with every schema
    column in file order, including ``Churn`` (0/1) drawn from the latent model in the module
    docstring. MonthlyCharges/TotalCharges in dollars, tenure in months.
    """
    n = _check_count("n", n, 1, _ID_SPACE)
    seed = _check_count("seed", seed, 0)
    f = _draw_features(n, np.random.default_rng([seed, 0]))
    rng = np.random.default_rng([seed, 1])
    z = _churn_logit(f) + SIGMA * rng.standard_normal(n)
    p = np.where(f["tenure"] > 0, _churn_prob(z), 0.0)
    churn = _systematic_draw(p, rng)
    ids = _customer_ids(n, np.random.default_rng([seed, 2]))
    out: dict[str, object] = {}
    for col in schema.COLUMNS:
        if col.name == schema.ID:
            out[col.name] = ids
        elif col.name == schema.TARGET:
            out[col.name] = churn.astype(np.int64)
        elif col.kind == "category":
            out[col.name] = np.asarray(col.values, dtype=object)[f[col.name]]
        elif col.kind in ("flag01", "integer"):
            out[col.name] = f[col.name].astype(np.int64)
        else:
            out[col.name] = f[col.name].astype(np.float64)
    return pd.DataFrame(out, copy=False)  # fresh arrays: no copy, no block consolidation


# --- hidden traits and offer acceptance (used by churn.simulate) -------------------------------
# offer id -> (base popularity, loading on price sensitivity, family affinity, support need)
OFFER_PROFILES: dict[str, tuple[float, float, float, float]] = {
    "contract_upgrade": (-1.2, 1.8, 0.4, -0.6),
    "autopay_incentive": (-0.7, 2.4, 0.0, -0.6),
    "tech_support_trial": (-1.0, -0.6, 0.0, 2.4),
    "security_trial": (-1.1, 0.4, 0.4, 1.8),
    "plan_rightsize": (-0.6, 2.0, -0.8, 0.4),
    "loyalty_credit": (0.3, 0.8, 0.6, 0.0),
    "onboarding_call": (-0.9, -0.8, 0.0, 2.0),
    "streaming_bundle": (-1.0, 0.4, 2.4, -0.6),
    "fiber_care": (-0.5, 0.0, -0.6, 1.8),
    "family_line": (-1.3, 0.2, 2.6, 0.0),
}
TRAIT_NOISE = 0.8
_TRAIT_CENTRE = (0.53, 1.01, 0.82)  # population means of the observed parts


def _offer_profile(offer_id: str) -> tuple[float, float, float, float]:
    """Base and trait loadings of an offer; offers not in OFFER_PROFILES get stable hashed ones."""
    if offer_id in OFFER_PROFILES:
        return OFFER_PROFILES[offer_id]
    r = np.random.default_rng(zlib.crc32(offer_id.encode("utf-8")))
    base = -0.7 + 0.3 * r.standard_normal()
    return (float(base), *(float(v) for v in r.normal(0.0, 0.8, 3)))


def _observed_traits(c: pd.DataFrame) -> np.ndarray:
    """The part of (price sensitivity, family affinity, support need) explained by columns."""
    def eq(col, val):
        return (c[col].to_numpy() == val).astype(float)

    zmc = (c["MonthlyCharges"].to_numpy(dtype=float) - MC_MEAN) / MC_SD
    price = (0.8 * zmc + 0.7 * eq("PaymentMethod", "Electronic check")
             + 0.3 * eq("PaymentMethod", "Mailed check") + 0.4 * eq("Contract", "Month-to-month"))
    family = (0.8 * eq("Partner", "Yes") + 0.8 * eq("Dependents", "Yes")
              + 0.5 * eq("StreamingTV", "Yes") + 0.5 * eq("StreamingMovies", "Yes"))
    support = (0.7 * c["SeniorCitizen"].to_numpy(dtype=float)
               + 0.6 * eq("InternetService", "Fiber optic") + 0.6 * eq("TechSupport", "No")
               + 0.3 * eq("OnlineSecurity", "No"))
    return np.stack([price, family, support], axis=1) - np.asarray(_TRAIT_CENTRE)


def _catalogue_offers(catalogue) -> list[tuple[str, str]]:
    """[(id, applies_when)] from the catalogue TOML (``[[offer]]`` tables)."""
    path = Path(catalogue)
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    out = []
    for i, o in enumerate(data.get("offer", [])):
        if "id" not in o:
            raise ValueError(f"Offer number {i + 1} in {path} has no id; "
                             f"give every [[offer]] an id")
        out.append((str(o["id"]), str(o.get("applies_when", "always"))))
    return out


# --- active base -------------------------------------------------------------------------------
PRICE_CHANGE_SHARE = 0.05     # survivors whose monthly bill changes in the month
PRICE_CHANGE = np.array([-10.0, -5.0, 5.0, 10.0])  # dollars: a plan change up or down
PRICE_CHANGE_P = np.array([0.15, 0.25, 0.40, 0.20])


def generate_active_base(customers: pd.DataFrame, seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """The customers still here one month after the labelled snapshot ``customers``.

    The snapshot's ``Churn`` is read as "left during the month after the snapshot", so the active
    base one month later is:

    - the survivors (``Churn`` = 0), same IDs, aged by one month: tenure + 1; MonthlyCharges
      changed for a random ``PRICE_CHANGE_SHARE`` (5%) of them by a plan change of -$10, -$5,
      +$5 or +$10 (probabilities ``PRICE_CHANGE_P``; rounded to 5 cents, kept in 18.25..118.75);
      TotalCharges + the new MonthlyCharges (a customer not billed yet gets their first bill);
    - new joiners: as many as the snapshot had customers in their first month (tenure 0 or 1),
      drawn from the same generator (``generate_customers`` with another seed, keeping customers
      with tenure 0 or 1, so they look like the real file's newest customers), with new IDs
      that no snapshot customer has.

    Inputs: ``customers``, a canonical frame with ``Churn`` (0/1); ``seed`` (int >= 0).
    Output: canonical frame without ``Churn``: survivors in snapshot order, then joiners.
    Deterministic for a seed.
    """
    seed = _check_count("seed", seed, 0)
    missing = [c for c in schema.FEATURES + [schema.ID, schema.TARGET] if c not in customers]
    if missing:
        raise ValueError(f"customers lacks column(s) {', '.join(missing)}; pass the labelled "
                         f"snapshot (a canonical frame with Churn, e.g. generate_customers())")
    rng = np.random.default_rng([seed, 20])
    stay = customers[customers[schema.TARGET].astype(int) == 0]
    stay = stay.drop(columns=[schema.TARGET]).reset_index(drop=True)
    n = len(stay)
    mc = stay["MonthlyCharges"].to_numpy(dtype=float)
    change = rng.random(n) < PRICE_CHANGE_SHARE
    step = rng.choice(PRICE_CHANGE, size=n, p=PRICE_CHANGE_P)
    new_mc = np.where(change, np.clip(np.round((mc + step) * 20) / 20, 18.25, 118.75), mc)
    stay["tenure"] = stay["tenure"].to_numpy(dtype=np.int64) + 1
    stay["MonthlyCharges"] = new_mc
    old_total = np.nan_to_num(stay["TotalCharges"].to_numpy(dtype=float), nan=0.0)
    stay["TotalCharges"] = np.round(old_total + new_mc, 2)
    n_join = int((customers["tenure"].to_numpy() <= 1).sum())
    join = _joiners(n_join, seed, set(customers[schema.ID].astype(str)))
    out = pd.concat([stay, join], ignore_index=True)
    return out[[c.name for c in schema.COLUMNS if c.name != schema.TARGET]]


def _joiners(n: int, seed: int, taken: set) -> pd.DataFrame:
    """n generated customers with tenure 0 or 1 and IDs not in ``taken`` (no Churn column)."""
    cols = [c.name for c in schema.COLUMNS if c.name != schema.TARGET]
    if n == 0:
        return schema.empty_frame()[cols]
    parts, have, k = [], 0, 0
    while have < n:
        pool = generate_customers(12 * n + 1000, seed + 7919 * (k + 1))
        pool = pool[pool["tenure"] <= 1]
        parts.append(pool)
        have += len(pool)
        k += 1
    join = pd.concat(parts, ignore_index=True).iloc[:n].drop(columns=[schema.TARGET])
    ids = _customer_ids(n + len(taken) + 16, np.random.default_rng([seed, 21]))
    fresh = [i for i in ids if i not in taken]
    join[schema.ID] = np.asarray(fresh[:n], dtype=object)
    return join[cols].reset_index(drop=True)


# --- campaign history --------------------------------------------------------------------------
#: Past randomised campaigns of the sample: (campaign_id, start date, share of the eligible
#: customers targeted, control share, offers tried). The two-offer pilot of 2024-09 is the only
#: use of fiber_care and family_line, so those two stay under the uplift model's minimum of 300
#: treated and 300 control rows and its fall-back path is exercised on the sample.
CAMPAIGNS: tuple[tuple[str, str, float, float, tuple[str, ...]], ...] = (
    ("C2023-01-contracts", "2023-01-17", 0.60, 0.30,
     ("contract_upgrade", "loyalty_credit", "autopay_incentive")),
    ("C2023-06-services", "2023-06-13", 0.60, 0.40,
     ("tech_support_trial", "security_trial", "onboarding_call", "streaming_bundle")),
    ("C2023-11-value", "2023-11-07", 0.60, 0.30,
     ("plan_rightsize", "loyalty_credit", "autopay_incentive", "contract_upgrade")),
    ("C2024-04-broad", "2024-04-16", 0.70, 0.25,
     ("contract_upgrade", "tech_support_trial", "security_trial", "plan_rightsize",
      "streaming_bundle", "onboarding_call")),
    ("C2024-09-pilot", "2024-09-10", 0.06, 0.50, ("fiber_care", "family_line")),
    ("C2024-11-winter", "2024-11-05", 0.60, 0.30,
     ("loyalty_credit", "autopay_incentive", "plan_rightsize", "tech_support_trial",
      "onboarding_call", "security_trial")),
)
CAMPAIGN_SPREAD_DAYS = 14     # a campaign's offers go out over its first two weeks


def generate_campaign_history(customers: pd.DataFrame, seed: int = SAMPLE_SEED, *,
                              catalogue=None) -> pd.DataFrame:
    """Past randomised retention campaigns on these customers, with their outcomes.

    For each campaign of ``CAMPAIGNS``: the eligible customers are those billed at least once
    (tenure >= 1) to whom at least one of its offers applies (the catalogue's ``applies_when``,
    on the snapshot's columns); a random share of them
    is targeted; each target gets one of the campaign's applicable offers at random (so offers
    are randomised too); a random share of the targets (the campaign's control share, exactly,
    rounded) is held out as control and keeps the offer it would have got. Offer dates are
    spread over the campaign's first 14 days. Outcomes come from the hidden model of
    ``churn.simulate`` (``simulate_outcomes``): ``accepted`` for treatment rows, ``churned``
    within 30 days for everyone.

    Simplification, stated plainly: every campaign draws its customers from this one snapshot and
    evaluates the hidden model on the snapshot's columns (the columns the uplift model joins
    by customerID, so the history's outcomes and ``simulate.true_effects`` of the snapshot are
    one and the same truth). So a customer can show ``churned = Yes`` in a past campaign and
    still be in the snapshot, or have been offered an onboarding call two years before a tenure
    of 5 months. Read the file as a set of randomised experiments on customers like these, not as
    one customer's timeline.

    Size: on the default sample (7,043 customers) about 21,000 rows (five campaigns reaching 60-70%
    of the eligible customers, and a small pilot), so that each of the eight offers used in
    several campaigns has more than 400 control and 900 treated rows, above the uplift model's
    minimum of 300 each (issue 12), while the pilot's two offers (family_line, fiber_care) stay
    below it and take the fall-back path.

    Inputs: ``customers``, a canonical frame; ``seed`` (int >= 0); ``catalogue``: the offers TOML
    (default ``config.paths().catalogue``); campaign offers missing from it are skipped.
    Output: DataFrame with ``churn.history.HISTORY_COLUMNS`` (text columns; accepted "" for
    control rows), by campaign then customer (input order). Deterministic for a seed.
    """
    from churn import simulate
    from churn.conditions import mask
    from churn.history import HISTORY_COLUMNS

    seed = _check_count("seed", seed, 0)
    missing = [c for c in schema.FEATURES + [schema.ID] if c not in customers.columns]
    if missing:
        raise ValueError(f"customers lacks column(s) {', '.join(missing)}; pass a canonical "
                         f"customer frame such as generate_customers() returns")
    known = dict(_catalogue_offers(catalogue or _default_paths().catalogue))
    customers = customers.reset_index(drop=True)
    tenure = customers["tenure"].to_numpy(dtype=np.int64)
    rng = np.random.default_rng([seed, 30])
    applies = {o: mask(w, customers) for o, w in known.items()}
    frames = []
    for c_id, start, share, control_share, offer_ids in CAMPAIGNS:
        offer_ids = [o for o in offer_ids if o in known]
        if not offer_ids:
            continue
        app = np.stack([applies[o] for o in offer_ids], axis=1)
        eligible = (tenure >= 1) & app.any(axis=1)
        target = np.flatnonzero(eligible & (rng.random(len(customers)) < share))
        k = len(target)
        if k == 0:
            continue
        keys = rng.random((k, len(offer_ids))) + 2.0 * ~app[target]
        offer = np.asarray(offer_ids, dtype=object)[np.argmin(keys, axis=1)]
        group = np.full(k, "treatment", dtype=object)
        group[rng.permutation(k)[:int(round(control_share * k))]] = "control"
        days = np.datetime64(start, "D") + np.arange(CAMPAIGN_SPREAD_DAYS)
        day = days.astype(str).astype(object)[rng.integers(0, CAMPAIGN_SPREAD_DAYS, k)]
        frames.append((target, c_id, day, offer, group))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in HISTORY_COLUMNS})
    pos = np.concatenate([f[0] for f in frames])
    offer = np.concatenate([f[3] for f in frames])
    group = np.concatenate([f[4] for f in frames])
    accepted, churned = simulate._draw(customers, pos, offer, group == "treatment", seed)
    return pd.DataFrame({
        schema.ID: customers[schema.ID].to_numpy(dtype=object)[pos],
        "campaign_id": np.repeat(np.array([f[1] for f in frames], dtype=object),
                                 [len(f[0]) for f in frames]),
        "date": np.concatenate([f[2] for f in frames]), "offer_id": offer, "group": group,
        "accepted": accepted, "churned": churned}, columns=HISTORY_COLUMNS)


# --- files -------------------------------------------------------------------------------------
def _write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as unquoted CSV (header included, Unix line ends) to a temporary file
    beside ``path``, then rename it into place (atomic on one file system)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from churn.files import atomic_path

    table = pa.Table.from_pandas(frame, preserve_index=False)
    opts = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
    with atomic_path(path) as tmp:
        pacsv.write_csv(table, str(tmp), write_options=opts)


class SampleFiles(NamedTuple):
    """The files ``write_sample`` writes (paths)."""

    customers: Path
    active: Path
    campaign_history: Path


def write_sample(out_dir, rows: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED, *,
                 catalogue=None) -> SampleFiles:
    """Generate the sample and write its three CSVs into ``out_dir``.

    - ``customers.csv``: the labelled history snapshot, ``rows`` customers in the IBM Telco text
      layout (``schema.to_file_frame``: 21 columns, TotalCharges " " for tenure 0, Churn Yes/No);
    - ``active.csv``: the active base one month later (``generate_active_base``), same layout
      without the Churn column;
    - ``campaign_history.csv``: past randomised campaigns on the snapshot's customers
      (``generate_campaign_history``; the format of ``churn.history``).

    Each file is written to a temporary file and renamed, so readers never see half a file.
    Returns ``SampleFiles(customers, active, campaign_history)``.
    """
    rows = _check_count("rows", rows, 1, _ID_SPACE)
    seed = _check_count("seed", seed, 0)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = SampleFiles(out / "customers.csv", out / "active.csv", out / "campaign_history.csv")
    customers = generate_customers(rows, seed)
    _write_extras(customers, files, seed, catalogue)
    _write_csv_atomic(schema.to_file_frame(customers), files.customers)
    return files


def _write_extras(customers: pd.DataFrame, files: SampleFiles, seed: int, catalogue) -> None:
    """Write the active base and the campaign history of a snapshot."""
    history = generate_campaign_history(customers, seed, catalogue=catalogue)
    _write_csv_atomic(history, files.campaign_history)
    del history
    _write_csv_atomic(schema.to_file_frame(generate_active_base(customers, seed)), files.active)


def ensure_sample(paths: Paths | None = None) -> Paths:
    """Make sure the sample's files exist in ``paths.sample_dir``; returns the paths used.

    Missing ``customers.csv``: the whole default sample (SAMPLE_ROWS, SAMPLE_SEED) is written.
    ``customers.csv`` present but ``active.csv`` or ``campaign_history.csv`` missing (a data
    folder from before they existed, or the user's own snapshot): the two are generated from the
    valid customers in it and added; an existing file is never overwritten. Raises ValueError
    when that file cannot be read or has no Churn column.
    """
    p = paths if paths is not None else _default_paths()
    if not p.customers_csv.exists():
        write_sample(p.sample_dir, SAMPLE_ROWS, SAMPLE_SEED, catalogue=p.catalogue)
    elif not (p.active_csv.exists() and p.campaign_history_csv.exists()):
        from churn.validate import validate

        report = validate(p.customers_csv, require_target=True)
        if report.fatal or any(e.row is None and e.column == schema.TARGET
                               for e in report.errors):
            raise ValueError(f"{p.customers_csv} cannot give the sample's active base and "
                             f"campaign history: it needs readable customers with Churn "
                             f"(Yes/No); run `python -m churn validate {p.customers_csv}`")
        customers = report.frame.drop(columns="row")  # the good rows; bad ones are left out
        files = SampleFiles(p.customers_csv, p.active_csv, p.campaign_history_csv)
        if not p.campaign_history_csv.exists():
            _write_csv_atomic(generate_campaign_history(customers, SAMPLE_SEED,
                                                        catalogue=p.catalogue),
                              files.campaign_history)
        if not p.active_csv.exists():
            _write_csv_atomic(schema.to_file_frame(generate_active_base(customers, SAMPLE_SEED)),
                              files.active)

    return p
