"""Tables of the Retention campaign page: the list's column settings, paging through a long
list, one customer's top-3 offers, and the saved campaigns. Layout helpers only: every figure
comes from `churn.campaign`."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from churn import campaign as C
from churn import schema
from ui import format as fmt

TIERS = ["High", "Medium", "Low"]
ALL = "All customers"

LIST_PAGE = 1_000  # rows of the campaign list shown at a time

#: Key columns first (who, group, what, the figures that rank it), so they are on screen at
#: 1440 px; the long reason after them.
LIST_ORDER = [schema.ID, "group", "offer", "churn_prob", "expected_net_value", "clv",
              "offer_cost", "value_basis", "reason", "risk_tier", "expected_saved_value",
              "revenue_at_risk", "cumulative_cost"]


def list_config() -> dict:
    """`st.dataframe` column settings of the campaign list (business names, money in dollars)."""
    return {
        schema.ID: st.column_config.TextColumn("Customer"),
        "group": st.column_config.TextColumn(
            "Group", help="treatment: gets the offer. control: held out at random, gets nothing; "
                          "comparing the two later measures what the offers did."),
        "churn_prob": st.column_config.ProgressColumn("Churn risk", min_value=0.0,
                                                      max_value=100.0, format=fmt.PERCENT),
        "risk_tier": st.column_config.TextColumn("Tier"),
        "clv": st.column_config.NumberColumn("Lifetime value", format="dollar"),
        "revenue_at_risk": st.column_config.NumberColumn("Revenue at risk", format="dollar"),
        "offer": st.column_config.TextColumn("Offer (would-be offer for control)"),
        "offer_id": None,
        "offer_cost": st.column_config.NumberColumn("Offer cost", format="dollar"),
        "reason": st.column_config.TextColumn("Why this offer", width="large"),
        "expected_net_value": st.column_config.NumberColumn("Expected net value",
                                                            format="dollar"),
        "expected_saved_value": st.column_config.NumberColumn("Expected saved value",
                                                              format="dollar"),
        "cumulative_cost": st.column_config.NumberColumn("Cumulative cost", format="dollar"),
        "value_basis": st.column_config.TextColumn("Value basis", help=C.VALUE_BASIS_HELP),
    }


#: Shares shown in percent (`ui.format.PERCENT`) in the campaign list and the saved campaigns.
PERCENT_COLUMNS = ("churn_prob", "control_share")


def page_of(rows: pd.DataFrame, key: str = "campaign_list_page") -> pd.DataFrame:
    """The rows to show: all of them, or (a long list) one page chosen with a number input;
    shares in percent for `list_config`."""
    if len(rows) <= LIST_PAGE:
        return fmt.percent_columns(rows, PERCENT_COLUMNS)
    n_pages = -(-len(rows) // LIST_PAGE)
    if st.session_state.get(key, 1) > n_pages:
        st.session_state[key] = 1
    p1, p2 = st.columns([1, 3], vertical_alignment="bottom")
    page = int(p1.number_input(f"Page of the list (of {fmt.count(n_pages)})", min_value=1,
                               max_value=n_pages, step=1, key=key,
                               help=f"{LIST_PAGE:,} customers a page, in list order."))
    start = (page - 1) * LIST_PAGE
    shown = rows.iloc[start:start + LIST_PAGE]
    p2.caption(f"Customers {fmt.count(start + 1)}–{fmt.count(start + len(shown))} of "
               f"{fmt.count(len(rows))}. The downloads hold the whole list.")
    return fmt.percent_columns(shown, PERCENT_COLUMNS)


def top3_table(mine: pd.DataFrame) -> pd.DataFrame:
    """One customer's ranked offers (rows of `campaign.rank_offers`) as the page shows them."""
    return pd.DataFrame({
        "Rank": mine["rank"].astype(int).to_numpy(),
        "Offer": mine["offer_name"].to_numpy(),
        "Expected net value": [fmt.money(v) for v in mine["expected_net_value"]],
        "Expected saved value": [fmt.money(v) for v in mine["expected_saved_value"]],
        "Offer cost": [fmt.money(v) for v in mine["offer_cost"]],
        "Collaborative part (chance of acceptance)": [fmt.pct(v) for v in mine["p_accept"]],
        "Rule part (risk driver)": mine["rule_reason"].where(mine["rule_reason"] != "",
                                                             "No rule proposed it").to_numpy(),
    })


def saved_table(past: pd.DataFrame) -> pd.DataFrame:
    """`campaign.saved_campaigns` as shown (shares in percent for `saved_config`)."""
    return fmt.percent_columns(past, PERCENT_COLUMNS)


def saved_config() -> dict:
    """Column settings of `campaign.saved_campaigns`."""
    return {
        "id": st.column_config.NumberColumn("Id", format="%d"),
        "name": st.column_config.TextColumn("Name"),
        "date": st.column_config.TextColumn("Date"),
        "data": st.column_config.TextColumn("Customers"),
        "budget": st.column_config.NumberColumn("Budget", format="dollar"),
        "control_share": st.column_config.NumberColumn("Control share", format=fmt.PERCENT),
        "seed": st.column_config.NumberColumn("Seed", format="%d"),
        "treatment": st.column_config.NumberColumn("Treatment", format="localized"),
        "control": st.column_config.NumberColumn("Control", format="localized"),
        "spent": st.column_config.NumberColumn("Spent", format="dollar"),
        "model_version": None,
    }


def slug(name: str) -> str:
    """A file name for a campaign's downloads."""
    return "".join(ch if ch.isalnum() else "_" for ch in str(name)).strip("_") or "campaign"


def sizes_line(camp: C.Campaign) -> str:
    """"369 customers: 332 get the offer, 37 held out as control (10%)."""
    share = camp.held_out / camp.customers if camp.customers else 0.0
    return (f"{fmt.count(camp.customers)} customers: {fmt.count(camp.treated)} get the offer, "
            f"{fmt.count(camp.held_out)} held out as control ({fmt.pct(share)}).")


def filters_form(segment_values: dict, offer_names: dict) -> tuple[dict, float]:
    """The page's filters, budget and control-group settings; returns (filters, budget) where
    filters are `campaign.build_campaign`'s keyword arguments (tiers, segment, min_clv,
    offers_allowed, control_share, seed). segment_values: {segment column: its values} (the
    planner's `segment_values()`)."""
    with st.container(border=True):
        c1, c2, c3 = st.columns(3)
        tiers = c1.multiselect("Risk tiers", TIERS, default=TIERS, key="campaign_tiers",
                               help="Only customers in these churn-risk tiers (set the thresholds in "
                                    "the sidebar).")
        seg_col = c2.selectbox("Segment", [ALL] + [c for c in C.SEGMENT_COLUMNS if c in segment_values],
                               key="campaign_segment",
                               format_func=lambda c: c if c == ALL else schema.label(c),
                               help="Limit the campaign to customers with some values of one column.")
        segment = None
        if seg_col != ALL:
            values = list(segment_values[seg_col])
            chosen = c2.multiselect(f"{schema.label(seg_col)} is one of", values, default=values,
                                    format_func=lambda v: ("Yes" if int(v) == 1 else "No")
                                    if seg_col == "SeniorCitizen" else str(v),
                                    key=f"campaign_segment_values.{seg_col}")
            segment = {seg_col: chosen}
        min_clv = c3.number_input("Minimum lifetime value ($)", min_value=0.0, value=0.0, step=100.0,
                                  format="%.0f",
                                  key="campaign_min_clv", help="Leave out customers worth less than "
                                  "this over the value horizon (margin, discounted).")
        allowed = st.multiselect("Offers allowed", list(offer_names), default=list(offer_names),
                                 format_func=offer_names.get, key="campaign_offers",
                                 help="A customer gets their best allowed offer that is worth "
                                      "more than it costs.")
        b1, b2, b3 = st.columns([2, 2, 1])
        # whole dollars; Streamlit's number input cannot show thousands separators (its format
        # must read back as a number), so the summary under the cards repeats it as $10,000
        budget = b1.number_input("Budget ($)", min_value=0.0, value=10_000.0, step=500.0,
                                 format="%.0f",
                                 key="campaign_budget", help="Total cost of the offers made (the "
                                 "treatment group); the control group costs nothing.")
        share = b2.slider("Control group", 0, 50, 10, 5, format="%d%%", key="campaign_control",
                          help="Control group: customers picked at random from the list who get no "
                               "offer, so that comparing their churn with the others' later "
                               "measures what the offers really did. Drawn within each risk tier "
                               "and offer; the list is extended so the budget still goes to "
                               "customers who get an offer.") / 100.0
        seed = int(b3.number_input("Seed", min_value=0, value=0, step=1, key="campaign_seed",
                                   help="The same seed draws the same control group."))

    filters = dict(tiers=None if set(tiers) == set(TIERS) else tiers, segment=segment,
                   min_clv=min_clv, control_share=share, seed=seed,
                   offers_allowed=None if set(allowed) == set(offer_names) else allowed)
    return filters, budget


def metrics(camp: C.Campaign, budget: float) -> None:
    """The campaign's headline figures: both group sizes, cost, expected saved and net value."""
    m = st.columns(5)
    m[0].metric("To contact", fmt.count(camp.treated), border=True,
                help="Customers to contact: the treatment group, who get the offer.")
    m[1].metric("Control group", fmt.count(camp.held_out), border=True,
                help="Customers held out at random (no offer, no cost) to measure the effect.")
    m[2].metric("Offer cost", fmt.money(camp.spent), border=True,
                help=f"Of a {fmt.money(budget)} budget; the treatment group only.")
    m[3].metric("Expected saving", fmt.money_short(camp.expected_saved_revenue), border=True,
                help="Expected saved revenue: the sum over the treatment group of P(churn) × "
                     "P(accept) × risk reduction × "
                     f"lifetime value: {fmt.money(camp.expected_saved_revenue)}.")
    m[4].metric("Expected net value", fmt.money_short(camp.expected_net_value), border=True,
                help="Expected saved revenue minus the offers' cost: "
                     f"{fmt.money(camp.expected_net_value)}.")
