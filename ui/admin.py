"""The admin gate of the app: retraining, switching the model in use and deleting saved data need
the admin password when one is configured.

The password comes from the environment (``CHURN_ADMIN_PASSWORD``) or from
``.streamlit/secrets.toml`` (``admin_password = "..."``); with neither, the gate is open (a
workbench on one analyst's laptop needs no password). It is asked once per browser session
(`unlocked` remembers it in session state) and compared in constant time. This protects the
actions, not the reading: for who may open the app at all, put it behind single sign-on (README,
"Who may use the app").
"""
from __future__ import annotations

import hmac
import os

import streamlit as st

ENV = "CHURN_ADMIN_PASSWORD"
SECRET = "admin_password"
SESSION_KEY = "admin.unlocked"
MSG_WRONG = "That is not the admin password."
MSG_LOCKED = ("Retraining, switching the model in use and deleting saved data need the admin "
              "password. Ask your workbench administrator.")


def configured_password() -> str | None:
    """The admin password from the environment, else from the secrets file, else None."""
    value = os.environ.get(ENV)
    if value:
        return value
    try:
        value = st.secrets.get(SECRET)
    except Exception:  # noqa: BLE001 - no secrets file at all: no password
        return None
    return str(value) if value else None


def allowed() -> bool:
    """True when admin actions may run now (no password configured, or entered this session);
    draws nothing. For callbacks, which run before the page."""
    return not configured_password() or bool(st.session_state.get(SESSION_KEY))


def unlocked(key: str, what: str = "This action") -> bool:
    """True when admin actions may be shown: no password is configured, or it was entered in
    this session. Otherwise draws a password field (widget key ``<key>_password``) with a line
    saying that ``what`` needs it, and returns False until the right password is typed (then the
    page reruns without the field)."""
    if allowed():
        return True
    password = configured_password()
    with st.container(key=f"{key}-gate"):
        entered = st.text_input("Admin password", type="password", key=f"{key}_password",
                                help=MSG_LOCKED)
        if entered:
            if hmac.compare_digest(entered.encode("utf-8"), password.encode("utf-8")):
                st.session_state[SESSION_KEY] = True
                st.rerun()
            st.error(MSG_WRONG, icon=":material/lock:")
        else:
            st.caption(f":material/lock: {what} needs the admin password. Ask your workbench "
                       "administrator.")
    return False
