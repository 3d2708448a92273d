"""Model health: is the churn model in use still right for the customers it scores?"""
import streamlit as st

from churn import config, drift, health
from ui import context, empty
from ui import format as fmt
from ui import health_charts as charts
from ui.navigation import MODEL_REPORT, UPLOAD
from ui.text import md

st.title("Model health")
st.caption("For the model in use, every saved batch of customers: have they changed since "
           "training (drift), what the model predicts for them, and — once you know who "
           "actually left — how well it ranked them.")
model = empty.needs_model("Model health")
rep = charts.report(context.store(), model, context.sample_frame(), context.settings_key())

box = {health.RED: st.error, health.AMBER: st.warning, health.GREEN: st.success}[rep.status]
icon = {health.RED: ":material/report:", health.AMBER: ":material/warning:",
        health.GREEN: ":material/check_circle:"}[rep.status]
if rep.rows.empty:  # nothing to judge yet: information, not a verdict
    box, icon = st.info, ":material/info:"
with st.container(key="health-advice"):
    box(rep.advice, icon=icon)
for note in rep.notes:
    st.caption(md(note))
registry = charts.alias_warning(str(config.paths().models_dir), model.version)
if registry:
    st.warning(registry, icon=":material/sync_problem:")

if rep.rows.empty:
    st.page_link(UPLOAD, label="Upload and save customers", icon=":material/upload_file:")
    st.stop()

last = rep.rows.iloc[-1]
campaign = last["source"] == "campaign"
st.subheader(f"Latest: {md(last['batch'])}" if campaign else
             f'Latest batch: "{md(last["batch"])}"')
c1, c2, c3, c4 = st.columns(4)
if campaign:
    c1.metric("Control customers", fmt.count(last["customers"]),
              help="Customers of the campaign's control group whose outcome is recorded. They "
                   "got no offer, so they test the model's probabilities; drift is not "
                   "measured for a campaign.")
else:
    c1.metric("Largest drift (PSI)", f"{last['max_psi']:.2f}",
              help=f"Population stability index of the feature that moved most since training. "
                   f"Below {drift.MODERATE}: stable; {drift.MODERATE}–{drift.DRIFTED}: moderate "
                   f"shift; {drift.DRIFTED} or more: drifted.")
c2.metric("Mean predicted churn", fmt.pct(last["mean_prob"]),
          delta=fmt.pp(last["mean_prob"] - rep.training["churn_rate"]) + " vs training",
          delta_color="off",
          help="Average churn probability the model gives these customers, against the churn "
               "rate of the customers it learned from.")
c3.metric("Expected precision", fmt.pct(last["expected_precision"], 0),
          help=f"Of the customers at or above the {rep.training['threshold']:.0%} threshold, "
               "the share expected to churn: the average of their (calibrated) probabilities. "
               "An estimate that needs no outcomes; the Performance tab sets it beside the "
               "actual share once outcomes are in.")
if last["roc_auc"] == last["roc_auc"]:
    c4.metric("ROC-AUC (actual)", f"{last['roc_auc']:.2f}",
              delta=f"{last['roc_auc'] - last['training_roc_auc']:+.2f} vs training",
              help="How well the model ranked who left above who stayed, now that outcomes are "
                   f"in (1 = perfectly, 0.5 = no better than chance). At training: "
                   f"{last['training_roc_auc']:.2f}"
                   + (" for customers as risky as the campaign's list." if campaign else "."))
else:
    c4.metric("Expected recall", fmt.pct(last["expected_recall"], 0),
              help="Share of the expected churners the threshold catches: the flagged customers' "
                   "probabilities over all customers' probabilities. Outcomes are not in yet.")

st.subheader("Every batch and campaign" if (rep.rows["source"] == "campaign").any()
             else "Every batch")
st.dataframe(charts.table(rep), hide_index=True, width="stretch", key="health_table")
st.caption("🟢 OK · 🟠 Watch: a feature shifted moderately, ROC-AUC is "
           f"{health.AUC_AMBER:.2f} or more below training, or actual and predicted churn differ "
           f"by {health.CALIBRATION_AMBER:.0%} or more · 🔴 Act: a feature drifted, ROC-AUC is "
           f"{health.AUC_RED:.2f} or more below training (and its interval is below the training "
           f"value), or actual and predicted churn differ by {health.CALIBRATION_RED:.0%} or more.")

drift_tab, pred_tab, perf_tab = st.tabs(["Drift", "Predictions", "Performance"])
with drift_tab:
    st.plotly_chart(charts.drift_heatmap(rep), key="health_drift_chart")
    st.caption("How far each feature's distribution in a batch is from the training customers. "
               "Features that drift are where the model's experience no longer applies.")
with pred_tab:
    st.plotly_chart(charts.predictions_chart(rep), key="health_predictions_chart")
    st.caption("Bars: the share of each batch in each risk tier (sidebar thresholds). Line: "
               "the mean predicted churn probability; diamonds: the share who actually churned, "
               "for batches saved with their outcomes.")
with perf_tab:
    if rep.rows["labelled"].any():
        st.plotly_chart(charts.performance_chart(rep), key="health_performance_chart")
        st.caption("Dots: figures measured on the batches saved with outcomes (Churn) and on "
                   "campaigns' control groups, with their 95% bootstrap interval; dotted lines: "
                   "the same figures at training (cross-validated); short bars: a campaign's "
                   "training figures for customers as risky as its list. Orange: precision at the decision threshold as estimated "
                   "from the probabilities alone (dashed) and as it turned out (diamond).")
    else:
        st.info("No outcomes yet. Save an upload that includes the Churn column, or record a "
                "saved campaign's outcomes on the Campaign results page, to see how well the "
                "model actually ranked customers.", icon=":material/info:")

with st.expander("How these figures are computed"):
    st.markdown(
        "- **Drift** is the population stability index (PSI) of each feature against the "
        "sample customers the model was trained on: 0 means identical distributions.\n"
        "- **Expected precision and recall** use the fact that the model's probabilities are "
        "calibrated: a customer with probability 0.7 churns 7 times in 10. So the expected share "
        "of churners among flagged customers is the average of their probabilities, and the "
        "expected share of all churners caught is the flagged customers' probabilities summed "
        "over everyone's.\n"
        "- **Actual figures** (ROC-AUC, precision in the top 10%, churned share) need the batch "
        "saved with its Churn column. Intervals come from 200 bootstrap resamples of the batch's "
        "customers (2.5th to 97.5th percentile).\n"
        "- **Campaign outcomes**: for a campaign saved on the Retention campaign page whose "
        "outcomes were recorded on the Campaign results page, only its **control group** "
        "counts: those customers got no offer, so whether they left tests the probabilities "
        "the model gave them. Drift is not measured for them.\n"
        "- **Training figures** are the model's cross-validated figures on its training data; "
        "for a campaign, over the training customers as risky as the campaign's list (a list "
        "of risky customers is harder to rank than everyone).")
st.page_link(MODEL_REPORT, label="Compare or switch models on the Model report page",
             icon=":material/arrow_forward:")
