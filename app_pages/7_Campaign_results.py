"""Campaign results: what a campaign really saved, measured against its control group."""
from datetime import date

import streamlit as st

from churn import campaign as C
from churn import results as R
from ui import context, results_charts
from ui import format as fmt
from ui import results_view as view
from ui.navigation import CAMPAIGN
from ui.text import md

st.title("Campaign results")
st.caption("Load a campaign's outcomes and see what it really saved: churn among the customers "
           "who got the offer against churn in the control group.")
st.caption(
    "**Control group**: customers on the list picked at random who got no offer; they show what "
    "would have happened without the campaign.  \n"
    "**Uplift**: the control group's churn rate minus the treated customers' churn rate, in "
    "percentage points: how much the offers cut churn (negative: they made it worse).  \n"
    "**95% confidence interval**: the range the true uplift lies in, given the customers "
    f"measured ({R.METHOD}); an interval that includes 0 cannot tell an effect from chance. "
    f"Groups with fewer than {R.MIN_GROUP_SIZE} customers with a known outcome are too small to "
    "measure.")

store = context.store()
saved = C.saved_campaigns(store) if store is not None else None
FILE_ONLY = "The file is the exported campaign"
options = [FILE_ONLY] + ([] if saved is None else saved["id"].tolist())
names = {} if saved is None else dict(zip(saved["id"], saved["name"].astype(str)))
c1, c2 = st.columns(2)
which = c1.selectbox("Campaign", options, key="results_campaign",
                     format_func=lambda o: o if o == FILE_ONLY else f"Saved {o}: {names[o]}",
                     help="A saved campaign (the file then needs only customerID, churned and "
                          "accepted; its customers are checked against the campaign), or none: "
                          "the file is the campaign's own export with churned filled in.")
campaign_id = None if which == FILE_ONLY else int(which)
upload = c2.file_uploader("Outcomes file (CSV or Excel)", type=["csv", "xlsx"],
                          key="results_file",
                          help="The campaign export with a churned column (Yes/No: left within "
                               "the outcome window) and optionally accepted (Yes/No).")

res, source = None, None
if upload is not None:
    res = view.measure_upload(upload.getvalue(), upload.name, campaign_id, store)
    source = upload.name
elif campaign_id is not None:
    res = view.measure_recorded(store, campaign_id)
    source = f"outcomes recorded for campaign {campaign_id}"
    if res is None:
        st.info("No outcomes are recorded for this campaign yet: load its outcomes file.",
                icon=":material/upload_file:")
if res is None:
    if campaign_id is None and upload is None:
        st.info("Load an outcomes file, or choose a saved campaign. Campaigns are built, with "
                "their control group, on the Retention campaign page.",
                icon=":material/upload_file:")
        st.page_link(CAMPAIGN, label="Build a campaign", icon=":material/campaign:")
    st.stop()

if res.fatal:
    st.error(md(res.fatal), icon=":material/error:")
    st.stop()
st.caption(f"From {md(source)}: {fmt.count(res.rows_used)} of {fmt.count(res.rows_read)} rows "
           "counted.")
for problem in res.problems:
    st.warning(md(problem.message), icon=":material/warning:")

o = res.overall
with st.container(key="results-headline", border=True):
    st.markdown(f"**{R.plain_summary(res)}**")
    view.headline(res)
    if o.predicted_uplift is not None:
        st.caption(f"The campaign predicted an uplift of {o.predicted_uplift * 100:+.1f} points "
                   f"({o.predicted_saved_customers:,.1f} customers, "
                   f"{fmt.money(o.predicted_saved_value)} saved)."
                   + (" Accepted offers: " + fmt.pct(o.accepted_rate) + " of the treated."
                      if o.accepted_rate is not None else ""))

st.plotly_chart(results_charts.predicted_vs_measured([o] + res.by_offer),
                key="results_chart", width="stretch")
st.caption("Light bars: what the campaign list expected (its expected saved value ÷ lifetime "
           "value, per treated customer: the learned uplift where past campaigns measured the "
           "offer, else P(churn) × P(accept) × the catalogue's risk reduction). Dark bars: what "
           f"happened, with its 95% interval; an offer without one had fewer than "
           f"{R.MIN_GROUP_SIZE} customers in a group.")

st.subheader("By offer")
st.dataframe(view.breakdown(res.by_offer), key="results_by_offer", hide_index=True,
             width="stretch")
st.subheader("By risk tier")
st.dataframe(view.breakdown(res.by_tier, "Risk tier"), key="results_by_tier", hide_index=True,
             width="stretch")

st.subheader("Learn from it")
st.caption("Add these outcomes to the campaign history: the offer recommender learns from who "
           "accepted, and the next campaign's predictions from what happened. For a saved "
           "campaign, the Model health page then checks the model's probabilities against its "
           "control group.")
cid = view.campaign_key(campaign_id) if campaign_id is not None else (source or "upload")
if st.button("Add to the campaign history", key="results_record", icon=":material/history:",
             disabled=store is None or upload is None):
    on = str((C.reopen_campaign(store, campaign_id).settings.get("date") if campaign_id
              else None) or date.today())
    total = store.append_campaign_history(R.history_rows(res, cid, on))
    st.success(f"Added {fmt.count(res.rows_used)} outcomes of {cid} to the campaign history "
               f"({fmt.count(total)} rows in all).", icon=":material/check:")
