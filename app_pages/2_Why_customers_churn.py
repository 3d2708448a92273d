"""Why customers churn: the risk drivers across all customers, in percentage points."""
import streamlit as st

from churn import explain as E
from churn import schema
from ui import context, empty, state
from ui import explain_cache as cache
from ui import explain_charts as charts

st.title("Why customers churn")
st.caption("What raises or lowers churn risk across your customers, and by how much.")
model = empty.needs_model("Explaining churn")

# Explanations are about the labelled history. A saved batch stays in the store: only the
# customers explained (a repeatable random sample when it is larger) are fetched from it.
ref = state.dataset()
from_store = ref is not None and ref.kind == "saved"
customers = None if from_store else context.history_customers()
n = ref.rows if from_store else len(customers)
st.caption(context.explained_line(customers))
if n == 0:
    st.info("The chosen data set has no customers.")
    st.stop()

if n > E.DEFAULT_SAMPLE_SIZE:
    sample_size = int(st.number_input(
        "Customers to explain", min_value=min(500, n), max_value=n,
        value=E.DEFAULT_SAMPLE_SIZE, step=1000, key="why_sample_size",
        help="Large data sets are explained on a random sample (the same sample every time). "
             "More customers give steadier charts but take longer the first time."))
    st.caption(f"Explained on a random {sample_size:,} of {n:,} customers (the same customers "
               "every time); the charts below describe them.")
else:
    sample_size = E.DEFAULT_SAMPLE_SIZE
    st.caption(f"Explaining all {n:,} customers.")
if from_store:
    customers = context.history_sample(sample_size)

seed = 0
expl = cache.global_explanation(model, customers, sample_size, seed)
key = (E.model_version(model), cache.fingerprint(customers), sample_size, seed)
importance, _ = cache.why_tables(*key, expl)
importance_chart, beeswarm_chart = cache.why_figures(*key, expl)

# Two views of the same explanation, one tab each; only the open tab is built (the tabs rerun
# the page): the per-customer chart costs the browser about 0.5 s to draw on every visit.
avg_tab, each_tab = st.tabs(["Average effect of each feature", "Effect on each customer"],
                            key="why_chart_tab", on_change="rerun")
with avg_tab:
    if avg_tab.open is not False:
        st.plotly_chart(importance_chart, key="why_importance_chart")
        st.caption(E.UNIT_NOTE + " Open “Effect on each customer” to see, customer by customer, "
                   "which way each feature pushes and for whom.")
with each_tab:
    if each_tab.open:
        st.plotly_chart(beeswarm_chart, key="why_beeswarm_chart")
        st.caption((f"Each dot is a customer: {cache.BEESWARM_CUSTOMERS:,} of the {len(expl):,} "
                    "explained, drawn at random within each tenth of predicted risk so they have "
                    "the same mix of risk. " if len(expl) > cache.BEESWARM_CUSTOMERS else
                    "Each dot is a customer. ") + E.UNIT_NOTE)


# A fragment: choosing a feature redraws this section only, not the charts above.
@st.fragment
def feature_section():
    st.subheader("One feature up close")
    labels = {f: schema.label(f) for f in schema.FEATURES}
    by_importance = importance["feature"].tolist()
    c1, c2 = st.columns(2)
    feature = c1.selectbox("Feature", by_importance, key="why_feature",
                           format_func=labels.get,
                           help="The feature whose effect on churn risk is shown.")
    color_by = c2.selectbox("Colour by",
                            [f for f in by_importance if f != feature] or by_importance,
                            key="why_color_by", format_func=labels.get,
                            help="A second feature, to see how the two work together.")

    left, right = st.columns(2)
    with left:
        dep = cache.dependence(*key, feature, color_by, expl)
        st.plotly_chart(charts.dependence(dep, feature, color_by), key="why_dependence_chart")
        drawn = (f" ({cache.DEPENDENCE_POINTS:,} of the {len(expl):,} explained, drawn as in "
                 "“Effect on each customer”)"
                 if len(expl) > cache.DEPENDENCE_POINTS else "")
        st.caption(f"Each dot is a customer{drawn}; its height is the effect of this feature on "
                   "that customer's risk. " + E.UNIT_NOTE)
    with right:
        rates = cache.segments(*key, feature, customers, expl)
        if rates is None:
            st.info("Observed churn rates need the Churn column, which this data set does not "
                    "have.")
        else:
            st.plotly_chart(charts.segment_rates(rates, feature), key="why_segments_chart")
            st.caption("Bars: share of customers in each segment who actually churned, in "
                       "percent. Diamonds: the model's average predicted churn probability for "
                       "the same customers, in percent. Close values mean the data and the model "
                       "agree.")


feature_section()
