"""Customer what-if: one customer's risk, its reasons, and how changes would move it."""
import streamlit as st

from churn import explain as E
from churn import schema, whatif
from ui import context, empty, state
from ui import explain_cache as cache
from ui import explain_charts as charts
from ui import format as fmt
from ui import whatif_form

st.title("Customer what-if")
st.caption("Pick a customer, see why they might leave, and try changes to their plan.")
model = empty.needs_model("The what-if view")

customers = context.active_customers()  # never a customer who has left
if len(customers) == 0:
    st.info("The chosen data set has no customers.")
    st.stop()
settings = state.settings()
eng = cache.engine()

# --- choose the customer ------------------------------------------------------------------------
ids = customers[schema.ID].astype(str)
top = cache.highest_risk(model, customers, 20)
PICK, TOP = "whatif_customer", "whatif_top"
if st.session_state.get(PICK) not in set(ids):
    st.session_state[PICK] = top["customerID"].iloc[0]


def _pick_top():
    if st.session_state.get(TOP):
        st.session_state[PICK] = st.session_state[TOP]


risk_of = dict(zip(top["customerID"], top["churn_prob"]))
c1, c2 = st.columns(2)
if len(ids) <= cache.SELECT_LIMIT:
    c1.selectbox("Customer ID", ids.tolist(), key=PICK,
                 help="Type part of an ID to search, e.g. 7590.")
else:
    c1.text_input("Customer ID", key=PICK, help="Type the full customer ID, e.g. 7590-VHVEG.")
c2.selectbox("Or pick one of the 20 highest-risk customers", top["customerID"].tolist(),
             index=None, key=TOP, on_change=_pick_top, placeholder="Highest risk first",
             format_func=lambda i: f"{i} · {fmt.pct(risk_of[i])} risk")

match = customers.index[ids.to_numpy() == st.session_state[PICK]]
if len(match) == 0:
    st.warning(f"No customer with ID {st.session_state[PICK]!r} in this data set.")
    st.stop()
original = customers.loc[match[0]]

# --- the form and the figures -------------------------------------------------------------------
form_col, result_col = st.columns([3, 2], gap="large")
with form_col:
    st.subheader("Try changes")
    changed, message = whatif_form.show(original)
    whatif_form.reset_button(original)
    if message:
        st.warning(message + " Total charges follow tenure × monthly charges instead.")

view0 = cache.customer_view(eng, original, settings)
view = cache.customer_view(eng, changed, settings)
is_changed = bool(whatif.compare(original, changed)["changed_flag"].any())

with result_col:
    m1, m2, m3 = st.columns(3)
    m1.metric("Churn probability", fmt.pct(view.prob),
              delta=fmt.pp(view.prob - view0.prob) if is_changed else None,
              delta_color="inverse", help="The model's calibrated probability that this "
              "customer leaves. The change is in percentage points from the real customer.")
    m2.metric("Risk tier", view.tier, help="High / Medium / Low by the thresholds in the sidebar.")
    m3.metric("Lifetime value", fmt.money(view.clv),
              delta=fmt.money(view.clv - view0.clv) if is_changed else None,
              help="Expected margin over the horizon in the sidebar, discounted, in dollars.")
    expl = view.explanation
    st.plotly_chart(charts.waterfall(E.waterfall_data(expl, 0, k=8)), key="whatif_waterfall")
    st.caption(E.UNIT_NOTE)
    up = E.top_drivers(expl, k=3, direction="up").iloc[0]
    down = E.top_drivers(expl, k=2, direction="down").iloc[0]
    lines = [up[f"driver_{j}_text"] for j in (1, 2, 3) if up[f"driver_{j}"]]
    lines += [down[f"driver_{j}_text"] for j in (1, 2) if down[f"driver_{j}"]]
    st.markdown("\n".join(f"- {t}" for t in lines) or "No feature moves this customer's risk.")

left, right = st.columns(2)
with left:
    st.subheader("Best offers")
    offers = view.offers
    if offers is None or len(offers) == 0:
        st.info("No offer in the catalogue applies to this customer.")
    else:
        if cache.offers_note(offers):
            st.warning(cache.offers_note(offers))
        st.dataframe(cache.offers_table(offers), hide_index=True, key="whatif_offers",
                     column_config={c: st.column_config.Column(c, help=h)
                                    for c, h in cache.OFFERS_HELP.items()})
with right:
    st.subheader("Real vs changed")
    table = whatif.compare(original, changed)
    st.dataframe(table.drop(columns=["feature"]), hide_index=True, key="whatif_compare",
                 column_config={"label": "Feature", "original": "Real value",
                                "changed": "What-if value",
                                "changed_flag": st.column_config.CheckboxColumn("Changed")})
