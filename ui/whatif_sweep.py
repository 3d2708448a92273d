"""The what-if page's sweep section: pick a feature, see this customer's probability, lifetime
value and best offer across its whole range, click a point to try it in the form.

Data from `churn.whatif.sweep` (one batch through the engine) and
`churn.whatif.partial_dependence` (the population's curve, on `churn.whatif.PD_SAMPLE`
customers), both cached; the figure from `ui.whatif_charts.sweep_figure`.
"""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from churn import schema
from churn import whatif as W
from ui import whatif_charts, whatif_form
from ui.whatif_state import keep

FEATURE = "whatif_sweep_feature"
ON = "whatif_sweep_on"
CHART = "whatif_sweep_chart"
DEFAULT = "tenure"


@st.cache_data(max_entries=64, show_spinner="Sweeping…")
def _sweep(version: str, row_key: tuple, feature: str, settings_key: tuple, _engine, _row,
           _settings) -> pd.DataFrame:
    return W.sweep(_engine, _row, feature, _settings)


@st.cache_resource(max_entries=32, show_spinner="Averaging over the customers…")
def _partial_dependence(version: str, data_key: str, feature: str, _model,
                        _customers: pd.DataFrame) -> pd.DataFrame:
    return W.partial_dependence(_model, _customers, feature)


def sweep(eng, row: pd.Series, feature: str, settings) -> pd.DataFrame:
    """`churn.whatif.sweep`, memoised on the customer's values, the feature and the settings."""
    row_key = tuple((str(k), repr(v)) for k, v in row.items())
    settings_key = tuple(sorted(settings.to_dict().items()))
    return _sweep(eng.version, row_key, feature, settings_key, eng, row, settings)


def partial_dependence(eng, customers: pd.DataFrame, feature: str) -> pd.DataFrame:
    """`churn.whatif.partial_dependence` on the chosen customers, cached per model and data."""
    from ui import context

    return _partial_dependence(eng.version, context.frame_fingerprint(customers), feature,
                               eng.model, customers)


APPLIED = "whatif.sweep_applied"


def _apply_clicked_point(form_key: str) -> None:
    """on_select callback: the clicked point's value goes into the form, once per click (a
    selection the chart sends again, e.g. after a reset redrew it, is not applied again)."""
    event = st.session_state.get(CHART)
    points = (event or {}).get("selection", {}).get("points", [])
    feature = st.session_state.get(FEATURE, DEFAULT)
    if not points:
        st.session_state.pop(APPLIED, None)
        return
    try:
        value = W.value_from_point(feature, points[0])
    except ValueError:
        return  # a point of the faint population curve carries no value: nothing to apply
    if st.session_state.get(APPLIED) == (feature, value):
        return
    st.session_state[APPLIED] = (feature, value)
    whatif_form.apply(feature, value, form_key)


def show(eng, changed: pd.Series, customers: pd.DataFrame, settings,
         form_key: str = "whatif") -> None:
    """Draw the sweep section for the customer as edited in the form, when switched on (off by
    default: every change in the form sweeps again, about one more rescoring, so the plain
    what-if stays instant unless the user asks for the sweep)."""
    keep(FEATURE, ON)
    if not st.toggle("Show how this customer's figures change across one feature", key=ON,
                     help="Churn probability, lifetime value and the best offer at every value "
                          "of one feature. Every change in the form recomputes it."):
        return
    if FEATURE not in st.session_state:
        st.session_state[FEATURE] = DEFAULT
    feature = st.selectbox(
        "Feature to sweep", W.SWEEP_FEATURES, key=FEATURE, format_func=schema.label,
        help="Try every value of one feature for this customer (with the changes above): "
             "numbers over their whole range, categories level by level.")
    sw = sweep(eng, changed, feature, settings)
    curve = partial_dependence(eng, customers, feature)
    if len(sw) == 1 and schema.BY_NAME[feature].parent:
        parent = schema.BY_NAME[feature].parent
        st.info(f"{schema.label(feature)} needs {schema.label(parent).lower()}: this customer "
                f"has none, so it can only be “{sw['value'].iloc[0]}”. Change "
                f"{schema.label(parent).lower()} first.")
    st.plotly_chart(whatif_charts.sweep_figure(sw, curve), key=CHART,
                    on_select=partial(_apply_clicked_point, form_key), selection_mode="points",
                    config={"displayModeBar": False})
    lines = W.sweep_highlights(sw)
    st.markdown("\n".join(f"- {t}" for t in lines))
    st.caption(f"Click a point to try that value in the form. Orange: the value now. Grey dotted "
               f"line: the average churn probability when each of "
               f"{min(W.PD_SAMPLE, len(customers)):,} customers (a fixed random sample) is "
               f"given that value (partial dependence). Green offer points pay for themselves, "
               f"grey ones lose money.")
