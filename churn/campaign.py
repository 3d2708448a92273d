"""Which retention offer to make to whom, within a budget, and safe spreadsheet exports.

Three steps, each a pure function of plain frames (no Streamlit, no model objects):

1. :func:`rank_offers` — the *hybrid* ranking. For every customer and every offer that applies to
   them (the catalogue's ``applies_when``), the expected value of making the offer::

       expected_saved_value = P(churn) × P(accept) × risk_reduction × CLV          (dollars)
       expected_net_value   = expected_saved_value − offer cost                     (dollars)

   ``P(accept)`` is the *collaborative* part (the offer recommender, which also covers cold-start
   customers); the *rule* part is the catalogue's driver rules (an offer proposed because one of
   the customer's own risk drivers calls for it, with that driver as the reason).
   Offers no rule proposed are still ranked when they apply, but their saved value counts at
   ``unproposed_weight`` (default 0.8) in the ranking score::

       ranking_score = expected_saved_value × (1 if from_rules else unproposed_weight) − offer cost

   Offers are sorted per customer by ranking_score (highest first); ties go to the rule-backed
   offer, then the cheaper one, then catalogue order. So at equal value a rule-backed offer wins,
   and a collaborative-only offer has to be worth clearly more to beat it. The reported
   ``expected_net_value`` is always the unweighted figure above.

2. :func:`build_campaign` — filters (risk tier, segment, minimum CLV, offers allowed), then one
   offer per customer (their best-ranked allowed offer with a positive expected net value), then
   a greedy selection by expected net value per dollar of offer cost that never exceeds the
   budget: an offer that does not fit in what is left of the budget is skipped and the walk
   continues with the next (possibly cheaper) ones. Sums are done in whole cents, so the budget
   is never exceeded by rounding. :func:`saved_revenue_curve` reuses the one greedy order for a
   whole range of budgets.

3. Exports — :func:`to_csv_bytes` and :func:`to_excel_bytes` write the campaign list so that it
   opens safely in a spreadsheet (see :func:`escape_formula`) and byte-identically for the same
   rows (fixed float formatting, fixed timestamps inside the .xlsx), so the file written by
   ``python -m churn campaign`` equals the page's download. :func:`read_export` reads one back.

Units: probabilities 0..1, money in dollars. Money columns of a campaign are rounded to cents and
``churn_prob`` to 4 decimals, so what is shown, exported, stored and re-read is the same number.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn import schema
from churn.spreadsheet import FORMULA_TRIGGERS, escape_cell, xlsx_text  # noqa: F401 (re-export)

ID = schema.ID

#: Weight of the saved value of an offer no rule proposed, in the ranking score (see module doc).
UNPROPOSED_WEIGHT = 0.8


#: Columns of :func:`rank_offers`'s output, in order.
RANKED_COLUMNS = [ID, "rank", "offer_id", "offer_name", "offer_cost", "p_accept", "rule_reason",
                  "from_rules", "expected_saved_value", "expected_net_value", "ranking_score"]

#: Columns :func:`rank_offers` adds after ``RANKED_COLUMNS``: ``uplift`` (the drop in churn
#: probability the offer brings, 0..1: learned from campaign history, or implied by the assumed
#: formula P(churn) × P(accept) × risk_reduction), ``basis`` ("learned" / "assumed") and
#: ``sleeping_dog`` (True when every learned offer makes this customer more likely to leave).
UPLIFT_COLUMNS = ["uplift", "basis", "sleeping_dog"]
LEARNED, ASSUMED = "learned", "assumed"
#: What the ``value_basis`` column of a campaign list means (tooltips, README).
VALUE_BASIS_HELP = ("learned: the expected value rests on what this offer did for similar customers "
                    "in past campaigns with a control group (uplift × lifetime value − cost). "
                    "assumed: too little campaign history for this offer, so the catalogue's "
                    "risk reduction × P(churn) × P(accept) is used.")
#: Why a sleeping dog gets no offer (the engine's table and the what-if page show it).
SLEEPING_DOG_REASON = ("No offer: past campaigns show that every offer we could make would make "
                       "this customer more likely to leave (a \"sleeping dog\"); leave them alone.")

#: Columns of a campaign list (:attr:`Campaign.rows`), in order. ``group`` is "treatment" (gets
#: the offer) or "control" (held out at random to measure the effect; see `assign_control`).
CAMPAIGN_COLUMNS = [ID, "churn_prob", "risk_tier", "clv", "revenue_at_risk", "offer", "offer_id",
                    "offer_cost", "reason", "expected_net_value", "expected_saved_value",
                    "cumulative_cost", "group", "value_basis"]

#: Headers of the Excel export, which people open (issue 16: code names such as ``churn_prob``
#: read as jargon). The CSV export keeps the column names above: it is the stable,
#: machine-readable file (CRM imports, ``python -m churn``); both files can be loaded back as an
#: outcomes file, under either set of headers (`machine_headers`).
EXCEL_HEADERS = {ID: "Customer ID", "churn_prob": "Churn probability", "risk_tier": "Risk tier",
                 "clv": "Lifetime value ($)", "revenue_at_risk": "Revenue at risk ($)",
                 "offer": "Offer", "offer_id": "Offer ID", "offer_cost": "Offer cost ($)",
                 "reason": "Why this offer", "expected_net_value": "Expected net value ($)",
                 "expected_saved_value": "Expected saved value ($)",
                 "cumulative_cost": "Cumulative cost ($)", "group": "Group",
                 "value_basis": "Value basis"}
_FROM_EXCEL = {v.casefold(): k for k, v in EXCEL_HEADERS.items()}


def machine_headers(columns) -> list:
    """Column names with every `EXCEL_HEADERS` header (any case, surrounding spaces ignored)
    turned back into the export's machine name; other names unchanged."""
    return [_FROM_EXCEL.get(str(c).strip().casefold(), c) for c in columns]


TREATMENT, CONTROL = "treatment", "control"
#: Share of the list held out as a control group unless the user chooses otherwise.
DEFAULT_CONTROL_SHARE = 0.10
#: Largest control share allowed: beyond half, most of the list gets nothing.
MAX_CONTROL_SHARE = 0.5
NO_CONTROL_WARNING = ("No control group (control share 0): every customer on the list gets the "
                      "offer, so what the campaign saved cannot be measured afterwards, only "
                      "assumed. Hold out a control group (10% is usual) to measure it.")

_TEXT_COLUMNS = [ID, "risk_tier", "offer", "offer_id", "reason", "group", "value_basis"]
_MONEY_COLUMNS = ["clv", "revenue_at_risk", "offer_cost", "expected_net_value",
                  "expected_saved_value", "cumulative_cost"]

GREEDY_RULE = "greedy by expected net value per dollar of offer cost"


# --- step 1: hybrid ranking ----------------------------------------------------------------------
def _offer_table(catalogue) -> pd.DataFrame:
    """The catalogue's offers as a frame [offer_id, name, cost, risk_reduction] in catalogue order."""
    offers = list(getattr(catalogue, "offers", []))
    if not offers:
        raise ValueError("catalogue has no offers; pass an offers.Catalogue loaded from "
                         "data/offers.toml (load_catalogue()).")
    return pd.DataFrame({
        "offer_id": [str(o.id) for o in offers],
        "name": [str(o.name) for o in offers],
        "cost": [float(o.cost) for o in offers],
        "risk_reduction": [float(o.risk_reduction) for o in offers],
    })


#: `_offer_arrays` of the catalogues seen last, by their offers' fields (a few entries).
_OFFER_ARRAYS: dict[tuple, tuple] = {}


def _offer_arrays(catalogue) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`_offer_table`'s columns as numpy arrays (offer ids, names: object; cost, risk_reduction:
    float), kept per catalogue content: ranking one customer then builds no frame for them.
    Read-only by contract."""
    offers = list(getattr(catalogue, "offers", []))
    key = tuple((o.id, o.name, o.cost, o.risk_reduction) for o in offers)
    found = _OFFER_ARRAYS.get(key)
    if found is None:
        table = _offer_table(catalogue)
        found = tuple(table[c].to_numpy() for c in ("offer_id", "name", "cost",
                                                     "risk_reduction"))
        for a in found:
            a.setflags(write=False)
        if len(_OFFER_ARRAYS) >= 8:
            _OFFER_ARRAYS.clear()
        _OFFER_ARRAYS[key] = found
    return found


def _columns_in(frame: pd.DataFrame, columns: list[str], **reindex) -> pd.DataFrame:
    """``frame.reindex(columns=columns, **reindex)``, or ``frame`` itself when its columns are
    already exactly those (the engine's case: no copy)."""
    if list(frame.columns) == columns:
        return frame
    return frame.reindex(columns=columns, **reindex)


def _as_vector(values, n: int, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"{what} has {arr.shape[0]} values for {n} customers; pass one value "
                         "per row of `customers`, in the same order.")
    if np.isnan(arr).any():
        raise ValueError(f"{what} has missing values (NaN) at row(s) "
                         f"{np.flatnonzero(np.isnan(arr))[:5].tolist()}; score every customer first.")
    return arr


def _align_rows(frame: pd.DataFrame, ids: pd.Index, what: str) -> pd.DataFrame:
    """`frame` rows in the order of `ids`: by customerID when its index holds them, else by position."""
    if frame.index.equals(ids):      # already in order (the engine's case): no look-up
        return frame
    if len(frame) and frame.index.isin(ids).all() and ids.isin(frame.index).all():
        return frame.loc[ids]
    if len(frame) != len(ids):
        raise ValueError(f"{what} has {len(frame)} rows for {len(ids)} customers; pass one row "
                         "per customer (indexed by customerID or in the same order).")
    return frame


def _candidate_matrix(candidates: pd.DataFrame | None, ids: pd.Index, offer_ids: pd.Index):
    """Rule part as an n × m boolean matrix plus the reason text of each proposed (customer, offer).

    When several drivers propose the same offer to a customer, the reason of the strongest driver
    (largest percentage points) is kept.
    """
    n, m = len(ids), len(offer_ids)
    proposed = np.zeros((n, m), dtype=bool)
    reasons = np.full((n, m), "", dtype=object)
    if candidates is None or len(candidates) == 0:
        return proposed, reasons
    cust_col = ID if ID in candidates.columns else "customer"
    missing = [c for c in (cust_col, "offer_id", "reason") if c not in candidates.columns]
    if missing:
        raise ValueError(f"candidates is missing column(s) {missing}; pass the frame returned by "
                         "offers.rule_candidates().")
    cand = candidates
    pp_col = next((c for c in ("driver_pp", "pp") if c in cand.columns), None)
    few = _few_candidates(cand, ids, offer_ids, cust_col, pp_col)
    if few is not None:
        r, c, text = few
    else:
        if pp_col is not None:
            cand = cand.sort_values(pp_col, ascending=False, kind="stable")
        r = ids.get_indexer(cand[cust_col].astype(str))
        c = offer_ids.get_indexer(cand["offer_id"].astype(str))
        text = cand["reason"].astype(str).to_numpy()
    keep = (r >= 0) & (c >= 0)
    r, c = r[keep], c[keep]
    text = text[keep]
    # First occurrence of each (customer, offer) wins: the strongest driver after the sort.
    _, first = np.unique(r.astype(np.int64) * m + c, return_index=True)
    r, c, text = r[first], c[first], text[first]
    proposed[r, c] = True
    reasons[r, c] = text
    return proposed, reasons


def _few_candidates(cand: pd.DataFrame, ids: pd.Index, offer_ids: pd.Index, cust_col: str,
                    pp_col: str | None):
    """`_candidate_matrix`'s (customer positions, offer positions, reasons) of a few rows, the
    strongest driver first, from the columns as arrays and dict look-ups (the same order as
    the stable descending sort, and the same positions as the index look-ups); None when it
    does not apply (many rows, a blank pp, an ID or offer id that is not text)."""
    arrays = schema.column_arrays(cand) if len(ids) < schema.FEW_ROWS else None
    if arrays is None or not (ids.is_unique and offer_ids.is_unique):
        return None
    if pp_col is not None and arrays[pp_col].dtype.kind not in "biuf":
        return None
    cust, offer = arrays[cust_col], arrays["offer_id"]
    if not all(isinstance(v, str) for v in (*cust, *offer, *arrays["reason"])):
        return None
    order = np.arange(len(cand))
    if pp_col is not None:
        pp = arrays[pp_col].astype(float)
        if np.isnan(pp).any():
            return None
        order = np.argsort(-pp, kind="stable")   # what sort_values(descending, stable) gives
    where = {v: i for i, v in enumerate(ids)}
    offer_at = {v: i for i, v in enumerate(offer_ids)}
    r = np.array([where.get(cust[i], -1) for i in order], dtype=np.intp)
    c = np.array([offer_at.get(offer[i], -1) for i in order], dtype=np.intp)
    return r, c, arrays["reason"][order].astype(object)


def rank_offers(customers: pd.DataFrame, churn_prob, clv, p_accept: pd.DataFrame,
                candidates: pd.DataFrame | None, catalogue, top_n: int | None = 3, *,
                unproposed_weight: float = UNPROPOSED_WEIGHT,
                uplift: pd.DataFrame | None = None,
                applicable: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rank the applicable offers of every customer by expected value (the hybrid ranking).

    Inputs:
      customers: canonical frame (one row per customer, unique ``customerID``).
      churn_prob: P(churn) per customer, 0..1, same order as ``customers``.
      clv: customer lifetime value per customer in dollars, same order.
      p_accept: P(accept) 0..1, rows = customers (indexed by customerID or in the same order),
        one column per catalogue offer id (``recommend.OfferRecommender.predict``).
      candidates: the rule part, ``offers.rule_candidates(...)`` (customerID, offer_id, reason,
        and optionally driver_pp); None or empty when no rule applies.
      catalogue: ``offers.Catalogue`` (``.offers`` with id, name, cost, risk_reduction and
        ``.applicable(customers)`` → bool frame rows × offer ids).
      top_n: offers kept per customer (None: every applicable offer).
      unproposed_weight: weight of the saved value of offers no rule proposed (0..1).
      uplift: learned uplift (``uplift.UpliftModel.predict``): the drop in churn probability if
        the offer is made, rows = customers (indexed by customerID or in the same order), one
        column per offer; NaN or a missing column = not learned. None: every offer is assumed.
      applicable: ``catalogue.applicable(customers)`` when the caller already has it (the
        engine computes it once for the rules and the ranking); None: computed here.

    Learned offers (a number in ``uplift``) are valued on evidence, with no rule weighting::

        expected_saved_value = uplift × CLV;   expected_net_value = saved − cost (= ranking_score)

    the others by the assumed formula above (``basis`` says which). A customer whose best
    applicable *learned* uplift is below zero is a **sleeping dog**: every offer the history
    knows about pushes them out, so their assumed offers are dropped and only the learned
    (negative-value) ones remain, flagged ``sleeping_dog`` — a campaign never picks them (their
    net value is negative) and the engine shows :data:`SLEEPING_DOG_REASON` instead of an offer.

    Output: long frame, ``RANKED_COLUMNS`` + ``UPLIFT_COLUMNS``, ordered by customer (input
    order) then rank (1 = best).
    ``p_accept`` is the collaborative part; ``rule_reason`` (empty when no rule proposed it) and
    ``from_rules`` are the rule part. Formulas in the module docstring. Only applicable offers
    appear; a customer with no applicable offer has no row.
    """
    if not isinstance(customers, pd.DataFrame) or ID not in customers.columns:
        raise ValueError("customers must be a canonical frame with a customerID column.")
    if top_n is not None and (int(top_n) != top_n or top_n < 1):
        raise ValueError(f"top_n={top_n!r} must be a whole number ≥ 1, or None for every offer.")
    if not 0.0 <= float(unproposed_weight) <= 1.0:
        raise ValueError(f"unproposed_weight={unproposed_weight!r} must be between 0 and 1.")
    ids = pd.Index(schema.id_texts(customers), name=ID)
    if ids.has_duplicates:
        dup = ids[ids.duplicated()].unique()[:3].tolist()
        raise ValueError(f"customers has duplicate customerID values {dup}; validate the file "
                         "first (each customer must appear once).")
    n = len(ids)
    offer_id_values, offer_names, cost, reduction = _offer_arrays(catalogue)
    offer_ids = pd.Index(offer_id_values)
    m = len(offer_ids)

    prob = _as_vector(churn_prob, n, "churn_prob")
    if ((prob < 0) | (prob > 1)).any():
        raise ValueError("churn_prob must be probabilities between 0 and 1.")
    value = _as_vector(clv, n, "clv")

    missing = [o for o in offer_ids if o not in p_accept.columns]
    if missing:
        raise ValueError(f"p_accept has no column for offer(s) {missing}; was the recommender "
                         "fitted on an older catalogue? Refit it on the current offers.")
    pa = _columns_in(_align_rows(p_accept, ids, "p_accept"),
                     offer_id_values.tolist()).to_numpy(dtype=float)
    if np.isnan(pa).any():
        raise ValueError("p_accept has missing values (NaN); the recommender must give every "
                         "customer (including cold-start ones) a probability for every offer.")

    if applicable is None:
        applicable = catalogue.applicable(customers)
    applicable = _align_rows(applicable, ids, "catalogue.applicable(customers)")
    appl = _columns_in(applicable, offer_id_values.tolist(),
                       fill_value=False).to_numpy(dtype=bool)

    proposed, reasons = _candidate_matrix(candidates, ids, offer_ids)
    proposed &= appl

    effect = prob[:, None] * pa * reduction[None, :]          # assumed drop in churn probability
    saved = (prob * value)[:, None] * pa * reduction[None, :]
    learned, dog = np.zeros((n, m), dtype=bool), np.zeros(n, dtype=bool)
    if uplift is not None:
        up = _columns_in(_align_rows(uplift, ids, "uplift"), offer_id_values.tolist())
        up = up.to_numpy(dtype=float)
        learned = ~np.isnan(up)
        effect = np.where(learned, up, effect)
        saved = np.where(learned, up * value[:, None], saved)
        known = learned & appl
        best = np.where(known, up, -np.inf).max(axis=1) if m else np.zeros(n)
        dog = known.any(axis=1) & (best < 0)
        appl = appl & ~(dog[:, None] & ~learned)              # sleeping dogs: learned offers only
        proposed &= appl
    net = saved - cost[None, :]
    score = np.where(proposed | learned, saved, unproposed_weight * saved) - cost[None, :]
    score = np.where(appl, score, -np.inf)

    # Per-row order: score desc, then rule-backed, then cheaper, then catalogue order.
    cat_order = np.broadcast_to(np.arange(m), (n, m))
    order = np.lexsort((cat_order, np.broadcast_to(cost, (n, m)), ~proposed, -score), axis=-1)
    k = m if top_n is None else min(int(top_n), m)
    order = order[:, :k]
    rows = np.repeat(np.arange(n), k).reshape(n, k)
    valid = appl[rows, order]
    rank = np.cumsum(valid, axis=1)

    r, c = rows[valid], order[valid]
    out = pd.DataFrame({
        ID: ids.to_numpy()[r],
        "rank": rank[valid].astype(np.int64),
        "offer_id": offer_id_values[c],
        "offer_name": offer_names[c],
        "offer_cost": cost[c],
        "p_accept": pa[r, c],
        "rule_reason": reasons[r, c],
        "from_rules": proposed[r, c],
        "expected_saved_value": saved[r, c],
        "expected_net_value": net[r, c],
        "ranking_score": score[r, c],
        "uplift": effect[r, c],
        "basis": np.where(learned[r, c], LEARNED, ASSUMED).astype(object),
        "sleeping_dog": dog[r],
    })
    return out


def best_offer(ranked: pd.DataFrame) -> pd.DataFrame:
    """The rank-1 offer of every customer in ``ranked`` (one row per customer, same columns)."""
    return ranked[ranked["rank"] == 1].reset_index(drop=True)


# --- step 2: budgeted campaign -------------------------------------------------------------------
@dataclass
class Campaign:
    """A budgeted campaign list and everything needed to rebuild or audit it.

    rows: the list (``CAMPAIGN_COLUMNS``), in greedy order (row 1 = highest value per dollar);
      ``group`` says who gets the offer (treatment) and who is held out (control, cost 0).
    settings: every input (budget, filters, business settings, model version, ...), JSON-safe.
    """

    rows: pd.DataFrame
    settings: dict = field(default_factory=dict)

    @property
    def spent(self) -> float:
        """Total offer cost of the list in dollars (≤ budget)."""
        return _cents_sum(self.rows["offer_cost"])

    @property
    def expected_saved_revenue(self) -> float:
        """Sum of expected saved value in dollars."""
        return _cents_sum(self.rows["expected_saved_value"])

    @property
    def expected_net_value(self) -> float:
        """Sum of expected net value (saved value − offer cost) in dollars."""
        return _cents_sum(self.rows["expected_net_value"])

    @property
    def customers(self) -> int:
        """Customers on the list, both groups."""
        return int(len(self.rows))

    @property
    def treated(self) -> int:
        """Customers who get the offer (treatment group)."""
        return int((self._groups() == TREATMENT).sum())

    @property
    def held_out(self) -> int:
        """Customers held out as control (no offer; their outcome measures the effect)."""
        return int((self._groups() == CONTROL).sum())

    @property
    def warning(self) -> str | None:
        """A warning to show with the campaign (no control group), else None."""
        return NO_CONTROL_WARNING if self.held_out == 0 else None

    def _groups(self) -> np.ndarray:
        if "group" not in self.rows.columns:  # campaigns saved before control groups existed
            return np.full(len(self.rows), TREATMENT, dtype=object)
        return self.rows["group"].astype(str).to_numpy()


def _cents(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float) * 100.0).astype(np.int64)


def _cents_sum(values) -> float:
    return float(_cents(values).sum()) / 100.0


def _clean_list(values) -> list | None:
    """A filter's allowed values as a sorted, JSON-safe list (None: no filter)."""
    if values is None:
        return None
    if isinstance(values, (str, int, float)):
        values = [values]
    plain = {v.item() if isinstance(v, np.generic) else v for v in values}
    return sorted(plain, key=lambda v: (str(type(v)), str(v)))


def normalise_filters(tiers, segment, min_clv, offers_allowed) -> dict:
    """A campaign's filters, checked (ValueError naming the bad value) and made JSON-safe:
    {tiers, segment, min_clv, offers_allowed}, None meaning no filter."""
    if segment is not None and not isinstance(segment, dict):
        raise ValueError(f"segment={segment!r} must be a dict of column -> allowed values, "
                         "e.g. {'Contract': ['Month-to-month']}.")
    try:
        min_clv = float(min_clv or 0.0)
    except (TypeError, ValueError):
        raise ValueError(f"min_clv={min_clv!r} must be a number of dollars.") from None
    return {
        "tiers": _clean_list(tiers),
        "segment": None if not segment else {str(k): _clean_list(v)
                                             for k, v in sorted(segment.items())},
        "min_clv": min_clv,
        "offers_allowed": _clean_list(offers_allowed),
    }


def eligible_customers(scored: pd.DataFrame, ranked: pd.DataFrame, filters: dict) -> pd.DataFrame:
    """One row per eligible customer with their best allowed offer of positive net value,
    sorted in greedy order (value per dollar desc, then net value desc, then input order)."""
    need = [ID, "churn_prob", "risk_tier", "clv", "revenue_at_risk"]
    missing = [c for c in need if c not in scored.columns]
    if missing:
        raise ValueError(f"scored is missing column(s) {missing}; pass the frame from "
                         "Engine.score() (one row per customer).")
    missing = [c for c in RANKED_COLUMNS[:-1] if c not in ranked.columns]
    if missing:
        raise ValueError(f"ranked is missing column(s) {missing}; pass the frame from "
                         "campaign.rank_offers().")
    s = scored.reset_index(drop=True)
    keep = np.ones(len(s), dtype=bool)
    if filters["tiers"] is not None:
        keep &= s["risk_tier"].astype(str).isin(filters["tiers"]).to_numpy()
    for col, allowed in (filters["segment"] or {}).items():
        if col not in s.columns:
            raise ValueError(f"segment column {col!r} is not in the scored frame; add the "
                             "customer columns to it before filtering (columns: "
                             f"{', '.join(map(str, s.columns))}).")
        values = s[col]
        keep &= (values.isin(allowed) | values.astype(str).isin([str(a) for a in allowed])).to_numpy()
    keep &= s["clv"].to_numpy(dtype=float) >= filters["min_clv"]
    s = s[keep]
    s = s.assign(_pos=np.flatnonzero(keep))

    r = ranked
    if filters["offers_allowed"] is not None:
        r = r[r["offer_id"].isin(filters["offers_allowed"])]
    r = r[r["expected_net_value"] > 0]
    r = r.sort_values([ID, "rank"], kind="stable").drop_duplicates(ID, keep="first")
    r = r.drop(columns=[c for c in ("churn_prob", "risk_tier", "clv", "revenue_at_risk")
                        if c in r.columns])
    e = s[[ID, "churn_prob", "risk_tier", "clv", "revenue_at_risk", "_pos"]].merge(
        r, on=ID, how="inner", validate="one_to_one")
    cost = e["offer_cost"].to_numpy(dtype=float)
    net = e["expected_net_value"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cost > 0, net / np.where(cost > 0, cost, 1.0), np.inf)
    order = np.lexsort((e["_pos"].to_numpy(), -net, -ratio))
    return e.iloc[order].reset_index(drop=True)


def _greedy_take(cost_cents: np.ndarray, budget_cents: int) -> np.ndarray:
    """Greedy walk in the given order: take each item that fits in what is left, skip the rest.

    Returns a boolean mask. Exact in integer cents. See `_GreedyWalk`, which answers many
    budgets over the same items (the saved-revenue curve) without redoing the set-up."""
    return _GreedyWalk(cost_cents).take(budget_cents)


class _GreedyWalk:
    """`_greedy_take` for one list of item costs (integer cents, in walk order), any budget.

    Fast: the fitting prefix is found with one cumulative sum (computed once); after the first
    skip what is left is below one offer's cost, so only a few more items can fit and they are
    found by jumping to the next item of each affordable cost (positions indexed once)."""

    def __init__(self, cost_cents: np.ndarray):
        self.cost_cents = np.asarray(cost_cents)
        free = self.cost_cents <= 0
        self.free = free
        self.idx = np.flatnonzero(~free)
        self.c = self.cost_cents[self.idx]
        self.csum = np.cumsum(self.c)
        self._positions = None

    def take(self, budget_cents: int) -> np.ndarray:
        n = len(self.cost_cents)
        take = np.zeros(n, dtype=bool)
        if n == 0 or budget_cents < 0:
            return take
        take[self.free] = True
        idx, c, csum = self.idx, self.c, self.csum
        if len(c) == 0:
            return take
        p = int(np.searchsorted(csum, budget_cents, side="right"))  # items [0, p) fit
        take[idx[:p]] = True
        left = budget_cents - (int(csum[p - 1]) if p else 0)
        if p >= len(c):
            return take
        if self._positions is None:
            levels = np.unique(c)
            self._positions = (levels, {int(v): np.flatnonzero(c == v) for v in levels})
        levels, positions = self._positions
        pos = p + 1  # item p does not fit
        while True:
            best = None
            for v in levels:
                if v > left:
                    break
                arr = positions[int(v)]
                j = int(np.searchsorted(arr, pos))
                if j < len(arr) and (best is None or arr[j] < best):
                    best = int(arr[j])
            if best is None:
                return take
            take[idx[best]] = True
            left -= int(c[best])
            pos = best + 1


def _check_budget(budget) -> float:
    try:
        b = float(budget)
    except (TypeError, ValueError):
        raise ValueError(f"budget={budget!r} must be a number of dollars.") from None
    if not np.isfinite(b) or b < 0:
        raise ValueError(f"budget={budget!r} must be a dollar amount of 0 or more.")
    return b


def _reason(row_from_rules: np.ndarray, rule_reason: np.ndarray, p_accept: np.ndarray) -> list:
    return [rr if fr and rr else f"No rule proposed it; likely to be accepted (P(accept) {pa:.0%})"
            for fr, rr, pa in zip(row_from_rules, rule_reason, p_accept)]


def assign_control(strata: pd.DataFrame, share: float, seed: int = 0) -> np.ndarray:
    """Which customers of a list to hold out as control: a stratified, reproducible random draw.

    strata: one row per customer *in list order*, with the columns that define the strata (the
    campaign uses risk tier and offer). share: the share to hold out, 0..MAX_CONTROL_SHARE.
    seed: the random seed (same inputs and seed → same groups).
    Returns a boolean array (True: control).

    Method (permuted blocks, per stratum): within each stratum, in list order, customer j (0, 1,
    ...) falls in block ⌊j × share + u⌋, with a random phase u ~ U(0, 1) per stratum, so blocks
    hold about 1/share customers. In each block one customer, drawn uniformly at random, is held
    out; a block cut short by the start or the end of the stratum (m customers, m × share < 1)
    holds one out with probability m × share only. So every customer is held out with probability
    (about, exactly when 1/share is whole) `share`, wherever they sit on the list; every stratum
    holds out its share, and so does every *prefix* of the list (to within about two customers
    per stratum): whatever part of the list a budget reaches, control and treatment are alike in
    risk tier, offer and place on the list, and who is held out within a block is pure chance.
    """
    share = _check_share(share)
    n = len(strata)
    control = np.zeros(n, dtype=bool)
    if n == 0 or share == 0.0:
        return control
    rng = np.random.default_rng(int(seed))
    keys = strata.reset_index(drop=True).astype(str)
    groups = keys.groupby(list(keys.columns), sort=True).indices
    for key in sorted(groups, key=str):
        pos = np.sort(np.asarray(groups[key]))
        block = np.floor(np.arange(len(pos)) * share + rng.uniform()).astype(np.int64)
        starts = np.flatnonzero(np.diff(np.concatenate([[-1], block])) != 0)
        sizes = np.diff(np.concatenate([starts, [len(pos)]]))
        chosen = rng.uniform(size=len(starts)) < np.minimum(1.0, sizes * share)
        picks = starts + np.floor(rng.uniform(size=len(starts)) * sizes).astype(np.int64)
        control[pos[picks[chosen]]] = True
    return control


def _check_share(share) -> float:
    try:
        s = float(share)
    except (TypeError, ValueError):
        raise ValueError(f"control_share={share!r} must be a number between 0 and "
                         f"{MAX_CONTROL_SHARE} (e.g. 0.1 for 10%).") from None
    if not np.isfinite(s) or not 0.0 <= s <= MAX_CONTROL_SHARE:
        raise ValueError(f"control_share={share!r} must be between 0 and {MAX_CONTROL_SHARE} "
                         "(a share of the list, e.g. 0.1 for 10%; not a percentage).")
    return s


def _learned_reason(e: pd.DataFrame, reasons: list) -> list:
    """The reason of each campaign row: for an offer valued on learned uplift, what past
    campaigns showed (the rule's reason after it when a rule proposed it too); else ``reasons``."""
    if "basis" not in e.columns:
        return reasons
    out = list(reasons)
    basis = e["basis"].astype(str).to_numpy()
    uplift = e["uplift"].to_numpy(dtype=float)
    rule = e["rule_reason"].astype(str).to_numpy()
    proposed = e["from_rules"].to_numpy(dtype=bool)
    for i in np.flatnonzero(basis == LEARNED):
        text = (f"Past campaigns: this offer cuts the churn risk of customers like this one by "
                f"{100 * uplift[i]:.1f} points")
        out[i] = f"{text}; {rule[i]}" if proposed[i] and rule[i] else text
    return out


def build_campaign(scored: pd.DataFrame, ranked: pd.DataFrame, budget: float, *, tiers=None,
                   segment: dict | None = None, min_clv: float = 0.0, offers_allowed=None,
                   control_share: float = DEFAULT_CONTROL_SHARE, seed: int = 0,
                   business_settings=None, model_version: str | None = None,
                   extra_settings: dict | None = None) -> Campaign:
    """The budgeted campaign list: who gets which offer, within ``budget`` dollars, and who is
    held out as a control group to measure what the offers really did.

    Inputs:
      scored: one row per customer with customerID, churn_prob (0..1), risk_tier, clv and
        revenue_at_risk (dollars), plus any customer columns a ``segment`` filter names. Pass
        *active* customers only (``population.active``): customers who have left are no targets.
      ranked: :func:`rank_offers` output (use ``top_n=None`` so ``offers_allowed`` can fall back
        to any applicable offer).
      budget: total cost of the offers made (treatment group), dollars (≥ 0).
      tiers: risk tiers to include (None: all). segment: {column: allowed values}.
      min_clv: minimum CLV in dollars. offers_allowed: offer ids allowed (None: all).
      control_share: share of the list held out as control (0..0.5; 0: no control group, and the
        results cannot be measured — :data:`NO_CONTROL_WARNING` is recorded in the settings).
      seed: random seed of the control draw (same inputs and seed → same groups).
      business_settings (config.BusinessSettings or dict), model_version, extra_settings: recorded
        in ``settings`` only.

    Method: filters first; then each customer's best-ranked allowed offer with positive expected
    net value, in greedy order (expected net value per dollar of offer cost; ties: higher net
    value, then input order); then the control draw over that order (:func:`assign_control`,
    stratified by risk tier and offer). The budget is spent on the **treatment** group: the
    greedy walk takes treatment customers while their offers fit (skipping any that no longer
    fits and continuing with cheaper ones), and the control customers met on the way join the
    list at no cost. So the whole budget goes to customers who get an offer, and the list is
    about 1/(1 − share) times as long as it would be without a control group — what a retention
    manager with a budget for offers expects. Control rows carry their would-be offer with
    ``offer_cost``, ``expected_saved_value`` and ``expected_net_value`` set to 0: budget and
    expected value count treatment rows only. The treatment's offer cost never exceeds the
    budget (checked in whole cents).
    """
    filters = normalise_filters(tiers, segment, min_clv, offers_allowed)
    return campaign_from_eligible(
        eligible_customers(scored, ranked, filters), budget, filters, control_share=control_share,
        seed=seed, business_settings=business_settings, model_version=model_version,
        extra_settings=extra_settings)


def campaign_from_eligible(e: pd.DataFrame, budget: float, filters: dict, *,
                           control_share: float = DEFAULT_CONTROL_SHARE, seed: int = 0,
                           business_settings=None, model_version: str | None = None,
                           extra_settings: dict | None = None, details=None,
                           control: np.ndarray | None = None) -> Campaign:
    """`build_campaign` from its eligible customers, already filtered and in greedy order.

    e: one row per eligible customer with their best allowed offer of positive net value, in
      greedy order (`eligible_customers`'s output, or the same rows from SQL: `campaign_store`). It needs
      at least customerID, risk_tier, offer_id, offer_cost; the other `eligible_customers` columns may be
      added for the chosen rows only by ``details``.
    filters: `normalise_filters(...)` (recorded in the settings).
    details: None, or a function that takes the chosen rows of ``e`` (in list order) and returns
      them with every `eligible_customers` column, same rows, same order (a store fetches them then, so a
      million eligible customers never need their text columns in memory).
    control: None, or ``assign_control(e[["risk_tier", "offer_id"]], control_share, seed)``
      when the caller keeps it (it depends on neither the budget nor anything else).
    The rest as `build_campaign`.
    """
    b = _check_budget(budget)
    share = _check_share(control_share)
    if control is None:
        control = assign_control(e[["risk_tier", "offer_id"]], share, seed)
    cost_cents = _cents(e["offer_cost"])
    treat_pos = np.flatnonzero(~control)
    treat_take = _greedy_take(cost_cents[treat_pos], int(np.floor(b * 100.0 + 1e-6)))
    take = np.zeros(len(e), dtype=bool)
    take[treat_pos[treat_take]] = True
    # Control customers join up to the first treatment customer the budget could not reach.
    missed = treat_pos[~treat_take]
    reach = int(missed[0]) if len(missed) else len(e)
    take[np.flatnonzero(control[:reach])] = True
    e, control = e[take].reset_index(drop=True), control[take]
    if details is not None:
        e = details(e)
    paid = np.where(control, 0, cost_cents[take])
    zero_if_control = np.where(control, 0.0, 1.0)
    rows = pd.DataFrame({
        ID: e[ID].astype(str).to_numpy(),
        "churn_prob": np.round(e["churn_prob"].to_numpy(dtype=float), 4),
        "risk_tier": e["risk_tier"].astype(str).to_numpy(),
        "clv": np.round(e["clv"].to_numpy(dtype=float), 2),
        "revenue_at_risk": np.round(e["revenue_at_risk"].to_numpy(dtype=float), 2),
        "offer": e["offer_name"].astype(str).to_numpy(),
        "offer_id": e["offer_id"].astype(str).to_numpy(),
        "offer_cost": paid / 100.0,
        "reason": _learned_reason(e, _reason(e["from_rules"].to_numpy(),
                                             e["rule_reason"].to_numpy(),
                                             e["p_accept"].to_numpy(dtype=float))),
        "expected_net_value": np.round(e["expected_net_value"].to_numpy(dtype=float), 2)
        * zero_if_control + 0.0,
        "expected_saved_value": np.round(e["expected_saved_value"].to_numpy(dtype=float), 2)
        * zero_if_control + 0.0,
        "cumulative_cost": np.cumsum(paid) / 100.0,
        "group": np.where(control, CONTROL, TREATMENT).astype(object),
        "value_basis": (e["basis"].astype(str).to_numpy() if "basis" in e.columns
                        else np.full(len(e), ASSUMED, dtype=object)),
    }, columns=CAMPAIGN_COLUMNS)
    rows["reason"] = rows["reason"].astype(object)
    if business_settings is not None and hasattr(business_settings, "to_dict"):
        business_settings = business_settings.to_dict()
    settings = {
        "budget": b,
        **filters,
        "method": GREEDY_RULE,
        "unproposed_weight": UNPROPOSED_WEIGHT,
        "control_share": share,
        "seed": int(seed),
        "treatment": int((~control).sum()),
        "control": int(control.sum()),
        "business_settings": business_settings,
        "model_version": model_version,
        **(extra_settings or {}),
    }
    if share == 0.0:
        settings["warning"] = NO_CONTROL_WARNING
    return Campaign(rows=rows, settings=settings)


def saved_revenue_curve(scored: pd.DataFrame, ranked: pd.DataFrame, budgets=None, *, tiers=None,
                        segment: dict | None = None, min_clv: float = 0.0,
                        offers_allowed=None, control_share: float = DEFAULT_CONTROL_SHARE,
                        seed: int = 0) -> pd.DataFrame:
    """Expected saved revenue against budget, for the same filters and control group as
    :func:`build_campaign`.

    budgets: dollar amounts (None: 41 points from 0 to the cost of offering every eligible
    treatment customer their offer). Output: DataFrame[budget, expected_saved_revenue, customers]
    where each row equals ``build_campaign(..., budget)``'s expected_saved_revenue (treatment)
    and size (both groups). One greedy ordering and one control draw (which does not depend on
    the budget) are computed and walked once per budget (fast even for 100,000 customers).
    """
    filters = normalise_filters(tiers, segment, min_clv, offers_allowed)
    return curve_from_eligible(eligible_customers(scored, ranked, filters), budgets,
                               control_share=control_share, seed=seed)


def curve_from_eligible(e: pd.DataFrame, budgets=None, *,
                        control_share: float = DEFAULT_CONTROL_SHARE, seed: int = 0,
                        control: np.ndarray | None = None) -> pd.DataFrame:
    """`saved_revenue_curve` from its eligible customers (see `campaign_from_eligible`, also for
    ``control``; needs risk_tier, offer_id, offer_cost and expected_saved_value)."""
    if control is None:
        control = assign_control(e[["risk_tier", "offer_id"]], control_share, seed)
    treat_pos = np.flatnonzero(~control)
    ctrl_before = np.cumsum(control)  # controls at or before each position
    cost_cents = _cents(e["offer_cost"])[treat_pos]
    saved_cents = _cents(np.round(e["expected_saved_value"].to_numpy(dtype=float), 2))[treat_pos]
    if budgets is None:
        budgets = np.linspace(0.0, cost_cents.sum() / 100.0, 41)
    walk = _GreedyWalk(cost_cents)
    out = []
    for b in np.asarray(budgets, dtype=float).reshape(-1):
        b = _check_budget(b)
        take = walk.take(int(np.floor(b * 100.0 + 1e-6)))
        missed = treat_pos[~take]
        reach = int(missed[0]) if len(missed) else len(e)
        controls = int(ctrl_before[reach - 1]) if reach > 0 else 0
        out.append((b, saved_cents[take].sum() / 100.0, int(take.sum()) + controls))
    return pd.DataFrame(out, columns=["budget", "expected_saved_revenue", "customers"])


def offers_mix(campaign: Campaign) -> pd.DataFrame:
    """How many customers get each offer and what it costs: DataFrame[offer, customers, cost]
    (cost in dollars), most customers first, then by name. Treatment rows only: the control
    group gets no offer."""
    rows = campaign.rows
    if "group" in rows.columns:
        rows = rows[rows["group"].astype(str) != CONTROL]
    if rows.empty:
        return pd.DataFrame({"offer": pd.Series(dtype=object), "customers": pd.Series(dtype="int64"),
                             "cost": pd.Series(dtype=float)})
    g = rows.groupby("offer", sort=True).agg(customers=(ID, "size"),
                                             cost_cents=("offer_cost", lambda v: _cents(v).sum()))
    g = g.reset_index()
    g["cost"] = g.pop("cost_cents") / 100.0
    g["customers"] = g["customers"].astype("int64")
    return g.sort_values(["customers", "offer"], ascending=[False, True],
                         kind="stable").reset_index(drop=True)


# --- composition: what the page and the CLI both call -------------------------------------------
#: Customer columns joined to the scored table so a campaign can be limited to a segment.
SEGMENT_COLUMNS = list(schema.CAMPAIGN_SEGMENTS)


def campaign_inputs(engine, customers: pd.DataFrame, settings=None) -> tuple[pd.DataFrame,
                                                                            pd.DataFrame]:
    """Score customers and rank every applicable offer: the inputs of :func:`build_campaign`.

    engine: a ``scoring.Engine`` (anything with ``score_all(df, settings, drivers=, offers=,
    top_offers=)``). customers: canonical frame. settings: ``config.BusinessSettings`` (default
    settings when None).
    Returns (scored, ranked): scored has one row per customer in input order (the engine's table
    plus ``SEGMENT_COLUMNS``), ranked is :func:`rank_offers` with every applicable offer
    (``top_n=None``). The Retention campaign page and ``python -m churn campaign`` both build
    their list from this, so the same settings give byte-identical exports.
    """
    from churn.config import BusinessSettings

    settings = settings or BusinessSettings()
    out = engine.score_all(customers, settings, drivers=0, offers=True, top_offers=None)
    table = out.table.reset_index(drop=True)
    seg = customers.reset_index(drop=True)[[c for c in SEGMENT_COLUMNS if c in customers.columns]]
    scored = pd.concat([table, seg.drop(columns=[c for c in seg.columns if c in table.columns])],
                       axis=1)
    return scored, out.ranked.reset_index(drop=True)


# --- step 3: safe exports ------------------------------------------------------------------------
#: The one formula-escaping rule of every export (`churn.spreadsheet.escape_cell`).
escape_formula = escape_cell


def export_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The table exactly as exported: text cells escaped with :func:`escape_formula`."""
    out = rows.reset_index(drop=True).copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(escape_cell).astype(object)
    return out


def to_csv_bytes(rows: pd.DataFrame) -> bytes:
    """The campaign list as UTF-8 CSV bytes (comma-separated, "\\n" line ends, header row).

    Text is escaped (:func:`escape_formula`); floats are written in their shortest exact form
    (``repr``), so reading the file back gives the same numbers and the same rows always give
    the same bytes.
    """
    return export_frame(rows).to_csv(index=False, lineterminator="\n").encode("utf-8")


_FIXED_TIME = "2000-01-01T00:00:00Z"

#: Excel number formats of the export's numeric columns: probabilities as percentages with one
#: decimal, money in dollars with cents (the stored values are unchanged: 0.9294 shows 92.9%).
XLSX_NUMBER_FORMATS = {"churn_prob": "0.0%",
                       **{c: '"$"#,##0.00' for c in _MONEY_COLUMNS}}
#: Column widths (characters) of the Excel export; others fit their header (12 to 24).
_XLSX_WIDTHS = {ID: 13, "reason": 70, "offer": 28}


def to_excel_bytes(rows: pd.DataFrame, sheet: str = "Campaign") -> bytes:
    """The campaign list as an .xlsx workbook (one sheet, header row), via openpyxl.

    Headers are business names (`EXCEL_HEADERS`; a column it does not name keeps its name). Text cells are stored with the text type (`churn.spreadsheet.xlsx_text`: never run as a
    formula, so an ID such as ``+1-2`` stays exactly ``+1-2``), numbers as numbers with the
    formats of `XLSX_NUMBER_FORMATS` (percent, dollars); columns sized to read, the header row
    and the ID column frozen. The bytes
    are deterministic: the workbook's created/modified times and the zip entries' times are
    fixed, so the same rows always give the same file.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    def text(v):
        cell = WriteOnlyCell(ws, value=xlsx_text(v))
        cell.data_type = "s"
        return cell

    def number(v, fmt):
        if fmt is None:
            return v
        cell = WriteOnlyCell(ws, value=v)
        cell.number_format = fmt
        return cell

    out = rows.reset_index(drop=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    heads = [EXCEL_HEADERS.get(str(c), str(c)) for c in out.columns]
    for i, (col, head) in enumerate(zip(out.columns, heads)):  # reasons wide, the rest compact
        ws.column_dimensions[get_column_letter(i + 1)].width = \
            _XLSX_WIDTHS.get(str(col), max(12, min(len(head) + 2, 24)))
    ws.freeze_panes = "B2"  # the header row and the customer ID stay in view
    ws.append([text(h) for h in heads])
    columns = []
    for col in out.columns:
        s = out[col]
        fmt = XLSX_NUMBER_FORMATS.get(str(col))
        if pd.api.types.is_bool_dtype(s):
            columns.append([bool(v) for v in s])
        elif pd.api.types.is_integer_dtype(s):
            columns.append([int(v) for v in s])
        elif pd.api.types.is_float_dtype(s):
            columns.append([None if np.isnan(v) else number(float(v), fmt) for v in s])
        else:
            columns.append([None if v is None or (isinstance(v, float) and np.isnan(v))
                            else text(v) if isinstance(v, str) else v for v in s])
    for row in zip(*columns):
        ws.append(list(row))
    raw = io.BytesIO()
    wb.save(raw)
    return _deterministic_zip(raw.getvalue())


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite an .xlsx with fixed document times and fixed zip entry times."""
    src = zipfile.ZipFile(io.BytesIO(data))
    dst_buf = io.BytesIO()
    with zipfile.ZipFile(dst_buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                              lambda m: m.group(1) + _FIXED_TIME + m.group(3), text)
                content = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, content)
    return dst_buf.getvalue()


def read_export(data: bytes, kind: str = "csv") -> pd.DataFrame:
    """Read an export back (``kind`` "csv" or "xlsx") with the campaign's column types.

    Text columns stay text (an empty cell is ""), so ``read_export(to_csv_bytes(rows))`` equals
    ``export_frame(rows)``.
    """
    if kind == "csv":
        head = pd.read_csv(io.BytesIO(data), nrows=0).columns
        text = {c: str for c in head if c in _TEXT_COLUMNS or c in ("rule_reason", "offer_name")}
        df = pd.read_csv(io.BytesIO(data), dtype=text, keep_default_na=False,
                         na_values={c: [""] for c in head if c not in text})
    elif kind == "xlsx":
        df = pd.read_excel(io.BytesIO(data), engine="openpyxl", dtype=object)
        df.columns = machine_headers(df.columns)
        for col in df.columns:
            if col in _TEXT_COLUMNS:
                df[col] = df[col].map(lambda v: "" if v is None or (isinstance(v, float)
                                                                    and np.isnan(v)) else str(v))
            else:
                df[col] = pd.to_numeric(df[col])
    else:
        raise ValueError(f"kind={kind!r} must be 'csv' or 'xlsx'.")
    for col in df.columns:
        if col in _MONEY_COLUMNS or col == "churn_prob":
            df[col] = df[col].astype(float)
        elif col in _TEXT_COLUMNS:
            df[col] = df[col].astype(object)
    return df


# --- persistence ---------------------------------------------------------------------------------
def save_campaign(store, campaign: Campaign, name: str, *, on: str | None = None):
    """Save the campaign on purpose (its rows, both groups, and settings) in the store; returns
    the store's campaign id.

    name: what the user calls it (required). on: the date the offers are made, YYYY-MM-DD
    (default: today, UTC); recorded as ``settings["date"]`` with the list's sizes, so results
    coming back later are filed under this campaign and date.
    """
    from datetime import datetime, timezone

    if not str(name).strip():
        raise ValueError("name must not be empty; give the campaign a name to find it again.")
    settings = dict(campaign.settings)
    settings["date"] = on or settings.get("date") or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    settings.setdefault("treatment", campaign.treated)
    settings.setdefault("control", campaign.held_out)
    rows = campaign.rows.copy()
    if "group" not in rows.columns:
        rows["group"] = TREATMENT
    return store.save_campaign(str(name).strip(), settings, rows[CAMPAIGN_COLUMNS].copy())


#: Columns of :func:`saved_campaigns`, in order.
SAVED_COLUMNS = ["id", "name", "date", "data", "budget", "control_share", "seed", "treatment",
                 "control", "spent", "model_version"]


def saved_campaigns(store) -> pd.DataFrame:
    """The campaigns saved in the store, newest first, with what a manager needs to recognise
    them: id, name, date (offers made), data (the customers it was built on), budget (dollars),
    control_share (0..1), seed, treatment and control sizes, spent (dollars) and model version.
    Campaigns saved before control groups existed show control 0."""
    listed = store.list_campaigns()
    out = []
    for cid, name, created in zip(listed["id"], listed["name"], listed["created"]):
        settings, rows = store.load_campaign(int(cid))
        camp = Campaign(rows, settings)
        out.append({"id": int(cid), "name": str(name),
                    "date": settings.get("date") or pd.Timestamp(created).strftime("%Y-%m-%d"),
                    "data": settings.get("data") or "", "budget": settings.get("budget"),
                    "control_share": settings.get("control_share", 0.0),
                    "seed": settings.get("seed"), "treatment": camp.treated,
                    "control": camp.held_out, "spent": camp.spent,
                    "model_version": settings.get("model_version") or ""})
    return pd.DataFrame(out, columns=SAVED_COLUMNS)


def reopen_campaign(store, campaign_id) -> Campaign:
    """A saved campaign, exactly as saved: its download bytes equal the original's."""
    settings, df = store.load_campaign(campaign_id)
    df = df.reset_index(drop=True)
    if "group" not in df.columns:  # saved before control groups existed: everyone was treated
        df["group"] = TREATMENT
    if "value_basis" not in df.columns:  # saved before uplift models: every value was assumed
        df["value_basis"] = ASSUMED
    rows = df[CAMPAIGN_COLUMNS].copy()
    for col in CAMPAIGN_COLUMNS:
        if col in _TEXT_COLUMNS:
            rows[col] = rows[col].astype(str).astype(object)
        else:
            rows[col] = rows[col].astype(float)
    return Campaign(rows=rows, settings=dict(settings))
