"""The what-if page's comparison: pin up to four customers (real or edited) and see them side by
side: probability, tier, lifetime value, top three drivers, best offer, and the features on
which they differ, with every difference from the first pinned customer highlighted.

The figures come from `churn.whatif.pinned_profiles` (one batch through the engine, cached);
the pins live in `ui.whatif_state`.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from churn import explain as E
from churn import schema
from churn import whatif as W
from ui import format as fmt
from ui import whatif_state

PIN = "whatif_pin"
TABLE = "whatif_pins_table"
HIGHLIGHT = "background-color: #fff3cd; font-weight: 600"
ASPECTS = {"churn_prob": "Churn probability", "risk_tier": "Risk tier", "clv": "Lifetime value",
           "driver_1": "Top driver 1", "driver_2": "Top driver 2", "driver_3": "Top driver 3",
           "offer_name": "Best offer", "offer_net_value": "Best offer's net value"}


@st.cache_data(max_entries=32, show_spinner=False)
def _profiles(version: str, key: tuple, settings_key: tuple, _eng, _pins, _settings):
    return W.pinned_profiles(_eng, [p["customer"] for p in _pins], [p["label"] for p in _pins],
                             _settings)


def _text(column: str, value) -> str:
    if column == "churn_prob":
        return fmt.pct(value)
    if column in ("clv", "offer_net_value"):
        return fmt.money(value)
    if column in schema.FEATURES:
        return E.display_value(column, value)
    return "—" if value in ("", None) else str(value)


def table(profiles: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(shown table, highlight mask): one row per aspect (the figures, then only the features on
    which the pinned customers differ), one column per pinned customer; the mask is True where
    a value differs from the first pinned customer's."""
    differ = W.differing(profiles)
    rows = list(ASPECTS) + [f for f in schema.FEATURES if differ.get(f)]
    names = [ASPECTS.get(r) or schema.label(r) for r in rows]
    cols = [f"{i + 1}. {lab}" for i, lab in enumerate(profiles["label"])]
    shown = pd.DataFrame([[_text(r, v) for v in profiles[r]] for r in rows], index=names,
                         columns=cols)
    mask = shown.ne(shown.iloc[:, 0], axis=0)
    return shown, mask


def _pin(label: str, customer: pd.Series) -> None:
    """The pin button's callback (runs before the page, so the button and table agree)."""
    if not whatif_state.pin(label, customer):
        st.toast("This customer, with these values, is pinned already.")


def show(eng, changed: pd.Series, is_changed: bool, settings) -> None:
    """Pin button, the side-by-side table and the unpin buttons."""
    pins = whatif_state.pins()
    cid = str(changed.get(schema.ID, ""))
    label = f"{cid} (edited)" if is_changed else cid
    full = len(pins) >= W.MAX_PINS
    st.button(f"Pin {label}", key=PIN, icon=":material/push_pin:", disabled=full,
              on_click=_pin, args=(label, changed),
              help="Keep this customer, as now shown, for the side-by-side comparison "
                   f"(up to {W.MAX_PINS}).")
    if full:
        st.caption(f"{W.MAX_PINS} customers pinned: unpin one to pin another.")
    if not pins:
        st.caption("Pin customers (real, or as edited in the form) to see them side by side.")
        return
    key = tuple((p["label"], tuple((k, repr(v)) for k, v in p["customer"].items()))
                for p in pins)
    prof = _profiles(eng.version, key, tuple(sorted(settings.to_dict().items())), eng, pins,
                     settings)
    shown, mask = table(prof)
    st.dataframe(shown.style.apply(lambda _: mask.replace({True: HIGHLIGHT, False: ""}),
                                   axis=None), key=TABLE)
    st.caption("Highlighted: values that differ from customer 1. Features are listed only where "
               "the pinned customers differ.")
    cols = st.columns(W.MAX_PINS)
    for i, p in enumerate(pins):
        cols[i].button(f"Unpin {i + 1}", key=f"whatif_unpin_{i}", on_click=whatif_state.unpin,
                       args=(i,), icon=":material/close:", help=f"Remove {p['label']}")
