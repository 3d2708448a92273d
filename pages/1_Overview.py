"""Overview: the customers in use at a glance (how many, how many left, what they pay)."""
import streamlit as st

from ui import context, format as fmt, state
from ui.navigation import MODEL_REPORT

st.title("Overview")
ref = state.dataset()
frame = context.customers(ref)
summary = context.summarize(frame)
st.caption(f"Customers in use: **{ref.label if ref else 'Sample data'}**. Change them in the "
           "sidebar.")

cols = st.columns(4)
cols[0].metric("Customers", fmt.count(summary.customers), border=True)
cols[1].metric("Churn rate", fmt.pct(summary.churn_rate), border=True,
               help=("Share of these customers who left (the file's Churn column)."
                     if summary.churn_rate is not None else
                     "This file has no Churn column, so past churn is unknown."))
cols[2].metric("Monthly revenue", fmt.money_short(summary.monthly_revenue), border=True,
               help=f"Sum of everyone's monthly bill: {fmt.money(summary.monthly_revenue)}.")
cols[3].metric("Average tenure", fmt.months(summary.mean_tenure, 1), border=True,
               help="How long these customers have been with the company, on average.")

if context.active_model() is None:
    st.info("Churn risk per customer, the reasons behind it and the value at stake need a "
            "trained churn model.", icon=":material/model_training:")
    st.page_link(MODEL_REPORT, label="Train one on the Model report page",
                 icon=":material/arrow_forward:")
