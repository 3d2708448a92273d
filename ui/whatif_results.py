"""The what-if page's figures for the customer as edited: the headline metrics, the waterfall
(with its depth and order controls), the reasons in sentences, and the best offers.

Layout only; the numbers come from `Engine.customer_view` (via `ui.explain_cache`), the rows of
the waterfall from `churn.whatif.waterfall_rows`, the offer ranking's reasons from
`churn.whatif.rank_reasons`.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from churn import campaign as C
from churn import explain as E
from churn import schema
from churn import whatif as W
from ui import html_table, waterfall_html
from ui import format as fmt
from ui.whatif_state import keep

DEPTH = "whatif_depth"
ORDER = "whatif_order"
ORDERS = {"effect": "Largest effect first", "feature": "Form order"}


def metrics(view, view0, is_changed: bool) -> None:
    """Four cards across the full width (full labels, nothing truncated)."""
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Churn probability", fmt.pct(view.prob),
              delta=fmt.pp(view.prob - view0.prob) if is_changed else None,
              delta_color="inverse", help="The model's calibrated probability that this "
              "customer leaves. The change is in percentage points from the real customer.")
    m2.metric("Risk tier", view.tier, help="High / Medium / Low by the thresholds in the sidebar.")
    m3.metric("Lifetime value", fmt.money(view.clv),
              delta=fmt.money(view.clv - view0.clv) if is_changed else None,
              help="Expected margin over the horizon in the sidebar, discounted, in dollars.")
    offers = view.offers
    best = None if offers is None or len(offers) == 0 else offers.iloc[0]
    m4.metric("Best offer's net value", "—" if best is None else fmt.money(
        best["expected_net_value"]), help="Expected revenue saved by the top-ranked offer, "
              "minus its cost, in dollars (see the offers table below).")


def waterfall(view) -> None:
    """The waterfall with its controls (how many drivers, in which order) in a small pop-over
    above it, the unit note under it, then the main reasons in sentences.

    The controls sit in a pop-over, and the note inside the chart's HTML, because every element
    drawn costs the browser on each edit of the form (issue 18): a pop-over's widgets are not
    drawn until it is opened."""
    keep(DEPTH, ORDER)
    st.session_state.setdefault(DEPTH, 8)
    st.session_state.setdefault(ORDER, "effect")
    shown = f"{st.session_state[DEPTH]} drivers, {ORDERS[st.session_state[ORDER]].lower()}"
    with st.popover(f"Chart: {shown}", icon=":material/tune:",
                    help="How many drivers get their own bar, and in which order."):
        k = st.slider("Drivers shown", 1, len(schema.FEATURES), key=DEPTH,
                      help="How many features get their own bar; the rest are added up as "
                           f"“{E.OTHER_LABEL}”.")
        order = st.radio("Order", list(ORDERS), key=ORDER, format_func=ORDERS.get,
                         horizontal=True, help="Largest effect first, or the shown features in "
                                               "the form's order.")
    rows = W.waterfall_rows(view.explanation, 0, k=k, order=order)
    st.html(waterfall_html.waterfall(rows, note=E.UNIT_NOTE))
    expl = view.explanation
    up = E.top_drivers(expl, k=3, direction="up").iloc[0]
    down = E.top_drivers(expl, k=2, direction="down").iloc[0]
    lines = [up[f"driver_{j}_text"] for j in (1, 2, 3) if up[f"driver_{j}"]]
    lines += [down[f"driver_{j}_text"] for j in (1, 2) if down[f"driver_{j}"]]
    st.markdown("\n".join(f"- {t}" for t in lines) or "No feature moves this customer's risk.")


def changes(table: pd.DataFrame) -> None:
    """The features the user changed, real value beside the what-if value (a static table: a
    scrolling grid cost the browser about 70 ms on every edit, issue 18)."""
    changed = table[table["changed_flag"]]
    with st.expander(f"Real vs changed ({len(changed)} of {len(table)} features changed)"):
        if len(changed) == 0:
            st.caption("Nothing changed yet: every feature holds the customer's real value.")
            return
        shown = pd.DataFrame({"Feature": changed["label"].to_numpy(),
                              "Real value": changed["original"].to_numpy(),
                              "What-if value": changed["changed"].to_numpy()})
        st.html(html_table.table(shown))


#: The ranked-offers columns the table shows under business names, in order. Any other column
#: the engine adds (e.g. whether P(accept) is learned or assumed) is shown after them.
KNOWN = {"rank": "Rank", "offer_name": "Offer", "expected_net_value": "Expected net value",
         "offer_cost": "Cost", "p_accept": "Chance of acceptance", "rule_reason": "Why this offer"}
#: Columns of the offers table aligned right (figures).
MONEY_AND_SHARES = ("Expected net value", "Risk change", "Cost", "Chance of acceptance")
HIDDEN = {schema.ID, "offer_id", "from_rules", "ranking_score", "expected_saved_value",
          "uplift", "basis", "sleeping_dog"}
#: Tooltips of the offers table's columns.
OFFERS_HELP = {
    "Expected net value": "The churn the offer prevents × lifetime value − its cost, in dollars.",
    "Basis": "learned: measured in past campaigns with a control group, for customers like "
             "this one. assumed: the catalogue's risk reduction × chance of acceptance (too "
             "little campaign history for this offer).",
    "Risk change": "How much making the offer changes this customer's chance of leaving, in "
                   "percentage points (negative = fewer leave).",
}


def offers_table(offers: pd.DataFrame) -> pd.DataFrame:
    """The ranked offers as shown: business names, dollars and percentages, the reason for
    the rank (`churn.whatif.rank_reasons`), then any further column unchanged."""
    reason = offers["rule_reason"].fillna("").astype(str)
    out = pd.DataFrame({
        "Rank": offers["rank"].astype(int).to_numpy(),
        "Offer": offers["offer_name"].astype(str).to_numpy(),
        "Expected net value": [fmt.money(v) for v in offers["expected_net_value"]],
        "Why this offer": reason.where(reason != "", "Similar customers accepted it").to_numpy(),
        "Why this rank": W.rank_reasons(offers).to_numpy(),
        **({"Basis": offers["basis"].fillna("").astype(str).to_numpy(),
            "Risk change": [fmt.pp(-v) for v in offers["uplift"]]}
           if {"basis", "uplift"} <= set(offers.columns) else {}),
        "Cost": [fmt.money(v) for v in offers["offer_cost"]],
        "Chance of acceptance": [fmt.pct(v) for v in offers["p_accept"]],
    })
    for c in offers.columns:
        if c not in KNOWN and c not in HIDDEN:
            out[str(c).replace("_", " ").capitalize()] = offers[c].to_numpy()
    return out


def offers(view) -> None:
    """The best offers, with a warning when none is worth making."""
    ranked = view.offers
    if ranked is None or len(ranked) == 0:
        st.info("No offer in the catalogue applies to this customer.")
        return
    if "sleeping_dog" in ranked.columns and bool(ranked["sleeping_dog"].any()):
        st.warning(C.SLEEPING_DOG_REASON, icon=":material/do_not_disturb_on:")
    elif not W.offer_worth_making(ranked):
        st.warning(W.NO_OFFER_WORTH, icon=":material/money_off:")
    # A static table: every column fits the page and the reasons wrap (a scrolling grid put
    # "Why this offer" off-screen at 1440 px); plain HTML, escaped (`ui.html_table`).
    table = offers_table(ranked)
    st.html(html_table.table(table, right=MONEY_AND_SHARES))
    shown = [f"**{c}**: {h}" for c, h in OFFERS_HELP.items() if c in table.columns]
    st.caption(" ".join(shown) + " Offers are ranked by their ranking value: the expected saved "
               "revenue minus the cost. An offer with an assumed effect that no risk driver calls "
               "for counts its saved revenue at 80%, so a rule-backed offer can rank above one "
               "with a higher net value. Offers with a learned effect rank on their net value.")
