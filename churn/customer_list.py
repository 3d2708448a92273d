"""The customer list: every scored customer, searchable, filterable and paged, at any size.

The list is one flat table per (data set, model version, business settings): the scoring table
(`scoring.SCORE_COLUMNS`) plus the customer columns people filter and read (`LIST_COLUMNS`).
`list_frame` builds it. Queries run in DuckDB over either

- a table stored with ``Store.save_scores`` (a saved batch: nothing is held in the app's memory;
  a million customers are filtered, counted and paged in well under a second), or
- a frame in this process (the sample, an upload kept in the session), registered in an
  in-memory DuckDB connection.

Every value a user types (search text, CLV bounds, chosen tiers and segments, page) is passed as
a query parameter, never pasted into SQL; column names in the SQL come only from the fixed lists
below.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from churn import schema

#: Customer columns kept beside the scores (what the list shows and filters by).
CUSTOMER_COLUMNS = ("Contract", "InternetService", "PaymentMethod", schema.TENURE, schema.MONTHLY)
#: Columns of the list frame, in order.
LIST_COLUMNS = (schema.ID, "risk_tier", "churn_prob", "clv", "revenue_at_risk",
                "revenue_at_risk_12m", *CUSTOMER_COLUMNS, "driver_1_text", "offer_name",
                "offer_net_value", "left")
#: Stored-list layout version, part of `list_key`: a list saved with other columns (an older
#: app) is then never read as this one, but built again.
LAYOUT = 2
#: Segment columns the list filters by (column -> label).
SEGMENT_COLUMNS = {c: schema.label(c) for c in schema.MAIN_SEGMENTS}
#: Columns the list sorts by (column -> label).
SORTS = {"revenue_at_risk": "Revenue at risk", "churn_prob": "Churn risk",
         "clv": "Lifetime value", schema.MONTHLY: "Monthly bill", schema.TENURE: "Tenure",
         schema.ID: "Customer ID"}
TIERS = ("High", "Medium", "Low")
PAGE_SIZES = (25, 50, 100)
MAX_SEARCH = 100


def list_frame(customers: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The list table of a data set: `LIST_COLUMNS`, one row per customer, in data-set order.

    customers: canonical frame; table: its scoring table (``Engine.score``; same index).
    Segment values are plain text (not categories), probabilities 0..1, money in dollars;
    ``left`` is 1 for a customer who has left (Churn = 1; `churn.population`), else 0 (always 0
    without a Churn column), so figures about the customers still here filter on it.
    """
    missing = [c for c in LIST_COLUMNS if c not in table and c not in customers
               and c != "left"]
    if missing:
        raise ValueError(f"list_frame: columns {missing} are in neither the customers nor the "
                         "scoring table; score the customers with Engine.score first.")
    if len(customers) != len(table):
        raise ValueError(f"list_frame: {len(customers)} customers but {len(table)} scores; pass "
                         "the scoring table of these very customers.")
    data = {}
    for c in LIST_COLUMNS:
        if c == "left":
            from churn.population import _left_mask

            data[c] = (_left_mask(customers).astype(np.int64) if schema.TARGET in customers
                       else np.zeros(len(customers), dtype=np.int64))
            continue
        src = table[c] if c in table else customers[c]
        values = src.to_numpy()
        if c in SEGMENT_COLUMNS or c in (schema.ID, "risk_tier", "driver_1_text", "offer_name"):
            values = np.asarray(src.astype(str).to_numpy(), dtype=object)
        elif c == schema.TENURE:
            values = src.to_numpy(dtype=np.int64)
        else:
            values = src.to_numpy(dtype=float)
        data[c] = values
    return pd.DataFrame(data)


@dataclass(frozen=True)
class Filters:
    """What the user asked for. tiers/segment_values: empty means all; clv bounds in dollars
    (None: open); search: part of a customer ID (case ignored); sort: a key of `SORTS`."""

    tiers: tuple = ()
    segment: str = "Contract"
    segment_values: tuple = ()
    clv_min: float | None = None
    clv_max: float | None = None
    search: str = ""
    sort: str = "revenue_at_risk"
    descending: bool = True


@dataclass(frozen=True)
class Page:
    """One page of the list: rows (`LIST_COLUMNS`), total matching customers, page number
    (1-based, clipped to the pages there are) and pages in all."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int
    page_size: int


class Source:
    """Where the list lives: a DuckDB cursor and the SQL of a relation with `LIST_COLUMNS`.

    Build with `from_frame` or `from_store`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, relation: str, rows: int):
        self.con = con
        self.relation = relation
        self.rows = rows

    def query(self, sql: str, params: list) -> pd.DataFrame:
        return self.con.cursor().execute(sql, params).fetchdf()


def from_frame(frame: pd.DataFrame) -> Source:
    """A source over a list frame in this process (an in-memory DuckDB connection)."""
    _check_columns(frame.columns)
    con = duckdb.connect(":memory:")
    tag = uuid.uuid4().hex
    view = f"in_{tag}"
    con.register(view, frame)
    # A table (not the registered view): every cursor sees it. Its name is unique, so a cache
    # keyed by a source's relation never mixes two lists of the same size.
    try:
        con.execute(f'CREATE TABLE "list_{tag}" AS SELECT * FROM "{view}"')
    finally:
        con.unregister(view)
    return Source(con, f'"list_{tag}"', len(frame))


def from_store(store, batch: str, key: str) -> Source | None:
    """A source over the list frame saved with ``store.save_scores(batch, key, frame)``, or None
    when nothing is saved under that key."""
    found = store.scores_table(batch, key)
    if found is None:
        return None
    tbl, columns, rows = found
    if any(c not in columns for c in LIST_COLUMNS):   # an older layout: build it again
        return None
    select = ", ".join(f'"{col}" AS "{name}"' for name, col in columns.items()
                       if name in LIST_COLUMNS)
    return Source(store.connection(), f'(SELECT {select} FROM "{tbl}")', rows)


def _check_columns(columns) -> None:
    missing = [c for c in LIST_COLUMNS if c not in set(columns)]
    if missing:
        raise ValueError(f"the customer list needs the columns {missing}; build it with "
                         "customer_list.list_frame.")


def check_filters(f: Filters) -> Filters:
    """The filters, checked (ValueError naming the bad value) and normalised."""
    bad_tiers = [t for t in f.tiers if t not in TIERS]
    if bad_tiers:
        raise ValueError(f"tiers {bad_tiers}: expected some of {list(TIERS)}.")
    if f.segment not in SEGMENT_COLUMNS:
        raise ValueError(f"segment {f.segment!r}: expected one of {list(SEGMENT_COLUMNS)}.")
    if f.sort not in SORTS:
        raise ValueError(f"sort {f.sort!r}: expected one of {list(SORTS)}.")
    for name in ("clv_min", "clv_max"):
        v = getattr(f, name)
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
            raise ValueError(f"{name}={v!r}: expected a number of dollars or None.")
    search = str(f.search or "").strip()[:MAX_SEARCH]
    return Filters(tuple(f.tiers), f.segment, tuple(str(v) for v in f.segment_values),
                   f.clv_min, f.clv_max, search, f.sort, bool(f.descending))


def _where(f: Filters) -> tuple[str, list]:
    """The WHERE clause of the filters and its parameters (values only, never in the SQL)."""
    parts, params = [], []
    if f.tiers:
        parts.append("risk_tier IN (" + ", ".join("?" * len(f.tiers)) + ")")
        params += list(f.tiers)
    if f.segment_values:
        parts.append(f'"{f.segment}" IN (' + ", ".join("?" * len(f.segment_values)) + ")")
        params += list(f.segment_values)
    if f.clv_min is not None:
        parts.append("clv >= ?")
        params.append(float(f.clv_min))
    if f.clv_max is not None:
        parts.append("clv <= ?")
        params.append(float(f.clv_max))
    if f.search:
        parts.append(f'strpos(lower("{schema.ID}"), lower(?)) > 0')
        params.append(f.search)
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def page(source: Source, filters: Filters = Filters(), page_no: int = 1,
         page_size: int = 25) -> Page:
    """One page of the customers matching ``filters``, sorted as they ask (ties by customer ID,
    so paging is stable). page_no: 1-based; past the last page gives the last page."""
    f = check_filters(filters)
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page_size={page_size!r}: expected one of {list(PAGE_SIZES)}.")
    if isinstance(page_no, bool) or not isinstance(page_no, (int, np.integer)) or page_no < 1:
        raise ValueError(f"page_no={page_no!r}: expected a page number >= 1.")
    where, params = _where(f)
    total = int(source.query(f"SELECT count(*) AS n FROM {source.relation}{where}",
                             params)["n"].iloc[0])
    pages = max(1, math.ceil(total / page_size))
    page_no = min(int(page_no), pages)
    direction = "DESC" if f.descending else "ASC"
    cols = ", ".join(f'"{c}"' for c in LIST_COLUMNS)
    rows = source.query(
        f'SELECT {cols} FROM {source.relation}{where} ORDER BY "{f.sort}" {direction} '
        f'NULLS LAST, "{schema.ID}" LIMIT ? OFFSET ?',
        params + [page_size, (page_no - 1) * page_size])
    return Page(rows.reset_index(drop=True), total, page_no, pages, page_size)


def facets(source: Source) -> dict:
    """What the filters offer: the segment values present per segment column (sorted), and the
    CLV range in dollars (min, max; None when there are no customers)."""
    out = {}
    for col in SEGMENT_COLUMNS:
        got = source.query(f'SELECT DISTINCT "{col}" AS v FROM {source.relation} ORDER BY v',
                           [])
        out[col] = [str(v) for v in got["v"]]
    rng = source.query(f"SELECT min(clv) AS lo, max(clv) AS hi FROM {source.relation}", [])
    lo, hi = rng["lo"].iloc[0], rng["hi"].iloc[0]
    out["clv"] = (None, None) if pd.isna(lo) else (float(lo), float(hi))
    return out


def summary(source: Source, filters: Filters = Filters()) -> dict:
    """Totals of the matching customers: customers, revenue_at_risk and clv (dollars), and
    expected churners (sum of probabilities)."""
    where, params = _where(check_filters(filters))
    got = source.query(
        f"SELECT count(*) AS customers, coalesce(sum(revenue_at_risk), 0) AS revenue_at_risk, "
        f"coalesce(sum(clv), 0) AS clv, coalesce(sum(churn_prob), 0) AS expected_churners "
        f"FROM {source.relation}{where}", params)
    row = got.iloc[0]
    return {"customers": int(row["customers"]), "revenue_at_risk": float(row["revenue_at_risk"]),
            "clv": float(row["clv"]), "expected_churners": float(row["expected_churners"])}


def settings_digest(settings, extra: str = "") -> str:
    """A short hash of the business settings and ``extra`` (e.g. the offer catalogue's stamp):
    the part of a stored table's key that says which settings its figures were computed under
    (also `campaign_store.inputs_key`)."""
    import hashlib
    import json

    blob = json.dumps(settings.to_dict(), sort_keys=True, default=str) + "|" + str(extra)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def list_key(version: str, settings, extra: str = "") -> str:
    """The name a list frame is saved under in the store's ``scores`` table: the model
    version, a hash of the business settings (tiers, CLV and offers depend on them) and
    ``extra`` (e.g. the offer catalogue's stamp)."""
    return f"list{LAYOUT}:{version}:{settings_digest(settings, extra)}"


def save_for_batch(store, batch: str, key: str, customers: pd.DataFrame,
                   table: pd.DataFrame) -> Source:
    """Build the list frame of a saved batch, store it under ``key`` and return its source."""
    store.save_scores(batch, key, list_frame(customers.reset_index(drop=True),
                                             table.reset_index(drop=True)))
    return from_store(store, batch, key)


def top_risk(source: Source, n: int = 20) -> pd.DataFrame:
    """The `n` customers still here (not ``left``) with the highest churn probability, highest
    first (ties by customer ID): customerID, churn_prob (0..1)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"top_risk: n={n!r}: expected a number of customers >= 1.")
    return source.query(
        f'SELECT "{schema.ID}", churn_prob FROM {source.relation} WHERE "left" = 0 '
        f'ORDER BY churn_prob DESC, "{schema.ID}" LIMIT ?', [int(n)]).reset_index(drop=True)


def still_here_ids(source: Source, limit: int) -> list[str] | None:
    """The IDs of the customers still here, sorted, or None when there are more than `limit`
    (a picker then asks for an ID instead of listing them)."""
    got = source.query(f'SELECT "{schema.ID}" AS id FROM {source.relation} WHERE "left" = 0 '
                       f'ORDER BY 1 LIMIT ?', [int(limit) + 1])
    return None if len(got) > limit else [str(v) for v in got["id"]]
