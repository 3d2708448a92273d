"""Upload & score: check a customer file row by row, score every valid customer, see whether
they look like the training data, then use them in this session, save them for everyone, or
retrain the model on them (when the file says who left)."""
import streamlit as st

from churn import schema
from ui import context, format as fmt, state
from ui import upload as U
from ui import upload_view as V
from ui.navigation import MODEL_REPORT
from ui.text import md

st.title("Upload & score")
st.caption("Upload a customer file in the IBM Telco layout (CSV or Excel). Every problem is "
           "reported by row before anything is scored; only the valid customers are scored.")

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

st.download_button("Template CSV", schema.template_csv_bytes, file_name="customers-template.csv",
                   mime="text/csv", key="upload_template", on_click="ignore",
                   icon=":material/download:",
                   help="Three example customers in the right columns and formats: replace them "
                        "with yours. Add a Churn column (Yes/No) to retrain or check the model.")
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

V.check_cards(report)

if report.errors:
    st.markdown(f"**Errors** — these rows were rejected ({fmt.count(report.rejected_rows)}):")
    st.dataframe(U.problems_frame(report.errors), hide_index=True, width="stretch",
                 key="upload_errors",
                 column_config=V.PROBLEM_COLUMNS)
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
                 column_config=V.PROBLEM_COLUMNS)
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
    column_config=V.SCORE_COLUMNS)
st.download_button(
    "Download every score (CSV)", lambda: U.scores_csv(accepted, table),
    file_name=f"{U.default_name(up.file_name)}-scores.csv", mime="text/csv",
    key="upload_scores_download", icon=":material/download:", on_click="ignore",
    help="All scored customers with probability, risk tier, reasons, lifetime value, revenue "
         "at risk and best offer.")

V.drift_section(up)
V.use_section(up, memo)
if up.has_outcomes:
    V.retrain_section(up, memo)
else:
    st.caption("This file has no Churn column, so it can be scored but not used to retrain the "
               "model.")
