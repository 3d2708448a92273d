"""The Model report page's Streamlit parts: table styles and column help, cached accessors
(``st.cache_data`` keyed by the models folder and the model version, so a rerun never
recomputes a curve and never retrains anything), and the page's longer sections.

Tables come from ``churn.model_report`` (as text, or with column formats: no pandas Styler,
whose import brings in matplotlib), figures from ``ui.model_report_charts``.
"""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from churn import model_report as MR
from churn import schema

@st.cache_data(show_spinner="Reading the cross-validation predictions…", max_entries=4)
def oof(models_dir: str, version: str) -> pd.DataFrame:
    """``churn.models.load_oof`` of a version (treat as read-only)."""
    from churn.models import load_oof

    return load_oof(version, models_dir)


@st.cache_data(show_spinner="Drawing the model curves…", max_entries=4)
def curves(models_dir: str, version: str, labels_json: str) -> dict[str, pd.DataFrame]:
    """`curve_tables` of a version's OOF predictions (labels_json: json of {family: label});
    also kept in the data folder's results cache, so a restarted server does not recompute
    them (about 2.5 s)."""
    from churn import cache

    return cache.results().get(
        "curves", cache.key("curves", models_dir, version, labels_json),
        lambda: MR.curve_tables(oof(models_dir, version), json.loads(labels_json)))


@st.cache_data(max_entries=32)
def cost(models_dir: str, version: str, family: str, offer_cost: float,
         customer_value: float) -> pd.DataFrame:
    """`cost_frame` of one family's OOF predictions under the given dollar inputs."""
    d = oof(models_dir, version)
    return MR.cost_frame(d[schema.TARGET].to_numpy(float), d[f"p_{family}"].to_numpy(float),
                         offer_cost, customer_value)


# --- the page's longer sections ------------------------------------------------------------------
#: The caption under the per-group table (``threshold``: the decision threshold, 0..1).
SEGMENTS_NOTE = (
    "Figures of the model in use for each gender, senior citizens and contract type, from its "
    "cross-validated predictions. Predicted churn rate is the model's average churn probability "
    "for the group: close to the churn rate means it is calibrated for that group too. Recall "
    "and precision count customers at a churn probability of {threshold:.0%} or more; the "
    "metrics are explained under \"What the numbers mean\" above. Large gaps between groups "
    "mean the model ranks or calibrates some customers worse than others.")

#: The page's tabs, one per model (only the open one is built).
SECTION_TABS = ("Churn model", "Offer recommender", "What offers really do (uplift)")

#: The curve tabs: (tab label, figure of the curve tables, caption).
CURVE_TABS = (
    ("ROC", lambda c, t, rate, sel: c.roc_figure(t["roc"], sel),
     "The further a curve bends to the top left, the more churners the model catches for each "
     "customer wrongly flagged. The dashed diagonal is a coin toss."),
    ("Precision-recall", lambda c, t, rate, sel: c.pr_figure(t["pr"], rate, sel),
     "For each share of churners caught, the share of flagged customers who really churn. "
     "Higher curves mean fewer wasted offers."),
    ("Calibration", lambda c, t, rate, sel: c.reliability_figure(t["reliability"], sel),
     "Customers grouped by predicted probability (10 bins). On the dashed diagonal a predicted "
     "30% means 30% really left, so probabilities can be used in money calculations."),
    ("Cumulative gains", lambda c, t, rate, sel: c.gains_figure(t["gains"], sel),
     "Contacting customers riskiest first: the share of all churners reached after each share "
     "of customers. The dashed line is a random order."),
    ("Lift", lambda c, t, rate, sel: c.lift_figure(t["gains"], sel),
     "How many times more churners the riskiest customers hold than a random group of the same "
     "size."),
)
#: The chart keys of `CURVE_TABS`, in order.
CURVE_KEYS = ("report_roc_chart", "report_pr_chart", "report_calibration_chart",
              "report_gains_chart", "report_lift_chart")


def curves_section(tables: dict, churn_rate: float, selected: str) -> None:
    """The curves, one tab each. Only the open tab's figure is built and sent (the tabs rerun
    the page when another is chosen; Streamlit would otherwise build and the browser draw all
    five on every visit)."""
    from ui import model_report_charts as charts

    tabs = st.tabs([t[0] for t in CURVE_TABS], key="report_curve_tab", on_change="rerun")
    for tab, (_, figure, caption), key in zip(tabs, CURVE_TABS, CURVE_KEYS):
        with tab:
            if tab.open is False:
                continue
            st.plotly_chart(figure(charts, tables, churn_rate, selected), key=key)
            st.caption(caption)


def cost_defaults() -> MR.CostDefaults:
    """`churn.model_report.cost_defaults` of the data in use: the lifetime values of the active
    customers chosen in the sidebar (the sample's active base when that data set has none), the
    catalogue's offer costs and the sidebar's High-risk threshold."""
    from churn import config
    from churn.offers import load_catalogue
    from ui import context, state

    try:
        costs = [o.cost for o in load_catalogue(config.paths().catalogue).offers]
    except ValueError:  # an invalid catalogue is reported on the campaign page
        costs = []
    ref = state.dataset()
    if ref is not None and ref.kind == "saved":   # a saved batch stays in the store
        from ui import customer_list as ui_list

        source = ui_list.source()
        clv = _stored_values(context.data_key(ref), context.settings_key(), source)
        if len(clv):
            return MR.cost_defaults(clv, costs, state.settings().high_risk)
    active = context.active_customers() if ref is None or ref.kind != "saved" else ()
    if not len(active):
        active = context.sample_active_frame()
    eng = context.engine()
    clv = _lifetime_values(eng.version, context.frame_fingerprint(active),
                           context.settings_key(), eng, active, state.settings())
    return MR.cost_defaults(clv, costs, state.settings().high_risk)


@st.cache_data(show_spinner=False, max_entries=8)
def _stored_values(data_key: tuple, settings_key: tuple, _source):
    """The lifetime values of a saved batch's customers still here, from its stored list (the
    scoring's clv column: the figure `_lifetime_values` computes), without loading the batch."""
    from churn import stored_views

    return stored_views.still_here_values(_source, "clv")


@st.cache_data(show_spinner=False, max_entries=8)
def _lifetime_values(version: str, fingerprint: str, settings_key: tuple, _engine, _frame,
                     _settings):
    """Each customer's lifetime value (``churn.ltv.clv`` with the engine's survival model: the
    figure the scoring puts in its clv column), without the rest of a scoring (drivers,
    offers), so a first visit to this page stays quick on a large data set."""
    from churn import ltv

    return ltv.clv(_engine.survival, _frame, _settings)["clv"].to_numpy(float)


def cost_section(models_dir: str, model, selected: str, label: str) -> None:
    """"Choosing a threshold": threshold and dollar inputs (defaults from the data, each saying
    where it comes from), the mistakes at that threshold, the confusion matrix and the cost
    curve, all on the version's out-of-fold predictions."""
    from churn import metrics as M
    from ui import format as F
    from ui import model_report_charts as charts

    st.subheader("Choosing a threshold: what mistakes cost")
    st.caption("Customers whose churn probability is at or above the threshold get a retention "
               "offer. A false alarm spends the offer on someone who would have stayed; a "
               "missed churner loses the customer's value. Offers to real churners count as "
               "money well spent.")
    d = cost_defaults()
    c1, c2, c3 = st.columns(3)
    threshold = c1.slider("Decision threshold", 0.0, 1.0, d.threshold, 0.01,
                          key="report_threshold", format="%.2f",
                          help="Flag customers whose churn probability is at least this. "
                               + d.threshold_source)
    offer_cost = c2.number_input("Offer cost ($ per customer contacted)", min_value=0.0,
                                 value=d.offer_cost, step=5.0, key="report_offer_cost",
                                 format="%.0f",
                                 help="What one retention offer costs. " + d.offer_cost_source)
    value = c3.number_input("Average customer value ($ lost per churner)", min_value=0.0,
                            value=d.customer_value, step=50.0, key="report_customer_value",
                            format="%.0f",
                            help="What losing one customer costs. " + d.customer_value_source)
    table = cost(models_dir, model.version, selected, float(offer_cost), float(value))
    row = MR.row_at(table, threshold)
    best = M.best_threshold(table.to_dict("list"))
    tp, fp, fn = int(row["tp"]), int(row["fp"]), int(row["fn"])
    extra = float(row["total_cost"]) - float(best["total_cost"])
    m = st.columns(4)
    m[0].metric("Churners caught", f"{tp:,} of {tp + fn:,}",
                help="Churners with a probability at or above the threshold.")
    m[1].metric("False alarms", F.count(fp), help="Customers flagged who would have stayed.")
    m[2].metric("Missed churners", F.count(fn), help="Churners below the threshold.")
    m[3].metric("Cost of mistakes", F.money(row["total_cost"]),
                delta=(f"{F.money(extra)} above the lowest" if extra > 0
                       else "the lowest possible"),
                delta_color="inverse" if extra > 0 else "off",
                help=f"{F.count(fp)} false alarms × {F.money(offer_cost)} + {F.count(fn)} missed "
                     f"churners × {F.money(value)}.")
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**Confusion matrix at threshold {float(row['threshold']):.2f}** (customers)")
        st.table(MR.count_text(MR.confusion_frame(row)))
        st.markdown(f"Lowest cost: **{F.money(best['total_cost'])}** at threshold "
                    f"**{best['threshold']:.2f}** ({F.count(best['fp'])} false alarms, "
                    f"{F.count(best['fn'])} missed churners).")
        if offer_cost + value > 0:
            st.caption("With well-calibrated probabilities the break-even threshold is offer "
                       "cost ÷ (offer cost + customer value) = "
                       f"{offer_cost / (offer_cost + value):.2f}.")
    with right:
        st.plotly_chart(charts.cost_figure(table, float(row["threshold"])),
                        key="report_cost_chart")
    st.caption(f"Counted on the {F.count(model.metadata.get('n_rows'))} customers of the "
               f"cross-validation, each predicted by a {label} model that never saw them.")


def recommender_section() -> None:
    """The offer recommender's methods compared, the kept one highlighted."""
    from ui import context

    st.subheader("Offer recommender")
    evaluation = getattr(context.engine().recommender, "evaluation_", None) or {}
    rec = MR.recommender_frame(evaluation)
    if not len(rec):
        st.caption("The offer recommender has no evaluation to show.")
        return
    pct = ("Accepted when in top 3", "Accepted offers caught")
    rec[list(pct)] = 100 * rec[list(pct)]          # shown as "63.2%", as the note below words it
    formats = {pct[0]: "%.1f%%", pct[1]: "%.1f%%", "Brier score": "%.3f"}
    config = {c: (st.column_config.CheckboxColumn(c, help=h) if c == "Kept" else
                  st.column_config.NumberColumn(c, help=h, format=formats.get(c, "localized"))
                  if c in formats or c.startswith(("Past", "Of which")) else
                  st.column_config.Column(c, help=h)) for c, h in MR.RECOMMENDER_HELP.items()}
    config.setdefault("Kept", st.column_config.CheckboxColumn(
        "Kept", help="The method the recommender uses: the best on held-out past offers."))
    st.dataframe(rec, hide_index=True, column_config=config)
    st.caption(MR.recommender_note(evaluation))


def honesty_notes(meta: dict) -> None:
    """"How the figures are kept honest": leakage, calibration (with the fitted Platt
    parameters) and model choice."""
    st.subheader("How the figures are kept honest")
    cal = meta.get("calibration", {})
    st.markdown(
        "- **No leakage.** The customer ID and the churn outcome are never model inputs. All "
        "preprocessing (one-hot encoding, scaling) is fitted inside each cross-validation fold "
        "on that fold's training customers only, and every figure above comes from predictions "
        "for customers the model had not seen.\n"
        "- **Calibration (Platt scaling).** Raw model scores are mapped to probabilities with a "
        "logistic curve, P = 1 / (1 + e^−(a·score + b))"
        + (f" (a = {cal['a']:.3f}, b = {cal['b']:.3f})" if {"a", "b"} <= set(cal) else "")
        + ", fitted on out-of-fold predictions; in the cross-validation each fold is calibrated "
        "on the other folds only. Class weighting pushes raw scores up; calibration brings them "
        "back to the observed churn rate, so a predicted 30% means about 30%.\n"
        "- **Choosing the model** on the same folds that measure it makes the chosen figures "
        "very slightly optimistic; the hyperparameter grids are tiny, so the effect is small.")


def _activate(models_dir: str) -> None:
    """Button callback: make the chosen version active before the page reruns (the sidebar
    and every cached engine are keyed by the active version, so they follow)."""
    from churn import models
    from ui import admin

    choice = st.session_state.get("report_version")
    if not admin.allowed():
        return
    try:
        st.session_state["report_activate_warnings"] = models.activate(choice, models_dir)
    except (ValueError, models.ModelCacheError):
        pass  # reported in the page body, where messages can be drawn


def versions_section(models_dir: str) -> None:
    """The saved model versions, and a way to switch the one in use (admin)."""
    from churn import models
    from ui import admin

    versions = MR.model_versions(models.list_versions(models_dir))
    st.subheader("Model versions")
    if not versions:
        st.caption("No model versions are saved yet.")
        return
    st.dataframe(MR.versions_frame(versions), hide_index=True,
                 column_config={"Score": st.column_config.NumberColumn(
                     "Score", format="%.3f",
                     help="The version's cross-validated value of the metric it was chosen by."),
                     "Customers": st.column_config.NumberColumn("Customers", format="localized",
                                                                help="Customers it learned from."),
                     "MLflow run": st.column_config.TextColumn(
                         "MLflow run", help="The version's run and registered version of the "
                                            "MLflow model churn (— when not logged).")})
    usable = [v for v in versions if v["usable"]]
    if not usable:
        st.warning("No saved version can be used with this installation; train again.")
        return
    if not admin.unlocked("report_admin", "Switching the model version in use"):
        return
    by_id = {v["version"]: v for v in usable}
    ids = list(by_id)
    active = models.active_version(models_dir)
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    choice = c1.selectbox("Version", ids, index=ids.index(active) if active in ids else 0,
                          key="report_version", format_func=lambda v: MR.version_label(by_id[v]),
                          help="Every page scores with the version in use.")
    clicked = c2.button("Use this version", key="report_activate", on_click=_activate,
                        args=(models_dir,),
                        help="Switch every page to the chosen model version.")
    if not clicked:
        return
    if models.active_version(models_dir) == choice:
        st.success(f"Version {choice[:8]} is now in use on every page (MLflow alias champion "
                   "follows it).", icon=":material/check_circle:")
        for warning in st.session_state.pop("report_activate_warnings", None) or []:
            st.warning(warning, icon=":material/cloud_off:")
    else:
        problem = next((v["problem"] for v in models.list_versions(models_dir)
                        if v["version"] == choice), None)
        st.error(f"Version {choice[:8]} could not be used: "
                 f"{problem or 'it is no longer available'}.")
