"""Cached inputs and exports of the Retention campaign page, and its save-on-download callback.

The scored customers and their ranked offers are a `st.cache_resource` entry keyed by the model
version, a fingerprint of the customers and the business settings, so changing the budget or a
filter only re-runs the (fast) greedy selection, never the scoring. The scoring itself is the
one every page shares (`ui.context.scored`, which ranks every applicable offer): a campaign on
data the Overview has shown costs no second scoring. A resource, not data: the
ranking of 100,000 customers has about a million rows, which `st.cache_data` would unpickle on
every rerun (seconds); the page treats it as read-only.

Speed (100,000 customers): `campaign.build_campaign` and `campaign.saved_revenue_curve` start by
picking each customer's best allowed offer with a positive expected net value out of the whole
ranking (a sort of a million rows, about half a second each). The cached
`churn.campaign_ranking.PreparedRanking` keeps two smaller rankings that give exactly the same
campaigns, and its `ranking_for(offers_allowed)` hands the smallest one that is exact for the
filter. The saved-revenue curve depends on the filters only, not on the budget, so it is
cached per filter set (`curve`).

A saved batch (any size; a million customers) is planned from its inputs in the store instead
(`churn.campaign_store.StoredCampaign`: SQL picks the eligible customers, only the chosen rows'
text is fetched), built and saved the first time a campaign is planned on it under this model
and these settings. `planner` hands either; both answer the same calls (`campaign`, `curve`,
`eligible`, `top3`, `segment_values`, `customer_ids`), and each filter set's eligible customers
are kept (`eligible`), so a budget change only re-runs the greedy walk.
"""
from __future__ import annotations

import json
import threading

import numpy as np
import pandas as pd
import streamlit as st

from churn import campaign as C
from churn import campaign_store as CS
from churn.campaign_ranking import PreparedRanking
from ui.text import md


class _Scoring:
    """An engine stand-in for `campaign.campaign_inputs`: hands back a scoring already done
    (`ui.context.scored`, which ranks every applicable offer), so the campaign page does not
    score the customers a second time after the Overview did."""

    def __init__(self, done):
        self._done = done

    def score_all(self, df, settings=None, **kwargs):
        return self._done


@st.cache_resource(max_entries=4, show_spinner="Ranking the offers…")
def inputs(version: str, data_key: str, settings_key: tuple, _engine, _customers,
           _settings) -> PreparedRanking:
    """`PreparedRanking` from `campaign.campaign_inputs`, once per model, data set and settings.

    data_key must be `ui.context.frame_fingerprint(customers)` and the settings the sidebar's:
    the scoring comes from `ui.context.scored` (shared with the other pages)."""
    from ui import context

    done = context.scored(_customers, fingerprint=data_key)
    scored, ranked = C.campaign_inputs(_Scoring(done) if done.ranked is not None else _engine,
                                       _customers, _settings)
    return PreparedRanking.build(scored, ranked)


_SAVING = threading.Lock()  # one build of stored inputs at a time (several sessions may ask)
#: Stored inputs already opened, by plan key (store, batch, its save time, inputs key): a
#: replaced batch has a new save time, a deleted one is no longer offered by the sidebar.
_OPENED: dict = {}


def planner(ref, version: str, settings) -> tuple[object, tuple]:
    """(planner, cache key) of the data set ``ref`` (a `ui.state.DatasetRef`; None: the
    sample's active customers) under the active model ``version`` and the business
    ``settings``:

    - a saved batch: its `StoredCampaign` (built and saved once, with a progress bar, the first
      time; nothing per session in memory, and no engine loaded once it is stored);
    - anything else: `inputs`' `PreparedRanking` of its active customers (in memory, shared).
    """
    from churn import cache, config
    from ui import context

    db = context.store() if ref is not None and ref.kind == "saved" else None
    if db is not None:
        hit = context.saved_batches()
        hit = hit[hit["name"] == ref.name]
        created = str(hit["created"].iloc[-1]) if len(hit) else ""
        key = CS.inputs_key(version, settings, cache.file_stamp(config.paths().catalogue))
        plan_key = ("saved", str(config.paths().store), ref.name, created, key)
        found = _OPENED.get(plan_key) or CS.StoredCampaign.open(db, ref.name, key)
        if found is None:
            with _SAVING:
                found = CS.StoredCampaign.open(db, ref.name, key)   # another session's build
                if found is None:
                    found = _save_stored(db, ref, key, context.engine(), settings)
        _OPENED[plan_key] = found
        return found, plan_key
    engine = context.engine()
    customers = context.active_customers(context.customers(ref))
    cache_key = (engine.version, context.frame_fingerprint(customers), context.settings_key())
    return inputs(*cache_key, engine, customers, settings), cache_key


@st.cache_resource(max_entries=4, show_spinner=False)
def _offer_names(path: str, stamp: str) -> dict:
    from churn.offers import load_catalogue

    cat = load_catalogue(path)
    return dict(zip(cat.ids, (o.name for o in cat.offers)))


def offer_names() -> dict:
    """{offer id: name} of the data folder's offer catalogue, in catalogue order (re-read when
    the file changes), without loading the engine."""
    from churn import cache, config

    path = config.paths().catalogue
    return _offer_names(str(path), cache.file_stamp(path))


def _save_stored(db, ref, key, engine, settings):
    """Score and rank a saved batch once for campaigns, showing progress (outside any cache:
    Streamlit cannot replay a progress bar)."""
    bar = st.progress(0.0, text=f"Ranking the offers of {ref.rows:,} saved customers (once per "
                                "model and settings)…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Ranking the offers of the saved customers: "
                                                f"{done:,} of {total:,} (once per model and "
                                                "settings)…")

    try:
        frame = db.load_batch(ref.name).drop(columns="row", errors="ignore")
        return CS.save(db, ref.name, key, engine, frame, settings, progress=progress)
    finally:
        bar.empty()


@st.cache_resource(max_entries=8, show_spinner="Finding the eligible customers…")
def _eligible(plan_key: tuple, filters_json: str, _plan, _filters: dict) -> pd.DataFrame:
    return _plan.eligible(_filters)


def eligible(plan_key: tuple, plan, filters: dict) -> pd.DataFrame:
    """The eligible customers of the page's filters, in greedy order (`planner`'s
    ``eligible``), kept per filter set: budget, control share and seed do not change them.
    Read-only."""
    f = C.normalise_filters(filters.get("tiers"), filters.get("segment"),
                            filters.get("min_clv"), filters.get("offers_allowed"))
    return _eligible(plan_key, filters_key(f), plan, f)


@st.cache_resource(max_entries=8, show_spinner=False)
def _segment_values(plan_key: tuple, _plan) -> dict:
    return _plan.segment_values()


def segment_values(plan_key: tuple, plan) -> dict:
    """The planner's `segment_values()` (the filter choices), kept per planner: a million
    customers' distinct values take a tenth of a second to scan."""
    return _segment_values(plan_key, plan)


@st.cache_resource(max_entries=8, show_spinner=False)
def _control(plan_key: tuple, filters_json: str, _eligible_rows: pd.DataFrame, share: float,
             seed: int) -> np.ndarray:
    return C.assign_control(_eligible_rows[["risk_tier", "offer_id"]], share, seed)


def control(plan_key: tuple, filters: dict, eligible_rows: pd.DataFrame) -> np.ndarray:
    """The control draw over the eligible customers of the page's filters (control share and
    seed included), kept: a budget change does not redraw it. Read-only."""
    share = filters.get("control_share", C.DEFAULT_CONTROL_SHARE)
    return _control(plan_key, filters_key(filters), eligible_rows, share, filters.get("seed", 0))


def filters_key(filters: dict) -> str:
    """A hashable, order-independent key of the page's filters (tiers, segment, min_clv,
    offers_allowed)."""
    def norm(v):
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in sorted(v.items())}
        if isinstance(v, (list, tuple, set)):
            return sorted((norm(x) for x in v), key=str)
        if isinstance(v, np.generic):
            return v.item()
        return v

    return json.dumps(norm(filters), sort_keys=True, default=str)


@st.cache_resource(max_entries=64, show_spinner=False)
def curve(plan_key: tuple, filters_json: str, _plan, _filters: dict,
          _eligible_rows: pd.DataFrame) -> pd.DataFrame:
    """`campaign.saved_revenue_curve` over its default budgets (0 to the cost of offering every
    eligible treatment customer their offer), once per filter set (control share and seed
    included). Read-only."""
    return _plan.curve(None, eligible=_eligible_rows,
                       control=control(plan_key, _filters, _eligible_rows),
                       **_curve_args(_filters))


def _curve_args(filters: dict) -> dict:
    return {k: filters.get(k) for k in ("tiers", "segment", "min_clv", "offers_allowed",
                                        "control_share", "seed") if k in filters}


#: When offering every eligible customer costs more than this many times the budget, the curve
#: spans budgets up to this many times the budget: at a million customers the whole curve runs
#: to millions of dollars and a $10,000 budget sat on its first pixel.
ZOOM = 4


def curve_for(plan_key: tuple, plan, filters: dict, budget: float,
              eligible_rows: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """(the curve to draw, the cost of offering every eligible customer in dollars). The curve is
    `curve`'s, from 0 to that cost; from 0 to ``ZOOM`` × the budget when that cost is further
    away; from 0 to the budget when the budget is beyond it."""
    found = curve(plan_key, filters_key(filters), plan, filters, eligible_rows)
    top = float(found["budget"].iloc[-1]) if len(found) else 0.0
    if budget > top:
        end = budget
    elif 0 < ZOOM * budget < top:
        end = ZOOM * budget
    else:
        return found, top
    return plan.curve(np.linspace(0.0, end, 41), eligible=eligible_rows,
                      control=control(plan_key, filters, eligible_rows),
                      **_curve_args(filters)), top


def csv_bytes(rows: pd.DataFrame) -> bytes:
    """The campaign list as spreadsheet-safe CSV bytes (`campaign.to_csv_bytes`)."""
    return C.to_csv_bytes(rows)


def xlsx_bytes(rows: pd.DataFrame) -> bytes:
    """The campaign list as spreadsheet-safe .xlsx bytes (`campaign.to_excel_bytes`)."""
    return C.to_excel_bytes(rows)


def save(campaign: C.Campaign, name: str) -> None:
    """"Save campaign" button: keep the campaign (both groups, settings, sizes and date) in the
    store, on purpose; downloads never save anything (issue 16). The outcome is left in
    session state for the page to show."""
    from ui import context

    store = context.store()
    if store is None:
        st.session_state["campaign_saved"] = ("error", "The store cannot be opened right now, so "
                                              "the campaign was not saved; try again.")
        return
    if not str(name).strip():
        st.session_state["campaign_saved"] = ("error", "Give the campaign a name to save it.")
        return
    cid = C.save_campaign(store, campaign, name)
    st.session_state["campaign_saved"] = (
        "ok", f"Saved as campaign {cid}: {md(name.strip())} ({campaign.treated:,} get the offer, "
              f"{campaign.held_out:,} held out as control). Reopen it below, or measure its "
              "results on the Campaign results page.")
