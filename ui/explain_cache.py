"""Cached explanations and what-if figures for the "Why customers churn" and "Customer what-if"
pages.

Caching rules (docs/design.md): the scoring `Engine` comes from `ui.context.engine` (a
`st.cache_resource` keyed by the data folder and the active model version); explanations and the
tables derived from them are `st.cache_resource` entries (read-only: no copy is unpickled on
every rerun) keyed by the model version and a fingerprint of the customers (plus the sample size
and seed), so they are computed once per model version and data set. The global explanation is
also kept in the store (`churn.store`) when it is available, so a restart does not recompute it.

Chart sizes do not grow with the data: the beeswarm draws at most `BEESWARM_CUSTOMERS`
customers and the dependence chart at most `DEPENDENCE_POINTS` (repeatable samples stratified by
predicted risk, `churn.global_explain`; the page says so under each chart). The beeswarm's
figure is cached with its table, so a rerun does not build its 46 traces again.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from churn import explain as E
from churn import global_explain as G


# --- shared accessors (ui.context owns them) ----------------------------------------------------
def engine():
    """The scoring `Engine` (see `ui.context.engine`)."""
    from ui import context

    return context.engine()


def _disk():
    """The data folder's results cache (`churn.cache.results`)."""
    from churn import cache

    return cache.results()


# --- data fingerprints --------------------------------------------------------------------------
def fingerprint(df: pd.DataFrame) -> str:
    """A content hash of the frame (`ui.context.frame_fingerprint`, remembered per frame object,
    so a rerun does not hash 100,000 rows again)."""
    from ui import context

    return context.frame_fingerprint(df)


# --- chart sizes --------------------------------------------------------------------------------
#: Customers drawn in the beeswarm chart (19 points each; a sample stratified by risk,
#: `churn.global_explain.stratified_positions`).
BEESWARM_CUSTOMERS = G.BEESWARM_CUSTOMERS
#: Customers drawn in the dependence chart (drawn the same way).
DEPENDENCE_POINTS = G.DEPENDENCE_CUSTOMERS


# --- the global explanation ---------------------------------------------------------------------
# Resources, not data: `st.cache_data` would unpickle a copy of the explanation (10,000 × 19
# numbers and values) on every rerun. Callers treat the results as read-only.
@st.cache_resource(max_entries=4, show_spinner="Explaining what drives churn (first time only)…")
def _global(version: str, data_key: str, sample_size: int | None, seed: int, _model,
            _df: pd.DataFrame) -> E.Explanation:
    return E.cached_global_explanation(_model, _df, _disk(), sample_size, seed)


def global_explanation(model, df: pd.DataFrame, sample_size: int | None = E.DEFAULT_SAMPLE_SIZE,
                       seed: int = 0) -> E.Explanation:
    """The population's explanation, computed once per model version, data set and sample."""
    return _global(E.model_version(model), fingerprint(df), sample_size, seed, model, df)


@st.cache_resource(max_entries=8, show_spinner=False)
def why_tables(version: str, data_key: str, sample_size: int | None, seed: int,
               _expl: E.Explanation) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(importance, beeswarm points of `BEESWARM_CUSTOMERS` customers,
    `churn.global_explain.beeswarm_points`) of a global explanation (cached with it)."""
    return (E.global_importance(_expl),
            G.beeswarm_points(_expl, customers=BEESWARM_CUSTOMERS, seed=seed))


@st.cache_resource(max_entries=8, show_spinner=False)
def why_figures(version: str, data_key: str, sample_size: int | None, seed: int,
                _expl: E.Explanation):
    """(importance bar, beeswarm) figures of `why_tables` (read-only: Streamlit copies a figure
    before sending it)."""
    from ui import explain_charts as charts

    importance, points = why_tables(version, data_key, sample_size, seed, _expl)
    return charts.importance_bar(importance), charts.beeswarm(points)


@st.cache_resource(max_entries=32, show_spinner=False)
def dependence(version: str, data_key: str, sample_size: int | None, seed: int, feature: str,
               color_by: str, _expl: E.Explanation) -> pd.DataFrame:
    """`explain.dependence_data` of at most `DEPENDENCE_POINTS` customers of the explanation (a
    sample stratified by risk, `churn.global_explain.dependence_positions`, the same for every
    feature)."""
    return E.dependence_data(_expl.take(G.dependence_positions(_expl, DEPENDENCE_POINTS, seed)),
                             feature, color_by)


@st.cache_resource(max_entries=32, show_spinner=False)
def segments(version: str, data_key: str, sample_size: int | None, seed: int, feature: str,
             _df: pd.DataFrame, _expl: E.Explanation) -> pd.DataFrame | None:
    """Observed churn and mean predicted probability per segment of the explained customers,
    or None when the data has no Churn column."""
    if "Churn" not in _df.columns or _df["Churn"].isna().any():
        return None
    return E.segment_churn_rates(_df.loc[_expl.pp.index], feature, prob=_expl.prob)


# --- the what-if page ---------------------------------------------------------------------------
@st.cache_resource(max_entries=4, show_spinner="Scoring the customers…")
def _probabilities(version: str, data_key: str, _model, _df: pd.DataFrame) -> np.ndarray:
    return np.asarray(_model.predict_proba(_df), dtype=float)


def probabilities(model, df: pd.DataFrame) -> np.ndarray:
    """P(churn) of every customer of ``df`` (cached per model version and data)."""
    return _probabilities(E.model_version(model), fingerprint(df), model, df)


def highest_risk(model, df: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The ``n`` customers with the highest churn probability: customerID, churn_prob (0..1)."""
    prob = probabilities(model, df)
    top = np.argsort(-prob, kind="stable")[:n]
    return pd.DataFrame({"customerID": df["customerID"].astype(str).to_numpy()[top],
                         "churn_prob": prob[top]})


#: Up to this many customers the ID picker is a select box with type-ahead; above, a text box.
SELECT_LIMIT = 50_000


@st.cache_resource(max_entries=128, show_spinner=False)
def _view(version: str, row_key: str, settings_key: str, _engine, _row: pd.Series, _settings):
    from churn import whatif

    return _engine.customer_view(whatif.customer_frame(_row), _settings)


def customer_view(eng, row: pd.Series, settings):
    """`Engine.customer_view` of one customer row, memoised on the row's values and the business
    settings (so undoing a change, or a rerun with nothing changed, costs nothing).

    The view is shared, not copied: callers only read it. A resource cache keyed by two short
    digests, because a data cache's hit unpickles the whole view and hashes a long key (about
    5 ms of each what-if redraw, issue 18)."""
    row_key = _digest(tuple((str(k), repr(v)) for k, v in row.items()))
    settings_key = _digest(tuple(sorted(settings.to_dict().items())))
    return _view(eng.version, row_key, settings_key, eng, row, settings)


def _digest(values: tuple) -> str:
    return hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()
