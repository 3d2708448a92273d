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

TOTAL = "TotalCharges"
_NUMERIC_STEP = {"tenure": 1, "MonthlyCharges": 0.05, TOTAL: 1.0}
_GROUPS = {
    "gender": "Customer", "SeniorCitizen": "Customer", "Partner": "Customer",
    "Dependents": "Customer",
    "tenure": "Account", "Contract": "Account", "PaperlessBilling": "Account",
    "PaymentMethod": "Account", "MonthlyCharges": "Account", TOTAL: "Account",
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
        if self.feature == "tenure":
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
    old_tenure = int(row["tenure"])
    old_monthly = float(row["MonthlyCharges"])
    for name, value in changes.items():
        row[name] = _check_value(name, value)
    _enforce_dependencies(row)
    row["tenure"] = int(row["tenure"])
    row["SeniorCitizen"] = int(row["SeniorCitizen"])
    row["MonthlyCharges"] = float(row["MonthlyCharges"])

    if total_charges_override is not None and not (
            isinstance(total_charges_override, float) and math.isnan(total_charges_override)):
        total = float(_check_value(TOTAL, total_charges_override))
        if row["tenure"] == 0:
            raise ValueError(f"TotalCharges: an override ({total_charges_override!r}) cannot be "
                             "used with tenure 0; customers with tenure 0 have not been billed "
                             "yet")
        row[TOTAL] = total
    elif row["tenure"] != old_tenure or not math.isclose(row["MonthlyCharges"], old_monthly,
                                                         abs_tol=1e-9):
        row[TOTAL] = float(schema.total_charges_estimate(row["tenure"], row["MonthlyCharges"]))
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
