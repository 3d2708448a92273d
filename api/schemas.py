"""Request and response models, generated from ``churn.schema`` (never retyped).

The customer model has one field per Telco column, documented in ``/docs`` with the schema's
label, help text, unit, allowed values (as an enum) and bounds. At run time a customer's values
are accepted as they come (any JSON scalar) and checked by ``churn.validate`` through
``churn.predict.check_records``: a wrong value is reported for that customer, with its position
and the validator's own message, while the other customers are still scored. A strict pydantic
type would reject the whole request instead, with a message no business user wrote.
"""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from churn import schema
from churn.campaign import DEFAULT_CONTROL_SHARE, MAX_CONTROL_SHARE
from churn.config import BusinessSettings
from churn.predict import EFFECT_ASSUMED, EFFECT_LEARNED

MAX_CUSTOMERS = 1000

_UNITS = {"integer": "months", "money": "dollars"}


def _column_json_schema(col: schema.Column) -> dict:
    """JSON schema of one Telco column, from its declaration."""
    unit = _UNITS.get(col.kind)
    text = f"{col.label}. {col.help}" + (f" Unit: {unit}." if unit else "")
    if col.kind == "id":
        out = {"type": "string", "examples": ["7590-VHVEG"]}
    elif col.kind == "category":
        out = {"type": "string", "enum": list(col.values)}
        if col.parent:
            text += (f' Must be "{col.forced}" exactly when {col.parent} is '
                     f'"{col.parent_value}".')
    elif col.kind in ("flag01", "target"):
        out = {"anyOf": [{"type": "integer", "enum": [0, 1]},
                         {"type": "string", "enum": ["No", "Yes"]}]}
        text += " 0/1 or No/Yes."
    elif col.kind == "integer":
        out = {"type": "integer", "minimum": col.minimum, "maximum": col.maximum}
    else:
        out = {"type": "number", "minimum": col.minimum, "maximum": col.maximum}
        if col.name == "TotalCharges":
            out = {"anyOf": [out, {"type": "null"}]}
            text += " null when tenure is 0 (not billed yet)."
    out["description"] = text
    out["title"] = col.name
    return out


def _customer_model():
    fields = {}
    for col in schema.COLUMNS:
        annotated = Annotated[Any, WithJsonSchema(_column_json_schema(col))]
        fields[col.name] = (annotated, Field(default=None))
    required = list(schema.REQUIRED_COLUMNS)
    return create_model(
        "Customer", __config__=ConfigDict(
            extra="allow",
            json_schema_extra=lambda s: s.update(
                required=required,
                description="One customer in the IBM Telco layout (column names as in the "
                            "file). Values are checked by the same rules as an uploaded file; "
                            "a customer that breaks them is reported in `errors` with its "
                            "position in the list. Churn is optional (only for training).")),
        **fields)


Customer = _customer_model()

RiskTier = Enum("RiskTier", {t: t for t in ("High", "Medium", "Low")}, type=str)
Feature = Enum("Feature", {f: f for f in schema.FEATURES}, type=str)
Effect = Enum("Effect", {EFFECT_LEARNED: EFFECT_LEARNED, EFFECT_ASSUMED: EFFECT_ASSUMED},
              type=str)

_D = BusinessSettings()


class Settings(BaseModel):
    """Business settings (defaults: the app's). Probabilities 0..1, rates per year."""

    model_config = ConfigDict(extra="forbid")
    margin: float = Field(_D.margin, ge=0, le=1,
                          description="Share of MonthlyCharges that is profit, 0..1.")
    annual_discount_rate: float = Field(_D.annual_discount_rate, ge=0, le=1,
                                        description="Yearly discount rate of future months, 0..1.")
    horizon_months: int = Field(_D.horizon_months, ge=1, le=120,
                                description="Months of future value counted in the lifetime "
                                            "value.")
    high_risk: float = Field(_D.high_risk, gt=0, le=1,
                             description="Churn probability at or above which a customer is "
                                         "High risk.")
    medium_risk: float = Field(_D.medium_risk, ge=0, le=1,
                               description="Churn probability at or above which a customer is "
                                           "Medium risk (below high_risk).")

    def business(self) -> BusinessSettings:
        return BusinessSettings(**self.model_dump())


class Problem(BaseModel):
    """A problem with one customer (row = position in the list, 0 = first; null = every
    customer) or one column (null = the whole customer)."""

    row: int | None = Field(description="Position of the customer in the list (0 = first); "
                                        "null when it concerns every customer.")
    column: str | None = Field(description="The Telco column, or null for the whole customer.")
    message: str = Field(description="What is wrong, in the validator's words.")


class CustomersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customers: list[Customer] = Field(min_length=1, max_length=MAX_CUSTOMERS,
                                      description=f"1 to {MAX_CUSTOMERS:,} customers.")
    settings: Settings | None = Field(None, description="Business settings (default: the "
                                                        "app's defaults).")


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: Customer


class RecommendRequest(CustomersRequest):
    top: int | None = Field(None, ge=1, le=50, description="Offers kept per customer "
                                                           "(default: every applicable offer).")


class Driver(BaseModel):
    feature: Feature = Field(description="The Telco column.")
    label: str = Field(description="Its business label.")
    value: Any = Field(description="The customer's value.")
    display_value: str = Field(description="The value as the app shows it.")
    points: float = Field(description="How much it raises (+) or lowers (−) the churn "
                                      "probability, in percentage points.")
    text: str = Field(description="The same in one sentence.")


class Contribution(Driver):
    log_odds: float = Field(description="The model's own contribution, in log-odds.")


class Offer(BaseModel):
    rank: int = Field(description="1 = best for this customer.")
    offer_id: str
    name: str
    cost: float = Field(description="One-off cost to the company, dollars.")
    p_accept: float = Field(description="Learned part: probability the customer accepts, 0..1 "
                                        "(offer recommender).")
    from_rules: bool = Field(description="Rule part: a rule proposed it for one of the "
                                         "customer's own risk drivers.")
    rule_reason: str = Field(description="The rule's reason (empty when no rule proposed it).")
    reason: str = Field(description="Why it is offered, in one sentence.")
    effect: Effect = Field(EFFECT_ASSUMED, description="Whether the offer's effect on churn is "
                                                       "learned from measured campaign results "
                                                       "or assumed (the catalogue's figure).")
    uplift: float | None = Field(None, description="Learned effect: how much making the offer "
                                                   "lowers this customer's churn probability "
                                                   "(0..1, from past campaigns with a control "
                                                   "group); null when the effect is assumed.")
    expected_saved_value: float = Field(description="Expected churn-related value the offer "
                                                    "saves, dollars: learned uplift × CLV, or "
                                                    "P(churn) × P(accept) × risk reduction × CLV "
                                                    "when assumed.")
    expected_net_value: float = Field(description="Expected saved value − cost, dollars.")
    ranking_score: float = Field(description="What offers are ranked by, dollars (saved value "
                                             "of offers no rule proposed counts 80%).")


class Result(BaseModel):
    row: int = Field(description="Position of the customer in the request (0 = first).")
    customerID: str
    churn_probability: float = Field(description="Calibrated P(churn), 0..1.")
    risk_tier: RiskTier
    drivers: list[Driver] = Field(description="The strongest reasons raising the risk.")
    clv: float = Field(description="Customer lifetime value: discounted margin over the "
                                   "horizon, dollars.")
    expected_months: float = Field(description="Expected months as a customer within the "
                                               "horizon.")
    revenue_at_risk: float = Field(description="P(churn) × CLV, dollars.")
    revenue_at_risk_12m: float = Field(description="P(churn) × 12 × MonthlyCharges, dollars.")
    offers: list[Offer] = Field(description="Best offers, best first (none when the engine "
                                            "makes this customer no offer).")
    offer_note: str | None = Field(None, description="Why there is no offer (e.g. a \"sleeping "
                                                     "dog\": every learned offer would make "
                                                     "the customer more likely to leave).")


class PredictResponse(BaseModel):
    model_version: str
    results: list[Result]
    errors: list[Problem] = Field(description="Customers that could not be scored, and why.")
    warnings: list[Problem] = Field(description="Values read in a normalised way (the customer "
                                                "was scored).")


class ExplainResponse(BaseModel):
    model_version: str
    customerID: str
    churn_probability: float = Field(description="Calibrated P(churn), 0..1.")
    baseline_probability: float = Field(description="The model's baseline: P(churn) of a "
                                                    "customer with the average score, 0..1.")
    contributions: list[Contribution] = Field(description="Every feature, largest effect "
                                                          "first; baseline + Σ points = "
                                                          "probability.")
    unit_note: str


class Recommendation(BaseModel):
    row: int
    customerID: str
    churn_probability: float
    clv: float = Field(description="Dollars.")
    sleeping_dog: bool = Field(False, description="Every learned offer would make this customer "
                                                  "more likely to leave: no campaign picks them.")
    note: str | None = None
    offers: list[Offer]


class RecommendResponse(BaseModel):
    model_version: str
    results: list[Recommendation]
    errors: list[Problem]


class ErrorResponse(BaseModel):
    detail: str
    errors: list[Problem] | None = None
    reference: str | None = None


class CampaignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120, description="How the campaign is listed.")
    budget: float = Field(ge=0, description="Total offer cost allowed, dollars.")
    dataset: str = Field("sample", description='"sample", or the name of a saved batch.')
    tiers: list[RiskTier] | None = Field(None, description="Risk tiers to include (default "
                                                           "all).")
    segment: dict[str, list[str]] | None = Field(
        None, description='Allowed values per column, e.g. {"Contract": ["Month-to-month"]}.')
    min_clv: float = Field(0.0, ge=0, description="Minimum lifetime value, dollars.")
    offers_allowed: list[str] | None = Field(None, description="Offer ids allowed (default "
                                                               "all).")
    control_share: float = Field(DEFAULT_CONTROL_SHARE, ge=0, le=MAX_CONTROL_SHARE,
                                 description="Share of the list held out as a control group (no "
                                             "offer, no cost) to measure what the offers really "
                                             "did, 0..0.5; 0: no control group.")
    seed: int = Field(0, ge=0, description="Seed of the control draw (same inputs and seed, same "
                                           "groups).")
    settings: Settings | None = None


class CampaignSummary(BaseModel):
    id: int
    name: str
    customers: int = Field(description="Customers on the list, both groups.")
    treated: int = Field(description="Customers who get the offer.")
    held_out: int = Field(description="Customers held out as control (no offer, no cost).")
    warning: str | None = None
    budget: float = Field(description="Dollars.")
    spent: float = Field(description="Total offer cost, dollars (never above the budget).")
    expected_saved_revenue: float = Field(description="Dollars.")
    expected_net_value: float = Field(description="Dollars.")
    model_version: str | None = None
    links: dict[str, str]


class Outcome(BaseModel):
    model_config = ConfigDict(extra="allow")
    customerID: str
    churned: Any = Field(description="Yes/No: whether the customer left within the outcome "
                                     "window; null while not known.")
    accepted: Any = Field(None, description="Yes/No: whether a treated customer accepted the "
                                            "offer (optional).")


class OutcomesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: list[Outcome] = Field(min_length=1, description="One row per campaign customer.")


class RetrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: str = Field("sample", description='Customers with Churn: "sample" or a saved '
                                               "batch's name.")
    activate: bool = Field(False, description="Put the new model in use when training ends "
                                              "(otherwise it is only trained and compared).")


class JobStatus(BaseModel):
    id: str
    kind: Literal["score", "retrain"]
    status: Literal["queued", "running", "done", "failed"]
    created: str
    started: str | None = None
    finished: str | None = None
    message: str | None = None
    result: dict | None = None
    links: dict[str, str]
