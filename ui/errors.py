"""The page-level guard: no Python traceback ever reaches a user.

`app.py` runs the sidebar and the page inside `guard(...)`. An exception becomes one short
message that says what happened and what to do; the full traceback goes to the server log
(logger ``churn.app``) with a reference code the message quotes, so support can find it.

Streamlit's own control flow (`st.stop`, `st.rerun`, `st.switch_page`) raises
`BaseException` subclasses, which pass through untouched.
"""
from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager

import streamlit as st

from ui.text import md

log = logging.getLogger("churn.app")

# The error box sits in a container with this key, so tests can tell "the page failed"
# apart from a deliberate st.error (CSS class ``st-key-page-error`` in the browser).
ERROR_KEY = "page-error"


def user_message(exc: BaseException, where: str = "this page") -> str:
    """What to tell a business user about `exc` (no traceback, no internals).

    ValueError messages from the core are written for people (they name the value and the
    likely cause), so they are shown; other exception texts are not. Texts that may quote
    user input (error messages, file names) are escaped (`ui.text.md`): the result is markdown.
    """
    if isinstance(exc, FileNotFoundError):
        name = md(exc.filename or str(exc))
        return (f"A file {where} needs is missing: {name}. Run `make run` again (it prepares the "
                "sample data), or check that CHURN_DATA_DIR points at the right folder.")
    if isinstance(exc, PermissionError):
        name = md(exc.filename) if exc.filename else "the data folder"
        return (f"The app is not allowed to read or write {name}. Check the folder's "
                "permissions, or point CHURN_DATA_DIR at a folder the app can write to.")
    if isinstance(exc, MemoryError):
        return ("This data set is too large to handle here. Score big files from the command "
                "line with `python -m churn score FILE --out OUT` (it works in chunks).")
    if isinstance(exc, ValueError) and str(exc):
        return f"{where[0].upper() + where[1:]} could not be shown: {md(exc)}"
    return (f"Something went wrong on {where}. Your data are safe: try again, change the "
            "settings or pick another data set.")


def report(exc: BaseException, where: str = "this page") -> str:
    """Log `exc` with its traceback and show the user message; return the reference code."""
    ref = uuid.uuid4().hex[:8]
    log.error("error on %s (reference %s)", where, ref, exc_info=exc)
    with st.container(key=ERROR_KEY if where == "this page" else f"{ERROR_KEY}-{ref}"):
        st.error(f"{user_message(exc, where)}\n\nIf it keeps happening, quote reference "
                 f"`{ref}` to your administrator (details are in the server log).",
                 icon=":material/error:")
    return ref


@contextmanager
def guard(where: str = "this page"):
    """Run the body; turn any ordinary exception into a message (see `report`)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - this is the last line of defence
        report(exc, where)
