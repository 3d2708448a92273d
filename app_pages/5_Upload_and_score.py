"""Upload & score: check a customer file row by row, score every valid customer, see whether
they look like the training data, then use them in this session, save them for everyone, or
retrain the model on them (when the file says who left)."""
import streamlit as st

from churn import config, drift
from ui import admin, context, format as fmt, state
from ui import upload as U
from ui.navigation import MODEL_REPORT
from ui.text import md

st.title("Upload & score")
st.caption("Upload a customer file in the IBM Telco layout (CSV or Excel). Every problem is "
           "reported by row before anything is scored; only the valid customers are scored.")

PROBLEM_COLUMNS = {"row": st.column_config.TextColumn("Row", width=90),
                   "column": st.column_config.TextColumn("Column", width=140),
                   "reason": st.column_config.TextColumn("Reason", width=1000)}

memo = state.upload_memo()
flash = memo.pop("flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

model = context.active_model()
if model is None:
    with st.container(key="empty-needs-model"):
        st.info("Scoring uploaded customers needs a trained churn model, and none has been "
                "trained yet. You can still check a file here.", icon=":material/model_training:")
        st.page_link(MODEL_REPORT, label="Train one on the Model report page",
                     icon=":material/arrow_forward:")

uploaded = st.file_uploader(
    "Customer file", type=["csv", "txt", "xlsx", "xls"], key="upload_file",
    help="One row per customer with the Telco columns (customerID, gender, SeniorCitizen, ..., "
         "TotalCharges). A Churn column is optional: with it, the file can also retrain the "
         "model.")
if uploaded is None:
    memo.clear()
    st.stop()

up = U.read(uploaded)
report = up.report

# --- 1. the validation report, first --------------------------------------------------------------
st.subheader("1. Check")
if problem := U.unusable(report):
    with st.container(key="upload-fatal"):
        st.error(f"**{md(up.file_name)}** {problem[0]}: {md(problem[1])}",
                 icon=":material/error:")
    st.stop()

cols = st.columns(4)
cols[0].metric("Rows read", fmt.count(report.rows), border=True,
               help="Customer rows in the file (blank lines are not counted).")
cols[1].metric("Accepted", fmt.count(report.valid_rows), border=True,
               help="Rows that passed every check; these customers are scored.")
cols[2].metric("Rejected", fmt.count(report.rejected_rows), border=True,
               help="Rows with at least one error; they are left out, and listed below with "
                    "their reasons.")
cols[3].metric("Warnings", fmt.count(len(report.warnings)), border=True,
               help="Things read in a normalised way (another spelling, a blank total...). "
                    "The rows are used; check that the reading is right.")

if report.errors:
    st.markdown(f"**Errors** — these rows were rejected ({fmt.count(report.rejected_rows)}):")
    st.dataframe(U.problems_frame(report.errors), hide_index=True, width="stretch",
                 key="upload_errors",
                 column_config=PROBLEM_COLUMNS)
if report.rejected_rows:
    if "rejects_csv" not in up.memo:
        up.memo["rejects_csv"] = U.rejects_csv(report)
    st.download_button(
        "Download the rejected rows with their reasons (CSV)", up.memo["rejects_csv"],
        file_name=f"{U.default_name(up.file_name)}-rejected.csv", mime="text/csv",
        key="upload_rejects", icon=":material/download:", on_click="ignore",
        help="Every rejected row as it was in your file, with its row number and every reason. "
             "Fix them and upload again.")
if report.warnings:
    st.markdown("**Warnings** — these rows were used:")
    st.dataframe(U.problems_frame(report.warnings), hide_index=True, width="stretch",
                 key="upload_warnings",
                 column_config=PROBLEM_COLUMNS)
if not report.errors and not report.warnings:
    st.success("Every row passed every check.", icon=":material/check_circle:")

if report.valid_rows == 0:
    st.warning("No customer in this file could be used. Fix the problems above and upload the "
               "file again.", icon=":material/warning:")
    st.stop()
if model is None:
    st.stop()

accepted = up.accepted

# --- 2. scores ------------------------------------------------------------------------------------
st.subheader("2. Scores")
scored = context.scored(accepted, fingerprint=up.fingerprint)
table = scored.table
if "order" not in up.memo or up.memo.get("order_key") != (context.engine().version,
                                                            context.settings_key()):
    up.memo["order"] = U.risk_order(table)
    up.memo["order_key"] = (context.engine().version, context.settings_key())
n_pages = U.pages(len(table))
if st.session_state.get("upload_page", 1) > n_pages:
    st.session_state["upload_page"] = 1
top = st.columns([1, 3])
page = top[0].number_input(f"Page (of {fmt.count(n_pages)})", min_value=1, max_value=n_pages,
                           step=1, key="upload_page",
                           help=f"{U.PAGE_SIZE} customers a page, highest churn risk first.")
start, stop = U.page_bounds(len(table), page)
top[1].caption(f"Customers {fmt.count(start + 1)}–{fmt.count(stop)} of "
               f"{fmt.count(len(table))}, highest churn risk first. Churn probability is the "
               "chance of leaving; the reasons are what raises it most for that customer.")
st.dataframe(
    U.shown_page(table, up.memo["order"], page), hide_index=True, width="stretch",
    key="upload_scores",
    column_config={
        "customerID": "Customer ID",
        "churn_prob": st.column_config.ProgressColumn("Churn probability", format="percent",
                                                      min_value=0.0, max_value=1.0),
        "risk_tier": "Risk", "driver_1_text": "Top reason", "driver_2_text": "Second reason",
        "driver_3_text": "Third reason",
        "clv": st.column_config.NumberColumn("Lifetime value", format="dollar"),
        "revenue_at_risk": st.column_config.NumberColumn("Revenue at risk", format="dollar"),
        "offer_name": "Best offer", "offer_reason": "Why this offer"})
st.download_button(
    "Download every score (CSV)", lambda: U.scores_csv(accepted, table),
    file_name=f"{U.default_name(up.file_name)}-scores.csv", mime="text/csv",
    key="upload_scores_download", icon=":material/download:", on_click="ignore",
    help="All scored customers with probability, risk tier, reasons, lifetime value, revenue "
         "at risk and best offer.")

# --- 3. drift -------------------------------------------------------------------------------------
st.subheader("3. Like the training data?")
if "drift" not in up.memo:
    up.memo["drift"] = drift.psi_table(context.engine().customers, accepted)
psi = up.memo["drift"]
level, message = drift.drift_verdict(psi, rows=len(accepted))
if level == drift.DRIFTED_STATUS:
    st.warning(message, icon=":material/warning:")
elif level in (drift.MODERATE_SHIFT, drift.TOO_SMALL):
    st.info(message, icon=":material/info:")
else:
    st.success(message, icon=":material/check_circle:")
with st.expander("Population stability index per feature", expanded=level == drift.DRIFTED_STATUS):
    st.dataframe(psi[["label", "psi", "status"]], hide_index=True, width="stretch",
                 key="upload_drift",
                 column_config={"label": "Feature",
                                "psi": st.column_config.NumberColumn("Stability index",
                                                                     format="%.3f"),
                                "status": "Status"})
    st.caption("How far each feature's distribution in this file is from the customers the "
               "model learned from: below 0.1 stable, 0.1–0.25 a moderate shift, 0.25 or more "
               "drifted (the model may not apply). Numbers are compared in ten equal-sized "
               "groups of the training data, categories value by value.")

# --- 4. use, save -------------------------------------------------------------------------------
st.subheader("4. Use these customers")
if "upload_name" not in st.session_state or memo.get("named_for") != up.file_id:
    st.session_state["upload_name"] = U.default_name(up.file_name)
    memo["named_for"] = up.file_id
name = U.clean_name(st.text_input(
    "Name", key="upload_name", max_chars=U.NAME_MAX,
    help="How this batch is called in the sidebar's data-set picker."))
saved = context.saved_batches()
exists = name in set(saved["name"])
replace = True
if exists:
    replace = st.checkbox(f'Replace the saved batch "{md(name)}"', key="upload_replace",
                          help="A batch with this name is already saved. Tick to replace it "
                               "for everyone, or choose another name.")
left, right = st.columns(2)
use = left.button("Use in this session", key="upload_use", icon=":material/play_arrow:",
                  disabled=not name, width="stretch",
                  help="Work on these customers on every page, in this browser session only.")
save = right.button("Save for everyone", key="upload_save", icon=":material/save:",
                    disabled=not name or not replace, width="stretch", type="primary",
                    help="Keep this batch in the workbench's database: it appears in the sidebar "
                         "for every user, also after a restart.")
if use:
    ref = state.add_batch(name, accepted)
    memo["flash"] = (f'"{md(ref.name)}" ({fmt.count(ref.rows)} customers) is now the data set in '
                     "use in this session.")
    st.rerun()
if save:
    db = context.store()
    if db is None:
        st.error("The database could not be opened, so the batch was not saved. Try again in a "
                 "moment; use it in this session meanwhile.", icon=":material/error:")
    else:
        with st.spinner(f"Saving {fmt.count(len(accepted))} customers…"):
            db.save_batch(name, accepted, kind="upload", source=up.file_name,
                          rejected=report.rejected_rows)
        state.select_dataset(state.DatasetRef("saved", name, len(accepted)).key)
        memo["flash"] = (f'Saved "{md(name)}" ({fmt.count(len(accepted))} customers). Everyone can '
                         "now choose it in the sidebar; it is the data set in use here.")
        st.rerun()

# --- 5. retrain -----------------------------------------------------------------------------------
if not up.has_outcomes:
    st.caption("This file has no Churn column, so it can be scored but not used to retrain the "
               "model.")
    st.stop()

from churn import models, retrain  # noqa: E402 - only needed from here on

st.subheader("5. Retrain on these customers")
st.caption("The file says who left, so a new model can learn from it. The new model is trained "
           f"with the same settings as the one in use on {1 - retrain.DEFAULT_HOLDOUT:.0%} of "
           "these customers, and is **not** put in use until you compare the two on the other "
           f"{retrain.DEFAULT_HOLDOUT:.0%} and choose to.")
models_dir = config.paths().models_dir
trained = memo.get("train")
if trained is None or trained["fingerprint"] != up.fingerprint:
    if admin.unlocked("upload_retrain_admin", "Training a new model") and st.button(
            "Train a new model on these customers", key="upload_retrain",
                 icon=":material/model_training:",
                 help="Cross-validates the same model families as the model in use on these "
                      "customers (about a minute for the full comparison)."):
        previous = models.active_version(models_dir)
        bar = st.progress(0.0, text="Training the new model…")
        try:
            result = retrain.train_challenger(
                accepted, model, models_dir,
                progress=lambda f, m: bar.progress(min(max(float(f), 0.0), 1.0), text=m))
        except ValueError as exc:
            bar.empty()
            st.error(f"The model could not be trained on this file: {md(exc)}",
                     icon=":material/error:")
            st.stop()
        bar.empty()
        memo["train"] = {"fingerprint": up.fingerprint, "previous": previous,
                         "version": result.version, "cached": result.cached,
                         "seconds": result.seconds}
        st.rerun()
    st.stop()

new_version = trained["version"]
active_now = models.active_version(models_dir)
if new_version == trained["previous"]:
    st.info("These customers and settings give exactly the model already in use; there is "
            "nothing new to switch to.", icon=":material/info:")
    st.stop()
if active_now == new_version:
    st.success(f"The new model (version {new_version[:8]}) is now in use on every page. "
               "Compare it with earlier versions, or switch back, on the Model report page.",
               icon=":material/check_circle:")
    st.stop()
new_model = models.load_version(new_version, models_dir)
seconds = trained["seconds"]
took = ("loaded from the cache" if trained["cached"] else
        "trained in under a second" if seconds < 1 else f"trained in {seconds:,.0f} seconds")
st.markdown(f"New model: **{new_model.metadata['families'][new_model.family]['label']}**, "
            f"version `{new_version[:8]}` ({took}).")
cmp = retrain.compare_with_champion(model, new_model, accepted)
st.dataframe(
    cmp.table.replace({"better": {"champion": "Model in use", "challenger": "New model",
                                  "same": "Same"}})[["label", "champion", "challenger", "better"]],
    hide_index=True, width="stretch", key="upload_comparison",
    column_config={"label": "Metric",
                   "champion": st.column_config.NumberColumn("Model in use", format="%.3f"),
                   "challenger": st.column_config.NumberColumn("New model", format="%.3f"),
                   "better": "Better"})
st.caption(f"Both models score the same {cmp.rows:,} customers of this file, which the new model "
           "did not learn from (the model in use may have, if they were in its training data). "
           "Higher is better for ROC-AUC, PR-AUC and lift; lower for Brier score, log loss and "
           "calibration error.")
with st.expander("Model families compared for the new model"):
    cmp = models.comparison_table(new_model.metadata).reset_index()
    st.dataframe(cmp.drop(columns=["params"]), hide_index=True, width="stretch",
                 key="upload_families")
if admin.unlocked("upload_activate_admin", "Putting the new model in use") and st.button(
        "Put the new model in use", key="upload_activate", type="primary",
             icon=":material/published_with_changes:",
             help="Every page and every user switches to the new model. You can switch back on "
                  "the Model report page."):
    models.activate(new_version, models_dir)
    st.rerun()
