"""Model report: how well the churn models predict, compared side by side."""
import streamlit as st

from ui import context

st.title("Model report")
st.caption("How well each churn model predicts on customers it has not seen.")
if context.active_model() is None:
    st.info("No churn model has been trained yet. Train one from the command line with "
            "`python -m churn train`.", icon=":material/model_training:")
