"""Customer what-if: one customer's risk, its reasons, and how changes would move it."""
import streamlit as st

from churn import whatif
from ui import empty, state
from ui import explain_cache as cache
from ui import format as fmt
from ui import whatif_compare, whatif_form, whatif_pick, whatif_results, whatif_sweep
from ui.text import md
from ui.whatif_state import keep, put

st.title("Customer what-if")
st.caption("Pick a customer, see why they might leave, and try changes to their plan.")
model = empty.needs_model("The what-if view")

pick = whatif_pick.picker(model)  # never a customer who has left; a saved batch stays stored
if pick.count == 0:
    st.info("The chosen data set has no customers.")
    st.stop()
settings = state.settings()
eng = cache.engine()

# --- choose the customer ------------------------------------------------------------------------
top = pick.top
PICK, TOP = "whatif_customer", "whatif_top"
keep(PICK)  # Streamlit forgets a widget's value while another page is shown
# Another data set chosen in the sidebar: start from its highest-risk customer.
chosen_in = (state.dataset().key if state.dataset() else None, pick.ids is None)
if (st.session_state.get("whatif_customer_of") != chosen_in or not st.session_state.get(PICK)
        or (pick.ids is not None and st.session_state[PICK] not in set(pick.ids))):
    put(PICK, top["customerID"].iloc[0])
    st.session_state["whatif_customer_of"] = chosen_in


def _pick_top():
    if st.session_state.get(TOP):
        st.session_state[PICK] = st.session_state[TOP]


risk_of = dict(zip(top["customerID"], top["churn_prob"]))
c1, c2 = st.columns(2)
if pick.ids is not None:
    c1.selectbox("Customer ID", pick.ids, key=PICK,
                 help="Type part of an ID to search, e.g. 7590.")
else:
    c1.text_input("Customer ID", key=PICK, help="Type the full customer ID, e.g. 7590-VHVEG.")
c2.selectbox("Or pick one of the 20 highest-risk customers", top["customerID"].tolist(),
             index=None, key=TOP, on_change=_pick_top, placeholder="Highest risk first",
             format_func=lambda i: f"{i} · {fmt.pct(risk_of[i])} risk")

original = pick.find(str(st.session_state[PICK]).strip())
if original is None:
    st.warning(f"No customer with ID “{md(st.session_state[PICK])}” among the customers still "
               "here in this data set.")
    st.stop()

# --- the form and the figures ---------------------------------------------------------------------
# A fragment: an edit in the form reruns only this part, not the customer picker, the sidebar or
# the highest-risk list above (issue 18: ≤ 250 ms from a widget change to the figures drawn).
@st.fragment
def customer_section(original):
    changed, message = whatif_form.prepare(original)
    view0 = cache.customer_view(eng, original, settings)
    view = cache.customer_view(eng, changed, settings)
    table = whatif.compare(original, changed)
    is_changed = bool(table["changed_flag"].any())
    whatif_results.metrics(view, view0, is_changed)

    form_col, result_col = st.columns([3, 2], gap="large")
    with form_col:
        st.subheader("Try changes")
        whatif_form.draw(original, changed)
        whatif_form.reset_button(original)
        if message:
            st.warning(message + " Total charges follow tenure × monthly charges instead.")
    with result_col:
        whatif_results.waterfall(view)

    st.subheader("Best offers")
    whatif_results.offers(view)
    whatif_results.changes(table)

    st.subheader("Sweep one feature")
    whatif_sweep.show(eng, changed, pick.sweep_customers, settings)

    st.subheader("Compare customers")
    whatif_compare.show(eng, changed, is_changed, settings)


customer_section(original)
