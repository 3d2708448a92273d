"""A data set's headline figures computed in SQL where its rows live, never from a whole frame.

The app shows counts, sums and per-segment tables of data sets of up to a million customers
(issue 15). Holding a million rows in every server (and scoring them there) costs a minute and
gigabytes, so these figures are SQL aggregates in DuckDB over

- a saved batch's rows in the store (``customers WHERE batch = ?``) and its stored customer
  list (`churn.customer_list.from_store`): nothing is loaded, a few numbers come back; or
- a frame of this process (the sample, an upload kept in the session) registered in an
  in-memory DuckDB (`rows_from_frame`, `churn.customer_list.from_frame`): the very same SQL, so
  the figures cannot diverge between a small and a large data set.

Functions take a `Rows` (customer rows: the canonical columns) or a `customer_list.Source` (the
scored list) and return plain numbers or small frames, with the definitions of `churn.ltv`
(`data_summary`, `portfolio_summary`, `revenue_at_risk_by_segment`) and
`churn.population.describe`; tests check them against those to 1e-9.
"""
from __future__ import annotations

import uuid

import duckdb
import pandas as pd

from churn import ltv, schema
from churn.population import ACTIVE, HISTORY, Population

#: Customer columns a `Rows` relation offers (the rest of the canonical columns stay where they
#: are: the figures here never need them).
ROW_COLUMNS = (schema.ID, schema.TENURE, schema.MONTHLY, *schema.MAIN_SEGMENTS)


class Rows:
    """Customer rows to aggregate: ``cursor()`` gives a DuckDB cursor for this thread,
    ``relation`` is the SQL of a relation with `ROW_COLUMNS` (and ``Churn`` when ``has_target``)
    whose ``?`` placeholders take ``params``; ``rows`` counts them. ``key`` (empty here) is
    for the caller: what identifies these rows in its caches.

    Build with `rows_from_frame` or `rows_from_store`."""

    def __init__(self, cursor, relation: str, params: list, rows: int, has_target: bool):
        self.cursor = cursor
        self.relation = relation
        self.params = list(params)
        self.rows = rows
        self.has_target = has_target
        self.key: tuple = ()


def rows_from_frame(frame: pd.DataFrame) -> Rows:
    """`Rows` over a canonical frame of this process (an in-memory DuckDB; the frame's
    categories become text)."""
    missing = [c for c in (schema.TENURE, schema.MONTHLY) if c not in frame.columns]
    if missing:
        raise ValueError(f"stored_views: the customers need the columns {missing}; validate the "
                         "file first (churn.validate).")
    cols = [c for c in (*ROW_COLUMNS, schema.TARGET) if c in frame.columns]
    data = {}
    for c in cols:
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:
            data[c] = s.astype(object).where(s.notna(), None)
        elif c == schema.TARGET:
            data[c] = pd.to_numeric(s, errors="coerce")
        else:
            data[c] = s
    con = duckdb.connect(":memory:")
    view = f"in_{uuid.uuid4().hex}"
    con.register(view, pd.DataFrame(data, copy=False))
    try:
        con.execute(f'CREATE TABLE customers AS SELECT * FROM "{view}"')
    finally:
        con.unregister(view)
    return Rows(con.cursor, "customers", [], len(frame), schema.TARGET in frame.columns)


def rows_from_store(store, batch: str) -> Rows | None:
    """`Rows` over a batch saved in the store (None when there is no such batch)."""
    con = store.connection()
    found = con.execute("SELECT valid_rows, has_target FROM batches WHERE name = ?",
                        [batch]).fetchall()
    if not found:
        return None
    rows, has_target = found[0]
    cols = ", ".join(f'"{c}"' for c in (*ROW_COLUMNS, *([schema.TARGET] if has_target else [])))
    return Rows(store.connection, f"(SELECT {cols} FROM customers WHERE batch = ?)", [batch], int(rows),
                bool(has_target))


def _q(rows: Rows, sql: str, params: list = ()) -> pd.DataFrame:
    """Run ``sql`` with ``{rel}`` standing for the rows' relation."""
    con = rows.cursor()
    n_rel = sql.count("{rel}")
    return con.execute(sql.replace("{rel}", rows.relation),
                       [*(rows.params * n_rel), *params]).fetchdf()


def _outcomes(rows: Rows) -> tuple[int | None, float | None]:
    """(customers who left, their share) by `churn.ltv.observed_churn`'s rule: None when there
    is no Churn column, no row, or any row without a 0/1 outcome."""
    if not rows.has_target or rows.rows == 0:
        return None, None
    got = _q(rows, f'SELECT count(*) FILTER (WHERE "{schema.TARGET}" IS NULL OR '
                   f'"{schema.TARGET}" NOT IN (0, 1)) AS bad, '
                   f'coalesce(sum("{schema.TARGET}") FILTER (WHERE "{schema.TARGET}" = 1), 0) '
                   f'AS churned, count(*) AS n FROM {{rel}}').iloc[0]
    if int(got["bad"]) or int(got["n"]) == 0:
        return None, None
    churned = int(got["churned"])
    return churned, churned / int(got["n"])


def population(rows: Rows) -> Population:
    """`churn.population.describe` of the rows: history when there is a Churn column (who has
    left: Churn = 1), else an active base."""
    n = int(_q(rows, "SELECT count(*) AS n FROM {rel}")["n"].iloc[0])
    if not rows.has_target:
        return Population(ACTIVE, n, n, 0)
    left = int(_q(rows, f'SELECT count(*) FILTER (WHERE "{schema.TARGET}" = 1) AS n '
                        'FROM {rel}')["n"].iloc[0])
    return Population(HISTORY, n, n - left, left)


def has_outcomes(rows: Rows) -> bool:
    """True when every row has a known Churn (0/1): retention curves can be drawn from them."""
    return _outcomes(rows)[0] is not None


def data_summary(rows: Rows) -> ltv.DataSummary:
    """`churn.ltv.data_summary` of the rows: customers, who left and the churn rate (None when
    outcomes are unknown), monthly revenue (dollars, summed bills), mean tenure (months)."""
    got = _q(rows, f'SELECT count(*) AS n, coalesce(sum("{schema.MONTHLY}"), 0) AS revenue, '
                   f'avg("{schema.TENURE}") AS tenure FROM {{rel}}').iloc[0]
    churned, rate = _outcomes(rows)
    n = int(got["n"])
    return ltv.DataSummary(customers=n, churned=churned, churn_rate=rate,
                           monthly_revenue=float(got["revenue"]),
                           mean_tenure=float(got["tenure"]) if n else float("nan"))


def columns(rows: Rows, names: list[str]) -> pd.DataFrame:
    """Only the columns ``names`` of every row (e.g. tenure, Churn and a segment for retention
    curves: three numbers a customer instead of the whole frame)."""
    bad = [c for c in names if c not in (*ROW_COLUMNS, schema.TARGET)]
    if bad:
        raise ValueError(f"stored_views.columns: {bad} are not among {list(ROW_COLUMNS)} + Churn.")
    cols = ", ".join(f'"{c}"' for c in names)
    return _q(rows, f"SELECT {cols} FROM {{rel}}")


# --- the scored list (churn.customer_list.Source) -------------------------------------------------
_STILL_HERE = '"left" = 0'


def portfolio(source) -> dict:
    """`churn.ltv.portfolio_summary`'s model figures over the customers of a scored list who are
    still here (those who have left are never counted at risk): customers, predicted_churners
    (sum of probabilities), total_clv, total_revenue_at_risk, total_revenue_at_risk_12m
    (dollars)."""
    got = source.query(
        "SELECT count(*) AS customers, coalesce(sum(churn_prob), 0) AS predicted_churners, "
        "coalesce(sum(clv), 0) AS total_clv, "
        "coalesce(sum(revenue_at_risk), 0) AS total_revenue_at_risk, "
        "coalesce(sum(revenue_at_risk_12m), 0) AS total_revenue_at_risk_12m "
        f"FROM {source.relation} WHERE {_STILL_HERE}", []).iloc[0]
    return {"customers": int(got["customers"]),
            **{k: float(got[k]) for k in ("predicted_churners", "total_clv",
                                          "total_revenue_at_risk",
                                          "total_revenue_at_risk_12m")}}


def _segment_sql(by: str) -> str:
    if by == "tenure band":
        cases = " ".join(f"WHEN {schema.TENURE} <= {hi} THEN '{name}'"
                         for name, _, hi in ltv.TENURE_BANDS[:-1])
        return f"CASE {cases} ELSE '{ltv.TENURE_BANDS[-1][0]}' END"
    return f'CAST("{by}" AS VARCHAR)'


def risk_by_segment(source, by: str) -> pd.DataFrame:
    """`churn.ltv.revenue_at_risk_by_segment` over the customers of a scored list who are still
    here: segment, customers, avg_churn_prob, predicted_churners, clv, revenue_at_risk,
    revenue_at_risk_12m (dollars), risk_share (0..1); segments in their natural order."""
    ltv._check_by(by)
    got = source.query(
        f"SELECT {_segment_sql(by)} AS segment, count(*) AS customers, "
        "avg(churn_prob) AS avg_churn_prob, sum(churn_prob) AS predicted_churners, "
        "sum(clv) AS clv, sum(revenue_at_risk) AS revenue_at_risk, "
        "sum(revenue_at_risk_12m) AS revenue_at_risk_12m "
        f"FROM {source.relation} WHERE {_STILL_HERE} GROUP BY 1", [])
    if by == "tenure band":
        order = [name for name, _, _ in ltv.TENURE_BANDS]
    else:
        order = list(schema.BY_NAME[by].values)
        order += sorted(set(got["segment"].astype(str)) - set(order))
    out = got.set_index("segment").reindex([s for s in order if s in set(got["segment"])])
    out = out.rename_axis("segment").reset_index()
    out["customers"] = out["customers"].astype("int64")
    total = float(out["revenue_at_risk"].sum())
    out["risk_share"] = out["revenue_at_risk"] / total if total > 0 else 0.0
    return out


def still_here_values(source, column: str):
    """One numeric column of a scored list (``clv``, ``churn_prob``, ...) for the customers
    still here, as a float array in list order (8 bytes a customer, not a whole frame)."""
    if column not in ("churn_prob", "clv", "revenue_at_risk", "revenue_at_risk_12m",
                      "offer_net_value", schema.MONTHLY, schema.TENURE):
        raise ValueError(f"still_here_values: {column!r} is not a numeric column of the list.")
    got = source.query(f'SELECT "{column}" AS v FROM {source.relation} WHERE {_STILL_HERE}', [])
    return got["v"].to_numpy(dtype=float)
