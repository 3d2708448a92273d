"""Retention campaign: who to contact, with which offer, within a budget."""
from datetime import date
from functools import partial

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from churn import campaign as C
from churn import schema
from ui import campaign_cache, context, empty, explain_cache, state
from ui import format as fmt

st.title("Retention campaign")
st.caption("Choose who to contact and with which offer, within your budget, and export the "
           "list.")
model = empty.needs_model("Planning a campaign")

TIERS = ["High", "Medium", "Low"]
ALL = "All customers"
LIST_PAGE = 1_000   # rows of the campaign list shown at a time
PICK_LIMIT = 1_000  # customers offered in the "top 3 offers" picker


def _value_label(column: str):
    if column == "SeniorCitizen":
        return lambda v: "Yes" if int(v) == 1 else "No"
    return str


eng = explain_cache.engine()
ref = state.dataset()
customers = context.customers(ref)
settings = state.settings()
cache_key = (eng.version, context.frame_fingerprint(customers), context.settings_key())
prepared = campaign_cache.inputs(*cache_key, eng, customers, settings)
scored = prepared.scored
offer_names = dict(zip(eng.catalogue.ids, (o.name for o in eng.catalogue.offers)))

# --- filters and budget ----------------------------------------------------------------------
with st.container(border=True):
    c1, c2, c3 = st.columns(3)
    tiers = c1.multiselect("Risk tiers", TIERS, default=TIERS, key="campaign_tiers",
                           help="Only customers in these churn-risk tiers (set the thresholds in "
                                "the sidebar).")
    seg_options = [ALL] + [c for c in C.SEGMENT_COLUMNS if c in scored.columns]
    seg_col = c2.selectbox("Segment", seg_options, key="campaign_segment",
                           format_func=lambda c: c if c == ALL else schema.label(c),
                           help="Limit the campaign to customers with some values of one column.")
    segment = None
    if seg_col != ALL:
        values = sorted(pd.unique(scored[seg_col]).tolist(), key=str)
        chosen = c2.multiselect(f"{schema.label(seg_col)} is one of", values, default=values,
                                format_func=_value_label(seg_col),
                                key=f"campaign_segment_values.{seg_col}")
        segment = {seg_col: chosen}
    min_clv = c3.number_input("Minimum lifetime value ($)", min_value=0.0, value=0.0, step=100.0,
                              key="campaign_min_clv",
                              help="Leave out customers worth less than this over the value "
                                   "horizon (margin, discounted).")
    allowed = st.multiselect("Offers allowed", list(offer_names), default=list(offer_names),
                             format_func=offer_names.get, key="campaign_offers",
                             help="A customer gets their best allowed offer that is worth "
                                  "more than it costs.")
    budget = st.number_input("Budget ($)", min_value=0.0, value=10_000.0, step=500.0,
                             key="campaign_budget",
                             help="Total cost of the offers in the campaign, in dollars.")

filters = dict(tiers=None if set(tiers) == set(TIERS) else tiers, segment=segment,
               min_clv=min_clv,
               offers_allowed=None if set(allowed) == set(offer_names) else allowed)
ranking = prepared.ranking_for(filters["offers_allowed"])  # same campaign, fewer rows to sort
camp = C.build_campaign(scored, ranking, budget, **filters, business_settings=settings,
                        model_version=eng.version,
                        extra_settings={"data": ref.label if ref else "Sample data"})

# --- the list --------------------------------------------------------------------------------
m = st.columns(4)
m[0].metric("Customers to contact", fmt.count(camp.customers), border=True)
m[1].metric("Offer cost", fmt.money(camp.spent), border=True,
            help=f"Of a {fmt.money(budget)} budget.")
m[2].metric("Expected saved revenue", fmt.money_short(camp.expected_saved_revenue), border=True,
            help="Sum over the list of P(churn) × P(accept) × risk reduction × lifetime value: "
                 f"{fmt.money(camp.expected_saved_revenue)}.")
m[3].metric("Expected net value", fmt.money_short(camp.expected_net_value), border=True,
            help="Expected saved revenue minus the offers' cost: "
                 f"{fmt.money(camp.expected_net_value)}.")
st.caption("The list maximises expected net value within the budget, **greedy by value per "
           "dollar**: each customer gets their best allowed offer with a positive expected net "
           "value (saved value − cost), customers are taken in order of expected net value per "
           "dollar of offer cost, and an offer that no longer fits the budget is skipped in "
           "favour of cheaper ones further down.")

if camp.rows.empty:
    st.info("No customer qualifies with these filters and budget: widen the filters, allow more "
            "offers or raise the budget.", icon=":material/filter_alt_off:")
else:
    shown = camp.rows
    if len(camp.rows) > LIST_PAGE:  # a big budget: page through the list
        n_pages = -(-len(camp.rows) // LIST_PAGE)
        if st.session_state.get("campaign_list_page", 1) > n_pages:
            st.session_state["campaign_list_page"] = 1
        p1, p2 = st.columns([1, 3], vertical_alignment="bottom")
        list_page = int(p1.number_input(
            f"Page of the list (of {fmt.count(n_pages)})", min_value=1, max_value=n_pages,
            step=1, key="campaign_list_page",
            help=f"{LIST_PAGE:,} customers a page, in list order."))
        start = (list_page - 1) * LIST_PAGE
        shown = camp.rows.iloc[start:start + LIST_PAGE]
        p2.caption(f"Customers {fmt.count(start + 1)}–{fmt.count(start + len(shown))} of "
                   f"{fmt.count(len(camp.rows))}. The downloads below hold the whole list.")
    st.dataframe(
        shown, key="campaign_list", hide_index=True, width="stretch",
        column_config={
            "customerID": st.column_config.TextColumn("Customer"),
            "churn_prob": st.column_config.ProgressColumn("Churn risk", min_value=0.0,
                                                          max_value=1.0, format="percent"),
            "risk_tier": st.column_config.TextColumn("Tier"),
            "clv": st.column_config.NumberColumn("Lifetime value", format="dollar"),
            "revenue_at_risk": st.column_config.NumberColumn("Revenue at risk", format="dollar"),
            "offer": st.column_config.TextColumn("Offer"),
            "offer_id": None,
            "offer_cost": st.column_config.NumberColumn("Offer cost", format="dollar"),
            "reason": st.column_config.TextColumn("Why this offer", width="large"),
            "expected_net_value": st.column_config.NumberColumn("Expected net value",
                                                                format="dollar"),
            "expected_saved_value": st.column_config.NumberColumn("Expected saved value",
                                                                  format="dollar"),
            "cumulative_cost": st.column_config.NumberColumn("Cumulative cost", format="dollar"),
            "value_basis": st.column_config.TextColumn("Value basis", help=C.VALUE_BASIS_HELP),
        })

# --- charts ----------------------------------------------------------------------------------
left, right = st.columns(2)
curve = campaign_cache.curve(*cache_key, campaign_cache.filters_key(filters), prepared, filters)
top = float(curve["budget"].iloc[-1]) if len(curve) else 0.0
if budget > top:
    curve = C.saved_revenue_curve(scored, ranking, np.linspace(0.0, budget, 41), **filters)
fig = go.Figure(go.Scatter(x=curve["budget"], y=curve["expected_saved_revenue"], mode="lines",
                           name="Expected saved revenue",
                           customdata=curve["customers"],
                           hovertemplate="Budget $%{x:,.0f}<br>Saved $%{y:,.0f}<br>"
                                         "%{customdata:,} customers<extra></extra>"))
fig.add_trace(go.Scatter(x=[budget], y=[camp.expected_saved_revenue], mode="markers",
                         marker=dict(size=11), name="Your budget",
                         hovertemplate="Your budget $%{x:,.0f}<br>Saved $%{y:,.0f}<extra></extra>"))
fig.update_layout(title="Expected saved revenue against budget", xaxis_title="Budget ($)",
                  yaxis_title="Expected saved revenue ($)", showlegend=False,
                  margin=dict(l=10, r=10, t=50, b=10), height=360)
left.plotly_chart(fig, key="campaign_curve", width="stretch")

mix = C.offers_mix(camp)
fig = go.Figure(go.Bar(x=mix["customers"], y=mix["offer"], orientation="h",
                       customdata=mix["cost"],
                       hovertemplate="%{y}<br>%{x:,} customers<br>Cost $%{customdata:,.0f}"
                                     "<extra></extra>"))
fig.update_layout(title="Offers mix", xaxis_title="Customers", yaxis=dict(autorange="reversed"),
                  margin=dict(l=10, r=10, t=50, b=10), height=360)
right.plotly_chart(fig, key="campaign_mix", width="stretch")

# --- one customer's top 3 --------------------------------------------------------------------
st.subheader("A customer's top 3 offers")
pick_from = (camp.rows["customerID"] if len(camp.rows) else scored["customerID"].astype(str))
who = st.selectbox("Customer", pick_from.iloc[:PICK_LIMIT].tolist(), key="campaign_customer",
                   help="Customers in the campaign, in list order"
                        + (f" (the first {PICK_LIMIT:,})." if len(pick_from) > PICK_LIMIT
                           else "."))
mine = prepared.top3(who)
st.dataframe(pd.DataFrame({
    "Rank": mine["rank"].astype(int).to_numpy(),
    "Offer": mine["offer_name"].to_numpy(),
    "Rule part (risk driver)": mine["rule_reason"].where(mine["rule_reason"] != "",
                                                         "No rule proposed it").to_numpy(),
    "Collaborative part (chance of acceptance)": [fmt.pct(v) for v in mine["p_accept"]],
    "Expected saved value": [fmt.money(v) for v in mine["expected_saved_value"]],
    "Offer cost": [fmt.money(v) for v in mine["offer_cost"]],
    "Expected net value": [fmt.money(v) for v in mine["expected_net_value"]],
}), key="campaign_top3", hide_index=True, width="stretch")
st.caption("Expected net value = P(churn) × P(accept) × risk reduction × lifetime value − offer "
           "cost. Offers proposed by a rule (one of the customer's own risk drivers) rank ahead; "
           f"others count {C.UNPROPOSED_WEIGHT:.0%} of their saved value when ranking.")

# --- export ----------------------------------------------------------------------------------
st.subheader("Export")
name = st.text_input("Campaign name", value=f"Campaign {date.today():%Y-%m-%d}",
                     key="campaign_name", help="Each download is saved under this name with "
                                               "its settings, so it can be reopened below.")
slug = "".join(ch if ch.isalnum() else "_" for ch in name).strip("_") or "campaign"
d1, d2 = st.columns(2)
# The files are written when a button is pressed (a callable), not on every rerun.
d1.download_button("Download CSV", partial(campaign_cache.csv_bytes, camp.rows),
                   file_name=f"{slug}.csv", mime="text/csv",
                   key="campaign_csv", on_click=campaign_cache.save, args=(camp, name, "csv"),
                   icon=":material/download:", width="stretch")
d2.download_button("Download Excel", partial(campaign_cache.xlsx_bytes, camp.rows),
                   file_name=f"{slug}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   key="campaign_xlsx", on_click=campaign_cache.save, args=(camp, name, "xlsx"),
                   icon=":material/download:", width="stretch")
st.caption("Text cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab "
           "or carriage return) are written with a leading ' so they stay text.")
if msg := st.session_state.pop("campaign_saved", None):
    st.success(msg, icon=":material/save:")

# --- past campaigns --------------------------------------------------------------------------
st.subheader("Past campaigns")
store = context.store()
past = store.list_campaigns() if store is not None else None
if past is None or len(past) == 0:
    st.caption("Campaigns you download are kept here, with their settings, to download again.")
else:
    st.dataframe(past, key="campaign_past", hide_index=True, width="stretch")
    ids = past["id"].tolist()
    labels = dict(zip(ids, past["name"].astype(str)))
    chosen = st.selectbox("Reopen", ids, format_func=lambda i: f"{i}: {labels[i]}",
                          key="campaign_reopen")
    old = C.reopen_campaign(store, chosen)
    st.caption(f"{fmt.count(old.customers)} customers, offer cost {fmt.money(old.spent)} of a "
               f"{fmt.money(old.settings.get('budget'))} budget, model "
               f"{old.settings.get('model_version') or 'unknown'}.")
    with st.expander("Settings of this campaign"):
        st.json(old.settings)
    oslug = "".join(ch if ch.isalnum() else "_" for ch in labels[chosen]).strip("_") or "campaign"
    r1, r2 = st.columns(2)
    r1.download_button("Download CSV again", partial(campaign_cache.csv_bytes, old.rows),
                       file_name=f"{oslug}.csv",
                       mime="text/csv", key="campaign_reopen_csv", on_click="ignore",
                       icon=":material/download:", width="stretch")
    r2.download_button("Download Excel again", partial(campaign_cache.xlsx_bytes, old.rows),
                       file_name=f"{oslug}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="campaign_reopen_xlsx", on_click="ignore",
                       icon=":material/download:", width="stretch")
