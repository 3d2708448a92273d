"""The what-if form: one widget per editable feature, generated from `churn.whatif.widget_specs`.

`show(original, key="whatif")` draws the form for one real customer and returns the changed
customer (a canonical row, the schema's rules applied by `churn.whatif.apply_changes`) and a
message when the user's input could not be used as is. Widget keys are ``<key>_<feature>``
(e.g. ``whatif_tenure``, ``whatif_Contract``); the total-charges override checkbox is
``<key>_TotalCharges_override``; the reset button is ``<key>_reset``.

Session state: the form remembers which customer it holds (``<key>.loaded``); when another
customer is shown, or on reset, every widget is set back to that customer's real values. Widget
values live only in session state (no ``value=`` arguments), so the page never fights Streamlit
over a widget's default. Each widget's value is mirrored under a key Streamlit never drops
(`ui.whatif_state.keep`), so the form survives a visit to another page; `apply` sets one
feature from outside the form (a clicked sweep point).
"""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from churn import schema, whatif
from ui.whatif_state import keep, put

#: Form groups drawn side by side, and the one kept in a collapsed expander below them: who the
#: customer is (gender, age, household) cannot be changed by an offer, and the browser redraws
#: a collapsed expander's widgets only when it is opened (each visible widget costs about 10 ms
#: of every redraw in Chromium; issue 18).
GROUPS = ("Account", "Services")
PROFILE = "Customer"


def _native(value):
    """numpy scalars → Python scalars (widgets accept only the latter)."""
    return value.item() if hasattr(value, "item") else value


def _keys(key: str) -> dict[str, str]:
    return {"loaded": f"{key}.loaded", "override": f"{key}_TotalCharges_override",
            "reset": f"{key}_reset"}


def _customer_id(original: pd.Series) -> str:
    return str(original.get(schema.ID, ""))


def _widget_keys(key: str) -> list[str]:
    return [f"{key}_{spec.feature}" for spec in whatif.widget_specs()] + [_keys(key)["override"]]


def _widget_value(spec, value):
    """A canonical value as the feature's widget holds it."""
    value = _native(value)
    if spec.widget == "override":
        return (None if value is None or (isinstance(value, float) and math.isnan(value))
                else float(value))
    if spec.feature == "tenure":
        return int(value)
    if spec.widget == "slider":
        return float(value)
    return value


def load(original: pd.Series, key: str = "whatif") -> None:
    """Set every widget of the form to the customer's real values (also the reset button's
    callback). Safe to call before the widgets are drawn or from a callback."""
    k = _keys(key)
    for spec in whatif.widget_specs():
        put(f"{key}_{spec.feature}", _widget_value(spec, original[spec.feature]))
    put(k["override"], False)
    st.session_state[k["loaded"]] = _customer_id(original)


def apply(feature: str, value, key: str = "whatif") -> None:
    """Set one feature of the form (e.g. from a clicked sweep point); the dependency rules and
    total charges follow on the next run. Call from a callback or before the form is drawn."""
    spec = next(s for s in whatif.widget_specs() if s.feature == feature)
    put(f"{key}_{feature}", _widget_value(spec, value))


def _state_changes(key: str) -> tuple[dict, float | None]:
    changes, override = {}, None
    for spec in whatif.widget_specs():
        if spec.widget == "override":
            if st.session_state.get(_keys(key)["override"]):
                override = st.session_state.get(f"{key}_{spec.feature}")
        else:
            changes[spec.feature] = st.session_state[f"{key}_{spec.feature}"]
    return changes, override


def current(original: pd.Series, key: str = "whatif") -> tuple[pd.Series, str | None]:
    """The changed customer from the form's state, and a message when the override could not
    be used (then the total follows tenure × monthly charges)."""
    changes, override = _state_changes(key)
    try:
        return whatif.apply_changes(original, changes, total_charges_override=override), None
    except ValueError as exc:
        return whatif.apply_changes(original, changes), str(exc)


def show(original: pd.Series, key: str = "whatif") -> tuple[pd.Series, str | None]:
    """Draw the form for ``original`` (a canonical customer row); return (changed, message).
    The same as `prepare` then `draw`."""
    changed, message = prepare(original, key)
    draw(original, changed, key)
    return changed, message


def prepare(original: pd.Series, key: str = "whatif") -> tuple[pd.Series, str | None]:
    """The form's state for ``original``, ready to draw; returns (changed, message) without
    drawing anything, so a page can show the results above the form.

    Restores values Streamlit dropped while another page was shown, loads the customer's real
    values when another customer is chosen, brings children in line with their parents (e.g.
    the internet add-ons hold only "No internet service" when Internet service is "No"), and
    sets TotalCharges to the value the model will use: the override when the box is ticked,
    else tenure × monthly charges.
    """
    k = _keys(key)
    keep(*_widget_keys(key))
    if st.session_state.get(k["loaded"]) != _customer_id(original) or any(
            w not in st.session_state for w in _widget_keys(key)):
        load(original, key)
    changed, message = current(original, key)
    # Bring dependent widgets in line with the rules before they are drawn this run.
    for spec in whatif.widget_specs():
        wkey = f"{key}_{spec.feature}"
        if spec.parent and st.session_state.get(wkey) != changed[spec.feature]:
            put(wkey, changed[spec.feature])
        if spec.widget == "override" and not st.session_state.get(k["override"]):
            tc = changed[spec.feature]
            put(wkey, None if pd.isna(tc) else float(tc))
    return changed, message


def draw(original: pd.Series, changed: pd.Series, key: str = "whatif") -> None:
    """Draw the form's widgets (after `prepare` in the same run)."""
    k = _keys(key)
    cols = dict(zip(GROUPS, st.columns(len(GROUPS))))
    # A fixed title: a title that changed with the values would close the expander on edits.
    cols[PROFILE] = st.expander("Customer profile: gender, senior citizen, partner, dependents "
                                "(an offer cannot change these)", icon=":material/person:")
    for spec in whatif.widget_specs():
        wkey = f"{key}_{spec.feature}"
        with cols[spec.group]:
            if spec.widget == "select":
                st.selectbox(spec.label, whatif.options_for(spec.feature, changed), key=wkey,
                             help=spec.help, format_func=spec.option_label)
            elif spec.widget == "slider":
                lo, hi = spec.bounds_for(_native(original[spec.feature]))
                st.slider(spec.label, min_value=lo, max_value=hi, step=spec.step, key=wkey,
                          help=spec.help, format=spec.format)
            else:
                st.checkbox("Set by hand", key=k["override"],
                            help="Normally total charges follow tenure × monthly charges when "
                                 "either changes. Tick to type your own figure.")
                st.number_input(spec.label, min_value=spec.min_value, max_value=spec.max_value,
                                step=spec.step, format=spec.format, key=wkey, help=spec.help,
                                disabled=not st.session_state.get(k["override"]))


def reset_button(original: pd.Series, key: str = "whatif") -> None:
    """A button that puts the customer's real values back into the form."""
    st.button("Reset to the real values", key=_keys(key)["reset"], on_click=load,
              args=(original, key), icon=":material/restart_alt:")
