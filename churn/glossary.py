"""The workbench's vocabulary in plain words, declared once.

Why: a retention manager should never meet a term on a page (or in an export, or an API answer)
that nothing explains. Pages link to this glossary from the sidebar; the API and the README can
quote the same sentences, so a term never means two things in two places.

`TERMS` maps each term to one or two sentences a non-technical reader understands. Units are
stated where a term is a number.
"""
from __future__ import annotations

TERMS: dict[str, str] = {
    "Churn probability": (
        "The model's estimate (0–100%) that a customer leaves. It is calibrated: among "
        "customers shown 30%, about 30 in 100 leave."),
    "Risk tier": (
        "High, Medium or Low, from the churn probability and the thresholds in the sidebar's "
        "Business settings (by default High from 50%, Medium from 25%)."),
    "Percentage points (pp)": (
        "The difference between two percentages: going from 20% to 25% is +5 pp (not +25%). "
        "Driver contributions and uplift are in percentage points of churn probability."),
    "Driver": (
        "A customer attribute that moves that customer's churn probability up or down, with "
        "its size in percentage points (SHAP values; the baseline plus all drivers adds up "
        "to the customer's probability)."),
    "Model baseline": (
        "Where every explanation starts: the probability the model gives an average customer "
        "before any attribute is taken into account. It differs from the churn rate because "
        "it is computed on the model's log-odds scale."),
    "CLV (customer lifetime value)": (
        "The profit a customer is expected to bring over the value horizon (36 months by "
        "default): monthly charges × margin, weighted by the chance the customer is still "
        "here each month, and discounted. In dollars."),
    "Revenue at risk": (
        "Churn probability × CLV: the expected profit lost if nothing is done, over the value "
        "horizon, in dollars."),
    "Bills at risk, 12 months": (
        "Churn probability × 12 × monthly charges: the bills a customer is expected not to pay "
        "over the next year if nothing is done, a simpler figure finance teams quote. It "
        "counts revenue (not profit) and is not discounted, so it can exceed the "
        "profit-based revenue at risk even though its horizon is shorter."),
    "Expected net value": (
        "What an offer is expected to return for one customer, after its cost, in dollars: "
        "the churn it prevents × CLV − the offer's cost."),
    "Uplift": (
        "The drop in churn that an offer really causes, in percentage points: the churn rate "
        "of similar customers who were not contacted minus that of those who were."),
    "Control group": (
        "Customers picked at random from a campaign list and deliberately not contacted, so "
        "that the campaign's effect can be measured against them."),
    "95% confidence interval": (
        "The range that the true effect lies in with 95% confidence, given how many customers "
        "were measured: the wider it is, the less the data can say."),
    "Learned vs assumed effect": (
        "Learned: estimated from past randomised campaigns (with control groups). Assumed: "
        "the risk reduction typed into the offer catalogue, used when there is too little "
        "history to learn from."),
    "Sleeping dog": (
        "A customer whom contacting would make MORE likely to leave (negative uplift); the "
        "workbench makes them no offer."),
    "History and active base": (
        "History: past customers whose outcome is known (they stayed or left); the model "
        "learns from them. Active base: the customers still here, whom every decision is "
        "about. Customers who have left are never targeted."),
    "Qini": (
        "How well an ordering of customers finds those an offer really helps: the area between "
        "its Qini curve (extra customers kept as more customers are offered, best first) and "
        "offering at random. Above 0 is better than random; measured on customers held out "
        "from learning."),
    "Drift (PSI)": (
        "How different a batch of customers is from the customers the model was trained on, "
        "per attribute. The population stability index (PSI) below 0.1 means little change, "
        "above 0.25 a large one."),
    "ROC-AUC": (
        "How well the model ranks leavers above stayers: 0.5 is a coin toss, 1.0 is perfect."),
    "Lift (top 10%)": (
        "How many times more leavers there are among the 10% of customers the model ranks "
        "riskiest than among customers picked at random."),
    "Calibration": (
        "Whether predicted probabilities come true: customers shown 30% should leave about "
        "30% of the time."),
}


def lookup(term: str) -> str:
    """The definition of `term` (exact name, letter case ignored).

    Raises KeyError naming the term and the known ones when it is not in the glossary.
    """
    for name, text in TERMS.items():
        if name.lower() == str(term).strip().lower():
            return text
    raise KeyError(f"{term!r} is not in the glossary; known terms: {', '.join(TERMS)}")
