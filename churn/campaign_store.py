"""Campaign inputs kept in the store: a campaign over a saved batch of any size, planned with SQL
and a few lean arrays instead of every customer's ranked offers in memory (issue 15).

For 100,000 customers the Retention campaign page holds the scoring and the ranking of every
applicable offer in memory (`campaign_ranking.PreparedRanking`, about a million rows). For a
million customers that is ten million rows and several GB per server, so a saved batch keeps its
campaign inputs in the DuckDB store instead, two tables per (batch, model version, business
settings), written with `Store.save_scores`:

- customers: one row per *active* customer (`population.active`): customerID, churn_prob,
  risk_tier, clv, revenue_at_risk, the campaign's segment columns as text, and ``pos`` (the
  customer's place in the active customers, the greedy order's last tie-break);
- offers: the rows of `campaign.rank_offers(top_n=None)` a campaign or the page can use: every
  offer worth more than it costs (the only ones a campaign picks) and each customer's top 3
  (the page's detail table). Written in `save`'s chunks, in the ranking's order.

`StoredCampaign.campaign` asks SQL for `campaign.eligible_customers`'s work (filters, each customer's best
allowed offer, the greedy order) and gets five lean columns per eligible customer; the control
draw, the greedy walk and the list itself are `campaign.campaign_from_eligible`, the very code a
frame goes through; only the chosen rows' text (offer name, reason, ...) is then fetched. The
result equals `campaign.build_campaign` on the same customers (tests/test_campaign_store.py).
Every value a user chooses is a query parameter; column names in the SQL come from the fixed
lists below.
"""
from __future__ import annotations

import uuid

import numpy as np
import pandas as pd

from churn import campaign as C
from churn import schema

ID = schema.ID
#: Columns of the stored customers table.
CUSTOMER_COLUMNS = (ID, "churn_prob", "risk_tier", "clv", "revenue_at_risk",
                    *C.SEGMENT_COLUMNS, "pos", "best_offer_id", "best_offer_cost",
                    "best_saved_value", "best_net_value", "best_row")
#: Text columns of the stored offers table (the rest are numbers or flags).
_OFFER_TEXT = ("offer_id", "offer_name", "rule_reason", "basis")
#: Columns `campaign_from_eligible` needs before the list is chosen (the lean eligible rows).
_LEAN = ("pos", "risk_tier", "offer_id", "offer_cost", "expected_saved_value", "_row")
#: Customers scored and ranked at a time while saving (bounds the memory of `save`).
CHUNK_ROWS = 100_000


#: The layout of the two tables; a new layout changes every key, so older tables are rebuilt.
LAYOUT = 1


def inputs_key(version: str, settings, extra: str = "") -> str:
    """The key a batch's campaign inputs are saved under: the layout, the model version and a
    hash of the business settings (tiers, CLV and values depend on them) and ``extra`` (the
    offer catalogue's stamp)."""
    from churn.customer_list import settings_digest

    return f"v{LAYOUT}:{version}:{settings_digest(settings, extra)}"


def table_keys(key: str) -> tuple[str, str]:
    """The `Store.save_scores` version names of a campaign's two tables under ``key``
    (`inputs_key`)."""
    return f"campaign-customers:{key}", f"campaign-offers:{key}"


def save(store, batch: str, key: str, engine, customers: pd.DataFrame, settings=None, *,
         chunk_rows: int = CHUNK_ROWS, progress=None) -> "StoredCampaign":
    """Score and rank the active customers of a saved batch in chunks, and store what campaigns
    need (see the module docstring). Returns the stored inputs, ready to query.

    customers: the batch's canonical frame. engine: a `scoring.Engine`. settings: business
    settings (default ones when None). progress: None, or a function called with (customers
    done, customers in all) after each chunk.
    """
    from churn.population import active

    if not isinstance(chunk_rows, (int, np.integer)) or isinstance(chunk_rows, bool) \
            or chunk_rows < 1:
        raise ValueError(f"chunk_rows={chunk_rows!r}: expected a whole number of customers >= 1.")
    people = active(customers).reset_index(drop=True)
    n = len(people)
    kept_customers, kept_offers, offer_rows = [], [], 0
    for start in range(0, max(n, 1), int(chunk_rows)):
        part = people.iloc[start:start + int(chunk_rows)]
        scored, ranked = C.campaign_inputs(engine, part, settings)
        who, offers = _chunk_tables(scored, ranked, start, offer_rows)
        offer_rows += len(offers)
        kept_customers.append(who)
        kept_offers.append(offers)
        if progress is not None:
            progress(min(start + int(chunk_rows), n), n)
    k_customers, k_offers = table_keys(key)
    store.save_scores(batch, k_offers, _concat(kept_offers))
    del kept_offers
    store.save_scores(batch, k_customers, _concat(kept_customers))   # last: both are complete
    return StoredCampaign.open(store, batch, key)


def _chunk_tables(scored: pd.DataFrame, ranked: pd.DataFrame, start: int,
                  offer_start: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One chunk's rows of the two tables (customers at positions start, start + 1, ...; their
    offers from row offer_start of the offers table on)."""
    s = scored.reset_index(drop=True)
    r = ranked.reset_index(drop=True)
    pos = np.arange(start, start + len(s), dtype=np.int64)
    r_pos = pos[pd.Index(s[ID].astype(str)).get_indexer(r[ID].astype(str))]
    net = r["expected_net_value"].to_numpy(dtype=float)
    positive = net > 0
    # each customer's first positive offer by rank (ties: ranking order), as PreparedRanking.best
    order = np.lexsort((np.arange(len(r)), r["rank"].to_numpy(), r_pos))
    order = order[positive[order]]
    first = order[np.r_[True, r_pos[order][1:] != r_pos[order][:-1]]] if len(order) else order
    best = np.full(len(s), -1, dtype=np.int64)
    best[r_pos[first] - start] = first
    has = best >= 0
    pick = np.where(has, best, 0)

    def best_of(col: str) -> np.ndarray:
        v = r[col].to_numpy(dtype=float)[pick] if len(r) else np.zeros(len(s))
        return np.where(has, v, np.nan)

    who = {ID: s[ID].astype(str).to_numpy(dtype=object),
           "churn_prob": s["churn_prob"].to_numpy(dtype=float),
           "risk_tier": s["risk_tier"].astype(str).to_numpy(dtype=object),
           "clv": s["clv"].to_numpy(dtype=float),
           "revenue_at_risk": s["revenue_at_risk"].to_numpy(dtype=float)}
    for col in C.SEGMENT_COLUMNS:
        who[col] = s[col].astype(str).to_numpy(dtype=object)
    who["pos"] = pos
    ids = r["offer_id"].astype(str).to_numpy(dtype=object) if len(r) else np.array([], object)
    who["best_offer_id"] = np.where(has, ids[pick] if len(r) else None, None)
    who["best_offer_cost"] = best_of("offer_cost")
    who["best_saved_value"] = best_of("expected_saved_value")
    who["best_net_value"] = best_of("expected_net_value")
    use = positive | (r["rank"].to_numpy() <= 3)
    # the best offer's row in the offers table (each best offer is positive, so it is kept)
    kept_row = offer_start + np.cumsum(use) - 1
    who["best_row"] = np.where(has, kept_row[pick] if len(r) else -1, -1).astype(np.int64)

    r = r[use]
    out = {"pos": r_pos[use]}
    for c in (x for x in (*C.RANKED_COLUMNS, *C.UPLIFT_COLUMNS) if x in r.columns and x != ID):
        v = r[c]
        if c in _OFFER_TEXT:
            out[c] = pd.Categorical(v.astype(str).to_numpy(dtype=object))
        elif c in ("from_rules", "sleeping_dog"):
            out[c] = v.to_numpy(dtype=bool)
        elif c == "rank":
            out[c] = v.to_numpy(dtype=np.int64)
        else:
            out[c] = v.to_numpy(dtype=float)
    return pd.DataFrame(who), pd.DataFrame(out)


def _concat(parts: list) -> pd.DataFrame:
    """Chunks of one table, categories united (not turned back into text)."""
    out = {}
    for c in parts[0].columns:
        cols = [p[c] for p in parts]
        if isinstance(cols[0].dtype, pd.CategoricalDtype):
            out[c] = pd.api.types.union_categoricals([x.array for x in cols])
        else:
            out[c] = np.concatenate([x.to_numpy() for x in cols])
    return pd.DataFrame(out)


class StoredCampaign:
    """A saved batch's campaign inputs in the store (see the module docstring). Open with
    `StoredCampaign.open`; read-only, safe to share between sessions."""

    def __init__(self, store, customers_sql: str, offers_sql: str, customers: int,
                 offer_columns: tuple):
        self.store = store
        self.customers_sql = customers_sql
        self.offers_sql = offers_sql
        self.customers = customers
        self.offer_columns = offer_columns

    @classmethod
    def open(cls, store, batch: str, key: str) -> "StoredCampaign | None":
        """The inputs stored for ``batch`` under ``key``, or None when they are not (all) there."""
        k_customers, k_offers = table_keys(key)
        found_c = store.scores_table(batch, k_customers)
        found_o = store.scores_table(batch, k_offers)
        if found_c is None or found_o is None:
            return None
        (tc, cc, rows), (to, co, _) = found_c, found_o
        if any(c not in cc for c in CUSTOMER_COLUMNS):
            return None                            # written by another version of this module
        return cls(store, _relation(tc, cc), _relation(to, co, keep_pos=True), int(rows),
                   tuple(co))

    # -- queries --
    def _query(self, sql: str, params=()) -> pd.DataFrame:
        return self.store.connection().execute(sql, list(params)).fetchdf()

    def eligible(self, filters: dict) -> pd.DataFrame:
        """`campaign.eligible_customers` in SQL, lean: one row per eligible customer in greedy order, with
        pos, risk_tier, offer_id, offer_cost and expected_saved_value. filters:
        `campaign.normalise_filters(...)`."""
        where, params = ["clv >= ?"], [float(filters["min_clv"])]
        if filters["tiers"] is not None:
            tiers = filters["tiers"]
            where.append(f"risk_tier IN ({_marks(tiers)})" if tiers else "FALSE")
            params += [str(t) for t in tiers]
        for col, allowed in (filters["segment"] or {}).items():
            if col not in C.SEGMENT_COLUMNS:
                raise ValueError(f"segment column {col!r} is not one a campaign can be limited "
                                 f"to; expected one of {list(C.SEGMENT_COLUMNS)}.")
            where.append(f'"{col}" IN ({_marks(allowed)})' if allowed else "FALSE")
            params += [str(a) for a in allowed]
        if filters["offers_allowed"] is None:    # each customer's best offer is stored
            sql = f"""
                SELECT pos, risk_tier, best_offer_id AS offer_id, best_offer_cost AS offer_cost,
                       best_saved_value AS expected_saved_value, best_row AS _row
                FROM {self.customers_sql}
                WHERE best_offer_id IS NOT NULL AND {' AND '.join(where)}
                ORDER BY CASE WHEN best_offer_cost > 0 THEN best_net_value / best_offer_cost
                              ELSE 'inf'::DOUBLE END DESC, best_net_value DESC, pos"""
            return self._query(sql, params)[list(_LEAN)]
        allowed = filters["offers_allowed"]
        offer_where = "expected_net_value > 0 AND " + (
            f"CAST(offer_id AS VARCHAR) IN ({_marks(allowed)})" if allowed else "FALSE")
        sql = f"""
            WITH s AS (SELECT pos, risk_tier FROM {self.customers_sql}
                       WHERE {' AND '.join(where)}),
                 r AS (SELECT pos, CAST(offer_id AS VARCHAR) AS offer_id, offer_cost,
                              expected_saved_value, expected_net_value, _row
                       FROM {self.offers_sql} WHERE {offer_where}
                       QUALIFY row_number() OVER (PARTITION BY pos ORDER BY "rank", _row) = 1)
            SELECT s.pos, s.risk_tier, r.offer_id, r.offer_cost, r.expected_saved_value, r._row
            FROM s JOIN r USING (pos)
            ORDER BY CASE WHEN r.offer_cost > 0 THEN r.expected_net_value / r.offer_cost
                          ELSE 'inf'::DOUBLE END DESC,
                     r.expected_net_value DESC, s.pos"""
        return self._query(sql, params + [str(a) for a in allowed])[list(_LEAN)]

    def details(self, e: pd.DataFrame) -> pd.DataFrame:
        """The chosen lean rows with every column `campaign.eligible_customers` gives (same order)."""
        want = pd.DataFrame({"k": np.arange(len(e), dtype=np.int64),
                             "pos": e["pos"].to_numpy(dtype=np.int64),
                             "row": e["_row"].to_numpy(dtype=np.int64),
                             "offer_id": e["offer_id"].astype(str).to_numpy(dtype=object)})
        offer_cols = [c for c in self.offer_columns if c not in ("pos", "offer_id")]
        picked = ", ".join(f'o."{c}"' for c in offer_cols)
        con = self.store.connection()
        view = f"want_{uuid.uuid4().hex}"
        con.register(view, want)
        try:
            got = con.execute(
                f'''SELECT w.k, c."{ID}", c.churn_prob, c.risk_tier, c.clv, c.revenue_at_risk,
                           c.pos, o.pos AS offer_pos, CAST(o.offer_id AS VARCHAR) AS offer_id,
                           {picked}
                    FROM "{view}" w JOIN {self.customers_sql} c ON c.pos = w.pos
                    JOIN {self.offers_sql} o ON o._row = w.row
                    ORDER BY w.k''').fetchdf()
        finally:
            con.unregister(view)
        if len(got) != len(e):
            raise RuntimeError(f"the stored campaign inputs gave {len(got)} rows for "
                               f"{len(e)} chosen customers; save them again.")
        for c in _OFFER_TEXT:
            if c in got.columns:
                got[c] = got[c].astype(str).astype(object)
        if not (got["offer_pos"].to_numpy() == want["pos"].to_numpy()).all() or \
                not (got["offer_id"].to_numpy() == want["offer_id"].to_numpy()).all():
            raise RuntimeError("the stored campaign inputs do not match the chosen customers' "
                               "offers; save them again.")
        return got.drop(columns=["k", "offer_pos"]).rename(columns={"pos": "_pos"})

    def campaign(self, budget: float, *, tiers=None, segment=None, min_clv=0.0,
                 offers_allowed=None, control_share=C.DEFAULT_CONTROL_SHARE, seed=0,
                 eligible: pd.DataFrame | None = None, **settings) -> C.Campaign:
        """`campaign.build_campaign` over the stored customers (same arguments; ``eligible``:
        `self.eligible(filters)` when the caller keeps it; settings: business_settings,
        model_version, extra_settings)."""
        filters = C.normalise_filters(tiers, segment, min_clv, offers_allowed)
        e = self.eligible(filters) if eligible is None else eligible
        return C.campaign_from_eligible(e, budget, filters, control_share=control_share,
                                        seed=seed, details=self.details, **settings)

    def curve(self, budgets=None, *, tiers=None, segment=None, min_clv=0.0,
              offers_allowed=None, control_share=C.DEFAULT_CONTROL_SHARE, seed=0,
              eligible: pd.DataFrame | None = None, control=None) -> pd.DataFrame:
        """`campaign.saved_revenue_curve` over the stored customers."""
        filters = C.normalise_filters(tiers, segment, min_clv, offers_allowed)
        e = self.eligible(filters) if eligible is None else eligible
        return C.curve_from_eligible(e, budgets, control_share=control_share, seed=seed,
                                     control=control)

    def top3(self, customer_id: str) -> pd.DataFrame:
        """One customer's ranked offers 1..3 (in rank order; empty for an unknown customer)."""
        found = self._query(f'SELECT pos FROM {self.customers_sql} WHERE "{ID}" = ?',
                            [str(customer_id)])
        at = int(found["pos"].iloc[0]) if len(found) else -1
        cols = ", ".join(f'"{c}"' for c in self.offer_columns if c != "pos")
        got = self._query(f'SELECT ? AS "{ID}", {cols} FROM {self.offers_sql} '
                          f'WHERE pos = ? AND "rank" <= 3 ORDER BY "rank", _row',
                          [str(customer_id), at])
        for c in _OFFER_TEXT:
            if c in got.columns:
                got[c] = got[c].astype(str).astype(object)
        return got

    def segment_values(self) -> dict:
        """{segment column: its values present, sorted as text} (the page's filter choices)."""
        out = {}
        for col in C.SEGMENT_COLUMNS:
            got = self._query(f'SELECT DISTINCT "{col}" AS v FROM {self.customers_sql}')
            out[col] = sorted(got["v"].astype(str).tolist())
        return out

    def customer_ids(self, limit: int = 1000) -> list:
        """The first ``limit`` customer IDs in input order."""
        got = self._query(f'SELECT "{ID}" AS v FROM {self.customers_sql} ORDER BY pos LIMIT ?',
                          [int(limit)])
        return got["v"].astype(str).tolist()


def _relation(tbl: str, columns: dict, keep_pos: bool = False) -> str:
    # Text stored as categories comes back as text: fetched as a category, a column carries its
    # whole dictionary (about 80,000 distinct reasons for a million customers) on every query.
    select = ", ".join(f'CAST("{col}" AS VARCHAR) AS "{name}"' if name in _OFFER_TEXT
                       else f'"{col}" AS "{name}"' for name, col in columns.items())
    extra = ', "_pos" AS _row' if keep_pos else ""
    return f'(SELECT {select}{extra} FROM "{tbl}")'


def _marks(values) -> str:
    return ", ".join("?" * len(values))
