"""The retention offer catalogue, its rules, and rule-based offer candidates with reasons.

The catalogue lives in ``data/offers.toml`` (its header comment documents the format): a list of
``[[offer]]`` entries and a list of ``[[rule]]`` entries. A rule is data that maps a *risk driver*
(one feature and a condition on its value) to the offers that answer it. Given each customer's
driver contributions (SHAP, in percentage points of churn probability), :func:`rule_candidates`
proposes the offers whose rules match the customer's strongest positive drivers, with a reason a
retention agent can read out.

Public API:

- ``load_catalogue(path=None) -> Catalogue`` (default ``config.paths().catalogue``) and
  ``parse_catalogue(text, source="catalogue") -> Catalogue``; both validate and raise
  :class:`CatalogueError` (a ``ValueError``) naming the file, the offer/rule number (1-based, in
  file order) or id, the field and what is wrong.
- ``Catalogue.offers``, ``.rules``, ``.ids``, ``.offer(id)``, ``.applicable(df)``,
  ``.offers_frame()``, ``.to_toml()``.
- ``rule_candidates(catalogue, customers, drivers_pp, top_k=5) -> DataFrame``.
"""
from __future__ import annotations

import difflib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from churn import config, schema
from churn.conditions import Condition, ConditionError, parse, value_phrase
from churn.schema import FEATURES, ID, in_feature_order

OFFER_FIELDS = ("id", "name", "description", "cost", "risk_reduction", "applies_when")
RULE_FIELDS = ("when", "offers")
_ID_RE = re.compile(r"^[A-Za-z0-9_]+$")

HEADER = """\
# Retention offer catalogue and rules. Edit freely: the app and `python -m churn` validate this
# file on load and say exactly what is wrong and where.
#
# [[offer]]  one retention offer
#   id              short identifier, letters/digits/underscores, unique
#   name            what a retention agent calls it
#   description     what the customer gets
#   cost            one-off cost to the company in dollars (discounts and credits over their life)
#   risk_reduction  expected relative reduction in churn risk if the customer accepts (0..1)
#   applies_when    condition on the customer's columns; "always" for every customer
#
# [[rule]]  a risk driver and the offers that answer it
#   when            condition on one feature, e.g.  Contract == "Month-to-month"
#   offers          offer ids to propose when this feature *raises* the customer's churn risk
#
# Conditions: COLUMN OP VALUE, joined by "and". OP is one of == != < <= > >= in not in;
# text values in double quotes, lists in brackets: PaymentMethod in ["Electronic check", "Mailed check"]
"""


class CatalogueError(ValueError):
    """The catalogue file cannot be read or breaks a rule of its format."""


@dataclass(frozen=True)
class Offer:
    """One retention offer.

    cost: one-off cost to the company in dollars; risk_reduction: expected relative reduction in
    churn probability if accepted (0..1); applies_when: which customers may receive it.
    """

    id: str
    name: str
    description: str
    cost: float
    risk_reduction: float
    applies_when: Condition


@dataclass(frozen=True)
class Rule:
    """A risk driver and its answers: when ``feature`` raises risk and ``when`` holds, propose
    ``offers`` (offer ids, in catalogue preference order)."""

    when: Condition
    feature: str
    offers: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """A validated catalogue. ``source`` names where it was read from (for messages)."""

    offers: tuple[Offer, ...]
    rules: tuple[Rule, ...]
    source: str = "catalogue"

    @property
    def ids(self) -> list[str]:
        """Offer ids in catalogue order."""
        return [o.id for o in self.offers]

    def offer(self, offer_id: str) -> Offer:
        """The offer with this id; ValueError naming the known ids when there is none."""
        for o in self.offers:
            if o.id == offer_id:
                return o
        raise ValueError(f'Unknown offer id "{offer_id}"{_suggest(offer_id, self.ids)}; '
                         f"known offers: {', '.join(self.ids)}")

    def applicable(self, df: pd.DataFrame) -> pd.DataFrame:
        """Boolean frame (rows of the canonical frame ``df`` × offer ids, same index as ``df``):
        True where the offer's ``applies_when`` holds for the customer."""
        if not self.offers:
            return pd.DataFrame(index=df.index, columns=self.ids, dtype=bool)
        # one boolean matrix, framed once: the frame pandas makes of the columns (one block)
        # without its per-column conversions, which a one-customer call pays per offer
        masks = np.column_stack([np.asarray(o.applies_when.mask(df), dtype=bool)
                                 for o in self.offers])
        return pd.DataFrame(masks, index=df.index, columns=self.ids)

    def offers_frame(self) -> pd.DataFrame:
        """The offers as a table: id, name, description, cost ($), risk_reduction (0..1),
        applies_when (condition text)."""
        return pd.DataFrame(
            [{"id": o.id, "name": o.name, "description": o.description, "cost": o.cost,
              "risk_reduction": o.risk_reduction, "applies_when": o.applies_when.text}
             for o in self.offers],
            columns=list(OFFER_FIELDS))

    def to_toml(self) -> str:
        """The catalogue as TOML text (with the format header); ``parse_catalogue`` of it gives
        an equal catalogue."""
        parts = [HEADER]
        for o in self.offers:
            parts.append(
                "\n[[offer]]\n"
                f"id = {_toml_str(o.id)}\n"
                f"name = {_toml_str(o.name)}\n"
                f"description = {_toml_str(o.description)}\n"
                f"cost = {_toml_num(o.cost)}\n"
                f"risk_reduction = {_toml_num(o.risk_reduction)}\n"
                f"applies_when = {_toml_str(o.applies_when.text)}\n")
        for r in self.rules:
            offers = ", ".join(_toml_str(x) for x in r.offers)
            parts.append(f"\n[[rule]]\nwhen = {_toml_str(r.when.text)}\noffers = [{offers}]\n")
        return "".join(parts)


def _toml_str(s: str) -> str:
    """A TOML string: literal ('...') when possible (conditions hold double quotes), else basic."""
    if "'" not in s and "\n" not in s and "\r" not in s and s.isprintable():
        return f"'{s}'"
    return json.dumps(s, ensure_ascii=False)


def _toml_num(x: float) -> str:
    return repr(float(x))


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


# --- loading and validation --------------------------------------------------------------------
def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate the catalogue at ``path`` (default ``config.paths().catalogue``).

    Raises CatalogueError when the file is missing, unreadable, or invalid.
    """
    p = Path(path) if path is not None else config.paths().catalogue
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogueError(f"{p}: file not found; the catalogue is data/offers.toml") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogueError(f"{p}: cannot be read ({e})") from None
    return parse_catalogue(text, source=str(p))


def parse_catalogue(text: str, source: str = "catalogue") -> Catalogue:
    """Parse and validate catalogue TOML text (e.g. from the app's editor).

    ``source`` names the text in error messages (a file path or "catalogue").
    """
    if not isinstance(text, str):
        raise CatalogueError(f"{source}: the catalogue must be TOML text, got "
                             f"{type(text).__name__}")
    try:
        data = tomllib.loads(text.lstrip("\ufeff"))
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
        if m:
            raise CatalogueError(f"{source}: TOML syntax error at line {m.group(1)}, column "
                                 f"{m.group(2)}: {msg[:m.start()]}") from None
        m = re.search(r"\s*\(at end of document\)$", msg)
        if m:
            raise CatalogueError(f"{source}: TOML syntax error at the end of the file: "
                                 f"{msg[:m.start()]}") from None
        raise CatalogueError(f"{source}: TOML syntax error: {msg}") from None

    unknown = [k for k in data if k not in ("offer", "rule")]
    if unknown:
        raise CatalogueError(
            f'{source}: unknown section "{unknown[0]}"{_suggest(unknown[0], ["offer", "rule"])}; '
            f"the catalogue holds only [[offer]] and [[rule]] entries")
    raw_offers = data.get("offer", [])
    raw_rules = data.get("rule", [])
    for key, raw in (("offer", raw_offers), ("rule", raw_rules)):
        if not isinstance(raw, list):
            raise CatalogueError(f'{source}: "{key}" must be a list of [[{key}]] entries; '
                                 f"write [[{key}]] (double brackets) above each entry")
    if not raw_offers:
        raise CatalogueError(f"{source}: no [[offer]] entries; add at least one offer")

    offers: list[Offer] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_offers, start=1):
        offer = _parse_offer(raw, i, source)
        if offer.id in seen:
            raise CatalogueError(f'{source}: offer {i}: duplicate id "{offer.id}" (already used '
                                 f"by offer {seen[offer.id]}); give each offer its own id")
        seen[offer.id] = i
        offers.append(offer)

    rules = [_parse_rule(raw, i, source, list(seen)) for i, raw in enumerate(raw_rules, start=1)]
    return Catalogue(tuple(offers), tuple(rules), source)


def _check_fields(raw, where: str, fields: tuple[str, ...], kind: str) -> None:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: must be a table of fields; write [[{kind}]] on its own "
                             f"line followed by key = value lines")
    for k in raw:
        if k not in fields:
            raise CatalogueError(f'{where}: unknown field "{k}"{_suggest(k, fields)}; expected '
                                 f"fields: {', '.join(fields)}")
    for k in fields:
        if k not in raw:
            raise CatalogueError(f'{where}: missing field "{k}"')


def _text_field(raw: dict, key: str, where: str) -> str:
    v = raw[key]
    if not isinstance(v, str) or not v.strip():
        raise CatalogueError(f'{where}: field "{key}" must be non-empty text, got {v!r}')
    return v


def _number_field(raw: dict, key: str, where: str) -> float:
    v = raw[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CatalogueError(f'{where}: field "{key}" must be a number, got {v!r}')
    v = float(v)
    if not np.isfinite(v):
        raise CatalogueError(f'{where}: field "{key}" must be a finite number, got {v!r}')
    return v


def _parse_offer(raw, i: int, source: str) -> Offer:
    where = f"{source}: offer {i}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        where += f' ("{raw["id"]}")'
    _check_fields(raw, where, OFFER_FIELDS, "offer")
    oid = _text_field(raw, "id", where)
    if not _ID_RE.match(oid):
        raise CatalogueError(f'{where}: field "id" must use only letters, digits and '
                             f"underscores, got {oid!r}")
    name = _text_field(raw, "name", where)
    description = _text_field(raw, "description", where)
    cost = _number_field(raw, "cost", where)
    if cost < 0:
        raise CatalogueError(f'{where}: field "cost" must be 0 or more dollars, got {raw["cost"]}')
    rr = _number_field(raw, "risk_reduction", where)
    if not 0.0 <= rr <= 1.0:
        raise CatalogueError(f'{where}: field "risk_reduction" must be between 0 and 1 (a share '
                             f'of churn risk, e.g. 0.2 for 20%), got {raw["risk_reduction"]}')
    cond_text = _text_field(raw, "applies_when", where)
    try:
        cond = parse(cond_text)
    except ConditionError as e:
        raise CatalogueError(f'{where}: field "applies_when": {e}') from None
    return Offer(oid, name, description, cost, rr, cond)


def _parse_rule(raw, i: int, source: str, known: list[str]) -> Rule:
    where = f"{source}: rule {i}"
    _check_fields(raw, where, RULE_FIELDS, "rule")
    when_text = _text_field(raw, "when", where)
    try:
        when = parse(when_text)
    except ConditionError as e:
        raise CatalogueError(f'{where}: field "when": {e}') from None
    if len(when.columns) != 1:
        reads = ", ".join(when.columns) if when.columns else "no feature"
        raise CatalogueError(f'{where}: field "when" must test exactly one feature, but '
                             f"{when_text!r} reads {reads}; write one rule per feature")
    offers = raw["offers"]
    if isinstance(offers, str):
        offers = [offers]
    if not isinstance(offers, list) or not offers or \
            not all(isinstance(o, str) for o in offers):
        raise CatalogueError(f'{where}: field "offers" must be a non-empty list of offer ids, '
                             f'e.g. ["{known[0]}"], got {raw["offers"]!r}')
    for o in offers:
        if o not in known:
            raise CatalogueError(f'{where}: offer "{o}" is not in the catalogue'
                                 f"{_suggest(o, known)}; known offers: {', '.join(known)}")
    return Rule(when, when.columns[0], tuple(dict.fromkeys(offers)))


# --- rule candidates ---------------------------------------------------------------------------
CANDIDATE_COLUMNS = [ID, "offer_id", "offer_name", "driver", "driver_pp", "reason"]


def rule_candidates(catalogue: Catalogue, customers: pd.DataFrame, drivers_pp: pd.DataFrame,
                    top_k: int = 5, applicable: pd.DataFrame | None = None) -> pd.DataFrame:
    """Offers proposed by the rules for each customer's strongest risk drivers, with reasons.

    Inputs:
      customers: canonical frame (any index).
      drivers_pp: frame with the same index as ``customers`` and one column per schema feature
        (``schema.FEATURES``): the feature's contribution to that customer's churn probability in
        percentage points (positive = raises risk). NaN counts as 0.
      top_k: how many of each customer's largest positive drivers are considered (>= 1).
      applicable: ``catalogue.applicable(customers)`` when the caller already has it.

    For each customer the top_k features with a positive contribution are taken; every rule on
    one of those features whose condition holds for the customer proposes its offers, keeping
    only offers applicable to the customer (``applies_when``). When several drivers lead to the
    same offer, the strongest driver gives the reason (ties: the earlier rule).

    Output: one row per (customer, offer), index = the customer's index label in ``customers``
    (repeated for several offers), columns ``customerID``, ``offer_id``, ``offer_name``,
    ``driver`` (feature name), ``driver_pp`` (its contribution, percentage points), ``reason``
    (e.g. ``Contract is Month-to-month: adds 14.2 points of churn risk → Contract upgrade
    discount``). Rows follow the customers' order, then the driver's strength (descending), then
    catalogue order.

    Vectorised: one pass per rule over all customers (numpy), no per-customer loop.
    """
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k must be a whole number of drivers >= 1, got {top_k!r}")
    missing = [f for f in FEATURES if f not in drivers_pp.columns]
    if missing:
        raise ValueError(f"drivers_pp lacks feature column(s) {', '.join(missing)}; pass one "
                         f"column per schema feature (percentage points)")
    if len(drivers_pp) != len(customers) or not drivers_pp.index.equals(customers.index):
        raise ValueError(f"drivers_pp ({len(drivers_pp)} rows) must have the same index as "
                         f"customers ({len(customers)} rows); compute drivers on the same frame")

    n = len(customers)
    values = in_feature_order(drivers_pp).to_numpy(dtype=float, copy=True)
    values[np.isnan(values)] = 0.0
    # rank of each feature within its row, largest contribution first (stable: schema order)
    order = np.argsort(-values, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(values.shape[1])[None, :]
    in_top = (rank < top_k) & (values > 0)

    ids = catalogue.ids
    col_of = {oid: j for j, oid in enumerate(ids)}
    if applicable is None:  # the caller may pass catalogue.applicable(customers) it already has
        applicable = catalogue.applicable(customers)
    applicable = applicable.to_numpy(dtype=bool)
    best_pp = np.full((n, len(ids)), -np.inf)
    best_rule = np.full((n, len(ids)), -1, dtype=np.int64)
    feat_idx = {f: k for k, f in enumerate(FEATURES)}
    for r_i, rule in enumerate(catalogue.rules):
        k = feat_idx[rule.feature]
        hit = in_top[:, k]
        if not hit.any():
            continue
        hit = hit & rule.when.mask(customers)
        contrib = values[:, k]
        for oid in rule.offers:
            j = col_of[oid]
            better = hit & applicable[:, j] & (contrib > best_pp[:, j])
            best_pp[better, j] = contrib[better]
            best_rule[better, j] = r_i

    rows, offs = np.nonzero(best_rule >= 0)
    if len(rows) == 0:
        out = pd.DataFrame({c: pd.Series(dtype=float if c == "driver_pp" else object)
                            for c in CANDIDATE_COLUMNS})
        out.index = customers.index[:0]
        return out
    pp = best_pp[rows, offs]
    rule_of = best_rule[rows, offs]
    # order: customer, then strongest driver, then catalogue order
    sort = np.lexsort((offs, -pp, rows))
    rows, offs, pp, rule_of = rows[sort], offs[sort], pp[sort], rule_of[sort]

    rule_feature = np.array([r.feature for r in catalogue.rules], dtype=object)
    driver = rule_feature[rule_of]
    offer_name = np.array([o.name for o in catalogue.offers], dtype=object)[offs]
    phrase = _value_phrases(customers, rows, driver)
    # each distinct amount formatted once; one f-string per row (no column-wise concatenation)
    rounded, codes = np.unique(np.round(pp, 1), return_inverse=True)
    amount = np.array(["{:.1f}".format(v) for v in rounded], dtype=object)[codes.reshape(-1)]
    amount[pp < 0.05] = "under 0.1"
    reason = np.array([f"{p}: adds {a} points of churn risk → {o}"
                       for p, a, o in zip(phrase, amount, offer_name)], dtype=object)
    out = pd.DataFrame({
        ID: customers[ID].to_numpy()[rows] if ID in customers else rows.astype(str),
        "offer_id": np.array(ids, dtype=object)[offs],
        "offer_name": offer_name,
        "driver": driver,
        "driver_pp": pp,
        "reason": reason,
    }, index=customers.index[rows])
    return out


def _value_phrases(customers: pd.DataFrame, rows: np.ndarray, driver: np.ndarray) -> np.ndarray:
    """``value_phrase(feature, value)`` for each (row, feature) pair, computed once per distinct
    (feature, value)."""
    out = np.empty(len(rows), dtype=object)
    if len(customers) < schema.FEW_ROWS:    # one customer: each phrase directly (no grouping)
        for i, (row, feature) in enumerate(zip(rows, driver)):
            out[i] = value_phrase(feature, schema.column_values(customers, feature)[row])
        return out
    for feature in pd.unique(driver):
        sel = np.nonzero(driver == feature)[0]
        vals = customers[feature].to_numpy()[rows[sel]]
        codes, uniq = pd.factorize(pd.Series(vals, dtype=object), use_na_sentinel=False)
        phrases = np.array([value_phrase(feature, v) for v in uniq], dtype=object)
        out[sel] = phrases[codes]
    return out
