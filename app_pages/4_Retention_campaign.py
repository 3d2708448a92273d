"""Retention campaign: who to contact, with which offer, within a budget, and who to hold out."""
from datetime import date
from functools import partial

import streamlit as st

from churn import campaign as C
from ui import campaign_cache, campaign_charts, context, empty, state
from ui import campaign_view as view
from ui import format as fmt
from ui.navigation import RESULTS
from ui.text import md

st.title("Retention campaign")
ref = state.dataset()
st.caption("Choose who to contact and with which offer, within your budget, hold out a control "
           f"group, and export the list. {context.population_line()} Customers who have "
           "left are never on the list.")
model = empty.needs_model("Planning a campaign")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
settings = state.settings()
# A saved batch is planned from its inputs in the store (SQL; any size), anything else in memory.
plan, plan_key = campaign_cache.planner(ref, model.version, settings)
offer_names = campaign_cache.offer_names()

# --- filters, budget and control group ---------------------------------------------------------
filters, budget = view.filters_form(campaign_cache.segment_values(plan_key, plan),
                                   offer_names)
eligible = campaign_cache.eligible(plan_key, plan, filters)  # kept per filter set
camp = plan.campaign(budget, eligible=eligible, **filters, business_settings=settings,
                     control=campaign_cache.control(plan_key, filters, eligible),
                     model_version=model.version,
                     extra_settings={"data": ref.label if ref else "Sample data"})

# --- the figures, then save and download -------------------------------------------------------
view.metrics(camp, budget)
st.caption(f"{view.sizes_line(camp)} The list maximises expected net value within the "
           f"{md(fmt.money(budget))} budget, "
           "**greedy by value per dollar**; an offer that no longer fits is skipped in favour of "
           "cheaper ones further down.")
if camp.warning:
    st.warning(camp.warning, icon=":material/warning:")

s1, s2, s3, s4 = st.columns([3, 1.4, 1.4, 1.4], vertical_alignment="bottom")
name = s1.text_input("Campaign name", value=f"Campaign {date.today():%Y-%m-%d}",
                     key="campaign_name", help="Saved campaigns keep this name, the customers, "
                     "budget, control share, seed, group sizes and date.")
# Saved in the script body, not in an on_click callback: a callback's arguments are those of the
# previous run, so a name or budget typed just before the click would be lost.
if s2.button("Save campaign", key="campaign_save", icon=":material/save:", width="stretch",
             type="primary"):
    campaign_cache.save(camp, name)
s3.download_button("CSV", partial(campaign_cache.csv_bytes, camp.rows), on_click="ignore",
                   file_name=f"{view.slug(name)}.csv", mime="text/csv", key="campaign_csv",
                   icon=":material/download:", width="stretch")
s4.download_button("Excel", partial(campaign_cache.xlsx_bytes, camp.rows), on_click="ignore",
                   file_name=f"{view.slug(name)}.xlsx", mime=XLSX, key="campaign_xlsx",
                   icon=":material/download:", width="stretch")
if saved := st.session_state.pop("campaign_saved", None):
    (st.success if saved[0] == "ok" else st.error)(saved[1], icon=":material/save:")
st.caption("Downloads are safe to open in a spreadsheet: nothing in them runs as a formula (in "
           "the CSV, text starting with =, +, -, @, tab or carriage return gets a leading '; in "
           "Excel such cells are stored as text). The Excel file has plain-English headers; the "
           "CSV keeps the column names other systems import. After the outcome window, add a "
           "`churned` column (Yes/No) to either and load it on the Campaign results page.")

if camp.rows.empty:
    st.info("No customer qualifies with these filters and budget: widen the filters, allow more "
            "offers or raise the budget.", icon=":material/filter_alt_off:")
else:
    st.dataframe(view.page_of(camp.rows), key="campaign_list", hide_index=True, width="stretch",
                 column_order=view.LIST_ORDER, column_config=view.list_config())

# --- charts ------------------------------------------------------------------------------------
left, right = st.columns(2)
curve, whole = campaign_cache.curve_for(plan_key, plan, filters, budget, eligible)
left.plotly_chart(campaign_charts.curve_figure(curve, budget, camp.expected_saved_revenue),
                  key="campaign_curve", width="stretch")
if whole > curve["budget"].iloc[-1]:
    left.caption(f"Budgets up to {campaign_cache.ZOOM}× yours. Offering every eligible customer "
                 f"their offer would cost {md(fmt.money_short(whole))}.")
right.plotly_chart(campaign_charts.mix_figure(C.offers_mix(camp)), key="campaign_mix",
                   width="stretch")

# --- one customer's top 3 ----------------------------------------------------------------------
st.subheader("A customer's top 3 offers")
pick_from = (camp.rows["customerID"].iloc[:1000].tolist() if len(camp.rows)
             else plan.customer_ids(1000))
who = st.selectbox("Customer", pick_from, key="campaign_customer",
                   help="Customers on the list, in list order (at most the first 1,000).")
st.dataframe(view.top3_table(plan.top3(who)), key="campaign_top3", hide_index=True,
             width="stretch")
st.caption("Expected net value = the drop in churn risk the offer brings × lifetime value − "
           "offer cost. The drop is the uplift learned from past campaigns where they measured "
           "the offer, else P(churn) × P(accept) × the catalogue's risk reduction. Offers with an "
           "assumed effect that a rule proposed (one of the customer's own risk drivers) rank "
           f"ahead; others count {C.UNPROPOSED_WEIGHT:.0%} of their saved value when ranking.")

# --- saved campaigns ---------------------------------------------------------------------------
st.subheader("Saved campaigns")
store = context.store()
past = C.saved_campaigns(store) if store is not None else None
if past is None or len(past) == 0:
    st.caption("Campaigns you save (button above) are kept here with their settings, to "
               "download again and to measure their results.")
else:
    st.dataframe(view.saved_table(past), key="campaign_past", hide_index=True, width="stretch",
                 column_config=view.saved_config())
    labels = dict(zip(past["id"], past["name"].astype(str)))
    chosen = st.selectbox("Reopen", list(labels), format_func=lambda i: f"{i}: {labels[i]}",
                          key="campaign_reopen")
    old = C.reopen_campaign(store, chosen)
    st.caption(f"{view.sizes_line(old)} Offer cost {fmt.money(old.spent)} of a "
               f"{fmt.money(old.settings.get('budget'))} budget, model "
               f"{old.settings.get('model_version') or 'unknown'}.")
    with st.expander("Settings of this campaign"):
        st.json(old.settings)
    r1, r2, r3 = st.columns(3)
    r1.download_button("Download CSV again", partial(campaign_cache.csv_bytes, old.rows),
                       file_name=f"{view.slug(labels[chosen])}.csv", mime="text/csv",
                       key="campaign_reopen_csv", on_click="ignore",
                       icon=":material/download:", width="stretch")
    r2.download_button("Download Excel again", partial(campaign_cache.xlsx_bytes, old.rows),
                       file_name=f"{view.slug(labels[chosen])}.xlsx", mime=XLSX,
                       key="campaign_reopen_xlsx", on_click="ignore",
                       icon=":material/download:", width="stretch")
    r3.page_link(RESULTS, label="Measure its results", icon=":material/query_stats:")
