"""Model report: how well the churn models predict, which one is used, and what its mistakes cost.

Reads what training saved (metadata and out-of-fold predictions of the active model version) and
the offer recommender's evaluation; never retrains on a rerun. Curves and cost tables are cached
by model version (`ui.model_report`).
"""
import json

import streamlit as st

from churn import config
from churn import metrics as M
from churn import models
from ui import admin, context, errors, state
from ui import format as F
from ui import model_report as R
from ui import uplift_report

st.title("Model report")
st.caption("How well each churn model predicts on customers it has not seen, which one the app "
           "uses, and what its mistakes would cost.")

MODELS_DIR = str(config.paths().models_dir)


def _activate() -> None:
    """Button callback: make the chosen version active before the page reruns (the sidebar
    and every cached engine are keyed by the active version, so they follow)."""
    choice = st.session_state.get("report_version")
    if not admin.allowed():
        return
    try:
        st.session_state["report_activate_warnings"] = models.activate(choice, MODELS_DIR)
    except (ValueError, models.ModelCacheError):
        pass  # reported in the page body, where messages can be drawn


def versions_section() -> None:
    """The saved model versions, and a way to switch the one in use."""
    versions = R.model_versions(models.list_versions(MODELS_DIR))
    st.subheader("Model versions")
    if not versions:
        st.caption("No model versions are saved yet.")
        return
    st.dataframe(R.versions_frame(versions), hide_index=True,
                 column_config={"Score": st.column_config.NumberColumn(
                     "Score", format="%.3f",
                     help="The version's cross-validated value of the metric it was chosen by."),
                     "Customers": st.column_config.NumberColumn("Customers", format="localized",
                                                                help="Customers it learned from."),
                     "MLflow run": st.column_config.TextColumn(
                         "MLflow run", help="The version's run and registered version of the "
                                            "MLflow model churn (— when not logged).")})
    usable = [v for v in versions if v["usable"]]
    if not usable:
        st.warning("No saved version can be used with this installation; train again.")
        return
    if not admin.unlocked("report_admin", "Switching the model version in use"):
        return
    by_id = {v["version"]: v for v in usable}
    ids = list(by_id)
    active = models.active_version(MODELS_DIR)
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    choice = c1.selectbox("Version", ids, index=ids.index(active) if active in ids else 0,
                          key="report_version", format_func=lambda v: R.version_label(by_id[v]),
                          help="Every page scores with the version in use.")
    clicked = c2.button("Use this version", key="report_activate", on_click=_activate,
                        help="Switch every page to the chosen model version.")
    if clicked:
        if models.active_version(MODELS_DIR) == choice:
            st.success(f"Version {choice[:8]} is now in use on every page (MLflow alias "
                       "champion follows it).", icon=":material/check_circle:")
            for warning in st.session_state.pop("report_activate_warnings", None) or []:
                st.warning(warning, icon=":material/cloud_off:")
        else:
            problem = next((v["problem"] for v in models.list_versions(MODELS_DIR)
                            if v["version"] == choice), None)
            st.error(f"Version {choice[:8]} could not be used: "
                     f"{problem or 'it is no longer available'}.")


# --- no model yet -------------------------------------------------------------------------------
status = context.model_status()
if status.model is None:
    with st.container(key="report-empty"):
        if status is context.NO_MODEL:
            st.info("No churn model has been trained yet. Training compares four model families "
                    "(logistic regression, random forest, XGBoost, CatBoost) with "
                    "cross-validation on the sample customers, keeps the best, and takes about "
                    "a minute the first time.", icon=":material/model_training:")
        else:
            st.warning(f"{status.label}. {status.help}", icon=":material/warning:")
        if st.button("Train the churn models now", key="report_train", type="primary"):
            context.engine()  # trains under a progress bar, then fits the other parts
            st.rerun()
    if R.model_versions(models.list_versions(MODELS_DIR)):
        versions_section()  # e.g. the active version is unusable but another one works
    st.stop()

# --- the model in use ---------------------------------------------------------------------------
model = status.model
meta = model.metadata
labels = R.family_labels(meta)
selected = meta.get("selected", model.family)
cfg = meta.get("config", {})
threshold0 = float(cfg.get("threshold", 0.5))
folds = cfg.get("folds", "?")
metric = meta.get("selection_metric", "pr_auc")
chosen_cv = meta.get("families", {}).get(selected, {}).get("cv", {})

c = st.columns(4)
c[0].metric("Model in use", labels.get(selected, selected),
            help=f"Version {model.version}, every page scores with it.")
c[1].metric(f"{R.TITLES.get(metric, metric)} (cross-validated)",
            R.format_metric(metric, chosen_cv.get(metric)), help=R.metric_help(threshold0).get(metric))
c[2].metric("Customers learned from", F.count(meta.get("n_rows")),
            help=f"Churn rate {F.pct(meta.get('churn_rate'))} among them.")
created = (meta.get("created") or "").replace("T", " ")
c[3].metric("Trained on", created[:10] or "—",
            help=f"Trained {created[:16]} UTC." if created else None)
st.caption(f"Chosen because it has the best {R.TITLES.get(metric, metric)} of the "
           f"{len(labels)} families in {folds}-fold cross-validation. Version `{model.version}`.")

# --- comparison table ---------------------------------------------------------------------------
st.subheader("The model families compared")
comparison = R.comparison_frame(meta)
st.dataframe(R.style_comparison(comparison), hide_index=True,
             column_config=R.comparison_column_config(threshold0))
st.caption(f"Averages over {folds} cross-validation folds: each customer is predicted by a model "
           "that never saw them. The highlighted row is the model in use. Hover over a column "
           "title for what it means.")
with st.expander("What the numbers mean"):
    helps = R.metric_help(threshold0)
    st.markdown("\n".join(f"- **{R.TITLES[m]}** — {helps[m].split(': ', 1)[1]}"
                          for m in R.TABLE_METRICS))

# --- curves -------------------------------------------------------------------------------------
st.subheader("Curves")
tables = R.curves(MODELS_DIR, model.version, json.dumps(labels))
churn_rate = float(meta.get("churn_rate") or 0.0)
tabs = st.tabs(["ROC", "Precision-recall", "Calibration", "Cumulative gains", "Lift"])
with tabs[0]:
    st.plotly_chart(R.roc_figure(tables["roc"], selected), key="report_roc_chart")
    st.caption("The further a curve bends to the top left, the more churners the model catches "
               "for each customer wrongly flagged. The dashed diagonal is a coin toss.")
with tabs[1]:
    st.plotly_chart(R.pr_figure(tables["pr"], churn_rate, selected), key="report_pr_chart")
    st.caption("For each share of churners caught, the share of flagged customers who really "
               "churn. Higher curves mean fewer wasted offers.")
with tabs[2]:
    st.plotly_chart(R.reliability_figure(tables["reliability"], selected),
                    key="report_calibration_chart")
    st.caption("Customers grouped by predicted probability (10 bins). On the dashed diagonal a "
               "predicted 30% means 30% really left, so probabilities can be used in money "
               "calculations.")
with tabs[3]:
    st.plotly_chart(R.gains_figure(tables["gains"], selected), key="report_gains_chart")
    st.caption("Contacting customers riskiest first: the share of all churners reached after "
               "each share of customers. The dashed line is a random order.")
with tabs[4]:
    st.plotly_chart(R.lift_figure(tables["gains"], selected), key="report_lift_chart")
    st.caption("How many times more churners the riskiest customers hold than a random group "
               "of the same size.")

# --- threshold, confusion matrix and cost -------------------------------------------------------
st.subheader("Choosing a threshold: what mistakes cost")
st.caption("Customers whose churn probability is at or above the threshold get a retention "
           "offer. A false alarm spends the offer on someone who would have stayed; a missed "
           "churner loses the customer's value. Offers to real churners count as money well "
           "spent.")
sample = context.sample_frame()
try:
    from churn.offers import load_catalogue

    offer_default = R.default_offer_cost(o.cost for o in load_catalogue(
        config.paths().catalogue).offers)
except ValueError:  # an invalid catalogue is reported on the campaign page
    offer_default = R.default_offer_cost([])
value_default = R.default_customer_value(sample["MonthlyCharges"], state.settings().margin)
c1, c2, c3 = st.columns(3)
threshold = c1.slider("Decision threshold", 0.0, 1.0, threshold0, 0.01, key="report_threshold",
                      format="%.2f", help="Flag customers whose churn probability is at least "
                                          "this.")
offer_cost = c2.number_input("Offer cost ($ per customer contacted)", min_value=0.0,
                             value=offer_default, step=5.0, key="report_offer_cost",
                             help="What one retention offer costs. Default: the average offer "
                                  "in the catalogue.")
customer_value = c3.number_input("Average customer value ($ lost per churner)", min_value=0.0,
                                 value=value_default, step=50.0, key="report_customer_value",
                                 help="What losing one customer costs. Default: 12 months of "
                                      "profit on the average monthly bill (sidebar margin).")

cost = R.cost(MODELS_DIR, model.version, selected, float(offer_cost), float(customer_value))
row = R.row_at(cost, threshold)
best = M.best_threshold(cost.to_dict("list"))
tp, fp, fn = int(row["tp"]), int(row["fp"]), int(row["fn"])
extra = float(row["total_cost"]) - float(best["total_cost"])
m = st.columns(4)
m[0].metric("Churners caught", f"{tp:,} of {tp + fn:,}",
            help="Churners with a probability at or above the threshold.")
m[1].metric("False alarms", F.count(fp), help="Customers flagged who would have stayed.")
m[2].metric("Missed churners", F.count(fn), help="Churners below the threshold.")
m[3].metric("Cost of mistakes", F.money(row["total_cost"]),
            delta=(f"{F.money(extra)} above the lowest" if extra > 0 else "the lowest possible"),
            delta_color="inverse" if extra > 0 else "off",
            help=f"{F.count(fp)} false alarms × {F.money(offer_cost)} + {F.count(fn)} missed "
                 f"churners × {F.money(customer_value)}.")
left, right = st.columns([2, 3])
with left:
    st.markdown(f"**Confusion matrix at threshold {float(row['threshold']):.2f}** (customers)")
    st.table(R.confusion_frame(row))
    st.markdown(f"Lowest cost: **{F.money(best['total_cost'])}** at threshold "
                f"**{best['threshold']:.2f}** ({F.count(best['fp'])} false alarms, "
                f"{F.count(best['fn'])} missed churners).")
    total = offer_cost + customer_value
    if total > 0:
        st.caption(f"With well-calibrated probabilities the break-even threshold is offer cost ÷ "
                   f"(offer cost + customer value) = {offer_cost / total:.2f}.")
with right:
    st.plotly_chart(R.cost_figure(cost, float(row["threshold"])), key="report_cost_chart")
st.caption(f"Counted on the {F.count(meta.get('n_rows'))} customers of the cross-validation, each "
           f"predicted by a {labels.get(selected, selected)} model that never saw them.")

# --- segments -----------------------------------------------------------------------------------
st.subheader("Does the model serve every group equally?")
segments = R.segment_frame(meta)
if len(segments):
    st.dataframe(R.style_segments(segments), hide_index=True,
                 column_config={k: st.column_config.Column(k, help=v) for k, v in {
                     "Predicted churn rate": "The model's average churn probability for the "
                                             "group; close to the churn rate means it is "
                                             "calibrated for that group too.",
                     **{R.TITLES[k]: R.metric_help(threshold0)[k] for k in (
                         "roc_auc", "pr_auc", "recall_at_threshold", "precision_at_threshold",
                         "ece")}}.items()})
    st.caption("Figures of the model in use for each gender, senior citizens and contract type, "
               "from its cross-validated predictions. Large gaps between groups mean the model "
               "ranks or calibrates some customers worse than others.")
else:
    st.caption("This model version saved no per-group figures.")

# --- offer recommender --------------------------------------------------------------------------
st.subheader("Offer recommender")
with errors.guard("the offer recommender evaluation"):
    evaluation = getattr(context.engine().recommender, "evaluation_", None) or {}
    rec = R.recommender_frame(evaluation)
    if len(rec):
        pct = {c: "{:.1%}" for c in ("Accepted when in top 3", "Accepted offers caught")}
        st.dataframe(rec.style.format({**pct, "Brier score": "{:.3f}",
                                       "Kept": lambda v: "✓ kept" if v else ""}).apply(
                         lambda r: [R.HIGHLIGHT if r["Kept"] else "" for _ in r], axis=1),
                     hide_index=True, column_config={
                         c: (st.column_config.NumberColumn(c, help=h, format="localized")
                             if c.startswith(("Past", "Of which")) else st.column_config.Column(
                                 c, help=h)) for c, h in R.RECOMMENDER_HELP.items()})
        st.caption(R.recommender_note(evaluation))
    else:
        st.caption("The offer recommender has no evaluation to show.")

with errors.guard("the uplift section"):
    uplift_report.show()

# --- honesty notes ------------------------------------------------------------------------------
st.subheader("How the figures are kept honest")
cal = meta.get("calibration", {})
st.markdown(
    "- **No leakage.** The customer ID and the churn outcome are never model inputs. All "
    "preprocessing (one-hot encoding, scaling) is fitted inside each cross-validation fold on "
    "that fold's training customers only, and every figure above comes from predictions for "
    "customers the model had not seen.\n"
    "- **Calibration (Platt scaling).** Raw model scores are mapped to probabilities with a "
    "logistic curve, P = 1 / (1 + e^−(a·score + b))"
    + (f" (a = {cal['a']:.3f}, b = {cal['b']:.3f})" if {"a", "b"} <= set(cal) else "")
    + ", fitted on out-of-fold predictions; in the cross-validation each fold is calibrated on "
    "the other folds only. Class weighting pushes raw scores up; calibration brings them back to "
    "the observed churn rate, so a predicted 30% means about 30%.\n"
    "- **Choosing the model** on the same folds that measure it makes the chosen figures very "
    "slightly optimistic; the hyperparameter grids are tiny, so the effect is small.")

versions_section()
