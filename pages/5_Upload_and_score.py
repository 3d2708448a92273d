"""Upload & score: check a customer file, then score every customer in it."""
import streamlit as st

from ui import empty

st.title("Upload & score")
st.caption("Upload a customer file in the IBM Telco layout (CSV or Excel): every problem is "
           "reported by row, and the valid customers are scored.")
model = empty.needs_model("Scoring uploaded customers")
