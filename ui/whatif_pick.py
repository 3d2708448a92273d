"""Where the what-if page finds its customers: the one to edit, the 20 at highest risk, and the
customers the sweep's average curve is computed over.

A frame of this process (the sample, an upload) is used as it is. A saved batch stays in the
store (issue 15: a million customers are never loaded): the highest-risk list is a top-N query
over its stored customer list, the chosen customer is one row fetched by ID, and the sweep
averages over a repeatable random sample fetched from the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd
import streamlit as st

from churn import customer_list as cl
from churn import schema
from ui import context, state
from ui import customer_list as ui_list
from ui import explain_cache as cache

#: Customers fetched for the sweep's average curve of a saved batch (it averages over
#: `churn.whatif.PD_SAMPLE` of them, chosen at random with its own seed).
SWEEP_SAMPLE = 2_000


@dataclass(frozen=True)
class Picker:
    """count: customers still here; ids: their IDs when few enough to list (else None: type
    one); top: the 20 at highest risk (customerID, churn_prob); find(id): that customer's row
    (None when not among them); sweep_customers: a frame the sweep averages over."""

    count: int
    ids: list | None
    top: pd.DataFrame
    find: Callable[[str], pd.Series | None]
    sweep_customers: pd.DataFrame


def picker(model) -> Picker:
    """The `Picker` of the data set chosen in the sidebar (never a customer who has left)."""
    ref = state.dataset()
    if ref is not None and ref.kind == "saved":
        return _saved(ref)
    customers = context.active_customers()
    ids = customers[schema.ID].astype(str)

    def find(customer_id: str):
        match = customers.index[ids.to_numpy() == customer_id]
        return customers.loc[match[0]] if len(match) else None

    return Picker(len(customers), ids.tolist() if len(ids) <= cache.SELECT_LIMIT else None,
                  cache.highest_risk(model, customers, 20) if len(customers) else None, find,
                  customers)


def _saved(ref) -> Picker:
    from churn.population import active

    source = ui_list.source()
    count = context.population(ref).active
    db = context.store()
    key = (context.data_key(ref), source.relation, source.rows)

    def find(customer_id: str):
        got = active(db.find_customers(ref.name, [customer_id]).drop(columns="row",
                                                                       errors="ignore"))
        return got.iloc[0] if len(got) else None

    return Picker(count, _ids(key, source), _top(key, source), find,
                  active(context.saved_sample(ref, SWEEP_SAMPLE)))


@st.cache_data(show_spinner=False, max_entries=8)
def _top(key: tuple, _source) -> pd.DataFrame:
    return cl.top_risk(_source, 20)


@st.cache_data(show_spinner=False, max_entries=8)
def _ids(key: tuple, _source) -> list | None:
    return cl.still_here_ids(_source, cache.SELECT_LIMIT)
