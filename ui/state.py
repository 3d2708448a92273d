"""Session state, in one place: what the user has chosen, shared by every page of one session.

The sidebar (`ui.sidebar.show`) records the chosen data set and business settings here on every
run, before the page runs; pages read them with `settings()` and `dataset()`. Batches uploaded
in this session are kept here too (`add_batch` / `batches`). Keys are module constants so no page
spells a session-state key by hand.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from churn.config import BusinessSettings

SETTINGS = "choice.settings"
DATASET = "choice.dataset"
BATCHES = "session.batches"
# A data set chosen by a page (e.g. after an upload); the sidebar selects it on the next run,
# because a widget's value cannot change once it has been drawn in the current run.
PENDING_DATASET = "choice.pending_dataset"
# What the Upload & score page keeps between reruns of this session (the file's report, scores,
# a retrained model waiting for activation); never shared with other sessions.
UPLOAD = "session.upload"


@dataclass(frozen=True)
class DatasetRef:
    """Which customers the pages work on.

    kind: "active" (the sample's active base: customers still here, the default for
    decisions), "sample" (the sample's history: labelled, what the model learns from), "batch"
    (a file uploaded in this session) or "saved" (a batch saved to the store: every session
    sees it).
    name: the batch name (for the sample, "sample"). rows: number of customers.
    """

    kind: str
    name: str
    rows: int

    @property
    def key(self) -> str:
        """A stable identifier (used as the select box option)."""
        return f"{self.kind}:{self.name}"

    @property
    def label(self) -> str:
        if self.kind == "saved":
            return f"{self.name} (saved, {self.rows:,} customers)"
        if self.kind == "active":
            return f"Sample, active ({self.rows:,})"
        if self.kind == "sample":
            return f"Sample, history ({self.rows:,})"
        what = "Sample data" if self.kind == "sample" else self.name
        return f"{what} ({self.rows:,} customers)"


def settings() -> BusinessSettings:
    """The business settings chosen in the sidebar (defaults until the sidebar has run)."""
    return st.session_state.get(SETTINGS, BusinessSettings())


def set_settings(value: BusinessSettings) -> None:
    st.session_state[SETTINGS] = value


def dataset() -> DatasetRef | None:
    """The data set chosen in the sidebar (None until the sidebar has run)."""
    return st.session_state.get(DATASET)


def set_dataset(value: DatasetRef) -> None:
    st.session_state[DATASET] = value


def batches() -> dict[str, pd.DataFrame]:
    """Batches uploaded in this session: name -> canonical frame (validated rows only)."""
    return st.session_state.setdefault(BATCHES, {})


def add_batch(name: str, frame: pd.DataFrame, select: bool = True) -> DatasetRef:
    """Keep an uploaded batch for this session; with `select`, make it the data set in use.

    A name already taken gets a suffix (" (2)", " (3)", ...) rather than replacing a batch.
    """
    if not name or not name.strip():
        raise ValueError(f"batch name {name!r} is empty; give the upload a name")
    store = batches()
    base, unique, n = name.strip(), name.strip(), 1
    while unique in store:
        n += 1
        unique = f"{base} ({n})"
    store[unique] = frame
    ref = DatasetRef("batch", unique, len(frame))
    if select:
        set_dataset(ref)
        st.session_state[PENDING_DATASET] = ref.key
    return ref


def select_dataset(key: str) -> None:
    """Ask the sidebar to select the data set with this option key (``DatasetRef.key``) on the
    next run (e.g. right after a batch was saved to the store)."""
    st.session_state[PENDING_DATASET] = key


def upload_memo() -> dict:
    """This session's Upload & score page memory (see `UPLOAD`): a plain dict the page owns."""
    return st.session_state.setdefault(UPLOAD, {})
