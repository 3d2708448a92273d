"""Model report: how well the churn models predict, which one is used, and what its mistakes cost.

Reads what training saved (metadata and out-of-fold predictions of the active model version) and
the offer recommender's evaluation; never retrains on a rerun. Tables come from
`churn.model_report`, figures from `ui.model_report_charts`; curves and cost tables are cached by
model version (`ui.model_report`).
"""
import json

import streamlit as st

from churn import config
from churn import model_report as MR
from churn.models import list_versions
from ui import context, errors
from ui import format as F
from ui import model_report as R
from ui import uplift_report

st.title("Model report")
st.caption("How well each churn model predicts on customers it has not seen, which one the app "
           "uses, and what its mistakes would cost.")

MODELS_DIR = str(config.paths().models_dir)

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
    if MR.model_versions(list_versions(MODELS_DIR)):
        R.versions_section(MODELS_DIR)  # e.g. the active version is unusable but another one works
    st.stop()

# --- the model in use ---------------------------------------------------------------------------
model = status.model
meta = model.metadata
labels = MR.family_labels(meta)
selected = meta.get("selected", model.family)
cfg = meta.get("config", {})
threshold0 = float(cfg.get("threshold", 0.5))
folds = cfg.get("folds", "?")
metric = meta.get("selection_metric", "pr_auc")
chosen_cv = meta.get("families", {}).get(selected, {}).get("cv", {})

c = st.columns(4)
c[0].metric("Model in use", labels.get(selected, selected),
            help=f"Version {model.version}, every page scores with it.")
c[1].metric(f"{MR.TITLES.get(metric, metric)} (cross-validated)",
            MR.format_metric(metric, chosen_cv.get(metric)),
            help=MR.metric_help(threshold0).get(metric))
c[2].metric("Customers learned from", F.count(meta.get("n_rows")),
            help=f"Churn rate {F.pct(meta.get('churn_rate'))} among them.")
created = (meta.get("created") or "").replace("T", " ")
c[3].metric("Trained on", created[:10] or "—",
            help=f"Trained {created[:16]} UTC." if created else None)
st.caption(f"Chosen because it has the best {MR.TITLES.get(metric, metric)} of the "
           f"{len(labels)} families in {folds}-fold cross-validation. Version `{model.version}`.")

# Three models, one tab each. Only the open tab is built (the tabs rerun the page): the offer
# models' tabs need the whole scoring engine, which the churn model's figures do not.
churn_tab, rec_tab, uplift_tab = st.tabs(R.SECTION_TABS, key="report_section",
                                         on_change="rerun")
with churn_tab:
    if churn_tab.open is not False:
        st.subheader("The model families compared")
        st.table(MR.by_metric_text(MR.comparison_by_metric(meta)))
        st.caption(f"Averages over {folds} cross-validation folds: each customer is predicted "
                   "by a model that never saw them. The column in bold is the model in use. "
                   f"Settings chosen by cross-validation: {MR.settings_text(meta)}.")
        with st.expander("What the numbers mean"):
            helps = MR.metric_help(threshold0)
            st.markdown("\n".join(f"- **{MR.TITLES[m]}** — {helps[m].split(': ', 1)[1]}"
                                  for m in MR.TABLE_METRICS))

        st.subheader("Curves")
        tables = R.curves(MODELS_DIR, model.version, json.dumps(labels))
        R.curves_section(tables, float(meta.get("churn_rate") or 0.0), selected)

        with errors.guard("the threshold and cost section"):
            R.cost_section(MODELS_DIR, model, selected, labels.get(selected, selected))

        st.subheader("Does the model serve every group equally?")
        segments = MR.segment_frame(meta)
        if len(segments):
            st.table(MR.segments_text(segments))
            st.caption(R.SEGMENTS_NOTE.format(threshold=threshold0))
        else:
            st.caption("This model version saved no per-group figures.")
        R.honesty_notes(meta)
        R.versions_section(MODELS_DIR)
with rec_tab:
    if rec_tab.open:
        with errors.guard("the offer recommender evaluation"):
            R.recommender_section()
with uplift_tab:
    if uplift_tab.open:
        with errors.guard("the uplift section"):
            uplift_report.show()
