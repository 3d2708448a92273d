"""The hidden outcome model of the generated sample: what each offer really does to each customer.

FOR DEMOS AND TESTS ONLY. Real campaign outcomes come from the CRM (who accepted, who left); this
module exists so that the whole retention loop (learn, act, hold out a control group, get the
outcomes back, measure) can be shown end to end on a fresh machine, and so that the uplift
models and the results arithmetic can be checked against a known truth. Nothing in the product
path calls it: ``churn.synth`` uses it to write the sample's campaign history, and
``python -m churn simulate-outcomes`` uses it to fill in a campaign export.

Outcome window
--------------
``churned`` means "left within one month (30 days) after the offer date". The IBM Telco label is
"left within the last month", so one month is the window for which the churn model's probability
is the right no-offer baseline: ``control_churn_prob`` is the latent P(churn) of
``churn.synth`` for the customer's columns as they are on the offer date (tenure 0: 0, as in the
file: a contract signed but not started is not left within its first month). The churn model
learnt that same probability, so its predictions and a control group's measured churn agree on
average.

The hidden model (per customer i, offer o)
------------------------------------------
Hidden draws are a deterministic function of the customer ID (a keyed hash split into four
streams, each turned into a standard normal), so one customer always has the same hidden
traits, in every file and every run:

- ``eps_i`` ~ N(0, 1): the unobserved heterogeneity of the churn model (``synth.SIGMA`` × eps).
- the three hidden traits of ``churn.synth`` (price sensitivity, family affinity, support need):
  ``T_i = observed part (synth._observed_traits) + TRAIT_NOISE × N(0, 1)`` per trait.

Then::

    p0      = FLOOR + (1 - FLOOR) × sigmoid(z_i + SIGMA × eps_i)      no offer (control_churn_prob)
    a_io    = sigmoid(base_o + T_i · load_o)                           P(accept | offered)
    rr_io   = clip(RR_BASE_o + RR_SLOPE_o × T_i[trait_o], 0, RR_MAX)   relative cut if accepted
    dog_i   = min(tenure, 48) / 48 × exp(-p0 / 0.10)                   "sleeping dog" propensity
    push_io = PUSH_o × dog_i                                           contact effect (everyone
                                                                       offered, accepted or not)
    p_c     = p0 + (1 - p0) × push_io                                  P(churn | contacted)
    P(churn | offered, accepts)  = p_c × (1 - rr_io)
    P(churn | offered, declines) = p_c
    effect_io = p0 - p_c × (1 - a_io × rr_io)                          true_effects (ITT)
              = p0 × a_io × rr_io - (1 - p0) × push_io × (1 - a_io × rr_io)

``z_i`` is the learnable churn logit of ``churn.synth`` (tenure curve, contract, services,
payment, price). ``base_o`` and ``load_o`` are ``synth.OFFER_PROFILES`` (the acceptance model the
recommender learns). The effect is intention to treat: the drop in churn probability when the
offer is made, whether or not it is accepted; negative means the offer pushes the customer out.
Who is pushed out: long-tenure, low-risk customers (contract-bound ones above all) who were not
thinking of leaving until a retention call about their contract or their bill reminded them to
shop around; the contract-upgrade push does it most.

Per-offer parameters (``OFFER_EFFECTS``: trait addressed, RR_BASE, RR_SLOPE, PUSH)::

    offer               trait     RR_BASE  RR_SLOPE  PUSH    why
    contract_upgrade    price      0.70     0.10     0.10    accepted = on a one-year contract
    autopay_incentive   price      0.30     0.10     0.02
    tech_support_trial  support    0.35     0.15     0.01
    security_trial      support    0.30     0.12     0.01
    plan_rightsize      price      0.35     0.15     0.05    a bill review wakes sleeping dogs
    loyalty_credit      price      0.20     0.05     0.00    a thank-you, no push
    onboarding_call     support    0.30     0.15     0.00
    streaming_bundle    family     0.25     0.12     0.02
    fiber_care          support    0.35     0.12     0.00
    family_line         family     0.30     0.15     0.03

RR_MAX = 0.9. An offer id not listed gets stable parameters from a hash of its id (trait, RR_BASE
in 0.15..0.40, RR_SLOPE 0.10, PUSH 0.02) and the hashed acceptance profile of
``synth._offer_profile``. These parameters are the demo's ground truth, deliberately different
from the catalogue's assumed ``risk_reduction``: the point of measuring is that assumptions are
wrong.

What any model can know
-----------------------
``eps_i`` and the trait noise are hidden: no column shows them, so no model, however much
history it learns from, can tell apart two customers whose columns are the same. The most any
targeting rule can know is the *expected* effect given the columns, ``E[effect_io | columns]``
(``expected_effects``: the hidden draws averaged out). Ranking by it is the best possible policy
that uses the customers' columns; ranking by ``true_effects`` (which knows each customer's
hidden draws) is not a policy anyone could follow, so it is an upper bound that no model
reaches.

Public API: ``control_churn_prob``, ``true_effects``, ``expected_effects``, ``accept_prob``,
``simulate_outcomes``, ``OUTCOME_WINDOW_DAYS``.
"""
from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from scipy.special import ndtri

from churn import schema
from churn import synth

OUTCOME_WINDOW_DAYS = 30
RR_MAX = 0.9
DOG_TENURE = 48.0
DOG_RISK = 0.10
TRAITS = ("price", "family", "support")

#: offer id -> (trait addressed, RR_BASE, RR_SLOPE, PUSH); see the module docstring.
OFFER_EFFECTS: dict[str, tuple[str, float, float, float]] = {
    "contract_upgrade": ("price", 0.70, 0.10, 0.10),
    "autopay_incentive": ("price", 0.30, 0.10, 0.02),
    "tech_support_trial": ("support", 0.35, 0.15, 0.01),
    "security_trial": ("support", 0.30, 0.12, 0.01),
    "plan_rightsize": ("price", 0.35, 0.15, 0.05),
    "loyalty_credit": ("price", 0.20, 0.05, 0.00),
    "onboarding_call": ("support", 0.30, 0.15, 0.00),
    "streaming_bundle": ("family", 0.25, 0.12, 0.02),
    "fiber_care": ("support", 0.35, 0.12, 0.00),
    "family_line": ("family", 0.30, 0.15, 0.03),
}

GROUPS = ("treatment", "control")

# hash key (16 bytes) of the hidden per-customer draws
_KEY = "churn-simulate-1"


def offer_effect_params(offer_id: str) -> tuple[str, float, float, float]:
    """(trait, RR_BASE, RR_SLOPE, PUSH) of an offer; unlisted offers get stable hashed values."""
    if offer_id in OFFER_EFFECTS:
        return OFFER_EFFECTS[offer_id]
    r = np.random.default_rng(zlib.crc32(("effect:" + offer_id).encode("utf-8")))
    return (TRAITS[int(r.integers(0, 3))], float(0.15 + 0.25 * r.random()), 0.10, 0.02)


# --- inputs ------------------------------------------------------------------------------------
def _check_customers(customers) -> pd.DataFrame:
    if not isinstance(customers, pd.DataFrame):
        raise ValueError(f"customers must be a canonical customer frame (DataFrame), got "
                         f"{type(customers).__name__}")
    missing = [c for c in [schema.ID] + schema.FEATURES if c not in customers.columns]
    if missing:
        raise ValueError(f"customers lacks column(s) {', '.join(missing)}; pass a canonical "
                         f"customer frame (churn.validate.load_customers reads one from a file)")
    return customers


def _hidden_normals(ids: np.ndarray) -> np.ndarray:
    """Four independent standard normals per customer ID (rows × [eps, price, family, support]),
    the same for an ID in every file and run: one keyed hash of the ID (``_KEY``), split into
    four streams by the splitmix64 finaliser, each turned into a normal by the inverse CDF."""
    h = pd.util.hash_array(np.asarray(ids, dtype=object), hash_key=_KEY, categorize=False)
    out = np.empty((len(h), 4))
    with np.errstate(over="ignore"):
        for s in range(4):
            x = h + np.uint64((s + 1) * 0x9E3779B97F4A7C15 % 2 ** 64)
            x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            x = x ^ (x >> np.uint64(31))
            out[:, s] = ndtri(((x >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53)
    return out


def _codes(customers: pd.DataFrame) -> dict[str, np.ndarray]:
    """The feature codes ``synth``'s churn model reads (schema value positions)."""
    f: dict[str, np.ndarray] = {}
    for c in schema.CATEGORICAL_FEATURES:
        f[c] = schema.category_codes(customers[c].to_numpy(dtype=object), c).astype(np.int64)
    f["SeniorCitizen"] = customers["SeniorCitizen"].to_numpy(dtype=np.int64)
    f[schema.TENURE] = customers[schema.TENURE].to_numpy(dtype=np.int64)
    f[schema.MONTHLY] = customers[schema.MONTHLY].to_numpy(dtype=np.float64)
    return f


def _ids(customers: pd.DataFrame) -> np.ndarray:
    return customers[schema.ID].astype(str).to_numpy(dtype=object)


def _seen(customers: pd.DataFrame):
    """(churn logit, has tenure, observed traits, tenure): what the columns fix of the hidden
    model, computed once when many hidden draws are tried (``expected_effects``)."""
    f = _codes(customers)
    return (synth._churn_logit(f), f[schema.TENURE] > 0, synth._observed_traits(customers),
            customers[schema.TENURE].to_numpy(dtype=float))


def _customer_parts(customers: pd.DataFrame, hidden: np.ndarray | None = None, seen=None):
    """(p0, traits, dog) per customer: the offer-free parts of the hidden model. Traits: rows ×
    (price, family, support), the observed part plus TRAIT_NOISE × the hidden normals.
    hidden: rows × 4 normals (churn noise, three trait noises; default: the customers' own, from
    their IDs). seen: ``_seen(customers)`` when already computed."""
    if hidden is None:
        hidden = _hidden_normals(_ids(customers))
    z, alive, observed, tenure = _seen(customers) if seen is None else seen
    p0 = np.where(alive, synth._churn_prob(z + synth.SIGMA * hidden[:, 0]), 0.0)
    traits = observed + synth.TRAIT_NOISE * hidden[:, 1:]
    dog = np.minimum(tenure, DOG_TENURE) / DOG_TENURE * np.exp(-p0 / DOG_RISK)
    return p0, traits, dog


def _offer_parts(traits: np.ndarray, dog: np.ndarray, offer_id: str):
    """(accept, rr, push) of one offer for customers with these traits and dog propensities."""
    base, *load = synth._offer_profile(offer_id)
    accept = synth._sigmoid(base + traits @ np.asarray(load))
    trait, rr_base, rr_slope, push_o = offer_effect_params(offer_id)
    rr = np.clip(rr_base + rr_slope * traits[:, TRAITS.index(trait)], 0.0, RR_MAX)
    return accept, rr, push_o * dog


def _parts(customers: pd.DataFrame, offer_ids: list[str], hidden: np.ndarray | None = None,
           seen=None):
    """(p0, accept, rr, push): p0 per customer; the others customers × offers. hidden, seen:
    as ``_customer_parts``."""
    p0, T, dog = _customer_parts(customers, hidden, seen)
    n, m = len(customers), len(offer_ids)
    accept, rr, push = np.empty((n, m)), np.empty((n, m)), np.empty((n, m))
    for j, o in enumerate(offer_ids):
        accept[:, j], rr[:, j], push[:, j] = _offer_parts(T, dog, o)
    return p0, accept, rr, push


def _offer_list(offer_ids) -> list[str]:
    if isinstance(offer_ids, str):
        offer_ids = [offer_ids]
    ids = [str(o) for o in offer_ids]
    if not ids:
        raise ValueError("offer_ids is empty; pass at least one offer id (e.g. catalogue.ids)")
    if len(set(ids)) != len(ids):
        raise ValueError(f"offer_ids has duplicates: {ids!r}; list each offer once")
    return ids


# --- public ------------------------------------------------------------------------------------
def control_churn_prob(customers: pd.DataFrame) -> np.ndarray:
    """P(leaves within OUTCOME_WINDOW_DAYS | no offer) per customer (0..1), in row order.

    customers: canonical frame (``customerID`` and the schema features; extra columns ignored).
    The latent churn model of ``churn.synth`` with the customer's hidden noise (module docstring).
    """
    return _customer_parts(_check_customers(customers))[0]


def accept_prob(customers: pd.DataFrame, offer_ids) -> pd.DataFrame:
    """P(accept | offered) (0..1): index customerID, one column per offer id."""
    customers = _check_customers(customers)
    ids = _offer_list(offer_ids)
    _, accept, _, _ = _parts(customers, ids)
    return pd.DataFrame(accept, index=pd.Index(_ids(customers), name=schema.ID), columns=ids)


def true_effects(customers: pd.DataFrame, offer_ids) -> pd.DataFrame:
    """The TRUE intention-to-treat effect of making each offer, per customer.

    Output: DataFrame, index ``customerID`` (row order of ``customers``), one column per offer id,
    value = P(churn | no offer) - P(churn | offered), in probability units (0.05 = 5 percentage
    points fewer leavers). Negative: the offer pushes the customer out. Whether the offer applies
    to the customer (the catalogue's ``applies_when``) is not checked here: the effect is what
    would happen if it were made.
    """
    customers = _check_customers(customers)
    ids = _offer_list(offer_ids)
    effect = _effect(*_parts(customers, ids))
    return pd.DataFrame(effect, index=pd.Index(_ids(customers), name=schema.ID), columns=ids)


def _effect(p0, accept, rr, push) -> np.ndarray:
    """Customers × offers: P(churn | no offer) − P(churn | offered), from ``_parts``."""
    pc = p0[:, None] + (1.0 - p0[:, None]) * push
    return p0[:, None] - pc * (1.0 - accept * rr)


def expected_effects(customers: pd.DataFrame, offer_ids, *, draws: int = 500,
                     seed: int = 0) -> pd.DataFrame:
    """The effect of each offer that a model could know from the customer's columns alone.

    ``E[effect | columns]``: ``true_effects`` averaged over ``draws`` independent draws of the
    hidden normals (the churn noise and the three trait noises) instead of the customer's own,
    ID-bound draws. Output: as ``true_effects`` (index customerID, one column per offer, drop in
    churn probability, 0.05 = 5 points). Every customer is averaged over the same draws (common
    random numbers), so customers with the same columns get the same value and differences
    between customers carry less noise than each value. Monte Carlo error per value: the
    standard deviation of an effect over the hidden draws (at most about 5 points) /
    sqrt(draws), about 0.2 points at 500 draws. draws: int >= 1; seed: int >= 0.
    Deterministic for a seed.
    """
    customers = _check_customers(customers)
    ids = _offer_list(offer_ids)
    draws = synth._check_count("draws", draws, 1)
    seed = synth._check_count("seed", seed, 0)
    seen = _seen(customers)
    rng = np.random.default_rng([seed, 29])
    total = np.zeros((len(customers), len(ids)))
    for _ in range(draws):
        hidden = np.broadcast_to(rng.standard_normal(4), (len(customers), 4))
        total += _effect(*_parts(customers, ids, hidden, seen))
    return pd.DataFrame(total / draws, index=pd.Index(_ids(customers), name=schema.ID),
                        columns=ids)


def _text(s: pd.Series) -> np.ndarray:
    """Values as stripped text ("" for missing), each distinct value handled once."""
    codes, uniques = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    clean = np.array([str(u).strip() for u in uniques] + [""], dtype=object)
    return clean[codes]  # code -1 (missing) takes the last entry, ""


def _draw(customers: pd.DataFrame, pos: np.ndarray, offer: np.ndarray, treat: np.ndarray,
          seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(accepted, churned) text arrays for campaign rows: row i is customer ``customers.iloc[
    pos[i]]`` offered (``treat[i]``) or held out with offer id ``offer[i]``."""
    n = len(pos)
    rng = np.random.default_rng([seed, 11])
    u_accept, u_churn = rng.random(n), rng.random(n)
    prob = np.zeros(n)
    accepted = np.zeros(n, dtype=bool)
    if n:
        # the customer parts once per distinct customer, the offer parts once per offer
        upos, inv = np.unique(pos, return_inverse=True)
        p0_u, traits_u, dog_u = _customer_parts(customers.iloc[upos])
        p0 = p0_u[inv]
        pc = p0.copy()
        cut = np.zeros(n)
        codes, offers = pd.factorize(np.asarray(offer, dtype=object))
        for j, o in enumerate(offers):
            rows = np.flatnonzero(codes == j)
            a, rr, push = _offer_parts(traits_u[inv[rows]], dog_u[inv[rows]], str(o))
            accepted[rows] = treat[rows] & (u_accept[rows] < a)
            pc[rows] = p0[rows] + (1.0 - p0[rows]) * push
            cut[rows] = rr
        prob = np.where(treat, np.where(accepted, pc * (1.0 - cut), pc), p0)
    answers = np.array(["No", "Yes", ""], dtype=object)  # shared objects: no string per row
    return (answers[np.where(treat, accepted.astype(np.int8), 2)],
            answers[(u_churn < prob).astype(np.int8)])


def simulate_outcomes(campaign: pd.DataFrame, customers: pd.DataFrame, *,
                      seed: int = 0) -> pd.DataFrame:
    """Fill in what happened to each customer of a campaign, drawn from the hidden model.

    campaign: DataFrame with at least ``customerID`` and ``offer_id`` (the offer made, or for a
    control row the offer they would have got), and optionally ``group`` (``treatment`` or
    ``control``, any case; without the column every row is treatment). customers: canonical frame
    holding every campaign customer (their columns on the offer date). seed: int >= 0.
    Output: the same rows (same index) and columns, plus ``accepted`` ("Yes"/"No" for treatment,
    "" for control) and ``churned`` ("Yes"/"No": left within OUTCOME_WINDOW_DAYS); existing
    columns of those names are replaced. Deterministic for a seed.
    Raises ValueError for missing columns, unknown groups, blank offers, or customers not in
    ``customers`` (naming the first few).
    """
    seed = synth._check_count("seed", seed, 0)
    if not isinstance(campaign, pd.DataFrame):
        raise ValueError(f"campaign must be a DataFrame, got {type(campaign).__name__}")
    missing = [c for c in (schema.ID, "offer_id") if c not in campaign.columns]
    if missing:
        raise ValueError(f"campaign lacks column(s) {', '.join(missing)}; pass a campaign export "
                         f"(python -m churn campaign) with customerID and offer_id")
    customers = _check_customers(customers)
    cid = _text(campaign[schema.ID])
    offer = _text(campaign["offer_id"])
    if "group" in campaign.columns:
        codes, uniques = pd.factorize(_text(campaign["group"]))
        group = np.array([u.lower() for u in uniques], dtype=object)[codes]
        bad = ~np.isin(group, GROUPS)
        if bad.any():
            first = np.flatnonzero(bad)[:3]
            shown = ", ".join(f'"{campaign["group"].iloc[i]}" (row {i + 2})' for i in first)
            raise ValueError(f"group must be treatment or control; found {shown}"
                             f"{' and more' if bad.sum() > 3 else ''}")
    else:
        group = np.full(len(campaign), "treatment", dtype=object)
    blank = offer == ""
    if blank.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(blank)[:5])
        raise ValueError(f"{int(blank.sum()):,} row(s) have no offer_id (file rows {rows}); every "
                         f"campaign row needs the offer made (or, for control, the would-be offer)")
    feats = customers.drop_duplicates(schema.ID, keep="last")
    feats = feats.set_index(feats[schema.ID].astype(str), drop=False)
    pos = feats.index.get_indexer(pd.Index(cid))
    unknown = pos < 0
    if unknown.any():
        names = list(dict.fromkeys(cid[unknown]))
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5 else "")
        raise ValueError(f"{len(names):,} campaign customer(s) are not in the customer file: "
                         f"{shown}. Pass the customers the campaign was built from (--customers "
                         f"FILE: the active base or the file given to `python -m churn campaign "
                         f"--data`)")
    accepted, churned = _draw(feats, pos, offer, group == "treatment", seed)
    out = campaign.copy()
    out["accepted"] = accepted
    out["churned"] = churned
    return out
