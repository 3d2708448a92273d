"""Score customers end to end: the one composition every page, the campaign and the CLI use.

For a canonical customer frame the `Engine` gives, per customer: P(churn) from the active model,
the risk tier, the top risk drivers in percentage points with a sentence each, the survival-based
lifetime value and revenue at risk, and the best retention offer with its reason. Keeping this in
one place means the upload page, the campaign list and ``python -m churn score`` can never
disagree about a customer.

The engine's parts are learned once and reused:
- the churn model: the active version under ``data/models/`` (trained on the sample when there is
  none; ``churn.models`` caches it by fingerprint);
- the survival model (``churn.ltv``) and the offer recommender (``churn.recommend``): fitted on
  the training customers and the campaign history (``churn.history``), then kept beside the model in
  ``data/models/_parts/`` (`churn.cache.parts`, keyed by the data, the code and the libraries)
  so a restart does not refit them;
- the uplift model (``churn.uplift``), when the data folder has a campaign history: what each
  offer really did for whom, learned from randomised campaigns, kept in the same cache. Offers
  it learned are valued on that evidence, the others on the catalogue's assumption
  (``offer_basis`` says which).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from churn import cache
from churn import explain as explain_mod
from churn import schema
from churn.config import BusinessSettings, Paths, paths as default_paths, risk_tier

Progress = Callable[[float, str], None]

#: Training configuration `Engine.prepare` uses when a data folder has no model yet (None:
#: `first_start_config()`). In-process tests set a small one so a first start takes seconds.
TRAIN_CONFIG = None

#: Environment variable choosing the first start's grid: "full" (default) or "small".
GRID_ENV = "CHURN_TRAIN_GRID"


def first_start_config():
    """The training configuration of a first start: ``TRAIN_CONFIG`` when set, else the default
    `models.TrainConfig` with the grid named by ``$CHURN_TRAIN_GRID``: "full" (the default: every
    family's parameter grid, about a minute on the sample) or "small" (one point a family, about
    a third of that, for demos and the browser test; retraining later compares the full grid).
    Raises ValueError naming a value that is neither."""
    from churn import models

    if TRAIN_CONFIG is not None:
        return TRAIN_CONFIG
    grid = os.environ.get(GRID_ENV, "").strip().lower() or "full"
    if grid not in ("full", "small"):
        raise ValueError(f"{GRID_ENV}={os.environ[GRID_ENV]!r} must be 'full' or 'small' (the "
                         "first start's training grid; unset means 'full').")
    return models.TrainConfig(grid=grid)

#: Columns of `Engine.score`, in order (drivers for k = 3).
SCORE_COLUMNS = [schema.ID, "churn_prob", "risk_tier",
                 "driver_1", "driver_1_pp", "driver_1_text",
                 "driver_2", "driver_2_pp", "driver_2_text",
                 "driver_3", "driver_3_pp", "driver_3_text",
                 "clv", "expected_months", "revenue_at_risk", "revenue_at_risk_12m",
                 "offer_id", "offer_name", "offer_reason", "offer_net_value", "offer_basis"]


def _quiet(fraction: float, message: str) -> None:
    return None


@dataclass
class Scored:
    """Everything scoring a frame produced.

    table: one row per customer (`SCORE_COLUMNS`, index of the input frame).
    explanation: the `explain.Explanation` of the same customers.
    ranked: the hybrid offer ranking (``campaign.rank_offers``; top 3 per customer), or None when
        offers were not asked for.
    """

    table: pd.DataFrame
    explanation: explain_mod.Explanation
    ranked: pd.DataFrame | None = None


@dataclass
class CustomerView:
    """One customer as the what-if page shows it (probability 0..1, money in dollars)."""

    prob: float
    tier: str
    explanation: explain_mod.Explanation
    clv: float
    expected_months: float
    revenue_at_risk: float
    revenue_at_risk_12m: float
    offers: pd.DataFrame = field(default_factory=pd.DataFrame)


def _frame_bytes(df: pd.DataFrame) -> bytes:
    return pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()


def _parts_key(customers: pd.DataFrame, history: pd.DataFrame) -> str:
    """`churn.cache` key of the survival model and recommender: what they learn from (the code
    and the libraries are in every cache key)."""
    return cache.key("parts", _frame_bytes(customers), _frame_bytes(history))


class Engine:
    """The trained parts needed to score customers, and the functions that score them.

    Build with `Engine.load` (or `Engine(model, survival, recommender, catalogue, customers)` in
    tests). Attributes: ``model`` (``models.ChurnModel``), ``survival`` (``ltv.SurvivalModel``),
    ``recommender`` (``recommend.OfferRecommender``), ``catalogue`` (``offers.Catalogue``),
    ``customers`` (the training customers, canonical), ``version`` (the model version),
    ``uplift`` (``uplift.UpliftModel`` learned from the campaign history, or None without one).
    """

    def __init__(self, model, survival, recommender, catalogue, customers: pd.DataFrame,
                 oof_prob: pd.Series | None = None, uplift=None):
        self.model = model
        self.survival = survival
        self.recommender = recommender
        self.catalogue = catalogue
        self.customers = customers
        # Out-of-fold P(churn) of the customers the model was trained on (by customerID), so a
        # training customer is never shown or targeted with an in-sample score (population.py).
        self.oof_prob = oof_prob
        self.uplift = uplift

    @property
    def version(self) -> str:
        return str(getattr(self.model, "version", "unversioned"))

    # --- building -------------------------------------------------------------------------------
    @staticmethod
    def _inputs(p: Paths):
        from churn import offers
        from churn.history import load_history
        from churn.validate import load_customers

        customers = load_customers(p.customers_csv)
        history = load_history(p.campaign_history_csv)
        from churn.results import recorded_history

        # Measured campaign outcomes recorded in the store (Campaign results page, `results
        # --record`) are campaign history too: the recommender learns from them as well.
        recorded = recorded_history(p.store)
        if recorded is not None:
            history = pd.concat([history, recorded], ignore_index=True)
        catalogue = offers.load_catalogue(p.catalogue)
        return customers, history, catalogue, _parts_key(customers, history)

    @classmethod
    def is_prepared(cls, paths: Paths | None = None) -> bool:
        """True when `load` will only read caches (sample, active model, fitted parts exist)."""
        from churn import models

        p = paths or default_paths()
        if not (p.customers_csv.exists() and p.campaign_history_csv.exists()):
            return False
        if models.active_version(p.models_dir) is None:
            return False
        try:
            customers, _, catalogue, parts_key = cls._inputs(p)
            uplift = uplift_key(p, customers, catalogue)
            disk = cache.parts(p)
            return disk.has("parts", parts_key) and (uplift is None or disk.has("uplift", uplift))
        except ValueError:
            return False

    @classmethod
    def prepare(cls, paths: Paths | None = None, progress: Progress | None = None):
        """Make sure every cache `load` reads exists: sample, active model, fitted parts.

        Idempotent and cheap when everything is there; the first run trains the churn models
        (about a minute) and fits the survival model and the recommender (seconds).
        progress: optional callback ``progress(fraction 0..1, message)``.
        Returns what it read or fitted, for `load`: (customers, catalogue, (survival,
        recommender)).
        """
        from churn import ltv, models, recommend, synth

        p = paths or default_paths()
        say = progress or _quiet
        say(0.02, "Preparing the sample data")
        synth.ensure_sample(p)
        customers, history, catalogue, parts_key = cls._inputs(p)
        say(0.10, "Loading the churn model (training it the first time takes about a minute)")
        models.active_or_train(customers, first_start_config(), models_dir=p.models_dir,
                               progress=lambda f, m: say(0.10 + 0.70 * float(f), m))
        def fit_parts():
            say(0.80, "Fitting the lifetime-value model")
            survival = ltv.SurvivalModel().fit(customers)
            say(0.90, "Fitting the offer recommender")
            return survival, recommend.OfferRecommender().fit(history, customers,
                                                              offer_ids=catalogue.ids)

        parts = cache.parts(p).get("parts", parts_key, fit_parts)
        uplift_part(p, customers, catalogue, say)
        say(1.0, "Ready")
        return customers, catalogue, parts

    @classmethod
    def load(cls, paths: Paths | None = None, progress: Progress | None = None) -> "Engine":
        """The engine of a data folder: `prepare` (a no-op when cached), then the active model.

        paths: where the data lives (default ``config.paths()``). progress: see `prepare`.
        """
        from churn import models

        p = paths or default_paths()
        customers, catalogue, (survival, recommender) = cls.prepare(p, progress)
        model = models.load_active(p.models_dir)
        return cls(model, survival, recommender, catalogue, customers,
                   oof_prob=training_oof(model, customers, p.models_dir),
                   uplift=uplift_part(p, customers, catalogue))

    def _training_lookup(self):
        """`population.TrainingLookup` of (customers, oof_prob), rebuilt only when either is
        replaced."""
        from churn.population import TrainingLookup

        cached = getattr(self, "_lookup", None)
        if cached is None or cached.training is not self.customers \
                or cached.oof_prob is not self.oof_prob:
            cached = self._lookup = TrainingLookup(self.customers, self.oof_prob)
        return cached

    # --- scoring --------------------------------------------------------------------------------
    def explain(self, df: pd.DataFrame) -> explain_mod.Explanation:
        """Additive explanation (percentage points) of every customer of a canonical frame."""
        return explain_mod.explain(self.model, df)

    def score_all(self, df: pd.DataFrame, settings: BusinessSettings = BusinessSettings(), *,
                  drivers: int = 3, offers: bool = True, top_offers: int = 3) -> Scored:
        """Score a canonical frame: probability, tier, drivers, CLV, revenue at risk, offers.

        Returns `Scored` (table, explanation, ranked offers). Money in dollars, probabilities
        0..1, driver contributions in percentage points of churn probability.
        """
        # A few customers are encoded once for the churn model, the recommender and the
        # uplift models (`schema.shared_encoding`).
        with schema.shared_encoding(df):
            return self._score_all(df, settings, drivers=drivers, offers=offers,
                                   top_offers=top_offers)

    def _score_all(self, df: pd.DataFrame, settings: BusinessSettings, *, drivers: int,
                   offers: bool, top_offers: int) -> Scored:
        from churn import campaign, ltv
        from churn import offers as offers_mod

        expl = self.explain(df)
        prob = expl.prob
        if self.oof_prob is not None:  # trained-on customers: out-of-fold, never in-sample
            oof = self._training_lookup().out_of_fold(df)
            prob = np.where(np.isnan(oof), prob, oof)
        ids = (schema.id_texts(df) if schema.ID in df
               else np.arange(len(df)).astype(str))
        # The table's columns are gathered first and framed once (column by column assignment
        # costs a few milliseconds for one customer); `_joined_table` keeps what a frame with a
        # repeated index label gave.
        columns: dict[str, np.ndarray] = {schema.ID: ids, "churn_prob": prob,
                                          "risk_tier": risk_tier(prob, settings)}
        # The drivers' and the money's columns as arrays (`top_drivers` / `clv` without their
        # frames); framed only for `_joined_table`.
        parts = []
        if drivers:
            parts.append(explain_mod.top_driver_columns(expl, k=drivers, direction="up"))
        values = ltv.clv_columns(self.survival, df, settings, churn_prob=prob)
        parts.append({c: values[c] for c in ("clv", "expected_months", "revenue_at_risk",
                                             "revenue_at_risk_12m")})
        for part in parts:
            columns.update(part)
        ranked = None
        if offers:
            frame = df if schema.ID in df else df.assign(**{schema.ID: ids})
            p_accept = self.recommender.predict(frame)
            p_accept.index = ids     # frame[customerID] as text
            applicable = self.catalogue.applicable(frame)  # once, for the rules and the ranking
            candidates = offers_mod.rule_candidates(self.catalogue, frame, expl.pp, top_k=5,
                                                    applicable=applicable)
            learned = None if getattr(self, "uplift", None) is None else self.uplift.predict(frame)
            ranked = campaign.rank_offers(frame, prob, values["clv"], p_accept,
                                          candidates, self.catalogue, top_n=top_offers,
                                          uplift=learned, applicable=applicable)
            best = campaign.best_offer(ranked)
            column = schema.column_getter(best)
            dog = column("sleeping_dog").astype(bool)
            dogs = column(schema.ID)[dog]
            keep = np.flatnonzero(~dog)
            best_ids = pd.Index(column(schema.ID)[keep])
            # one look-up of every customer's best offer (IDs are unique in `best`)
            pos = best_ids.get_indexer(ids)
            has = pos >= 0
            at = np.where(has, pos, 0)

            def pick(col: str, blank):
                values = column(col)[keep]
                out = np.full(len(ids), blank, dtype=object if blank == "" else float)
                if len(values):
                    out[has] = values[at[has]]
                return out

            reason = pick("rule_reason", "")
            no_rule = has & (reason.astype(str) == "")
            reason[no_rule] = "Likely to accept (similar customers said yes)"
            if len(dogs):
                reason[pd.Index(ids).isin(dogs)] = campaign.SLEEPING_DOG_REASON
            columns.update({"offer_id": pick("offer_id", ""),
                            "offer_name": pick("offer_name", ""),
                            "offer_reason": reason,
                            "offer_net_value": pick("expected_net_value", np.nan),
                            "offer_basis": pick("basis", "")})
        if df.index.is_unique:
            table = pd.DataFrame(columns, index=df.index)
        else:
            table = _joined_table(columns, [pd.DataFrame(part, index=df.index) for part in parts],
                                  df.index)
        return Scored(table=table, explanation=expl, ranked=ranked)

    def score(self, df: pd.DataFrame, settings: BusinessSettings = BusinessSettings(), *,
              drivers: int = 3, offers: bool = True) -> pd.DataFrame:
        """One row per customer (see `SCORE_COLUMNS`); the table of `score_all`.

        The table shows each customer's best offer only, so only that one is ranked
        (``top_offers=1``: the same rank-1 offer, a third of the ranking's rows)."""
        return self.score_all(df, settings, drivers=drivers, offers=offers, top_offers=1).table

    def customer_view(self, one: pd.DataFrame, settings: BusinessSettings = BusinessSettings(),
                      *, offers: bool = True) -> CustomerView:
        """The what-if page's figures for one customer (a one-row canonical frame)."""
        if len(one) != 1:
            raise ValueError(f"customer_view takes a one-row frame, got {len(one)} rows")
        scored = self.score_all(one, settings, drivers=3, offers=offers)
        row = scored.table.iloc[0]
        return CustomerView(prob=float(row["churn_prob"]), tier=str(row["risk_tier"]),
                            explanation=scored.explanation, clv=float(row["clv"]),
                            expected_months=float(row["expected_months"]),
                            revenue_at_risk=float(row["revenue_at_risk"]),
                            revenue_at_risk_12m=float(row["revenue_at_risk_12m"]),
                            offers=scored.ranked if scored.ranked is not None
                            else pd.DataFrame())


def _joined_table(columns: dict, parts: list[pd.DataFrame], index: pd.Index) -> pd.DataFrame:
    """The score table of a frame whose index repeats a label: the first three columns, each
    part joined on the index (``DataFrame.join``, which pairs every repeat of a label with every
    other), then the offer columns, as `Engine.score_all` has always built it."""
    head = [schema.ID, "churn_prob", "risk_tier"]
    table = pd.DataFrame({c: columns[c] for c in head}, index=index)
    for part in parts:
        table = _side_by_side(table, part)
    for c in ("offer_id", "offer_name", "offer_reason", "offer_net_value", "offer_basis"):
        if c in columns:
            table[c] = columns[c]
    return table


def _side_by_side(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """``left.join(right)``; a plain column copy when both have the same index (the usual case,
    and much cheaper for one customer)."""
    if left.index.equals(right.index) and left.index.is_unique:
        return pd.concat([left, right], axis=1)
    return left.join(right)


def training_oof(model, customers: pd.DataFrame, models_dir) -> pd.Series | None:
    """The model's cross-fitted out-of-fold P(churn) per training customer (indexed by
    customerID), when the model was trained on exactly `customers`; else None (a model trained
    on another batch: its training rows are not at hand to recognise them)."""
    from churn import models

    meta = getattr(model, "metadata", None) or {}
    try:
        if meta.get("data_fingerprint") != models.data_fingerprint(customers):
            return None
        oof = models.load_oof(model.version, models_dir)
    except Exception:  # noqa: BLE001 - no usable OOF file: scores stay the model's own
        return None
    col = f"p_{model.family}"
    if col not in oof.columns or schema.ID not in oof.columns:
        return None
    return pd.Series(oof[col].to_numpy(dtype=float), index=oof[schema.ID].astype(str))


def uplift_key(p: Paths, customers: pd.DataFrame, catalogue) -> str | None:
    """`churn.cache` key of the uplift model of a data folder (kind "uplift" in
    `churn.cache.parts`), or None without a campaign history: the history file, the customers
    and the catalogue's ids."""
    from churn import uplift as U

    history_csv = U.history_path(p)
    if not history_csv.exists():
        return None
    return cache.key("uplift", history_csv.read_bytes(), _frame_bytes(customers),
                     "|".join(catalogue.ids))


def uplift_part(p: Paths, customers: pd.DataFrame, catalogue, progress: Progress | None = None):
    """The uplift model of a data folder (``churn.uplift.UpliftModel``), or None when the folder
    has no campaign history. Fitted on the campaign history with the features of ``customers``
    the first time (seconds to a minute), then read from its cache (`uplift_key`)."""
    from churn import uplift as U

    k = uplift_key(p, customers, catalogue)
    if k is None:
        return None

    def fit():
        (progress or _quiet)(0.95, "Learning what each offer really does from the campaign history")
        return U.UpliftModel().fit(U.read_history(U.history_path(p)), customers,
                                   catalogue_ids=catalogue.ids)

    return cache.parts(p).get("uplift", k, fit)
