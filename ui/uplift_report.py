"""The Model report's uplift section: what each offer really does, learned from past campaigns.

Data from ``churn.uplift.report`` (out-of-fold Qini figures and curves, the budget risk-only
targeting wastes, the features that drive each offer's effect), cached per engine (model version
and uplift model). Figure builders are plain functions of those tables, so tests call them
directly; ``show()`` is the whole section (the page calls it in one line).
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui import format as fmt
from ui.chart_style import readable

POLICY_STYLE = {"model": ("Uplift model", "#2ca02c", "solid"),
                "risk only": ("Highest churn risk first", "#d62728", "dash"),
                "random": ("Random", "#7f7f7f", "dot")}


@st.cache_resource(show_spinner="Evaluating the uplift model…", max_entries=2)
def _data(version: str, uplift_key: tuple, _engine) -> dict:
    """``churn.uplift.report`` on the customers still here, with the offers a risk-only campaign
    makes today (the catalogue's assumed best offer, ranked without the uplift model)."""
    from churn import cache, config

    p = config.paths()
    # also kept in the data folder's results cache (about 3.5 s per server start otherwise),
    # keyed by everything the report reads, as the shared scoring is (ui.context._scored_key)
    k = cache.key("uplift_report", version, uplift_key, cache.file_stamp(p.catalogue),
                  cache.file_stamp(p.customers_csv), cache.file_stamp(p.campaign_history_csv),
                  cache.file_stamp(p.store))
    return cache.results().get("uplift_report", k, lambda: _compute(_engine))


def _compute(_engine) -> dict:
    import copy

    from churn import uplift as U
    from churn.config import BusinessSettings

    customers = _engine.customers
    if "Churn" in customers.columns:  # judge targeting on the customers still here
        customers = customers[customers["Churn"] == 0]
    assumed = copy.copy(_engine)
    assumed.uplift = None
    table = assumed.score(customers, BusinessSettings(), drivers=0)
    costs = {o.id: float(o.cost) for o in _engine.catalogue.offers}
    return U.report(_engine.uplift, customers, table["churn_prob"].to_numpy(), costs,
                    offer_choice=table["offer_id"].to_numpy())


def offer_names(engine) -> dict[str, str]:
    """{offer_id: catalogue name} (the id itself for offers not in the catalogue)."""
    return {o.id: o.name for o in engine.catalogue.offers}


def offers_table(offers: pd.DataFrame, names: dict) -> pd.DataFrame:
    """The per-offer table as shown: names, learned/assumed, history sizes and held-out figures
    (Qini as a number, uplift in the top 20% as "+4.1 pp" of churn avoided)."""
    def num(v):
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"

    return pd.DataFrame({
        "Offer": [names.get(o, f"{o} (not in the catalogue)") for o in offers["offer_id"]],
        "Effect": offers["basis"].map({"learned": "learned", "assumed": "assumed"}).to_numpy(),
        "Offered": offers["treated"].to_numpy(),
        "Control": offers["control"].to_numpy(),
        "Qini: model": [num(v) for v in offers["qini_model"]],
        "Qini: risk": [num(v) for v in offers["qini_risk"]],
        "Top 20%: model": [fmt.pp(v) for v in offers["uplift_at_20_model"]],
        "Top 20%: risk": [fmt.pp(v) for v in offers["uplift_at_20_risk"]],
        "Top 20%: random": [fmt.pp(v) for v in offers["uplift_at_20_random"]],
    })


#: Tooltips of the per-offer table's columns.
TABLE_HELP = {
    "Effect": "Learned: measured from past campaigns with a control group. Assumed: too little "
              "history, so the catalogue's risk reduction is used.",
    "Offered": "Customers offered it in past campaigns (with a known outcome).",
    "Control": "Customers held out at random who would have got it.",
    "Qini: model": "Held-out Qini coefficient when customers are ordered by the uplift model "
                   "(above 0: better than random).",
    "Qini: risk": "The same when customers are ordered by churn risk alone.",
    "Top 20%: model": "Churn avoided (control churn rate minus offered churn rate, held-out "
                      "customers) among the 20% the uplift model ranks first.",
    "Top 20%: risk": "The same among the 20% with the highest churn risk.",
    "Top 20%: random": "The same for everyone: what offering at random achieves.",
}


@readable
def qini_figure(curves: pd.DataFrame, offer_id: str, name: str) -> go.Figure:
    """Out-of-fold Qini curves of one offer: uplift model, highest risk first, random."""
    fig = go.Figure()
    c = curves[curves["offer_id"] == offer_id]
    for policy, (label, color, dash) in POLICY_STYLE.items():
        part = c[c["policy"] == policy]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(x=100 * part["share"], y=100 * part["qini"], name=label,
                                 mode="lines", line={"color": color, "dash": dash},
                                 hovertemplate="best %{x:.0f}% offered: %{y:.1f} extra customers "
                                               "kept per 100 offered<extra></extra>"))
    fig.update_layout(title=f"Qini curve: {name}", height=360, margin={"l": 10, "r": 10, "t": 50,
                                                                       "b": 10},
                      xaxis_title="Customers offered, best first (% of those in past campaigns)",
                      yaxis_title="Extra kept per 100 offered",
                      legend={"orientation": "h", "y": -0.25})
    return fig


@readable
def drivers_figure(drivers: pd.DataFrame, offer_id: str, name: str) -> go.Figure:
    """What drives one offer's effect: mean absolute contribution in percentage points."""
    d = drivers[drivers["offer_id"] == offer_id].iloc[::-1]
    fig = go.Figure(go.Bar(x=d["mean_abs_pp"], y=d["label"], orientation="h",
                           marker_color="#2ca02c",
                           hovertemplate="%{y}: moves the offer's effect by %{x:.1f} points on "
                                         "average<extra></extra>"))
    fig.update_layout(title=f"What changes the effect of {name}", height=320,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      xaxis_title="Average size of the feature's part in the effect (pp of churn)")
    return fig


def show(key: str = "uplift") -> None:
    """The whole section: explanation, per-offer table, Qini curves, wasted budget, drivers."""
    from churn import uplift as U
    from ui import context

    st.subheader("What offers really do (uplift)")
    engine = context.engine()
    model = getattr(engine, "uplift", None)
    if model is None:
        st.caption("No campaign history in this data folder, so every offer's effect is the "
                   "catalogue's assumption. Campaigns with a control group build that history.")
        return
    data = _data(engine.version, (model.n_rows_, tuple(model.learned_), model.learner_), engine)
    names = offer_names(engine)
    st.caption(
        "**Uplift** is how much an offer lowers a customer's chance of leaving, learned from past "
        "campaigns that kept a random control group (offered vs not offered). Offers with at "
        f"least {model.min_treated:,} offered and {model.min_control:,} control customers are "
        "**learned**; the others keep the catalogue's **assumed** effect. Figures below are "
        f"out of fold: the history's customers are split into {model.folds} parts, and each "
        "part is scored by models learned from the others, which never saw them "
        f"({data['learner']} kept: the best Qini of {len(U.LEARNERS)} learners). The "
        "**Qini** number is the area between a targeting order's curve and random targeting: "
        "above 0 means it finds the customers the offer helps better than chance.")
    st.dataframe(offers_table(data["offers"], names), hide_index=True, key=f"{key}_offers",
                 column_config={c: (st.column_config.NumberColumn(c, help=h, format="localized")
                                    if c in ("Offered", "Control")
                                    else st.column_config.Column(c, help=h))
                                for c, h in TABLE_HELP.items()})
    note = U.ranking_note(data["offers"])
    if note:
        st.caption(note)
    learned = [o for o in data["offers"]["offer_id"] if o in model.learned_]
    if not learned:
        st.info("No offer has enough history yet to learn its effect.")
        return
    waste = data["waste"]
    if waste["customers"]:
        st.metric("Budget that risk-only targeting spends on customers the offer does not help",
                  fmt.pct(waste["share_wasted"]),
                  help="A campaign the old way: the 20% of current customers with the highest "
                       "churn risk, each with the catalogue's best offer for them. The share of "
                       "its cost that goes to customers for whom past campaigns show that offer "
                       "lowers churn by less than 1 point, or raises it.")
        unknown = (f" {fmt.money(waste['unknown'])} goes to offers with too little history to "
                   "tell." if waste["unknown"] else "")
        st.caption(f"Of {fmt.money(waste['budget'])} for the {waste['customers']:,} riskiest "
                   f"customers, {fmt.money(waste['wasted'])} goes to customers the offer does "
                   f"not help; {waste['negative']:,} of them would be more likely to leave "
                   f"(\"sleeping dogs\").{unknown}")
    offer = st.selectbox("Offer", learned, format_func=lambda o: names.get(o, o),
                         key=f"{key}_offer")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(qini_figure(data["curves"], offer, names.get(offer, offer)),
                        key=f"{key}_qini")
    with right:
        st.plotly_chart(drivers_figure(data["drivers"], offer, names.get(offer, offer)),
                        key=f"{key}_drivers")
    st.caption("Left: customers ordered by the uplift model (green), by churn risk alone (red) "
               "or at random (grey); the higher the curve, the more extra customers kept for "
               "the same number of offers. Right: the customer features that make this offer "
               "work better or worse, in percentage points of churn probability (the difference "
               "between the offered and the not-offered models' explanations).")
