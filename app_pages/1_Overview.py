"""Overview: the customers in use at a glance — how many, how many left, what they are worth, how
much of that is at risk, and how long customers stay by segment.

Every figure is an SQL aggregate where the rows live (`churn.stored_views`): a saved batch in the
store (a million customers are counted, never loaded), the sample or an upload in an in-memory
DuckDB. The model's figures come from the data set's scored customer list (`ui.customer_list`)."""
import streamlit as st

from ui import context, empty, format as fmt, overview_charts as oc, state
from ui import customer_list as ui_list
from ui.text import md
from ui.navigation import UPLOAD

st.title("Overview")
ref = state.dataset()
rows = context.rows(ref)
summary = oc.summary(rows)
st.caption(f"Customers in use: **{md(ref.label) if ref else 'Sample data'}**. Change them in the "
           f"sidebar. {context.population(ref).line}")

if summary.customers == 0:
    with st.container(key="overview-empty"):
        st.info("This data set has no customers to show. Pick another one in the sidebar, or "
                "upload a file.", icon=":material/group_off:")
        st.page_link(UPLOAD, label="Upload customers on the Upload & score page",
                     icon=":material/arrow_forward:")
    st.stop()

settings = state.settings()

# --- what the data say --------------------------------------------------------------------------
cols = st.columns(4)
cols[0].metric("Customers", fmt.count(summary.customers), border=True,
               help="Customers in the data set chosen in the sidebar.")
cols[1].metric("Churn rate", fmt.pct(summary.churn_rate), border=True,
               help=(f"Share of these customers who have already left: "
                     f"{fmt.count(summary.churned)} of {fmt.count(summary.customers)} "
                     "(the file's Churn column)."
                     if summary.churn_rate is not None else
                     "This file has no Churn column, so past churn is unknown."))
cols[2].metric("Monthly revenue", fmt.money_short(summary.monthly_revenue), border=True,
               help=f"Sum of everyone's monthly bill: {fmt.money(summary.monthly_revenue)}.")
cols[3].metric("Average tenure", fmt.months(summary.mean_tenure, 1), border=True,
               help="How long these customers have been with the company, on average.")

# The model's cards sit above the segment charts but are filled last: the retention curves need
# only the data, so they are drawn first and the browser lays them out while the server loads the
# model and scores the customers.
model_box = st.container()

# --- by segment ---------------------------------------------------------------------------------
st.subheader("By segment")
by = st.selectbox("Split by", list(oc.SEGMENT_LABELS), key="overview_segment",
                  format_func=oc.SEGMENT_LABELS.get,
                  help="The customer group the charts below compare.")
label = oc.SEGMENT_LABELS[by]
left, right = st.columns(2)

with left:
    st.markdown("**How long customers stay**")
    curves_rows = rows
    if not oc.outcomes_known(rows):
        curves_rows = context.rows(state.DatasetRef("sample", "sample", 0))
        st.info("This data set has no Churn column (nobody has left yet), so the curves show the "
                "training customers (the sample data), whose outcomes are known.",
                icon=":material/info:")
    curves = oc.km_table(curves_rows.key, by, curves_rows)
    st.plotly_chart(oc.km_figure(curves, label), key="overview_km", width="stretch")
    st.caption("Kaplan–Meier estimate: the share of customers still with the company after each "
               "month of tenure, per segment. Shaded: 95% confidence band.")

# --- what the models expect ---------------------------------------------------------------------
with model_box:
    model = empty.needs_model("Churn risk and the value at stake")
    # Risk figures are about the customers still here: those who have left are never counted.
    source = ui_list.source() if model is not None else None
    list_key = (rows.key, model.version if model else None, context.settings_key())
    kpi = oc.kpis(list_key, source) if source is not None else None
    if kpi is not None and kpi["customers"] == 0:
        kpi = None
    if kpi is not None:
        horizon = settings.horizon_months
        cols = st.columns(4)
        cols[0].metric(
            "Predicted churners", fmt.count(kpi["predicted_churners"]), border=True,
            help=("How many of the active customers (those still here) the model expects to leave: "
                  "every customer's churn probability added up (a customer at 30% counts as "
                  f"0.3). That is {fmt.pct(kpi['predicted_churners'] / kpi['customers'])} of "
                  f"{fmt.count(kpi['customers'])} active customers."))
        cols[1].metric(
            "Customer lifetime value", fmt.money_short(kpi["total_clv"]), border=True,
            help=(f"What these customers are expected to bring in over the next {horizon} months: "
                  f"{fmt.pct(settings.margin, 0)} of each monthly bill (the margin) for as long as "
                  f"each is expected to stay, with future months discounted at "
                  f"{fmt.pct(settings.annual_discount_rate, 0)} a year. Exactly "
                  f"{fmt.money(kpi['total_clv'])}."))
        share = kpi["total_revenue_at_risk"] / kpi["total_clv"] if kpi["total_clv"] else None
        cols[2].metric(
            "Revenue at risk (profit)", fmt.money_short(kpi["total_revenue_at_risk"]), border=True,
            help=(f"Profit expected to be lost over the next {horizon} months if nothing is "
                  "done: each customer's churn probability × their lifetime value, added up "
                  f"({fmt.pct(share)} of the lifetime value). Exactly "
                  f"{fmt.money(kpi['total_revenue_at_risk'])}."))
        cols[3].metric(
            "Bills at risk, 12 months", fmt.money_short(kpi["total_revenue_at_risk_12m"]),
            border=True,
            help=("The simpler figure finance teams often quote: each customer's churn probability "
                  "× 12 monthly bills, added up. It counts bills, not profit, and is not "
                  "discounted, so it can exceed the profit figure although its horizon is "
                  f"shorter. Exactly {fmt.money(kpi['total_revenue_at_risk_12m'])}."))

with right:
    st.markdown("**Where the revenue at risk is**")
    if kpi is None:
        st.info("Revenue at risk by segment needs a trained churn model and active customers.",
                icon=":material/model_training:")
    else:
        risk = oc.risk_table(list_key, by, source)
        st.plotly_chart(oc.risk_figure(risk, label), key="overview_risk", width="stretch")
        st.caption("Revenue at risk per segment: churn probability × lifetime value, added up "
                   "over the segment's active customers (dollars of margin over the horizon).")
        with st.expander("Segment figures"):
            st.dataframe(
                fmt.percent_columns(risk[["segment", "customers", "avg_churn_prob",
                                          "predicted_churners", "clv", "revenue_at_risk",
                                          "risk_share"]], ["avg_churn_prob", "risk_share"]),
                hide_index=True, width="stretch", key="overview_risk_table",
                column_config={
                    "segment": st.column_config.TextColumn(label),
                    "customers": st.column_config.NumberColumn("Customers", format="localized"),
                    "avg_churn_prob": st.column_config.NumberColumn(
                        "Average churn risk", format=fmt.PERCENT),
                    "predicted_churners": st.column_config.NumberColumn(
                        "Predicted churners", format="%.0f"),
                    "clv": st.column_config.NumberColumn("Lifetime value", format="dollar"),
                    "revenue_at_risk": st.column_config.NumberColumn(
                        "Revenue at risk", format="dollar"),
                    "risk_share": st.column_config.NumberColumn(
                        "Share of revenue at risk", format=fmt.PERCENT),
                })
