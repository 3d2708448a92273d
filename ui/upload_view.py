"""Sections of the Upload & score page that are widgets and layout only: the check cards, the
drift verdict, "use / save these customers" and the retrain steps.

Every figure comes from the core: validation from `churn.validate`, drift from `churn.drift`,
training, comparison and switching of a new model from `churn.candidate` (the same path as the
API's retrain job). The page (`app_pages/5_Upload_and_score.py`) calls these in order.
"""
from __future__ import annotations

import streamlit as st

from churn import candidate, config, drift
from ui import admin, context, format as fmt, state
from ui import upload as U
from ui.text import md

#: Column settings of the errors and warnings tables.
PROBLEM_COLUMNS = {"row": st.column_config.TextColumn("Row", width=90),
                   "column": st.column_config.TextColumn("Column", width=140),
                   "reason": st.column_config.TextColumn("Reason", width=1000)}

#: Column settings of the scored table (in the order of `ui.upload.SHOWN_COLUMNS`).
SCORE_COLUMNS = {
    "customerID": st.column_config.TextColumn("Customer ID", width=95),
    "churn_prob": st.column_config.ProgressColumn("Churn probability", format=fmt.PERCENT,
                                                  min_value=0.0, max_value=100.0, width=110),
    "risk_tier": st.column_config.TextColumn("Risk", width=55),
    "clv": st.column_config.NumberColumn("Lifetime value", format="dollar", width=100),
    "revenue_at_risk": st.column_config.NumberColumn("Revenue at risk", format="dollar",
                                                     width=110),
    "driver_1_text": st.column_config.TextColumn("Top reason", width=320,
                                                 help="What raises this customer's churn risk "
                                                      "most, in percentage points."),
    "offer_name": st.column_config.TextColumn("Best offer", width=190),
    "offer_reason": st.column_config.TextColumn("Why this offer", width=330),
    "driver_2_text": "Second reason", "driver_3_text": "Third reason"}


def check_cards(report) -> None:
    """Rows read, accepted, rejected and warnings, as four cards."""
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


def drift_section(up: U.Upload) -> None:
    """"Like the training data?": the verdict of `churn.drift` and the per-feature index."""
    st.subheader("3. Like the training data?")
    if "drift" not in up.memo:
        up.memo["drift"] = drift.psi_table(context.engine().customers, up.accepted)
    psi = up.memo["drift"]
    level, message = drift.drift_verdict(psi, rows=len(up.accepted))
    if level == drift.DRIFTED_STATUS:
        st.warning(message, icon=":material/warning:")
    elif level in (drift.MODERATE_SHIFT, drift.TOO_SMALL):
        st.info(message, icon=":material/info:")
    else:
        st.success(message, icon=":material/check_circle:")
    with st.expander("Population stability index per feature",
                     expanded=level == drift.DRIFTED_STATUS):
        st.dataframe(psi[["label", "psi", "status"]], hide_index=True, width="stretch",
                     key="upload_drift",
                     column_config={"label": "Feature",
                                    "psi": st.column_config.NumberColumn("Stability index",
                                                                         format="%.3f"),
                                    "status": "Status"})
        st.caption("How far each feature's distribution in this file is from the customers the "
                   "model learned from: below 0.1 stable, 0.1–0.25 a moderate shift, 0.25 or "
                   "more drifted (the model may not apply). Numbers are compared in ten "
                   "equal-sized groups of the training data, categories value by value.")


def use_section(up: U.Upload, memo: dict) -> None:
    """"Use these customers": a name, then use in this session or save for everyone."""
    st.subheader("4. Use these customers")
    if "upload_name" not in st.session_state or memo.get("named_for") != up.file_id:
        st.session_state["upload_name"] = U.default_name(up.file_name)
        memo["named_for"] = up.file_id
    name = U.clean_name(st.text_input(
        "Name", key="upload_name", max_chars=U.NAME_MAX,
        help="How this batch is called in the sidebar's data-set picker."))
    replace = True
    if name in set(context.saved_batches()["name"]):
        replace = st.checkbox(f'Replace the saved batch "{md(name)}"', key="upload_replace",
                              help="A batch with this name is already saved. Tick to replace "
                                   "it for everyone, or choose another name.")
    left, right = st.columns(2)
    use = left.button("Use in this session", key="upload_use", icon=":material/play_arrow:",
                      disabled=not name, width="stretch",
                      help="Work on these customers on every page, in this browser session only.")
    save = right.button("Save for everyone", key="upload_save", icon=":material/save:",
                        disabled=not name or not replace, width="stretch", type="primary",
                        help="Keep this batch in the workbench's database: it appears in the "
                             "sidebar for every user, also after a restart.")
    accepted = up.accepted
    if use:
        ref = state.add_batch(name, accepted)
        memo["flash"] = (f'"{md(ref.name)}" ({fmt.count(ref.rows)} customers) is now the data set '
                         "in use in this session.")
        st.rerun()
    if save:
        db = context.store()
        if db is None:
            st.error("The database could not be opened, so the batch was not saved. Try again in "
                     "a moment; use it in this session meanwhile.", icon=":material/error:")
            return
        with st.spinner(f"Saving {fmt.count(len(accepted))} customers…"):
            db.save_batch(name, accepted, kind="upload", source=up.file_name,
                          rejected=up.report.rejected_rows)
        state.select_dataset(state.DatasetRef("saved", name, len(accepted)).key)
        memo["flash"] = (f'Saved "{md(name)}" ({fmt.count(len(accepted))} customers). Everyone '
                         "can now choose it in the sidebar; it is the data set in use here.")
        st.rerun()


def retrain_section(up: U.Upload, memo: dict) -> None:
    """"Retrain on these customers": train a candidate (`churn.candidate.train_candidate`), show
    its comparison with the model in use on the held-out customers, put it in use on request."""
    from churn import retrain

    st.subheader("5. Retrain on these customers")
    st.caption("The file says who left, so a new model can learn from it. The new model is "
               f"trained with the same settings as the one in use on "
               f"{1 - retrain.DEFAULT_HOLDOUT:.0%} of these customers, and is **not** put in use "
               "until you compare the two on the other "
               f"{retrain.DEFAULT_HOLDOUT:.0%} and choose to.")
    models_dir = config.paths().models_dir
    trained = memo.get("train")
    if trained is None or trained[0] != up.fingerprint:
        if admin.unlocked("upload_retrain_admin", "Training a new model") and st.button(
                "Train a new model on these customers", key="upload_retrain",
                icon=":material/model_training:",
                help="Cross-validates the same model families as the model in use on these "
                     "customers (about a minute for the full comparison)."):
            bar = st.progress(0.0, text="Training the new model…")
            try:
                cand = candidate.train_candidate(
                    up.accepted, models_dir,
                    progress=lambda f, m: bar.progress(min(max(float(f), 0.0), 1.0), text=m))
            except ValueError as exc:
                bar.empty()
                st.error(f"The model could not be trained on this file: {md(exc)}",
                         icon=":material/error:")
                return
            bar.empty()
            memo["train"] = (up.fingerprint, cand)
            st.rerun()
        return
    cand = trained[1]
    where = candidate.standing(cand, models_dir)
    if where == candidate.SAME:
        st.info("These customers and settings give exactly the model already in use; there is "
                "nothing new to switch to.", icon=":material/info:")
        return
    if where == candidate.IN_USE:
        st.success(f"The new model (version {cand.version[:8]}) is now in use on every page. "
                   "Compare it with earlier versions, or switch back, on the Model report page.",
                   icon=":material/check_circle:")
        for warning in memo.pop("activate_warnings", []):
            st.warning(warning, icon=":material/cloud_off:")
        return
    st.markdown(f"New model: **{candidate.family_label(cand)}**, version `{cand.version[:8]}` "
                f"({candidate.how_obtained(cand)}).")
    st.dataframe(style_comparison(cand), hide_index=True, width="stretch",
                 key="upload_comparison",
                 column_config={"label": "Metric", "champion": "Model in use",
                                "challenger": "New model", "better": "Better"})
    st.caption(f"Both models score the same {fmt.count(cand.holdout_rows)} customers of this file, "
               "which the new model did not learn from (the model in use may have, if they were "
               "in its training data). Higher is better for ROC-AUC, PR-AUC and lift; lower for "
               "Brier score, log loss and calibration error.")
    with st.expander("Model families compared for the new model"):
        st.dataframe(candidate.families_frame(cand, models_dir), hide_index=True,
                     width="stretch", key="upload_families")
    if admin.unlocked("upload_activate_admin", "Putting the new model in use") and st.button(
            "Put the new model in use", key="upload_activate", type="primary",
            icon=":material/published_with_changes:",
            help="Every page and every user switches to the new model. You can switch back on "
                 "the Model report page."):
        memo["activate_warnings"] = candidate.put_in_use(cand, models_dir)
        st.rerun()



def style_comparison(cand: candidate.Candidate):
    """`churn.candidate.comparison_frame` as a Styler: each metric in the Model report's format
    ("0.662", "2.91×", "4.8 pp")."""
    from churn.model_report import formatter

    frame = candidate.comparison_frame(cand)
    styler = frame.style
    for i, row in enumerate(cand.comparison):
        styler = styler.format(formatter(row["metric"]),
                               subset=(frame.index[i:i + 1], ["champion", "challenger"]))
    return styler
