"""Customers: every scored customer of the data set in use, searchable by ID, filterable by risk
tier, segment and lifetime value, sorted and paged (works the same for a million customers)."""
import streamlit as st

from churn import customer_list as cl
from ui import empty, format as fmt, state
from ui import customer_list as ui_list
from ui.text import md

st.title("Customers")
ref = state.dataset()
st.caption(f"Customers in use: **{md(ref.label) if ref else 'Sample data'}**. Change them in the "
           "sidebar. Search, filter and sort every customer; the list shows one page at a time.")

if empty.needs_model("The customer list") is None:
    st.stop()
source = ui_list.source()
if source is None or source.rows == 0:
    st.info("This data set has no customers to list. Pick another one in the sidebar.",
            icon=":material/group_off:")
    st.stop()
facets = ui_list.facets(source)

# --- filters ------------------------------------------------------------------------------------
top = st.columns([2, 2, 3])
search = top[0].text_input("Search by customer ID", key="customers_search", max_chars=cl.MAX_SEARCH,
                           placeholder="e.g. 7590", help="Any part of the ID; case is ignored.")
tiers = top[1].multiselect("Risk tier", list(cl.TIERS), key="customers_tiers",
                           placeholder="All tiers",
                           help="High and Medium follow the thresholds in the sidebar's business "
                                "settings.")
seg_cols = top[2].columns([2, 3])
segment = seg_cols[0].selectbox("Segment", list(cl.SEGMENT_COLUMNS), key="customers_segment",
                                format_func=cl.SEGMENT_COLUMNS.get)
values = seg_cols[1].multiselect(cl.SEGMENT_COLUMNS[segment], facets[segment],
                                 key=f"customers_values_{segment}", placeholder="All")

low, high = facets["clv"]
row = st.columns([2, 2, 2, 1, 1])
clv_min = row[0].number_input("Lifetime value from ($)", min_value=0.0, value=None, step=100.0,
                              key="customers_clv_min", placeholder=fmt.money(low),
                              help="Customer lifetime value: margin expected over the horizon "
                                   "set in the sidebar, discounted. Leave empty for no limit.")
clv_max = row[1].number_input("Lifetime value up to ($)", min_value=0.0, value=None, step=100.0,
                              key="customers_clv_max", placeholder=fmt.money(high))
sort = row[2].selectbox("Sort by", list(cl.SORTS), key="customers_sort",
                        format_func=cl.SORTS.get)
descending = row[3].toggle("Largest first", value=True, key="customers_desc")
page_size = row[4].selectbox("Per page", cl.PAGE_SIZES, key="customers_page_size")

filters = cl.Filters(tiers=tuple(tiers), segment=segment, segment_values=tuple(values),
                     clv_min=clv_min, clv_max=clv_max, search=search, sort=sort,
                     descending=descending)

# --- totals -------------------------------------------------------------------------------------
totals = cl.summary(source, filters)
cards = st.columns(3)
cards[0].metric("Matching customers", fmt.count(totals["customers"]), border=True,
                help=f"Of {fmt.count(source.rows)} customers in the data set.")
cards[1].metric("Their revenue at risk", fmt.money_short(totals["revenue_at_risk"]), border=True,
                help="Churn probability × lifetime value, added up over the matching customers: "
                     f"{fmt.money(totals['revenue_at_risk'])}.")
cards[2].metric("Expected to leave", fmt.count(round(totals["expected_churners"])), border=True,
                help="The matching customers' churn probabilities added up (a customer at 30% "
                     "counts as 0.3).")

if totals["customers"] == 0:
    st.info("No customer matches these filters. Clear the search or widen the filters.",
            icon=":material/filter_alt_off:")
    st.stop()

# --- the page -----------------------------------------------------------------------------------
pages = -(-totals["customers"] // page_size)
nav = st.columns([1, 4], vertical_alignment="bottom")
page_no = nav[0].number_input(f"Page (of {fmt.count(pages)})", min_value=1, max_value=pages,
                              value=1, step=1, key=f"customers_page_{hash(filters)}_{page_size}")
found = cl.page(source, filters, int(page_no), page_size)
first = (found.page - 1) * page_size + 1
nav[1].caption(f"Customers {fmt.count(first)}–{fmt.count(first + len(found.rows) - 1)} of "
           f"{fmt.count(found.total)}, sorted by {cl.SORTS[sort].lower()} "
           f"({'largest' if descending else 'smallest'} first).")
st.dataframe(
    fmt.percent_columns(found.rows, ["churn_prob"]), hide_index=True, width="stretch",
    key="customers_table",
    column_order=["customerID", "risk_tier", "churn_prob", "revenue_at_risk", "clv",
                  "offer_name", "driver_1_text", "Contract", "InternetService", "PaymentMethod",
                  "tenure", "MonthlyCharges"],
    column_config={
        "customerID": st.column_config.TextColumn("Customer ID", pinned=True),
        "risk_tier": st.column_config.TextColumn("Risk tier", width="small"),
        "churn_prob": st.column_config.NumberColumn("Churn risk", format=fmt.PERCENT, width="small",
                                                    help="Probability of leaving."),
        "revenue_at_risk": st.column_config.NumberColumn(
            "Revenue at risk", format="dollar", help="Churn risk × lifetime value."),
        "clv": st.column_config.NumberColumn("Lifetime value", format="dollar"),
        "offer_name": st.column_config.TextColumn("Best offer", width=200),
        "driver_1_text": st.column_config.TextColumn("Main reason for the risk", width=430),
        "Contract": st.column_config.TextColumn("Contract"),
        "InternetService": st.column_config.TextColumn("Internet"),
        "PaymentMethod": st.column_config.TextColumn("Payment method"),
        "tenure": st.column_config.NumberColumn("Tenure (months)"),
        "MonthlyCharges": st.column_config.NumberColumn("Monthly bill", format="dollar"),
    })
