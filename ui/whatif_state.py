"""What the Customer what-if page remembers while the user visits other pages.

Streamlit forgets the value of every widget that was not drawn on the last run, so the form's
values (``whatif_tenure``, …), the chosen customer and the section controls would be gone after a
visit to another page (issue 17: "st.session_state has no key 'whatif_gender'"). Each such value
is mirrored here in a dict of our own (``st.session_state["whatif.kept"][<key>]``), which Streamlit
never drops: `keep` copies a widget's value to its mirror while the widget exists and puts it
back before the widget is drawn again; `put` sets both (for callbacks and resets). One dict, not
a session-state key per widget: Streamlit copies the whole session state for every keyed widget
it draws (``SessionState.filtered_state``), so each extra key costs every widget of every redraw
(issue 18).

The pinned customers of the comparison view (up to `churn.whatif.MAX_PINS`) live here too.
"""
from __future__ import annotations

import streamlit as st

MIRROR = "whatif.kept"
PINS = "whatif.pins"


def _mirror() -> dict:
    return st.session_state.setdefault(MIRROR, {})


def keep(*keys: str) -> None:
    """For each widget key: remember its value, or restore the remembered one when Streamlit
    dropped it. Call before the widgets are drawn."""
    mirror = _mirror()
    for key in keys:
        if key in st.session_state:
            mirror[key] = st.session_state[key]
        elif key in mirror:
            st.session_state[key] = mirror[key]


def put(key: str, value) -> None:
    """Set a widget's value and its mirror (before the widget is drawn, or in a callback)."""
    st.session_state[key] = value
    _mirror()[key] = value


def pins() -> list[dict]:
    """The pinned customers: dicts with ``label`` and ``customer`` (a canonical row as a dict)."""
    return st.session_state.setdefault(PINS, [])


def pin(label: str, customer) -> bool:
    """Pin a customer (real or edited) under ``label``; False when four are pinned already or
    the same customer with the same values is pinned."""
    from churn.whatif import MAX_PINS

    row = dict(customer.items()) if hasattr(customer, "items") else dict(customer)
    current = pins()
    if len(current) >= MAX_PINS or any(_same_row(p["customer"], row) for p in current):
        return False
    current.append({"label": label, "customer": row})
    return True


def unpin(index: int) -> None:
    """Remove the pinned customer at ``index`` (no-op when out of range)."""
    current = pins()
    if 0 <= index < len(current):
        del current[index]


def _same_row(a: dict, b: dict) -> bool:
    from churn.whatif import _same

    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
