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
  ``data/models/_parts/<fingerprint>.joblib`` so a restart does not refit them.
"""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import joblib
import numpy as np
import pandas as pd

from churn import explain as explain_mod
from churn import schema
from churn.config import BusinessSettings, Paths, paths as default_paths, risk_tier

Progress = Callable[[float, str], None]

#: Training configuration `Engine.prepare` uses when a data folder has no model yet (None: the
#: default `models.TrainConfig()`). Tests set a small one so a first start takes seconds.
TRAIN_CONFIG = None

#: Columns of `Engine.score`, in order (drivers for k = 3).
SCORE_COLUMNS = [schema.ID, "churn_prob", "risk_tier",
                 "driver_1", "driver_1_pp", "driver_1_text",
                 "driver_2", "driver_2_pp", "driver_2_text",
                 "driver_3", "driver_3_pp", "driver_3_text",
                 "clv", "expected_months", "revenue_at_risk", "revenue_at_risk_12m",
                 "offer_id", "offer_name", "offer_reason", "offer_net_value"]


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


def _parts_key(customers: pd.DataFrame, history: pd.DataFrame) -> str:
    """Fingerprint of what the survival model and recommender learn from, the libraries and
    the code that fits them."""
    import lifelines
    import sklearn
    import surprise

    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(customers, index=False).to_numpy().tobytes())
    h.update(pd.util.hash_pandas_object(history, index=False).to_numpy().tobytes())
    h.update(f"{lifelines.__version__}|{surprise.__version__}|{sklearn.__version__}|"
             f"{np.__version__}|{pd.__version__}|{sys.version_info[:2]}".encode())
    # The code that fits and pickles the parts: a changed module never reads an old pickle.
    here = Path(__file__).resolve().parent
    for module in ("ltv.py", "recommend.py", "schema.py"):
        h.update((here / module).read_bytes())
    return h.hexdigest()[:16]


class Engine:
    """The trained parts needed to score customers, and the functions that score them.

    Build with `Engine.load` (or `Engine(model, survival, recommender, catalogue, customers)` in
    tests). Attributes: ``model`` (``models.ChurnModel``), ``survival`` (``ltv.SurvivalModel``),
    ``recommender`` (``recommend.OfferRecommender``), ``catalogue`` (``offers.Catalogue``),
    ``customers`` (the training customers, canonical), ``version`` (the model version).
    """

    def __init__(self, model, survival, recommender, catalogue, customers: pd.DataFrame):
        self.model = model
        self.survival = survival
        self.recommender = recommender
        self.catalogue = catalogue
        self.customers = customers

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
        catalogue = offers.load_catalogue(p.catalogue)
        parts_file = p.models_dir / "_parts" / f"{_parts_key(customers, history)}.joblib"
        return customers, history, catalogue, parts_file

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
            return cls._inputs(p)[3].exists()
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
        customers, history, catalogue, parts_file = cls._inputs(p)
        say(0.10, "Loading the churn model (training it the first time takes about a minute)")
        models.active_or_train(customers, TRAIN_CONFIG, models_dir=p.models_dir,
                               progress=lambda f, m: say(0.10 + 0.70 * float(f), m))
        parts = _load_parts(parts_file) if parts_file.exists() else None
        if parts is None:
            say(0.80, "Fitting the lifetime-value model")
            survival = ltv.SurvivalModel().fit(customers)
            say(0.90, "Fitting the offer recommender")
            recommender = recommend.OfferRecommender().fit(history, customers,
                                                           offer_ids=catalogue.ids)
            parts = (survival, recommender)
            _atomic_dump(parts, parts_file)
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
        return cls(models.load_active(p.models_dir), survival, recommender, catalogue, customers)

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
        from churn import campaign, ltv
        from churn import offers as offers_mod

        expl = self.explain(df)
        prob = expl.prob
        table = pd.DataFrame({schema.ID: df[schema.ID].astype(str).to_numpy()
                              if schema.ID in df else np.arange(len(df)).astype(str),
                              "churn_prob": prob,
                              "risk_tier": risk_tier(prob, settings)}, index=df.index)
        if drivers:
            table = table.join(explain_mod.top_drivers(expl, k=drivers, direction="up"))
        values = ltv.clv(self.survival, df, settings, churn_prob=prob)
        table = table.join(values[["clv", "expected_months", "revenue_at_risk",
                                   "revenue_at_risk_12m"]])
        ranked = None
        if offers:
            frame = df if schema.ID in df else df.assign(**{schema.ID: table[schema.ID]})
            p_accept = self.recommender.predict(frame)
            p_accept.index = frame[schema.ID].astype(str).to_numpy()
            candidates = offers_mod.rule_candidates(self.catalogue, frame, expl.pp, top_k=5)
            ranked = campaign.rank_offers(frame, prob, values["clv"].to_numpy(), p_accept,
                                          candidates, self.catalogue, top_n=top_offers)
            best = campaign.best_offer(ranked).set_index(schema.ID)
            ids = table[schema.ID]
            table["offer_id"] = ids.map(best["offer_id"]).fillna("").to_numpy()
            table["offer_name"] = ids.map(best["offer_name"]).fillna("").to_numpy()
            reason = best["rule_reason"].where(best["rule_reason"].astype(str) != "",
                                               "Likely to accept (similar customers said yes)")
            table["offer_reason"] = ids.map(reason).fillna("").to_numpy()
            table["offer_net_value"] = ids.map(best["expected_net_value"]).to_numpy(float)
        return Scored(table=table, explanation=expl, ranked=ranked)

    def score(self, df: pd.DataFrame, settings: BusinessSettings = BusinessSettings(), *,
              drivers: int = 3, offers: bool = True) -> pd.DataFrame:
        """One row per customer (see `SCORE_COLUMNS`); the table of `score_all`."""
        return self.score_all(df, settings, drivers=drivers, offers=offers).table

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


def _load_parts(parts_file: Path):
    """(survival, recommender) from the cache file, or None when it is missing or unreadable."""
    try:
        return joblib.load(parts_file)
    except Exception:  # missing, corrupt or written by other library versions: refit
        return None


def _atomic_dump(obj, target: Path) -> None:
    """Write a joblib file so that a killed process never leaves a half-written one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    joblib.dump(obj, tmp)
    os.replace(tmp, target)
