"""What-if analysis of one customer: the form's widgets, its rules, and the comparison table.

The what-if page lets a user change a real customer's features and see the new probability,
drivers, lifetime value and offers. This module holds everything about that form that is not
Streamlit: which widget each editable feature gets (`widget_specs`, generated from the schema),
which values a field may take given the others (`options_for`), how a set of changes turns into a
valid canonical customer (`apply_changes`, enforcing the schema's dependency rules and keeping
TotalCharges consistent), and the original-vs-changed table (`compare`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn import schema
from churn.explain import display_value

TOTAL = schema.TOTAL
_NUMERIC_STEP = {schema.TENURE: 1, schema.MONTHLY: 0.05, TOTAL: 1.0}
_GROUPS = {
    "gender": "Customer", "SeniorCitizen": "Customer", "Partner": "Customer",
    "Dependents": "Customer",
    schema.TENURE: "Account", "Contract": "Account", "PaperlessBilling": "Account",
    "PaymentMethod": "Account", schema.MONTHLY: "Account", TOTAL: "Account",
}


@dataclass(frozen=True)
class WidgetSpec:
    """How the what-if form shows one editable feature.

    feature: schema column name (widget keys are ``whatif_<feature>``).
    widget: "slider" (integer / money), "select" (categories and the senior-citizen flag) or
        "override" (TotalCharges: a number the user may set instead of tenure × monthly charges).
    label, help: from the schema. group: "Customer", "Account" or "Services" (form layout).
    options: allowed values for a select (canonical values; SeniorCitizen is 0/1), else ().
    option_labels: what the user reads for each option ("No"/"Yes" for SeniorCitizen).
    min_value, max_value, step, format: slider / number bounds (schema widget range) and a
        printf-style format ("%d", "$%.2f").
    parent: the column whose value restricts this one's options (see `options_for`), else None.
    """

    feature: str
    widget: str
    label: str
    help: str
    group: str
    options: tuple = ()
    option_labels: tuple = ()
    min_value: float | None = None
    max_value: float | None = None
    step: float | None = None
    format: str | None = None
    parent: str | None = None

    @property
    def key(self) -> str:
        return f"whatif_{self.feature}"

    def option_label(self, value) -> str:
        """The text shown for one option (a select's ``format_func``)."""
        for v, lab in zip(self.options, self.option_labels):
            if v == value:
                return lab
        return str(value)

    def bounds_for(self, value) -> tuple[float, float]:
        """The slider range widened, if needed, to hold a real customer's value."""
        lo, hi = self.min_value, self.max_value
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            lo, hi = min(lo, value), max(hi, value)
        if self.feature == schema.TENURE:
            return int(lo), int(hi)
        return float(lo), float(hi)


def widget_specs() -> list[WidgetSpec]:
    """One `WidgetSpec` per editable feature, in schema order, generated from the schema."""
    specs = []
    for name in schema.EDITABLE_FEATURES:
        col = schema.BY_NAME[name]
        group = _GROUPS.get(name, "Services")
        common = dict(feature=name, label=col.label, help=col.help, group=group, parent=col.parent)
        if col.kind == "category":
            specs.append(WidgetSpec(widget="select", options=tuple(col.values),
                                    option_labels=tuple(str(v) for v in col.values), **common))
        elif col.kind == "flag01":
            specs.append(WidgetSpec(widget="select", options=(0, 1), option_labels=("No", "Yes"),
                                    **common))
        elif name == TOTAL:
            specs.append(WidgetSpec(widget="override", min_value=float(col.minimum),
                                    max_value=float(col.maximum), step=_NUMERIC_STEP[name],
                                    format="%.2f", **common))
        elif col.kind == "integer":
            specs.append(WidgetSpec(widget="slider", min_value=int(col.widget_min),
                                    max_value=int(col.widget_max), step=_NUMERIC_STEP.get(name, 1),
                                    format="%d", **common))
        else:  # money
            specs.append(WidgetSpec(widget="slider", min_value=float(col.widget_min),
                                    max_value=float(col.widget_max),
                                    step=_NUMERIC_STEP.get(name, 0.05), format="$%.2f", **common))
    return specs


def _get(customer, name):
    return customer[name] if name in customer else None


def options_for(feature: str, customer) -> list:
    """The values ``feature`` may take given the customer's other fields.

    A dependent column (MultipleLines, the six internet add-ons) has only its forced value when
    its parent is switched off (e.g. OnlineSecurity is ["No internet service"] when
    InternetService is "No") and every other value otherwise. SeniorCitizen gives [0, 1].
    Numeric features have no options (ValueError).
    """
    col = schema.BY_NAME.get(feature)
    if col is None or not col.is_feature:
        raise ValueError(f"options_for: {feature!r} is not a feature "
                         f"(features: {', '.join(schema.FEATURES)})")
    if col.kind in ("integer", "money"):
        raise ValueError(f"options_for: {feature!r} is numeric; it has a range, not options")
    if col.kind == "flag01":
        return [0, 1]
    if col.parent:
        if _get(customer, col.parent) == col.parent_value:
            return [col.forced]
        return [v for v in col.values if v != col.forced]
    return list(col.values)


def _check_value(name: str, value):
    """A validated canonical value for one editable feature (ValueError when not allowed)."""
    col = schema.BY_NAME[name]
    if col.kind == "category":
        if not isinstance(value, str) or value not in col.values:
            raise ValueError(f"{name}: {value!r} is not an allowed value; allowed: "
                             f"{', '.join(map(str, col.values))}")
        return value
    if col.kind == "flag01":
        mapped = {0: 0, 1: 1, "No": 0, "Yes": 1, False: 0, True: 1}
        try:
            return mapped[value]
        except (KeyError, TypeError):
            raise ValueError(f"{name}: {value!r} is not an allowed value; use 0/1 or No/Yes") \
                from None
    try:
        num = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(num) or not col.minimum <= num <= col.maximum:
        raise ValueError(f"{name}: {value!r} is outside the valid range "
                         f"{col.minimum:g} to {col.maximum:g}")
    if col.kind == "integer":
        if num != int(num):
            raise ValueError(f"{name}: {value!r} is not a whole number of months")
        return int(num)
    return round(num, 2)


def apply_changes(customer, changes: dict, *, total_charges_override: float | None = None
                  ) -> pd.Series:
    """The customer after the form's changes, as a valid canonical row.

    Inputs: ``customer`` (pd.Series or dict: one canonical row, customerID optional), ``changes``
    (feature -> new canonical value; a feature may be repeated with its current value, so the page
    can pass every widget's value each time), ``total_charges_override`` (dollars, or None).
    Rules, in order:
    1. every changed feature must be editable and its value allowed (category in the schema's
       values, SeniorCitizen 0/1 or No/Yes, numbers inside the schema's valid range) — else
       ValueError naming the feature and the value;
    2. the schema's dependency rules (`schema.enforce_dependencies`): the parent wins — add-ons
       become "No internet service" when InternetService is "No" and come back as "No" when it is
       not; MultipleLines follows PhoneService;
    3. TotalCharges: the override when given (a ``TotalCharges`` entry in ``changes`` counts as
       one); else tenure × MonthlyCharges (`schema.total_charges_estimate`) when tenure or
       MonthlyCharges changed; else the customer's own value. Tenure 0 means not yet billed (NaN),
       so an override with tenure 0 is a ValueError.
    Output: a new pd.Series (the input is not modified) with canonical types.
    """
    row = dict(customer.items()) if isinstance(customer, pd.Series) else dict(customer)
    missing = [f for f in schema.FEATURES if f not in row]
    if missing:
        raise ValueError(f"apply_changes: the customer is missing column(s) {missing}")
    if not isinstance(changes, dict):
        raise ValueError(f"apply_changes: changes must be a dict of feature -> value, "
                         f"not {type(changes).__name__}")
    changes = dict(changes)
    if TOTAL in changes:
        tc = changes.pop(TOTAL)
        if total_charges_override is not None and tc != total_charges_override:
            raise ValueError(f"apply_changes: TotalCharges given twice ({tc!r} in changes and "
                             f"total_charges_override={total_charges_override!r})")
        total_charges_override = tc
    for name in changes:
        if name not in schema.EDITABLE_FEATURES:
            raise ValueError(f"apply_changes: {name!r} is not an editable feature "
                             f"(editable: {', '.join(schema.EDITABLE_FEATURES)})")
    old_tenure = int(row[schema.TENURE])
    old_monthly = float(row[schema.MONTHLY])
    for name, value in changes.items():
        row[name] = _check_value(name, value)
    _enforce_dependencies(row)
    row[schema.TENURE] = int(row[schema.TENURE])
    row["SeniorCitizen"] = int(row["SeniorCitizen"])
    row[schema.MONTHLY] = float(row[schema.MONTHLY])

    if total_charges_override is not None and not (
            isinstance(total_charges_override, float) and math.isnan(total_charges_override)):
        total = float(_check_value(TOTAL, total_charges_override))
        if row[schema.TENURE] == 0:
            raise ValueError(f"TotalCharges: an override ({total_charges_override!r}) cannot be "
                             "used with tenure 0; customers with tenure 0 have not been billed "
                             "yet")
        row[TOTAL] = total
    elif row[schema.TENURE] != old_tenure or not math.isclose(row[schema.MONTHLY], old_monthly,
                                                         abs_tol=1e-9):
        row[TOTAL] = float(schema.total_charges_estimate(row[schema.TENURE], row[schema.MONTHLY]))
    else:
        tc = row[TOTAL]
        row[TOTAL] = float("nan") if tc is None or pd.isna(tc) else float(tc)
    return pd.Series(row, dtype=object)


def _enforce_dependencies(row: dict) -> None:
    """`schema.enforce_dependencies` for one customer held in a dict (in place; the same rule,
    without the cost of a one-row DataFrame): the parent wins."""
    for col in schema.DEPENDENT_COLUMNS:
        if row[col.parent] == col.parent_value:
            row[col.name] = col.forced
        elif row[col.name] == col.forced:
            row[col.name] = "No"


def customer_frame(customer) -> pd.DataFrame:
    """A one-row canonical frame from a customer Series/dict (for the model and the engine)."""
    row = customer if isinstance(customer, dict) else dict(customer.items())
    cols = {}
    for name, value in row.items():
        col = schema.BY_NAME.get(name)
        kind = col.kind if col else None
        if kind in ("flag01", "integer", "target"):
            cols[name] = np.array([value], dtype=np.int64)
        elif kind == "money":
            v = np.nan if value is None or pd.isna(value) else float(value)
            cols[name] = np.array([v], dtype=float)
        elif kind in ("id", "category"):
            cols[name] = np.array([str(value)], dtype=object)
        else:
            cols[name] = [value]
    return pd.DataFrame(cols)


def _same(a, b) -> bool:
    a_na = a is None or (not isinstance(a, str) and pd.isna(a))
    b_na = b is None or (not isinstance(b, str) and pd.isna(b))
    if a_na or b_na:
        return a_na and b_na
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return math.isclose(float(a), float(b), abs_tol=0.005)
    return a == b


def compare(original, changed) -> pd.DataFrame:
    """Original vs changed values side by side, for every feature in schema order.

    Output columns: feature, label, original, changed (both as display text: "Yes", "24 months",
    "$70.35"), changed_flag (bool; money compared to the cent).
    """
    rows = []
    for f in schema.FEATURES:
        a, b = _get(original, f), _get(changed, f)
        rows.append((f, schema.label(f), display_value(f, a), display_value(f, b), not _same(a, b)))
    return pd.DataFrame(rows, columns=["feature", "label", "original", "changed", "changed_flag"])


# =================================================================================================
# Sweeps: how one customer's figures move across a feature's whole range (issue 18)
# =================================================================================================
#: Points of a numeric sweep (a grid over the schema's widget range, plus the current value).
SWEEP_POINTS = 50
#: Customers in the partial-dependence sample (a seeded random sample of the data set) and its seed.
PD_SAMPLE = 300
PD_SEED = 0
#: Features a sweep can move. TotalCharges is not one: it follows tenure × monthly charges, so
#: sweeping tenure or monthly charges moves it (sweeping it alone would break that rule).
SWEEP_FEATURES = [f for f in schema.EDITABLE_FEATURES if f != TOTAL]
#: Columns of `sweep`, in order.
SWEEP_COLUMNS = ["feature", "value", "value_display", "is_current", "churn_prob", "risk_tier",
                 "clv", "offer_id", "offer_name", "offer_net_value", "offer_worth_making"]


#: Columns that take part in a dependency rule (parents and their dependents).
_RULE_COLUMNS = {c.name for c in schema.DEPENDENT_COLUMNS} | {c.parent for c in
                                                              schema.DEPENDENT_COLUMNS}


def _check_sweep_feature(feature: str) -> schema.Column:
    if feature not in SWEEP_FEATURES:
        raise ValueError(f"sweep: {feature!r} cannot be swept; choose one of "
                         f"{', '.join(SWEEP_FEATURES)} (TotalCharges follows tenure × monthly "
                         "charges)")
    return schema.BY_NAME[feature]


def _grid(col: schema.Column, points: int) -> list:
    """``points`` values evenly over the column's widget range (whole months for tenure, cents
    for money), duplicates dropped."""
    grid = np.linspace(float(col.widget_min), float(col.widget_max), int(points))
    if col.kind == "integer":
        return sorted({int(round(v)) for v in grid})
    return sorted({round(float(v), 2) for v in grid})


def sweep_values(feature: str, customer=None, points: int = SWEEP_POINTS) -> list:
    """The values a sweep of ``feature`` visits, as canonical values, in display order.

    Numeric features: ``points`` values over the schema's widget range (`_grid`), plus the
    customer's own value when it is not on the grid (so the current point is always drawn).
    SeniorCitizen: [0, 1]. Categories: every level the customer may take given their other
    fields (`options_for`): an internet add-on of a customer without internet service has the one
    value "No internet service". ``customer`` None: the population grid (all levels / no extra
    value), used by `partial_dependence`.
    """
    col = _check_sweep_feature(feature)
    if not isinstance(points, (int, np.integer)) or isinstance(points, bool) or points < 2:
        raise ValueError(f"sweep: points={points!r} must be a whole number of at least 2")
    if col.kind in ("integer", "money"):
        values = _grid(col, points)
        if customer is not None:
            own = _check_value(feature, _get(customer, feature))
            if own not in values:
                values = sorted(values + [own])
        return values
    if customer is None:
        return [0, 1] if col.kind == "flag01" else list(col.values)
    return options_for(feature, customer)


def variants(customer, feature: str, values) -> pd.DataFrame:
    """One canonical row per value: the customer with ``feature`` set to that value.

    Row i equals ``customer_frame(apply_changes(customer, {feature: values[i]}))``: the value is
    checked, the schema's dependency rules applied (`schema.enforce_dependencies`: the parent
    wins), and TotalCharges becomes tenure × monthly charges (`schema.total_charges_estimate`)
    wherever tenure or monthly charges differ from the customer's own, else stays the customer's.
    Built as one frame (no per-value loop through `apply_changes`). Index 0..n-1.
    """
    _check_sweep_feature(feature)
    checked = [_check_value(feature, v) for v in values]
    base = customer_frame(apply_changes(customer, {}))
    frame = base.loc[np.zeros(len(checked), dtype=int)].reset_index(drop=True)
    frame[feature] = pd.Series(checked, dtype=frame[feature].dtype)
    if feature in _RULE_COLUMNS:  # the base row obeys the rules; only these can break them
        frame = schema.enforce_dependencies(frame)
    if feature in (schema.TENURE, schema.MONTHLY):
        own = float(base[feature].iloc[0])
        moved = ~np.isclose(frame[feature].to_numpy(dtype=float), own, rtol=0, atol=1e-9)
        estimate = schema.total_charges_estimate(frame[schema.TENURE], frame[schema.MONTHLY])
        frame[TOTAL] = np.where(moved, estimate, frame[TOTAL].to_numpy(dtype=float))
    return frame


class _AsOneCustomer:
    """The engine's offer recommender, answering for rows that are all versions of real
    customers: each row is predicted under its real customer ID (so the customer's own offer
    history counts, exactly as when that one row is scored alone), while the frame itself carries
    unique IDs (the offer ranking needs them)."""

    def __init__(self, recommender, real_ids):
        self._recommender = recommender
        self._real_ids = np.asarray(real_ids, dtype=object)

    def predict(self, customers: pd.DataFrame) -> pd.DataFrame:
        out = self._recommender.predict(customers.assign(**{schema.ID: self._real_ids}))
        out.index = customers.index
        return out

    def __getattr__(self, name):
        return getattr(self._recommender, name)


def score_versions(engine, frame: pd.DataFrame, settings, *, drivers: int = 3):
    """`Engine.score_all` of rows that are versions of real customers (edited, swept, pinned),
    in one batch: each row scores exactly as it would alone (`Engine.customer_view`), even when
    several rows share a customer ID. Returns the `scoring.Scored`; its table's and ranked
    offers' customerID are made unique ("<id>#<row>"), in row order.
    """
    import copy

    real = frame[schema.ID].astype(str).to_numpy() if schema.ID in frame \
        else np.array([""] * len(frame), dtype=object)
    unique = frame.assign(**{schema.ID: [f"{r}#{i}" for i, r in enumerate(real)]})
    proxy = copy.copy(engine)
    proxy.recommender = _AsOneCustomer(engine.recommender, real)
    return proxy.score_all(unique, settings, drivers=drivers, offers=True)


def sweep(engine, customer, feature: str, settings, points: int = SWEEP_POINTS) -> pd.DataFrame:
    """How one customer's churn probability, lifetime value and best offer move across a feature.

    Inputs: ``engine`` (`scoring.Engine`), ``customer`` (one canonical row, Series or dict, with
    any edits already applied), ``feature`` (one of `SWEEP_FEATURES`), ``settings``
    (`config.BusinessSettings`), ``points`` (numeric grid size, see `sweep_values`).
    Output: one row per value (`SWEEP_COLUMNS`): feature, value (canonical), value_display ("24
    months", "$70.35", "Two year"), is_current (the customer's own value), churn_prob (0..1),
    risk_tier, clv (dollars), offer_id / offer_name of the best-ranked offer ("" when none
    applies), offer_net_value (its expected net value, dollars; NaN when none applies),
    offer_worth_making (net value > 0). Each row equals a one-off `Engine.customer_view` of
    `variants`' row: the values are scored as one batch through `Engine.score_all`.
    """
    values = sweep_values(feature, customer, points)
    frame = variants(customer, feature, values)
    scored = score_versions(engine, frame, settings, drivers=0)
    t = scored.table
    own = _check_value(feature, _get(customer, feature))
    net = t["offer_net_value"].to_numpy(float) if "offer_net_value" in t \
        else np.full(len(t), np.nan)
    return pd.DataFrame({
        "feature": feature,
        "value": pd.Series(values, dtype=object),
        "value_display": [display_value(feature, v) for v in values],
        "is_current": [_same(v, own) for v in values],
        "churn_prob": t["churn_prob"].to_numpy(float),
        "risk_tier": t["risk_tier"].astype(str).to_numpy(),
        "clv": t["clv"].to_numpy(float),
        "offer_id": t["offer_id"].astype(str).to_numpy() if "offer_id" in t else "",
        "offer_name": t["offer_name"].astype(str).to_numpy() if "offer_name" in t else "",
        "offer_net_value": net,
        "offer_worth_making": np.nan_to_num(net, nan=-1.0) > 0,
    })


def pd_sample(customers: pd.DataFrame, size: int = PD_SAMPLE, seed: int = PD_SEED
              ) -> pd.DataFrame:
    """The customers a partial-dependence curve averages over: all of them up to ``size``,
    else a seeded random sample of ``size`` (same seed, same data → same customers)."""
    if len(customers) <= size:
        return customers
    rng = np.random.default_rng(seed)
    return customers.iloc[np.sort(rng.choice(len(customers), size=size, replace=False))]


def partial_dependence(model, customers: pd.DataFrame, feature: str, *,
                       points: int = SWEEP_POINTS, size: int = PD_SAMPLE,
                       seed: int = PD_SEED) -> pd.DataFrame:
    """The population's partial-dependence curve: the average churn probability when every
    customer of the sample (`pd_sample`) is given the same value of ``feature``.

    Every customer is changed as the what-if form would change them (`variants`' rules: parent
    wins, TotalCharges follows tenure × monthly charges). For an add-on column (a column with a
    parent, e.g. OnlineSecurity), each level averages only over the customers who may take it:
    "Yes"/"No" over customers with the parent service, the forced level ("No internet service")
    over those without, so no curve point mixes in customers the rule would silently change back.
    Output: value, value_display, churn_prob (mean, 0..1), customers (how many were averaged).
    One `model.predict_proba` call on the stacked frame.
    """
    col = _check_sweep_feature(feature)
    values = sweep_values(feature, None, points)
    sample = pd_sample(customers, size, seed).reset_index(drop=True)
    canon = schema.enforce_dependencies(sample)
    blocks, owners = [], []
    for j, v in enumerate(values):
        block = canon
        if col.parent:
            off = canon[col.parent] == col.parent_value
            block = canon[off] if v == col.forced else canon[~off]
        block = block.copy()
        block[feature] = v
        blocks.append(block)
        owners.append(np.full(len(block), j))
    stacked = schema.enforce_dependencies(pd.concat(blocks, ignore_index=True))
    if feature in (schema.TENURE, schema.MONTHLY):
        stacked[TOTAL] = schema.total_charges_estimate(stacked[schema.TENURE], stacked[schema.MONTHLY])
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=int)
    prob = np.asarray(model.predict_proba(stacked), dtype=float) if len(stacked) else np.zeros(0)
    sums = np.bincount(owner, weights=prob, minlength=len(values))
    counts = np.bincount(owner, minlength=len(values))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return pd.DataFrame({"value": pd.Series(values, dtype=object),
                         "value_display": [display_value(feature, v) for v in values],
                         "churn_prob": mean, "customers": counts.astype(int)})


def sweep_highlights(sweep: pd.DataFrame) -> list[str]:
    """Plain sentences a retention agent reads off a sweep (`sweep` output), e.g. "At 38 months
    or more the risk tier is Low (now High)." and "The best offer pays most at Two year: Contract
    upgrade discount, expected net value $212." Numeric features: the first value above the
    current one from which the tier stays at the lowest tier reached above it (when that is
    lower than now). Every feature: where the best offer is worth most, or that no swept value
    makes any offer worth making."""
    if len(sweep) == 0:
        return []
    feature = str(sweep["feature"].iloc[0])
    order = {"Low": 0, "Medium": 1, "High": 2}
    out = []
    now = sweep.index[sweep["is_current"]]
    col = schema.BY_NAME[feature]
    if len(now) and col.kind in ("integer", "money"):
        i = sweep.index.get_loc(now[0])
        tier_now = str(sweep["risk_tier"].iloc[i])
        after = sweep.iloc[i + 1:]
        if len(after):
            rank = after["risk_tier"].map(order).fillna(2).to_numpy()
            best = rank.min()
            if best < order.get(tier_now, 2):
                # the first value from which the tier never rises above `best` again
                bad = np.flatnonzero(rank > best)
                start = 0 if len(bad) == 0 else bad[-1] + 1
                if start < len(after):
                    name = {v: k for k, v in order.items()}[best]
                    out.append(f"At {after['value_display'].iloc[start]} or more the risk tier "
                               f"is {name} (now {tier_now}).")
    net = sweep["offer_net_value"].to_numpy(float)
    if np.isfinite(net).any() and np.nanmax(net) > 0:
        j = int(np.nanargmax(net))
        out.append(f"The best offer pays most at {sweep['value_display'].iloc[j]}: "
                   f"{sweep['offer_name'].iloc[j]}, expected net value ${net[j]:,.0f}.")
    else:
        from churn.explain import short_label

        out.append(f"No value of {short_label(feature).lower()} makes any offer worth making "
                   "(every expected net value is $0 or less).")
    return out


def value_from_point(feature: str, point: dict):
    """The canonical value of a clicked sweep point (a Plotly selection point: its
    ``customdata[0]`` when present, else its ``x``); ValueError when it is not allowed."""
    _check_sweep_feature(feature)
    raw = point.get("customdata")
    raw = raw[0] if isinstance(raw, (list, tuple)) and raw else point.get("x")
    return _check_value(feature, raw)


# =================================================================================================
# Offers: which ones are worth making, and why they rank as they do (issue 16)
# =================================================================================================
NO_OFFER_WORTH = ("No offer is worth making for this customer: every offer that applies costs "
                  "more than the revenue it is expected to save (expected net value $0 or less).")


def offer_worth_making(offers: pd.DataFrame | None) -> bool:
    """True when at least one ranked offer has a positive expected net value."""
    return offers is not None and len(offers) > 0 and bool(
        (offers["expected_net_value"].to_numpy(float) > 0).any())


def _dollars(x: float) -> str:
    return f"-${-x:,.0f}" if round(x) < 0 else f"${x:,.0f}"


def rank_reasons(offers: pd.DataFrame, unproposed_weight: float | None = None) -> pd.Series:
    """Why each offer sits where it does in the ranking (`campaign.rank_offers`), in words.

    The ranking sorts by the *ranking value* (``ranking_score``), not the expected net value: a
    rule-backed offer (one of the customer's risk drivers calls for it) counts its saved value in
    full, an offer no rule proposed counts it at ``UNPROPOSED_WEIGHT`` (80%). So an offer
    worth $59 may rank below one worth $48. An offer with a learned effect (``basis`` "learned",
    from `churn.uplift`) ranks on its net value, with no weighting. Output: one text per row,
    same index, e.g. "Rule-backed: ranks on $48", "No rule: ranks on $43 (saving × 80%)" or
    "Learned effect: ranks on $51".
    """
    from churn import campaign

    w = campaign.UNPROPOSED_WEIGHT if unproposed_weight is None else unproposed_weight
    rules = offers["from_rules"].astype(bool).to_numpy()
    score = offers["ranking_score"].to_numpy(float)
    learned = (offers["basis"].astype(str).to_numpy() == "learned" if "basis" in offers.columns
               else np.zeros(len(offers), dtype=bool))
    text = [f"Learned effect: ranks on {_dollars(s)}" if ln else
            f"Rule-backed: ranks on {_dollars(s)}" if r else
            f"No rule: ranks on {_dollars(s)} (saving × {w:.0%})"
            for r, s, ln in zip(rules, score, learned)]
    return pd.Series(text, index=offers.index, dtype=object)


# =================================================================================================
# Contribution depth: the waterfall's rows, any depth, either order
# =================================================================================================
WATERFALL_ORDERS = ("effect", "feature")


def waterfall_rows(expl, i: int = 0, k: int = 8, order: str = "effect") -> pd.DataFrame:
    """`explain.waterfall_data` with a choice of order.

    The ``k`` features with the largest effect are drawn and the rest grouped as "All other
    features" (`explain.OTHER_LABEL`). order "effect": largest absolute effect first;
    "feature": the same features in the schema's order (the form's order). Same columns.
    """
    from churn import explain as E

    if order not in WATERFALL_ORDERS:
        raise ValueError(f"waterfall_rows: order={order!r} must be one of "
                         f"{', '.join(WATERFALL_ORDERS)}")
    rows = E.waterfall_data(expl, i, k=k)
    if order == "effect":
        return rows
    feat = rows["feature"] != ""
    pos = {f: n for n, f in enumerate(schema.FEATURES)}
    ordered = rows[feat].assign(_o=rows.loc[feat, "feature"].map(pos)).sort_values("_o")
    return pd.concat([rows.iloc[:1], ordered.drop(columns="_o"), rows.iloc[1:][~feat.iloc[1:]]],
                     ignore_index=True)


# =================================================================================================
# Compare customers: pinned customers side by side
# =================================================================================================
MAX_PINS = 4
#: Columns of `pinned_profiles` before the features, in order.
PROFILE_COLUMNS = ["label", "churn_prob", "risk_tier", "clv", "driver_1", "driver_2", "driver_3",
                   "offer_name", "offer_net_value"]


def _driver_phrase(feature, value, pp) -> str:
    from churn import explain as E

    if not feature or pp is None or pd.isna(pp):
        return ""
    return f"{E.short_label(feature)}: {display_value(feature, value)} ({pp:+.1f} pp)"


def pinned_profiles(engine, customers: list, labels: list, settings) -> pd.DataFrame:
    """One row per pinned customer (real or edited): what the comparison view shows.

    Inputs: ``customers`` (canonical rows, Series or dicts; at most `MAX_PINS`), ``labels`` (one
    name per customer, e.g. "7590-VHVEG (edited)"), ``settings`` (`config.BusinessSettings`).
    Output columns: `PROFILE_COLUMNS` (churn_prob 0..1, clv and offer_net_value in dollars,
    driver_i "Contract: Month-to-month (+12.3 pp)" for the three drivers that raise the risk
    most, offer_name "" when no offer applies) then every schema feature (canonical values).
    Scored as one batch (`score_versions`); each row equals that customer's `Engine.customer_view`.
    """
    if len(customers) != len(labels):
        raise ValueError(f"pinned_profiles: {len(customers)} customers but {len(labels)} labels")
    if len(customers) > MAX_PINS:
        raise ValueError(f"pinned_profiles: at most {MAX_PINS} customers can be compared, "
                         f"got {len(customers)}")
    if not customers:
        return pd.DataFrame(columns=PROFILE_COLUMNS + schema.FEATURES)
    frame = pd.concat([customer_frame(c) for c in customers], ignore_index=True)
    t = score_versions(engine, frame, settings, drivers=3).table.reset_index(drop=True)
    out = pd.DataFrame({"label": list(labels), "churn_prob": t["churn_prob"].to_numpy(float),
                        "risk_tier": t["risk_tier"].astype(str).to_numpy(),
                        "clv": t["clv"].to_numpy(float)})
    for j in (1, 2, 3):
        out[f"driver_{j}"] = [_driver_phrase(f, frame[f].iloc[i] if f else None, pp)
                              for i, (f, pp) in enumerate(zip(t[f"driver_{j}"],
                                                              t[f"driver_{j}_pp"]))]
    out["offer_name"] = t["offer_name"].astype(str).to_numpy()
    out["offer_net_value"] = t["offer_net_value"].to_numpy(float)
    for f in schema.FEATURES:
        out[f] = frame[f].to_numpy()
    return out


def differing(profiles: pd.DataFrame) -> dict[str, bool]:
    """For each column of `pinned_profiles` (but the label), whether the pinned customers
    differ on it (money to the cent, probabilities to 0.1 percentage point)."""
    out = {}
    for c in profiles.columns:
        if c == "label":
            continue
        vals = profiles[c].tolist()
        if c == "churn_prob":
            vals = [round(100 * v, 1) for v in vals]
        out[c] = any(not _same(a, vals[0]) for a in vals[1:])
    return out
