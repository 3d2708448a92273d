"""Customers given as records (JSON objects), scored into plain records: what the REST API serves.

The API (``api/``) is a window like the pages and the CLI; this module is the core part it calls,
so every number it returns comes from the same functions (``churn.validate.validate_chunk``,
``churn.scoring.Engine.score_all`` / ``explain``, ``churn.explain``) and is covered by plain tests.

- `check_records(records)`: the records as columns of text through the file validator, so a record
  gets exactly the messages a spreadsheet row would; each problem's ``row`` is the record's
  position in the list (0 = first), not a file row number.
- `predict(engine, records)`: probability, risk tier, top drivers (percentage points), lifetime
  value, revenue at risk and the best offers of every usable record, plus the problems of the
  others.
- `explain_record(engine, record)`: the full additive breakdown of one customer.
- `recommend(engine, records)`: every applicable offer ranked, with the rule part (reason) and the
  learned part (P(accept)) side by side.

Units: probabilities 0..1, contributions in percentage points of churn probability, money in
dollars, months for tenure and expected months.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn import explain as explain_mod
from churn.campaign import ASSUMED, LEARNED, SLEEPING_DOG_REASON
from churn import schema
from churn.config import BusinessSettings
from churn.validate import MSG_ID_DUPLICATE, Problem, validate_chunk

#: File row of the first record in the validator's numbering (header = row 1).
_FIRST_ROW = 2

#: "learned" when an uplift model measured from past campaigns stands behind the offer's value,
#: else "assumed" (the catalogue's risk reduction): the ranked frame's ``basis`` column
#: (``campaign.LEARNED`` / ``campaign.ASSUMED``); "assumed" when the frame has none.
EFFECT_COLUMNS = ("basis",)
EFFECT_LEARNED, EFFECT_ASSUMED = LEARNED, ASSUMED


@dataclass
class RecordCheck:
    """What `check_records` found.

    frame: canonical frame of the usable records, index = their positions in the list.
    errors / warnings: `Problem` lists whose ``row`` is the record's position (None: about every
    record, e.g. a column no record has).
    """

    frame: pd.DataFrame
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _text(value) -> str:
    """A JSON value as the text a CSV cell would hold ("" for null)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def record_columns(records: list[dict]) -> dict[str, list[str]]:
    """Records -> columns of text in the file layout: every schema column (Churn only when a
    record has it), then any other keys in first-seen order; missing keys and nulls become ""."""
    if not isinstance(records, (list, tuple)) or not all(isinstance(r, dict) for r in records):
        raise ValueError("records must be a list of objects (one per customer, keyed by the "
                         "Telco column names).")
    extra: dict[str, None] = {}
    for r in records:
        for k in r:
            if k not in schema.BY_NAME:
                extra.setdefault(str(k), None)
    columns = list(schema.REQUIRED_COLUMNS)
    if any(schema.TARGET in r for r in records):
        columns.append(schema.TARGET)
    columns += list(extra)
    return {c: [_text(r.get(c)) for r in records] for c in columns}


def records_frame(records: list[dict]) -> pd.DataFrame:
    """`record_columns` as a DataFrame of text (object columns)."""
    data = record_columns(records)
    return pd.DataFrame(data, columns=list(data), dtype=object)


#: A record with no value for any Telco column (the file validator would skip it as a blank line).
MSG_EMPTY_RECORD = ("the customer has no values; send the Telco columns ({examples}, ...) "
                    "keyed by name.")
_DUPLICATE = re.compile(re.escape(MSG_ID_DUPLICATE).replace(r"\{value\}", "(?P<value>.*)")
                        .replace(r"\{first\}", r"(?P<first>\d+)") + "$")


def _positioned(problems: list[Problem], positions: np.ndarray) -> list[Problem]:
    """File row numbers -> positions in the list (also inside the duplicate-ID message)."""
    out = []
    for p in problems:
        message = p.message
        m = _DUPLICATE.match(message)
        if m:
            first = int(positions[int(m["first"]) - _FIRST_ROW])
            message = MSG_ID_DUPLICATE.format(value=m["value"], first=first)
        row = None if p.row is None else int(positions[p.row - _FIRST_ROW])
        out.append(Problem(row, p.column, message))
    return out


def check_records(records: list[dict], *, require_target: bool = False) -> RecordCheck:
    """Validate records with the file validator's rules and messages.

    records: list of dicts keyed by the Telco column names (values as JSON gives them: strings,
    numbers, null; SeniorCitizen 0/1 or "Yes"/"No"; TotalCharges null when not billed yet).
    Returns a `RecordCheck`; problems carry the record's position (0-based) as ``row``, also in
    the duplicate-ID message ("already appears in row 0"). A record without any Telco value is
    an error (`MSG_EMPTY_RECORD`), not a skipped blank line.
    Raises ValueError when ``records`` is not a list of dicts (a caller error).
    """
    # Columns of text straight into the validator (no DataFrame of text: for one customer
    # that frame and its look-ups cost more than the checks).
    text = record_columns(records)
    required = [text[c] for c in schema.REQUIRED_COLUMNS]
    filled = np.array([any(col[i] != "" for col in required) for i in range(len(records))],
                      dtype=bool)
    empty_errors = [Problem(int(i), None, MSG_EMPTY_RECORD.format(
        examples=", ".join(schema.REQUIRED_COLUMNS[:3]))) for i in np.flatnonzero(~filled)]
    positions = np.flatnonzero(filled)
    if not len(positions):
        return RecordCheck(frame=schema.empty_frame(), errors=empty_errors)
    if len(positions) < len(records):
        text = {c: [v[i] for i in positions] for c, v in text.items()}
    report = validate_chunk(text, require_target=require_target)
    frame = report.frame
    rows = frame.pop("row").to_numpy(dtype=np.int64) - _FIRST_ROW
    frame.index = pd.Index(positions[rows], name="position")
    errors = sorted(empty_errors + _positioned(report.errors, positions),
                    key=lambda p: (p.row is not None, -1 if p.row is None else p.row))
    return RecordCheck(frame=frame, errors=errors,
                       warnings=_positioned(report.warnings, positions))


def _plain(value):
    """numpy scalars -> Python; NaN -> None (JSON-safe)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _effect(ranked: pd.DataFrame, column=None) -> np.ndarray:
    for col in EFFECT_COLUMNS:
        if col in ranked.columns:
            # per value in Python: a few offers a customer (pandas' string methods cost more)
            values = ranked[col].to_numpy() if column is None else column(col)
            learned = [str(v).lower().startswith("learn") for v in values]
            return np.where(np.asarray(learned, dtype=bool), EFFECT_LEARNED, EFFECT_ASSUMED)
    return np.full(len(ranked), EFFECT_ASSUMED, dtype=object)


def offer_records(ranked: pd.DataFrame | None) -> dict[str, list[dict]]:
    """The ranked offers (``campaign.rank_offers`` output) as lists of records per customerID.

    Each record: rank, offer_id, name, cost ($), p_accept (0..1, the learned part),
    from_rules / rule_reason (the rule part), reason (the rule's reason, or why the learned part
    proposes it), effect ("learned" or "assumed"), uplift (the learned drop in churn probability
    if the offer is made, 0..1; None when assumed), expected_saved_value and expected_net_value
    ($), ranking_score.
    """
    if ranked is None or ranked.empty:
        return {}
    column = schema.column_getter(ranked)
    effect = _effect(ranked, column).tolist()
    n = len(ranked)
    # Text columns converted value by value (the same texts as ``astype(str)`` /
    # ``fillna("")``, without pandas' per-column set-up, which a one-customer answer feels).
    def text(col: str, blank_na: bool = False) -> list[str]:
        return ["" if blank_na and pd.isna(v) else str(v) for v in column(col)]

    ids = text(schema.ID)
    rank = column("rank").astype(np.int64).tolist()
    offer_id = text("offer_id")
    name = text("offer_name")
    p_accept = column("p_accept").astype(float)
    from_rules = column("from_rules").astype(bool).tolist()
    rule_reason = text("rule_reason", blank_na=True)
    money = {c: np.round(column(c).astype(float), 2).tolist()
             for c in ("offer_cost", "expected_saved_value", "expected_net_value",
                       "ranking_score")}
    pa = np.round(p_accept, 6).tolist()
    uplift = ([None if not np.isfinite(u) or e != EFFECT_LEARNED else round(float(u), 6)
               for u, e in zip(column("uplift").astype(float), effect)]
              if "uplift" in ranked.columns else [None] * n)
    out: dict[str, list[dict]] = {}
    for i in range(n):
        reason = rule_reason[i] if from_rules[i] and rule_reason[i] else (
            f"No rule proposed it; likely to be accepted (P(accept) {p_accept[i]:.0%})")
        out.setdefault(ids[i], []).append({
            "rank": rank[i], "offer_id": offer_id[i], "name": name[i],
            "cost": money["offer_cost"][i], "p_accept": pa[i], "from_rules": from_rules[i],
            "rule_reason": rule_reason[i], "reason": reason, "effect": effect[i],
            "uplift": uplift[i],
            "expected_saved_value": money["expected_saved_value"][i],
            "expected_net_value": money["expected_net_value"][i],
            "ranking_score": money["ranking_score"][i],
        })
    return out


@dataclass
class Prediction:
    """`predict`'s answer: model version, one result per usable record, problems of the others.

    results: dicts (see `predict`); errors / warnings: ``Problem.to_dict()`` dicts with the
    record's position as ``row``.
    """

    model_version: str
    results: list[dict]
    errors: list[dict]
    warnings: list[dict]


def _driver_records(table: pd.DataFrame, values: pd.DataFrame, k: int,
                    column=None) -> list[list[dict]]:
    column = column or schema.column_getter(table)
    out = [[] for _ in range(len(table))]
    columns: dict[str, np.ndarray] = {}  # only the features that are someone's driver
    for j in range(1, k + 1):
        feats = column(f"driver_{j}")
        pps = column(f"driver_{j}_pp").astype(float)
        texts = column(f"driver_{j}_text")
        for i in range(len(table)):
            f = feats[i]
            if not f or not math.isfinite(pps[i]):
                continue
            f = str(f)
            if f not in columns:
                columns[f] = values[f].to_numpy(dtype=object)
            value = columns[f][i]
            out[i].append({"feature": f, "label": schema.label(f), "value": _plain(value),
                           "display_value": explain_mod.display_value(f, value),
                           "points": round(float(pps[i]), 4), "text": str(texts[i])})
    return out


def predict(engine, records: list[dict], settings: BusinessSettings = BusinessSettings(), *,
            drivers: int = 3, offers: int = 3) -> Prediction:
    """Score every usable record: probability, tier, drivers, lifetime value, offers.

    engine: a ``scoring.Engine``. records: see `check_records`. drivers: risk drivers per
    customer (the strongest that raise the risk). offers: best offers per customer (0: none).
    Each result: row (position in the list), customerID, churn_probability (0..1), risk_tier,
    drivers [{feature, label, value, display_value, points (pp), text}], clv ($),
    expected_months, revenue_at_risk ($, P(churn) × CLV), revenue_at_risk_12m ($),
    offers (`offer_records`; empty when the engine makes this customer no offer, e.g. a
    "sleeping dog"), offer_note (why there is no offer, else None). Records that fail validation are left out of ``results`` and their
    problems are in ``errors``.
    """
    check = check_records(records)
    errors = [p.to_dict() for p in check.errors]
    warnings = [p.to_dict() for p in check.warnings]
    frame = check.frame
    if frame.empty:
        return Prediction(engine.version, [], errors, warnings)
    scored = engine.score_all(frame, settings, drivers=drivers, offers=offers > 0,
                              top_offers=max(int(offers), 1))
    table = scored.table
    column = schema.column_getter(table)
    by_id = offer_records(scored.ranked) if offers > 0 else {}
    driver_lists = (_driver_records(table, scored.explanation.values, drivers, column)
                    if drivers else [[] for _ in range(len(table))])
    ids = column(schema.ID)
    prob = column("churn_prob").astype(float)
    tier = column("risk_tier")
    money = {c: column(c).astype(float) for c in ("clv", "expected_months",
                                                  "revenue_at_risk", "revenue_at_risk_12m")}
    # The engine's own decision stands: a customer it makes no offer to (a "sleeping dog", whom
    # every learned offer would push out, or nobody applicable) gets none here, with its reason.
    # (Texts value by value: what ``astype(str)`` gives.)
    no_offer = (np.array([str(v) == "" for v in column("offer_id")], dtype=bool)
                if offers > 0 else np.zeros(len(table), dtype=bool))
    notes = [str(v) for v in column("offer_reason")] if offers > 0 else [""] * len(table)
    results = []
    for i, pos in enumerate(frame.index):
        results.append({
            "row": int(pos), schema.ID: str(ids[i]),
            "churn_probability": round(float(prob[i]), 6), "risk_tier": str(tier[i]),
            "drivers": driver_lists[i],
            "clv": round(float(money["clv"][i]), 2),
            "expected_months": round(float(money["expected_months"][i]), 2),
            "revenue_at_risk": round(float(money["revenue_at_risk"][i]), 2),
            "revenue_at_risk_12m": round(float(money["revenue_at_risk_12m"][i]), 2),
            "offers": (by_id.get(str(ids[i]), [])[:offers]
                       if offers > 0 and not no_offer[i] else []),
            "offer_note": notes[i] if offers > 0 and no_offer[i] and notes[i] else None,
        })
    return Prediction(engine.version, results, errors, warnings)


def explain_record(engine, record: dict) -> tuple[dict | None, list[dict]]:
    """The full additive breakdown of one customer, or (None, errors) when it is unusable.

    Returns ({customerID, churn_probability, baseline_probability, contributions: [{feature,
    label, value, display_value, points (pp), log_odds, text}] for every feature, largest
    |points| first, unit_note}, errors). ``100 × baseline_probability + Σ points ==
    100 × churn_probability`` (up to rounding to 6 decimals).
    """
    check = check_records([record])
    if check.frame.empty:
        return None, [p.to_dict() for p in check.errors]
    expl = engine.explain(check.frame)
    pp = expl.pp.iloc[0]
    lo = expl.logit.iloc[0]
    vals = expl.values.iloc[0]
    order = np.argsort(-np.abs(pp.to_numpy(dtype=float)), kind="stable")
    contributions = []
    for j in order:
        f = schema.FEATURES[j] if pp.index[j] == schema.FEATURES[j] else pp.index[j]
        points = float(pp[f])
        contributions.append({
            "feature": f, "label": schema.label(f), "value": _plain(vals[f]),
            "display_value": explain_mod.display_value(f, vals[f]),
            "points": round(points, 6), "log_odds": round(float(lo[f]), 6),
            "text": explain_mod.driver_sentence(f, vals[f], points)})
    return ({schema.ID: str(check.frame[schema.ID].iloc[0]),
             "churn_probability": round(float(expl.prob[0]), 6),
             "baseline_probability": round(float(expl.base_prob), 6),
             "contributions": contributions, "unit_note": explain_mod.UNIT_NOTE},
            [p.to_dict() for p in check.errors])


def recommend(engine, records: list[dict], settings: BusinessSettings = BusinessSettings(), *,
              top: int | None = None) -> tuple[list[dict], list[dict]]:
    """Every applicable offer of every usable record, ranked (or the first ``top``).

    Returns (results [{row, customerID, churn_probability, clv, sleeping_dog, note, offers:
    `offer_records`}], errors). The rule part is ``from_rules``/``rule_reason``, the learned part
    ``p_accept``. A sleeping dog (every learned offer would make the customer more likely to
    leave) keeps its ranked offers here, flagged, with the reason no campaign picks them.
    """
    check = check_records(records)
    errors = [p.to_dict() for p in check.errors]
    frame = check.frame
    if frame.empty:
        return [], errors
    scored = engine.score_all(frame, settings, drivers=0, offers=True, top_offers=top)
    ranked = scored.ranked
    by_id = offer_records(ranked)
    dogs = (set(ranked.loc[ranked["sleeping_dog"].astype(bool), schema.ID].astype(str))
            if ranked is not None and "sleeping_dog" in ranked.columns else set())
    table = scored.table
    results = []
    for i, pos in enumerate(frame.index):
        cid = str(table[schema.ID].iloc[i])
        results.append({"row": int(pos), schema.ID: cid,
                        "churn_probability": round(float(table["churn_prob"].iloc[i]), 6),
                        "clv": round(float(table["clv"].iloc[i]), 2),
                        "sleeping_dog": cid in dogs,
                        "note": SLEEPING_DOG_REASON if cid in dogs else None,
                        "offers": by_id.get(cid, [])})
    return results, errors
