"""Smaller rankings that build exactly the same campaigns as the full one, so an interactive
window can re-run the budgeted selection in milliseconds.

Why: `churn.campaign.build_campaign` and `saved_revenue_curve` start by picking each customer's
best allowed offer with a positive expected net value out of the whole ranking of every
applicable offer (`campaign.rank_offers(top_n=None)`): for 100,000 customers about a million
rows, a sort of about half a second on every call. `PreparedRanking` keeps two smaller rankings
that give exactly the same campaigns:

- ``positive``: only the offers worth more than they cost (the core drops the others first
  anyway), right for any offer filter;
- ``best``: each customer's first such offer by rank, what the core picks when every offer is
  allowed.

`PreparedRanking.ranking_for(offers_allowed)` hands the smallest one that is exact for the
filter. It also indexes each customer's top 3 offers (`top3`) for the campaign page's detail
table. The Retention campaign page caches one per model, data set and settings
(``ui.campaign_cache``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churn import campaign as C
from churn import schema


@dataclass
class PreparedRanking:
    """Everything a campaign needs that depends only on the model, the data and the settings.

    scored: one row per customer (`campaign.campaign_inputs`). ranked: every applicable offer of
    every customer (`campaign.rank_offers`, top_n=None). positive: the rows of `ranked` with a
    positive expected net value. best: each customer's first row of `positive` by rank. Treat
    all as read-only (a window caches one and shares it).
    """

    scored: pd.DataFrame
    ranked: pd.DataFrame
    positive: pd.DataFrame
    best: pd.DataFrame
    top_rows: pd.DataFrame = field(repr=False)   # ranked rows with rank 1..3
    top_index: dict = field(repr=False)          # customerID -> positions in top_rows

    @classmethod
    def build(cls, scored: pd.DataFrame, ranked: pd.DataFrame) -> "PreparedRanking":
        """From `campaign.campaign_inputs`' (scored, ranked)."""
        ID = schema.ID
        positive = ranked[ranked["expected_net_value"] > 0]
        best = positive.sort_values([ID, "rank"], kind="stable").drop_duplicates(ID, keep="first")
        top = ranked[ranked["rank"] <= 3].reset_index(drop=True)
        return cls(scored, ranked, positive.reset_index(drop=True), best.reset_index(drop=True),
                   top, top.groupby(ID, sort=False).indices)

    def ranking_for(self, offers_allowed) -> pd.DataFrame:
        """The smallest ranking that gives exactly the campaign of the full one for this offer
        filter (None: every offer allowed -> `best`; a list of offer ids -> `positive`)."""
        return self.best if offers_allowed is None else self.positive

    # -- the planner interface the campaign page uses (shared with campaign_store.StoredCampaign)
    @property
    def customers(self) -> int:
        """Customers that can be targeted (one row of ``scored`` each)."""
        return int(len(self.scored))

    def eligible(self, filters: dict) -> pd.DataFrame:
        """`campaign.eligible_customers` for `campaign.normalise_filters(...)` output, on the smallest
        exact ranking."""
        return C.eligible_customers(self.scored, self.ranking_for(filters["offers_allowed"]), filters)

    def campaign(self, budget: float, *, tiers=None, segment=None, min_clv=0.0,
                 offers_allowed=None, control_share=None, seed=0, eligible=None, **settings):
        """`campaign.build_campaign` on these customers (``eligible``: `self.eligible(filters)`
        when the caller keeps it)."""
        filters = C.normalise_filters(tiers, segment, min_clv, offers_allowed)
        e = self.eligible(filters) if eligible is None else eligible
        share = C.DEFAULT_CONTROL_SHARE if control_share is None else control_share
        return C.campaign_from_eligible(e, budget, filters, control_share=share, seed=seed,
                                        **settings)

    def curve(self, budgets=None, *, tiers=None, segment=None, min_clv=0.0,
              offers_allowed=None, control_share=None, seed=0, eligible=None,
              control=None) -> pd.DataFrame:
        """`campaign.saved_revenue_curve` on these customers."""
        filters = C.normalise_filters(tiers, segment, min_clv, offers_allowed)
        e = self.eligible(filters) if eligible is None else eligible
        share = C.DEFAULT_CONTROL_SHARE if control_share is None else control_share
        return C.curve_from_eligible(e, budgets, control_share=share, seed=seed,
                                     control=control)

    def segment_values(self) -> dict:
        """{segment column: its values present, sorted as text} (the page's filter choices)."""
        return {c: sorted(self.scored[c].unique().tolist(), key=str)
                for c in C.SEGMENT_COLUMNS if c in self.scored}

    def customer_ids(self, limit: int = 1000) -> list:
        """The first ``limit`` customer IDs in input order."""
        return self.scored[schema.ID].astype(str).iloc[:int(limit)].tolist()

    def top3(self, customer_id: str) -> pd.DataFrame:
        """One customer's ranked offers 1..3 (rows of `ranked`, in rank order; empty for an
        unknown customer)."""
        pos = self.top_index.get(customer_id)
        if pos is None:
            return self.top_rows.iloc[0:0]
        return self.top_rows.iloc[np.sort(pos)].sort_values("rank", kind="stable")
