"""The customer list's data source for the data set in use (cached; see `churn.customer_list`).

A saved batch is listed from its list frame in the store (built and saved the first time it is
listed under this model and these settings, then only queried: nothing per session in memory);
the sample and this session's uploads from a frame registered in an in-memory DuckDB, built once
per (data, model version, settings) and shared.
"""
from __future__ import annotations

import streamlit as st

from churn import cache, config
from churn import customer_list as cl
from ui import context, state


@st.cache_resource(show_spinner=False, max_entries=4)
def _frame_source(fingerprint: str, version: str | None, settings_key: tuple, _frame, _table):
    return cl.from_frame(cl.list_frame(_frame, _table))


def source() -> cl.Source | None:
    """The list source of the data set chosen in the sidebar (None: no model trained yet)."""
    from churn.models import active_version

    version = active_version(config.paths().models_dir)
    if version is None:
        return None
    ref = state.dataset()
    db = context.store()
    if ref is not None and ref.kind == "saved" and db is not None:
        key = cl.list_key(version, state.settings(),
                          cache.file_stamp(config.paths().catalogue))
        found = cl.from_store(db, ref.name, key)
        if found is not None:
            return found
        with st.spinner(f"Scoring {ref.rows:,} customers for the list (once per model and "
                        "settings)…"):
            frame = context.customers(ref)
            table = context.scored(frame).table
            return cl.save_for_batch(db, ref.name, key, frame, table)
    frame = context.customers(ref)
    fingerprint = context.frame_fingerprint(frame)
    table = context.scored(frame, fingerprint=fingerprint).table
    return _frame_source(fingerprint, version, context.settings_key(), frame, table)


@st.cache_data(show_spinner=False, max_entries=16)
def _facets(relation: str, rows: int, _source: cl.Source) -> dict:
    return cl.facets(_source)


def facets(source: cl.Source) -> dict:
    """`churn.customer_list.facets`, remembered per list (a distinct-value scan of a million
    rows takes a few tenths of a second; the values only change with the list)."""
    return _facets(source.relation, source.rows, source)
